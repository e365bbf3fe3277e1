//! Pages for answers: the public queue with published answers (`/d/{id}/questions`), the
//! organizer's assignment board and CSV download, the agency's inbox and one assignment
//! (answer, decline; the organizer's approval view). Thin adapters over `ops`.

use std::collections::BTreeMap;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{Duration, NaiveDateTime, TimeZone};
use minijinja::{Value, context};

use super::export;
use super::model::{AssignmentStatus, AssignmentView};
use super::ops::{self, Action, AssignInput, ReasonInput, ResponseInput, Viewer};
use super::store::Filter;
use super::view;
use crate::agencies;
use crate::auth::{MaybeStaff, Organizer, Staff};
use crate::db::{AgencyId, AssignmentId, DialogueId, QuestionId};
use crate::dialogues;
use crate::dialogues::model::{Dialogue, FullDialogue};
use crate::dialogues::view::card;
use crate::error::AppError;
use crate::html::pager::{self, Pager};
use crate::html::{
    PageForm, SharedPages, readable, render, render_shared, see_other, serve_shared, with_status,
};
use crate::i18n::Lang;
use crate::questions;
use crate::questions::model::{QuestionStatus, QueueSort};
use crate::questions::ops::QueueQuery;
use crate::state::AppState;

fn done_notice(req: &HttpRequest, lang: Lang) -> Option<String> {
    let query =
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
            .ok()?;
    let done = query.get("done")?;
    let known = [
        "assigned", "saved", "sent", "declined", "approved", "returned",
    ];
    known
        .contains(&done.as_str())
        .then(|| lang.text(&format!("assignments.done_{done}")))
}

// ---------------------------------------------------------------- the public queue

/// The approved questions with their published answers, sorted and filtered by links.
/// Anonymous readers share one copy of at most a second old (`SharedPages`): the whole hall
/// opens this page on the day.
#[get("/d/{id}/questions")]
pub async fn public_queue(
    state: web::Data<AppState>,
    shared: web::Data<SharedPages>,
    req: HttpRequest,
    viewer: MaybeStaff,
    id: web::Path<DialogueId>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let query = QueueQuery::parse(req.query_string()).map_err(|_| AppError::NotFound)?;
    let lang = Lang::of_request(&req);
    let page_number = crate::html::page_number(&req);
    let read = || async {
        let q = query.clone();
        let (full, queue) = state
            .db
            .read(move |conn| {
                let queue = ops::public_queue(conn, &id, &q, page_number)?;
                let full = dialogues::store::find_full(conn, &id)?.ok_or(AppError::NotFound)?;
                Ok((full, queue))
            })
            .await?;
        Ok::<_, AppError>(context! {
            d => card(&full, lang),
            queue => view::queue_context(&queue, &query, lang),
            base => format!("/d/{}/questions", full.dialogue.id),
        })
    };
    if viewer.0.is_none() {
        let html = shared
            .0
            .get_or_fill(&SharedPages::key(&req), || async {
                render_shared(&state, &req, "questions/queue.html", read().await?)
            })
            .await?;
        return Ok(serve_shared(&req, &html));
    }
    render(
        &state,
        &req,
        viewer.0.as_ref(),
        "questions/queue.html",
        read().await?,
    )
}

// ---------------------------------------------------------------- the assignment board

/// Items per page of each of the board's two lists (waiting to be assigned, assigned).
pub const BOARD_PER_PAGE: i64 = 50;

/// A `datetime-local` value read in the dialogue's zone, as RFC 3339 (empty when blank or
/// not a time, so that the use case reports it on the field).
fn instant_in_zone(dialogue: &Dialogue, raw: &str) -> String {
    let zone: chrono_tz::Tz = dialogue
        .time_zone
        .parse()
        .unwrap_or(chrono_tz::Asia::Ho_Chi_Minh);
    NaiveDateTime::parse_from_str(raw.trim(), "%Y-%m-%dT%H:%M")
        .ok()
        .and_then(|local| zone.from_local_datetime(&local).single())
        .map(|t| t.to_rfc3339())
        .unwrap_or_else(|| raw.trim().to_string())
}

fn local_input(dialogue: &Dialogue, at: NaiveDateTime) -> String {
    dialogue.local(at).format("%Y-%m-%dT%H:%M").to_string()
}

/// What the board's form had in it, to show again after an error.
#[derive(Default, serde::Serialize)]
struct BoardValues {
    question_ids: Vec<String>,
    agency_id: String,
    due_at: String,
    note: String,
}

