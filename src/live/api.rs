//! `/api/v1/dialogues/{id}/live…`, `/api/v1/questions/{id}/live-answer` and
//! `/api/v1/dialogues/{id}/commitments`: thin adapters over `ops` and the stream's `Hub`.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};

use super::hub::Hub;
use super::model::{
    CommitmentInput, CommitmentView, CurrentInput, LiveAnswerInput, LiveAnswerView, LiveState,
};
use super::ops;
use crate::auth::{MaybeStaff, Organizer};
use crate::db::{DialogueId, QuestionId};
use crate::error::{AppError, ErrorEnvelope, FieldError};
use crate::json::ApiJson;
use crate::state::AppState;

/// The hub as handlers get it (`web::Data<LiveHub>`).
pub struct LiveHub(pub Arc<Hub>);

/// Puts a question of the public queue on the projector, or clears it with `null`.
#[utoipa::path(
    tag = "live",
    operation_id = "live_set_current",
    params(("id" = uuid::Uuid, Path, description = "the dialogue's id")),
    request_body = CurrentInput,
    responses(
        (status = 200, description = "what the projector shows now", body = LiveState),
        (status = 401, body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: not an organizer", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such dialogue, or the question is not this dialogue's", body = ErrorEnvelope),
        (status = 409, description = "`dialogue_not_in_progress`; `not_in_queue`: the question is not in the public queue", body = ErrorEnvelope),
        (status = 422, description = "`validation_failed`", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[put("/dialogues/{id}/live")]
pub async fn set_current(
    state: web::Data<AppState>,
    organizer: Organizer,
    id: web::Path<DialogueId>,
    body: ApiJson<CurrentInput>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let staff = organizer.0;
    let live = state
        .db
        .write(move |conn| ops::set_current(conn, &staff, &id, &body.0))
        .await?;
    Ok(HttpResponse::Ok().json(live))
}

/// What the projector shows now: the current question and the next ones by votes.
#[utoipa::path(
    tag = "live",
    operation_id = "live_show",
    params(("id" = uuid::Uuid, Path, description = "the dialogue's id")),
    responses(
        (status = 200, body = LiveState),
        (status = 401, description = "`unauthorized`: a bearer token that is not valid", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such public dialogue", body = ErrorEnvelope),
    ),
    security((), ("bearer" = []))
)]
#[get("/dialogues/{id}/live")]
pub async fn show(
    state: web::Data<AppState>,
    viewer: MaybeStaff,
    id: web::Path<DialogueId>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let organizer = viewer.can_organize();
    let live = state
        .db
        .read(move |conn| {
            let dialogue = crate::questions::ops::visible_dialogue(conn, &id, organizer)?;
            ops::state(conn, &dialogue)
        })
        .await?;
    Ok(HttpResponse::Ok().json(live))
}

/// Most questions a stream client may name in `?votes=`: more than a page shows.
pub const WATCHED_MAX: usize = 100;

/// `?votes=id,id,…`: the questions whose counts the client shows, as stored ids.
fn watched_questions(req: &HttpRequest) -> Result<Option<Vec<String>>, AppError> {
    let parameters = crate::json::single_parameters(req.query_string(), &["votes"])?;
    let Some(raw) = parameters.get("votes") else {
        return Ok(None);
    };
    let mut ids = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let id = uuid::Uuid::parse_str(part)
            .map_err(|_| AppError::field("votes", FieldError::new("invalid_id")))?;
        ids.push(id.hyphenated().to_string());
    }
    ids.sort_unstable();
    ids.dedup();
    if ids.len() > WATCHED_MAX {
        return Err(AppError::field(
            "votes",
            FieldError::with_n("too_many", WATCHED_MAX as i64),
        ));
    }
    Ok(Some(ids))
}

/// The `Last-Event-ID` a reconnecting client sends (or `?last_event_id=` for clients that
/// cannot set headers); anything else is treated as a new client.
fn last_event_id(req: &HttpRequest) -> Option<i32> {
    let from_header = req
        .headers()
        .get("Last-Event-ID")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    from_header.or_else(|| {
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
            .ok()
            .and_then(|q| q.get("last_event_id").and_then(|v| v.trim().parse().ok()))
    })
}

