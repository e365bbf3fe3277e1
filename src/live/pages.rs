//! The day's pages: the organizer's control page (`/staff/dialogues/{id}/live`) and the
//! projector (`/d/{id}/live`). Both work without JavaScript; `live.js` keeps them current
//! from the event stream.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use minijinja::{Value, context};

use super::model::{CommitmentInput, CommitmentKind, CurrentInput, LiveAnswerInput};
use super::ops;
use crate::agencies;
use crate::auth::{MaybeStaff, Organizer, Staff};
use crate::db::{AgencyId, DialogueId, QuestionId};
use crate::dialogues;
use crate::dialogues::model::DialogueStatus;
use crate::dialogues::view::card;
use crate::error::AppError;
use crate::html::{PageForm, readable, render, see_other, with_status};
use crate::i18n::Lang;
use crate::questions;
use crate::questions::model::{QuestionStatus, QueueSort, Topic};
use crate::questions::ops::{Asker, ModerationAction, ModerationInput, QuestionInput};
use crate::state::AppState;

/// Most questions the control page lists (by votes or topic).
const CONTROL_LIST_MAX: i64 = 200;

/// A refused form, shown again with what was typed.
struct Problem {
    form: &'static str,
    message: String,
    typed: Value,
}

fn done_notice(req: &HttpRequest, lang: Lang) -> Option<String> {
    let query =
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
            .ok()?;
    let done = query.get("done")?;
    ["current", "cleared", "answer", "floor", "commitment"]
        .contains(&done.as_str())
        .then(|| lang.text(&format!("live.done_{done}")))
}

fn sort_of(req: &HttpRequest) -> QueueSort {
    web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.get("sort").and_then(|s| QueueSort::from_code(s)))
        .unwrap_or_default()
}

async fn control(
    state: &AppState,
    req: &HttpRequest,
    staff: &Staff,
    id: DialogueId,
    problem: Option<Problem>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of_request(req);
    let sort = sort_of(req);
    let (full, live, queue, record, agencies) = state
        .db
        .read(move |conn| {
            let full = dialogues::store::find_full(conn, &id)?.ok_or(AppError::NotFound)?;
            let live = ops::state(conn, &full.dialogue)?;
            let filter = questions::store::Filter {
                statuses: QuestionStatus::ALL
                    .iter()
                    .copied()
                    .filter(|s| s.is_public())
                    .collect(),
                topic: None,
                sort,
            };
            let (rows, _) =
                questions::ops::list(conn, &full.dialogue, &filter, 0, CONTROL_LIST_MAX)?;
            let queue: Vec<_> = rows
                .iter()
                .map(|q| questions::ops::organizer_view(&full.dialogue, q))
                .collect();
            let record = ops::record(conn, &full.dialogue)?;
            let (agencies, _) = agencies::store::list(conn, 0, 500)?;
            Ok((full, live, queue, record, agencies))
        })
        .await?;
    let running = full.dialogue.status() == DialogueStatus::InProgress;
    let answers: Vec<Value> = queue
        .iter()
        .filter_map(|q| record.answers.get(q.public.id.as_str()))
        .flatten()
        .map(Value::from_serialize)
        .collect();
    let (problem_form, problem_message, typed) = match problem {
        Some(p) => (Some(p.form), Some(p.message), p.typed),
        None => (None, None, Value::UNDEFINED),
    };
    render(
        state,
        req,
        Some(staff),
        "live/control.html",
        context! {
            d => card(&full, lang),
            running => running,
            live => Value::from_serialize(&live),
            queue => Value::from_serialize(&queue),
            sort => match sort { QueueSort::Topic => "topic", _ => "votes" },
            answers => answers,
            commitments => Value::from_serialize(&record.commitments),
            agencies => agencies
                .iter()
                .map(|a| context! { id => a.id.to_string(), name => a.name.clone() })
                .collect::<Vec<_>>(),
            topics => Topic::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
            kinds => CommitmentKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
            notice => done_notice(req, lang),
            problem_form => problem_form,
            problem => problem_message,
            typed => typed,
        },
    )
}

#[get("/staff/dialogues/{id}/live")]
pub async fn control_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    organizer: Organizer,
    id: web::Path<DialogueId>,
) -> Result<HttpResponse, AppError> {
    control(&state, &req, &organizer.0, id.into_inner(), None).await
}

/// Which form was sent, and what to say or show again.
struct Sent {
    /// The notice after success (`?done=`).
    done: &'static str,
    /// The form to show again with the reason after a refusal.
    form: &'static str,
    typed: Value,
}

/// Answers a control-page form: back to the page with a notice, or the page again with the
/// reason and what was typed.
async fn after(
    state: &AppState,
    req: &HttpRequest,
    staff: &Staff,
    id: DialogueId,
    outcome: Result<(), AppError>,
    sent: Sent,
) -> Result<HttpResponse, AppError> {
    match outcome {
        Ok(()) => Ok(see_other(&format!(
            "/staff/dialogues/{id}/live?done={}",
            sent.done
        ))),
        Err(e) => {
            let message = readable(e, Lang::of_request(req))?;
            let problem = Problem {
                form: sent.form,
                message,
                typed: sent.typed,
            };
            let page = control(state, req, staff, id, Some(problem)).await?;
            Ok(with_status(page, StatusCode::UNPROCESSABLE_ENTITY))
        }
    }
}

