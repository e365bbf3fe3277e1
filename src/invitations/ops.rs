//! Invitation operations shared by the API, the pages, the worker and the demo.

use std::collections::HashMap;

use minijinja::context;
use serde::Serialize;
use utoipa::ToSchema;

use super::csv_import;
use super::ics::{IcsFacts, invitation_event};
use super::model::{Invitation, InvitationStatus, NewInvitation};
use super::store;
use crate::audit::{self, Actor};
use crate::db::{DbConnection, InvitationId, new_id, now};
use crate::dialogues;
use crate::dialogues::model::{Dialogue, DialogueStatus};
use crate::error::{AppError, FieldErrors};
use crate::i18n::Lang;
use crate::mail::Attachment;
use crate::participants;
use crate::participants::model::{Participant, Person, Source};
use crate::participants::notify::{self, Mailing, Notice};
use crate::state::AppState;

/// Someone in a batch who is already in the dialogue (or twice in the batch): reported, not added.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Duplicate {
    /// The CSV line, or the 0-based index in a JSON list.
    pub line: usize,
    pub full_name: String,
    /// `already_invited` or `repeated_in_batch`
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AddResult {
    pub created: usize,
    pub duplicates: Vec<Duplicate>,
}

/// Invitees may be added until the dialogue is concluded or cancelled.
fn ensure_editable(dialogue: &Dialogue) -> Result<(), AppError> {
    if dialogue.status().editable() {
        Ok(())
    } else {
        Err(AppError::Conflict("dialogue_closed"))
    }
}

/// Adds valid people as invitees, skipping (and reporting) anyone already there.
pub fn add_people(
    conn: &mut DbConnection,
    dialogue: &Dialogue,
    people: Vec<(usize, Person)>,
    actor: &Actor,
) -> Result<AddResult, AppError> {
    ensure_editable(dialogue)?;
    // Lock first, then check, then insert: concurrent adds of one person make one row.
    dialogues::store::lock(conn, &dialogue.id)?;
    let existing = participants::store::identity_keys(conn, &dialogue.id)?;
    let mut in_batch: HashMap<String, usize> = HashMap::new();
    let mut duplicates = Vec::new();
    let mut new_people = Vec::new();
    let mut new_invitations = Vec::new();
    let at = now();
    for (line, person) in people {
        let keys = person.identity_keys();
        let reason = if keys.iter().any(|k| existing.contains(k)) {
            Some("already_invited")
        } else if keys.iter().any(|k| in_batch.contains_key(k)) {
            Some("repeated_in_batch")
        } else {
            None
        };
        if let Some(reason) = reason {
            duplicates.push(Duplicate {
                line,
                full_name: person.full_name.clone(),
                reason: reason.to_string(),
            });
            continue;
        }
        for key in keys {
            in_batch.insert(key, line);
        }
        let (row, _token) =
            participants::store::prepare(&dialogue.id, &person, Source::Invitation, None);
        new_invitations.push(NewInvitation {
            id: InvitationId::new(),
            dialogue_id: dialogue.id.clone(),
            participant_id: row.id.clone(),
            status: InvitationStatus::Pending,
            created_at: at,
            updated_at: at,
        });
        new_people.push(row);
    }
    participants::store::insert_many(conn, &new_people)?;
    store::insert_many(conn, &new_invitations)?;
    audit::entry(actor, "invitations.add")
        .about("dialogue", &dialogue.id)
        .in_dialogue(&dialogue.id)
        .detail(format!(
            "{} added, {} duplicates",
            new_people.len(),
            duplicates.len()
        ))
        .record(conn)?;
    Ok(AddResult {
        created: new_people.len(),
        duplicates,
    })
}

/// The invitation email for one invitee, with a fresh link token (the stored one is only
/// a hash, and this invitee has not been given a link yet — or is being given a new one).
fn queue_invitation(
    conn: &mut DbConnection,
    mailing: Mailing<'_>,
    dialogue: &Dialogue,
    invitation: &Invitation,
    person: &Participant,
    dedupe_key: String,
) -> Result<bool, AppError> {
    if person.email.is_none() {
        return Ok(false);
    }
    let token = participants::store::rotate_token(conn, &person.id)?;
    let link = mailing.settings.link(&format!("/p/{token}"));
    let lang = person.lang();
    let base = notify::context_for(mailing, dialogue, person, &link);
    let attachment = calendar_attachment(mailing, dialogue, &invitation.id, &link, lang);
    let queued = notify::queue(
        conn,
        mailing,
        person,
        Notice {
            kind: "invitation",
            template: "invitation",
            context: base,
            attachments: vec![attachment],
            dedupe_key: Some(dedupe_key),
            subject_ref: Some(("invitation", invitation.id.to_string())),
        },
    )?;
    // An invitee who already answered keeps the answer as the status; the email still goes.
    let answered = matches!(
        invitation.status(),
        InvitationStatus::Accepted | InvitationStatus::Declined
    );
    if queued && !answered {
        store::set_status(conn, &invitation.id, InvitationStatus::Queued)?;
    }
    Ok(queued)
}

