//! HTML pages for dialogues: the public home and dialogue pages, the organizer's
//! dashboard, the create/edit form and status buttons.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{NaiveDateTime, TimeZone};
use minijinja::{Value, context};
use serde::Serialize;

use super::input::{AgendaInput, DialogueInput, OfficialInput};
use super::model::{DEFAULT_TIME_ZONE, DialogueStatus, FullDialogue};
use super::view::{AgencyDialogues, PeopleToTell, PublicLinks, PublicSeats, card};
use super::{ops, store};
use crate::audit::Actor;
use crate::auth::{MaybeStaff, Organizer, Staff};
use crate::db::DialogueId;
use crate::error::{AppError, FieldError, FieldErrors};
use crate::html::{PageForm, SharedPages, render, render_shared, see_other, serve_shared};
use crate::i18n::Lang;
use crate::state::AppState;

fn notice(req: &HttpRequest, lang: Lang) -> Option<String> {
    let done =
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
            .ok()?;
    let key = match done.get("done")?.as_str() {
        "created" => "dashboard.created",
        "saved" => "dashboard.saved",
        "status" => "dashboard.status_changed",
        "saved_told" => "dashboard.saved_told",
        "saved_not_told" => "dashboard.saved_not_told",
        _ => return None,
    };
    Some(lang.text(key))
}

#[get("/")]
pub async fn home(
    state: web::Data<AppState>,
    req: HttpRequest,
    viewer: MaybeStaff,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of_request(&req);
    let list = state.db.read(|conn| Ok(store::upcoming(conn, 50)?)).await?;
    let cards: Vec<Value> = list.iter().map(|d| card(d, lang)).collect();
    render(
        &state,
        &req,
        viewer.0.as_ref(),
        "home.html",
        context! { dialogues => cards },
    )
}

/// The dialogue's public page. Everyone at the dialogue opens it on the day, so anonymous
/// readers share one copy of at most a second old (`SharedPages`).
#[get("/d/{id}")]
pub async fn public_page(
    state: web::Data<AppState>,
    shared: web::Data<SharedPages>,
    req: HttpRequest,
    viewer: MaybeStaff,
    id: web::Path<DialogueId>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let organizer = viewer.can_organize();
    let hooks = req
        .app_data::<web::Data<PublicLinks>>()
        .map(|links| links.0.clone())
        .unwrap_or_default();
    let seats_hook = req
        .app_data::<web::Data<PublicSeats>>()
        .and_then(|seats| seats.0);
    let waitlist_limit = state.settings.waitlist_limit;
    let lang = Lang::of_request(&req);
    let read = || async {
        let (full, links, seats) = state
            .db
            .read(move |conn| {
                let full = store::find_full(conn, &id)?.ok_or(AppError::NotFound)?;
                let mut links = Vec::new();
                for hook in hooks {
                    if let Some(link) = hook(conn, &full)? {
                        links.push(link);
                    }
                }
                let seats = match seats_hook {
                    Some(hook) => hook(conn, &full, waitlist_limit)?,
                    None => None,
                };
                Ok((full, links, seats))
            })
            .await?;
        if !ops::visible_to(&full, organizer) {
            return Err(AppError::NotFound);
        }
        Ok(context! {
            d => card(&full, lang), links => Value::from_serialize(&links),
            seats => Value::from_serialize(seats), contact_phone => &state.settings.contact_phone,
        })
    };
    if viewer.0.is_none() {
        let html = shared
            .0
            .get_or_fill(&SharedPages::key(&req), || async {
                render_shared(&state, &req, "dialogue.html", read().await?)
            })
            .await?;
        return Ok(serve_shared(&req, &html));
    }
    render(
        &state,
        &req,
        viewer.0.as_ref(),
        "dialogue.html",
        read().await?,
    )
}

/// Dialogues on the dashboard at most (the soonest; the rest are past ones).
const DASHBOARD_MAX: i64 = 200;

