//! Seats, the waitlist and the door: the operations the API, the pages and the invitations
//! share. Each runs inside the caller's transaction, with the dialogue's row locked, so a
//! seat is never given twice and a freed seat goes to the next person in the same commit.

use std::collections::{BTreeMap, HashMap};

use minijinja::context;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::{NewRegistration, Registration, RegistrationStatus, RegistrationView};
use super::queue::BatchQueue;
use super::{store, ticket};
use crate::audit::{self, Actor};
use crate::config::Settings;
use crate::db::{Db, DbConnection, RegistrationId, now};
use crate::dialogues;
use crate::dialogues::model::{Dialogue, DialogueStatus};
use crate::error::{AppError, FieldError, FieldErrors};
use crate::events::Event;
use crate::json::schema;
use crate::mail::Attachment;
use crate::participants;
use crate::participants::model::{
    Category, Participant, Person, PersonInput, Source, normalize_code,
};
use crate::participants::notify::{self, Mailing, Notice};
use crate::ratelimit::{KeyLimiter, LoginLimiter, per_address_per_minute};
use crate::state::AppState;
use std::net::IpAddr;

/// What a person at the door agrees to (recorded with the time).
pub const WALK_IN_PURPOSE: &str =
    "Điểm danh tham dự hội nghị đối thoại tại cửa; dữ liệu chỉ dùng cho việc tổ chức hội nghị này.";
/// What an invitee agrees to by accepting (recorded with the time, once).
pub const ACCEPT_PURPOSE: &str =
    "Nhận lời mời tham dự hội nghị đối thoại; dữ liệu chỉ dùng cho việc tổ chức hội nghị này.";

/// Limits on self-registration that fit a district hall behind one address: per address,
/// per dialogue and for the whole service (settings `DOITHOAI_REGISTRATIONS_*`). Registered
/// by the application as `web::Data<RegistrationLimiter>`.
#[derive(Clone)]
pub struct RegistrationLimiter {
    per_address: LoginLimiter,
    per_dialogue: KeyLimiter,
    overall: KeyLimiter,
}

impl RegistrationLimiter {
    /// Shared by every instance when `db` is PostgreSQL (see `ratelimit`).
    pub fn from_settings(settings: &Settings, db: &Db) -> RegistrationLimiter {
        let db = Some(db);
        RegistrationLimiter {
            per_address: per_address_per_minute(
                settings.registrations_per_address_per_minute,
                db,
                "registrations_per_address",
            ),
            per_dialogue: KeyLimiter::per_minute(
                settings.registrations_per_dialogue_per_minute,
                db,
                "registrations_per_dialogue",
            ),
            overall: KeyLimiter::per_minute(settings.registrations_per_minute, db, "registrations"),
        }
    }

    /// Counts one attempt; the first limit reached answers 429.
    pub async fn check(&self, ip: Option<IpAddr>, dialogue_id: &str) -> Result<(), AppError> {
        crate::ratelimit::check_all([
            self.per_address.count(ip),
            self.per_dialogue.count(dialogue_id),
            self.overall.count("all"),
        ])
        .await
    }
}

/// Registration and check-in are possible while the dialogue is open or under way.
pub fn ensure_accepting(dialogue: &Dialogue) -> Result<(), AppError> {
    match dialogue.status() {
        DialogueStatus::Open | DialogueStatus::InProgress => Ok(()),
        _ => Err(AppError::Conflict("dialogue_not_open")),
    }
}

/// Gives the participant a seat, or a place on the waitlist when the dialogue is full, and
/// emails them which. Registering someone already registered changes nothing.
pub fn register(
    conn: &mut DbConnection,
    mailing: Mailing<'_>,
    dialogue: &Dialogue,
    participant: &Participant,
) -> Result<Registration, AppError> {
    register_with_position(conn, mailing, dialogue, participant).map(|(r, _)| r)
}

/// `register`, also returning the waitlist place of someone who had to wait.
pub fn register_with_position(
    conn: &mut DbConnection,
    mailing: Mailing<'_>,
    dialogue: &Dialogue,
    participant: &Participant,
) -> Result<(Registration, Option<i64>), AppError> {
    ensure_accepting(dialogue)?;
    dialogues::store::lock(conn, &dialogue.id)?;
    let existing = store::find_by_participant(conn, &participant.id)?;
    if let Some(current) = &existing {
        if current.status() != RegistrationStatus::Cancelled {
            let position = store::waitlist_position(conn, current)?;
            return Ok((current.clone(), position));
        }
    }
    let counts = store::seat_counts(conn, &dialogue.id)?;
    let status = place_for(dialogue, counts, mailing.settings.waitlist_limit)?;
    let registration = match existing {
        Some(cancelled) => {
            store::requeue(conn, &cancelled.id, status)?;
            store::find(conn, &cancelled.id)?.ok_or(AppError::NotFound)?
        }
        None => insert_registration(conn, dialogue, participant, status)?,
    };
    let position = announce(conn, mailing, dialogue, participant, &registration, counts)?;
    Ok((registration, position))
}

