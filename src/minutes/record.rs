//! Everything the minutes report, read from the record in one transaction: the dialogue
//! with its officials and agenda, check-in counts per group (never names), the approved
//! questions by topic with their agency and published answer, the questions still waiting
//! for a written answer, the commitments and the secretary's parts.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDateTime;

use super::model::{Commitment, Minutes};
use super::store;
use crate::assignments;
use crate::assignments::model::AssignmentStatus;
use crate::db::DbConnection;
use crate::dialogues;
use crate::dialogues::model::FullDialogue;
use crate::error::AppError;
use crate::participants::model::Category;
use crate::questions;
use crate::questions::model::{QuestionStatus, Topic};
use crate::registrations;

/// One question as the minutes report it.
#[derive(Debug, Clone)]
pub struct QuestionEntry {
    /// Its number in the minutes (1, 2, …), in the order they are reported.
    pub number: usize,
    pub body: String,
    /// The asker's name, only when they chose to be named.
    pub asker: Option<String>,
    /// The agency that answers (or will answer) it.
    pub agency: Option<String>,
    /// The written answer, once approved and published.
    pub answer: Option<String>,
    /// Answers given aloud: (speaker, summary).
    pub spoken: Vec<(String, String)>,
    /// When a written answer is still awaited: its due date.
    pub due_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone)]
pub struct Record {
    pub full: FullDialogue,
    pub minutes: Option<Minutes>,
    /// People checked in, per group, in the groups' order; groups with nobody left out.
    pub checked_in: Vec<(Category, i64)>,
    /// Agencies that answered or were asked to answer, in name order.
    pub agencies: Vec<String>,
    /// Approved questions by topic, in the topics' order.
    pub topics: Vec<(Topic, Vec<QuestionEntry>)>,
    pub commitments: Vec<Commitment>,
}

impl Record {
    /// Questions still waiting for a written answer (they have an agency and a due date).
    pub fn awaiting(&self) -> Vec<&QuestionEntry> {
        self.topics
            .iter()
            .flat_map(|(_, qs)| qs.iter())
            .filter(|q| q.due_at.is_some())
            .collect()
    }

    pub fn attendance_total(&self) -> i64 {
        self.checked_in.iter().map(|(_, n)| n).sum()
    }
}

/// Statuses of questions that the minutes report: approved ones, whatever came after.
const REPORTED: [QuestionStatus; 4] = [
    QuestionStatus::Approved,
    QuestionStatus::Assigned,
    QuestionStatus::Answered,
    QuestionStatus::AnsweredLive,
];

pub fn gather(conn: &mut DbConnection, dialogue_id: &str) -> Result<Record, AppError> {
    let full = dialogues::store::find_full(conn, dialogue_id)?.ok_or(AppError::NotFound)?;
    let minutes = store::find(conn, dialogue_id)?;

    let counts = registrations::store::counts_by_category(conn, dialogue_id)?;
    let checked_in = Category::ALL
        .iter()
        .filter_map(|c| {
            let n = counts
                .get(&(c.as_str().to_string(), "checked_in".to_string()))
                .copied()
                .unwrap_or(0);
            (n > 0).then_some((*c, n))
        })
        .collect();

    let mut all = questions::store::all_in(conn, dialogue_id)?;
    all.retain(|q| REPORTED.contains(&q.status));
    all.sort_by_key(|q| {
        (
            Topic::ALL.iter().position(|t| *t == q.topic),
            q.created_at,
            q.id.to_string(),
        )
    });
    let assignments = assignments::store::in_dialogue(conn, dialogue_id)?;
    // Each question's latest assignment that was not declined (they come oldest first).
    let latest: HashMap<&str, &assignments::model::Assignment> = assignments
        .iter()
        .filter(|a| a.status != AssignmentStatus::Declined)
        .map(|a| (a.question_id.as_str(), a))
        .collect();
    let ids: Vec<String> = assignments.iter().map(|a| a.id.to_string()).collect();
    let answers: HashMap<String, String> = assignments::store::responses_for(conn, &ids)?
        .into_iter()
        .map(|r| (r.assignment_id.to_string(), r.body))
        .collect();
    let question_ids: Vec<String> = all.iter().map(|q| q.id.to_string()).collect();
    let live = store::live_answers_for(conn, &question_ids)?;
    let mut agency_ids: Vec<String> = latest.values().map(|a| a.agency_id.to_string()).collect();
    agency_ids.extend(live.iter().filter_map(|l| l.agency_id.clone()));
    agency_ids.sort();
    agency_ids.dedup();
    let agency_names: HashMap<String, String> =
        assignments::store::agency_names(conn, &agency_ids)?
            .into_iter()
            .collect();
    let mut spoken: HashMap<&str, Vec<(String, String)>> = HashMap::new();
    for l in &live {
        spoken
            .entry(l.question_id.as_str())
            .or_default()
            .push((l.speaker.clone(), l.summary.clone()));
    }

    let mut topics: BTreeMap<usize, (Topic, Vec<QuestionEntry>)> = BTreeMap::new();
    for (i, q) in all.iter().enumerate() {
        let assignment = latest.get(q.id.as_str());
        let published = assignment.is_some_and(|a| a.status == AssignmentStatus::Published);
        let entry = QuestionEntry {
            number: i + 1,
            body: q.body.clone(),
            asker: q.public_asker().map(str::to_string),
            agency: assignment.and_then(|a| agency_names.get(a.agency_id.as_str()).cloned()),
            answer: assignment
                .filter(|_| published)
                .and_then(|a| answers.get(a.id.as_str()).cloned()),
            spoken: spoken.remove(q.id.as_str()).unwrap_or_default(),
            due_at: assignment.filter(|_| !published).map(|a| a.due_at),
        };
        let position = Topic::ALL
            .iter()
            .position(|t| *t == q.topic)
            .unwrap_or(usize::MAX);
        topics
            .entry(position)
            .or_insert_with(|| (q.topic, Vec::new()))
            .1
            .push(entry);
    }
    let mut agencies: Vec<String> = agency_names.into_values().collect();
    agencies.sort_by_cached_key(|name| crate::text::fold(name));
    agencies.dedup();
    let commitments = store::commitments_of(conn, dialogue_id)?;
    Ok(Record {
        full,
        minutes,
        checked_in,
        agencies,
        topics: topics.into_values().collect(),
        commitments,
    })
}
