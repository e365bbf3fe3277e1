//! The organizer's minutes page (edit, preview, publish) and the public PDF.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{NaiveDateTime, TimeZone};
use minijinja::{Value, context};

use super::model::MinutesInput;
use super::ops::{self, Format, Reader};
use crate::auth::{MaybeStaff, Organizer, Staff};
use crate::db::{DbConnection, DialogueId};
use crate::dialogues;
use crate::dialogues::model::{Dialogue, FullDialogue};
use crate::dialogues::view::PublicLink;
use crate::dialogues::view::card;
use crate::error::AppError;
use crate::html::{PageForm, render, see_other};
use crate::i18n::Lang;
use crate::state::AppState;

/// The link on the dialogue's public page, once the minutes are published.
pub fn public_link(
    conn: &mut DbConnection,
    full: &FullDialogue,
) -> Result<Option<PublicLink>, AppError> {
    let id = &full.dialogue.id;
    Ok(ops::is_published(conn, id)?.then(|| PublicLink {
        label: "minutes.public_link",
        href: format!("/d/{id}/minutes.pdf"),
    }))
}

fn local_input(dialogue: &Dialogue, at: Option<NaiveDateTime>) -> String {
    at.map(|t| dialogue.local(t).format("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

/// A `datetime-local` value read in the dialogue's zone, as RFC 3339 (as typed when it is
/// not a time, so that validation names the field).
fn instant_in_zone(dialogue: &Dialogue, raw: &str) -> String {
    NaiveDateTime::parse_from_str(raw.trim(), "%Y-%m-%dT%H:%M")
        .ok()
        .and_then(|local| dialogue.zone().from_local_datetime(&local).single())
        .map(|t| t.to_rfc3339())
        .unwrap_or_else(|| raw.trim().to_string())
}

async fn show(
    state: &AppState,
    req: &HttpRequest,
    staff: &Staff,
    id: String,
    form: Option<(Value, Value)>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of_request(req);
    let target = id.clone();
    let full = state
        .db
        .read(move |conn| dialogues::store::find_full(conn, &target)?.ok_or(AppError::NotFound))
        .await?;
    let minutes = ops::find(state, &id).await?;
    let d = &full.dialogue;
    let (values, errors) = form.unwrap_or_else(|| {
        let v = minutes.as_ref();
        let values = context! {
            number => v.and_then(|m| m.number.clone()).unwrap_or_default(),
            opened_at => local_input(d, v.and_then(|m| m.opened_at).or(Some(d.starts_at))),
            closed_at => local_input(d, v.and_then(|m| m.closed_at).or(Some(d.ends_at))),
            summary => v.and_then(|m| m.summary.clone()).unwrap_or_default(),
            conclusion => v.and_then(|m| m.conclusion.clone()).unwrap_or_default(),
            recipients => v.map(|m| m.recipients.join("\n"))
                .unwrap_or_else(|| super::model::default_recipients().join("\n")),
        };
        (values, Value::from(()))
    });
    render(
        state,
        req,
        Some(staff),
        "staff/minutes.html",
        context! {
            d => card(&full, lang),
            m => Value::from_serialize(&minutes),
            v => values,
            errors => errors,
            done => web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
                .ok()
                .and_then(|q| q.get("done").cloned()),
        },
    )
}

#[get("/staff/dialogues/{id}/minutes")]
pub async fn minutes_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
) -> Result<HttpResponse, AppError> {
    show(&state, &req, &staff, id.into_inner().into(), None).await
}

#[post("/staff/dialogues/{id}/minutes")]
pub async fn save_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
    form: PageForm,
) -> Result<HttpResponse, AppError> {
    let id: String = id.into_inner().into();
    let target = id.clone();
    let dialogue = state
        .db
        .read(move |conn| dialogues::store::find(conn, &target)?.ok_or(AppError::NotFound))
        .await?;
    let recipients: Vec<String> = form
        .get("recipients")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    let input = MinutesInput {
        number: form.opt("number"),
        opened_at: instant_in_zone(&dialogue, form.get("opened_at")),
        closed_at: instant_in_zone(&dialogue, form.get("closed_at")),
        summary: form.opt("summary"),
        conclusion: form.get("conclusion").to_string(),
        recipients: Some(recipients),
    };
    match ops::save(&state, &id, input, &staff.user.id).await {
        Ok(_) => Ok(see_other(&format!(
            "/staff/dialogues/{id}/minutes?done=saved"
        ))),
        Err(error @ AppError::Validation(_)) => {
            let lang = Lang::of_request(&req);
            let values = context! {
                number => form.get("number"),
                opened_at => form.get("opened_at"),
                closed_at => form.get("closed_at"),
                summary => form.get("summary"),
                conclusion => form.get("conclusion"),
                recipients => form.get("recipients"),
            };
            let errors = Value::from_serialize(&error.envelope(lang, None).error.fields);
            let mut page = show(&state, &req, &staff, id, Some((values, errors))).await?;
            *page.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(page)
        }
        Err(other) => Err(other),
    }
}

#[post("/staff/dialogues/{id}/minutes/publish")]
pub async fn publish_page(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
    _form: PageForm,
) -> Result<HttpResponse, AppError> {
    let id: String = id.into_inner().into();
    ops::publish(&state, &id, &staff.user.id).await?;
    Ok(see_other(&format!(
        "/staff/dialogues/{id}/minutes?done=published"
    )))
}

/// The preview, shown in the browser (`?download=1` to save it).
#[get("/staff/dialogues/{id}/minutes.pdf")]
pub async fn preview_pdf(
    state: web::Data<AppState>,
    req: HttpRequest,
    _organizer: Organizer,
    id: web::Path<DialogueId>,
) -> Result<HttpResponse, AppError> {
    let bytes = ops::pdf(&state, &id.into_inner(), Reader::Organizer).await?;
    let download = req.query_string().contains("download=1");
    Ok(crate::pdf::response(bytes, "bien-ban.pdf", !download))
}

/// The editable copy (.docx) for the organizer's page.
#[get("/staff/dialogues/{id}/minutes.docx")]
pub async fn preview_docx(
    state: web::Data<AppState>,
    _organizer: Organizer,
    id: web::Path<DialogueId>,
) -> Result<HttpResponse, AppError> {
    let bytes = ops::file(&state, &id.into_inner(), Reader::Organizer, Format::Docx).await?;
    Ok(crate::pdf::docx::response(bytes, "bien-ban.docx"))
}

/// The published minutes, linked from the dialogue's public page.
#[get("/d/{id}/minutes.pdf")]
pub async fn public_pdf(
    state: web::Data<AppState>,
    viewer: MaybeStaff,
    id: web::Path<DialogueId>,
) -> Result<HttpResponse, AppError> {
    let reader = if viewer.can_organize() {
        Reader::Organizer
    } else {
        Reader::Public
    };
    let bytes = ops::pdf(&state, &id.into_inner(), reader).await?;
    Ok(crate::pdf::response(bytes, "bien-ban.pdf", true))
}
