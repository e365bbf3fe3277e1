//! The use cases of the minutes: save the secretary's parts, draw the PDF, publish.

use minijinja::context;

use super::model::{MinutesInput, MinutesView};
use super::{document, record, store};
use crate::audit::{self, Actor};
use crate::db::{Db, DbConnection};
use crate::dialogues;
use crate::dialogues::model::DialogueStatus;
use crate::error::AppError;
use crate::participants;
use crate::participants::notify::{self, Mailing, Notice};
use crate::state::AppState;

/// Stores the secretary's parts. Published minutes no longer change (409
/// `minutes_published`), and a draft dialogue has none (409 `invalid_transition`).
pub async fn save(
    state: &AppState,
    dialogue_id: &str,
    input: MinutesInput,
    user_id: &str,
) -> Result<MinutesView, AppError> {
    let valid = input.validate()?;
    let (id, user_id) = (dialogue_id.to_string(), user_id.to_string());
    state
        .db
        .write(move |conn| {
            dialogues::store::lock(conn, &id)?;
            let dialogue = dialogues::store::find(conn, &id)?.ok_or(AppError::NotFound)?;
            if dialogue.status == DialogueStatus::Draft {
                return Err(AppError::Conflict("invalid_transition"));
            }
            if store::find(conn, &id)?.is_some_and(|m| m.published_at.is_some()) {
                return Err(AppError::Conflict("minutes_published"));
            }
            store::save(conn, &id, &valid)?;
            audit::entry(&Actor::User(user_id), "minutes.save")
                .about("dialogue", &id)
                .in_dialogue(&id)
                .record(conn)?;
            let saved = store::find(conn, &id)?.ok_or(AppError::NotFound)?;
            Ok(MinutesView::of(&saved))
        })
        .await
}

/// Who asks for the PDF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reader {
    Organizer,
    /// Anyone else: only published minutes of a public dialogue.
    Public,
}

/// The file formats of the minutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The record.
    Pdf,
    /// An editable copy for a word processor.
    Docx,
}

impl Format {
    /// `.docx` when the file name ends so (any case), else PDF.
    pub fn of_path(path: &std::path::Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("docx") => Format::Docx,
            _ => Format::Pdf,
        }
    }
}

fn draw(record: &record::Record, format: Format) -> Result<Vec<u8>, AppError> {
    match format {
        Format::Pdf => Ok(document::pdf(record)),
        Format::Docx => document::docx(record)
            .map_err(|e| AppError::unexpected(format!("writing the minutes as .docx: {e}"))),
    }
}

/// The minutes' PDF. Organizers get it at any time (a preview until it is published);
/// anyone else only once it is published, else 404.
pub async fn pdf(state: &AppState, dialogue_id: &str, reader: Reader) -> Result<Vec<u8>, AppError> {
    file(state, dialogue_id, reader, Format::Pdf).await
}

/// The minutes as a file in `format`, with the access rules of [`pdf`].
pub async fn file(
    state: &AppState,
    dialogue_id: &str,
    reader: Reader,
    format: Format,
) -> Result<Vec<u8>, AppError> {
    let id = dialogue_id.to_string();
    let record = state
        .db
        .read(move |conn| {
            let record = record::gather(conn, &id)?;
            let published = record
                .minutes
                .as_ref()
                .is_some_and(|m| m.published_at.is_some());
            let public = record.full.dialogue.status.listed_publicly();
            if reader == Reader::Public && !(published && public) {
                return Err(AppError::NotFound);
            }
            Ok(record)
        })
        .await?;
    actix_web::web::block(move || draw(&record, format))
        .await
        .map_err(|e| AppError::unexpected(format!("drawing the minutes: {e}")))?
}

/// The same PDF for the command line (`doithoai minutes ID -o FILE`): same record, same
/// bytes as the endpoint.
pub fn pdf_now(db: &Db, dialogue_id: &str) -> Result<Vec<u8>, AppError> {
    file_now(db, dialogue_id, Format::Pdf)
}

