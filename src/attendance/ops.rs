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
