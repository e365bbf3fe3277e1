//! The audit log: who did what to which record, and every view or export of sensitive
//! personal data (docs/PRIVACY.md).

use diesel::prelude::*;

use crate::db::schema::audit_log;
use crate::db::{DbConnection, new_id, now};

/// Who acted.
#[derive(Debug, Clone)]
pub enum Actor {
    User(String),
    Participant(String),
    System,
    Anonymous,
}

impl Actor {
    fn parts(&self) -> (&'static str, Option<&str>) {
        match self {
            Actor::User(id) => ("user", Some(id)),
            Actor::Participant(id) => ("participant", Some(id)),
            Actor::System => ("system", None),
            Actor::Anonymous => ("anonymous", None),
        }
    }
}

/// One entry, written in the caller's transaction so that it exists exactly when the change does.
pub struct Entry<'a> {
    pub actor: &'a Actor,
    pub action: &'a str,
    pub subject_kind: &'a str,
    pub subject_id: Option<&'a str>,
    pub dialogue_id: Option<&'a str>,
    pub detail: Option<String>,
}

/// Starts an entry: `audit::entry(&actor, "dialogue.edit").about("dialogue", id)
/// .in_dialogue(id).record(conn)?`.
pub fn entry<'a>(actor: &'a Actor, action: &'a str) -> Entry<'a> {
    Entry {
        actor,
        action,
        subject_kind: "",
        subject_id: None,
        dialogue_id: None,
        detail: None,
    }
}

impl<'a> Entry<'a> {
    /// The record acted on.
    pub fn about(self, kind: &'a str, id: &'a str) -> Entry<'a> {
        Entry {
            subject_kind: kind,
            subject_id: Some(id),
            ..self
        }
    }

    /// The dialogue the record belongs to, so a dialogue's history can be read in one query.
    pub fn in_dialogue(self, dialogue_id: &'a str) -> Entry<'a> {
        Entry {
            dialogue_id: Some(dialogue_id),
            ..self
        }
    }

    pub fn detail(self, detail: impl Into<String>) -> Entry<'a> {
        Entry {
            detail: Some(detail.into()),
            ..self
        }
    }

    /// Writes the entry in the caller's transaction.
    pub fn record(self, conn: &mut DbConnection) -> QueryResult<()> {
        record(conn, self)
    }
}

/// Records that a staff member viewed a dialogue's list of people (personal data).
pub fn view(
    conn: &mut DbConnection,
    dialogue_id: &str,
    user_id: &str,
    what: &str,
) -> QueryResult<()> {
    entry(&Actor::User(user_id.to_string()), what)
        .about("dialogue", dialogue_id)
        .in_dialogue(dialogue_id)
        .record(conn)
}

fn record(conn: &mut DbConnection, entry: Entry<'_>) -> QueryResult<()> {
    // On the database's own connection, as `questions::store::insert` (every write keeps
    // an entry: the generic path's cost adds up).
    let query = diesel::insert_into(audit_log::table).values(row_of(&entry, now()));
    match conn {
        DbConnection::Postgresql(pg) => query.execute(pg),
        DbConnection::Sqlite(lite) => query.execute(lite),
    }
    .map(|_| ())
}

/// Writes many entries in the caller's transaction, for a batch of writes that each keep an
/// entry (`db::BatchedWrite`).
pub fn record_all(conn: &mut DbConnection, entries: &[Entry<'_>]) -> QueryResult<()> {
    let at = now();
    match conn {
        DbConnection::Postgresql(_) if entries.is_empty() => Ok(()),
        DbConnection::Postgresql(pg) => {
            let rows: Vec<_> = entries.iter().map(|entry| row_of(entry, at)).collect();
            diesel::insert_into(audit_log::table)
                .values(rows)
                .execute(pg)
                .map(|_| ())
        }
        // One prepared statement run per entry: on SQLite cheaper than preparing a statement
        // of a new length each time; on PostgreSQL one statement saves round trips.
        DbConnection::Sqlite(lite) => entries.iter().try_for_each(|entry| {
            diesel::insert_into(audit_log::table)
                .values(row_of(entry, at))
                .execute(lite)
                .map(|_| ())
        }),
    }
}

type Row<'a> = (
    diesel::dsl::Eq<audit_log::id, String>,
    diesel::dsl::Eq<audit_log::at, chrono::NaiveDateTime>,
    diesel::dsl::Eq<audit_log::actor_kind, &'static str>,
    diesel::dsl::Eq<audit_log::actor_id, Option<&'a str>>,
    diesel::dsl::Eq<audit_log::action, &'a str>,
    diesel::dsl::Eq<audit_log::subject_kind, &'a str>,
    diesel::dsl::Eq<audit_log::subject_id, Option<&'a str>>,
    diesel::dsl::Eq<audit_log::dialogue_id, Option<&'a str>>,
    diesel::dsl::Eq<audit_log::detail, Option<&'a str>>,
);

fn row_of<'a>(entry: &'a Entry<'_>, at: chrono::NaiveDateTime) -> Row<'a> {
    let (actor_kind, actor_id) = entry.actor.parts();
    (
        audit_log::id.eq(new_id()),
        audit_log::at.eq(at),
        audit_log::actor_kind.eq(actor_kind),
        audit_log::actor_id.eq(actor_id),
        audit_log::action.eq(entry.action),
        audit_log::subject_kind.eq(entry.subject_kind),
        audit_log::subject_id.eq(entry.subject_id),
        audit_log::dialogue_id.eq(entry.dialogue_id),
        audit_log::detail.eq(entry.detail.as_deref()),
    )
}

/// Number of entries with this action, for tests and the admin pages.
pub fn count_action(conn: &mut DbConnection, action: &str) -> QueryResult<i64> {
    audit_log::table
        .filter(audit_log::action.eq(action))
        .count()
        .get_result(conn)
}

/// One step of a record's history, as read back.
#[derive(Debug, Clone, Queryable)]
pub struct Step {
    pub at: chrono::NaiveDateTime,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub detail: Option<String>,
}

/// Everything recorded about the records `ids` of one kind, oldest first.
pub fn history(
    conn: &mut DbConnection,
    kind: &str,
    ids: &[String],
) -> QueryResult<Vec<(String, Step)>> {
    audit_log::table
        .filter(audit_log::subject_kind.eq(kind))
        .filter(audit_log::subject_id.eq_any(ids))
        .order((audit_log::at.asc(), audit_log::id.asc()))
        .select((
            audit_log::subject_id.assume_not_null(),
            (
                audit_log::at,
                audit_log::actor_kind,
                audit_log::actor_id,
                audit_log::action,
                audit_log::detail,
            ),
        ))
        .load(conn)
}
