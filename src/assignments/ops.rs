//! Agency assignments: handing approved questions to an agency with a due date (one email
//! per batch to its staff), the agency's draft, answer or decline, the organizer's approval
//! (published, the asker told) or return, and the reminders that due dates drive.

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};
use minijinja::context;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::{
    ANSWER_MAX, AgencyRef, AssignedQuestion, Assignment, AssignmentStatus, AssignmentView,
    BATCH_MAX, NOTE_MAX, NewAssignment, PublishedAnswer, Response, ResponseView,
};
use super::store::{self, Filter, StatusChange};
use crate::agencies;
use crate::audit::Actor;
use crate::auth::{Staff, User};
use crate::config::Settings;
use crate::db::{AgencyId, AssignmentId, DbConnection, QuestionId, now};
use crate::dialogues;
use crate::dialogues::model::Dialogue;
use crate::error::{AppError, FieldError, FieldErrors};
use crate::html::Templates;
use crate::jobs::{NewEmail, enqueue_email};
use crate::json::schema;
use crate::participants::notify::Mailing;
use crate::questions;
use crate::questions::model::{Question, QuestionStatus, Topic};
use crate::state::AppState;
use crate::text;

// ---------------------------------------------------------------- assigning

/// Questions to hand to one agency. The API's `POST /questions/{id}/assignments` takes one
/// question from the path; the queue page sends several at once.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignInput {
    pub agency_id: AgencyId,
    /// When the answer is due (RFC 3339 with an offset), in the future.
    #[schema(value_type = String, format = DateTime)]
    pub due_at: String,
    /// A note to the agency.
    #[schema(schema_with = schema::optional_multiline_text::<1000>)]
    pub note: Option<String>,
}

struct ValidAssign {
    agency_id: AgencyId,
    due_at: NaiveDateTime,
    note: Option<String>,
}

fn validate_assign(input: &AssignInput) -> Result<ValidAssign, AppError> {
    let mut errors = FieldErrors::new();
    let due_at = errors.take("due_at", dialogues::input::parse_instant(&input.due_at));
    if due_at.is_some_and(|t| t <= now()) {
        errors.add("due_at", FieldError::new("must_be_future"));
    }
    let note = errors.take(
        "note",
        text::optional_multiline(input.note.as_deref(), NOTE_MAX),
    );
    errors.into_result()?;
    Ok(ValidAssign {
        agency_id: input.agency_id.clone(),
        due_at: due_at.unwrap_or_default(),
        note: note.flatten(),
    })
}

/// Assigns each question to the agency: all of them, or none when one cannot be. The
/// agency's staff get one email listing the batch.
pub fn assign(
    conn: &mut DbConnection,
    templates: &Templates,
    settings: &Settings,
    staff: &Staff,
    question_ids: &[QuestionId],
    input: &AssignInput,
) -> Result<Vec<Assignment>, AppError> {
    if question_ids.is_empty() || question_ids.len() > BATCH_MAX {
        let error = FieldError::with_n("batch_size", BATCH_MAX as i64);
        return Err(AppError::field("question_ids", error));
    }
    let valid = validate_assign(input)?;
    let agency = agencies::store::find(conn, &valid.agency_id)?
        .ok_or_else(|| AppError::field("agency_id", FieldError::new("unknown_agency")))?;
    let mut questions_in_order = Vec::with_capacity(question_ids.len());
    for id in question_ids {
        questions_in_order.push(questions::ops::find(conn, id)?);
    }
    let dialogue_id = questions_in_order[0].dialogue_id.clone();
    if questions_in_order
        .iter()
        .any(|q| q.dialogue_id != dialogue_id)
    {
        return Err(AppError::field(
            "question_ids",
            FieldError::new("one_dialogue"),
        ));
    }
    dialogues::store::lock(conn, &dialogue_id)?;
    let actor = Actor::User(staff.user.id.clone());
    let mut made = Vec::with_capacity(question_ids.len());
    for id in question_ids {
        questions::store::lock(conn, id)?;
        let question = questions::ops::find(conn, id)?;
        if question.status != QuestionStatus::Approved {
            return Err(AppError::Conflict("invalid_transition"));
        }
        let row = new_assignment(&question, &valid, &staff.user.id);
        store::insert(conn, &row)?;
        questions::store::set_status(conn, id, QuestionStatus::Assigned)?;
        questions::ops::history(
            conn,
            &actor,
            &question,
            "question.assign",
            Some(agency.name.clone()),
        )?;
        history(
            conn,
            &actor,
            &row.id,
            &dialogue_id,
            "assignment.create",
            None,
        )?;
        made.push(store::find(conn, &row.id)?.ok_or(AppError::NotFound)?);
    }
    let dialogue = dialogues::store::find(conn, &dialogue_id)?.ok_or(AppError::NotFound)?;
    let list: Vec<&Question> = questions_in_order.iter().collect();
    let notice = AgencyNotice {
        kind: "assigned",
        dialogue: &dialogue,
        questions: &list,
        due_at: Some(valid.due_at),
        reason: valid.note.as_deref(),
        link: settings.link("/staff/assignments"),
    };
    tell_agency(conn, templates, &agency.id, &notice)?;
    Ok(made)
}

