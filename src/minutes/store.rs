//! Queries of the minutes, and of the commitments and live answers they report.

use diesel::prelude::*;

use super::model::{Commitment, LiveAnswer, Minutes, ValidMinutes};
use crate::db::schema::{commitments, live_answers, minutes};
use crate::db::{DbConnection, now};

pub fn find(conn: &mut DbConnection, dialogue_id: &str) -> QueryResult<Option<Minutes>> {
    minutes::table
        .find(dialogue_id)
        .select(Minutes::as_select())
        .first(conn)
        .optional()
}

/// Stores the secretary's parts, creating the row on first save.
pub fn save(conn: &mut DbConnection, dialogue_id: &str, valid: &ValidMinutes) -> QueryResult<()> {
    let at = now();
    match find(conn, dialogue_id)? {
        Some(current) => {
            let row = Minutes {
                number: valid.number.clone(),
                opened_at: Some(valid.opened_at),
                closed_at: Some(valid.closed_at),
                summary: valid.summary.clone(),
                conclusion: Some(valid.conclusion.clone()),
                recipients: valid.recipients.clone(),
                updated_at: at,
                ..current
            };
            diesel::update(minutes::table.find(dialogue_id))
                .set(&row)
                .execute(conn)?;
        }
        None => {
            let row = Minutes {
                dialogue_id: dialogue_id.to_string(),
                number: valid.number.clone(),
                opened_at: Some(valid.opened_at),
                closed_at: Some(valid.closed_at),
                summary: valid.summary.clone(),
                conclusion: Some(valid.conclusion.clone()),
                published_at: None,
                created_at: at,
                updated_at: at,
                recipients: valid.recipients.clone(),
            };
            diesel::insert_into(minutes::table)
                .values(&row)
                .execute(conn)?;
        }
    }
    Ok(())
}

pub fn set_published(conn: &mut DbConnection, dialogue_id: &str) -> QueryResult<()> {
    diesel::update(minutes::table.find(dialogue_id))
        .set(minutes::published_at.eq(Some(now())))
        .execute(conn)?;
    Ok(())
}

/// The dialogue's commitments, oldest first.
pub fn commitments_of(conn: &mut DbConnection, dialogue_id: &str) -> QueryResult<Vec<Commitment>> {
    commitments::table
        .filter(commitments::dialogue_id.eq(dialogue_id))
        .order((commitments::created_at.asc(), commitments::id.asc()))
        .select(Commitment::as_select())
        .load(conn)
}

/// The answers given aloud to these questions, oldest first.
pub fn live_answers_for(
    conn: &mut DbConnection,
    question_ids: &[String],
) -> QueryResult<Vec<LiveAnswer>> {
    if question_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for chunk in question_ids.chunks(500) {
        out.extend(
            live_answers::table
                .filter(live_answers::question_id.eq_any(chunk))
                .order((live_answers::created_at.asc(), live_answers::id.asc()))
                .select(LiveAnswer::as_select())
                .load(conn)?,
        );
    }
    Ok(out)
}
