//! `/api/v1/dialogues/{id}/registrations`, `…/checkins`, `…/walk-ins`, `…/attendance`,
//! and `/api/v1/me/registration/cancel`.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::{RegistrationStatus, RegistrationView};
use super::ops::RegistrationLimiter;
use super::{ops, store};
use crate::auth::Organizer;
use crate::db::DialogueId;
use crate::dialogues::store as dialogues;
use crate::error::{AppError, ErrorEnvelope, FieldError, FieldErrors};
use crate::invitations::store as invitations;
use crate::json::{ApiJson, PageOf, Paging, status_filter};
use crate::participants::model::{Category, PersonInput, Source};
use crate::participants::notify::Mailing;
use crate::participants::store as participants;
use crate::ratelimit::client_ip;
use crate::state::AppState;

/// What a person agrees to when registering; stored with the time of consent.
pub const CONSENT_PURPOSE: &str =
    "Đăng ký tham dự hội nghị đối thoại; dữ liệu chỉ dùng cho việc tổ chức hội nghị này.";

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct SelfRegistrationInput {
    pub full_name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    pub category: String,
    #[serde(default)]
    pub language: Option<String>,
    /// Must be `true`: the person agrees that their details are used to organise this dialogue.
    #[serde(default)]
    pub consent: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SelfRegistrationOutput {
    pub registration: RegistrationView,
    /// The personal link's token (shown once; only its hash is kept).
    pub token: String,
    /// The short code; works in place of the token.
    pub code: String,
}

/// Registers oneself, when the dialogue allows it. Past capacity the person is waitlisted.
#[utoipa::path(
    tag = "registrations",
    params(("id" = String, Path)),
    request_body = SelfRegistrationInput,
    responses(
        (status = 201, body = SelfRegistrationOutput),
        (status = 403, description = "`self_registration_closed`", body = ErrorEnvelope),
        (status = 409, description = "`already_registered`, `dialogue_not_open`", body = ErrorEnvelope),
        (status = 422, description = "`consent` must be true", body = ErrorEnvelope),
        (status = 429, body = ErrorEnvelope),
    )
)]
#[post("/dialogues/{id}/registrations")]
pub async fn self_register(
    state: web::Data<AppState>,
    limiter: web::Data<RegistrationLimiter>,
    req: HttpRequest,
    id: web::Path<DialogueId>,
    body: ApiJson<SelfRegistrationInput>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    limiter
        .0
        .check(client_ip(&req, state.settings.trusted_proxy))?;
    let (registration, token, code) = register_self(&state, &id, body.0).await?;
    Ok(HttpResponse::Created().json(SelfRegistrationOutput {
        registration,
        token,
        code,
    }))
}