fn new_assignment(question: &Question, valid: &ValidAssign, by: &str) -> NewAssignment {
    let at = now();
    NewAssignment {
        id: AssignmentId::new(),
        question_id: question.id.clone(),
        agency_id: valid.agency_id.clone(),
        due_at: valid.due_at,
        note: valid.note.clone(),
        status: AssignmentStatus::Assigned,
        assigned_by: Some(by.to_string()),
        created_at: at,
        updated_at: at,
    }
}

fn history(
    conn: &mut DbConnection,
    actor: &Actor,
    assignment_id: &str,
    dialogue_id: &str,
    action: &str,
    detail: Option<String>,
) -> Result<(), AppError> {
    let mut entry = crate::audit::entry(actor, action)
        .about("assignment", assignment_id)
        .in_dialogue(dialogue_id);
    if let Some(detail) = detail {
        entry = entry.detail(detail);
    }
    entry.record(conn)?;
    Ok(())
}

// ---------------------------------------------------------------- who may act

/// Who is looking at or acting on assignments.
#[derive(Debug, Clone)]
pub enum Viewer {
    Organizer(Staff),
    Agency { staff: Staff, agency_id: String },
}

impl Viewer {
    pub fn of(staff: Staff) -> Result<Viewer, AppError> {
        if staff.can_organize() {
            return Ok(Viewer::Organizer(staff));
        }
        match staff.user.agency_id.clone() {
            Some(agency_id) if staff.role() == crate::auth::Role::Agency => {
                Ok(Viewer::Agency { staff, agency_id })
            }
            _ => Err(AppError::Forbidden),
        }
    }

    fn staff(&self) -> &Staff {
        match self {
            Viewer::Organizer(staff) | Viewer::Agency { staff, .. } => staff,
        }
    }

    fn actor(&self) -> Actor {
        Actor::User(self.staff().user.id.clone())
    }
}

/// The assignment, when the viewer may see it: organizers any, agency staff their
/// agency's only (another agency's is "not found", so nothing is revealed).
fn find_for(conn: &mut DbConnection, viewer: &Viewer, id: &str) -> Result<Assignment, AppError> {
    let assignment = store::find(conn, id)?.ok_or(AppError::NotFound)?;
    match viewer {
        Viewer::Agency { agency_id, .. } if assignment.agency_id != *agency_id => {
            Err(AppError::NotFound)
        }
        _ => Ok(assignment),
    }
}

/// The assignment for an agency's own action (answer, decline): organizers may not act
/// in the agency's name.
fn find_for_agency(
    conn: &mut DbConnection,
    viewer: &Viewer,
    id: &str,
) -> Result<Assignment, AppError> {
    store::lock(conn, id)?;
    let assignment = find_for(conn, viewer, id)?;
    match viewer {
        Viewer::Agency { .. } => Ok(assignment),
        Viewer::Organizer(_) => Err(AppError::ForbiddenBecause("agency_only")),
    }
}

// ---------------------------------------------------------------- the agency's side

/// The agency's answer: saved as a draft, or submitted for the organizer's approval.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponseInput {
    #[schema(schema_with = schema::multiline::<1, 10000>)]
    pub body: String,
    /// `false` saves a draft; `true` submits it to the organizer.
    pub submit: bool,
}

