//! The operations on dialogues that the API, the pages and the CLI share.

use super::input::{DialogueInput, ValidDialogue};
use super::model::{Dialogue, DialogueStatus, FullDialogue};
use super::store;
use crate::audit::{self, Actor};
use crate::db::DbConnection;
use crate::error::AppError;
use crate::events::{self, Event};

pub fn create(
    conn: &mut DbConnection,
    input: &DialogueInput,
    actor: &Actor,
    user_id: Option<&str>,
) -> Result<FullDialogue, AppError> {
    let valid = input.validate()?;
    let id = store::insert(conn, &valid, user_id)?;
    audit::entry(actor, "dialogue.create")
        .about("dialogue", &id)
        .in_dialogue(&id)
        .record(conn)?;
    store::find_full(conn, &id)?.ok_or(AppError::NotFound)
}

/// Changes the fields present in `patch`; the result must pass every rule as a whole.
///
/// A change of time or venue raises the calendar event's SEQUENCE (always, told or not:
/// any `.ics` sent later must replace every earlier one). With `notify`, it also emits
/// `DialogueRescheduled`, on which the people who hold a place are emailed the update.
/// Returns the dialogue and whether the change moved it.
pub fn edit(
    conn: &mut DbConnection,
    id: &str,
    patch: DialogueInput,
    notify: bool,
    actor: &Actor,
) -> Result<(FullDialogue, bool), AppError> {
    // Locked first, so that two edits that both move the dialogue raise the sequence twice.
    store::lock(conn, id)?;
    let current = store::find_full(conn, id)?.ok_or(AppError::NotFound)?;
    if !current.dialogue.status().editable() {
        return Err(AppError::Conflict("dialogue_closed"));
    }
    let valid = patch.over(&current).validate()?;
    store::update(conn, id, &valid)?;
    let moved = moved(&current.dialogue, &valid);
    if moved {
        store::bump_calendar_sequence(conn, id)?;
        if notify {
            events::emit(Event::DialogueRescheduled {
                dialogue_id: id.to_string(),
            });
        }
    }
    let mut entry = audit::entry(actor, "dialogue.edit")
        .about("dialogue", id)
        .in_dialogue(id);
    if moved {
        entry = entry.detail(if notify {
            "time or venue changed; people told"
        } else {
            "time or venue changed; nobody told"
        });
    }
    entry.record(conn)?;
    changed(id);
    Ok((
        store::find_full(conn, id)?.ok_or(AppError::NotFound)?,
        moved,
    ))
}

/// Whether the change moves the dialogue in time or place: what a calendar must follow.
fn moved(before: &Dialogue, after: &ValidDialogue) -> bool {
    before.starts_at != after.fields.starts_at
        || before.ends_at != after.fields.ends_at
        || before.venue != after.fields.venue
}

pub fn change_status(
    conn: &mut DbConnection,
    id: &str,
    next: DialogueStatus,
    actor: &Actor,
) -> Result<FullDialogue, AppError> {
    let current = store::find(conn, id)?.ok_or(AppError::NotFound)?;
    if !current.status().can_become(next) {
        return Err(AppError::Conflict("invalid_transition"));
    }
    store::set_status(conn, id, next)?;
    audit::entry(actor, "dialogue.status")
        .about("dialogue", id)
        .in_dialogue(id)
        .detail(format!("{} -> {}", current.status, next.as_str()))
        .record(conn)?;
    changed(id);
    store::find_full(conn, id)?.ok_or(AppError::NotFound)
}

/// Tells whoever listens (the cache, the waitlist, the live stream) once this commits.
fn changed(id: &str) {
    events::emit(Event::DialogueChanged {
        dialogue_id: id.to_string(),
    });
}

/// Drafts are for organizers only; to anyone else they do not exist.
pub fn visible_to(full: &FullDialogue, can_organize: bool) -> bool {
    status_visible_to(full.dialogue.status(), can_organize)
}

pub fn status_visible_to(status: DialogueStatus, can_organize: bool) -> bool {
    can_organize || status != DialogueStatus::Draft
}
