//! The transactional outbox.
//!
//! A change that should send an email writes the rendered email as a row in the same
//! transaction (`enqueue`), so either both are stored or neither is. A worker claims due
//! rows with a lease, sends them, and records each attempt. The Message-ID comes from the
//! row, so the only repeat possible is the one message in flight when a process is killed
//! between the SMTP server's acceptance and the recording — and that repeat carries the
//! same Message-ID, which mail clients merge. A graceful stop finishes the message in hand.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use lettre::message::Mailbox;
use tokio::sync::{broadcast, watch};

use crate::db::schema::{outbox, outbox_attempts};
use crate::db::{Db, DbConnection, new_id, now};
use crate::error::AppError;
use crate::events::{self, Event};
use crate::mail::{self, Attachment, Envelope, Mailer, SendFailure};

/// How many rows one claim takes.
const BATCH: i64 = 25;
/// Transient failures are retried this many times (with backoff capped at `MAX_DELAY`,
/// about two days), then the email is marked failed.
const MAX_ATTEMPTS: i32 = 200;
const MAX_DELAY: Duration = Duration::from_secs(15 * 60);

/// An email to send, rendered by the capability that causes it.
#[derive(Debug, Clone)]
pub struct NewEmail {
    /// What kind of email this is (`invitation`, `password_setup`, …), for logs and lists.
    pub kind: &'static str,
    /// `Name <address>` or a bare address.
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub attachments: Vec<Attachment>,
    /// When set, a second email with the same key is not queued (e.g. one invitation per invitee).
    pub dedupe_key: Option<String>,
    /// The row this email is about, told of the outcome through `OutboxHooks`.
    pub subject_ref: Option<(&'static str, String)>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = outbox)]
struct NewOutboxRow {
    id: String,
    kind: String,
    recipient: String,
    subject: String,
    body_text: String,
    body_html: String,
    attachments: String,
    dedupe_key: Option<String>,
    subject_kind: Option<String>,
    subject_id: Option<String>,
    status: String,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: String,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub attachments: String,
    pub subject_kind: Option<String>,
    pub subject_id: Option<String>,
    pub status: String,
    pub attempts: i32,
    pub locked_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

/// Queues an email inside the caller's transaction. Returns the row id, or `None` when an
/// email with the same dedupe key was queued before.
pub fn enqueue(conn: &mut DbConnection, email: NewEmail) -> Result<Option<String>, AppError> {
    if let Some(key) = &email.dedupe_key {
        let existing: i64 = outbox::table
            .filter(outbox::dedupe_key.eq(key))
            .count()
            .get_result(conn)?;
        if existing > 0 {
            return Ok(None);
        }
    }
    let attachments = serde_json::to_string(&email.attachments)
        .map_err(|e| AppError::unexpected(format!("attachments: {e}")))?;
    let at = now();
    let row = NewOutboxRow {
        id: new_id(),
        kind: email.kind.to_string(),
        recipient: email.recipient,
        subject: email.subject,
        body_text: email.body_text,
        body_html: email.body_html,
        attachments,
        dedupe_key: email.dedupe_key,
        subject_kind: email.subject_ref.as_ref().map(|(kind, _)| kind.to_string()),
        subject_id: email.subject_ref.map(|(_, id)| id),
        status: "pending".into(),
        attempts: 0,
        next_attempt_at: at,
        created_at: at,
    };
    diesel::insert_into(outbox::table)
        .values(&row)
        .execute(conn)?;
    events::emit(Event::JobsQueued);
    Ok(Some(row.id))
}

/// Counts of the outbox by status, for progress displays and tests.
pub fn counts(conn: &mut DbConnection) -> QueryResult<HashMap<String, i64>> {
    let rows: Vec<(String, i64)> = outbox::table
        .group_by(outbox::status)
        .select((outbox::status, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<OutboxRow>> {
    outbox::table
        .find(id)
        .select(OutboxRow::as_select())
        .first(conn)
        .optional()
}

/// The newest emails of a kind, for tests and support.
pub fn list_kind(conn: &mut DbConnection, kind: &str) -> QueryResult<Vec<OutboxRow>> {
    outbox::table
        .filter(outbox::kind.eq(kind))
        .order(outbox::created_at.desc())
        .select(OutboxRow::as_select())
        .load(conn)
}

/// What a capability does when an email about one of its rows is delivered or fails for good.
pub type Hook = fn(&mut DbConnection, subject_id: &str, detail: &str) -> Result<(), AppError>;

/// Hooks by subject kind, registered by the application (the outbox knows no capability).
#[derive(Clone, Default)]
pub struct OutboxHooks {
    pub sent: HashMap<&'static str, Hook>,
    pub failed: HashMap<&'static str, Hook>,
}

/// Work the worker does once a minute besides sending (e.g. queueing reminders).
pub type Periodic = Arc<dyn Fn(&mut DbConnection) -> Result<usize, AppError> + Send + Sync>;
const PERIODIC_EVERY: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct OutboxWorker {
    db: Db,
    mailer: Arc<Mailer>,
    from: Mailbox,
    domain: String,
    lease: Duration,
    retry_base: Duration,
    hooks: OutboxHooks,
    name: String,
    periodic: Option<Periodic>,
}

enum Outcome {
    Sent,
    Retry(String),
    Failed(String),
}

impl OutboxWorker {
    pub fn new(
        db: Db,
        mailer: Arc<Mailer>,
        from: Mailbox,
        domain: String,
        lease: Duration,
        retry_base: Duration,
        hooks: OutboxHooks,
    ) -> OutboxWorker {
        OutboxWorker {
            db,
            mailer,
            from,
            domain,
            lease,
            retry_base,
            hooks,
            name: format!("worker-{}", &new_id()[24..]),
            periodic: None,
        }
    }

    /// Adds work to run once a minute inside a transaction (and once at start).
    pub fn with_periodic(mut self, periodic: Periodic) -> OutboxWorker {
        self.periodic = Some(periodic);
        self
    }

    async fn run_periodic(&self) {
        if let Some(periodic) = self.periodic.clone() {
            match self.db.write(move |conn| periodic(conn)).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(queued = n, "periodic work queued emails"),
                Err(e) => tracing::error!(error = %e, "periodic work failed"),
            }
        }
    }

    /// Sends due emails until told to stop. A stop request is honoured between messages.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        // Woken by committed `JobsQueued` events; the poll below covers other instances.
        let mut wake = self.db.bus().subscribe();
        tracing::info!(worker = %self.name, "outbox worker started");
        let mut last_periodic: Option<std::time::Instant> = None;
        loop {
            if *stop.borrow() {
                break;
            }
            if last_periodic.is_none_or(|t| t.elapsed() >= PERIODIC_EVERY) {
                self.run_periodic().await;
                last_periodic = Some(std::time::Instant::now());
            }
            let handled = match self.process_batch(Some(&stop)).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::error!(error = %e, "outbox batch failed");
                    0
                }
            };
            if handled == 0 {
                tokio::select! {
                    received = wake.recv() => {
                        if matches!(received, Err(broadcast::error::RecvError::Closed)) {
                            break;
                        }
                    }
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = stop.changed() => {}
                }
            }
        }
        tracing::info!(worker = %self.name, "outbox worker stopped");
    }

    /// Processes everything due now; for tests and the CLI.
    pub async fn drain(&self) -> Result<usize, AppError> {
        let mut total = 0;
        loop {
            let n = self.process_batch(None).await?;
            if n == 0 {
                return Ok(total);
            }
            total += n;
        }
    }

    /// Claims one batch and sends it. Returns how many rows were handled.
    async fn process_batch(&self, stop: Option<&watch::Receiver<bool>>) -> Result<usize, AppError> {
        let claim = format!("{}:{}", self.name, new_id());
        let lease =
            chrono::Duration::from_std(self.lease).unwrap_or_else(|_| chrono::Duration::minutes(2));
        let claimed = {
            let claim = claim.clone();
            self.db
                .write(move |conn| claim_batch(conn, &claim, lease))
                .await?
        };
        let mut handled = 0;
        let total = claimed.len();
        let lease_left_needed =
            chrono::Duration::from_std(mail::SMTP_TIMEOUT.min(self.lease / 2)).unwrap_or_default();
        for row in claimed {
            let until = row.locked_until.unwrap_or_else(now);
            let stopping = stop.is_some_and(|s| *s.borrow());
            if stopping || now() + lease_left_needed >= until {
                // Stopping, or too little lease left to finish safely: hand the rest back.
                break;
            }
            let outcome = self.send_row(&row).await;
            self.record(&row, &claim, outcome).await?;
            handled += 1;
        }
        if handled < total {
            self.db.write(move |conn| release(conn, &claim)).await?;
        }
        Ok(handled)
    }

    async fn send_row(&self, row: &OutboxRow) -> Outcome {
        let attachments: Vec<Attachment> = match serde_json::from_str(&row.attachments) {
            Ok(list) => list,
            Err(e) => return Outcome::Failed(format!("stored attachments unreadable: {e}")),
        };
        let envelope = Envelope {
            id: row.id.clone(),
            recipient: row.recipient.clone(),
            subject: row.subject.clone(),
            body_text: row.body_text.clone(),
            body_html: row.body_html.clone(),
            attachments,
            created_at: row.created_at,
        };
        let result = match mail::build_message(&self.from, &self.domain, &envelope) {
            Ok(message) => self.mailer.send(&row.id, message).await,
            Err(failure) => Err(failure),
        };
        match result {
            Ok(()) => Outcome::Sent,
            Err(SendFailure {
                permanent: true,
                reason,
            }) => Outcome::Failed(reason),
            Err(SendFailure { reason, .. }) if row.attempts + 1 >= MAX_ATTEMPTS => {
                Outcome::Failed(format!("gave up after {MAX_ATTEMPTS} attempts: {reason}"))
            }
            Err(SendFailure { reason, .. }) => Outcome::Retry(reason),
        }
    }

    async fn record(&self, row: &OutboxRow, claim: &str, outcome: Outcome) -> Result<(), AppError> {
        let id = row.id.clone();
        let claim = claim.to_string();
        let attempts = row.attempts + 1;
        let delay = backoff(self.retry_base, attempts);
        let subject = row.subject_kind.clone().zip(row.subject_id.clone());
        let hooks = self.hooks.clone();
        match &outcome {
            Outcome::Sent => tracing::info!(outbox_id = %id, kind = %row.kind, "email sent"),
            Outcome::Retry(reason) => {
                tracing::warn!(outbox_id = %id, attempts, retry_in = ?delay, %reason, "email not sent, will retry")
            }
            Outcome::Failed(reason) => {
                tracing::warn!(outbox_id = %id, %reason, "email failed for good")
            }
        }
        self.db
            .write(move |conn| {
                let at = now();
                let (status, detail, next) = match &outcome {
                    Outcome::Sent => ("sent", None, at),
                    Outcome::Retry(reason) => (
                        "pending",
                        Some(reason.clone()),
                        at + chrono::Duration::from_std(delay).unwrap_or_default(),
                    ),
                    Outcome::Failed(reason) => ("failed", Some(reason.clone()), at),
                };
                let updated = diesel::update(
                    outbox::table
                        .filter(outbox::id.eq(&id))
                        .filter(outbox::locked_by.eq(&claim)),
                )
                .set((
                    outbox::status.eq(status),
                    outbox::attempts.eq(attempts),
                    outbox::next_attempt_at.eq(next),
                    outbox::locked_by.eq(None::<String>),
                    outbox::locked_until.eq(None::<NaiveDateTime>),
                    outbox::last_error.eq(&detail),
                    outbox::sent_at.eq(if status == "sent" { Some(at) } else { None }),
                ))
                .execute(conn)?;
                if updated == 0 {
                    // The lease ran out and another worker owns the row now; it records the result.
                    return Ok(());
                }
                let attempt_outcome = match status {
                    "pending" => "retry",
                    other => other,
                };
                diesel::insert_into(outbox_attempts::table)
                    .values((
                        outbox_attempts::id.eq(new_id()),
                        outbox_attempts::outbox_id.eq(&id),
                        outbox_attempts::attempted_at.eq(at),
                        outbox_attempts::outcome.eq(attempt_outcome),
                        outbox_attempts::detail.eq(&detail),
                    ))
                    .execute(conn)?;
                if let Some((kind, subject_id)) = subject {
                    let hook = match status {
                        "sent" => hooks.sent.get(kind.as_str()),
                        "failed" => hooks.failed.get(kind.as_str()),
                        _ => None,
                    };
                    if let Some(hook) = hook {
                        hook(conn, &subject_id, detail.as_deref().unwrap_or_default())?;
                    }
                }
                Ok(())
            })
            .await
    }
}

/// `base`, doubled for each earlier attempt, at most `MAX_DELAY`.
fn backoff(base: Duration, attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(16);
    base.saturating_mul(2u32.saturating_pow(exponent))
        .min(MAX_DELAY)
}

/// Gives back rows claimed but not sent, so another worker (or this one after a restart)
/// takes them at once instead of waiting for the lease to run out.
fn release(conn: &mut DbConnection, claim: &str) -> Result<(), AppError> {
    diesel::update(outbox::table.filter(outbox::locked_by.eq(claim)))
        .set((
            outbox::locked_by.eq(None::<String>),
            outbox::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Marks up to `BATCH` due rows as ours until the lease ends, and returns them.
///
/// The conditions are repeated in the outer UPDATE on purpose: when two workers on
/// PostgreSQL pick the same rows, the second UPDATE re-checks them after the first commits
/// and finds the rows locked, so a row is never claimed twice.
fn claim_batch(
    conn: &mut DbConnection,
    claim: &str,
    lease: chrono::Duration,
) -> Result<Vec<OutboxRow>, AppError> {
    let at = now();
    let until = at + lease;
    let due = outbox::table
        .filter(outbox::status.eq("pending"))
        .filter(outbox::next_attempt_at.le(at))
        .filter(
            outbox::locked_until
                .is_null()
                .or(outbox::locked_until.lt(at)),
        )
        .order((outbox::next_attempt_at.asc(), outbox::id.asc()))
        .limit(BATCH)
        .select(outbox::id);
    let due_ids: Vec<String> = due.load(conn)?;
    if due_ids.is_empty() {
        return Ok(Vec::new());
    }
    diesel::update(
        outbox::table
            .filter(outbox::id.eq_any(&due_ids))
            .filter(outbox::status.eq("pending"))
            .filter(
                outbox::locked_until
                    .is_null()
                    .or(outbox::locked_until.lt(at)),
            ),
    )
    .set((outbox::locked_by.eq(claim), outbox::locked_until.eq(until)))
    .execute(conn)?;
    let rows = outbox::table
        .filter(outbox::locked_by.eq(claim))
        .order((outbox::next_attempt_at.asc(), outbox::id.asc()))
        .select(OutboxRow::as_select())
        .load(conn)?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let base = Duration::from_secs(30);
        assert_eq!(backoff(base, 1), Duration::from_secs(30));
        assert_eq!(backoff(base, 2), Duration::from_secs(60));
        assert_eq!(backoff(base, 4), Duration::from_secs(240));
        assert_eq!(backoff(base, 50), MAX_DELAY);
    }
}
