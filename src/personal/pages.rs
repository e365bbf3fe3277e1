//! The participant's personal page (`/p/{link token or code}`) and the code page (`/p`).

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use minijinja::{Value, context};
use serde::Deserialize;

use super::ops::{MeView, cancel_own, ensure_seat, me_view, respond};
use crate::auth::{MaybeStaff, Staff};
use crate::dialogues;
use crate::dialogues::view::card;
use crate::error::AppError;
use crate::html::{PageForm, render, see_other};
use crate::i18n::Lang;
use crate::participants::auth::{canonical, find_limited};
use crate::participants::model::{Participant, normalize_code};
use crate::registrations::ticket;
use crate::state::AppState;

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
    find_limited(state, req, credential.to_string())
        .await?
        .ok_or(AppError::NotFound)
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
        d = context! { ..context! { deadline => crate::dialogues::view::moment(&full.dialogue, deadline, lang) }, ..d };
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
    let credential = canonical(credential, &participant);
    let (view, full) = state
        .db
        .read(move |conn| {
            let view = me_view(conn, &participant)?;
            let full = dialogues::store::find_full(conn, &participant.dialogue_id)?
                .ok_or(AppError::NotFound)?;
            Ok((view, full))
        })
        .await?;
    personal_page(state, req, None, &credential, &view, &full, extra)
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
    let credential = canonical(&credential, &participant);
    let accept = form.get("response") == "accept";
    let done = if accept { "accepted" } else { "declined" };
    let outcome = respond(&state, participant, accept).await.map(|_| ());
    after_action(&state, &req, &credential, outcome, done).await
}

/// After a participant's action (`credential` in its canonical form): back to their page with a notice, or the page again with
/// the reason when the action was refused (a conflict such as `dialogue_not_open`).
async fn after_action(
    state: &AppState,
    req: &HttpRequest,
    credential: &str,
    outcome: Result<(), AppError>,
    done: &str,
) -> Result<HttpResponse, AppError> {
    match outcome {
        Ok(()) => Ok(see_other(&format!("/p/{credential}?done={done}"))),
        Err(AppError::Conflict(code)) => {
            let lang = Lang::of_request(req);
            show(
                state,
                req,
                credential,
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
    let credential = canonical(&credential, &participant);
    let outcome = cancel_own(&state, participant).await.map(|_| ());
    after_action(&state, &req, &credential, outcome, "cancelled").await
}

#[get("/p/{credential}/ticket.png")]
pub async fn ticket_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    credential: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let participant = participant_of(&state, &req, &credential).await?;
    ensure_seat(&state, &participant).await?;
    Ok(HttpResponse::Ok()
        .content_type("image/png")
        .insert_header(("Cache-Control", "private, no-store"))
        .body(ticket::qr_png(&participant.code)?))
}