/// What a dialogue can still give: free seats, and whether its waitlist takes more people.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Places {
    pub seats_left: i64,
    pub waitlist_open: bool,
}

impl Places {
    /// A registration now would get a seat or a waitlist place.
    pub fn any(&self) -> bool {
        self.seats_left > 0 || self.waitlist_open
    }
}

/// The places left in a dialogue, as a registration now would find them.
pub fn places(
    conn: &mut DbConnection,
    dialogue: &Dialogue,
    waitlist_limit: i64,
) -> Result<Places, AppError> {
    let (seated, waitlisted) = store::seat_counts(conn, &dialogue.id)?;
    Ok(Places {
        seats_left: (i64::from(dialogue.capacity) - seated).max(0),
        waitlist_open: waitlisted < waitlist_limit,
    })
}

/// The places left for a dialogue's public page, while it takes self-registrations.
pub fn public_places(
    conn: &mut DbConnection,
    full: &dialogues::model::FullDialogue,
    waitlist_limit: i64,
) -> Result<Option<dialogues::view::SeatsLeft>, AppError> {
    if !full.dialogue.self_registration || ensure_accepting(&full.dialogue).is_err() {
        return Ok(None);
    }
    let places = places(conn, &full.dialogue, waitlist_limit)?;
    Ok(Some(dialogues::view::SeatsLeft {
        seats_left: places.seats_left,
        waitlist_open: places.waitlist_open,
    }))
}

/// A seat while there are seats, else a waitlist place while the waitlist has room.
fn place_for(
    dialogue: &Dialogue,
    (seated, waitlisted): (i64, i64),
    waitlist_limit: i64,
) -> Result<RegistrationStatus, AppError> {
    if seated < i64::from(dialogue.capacity) {
        Ok(RegistrationStatus::Registered)
    } else if waitlisted < waitlist_limit {
        Ok(RegistrationStatus::Waitlisted)
    } else {
        Err(AppError::Conflict("registration_full"))
    }
}

fn insert_registration(
    conn: &mut DbConnection,
    dialogue: &Dialogue,
    participant: &Participant,
    status: RegistrationStatus,
) -> Result<Registration, AppError> {
    let at = now();
    let row = NewRegistration {
        id: RegistrationId::new(),
        dialogue_id: dialogue.id.clone(),
        participant_id: participant.id.clone(),
        status,
        queued_at: at,
        checked_in_at: None,
        checked_in_by: None,
        created_at: at,
        updated_at: at,
    };
    store::insert(conn, &row)?;
    Ok(Registration::from(row))
}

/// Emails the new place and returns the waitlist position (a new or requeued place is the
/// last in the queue, so it follows from the counts taken before it).
fn announce(
    conn: &mut DbConnection,
    mailing: Mailing<'_>,
    dialogue: &Dialogue,
    participant: &Participant,
    registration: &Registration,
    (_, waitlisted): (i64, i64),
) -> Result<Option<i64>, AppError> {
    let (kind, position) = match registration.status() {
        RegistrationStatus::Waitlisted => ("waitlisted", Some(waitlisted + 1)),
        _ => ("registered", None),
    };
    tell(
        conn,
        mailing,
        dialogue,
        participant,
        registration,
        kind,
        position,
    )?;
    Ok(position)
}

/// Frees the participant's seat (or waitlist place); the first waitlisted person gets the
/// seat in the same transaction and is told.
pub fn cancel(
    conn: &mut DbConnection,
    mailing: Mailing<'_>,
    dialogue: &Dialogue,
    participant: &Participant,
) -> Result<Registration, AppError> {
    ensure_accepting(dialogue)?;
    dialogues::store::lock(conn, &dialogue.id)?;
    let registration = store::find_by_participant(conn, &participant.id)?
        .ok_or(AppError::Conflict("not_registered"))?;
    match registration.status() {
        RegistrationStatus::Cancelled => return Ok(registration),
        RegistrationStatus::CheckedIn => return Err(AppError::Conflict("already_checked_in")),
        RegistrationStatus::Registered | RegistrationStatus::Waitlisted => {}
    }
    store::set_status(conn, &registration.id, RegistrationStatus::Cancelled)?;
    fill_free_seats(conn, mailing, dialogue)?;
    store::find(conn, &registration.id)?.ok_or(AppError::NotFound)
}

