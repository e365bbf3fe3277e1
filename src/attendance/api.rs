//! `GET /api/v1/dialogues/{id}/attendance`.

use actix_web::{HttpResponse, get, web};

use super::ops::{self, Attendance};
use crate::auth::Organizer;
use crate::db::DialogueId;
use crate::error::{AppError, ErrorEnvelope};
use crate::state::AppState;

/// Counts of invitations, registrations and check-ins, in total and per participant group.
#[utoipa::path(
    tag = "registrations",
    operation_id = "dialogues_attendance",
    params(("id" = uuid::Uuid, Path, description = "the dialogue's id")),
    responses(
        (status = 200, body = Attendance),
        (status = 403, description = "`forbidden`: not an organizer or administrator", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such dialogue", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[get("/dialogues/{id}/attendance")]
pub async fn attendance(
    state: web::Data<AppState>,
    _organizer: Organizer,
    id: web::Path<DialogueId>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    Ok(HttpResponse::Ok().json(ops::attendance_of(&state, &id).await?))
}
