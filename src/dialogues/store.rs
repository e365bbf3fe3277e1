//! Queries on `dialogues`, `officials` and `agenda_items`.

use std::collections::HashMap;

use diesel::prelude::*;

use super::input::ValidDialogue;
use super::model::{
    AgendaItem, Dialogue, DialogueStatus, FullDialogue, Intake, NewAgendaItem, NewOfficial,
    Official,
};
use crate::db::schema::{agenda_items, dialogues, officials};
use crate::db::{DbConnection, DialogueId, new_id, now};

/// Stores a new draft dialogue with its officials and agenda; returns its id.
pub fn insert(
    conn: &mut DbConnection,
    valid: &ValidDialogue,
    created_by: Option<&str>,
) -> QueryResult<String> {
    let id = new_id();
    let at = now();
    diesel::insert_into(dialogues::table)
        .values((
            &valid.fields,
            dialogues::id.eq(&id),
            dialogues::status.eq(DialogueStatus::Draft.as_str()),
            dialogues::created_by.eq(created_by),
            dialogues::created_at.eq(at),
            dialogues::updated_at.eq(at),
        ))
        .execute(conn)?;
    replace_children(conn, &id, valid)?;
    Ok(id)
}

/// Writes every field and replaces the officials and agenda.
pub fn update(conn: &mut DbConnection, id: &str, valid: &ValidDialogue) -> QueryResult<()> {
    diesel::update(dialogues::table.find(id))
        .set((&valid.fields, dialogues::updated_at.eq(now())))
        .execute(conn)?;
    replace_children(conn, id, valid)
}

/// Raises the calendar event's SEQUENCE by one, in the database so that two concurrent
/// changes each count.
pub fn bump_calendar_sequence(conn: &mut DbConnection, id: &str) -> QueryResult<()> {
    diesel::update(dialogues::table.find(id))
        .set(dialogues::calendar_sequence.eq(dialogues::calendar_sequence + 1))
        .execute(conn)?;
    Ok(())
}