pub fn respond(
    conn: &mut DbConnection,
    templates: &Templates,
    settings: &Settings,
    viewer: &Viewer,
    id: &str,
    input: &ResponseInput,
) -> Result<Assignment, AppError> {
    let body = text::optional_multiline(Some(&input.body), ANSWER_MAX)
        .and_then(|b| b.ok_or(FieldError::new("required")))
        .map_err(|e| AppError::field("body", e))?;
    let assignment = find_for_agency(conn, viewer, id)?;
    if !assignment.status.awaits_agency() {
        return Err(AppError::Conflict("invalid_transition"));
    }
    let staff = viewer.staff();
    store::save_response(conn, id, &body, &staff.user.id, input.submit)?;
    let question = questions::ops::find(conn, &assignment.question_id)?;
    if input.submit {
        let change = StatusChange {
            status: AssignmentStatus::Answered,
            decline_reason: None,
            return_reason: None,
        };
        store::set_status(conn, id, change)?;
        history(
            conn,
            &viewer.actor(),
            id,
            &question.dialogue_id,
            "assignment.answer",
            Some(body),
        )?;
        let link = settings.link(&format!("/staff/assignments/{id}"));
        tell_organizers(conn, templates, &question, "answered", None, &link)?;
    } else {
        history(
            conn,
            &viewer.actor(),
            id,
            &question.dialogue_id,
            "assignment.draft",
            None,
        )?;
    }
    store::find(conn, id)?.ok_or(AppError::NotFound)
}

/// A required reason (decline, return).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonInput {
    #[schema(schema_with = schema::multiline::<1, 1000>)]
    pub reason: String,
}

fn reason_of(input: &ReasonInput) -> Result<String, AppError> {
    questions::model::parse_reason(Some(&input.reason)).map_err(|e| AppError::field("reason", e))
}

/// The agency says the question is not theirs: the organizer is told and may reassign it.
pub fn decline(
    conn: &mut DbConnection,
    templates: &Templates,
    settings: &Settings,
    viewer: &Viewer,
    id: &str,
    input: &ReasonInput,
) -> Result<Assignment, AppError> {
    let reason = reason_of(input)?;
    let assignment = find_for_agency(conn, viewer, id)?;
    if assignment.status != AssignmentStatus::Assigned {
        return Err(AppError::Conflict("invalid_transition"));
    }
    let question = questions::ops::find(conn, &assignment.question_id)?;
    let change = StatusChange {
        status: AssignmentStatus::Declined,
        decline_reason: Some(&reason),
        return_reason: None,
    };
    store::set_status(conn, id, change)?;
    // Back in the queue, ready for another agency.
    questions::store::set_status(conn, &question.id, QuestionStatus::Approved)?;
    let actor = viewer.actor();
    history(
        conn,
        &actor,
        id,
        &question.dialogue_id,
        "assignment.decline",
        Some(reason.clone()),
    )?;
    questions::ops::history(
        conn,
        &actor,
        &question,
        "question.declined",
        Some(reason.clone()),
    )?;
    let link = settings.link(&format!(
        "/staff/dialogues/{}/questions",
        question.dialogue_id
    ));
    tell_organizers(conn, templates, &question, "declined", Some(&reason), &link)?;
    store::find(conn, id)?.ok_or(AppError::NotFound)
}

// ---------------------------------------------------------------- the organizer's side

/// Approves the submitted answer: it is published and the asker (and the askers of
/// questions merged into this one) are told.
pub fn approve(
    conn: &mut DbConnection,
    mailing: Mailing<'_>,
    staff: &Staff,
    id: &str,
) -> Result<Assignment, AppError> {
    store::lock(conn, id)?;
    let assignment = store::find(conn, id)?.ok_or(AppError::NotFound)?;
    if assignment.status != AssignmentStatus::Answered {
        return Err(AppError::Conflict("invalid_transition"));
    }
    let question = questions::ops::find(conn, &assignment.question_id)?;
    // The dialogue before the question, in the order moderation and answers given aloud
    // take them (publishing ends by writing the live replay log under the dialogue's lock).
    dialogues::store::lock(conn, &question.dialogue_id)?;
    let change = StatusChange {
        status: AssignmentStatus::Published,
        decline_reason: None,
        return_reason: None,
    };
    store::set_status(conn, id, change)?;
    store::approve_response(conn, id, &staff.user.id)?;
    questions::store::set_status(conn, &question.id, QuestionStatus::Answered)?;
    let actor = Actor::User(staff.user.id.clone());
    history(
        conn,
        &actor,
        id,
        &question.dialogue_id,
        "assignment.publish",
        None,
    )?;
    questions::ops::history(conn, &actor, &question, "question.answered", None)?;
    tell_askers_of_answer(conn, mailing, &assignment, &question)?;
    crate::events::emit(crate::events::Event::AnswerPublished {
        dialogue_id: question.dialogue_id.to_string(),
        question_id: question.id.to_string(),
    });
    store::find(conn, id)?.ok_or(AppError::NotFound)
}

