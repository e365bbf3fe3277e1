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

/// The sign-in sheet (PDF, A4): everyone holding a seat in Vietnamese name order, with their
/// group and a column to sign; the header row repeats on each page. Each printing is written
/// to the audit log.
#[utoipa::path(
    tag = "registrations",
    operation_id = "dialogues_attendance_sheet",
    params(("id" = uuid::Uuid, Path, description = "the dialogue's id")),
    responses(
        (status = 200, description = "application/pdf", content_type = "application/pdf", body = Vec<u8>),
        (status = 403, description = "`forbidden`: not an organizer or administrator", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such dialogue", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[get("/dialogues/{id}/attendance-sheet.pdf")]
pub async fn sheet(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
) -> Result<HttpResponse, AppError> {
    let bytes = ops::sheet_pdf(&state, &id.into_inner(), &staff.user.id).await?;
    Ok(crate::pdf::response(bytes, "danh-sach-ky-ten.pdf", false))
}
