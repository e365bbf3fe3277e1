//! `/api/v1/dialogues/{id}/questions`, `/api/v1/questions/{id}…` and the participant's
//! `/api/v1/me/questions/{id}/withdraw`: thin adapters over `ops`.

use actix_web::{FromRequest, HttpRequest, HttpResponse, delete, get, patch, post, put, web};

use super::model::{ListedQuestion, OrganizerQuestion, OwnQuestion, QuestionStatus, Topic};
use super::ops::{
    self, Asker, ModerationInput, QuestionDetail, QuestionInput, QuestionLimiter, QuestionPatch,
    QueuePage, QueueQuery, VoteOutput,
};
use crate::auth::{Organizer, Staff, secrets};
use crate::cache::ShortCache;
use crate::db::{DialogueId, QuestionId};
use crate::error::{AppError, ErrorEnvelope};
use crate::json::{ApiJson, PageOf, Paging, PagingParams};
use crate::participants;
use crate::participants::auth::{ParticipantAuth, ParticipantCredential};
use crate::ratelimit::client_ip;
use crate::state::AppState;

const UNAUTHORIZED: &str =
    "`unauthorized`: a credential that is neither a staff session nor a participant's link or code";

/// Who sends the question: staff (a session token), a participant (link token or code), or
/// nobody. A credential that matches no one is refused rather than taken as anonymous.
async fn asker(state: &AppState, req: &HttpRequest) -> Result<Asker, AppError> {
    let Some(token) = crate::auth::bearer(req) else {
        return Ok(Asker::Anonymous(client_ip(
            req,
            state.settings.trusted_proxy,
        )));
    };
    // A participant's short code is never a staff session (those are long random tokens):
    // skip that lookup, one database trip less for the most common asker on the day.
    if token.trim().len() <= participants::auth::SHORT_CODE_MAX_LEN {
        return participants::auth::find_limited(state, req, token)
            .await?
            .map(Asker::Participant)
            .ok_or(AppError::Unauthorized);
    }
    let hash = secrets::hash_token(&token);
    let session = state
        .db
        .read(move |conn| {
            Ok(crate::auth::store::find_session(
                conn,
                &hash,
                crate::db::now(),
            )?)
        })
        .await?;
    if let Some((user, token_id)) = session {
        return Ok(Asker::Staff(Staff { user, token_id }));
    }
    participants::auth::find_limited(state, req, token)
        .await?
        .map(Asker::Participant)
        .ok_or(AppError::Unauthorized)
}

/// Submits a question: a participant with their link or code; anyone without a credential
/// when the dialogue takes anonymous questions; organizers for someone, from a paper form or
/// the floor (`channel`, `asker_name`, `asker_agreed`).
#[utoipa::path(
    tag = "questions",
    operation_id = "questions_submit",
    params(("id" = uuid::Uuid, Path, description = "the dialogue's id")),
    request_body = QuestionInput,
    responses(
        (status = 201, description = "submitted, waiting for the organizers", body = OwnQuestion),
        (status = 401, description = UNAUTHORIZED, body = ErrorEnvelope),
        (status = 403, description = "`anonymous_questions_closed`: this dialogue needs a participant's link or code; `forbidden`: agency staff do not enter questions", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such public dialogue, or not the participant's", body = ErrorEnvelope),
        (status = 409, description = "`question_deadline_passed`, `dialogue_not_open`, `duplicate_question` (the same text in the last 10 minutes)", body = ErrorEnvelope),
        (status = 422, description = "`validation_failed`: `too_short`/`too_long` on `body`, `invalid_choice` on `topic`, `must_be_empty` on `website`, `required_for_staff`/`only_for_staff` on `channel`, `consent_required` on `asker_agreed`", body = ErrorEnvelope),
        (status = 429, description = "`rate_limited`: too many questions without a credential from this address or for this dialogue; see `Retry-After`", body = ErrorEnvelope),
    ),
    security((), ("bearer" = []))
)]
#[post("/dialogues/{id}/questions")]
pub async fn submit(
    state: web::Data<AppState>,
    limiter: web::Data<QuestionLimiter>,
    req: HttpRequest,
    id: web::Path<DialogueId>,
    body: ApiJson<QuestionInput>,
) -> Result<HttpResponse, AppError> {
    // A participant's short code, the most common asker on the day: looked up as late as it
    // can be (inside the write on SQLite).
    if crate::auth::bearer(&req)
        .is_some_and(|token| token.trim().len() <= participants::auth::SHORT_CODE_MAX_LEN)
    {
        let credential =
            ParticipantCredential::from_request(&req, &mut actix_web::dev::Payload::None).await?;
        let question =
            ops::submit_with_credential(&state, id.into_inner(), credential, body.0).await?;
        return Ok(HttpResponse::Created().json(question));
    }
    let asker = asker(&state, &req).await?;
    let question = ops::submit_question(&state, &limiter, id.into_inner(), asker, body.0).await?;
    Ok(HttpResponse::Created().json(question))
}

