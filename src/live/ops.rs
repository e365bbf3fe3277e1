//! Use cases of the live session: what the projector shows, answers given aloud,
//! commitments, and the replay log the stream is fed from.

use std::collections::HashMap;

use chrono::Duration;
use serde_json::json;

use super::model::{
    Commitment, CommitmentInput, CommitmentView, CurrentInput, JOBS_MAX, LiveAnswer,
    LiveAnswerInput, LiveAnswerView, LiveEventKind, LiveState, NAME_MAX, SUMMARY_MAX,
};
use super::store;
use crate::agencies;
use crate::assignments;
use crate::audit::{self, Actor};
use crate::auth::Staff;
use crate::db::{DbConnection, new_id, now};
use crate::dialogues;
use crate::dialogues::model::{Dialogue, DialogueStatus};
use crate::error::{AppError, FieldError, FieldErrors};
use crate::events::{self, Event};
use crate::questions;
use crate::questions::model::{PublicQuestion, Question, QuestionStatus, QueueSort};
use crate::text;

/// How many questions the projector lists under the current one.
pub const NEXT_SHOWN: i64 = 5;
/// Replay entries older than this are forgotten (a phone away that long starts afresh).
pub const REPLAY_KEPT_HOURS: i64 = 12;

/// The dialogue, locked, when the day is under way.
fn running_dialogue(conn: &mut DbConnection, dialogue_id: &str) -> Result<Dialogue, AppError> {
    let dialogue = dialogues::store::find(conn, dialogue_id)?.ok_or(AppError::NotFound)?;
    if dialogue.status() != DialogueStatus::InProgress {
        return Err(AppError::Conflict("dialogue_not_in_progress"));
    }
    dialogues::store::lock(conn, dialogue_id)?;
    Ok(dialogue)
}

/// Appends to the replay log and tells the stream (here and, through the bus, elsewhere).
/// The caller holds the dialogue's lock.
fn log_event(
    conn: &mut DbConnection,
    dialogue_id: &str,
    kind: LiveEventKind,
    data: serde_json::Value,
) -> Result<i32, AppError> {
    let seq = store::append(conn, dialogue_id, kind.as_str(), &data.to_string(), now())?;
    events::emit(Event::Live {
        dialogue_id: dialogue_id.to_string(),
        seq,
    });
    Ok(seq)
}

/// Puts a question of the public queue on the projector, or clears it (`null`).
pub fn set_current(
    conn: &mut DbConnection,
    staff: &Staff,
    dialogue_id: &str,
    input: &CurrentInput,
) -> Result<LiveState, AppError> {
    let dialogue = running_dialogue(conn, dialogue_id)?;
    let question = match &input.current_question_id {
        Some(id) => {
            let q = questions::store::find(conn, id)?
                .filter(|q| q.dialogue_id == dialogue.id)
                .ok_or(AppError::NotFound)?;
            if !q.status.is_public() {
                return Err(AppError::Conflict("not_in_queue"));
            }
            Some(q)
        }
        None => None,
    };
    store::set_current(
        conn,
        dialogue_id,
        question.as_ref().map(|q| q.id.as_str()),
        now(),
    )?;
    audit::entry(&Actor::User(staff.user.id.clone()), "live.current")
        .about("dialogue", dialogue_id)
        .in_dialogue(dialogue_id)
        .detail(
            question
                .as_ref()
                .map(|q| q.id.to_string())
                .unwrap_or_default(),
        )
        .record(conn)?;
    let view = question
        .as_ref()
        .map(|q| questions::ops::public_view(&dialogue, q));
    log_event(
        conn,
        dialogue_id,
        LiveEventKind::CurrentQuestion,
        json!({ "question": view }),
    )?;
    state(conn, &dialogue)
}

/// A required paragraph: line breaks kept, other control characters refused.
fn paragraph(raw: &str) -> Result<String, FieldError> {
    text::optional_multiline(Some(raw), SUMMARY_MAX)?.ok_or(FieldError::new("required"))
}

fn validate_answer(
    conn: &mut DbConnection,
    input: &LiveAnswerInput,
) -> Result<(String, Option<String>, String), AppError> {
    let mut errors = FieldErrors::new();
    let speaker = errors.take("speaker", text::required(&input.speaker, NAME_MAX));
    let summary = errors.take("summary", paragraph(&input.summary));
    let agency = match &input.agency_id {
        Some(id) => match agencies::store::find(conn, id)? {
            Some(agency) => Some(agency.name),
            None => {
                errors.add("agency_id", FieldError::new("unknown_agency"));
                None
            }
        },
        None => None,
    };
    errors.into_result()?;
    Ok((
        speaker.unwrap_or_default(),
        agency,
        summary.unwrap_or_default(),
    ))
}