/// Assignments grouped by agency (by name), each group overdue first, then by status and due date.
fn by_agency(mut rows: Vec<AssignmentView>) -> Vec<Value> {
    rows.sort_by(|a, b| {
        (!a.overdue, a.status.as_str(), &a.due_at).cmp(&(!b.overdue, b.status.as_str(), &b.due_at))
    });
    let mut groups: BTreeMap<String, Vec<AssignmentView>> = BTreeMap::new();
    for row in rows {
        groups.entry(row.agency.name.clone()).or_default().push(row);
    }
    groups
        .into_iter()
        .map(|(agency, items)| {
            let overdue = items.iter().filter(|a| a.overdue).count();
            context! { agency => agency, overdue => overdue, items => Value::from_serialize(&items) }
        })
        .collect()
}

async fn board(
    state: &AppState,
    req: &HttpRequest,
    staff: Staff,
    id: DialogueId,
    values: Option<BoardValues>,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of_request(req);
    let viewer = Viewer::Organizer(staff.clone());
    let want_approved = pager::requested(req.query_string(), "approved_page");
    let want_assigned = pager::requested(req.query_string(), "assigned_page");
    let (full, approved, agency_list, assignments, overview, pagers) = state
        .db
        .read(move |conn| {
            let full: FullDialogue =
                dialogues::store::find_full(conn, &id)?.ok_or(AppError::NotFound)?;
            let filter = questions::store::Filter {
                statuses: vec![QuestionStatus::Approved],
                topic: None,
                sort: QueueSort::Votes,
            };
            let offset = (want_approved - 1) * BOARD_PER_PAGE;
            let (mut approved, total) =
                questions::ops::list(conn, &full.dialogue, &filter, offset, BOARD_PER_PAGE)?;
            let approved_pager = Pager::new(want_approved, BOARD_PER_PAGE, total);
            if approved_pager.offset() != offset {
                // Fewer are waiting than when the link was made: show the last page.
                let offset = approved_pager.offset();
                approved =
                    questions::ops::list(conn, &full.dialogue, &filter, offset, BOARD_PER_PAGE)?.0;
            }
            let approved: Vec<_> = approved
                .iter()
                .map(|q| questions::ops::organizer_view(&full.dialogue, q))
                .collect();
            // Every agency is offered; a province has tens of them, not thousands.
            let (agency_list, _) = agencies::store::list(conn, 0, 1000)?;
            let filter = Filter {
                dialogue_id: Some(id.to_string()),
                ..Filter::default()
            };
            let offset = (want_assigned - 1) * BOARD_PER_PAGE;
            let (mut assignments, total) =
                ops::list(conn, &viewer, filter.clone(), offset, BOARD_PER_PAGE)?;
            let assigned_pager = Pager::new(want_assigned, BOARD_PER_PAGE, total);
            if assigned_pager.offset() != offset {
                let offset = assigned_pager.offset();
                assignments = ops::list(conn, &viewer, filter, offset, BOARD_PER_PAGE)?.0;
            }
            let overview = ops::overview_of(conn, &id, true)?;
            let pagers = (approved_pager, assigned_pager);
            Ok((full, approved, agency_list, assignments, overview, pagers))
        })
        .await?;
    let values = values.unwrap_or_else(|| BoardValues {
        due_at: local_input(&full.dialogue, crate::db::now() + Duration::days(7)),
        ..BoardValues::default()
    });
    let agencies: Vec<Value> = agency_list
        .iter()
        .map(|a| context! { id => &a.id, name => &a.name })
        .collect();
    let page = render(
        state,
        req,
        Some(&staff),
        "staff/assignment_board.html",
        context! {
            d => card(&full, lang),
            approved => Value::from_serialize(&approved),
            agencies => agencies,
            groups => by_agency(assignments),
            charts => view::overview_charts(&overview, lang),
            v => Value::from_serialize(&values),
            error => error,
            notice => done_notice(req, lang),
            approved_pager => pagers.0.context(req.query_string(), "approved_page"),
            assigned_pager => pagers.1.context(req.query_string(), "assigned_page"),
        },
    )?;
    Ok(page)
}

#[get("/staff/dialogues/{id}/assignments")]
pub async fn board_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
) -> Result<HttpResponse, AppError> {
    board(&state, &req, staff, id.into_inner(), None, None).await
}