/// Promotes waitlisted people, first come first served, while seats are free.
pub fn fill_free_seats(
    conn: &mut DbConnection,
    mailing: Mailing<'_>,
    dialogue: &Dialogue,
) -> Result<usize, AppError> {
    let (seated, _) = store::seat_counts(conn, &dialogue.id)?;
    let free = i64::from(dialogue.capacity) - seated;
    if free <= 0 {
        return Ok(0);
    }
    let waiting = store::waitlist(conn, &dialogue.id)?;
    let mut promoted = 0;
    for registration in waiting.into_iter().take(usize::try_from(free).unwrap_or(0)) {
        store::promote(conn, &registration.id)?;
        if let Some(person) = participants::store::find(conn, &registration.participant_id)? {
            tell(
                conn,
                mailing,
                dialogue,
                &person,
                &registration,
                "promoted",
                None,
            )?;
        }
        promoted += 1;
    }
    Ok(promoted)
}

/// Inside the transaction of a change: when a dialogue changes, more seats (a larger
/// capacity) go to the waitlist at once.
pub fn on_event(
    conn: &mut DbConnection,
    mailing: Mailing<'_>,
    event: &Event,
) -> Result<(), AppError> {
    let Event::DialogueChanged { dialogue_id } = event else {
        return Ok(());
    };
    let dialogue = dialogues::store::find(conn, dialogue_id)?.ok_or(AppError::NotFound)?;
    if ensure_accepting(&dialogue).is_ok() {
        fill_free_seats(conn, mailing, &dialogue)?;
    }
    Ok(())
}

/// Emails a registration's news: `registered`, `waitlisted` or `promoted` (with the ticket
/// for the two that hold a seat).
fn tell(
    conn: &mut DbConnection,
    mailing: Mailing<'_>,
    dialogue: &Dialogue,
    participant: &Participant,
    registration: &Registration,
    kind: &'static str,
    position: Option<i64>,
) -> Result<(), AppError> {
    if participant.email.is_none() {
        return Ok(());
    }
    let link = notify::code_link(mailing.settings, participant);
    let base = notify::context_for(mailing, dialogue, participant, &link);
    let with_ticket = kind != "waitlisted";
    let attachments = if with_ticket {
        let mut qr = Attachment::new(
            "ve-moi.png",
            "image/png",
            &ticket::qr_png(&participant.code)?,
        );
        qr.inline_id = Some("ticket".into());
        vec![qr]
    } else {
        Vec::new()
    };
    notify::queue(
        conn,
        mailing,
        participant,
        Notice {
            kind: "registration",
            template: "registration",
            context: context! { ..base, ..context! { kind => kind, ticket => with_ticket, position => position } },
            attachments,
            dedupe_key: Some(format!(
                "registration:{}:{kind}:{}",
                registration.id,
                registration.updated_at.and_utc().timestamp_micros()
            )),
            subject_ref: Some(("registration", registration.id.to_string())),
        },
    )?;
    Ok(())
}

/// The result of a scan or a typed code at the door.
pub struct CheckIn {
    pub registration: Registration,
    pub participant: Participant,
    pub already_checked_in: bool,
}

/// Checks in the holder of `code` (the ticket's QR payload or the typed short code).
/// A second scan changes nothing and says when the first was.
pub fn check_in(
    conn: &mut DbConnection,
    dialogue: &Dialogue,
    code: &str,
    staff_id: &str,
) -> Result<CheckIn, AppError> {
    ensure_accepting(dialogue)?;
    let code = normalize_code(code).ok_or(AppError::NotFoundBecause("unknown_code"))?;
    let participant = participants::store::find_by_code(conn, &code)?
        .filter(|p| p.dialogue_id == dialogue.id)
        .ok_or(AppError::NotFoundBecause("unknown_code"))?;
    let registration = store::find_by_participant(conn, &participant.id)?
        .ok_or(AppError::Conflict("not_registered"))?;
    match registration.status() {
        RegistrationStatus::CheckedIn => Ok(CheckIn {
            registration,
            participant,
            already_checked_in: true,
        }),
        RegistrationStatus::Registered => {
            store::check_in(conn, &registration.id, Some(staff_id))?;
            audit::entry(&Actor::User(staff_id.to_string()), "registration.check_in")
                .about("registration", &registration.id)
                .in_dialogue(&dialogue.id)
                .record(conn)?;
            Ok(CheckIn {
                registration: store::find(conn, &registration.id)?.ok_or(AppError::NotFound)?,
                participant,
                already_checked_in: false,
            })
        }
        RegistrationStatus::Waitlisted => Err(AppError::Conflict("waitlisted")),
        RegistrationStatus::Cancelled => Err(AppError::Conflict("registration_cancelled")),
    }
}