#[get("/staff")]
pub async fn dashboard(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: Staff,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of_request(&req);
    let hooks = req
        .app_data::<web::Data<AgencyDialogues>>()
        .map(|h| h.0.clone())
        .unwrap_or_default();
    let organizer = staff.can_organize();
    let agency = staff.user.agency_id.clone();
    let list = state
        .db
        .read(move |conn| {
            let now = crate::db::now();
            if organizer {
                return Ok(store::for_dashboard(conn, None, now, DASHBOARD_MAX)?);
            }
            // Agency staff: the dialogues their agency takes part in, drafts never.
            let Some(agency) = agency else {
                return Ok(Vec::new());
            };
            let mut ids = Vec::new();
            for hook in hooks {
                ids.extend(hook(conn, &agency)?);
            }
            ids.sort();
            ids.dedup();
            let mut list = store::for_dashboard(conn, Some(&ids), now, DASHBOARD_MAX)?;
            list.retain(|d| d.dialogue.status() != DialogueStatus::Draft);
            Ok(list)
        })
        .await?;
    let cards: Vec<Value> = list.iter().map(|d| card(d, lang)).collect();
    render(
        &state,
        &req,
        Some(&staff),
        "staff/dashboard.html",
        context! { dialogues => cards, notice => notice(&req, lang) },
    )
}

/// What the form shows: text as typed, times as `datetime-local` values in the dialogue's zone.
#[derive(Debug, Default, Serialize)]
struct FormValues {
    title: String,
    description: String,
    host_unit: String,
    parent_unit: String,
    locality: String,
    venue: String,
    starts_at: String,
    ends_at: String,
    question_deadline: String,
    time_zone: String,
    capacity: String,
    self_registration: bool,
    anonymous_questions: bool,
    officials: Vec<OfficialInput>,
    agenda: Vec<AgendaInput>,
    /// Tell the people who hold a place when the time or venue changes (checked at first).
    notify: bool,
}

const BLANK_ROWS: usize = 3;

impl FormValues {
    fn blank() -> FormValues {
        let mut v = FormValues {
            time_zone: DEFAULT_TIME_ZONE.into(),
            capacity: "100".into(),
            anonymous_questions: true,
            ..FormValues::default()
        };
        v.pad();
        v
    }

    fn of(full: &FullDialogue) -> FormValues {
        let d = &full.dialogue;
        let local = |at: NaiveDateTime| d.local(at).format("%Y-%m-%dT%H:%M").to_string();
        let mut v = FormValues {
            title: d.title.clone(),
            description: d.description.clone(),
            host_unit: d.host_unit.clone(),
            parent_unit: d.parent_unit.clone(),
            locality: d.locality.clone(),
            venue: d.venue.clone(),
            starts_at: local(d.starts_at),
            ends_at: local(d.ends_at),
            question_deadline: d.question_deadline.map(local).unwrap_or_default(),
            time_zone: d.time_zone.clone(),
            capacity: d.capacity.to_string(),
            self_registration: d.self_registration,
            anonymous_questions: d.anonymous_questions,
            officials: full
                .officials
                .iter()
                .map(|o| OfficialInput {
                    name: o.name.clone(),
                    position: o.position.clone(),
                    role: o.role.to_string(),
                })
                .collect(),
            agenda: full
                .agenda
                .iter()
                .map(|a| AgendaInput {
                    title: a.title.clone(),
                    presenter: a.presenter.clone(),
                })
                .collect(),
            notify: true,
        };
        v.pad();
        v
    }