/// The minutes in `format` for the command line: the same bytes as the endpoint.
pub fn file_now(db: &Db, dialogue_id: &str, format: Format) -> Result<Vec<u8>, AppError> {
    let record = db.read_now(|conn| record::gather(conn, dialogue_id))?;
    draw(&record, format)
}

/// Publishing: the PDF becomes public on the dialogue's page and every participant with an
/// email gets one with the link (queued as jobs in the same transaction). Needs the
/// secretary's parts saved first (409 `minutes_incomplete`); publishing again changes
/// nothing and queues nothing.
pub async fn publish(
    state: &AppState,
    dialogue_id: &str,
    user_id: &str,
) -> Result<Published, AppError> {
    let (id, user_id) = (dialogue_id.to_string(), user_id.to_string());
    let settings = state.settings.clone();
    let templates = state.templates.clone();
    state
        .db
        .write(move |conn| {
            let mailing = Mailing {
                templates: &templates,
                settings: &settings,
            };
            publish_in(conn, mailing, &id, &user_id)
        })
        .await
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Published {
    pub minutes: MinutesView,
    /// Emails queued by this request (0 when the minutes were already published).
    pub queued: usize,
}

fn publish_in(
    conn: &mut DbConnection,
    mailing: Mailing<'_>,
    id: &str,
    user_id: &str,
) -> Result<Published, AppError> {
    dialogues::store::lock(conn, id)?;
    let dialogue = dialogues::store::find(conn, id)?.ok_or(AppError::NotFound)?;
    let minutes = store::find(conn, id)?.ok_or(AppError::Conflict("minutes_incomplete"))?;
    if minutes.published_at.is_some() {
        return Ok(Published {
            minutes: MinutesView::of(&minutes),
            queued: 0,
        });
    }
    if minutes.conclusion.is_none() || minutes.opened_at.is_none() || minutes.closed_at.is_none() {
        return Err(AppError::Conflict("minutes_incomplete"));
    }
    if !dialogue.status.listed_publicly() {
        return Err(AppError::Conflict("invalid_transition"));
    }
    store::set_published(conn, id)?;
    let minutes_link = mailing.settings.link(&format!("/d/{id}/minutes.pdf"));
    let mut queued = 0;
    for person in participants::store::with_email(conn, id)? {
        let link = notify::code_link(mailing.settings, &person);
        let ctx = notify::context_for(mailing, &dialogue, &person, &link);
        let sent = notify::queue(
            conn,
            mailing,
            &person,
            Notice {
                kind: "minutes",
                template: "minutes",
                context: context! { minutes_link => &minutes_link, ..ctx },
                attachments: Vec::new(),
                dedupe_key: Some(format!("minutes:{}", person.id)),
                subject_ref: None,
            },
        )?;
        if sent {
            queued += 1;
        }
    }
    audit::entry(&Actor::User(user_id.to_string()), "minutes.publish")
        .about("dialogue", id)
        .in_dialogue(id)
        .detail(format!("{queued} emails"))
        .record(conn)?;
    let saved = store::find(conn, id)?.ok_or(AppError::NotFound)?;
    Ok(Published {
        minutes: MinutesView::of(&saved),
        queued,
    })
}

/// The minutes of a dialogue for the organizer's page (`None` before the first save).
pub async fn find(state: &AppState, dialogue_id: &str) -> Result<Option<MinutesView>, AppError> {
    let id = dialogue_id.to_string();
    state
        .db
        .read(move |conn| Ok(store::find(conn, &id)?.map(|m| MinutesView::of(&m))))
        .await
}

/// Whether the dialogue's minutes are published (for its public page).
pub fn is_published(conn: &mut DbConnection, dialogue_id: &str) -> Result<bool, AppError> {
    Ok(store::find(conn, dialogue_id)?.is_some_and(|m| m.published_at.is_some()))
}