/// Registers someone who came to the door without registering, and checks them in.
/// When every seat is held, only an explicit `over_capacity` lets them in (recorded).
pub fn walk_in(
    conn: &mut DbConnection,
    dialogue: &Dialogue,
    person: &crate::participants::model::Person,
    over_capacity: bool,
    staff_id: &str,
) -> Result<(Registration, Participant), AppError> {
    ensure_accepting(dialogue)?;
    dialogues::store::lock(conn, &dialogue.id)?;
    if participants::store::find_same_person(conn, &dialogue.id, person)?.is_some() {
        return Err(AppError::Conflict("already_registered"));
    }
    let over = seat_beyond_capacity(conn, dialogue, over_capacity)?;
    let (row, _token) = participants::store::prepare(
        &dialogue.id,
        person,
        Source::WalkIn,
        Some((now(), WALK_IN_PURPOSE)),
    );
    participants::store::insert(conn, &row)?;
    let actor = Actor::User(staff_id.to_string());
    let mut entry = audit::entry(&actor, "registration.walk_in")
        .about("participant", &row.id)
        .in_dialogue(&dialogue.id);
    if let Some(over) = &over {
        entry = entry.detail(over.clone());
    }
    entry.record(conn)?;
    let at = now();
    let registration = NewRegistration {
        id: RegistrationId::new(),
        dialogue_id: dialogue.id.clone(),
        participant_id: row.id.clone(),
        status: RegistrationStatus::CheckedIn,
        queued_at: at,
        checked_in_at: Some(at),
        checked_in_by: Some(staff_id.to_string()),
        created_at: at,
        updated_at: at,
    };
    store::insert(conn, &registration)?;
    let participant = participants::store::find(conn, &row.id)?.ok_or(AppError::NotFound)?;
    let registration = store::find(conn, &registration.id)?.ok_or(AppError::NotFound)?;
    Ok((registration, participant))
}

/// With the dialogue locked: whether one more seat fits. `None` when it does; when every
/// seat is held, the audit detail of going past capacity if the caller chose to, else
/// `no_free_seat`.
fn seat_beyond_capacity(
    conn: &mut DbConnection,
    dialogue: &Dialogue,
    over_capacity: bool,
) -> Result<Option<String>, AppError> {
    let (seated, _) = store::seat_counts(conn, &dialogue.id)?;
    if seated < i64::from(dialogue.capacity) {
        return Ok(None);
    }
    if !over_capacity {
        return Err(AppError::Conflict("no_free_seat"));
    }
    Ok(Some(format!(
        "over capacity: seat {} of {}",
        seated + 1,
        dialogue.capacity
    )))
}

/// The participant of `dialogue` holding `code` (typed or scanned).
fn holder_of(
    conn: &mut DbConnection,
    dialogue: &Dialogue,
    code: &str,
) -> Result<Participant, AppError> {
    let code = normalize_code(code).ok_or(AppError::NotFoundBecause("unknown_code"))?;
    participants::store::find_by_code(conn, &code)?
        .filter(|p| p.dialogue_id == dialogue.id)
        .ok_or(AppError::NotFoundBecause("unknown_code"))
}

/// Someone at the door and where they stand.
#[derive(Debug, Clone)]
pub struct AtDoor {
    pub participant: Participant,
    pub registration: Option<Registration>,
    pub waitlist_position: Option<i64>,
}

impl AtDoor {
    fn of(
        conn: &mut DbConnection,
        participant: Participant,
        registration: Option<Registration>,
    ) -> Result<AtDoor, AppError> {
        let waitlist_position = match &registration {
            Some(r) => store::waitlist_position(conn, r)?,
            None => None,
        };
        Ok(AtDoor {
            participant,
            registration,
            waitlist_position,
        })
    }

    pub fn status(&self) -> Option<RegistrationStatus> {
        self.registration.as_ref().map(Registration::status)
    }
}

/// The holder of `code` and their registration, to show why a check-in was refused.
pub fn look_up(
    conn: &mut DbConnection,
    dialogue: &Dialogue,
    code: &str,
) -> Result<AtDoor, AppError> {
    let participant = holder_of(conn, dialogue, code)?;
    let registration = store::find_by_participant(conn, &participant.id)?;
    AtDoor::of(conn, participant, registration)
}

