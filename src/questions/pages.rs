//! The organizers' moderation queue (`/staff/dialogues/{id}/questions`): tabs by status and
//! topic, who asked, the first wording, similar questions to merge into, and the paper or
//! floor entry form. Thin adapters over `ops`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use minijinja::{Value, context};

use super::model::{Channel, QuestionStatus, Topic};
use super::ops::{
    self, Asker, ModerationAction, ModerationInput, QuestionInput, QuestionLimiter, QuestionPatch,
    QueueQuery,
};
use super::store::{self, Filter};
use crate::auth::{Organizer, Staff};
use crate::db::{DialogueId, QuestionId};
use crate::dialogues;
use crate::dialogues::view::card;
use crate::error::AppError;
use crate::html::charts;
use crate::html::pager::{self, Pager};
use crate::html::{PageForm, readable, render, safe_next, see_other, with_status};
use crate::i18n::Lang;
use crate::state::AppState;

/// How many similar questions a pending one shows.
const SIMILAR_SHOWN: usize = 3;

/// Questions per page of the moderation queue: enough to work through without scrolling
/// back, few enough that the similar-question hints stay quick to compute.
pub const QUEUE_PER_PAGE: i64 = 50;

fn topics() -> Vec<&'static str> {
    Topic::ALL.iter().map(|t| t.as_str()).collect()
}

fn done_notice(req: &HttpRequest, lang: Lang) -> Option<String> {
    let query =
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
            .ok()?;
    let done = query.get("done")?;
    ["moderated", "edited", "entered"]
        .contains(&done.as_str())
        .then(|| lang.text(&format!("moderation.done_{done}")))
}

/// The moderation page, with an error and the entry form's values when a form was refused.
async fn moderation(
    state: &AppState,
    req: &HttpRequest,
    staff: &Staff,
    id: DialogueId,
    query: QueueQuery,
    error: Option<String>,
    entry: Value,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of_request(req);
    let q = query.clone();
    let requested = pager::requested(req.query_string(), "page");
    let (full, counts, by_topic, rows, pager) = state
        .db
        .read(move |conn| {
            let full = dialogues::store::find_full(conn, &id)?.ok_or(AppError::NotFound)?;
            let counts = store::count_by_status(conn, &id)?;
            let by_topic = store::count_by_topic(conn, &id, QuestionStatus::ALL)?;
            let filter = Filter {
                statuses: ops::readable_statuses(q.status, true),
                topic: q.topic,
                sort: q.sort,
            };
            let offset = (requested - 1) * QUEUE_PER_PAGE;
            let (mut questions, total) =
                ops::list(conn, &full.dialogue, &filter, offset, QUEUE_PER_PAGE)?;
            let pager = Pager::new(requested, QUEUE_PER_PAGE, total);
            if pager.offset() != offset {
                // The list got shorter than the link expected: show its last page.
                questions = ops::list(
                    conn,
                    &full.dialogue,
                    &filter,
                    pager.offset(),
                    QUEUE_PER_PAGE,
                )?
                .0;
            }
            let mut rows = Vec::with_capacity(questions.len());
            for question in &questions {
                // Every question that can still be merged gets its hints, and the merge
                // control offers those hints only: a duplicate is merged into a question
                // like it, never into one picked from the whole list by mistake.
                let similar = if question.status.is_moderatable() {
                    ops::similar_to(conn, question, SIMILAR_SHOWN)?
                } else {
                    Vec::new()
                };
                let targets: Vec<&ops::SimilarQuestion> = similar
                    .iter()
                    .filter(|s| ops::merge_target_ok(s.status))
                    .collect();
                rows.push(context! {
                    q => Value::from_serialize(ops::organizer_view(&full.dialogue, question)),
                    similar => Value::from_serialize(&similar),
                    targets => Value::from_serialize(&targets),
                    moderatable => question.status.is_moderatable(),
                });
            }
            Ok((full, counts, by_topic, rows, pager))
        })
        .await?;
    let total: i64 = counts.iter().map(|(_, n)| n).sum();
    let tabs: Vec<Value> = QuestionStatus::ALL
        .iter()
        .map(|s| {
            let count = counts
                .iter()
                .find(|(c, _)| c == s)
                .map(|(_, n)| *n)
                .unwrap_or(0);
            context! { code => s.as_str(), count => count }
        })
        .collect();
    let mut topic_rows: Vec<(String, i64)> = by_topic
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(t, n)| (lang.text(&format!("topic.{}", t.as_str())), *n))
        .collect();
    topic_rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let topic_counts: Vec<Value> = by_topic
        .iter()
        .map(|(t, n)| context! { code => t.as_str(), count => n })
        .collect();
    let chart = charts::bars(&lang.text("overview.by_topic"), &topic_rows, "#1d4ed8");
    let page = render(
        state,
        req,
        Some(staff),
        "staff/questions.html",
        context! {
            d => card(&full, lang),
            rows => rows,
            tabs => tabs,
            total => total,
            status => query.status.map(|s| s.as_str()),
            topic => query.topic.map(|t| t.as_str()),
            topic_counts => topic_counts,
            topics => topics(),
            chart => chart,
            has_chart => !topic_rows.is_empty(),
            error => error,
            entry => entry,
            notice => done_notice(req, lang),
            here => req.uri().to_string(),
            pager => pager.context(req.query_string(), "page"),
        },
    )?;
    Ok(page)
}

