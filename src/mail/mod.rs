//! Email as a swappable backend: SMTP in production, a folder of `.eml` files as the
//! zero-setup default, memory for unit tests. Also builds the MIME message from what the
//! email job stored.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lettre::message::header::ContentType;
use lettre::message::{Attachment as MimeAttachment, Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

use crate::config::Settings;

/// How long one SMTP conversation may take before it counts as a transient failure.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// A file sent with an email (calendar invitation, QR ticket).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub content_base64: String,
    /// Set for images shown inside the HTML part (`<img src="cid:…">`).
    #[serde(default)]
    pub inline_id: Option<String>,
}

impl Attachment {
    pub fn new(filename: &str, content_type: &str, bytes: &[u8]) -> Attachment {
        Attachment {
            filename: filename.to_string(),
            content_type: content_type.to_string(),
            content_base64: STANDARD.encode(bytes),
            inline_id: None,
        }
    }
}

/// One email ready to be turned into MIME: what an email job stores.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub id: String,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub attachments: Vec<Attachment>,
    pub created_at: chrono::NaiveDateTime,
}

/// Why a message was not delivered, and whether trying again could help.
#[derive(Debug, Clone)]
pub struct SendFailure {
    pub permanent: bool,
    pub reason: String,
}

impl SendFailure {
    fn permanent(reason: impl Into<String>) -> SendFailure {
        SendFailure {
            permanent: true,
            reason: reason.into(),
        }
    }
}

pub mod smtp;

pub enum Mailer {
    /// `smtp://`: one kept-open connection with TCP_NODELAY (see smtp.rs for why).
    Smtp(Box<smtp::SmtpConnection>),
    /// `smtps://`: lettre's pooled transport.
    Smtps(AsyncSmtpTransport<Tokio1Executor>),
    Folder(PathBuf),
    Memory(Arc<Mutex<Vec<Message>>>),
}

impl Mailer {
    pub fn from_settings(settings: &Settings) -> Result<Mailer, String> {
        match &settings.smtp_url {
            Some(url) => {
                if let Some(plain) =
                    smtp::SmtpUrl::from_url(url, SMTP_TIMEOUT, settings.smtp_ca_pem.clone())
                        .map_err(|e| format!("invalid setting DOITHOAI_SMTP_URL: {e}"))?
                {
                    return Ok(Mailer::Smtp(Box::new(smtp::SmtpConnection::new(plain))));
                }
                let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| format!("invalid setting DOITHOAI_SMTP_URL: {e}"))?
                    .timeout(Some(SMTP_TIMEOUT));
                if let (Some(pem), Some(host)) = (
                    &settings.smtp_ca_pem,
                    url::Url::parse(url)
                        .ok()
                        .and_then(|u| u.host_str().map(str::to_string)),
                ) {
                    let tls = smtp::tls_parameters(&host, Some(pem))
                        .map_err(|e| format!("invalid setting DOITHOAI_SMTP_CA_FILE: {e}"))?;
                    builder = builder.tls(lettre::transport::smtp::client::Tls::Wrapper(tls));
                }
                let transport = builder.build();
                Ok(Mailer::Smtps(transport))
            }
            None => {
                std::fs::create_dir_all(&settings.mail_dir).map_err(|e| {
                    format!(
                        "invalid setting DOITHOAI_MAIL_DIR: cannot create {:?}: {e}",
                        settings.mail_dir
                    )
                })?;
                Ok(Mailer::Folder(settings.mail_dir.clone()))
            }
        }
    }

    /// One line for the start-up log, loud about where mail goes.
    pub fn describe(&self) -> String {
        match self {
            Mailer::Smtp(_) | Mailer::Smtps(_) => {
                "emails are sent over SMTP (DOITHOAI_SMTP_URL)".into()
            }
            Mailer::Folder(dir) => format!(
                "emails are NOT sent: they are written as .eml files to {} (set DOITHOAI_SMTP_URL to send them)",
                dir.display()
            ),
            Mailer::Memory(_) => "emails are kept in memory".into(),
        }
    }

    pub async fn send(&self, envelope_id: &str, message: Message) -> Result<(), SendFailure> {
        match self {
            Mailer::Smtp(connection) => {
                connection
                    .send(message.envelope(), &message.formatted())
                    .await
            }
            Mailer::Smtps(transport) => {
                transport
                    .send(message)
                    .await
                    .map(|_| ())
                    .map_err(|e| SendFailure {
                        permanent: e.is_permanent(),
                        reason: e.to_string(),
                    })
            }
            Mailer::Folder(dir) => {
                // Named after the job row, so a repeated attempt rewrites the same file.
                let path = dir.join(format!("{envelope_id}.eml"));
                let bytes = message.formatted();
                tokio::task::spawn_blocking(move || std::fs::write(&path, bytes))
                    .await
                    .map_err(|e| SendFailure {
                        permanent: false,
                        reason: e.to_string(),
                    })?
                    .map_err(|e| SendFailure {
                        permanent: false,
                        reason: format!("writing the .eml file: {e}"),
                    })
            }
            Mailer::Memory(store) => {
                if let Ok(mut messages) = store.lock() {
                    messages.push(message);
                }
                Ok(())
            }
        }
    }
}

