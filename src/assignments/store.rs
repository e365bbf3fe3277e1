//! Queries on `assignments` and `responses`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{Assignment, AssignmentStatus, NewAssignment, Response};
use crate::db::schema::{agencies, assignments, questions, responses};
use crate::db::{DbConnection, new_id, now};
use crate::questions::model::QuestionStatus;

pub fn insert(conn: &mut DbConnection, row: &NewAssignment) -> QueryResult<()> {
    diesel::insert_into(assignments::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Assignment>> {
    assignments::table
        .find(id)
        .select(Assignment::as_select())
        .first(conn)
        .optional()
}

/// Holds the assignment's row until the transaction ends (two staff clicking at once).
pub fn lock(conn: &mut DbConnection, id: &str) -> QueryResult<()> {
    match conn {
        DbConnection::Postgresql(pg) => {
            diesel::sql_query("SELECT id FROM assignments WHERE id = $1 FOR UPDATE")
                .bind::<diesel::sql_types::Text, _>(id)
                .execute(pg)
                .map(|_| ())
        }
        DbConnection::Sqlite(_) => Ok(()),
    }
}

/// Which assignments to read.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub dialogue_id: Option<String>,
    pub agency_id: Option<String>,
    pub status: Option<AssignmentStatus>,
    /// Only these statuses, when not empty (the inbox's "to do" and "done" lists).
    pub statuses: Vec<AssignmentStatus>,
    /// Only those past due and still with the agency.
    pub overdue: bool,
}

/// One page of assignments, overdue and soonest due first, and how many match.
pub fn list(
    conn: &mut DbConnection,
    filter: &Filter,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<Assignment>, i64)> {
    let at = now();
    let matching = || {
        let mut query = assignments::table
            .inner_join(questions::table)
            .select(Assignment::as_select())
            .into_boxed();
        if let Some(dialogue) = &filter.dialogue_id {
            query = query.filter(questions::dialogue_id.eq(dialogue.clone()));
        }
        if let Some(agency) = &filter.agency_id {
            query = query.filter(assignments::agency_id.eq(agency.clone()));
        }
        if let Some(status) = filter.status {
            query = query.filter(assignments::status.eq(status.as_str()));
        }
        if !filter.statuses.is_empty() {
            let codes: Vec<&str> = filter.statuses.iter().map(|s| s.as_str()).collect();
            query = query.filter(assignments::status.eq_any(codes));
        }
        if filter.overdue {
            query = query
                .filter(assignments::status.eq_any(awaiting()))
                .filter(assignments::due_at.lt(at));
        }
        query
    };
    let total = matching().count().get_result(conn)?;
    let items = matching()
        .order((assignments::due_at.asc(), assignments::id.asc()))
        .offset(offset)
        .limit(limit)
        .load(conn)?;
    Ok((items, total))
}

fn awaiting() -> [&'static str; 2] {
    [
        AssignmentStatus::Assigned.as_str(),
        AssignmentStatus::Returned.as_str(),
    ]
}

/// The question's assignments, newest first (a declined one stays as history).
pub fn for_question(conn: &mut DbConnection, question_id: &str) -> QueryResult<Vec<Assignment>> {
    assignments::table
        .filter(assignments::question_id.eq(question_id))
        .order((assignments::created_at.desc(), assignments::id.desc()))
        .select(Assignment::as_select())
        .load(conn)
}

/// The statuses of the questions that may have been assigned: every one but those of a
/// question never moderated (waiting, or taken back before moderation). Naming them lets
/// the join read a range of the queue's index instead of every question of the dialogue,
/// however many wait for moderation.
fn possibly_assigned() -> Vec<&'static str> {
    QuestionStatus::ALL
        .iter()
        .filter(|s| !matches!(s, QuestionStatus::Submitted | QuestionStatus::Withdrawn))
        .map(|s| s.as_str())
        .collect()
}

/// Every assignment of a dialogue's questions.
pub fn in_dialogue(conn: &mut DbConnection, dialogue_id: &str) -> QueryResult<Vec<Assignment>> {
    assignments::table
        .inner_join(questions::table)
        .filter(questions::dialogue_id.eq(dialogue_id))
        .filter(questions::status.eq_any(possibly_assigned()))
        .order((assignments::created_at.asc(), assignments::id.asc()))
        .select(Assignment::as_select())
        .load(conn)
}

/// The dialogue's published assignments of the given questions (a page of the public queue
/// needs the answers of its fifty, not of all five thousand).
pub fn published_in(
    conn: &mut DbConnection,
    dialogue_id: &str,
    question_ids: &[String],
) -> QueryResult<Vec<Assignment>> {
    assignments::table
        .inner_join(questions::table)
        .filter(questions::dialogue_id.eq(dialogue_id))
        .filter(assignments::status.eq(AssignmentStatus::Published.as_str()))
        .filter(assignments::question_id.eq_any(question_ids))
        .order((assignments::created_at.asc(), assignments::id.asc()))
        .select(Assignment::as_select())
        .load(conn)
}