/// Takes back a mistaken check-in, restoring what was before it: a registered person keeps
/// their seat, a person admitted from the waitlist at the door goes back to their place on
/// it, and a walk-in's registration is cancelled. A seat given back goes to the waitlist as
/// any freed seat does. Recorded.
pub fn undo_check_in(
    conn: &mut DbConnection,
    mailing: Mailing<'_>,
    dialogue: &Dialogue,
    code: &str,
    staff_id: &str,
) -> Result<AtDoor, AppError> {
    ensure_accepting(dialogue)?;
    dialogues::store::lock(conn, &dialogue.id)?;
    let participant = holder_of(conn, dialogue, code)?;
    let registration = store::find_by_participant(conn, &participant.id)?
        .ok_or(AppError::Conflict("not_registered"))?;
    if registration.status() != RegistrationStatus::CheckedIn {
        return Err(AppError::Conflict("not_checked_in"));
    }
    let admitted_at_door = registration.promoted_at.is_some()
        && registration.promoted_at == registration.checked_in_at;
    let back_to = if participant.source == Source::WalkIn {
        RegistrationStatus::Cancelled
    } else if admitted_at_door {
        RegistrationStatus::Waitlisted
    } else {
        RegistrationStatus::Registered
    };
    store::undo_check_in(conn, &registration.id, back_to)?;
    audit::entry(
        &Actor::User(staff_id.to_string()),
        "registration.check_in_undone",
    )
    .about("registration", &registration.id)
    .in_dialogue(&dialogue.id)
    .detail(format!("back to {}", back_to.as_str()))
    .record(conn)?;
    if back_to != RegistrationStatus::Registered {
        fill_free_seats(conn, mailing, dialogue)?;
    }
    let registration = store::find(conn, &registration.id)?;
    AtDoor::of(conn, participant, registration)
}

/// An organizer lets a waitlisted person in at the door: a free seat if there is one,
/// else only with `over_capacity` (the explicit choice, recorded with the count). The
/// person is checked in at once. A second tap changes nothing.
pub fn admit_from_waitlist(
    conn: &mut DbConnection,
    dialogue: &Dialogue,
    code: &str,
    over_capacity: bool,
    staff_id: &str,
) -> Result<CheckIn, AppError> {
    ensure_accepting(dialogue)?;
    dialogues::store::lock(conn, &dialogue.id)?;
    let participant = holder_of(conn, dialogue, code)?;
    let registration = store::find_by_participant(conn, &participant.id)?
        .ok_or(AppError::Conflict("not_registered"))?;
    match registration.status() {
        RegistrationStatus::CheckedIn => {
            return Ok(CheckIn {
                registration,
                participant,
                already_checked_in: true,
            });
        }
        RegistrationStatus::Waitlisted => {}
        RegistrationStatus::Registered | RegistrationStatus::Cancelled => {
            return Err(AppError::Conflict("not_waitlisted"));
        }
    }
    let over = seat_beyond_capacity(conn, dialogue, over_capacity)?;
    store::admit(conn, &registration.id, staff_id)?;
    let actor = Actor::User(staff_id.to_string());
    let mut entry = audit::entry(&actor, "registration.admit_from_waitlist")
        .about("registration", &registration.id)
        .in_dialogue(&dialogue.id);
    if let Some(over) = &over {
        entry = entry.detail(over.clone());
    }
    entry.record(conn)?;
    Ok(CheckIn {
        registration: store::find(conn, &registration.id)?.ok_or(AppError::NotFound)?,
        participant,
        already_checked_in: false,
    })
}

/// The most people one door search lists.
pub const DOOR_SEARCH_LIMIT: i64 = 20;

/// People of the dialogue whose name (without diacritics) or phone matches `raw`, for the
/// door (organizers; recorded as a view of personal data). An empty or unusable query
/// finds nobody.
pub fn search_at_door(
    conn: &mut DbConnection,
    dialogue: &Dialogue,
    raw: &str,
    staff_id: &str,
) -> Result<Vec<AtDoor>, AppError> {
    let Some(query) = participants::model::PersonQuery::parse(raw) else {
        return Ok(Vec::new());
    };
    audit::view(conn, &dialogue.id, staff_id, "door.search")?;
    let rows = store::search(conn, &dialogue.id, &query, DOOR_SEARCH_LIMIT)?;
    rows.into_iter()
        .map(|(participant, registration)| AtDoor::of(conn, participant, registration))
        .collect()
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct CategoryCounts {
    pub invited: i64,
    pub registered: i64,
    pub checked_in: i64,
}

/// Attendance as the API reports it. `registered` counts everyone holding a seat
/// (checked in or not); `checked_in` those who came.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Attendance {
    pub invited: i64,
    pub accepted: i64,
    pub declined: i64,
    pub registered: i64,
    pub waitlisted: i64,
    pub checked_in: i64,
    pub capacity: i64,
    pub by_category: BTreeMap<String, CategoryCounts>,
}

/// Counts registrations per status and group; the invitation counts come from the caller.
pub fn attendance(
    conn: &mut DbConnection,
    dialogue: &Dialogue,
    invited_by_category: &BTreeMap<String, i64>,
    accepted: i64,
    declined: i64,
) -> Result<Attendance, AppError> {
    let counts = store::counts_by_category(conn, &dialogue.id)?;
    let mut result = Attendance {
        accepted,
        declined,
        capacity: i64::from(dialogue.capacity),
        ..Attendance::default()
    };
    for &category in Category::ALL {
        let code = category.as_str().to_string();
        let n = |status: RegistrationStatus| {
            counts
                .get(&(code.clone(), status.as_str().to_string()))
                .copied()
                .unwrap_or(0)
        };
        let entry = CategoryCounts {
            invited: invited_by_category.get(&code).copied().unwrap_or(0),
            registered: n(RegistrationStatus::Registered) + n(RegistrationStatus::CheckedIn),
            checked_in: n(RegistrationStatus::CheckedIn),
        };
        result.invited += entry.invited;
        result.registered += entry.registered;
        result.checked_in += entry.checked_in;
        result.waitlisted += n(RegistrationStatus::Waitlisted);
        result.by_category.insert(code, entry);
    }
    Ok(result)
}

