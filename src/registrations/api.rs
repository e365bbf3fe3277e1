//! `/api/v1/dialogues/{id}/registrations`, `…/checkins` (with the door's search and undo),
//! `…/waitlist/admit` and `…/walk-ins`: thin adapters
//! over `ops`. (The participant's own cancellation is in personal/, the attendance counts in
//! attendance/.)

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::{RegistrationStatus, RegistrationView};
use super::ops::RegistrationLimiter;
use super::ops::RegistrationQueue;
use super::ops::{
    AtDoor, CheckInOutput, DoorAction, SelfRegistered, SelfRegistrationInput, WalkInInput,
    WalkInOutput, at_door, check_in_code, door_search, register_self, register_walk_in,
};
use super::store;
use crate::auth::Organizer;
use crate::db::DialogueId;
use crate::dialogues;
use crate::error::{AppError, ErrorEnvelope};
use crate::json::{ApiJson, PageOf, Paging, PagingParams, StatusParam, status_filter};
use crate::participants::model::Category;
use crate::ratelimit::client_ip;
use crate::state::AppState;

/// The answer to a self-registration. It never says whether the person was already on the
/// list: with an email, everything goes to that address; with only a phone, the code is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct SelfRegistrationOutput {
    /// `emailed`: the personal link went to the address given (202). `registered` or
    /// `waitlisted`: only a phone was given, and the code is here (201).
    pub outcome: String,
    /// With only a phone: the seat or waitlist place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration: Option<RegistrationView>,
    /// With only a phone: the short code, which opens the personal page (`/p/{code}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl From<SelfRegistered> for SelfRegistrationOutput {
    fn from(done: SelfRegistered) -> SelfRegistrationOutput {
        match done {
            SelfRegistered::Emailed => SelfRegistrationOutput {
                outcome: "emailed".into(),
                registration: None,
                code: None,
            },
            SelfRegistered::Code { registration, code } => SelfRegistrationOutput {
                outcome: registration.status.as_str().to_string(),
                registration: Some(registration),
                code: Some(code),
            },
        }
    }
}

/// Registers oneself, when the dialogue allows it. Past capacity the person is waitlisted.
/// The answer is the same whether or not the person was already on the list.
#[utoipa::path(
    tag = "registrations",
    operation_id = "registrations_self_register",
    params(("id" = uuid::Uuid, Path, description = "the dialogue's id")),
    request_body = SelfRegistrationInput,
    responses(
        (status = 201, description = "only a phone was given: the code and the seat", body = SelfRegistrationOutput),
        (status = 202, description = "an email was given: the personal link went there", body = SelfRegistrationOutput),
        (status = 403, description = "`self_registration_closed`", body = ErrorEnvelope),
        (status = 404, description = "no such public dialogue", body = ErrorEnvelope),
        (status = 409, description = "`dialogue_not_open`, `registration_full`", body = ErrorEnvelope),
        (status = 422, description = "`consent` must be true; an email or a phone is needed", body = ErrorEnvelope),
        (status = 429, body = ErrorEnvelope),
    )
)]
#[post("/dialogues/{id}/registrations")]
pub async fn self_register(
    state: web::Data<AppState>,
    limiter: web::Data<RegistrationLimiter>,
    queue: web::Data<RegistrationQueue>,
    req: HttpRequest,
    id: web::Path<DialogueId>,
    body: ApiJson<SelfRegistrationInput>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    limiter
        .check(client_ip(&req, state.settings.trusted_proxy), &id)
        .await?;
    let output = SelfRegistrationOutput::from(register_self(&state, &queue, &id, body.0).await?);
    let mut response = if output.code.is_some() {
        HttpResponse::Created()
    } else {
        HttpResponse::Accepted()
    };
    Ok(response.json(output))
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
    /// Registered itself with the name and phone of someone already on the list (the
    /// answer could not say so): review it, and cancel one of the two if they are one person.
    pub possible_duplicate: bool,
}

/// `?status=` as the OpenAPI document shows it (read by `json::StatusParam`).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct StatusFilter {
    /// Only registrations in this status; absent or empty means all.
    #[param(schema_with = status_filter_schema)]
    status: Option<String>,
}

fn status_filter_schema() -> utoipa::openapi::schema::Object {
    let mut codes = vec![""];
    codes.extend(RegistrationStatus::ALL.iter().map(|s| s.as_str()));
    crate::json::schema::one_of(&codes).build()
}

