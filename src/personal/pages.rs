//! The participant's personal page (`/p/{link token or code}`) and the code page (`/p`).

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use minijinja::{Value, context};
use serde::Deserialize;

use super::ops::{Again, MeView, cancel_own, ensure_seat, me_view, register_again, respond};
use crate::assignments;
use crate::auth::MaybeStaff;
use crate::db::QuestionId;
use crate::dialogues;
use crate::dialogues::model::DialogueStatus;
use crate::dialogues::view::card;
use crate::error::AppError;
use crate::html::{PageForm, render, see_other};
use crate::html::{readable, with_status};
use crate::i18n::Lang;
use crate::participants::auth::{canonical, find_limited};
use crate::participants::model::{Participant, normalize_code};
use crate::questions;
use crate::questions::model::Topic;
use crate::questions::ops::{Asker, QuestionInput, QuestionLimiter, QueueQuery};
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
        Some(code) => match find_limited(&state, &req, code.clone()).await? {
            Some(_) => Ok(see_other(&format!("/p/{code}"))),
            None => unknown_code(&state, &req, &code),
        },
        None => render(
            &state,
            &req,
            None,
            "participant/code.html",
            context! { code => typed, error => lang.text("personal.bad_code") },
        ),
    }
}

/// The code page again, answering 404, with the code that matched nobody shown back and
/// the field ready for another try.
fn unknown_code(state: &AppState, req: &HttpRequest, code: &str) -> Result<HttpResponse, AppError> {
    let lang = Lang::of_request(req);
    let page = render(
        state,
        req,
        None,
        "participant/code.html",
        context! {
            code => code,
            error => lang.text("personal.unknown_code").replace("{code}", code),
        },
    )?;
    Ok(with_status(page, actix_web::http::StatusCode::NOT_FOUND))
}

/// The personal page for a credential that matches nobody: the code page, with the code
/// shown back when it looks like one (a long link is not echoed).
async fn not_found_page(
    state: &AppState,
    req: &HttpRequest,
    credential: &str,
) -> Result<HttpResponse, AppError> {
    match normalize_code(credential) {
        Some(code) => unknown_code(state, req, &code),
        None => {
            let lang = Lang::of_request(req);
            let page = render(
                state,
                req,
                None,
                "participant/code.html",
                context! { code => "", error => lang.text("personal.unknown_link") },
            )?;
            Ok(with_status(page, actix_web::http::StatusCode::NOT_FOUND))
        }
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
    credential: &str,
    view: &MeView,
    full: &crate::dialogues::model::FullDialogue,
    places: crate::registrations::ops::Places,
    extra: Value,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of_request(req);
    let open = crate::registrations::ops::ensure_accepting(&full.dialogue).is_ok();
    let can_answer = open && view.invitation.is_some();
    let cancelled = view
        .registration
        .as_ref()
        .is_some_and(|r| r.status == crate::registrations::model::RegistrationStatus::Cancelled);
    // Someone who cancelled may come back while there is a seat or a waitlist place; an
    // invitee whose acceptance was cancelled accepts again with the same button.
    let can_register_again = open && cancelled && view.invitation.is_none() && places.any();
    let full_now = open && cancelled && !places.any();
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
        None,
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
                can_register_again => can_register_again,
                full_now => full_now,
                accept_again => cancelled && view.invitation.as_ref().is_some_and(|i| i.status == crate::invitations::model::InvitationStatus::Accepted),
                questions => Value::from_serialize(&view.questions),
                can_ask => matches!(full.dialogue.status(), DialogueStatus::Open | DialogueStatus::InProgress)
                    && full.dialogue.question_deadline.is_none_or(|t| crate::db::now() <= t),
                contact_phone => &state.settings.contact_phone,
                has_email => view.participant.email.is_some(),
                code_link => state.settings.link(&format!("/p/{}", view.participant.code)),
                code_page => state.settings.link("/p"),
                topics => Topic::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
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
    show_participant(state, req, credential, participant, extra).await
}

async fn show_participant(
    state: &AppState,
    req: &HttpRequest,
    credential: &str,
    participant: Participant,
    extra: Value,
) -> Result<HttpResponse, AppError> {
    let credential = canonical(credential, &participant);
    let waitlist_limit = state.settings.waitlist_limit;
    let (view, full, places) = state
        .db
        .read(move |conn| {
            let view = me_view(conn, &participant)?;
            let full = dialogues::store::find_full(conn, &participant.dialogue_id)?
                .ok_or(AppError::NotFound)?;
            let places = crate::registrations::ops::places(conn, &full.dialogue, waitlist_limit)?;
            Ok((view, full, places))
        })
        .await?;
    personal_page(state, req, &credential, &view, &full, places, extra)
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
        Some("again") => Some(lang.text("personal.registered_again")),
        Some("already") => Some(lang.text("personal.already_holding")),
        Some("waitlisted") => Some(lang.text("personal.registered_waitlisted")),
        Some("withdrawn") => Some(lang.text("ask.withdrawn")),
        _ => None,
    };
    let asked = query.done.as_deref() == Some("asked");
    let Some(participant) = find_limited(&state, &req, credential.to_string()).await? else {
        return not_found_page(&state, &req, &credential).await;
    };
    show_participant(
        &state,
        &req,
        &credential,
        participant,
        context! { notice => notice, asked => asked },
    )
    .await
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

/// Registers again after cancelling (or accepts again), from the personal page.
#[post("/p/{credential}/register")]
pub async fn register_again_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    credential: web::Path<String>,
    _form: PageForm,
) -> Result<HttpResponse, AppError> {
    let participant = participant_of(&state, &req, &credential).await?;
    let credential = canonical(&credential, &participant);
    let outcome = register_again(&state, participant).await;
    let done = match &outcome {
        Ok(Again::AlreadyHeld) => "already",
        Ok(Again::Placed(crate::registrations::model::RegistrationStatus::Waitlisted)) => {
            "waitlisted"
        }
        _ => "again",
    };
    after_action(&state, &req, &credential, outcome.map(|_| ()), done).await
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

// ---------------------------------------------------------------- questions

/// Asks a question from the personal page. After it, a receipt on the page; after a
/// refusal, the form again with what was typed and the reason beside the field.
#[post("/p/{credential}/questions")]
pub async fn ask_page(
    state: web::Data<AppState>,
    limiter: web::Data<QuestionLimiter>,
    req: HttpRequest,
    credential: web::Path<String>,
    form: PageForm,
) -> Result<HttpResponse, AppError> {
    let participant = participant_of(&state, &req, &credential).await?;
    let credential = canonical(&credential, &participant);
    let lang = Lang::of_request(&req);
    let dialogue_id = participant.dialogue_id.clone();
    let outcome = match Topic::from_code(form.get("topic")) {
        Some(topic) => {
            let input = QuestionInput {
                body: form.get("body").to_string(),
                topic,
                anonymous: Some(!form.checked("named")),
                share_identity_with_agency: Some(form.checked("share_identity_with_agency")),
                channel: None,
                asker_name: None,
                asker_agreed: None,
                website: form.opt("website"),
            };
            questions::ops::submit_question(
                &state,
                &limiter,
                dialogue_id,
                Asker::Participant(participant),
                input,
            )
            .await
            .map(|_| ())
        }
        None => Err(AppError::field(
            "topic",
            crate::error::FieldError::new("required"),
        )),
    };
    match outcome {
        Ok(()) => Ok(see_other(&format!(
            "/p/{credential}?done=asked#my-questions"
        ))),
        Err(e) => {
            let fields = match &e {
                AppError::Validation(_) => Some(e.envelope(lang, None).error.fields),
                _ => None,
            };
            let message = readable(e, lang)?;
            let ask = context! {
                body => form.get("body"), topic => form.get("topic"),
                named => form.checked("named"), share => form.checked("share_identity_with_agency"),
            };
            let extra = match fields {
                Some(fields) => {
                    context! { ask => ask, ask_errors => Value::from_serialize(&fields) }
                }
                None => context! { ask => ask, ask_error => message },
            };
            let page = show(&state, &req, &credential, extra).await?;
            Ok(with_status(
                page,
                actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            ))
        }
    }
}

#[post("/p/{credential}/questions/{question}/withdraw")]
pub async fn withdraw_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, QuestionId)>,
    _form: PageForm,
) -> Result<HttpResponse, AppError> {
    let (credential, question) = path.into_inner();
    let participant = participant_of(&state, &req, &credential).await?;
    let credential = canonical(&credential, &participant);
    let outcome = questions::ops::withdraw_own(&state, participant, question)
        .await
        .map(|_| ());
    after_action(&state, &req, &credential, outcome, "withdrawn").await
}