/// What a person agrees to when registering; stored with the time of consent.
pub const CONSENT_PURPOSE: &str =
    "Đăng ký tham dự hội nghị đối thoại; dữ liệu chỉ dùng cho việc tổ chức hội nghị này.";

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct SelfRegistrationInput {
    #[schema(schema_with = schema::text::<200>)]
    pub full_name: String,
    /// An email or a phone is required.
    #[serde(default)]
    #[schema(schema_with = schema::optional_email)]
    pub email: Option<String>,
    /// An email or a phone is required.
    #[serde(default)]
    #[schema(schema_with = schema::optional_phone)]
    pub phone: Option<String>,
    #[schema(value_type = Category)]
    pub category: String,
    #[serde(default)]
    #[schema(schema_with = schema::language)]
    pub language: Option<String>,
    /// Must be `true`: the person agrees that their details are used to organise this dialogue.
    #[serde(default)]
    #[schema(schema_with = schema::consent, required = true)]
    pub consent: bool,
}

/// What the person who registered is told. It is the same whether or not they were already
/// on the dialogue's list, so the answer never reveals who is on it.
#[derive(Debug)]
pub enum SelfRegistered {
    /// An email address was given: the personal link went there (to someone already on the
    /// list with that address, a reminder of their link; nothing else changes).
    Emailed,
    /// Only a phone was given: the code is shown at once, the person has no other channel.
    /// Someone on the list with the same name and phone gets a new row marked as a possible
    /// duplicate, for the organizer to review (their own code is never handed out).
    Code {
        registration: RegistrationView,
        code: String,
    },
}

/// Checks the form, records consent, and registers the person. The dialogue's row is locked
/// first, then the list is checked, then the rows are written: on PostgreSQL, inserting a
/// participant before locking takes a KEY SHARE lock on the dialogue, and two such requests
/// deadlock when they then ask for the row lock.
pub async fn register_self(
    state: &AppState,
    queue: &RegistrationQueue,
    dialogue_id: &str,
    input: SelfRegistrationInput,
) -> Result<SelfRegistered, AppError> {
    let mut errors = FieldErrors::new();
    let person = PersonInput {
        full_name: input.full_name,
        email: input.email,
        phone: input.phone,
        category: input.category,
        address: None,
        language: input.language,
    }
    .parse("", &mut errors);
    if !input.consent {
        errors.add("consent", FieldError::new("consent_required"));
    }
    if let Some(person) = &person {
        if person.email.is_none() && person.phone.is_none() {
            errors.add("phone", FieldError::new("email_or_phone"));
        }
    }
    errors.into_result()?;
    let Some(person) = person else {
        return Err(AppError::unexpected("person parsed without values"));
    };
    queue.decide(state, (dialogue_id.to_string(), person)).await
}

/// Self-registrations waiting for the next transaction (see `queue.rs`).
pub type RegistrationQueue = BatchQueue<(String, Person), SelfRegistered>;

/// The queue with its decision, one per process.
pub fn registration_queue() -> RegistrationQueue {
    BatchQueue::new(decide_registrations)
}