pub struct StatusChange<'a> {
    pub status: AssignmentStatus,
    pub decline_reason: Option<&'a str>,
    pub return_reason: Option<&'a str>,
}

pub fn set_status(conn: &mut DbConnection, id: &str, change: StatusChange<'_>) -> QueryResult<()> {
    diesel::update(assignments::table.find(id))
        .set((
            assignments::status.eq(change.status.as_str()),
            assignments::decline_reason.eq(change.decline_reason),
            assignments::return_reason.eq(change.return_reason),
            assignments::updated_at.eq(now()),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn response(conn: &mut DbConnection, assignment_id: &str) -> QueryResult<Option<Response>> {
    responses::table
        .filter(responses::assignment_id.eq(assignment_id))
        .select(Response::as_select())
        .first(conn)
        .optional()
}

pub fn responses_for(
    conn: &mut DbConnection,
    assignment_ids: &[String],
) -> QueryResult<Vec<Response>> {
    responses::table
        .filter(responses::assignment_id.eq_any(assignment_ids))
        .select(Response::as_select())
        .load(conn)
}

/// Saves the agency's text (a draft, or submitted when `submitted`). One row per assignment.
pub fn save_response(
    conn: &mut DbConnection,
    assignment_id: &str,
    body: &str,
    author_id: &str,
    submitted: bool,
) -> QueryResult<()> {
    let at = now();
    let submitted_at = submitted.then_some(at);
    match response(conn, assignment_id)? {
        Some(existing) => diesel::update(responses::table.find(existing.id))
            .set((
                responses::body.eq(body),
                responses::author_id.eq(author_id),
                responses::submitted_at.eq(submitted_at),
                responses::updated_at.eq(at),
            ))
            .execute(conn)
            .map(|_| ()),
        None => diesel::insert_into(responses::table)
            .values((
                responses::id.eq(new_id()),
                responses::assignment_id.eq(assignment_id),
                responses::body.eq(body),
                responses::author_id.eq(author_id),
                responses::submitted_at.eq(submitted_at),
                responses::created_at.eq(at),
                responses::updated_at.eq(at),
            ))
            .execute(conn)
            .map(|_| ()),
    }
}

pub fn approve_response(conn: &mut DbConnection, assignment_id: &str, by: &str) -> QueryResult<()> {
    diesel::update(responses::table.filter(responses::assignment_id.eq(assignment_id)))
        .set((
            responses::approved_at.eq(now()),
            responses::approved_by.eq(by),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Assignments still with the agency, due before `before`, whose reminder has not gone out.
pub fn due_for_reminder(
    conn: &mut DbConnection,
    before: NaiveDateTime,
) -> QueryResult<Vec<Assignment>> {
    assignments::table
        .filter(assignments::status.eq_any(awaiting()))
        .filter(assignments::due_at.lt(before))
        .filter(assignments::due_at.ge(now()))
        .filter(assignments::reminded_at.is_null())
        .select(Assignment::as_select())
        .load(conn)
}

/// Assignments past due and still with the agency, whose overdue notice has not gone out.
pub fn newly_overdue(conn: &mut DbConnection) -> QueryResult<Vec<Assignment>> {
    assignments::table
        .filter(assignments::status.eq_any(awaiting()))
        .filter(assignments::due_at.lt(now()))
        .filter(assignments::overdue_notified_at.is_null())
        .select(Assignment::as_select())
        .load(conn)
}

pub fn mark_reminded(conn: &mut DbConnection, id: &str) -> QueryResult<()> {
    diesel::update(assignments::table.find(id))
        .set(assignments::reminded_at.eq(now()))
        .execute(conn)
        .map(|_| ())
}

pub fn mark_overdue_notified(conn: &mut DbConnection, id: &str) -> QueryResult<()> {
    diesel::update(assignments::table.find(id))
        .set(assignments::overdue_notified_at.eq(now()))
        .execute(conn)
        .map(|_| ())
}

/// Agency names by id.
pub fn agency_names(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<(String, String)>> {
    agencies::table
        .filter(agencies::id.eq_any(ids))
        .select((agencies::id, agencies::name))
        .load(conn)
}

/// Moves the due date (the demo's overdue example; an organizer's extension later).
pub fn set_due(conn: &mut DbConnection, id: &str, due_at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(assignments::table.find(id))
        .set((
            assignments::due_at.eq(due_at),
            assignments::updated_at.eq(now()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The dialogues in which a question was assigned to the agency (its staff's dashboard).
pub fn dialogues_of_agency(conn: &mut DbConnection, agency_id: &str) -> QueryResult<Vec<String>> {
    assignments::table
        .inner_join(questions::table)
        .filter(assignments::agency_id.eq(agency_id))
        .select(questions::dialogue_id)
        .distinct()
        .load(conn)
}
