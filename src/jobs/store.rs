//! The `jobs` and `job_attempts` tables: queueing a job inside the caller's transaction,
//! claiming due jobs with a lease, handing claims back, recording outcomes.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{job_attempts, jobs};
use crate::db::{DbConnection, new_id, now};
use crate::error::AppError;
use crate::events::{self, Event};

/// How many rows one claim takes.
pub(crate) const BATCH: i64 = 25;

/// Where a job stands.
pub mod status {
    /// Waiting for its first run or for a retry.
    pub const PENDING: &str = "pending";
    /// Its handler finished it.
    pub const DONE: &str = "done";
    /// It failed for good; `last_error` says why.
    pub const FAILED: &str = "failed";
}

/// A job to queue: what to do (`kind`, which names the handler) and with what (`payload`).
#[derive(Debug, Clone)]
pub struct NewJob {
    /// Names the handler that runs it (`email`, …).
    pub kind: &'static str,
    /// The handler's input, JSON text.
    pub payload: String,
    /// When set, a second job with the same key is not queued (e.g. one invitation per invitee).
    pub dedupe_key: Option<String>,
    /// The row this job is about, told of the outcome through `JobHooks`.
    pub subject_ref: Option<(&'static str, String)>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = jobs)]
struct NewJobRow {
    id: String,
    kind: String,
    payload: String,
    dedupe_key: Option<String>,
    subject_kind: Option<String>,
    subject_id: Option<String>,
    status: String,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    created_at: NaiveDateTime,
}

/// A stored job.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = jobs)]
pub struct Job {
    pub id: String,
    pub kind: String,
    pub payload: String,
    pub dedupe_key: Option<String>,
    pub subject_kind: Option<String>,
    pub subject_id: Option<String>,
    pub status: String,
    /// Attempts recorded so far (not counting the one in progress).
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub locked_by: Option<String>,
    pub locked_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    /// When it became `done` or `failed`.
    pub finished_at: Option<NaiveDateTime>,
}

/// One recorded attempt.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = job_attempts)]
pub struct JobAttempt {
    pub id: String,
    pub job_id: String,
    pub attempted_at: NaiveDateTime,
    /// `done`, `retry` or `failed`.
    pub outcome: String,
    pub detail: Option<String>,
}

/// Queues a job inside the caller's transaction and tells the workers (after the commit).
/// Returns the row id, or `None` when a job with the same dedupe key was queued before.
pub fn enqueue(conn: &mut DbConnection, job: NewJob) -> Result<Option<String>, AppError> {
    if let Some(key) = &job.dedupe_key {
        let existing: i64 = jobs::table
            .filter(jobs::dedupe_key.eq(key))
            .count()
            .get_result(conn)?;
        if existing > 0 {
            return Ok(None);
        }
    }
    let at = now();
    let row = NewJobRow {
        id: new_id(),
        kind: job.kind.to_string(),
        payload: job.payload,
        dedupe_key: job.dedupe_key,
        subject_kind: job.subject_ref.as_ref().map(|(kind, _)| kind.to_string()),
        subject_id: job.subject_ref.map(|(_, id)| id),
        status: status::PENDING.into(),
        attempts: 0,
        next_attempt_at: at,
        created_at: at,
    };
    diesel::insert_into(jobs::table)
        .values(&row)
        .execute(conn)?;
    events::emit(Event::JobsQueued);
    Ok(Some(row.id))
}

/// Counts of jobs by status (`pending`, `done`, `failed`), for progress displays and tests.
pub fn counts(conn: &mut DbConnection) -> QueryResult<HashMap<String, i64>> {
    let rows: Vec<(String, i64)> = jobs::table
        .group_by(jobs::status)
        .select((jobs::status, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Job>> {
    jobs::table
        .find(id)
        .select(Job::as_select())
        .first(conn)
        .optional()
}

/// The jobs of a kind, newest first, for tests and support.
pub fn list_kind(conn: &mut DbConnection, kind: &str) -> QueryResult<Vec<Job>> {
    jobs::table
        .filter(jobs::kind.eq(kind))
        .order((jobs::created_at.desc(), jobs::id.desc()))
        .select(Job::as_select())
        .load(conn)
}

/// The attempts of one job, oldest first.
pub fn attempts(conn: &mut DbConnection, job_id: &str) -> QueryResult<Vec<JobAttempt>> {
    job_attempts::table
        .filter(job_attempts::job_id.eq(job_id))
        .order((job_attempts::attempted_at.asc(), job_attempts::id.asc()))
        .select(JobAttempt::as_select())
        .load(conn)
}

/// Marks up to `BATCH` due rows as ours until `now + lease`, and returns them.
///
/// On PostgreSQL the due rows are selected `FOR UPDATE SKIP LOCKED`, so workers of several
/// instances claiming at once take different rows. The conditions are also repeated in the
/// UPDATE, so that a row taken meanwhile (its lease set by a claim that committed) is never
/// claimed twice, whatever the isolation level.
pub fn claim(
    conn: &mut DbConnection,
    claim: &str,
    lease: chrono::Duration,
) -> Result<Vec<Job>, AppError> {
    let at = now();
    let until = at + lease;
    let due = jobs::table
        .filter(jobs::status.eq(status::PENDING))
        .filter(jobs::next_attempt_at.le(at))
        .filter(jobs::locked_until.is_null().or(jobs::locked_until.lt(at)))
        .order((jobs::next_attempt_at.asc(), jobs::id.asc()))
        .limit(BATCH)
        .select(jobs::id);
    let due_ids: Vec<String> = match &mut *conn {
        // Several instances' workers claim at the same moment: each skips the rows another
        // is claiming instead of waiting for its commit and then finding them taken.
        DbConnection::Postgresql(pg) => due.for_update().skip_locked().load(pg)?,
        // One process, one writer: claims never overlap.
        other => due.load(other)?,
    };
    if due_ids.is_empty() {
        return Ok(Vec::new());
    }
    diesel::update(
        jobs::table
            .filter(jobs::id.eq_any(&due_ids))
            .filter(jobs::status.eq(status::PENDING))
            .filter(jobs::locked_until.is_null().or(jobs::locked_until.lt(at))),
    )
    .set((jobs::locked_by.eq(claim), jobs::locked_until.eq(until)))
    .execute(conn)?;
    let rows = jobs::table
        .filter(jobs::locked_by.eq(claim))
        .order((jobs::next_attempt_at.asc(), jobs::id.asc()))
        .select(Job::as_select())
        .load(conn)?;
    Ok(rows)
}

/// Gives back rows claimed but not run, so another worker (or this one after a restart)
/// takes them at once instead of waiting for the lease to run out.
pub fn release(conn: &mut DbConnection, claim: &str) -> Result<(), AppError> {
    diesel::update(jobs::table.filter(jobs::locked_by.eq(claim)))
        .set((
            jobs::locked_by.eq(None::<String>),
            jobs::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}

/// What one attempt came to, as stored.
pub(crate) struct Recorded<'a> {
    pub status: &'static str,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub detail: Option<&'a str>,
}

/// Stores the outcome of an attempt and the attempt itself, if the claim still holds the
/// row. Returns `false` when the lease ran out and another worker owns the row now (it
/// records the result).
pub(crate) fn record(
    conn: &mut DbConnection,
    id: &str,
    claim: &str,
    outcome: Recorded<'_>,
) -> Result<bool, AppError> {
    let at = now();
    let finished = (outcome.status != status::PENDING).then_some(at);
    let updated = diesel::update(
        jobs::table
            .filter(jobs::id.eq(id))
            .filter(jobs::locked_by.eq(claim)),
    )
    .set((
        jobs::status.eq(outcome.status),
        jobs::attempts.eq(outcome.attempts),
        jobs::next_attempt_at.eq(outcome.next_attempt_at),
        jobs::locked_by.eq(None::<String>),
        jobs::locked_until.eq(None::<NaiveDateTime>),
        jobs::last_error.eq(outcome.detail),
        jobs::finished_at.eq(finished),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Ok(false);
    }
    let attempt_outcome = match outcome.status {
        status::PENDING => "retry",
        other => other,
    };
    diesel::insert_into(job_attempts::table)
        .values((
            job_attempts::id.eq(new_id()),
            job_attempts::job_id.eq(id),
            job_attempts::attempted_at.eq(at),
            job_attempts::outcome.eq(attempt_outcome),
            job_attempts::detail.eq(outcome.detail),
        ))
        .execute(conn)?;
    Ok(true)
}