/// Registrations in queue order, with the people's details (organizers only; audited).
#[utoipa::path(
    tag = "registrations",
    operation_id = "registrations_list",
    params(("id" = uuid::Uuid, Path, description = "the dialogue's id"), StatusFilter, PagingParams),
    responses(
        (status = 200, body = PageOf<RegistrationItem>),
        (status = 403, description = "`forbidden`: not an organizer or administrator", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such dialogue", body = ErrorEnvelope),
        (status = 422, description = "`validation_failed`: `invalid_choice` on `status`, or paging out of range", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[get("/dialogues/{id}/registrations")]
pub async fn list(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
    paging: Paging,
    filter: StatusParam,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let status = status_filter(filter.0.as_deref(), RegistrationStatus::from_code)?;
    let user_id = staff.user.id;
    let (rows, total) = state
        .db
        .write(move |conn| {
            dialogues::store::find(conn, &id)?.ok_or(AppError::NotFound)?;
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
            possible_duplicate: person.duplicate_of.is_some(),
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

/// Checks a ticket holder in. Idempotent: a second scan says `already_checked_in` with the time.
#[utoipa::path(
    tag = "registrations",
    operation_id = "registrations_check_in",
    params(("id" = uuid::Uuid, Path, description = "the dialogue's id")),
    request_body = CheckInInput,
    responses(
        (status = 200, body = CheckInOutput),
        (status = 403, description = "`forbidden`: not an organizer or administrator", body = ErrorEnvelope),
        (status = 404, description = "`unknown_code`: no participant of this dialogue has this code; `not_found`: no such dialogue", body = ErrorEnvelope),
        (status = 409, description = "`not_registered`, `waitlisted`, `registration_cancelled`, `dialogue_not_open`", body = ErrorEnvelope),
        (status = 401, description = "`unauthorized`: no valid bearer token", body = ErrorEnvelope),
        (status = 422, description = "`validation_failed`: `code` missing or not text (malformed JSON is 400 `malformed_json`)", body = ErrorEnvelope),
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

/// Registers and checks in someone who came without registering.
#[utoipa::path(
    tag = "registrations",
    operation_id = "registrations_walk_in",
    params(("id" = uuid::Uuid, Path, description = "the dialogue's id")),
    request_body = WalkInInput,
    responses(
        (status = 201, body = WalkInOutput),
        (status = 403, description = "`forbidden`: not an organizer or administrator", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such dialogue", body = ErrorEnvelope),
        (status = 409, description = "`already_registered`, `dialogue_not_open`, `no_free_seat` (every seat held and `over_capacity` not given); `already_exists` when two requests race", body = ErrorEnvelope),
        (status = 422, description = "`validation_failed`: `consent_required` on `consent`, …", body = ErrorEnvelope),
    ),
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

/// Someone at the door: their name and code, and where they stand (no group, no contact).
#[derive(Debug, Serialize, ToSchema)]
pub struct DoorPerson {
    pub full_name: String,
    pub code: String,
    /// Absent for an invitee who has neither accepted nor registered.
    pub registration: Option<RegistrationView>,
}

impl From<AtDoor> for DoorPerson {
    fn from(at: AtDoor) -> DoorPerson {
        DoorPerson {
            registration: at
                .registration
                .as_ref()
                .map(|r| RegistrationView::of(r, at.waitlist_position)),
            full_name: at.participant.full_name,
            code: at.participant.code,
        }
    }
}

/// `?q=` as the OpenAPI document shows it (read with `json::single_parameters`).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct DoorSearchParams {
    /// A name or part of one (case and diacritics ignored, đ = d), or at least 3 digits of a
    /// phone number. Anything else finds nobody.
    // Not `schema_with = text::<200>`: utoipa then leaves the parameter optional in the
    // document, and the search refuses a missing `q` (422). The same rule, spelled out.
    #[param(
        min_length = 1,
        pattern = r"^\s*[^\s\x00-\x1F\x7F-\x9F\u2028\u2029](?:[^\x00-\x1F\x7F-\x9F\u2028\u2029]{0,198}[^\s\x00-\x1F\x7F-\x9F\u2028\u2029])?\s*$"
    )]
    q: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DoorSearchOutput {
    /// At most 20, in name order.
    pub items: Vec<DoorPerson>,
}

/// Finds people of the dialogue by name or phone at the door (organizers only; audited as a
/// view of personal data).
#[utoipa::path(
    tag = "registrations",
    operation_id = "registrations_door_search",
    params(("id" = uuid::Uuid, Path, description = "the dialogue's id"), DoorSearchParams),
    responses(
        (status = 200, body = DoorSearchOutput),
        (status = 403, description = "`forbidden`: not an organizer or administrator", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such dialogue", body = ErrorEnvelope),
        (status = 400, description = "`bad_request`: the query string does not parse", body = ErrorEnvelope),
        (status = 422, description = "`validation_failed`: `required`, `too_long` or `control_characters` on `q`; `repeated_parameter`", body = ErrorEnvelope),
        (status = 401, description = "`unauthorized`: no valid bearer token", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[get("/dialogues/{id}/checkins/search")]
pub async fn door_search_api(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let q = crate::json::single_parameters(req.query_string(), &["q"])?
        .remove("q")
        .unwrap_or_default();
    let q = crate::text::required(&q, 200).map_err(|e| AppError::field("q", e))?;
    let items = door_search(&state, &id, q, staff.user.id)
        .await?
        .into_iter()
        .map(DoorPerson::from)
        .collect();
    Ok(HttpResponse::Ok().json(DoorSearchOutput { items }))
}

/// Takes back a mistaken check-in: a registered person keeps their seat, someone admitted
/// from the waitlist at the door goes back to their place on it, a walk-in's registration is
/// cancelled (its seat goes to the waitlist). Recorded.
#[utoipa::path(
    tag = "registrations",
    operation_id = "registrations_undo_check_in",
    params(("id" = uuid::Uuid, Path, description = "the dialogue's id")),
    request_body = CheckInInput,
    responses(
        (status = 200, description = "the person as they stand after the undo", body = DoorPerson),
        (status = 403, description = "`forbidden`: not an organizer or administrator", body = ErrorEnvelope),
        (status = 404, description = "`unknown_code`: no participant of this dialogue has this code; `not_found`: no such dialogue", body = ErrorEnvelope),
        (status = 409, description = "`not_checked_in`, `not_registered`, `dialogue_not_open`", body = ErrorEnvelope),
        (status = 401, description = "`unauthorized`: no valid bearer token", body = ErrorEnvelope),
        (status = 422, description = "`validation_failed`: `code` missing or not text (malformed JSON is 400 `malformed_json`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/dialogues/{id}/checkins/undo")]
pub async fn undo_check_in(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
    body: ApiJson<CheckInInput>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let (at, _) = at_door(&state, &id, body.0.code, DoorAction::Undo, staff.user.id).await?;
    Ok(HttpResponse::Ok().json(DoorPerson::from(at)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AdmitInput {
    /// The person's code (case, spaces and dashes ignored).
    pub code: String,
    /// When every seat is held: `true` admits the person beyond the capacity (recorded);
    /// without it the answer is `no_free_seat`.
    #[serde(default)]
    pub over_capacity: bool,
}

/// An organizer admits a waitlisted person at the door: they take a free seat, or go beyond
/// the capacity by the explicit `over_capacity`, and are checked in at once. Recorded.
/// A second call says `already_checked_in`.
#[utoipa::path(
    tag = "registrations",
    operation_id = "registrations_admit_from_waitlist",
    params(("id" = uuid::Uuid, Path, description = "the dialogue's id")),
    request_body = AdmitInput,
    responses(
        (status = 200, body = CheckInOutput),
        (status = 403, description = "`forbidden`: not an organizer or administrator", body = ErrorEnvelope),
        (status = 404, description = "`unknown_code`: no participant of this dialogue has this code; `not_found`: no such dialogue", body = ErrorEnvelope),
        (status = 409, description = "`no_free_seat` (every seat held, `over_capacity` not given), `not_waitlisted`, `not_registered`, `dialogue_not_open`", body = ErrorEnvelope),
        (status = 401, description = "`unauthorized`: no valid bearer token", body = ErrorEnvelope),
        (status = 422, description = "`validation_failed`: `code` missing or not text (malformed JSON is 400 `malformed_json`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/dialogues/{id}/waitlist/admit")]
pub async fn admit_from_waitlist(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
    body: ApiJson<AdmitInput>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let AdmitInput {
        code,
        over_capacity,
    } = body.0;
    let (at, again) = at_door(
        &state,
        &id,
        code,
        DoorAction::Admit { over_capacity },
        staff.user.id,
    )
    .await?;
    let registration = at
        .registration
        .as_ref()
        .ok_or_else(|| AppError::unexpected("an admitted person without a registration"))?;
    Ok(HttpResponse::Ok().json(CheckInOutput {
        registration: RegistrationView::of(registration, None),
        full_name: at.participant.full_name,
        already_checked_in: again,
    }))
}