    fn from_form(form: &PageForm) -> FormValues {
        let names = form.all("official_name");
        let positions = form.all("official_position");
        let roles = form.all("official_role");
        let officials = (0..names.len())
            .map(|i| OfficialInput {
                name: names[i].to_string(),
                position: positions.get(i).copied().unwrap_or_default().to_string(),
                role: roles.get(i).copied().unwrap_or("member").to_string(),
            })
            .collect();
        let titles = form.all("agenda_title");
        let presenters = form.all("agenda_presenter");
        let agenda = (0..titles.len())
            .map(|i| AgendaInput {
                title: titles[i].to_string(),
                presenter: presenters
                    .get(i)
                    .map(|p| p.to_string())
                    .filter(|p| !p.trim().is_empty()),
            })
            .collect();
        FormValues {
            title: form.get("title").into(),
            description: form.get("description").into(),
            host_unit: form.get("host_unit").into(),
            parent_unit: form.get("parent_unit").into(),
            locality: form.get("locality").into(),
            venue: form.get("venue").into(),
            starts_at: form.get("starts_at").into(),
            ends_at: form.get("ends_at").into(),
            question_deadline: form.get("question_deadline").into(),
            time_zone: form
                .opt("time_zone")
                .unwrap_or_else(|| DEFAULT_TIME_ZONE.into()),
            capacity: form.get("capacity").into(),
            self_registration: form.checked("self_registration"),
            anonymous_questions: form.checked("anonymous_questions"),
            officials,
            agenda,
            notify: form.checked("notify"),
        }
    }

    /// Rows left fully empty are not officials or agenda items, just unused form lines.
    fn to_input(&self) -> Result<DialogueInput, AppError> {
        let zone: chrono_tz::Tz = self
            .time_zone
            .parse()
            .unwrap_or(chrono_tz::Asia::Ho_Chi_Minh);
        let mut errors = FieldErrors::new();
        let mut instant = |field: &str, raw: &str, required: bool| -> Option<String> {
            if raw.trim().is_empty() {
                if required {
                    errors.add(field, FieldError::new("required"));
                }
                return Some(String::new());
            }
            let parsed = NaiveDateTime::parse_from_str(raw.trim(), "%Y-%m-%dT%H:%M")
                .ok()
                .and_then(|local| zone.from_local_datetime(&local).single());
            match parsed {
                Some(t) => Some(t.to_rfc3339()),
                None => {
                    errors.add(field, FieldError::new("invalid_datetime"));
                    None
                }
            }
        };
        let starts_at = instant("starts_at", &self.starts_at, true);
        let ends_at = instant("ends_at", &self.ends_at, true);
        let deadline = instant("question_deadline", &self.question_deadline, false);
        let capacity = self.capacity.trim().parse::<i64>().ok();
        if capacity.is_none() {
            errors.add("capacity", FieldError::new("required"));
        }
        let mut input = DialogueInput {
            title: Some(self.title.clone()),
            description: Some(self.description.clone()),
            host_unit: Some(self.host_unit.clone()),
            parent_unit: Some(self.parent_unit.clone()),
            locality: Some(self.locality.clone()),
            venue: Some(self.venue.clone()),
            starts_at: starts_at.filter(|s| !s.is_empty()),
            ends_at: ends_at.filter(|s| !s.is_empty()),
            question_deadline: Some(deadline.unwrap_or_default()),
            time_zone: Some(self.time_zone.clone()),
            capacity,
            self_registration: Some(self.self_registration),
            anonymous_questions: Some(self.anonymous_questions),
            officials: Some(
                self.officials
                    .iter()
                    .filter(|o| !(o.name.trim().is_empty() && o.position.trim().is_empty()))
                    .cloned()
                    .collect(),
            ),
            agenda: Some(
                self.agenda
                    .iter()
                    .filter(|a| !a.title.trim().is_empty() || a.presenter.is_some())
                    .cloned()
                    .collect(),
            ),
            // The page asks its own question (`FormValues::notify`).
            notify: None,
        };
        // The model reports the remaining problems; keep the page's own ones in front.
        match input.validate() {
            Ok(_) if errors.is_empty() => Ok(input),
            Ok(_) => Err(AppError::Validation(errors)),
            Err(AppError::Validation(more)) => {
                for (field, e) in more.0 {
                    errors.add(field, e);
                }
                Err(AppError::Validation(errors))
            }
            Err(other) => {
                input.officials = None;
                Err(other)
            }
        }
    }