/// One transaction for waiting self-registrations: each dialogue opened (checked, locked,
/// counted) once, then every person in arrival order. A database error rolls everything
/// back and fails the batch.
fn decide_registrations(
    conn: &mut DbConnection,
    state: &AppState,
    items: &[(String, Person)],
) -> Result<Vec<Result<SelfRegistered, AppError>>, AppError> {
    let mailing = Mailing::of(state);
    // Locked in the order of their ids, so two instances' batches never wait on each other
    // in a circle.
    let mut ids: Vec<&str> = items.iter().map(|(id, _)| id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut opened: HashMap<&str, Opened> = HashMap::new();
    for id in ids {
        opened.insert(id, open_for_registration(conn, id)?);
    }
    let mut answers = Vec::with_capacity(items.len());
    for (dialogue_id, person) in items {
        let answer = match opened.get_mut(dialogue_id.as_str()) {
            Some(Ok((dialogue, counts))) => register_one(conn, mailing, dialogue, counts, person)?,
            Some(Err(refused)) => Err(refused.clone()),
            None => Err(AppError::unexpected("dialogue not opened")),
        };
        answers.push(answer);
    }
    Ok(answers)
}

/// Seats held and waitlist places of a dialogue, as `store::seat_counts` reads them.
pub type SeatCounts = (i64, i64);

/// A dialogue open for registrations in the current transaction with its counts, or why
/// registrations to it are refused.
pub type Opened = Result<(Dialogue, SeatCounts), AppError>;

/// Opens a dialogue for registrations in the current transaction: the checks, then the lock,
/// then the seat counts. The outer error aborts the transaction; the inner one refuses only
/// the registrations of this dialogue.
fn open_for_registration(conn: &mut DbConnection, dialogue_id: &str) -> Result<Opened, AppError> {
    let Some(dialogue) = dialogues::store::find(conn, dialogue_id)? else {
        return Ok(Err(AppError::NotFound));
    };
    if !crate::dialogues::model::DialogueStatus::listed_publicly(dialogue.status()) {
        return Ok(Err(AppError::NotFound));
    }
    if !dialogue.self_registration {
        return Ok(Err(AppError::ForbiddenBecause("self_registration_closed")));
    }
    if let Err(e) = ensure_accepting(&dialogue) {
        return Ok(Err(e));
    }
    dialogues::store::lock(conn, &dialogue.id)?;
    let counts = store::seat_counts(conn, &dialogue.id)?;
    Ok(Ok((dialogue, counts)))
}

/// Registers one person in a dialogue opened by `open_for_registration`, keeping `counts`
/// up to date. Refusals (a full dialogue) come before anyone is looked up, so they answer
/// the same to everyone; only database errors are outer errors.
fn register_one(
    conn: &mut DbConnection,
    mailing: Mailing<'_>,
    dialogue: &Dialogue,
    counts: &mut (i64, i64),
    person: &Person,
) -> Result<Result<SelfRegistered, AppError>, AppError> {
    let status = match place_for(dialogue, *counts, mailing.settings.waitlist_limit) {
        Ok(status) => status,
        Err(refused) => return Ok(Err(refused)),
    };
    let same = participants::store::find_same_person(conn, &dialogue.id, person)?;
    if let Some(existing) = &same {
        if person.email.is_some() && existing.email == person.email {
            remind_of_link(conn, mailing, dialogue, existing)?;
            return Ok(Ok(SelfRegistered::Emailed));
        }
    }
    let (mut row, _token) = participants::store::prepare(
        &dialogue.id,
        person,
        Source::SelfRegistration,
        Some((crate::db::now(), CONSENT_PURPOSE)),
    );
    if let Some(existing) = &same {
        row.mark_possible_duplicate(&existing.id);
        audit::entry(&Actor::Anonymous, "registration.possible_duplicate")
            .about("participant", &row.id)
            .in_dialogue(&dialogue.id)
            .detail(format!("same name and phone as {}", existing.id))
            .record(conn)?;
    }
    // The dialogue is locked and the person is new: the counts still hold, so the seat is
    // decided without reading anything again.
    participants::store::insert(conn, &row)?;
    let participant = Participant::from(row);
    let registration = insert_registration(conn, dialogue, &participant, status)?;
    let position = announce(
        conn,
        mailing,
        dialogue,
        &participant,
        &registration,
        *counts,
    )?;
    match status {
        RegistrationStatus::Waitlisted => counts.1 += 1,
        _ => counts.0 += 1,
    }
    if participant.email.is_some() {
        return Ok(Ok(SelfRegistered::Emailed));
    }
    Ok(Ok(SelfRegistered::Code {
        registration: RegistrationView::of(&registration, position),
        code: participant.code,
    }))
}

/// Emails someone already on the list, who asked to register again with their address, the
/// link to their personal page. At most one such email a day, so nobody can flood an inbox.
fn remind_of_link(
    conn: &mut DbConnection,
    mailing: Mailing<'_>,
    dialogue: &Dialogue,
    participant: &Participant,
) -> Result<(), AppError> {
    let link = notify::code_link(mailing.settings, participant);
    let base = notify::context_for(mailing, dialogue, participant, &link);
    let day = crate::db::now().date();
    let cancelled = store::find_by_participant(conn, &participant.id)?
        .is_some_and(|r| r.status() == RegistrationStatus::Cancelled);
    notify::queue(
        conn,
        mailing,
        participant,
        Notice {
            kind: "registration",
            template: "registration",
            context: context! { ..base, ..context! { kind => "already", ticket => false, cancelled => cancelled } },
            attachments: Vec::new(),
            dedupe_key: Some(format!("registration:already:{}:{day}", participant.id)),
            subject_ref: None,
        },
    )?;
    Ok(())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckInOutput {
    pub registration: RegistrationView,
    pub full_name: String,
    pub already_checked_in: bool,
}

pub async fn check_in_code(
    state: &AppState,
    dialogue_id: &str,
    code: String,
    staff_id: String,
) -> Result<CheckInOutput, AppError> {
    let dialogue_id = dialogue_id.to_string();
    state
        .db
        .write(move |conn| {
            let dialogue = dialogues::store::find(conn, &dialogue_id)?.ok_or(AppError::NotFound)?;
            let done = check_in(conn, &dialogue, &code, &staff_id)?;
            Ok(CheckInOutput {
                registration: RegistrationView::of(&done.registration, None),
                full_name: done.participant.full_name,
                already_checked_in: done.already_checked_in,
            })
        })
        .await
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct WalkInInput {
    #[schema(schema_with = schema::text::<200>)]
    pub full_name: String,
    #[schema(value_type = Category)]
    pub category: String,
    #[serde(default)]
    #[schema(schema_with = schema::optional_phone)]
    pub phone: Option<String>,
    #[serde(default)]
    #[schema(schema_with = schema::optional_email)]
    pub email: Option<String>,
    /// Must be `true`: the person agreed at the door.
    #[serde(default)]
    #[schema(schema_with = schema::consent, required = true)]
    pub consent: bool,
    /// When every seat is held: `true` lets the person in beyond the capacity (recorded);
    /// without it the answer is `no_free_seat`.
    #[serde(default)]
    pub over_capacity: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WalkInOutput {
    pub registration: RegistrationView,
    pub code: String,
}

pub async fn register_walk_in(
    state: &AppState,
    dialogue_id: &str,
    input: WalkInInput,
    staff_id: String,
) -> Result<WalkInOutput, AppError> {
    let mut errors = FieldErrors::new();
    let person = PersonInput {
        full_name: input.full_name,
        email: input.email,
        phone: input.phone,
        category: input.category,
        address: None,
        language: None,
    }
    .parse("", &mut errors);
    if !input.consent {
        errors.add("consent", FieldError::new("consent_required"));
    }
    errors.into_result()?;
    let Some(person) = person else {
        return Err(AppError::unexpected("person parsed without values"));
    };
    let over_capacity = input.over_capacity;
    let dialogue_id = dialogue_id.to_string();
    state
        .db
        .write(move |conn| {
            let dialogue = dialogues::store::find(conn, &dialogue_id)?.ok_or(AppError::NotFound)?;
            let (registration, participant) =
                walk_in(conn, &dialogue, &person, over_capacity, &staff_id)?;
            Ok(WalkInOutput {
                registration: RegistrationView::of(&registration, None),
                code: participant.code,
            })
        })
        .await
}

/// Seats held and people checked in, for the door page.
pub async fn seat_counts(state: &AppState, dialogue_id: &str) -> Result<Attendance, AppError> {
    let dialogue_id = dialogue_id.to_string();
    state
        .db
        .read(move |conn| {
            let dialogue = dialogues::store::find(conn, &dialogue_id)?.ok_or(AppError::NotFound)?;
            attendance(conn, &dialogue, &BTreeMap::new(), 0, 0)
        })
        .await
}

/// What the door does for the holder of a code; each runs in one transaction.
#[derive(Debug, Clone, Copy)]
pub enum DoorAction {
    /// Where the holder stands, without changing anything.
    LookUp,
    Undo,
    Admit {
        over_capacity: bool,
    },
}

/// The holder of `code` after `action`, and whether an admission found them already in.
pub async fn at_door(
    state: &AppState,
    dialogue_id: &str,
    code: String,
    action: DoorAction,
    staff_id: String,
) -> Result<(AtDoor, bool), AppError> {
    let dialogue_id = dialogue_id.to_string();
    let st = state.clone();
    state
        .db
        .write(move |conn| {
            let dialogue = dialogues::store::find(conn, &dialogue_id)?.ok_or(AppError::NotFound)?;
            match action {
                DoorAction::LookUp => Ok((look_up(conn, &dialogue, &code)?, false)),
                DoorAction::Undo => Ok((
                    undo_check_in(conn, Mailing::of(&st), &dialogue, &code, &staff_id)?,
                    false,
                )),
                DoorAction::Admit { over_capacity } => {
                    let done =
                        admit_from_waitlist(conn, &dialogue, &code, over_capacity, &staff_id)?;
                    let at = AtDoor::of(conn, done.participant, Some(done.registration))?;
                    Ok((at, done.already_checked_in))
                }
            }
        })
        .await
}

/// The door's search (see `search_at_door`).
pub async fn door_search(
    state: &AppState,
    dialogue_id: &str,
    query: String,
    staff_id: String,
) -> Result<Vec<AtDoor>, AppError> {
    let dialogue_id = dialogue_id.to_string();
    state
        .db
        .write(move |conn| {
            let dialogue = dialogues::store::find(conn, &dialogue_id)?.ok_or(AppError::NotFound)?;
            search_at_door(conn, &dialogue, &query, &staff_id)
        })
        .await
}
