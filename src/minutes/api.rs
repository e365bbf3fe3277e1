//! `/api/v1/dialogues/{id}/minutes…`: thin adapters over `ops`.

use actix_web::{HttpResponse, get, post, put, web};

use super::model::{MinutesInput, MinutesView};
use super::ops::{self, Format, Published, Reader};
use crate::auth::{MaybeStaff, Organizer};
use crate::db::DialogueId;
use crate::error::{AppError, ErrorEnvelope};
use crate::json::ApiJson;
use crate::state::AppState;

/// Stores the secretary's parts of the minutes. Published minutes no longer change.
#[utoipa::path(
    tag = "minutes",
    operation_id = "minutes_save",
    params(("id" = uuid::Uuid, Path, description = "the dialogue's id")),
    request_body = MinutesInput,
    responses(
        (status = 200, body = MinutesView),
        (status = 403, description = "`forbidden`: not an organizer or administrator", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such dialogue", body = ErrorEnvelope),
        (status = 409, description = "`minutes_published`: published minutes no longer change; `invalid_transition`: the dialogue is a draft", body = ErrorEnvelope),
        (status = 422, description = "`validation_failed`: `required`, `invalid_datetime`, `out_of_range`, `must_end_after_start`, `too_long`, `control_characters`, `too_many`", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[put("/dialogues/{id}/minutes")]
pub async fn save(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
    body: ApiJson<MinutesInput>,
) -> Result<HttpResponse, AppError> {
    let view = ops::save(&state, &id.into_inner(), body.0, &staff.user.id).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The minutes (biên bản) as PDF, built from the record: for organizers at any time (a
/// preview until published), for anyone once published. The same record gives the same
/// bytes.
#[utoipa::path(
    tag = "minutes",
    operation_id = "minutes_pdf",
    params(("id" = uuid::Uuid, Path, description = "the dialogue's id")),
    responses(
        (status = 200, description = "application/pdf", content_type = "application/pdf", body = Vec<u8>),
        (status = 401, description = "`unauthorized`: a credential that is not valid", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such dialogue, or not published and the reader is not an organizer", body = ErrorEnvelope),
    ),
    security((), ("bearer" = []))
)]
#[get("/dialogues/{id}/minutes.pdf")]
pub async fn pdf(
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
    Ok(crate::pdf::response(bytes, "bien-ban.pdf", false))
}

/// The same minutes as an editable Word file (.docx), for a secretary who amends a sentence
/// before printing; the PDF stays the record. The same access as the PDF: organizers at any
/// time, anyone once published. The same record gives the same bytes.
#[utoipa::path(
    tag = "minutes",
    operation_id = "minutes_docx",
    params(("id" = uuid::Uuid, Path, description = "the dialogue's id")),
    responses(
        (status = 200, description = "the minutes as .docx (Office Open XML), saved as `bien-ban.docx`",
            content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document", body = Vec<u8>),
        (status = 401, description = "`unauthorized`: a credential that is not valid", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such dialogue, or not published and the reader is not an organizer", body = ErrorEnvelope),
    ),
    security((), ("bearer" = []))
)]
#[get("/dialogues/{id}/minutes.docx")]
pub async fn docx(
    state: web::Data<AppState>,
    viewer: MaybeStaff,
    id: web::Path<DialogueId>,
) -> Result<HttpResponse, AppError> {
    let reader = if viewer.can_organize() {
        Reader::Organizer
    } else {
        Reader::Public
    };
    let bytes = ops::file(&state, &id.into_inner(), reader, Format::Docx).await?;
    Ok(crate::pdf::docx::response(bytes, "bien-ban.docx"))
}

/// Publishes the minutes: the PDF becomes public on the dialogue's page and every
/// participant with an email is sent the link (queued). Publishing again queues nothing.
#[utoipa::path(
    tag = "minutes",
    operation_id = "minutes_publish",
    params(("id" = uuid::Uuid, Path, description = "the dialogue's id")),
    responses(
        (status = 200, body = Published),
        (status = 403, description = "`forbidden`: not an organizer or administrator", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such dialogue", body = ErrorEnvelope),
        (status = 409, description = "`minutes_incomplete`: times and conclusion not saved yet; `invalid_transition`: the dialogue is a draft or cancelled", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/dialogues/{id}/minutes/publish")]
pub async fn publish(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
) -> Result<HttpResponse, AppError> {
    let published = ops::publish(&state, &id.into_inner(), &staff.user.id).await?;
    Ok(HttpResponse::Ok().json(published))
}
