//! Pages for registration: the public registration form, the organizer's registrations and
//! waitlist, the door page, and the attendance dashboard.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use minijinja::{Value, context};

use super::model::RegistrationStatus;
use super::ops::RegistrationLimiter;
use super::ops::RegistrationQueue;
use super::ops::{
    SelfRegistered, SelfRegistrationInput, WalkInInput, check_in_code, register_self,
    register_walk_in,
};
use super::store;
use crate::auth::{MaybeStaff, Organizer, Staff};
use crate::db::DialogueId;
use crate::dialogues;
use crate::dialogues::model::FullDialogue;
use crate::dialogues::view::card;
use crate::error::AppError;
use crate::html::{KeptForm, PageForm, render, see_other};
use crate::i18n::Lang;
use crate::participants::model::Category;
use crate::state::AppState;

fn categories() -> Vec<&'static str> {
    Category::ALL
        .iter()
        .copied()
        .map(Category::as_str)
        .collect()
}

async fn dialogue(state: &AppState, id: &str) -> Result<FullDialogue, AppError> {
    let id = id.to_string();
    state
        .db
        .read(move |conn| dialogues::store::find_full(conn, &id)?.ok_or(AppError::NotFound))
        .await
}

/// What was typed into the registration form, to show it again.
fn typed(form: &PageForm) -> Value {
    context! {
        full_name => form.get("full_name"), email => form.get("email"), phone => form.get("phone"),
        category => form.get("category"), consent => form.checked("consent"),
    }
}

/// The places left, for the form to say before anyone registers.
async fn seats_of(state: &AppState, full: &FullDialogue) -> Result<Value, AppError> {
    let dialogue = full.dialogue.clone();
    let limit = state.settings.waitlist_limit;
    let places = state
        .db
        .read(move |conn| super::ops::places(conn, &dialogue, limit))
        .await?;
    Ok(Value::from_serialize(places))
}

/// Only dialogues that are public and take registrations have this form.
fn registration_open(full: &FullDialogue) -> bool {
    full.dialogue.self_registration && super::ops::ensure_accepting(&full.dialogue).is_ok()
}

#[get("/d/{id}/register")]
pub async fn register_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    viewer: MaybeStaff,
    id: web::Path<DialogueId>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let full = dialogue(&state, &id).await?;
    if !registration_open(&full) {
        return Err(AppError::NotFound);
    }
    let lang = Lang::of_request(&req);
    let seats = seats_of(&state, &full).await?;
    render(
        &state,
        &req,
        viewer.0.as_ref(),
        "register.html",
        context! {
            d => card(&full, lang), categories => categories(), v => context! {}, errors => context! {},
            seats => seats, contact_phone => &state.settings.contact_phone,
        },
    )
}

#[post("/d/{id}/register")]
pub async fn register_submit(
    state: web::Data<AppState>,
    limiter: web::Data<RegistrationLimiter>,
    queue: web::Data<RegistrationQueue>,
    req: HttpRequest,
    id: web::Path<DialogueId>,
    kept: KeptForm,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let form = kept.form;
    if !kept.csrf_ok {
        // The page was open long enough for its token to expire: the form again, with
        // what was typed and a fresh token, and nothing registered.
        let lang = Lang::of_request(&req);
        let full = dialogue(&state, &id).await?;
        if !registration_open(&full) {
            return Err(AppError::NotFound);
        }
        let seats = seats_of(&state, &full).await?;
        let mut page = render(
            &state,
            &req,
            None,
            "register.html",
            context! {
                d => card(&full, lang), categories => categories(), v => typed(&form),
                errors => context! {}, error => lang.text("register.expired"),
                seats => seats, contact_phone => &state.settings.contact_phone,
            },
        )?;
        *page.status_mut() = actix_web::http::StatusCode::FORBIDDEN;
        return Ok(page);
    }
    limiter
        .check(
            crate::ratelimit::client_ip(&req, state.settings.trusted_proxy),
            &id,
        )
        .await?;
    let input = SelfRegistrationInput {
        full_name: form.get("full_name").into(),
        email: form.opt("email"),
        phone: form.opt("phone"),
        category: form.get("category").into(),
        language: Some(Lang::of_request(&req).code().into()),
        consent: form.checked("consent"),
    };
    match register_self(&state, &queue, &id, input).await {
        Ok(SelfRegistered::Code { code, registration }) => {
            let done = match registration.status {
                RegistrationStatus::Waitlisted => "waitlisted",
                _ => "registered",
            };
            Ok(see_other(&format!("/p/{code}?done={done}")))
        }
        Ok(SelfRegistered::Emailed) => Ok(see_other(&format!("/d/{id}/register/sent"))),
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_))) => {
            let lang = Lang::of_request(&req);
            let envelope = e.envelope(lang, None).error;
            let full = dialogue(&state, &id).await?;
            let seats = seats_of(&state, &full).await?;
            let values = typed(&form);
            let error = if envelope.fields.is_empty() {
                Some(envelope.message.clone())
            } else {
                None
            };
            let mut page = render(
                &state,
                &req,
                None,
                "register.html",
                context! {
                    d => card(&full, lang), categories => categories(), v => values,
                    errors => Value::from_serialize(&envelope.fields), error => error,
                    seats => seats, contact_phone => &state.settings.contact_phone,
                },
            )?;
            *page.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(page)
        }
        Err(other) => Err(other),
    }
}