/// Records an answer given aloud. The question becomes `answered_live` (one already
/// answered in writing stays `answered`: both go into the minutes).
pub fn answer_live(
    conn: &mut DbConnection,
    staff: &Staff,
    question_id: &str,
    input: &LiveAnswerInput,
) -> Result<LiveAnswerView, AppError> {
    let question = questions::store::find(conn, question_id)?.ok_or(AppError::NotFound)?;
    let dialogue = running_dialogue(conn, &question.dialogue_id)?;
    let (speaker, agency, summary) = validate_answer(conn, input)?;
    questions::store::lock(conn, question_id)?;
    let question = questions::store::find(conn, question_id)?.ok_or(AppError::NotFound)?;
    if !question.status.is_public() {
        return Err(AppError::Conflict("invalid_transition"));
    }
    let answer = LiveAnswer {
        id: new_id(),
        question_id: question.id.to_string(),
        speaker,
        agency_id: input.agency_id.as_ref().map(|a| a.to_string()),
        summary,
        recorded_by: Some(staff.user.id.clone()),
        created_at: now(),
    };
    store::insert_answer(conn, &answer)?;
    if question.status != QuestionStatus::Answered {
        questions::store::set_status(conn, &question.id, QuestionStatus::AnsweredLive)?;
    }
    let actor = Actor::User(staff.user.id.clone());
    questions::ops::history(
        conn,
        &actor,
        &question,
        "question.answered_live",
        Some(answer.speaker.clone()),
    )?;
    let view = answer_view(&dialogue, &answer, agency);
    log_event(
        conn,
        &dialogue.id,
        LiveEventKind::Answer,
        json!({ "question_id": question.id, "given": "aloud", "speaker": view.speaker,
                "agency": view.agency, "summary": view.summary }),
    )?;
    Ok(view)
}

/// Records a commitment made on the day (during the dialogue or when writing it up after).
pub fn add_commitment(
    conn: &mut DbConnection,
    staff: &Staff,
    dialogue_id: &str,
    input: &CommitmentInput,
) -> Result<CommitmentView, AppError> {
    let dialogue = dialogues::store::find(conn, dialogue_id)?.ok_or(AppError::NotFound)?;
    if !matches!(
        dialogue.status(),
        DialogueStatus::InProgress | DialogueStatus::Concluded
    ) {
        return Err(AppError::Conflict("dialogue_not_in_progress"));
    }
    let mut errors = FieldErrors::new();
    let party = errors.take("party", text::required(&input.party, NAME_MAX));
    let description = errors.take("description", paragraph(&input.description));
    if input
        .jobs_offered
        .is_some_and(|n| !(0..=JOBS_MAX).contains(&n))
    {
        errors.add(
            "jobs_offered",
            FieldError::with_n("jobs_out_of_range", JOBS_MAX as i64),
        );
    }
    errors.into_result()?;
    dialogues::store::lock(conn, dialogue_id)?;
    let at = now();
    let commitment = Commitment {
        id: new_id(),
        dialogue_id: dialogue_id.to_string(),
        party: party.unwrap_or_default(),
        agency_id: None,
        kind: input.kind,
        description: description.unwrap_or_default(),
        jobs_offered: input.jobs_offered,
        created_at: at,
        updated_at: at,
    };
    store::insert_commitment(conn, &commitment)?;
    audit::entry(&Actor::User(staff.user.id.clone()), "live.commitment")
        .about("commitment", &commitment.id)
        .in_dialogue(dialogue_id)
        .record(conn)?;
    Ok(commitment_view(&dialogue, &commitment))
}

/// Reacts inside the transaction that approved a question or published an answer: the
/// replay log gains the entry in the same commit, so the stream never tells of a change
/// that did not happen, nor misses one that did.
pub fn on_event(conn: &mut DbConnection, event: &Event) -> Result<(), AppError> {
    match event {
        Event::QuestionApproved {
            dialogue_id,
            question_id,
        } => {
            let Some((dialogue, question)) = dialogue_and_question(conn, dialogue_id, question_id)?
            else {
                return Ok(());
            };
            dialogues::store::lock(conn, dialogue_id)?;
            let view = questions::ops::public_view(&dialogue, &question);
            log_event(
                conn,
                dialogue_id,
                LiveEventKind::QuestionApproved,
                json!({ "question": view }),
            )?;
        }
        Event::AnswerPublished {
            dialogue_id,
            question_id,
        } => {
            let Some((dialogue, _)) = dialogue_and_question(conn, dialogue_id, question_id)? else {
                return Ok(());
            };
            let answers = assignments::ops::published_answers_to(
                conn,
                &dialogue,
                &[question_id.to_string()],
            )?;
            let Some(answer) = answers.get(question_id.as_str()) else {
                return Ok(());
            };
            dialogues::store::lock(conn, dialogue_id)?;
            log_event(
                conn,
                dialogue_id,
                LiveEventKind::Answer,
                json!({ "question_id": question_id, "given": "written",
                        "agency": answer.agency, "summary": answer.body }),
            )?;
        }
        _ => {}
    }
    Ok(())
}

