//! Pages for invitations: the organizer's invitee list (import, send, re-send, re-issue)
//! and the participant's personal page (`/p/{link token or code}`).

use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use futures_util::StreamExt;
use minijinja::{Value, context};
use serde::Deserialize;

use super::model::{InvitationStatus, InvitationView};
use super::ops::{import_csv, send_invitations};
use super::{ops, store};
use crate::audit::Actor;
use crate::auth::secrets::csrf_for;
use crate::auth::{Organizer, Staff};
use crate::db::{DialogueId, InvitationId};
use crate::dialogues;
use crate::dialogues::view::card;
use crate::error::AppError;
use crate::html::{BROWSER_COOKIE, PageForm, render, see_other};
use crate::i18n::Lang;
use crate::participants::notify::Mailing;
use crate::state::AppState;

const UPLOAD_LIMIT: usize = 8 * 1024 * 1024;

#[derive(Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    done: Option<String>,
    page: Option<i64>,
}

/// Rows per page of the invitee list.
const PER_PAGE: i64 = 200;

async fn list_page(
    state: &AppState,
    req: &HttpRequest,
    staff: &Staff,
    dialogue_id: String,
    status: Option<InvitationStatus>,
    page: i64,
    extra: Value,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of_request(req);
    let page = page.clamp(1, 1_000_000);
    let user_id = staff.user.id.clone();
    let (full, rows, shown, total, unsent) = state
        .db
        .write(move |conn| {
            let full =
                dialogues::store::find_full(conn, &dialogue_id)?.ok_or(AppError::NotFound)?;
            crate::audit::view(conn, &dialogue_id, &user_id, "invitations.view")?;
            let (rows, shown) =
                store::list(conn, &dialogue_id, status, (page - 1) * PER_PAGE, PER_PAGE)?;
            let (_, total) = store::list(conn, &dialogue_id, None, 0, 1)?;
            let unsent = store::unsent_with_email(conn, &dialogue_id)?.len();
            let (by_status, _) = store::counts(conn, &dialogue_id)?;
            Ok((full, rows, shown, total, (unsent, by_status)))
        })
        .await?;
    let (unsent, by_status) = unsent;
    let count = |s: InvitationStatus| by_status.get(s.as_str()).copied().unwrap_or(0);
    // Sending's progress: the page refreshes itself while emails wait in the queue.
    let progress = context! {
        queued => count(InvitationStatus::Queued),
        sent => count(InvitationStatus::Sent),
        failed => count(InvitationStatus::Failed),
    };
    let items: Vec<InvitationView> = rows.iter().map(|(i, p)| InvitationView::of(i, p)).collect();
    render(
        state,
        req,
        Some(staff),
        "staff/invitations.html",
        context! {
            ..extra,
            ..context! {
                d => card(&full, lang),
                items => Value::from_serialize(&items),
                total => total,
                unsent => unsent,
                progress => progress,
                status => status.map(InvitationStatus::as_str),
                page => page,
                pages => (shown + PER_PAGE - 1) / PER_PAGE,
            }
        },
    )
}

fn notice_for(done: Option<&str>, lang: Lang) -> Option<String> {
    let key = match done? {
        "imported" => "invitations.imported",
        "sent" => "invitations.queued",
        "resent" => "invitations.resent",
        _ => return None,
    };
    Some(lang.text(key))
}

#[get("/staff/dialogues/{id}/invitations")]
pub async fn invitations_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let status = query
        .status
        .as_deref()
        .and_then(InvitationStatus::from_code);
    let lang = Lang::of_request(&req);
    let extra = context! { notice => notice_for(query.done.as_deref(), lang) };
    list_page(
        &state,
        &req,
        &staff,
        id.into(),
        status,
        query.page.unwrap_or(1),
        extra,
    )
    .await
}

/// Reads a multipart form: its CSRF token must match the browser's, the file is returned.
async fn read_upload(req: &HttpRequest, mut payload: Multipart) -> Result<Vec<u8>, AppError> {
    let mut csrf = String::new();
    let mut file = Vec::new();
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(|_| AppError::BadRequest {
            code: "malformed_form",
            detail: None,
        })?;
        let name = field.name().unwrap_or_default().to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| AppError::BadRequest {
                code: "malformed_form",
                detail: None,
            })?;
            if bytes.len() + chunk.len() > UPLOAD_LIMIT {
                return Err(AppError::PayloadTooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "csrf" => csrf = String::from_utf8_lossy(&bytes).to_string(),
            "file" => file = bytes,
            _ => {}
        }
    }
    let expected = req.cookie(BROWSER_COOKIE).map(|c| csrf_for(c.value()));
    if expected.is_none_or(|token| csrf.is_empty() || token != csrf) {
        return Err(AppError::Csrf);
    }
    Ok(file)
}