fn tell_askers_of_answer(
    conn: &mut DbConnection,
    mailing: Mailing<'_>,
    assignment: &Assignment,
    question: &Question,
) -> Result<(), AppError> {
    let answer = store::response(conn, &assignment.id)?.ok_or(AppError::NotFound)?;
    let agency = agencies::store::find(conn, &assignment.agency_id)?.ok_or(AppError::NotFound)?;
    let dialogue =
        dialogues::store::find(conn, &question.dialogue_id)?.ok_or(AppError::NotFound)?;
    let mut asked = vec![question.clone()];
    asked.extend(
        questions::store::all_in(conn, &question.dialogue_id)?
            .into_iter()
            .filter(|q| q.merged_into_id.as_ref() == Some(&question.id)),
    );
    let mut told = std::collections::HashSet::new();
    for q in asked {
        let Some(asker) = questions::ops::asker_of(conn, &q)? else {
            continue;
        };
        if told.insert(asker.id.clone()) {
            let extra = format!("{}\n\n— {}", answer.body, agency.name);
            questions::ops::tell_asker(
                conn,
                mailing,
                &dialogue,
                &asker,
                &q,
                "answered",
                Some(&extra),
            )?;
        }
    }
    Ok(())
}

/// Sends the answer back to the agency with a reason; it edits and resubmits.
pub fn return_answer(
    conn: &mut DbConnection,
    templates: &Templates,
    settings: &Settings,
    staff: &Staff,
    id: &str,
    input: &ReasonInput,
) -> Result<Assignment, AppError> {
    let reason = reason_of(input)?;
    store::lock(conn, id)?;
    let assignment = store::find(conn, id)?.ok_or(AppError::NotFound)?;
    if assignment.status != AssignmentStatus::Answered {
        return Err(AppError::Conflict("invalid_transition"));
    }
    let question = questions::ops::find(conn, &assignment.question_id)?;
    let change = StatusChange {
        status: AssignmentStatus::Returned,
        decline_reason: None,
        return_reason: Some(&reason),
    };
    store::set_status(conn, id, change)?;
    let actor = Actor::User(staff.user.id.clone());
    history(
        conn,
        &actor,
        id,
        &question.dialogue_id,
        "assignment.return",
        Some(reason.clone()),
    )?;
    let dialogue =
        dialogues::store::find(conn, &question.dialogue_id)?.ok_or(AppError::NotFound)?;
    let notice = AgencyNotice {
        kind: "returned",
        dialogue: &dialogue,
        questions: &[&question],
        due_at: Some(assignment.due_at),
        reason: Some(&reason),
        link: settings.link(&format!("/staff/assignments/{id}")),
    };
    tell_agency(conn, templates, &assignment.agency_id, &notice)?;
    store::find(conn, id)?.ok_or(AppError::NotFound)
}

// ---------------------------------------------------------------- due dates

/// Reminds agencies a day before an answer is due, once per assignment.
pub fn queue_due_reminders(
    conn: &mut DbConnection,
    templates: &Templates,
    settings: &Settings,
) -> Result<usize, AppError> {
    let due = store::due_for_reminder(conn, now() + Duration::hours(24))?;
    for assignment in &due {
        store::mark_reminded(conn, &assignment.id)?;
        notify_due(conn, templates, settings, assignment, "reminder")?;
    }
    Ok(due.len())
}

/// Tells the agency, once, that an answer is overdue, and sends the organizers the list of
/// what became overdue in this round.
pub fn queue_overdue_notices(
    conn: &mut DbConnection,
    templates: &Templates,
    settings: &Settings,
) -> Result<usize, AppError> {
    let overdue = store::newly_overdue(conn)?;
    let mut by_dialogue: HashMap<String, Vec<Question>> = HashMap::new();
    for assignment in &overdue {
        store::mark_overdue_notified(conn, &assignment.id)?;
        let question = notify_due(conn, templates, settings, assignment, "overdue")?;
        by_dialogue
            .entry(question.dialogue_id.to_string())
            .or_default()
            .push(question);
    }
    for (dialogue_id, list) in by_dialogue {
        let link = settings.link(&format!(
            "/staff/dialogues/{dialogue_id}/assignments?overdue=true"
        ));
        let dialogue = dialogues::store::find(conn, &dialogue_id)?.ok_or(AppError::NotFound)?;
        let refs: Vec<&Question> = list.iter().collect();
        tell_organizers_list(conn, templates, &dialogue, &refs, "overdue", &link)?;
    }
    Ok(overdue.len())
}