fn dialogue_and_question(
    conn: &mut DbConnection,
    dialogue_id: &str,
    question_id: &str,
) -> Result<Option<(Dialogue, Question)>, AppError> {
    let dialogue = dialogues::store::find(conn, dialogue_id)?;
    let question = questions::store::find(conn, question_id)?;
    Ok(dialogue.zip(question))
}

/// What the projector shows now.
pub fn state(conn: &mut DbConnection, dialogue: &Dialogue) -> Result<LiveState, AppError> {
    let current = match store::current_of(conn, &dialogue.id)? {
        Some(id) => questions::store::find(conn, &id)?
            .filter(|q| q.status.is_public())
            .map(|q| questions::ops::public_view(dialogue, &q)),
        None => None,
    };
    let filter = questions::store::Filter {
        statuses: vec![QuestionStatus::Approved, QuestionStatus::Assigned],
        topic: None,
        sort: QueueSort::Votes,
    };
    let (rows, _) = questions::ops::list(conn, dialogue, &filter, 0, NEXT_SHOWN + 1)?;
    let current_id = current.as_ref().map(|q| q.id.clone());
    let next: Vec<PublicQuestion> = rows
        .iter()
        .filter(|q| Some(&q.id) != current_id.as_ref())
        .take(NEXT_SHOWN as usize)
        .map(|q| questions::ops::public_view(dialogue, q))
        .collect();
    Ok(LiveState {
        dialogue_id: dialogue.id.to_string(),
        current,
        next,
        last_event_id: store::last_seq(conn, &dialogue.id)?,
    })
}

/// The live record of a dialogue: answers given aloud (by question) and commitments — for
/// the participants' pages and the minutes.
pub struct LiveRecord {
    pub answers: HashMap<String, Vec<LiveAnswerView>>,
    pub commitments: Vec<CommitmentView>,
}

pub fn record(conn: &mut DbConnection, dialogue: &Dialogue) -> Result<LiveRecord, AppError> {
    let answers = store::answers_in(conn, &dialogue.id)?;
    let mut names: HashMap<String, Option<String>> = HashMap::new();
    let mut by_question: HashMap<String, Vec<LiveAnswerView>> = HashMap::new();
    for answer in answers {
        let agency = match &answer.agency_id {
            Some(id) => match names.get(id) {
                Some(name) => name.clone(),
                None => {
                    let name = agencies::store::find(conn, id)?.map(|a| a.name);
                    names.insert(id.clone(), name.clone());
                    name
                }
            },
            None => None,
        };
        by_question
            .entry(answer.question_id.clone())
            .or_default()
            .push(answer_view(dialogue, &answer, agency));
    }
    let commitments = store::commitments_in(conn, &dialogue.id)?
        .iter()
        .map(|c| commitment_view(dialogue, c))
        .collect();
    Ok(LiveRecord {
        answers: by_question,
        commitments,
    })
}

fn answer_view(dialogue: &Dialogue, answer: &LiveAnswer, agency: Option<String>) -> LiveAnswerView {
    LiveAnswerView {
        id: answer.id.clone(),
        question_id: crate::db::QuestionId::from_stored(&answer.question_id),
        speaker: answer.speaker.clone(),
        agency,
        summary: answer.summary.clone(),
        at: dialogue.local(answer.created_at).to_rfc3339(),
    }
}

fn commitment_view(dialogue: &Dialogue, c: &Commitment) -> CommitmentView {
    CommitmentView {
        id: c.id.clone(),
        party: c.party.clone(),
        kind: c.kind,
        description: c.description.clone(),
        jobs_offered: c.jobs_offered,
        at: dialogue.local(c.created_at).to_rfc3339(),
    }
}

/// Periodic: forgets old replay entries.
pub fn prune_replay_log(conn: &mut DbConnection) -> Result<usize, AppError> {
    Ok(store::prune(
        conn,
        now() - Duration::hours(REPLAY_KEPT_HOURS),
    )?)
}
