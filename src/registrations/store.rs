//! Queries on `registrations`.

use std::collections::HashMap;

use diesel::prelude::*;

use super::model::{NewRegistration, Registration, RegistrationStatus};
use crate::db::DbConnection;
use crate::db::schema::{participants, registrations};
use crate::participants::model::{Participant, PersonQuery};

pub fn insert(conn: &mut DbConnection, row: &NewRegistration) -> QueryResult<()> {
    diesel::insert_into(registrations::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn find_by_participant(
    conn: &mut DbConnection,
    participant_id: &str,
) -> QueryResult<Option<Registration>> {
    registrations::table
        .filter(registrations::participant_id.eq(participant_id))
        .select(Registration::as_select())
        .first(conn)
        .optional()
}

/// Seats held (registered or checked in) and waitlist places, in one query.
pub fn seat_counts(conn: &mut DbConnection, dialogue_id: &str) -> QueryResult<(i64, i64)> {
    let rows: Vec<(RegistrationStatus, i64)> = registrations::table
        .filter(registrations::dialogue_id.eq(dialogue_id))
        .filter(registrations::status.ne(RegistrationStatus::Cancelled.as_str()))
        .group_by(registrations::status)
        .select((registrations::status, diesel::dsl::count_star()))
        .load(conn)?;
    let count = |wanted: &[RegistrationStatus]| -> i64 {
        rows.iter()
            .filter(|(status, _)| wanted.contains(status))
            .map(|(_, n)| n)
            .sum()
    };
    Ok((
        count(&[
            RegistrationStatus::Registered,
            RegistrationStatus::CheckedIn,
        ]),
        count(&[RegistrationStatus::Waitlisted]),
    ))
}

/// The waitlist, first come first served.
pub fn waitlist(conn: &mut DbConnection, dialogue_id: &str) -> QueryResult<Vec<Registration>> {
    registrations::table
        .filter(registrations::dialogue_id.eq(dialogue_id))
        .filter(registrations::status.eq(RegistrationStatus::Waitlisted.as_str()))
        .order((registrations::queued_at.asc(), registrations::id.asc()))
        .select(Registration::as_select())
        .load(conn)
}

/// The 1-based place of a waitlisted registration.
pub fn waitlist_position(
    conn: &mut DbConnection,
    registration: &Registration,
) -> QueryResult<Option<i64>> {
    if registration.status() != RegistrationStatus::Waitlisted {
        return Ok(None);
    }
    let ahead: i64 = registrations::table
        .filter(registrations::dialogue_id.eq(&registration.dialogue_id))
        .filter(registrations::status.eq(RegistrationStatus::Waitlisted.as_str()))
        .filter(
            registrations::queued_at
                .lt(registration.queued_at)
                .or(registrations::queued_at
                    .eq(registration.queued_at)
                    .and(registrations::id.lt(&registration.id))),
        )
        .count()
        .get_result(conn)?;
    Ok(Some(ahead + 1))
}

pub fn set_status(
    conn: &mut DbConnection,
    id: &str,
    status: RegistrationStatus,
) -> QueryResult<()> {
    let at = crate::db::now();
    let target = registrations::table.find(id);
    match status {
        RegistrationStatus::Cancelled => diesel::update(target)
            .set((
                registrations::status.eq(status.as_str()),
                registrations::cancelled_at.eq(at),
                registrations::updated_at.eq(at),
            ))
            .execute(conn),
        _ => diesel::update(target)
            .set((
                registrations::status.eq(status.as_str()),
                registrations::updated_at.eq(at),
            ))
            .execute(conn),
    }
    .map(|_| ())
}

/// Puts a cancelled registration back in the queue (at the back).
pub fn requeue(conn: &mut DbConnection, id: &str, status: RegistrationStatus) -> QueryResult<()> {
    let at = crate::db::now();
    diesel::update(registrations::table.find(id))
        .set((
            registrations::status.eq(status.as_str()),
            registrations::queued_at.eq(at),
            registrations::cancelled_at.eq(None::<chrono::NaiveDateTime>),
            registrations::updated_at.eq(at),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn promote(conn: &mut DbConnection, id: &str) -> QueryResult<()> {
    let at = crate::db::now();
    diesel::update(registrations::table.find(id))
        .set((
            registrations::status.eq(RegistrationStatus::Registered.as_str()),
            registrations::promoted_at.eq(at),
            registrations::updated_at.eq(at),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn check_in(conn: &mut DbConnection, id: &str, by: Option<&str>) -> QueryResult<()> {
    let at = crate::db::now();
    diesel::update(registrations::table.find(id))
        .set((
            registrations::status.eq(RegistrationStatus::CheckedIn.as_str()),
            registrations::checked_in_at.eq(at),
            registrations::checked_in_by.eq(by),
            registrations::updated_at.eq(at),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Registration>> {
    registrations::table
        .find(id)
        .select(Registration::as_select())
        .first(conn)
        .optional()
}

/// How many people hold a place (or wait for one) and have an email address: whom an
/// announced change of time or venue reaches.
pub fn count_to_tell(conn: &mut DbConnection, dialogue_id: &str) -> QueryResult<i64> {
    registrations::table
        .inner_join(participants::table)
        .filter(registrations::dialogue_id.eq(dialogue_id))
        .filter(registrations::status.ne(RegistrationStatus::Cancelled.as_str()))
        .filter(participants::email.is_not_null())
        .count()
        .get_result(conn)
}

/// Registrations with their people, in queue order, optionally of one status.
pub fn list(
    conn: &mut DbConnection,
    dialogue_id: &str,
    status: Option<RegistrationStatus>,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<(Registration, Participant)>, i64)> {
    let mut count = registrations::table
        .filter(registrations::dialogue_id.eq(dialogue_id))
        .into_boxed();
    let mut page = registrations::table
        .inner_join(participants::table)
        .filter(registrations::dialogue_id.eq(dialogue_id))
        .into_boxed();
    if let Some(status) = status {
        count = count.filter(registrations::status.eq(status.as_str()));
        page = page.filter(registrations::status.eq(status.as_str()));
    }
    let total = count.count().get_result(conn)?;
    let rows = page
        .order((registrations::queued_at.asc(), registrations::id.asc()))
        .offset(offset)
        .limit(limit)
        .select((Registration::as_select(), Participant::as_select()))
        .load(conn)?;
    Ok((rows, total))
}

/// Registration statuses by participant group: `(category, status) → count`.
pub fn counts_by_category(
    conn: &mut DbConnection,
    dialogue_id: &str,
) -> QueryResult<HashMap<(String, String), i64>> {
    let rows: Vec<(String, String, i64)> = registrations::table
        .inner_join(participants::table)
        .filter(registrations::dialogue_id.eq(dialogue_id))
        .group_by((participants::category, registrations::status))
        .select((
            participants::category,
            registrations::status,
            diesel::dsl::count_star(),
        ))
        .load(conn)?;
    Ok(rows.into_iter().map(|(c, s, n)| ((c, s), n)).collect())
}

/// Takes a registration back from checked in to `status` (registered, waitlisted or
/// cancelled): the time and the staff member of the check-in are cleared, and a place given
/// at the door (`promoted_at`) with them.
pub fn undo_check_in(
    conn: &mut DbConnection,
    id: &str,
    status: RegistrationStatus,
) -> QueryResult<()> {
    let at = crate::db::now();
    let target = registrations::table.find(id);
    let cleared = (
        registrations::status.eq(status.as_str()),
        registrations::checked_in_at.eq(None::<chrono::NaiveDateTime>),
        registrations::checked_in_by.eq(None::<String>),
        registrations::updated_at.eq(at),
    );
    match status {
        RegistrationStatus::Cancelled => diesel::update(target)
            .set((cleared, registrations::cancelled_at.eq(at)))
            .execute(conn),
        RegistrationStatus::Waitlisted => diesel::update(target)
            .set((
                cleared,
                registrations::promoted_at.eq(None::<chrono::NaiveDateTime>),
            ))
            .execute(conn),
        _ => diesel::update(target).set(cleared).execute(conn),
    }
    .map(|_| ())
}

/// Gives a waitlisted person a seat at the door and checks them in, at one instant: the
/// same time in `promoted_at` and `checked_in_at` is how an undo knows to put them back on
/// the waitlist.
pub fn admit(conn: &mut DbConnection, id: &str, by: &str) -> QueryResult<()> {
    let at = crate::db::now();
    diesel::update(registrations::table.find(id))
        .set((
            registrations::status.eq(RegistrationStatus::CheckedIn.as_str()),
            registrations::promoted_at.eq(at),
            registrations::checked_in_at.eq(at),
            registrations::checked_in_by.eq(by),
            registrations::updated_at.eq(at),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The people of a dialogue that match `query`, with their registration if they have one,
/// in name order (at most `limit`).
pub fn search(
    conn: &mut DbConnection,
    dialogue_id: &str,
    query: &PersonQuery,
    limit: i64,
) -> QueryResult<Vec<(Participant, Option<Registration>)>> {
    let mut rows = participants::table
        .left_join(registrations::table)
        .filter(participants::dialogue_id.eq(dialogue_id))
        .filter(participants::purged_at.is_null())
        .into_boxed();
    match query {
        PersonQuery::Name(words) => {
            for word in words {
                rows = rows.filter(participants::name_key.like(format!("%{word}%")));
            }
        }
        PersonQuery::Phone(digits) => {
            // The stored key ends with the phone's digits; rows marked as possible
            // duplicates have no key and are compared below.
            rows = rows.filter(participants::phone.is_not_null()).filter(
                participants::name_phone_key
                    .like(format!("%|%{digits}%"))
                    .or(participants::name_phone_key.is_null()),
            );
        }
    }
    // A phone's digits are compared below, so more rows are read than are shown.
    let bound = match query {
        PersonQuery::Name(_) => limit,
        PersonQuery::Phone(_) => 1_000,
    };
    let found: Vec<(Participant, Option<Registration>)> = rows
        .order((participants::name_key.asc(), participants::id.asc()))
        .limit(bound)
        .select((
            Participant::as_select(),
            Option::<Registration>::as_select(),
        ))
        .load(conn)?;
    Ok(found
        .into_iter()
        .filter(|(p, _)| match query {
            PersonQuery::Name(_) => true,
            PersonQuery::Phone(digits) => p
                .phone
                .as_deref()
                .is_some_and(|phone| crate::text::phone_digits(phone).contains(digits.as_str())),
        })
        .take(usize::try_from(limit).unwrap_or(0))
        .collect())
}
