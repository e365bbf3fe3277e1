//! `/api/v1/questions/{id}/assignments`, `/api/v1/dialogues/{id}/assignments`,
//! `/api/v1/assignments…`, the questions export and the overview: thin adapters over `ops`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use super::export;
use super::model::{AssignmentStatus, AssignmentView};
use super::ops::{self, Action, AssignInput, Overview, ReasonInput, ResponseInput, Viewer};
use super::store::Filter;
use crate::auth::{MaybeStaff, Organizer, Staff};
use crate::db::{AgencyId, AssignmentId, DialogueId, QuestionId};
use crate::error::{AppError, ErrorEnvelope, FieldError, FieldErrors};
use crate::i18n::Lang;
use crate::json::{ApiJson, PageOf, Paging, PagingParams, schema};
use crate::questions;
use crate::state::AppState;

const ASSIGN_ERRORS_409: &str =
    "`invalid_transition`: a question is not approved (or already with an agency)";
const ASSIGN_ERRORS_422: &str = "`validation_failed`: `unknown_agency` on `agency_id`; `invalid_datetime`, `out_of_range`, `must_be_future` on `due_at`; `batch_size`, `one_dialogue` on `question_ids`";

/// Hands one approved question to an agency; its staff are emailed.
#[utoipa::path(
    tag = "assignments",
    operation_id = "assignments_create",
    params(("id" = uuid::Uuid, Path, description = "the question's id")),
    request_body = AssignInput,
    responses(
        (status = 201, body = AssignmentView),
        (status = 401, body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: not an organizer", body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 409, description = ASSIGN_ERRORS_409, body = ErrorEnvelope),
        (status = 422, description = ASSIGN_ERRORS_422, body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/questions/{id}/assignments")]
pub async fn assign_one(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    id: web::Path<QuestionId>,
    body: ApiJson<AssignInput>,
) -> Result<HttpResponse, AppError> {
    let mut made = ops::assign_questions(&state, staff, vec![id.into_inner()], body.0).await?;
    let one = made.pop().ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Created().json(one))
}

/// Several questions for one agency at once.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchAssignInput {
    /// 1 to 200 approved questions of this dialogue.
    pub question_ids: Vec<QuestionId>,
    pub agency_id: AgencyId,
    #[schema(value_type = String, format = DateTime)]
    pub due_at: String,
    #[schema(schema_with = schema::optional_multiline_text::<1000>)]
    pub note: Option<String>,
}

/// Hands several approved questions of the dialogue to one agency: all or none. The
/// agency's staff get one email for the batch.
#[utoipa::path(
    tag = "assignments",
    operation_id = "assignments_create_batch",
    params(("id" = uuid::Uuid, Path, description = "the dialogue's id")),
    request_body = BatchAssignInput,
    responses(
        (status = 201, body = Vec<AssignmentView>),
        (status = 401, body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: not an organizer", body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 409, description = ASSIGN_ERRORS_409, body = ErrorEnvelope),
        (status = 422, description = ASSIGN_ERRORS_422, body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/dialogues/{id}/assignments")]
pub async fn assign_batch(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
    body: ApiJson<BatchAssignInput>,
) -> Result<HttpResponse, AppError> {
    let dialogue_id = id.into_inner();
    let input = body.0;
    let ids = input.question_ids.clone();
    let check_ids = ids.clone();
    state
        .db
        .read(move |conn| {
            for q in &check_ids {
                let found = questions::store::find(conn, q)?;
                if found.is_none_or(|q| q.dialogue_id != dialogue_id) {
                    return Err(AppError::field(
                        "question_ids",
                        FieldError::new("one_dialogue"),
                    ));
                }
            }
            Ok(())
        })
        .await?;
    let assign = AssignInput {
        agency_id: input.agency_id,
        due_at: input.due_at,
        note: input.note,
    };
    let made = ops::assign_questions(&state, staff, ids, assign).await?;
    Ok(HttpResponse::Created().json(made))
}

/// `?status=&overdue=&dialogue_id=` as the OpenAPI document shows them.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct AssignmentParams {
    #[param(schema_with = status_schema)]
    status: Option<String>,
    /// `true`: only those past due and still with the agency.
    #[param(schema_with = overdue_schema)]
    overdue: Option<String>,
    /// Only this dialogue's (empty means all).
    #[param(schema_with = dialogue_id_schema)]
    dialogue_id: Option<String>,
}

fn status_schema() -> utoipa::openapi::schema::Object {
    let mut codes = vec![""];
    codes.extend(AssignmentStatus::ALL.iter().map(|s| s.as_str()));
    schema::one_of(&codes).build()
}

fn dialogue_id_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type};
    OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([""])),
        )
        .into()
}

