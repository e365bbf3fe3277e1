//! `/api/v1/dialogues`

use actix_web::{HttpResponse, get, patch, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use super::cache::DialogueCache;
use super::input::{DialogueInput, DialoguePatch};
use super::model::DialogueStatus;
use super::view::DialogueView;
use super::{ops, store};
use crate::audit::Actor;
use crate::auth::{MaybeStaff, Organizer};
use crate::db::DialogueId;
use crate::error::{AppError, ErrorEnvelope, FieldError};
use crate::json::{ApiJson, PageOf, Paging, PagingParams};
use crate::state::AppState;

/// Creates a dialogue in `draft`.
#[utoipa::path(
    tag = "dialogues",
    operation_id = "dialogues_create",
    request_body = DialogueInput,
    responses(
        (status = 201, body = DialogueView),
        (status = 403, description = "`forbidden`: not an organizer or administrator", body = ErrorEnvelope),
        (status = 422, description = "`validation_failed`: a field broke a rule (also `must_end_after_start`, `must_be_before_start`, `needs_a_chair`); `fields` names each", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/dialogues")]
pub async fn create(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    body: ApiJson<DialogueInput>,
) -> Result<HttpResponse, AppError> {
    // Checked before the transaction so that a bad body never waits for the writer.
    body.0.validate()?;
    let user_id = staff.user.id.clone();
    let full = state
        .db
        .write(move |conn| {
            ops::create(conn, &body.0, &Actor::User(user_id.clone()), Some(&user_id))
        })
        .await?;
    Ok(HttpResponse::Created().json(DialogueView::from(&full)))
}

/// Lists dialogues: organizers see all, everyone else those not in `draft` or `cancelled`.
#[utoipa::path(
    tag = "dialogues",
    operation_id = "dialogues_list",
    params(PagingParams),
    responses(
        (status = 200, body = PageOf<DialogueView>),
        (status = 401, description = "`unauthorized`: a bearer token was sent and is invalid, expired or revoked (no token is fine)", body = ErrorEnvelope),
    ),
    security((), ("bearer" = []))
)]
#[get("/dialogues")]
pub async fn list(
    state: web::Data<AppState>,
    viewer: MaybeStaff,
    paging: Paging,
) -> Result<HttpResponse, AppError> {
    let organizer = viewer.can_organize();
    let (items, total) = state
        .db
        .read(move |conn| {
            let public = store::public_statuses();
            let only = if organizer {
                None
            } else {
                Some(public.as_slice())
            };
            Ok(store::list(conn, only, paging.offset(), paging.per_page)?)
        })
        .await?;
    let items = items.iter().map(DialogueView::from).collect();
    Ok(HttpResponse::Ok().json(PageOf::new(items, total, paging)))
}

/// One dialogue; a draft only for organizers.
#[utoipa::path(
    tag = "dialogues",
    operation_id = "dialogues_show",
    params(("id" = uuid::Uuid, Path, description = "the dialogue's id")),
    responses(
        (status = 200, body = DialogueView),
        (status = 401, description = "`unauthorized`: a bearer token was sent and is invalid, expired or revoked (no token is fine)", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such dialogue, or a draft and the caller is not an organizer", body = ErrorEnvelope),
    ),
    security((), ("bearer" = []))
)]
#[get("/dialogues/{id}")]
pub async fn show(
    state: web::Data<AppState>,
    cache: web::Data<DialogueCache>,
    viewer: MaybeStaff,
    id: web::Path<DialogueId>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let (status, json) = match cache.get(&id) {
        Some(hit) => hit,
        None => {
            let lookup = id.clone();
            let full = state
                .db
                .read(move |conn| store::find_full(conn, &lookup)?.ok_or(AppError::NotFound))
                .await?;
            let json = serde_json::to_vec(&DialogueView::from(&full))
                .map_err(|e| AppError::unexpected(format!("serialising a dialogue: {e}")))?;
            let entry = (full.dialogue.status(), web::Bytes::from(json));
            cache.put(&id, entry.0, entry.1.clone());
            entry
        }
    };
    if !ops::status_visible_to(status, viewer.can_organize()) {
        return Err(AppError::NotFound);
    }
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(json))
}

/// Changes the fields present in the body; officials and agenda are replaced whole. A
/// change of time or venue raises the calendar event's SEQUENCE; with `"notify": true` the
/// people who hold a place are emailed the update.
#[utoipa::path(
    tag = "dialogues",
    operation_id = "dialogues_edit",
    params(("id" = uuid::Uuid, Path, description = "the dialogue's id")),
    request_body = DialoguePatch,
    responses(
        (status = 200, body = DialogueView),
        (status = 403, description = "`forbidden`: not an organizer or administrator", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such dialogue", body = ErrorEnvelope),
        (status = 409, description = "`dialogue_closed`: concluded or cancelled", body = ErrorEnvelope),
        (status = 422, description = "`validation_failed`: the dialogue as it would be after the change breaks a rule; `fields` names each", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[patch("/dialogues/{id}")]
pub async fn edit(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
    body: ApiJson<DialogueInput>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let actor = Actor::User(staff.user.id);
    let notify = body.0.notify.unwrap_or(false);
    let (full, _) = state
        .db
        .write(move |conn| ops::edit(conn, &id, body.0, notify, &actor))
        .await?;
    Ok(HttpResponse::Ok().json(DialogueView::from(&full)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct StatusChange {
    /// `open`, `in_progress`, `concluded` or `cancelled` (`draft` is never allowed)
    #[schema(value_type = DialogueStatus)]
    pub status: String,
}

/// Moves the dialogue along draft → open → in_progress → concluded, or cancels it.
#[utoipa::path(
    tag = "dialogues",
    operation_id = "dialogues_change_status",
    params(("id" = uuid::Uuid, Path, description = "the dialogue's id")),
    request_body = StatusChange,
    responses(
        (status = 200, body = DialogueView),
        (status = 403, description = "`forbidden`: not an organizer or administrator", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such dialogue", body = ErrorEnvelope),
        (status = 409, description = "`invalid_transition`: not allowed from the current status", body = ErrorEnvelope),
        (status = 422, description = "`validation_failed`: `invalid_choice` on `status`", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/dialogues/{id}/status")]
pub async fn change_status(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
    body: ApiJson<StatusChange>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let next = DialogueStatus::from_code(body.0.status.trim())
        .ok_or_else(|| AppError::field("status", FieldError::new("invalid_choice")))?;
    let actor = Actor::User(staff.user.id);
    let full = state
        .db
        .write(move |conn| ops::change_status(conn, &id, next, &actor))
        .await?;
    Ok(HttpResponse::Ok().json(DialogueView::from(&full)))
}