/// Server-Sent Events of the dialogue: `current_question`, `question_approved`, `votes`
/// (coalesced, a few a second at most, at most 60 counts each: the question on screen and
/// the top 20 of the queue first, others in turn; or, with `?votes=`, every change of the
/// questions named there), `answer`. Logged events carry an `id`; a client
/// that reconnects with `Last-Event-ID` gets what it missed. A comment line every 15 s
/// keeps the connection open.
#[utoipa::path(
    tag = "live",
    operation_id = "live_events",
    params(
        ("id" = uuid::Uuid, Path, description = "the dialogue's id"),
        ("Last-Event-ID" = Option<i32>, Header, description = "the last event received, to resume"),
        ("votes" = Option<String>, Query, pattern = r"^([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}(,[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}){0,99})?$", description = "the questions whose counts this client shows, comma-separated ids (at most 100): its `votes` events then carry every change of those counts, and only those"),
    ),
    responses(
        (status = 200, description = "`text/event-stream`", content_type = "text/event-stream", body = String),
        (status = 401, description = "`unauthorized`: a bearer token that is not valid", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such public dialogue", body = ErrorEnvelope),
        (status = 422, description = "`validation_failed`: `invalid_id` or `too_many` (over 100) on `votes`, `repeated_parameter`", body = ErrorEnvelope),
        (status = 503, description = "`too_many_listeners`: this server has as many stream clients as it serves; see `Retry-After`", body = ErrorEnvelope),
    ),
    security((), ("bearer" = []))
)]
#[get("/dialogues/{id}/live/events")]
pub async fn events(
    hub: web::Data<LiveHub>,
    viewer: MaybeStaff,
    req: HttpRequest,
    id: web::Path<DialogueId>,
) -> Result<HttpResponse, AppError> {
    let watched = watched_questions(&req)?;
    let stream = hub
        .0
        .connect(&id, viewer.can_organize(), last_event_id(&req), watched)
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        // nginx: pass each event on at once rather than buffer the stream.
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(stream))
}

/// Records an answer given aloud during the dialogue; it goes into the minutes.
#[utoipa::path(
    tag = "live",
    operation_id = "live_answer",
    params(("id" = uuid::Uuid, Path, description = "the question's id")),
    request_body = LiveAnswerInput,
    responses(
        (status = 201, body = LiveAnswerView),
        (status = 401, body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: not an organizer", body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 409, description = "`dialogue_not_in_progress`; `invalid_transition`: the question is not in the public queue", body = ErrorEnvelope),
        (status = 422, description = "`validation_failed`: `required`/`too_long` on `speaker` or `summary`, `unknown_agency` on `agency_id`", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/questions/{id}/live-answer")]
pub async fn answer(
    state: web::Data<AppState>,
    organizer: Organizer,
    id: web::Path<QuestionId>,
    body: ApiJson<LiveAnswerInput>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let staff = organizer.0;
    let view = state
        .db
        .write(move |conn| ops::answer_live(conn, &staff, &id, &body.0))
        .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Records a commitment made at the dialogue (a memorandum on jobs, support promised).
#[utoipa::path(
    tag = "live",
    operation_id = "commitments_create",
    params(("id" = uuid::Uuid, Path, description = "the dialogue's id")),
    request_body = CommitmentInput,
    responses(
        (status = 201, body = CommitmentView),
        (status = 401, body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: not an organizer", body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 409, description = "`dialogue_not_in_progress`: only during or after the dialogue", body = ErrorEnvelope),
        (status = 422, description = "`validation_failed`: `required`/`too_long` on `party` or `description`, `jobs_out_of_range` on `jobs_offered`, `invalid_choice` on `kind`", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/dialogues/{id}/commitments")]
pub async fn add_commitment(
    state: web::Data<AppState>,
    organizer: Organizer,
    id: web::Path<DialogueId>,
    body: ApiJson<CommitmentInput>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let staff = organizer.0;
    let view = state
        .db
        .write(move |conn| ops::add_commitment(conn, &staff, &id, &body.0))
        .await?;
    Ok(HttpResponse::Created().json(view))
}
