//! Pages for registration: the public registration form, the organizer's registrations and
//! waitlist, the door page, and the attendance dashboard.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use minijinja::{Value, context};

use super::model::{Registration, RegistrationStatus};
use super::ops::RegistrationLimiter;
use super::ops::RegistrationQueue;
use super::ops::{
    AtDoor, DoorAction, SelfRegistered, SelfRegistrationInput, WalkInInput, at_door, check_in_code,
    door_search, register_self, register_walk_in,
};
use super::store;
use crate::auth::{MaybeStaff, Organizer, Staff};
use crate::db::DialogueId;
use crate::dialogues;
use crate::dialogues::model::FullDialogue;
use crate::dialogues::view::card;
use crate::error::AppError;
use crate::html::{KeptForm, PageForm, listing, render, see_other, spreadsheet};
use crate::i18n::Lang;
use crate::participants::model::{Category, Participant, PersonQuery};
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

/// The filters of the registrations list, in order.
const LIST_STATUSES: [&str; 4] = ["registered", "waitlisted", "checked_in", "cancelled"];

/// Rows per page of the registrations list.
const PER_PAGE: i64 = 200;

type Row = (Registration, Participant, Option<usize>);

/// Everyone who registered, in queue order, with their place on the waitlist; each
/// reading (page, print or export) is written to the audit log as `action`.
async fn registrations_of(
    state: &AppState,
    req: &HttpRequest,
    staff: &Staff,
    id: String,
    action: &'static str,
) -> Result<(FullDialogue, listing::Listed<Row>, listing::ListQuery), AppError> {
    let user_id = staff.user.id.clone();
    let (full, rows) = state
        .db
        .write(move |conn| {
            let full = dialogues::store::find_full(conn, &id)?.ok_or(AppError::NotFound)?;
            crate::audit::view(conn, &id, &user_id, action)?;
            let (rows, _) = store::list(conn, &id, None, 0, i64::from(i32::MAX))?;
            Ok((full, rows))
        })
        .await?;
    let mut position = 0;
    let rows: Vec<Row> = rows
        .into_iter()
        .map(|(r, p)| {
            let place = (r.status() == RegistrationStatus::Waitlisted).then(|| {
                position += 1;
                position
            });
            (r, p, place)
        })
        .collect();
    let lang = Lang::of_request(req);
    let query = listing::ListQuery::for_action(req, action);
    let filters = listing::Filters::of(lang, &LIST_STATUSES, PER_PAGE);
    let search = PersonQuery::parse(&query.q);
    let list = listing::list(
        rows,
        &query,
        &filters,
        |(r, _, _)| r.status().as_str(),
        |(_, p, _)| search.as_ref().is_some_and(|s| s.matches(p)),
    );
    Ok((full, list, query))
}

#[get("/staff/dialogues/{id}/registrations")]
pub async fn registrations_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let (full, list, query) =
        registrations_of(&state, &req, &staff, id.into(), "registrations.view").await?;
    let lang = Lang::of_request(&req);
    let items: Vec<Value> = list
        .rows
        .iter()
        .map(|(r, p, place)| {
            context! {
                full_name => &p.full_name, category => &p.category, code => &p.code,
                phone => &p.phone, status => &r.status, place => place,
                possible_duplicate => p.duplicate_of.is_some(),
            }
        })
        .collect();
    let counts = super::ops::seat_counts(&state, &full.dialogue.id).await?;
    render(
        &state,
        &req,
        Some(&staff),
        "staff/registrations.html",
        context! {
            d => card(&full, lang), seated => counts.registered, capacity => full.dialogue.capacity,
            waiting => counts.waitlisted, items => items, l => list.context,
            print_view => query.print,
        },
    )
}

