//! Pages for invitations: the organizer's invitee list (import, send, re-send, re-issue)
//! and the participant's personal page (`/p/{link token or code}`).

use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use futures_util::StreamExt;
use minijinja::{Value, context};
use serde::Deserialize;

use super::api::{MeView, import_csv, me_view, respond, send_invitations};
use super::model::{InvitationStatus, InvitationView};
use super::{ops, store};
use crate::audit::Actor;
use crate::auth::secrets::csrf_for;
use crate::auth::{MaybeStaff, Organizer, Staff};
use crate::dialogues::pages::card;
use crate::dialogues::store as dialogues;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::participants::auth::resolve;
use crate::participants::model::{Participant, normalize_code};
use crate::registrations::api::cancel_own;
use crate::registrations::ticket;
use crate::rest::parse_id;
use crate::state::AppState;
use crate::web::{BROWSER_COOKIE, PageForm, render, see_other};

const UPLOAD_LIMIT: usize = 8 * 1024 * 1024;

#[derive(Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    done: Option<String>,
}

async fn list_page(
    state: &AppState,
    req: &HttpRequest,
    staff: &Staff,
    dialogue_id: String,
    status: Option<InvitationStatus>,
    extra: Value,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of_request(req);
    let user_id = staff.user.id.clone();
    let (full, rows, total, unsent) = state
        .db
        .write(move |conn| {
            let full = dialogues::find_full(conn, &dialogue_id)?.ok_or(AppError::NotFound)?;
            ops::audit_view(conn, &dialogue_id, &user_id, "invitations.view")?;
            let (rows, _) = store::list(conn, &dialogue_id, status, 0, 10_000)?;
            let (_, total) = store::list(conn, &dialogue_id, None, 0, 1)?;
            let unsent = store::unsent_with_email(conn, &dialogue_id)?.len();
            Ok((full, rows, total, unsent))
        })
        .await?;
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
                status => status.map(InvitationStatus::as_str),
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
    id: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&id)?;
    let status = query.status.as_deref().and_then(InvitationStatus::parse);
    let lang = Lang::of_request(&req);
    let extra = context! { notice => notice_for(query.done.as_deref(), lang) };
    list_page(&state, &req, &staff, id, status, extra).await
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
    id: web::Path<String>,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&id)?;
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
                id,
                None,
                context! { notice => notice },
            )
            .await
        }
        Err(AppError::InvalidRows { rows, .. }) => {
            let extra = context! { problems => Value::from_serialize(&rows), problems_title => lang.text("error.invalid_csv") };
            let mut page = list_page(&state, &req, &staff, id, None, extra).await?;
            *page.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(page)
        }
        Err(other) => Err(other),
    }
}

#[post("/staff/dialogues/{id}/invitations/send")]
pub async fn send_page(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    id: web::Path<String>,
    _form: PageForm,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&id)?;
    send_invitations(&state, &id, staff.user.id).await?;
    Ok(see_other(&format!(
        "/staff/dialogues/{id}/invitations?done=sent"
    )))
}

#[post("/staff/invitations/{id}/resend")]
pub async fn resend_page(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    id: web::Path<String>,
    _form: PageForm,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&id)?;
    let st = state.get_ref().clone();
    let actor = Actor::User(staff.user.id);
    let dialogue_id = state
        .db
        .write(move |conn| Ok(ops::resend(conn, st.mailing(), &id, &actor)?.dialogue_id))
        .await?;
    state.outbox.ring();
    Ok(see_other(&format!(
        "/staff/dialogues/{dialogue_id}/invitations?done=resent"
    )))
}

#[post("/staff/invitations/{id}/reissue")]
pub async fn reissue_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<String>,
    _form: PageForm,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&id)?;
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
        person.dialogue_id.clone(),
        None,
        extra,
    )
    .await
}

// ---- the participant's pages ----

#[derive(Deserialize)]
pub struct CodeQuery {
    code: Option<String>,
}

/// Type the code from a letter; go to the personal page.
#[get("/p")]
pub async fn code_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<CodeQuery>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of_request(&req);
    let typed = query.code.clone().unwrap_or_default();
    if typed.trim().is_empty() {
        return render(
            &state,
            &req,
            None,
            "participant/code.html",
            context! { code => "" },
        );
    }
    match normalize_code(&typed) {
        Some(code) => Ok(see_other(&format!("/p/{code}"))),
        None => render(
            &state,
            &req,
            None,
            "participant/code.html",
            context! { code => typed, error => lang.text("personal.bad_code") },
        ),
    }
}