/// `?status=&topic=&sort=` as the OpenAPI document shows them (read by `QueueQuery::parse`).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct QueueParams {
    /// Only questions in this status. Others than organizers see the public statuses only
    /// (`approved`, `assigned`, `answered`, `answered_live`); another status lists nothing.
    #[param(schema_with = status_schema)]
    status: Option<String>,
    #[param(schema_with = topic_schema)]
    topic: Option<String>,
    /// `votes` (most first, default), `recent`, `oldest`, `topic`.
    #[param(schema_with = sort_schema)]
    sort: Option<String>,
}

fn codes_or_empty<'a>(codes: impl Iterator<Item = &'a str>) -> utoipa::openapi::schema::Object {
    let mut all = vec![""];
    all.extend(codes);
    crate::json::schema::one_of(&all).build()
}

fn status_schema() -> utoipa::openapi::schema::Object {
    codes_or_empty(QuestionStatus::ALL.iter().map(|s| s.as_str()))
}

fn topic_schema() -> utoipa::openapi::schema::Object {
    codes_or_empty(Topic::ALL.iter().map(|s| s.as_str()))
}

fn sort_schema() -> utoipa::openapi::schema::Object {
    codes_or_empty(["votes", "recent", "oldest", "topic"].into_iter())
}

/// The dialogue's questions. Organizers see every status and who asked; anyone else sees
/// the public queue, with an asker named only when they chose to be. A participant of the
/// dialogue (link token or code) also gets `voted` on each question.
#[utoipa::path(
    tag = "questions",
    operation_id = "questions_list",
    params(("id" = uuid::Uuid, Path, description = "the dialogue's id"), QueueParams, PagingParams),
    responses(
        (status = 200, description = "organizers get `OrganizerQuestion` items; a participant of this dialogue `ListedQuestion` items with `voted`; everyone else (a participant of another dialogue too) the same items without `voted`", body = PageOf<ListedQuestion>),
        (status = 401, description = UNAUTHORIZED, body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such public dialogue", body = ErrorEnvelope),
        (status = 422, description = "`validation_failed`: `invalid_choice` on `status`, `topic` or `sort`; paging out of range; `repeated_parameter`", body = ErrorEnvelope),
        (status = 429, description = "`rate_limited`: too many credentials that match nobody from this address; see `Retry-After`", body = ErrorEnvelope),
    ),
    security((), ("bearer" = []))
)]
#[get("/dialogues/{id}/questions")]
pub async fn list(
    state: web::Data<AppState>,
    cache: web::Data<PublicQueueCache>,
    req: HttpRequest,
    id: web::Path<DialogueId>,
    paging: Paging,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    // Who is reading comes first, as when it was an extractor: a bad credential is 401
    // whatever the query says.
    let (organizer, voter) = match asker(&state, &req).await? {
        Asker::Staff(staff) => (staff.can_organize(), None),
        Asker::Participant(p) if p.dialogue_id == id => (false, Some(p.id)),
        // Another dialogue's participant reads what anyone may, and learns nothing more.
        Asker::Participant(_) | Asker::Anonymous(_) => (false, None),
    };
    let query = QueueQuery::parse(req.query_string())?;
    // Everyone but organizers and the dialogue's own participants reads the same bytes.
    let shared = !organizer && voter.is_none();
    if shared {
        let key = PublicQueueCache::key(&id, &query, &paging);
        let json = cache
            .0
            .get_or_fill(&key, || async {
                let page = ops::queue(&state, id, false, query, paging.offset(), paging.per_page);
                match page.await? {
                    QueuePage::Public(items, total) => to_json(&PageOf::new(items, total, paging)),
                    QueuePage::Organizer(..) => {
                        Err(AppError::unexpected("an organizer's queue for everyone"))
                    }
                }
            })
            .await?;
        return Ok(json_response(json));
    }
    let page = ops::queue(
        &state,
        id,
        organizer,
        query,
        paging.offset(),
        paging.per_page,
    )
    .await?;
    Ok(match (page, voter) {
        (QueuePage::Public(items, total), Some(voter)) => {
            let voted = ops::votes_of(&state, voter).await?;
            HttpResponse::Ok().json(PageOf::new(ops::mark_votes(items, &voted), total, paging))
        }
        (QueuePage::Public(items, total), None) => {
            HttpResponse::Ok().json(PageOf::new(items, total, paging))
        }
        (QueuePage::Organizer(items, total), _) => {
            HttpResponse::Ok().json(PageOf::new(items, total, paging))
        }
    })
}

