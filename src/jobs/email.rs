//! The email job (kind `email`): a rendered email queued in the caller's transaction and
//! sent by the worker through the `Mailer`.
//!
//! The payload is the email as the capability rendered it, so the worker needs no
//! templates. The Message-ID comes from the job's id and the Date from its creation time,
//! so the only repeat possible is the one message in flight when a process is killed
//! between the SMTP server's acceptance and the recording — and that repeat carries the
//! same Message-ID, which mail clients merge.

use std::sync::Arc;

use chrono::NaiveDateTime;
use lettre::message::Mailbox;
use serde::{Deserialize, Serialize};

use super::store::{self, Job, NewJob};
use super::worker::{Handler, Outcome};
use crate::db::DbConnection;
use crate::error::AppError;
use crate::mail::{self, Attachment, Envelope, Mailer, SendFailure};

/// The job kind of emails.
pub const KIND: &str = "email";

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
    /// The row this email is about, told of the outcome through `JobHooks`.
    pub subject_ref: Option<(&'static str, String)>,
}

/// The payload of an email job, as JSON.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EmailPayload {
    /// The email's own kind (`invitation`, `password_setup`, `registration`, `reminder`).
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub attachments: Vec<Attachment>,
}

/// Queues an email inside the caller's transaction. Returns the job id, or `None` when an
/// email with the same dedupe key was queued before.
pub fn enqueue_email(conn: &mut DbConnection, email: NewEmail) -> Result<Option<String>, AppError> {
    let payload = EmailPayload {
        kind: email.kind.to_string(),
        recipient: email.recipient,
        subject: email.subject,
        body_text: email.body_text,
        body_html: email.body_html,
        attachments: email.attachments,
    };
    let payload = serde_json::to_string(&payload)
        .map_err(|e| AppError::unexpected(format!("email payload: {e}")))?;
    store::enqueue(
        conn,
        NewJob {
            kind: KIND,
            payload,
            dedupe_key: email.dedupe_key,
            subject_ref: email.subject_ref,
        },
    )
}

/// A queued email with its job's state, for tests and support.
#[derive(Debug, Clone)]
pub struct QueuedEmail {
    /// The job id, which the Message-ID is made from.
    pub id: String,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub attachments: Vec<Attachment>,
    pub subject_kind: Option<String>,
    pub subject_id: Option<String>,
    /// `pending`, `done` (sent) or `failed`.
    pub status: String,
    pub attempts: i32,
    pub locked_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
}

impl QueuedEmail {
    fn from_job(job: Job) -> Result<QueuedEmail, AppError> {
        let payload = read_payload(&job.payload)
            .map_err(|e| AppError::unexpected(format!("email job {}: {e}", job.id)))?;
        Ok(QueuedEmail {
            id: job.id,
            kind: payload.kind,
            recipient: payload.recipient,
            subject: payload.subject,
            body_text: payload.body_text,
            body_html: payload.body_html,
            attachments: payload.attachments,
            subject_kind: job.subject_kind,
            subject_id: job.subject_id,
            status: job.status,
            attempts: job.attempts,
            locked_until: job.locked_until,
            last_error: job.last_error,
            created_at: job.created_at,
            finished_at: job.finished_at,
        })
    }
}

fn read_payload(payload: &str) -> Result<EmailPayload, serde_json::Error> {
    serde_json::from_str(payload)
}

/// The emails of one kind (`invitation`, `reminder`, …), newest first. Reads every email
/// job and keeps those of the kind: for tests and support, not for hot paths.
pub fn list_kind(conn: &mut DbConnection, email_kind: &str) -> Result<Vec<QueuedEmail>, AppError> {
    let mut emails = Vec::new();
    for job in store::list_kind(conn, KIND)? {
        let email = QueuedEmail::from_job(job)?;
        if email.kind == email_kind {
            emails.push(email);
        }
    }
    Ok(emails)
}

/// The handler of email jobs: builds the message (Message-ID from the job id, Date from its
/// creation time) and sends it. A permanent refusal or an unusable payload fails the job; a
/// transient failure retries it.
pub fn handler(mailer: Arc<Mailer>, from: Mailbox, domain: String) -> Handler {
    let domain: Arc<str> = domain.into();
    Handler::new(mail::SMTP_TIMEOUT, move |job: Job| {
        let mailer = mailer.clone();
        let from = from.clone();
        let domain = domain.clone();
        async move { send(&mailer, &from, &domain, job).await }
    })
}

async fn send(mailer: &Mailer, from: &Mailbox, domain: &str, job: Job) -> Outcome {
    let payload = match read_payload(&job.payload) {
        Ok(payload) => payload,
        Err(e) => return Outcome::Failed(format!("stored email unreadable: {e}")),
    };
    let envelope = Envelope {
        id: job.id.clone(),
        recipient: payload.recipient,
        subject: payload.subject,
        body_text: payload.body_text,
        body_html: payload.body_html,
        attachments: payload.attachments,
        created_at: job.created_at,
    };
    let result = match mail::build_message(from, domain, &envelope) {
        Ok(message) => mailer.send(&job.id, message).await,
        Err(failure) => Err(failure),
    };
    match result {
        Ok(()) => Outcome::Done,
        Err(SendFailure {
            permanent: true,
            reason,
        }) => Outcome::Failed(reason),
        Err(SendFailure { reason, .. }) => Outcome::Retry(reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_keeps_the_email_and_reads_back() {
        let payload = EmailPayload {
            kind: "invitation".into(),
            recipient: "An <an@example.vn>".into(),
            subject: "Thư mời".into(),
            body_text: "text".into(),
            body_html: "<p>html</p>".into(),
            attachments: vec![Attachment::new("a.ics", "text/calendar", b"BEGIN")],
        };
        let json = serde_json::to_string(&payload).unwrap();
        assert_eq!(read_payload(&json).unwrap(), payload);
    }
}