/// Builds the MIME message. The Message-ID and Date come from the job row, so a
/// repeated attempt produces the same message and mail clients merge the copies.
pub fn build_message(
    from: &Mailbox,
    domain: &str,
    envelope: &Envelope,
) -> Result<Message, SendFailure> {
    let to: Mailbox = envelope
        .recipient
        .parse()
        .map_err(|e| SendFailure::permanent(format!("invalid recipient address: {e}")))?;
    let date = SystemTime::UNIX_EPOCH
        + Duration::from_secs(
            u64::try_from(envelope.created_at.and_utc().timestamp()).unwrap_or_default(),
        );
    let builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(envelope.subject.clone())
        .message_id(Some(message_id(&envelope.id, domain)))
        .date(date);
    let alternative =
        MultiPart::alternative_plain_html(envelope.body_text.clone(), envelope.body_html.clone());
    // Images shown inside the HTML go with it in multipart/related (mail programs then show
    // them in place, not as attachments); other files go in multipart/mixed around it.
    let (inline, files): (Vec<&Attachment>, Vec<&Attachment>) = envelope
        .attachments
        .iter()
        .partition(|a| a.inline_id.is_some());
    let mut content = alternative;
    if !inline.is_empty() {
        let mut related = MultiPart::related().multipart(content);
        for attachment in inline {
            related = related.singlepart(mime_attachment(attachment)?);
        }
        content = related;
    }
    let body = if files.is_empty() {
        content
    } else {
        let mut mixed = MultiPart::mixed().multipart(content);
        for attachment in files {
            mixed = mixed.singlepart(mime_attachment(attachment)?);
        }
        mixed
    };
    builder
        .multipart(body)
        .map_err(|e| SendFailure::permanent(format!("cannot build the message: {e}")))
}

fn mime_attachment(attachment: &Attachment) -> Result<lettre::message::SinglePart, SendFailure> {
    let bytes = STANDARD
        .decode(&attachment.content_base64)
        .map_err(|e| SendFailure::permanent(format!("attachment {}: {e}", attachment.filename)))?;
    let content_type = ContentType::parse(&attachment.content_type)
        .map_err(|e| SendFailure::permanent(format!("attachment {}: {e}", attachment.filename)))?;
    let part = match &attachment.inline_id {
        Some(cid) => MimeAttachment::new_inline_with_name(cid.clone(), attachment.filename.clone()),
        None => MimeAttachment::new(attachment.filename.clone()),
    };
    Ok(part.body(bytes, content_type))
}

/// `<job-id@domain>`: stable for the row, unique across rows.
pub fn message_id(job_id: &str, domain: &str) -> String {
    format!("<{job_id}@{domain}>")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope() -> Envelope {
        Envelope {
            id: "0193-abc".into(),
            recipient: "Nguyễn Văn An <an@example.vn>".into(),
            subject: "Giấy mời hội nghị đối thoại".into(),
            body_text: "Kính gửi Ông/Bà".into(),
            body_html: "<p>Kính gửi Ông/Bà</p>".into(),
            attachments: vec![Attachment::new(
                "invite.ics",
                "text/calendar; charset=utf-8; method=REQUEST",
                b"BEGIN:VCALENDAR",
            )],
            created_at: chrono::NaiveDate::from_ymd_opt(2026, 11, 26)
                .and_then(|d| d.and_hms_opt(1, 2, 3))
                .unwrap(),
        }
    }

    #[test]
    fn the_same_row_builds_the_same_message_id_and_date() {
        let from: Mailbox = "doithoai <no-reply@localhost>".parse().unwrap();
        let a = String::from_utf8(
            build_message(&from, "example.vn", &envelope())
                .unwrap()
                .formatted(),
        )
        .unwrap();
        assert!(a.contains("Message-ID: <0193-abc@example.vn>"), "{a}");
        assert!(a.contains("Date: Thu, 26 Nov 2026 01:02:03"), "{a}");
        assert!(a.contains("text/calendar"));
        assert!(a.contains("multipart/alternative"));
    }

    #[test]
    fn a_malformed_recipient_is_a_permanent_failure() {
        let from: Mailbox = "doithoai <no-reply@localhost>".parse().unwrap();
        let mut bad = envelope();
        bad.recipient = "not an address".into();
        let failure = build_message(&from, "x", &bad).unwrap_err();
        assert!(failure.permanent);
    }
}
