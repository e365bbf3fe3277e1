//! How a dialogue reads to people: its times written out in its zone and the reader's
//! language, and its facts for templates. Shared by the pages of every capability and by
//! the emails, so a time is written the same way everywhere.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDateTime, Timelike};
use minijinja::{Value, context};
use serde::Serialize;
use utoipa::ToSchema;

use super::model::{Dialogue, DialogueStatus, FullDialogue, OfficialRole};
use crate::i18n::Lang;

/// "14:00–17:00, Thứ Hai, 30/11/2026" in the dialogue's zone.
pub fn when(d: &Dialogue, lang: Lang) -> String {
    let start = d.local(d.starts_at);
    let end = d.local(d.ends_at);
    let day = |t: &chrono::DateTime<chrono::FixedOffset>| {
        let weekday = lang.text(&format!(
            "date.weekday_{}",
            t.weekday().num_days_from_monday()
        ));
        format!("{weekday}, {:02}/{:02}/{}", t.day(), t.month(), t.year())
    };
    if start.date_naive() == end.date_naive() {
        format!(
            "{:02}:{:02}–{:02}:{:02}, {}",
            start.hour(),
            start.minute(),
            end.hour(),
            end.minute(),
            day(&start)
        )
    } else {
        format!(
            "{:02}:{:02}, {} – {:02}:{:02}, {}",
            start.hour(),
            start.minute(),
            day(&start),
            end.hour(),
            end.minute(),
            day(&end)
        )
    }
}

/// "14:00, Thứ Hai, 30/11/2026" in the dialogue's zone and the reader's language.
pub fn moment(d: &Dialogue, at: NaiveDateTime, lang: Lang) -> String {
    let t = d.local(at);
    let weekday = lang.text(&format!(
        "date.weekday_{}",
        t.weekday().num_days_from_monday()
    ));
    format!(
        "{:02}:{:02}, {weekday}, {:02}/{:02}/{}",
        t.hour(),
        t.minute(),
        t.day(),
        t.month(),
        t.year()
    )
}