/// Several approved questions to one agency at once; its staff get one email.
#[post("/staff/dialogues/{id}/assignments")]
pub async fn assign_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
    form: PageForm,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let lookup = id.clone();
    let dialogue = state
        .db
        .read(move |conn| dialogues::store::find(conn, &lookup)?.ok_or(AppError::NotFound))
        .await?;
    let values = BoardValues {
        question_ids: form
            .all("question_id")
            .into_iter()
            .map(str::to_string)
            .collect(),
        agency_id: form.get("agency_id").to_string(),
        due_at: form.get("due_at").to_string(),
        note: form.get("note").to_string(),
    };
    // Ids that are not ids cannot name a question of this dialogue.
    let question_ids: Option<Vec<QuestionId>> = values
        .question_ids
        .iter()
        .map(|q| serde_json::from_value(serde_json::Value::String(q.clone())).ok())
        .collect();
    let agency_id: Option<AgencyId> =
        serde_json::from_value(serde_json::Value::String(values.agency_id.clone())).ok();
    let lang = Lang::of_request(&req);
    let outcome = match (question_ids, agency_id) {
        (Some(question_ids), Some(agency_id)) => {
            let input = AssignInput {
                agency_id,
                due_at: instant_in_zone(&dialogue, &values.due_at),
                note: Some(values.note.clone()),
            };
            ops::assign_questions(&state, staff.clone(), question_ids, input)
                .await
                .map(|_| ())
        }
        (None, _) => Err(AppError::NotFound),
        (_, None) => Err(AppError::field(
            "agency_id",
            crate::error::FieldError::new("required"),
        )),
    };
    match outcome {
        Ok(()) => Ok(see_other(&format!(
            "/staff/dialogues/{id}/assignments?done=assigned"
        ))),
        Err(e) => {
            let message = readable(e, lang)?;
            let page = board(&state, &req, staff, id, Some(values), Some(message)).await?;
            Ok(with_status(page, StatusCode::UNPROCESSABLE_ENTITY))
        }
    }
}