/// The calendar event of one person as an attachment. `uid_of` is the id its UID is made
/// from (the invitation's, or the registration's for someone who registered themself), so
/// that every later update names the same event.
pub fn calendar_attachment(
    mailing: Mailing<'_>,
    dialogue: &Dialogue,
    uid_of: &str,
    link: &str,
    lang: Lang,
) -> Attachment {
    let domain = mailing.settings.base_url.host_str().unwrap_or("localhost");
    let ics = invitation_event(
        dialogue,
        &IcsFacts {
            uid: &format!("{uid_of}@{domain}"),
            organizer_name: &dialogue.host_unit,
            organizer_email: mailing.settings.mail_from.email.as_ref(),
            link,
            reminder_text: &lang.text("email.reminder_alarm"),
        },
    );
    Attachment::new(
        "hoi-nghi-doi-thoai.ics",
        "text/calendar; charset=utf-8; method=PUBLISH",
        ics.as_bytes(),
    )
}

/// Queues one email per invitee with an address who was never sent one. Repeating it
/// queues nothing twice.
pub fn send_all(
    conn: &mut DbConnection,
    mailing: Mailing<'_>,
    dialogue: &Dialogue,
    actor: &Actor,
) -> Result<usize, AppError> {
    if !matches!(
        dialogue.status(),
        DialogueStatus::Open | DialogueStatus::InProgress
    ) {
        return Err(AppError::Conflict("dialogue_not_open"));
    }
    let mut queued = 0;
    for (invitation, person) in store::unsent_with_email(conn, &dialogue.id)? {
        if queue_invitation(
            conn,
            mailing,
            dialogue,
            &invitation,
            &person,
            format!("invitation:{}", invitation.id),
        )? {
            queued += 1;
        }
    }
    audit::entry(actor, "invitations.send")
        .about("dialogue", &dialogue.id)
        .in_dialogue(&dialogue.id)
        .detail(format!("{queued} queued"))
        .record(conn)?;
    Ok(queued)
}

/// Sends one invitation again (after a failure, or on request). The new email carries a new
/// link; the short code stays the same.
pub fn resend(
    conn: &mut DbConnection,
    mailing: Mailing<'_>,
    invitation_id: &str,
    actor: &Actor,
) -> Result<Invitation, AppError> {
    let (invitation, person) = store::find(conn, invitation_id)?.ok_or(AppError::NotFound)?;
    let dialogue =
        dialogues::store::find(conn, &invitation.dialogue_id)?.ok_or(AppError::NotFound)?;
    if !matches!(
        dialogue.status(),
        DialogueStatus::Open | DialogueStatus::InProgress
    ) {
        return Err(AppError::Conflict("dialogue_not_open"));
    }
    if person.email.is_none() {
        return Err(AppError::Conflict("no_email"));
    }
    let key = format!("invitation:{}:again:{}", invitation.id, new_id());
    queue_invitation(conn, mailing, &dialogue, &invitation, &person, key)?;
    audit::entry(actor, "invitation.resend")
        .about("invitation", &invitation.id)
        .in_dialogue(&dialogue.id)
        .record(conn)?;
    Ok(store::find(conn, invitation_id)?
        .ok_or(AppError::NotFound)?
        .0)
}

/// A new link and code for the invitee; the old ones stop working at once.
pub fn reissue(
    conn: &mut DbConnection,
    invitation_id: &str,
    actor: &Actor,
) -> Result<(Participant, String), AppError> {
    let (invitation, person) = store::find(conn, invitation_id)?.ok_or(AppError::NotFound)?;
    let (token, _code) = participants::store::reissue(conn, &person.id)?;
    audit::entry(actor, "participant.reissue")
        .about("participant", &person.id)
        .in_dialogue(&invitation.dialogue_id)
        .record(conn)?;
    let person = participants::store::find(conn, &person.id)?.ok_or(AppError::NotFound)?;
    Ok((person, token))
}

