//! The attendance dashboard page.

use actix_web::{HttpRequest, HttpResponse, get, web};
use minijinja::{Value, context};

use super::ops::attendance_of;
use crate::auth::Organizer;
use crate::db::DialogueId;
use crate::dialogues;
use crate::dialogues::view::card;
use crate::error::AppError;
use crate::html::render;
use crate::i18n::Lang;
use crate::state::AppState;

#[get("/staff/dialogues/{id}/attendance")]
pub async fn attendance_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let lang = Lang::of_request(&req);
    let target = id.clone();
    let full = state
        .db
        .read(move |conn| dialogues::store::find_full(conn, &target)?.ok_or(AppError::NotFound))
        .await?;
    let counts = attendance_of(&state, &id).await?;
    render(
        &state,
        &req,
        Some(&staff),
        "staff/attendance.html",
        context! { d => card(&full, lang), a => Value::from_serialize(&counts) },
    )
}

/// The sign-in sheet, downloaded from the attendance page.
#[get("/staff/dialogues/{id}/attendance-sheet.pdf")]
pub async fn sheet_pdf(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
) -> Result<HttpResponse, AppError> {
    let bytes = super::ops::sheet_pdf(&state, &id.into_inner(), &staff.user.id).await?;
    Ok(crate::pdf::response(bytes, "danh-sach-ky-ten.pdf", false))
}
