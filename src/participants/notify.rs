//! Emails to participants: the facts every one of them carries (the dialogue, the personal
//! link and code), rendered in the participant's language and queued in the caller's
//! transaction.

use minijinja::{Value, context};

use super::model::Participant;
use crate::config::Settings;
use crate::db::DbConnection;
use crate::dialogues::model::Dialogue;
use crate::dialogues::view::{moment, when};
use crate::error::AppError;
use crate::html::Templates;
use crate::jobs::{NewEmail, enqueue_email};
use crate::mail::Attachment;
use crate::state::AppState;

/// What rendering and queueing a participant's email needs.
#[derive(Clone, Copy)]
pub struct Mailing<'a> {
    pub templates: &'a Templates,
    pub settings: &'a Settings,
}

impl<'a> Mailing<'a> {
    /// Borrowed from the application state.
    pub fn of(state: &'a AppState) -> Mailing<'a> {
        Mailing {
            templates: &state.templates,
            settings: &state.settings,
        }
    }
}

/// The context every participant email shares. `link` is the personal page's address.
pub fn context_for(
    mailing: Mailing<'_>,
    dialogue: &Dialogue,
    participant: &Participant,
    link: &str,
) -> Value {
    let lang = participant.lang();
    context! {
        lang => lang.code(),
        name => &participant.full_name,
        title => &dialogue.title,
        host_unit => &dialogue.host_unit,
        venue => &dialogue.venue,
        starts => moment(dialogue, dialogue.starts_at, lang),
        ends => moment(dialogue, dialogue.ends_at, lang),
        when => when(dialogue, lang),
        deadline => dialogue.question_deadline.map(|t| moment(dialogue, t, lang)),
        link => link,
        code => &participant.code,
        code_page => mailing.settings.link("/p"),
        contact_phone => &mailing.settings.contact_phone,
    }
}

/// The personal page reached with the short code (for emails written after the link
/// token was handed out, which is stored only as a hash).
pub fn code_link(settings: &Settings, participant: &Participant) -> String {
    settings.link(&format!("/p/{}", participant.code))
}

pub struct Notice<'a> {
    pub kind: &'static str,
    pub template: &'a str,
    pub context: Value,
    pub attachments: Vec<Attachment>,
    pub dedupe_key: Option<String>,
    pub subject_ref: Option<(&'static str, String)>,
}

/// Renders and queues one email to the participant; does nothing when they have no email.
pub fn queue(
    conn: &mut DbConnection,
    mailing: Mailing<'_>,
    participant: &Participant,
    notice: Notice<'_>,
) -> Result<bool, AppError> {
    match render(mailing, participant, notice)? {
        Some(email) => Ok(enqueue_email(conn, email)?.is_some()),
        None => Ok(false),
    }
}

/// Renders one email to the participant, to queue later (rendering needs no database, so
/// it can happen before a write instead of inside it); `None` when they have no email.
pub fn render(
    mailing: Mailing<'_>,
    participant: &Participant,
    notice: Notice<'_>,
) -> Result<Option<NewEmail>, AppError> {
    let Some(recipient) = participant.recipient() else {
        return Ok(None);
    };
    let email = mailing.templates.email(notice.template, notice.context)?;
    Ok(Some(NewEmail {
        kind: notice.kind,
        recipient,
        subject: email.subject,
        body_text: email.text,
        body_html: email.html,
        attachments: notice.attachments,
        dedupe_key: notice.dedupe_key,
        subject_ref: notice.subject_ref,
    }))
}