    /// Leaves the typed rows and adds blank ones only up to what the form needs: at least
    /// `BLANK_ROWS` rows, and one blank row after the filled ones. Blank rows sent back by
    /// a refused form are dropped first, so failed submits never pile up empty rows (and
    /// the refused rows keep the numbers the model's messages use).
    fn pad(&mut self) {
        self.officials
            .retain(|o| !(o.name.trim().is_empty() && o.position.trim().is_empty()));
        let missing = BLANK_ROWS.saturating_sub(self.officials.len()).max(1);
        for _ in 0..missing {
            let has = |role: &str| self.officials.iter().any(|o| o.role == role);
            let role = if !has("chair") {
                "chair"
            } else if !has("secretary") {
                "secretary"
            } else {
                "member"
            };
            self.officials.push(OfficialInput {
                role: role.into(),
                ..OfficialInput::default()
            });
        }
        self.agenda
            .retain(|a| !a.title.trim().is_empty() || a.presenter.is_some());
        let missing = BLANK_ROWS.saturating_sub(self.agenda.len()).max(1);
        for _ in 0..missing {
            self.agenda.push(AgendaInput::default());
        }
    }
}

fn field_messages(error: &AppError, lang: Lang) -> Value {
    let envelope = error.envelope(lang, None);
    Value::from_serialize(&envelope.error.fields)
}

/// The create/edit form; `dialogue` (the stored dialogue's card) when editing, for its
/// status and the next step's button.
#[allow(clippy::too_many_arguments)]
fn form_page(
    state: &AppState,
    req: &HttpRequest,
    staff: &Staff,
    id: Option<&str>,
    dialogue: Option<Value>,
    values: &FormValues,
    errors: Value,
    status: u16,
) -> Result<HttpResponse, AppError> {
    let mut page = render(
        state,
        req,
        Some(staff),
        "staff/dialogue_form.html",
        context! { id => id, d => dialogue, v => Value::from_serialize(values), errors => errors, notice => notice(req, Lang::of_request(req)) },
    )?;
    if let Ok(code) = actix_web::http::StatusCode::from_u16(status) {
        *page.status_mut() = code;
    }
    Ok(page)
}

#[get("/staff/dialogues/new")]
pub async fn new_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
) -> Result<HttpResponse, AppError> {
    form_page(
        &state,
        &req,
        &staff,
        None,
        None,
        &FormValues::blank(),
        context! {},
        200,
    )
}

#[post("/staff/dialogues")]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    form: PageForm,
) -> Result<HttpResponse, AppError> {
    let mut values = FormValues::from_form(&form);
    let input = match values.to_input() {
        Ok(input) => input,
        Err(e @ AppError::Validation(_)) => {
            values.pad();
            let errors = field_messages(&e, Lang::of_request(&req));
            return form_page(&state, &req, &staff, None, None, &values, errors, 422);
        }
        Err(other) => return Err(other),
    };
    let user_id = staff.user.id.clone();
    let full = state
        .db
        .write(move |conn| ops::create(conn, &input, &Actor::User(user_id.clone()), Some(&user_id)))
        .await?;
    Ok(see_other(&format!(
        "/staff/dialogues/{}/edit?done=created",
        full.dialogue.id
    )))
}

#[get("/staff/dialogues/{id}/edit")]
pub async fn edit_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let (full, to_tell) = find_with_people_to_tell(&state, &req, &id).await?;
    let lang = Lang::of_request(&req);
    form_page(
        &state,
        &req,
        &staff,
        Some(&id),
        Some(edit_card(&full, to_tell, lang)),
        &FormValues::of(&full),
        context! {},
        200,
    )
}