fn replace_children(conn: &mut DbConnection, id: &str, valid: &ValidDialogue) -> QueryResult<()> {
    diesel::delete(officials::table.filter(officials::dialogue_id.eq(id))).execute(conn)?;
    diesel::delete(agenda_items::table.filter(agenda_items::dialogue_id.eq(id))).execute(conn)?;
    let people: Vec<NewOfficial> = valid
        .officials
        .iter()
        .zip(0..)
        .map(|((name, position, role), order)| NewOfficial {
            id: new_id(),
            dialogue_id: DialogueId::from_stored(id),
            sort_order: order,
            name: name.clone(),
            position: position.clone(),
            role: *role,
        })
        .collect();
    let items: Vec<NewAgendaItem> = valid
        .agenda
        .iter()
        .zip(0..)
        .map(|((title, presenter), order)| NewAgendaItem {
            id: new_id(),
            dialogue_id: DialogueId::from_stored(id),
            sort_order: order,
            title: title.clone(),
            presenter: presenter.clone(),
        })
        .collect();
    // One row per statement: SQLite's multi-row insert is not available through MultiConnection.
    for row in &people {
        diesel::insert_into(officials::table)
            .values(row)
            .execute(conn)?;
    }
    for row in &items {
        diesel::insert_into(agenda_items::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// By primary key, without `LIMIT ?`: SQLite re-plans a statement whose LIMIT is a bound
/// value every time, so `.first()` here cost a fresh parse per request (profiled).
pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Dialogue>> {
    dialogues::table
        .find(id)
        .select(Dialogue::as_select())
        .get_result(conn)
        .optional()
}

/// The dialogue with its officials and agenda.
pub fn find_full(conn: &mut DbConnection, id: &str) -> QueryResult<Option<FullDialogue>> {
    let Some(dialogue) = find(conn, id)? else {
        return Ok(None);
    };
    // `= ?` rather than `IN (?)`: diesel caches the prepared statement only for the former.
    let officials = officials::table
        .filter(officials::dialogue_id.eq(id))
        .order(officials::sort_order)
        .select(Official::as_select())
        .load(conn)?;
    let agenda = agenda_items::table
        .filter(agenda_items::dialogue_id.eq(id))
        .order(agenda_items::sort_order)
        .select(AgendaItem::as_select())
        .load(conn)?;
    Ok(Some(FullDialogue {
        dialogue,
        officials,
        agenda,
    }))
}

fn with_children(conn: &mut DbConnection, list: Vec<Dialogue>) -> QueryResult<Vec<FullDialogue>> {
    let ids: Vec<&str> = list.iter().map(|d| d.id.as_str()).collect();
    let mut people: HashMap<DialogueId, Vec<Official>> = HashMap::new();
    for o in officials::table
        .filter(officials::dialogue_id.eq_any(&ids))
        .order((officials::dialogue_id, officials::sort_order))
        .select(Official::as_select())
        .load(conn)?
    {
        people.entry(o.dialogue_id.clone()).or_default().push(o);
    }
    let mut items: HashMap<DialogueId, Vec<AgendaItem>> = HashMap::new();
    for a in agenda_items::table
        .filter(agenda_items::dialogue_id.eq_any(&ids))
        .order((agenda_items::dialogue_id, agenda_items::sort_order))
        .select(AgendaItem::as_select())
        .load(conn)?
    {
        items.entry(a.dialogue_id.clone()).or_default().push(a);
    }
    Ok(list
        .into_iter()
        .map(|dialogue| FullDialogue {
            officials: people.remove(&dialogue.id).unwrap_or_default(),
            agenda: items.remove(&dialogue.id).unwrap_or_default(),
            dialogue,
        })
        .collect())
}

/// Dialogues by start time, newest first; only the given statuses when `only` is set.
pub fn list(
    conn: &mut DbConnection,
    only: Option<&[&str]>,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<FullDialogue>, i64)> {
    let mut count = dialogues::table.into_boxed();
    let mut page = dialogues::table.into_boxed();
    if let Some(statuses) = only {
        count = count.filter(dialogues::status.eq_any(statuses.to_vec()));
        page = page.filter(dialogues::status.eq_any(statuses.to_vec()));
    }
    let total = count.count().get_result(conn)?;
    let rows = page
        .order((dialogues::starts_at.desc(), dialogues::id.asc()))
        .offset(offset)
        .limit(limit)
        .select(Dialogue::as_select())
        .load(conn)?;
    Ok((with_children(conn, rows)?, total))
}

pub fn set_status(conn: &mut DbConnection, id: &str, status: DialogueStatus) -> QueryResult<()> {
    diesel::update(dialogues::table.find(id))
        .set((
            dialogues::status.eq(status.as_str()),
            dialogues::updated_at.eq(now()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Open and running dialogues, soonest first (the home page).
pub fn upcoming(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<FullDialogue>> {
    let rows = dialogues::table
        .filter(dialogues::status.eq_any([
            DialogueStatus::Open.as_str(),
            DialogueStatus::InProgress.as_str(),
        ]))
        .order((dialogues::starts_at.asc(), dialogues::id.asc()))
        .limit(limit)
        .select(Dialogue::as_select())
        .load(conn)?;
    with_children(conn, rows)
}

/// The statuses anyone may see in lists.
pub fn public_statuses() -> Vec<&'static str> {
    DialogueStatus::ALL
        .iter()
        .copied()
        .filter(|s| s.listed_publicly())
        .map(DialogueStatus::as_str)
        .collect()
}

/// Holds the dialogue's row until the transaction ends, so that two registrations cannot
/// both take the last seat. PostgreSQL needs the row lock; SQLite already lets one writer
/// at a time in.
pub fn lock(conn: &mut DbConnection, id: &str) -> QueryResult<()> {
    match conn {
        DbConnection::Postgresql(pg) => {
            diesel::sql_query("SELECT id FROM dialogues WHERE id = $1 FOR UPDATE")
                .bind::<diesel::sql_types::Text, _>(id)
                .execute(pg)
                .map(|_| ())
        }
        DbConnection::Sqlite(_) => Ok(()),
    }
}

/// What taking a question checks of the dialogue, its row held until the transaction ends
/// on PostgreSQL (as `lock`, in the same round trip); SQLite lets one writer in at a time.
pub fn intake_locked(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Intake>> {
    let query = dialogues::table.find(id);
    match conn {
        DbConnection::Postgresql(pg) => query
            .select(Intake::as_select())
            .for_update()
            .first(pg)
            .optional(),
        DbConnection::Sqlite(lite) => query.select(Intake::as_select()).first(lite).optional(),
    }
}

/// Open or running dialogues that start within `[from, until)`.
pub fn starting_between(
    conn: &mut DbConnection,
    from: chrono::NaiveDateTime,
    until: chrono::NaiveDateTime,
) -> QueryResult<Vec<Dialogue>> {
    dialogues::table
        .filter(dialogues::starts_at.ge(from))
        .filter(dialogues::starts_at.lt(until))
        .filter(dialogues::status.eq_any([
            DialogueStatus::Open.as_str(),
            DialogueStatus::InProgress.as_str(),
        ]))
        .select(Dialogue::as_select())
        .load(conn)
}

/// The dashboard's list, soonest first: dialogues not yet over by start time, then those
/// that are over, the latest first; only the given ids when `only` is set (an agency's).
pub fn for_dashboard(
    conn: &mut DbConnection,
    only: Option<&[String]>,
    now: chrono::NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<FullDialogue>> {
    let mut coming = dialogues::table
        .filter(dialogues::ends_at.ge(now))
        .into_boxed();
    let mut past = dialogues::table
        .filter(dialogues::ends_at.lt(now))
        .into_boxed();
    if let Some(ids) = only {
        coming = coming.filter(dialogues::id.eq_any(ids.to_vec()));
        past = past.filter(dialogues::id.eq_any(ids.to_vec()));
    }
    let mut rows = coming
        .order((dialogues::starts_at.asc(), dialogues::id.asc()))
        .limit(limit)
        .select(Dialogue::as_select())
        .load(conn)?;
    let left = limit - rows.len() as i64;
    if left > 0 {
        rows.extend(
            past.order((dialogues::starts_at.desc(), dialogues::id.asc()))
                .limit(left)
                .select(Dialogue::as_select())
                .load(conn)?,
        );
    }
    with_children(conn, rows)
}