fn notify_due(
    conn: &mut DbConnection,
    templates: &Templates,
    settings: &Settings,
    assignment: &Assignment,
    kind: &'static str,
) -> Result<Question, AppError> {
    let question = questions::ops::find(conn, &assignment.question_id)?;
    let dialogue =
        dialogues::store::find(conn, &question.dialogue_id)?.ok_or(AppError::NotFound)?;
    let notice = AgencyNotice {
        kind,
        dialogue: &dialogue,
        questions: &[&question],
        due_at: Some(assignment.due_at),
        reason: None,
        link: settings.link(&format!("/staff/assignments/{}", assignment.id)),
    };
    tell_agency(conn, templates, &assignment.agency_id, &notice)?;
    Ok(question)
}

// ---------------------------------------------------------------- staff emails

struct AgencyNotice<'a> {
    kind: &'static str,
    dialogue: &'a Dialogue,
    questions: &'a [&'a Question],
    due_at: Option<NaiveDateTime>,
    reason: Option<&'a str>,
    link: String,
}

fn mailbox(user: &User) -> String {
    let name = user.name.replace(['"', '<', '>', '\\'], "");
    format!("\"{name}\" <{}>", user.email)
}

/// One email to each of the agency's staff, listing the questions.
fn tell_agency(
    conn: &mut DbConnection,
    templates: &Templates,
    agency_id: &str,
    notice: &AgencyNotice<'_>,
) -> Result<usize, AppError> {
    let staff = crate::auth::store::agency_staff(conn, agency_id)?;
    for user in &staff {
        let lang = crate::i18n::Lang::parse(&user.language).unwrap_or_default();
        let items: Vec<_> = notice
            .questions
            .iter()
            .map(|q| context! { body => &q.body, topic => lang.text(&format!("topic.{}", q.topic.as_str())) })
            .collect();
        let ctx = context! {
            lang => lang.code(),
            name => &user.name,
            kind => notice.kind,
            title => &notice.dialogue.title,
            host_unit => &notice.dialogue.host_unit,
            questions => items,
            count => notice.questions.len(),
            due => notice.due_at.map(|t| dialogues::view::moment(notice.dialogue, t, lang)),
            reason => notice.reason,
            link => &notice.link,
        };
        queue_staff_email(conn, templates, "agency_notice", user, ctx)?;
    }
    Ok(staff.len())
}

fn organizers_of(conn: &mut DbConnection, dialogue: &Dialogue) -> Result<Vec<User>, AppError> {
    if let Some(creator) = &dialogue.created_by {
        if let Some(user) = crate::auth::store::find_user(conn, creator)? {
            if user.disabled_at.is_none() {
                return Ok(vec![user]);
            }
        }
    }
    Ok(crate::auth::store::organizers(conn)?)
}

fn tell_organizers(
    conn: &mut DbConnection,
    templates: &Templates,
    question: &Question,
    kind: &'static str,
    reason: Option<&str>,
    link: &str,
) -> Result<(), AppError> {
    let dialogue =
        dialogues::store::find(conn, &question.dialogue_id)?.ok_or(AppError::NotFound)?;
    for user in organizers_of(conn, &dialogue)? {
        let lang = crate::i18n::Lang::parse(&user.language).unwrap_or_default();
        let ctx = context! {
            lang => lang.code(),
            name => &user.name,
            kind => kind,
            title => &dialogue.title,
            questions => vec![context! { body => &question.body }],
            count => 1,
            reason => reason,
            link => link,
        };
        queue_staff_email(conn, templates, "organizer_notice", &user, ctx)?;
    }
    Ok(())
}

fn tell_organizers_list(
    conn: &mut DbConnection,
    templates: &Templates,
    dialogue: &Dialogue,
    list: &[&Question],
    kind: &'static str,
    link: &str,
) -> Result<(), AppError> {
    let items: Vec<_> = list.iter().map(|q| context! { body => &q.body }).collect();
    for user in organizers_of(conn, dialogue)? {
        let lang = crate::i18n::Lang::parse(&user.language).unwrap_or_default();
        let ctx = context! {
            lang => lang.code(),
            name => &user.name,
            kind => kind,
            title => &dialogue.title,
            questions => items.clone(),
            count => list.len(),
            reason => Option::<String>::None,
            link => link,
        };
        queue_staff_email(conn, templates, "organizer_notice", &user, ctx)?;
    }
    Ok(())
}