fn overdue_schema() -> utoipa::openapi::schema::Object {
    schema::one_of(&["", "true", "false"]).build()
}

fn parse_filter(query: &str) -> Result<Filter, AppError> {
    let raw = crate::json::single_parameters(query, &["status", "overdue", "dialogue_id"])?;
    let value = |name: &str| raw.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let mut errors = FieldErrors::new();
    let invalid = || FieldError::new("invalid_choice");
    let status = value("status")
        .and_then(|v| errors.take("status", AssignmentStatus::from_code(v).ok_or_else(invalid)));
    let overdue = match value("overdue") {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            errors.add("overdue", invalid());
            false
        }
    };
    let dialogue_id = value("dialogue_id").and_then(|v| {
        errors.take(
            "dialogue_id",
            DialogueId::parse(v)
                .map(String::from)
                .ok_or_else(|| FieldError::new("invalid_id")),
        )
    });
    errors.into_result()?;
    Ok(Filter {
        dialogue_id,
        agency_id: None,
        status,
        statuses: Vec::new(),
        overdue,
    })
}

/// Assignments, soonest due first: organizers see all, agency staff their agency's only.
#[utoipa::path(
    tag = "assignments",
    operation_id = "assignments_list",
    params(AssignmentParams, PagingParams),
    responses(
        (status = 200, body = PageOf<AssignmentView>),
        (status = 401, body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: neither an organizer nor an agency's staff", body = ErrorEnvelope),
        (status = 422, description = "`validation_failed`: `invalid_choice` on `status` or `overdue`, `invalid_id` on `dialogue_id`; paging out of range", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[get("/assignments")]
pub async fn list(
    state: web::Data<AppState>,
    staff: Staff,
    req: HttpRequest,
    paging: Paging,
) -> Result<HttpResponse, AppError> {
    let viewer = Viewer::of(staff)?;
    let filter = parse_filter(req.query_string())?;
    let (items, total) = state
        .db
        .read(move |conn| ops::list(conn, &viewer, filter, paging.offset(), paging.per_page))
        .await?;
    Ok(HttpResponse::Ok().json(PageOf::new(items, total, paging)))
}

/// One assignment (agency staff: their agency's only; another's is 404).
#[utoipa::path(
    tag = "assignments",
    operation_id = "assignments_show",
    params(("id" = uuid::Uuid, Path, description = "the assignment's id")),
    responses(
        (status = 200, body = AssignmentView),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[get("/assignments/{id}")]
pub async fn show(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<AssignmentId>,
) -> Result<HttpResponse, AppError> {
    let viewer = Viewer::of(staff)?;
    let id = id.into_inner();
    let view = state
        .db
        .read(move |conn| ops::show(conn, &viewer, &id))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

const AGENCY_403: &str =
    "`forbidden`: not the agency's staff; `agency_only`: organizers do not answer for an agency";

/// The agency declines: the organizer is told and can hand the question to another agency.
#[utoipa::path(
    tag = "assignments",
    operation_id = "assignments_decline",
    params(("id" = uuid::Uuid, Path, description = "the assignment's id")),
    request_body = ReasonInput,
    responses(
        (status = 200, body = AssignmentView),
        (status = 401, body = ErrorEnvelope),
        (status = 403, description = AGENCY_403, body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such assignment for this agency", body = ErrorEnvelope),
        (status = 409, description = "`invalid_transition`: not awaiting the agency", body = ErrorEnvelope),
        (status = 422, description = "`validation_failed`: `required` on `reason`", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/assignments/{id}/decline")]
pub async fn decline(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<AssignmentId>,
    body: ApiJson<ReasonInput>,
) -> Result<HttpResponse, AppError> {
    let view = ops::act(&state, staff, id.into_inner(), Action::Decline(body.0)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The agency saves a draft (`submit: false`) or submits its answer (`submit: true`).
#[utoipa::path(
    tag = "assignments",
    operation_id = "assignments_respond",
    params(("id" = uuid::Uuid, Path, description = "the assignment's id")),
    request_body = ResponseInput,
    responses(
        (status = 200, body = AssignmentView),
        (status = 401, body = ErrorEnvelope),
        (status = 403, description = AGENCY_403, body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such assignment for this agency", body = ErrorEnvelope),
        (status = 409, description = "`invalid_transition`: submitted already, published or declined", body = ErrorEnvelope),
        (status = 422, description = "`validation_failed`: `required`, `too_long` on `body`", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/assignments/{id}/response")]
pub async fn respond(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<AssignmentId>,
    body: ApiJson<ResponseInput>,
) -> Result<HttpResponse, AppError> {
    let view = ops::act(&state, staff, id.into_inner(), Action::Respond(body.0)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Approves the submitted answer: published on the dialogue's page, the asker told.
#[utoipa::path(
    tag = "assignments",
    operation_id = "assignments_approve",
    params(("id" = uuid::Uuid, Path, description = "the assignment's id")),
    responses(
        (status = 200, body = AssignmentView),
        (status = 401, body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: not an organizer", body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 409, description = "`invalid_transition`: no submitted answer waiting", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/assignments/{id}/approve")]
pub async fn approve(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<AssignmentId>,
) -> Result<HttpResponse, AppError> {
    let view = ops::act(&state, staff, id.into_inner(), Action::Approve).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Sends the answer back to the agency with a reason (the agency is emailed).
#[utoipa::path(
    tag = "assignments",
    operation_id = "assignments_return",
    params(("id" = uuid::Uuid, Path, description = "the assignment's id")),
    request_body = ReasonInput,
    responses(
        (status = 200, body = AssignmentView),
        (status = 401, body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: not an organizer", body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 409, description = "`invalid_transition`: no submitted answer waiting", body = ErrorEnvelope),
        (status = 422, description = "`validation_failed`: `required` on `reason`", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/assignments/{id}/return")]
pub async fn return_answer(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<AssignmentId>,
    body: ApiJson<ReasonInput>,
) -> Result<HttpResponse, AppError> {
    let view = ops::act(&state, staff, id.into_inner(), Action::Return(body.0)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The dialogue's questions with status, agency, due date and answer, as CSV (UTF-8 with
/// BOM). Askers are named only where they chose to be; formula-like cells are made inert.
#[utoipa::path(
    tag = "assignments",
    operation_id = "questions_export",
    params(("id" = uuid::Uuid, Path, description = "the dialogue's id")),
    responses(
        (status = 200, description = "text/csv", content_type = "text/csv", body = String),
        (status = 401, body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: not an organizer", body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[get("/dialogues/{id}/questions.csv")]
pub async fn export_csv(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of_request(&req);
    let id = id.into_inner();
    let user_id = staff.user.id;
    let bytes = state
        .db
        .write(move |conn| {
            let dialogue = crate::dialogues::store::find(conn, &id)?.ok_or(AppError::NotFound)?;
            crate::audit::view(conn, &id, &user_id, "questions.export")?;
            export::questions_csv(conn, &dialogue, lang)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"cau-hoi.csv\"",
        ))
        .body(bytes))
}

/// Counts without names: questions by topic, answers by agency and state (and, for
/// organizers, questions by status).
#[utoipa::path(
    tag = "assignments",
    operation_id = "questions_overview",
    params(("id" = uuid::Uuid, Path, description = "the dialogue's id")),
    responses(
        (status = 200, body = Overview),
        (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
    ),
    security((), ("bearer" = []))
)]
#[get("/dialogues/{id}/overview")]
pub async fn overview(
    state: web::Data<AppState>,
    staff: MaybeStaff,
    id: web::Path<DialogueId>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let organizer = staff.can_organize();
    let view = state
        .db
        .read(move |conn| ops::overview_of(conn, &id, organizer))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