#[post("/staff/dialogues/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
    form: PageForm,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let mut values = FormValues::from_form(&form);
    let input = match values.to_input() {
        Ok(input) => input,
        Err(e @ AppError::Validation(_)) => {
            values.pad();
            let (full, to_tell) = find_with_people_to_tell(&state, &req, &id).await?;
            let lang = Lang::of_request(&req);
            let errors = field_messages(&e, lang);
            let dialogue = Some(edit_card(&full, to_tell, lang));
            return form_page(
                &state,
                &req,
                &staff,
                Some(&id),
                dialogue,
                &values,
                errors,
                422,
            );
        }
        Err(other) => return Err(other),
    };
    let actor = Actor::User(staff.user.id.clone());
    let target = id.clone();
    let notify = values.notify;
    let (_, moved) = state
        .db
        .write(move |conn| ops::edit(conn, &target, input, notify, &actor))
        .await?;
    // The question was on the form only when someone could be told.
    let asked = form.checked("notify_asked");
    let done = match (moved && asked, notify) {
        (true, true) => "saved_told",
        (true, false) => "saved_not_told",
        _ => "saved",
    };
    Ok(see_other(&format!(
        "/staff/dialogues/{id}/edit?done={done}"
    )))
}

/// The dialogue, and how many people an announced change of time or venue would reach
/// (the edit form asks whether to tell them only when there are some).
async fn find_with_people_to_tell(
    state: &AppState,
    req: &HttpRequest,
    id: &str,
) -> Result<(FullDialogue, i64), AppError> {
    let hook = req
        .app_data::<web::Data<PeopleToTell>>()
        .and_then(|people| people.0);
    let id = id.to_string();
    state
        .db
        .read(move |conn| {
            let full = store::find_full(conn, &id)?.ok_or(AppError::NotFound)?;
            let to_tell = match hook {
                Some(count) => count(conn, &id)?,
                None => 0,
            };
            Ok((full, to_tell))
        })
        .await
}

/// The dialogue's card for the edit form, with the number of people to tell.
fn edit_card(full: &FullDialogue, to_tell: i64, lang: Lang) -> Value {
    context! { ..card(full, lang), ..context! { to_tell => to_tell } }
}

#[derive(serde::Deserialize)]
pub struct StatusQuery {
    to: Option<String>,
}

/// The confirmation step of a status change: the dialogue's title, what the step will do,
/// a button that does it and a way back. Every step is one way, so none is taken on one tap.
#[get("/staff/dialogues/{id}/status")]
pub async fn confirm_status(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
    query: web::Query<StatusQuery>,
) -> Result<HttpResponse, AppError> {
    let next = query
        .to
        .as_deref()
        .and_then(DialogueStatus::from_code)
        .ok_or(AppError::BadRequest {
            code: "bad_request",
            detail: None,
        })?;
    let id = id.into_inner();
    let full = state
        .db
        .read(move |conn| store::find_full(conn, &id)?.ok_or(AppError::NotFound))
        .await?;
    if !full.dialogue.status().can_become(next) {
        return Err(AppError::Conflict("invalid_transition"));
    }
    let lang = Lang::of_request(&req);
    render(
        &state,
        &req,
        Some(&staff),
        "staff/dialogue_status.html",
        context! { d => card(&full, lang), step => next.as_str() },
    )
}

#[post("/staff/dialogues/{id}/status")]
pub async fn change_status(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
    form: PageForm,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let next = DialogueStatus::from_code(form.get("status")).ok_or(AppError::BadRequest {
        code: "bad_request",
        detail: None,
    })?;
    let actor = Actor::User(staff.user.id.clone());
    let target = id.clone();
    state
        .db
        .write(move |conn| ops::change_status(conn, &target, next, &actor))
        .await?;
    Ok(see_other(&format!(
        "/staff/dialogues/{id}/edit?done=status"
    )))
}