fn queue_staff_email(
    conn: &mut DbConnection,
    templates: &Templates,
    template: &'static str,
    user: &User,
    ctx: minijinja::Value,
) -> Result<(), AppError> {
    let email = templates.email(template, ctx)?;
    enqueue_email(
        conn,
        NewEmail {
            kind: template,
            recipient: mailbox(user),
            subject: email.subject,
            body_text: email.text,
            body_html: email.html,
            attachments: Vec::new(),
            dedupe_key: None,
            subject_ref: None,
        },
    )?;
    Ok(())
}

// ---------------------------------------------------------------- reading

/// Assignments as the viewer may see them.
pub fn list(
    conn: &mut DbConnection,
    viewer: &Viewer,
    mut filter: Filter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<AssignmentView>, i64), AppError> {
    if let Viewer::Agency { agency_id, .. } = viewer {
        filter.agency_id = Some(agency_id.clone());
    }
    let (rows, total) = store::list(conn, &filter, offset, limit)?;
    Ok((views(conn, &rows)?, total))
}

pub fn show(
    conn: &mut DbConnection,
    viewer: &Viewer,
    id: &str,
) -> Result<AssignmentView, AppError> {
    let assignment = find_for(conn, viewer, id)?;
    views(conn, &[assignment])?.pop().ok_or(AppError::NotFound)
}

/// The views of `rows`, with their questions, agencies and answers read in a few queries.
pub fn views(
    conn: &mut DbConnection,
    rows: &[Assignment],
) -> Result<Vec<AssignmentView>, AppError> {
    let question_ids: Vec<String> = rows.iter().map(|a| a.question_id.to_string()).collect();
    let questions: HashMap<String, Question> = questions::store::find_many(conn, &question_ids)?
        .into_iter()
        .map(|q| (q.id.to_string(), q))
        .collect();
    let agency_ids: Vec<String> = rows.iter().map(|a| a.agency_id.to_string()).collect();
    let agencies: HashMap<String, String> = store::agency_names(conn, &agency_ids)?
        .into_iter()
        .collect();
    let ids: Vec<String> = rows.iter().map(|a| a.id.to_string()).collect();
    let responses: HashMap<String, Response> = store::responses_for(conn, &ids)?
        .into_iter()
        .map(|r| (r.assignment_id.to_string(), r))
        .collect();
    let mut dialogues_seen: HashMap<String, Dialogue> = HashMap::new();
    let at = now();
    let mut out = Vec::with_capacity(rows.len());
    for a in rows {
        let Some(q) = questions.get(a.question_id.as_str()) else {
            continue;
        };
        if !dialogues_seen.contains_key(q.dialogue_id.as_str()) {
            let d = dialogues::store::find(conn, &q.dialogue_id)?.ok_or(AppError::NotFound)?;
            dialogues_seen.insert(q.dialogue_id.to_string(), d);
        }
        let dialogue = &dialogues_seen[q.dialogue_id.as_str()];
        let rfc = |t: NaiveDateTime| dialogue.local(t).to_rfc3339();
        out.push(AssignmentView {
            id: a.id.clone(),
            dialogue_id: q.dialogue_id.to_string(),
            question: AssignedQuestion {
                id: q.id.clone(),
                body: q.body.clone(),
                topic: q.topic,
                status: q.status,
                asker: q.asker_for_agency().map(str::to_string),
            },
            agency: AgencyRef {
                id: a.agency_id.clone(),
                name: agencies
                    .get(a.agency_id.as_str())
                    .cloned()
                    .unwrap_or_default(),
            },
            due_at: rfc(a.due_at),
            overdue: a.is_overdue(at),
            status: a.status,
            note: a.note.clone(),
            decline_reason: a.decline_reason.clone(),
            return_reason: a.return_reason.clone(),
            response: responses.get(a.id.as_str()).map(|r| ResponseView {
                body: r.body.clone(),
                submitted_at: r.submitted_at.map(rfc),
                approved_at: r.approved_at.map(rfc),
            }),
        });
    }
    Ok(out)
}

