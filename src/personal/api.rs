//! `/api/v1/me…`: the participant's own view, answer, ticket and cancellation.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use super::ops::{self, MeView};
use crate::error::{AppError, ErrorEnvelope, FieldError};
use crate::json::ApiJson;
use crate::participants::auth::ParticipantAuth;
use crate::registrations::ticket;
use crate::state::AppState;

/// 401 of the participant endpoints.
const UNAUTHORIZED: &str =
    "`unauthorized`: no credential, or a link token or code that matches nobody";
/// 429 of the participant endpoints.
const RATE_LIMITED: &str =
    "`rate_limited`: too many credentials that matched nobody from this address; see `Retry-After`";

/// The signed-in participant (link token or short code as the bearer credential).
#[utoipa::path(
    tag = "participants",
    operation_id = "participant_me",
    responses((status = 200, body = MeView), (status = 401, description = UNAUTHORIZED, body = ErrorEnvelope), (status = 429, description = RATE_LIMITED, body = ErrorEnvelope)),
    security(("bearer" = []))
)]
#[get("/me")]
pub async fn me(
    state: web::Data<AppState>,
    ParticipantAuth(participant): ParticipantAuth,
) -> Result<HttpResponse, AppError> {
    let view = state
        .db
        .read(move |conn| ops::me_view(conn, &participant))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RsvpInput {
    /// `accept` or `decline`
    #[schema(schema_with = response_schema)]
    pub response: String,
}

fn response_schema() -> utoipa::openapi::schema::Object {
    crate::json::schema::one_of(&["accept", "decline"]).build()
}

/// Accepts (takes a seat, or a waitlist place when full) or declines the invitation.
#[utoipa::path(
    tag = "participants",
    operation_id = "participant_rsvp",
    request_body = RsvpInput,
    responses(
        (status = 200, body = MeView),
        (status = 401, description = UNAUTHORIZED, body = ErrorEnvelope),
        (status = 409, description = "`no_invitation`, `dialogue_not_open`, `already_checked_in`", body = ErrorEnvelope),
        (status = 422, description = "`validation_failed`: `invalid_choice` on `response`", body = ErrorEnvelope),
        (status = 429, description = RATE_LIMITED, body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/me/rsvp")]
pub async fn rsvp(
    state: web::Data<AppState>,
    ParticipantAuth(participant): ParticipantAuth,
    body: ApiJson<RsvpInput>,
) -> Result<HttpResponse, AppError> {
    let accept = match body.0.response.trim() {
        "accept" => true,
        "decline" => false,
        _ => {
            return Err(AppError::field(
                "response",
                FieldError::new("invalid_choice"),
            ));
        }
    };
    let view = ops::respond(&state, participant, accept).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The ticket: a QR code of the check-in code, as PNG.
#[utoipa::path(
    tag = "participants",
    operation_id = "participant_ticket",
    responses(
        (status = 200, description = "PNG image", content_type = "image/png"),
        (status = 401, description = UNAUTHORIZED, body = ErrorEnvelope),
        (status = 409, description = "`not_registered`: no seat", body = ErrorEnvelope),
        (status = 429, description = RATE_LIMITED, body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[get("/me/ticket.png")]
pub async fn ticket_png(
    state: web::Data<AppState>,
    ParticipantAuth(participant): ParticipantAuth,
) -> Result<HttpResponse, AppError> {
    ops::ensure_seat(&state, &participant).await?;
    Ok(HttpResponse::Ok()
        .content_type("image/png")
        .insert_header(("Cache-Control", "private, no-store"))
        .body(ticket::qr_png(&participant.code)?))
}

/// Gives back the participant's seat; the first waitlisted person is promoted and told.
#[utoipa::path(
    tag = "participants",
    operation_id = "participant_cancel",
    responses(
        (status = 200, body = MeView),
        (status = 401, description = UNAUTHORIZED, body = ErrorEnvelope),
        (status = 409, description = "`not_registered`, `already_checked_in`", body = ErrorEnvelope),
        (status = 429, description = RATE_LIMITED, body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/me/registration/cancel")]
pub async fn cancel(
    state: web::Data<AppState>,
    ParticipantAuth(participant): ParticipantAuth,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(ops::cancel_own(&state, participant).await?))
}