/// A dialogue's facts for templates, with times written for people.
pub fn card(full: &FullDialogue, lang: Lang) -> Value {
    let d = &full.dialogue;
    context! {
        id => &d.id,
        title => &d.title,
        description => &d.description,
        host_unit => &d.host_unit,
        parent_unit => &d.parent_unit,
        venue => &d.venue,
        status => &d.status,
        self_registration => d.self_registration,
        when => when(d, lang),
        deadline => d.question_deadline.map(|t| moment(d, t, lang)),
        deadline_passed => d.question_deadline.is_some_and(|t| crate::db::now() > t),
        next_steps => d.status().next_steps().into_iter().map(DialogueStatus::as_str).collect::<Vec<_>>(),
        officials => full.officials.iter().map(|o| context! { name => &o.name, position => &o.position, role => &o.role }).collect::<Vec<_>>(),
        agenda => full.agenda.iter().map(|a| context! { title => &a.title, presenter => &a.presenter }).collect::<Vec<_>>(),
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OfficialView {
    pub name: String,
    pub position: String,
    pub role: OfficialRole,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgendaView {
    pub title: String,
    pub presenter: Option<String>,
}

/// A dialogue as the API returns it; times in the dialogue's zone.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DialogueView {
    pub id: String,
    pub title: String,
    pub description: String,
    pub host_unit: String,
    pub parent_unit: String,
    pub locality: String,
    pub venue: String,
    pub starts_at: DateTime<FixedOffset>,
    pub ends_at: DateTime<FixedOffset>,
    pub question_deadline: Option<DateTime<FixedOffset>>,
    pub time_zone: String,
    pub capacity: i32,
    pub self_registration: bool,
    pub anonymous_questions: bool,
    pub status: DialogueStatus,
    /// The calendar event's SEQUENCE (RFC 5545): raised on every change of time or venue.
    pub calendar_sequence: i32,
    pub officials: Vec<OfficialView>,
    pub agenda: Vec<AgendaView>,
    pub created_at: DateTime<FixedOffset>,
    pub updated_at: DateTime<FixedOffset>,
}

impl From<&FullDialogue> for DialogueView {
    fn from(full: &FullDialogue) -> DialogueView {
        let d = &full.dialogue;
        DialogueView {
            id: d.id.to_string(),
            title: d.title.clone(),
            description: d.description.clone(),
            host_unit: d.host_unit.clone(),
            parent_unit: d.parent_unit.clone(),
            locality: d.locality.clone(),
            venue: d.venue.clone(),
            starts_at: d.local(d.starts_at),
            ends_at: d.local(d.ends_at),
            question_deadline: d.question_deadline.map(|t| d.local(t)),
            time_zone: d.time_zone.clone(),
            capacity: d.capacity,
            self_registration: d.self_registration,
            anonymous_questions: d.anonymous_questions,
            status: d.status(),
            calendar_sequence: d.calendar_sequence,
            officials: full
                .officials
                .iter()
                .map(|o| OfficialView {
                    name: o.name.clone(),
                    position: o.position.clone(),
                    role: o.role,
                })
                .collect(),
            agenda: full
                .agenda
                .iter()
                .map(|a| AgendaView {
                    title: a.title.clone(),
                    presenter: a.presenter.clone(),
                })
                .collect(),
            created_at: d.local(d.created_at),
            updated_at: d.local(d.updated_at),
        }
    }
}

/// A link on a dialogue's public page, added by a capability above this one.
#[derive(Debug, Clone, Serialize)]
pub struct PublicLink {
    /// The message key of the link's text.
    pub label: &'static str,
    pub href: String,
}

/// Returns the link a capability adds to a dialogue's public page, when it applies.
pub type PublicLinkHook = fn(
    &mut crate::db::DbConnection,
    &FullDialogue,
) -> Result<Option<PublicLink>, crate::error::AppError>;

/// The places a dialogue still has, as its public page tells them before anyone registers.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SeatsLeft {
    pub seats_left: i64,
    /// New registrations go to the waitlist (when no seat is left).
    pub waitlist_open: bool,
}

/// Returns the places left (given the waitlist limit), when the dialogue takes registrations.
pub type SeatsHook = fn(
    &mut crate::db::DbConnection,
    &FullDialogue,
    i64,
) -> Result<Option<SeatsLeft>, crate::error::AppError>;

/// The hook that counts places for the public page, registered in app.rs (registrations
/// keeps the seats, and sits above this capability).
#[derive(Clone, Default)]
pub struct PublicSeats(pub Option<SeatsHook>);

/// The hooks that add links to the public page (the published minutes), registered in
/// app.rs, so this capability needs to know none of those above it.
#[derive(Clone, Default)]
pub struct PublicLinks(pub Vec<PublicLinkHook>);

/// Returns the ids of the dialogues an agency takes part in, as a capability above this one
/// knows them (questions assigned to it, answers given aloud, commitments).
pub type AgencyDialoguesHook =
    fn(&mut crate::db::DbConnection, &str) -> diesel::QueryResult<Vec<String>>;

/// The hooks that find an agency's dialogues for its staff's dashboard, registered in
/// app.rs like [`PublicLinks`].
#[derive(Clone, Default)]
pub struct AgencyDialogues(pub Vec<AgencyDialoguesHook>);

/// Counts the people an announced change of time or venue is emailed to: those who hold a
/// place (accepted, registered, waitlisted) and have an email address.
pub type PeopleToTellHook = fn(&mut crate::db::DbConnection, &str) -> diesel::QueryResult<i64>;

/// The hook the edit form asks whether anyone could be told of a change, registered in
/// app.rs (registrations keeps the places, and sits above this capability).
#[derive(Clone, Default)]
pub struct PeopleToTell(pub Option<PeopleToTellHook>);