/// The registrations list as a CSV file (the page's search and filter, every row); for
/// organizers, audited.
#[get("/staff/dialogues/{id}/registrations.csv")]
pub async fn registrations_csv(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of_request(&req);
    let (_, list, _) = registrations_of(
        &state,
        &req,
        &staff,
        id.into_inner().into(),
        "registrations.export",
    )
    .await?;
    let header = listing::headings(
        lang,
        &[
            "full_name",
            "code",
            "status",
            "waitlist_place",
            "category",
            "phone",
            "email",
        ],
    );
    let lines: Vec<Vec<String>> = list
        .rows
        .iter()
        .map(|(r, p, place)| {
            vec![
                p.full_name.clone(),
                p.code.clone(),
                lang.text(&format!("list_status.{}", r.status().as_str())),
                place.map(|n| n.to_string()).unwrap_or_default(),
                lang.text(&format!("category.{}", p.category.as_str())),
                p.phone.clone().unwrap_or_default(),
                p.email.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let bytes = spreadsheet::csv_bytes(&header, &lines)?;
    Ok(spreadsheet::download(bytes, "dang-ky.csv"))
}

/// What the door page shows besides its forms: the result of the last action, the people
/// a search found, and the walk-in form as it was sent (after an error).
#[derive(Default)]
struct DoorView {
    result: Option<Value>,
    query: Option<String>,
    found: Option<Vec<Value>>,
    walk_in: Option<Value>,
}

async fn door(
    state: &AppState,
    req: &HttpRequest,
    staff: &Staff,
    id: &str,
    view: DoorView,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of_request(req);
    let full = dialogue(state, id).await?;
    let counts = super::ops::seat_counts(state, id).await?;
    let over = (counts.registered - counts.capacity).max(0);
    let status = if view.walk_in.is_some() {
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        actix_web::http::StatusCode::OK
    };
    let mut page = render(
        state,
        req,
        Some(staff),
        "staff/door.html",
        context! {
            d => card(&full, lang), result => view.result, categories => categories(),
            query => view.query, found => view.found, w => view.walk_in,
            checked_in => counts.checked_in, seated => counts.registered,
            capacity => counts.capacity, waitlisted => counts.waitlisted,
            full => counts.registered >= counts.capacity, over => over,
        },
    )?;
    *page.status_mut() = status;
    Ok(page)
}

#[get("/staff/dialogues/{id}/door")]
pub async fn door_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    door(&state, &req, &staff, &id, DoorView::default()).await
}

/// How a person stands, in the door's words, with the one action that fits.
fn person_row(lang: Lang, full: &FullDialogue, at: &AtDoor, seats_full: bool) -> Value {
    let status = at.status();
    let state = match status {
        None => lang.text("door.state.not_registered"),
        Some(RegistrationStatus::Waitlisted) => lang
            .text("door.state.waitlisted")
            .replace("{n}", &at.waitlist_position.unwrap_or(0).to_string()),
        Some(RegistrationStatus::CheckedIn) => {
            let when = at
                .registration
                .as_ref()
                .and_then(|r| r.checked_in_at)
                .map(|t| crate::dialogues::view::moment(&full.dialogue, t, lang))
                .unwrap_or_default();
            format!("{} {when}", lang.text("door.state.checked_in"))
        }
        Some(other) => lang.text(&format!("door.state.{}", other.as_str())),
    };
    let action = match status {
        Some(RegistrationStatus::Registered) => "check_in",
        Some(RegistrationStatus::CheckedIn) => "undo",
        Some(RegistrationStatus::Waitlisted) => "admit",
        _ => "",
    };
    context! {
        name => &at.participant.full_name, code => &at.participant.code,
        status => status.map(RegistrationStatus::as_str), state => state, action => action,
        over => seats_full,
    }
}

/// The result of a door action: the headline in its colour, the code as it was typed, and
/// the person with what can be done next.
fn result_for(
    kind: &str,
    headline: String,
    typed: &str,
    person: Option<Value>,
    detail: Option<String>,
) -> Value {
    context! { kind => kind, headline => headline, typed => typed.trim(), person => person, detail => detail }
}

async fn seats_full(state: &AppState, id: &str) -> Result<bool, AppError> {
    let counts = super::ops::seat_counts(state, id).await?;
    Ok(counts.registered >= counts.capacity)
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
    let typed = form.get("code");
    let full = dialogue(&state, &id).await?;
    let outcome = check_in_code(&state, &id, typed.to_string(), staff.user.id.clone()).await;
    let (kind, headline) = match &outcome {
        Ok(done) if done.already_checked_in => ("again", lang.text("door.already")),
        Ok(_) => ("ok", lang.text("door.welcome")),
        Err(AppError::Conflict("waitlisted")) => ("wait", lang.text("error.waitlisted")),
        Err(AppError::Conflict(code) | AppError::NotFoundBecause(code)) => {
            ("bad", lang.text(&format!("error.{code}")))
        }
        Err(other) => return Err(other.clone()),
    };
    // Whoever holds the code, as they stand now (none for an unknown code).
    let person = match outcome {
        Err(AppError::NotFoundBecause(_) | AppError::Conflict("dialogue_not_open")) => None,
        _ => {
            let (at, _) = at_door(
                &state,
                &id,
                typed.to_string(),
                DoorAction::LookUp,
                staff.user.id.clone(),
            )
            .await?;
            let full_seats = seats_full(&state, &id).await?;
            Some(person_row(lang, &full, &at, full_seats))
        }
    };
    let result = result_for(kind, headline, typed, person, None);
    door(
        &state,
        &req,
        &staff,
        &id,
        DoorView {
            result: Some(result),
            ..DoorView::default()
        },
    )
    .await
}

/// Undoes a mistaken check-in, or admits a waitlisted person (an organizer's decision; past
/// capacity only with the explicit choice the button carries).
async fn door_action(
    state: &AppState,
    req: &HttpRequest,
    staff: &Staff,
    id: &str,
    form: &PageForm,
    action: DoorAction,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of_request(req);
    let typed = form.get("code");
    let full = dialogue(state, id).await?;
    let outcome = at_door(state, id, typed.to_string(), action, staff.user.id.clone()).await;
    let result = match outcome {
        Ok((at, again)) => {
            let full_seats = seats_full(state, id).await?;
            let (kind, headline) = match action {
                DoorAction::Admit { .. } if again => ("again", lang.text("door.already")),
                DoorAction::Admit { .. } => ("ok", lang.text("door.admitted")),
                _ => ("undone", lang.text("door.undone")),
            };
            let row = person_row(lang, &full, &at, full_seats);
            result_for(kind, headline, typed, Some(row), None)
        }
        Err(e @ (AppError::Conflict(_) | AppError::NotFoundBecause(_))) => {
            let code = e.code();
            let person = match e {
                AppError::NotFoundBecause(_) | AppError::Conflict("dialogue_not_open") => None,
                _ => {
                    let (at, _) = at_door(
                        state,
                        id,
                        typed.to_string(),
                        DoorAction::LookUp,
                        staff.user.id.clone(),
                    )
                    .await?;
                    Some(person_row(lang, &full, &at, seats_full(state, id).await?))
                }
            };
            result_for(
                "bad",
                lang.text(&format!("error.{code}")),
                typed,
                person,
                None,
            )
        }
        Err(other) => return Err(other),
    };
    door(
        state,
        req,
        staff,
        id,
        DoorView {
            result: Some(result),
            ..DoorView::default()
        },
    )
    .await
}

#[post("/staff/dialogues/{id}/door/undo")]
pub async fn door_undo(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
    form: PageForm,
) -> Result<HttpResponse, AppError> {
    door_action(&state, &req, &staff, &id, &form, DoorAction::Undo).await
}

#[post("/staff/dialogues/{id}/door/admit")]
pub async fn door_admit(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
    form: PageForm,
) -> Result<HttpResponse, AppError> {
    let action = DoorAction::Admit {
        over_capacity: form.checked("over_capacity"),
    };
    door_action(&state, &req, &staff, &id, &form, action).await
}

/// Finds people by name (without diacritics) or phone; each with their state and the
/// button that fits. A form post, so phone numbers stay out of addresses and history.
#[post("/staff/dialogues/{id}/door/search")]
pub async fn door_search_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
    form: PageForm,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let lang = Lang::of_request(&req);
    let query = form.get("q").trim().to_string();
    let full = dialogue(&state, &id).await?;
    let people = door_search(&state, &id, query.clone(), staff.user.id.clone()).await?;
    let full_seats = seats_full(&state, &id).await?;
    let found = people
        .iter()
        .map(|at| person_row(lang, &full, at, full_seats))
        .collect();
    door(
        &state,
        &req,
        &staff,
        &id,
        DoorView {
            query: Some(query),
            found: Some(found),
            ..DoorView::default()
        },
    )
    .await
}

/// Someone who came without registering, entered by the staff member at the door. After an
/// error the form comes back open with what was typed.
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
        over_capacity: form.checked("over_capacity"),
    };
    let view = match register_walk_in(&state, &id, input, staff.user.id.clone()).await {
        Ok(done) => DoorView {
            result: Some(result_for(
                "ok",
                lang.text("door.walk_in_done"),
                "",
                Some(context! { name => form.get("full_name"), code => done.code }),
                None,
            )),
            ..DoorView::default()
        },
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_))) => {
            let envelope = e.envelope(lang, None).error;
            let error = if envelope.fields.is_empty() {
                Some(envelope.message.clone())
            } else {
                None
            };
            DoorView {
                walk_in: Some(context! {
                    full_name => form.get("full_name"), phone => form.get("phone"),
                    category => form.get("category"), consent => form.checked("consent"),
                    over_capacity => form.checked("over_capacity"),
                    errors => Value::from_serialize(&envelope.fields),
                    error => error.unwrap_or_else(|| envelope.message.clone()),
                }),
                ..DoorView::default()
            }
        }
        Err(other) => return Err(other),
    };
    door(&state, &req, &staff, &id, view).await
}