#[post("/staff/dialogues/{id}/invitations/import")]
pub async fn import_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let file = read_upload(&req, payload).await?;
    let lang = Lang::of_request(&req);
    match import_csv(&state, &id, &file, lang, staff.user.id.clone()).await {
        Ok(result) => {
            let mut notice = format!("{} {}", lang.text("invitations.imported"), result.created);
            if !result.duplicates.is_empty() {
                let names: Vec<String> = result
                    .duplicates
                    .iter()
                    .map(|d| {
                        format!(
                            "{} ({} {})",
                            d.full_name,
                            lang.text("invitations.line"),
                            d.line
                        )
                    })
                    .collect();
                notice.push_str(&format!(
                    ". {}: {}",
                    lang.text("invitations.duplicates"),
                    names.join(", ")
                ));
            }
            list_page(
                &state,
                &req,
                &staff,
                id.into(),
                None,
                1,
                context! { notice => notice },
            )
            .await
        }
        Err(AppError::InvalidRows { rows, .. }) => {
            let extra = context! { problems => Value::from_serialize(&rows), problems_title => lang.text("error.invalid_csv") };
            let mut page = list_page(&state, &req, &staff, id.into(), None, 1, extra).await?;
            *page.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(page)
        }
        Err(other) => Err(other),
    }
}

/// The import template (`csv_import::template`), the same for every dialogue.
#[get("/staff/invitations/template.csv")]
pub async fn template_csv(Organizer(_staff): Organizer) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            "attachment; filename=\"mau-danh-sach-khach-moi.csv\"",
        ))
        .body(super::csv_import::template())
}

#[post("/staff/dialogues/{id}/invitations/send")]
pub async fn send_page(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
    _form: PageForm,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    match send_invitations(&state, &id, staff.user.id).await {
        Ok(_) => Ok(see_other(&format!(
            "/staff/dialogues/{id}/invitations?done=sent"
        ))),
        // A draft (or a closed dialogue): the list says why, with the way to open it.
        Err(AppError::Conflict("dialogue_not_open")) => Ok(see_other(&format!(
            "/staff/dialogues/{id}/invitations?done=not_open"
        ))),
        Err(other) => Err(other),
    }
}

#[post("/staff/invitations/{id}/resend")]
pub async fn resend_page(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    id: web::Path<InvitationId>,
    _form: PageForm,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let st = state.get_ref().clone();
    let actor = Actor::User(staff.user.id);
    let dialogue_id = state
        .db
        .write(move |conn| Ok(ops::resend(conn, Mailing::of(&st), &id, &actor)?.dialogue_id))
        .await?;
    Ok(see_other(&format!(
        "/staff/dialogues/{dialogue_id}/invitations?done=resent"
    )))
}

#[post("/staff/invitations/{id}/reissue")]
pub async fn reissue_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<InvitationId>,
    _form: PageForm,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let actor = Actor::User(staff.user.id.clone());
    let (person, token) = state
        .db
        .write(move |conn| ops::reissue(conn, &id, &actor))
        .await?;
    // Shown once, on this page: only the new link's hash is kept.
    let extra = context! { reissued => context! { code => &person.code, link => state.settings.link(&format!("/p/{token}")) } };
    list_page(
        &state,
        &req,
        &staff,
        person.dialogue_id.to_string(),
        None,
        1,
        extra,
    )
    .await
}

/// The printed letters, downloaded from the invitee list (`?only=without_email` or all).
#[get("/staff/dialogues/{id}/invitations/letters.pdf")]
pub async fn letters_pdf(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
    query: web::Query<super::api::LettersQuery>,
) -> Result<HttpResponse, AppError> {
    let only = query.parse()?;
    let bytes = ops::letters_pdf(&state, &id.into_inner(), only, &staff.user.id).await?;
    Ok(crate::pdf::response(bytes, "giay-moi.pdf", false))
}