/// Checks the form, records consent, creates the participant and their registration.
pub async fn register_self(
    state: &AppState,
    dialogue_id: &str,
    input: SelfRegistrationInput,
) -> Result<(RegistrationView, String, String), AppError> {
    let mut errors = FieldErrors::new();
    let person = PersonInput {
        full_name: input.full_name,
        email: input.email,
        phone: input.phone,
        category: input.category,
        address: None,
        language: input.language,
    }
    .parse("", &mut errors);
    if !input.consent {
        errors.add("consent", FieldError::new("consent_required"));
    }
    if let Some(person) = &person {
        if person.email.is_none() && person.phone.is_none() {
            errors.add("phone", FieldError::new("email_or_phone"));
        }
    }
    errors.into_result()?;
    let Some(person) = person else {
        return Err(AppError::unexpected("person parsed without values"));
    };
    let st = state.clone();
    let dialogue_id = dialogue_id.to_string();
    let result = state
        .db
        .write(move |conn| {
            let dialogue = dialogues::find(conn, &dialogue_id)?.ok_or(AppError::NotFound)?;
            if !crate::dialogues::model::DialogueStatus::listed_publicly(dialogue.status()) {
                return Err(AppError::NotFound);
            }
            if !dialogue.self_registration {
                return Err(AppError::ForbiddenBecause("self_registration_closed"));
            }
            ops::ensure_accepting(&dialogue)?;
            let known = participants::identity_keys(conn, &dialogue.id)?;
            if person.identity_keys().iter().any(|k| known.contains(k)) {
                return Err(AppError::Conflict("already_registered"));
            }
            let (row, token) = participants::prepare(
                &dialogue.id,
                &person,
                Source::SelfRegistration,
                Some((crate::db::now(), CONSENT_PURPOSE)),
            );
            participants::insert(conn, &row)?;
            let participant = participants::find(conn, &row.id)?.ok_or(AppError::NotFound)?;
            let registration = ops::register(conn, Mailing::of(&st), &dialogue, &participant)?;
            let position = store::waitlist_position(conn, &registration)?;
            Ok((
                RegistrationView::of(&registration, position),
                token,
                participant.code,
            ))
        })
        .await?;
    Ok(result)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationItem {
    #[serde(flatten)]
    pub registration: RegistrationView,
    pub full_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub category: Category,
    pub code: String,
}

#[derive(Debug, Deserialize)]
pub struct StatusFilter {
    status: Option<String>,
}

/// Registrations in queue order, with the people's details (organizers only; audited).
#[utoipa::path(
    tag = "registrations",
    params(("id" = String, Path), ("status" = Option<String>, Query), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, body = PageOf<RegistrationItem>), (status = 403, body = ErrorEnvelope)),
    security(("bearer" = []))
)]
#[get("/dialogues/{id}/registrations")]
pub async fn list(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
    paging: Paging,
    filter: web::Query<StatusFilter>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let status = status_filter(filter.status.as_deref(), RegistrationStatus::from_code)?;
    let user_id = staff.user.id;
    let (rows, total) = state
        .db
        .write(move |conn| {
            dialogues::find(conn, &id)?.ok_or(AppError::NotFound)?;
            crate::audit::view(conn, &id, &user_id, "registrations.view")?;
            Ok(store::list(
                conn,
                &id,
                status,
                paging.offset(),
                paging.per_page,
            )?)
        })
        .await?;
    let mut items = Vec::with_capacity(rows.len());
    let mut position = paging.offset();
    for (registration, person) in rows {
        let waitlisted = registration.status() == RegistrationStatus::Waitlisted;
        if waitlisted {
            position += 1;
        }
        items.push(RegistrationItem {
            registration: RegistrationView::of(
                &registration,
                (waitlisted && status == Some(RegistrationStatus::Waitlisted)).then_some(position),
            ),
            full_name: person.full_name,
            email: person.email,
            phone: person.phone,
            category: person.category,
            code: person.code,
        });
    }
    Ok(HttpResponse::Ok().json(PageOf::new(items, total, paging)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CheckInInput {
    /// The ticket's QR payload or the typed short code (case, spaces and dashes ignored).
    pub code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckInOutput {
    pub registration: RegistrationView,
    pub full_name: String,
    pub already_checked_in: bool,
}

/// Checks a ticket holder in. Idempotent: a second scan says `already_checked_in` with the time.
#[utoipa::path(
    tag = "registrations",
    params(("id" = String, Path)),
    request_body = CheckInInput,
    responses(
        (status = 200, body = CheckInOutput),
        (status = 409, description = "`unknown_code`, `not_registered`, `waitlisted`, `registration_cancelled`, `dialogue_not_open`", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/dialogues/{id}/checkins")]
pub async fn check_in(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
    body: ApiJson<CheckInInput>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    Ok(HttpResponse::Ok().json(check_in_code(&state, &id, body.0.code, staff.user.id).await?))
}

pub async fn check_in_code(
    state: &AppState,
    dialogue_id: &str,
    code: String,
    staff_id: String,
) -> Result<CheckInOutput, AppError> {
    let dialogue_id = dialogue_id.to_string();
    state
        .db
        .write(move |conn| {
            let dialogue = dialogues::find(conn, &dialogue_id)?.ok_or(AppError::NotFound)?;
            let done = ops::check_in(conn, &dialogue, &code, &staff_id)?;
            Ok(CheckInOutput {
                registration: RegistrationView::of(&done.registration, None),
                full_name: done.participant.full_name,
                already_checked_in: done.already_checked_in,
            })
        })
        .await
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct WalkInInput {
    pub full_name: String,
    pub category: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// Must be `true`: the person agreed at the door.
    #[serde(default)]
    pub consent: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WalkInOutput {
    pub registration: RegistrationView,
    pub code: String,
}

/// Registers and checks in someone who came without registering.
#[utoipa::path(
    tag = "registrations",
    params(("id" = String, Path)),
    request_body = WalkInInput,
    responses((status = 201, body = WalkInOutput), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)),
    security(("bearer" = []))
)]
#[post("/dialogues/{id}/walk-ins")]
pub async fn walk_in(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
    body: ApiJson<WalkInInput>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    Ok(HttpResponse::Created().json(register_walk_in(&state, &id, body.0, staff.user.id).await?))
}

pub async fn register_walk_in(
    state: &AppState,
    dialogue_id: &str,
    input: WalkInInput,
    staff_id: String,
) -> Result<WalkInOutput, AppError> {
    let mut errors = FieldErrors::new();
    let person = PersonInput {
        full_name: input.full_name,
        email: input.email,
        phone: input.phone,
        category: input.category,
        address: None,
        language: None,
    }
    .parse("", &mut errors);
    if !input.consent {
        errors.add("consent", FieldError::new("consent_required"));
    }
    errors.into_result()?;
    let Some(person) = person else {
        return Err(AppError::unexpected("person parsed without values"));
    };
    let dialogue_id = dialogue_id.to_string();
    state
        .db
        .write(move |conn| {
            let dialogue = dialogues::find(conn, &dialogue_id)?.ok_or(AppError::NotFound)?;
            let (registration, participant) = ops::walk_in(conn, &dialogue, &person, &staff_id)?;
            Ok(WalkInOutput {
                registration: RegistrationView::of(&registration, None),
                code: participant.code,
            })
        })
        .await
}

/// Counts of invitations, registrations and check-ins, in total and per participant group.
#[utoipa::path(
    tag = "registrations",
    params(("id" = String, Path)),
    responses((status = 200, body = ops::Attendance), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)),
    security(("bearer" = []))
)]
#[get("/dialogues/{id}/attendance")]
pub async fn attendance(
    state: web::Data<AppState>,
    _organizer: Organizer,
    id: web::Path<DialogueId>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    Ok(HttpResponse::Ok().json(attendance_of(&state, &id).await?))
}

pub async fn attendance_of(
    state: &AppState,
    dialogue_id: &str,
) -> Result<ops::Attendance, AppError> {
    let dialogue_id = dialogue_id.to_string();
    state
        .db
        .read(move |conn| {
            let dialogue = dialogues::find(conn, &dialogue_id)?.ok_or(AppError::NotFound)?;
            let (by_status, by_category) = invitations::counts(conn, &dialogue.id)?;
            let get = |s: &str| by_status.get(s).copied().unwrap_or(0);
            ops::attendance(
                conn,
                &dialogue,
                &by_category,
                get("accepted"),
                get("declined"),
            )
        })
        .await
}
