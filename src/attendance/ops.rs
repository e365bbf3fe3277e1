//! Attendance: how many were invited, answered, hold a seat, wait and came, in total and
//! per participant group (counts only). A report over invitations and registrations, so it
//! sits above both and neither needs the other.

use crate::dialogues;
use crate::error::AppError;
use crate::invitations;
use crate::registrations;
use crate::state::AppState;

pub use crate::registrations::ops::{Attendance, CategoryCounts};

pub async fn attendance_of(state: &AppState, dialogue_id: &str) -> Result<Attendance, AppError> {
    let dialogue_id = dialogue_id.to_string();
    state
        .db
        .read(move |conn| {
            let dialogue = dialogues::store::find(conn, &dialogue_id)?.ok_or(AppError::NotFound)?;
            let (by_status, by_category) = invitations::store::counts(conn, &dialogue.id)?;
            let get = |s: &str| by_status.get(s).copied().unwrap_or(0);
            registrations::ops::attendance(
                conn,
                &dialogue,
                &by_category,
                get("accepted"),
                get("declined"),
            )
        })
        .await
}

/// The sign-in sheet of everyone holding a seat (registered or checked in), for an
/// organizer; each printing is written to the audit log. Drawn on a blocking thread after
/// the database is released.
pub async fn sheet_pdf(
    state: &AppState,
    dialogue_id: &str,
    user_id: &str,
) -> Result<Vec<u8>, AppError> {
    use crate::registrations::model::RegistrationStatus;
    let (id, user_id) = (dialogue_id.to_string(), user_id.to_string());
    let (full, people) = state
        .db
        .write(move |conn| {
            let full = dialogues::store::find_full(conn, &id)?.ok_or(AppError::NotFound)?;
            crate::audit::view(conn, &id, &user_id, "attendance.sheet")?;
            let (mut rows, _) =
                registrations::store::list(conn, &id, None, 0, i64::from(i32::MAX))?;
            rows.retain(|(r, _)| {
                matches!(
                    r.status,
                    RegistrationStatus::Registered | RegistrationStatus::CheckedIn
                )
            });
            Ok((full, rows))
        })
        .await?;
    actix_web::web::block(move || super::sheet::sheet(&full, people))
        .await
        .map_err(|e| AppError::unexpected(format!("drawing the sign-in sheet: {e}")))
}

/// The filters of the attendance list, in order.
pub const LIST_STATUSES: [&str; 6] = [
    "checked_in",
    "registered",
    "waitlisted",
    "cancelled",
    "declined",
    "invited",
];

/// One person of the dialogue as the attendance list shows them.
pub struct Attendee {
    pub person: crate::participants::model::Participant,
    /// One of `LIST_STATUSES`.
    pub status: &'static str,
    pub checked_in_at: Option<chrono::NaiveDateTime>,
}

/// Where someone stands on the day: their registration decides; without one, whether they
/// declined the invitation or have not answered.
fn attendee_status(invitation: Option<&str>, registration: Option<&str>) -> &'static str {
    match (registration, invitation) {
        (Some("checked_in"), _) => "checked_in",
        (Some("registered"), _) => "registered",
        (Some("waitlisted"), _) => "waitlisted",
        (Some(_), _) => "cancelled",
        (None, Some("declined")) => "declined",
        (None, _) => "invited",
    }
}

/// Everyone invited or registered, by name; each reading (page, print or export) is written
/// to the audit log as `action`.
pub async fn people_of(
    state: &AppState,
    dialogue_id: &str,
    user_id: &str,
    action: &'static str,
) -> Result<(dialogues::model::FullDialogue, Vec<Attendee>), AppError> {
    let (id, user_id) = (dialogue_id.to_string(), user_id.to_string());
    state
        .db
        .write(move |conn| {
            let full = dialogues::store::find_full(conn, &id)?.ok_or(AppError::NotFound)?;
            crate::audit::view(conn, &id, &user_id, action)?;
            let invited = invitations::store::list_with_registration(conn, &id)?;
            let (registered, _) =
                registrations::store::list(conn, &id, None, 0, i64::from(i32::MAX))?;
            let mut people: std::collections::HashMap<String, Attendee> = invited
                .into_iter()
                .map(|(i, p, r)| {
                    let status = attendee_status(Some(i.status().as_str()), r.as_deref());
                    let attendee = Attendee {
                        person: p,
                        status,
                        checked_in_at: None,
                    };
                    (attendee.person.id.to_string(), attendee)
                })
                .collect();
            for (r, p) in registered {
                let status = attendee_status(None, Some(r.status().as_str()));
                let entry = people.entry(p.id.to_string()).or_insert(Attendee {
                    person: p,
                    status,
                    checked_in_at: None,
                });
                entry.checked_in_at = r.checked_in_at;
            }
            let mut people: Vec<Attendee> = people.into_values().collect();
            people.sort_by(|a, b| {
                (&a.person.name_key, &a.person.id).cmp(&(&b.person.name_key, &b.person.id))
            });
            Ok((full, people))
        })
        .await
}