/// The public queue as the participant sees it, with a vote button on each question.
#[get("/p/{credential}/questions")]
pub async fn queue_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    credential: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let participant = participant_of(&state, &req, &credential).await?;
    let credential = canonical(&credential, &participant);
    let query = QueueQuery::parse(req.query_string()).map_err(|_| AppError::NotFound)?;
    let lang = Lang::of_request(&req);
    let q = query.clone();
    let page = crate::html::page_number(&req);
    let (full, queue, voted) = state
        .db
        .read(move |conn| {
            let queue = assignments::ops::public_queue(conn, &participant.dialogue_id, &q, page)?;
            let full = dialogues::store::find_full(conn, &participant.dialogue_id)?
                .ok_or(AppError::NotFound)?;
            let voted = questions::store::voted_by(conn, &participant.id)?;
            Ok((full, queue, voted))
        })
        .await?;
    let error =
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
            .ok()
            .and_then(|q| q.get("error").cloned())
            .filter(|code| code == "not_open_for_votes")
            .map(|code| lang.text(&format!("error.{code}")));
    render(
        &state,
        &req,
        None,
        "questions/queue.html",
        context! {
            d => card(&full, lang),
            queue => assignments::view::queue_context(&queue, &query, lang),
            base => format!("/p/{credential}/questions"),
            vote_base => format!("/p/{credential}/questions"),
            voted => voted.into_iter().collect::<Vec<_>>(),
            back => format!("/p/{credential}"),
            error => error,
        },
    )
}

/// "Support" (`on=true`) or take the support back; back to the same place in the queue.
#[post("/p/{credential}/questions/{question}/vote")]
pub async fn vote_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, QuestionId)>,
    form: PageForm,
) -> Result<HttpResponse, AppError> {
    let (credential, question) = path.into_inner();
    let participant = participant_of(&state, &req, &credential).await?;
    let credential = canonical(&credential, &participant);
    let on = form.get("on") != "false";
    let anchor = format!("#q-{question}");
    match questions::ops::vote_on(&state, participant, question, on).await {
        Ok(_) => Ok(see_other(&format!("/p/{credential}/questions{anchor}"))),
        Err(AppError::Conflict(code)) => Ok(see_other(&format!(
            "/p/{credential}/questions?error={code}"
        ))),
        Err(other) => Err(other),
    }
}