/// The published answers of these questions (for the public page and the asker), by
/// question id. A question merged into another shows the other's answer.
pub fn published_answers_to(
    conn: &mut DbConnection,
    dialogue: &Dialogue,
    question_ids: &[String],
) -> Result<HashMap<String, PublishedAnswer>, AppError> {
    let rows: Vec<Assignment> = store::published_in(conn, &dialogue.id, question_ids)?;
    let ids: Vec<String> = rows.iter().map(|a| a.id.to_string()).collect();
    let responses: HashMap<String, Response> = store::responses_for(conn, &ids)?
        .into_iter()
        .map(|r| (r.assignment_id.to_string(), r))
        .collect();
    let agency_ids: Vec<String> = rows.iter().map(|a| a.agency_id.to_string()).collect();
    let agencies: HashMap<String, String> = store::agency_names(conn, &agency_ids)?
        .into_iter()
        .collect();
    let mut out = HashMap::new();
    for a in rows {
        let Some(r) = responses.get(a.id.as_str()) else {
            continue;
        };
        out.insert(
            a.question_id.to_string(),
            PublishedAnswer {
                agency: agencies
                    .get(a.agency_id.as_str())
                    .cloned()
                    .unwrap_or_default(),
                body: r.body.clone(),
                published_at: dialogue
                    .local(r.approved_at.unwrap_or(a.updated_at))
                    .to_rfc3339(),
            },
        );
    }
    Ok(out)
}

// ---------------------------------------------------------------- entry points

pub async fn assign_questions(
    state: &AppState,
    staff: Staff,
    question_ids: Vec<QuestionId>,
    input: AssignInput,
) -> Result<Vec<AssignmentView>, AppError> {
    let state = state.clone();
    state
        .db
        .clone()
        .write(move |conn| {
            let made = assign(
                conn,
                &state.templates,
                &state.settings,
                &staff,
                &question_ids,
                &input,
            )?;
            views(conn, &made)
        })
        .await
}

/// What an assignment action needs: who acts, and which assignment.
pub enum Action {
    Respond(ResponseInput),
    Decline(ReasonInput),
    Approve,
    Return(ReasonInput),
}

pub async fn act(
    state: &AppState,
    staff: Staff,
    id: AssignmentId,
    action: Action,
) -> Result<AssignmentView, AppError> {
    let state = state.clone();
    state
        .db
        .clone()
        .write(move |conn| {
            let (templates, settings) = (&state.templates, &state.settings);
            let done = match &action {
                Action::Respond(input) => {
                    respond(conn, templates, settings, &Viewer::of(staff)?, &id, input)?
                }
                Action::Decline(input) => {
                    decline(conn, templates, settings, &Viewer::of(staff)?, &id, input)?
                }
                Action::Approve => organizer_only(&staff)
                    .and_then(|_| approve(conn, Mailing::of(&state), &staff, &id))?,
                Action::Return(input) => organizer_only(&staff)
                    .and_then(|_| return_answer(conn, templates, settings, &staff, &id, input))?,
            };
            views(conn, &[done])?.pop().ok_or(AppError::NotFound)
        })
        .await
}

fn organizer_only(staff: &Staff) -> Result<(), AppError> {
    if staff.can_organize() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// The organizer's and the public's overview numbers: answers by agency and state.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgencyProgress {
    pub agency: String,
    pub published: i64,
    pub awaiting_approval: i64,
    pub due: i64,
    pub overdue: i64,
}

pub fn progress_by_agency(
    conn: &mut DbConnection,
    dialogue_id: &str,
) -> Result<Vec<AgencyProgress>, AppError> {
    let rows = store::in_dialogue(conn, dialogue_id)?;
    let ids: Vec<String> = rows.iter().map(|a| a.agency_id.to_string()).collect();
    let names: HashMap<String, String> = store::agency_names(conn, &ids)?.into_iter().collect();
    let at = now();
    let mut by: std::collections::BTreeMap<String, AgencyProgress> = Default::default();
    for a in rows {
        let name = names.get(a.agency_id.as_str()).cloned().unwrap_or_default();
        let entry = by.entry(name.clone()).or_insert(AgencyProgress {
            agency: name,
            published: 0,
            awaiting_approval: 0,
            due: 0,
            overdue: 0,
        });
        match a.status {
            AssignmentStatus::Published => entry.published += 1,
            AssignmentStatus::Answered => entry.awaiting_approval += 1,
            AssignmentStatus::Declined => {}
            _ if a.is_overdue(at) => entry.overdue += 1,
            _ => entry.due += 1,
        }
    }
    Ok(by.into_values().collect())
}

/// A participant's own question with its published answer (for a merged question, the
/// answer of the question it joined).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuestionWithAnswer {
    #[serde(flatten)]
    pub question: questions::model::OwnQuestion,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<PublishedAnswer>,
}

