//! Queries on `invitations`.

use std::collections::BTreeMap;

use diesel::prelude::*;

use super::model::{Invitation, InvitationStatus, NewInvitation};
use crate::db::DbConnection;
use crate::db::schema::{invitations, participants, registrations};
use crate::participants::model::Participant;

pub fn insert_many(conn: &mut DbConnection, rows: &[NewInvitation]) -> QueryResult<()> {
    match conn {
        DbConnection::Postgresql(pg) => {
            for chunk in rows.chunks(500) {
                diesel::insert_into(invitations::table)
                    .values(chunk)
                    .execute(pg)?;
            }
        }
        DbConnection::Sqlite(lite) => {
            // 16 columns × 500 rows stays under SQLite's limit of 32,766 bound values.
            for chunk in rows.chunks(500) {
                diesel::insert_into(invitations::table)
                    .values(chunk)
                    .execute(lite)?;
            }
        }
    }
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<(Invitation, Participant)>> {
    invitations::table
        .inner_join(participants::table)
        .filter(invitations::id.eq(id))
        .select((Invitation::as_select(), Participant::as_select()))
        .first(conn)
        .optional()
}

pub fn find_by_participant(
    conn: &mut DbConnection,
    participant_id: &str,
) -> QueryResult<Option<Invitation>> {
    invitations::table
        .filter(invitations::participant_id.eq(participant_id))
        .select(Invitation::as_select())
        .first(conn)
        .optional()
}

/// The invitation id of each invitee of a dialogue, by participant id.
pub fn ids_by_participant(
    conn: &mut DbConnection,
    dialogue_id: &str,
) -> QueryResult<std::collections::HashMap<String, String>> {
    let rows: Vec<(String, String)> = invitations::table
        .filter(invitations::dialogue_id.eq(dialogue_id))
        .select((invitations::participant_id, invitations::id))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Invitees by name, optionally of one status.
pub fn list(
    conn: &mut DbConnection,
    dialogue_id: &str,
    status: Option<InvitationStatus>,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<(Invitation, Participant)>, i64)> {
    let mut count = invitations::table
        .filter(invitations::dialogue_id.eq(dialogue_id))
        .into_boxed();
    let mut page = invitations::table
        .inner_join(participants::table)
        .filter(invitations::dialogue_id.eq(dialogue_id))
        .into_boxed();
    if let Some(status) = status {
        count = count.filter(invitations::status.eq(status.as_str()));
        page = page.filter(invitations::status.eq(status.as_str()));
    }
    let total = count.count().get_result(conn)?;
    let rows = page
        .order((participants::name_key.asc(), invitations::id.asc()))
        .offset(offset)
        .limit(limit)
        .select((Invitation::as_select(), Participant::as_select()))
        .load(conn)?;
    Ok((rows, total))
}

/// Invitees who have an email and were never sent one.
pub fn unsent_with_email(
    conn: &mut DbConnection,
    dialogue_id: &str,
) -> QueryResult<Vec<(Invitation, Participant)>> {
    invitations::table
        .inner_join(participants::table)
        .filter(invitations::dialogue_id.eq(dialogue_id))
        .filter(invitations::status.eq(InvitationStatus::Pending.as_str()))
        .filter(participants::email.is_not_null())
        .order((participants::name_key.asc(), invitations::id.asc()))
        .select((Invitation::as_select(), Participant::as_select()))
        .load(conn)
}

pub fn set_status(conn: &mut DbConnection, id: &str, status: InvitationStatus) -> QueryResult<()> {
    let at = crate::db::now();
    let target = invitations::table.find(id);
    match status {
        InvitationStatus::Queued => diesel::update(target)
            .set((
                invitations::status.eq(status.as_str()),
                invitations::queued_at.eq(at),
                invitations::failure_reason.eq(None::<String>),
                invitations::updated_at.eq(at),
            ))
            .execute(conn),
        InvitationStatus::Accepted | InvitationStatus::Declined => diesel::update(target)
            .set((
                invitations::status.eq(status.as_str()),
                invitations::responded_at.eq(at),
                invitations::updated_at.eq(at),
            ))
            .execute(conn),
        _ => diesel::update(target)
            .set((
                invitations::status.eq(status.as_str()),
                invitations::updated_at.eq(at),
            ))
            .execute(conn),
    }
    .map(|_| ())
}

/// Records delivery; an invitee who already answered keeps their answer as the status.
pub fn mark_sent(conn: &mut DbConnection, id: &str) -> QueryResult<()> {
    let at = crate::db::now();
    diesel::update(invitations::table.find(id))
        .set(invitations::sent_at.eq(at))
        .execute(conn)?;
    diesel::update(
        invitations::table
            .find(id)
            .filter(invitations::status.eq_any([
                InvitationStatus::Queued.as_str(),
                InvitationStatus::Failed.as_str(),
            ])),
    )
    .set((
        invitations::status.eq(InvitationStatus::Sent.as_str()),
        invitations::updated_at.eq(at),
    ))
    .execute(conn)
    .map(|_| ())
}

pub fn mark_failed(conn: &mut DbConnection, id: &str, reason: &str) -> QueryResult<()> {
    let at = crate::db::now();
    diesel::update(
        invitations::table
            .find(id)
            .filter(invitations::status.eq_any([
                InvitationStatus::Queued.as_str(),
                InvitationStatus::Sent.as_str(),
            ])),
    )
    .set((
        invitations::status.eq(InvitationStatus::Failed.as_str()),
        invitations::failure_reason.eq(reason),
        invitations::updated_at.eq(at),
    ))
    .execute(conn)
    .map(|_| ())
}

pub fn mark_reminded(conn: &mut DbConnection, id: &str) -> QueryResult<()> {
    diesel::update(invitations::table.find(id))
        .set(invitations::reminded_at.eq(crate::db::now()))
        .execute(conn)
        .map(|_| ())
}

/// Accepted invitees not yet reminded, of dialogues starting before `until`.
pub fn due_for_reminder(
    conn: &mut DbConnection,
    dialogue_ids: &[String],
) -> QueryResult<Vec<(Invitation, Participant)>> {
    // Only those holding a seat: a waitlisted person has no ticket to bring yet.
    let seated = registrations::table
        .filter(registrations::status.eq_any(["registered", "checked_in"]))
        .select(registrations::participant_id);
    invitations::table
        .inner_join(participants::table)
        .filter(invitations::dialogue_id.eq_any(dialogue_ids))
        .filter(invitations::status.eq(InvitationStatus::Accepted.as_str()))
        .filter(invitations::reminded_at.is_null())
        .filter(participants::email.is_not_null())
        .filter(invitations::participant_id.eq_any(seated))
        .select((Invitation::as_select(), Participant::as_select()))
        .load(conn)
}

/// `(status → count)` and `(category → invited)` for the attendance summary.
pub fn counts(
    conn: &mut DbConnection,
    dialogue_id: &str,
) -> QueryResult<(BTreeMap<String, i64>, BTreeMap<String, i64>)> {
    let by_status: Vec<(String, i64)> = invitations::table
        .filter(invitations::dialogue_id.eq(dialogue_id))
        .group_by(invitations::status)
        .select((invitations::status, diesel::dsl::count_star()))
        .load(conn)?;
    let by_category: Vec<(String, i64)> = invitations::table
        .inner_join(participants::table)
        .filter(invitations::dialogue_id.eq(dialogue_id))
        .group_by(participants::category)
        .select((participants::category, diesel::dsl::count_star()))
        .load(conn)?;
    Ok((
        by_status.into_iter().collect(),
        by_category.into_iter().collect(),
    ))
}

/// Every invitee of a dialogue by name, with the status of their registration if they have
/// one (read from the table: invitations sits beside registrations, not above it).
pub fn list_with_registration(
    conn: &mut DbConnection,
    dialogue_id: &str,
) -> QueryResult<Vec<(Invitation, Participant, Option<String>)>> {
    invitations::table
        .inner_join(participants::table.left_join(registrations::table))
        .filter(invitations::dialogue_id.eq(dialogue_id))
        .order((participants::name_key.asc(), invitations::id.asc()))
        .select((
            Invitation::as_select(),
            Participant::as_select(),
            registrations::status.nullable(),
        ))
        .load(conn)
}

/// Whether the person has done anything in the dialogue beyond being invited: registered
/// (a seat, the waitlist, a cancellation or a check-in) or asked a question.
pub fn has_taken_part(conn: &mut DbConnection, participant_id: &str) -> QueryResult<bool> {
    use crate::db::schema::{questions, votes};
    let registered: i64 = registrations::table
        .filter(registrations::participant_id.eq(participant_id))
        .count()
        .get_result(conn)?;
    let asked: i64 = questions::table
        .filter(questions::participant_id.eq(participant_id))
        .count()
        .get_result(conn)?;
    // Someone who voted has taken part: removing them would take their votes off the
    // public queue (the rows cascade, and the count's trigger lowers the questions' counts).
    let voted: i64 = votes::table
        .filter(votes::participant_id.eq(participant_id))
        .count()
        .get_result(conn)?;
    Ok(registered + asked + voted > 0)
}

/// Removes an invitation (the caller removes its person after it).
pub fn remove(conn: &mut DbConnection, invitation_id: &str) -> QueryResult<()> {
    diesel::delete(invitations::table.find(invitation_id))
        .execute(conn)
        .map(|_| ())
}