/// Puts a question on the projector (`question_id`), or clears it (empty).
#[post("/staff/dialogues/{id}/live/current")]
pub async fn current_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    organizer: Organizer,
    id: web::Path<DialogueId>,
    form: PageForm,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let staff = organizer.0;
    let question = form.opt("question_id").and_then(|q| QuestionId::parse(&q));
    let done = if question.is_some() {
        "current"
    } else {
        "cleared"
    };
    let input = CurrentInput {
        current_question_id: question,
    };
    let (s, dialogue) = (staff.clone(), id.clone());
    let outcome = state
        .db
        .write(move |conn| ops::set_current(conn, &s, &dialogue, &input).map(|_| ()))
        .await;
    after(
        &state,
        &req,
        &staff,
        id,
        outcome,
        Sent {
            done,
            form: "current",
            typed: Value::UNDEFINED,
        },
    )
    .await
}

/// Records an answer given aloud to a question.
#[post("/staff/dialogues/{id}/live/answer")]
pub async fn answer_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    organizer: Organizer,
    id: web::Path<DialogueId>,
    form: PageForm,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let staff = organizer.0;
    let typed = context! {
        question_id => form.get("question_id"),
        speaker => form.get("speaker"),
        agency_id => form.get("agency_id"),
        summary => form.get("summary"),
    };
    let question = form.opt("question_id").and_then(|q| QuestionId::parse(&q));
    let input = LiveAnswerInput {
        speaker: form.get("speaker").to_string(),
        agency_id: form.opt("agency_id").and_then(|a| AgencyId::parse(&a)),
        summary: form.get("summary").to_string(),
    };
    let s = staff.clone();
    let outcome = match question {
        Some(question) => {
            state
                .db
                .write(move |conn| ops::answer_live(conn, &s, &question, &input).map(|_| ()))
                .await
        }
        None => Err(AppError::Conflict("not_in_queue")),
    };
    after(
        &state,
        &req,
        &staff,
        id,
        outcome,
        Sent {
            done: "answer",
            form: "answer",
            typed,
        },
    )
    .await
}

/// A question raised from the floor: entered for the person (who agreed) and approved.
#[post("/staff/dialogues/{id}/live/floor")]
pub async fn floor_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    organizer: Organizer,
    id: web::Path<DialogueId>,
    form: PageForm,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let staff = organizer.0;
    let typed = context! {
        body => form.get("body"),
        topic => form.get("topic"),
        asker_name => form.get("asker_name"),
        anonymous => form.get("anonymous") == "true",
    };
    let input = QuestionInput {
        body: form.get("body").to_string(),
        topic: Topic::from_code(form.get("topic")).unwrap_or(Topic::Other),
        anonymous: Some(form.get("anonymous") == "true"),
        share_identity_with_agency: Some(false),
        channel: Some(questions::model::Channel::Floor),
        asker_name: form.opt("asker_name"),
        asker_agreed: Some(form.get("asker_agreed") == "true"),
        website: None,
    };
    let st = state.get_ref().clone();
    let (s, dialogue) = (staff.clone(), id.clone());
    let outcome = state
        .db
        .write(move |conn| {
            let mailing = crate::participants::notify::Mailing::of(&st);
            let asked =
                questions::ops::submit(conn, mailing, &dialogue, Asker::Staff(s.clone()), &input)?;
            let approve = ModerationInput {
                action: ModerationAction::Approve,
                reason: None,
                into: None,
            };
            questions::ops::moderate(conn, mailing, &s, &asked.id, &approve).map(|_| ())
        })
        .await;
    after(
        &state,
        &req,
        &staff,
        id,
        outcome,
        Sent {
            done: "floor",
            form: "floor",
            typed,
        },
    )
    .await
}

#[post("/staff/dialogues/{id}/live/commitments")]
pub async fn commitment_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    organizer: Organizer,
    id: web::Path<DialogueId>,
    form: PageForm,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let staff = organizer.0;
    let typed = context! {
        party => form.get("party"),
        kind => form.get("kind"),
        description => form.get("description"),
        jobs_offered => form.get("jobs_offered"),
    };
    let jobs = form.opt("jobs_offered");
    let jobs_offered = match jobs.as_deref().map(str::parse::<i32>) {
        None => None,
        Some(Ok(n)) => Some(n),
        // Not a number: the same answer as one out of range.
        Some(Err(_)) => Some(-1),
    };
    let input = CommitmentInput {
        party: form.get("party").to_string(),
        kind: CommitmentKind::from_code(form.get("kind")).unwrap_or(CommitmentKind::Other),
        description: form.get("description").to_string(),
        jobs_offered,
    };
    let (s, dialogue) = (staff.clone(), id.clone());
    let outcome = state
        .db
        .write(move |conn| ops::add_commitment(conn, &s, &dialogue, &input).map(|_| ()))
        .await;
    after(
        &state,
        &req,
        &staff,
        id,
        outcome,
        Sent {
            done: "commitment",
            form: "commitment",
            typed,
        },
    )
    .await
}

/// The projector: large type, high contrast, the current question and the next ones. With
/// JavaScript it follows the stream; without, it reloads itself every few seconds.
#[get("/d/{id}/live")]
pub async fn projector(
    state: web::Data<AppState>,
    req: HttpRequest,
    viewer: MaybeStaff,
    id: web::Path<DialogueId>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let organizer = viewer.can_organize();
    let lang = Lang::of_request(&req);
    let (full, live) = state
        .db
        .read(move |conn| {
            let full = dialogues::store::find_full(conn, &id)?
                .filter(|f| dialogues::ops::visible_to(f, organizer))
                .ok_or(AppError::NotFound)?;
            let live = ops::state(conn, &full.dialogue)?;
            Ok((full, live))
        })
        .await?;
    render(
        &state,
        &req,
        viewer.0.as_ref(),
        "live/projector.html",
        context! {
            d => card(&full, lang),
            live => Value::from_serialize(&live),
            topic_labels => Topic::ALL
                .iter()
                .map(|t| (t.as_str(), lang.text(&format!("topic.{}", t.as_str()))))
                .collect::<std::collections::BTreeMap<_, _>>(),
        },
    )
}