/// Queues reminders to accepted invitees of dialogues starting within `lead`. Each is
/// reminded once.
pub fn queue_reminders(
    conn: &mut DbConnection,
    mailing: Mailing<'_>,
    lead: chrono::Duration,
) -> Result<usize, AppError> {
    let soon = dialogues::store::starting_between(conn, now(), now() + lead)?;
    if soon.is_empty() {
        return Ok(0);
    }
    let ids: Vec<String> = soon.iter().map(|d| d.id.to_string()).collect();
    let mut queued = 0;
    for (invitation, person) in store::due_for_reminder(conn, &ids)? {
        let Some(dialogue) = soon.iter().find(|d| d.id == invitation.dialogue_id) else {
            continue;
        };
        let link = notify::code_link(mailing.settings, &person);
        let ctx = notify::context_for(mailing, dialogue, &person, &link);
        notify::queue(
            conn,
            mailing,
            &person,
            Notice {
                kind: "reminder",
                template: "reminder",
                context: context! { ..ctx },
                attachments: vec![ticket_attachment(&person)?],
                dedupe_key: Some(format!("reminder:{}", invitation.id)),
                subject_ref: None,
            },
        )?;
        store::mark_reminded(conn, &invitation.id)?;
        queued += 1;
    }
    Ok(queued)
}

/// The ticket's QR code, shown inside the email (`cid:ticket`).
fn ticket_attachment(person: &Participant) -> Result<Attachment, AppError> {
    let mut qr = Attachment::new(
        "ve-moi.png",
        "image/png",
        &participants::ticket::qr_png(&person.code)?,
    );
    qr.inline_id = Some("ticket".into());
    Ok(qr)
}

/// Job hook: the invitation email was delivered.
pub fn on_email_sent(
    conn: &mut DbConnection,
    invitation_id: &str,
    _detail: &str,
) -> Result<(), AppError> {
    Ok(store::mark_sent(conn, invitation_id)?)
}

/// Job hook: the invitation email cannot be delivered.
pub fn on_email_failed(
    conn: &mut DbConnection,
    invitation_id: &str,
    reason: &str,
) -> Result<(), AppError> {
    Ok(store::mark_failed(conn, invitation_id, reason)?)
}