#[get("/staff/dialogues/{id}/questions")]
pub async fn moderation_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
) -> Result<HttpResponse, AppError> {
    let query = QueueQuery::parse(req.query_string())?;
    moderation(
        &state,
        &req,
        &staff,
        id.into_inner(),
        query,
        None,
        context! {},
    )
    .await
}

/// After a moderator's form: back to where they were, or the page again with the reason.
async fn after(
    state: &AppState,
    req: &HttpRequest,
    staff: &Staff,
    question: &QuestionId,
    back: &str,
    outcome: Result<(), AppError>,
    done: &str,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of_request(req);
    match outcome {
        Ok(()) => {
            let back = safe_next(Some(back));
            let join = if back.contains('?') { '&' } else { '?' };
            Ok(see_other(&format!("{back}{join}done={done}")))
        }
        Err(e) => {
            let message = readable(e, lang)?;
            let id = question.clone();
            let dialogue_id = state
                .db
                .read(move |conn| Ok(ops::find(conn, &id)?.dialogue_id))
                .await?;
            let page = moderation(
                state,
                req,
                staff,
                dialogue_id,
                QueueQuery::default(),
                Some(message),
                context! {},
            )
            .await?;
            Ok(with_status(page, StatusCode::UNPROCESSABLE_ENTITY))
        }
    }
}

/// Where the moderator came from, without an earlier `done=` notice.
fn back_of(form: &PageForm) -> String {
    let back = form.get("back");
    let path = back.split('?').next().unwrap_or_default();
    let query: Vec<&str> = back
        .split_once('?')
        .map(|(_, q)| q.split('&').filter(|p| !p.starts_with("done=")).collect())
        .unwrap_or_default();
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// Approve, reject (with a reason) or merge (into a similar question).
#[post("/staff/questions/{id}/moderation")]
pub async fn moderate_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<QuestionId>,
    form: PageForm,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let action = match form.get("action") {
        "approve" => ModerationAction::Approve,
        "reject" => ModerationAction::Reject,
        "merge" => ModerationAction::Merge,
        _ => {
            return Err(AppError::BadRequest {
                code: "bad_request",
                detail: None,
            });
        }
    };
    let into = form
        .opt("into")
        .and_then(|v| serde_json::from_value(serde_json::Value::String(v)).ok());
    let input = ModerationInput {
        action,
        reason: form.opt("reason"),
        into,
    };
    let outcome = ops::moderate_question(&state, staff.clone(), id.clone(), input)
        .await
        .map(|_| ());
    after(
        &state,
        &req,
        &staff,
        &id,
        &back_of(&form),
        outcome,
        "moderated",
    )
    .await
}

/// A clearer wording or another topic; the first wording is kept.
#[post("/staff/questions/{id}/edit")]
pub async fn edit_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<QuestionId>,
    form: PageForm,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let patch = QuestionPatch {
        body: form.opt("body"),
        topic: Topic::from_code(form.get("topic")),
    };
    let outcome = ops::edit_question(&state, staff.clone(), id.clone(), patch)
        .await
        .map(|_| ());
    after(
        &state,
        &req,
        &staff,
        &id,
        &back_of(&form),
        outcome,
        "edited",
    )
    .await
}

/// A question from a paper form or the floor, entered by staff with the person's agreement.
#[post("/staff/dialogues/{id}/questions")]
pub async fn enter_page(
    state: web::Data<AppState>,
    limiter: web::Data<QuestionLimiter>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
    form: PageForm,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let lang = Lang::of_request(&req);
    let topic = Topic::from_code(form.get("topic"));
    let outcome = match topic {
        Some(topic) => {
            let input = QuestionInput {
                body: form.get("body").to_string(),
                topic,
                anonymous: Some(!form.checked("named")),
                share_identity_with_agency: Some(form.checked("share_identity_with_agency")),
                channel: Channel::from_code(form.get("channel")),
                asker_name: form.opt("asker_name"),
                asker_agreed: Some(form.checked("asker_agreed")),
                website: None,
            };
            ops::submit_question(
                &state,
                &limiter,
                id.clone(),
                Asker::Staff(staff.clone()),
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
            "/staff/dialogues/{id}/questions?done=entered"
        ))),
        Err(e) => {
            let message = readable(e, lang)?;
            let entry = context! {
                body => form.get("body"), topic => form.get("topic"), channel => form.get("channel"),
                asker_name => form.get("asker_name"), named => form.checked("named"),
                share => form.checked("share_identity_with_agency"), agreed => form.checked("asker_agreed"),
                open => true,
            };
            let page = moderation(
                &state,
                &req,
                &staff,
                id,
                QueueQuery::default(),
                Some(message),
                entry,
            )
            .await?;
            Ok(with_status(page, StatusCode::UNPROCESSABLE_ENTITY))
        }
    }
}