/// The export for organizers signed in with the session cookie (the API takes Bearer only).
#[get("/staff/dialogues/{id}/questions.csv")]
pub async fn export_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of_request(&req);
    let id = id.into_inner();
    let user_id = staff.user.id;
    let bytes = state
        .db
        .write(move |conn| {
            let dialogue = dialogues::store::find(conn, &id)?.ok_or(AppError::NotFound)?;
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

// ---------------------------------------------------------------- the agency's side

/// Items per page of each of the inbox's two lists.
pub const INBOX_PER_PAGE: i64 = 50;

/// One page of the viewer's assignments in `statuses`, soonest due first, with its pager;
/// a page past the end is the last page.
fn inbox_page(
    conn: &mut crate::db::DbConnection,
    viewer: &Viewer,
    statuses: Vec<AssignmentStatus>,
    requested: i64,
) -> Result<(Vec<AssignmentView>, Pager), AppError> {
    let filter = Filter {
        statuses,
        ..Filter::default()
    };
    let offset = (requested - 1) * INBOX_PER_PAGE;
    let (mut rows, total) = ops::list(conn, viewer, filter.clone(), offset, INBOX_PER_PAGE)?;
    let pager = Pager::new(requested, INBOX_PER_PAGE, total);
    if pager.offset() != offset {
        rows = ops::list(conn, viewer, filter, pager.offset(), INBOX_PER_PAGE)?.0;
    }
    Ok((rows, pager))
}

/// Agency staff: their agency's assignments; organizers: every one. What still needs doing
/// (with the agency, or answered and awaiting approval) first, each list paged.
#[get("/staff/assignments")]
pub async fn inbox(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: Staff,
) -> Result<HttpResponse, AppError> {
    let viewer = Viewer::of(staff.clone())?;
    let want_waiting = pager::requested(req.query_string(), "waiting_page");
    let want_done = pager::requested(req.query_string(), "done_page");
    let ((waiting, waiting_pager), (done, done_pager)) = state
        .db
        .read(move |conn| {
            let (open, closed): (Vec<AssignmentStatus>, Vec<AssignmentStatus>) =
                AssignmentStatus::ALL
                    .iter()
                    .copied()
                    .partition(|s| s.awaits_agency() || *s == AssignmentStatus::Answered);
            Ok((
                inbox_page(conn, &viewer, open, want_waiting)?,
                inbox_page(conn, &viewer, closed, want_done)?,
            ))
        })
        .await?;
    render(
        &state,
        &req,
        Some(&staff),
        "staff/assignments.html",
        context! {
            waiting => Value::from_serialize(&waiting),
            done => Value::from_serialize(&done),
            waiting_pager => waiting_pager.context(req.query_string(), "waiting_page"),
            done_pager => done_pager.context(req.query_string(), "done_page"),
        },
    )
}

async fn detail(
    state: &AppState,
    req: &HttpRequest,
    staff: Staff,
    id: AssignmentId,
    typed: Option<Value>,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of_request(req);
    let viewer = Viewer::of(staff.clone())?;
    let is_agency = matches!(viewer, Viewer::Agency { .. });
    let (assignment, dialogue) = state
        .db
        .read(move |conn| {
            let assignment = ops::show(conn, &viewer, &id)?;
            let dialogue = dialogues::store::find_full(conn, &assignment.dialogue_id)?
                .ok_or(AppError::NotFound)?;
            Ok((assignment, dialogue))
        })
        .await?;
    let can_answer = is_agency && assignment.status.awaits_agency();
    let can_approve = !is_agency && assignment.status == AssignmentStatus::Answered;
    render(
        state,
        req,
        Some(&staff),
        "staff/assignment.html",
        context! {
            a => Value::from_serialize(&assignment),
            d => card(&dialogue, lang),
            can_answer => can_answer,
            can_approve => can_approve,
            is_agency => is_agency,
            typed => typed,
            error => error,
            notice => done_notice(req, lang),
        },
    )
}

#[get("/staff/assignments/{id}")]
pub async fn assignment_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: Staff,
    id: web::Path<AssignmentId>,
) -> Result<HttpResponse, AppError> {
    detail(&state, &req, staff, id.into_inner(), None, None).await
}

/// Runs an action from the assignment page: back to it with a notice, or the page again
/// with the reason and what was typed.
async fn act_on(
    state: &AppState,
    req: &HttpRequest,
    staff: Staff,
    id: AssignmentId,
    action: Action,
    done: &str,
    typed: Value,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of_request(req);
    match ops::act(state, staff.clone(), id.clone(), action).await {
        Ok(_) => Ok(see_other(&format!("/staff/assignments/{id}?done={done}"))),
        Err(e) => {
            let message = readable(e, lang)?;
            let page = detail(state, req, staff, id, Some(typed), Some(message)).await?;
            Ok(with_status(page, StatusCode::UNPROCESSABLE_ENTITY))
        }
    }
}

/// The agency's answer: "save draft" (`submit=draft`) or "send" (`submit=send`).
#[post("/staff/assignments/{id}/response")]
pub async fn respond_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: Staff,
    id: web::Path<AssignmentId>,
    form: PageForm,
) -> Result<HttpResponse, AppError> {
    let send = form.get("submit") == "send";
    let input = ResponseInput {
        body: form.get("body").to_string(),
        submit: send,
    };
    let done = if send { "sent" } else { "saved" };
    let typed = context! { body => form.get("body") };
    act_on(
        &state,
        &req,
        staff,
        id.into_inner(),
        Action::Respond(input),
        done,
        typed,
    )
    .await
}

#[post("/staff/assignments/{id}/decline")]
pub async fn decline_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: Staff,
    id: web::Path<AssignmentId>,
    form: PageForm,
) -> Result<HttpResponse, AppError> {
    let input = ReasonInput {
        reason: form.get("reason").to_string(),
    };
    let typed = context! { decline_reason => form.get("reason") };
    act_on(
        &state,
        &req,
        staff,
        id.into_inner(),
        Action::Decline(input),
        "declined",
        typed,
    )
    .await
}

#[post("/staff/assignments/{id}/approve")]
pub async fn approve_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<AssignmentId>,
    _form: PageForm,
) -> Result<HttpResponse, AppError> {
    act_on(
        &state,
        &req,
        staff,
        id.into_inner(),
        Action::Approve,
        "approved",
        context! {},
    )
    .await
}

#[post("/staff/assignments/{id}/return")]
pub async fn return_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<AssignmentId>,
    form: PageForm,
) -> Result<HttpResponse, AppError> {
    let input = ReasonInput {
        reason: form.get("reason").to_string(),
    };
    let typed = context! { return_reason => form.get("reason") };
    act_on(
        &state,
        &req,
        staff,
        id.into_inner(),
        Action::Return(input),
        "returned",
        typed,
    )
    .await
}