/// Parses, checks every row, then stores all of them or none. Shared with the pages.
pub async fn import_csv(
    state: &AppState,
    dialogue_id: &str,
    bytes: &[u8],
    lang: Lang,
    user_id: String,
) -> Result<AddResult, AppError> {
    let rows = csv_import::parse(bytes, lang)?;
    let mut problems = Vec::new();
    let mut people = Vec::with_capacity(rows.len());
    for (line, input) in rows {
        let mut errors = FieldErrors::new();
        match input.parse("", &mut errors) {
            Some(person) if errors.is_empty() => people.push((line, person)),
            _ => {
                let envelope = AppError::Validation(errors.clone())
                    .envelope(lang, None)
                    .error;
                for (field, e) in errors.0 {
                    let reason = envelope.fields.get(&field).cloned().unwrap_or_default();
                    let value = input.value_of(&field);
                    problems.push(csv_import::value_error(
                        line, &field, e.code, reason, value, lang,
                    ));
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(AppError::InvalidRows {
            code: "invalid_csv",
            rows: problems,
        });
    }
    let dialogue_id = dialogue_id.to_string();
    let actor = Actor::User(user_id);
    state
        .db
        .write(move |conn| {
            let dialogue = dialogues::store::find(conn, &dialogue_id)?.ok_or(AppError::NotFound)?;
            add_people(conn, &dialogue, people, &actor)
        })
        .await
}

pub async fn send_invitations(
    state: &AppState,
    dialogue_id: &str,
    user_id: String,
) -> Result<usize, AppError> {
    let worker_state = state.clone();
    let dialogue_id = dialogue_id.to_string();
    let queued = state
        .db
        .write(move |conn| {
            let dialogue = dialogues::store::find(conn, &dialogue_id)?.ok_or(AppError::NotFound)?;
            send_all(
                conn,
                Mailing::of(&worker_state),
                &dialogue,
                &Actor::User(user_id),
            )
        })
        .await?;
    Ok(queued)
}

/// The printed letters (`letters::letters`), for an organizer; the printing is written to
/// the audit log. The PDF is drawn on a blocking thread, after the database is released.
pub async fn letters_pdf(
    state: &AppState,
    dialogue_id: &str,
    only: super::letters::Only,
    user_id: &str,
) -> Result<Vec<u8>, AppError> {
    let (id, user_id) = (dialogue_id.to_string(), user_id.to_string());
    let (full, invitees) = state
        .db
        .write(move |conn| {
            let full = dialogues::store::find_full(conn, &id)?.ok_or(AppError::NotFound)?;
            audit::view(conn, &id, &user_id, "invitations.letters")?;
            let (invitees, _) = store::list(conn, &id, None, 0, i64::from(i32::MAX))?;
            Ok((full, invitees))
        })
        .await?;
    let settings = state.settings.clone();
    actix_web::web::block(move || super::letters::letters(&settings, &full, invitees, only))
        .await
        .map_err(|e| AppError::unexpected(format!("drawing the letters: {e}")))
}

/// Corrects an invitee's name, email, phone, group or address (their code, link, language
/// and answer stay). With the dialogue locked, another person with the same email, or the
/// same name and phone, makes it `already_exists`, as when adding.
pub fn edit_invitee(
    conn: &mut DbConnection,
    invitation_id: &str,
    person: Person,
    actor: &Actor,
) -> Result<(Invitation, Participant), AppError> {
    let (invitation, _) = store::find(conn, invitation_id)?.ok_or(AppError::NotFound)?;
    let dialogue =
        dialogues::store::find(conn, &invitation.dialogue_id)?.ok_or(AppError::NotFound)?;
    ensure_editable(&dialogue)?;
    dialogues::store::lock(conn, &dialogue.id)?;
    let (invitation, before) = store::find(conn, invitation_id)?.ok_or(AppError::NotFound)?;
    let other = participants::store::find_same_person(conn, &dialogue.id, &person)?;
    if other.is_some_and(|p| p.id != before.id) {
        return Err(AppError::Conflict("already_exists"));
    }
    participants::store::update_details(conn, &before.id, &person)?;
    // Which fields changed, not their values: the log is not a second copy of the list.
    let changed: Vec<&str> = [
        ("full_name", before.full_name != person.full_name),
        ("email", before.email != person.email),
        ("phone", before.phone != person.phone),
        ("category", before.category != person.category),
        ("address", before.address != person.address),
    ]
    .into_iter()
    .filter_map(|(field, differs)| differs.then_some(field))
    .collect();
    audit::entry(actor, "invitation.edit")
        .about("invitation", &invitation.id)
        .in_dialogue(&dialogue.id)
        .detail(changed.join(","))
        .record(conn)?;
    store::find(conn, invitation_id)?.ok_or(AppError::NotFound)
}

/// Removes an invitee who has not taken part: someone who accepted, registered, was checked
/// in or asked a question stays on the list (`invitee_registered`: their record belongs to
/// the dialogue's history; decline or cancel instead), and an invitation whose email is
/// being sent cannot be taken back (`invitation_queued`). Returns the person removed.
pub fn remove_invitee(
    conn: &mut DbConnection,
    invitation_id: &str,
    actor: &Actor,
) -> Result<Participant, AppError> {
    let (invitation, _) = store::find(conn, invitation_id)?.ok_or(AppError::NotFound)?;
    let dialogue =
        dialogues::store::find(conn, &invitation.dialogue_id)?.ok_or(AppError::NotFound)?;
    ensure_editable(&dialogue)?;
    dialogues::store::lock(conn, &dialogue.id)?;
    let (invitation, person) = store::find(conn, invitation_id)?.ok_or(AppError::NotFound)?;
    removable(&invitation, store::has_taken_part(conn, &person.id)?)?;
    store::remove(conn, &invitation.id)?;
    participants::store::delete(conn, &person.id)?;
    audit::entry(actor, "invitation.remove")
        .about("invitation", &invitation.id)
        .in_dialogue(&dialogue.id)
        .detail(format!("participant {}", person.id))
        .record(conn)?;
    Ok(person)
}

/// Whether an invitation may be removed (see `remove_invitee`).
pub fn removable(invitation: &Invitation, taken_part: bool) -> Result<(), AppError> {
    if taken_part || invitation.status() == InvitationStatus::Accepted {
        return Err(AppError::Conflict("invitee_registered"));
    }
    if invitation.status() == InvitationStatus::Queued {
        return Err(AppError::Conflict("invitation_queued"));
    }
    Ok(())
}

/// Every invitee with their registration's status, for an organizer's list, print view or
/// export; each reading is written to the audit log as `action` (a view or an export).
pub async fn list_for_staff(
    state: &AppState,
    dialogue_id: &str,
    user_id: &str,
    action: &'static str,
) -> Result<
    (
        dialogues::model::FullDialogue,
        Vec<(Invitation, Participant, Option<String>)>,
    ),
    AppError,
> {
    let (id, user_id) = (dialogue_id.to_string(), user_id.to_string());
    state
        .db
        .write(move |conn| {
            let full = dialogues::store::find_full(conn, &id)?.ok_or(AppError::NotFound)?;
            audit::view(conn, &id, &user_id, action)?;
            Ok((full, store::list_with_registration(conn, &id)?))
        })
        .await
}
