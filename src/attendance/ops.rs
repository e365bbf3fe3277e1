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
