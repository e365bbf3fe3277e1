//! Queries of the live session.

use chrono::NaiveDateTime;
use diesel::dsl::max;
use diesel::prelude::*;

use super::model::{Commitment, LiveAnswer, LiveEventRow};
use crate::db::DbConnection;
use crate::db::schema::{commitments, dialogues, live_answers, live_events, questions};
use crate::questions::model::QuestionStatus;

pub fn set_current(
    conn: &mut DbConnection,
    dialogue_id: &str,
    question_id: Option<&str>,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(dialogues::table.find(dialogue_id))
        .set((
            dialogues::current_question_id.eq(question_id),
            dialogues::updated_at.eq(at),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn current_of(conn: &mut DbConnection, dialogue_id: &str) -> QueryResult<Option<String>> {
    dialogues::table
        .find(dialogue_id)
        .select(dialogues::current_question_id)
        .first::<Option<String>>(conn)
        .optional()
        .map(Option::flatten)
}

/// The last entry of the dialogue's replay log (0 when empty).
pub fn last_seq(conn: &mut DbConnection, dialogue_id: &str) -> QueryResult<i32> {
    live_events::table
        .filter(live_events::dialogue_id.eq(dialogue_id))
        .select(max(live_events::seq))
        .first::<Option<i32>>(conn)
        .map(Option::unwrap_or_default)
}

/// Appends to the replay log. The caller holds the dialogue's lock, so the numbers follow
/// the order of the commits; the primary key refuses a number taken twice.
pub fn append(
    conn: &mut DbConnection,
    dialogue_id: &str,
    kind: &str,
    data: &str,
    at: NaiveDateTime,
) -> QueryResult<i32> {
    let seq = last_seq(conn, dialogue_id)? + 1;
    diesel::insert_into(live_events::table)
        .values(&LiveEventRow {
            dialogue_id: dialogue_id.to_string(),
            seq,
            kind: kind.to_string(),
            data: data.to_string(),
            created_at: at,
        })
        .execute(conn)?;
    Ok(seq)
}

/// The entries after `seq`, oldest first, at most `limit`.
pub fn events_after(
    conn: &mut DbConnection,
    dialogue_id: &str,
    seq: i32,
    limit: i64,
) -> QueryResult<Vec<LiveEventRow>> {
    live_events::table
        .filter(live_events::dialogue_id.eq(dialogue_id))
        .filter(live_events::seq.gt(seq))
        .order(live_events::seq.asc())
        .limit(limit)
        .select(LiveEventRow::as_select())
        .load(conn)
}

/// Forgets replay entries older than `before`: a phone away that long reloads instead.
pub fn prune(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(live_events::table.filter(live_events::created_at.lt(before))).execute(conn)
}

pub fn insert_answer(conn: &mut DbConnection, answer: &LiveAnswer) -> QueryResult<()> {
    diesel::insert_into(live_answers::table)
        .values(answer)
        .execute(conn)
        .map(|_| ())
}

/// The dialogue's answers given aloud, in the order they were given.
pub fn answers_in(conn: &mut DbConnection, dialogue_id: &str) -> QueryResult<Vec<LiveAnswer>> {
    live_answers::table
        .inner_join(questions::table)
        .filter(questions::dialogue_id.eq(dialogue_id))
        .order((live_answers::created_at.asc(), live_answers::id.asc()))
        .select(LiveAnswer::as_select())
        .load(conn)
}

pub fn insert_commitment(conn: &mut DbConnection, commitment: &Commitment) -> QueryResult<()> {
    diesel::insert_into(commitments::table)
        .values(commitment)
        .execute(conn)
        .map(|_| ())
}

pub fn commitments_in(conn: &mut DbConnection, dialogue_id: &str) -> QueryResult<Vec<Commitment>> {
    commitments::table
        .filter(commitments::dialogue_id.eq(dialogue_id))
        .order((commitments::created_at.asc(), commitments::id.asc()))
        .select(Commitment::as_select())
        .load(conn)
}

/// The vote count of every question in the public queue, for the stream's vote updates.
/// Every public question's vote count, sorted by id (as bytes).
pub fn vote_counts(conn: &mut DbConnection, dialogue_id: &str) -> QueryResult<Vec<(String, i32)>> {
    let public: Vec<&str> = QuestionStatus::ALL
        .iter()
        .filter(|s| s.is_public())
        .map(|s| s.as_str())
        .collect();
    questions::table
        .filter(questions::dialogue_id.eq(dialogue_id))
        .filter(questions::status.eq_any(public))
        .select((questions::id, questions::vote_count))
        .load(conn)
        // Sorted here, not by the database: PostgreSQL's collation need not order bytes.
        .map(|mut counts: Vec<(String, i32)>| {
            counts.sort_unstable();
            counts
        })
}

/// The dialogues in which the agency answered aloud or made a commitment (its staff's
/// dashboard).
pub fn dialogues_of_agency(conn: &mut DbConnection, agency_id: &str) -> QueryResult<Vec<String>> {
    let mut ids: Vec<String> = commitments::table
        .filter(commitments::agency_id.eq(agency_id))
        .select(commitments::dialogue_id)
        .distinct()
        .load(conn)?;
    ids.extend(
        live_answers::table
            .inner_join(questions::table)
            .filter(live_answers::agency_id.eq(agency_id))
            .select(questions::dialogue_id)
            .distinct()
            .load::<String>(conn)?,
    );
    Ok(ids)
}
