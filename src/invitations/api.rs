//! `/api/v1/dialogues/{id}/invitations…`, `/api/v1/invitations/{id}/…` and `/api/v1/me…`

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::{InvitationStatus, InvitationView};
use super::{csv_import, ops, store};
use crate::audit::Actor;
use crate::auth::Organizer;
use crate::db::{DialogueId, InvitationId};
use crate::dialogues;
use crate::error::{AppError, ErrorEnvelope, FieldError, FieldErrors};
use crate::i18n::Lang;
use crate::json::{ApiJson, PageOf, Paging, PagingParams, StatusParam, read_body, status_filter};
use crate::participants::model::PersonInput;
use crate::participants::notify::Mailing;
use crate::state::AppState;

/// A CSV file of 20,000 rows is about 2 MB; leave room for long addresses.
const CSV_LIMIT: usize = 8 * 1024 * 1024;

#[derive(Debug, Deserialize, ToSchema)]
pub struct InviteesInput {
    /// At most 20,000.
    #[schema(max_items = 20_000)]
    pub invitees: Vec<PersonInput>,
}

/// Adds invitees. All-or-nothing: any invalid entry → 422 naming `invitees[i].field`.
/// People already invited (same email, or same name and phone) are reported, not added.
#[utoipa::path(
    tag = "invitations",
    operation_id = "invitations_add",
    params(("id" = uuid::Uuid, Path, description = "the dialogue's id")),
    request_body = InviteesInput,
    responses(
        (status = 201, body = ops::AddResult),
        (status = 403, description = "`forbidden`: not an organizer or administrator", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such dialogue", body = ErrorEnvelope),
        (status = 409, description = "`dialogue_closed`: concluded or cancelled; `already_exists` when two requests race", body = ErrorEnvelope),
        (status = 422, description = "`validation_failed`: fields named `invitees[i].field`; `too_many` on `invitees`", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/dialogues/{id}/invitations")]
pub async fn add(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
    body: ApiJson<InviteesInput>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let mut errors = FieldErrors::new();
    if body.0.invitees.len() > csv_import::MAX_ROWS {
        errors.add(
            "invitees",
            FieldError::with_n("too_many", csv_import::MAX_ROWS as i64),
        );
    }
    let people: Vec<_> = body
        .0
        .invitees
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            p.parse(&format!("invitees[{i}]."), &mut errors)
                .map(|person| (i, person))
        })
        .collect();
    errors.into_result()?;
    let actor = Actor::User(staff.user.id);
    let result = state
        .db
        .write(move |conn| {
            let dialogue = dialogues::store::find(conn, &id)?.ok_or(AppError::NotFound)?;
            ops::add_people(conn, &dialogue, people, &actor)
        })
        .await?;
    Ok(HttpResponse::Created().json(result))
}

/// Adds invitees from a CSV file (UTF-8) or an Excel workbook (.xlsx, its first sheet).
/// The header names the columns in Vietnamese or English, ignoring case and diacritics
/// (`Họ và tên`/`full_name`, `Email`, `Số điện thoại`/`phone`, `Nhóm`/`category`,
/// `Địa chỉ`/`address`); a group is its code or its label, ignoring case, diacritics and
/// punctuation. All-or-nothing: any bad row → 422 `invalid_csv` listing every bad row's
/// line (a CSV's header is line 1; in a workbook, the row number Excel shows), field,
/// column name, value, the accepted values and a message saying it all.
#[utoipa::path(
    tag = "invitations",
    operation_id = "invitations_import",
    params(("id" = uuid::Uuid, Path, description = "the dialogue's id")),
    request_body(content = String, content_type = "text/csv", description = "UTF-8 CSV with a header line, or the bytes of an .xlsx workbook (`application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`). The file is recognised by its content (an .xlsx is a ZIP package), whatever the `Content-Type`"),
    responses(
        (status = 201, body = ops::AddResult),
        (status = 400, description = "`bad_request`: the body could not be read", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: not an organizer or administrator", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such dialogue", body = ErrorEnvelope),
        (status = 409, description = "`dialogue_closed`: concluded or cancelled; `already_exists` when two requests race", body = ErrorEnvelope),
        (status = 413, description = "`payload_too_large`: over 8 MiB", body = ErrorEnvelope),
        (status = 422, description = "`invalid_csv` with `rows`", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/dialogues/{id}/invitations/import")]
pub async fn import(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let bytes = read_body(payload, CSV_LIMIT).await?;
    let result =
        ops::import_csv(&state, &id, &bytes, Lang::of_request(&req), staff.user.id).await?;
    Ok(HttpResponse::Created().json(result))
}

/// `?status=` as the OpenAPI document shows it (read by `json::status_filter`).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct StatusFilter {
    /// Only invitations in this status; absent or empty means all.
    #[param(schema_with = status_filter_schema)]
    status: Option<String>,
}

fn status_filter_schema() -> utoipa::openapi::schema::Object {
    let mut codes = vec![""];
    codes.extend(InvitationStatus::ALL.iter().map(|s| s.as_str()));
    crate::json::schema::one_of(&codes).build()
}

/// Invitees with their contact details, group, code and status (organizers only; each view
/// is written to the audit log).
#[utoipa::path(
    tag = "invitations",
    operation_id = "invitations_list",
    params(("id" = uuid::Uuid, Path, description = "the dialogue's id"), StatusFilter, PagingParams),
    responses(
        (status = 200, body = PageOf<InvitationView>),
        (status = 403, description = "`forbidden`: not an organizer or administrator", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such dialogue", body = ErrorEnvelope),
        (status = 422, description = "`validation_failed`: `invalid_choice` on `status`, or paging out of range", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[get("/dialogues/{id}/invitations")]
pub async fn list(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
    paging: Paging,
    filter: StatusParam,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let status = status_filter(filter.0.as_deref(), InvitationStatus::from_code)?;
    let user_id = staff.user.id;
    let (rows, total) = state
        .db
        .write(move |conn| {
            dialogues::store::find(conn, &id)?.ok_or(AppError::NotFound)?;
            crate::audit::view(conn, &id, &user_id, "invitations.view")?;
            Ok(store::list(
                conn,
                &id,
                status,
                paging.offset(),
                paging.per_page,
            )?)
        })
        .await?;
    let items = rows.iter().map(|(i, p)| InvitationView::of(i, p)).collect();
    Ok(HttpResponse::Ok().json(PageOf::new(items, total, paging)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Queued {
    pub queued: usize,
}

/// Queues an invitation email for every invitee with an address who was not sent one.
/// Repeating it sends nothing twice.
#[utoipa::path(
    tag = "invitations",
    operation_id = "invitations_send",
    params(("id" = uuid::Uuid, Path, description = "the dialogue's id")),
    responses(
        (status = 200, body = Queued),
        (status = 403, description = "`forbidden`: not an organizer or administrator", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such dialogue", body = ErrorEnvelope),
        (status = 409, description = "`dialogue_not_open`", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/dialogues/{id}/invitations/send")]
pub async fn send(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let queued = ops::send_invitations(&state, &id, staff.user.id).await?;
    Ok(HttpResponse::Ok().json(Queued { queued }))
}

/// Sends one invitation again, with a new link (the code stays).
#[utoipa::path(
    tag = "invitations",
    operation_id = "invitations_resend",
    params(("id" = uuid::Uuid, Path, description = "the invitation's id")),
    responses(
        (status = 200, body = InvitationView),
        (status = 403, description = "`forbidden`: not an organizer or administrator", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such invitation", body = ErrorEnvelope),
        (status = 409, description = "`no_email`, `dialogue_not_open`", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/invitations/{id}/resend")]
pub async fn resend(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    id: web::Path<InvitationId>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let st = state.get_ref().clone();
    let actor = Actor::User(staff.user.id);
    let view = state
        .db
        .write(move |conn| {
            ops::resend(conn, Mailing::of(&st), &id, &actor)?;
            let (invitation, person) = store::find(conn, &id)?.ok_or(AppError::NotFound)?;
            Ok(InvitationView::of(&invitation, &person))
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Reissued {
    /// The new short code.
    pub code: String,
    /// The new personal link (shown once; only its hash is kept).
    pub link: String,
}

/// Gives the invitee a new personal link and code; the old ones stop working.
#[utoipa::path(
    tag = "invitations",
    operation_id = "invitations_reissue",
    params(("id" = uuid::Uuid, Path, description = "the invitation's id")),
    responses(
        (status = 200, body = Reissued),
        (status = 403, description = "`forbidden`: not an organizer or administrator", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such invitation", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/invitations/{id}/reissue")]
pub async fn reissue(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    id: web::Path<InvitationId>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let actor = Actor::User(staff.user.id);
    let (person, token) = state
        .db
        .write(move |conn| ops::reissue(conn, &id, &actor))
        .await?;
    Ok(HttpResponse::Ok().json(Reissued {
        code: person.code,
        link: state.settings.link(&format!("/p/{token}")),
    }))
}

/// `?only=` of the printed letters, as the OpenAPI document shows it.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LettersQuery {
    /// `without_email`: only invitees with no email address; absent, empty or `all`: every
    /// invitee.
    #[param(schema_with = only_schema)]
    pub only: Option<String>,
}

fn only_schema() -> utoipa::openapi::schema::Object {
    crate::json::schema::one_of(&["", "all", "without_email"]).build()
}

impl LettersQuery {
    pub fn parse(&self) -> Result<super::letters::Only, AppError> {
        use super::letters::Only;
        match self.only.as_deref().map(str::trim) {
            None | Some("") | Some("all") => Ok(Only::All),
            Some("without_email") => Ok(Only::WithoutEmail),
            Some(_) => {
                let mut errors = FieldErrors::new();
                errors.add("only", FieldError::new("invalid_choice"));
                Err(AppError::Validation(errors))
            }
        }
    }
}

/// Printable invitation letters (PDF, A4): one invitee per page with the personal code and
/// a QR code of the personal link, in Vietnamese name order. Each printing is written to the
/// audit log.
#[utoipa::path(
    tag = "invitations",
    operation_id = "invitations_letters",
    params(("id" = uuid::Uuid, Path, description = "the dialogue's id"), LettersQuery),
    responses(
        (status = 200, description = "application/pdf", content_type = "application/pdf", body = Vec<u8>),
        (status = 403, description = "`forbidden`: not an organizer or administrator", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such dialogue", body = ErrorEnvelope),
        (status = 422, description = "`validation_failed`: `invalid_choice` on `only`; `repeated_parameter`", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[get("/dialogues/{id}/invitations/letters.pdf")]
pub async fn letters(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, AppError> {
    // Read like every other list's parameters: a repeated `only` is 422 `repeated_parameter`.
    let raw = crate::json::single_parameters(req.query_string(), &["only"])?;
    let only = LettersQuery {
        only: raw.get("only").cloned(),
    }
    .parse()?;
    let bytes = ops::letters_pdf(&state, &id.into_inner(), only, &staff.user.id).await?;
    Ok(crate::pdf::response(bytes, "giay-moi.pdf", false))
}

/// Corrects an invitee's details: the whole person as when adding (name, email, phone,
/// group, address). Their code, link and answer stay.
#[utoipa::path(
    tag = "invitations",
    operation_id = "invitations_edit",
    params(("id" = uuid::Uuid, Path, description = "the invitation's id")),
    request_body = PersonInput,
    responses(
        (status = 200, body = InvitationView),
        (status = 403, description = "`forbidden`: not an organizer or administrator", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such invitation", body = ErrorEnvelope),
        (status = 409, description = "`dialogue_closed`: concluded or cancelled; `already_exists`: another person in the dialogue has this email, or this name and phone", body = ErrorEnvelope),
        (status = 422, description = "`validation_failed`: fields named as when adding", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[patch("/invitations/{id}")]
pub async fn edit(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    id: web::Path<InvitationId>,
    body: ApiJson<PersonInput>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let mut errors = FieldErrors::new();
    let person = body.0.parse("", &mut errors);
    let person = match person {
        Some(person) if errors.is_empty() => person,
        _ => return Err(AppError::Validation(errors)),
    };
    let actor = Actor::User(staff.user.id);
    let (invitation, person) = state
        .db
        .write(move |conn| ops::edit_invitee(conn, &id, person, &actor))
        .await?;
    Ok(HttpResponse::Ok().json(InvitationView::of(&invitation, &person)))
}

/// Removes an invitee who has not taken part (see docs/USER_GUIDE.md): their invitation
/// and their personal details are deleted.
#[utoipa::path(
    tag = "invitations",
    operation_id = "invitations_remove",
    params(("id" = uuid::Uuid, Path, description = "the invitation's id")),
    responses(
        (status = 204, description = "removed"),
        (status = 403, description = "`forbidden`: not an organizer or administrator", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such invitation", body = ErrorEnvelope),
        (status = 409, description = "`invitee_registered`: accepted, registered, checked in, asked a question or voted; `invitation_queued`: the email is being sent; `dialogue_closed`", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[delete("/invitations/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    id: web::Path<InvitationId>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let actor = Actor::User(staff.user.id);
    state
        .db
        .write(move |conn| ops::remove_invitee(conn, &id, &actor))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