/// The short privacy notice the consent box links to: what is kept, for what, for how
/// long, and who sees it.
#[get("/privacy")]
pub async fn privacy_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    viewer: MaybeStaff,
) -> Result<HttpResponse, AppError> {
    render(
        &state,
        &req,
        viewer.0.as_ref(),
        "privacy.html",
        context! { contact_phone => &state.settings.contact_phone },
    )
}

/// After a registration with an email: the same page whether or not the address was
/// already on the list, so the page never tells who is on it.
#[get("/d/{id}/register/sent")]
pub async fn register_sent(
    state: web::Data<AppState>,
    req: HttpRequest,
    viewer: MaybeStaff,
    id: web::Path<DialogueId>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let lang = Lang::of_request(&req);
    let full = dialogue(&state, &id).await?;
    if !registration_open(&full) {
        return Err(AppError::NotFound);
    }
    render(
        &state,
        &req,
        viewer.0.as_ref(),
        "register_sent.html",
        context! { d => card(&full, lang), contact_phone => &state.settings.contact_phone },
    )
}

#[get("/staff/dialogues/{id}/registrations")]
pub async fn registrations_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let user_id = staff.user.id.clone();
    let (full, rows) = state
        .db
        .write(move |conn| {
            let full = dialogues::store::find_full(conn, &id)?.ok_or(AppError::NotFound)?;
            crate::audit::view(conn, &id, &user_id, "registrations.view")?;
            let (rows, _) = store::list(conn, &id, None, 0, 100_000)?;
            Ok((full, rows))
        })
        .await?;
    let lang = Lang::of_request(&req);
    let row = |r: &super::model::Registration, p: &crate::participants::model::Participant| {
        context! {
            full_name => &p.full_name, category => &p.category, code => &p.code, status => &r.status,
            possible_duplicate => p.duplicate_of.is_some(),
        }
    };
    let registered: Vec<Value> = rows
        .iter()
        .filter(|(r, _)| r.status().holds_seat())
        .map(|(r, p)| row(r, p))
        .collect();
    let waitlist: Vec<Value> = rows
        .iter()
        .filter(|(r, _)| r.status() == RegistrationStatus::Waitlisted)
        .map(|(r, p)| row(r, p))
        .collect();
    render(
        &state,
        &req,
        Some(&staff),
        "staff/registrations.html",
        context! {
            d => card(&full, lang), seated => registered.len(), capacity => full.dialogue.capacity,
            registered => registered, waitlist => waitlist,
        },
    )
}

async fn door(
    state: &AppState,
    req: &HttpRequest,
    staff: &Staff,
    id: &str,
    result: Option<Value>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of_request(req);
    let full = dialogue(state, id).await?;
    let counts = super::ops::seat_counts(state, id).await?;
    render(
        state,
        req,
        Some(staff),
        "staff/door.html",
        context! {
            d => card(&full, lang), result => result, categories => categories(),
            checked_in => counts.checked_in, registered => counts.registered,
        },
    )
}

#[get("/staff/dialogues/{id}/door")]
pub async fn door_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    door(&state, &req, &staff, &id, None).await
}

/// A scan or a typed code: large, unmistakable feedback on the same page, ready for the next.
#[post("/staff/dialogues/{id}/door")]
pub async fn door_check_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
    form: PageForm,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let lang = Lang::of_request(&req);
    let result = match check_in_code(
        &state,
        &id,
        form.get("code").to_string(),
        staff.user.id.clone(),
    )
    .await
    {
        Ok(done) if done.already_checked_in => {
            let full = dialogue(&state, &id).await?;
            let at = done
                .registration
                .checked_in_at
                .map(|t| crate::dialogues::view::moment(&full.dialogue, t.naive_utc(), lang))
                .unwrap_or_default();
            context! { kind => "again", headline => lang.text("door.already"), name => done.full_name, detail => format!("{} {at}", lang.text("door.at")) }
        }
        Ok(done) => {
            context! { kind => "ok", headline => lang.text("door.welcome"), name => done.full_name }
        }
        Err(AppError::Conflict(code) | AppError::NotFoundBecause(code)) => {
            context! { kind => "bad", headline => lang.text(&format!("error.{code}")) }
        }
        Err(other) => return Err(other),
    };
    door(&state, &req, &staff, &id, Some(result)).await
}

#[post("/staff/dialogues/{id}/walk-ins")]
pub async fn walk_in_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
    form: PageForm,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let lang = Lang::of_request(&req);
    let input = WalkInInput {
        full_name: form.get("full_name").into(),
        category: form.get("category").into(),
        phone: form.opt("phone"),
        email: None,
        consent: form.checked("consent"),
    };
    let result = match register_walk_in(&state, &id, input, staff.user.id.clone()).await {
        Ok(done) => {
            context! { kind => "ok", headline => lang.text("door.walk_in_done"), name => form.get("full_name"), detail => format!("{}: {}", lang.text("field_label.code"), done.code) }
        }
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_))) => {
            let envelope = e.envelope(lang, None).error;
            let detail: Vec<String> = envelope.fields.values().cloned().collect();
            context! { kind => "bad", headline => envelope.message, detail => detail.join(" ") }
        }
        Err(other) => return Err(other),
    };
    door(&state, &req, &staff, &id, Some(result)).await
}
