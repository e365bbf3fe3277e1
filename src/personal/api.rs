//! `/api/v1/me…`: the participant's own view, answer, ticket and cancellation.

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::dialogues::model::DialogueView;
use crate::dialogues::store as dialogues;
use crate::error::{AppError, ErrorEnvelope, FieldError};
use crate::invitations::model::InvitationStatus;
use crate::invitations::{ops as invitations, store as invitation_store};
use crate::json::ApiJson;
use crate::participants::auth::ParticipantAuth;
use crate::participants::model::Participant;
use crate::participants::notify::Mailing;
use crate::registrations::model::RegistrationView;
use crate::registrations::{ops as registrations, store as registration_store, ticket};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct MeParticipant {
    pub id: String,
    pub full_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeInvitation {
    pub id: String,
    pub status: InvitationStatus,
    pub responded_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// What a participant sees of themself. Their group is not shown, even to them: it is
/// sensitive and a phone screen is easily read by others.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    pub participant: MeParticipant,
    pub dialogue: DialogueView,
    pub invitation: Option<MeInvitation>,
    pub registration: Option<RegistrationView>,
    /// The participant's questions with their answers (questions arrive in a later version).
    pub questions: Vec<serde_json::Value>,
}

pub fn me_view(
    conn: &mut crate::db::DbConnection,
    participant: &Participant,
) -> Result<MeView, AppError> {
    let dialogue =
        dialogues::find_full(conn, &participant.dialogue_id)?.ok_or(AppError::NotFound)?;
    let invitation = invitation_store::find_by_participant(conn, &participant.id)?;
    let registration = match registration_store::find_by_participant(conn, &participant.id)? {
        Some(r) => {
            let position = registration_store::waitlist_position(conn, &r)?;
            Some(RegistrationView::of(&r, position))
        }
        None => None,
    };
    Ok(MeView {
        participant: MeParticipant {
            id: participant.id.to_string(),
            full_name: participant.full_name.clone(),
            email: participant.email.clone(),
            phone: participant.phone.clone(),
            code: participant.code.clone(),
        },
        dialogue: DialogueView::from(&dialogue),
        invitation: invitation.map(|i| MeInvitation {
            id: i.id.to_string(),
            status: i.status(),
            responded_at: i.responded_at.map(|t| t.and_utc()),
        }),
        registration,
        questions: Vec::new(),
    })
}

/// The signed-in participant (link token or short code as the bearer credential).
#[utoipa::path(
    tag = "participants",
    responses((status = 200, body = MeView), (status = 401, body = ErrorEnvelope), (status = 429, body = ErrorEnvelope)),
    security(("bearer" = []))
)]
#[get("/me")]
pub async fn me(
    state: web::Data<AppState>,
    ParticipantAuth(participant): ParticipantAuth,
) -> Result<HttpResponse, AppError> {
    let view = state
        .db
        .read(move |conn| me_view(conn, &participant))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RsvpInput {
    /// `accept` or `decline`
    pub response: String,
}

/// Accepts (takes a seat, or a waitlist place when full) or declines the invitation.
#[utoipa::path(
    tag = "participants",
    request_body = RsvpInput,
    responses(
        (status = 200, body = MeView),
        (status = 409, description = "`no_invitation`, `dialogue_not_open`", body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope),
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
    let view = respond(&state, participant, accept).await?;
    Ok(HttpResponse::Ok().json(view))
}

pub async fn respond(
    state: &AppState,
    participant: Participant,
    accept: bool,
) -> Result<MeView, AppError> {
    let st = state.clone();
    let view = state
        .db
        .write(move |conn| {
            invitations::respond(conn, Mailing::of(&st), &participant, accept)?;
            me_view(conn, &participant)
        })
        .await?;
    Ok(view)
}

/// The ticket: a QR code of the check-in code, as PNG.
#[utoipa::path(
    tag = "participants",
    responses((status = 200, description = "PNG image", content_type = "image/png"), (status = 401, body = ErrorEnvelope)),
    security(("bearer" = []))
)]
#[get("/me/ticket.png")]
pub async fn ticket_png(
    state: web::Data<AppState>,
    ParticipantAuth(participant): ParticipantAuth,
) -> Result<HttpResponse, AppError> {
    ensure_seat(&state, &participant).await?;
    Ok(HttpResponse::Ok()
        .content_type("image/png")
        .insert_header(("Cache-Control", "private, no-store"))
        .body(ticket::qr_png(&participant.code)?))
}

/// A ticket exists only for someone holding a seat (registered or checked in).
pub async fn ensure_seat(state: &AppState, participant: &Participant) -> Result<(), AppError> {
    let id = participant.id.clone();
    let seated = state
        .db
        .read(move |conn| {
            Ok(registration_store::find_by_participant(conn, &id)?
                .is_some_and(|r| r.status().holds_seat()))
        })
        .await?;
    if seated {
        Ok(())
    } else {
        Err(AppError::Conflict("not_registered"))
    }
}

/// Gives back the participant's seat; the first waitlisted person is promoted and told.
#[utoipa::path(
    tag = "participants",
    responses((status = 200, body = MeView), (status = 409, description = "`not_registered`, `already_checked_in`", body = ErrorEnvelope)),
    security(("bearer" = []))
)]
#[post("/me/registration/cancel")]
pub async fn cancel(
    state: web::Data<AppState>,
    ParticipantAuth(participant): ParticipantAuth,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(cancel_own(&state, participant).await?))
}

pub async fn cancel_own(state: &AppState, participant: Participant) -> Result<MeView, AppError> {
    let st = state.clone();
    let view = state
        .db
        .write(move |conn| {
            let dialogue =
                dialogues::find(conn, &participant.dialogue_id)?.ok_or(AppError::NotFound)?;
            registrations::cancel(conn, Mailing::of(&st), &dialogue, &participant)?;
            me_view(conn, &participant)
        })
        .await?;
    Ok(view)
}