pub fn own_questions(
    conn: &mut DbConnection,
    dialogue: &Dialogue,
    participant_id: &str,
) -> Result<Vec<QuestionWithAnswer>, AppError> {
    let own = questions::store::by_participant(conn, participant_id)?;
    if own.is_empty() {
        return Ok(Vec::new());
    }
    // A merged question's answer is its target's.
    let answered: Vec<String> = own
        .iter()
        .map(|q| q.merged_into_id.as_deref().unwrap_or(&q.id).to_string())
        .collect();
    let answers = published_answers_to(conn, dialogue, &answered)?;
    Ok(own
        .iter()
        .map(|q| {
            let answered_at = q.merged_into_id.as_deref().unwrap_or(&q.id);
            QuestionWithAnswer {
                question: questions::ops::own_view(&dialogue.time_zone, q),
                answer: answers.get(answered_at).cloned(),
            }
        })
        .collect())
}

/// The picture a chair shows when opening: questions by topic and status, answers by agency.
#[derive(Debug, Serialize, ToSchema)]
pub struct Overview {
    /// Public questions (approved and after) per topic.
    pub by_topic: Vec<TopicCount>,
    /// Questions per status (organizers only; empty for others).
    pub by_status: Vec<StatusCount>,
    pub by_agency: Vec<AgencyProgress>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TopicCount {
    pub topic: Topic,
    pub count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusCount {
    pub status: QuestionStatus,
    pub count: i64,
}

pub fn overview_of(
    conn: &mut crate::db::DbConnection,
    dialogue_id: &str,
    organizer: bool,
) -> Result<Overview, AppError> {
    let dialogue = questions::ops::visible_dialogue(conn, dialogue_id, organizer)?;
    let public: Vec<QuestionStatus> = QuestionStatus::ALL
        .iter()
        .copied()
        .filter(|s| s.is_public())
        .collect();
    let by_topic = questions::store::count_by_topic(conn, &dialogue.id, &public)?
        .into_iter()
        .map(|(topic, count)| TopicCount { topic, count })
        .collect();
    let by_status = if organizer {
        questions::store::count_by_status(conn, &dialogue.id)?
            .into_iter()
            .map(|(status, count)| StatusCount { status, count })
            .collect()
    } else {
        Vec::new()
    };
    Ok(Overview {
        by_topic,
        by_status,
        by_agency: progress_by_agency(conn, &dialogue.id)?,
    })
}

/// A question of the public queue with its published answer, if any.
#[derive(Debug, Clone, Serialize)]
pub struct QueueEntry {
    #[serde(flatten)]
    pub question: questions::model::PublicQuestion,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<PublishedAnswer>,
}

/// The public queue as a page shows it: the questions (no anonymous asker, no group, no
/// contact), their published answers, and the overview without names.
pub struct PublicQueue {
    pub entries: Vec<QueueEntry>,
    pub overview: Overview,
    /// Questions matching the filter, on every page.
    pub total: i64,
    /// Public questions answered, in writing or aloud.
    pub answered: i64,
    /// This page (from 1) and how many there are.
    pub page: i64,
    pub pages: i64,
}

/// Questions one page of the public queue lists: a phone scrolls through 50 comfortably.
pub const QUEUE_PAGE_SIZE: i64 = 50;

/// One page (from 1) of the public queue, with the answers published so far.
pub fn public_queue(
    conn: &mut DbConnection,
    dialogue_id: &str,
    query: &questions::ops::QueueQuery,
    page: i64,
) -> Result<PublicQueue, AppError> {
    let dialogue = questions::ops::visible_dialogue(conn, dialogue_id, false)?;
    let filter = questions::store::Filter {
        statuses: questions::ops::readable_statuses(None, false),
        topic: query.topic,
        sort: query.sort,
    };
    let page = page.max(1);
    let (rows, total) = questions::ops::list(
        conn,
        &dialogue,
        &filter,
        (page - 1) * QUEUE_PAGE_SIZE,
        QUEUE_PAGE_SIZE,
    )?;
    let ids: Vec<String> = rows.iter().map(|q| q.id.to_string()).collect();
    let answers = published_answers_to(conn, &dialogue, &ids)?;
    let entries = rows
        .iter()
        .map(|q| QueueEntry {
            question: questions::ops::public_view(&dialogue, q),
            answer: answers.get(q.id.as_str()).cloned(),
        })
        .collect();
    let answered = questions::store::count_in(
        conn,
        dialogue_id,
        &[QuestionStatus::Answered, QuestionStatus::AnsweredLive],
    )?;
    Ok(PublicQueue {
        entries,
        overview: overview_of(conn, dialogue_id, false)?,
        total,
        answered,
        page,
        pages: ((total + QUEUE_PAGE_SIZE - 1) / QUEUE_PAGE_SIZE).max(1),
    })
}