/// The public queue's answers, shared by every reader for at most a second (see
/// `crate::cache`): on the day a whole hall reloads the same few views.
pub struct PublicQueueCache(pub ShortCache<web::Bytes>);

impl Default for PublicQueueCache {
    fn default() -> PublicQueueCache {
        PublicQueueCache(ShortCache::new(std::time::Duration::from_secs(1), 5_000))
    }
}

impl PublicQueueCache {
    /// Starts with the dialogue's id, so that its entries can be forgotten together.
    fn key(id: &str, query: &QueueQuery, paging: &Paging) -> String {
        format!(
            "{id}/{:?}/{:?}/{:?}/{}/{}",
            query.status,
            query.topic,
            query.sort,
            paging.offset(),
            paging.per_page
        )
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<web::Bytes, AppError> {
    serde_json::to_vec(value)
        .map(web::Bytes::from)
        .map_err(|e| AppError::unexpected(format!("serialising the queue: {e}")))
}

fn json_response(json: web::Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(json)
}

/// One question for a moderator: who asked, the first wording, similar earlier questions
/// and its history.
#[utoipa::path(
    tag = "questions",
    operation_id = "questions_show",
    params(("id" = uuid::Uuid, Path, description = "the question's id")),
    responses(
        (status = 200, body = QuestionDetail),
        (status = 401, body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: not an organizer", body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[get("/questions/{id}")]
pub async fn show(
    state: web::Data<AppState>,
    _organizer: Organizer,
    id: web::Path<QuestionId>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let detail = state.db.read(move |conn| ops::detail(conn, &id)).await?;
    Ok(HttpResponse::Ok().json(detail))
}

/// Rewords a question or changes its topic. The first wording is kept as `original_body`.
#[utoipa::path(
    tag = "questions",
    operation_id = "questions_edit",
    params(("id" = uuid::Uuid, Path, description = "the question's id")),
    request_body = QuestionPatch,
    responses(
        (status = 200, body = OrganizerQuestion),
        (status = 401, body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: not an organizer", body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 409, description = "`invalid_transition`: merged or withdrawn", body = ErrorEnvelope),
        (status = 422, description = "`validation_failed` on `body` or `topic`", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[patch("/questions/{id}")]
pub async fn edit(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    id: web::Path<QuestionId>,
    body: ApiJson<QuestionPatch>,
) -> Result<HttpResponse, AppError> {
    let question = ops::edit_question(&state, staff, id.into_inner(), body.0).await?;
    Ok(HttpResponse::Ok().json(question))
}

/// Approves, rejects (with a `reason` the asker is told) or merges into `into` (votes and
/// asker follow; the asker is told).
#[utoipa::path(
    tag = "questions",
    operation_id = "questions_moderate",
    params(("id" = uuid::Uuid, Path, description = "the question's id")),
    request_body = ModerationInput,
    responses(
        (status = 200, body = OrganizerQuestion),
        (status = 401, body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: not an organizer", body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 409, description = "`invalid_transition`: not possible from the question's status (or the target's)", body = ErrorEnvelope),
        (status = 422, description = "`validation_failed`: `required` on `reason` (reject) or `into` (merge); `same_question`, `unknown_question` on `into`", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/questions/{id}/moderation")]
pub async fn moderate(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    id: web::Path<QuestionId>,
    body: ApiJson<ModerationInput>,
) -> Result<HttpResponse, AppError> {
    let question = ops::moderate_question(&state, staff, id.into_inner(), body.0).await?;
    Ok(HttpResponse::Ok().json(question))
}

/// Adds the participant's vote (idempotent).
#[utoipa::path(
    tag = "questions",
    operation_id = "questions_vote",
    params(("id" = uuid::Uuid, Path, description = "the question's id")),
    responses(
        (status = 200, body = VoteOutput),
        (status = 401, body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such question in the participant's dialogue", body = ErrorEnvelope),
        (status = 409, description = "`not_open_for_votes`: not in the public queue", body = ErrorEnvelope),
        (status = 429, body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[put("/questions/{id}/vote")]
pub async fn vote(
    state: web::Data<AppState>,
    voter: ParticipantCredential,
    id: web::Path<QuestionId>,
) -> Result<HttpResponse, AppError> {
    let output = ops::vote_with_credential(&state, voter, id.into_inner(), true).await?;
    Ok(HttpResponse::Ok().json(output))
}

/// Takes the participant's vote back (idempotent).
#[utoipa::path(
    tag = "questions",
    operation_id = "questions_unvote",
    params(("id" = uuid::Uuid, Path, description = "the question's id")),
    responses(
        (status = 200, body = VoteOutput),
        (status = 401, body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such question in the participant's dialogue", body = ErrorEnvelope),
        (status = 409, description = "`not_open_for_votes`: not in the public queue", body = ErrorEnvelope),
        (status = 429, body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[delete("/questions/{id}/vote")]
pub async fn unvote(
    state: web::Data<AppState>,
    voter: ParticipantCredential,
    id: web::Path<QuestionId>,
) -> Result<HttpResponse, AppError> {
    let output = ops::vote_with_credential(&state, voter, id.into_inner(), false).await?;
    Ok(HttpResponse::Ok().json(output))
}

/// The participant takes back their own question before the organizers looked at it.
#[utoipa::path(
    tag = "participants",
    operation_id = "participant_withdraw_question",
    params(("id" = uuid::Uuid, Path, description = "the question's id")),
    responses(
        (status = 200, body = OwnQuestion),
        (status = 401, body = ErrorEnvelope),
        (status = 404, description = "`not_found`: not the participant's question", body = ErrorEnvelope),
        (status = 409, description = "`invalid_transition`: already moderated", body = ErrorEnvelope),
        (status = 429, body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/me/questions/{id}/withdraw")]
pub async fn withdraw(
    state: web::Data<AppState>,
    ParticipantAuth(participant): ParticipantAuth,
    id: web::Path<QuestionId>,
) -> Result<HttpResponse, AppError> {
    let question = ops::withdraw_own(&state, participant, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(question))
}
