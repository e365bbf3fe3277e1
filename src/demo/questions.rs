//! The demo's reference day questions (assets/demo/questions.toml): about forty questions
//! over every topic, moderated, merged, assigned to the district's agencies and answered,
//! through the same operations the API uses. The file's `[[paraphrase]]` entries are other
//! wordings of its questions, kept to measure the similar-question hints.

use std::collections::HashMap;

use chrono::Duration;
use serde::Deserialize;

use crate::assignments;
use crate::assignments::ops::{AssignInput, ReasonInput, ResponseInput, Viewer};
use crate::auth::{Staff, User};
use crate::config::Settings;
use crate::db::{AgencyId, Db, DbConnection, ParticipantId, QuestionId, now};
use crate::dialogues::model::Dialogue;
use crate::error::AppError;
use crate::html::Templates;
use crate::participants::model::Participant;
use crate::participants::notify::Mailing;
use crate::questions;
use crate::questions::model::{Channel, NewQuestion, QuestionStatus, Topic};
use crate::questions::ops::{ModerationAction, ModerationInput};

#[derive(Debug, Clone, Deserialize)]
pub struct ReferenceSet {
    pub question: Vec<ReferenceQuestion>,
    pub paraphrase: Vec<Paraphrase>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ReferenceQuestion {
    pub body: String,
    pub topic: String,
    pub anonymous: bool,
    /// The demo invitee (by index) who asked, if anyone known.
    pub asker: Option<usize>,
    pub share_identity_with_agency: bool,
    pub channel: String,
    /// What became of it: submitted, approved, rejected, merged, assigned, answered,
    /// published, overdue, declined.
    pub fate: String,
    pub reason: Option<String>,
    pub duplicate_of: Option<usize>,
    /// The answering agency's short name.
    pub agency: Option<String>,
    pub answer: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Paraphrase {
    pub body: String,
    pub duplicate_of: usize,
}

/// The reference questions as shipped with the program.
pub fn reference_set() -> Result<ReferenceSet, String> {
    toml::from_str(include_str!("../../assets/demo/questions.toml")).map_err(|e| e.to_string())
}

/// Who acts in the demo: the organizer, and one staff member per agency by short name.
pub struct Cast<'a> {
    pub organizer: Staff,
    pub agency_staff: HashMap<String, Staff>,
    pub agency_ids: HashMap<String, AgencyId>,
    /// Invitees in the order the demo made them.
    pub invitees: Vec<Participant>,
    pub templates: &'a Templates,
    pub settings: &'a Settings,
}

/// A signed-in-like identity for operations run by the demo itself.
pub fn acting_as(user: User) -> Staff {
    Staff {
        user,
        token_id: String::new(),
    }
}

/// Loads the questions into the dialogue and plays out each one's fate. Returns a line for
/// the demo's report.
pub fn fill(db: &Db, dialogue: &Dialogue, cast: &Cast<'_>) -> Result<String, AppError> {
    let set = reference_set().map_err(AppError::unexpected)?;
    let mut ids: Vec<QuestionId> = Vec::with_capacity(set.question.len());
    for (i, q) in set.question.iter().enumerate() {
        let id = db.write_now(|conn| insert(conn, dialogue, cast, i, set.question.len(), q))?;
        ids.push(id);
    }
    for (i, q) in set.question.iter().enumerate() {
        db.write_now(|conn| play_fate(conn, cast, &ids, i, q))?;
    }
    db.write_now(|conn| add_votes(conn, cast, &ids))?;
    Ok(format!(
        "{} questions, moderated, assigned and partly answered",
        ids.len()
    ))
}

/// Stores the question as it came in, some hours before the deadline.
fn insert(
    conn: &mut DbConnection,
    dialogue: &Dialogue,
    cast: &Cast<'_>,
    index: usize,
    count: usize,
    q: &ReferenceQuestion,
) -> Result<QuestionId, AppError> {
    let asker: Option<&Participant> = q.asker.and_then(|i| cast.invitees.get(i));
    let channel = Channel::from_code(&q.channel).unwrap_or(Channel::Web);
    let by_staff = channel != Channel::Web;
    let deadline = dialogue.question_deadline.unwrap_or(dialogue.starts_at);
    let at = deadline - Duration::hours(3 * (count - index) as i64);
    let body = questions::model::parse_body(&q.body).map_err(|e| AppError::unexpected(e.code))?;
    let row = NewQuestion {
        id: QuestionId::new(),
        dialogue_id: dialogue.id.clone(),
        participant_id: asker.filter(|_| !by_staff).map(|p| p.id.clone()),
        asker_name: asker.map(|p| p.full_name.clone()),
        channel,
        search_text: questions::similar::search_text(&body),
        body,
        topic: Topic::from_code(&q.topic).unwrap_or(Topic::Other),
        anonymous: q.anonymous,
        share_identity_with_agency: q.share_identity_with_agency,
        status: QuestionStatus::Submitted,
        vote_count: 0,
        entered_by: by_staff.then(|| cast.organizer.user.id.clone()),
        consent_statement: by_staff.then(|| questions::ops::STAFF_ENTRY_STATEMENT.to_string()),
        created_at: at,
        updated_at: at,
    };
    questions::store::insert(conn, &row)?;
    Ok(row.id)
}

fn moderate(
    conn: &mut DbConnection,
    cast: &Cast<'_>,
    id: &str,
    action: ModerationAction,
    reason: Option<String>,
    into: Option<QuestionId>,
) -> Result<(), AppError> {
    let mailing = Mailing {
        templates: cast.templates,
        settings: cast.settings,
    };
    let input = ModerationInput {
        action,
        reason,
        into,
    };
    questions::ops::moderate(conn, mailing, &cast.organizer, id, &input)?;
    Ok(())
}

fn play_fate(
    conn: &mut DbConnection,
    cast: &Cast<'_>,
    ids: &[QuestionId],
    i: usize,
    q: &ReferenceQuestion,
) -> Result<(), AppError> {
    let id = &ids[i];
    match q.fate.as_str() {
        "submitted" => Ok(()),
        "rejected" => moderate(
            conn,
            cast,
            id,
            ModerationAction::Reject,
            q.reason.clone(),
            None,
        ),
        "merged" => {
            let into = q.duplicate_of.and_then(|d| ids.get(d)).cloned();
            moderate(conn, cast, id, ModerationAction::Merge, None, into)
        }
        "approved" => moderate(conn, cast, id, ModerationAction::Approve, None, None),
        _ => {
            moderate(conn, cast, id, ModerationAction::Approve, None, None)?;
            assign_and_answer(conn, cast, id, q)
        }
    }
}

fn assign_and_answer(
    conn: &mut DbConnection,
    cast: &Cast<'_>,
    id: &QuestionId,
    q: &ReferenceQuestion,
) -> Result<(), AppError> {
    let short = q.agency.clone().unwrap_or_default();
    let (Some(agency_id), Some(member)) =
        (cast.agency_ids.get(&short), cast.agency_staff.get(&short))
    else {
        return Err(AppError::unexpected(format!(
            "demo agency {short:?} unknown"
        )));
    };
    let input = AssignInput {
        agency_id: agency_id.clone(),
        due_at: (now() + Duration::days(7)).and_utc().to_rfc3339(),
        note: Some("Đề nghị trả lời trước hội nghị để tổng hợp vào biên bản.".into()),
    };
    let made = assignments::ops::assign(
        conn,
        cast.templates,
        cast.settings,
        &cast.organizer,
        std::slice::from_ref(id),
        &input,
    )?;
    let assignment = made[0].id.to_string();
    let agency = Viewer::Agency {
        staff: member.clone(),
        agency_id: agency_id.to_string(),
    };
    let answer = |submit: bool| ResponseInput {
        body: q
            .answer
            .clone()
            .unwrap_or_else(|| "Đang tổng hợp hồ sơ để trả lời.".into()),
        submit,
    };
    match q.fate.as_str() {
        "answered" => {
            assignments::ops::respond(
                conn,
                cast.templates,
                cast.settings,
                &agency,
                &assignment,
                &answer(true),
            )?;
        }
        "published" => {
            assignments::ops::respond(
                conn,
                cast.templates,
                cast.settings,
                &agency,
                &assignment,
                &answer(true),
            )?;
            let mailing = Mailing {
                templates: cast.templates,
                settings: cast.settings,
            };
            assignments::ops::approve(conn, mailing, &cast.organizer, &assignment)?;
        }
        "declined" => {
            let reason = ReasonInput {
                reason: q
                    .reason
                    .clone()
                    .unwrap_or_else(|| "Không thuộc thẩm quyền.".into()),
            };
            assignments::ops::decline(
                conn,
                cast.templates,
                cast.settings,
                &agency,
                &assignment,
                &reason,
            )?;
        }
        "overdue" => assignments::store::set_due(conn, &assignment, now() - Duration::days(1))?,
        _ => {}
    }
    Ok(())
}

/// Votes from the accepted invitees: more for some questions than others.
fn add_votes(conn: &mut DbConnection, cast: &Cast<'_>, ids: &[QuestionId]) -> Result<(), AppError> {
    for (i, id) in ids.iter().enumerate() {
        let status = questions::ops::find(conn, id)?.status;
        if !status.is_public() {
            continue;
        }
        let voters = (i * 7 + 3) % 23;
        for p in cast.invitees.iter().skip(i % 11).take(voters) {
            let voter: &ParticipantId = &p.id;
            questions::store::add_vote(conn, id, voter)?;
        }
    }
    Ok(())
}