/// The participant behind a credential in the path, or a 404 (after counting the miss).
async fn participant_of(
    state: &AppState,
    req: &HttpRequest,
    credential: &str,
) -> Result<Participant, AppError> {
    let ip = crate::ratelimit::client_ip(req, state.settings.trusted_proxy);
    state.code_limiter.ensure_allowed(ip)?;
    let credential = credential.to_string();
    let found = state
        .db
        .read(move |conn| resolve(conn, &credential))
        .await?;
    match found {
        Some(p) => Ok(p),
        None => {
            state.code_limiter.record_failure(ip)?;
            Err(AppError::NotFound)
        }
    }
}

fn personal_page(
    state: &AppState,
    req: &HttpRequest,
    staff: Option<&Staff>,
    credential: &str,
    view: &MeView,
    full: &crate::dialogues::model::FullDialogue,
    extra: Value,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of_request(req);
    let open = crate::registrations::ops::ensure_accepting(&full.dialogue).is_ok();
    let can_answer = open && view.invitation.is_some();
    let can_cancel = open
        && view.invitation.is_none()
        && view.registration.as_ref().is_some_and(|r| {
            matches!(
                r.status,
                crate::registrations::model::RegistrationStatus::Registered
                    | crate::registrations::model::RegistrationStatus::Waitlisted
            )
        });
    let mut d = card(full, lang);
    if let Some(deadline) = full.dialogue.question_deadline {
        d = context! { ..context! { deadline => crate::participants::notify::local_time(&full.dialogue, deadline, lang) }, ..d };
    }
    let page = render(
        state,
        req,
        staff,
        "participant/home.html",
        context! {
            ..extra,
            ..context! {
                me => Value::from_serialize(&view.participant),
                d => d,
                invitation => Value::from_serialize(&view.invitation),
                registration => Value::from_serialize(&view.registration),
                base => format!("/p/{credential}"),
                can_answer => can_answer,
                can_cancel => can_cancel,
            }
        },
    )?;
    Ok(page)
}

async fn show(
    state: &AppState,
    req: &HttpRequest,
    credential: &str,
    extra: Value,
) -> Result<HttpResponse, AppError> {
    let participant = participant_of(state, req, credential).await?;
    let (view, full) = state
        .db
        .read(move |conn| {
            let view = me_view(conn, &participant)?;
            let full =
                dialogues::find_full(conn, &participant.dialogue_id)?.ok_or(AppError::NotFound)?;
            Ok((view, full))
        })
        .await?;
    personal_page(state, req, None, credential, &view, &full, extra)
}

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

#[get("/p/{credential}")]
pub async fn personal(
    state: web::Data<AppState>,
    req: HttpRequest,
    credential: web::Path<String>,
    query: web::Query<DoneQuery>,
    _viewer: MaybeStaff,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of_request(&req);
    let notice = match query.done.as_deref() {
        Some("accepted") => Some(lang.text("personal.thanks_accept")),
        Some("declined") => Some(lang.text("personal.thanks_decline")),
        Some("cancelled") => Some(lang.text("personal.cancelled")),
        Some("registered") => Some(lang.text("personal.registered")),
        _ => None,
    };
    show(&state, &req, &credential, context! { notice => notice }).await
}

#[post("/p/{credential}/rsvp")]
pub async fn rsvp_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    credential: web::Path<String>,
    form: PageForm,
) -> Result<HttpResponse, AppError> {
    let participant = participant_of(&state, &req, &credential).await?;
    let accept = form.get("response") == "accept";
    match respond(&state, participant, accept).await {
        Ok(_) => {
            let done = if accept { "accepted" } else { "declined" };
            Ok(see_other(&format!(
                "/p/{}?done={done}",
                credential.as_str()
            )))
        }
        Err(AppError::Conflict(code)) => {
            let lang = Lang::of_request(&req);
            show(
                &state,
                &req,
                &credential,
                context! { error => lang.text(&format!("error.{code}")) },
            )
            .await
        }
        Err(other) => Err(other),
    }
}

#[post("/p/{credential}/cancel")]
pub async fn cancel_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    credential: web::Path<String>,
    _form: PageForm,
) -> Result<HttpResponse, AppError> {
    let participant = participant_of(&state, &req, &credential).await?;
    match cancel_own(&state, participant).await {
        Ok(_) => Ok(see_other(&format!(
            "/p/{}?done=cancelled",
            credential.as_str()
        ))),
        Err(AppError::Conflict(code)) => {
            let lang = Lang::of_request(&req);
            show(
                &state,
                &req,
                &credential,
                context! { error => lang.text(&format!("error.{code}")) },
            )
            .await
        }
        Err(other) => Err(other),
    }
}

#[get("/p/{credential}/ticket.png")]
pub async fn ticket_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    credential: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let participant = participant_of(&state, &req, &credential).await?;
    super::api::ensure_seat(&state, &participant).await?;
    Ok(HttpResponse::Ok()
        .content_type("image/png")
        .insert_header(("Cache-Control", "private, no-store"))
        .body(ticket::qr_png(&participant.code)?))
}
