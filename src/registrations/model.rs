//! Registrations and their statuses.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::registrations;
use crate::db::{DialogueId, ParticipantId, RegistrationId};

crate::text_enum! {
    pub enum RegistrationStatus {
        Registered = "registered",
        Waitlisted = "waitlisted",
        Cancelled = "cancelled",
        CheckedIn = "checked_in",
    }
}

impl RegistrationStatus {
    /// Holds a seat: counts against the dialogue's capacity.
    pub fn holds_seat(self) -> bool {
        matches!(
            self,
            RegistrationStatus::Registered | RegistrationStatus::CheckedIn
        )
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = registrations)]
pub struct Registration {
    pub id: RegistrationId,
    pub dialogue_id: DialogueId,
    pub participant_id: ParticipantId,
    pub status: RegistrationStatus,
    pub queued_at: NaiveDateTime,
    pub promoted_at: Option<NaiveDateTime>,
    pub cancelled_at: Option<NaiveDateTime>,
    pub checked_in_at: Option<NaiveDateTime>,
    pub checked_in_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Registration {
    pub fn status(&self) -> RegistrationStatus {
        self.status
    }
}

impl From<NewRegistration> for Registration {
    /// The row as stored, without reading it back.
    fn from(row: NewRegistration) -> Registration {
        Registration {
            id: row.id,
            dialogue_id: row.dialogue_id,
            participant_id: row.participant_id,
            status: row.status,
            queued_at: row.queued_at,
            promoted_at: None,
            cancelled_at: None,
            checked_in_at: row.checked_in_at,
            checked_in_by: row.checked_in_by,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = registrations)]
pub struct NewRegistration {
    pub id: RegistrationId,
    pub dialogue_id: DialogueId,
    pub participant_id: ParticipantId,
    pub status: RegistrationStatus,
    pub queued_at: NaiveDateTime,
    pub checked_in_at: Option<NaiveDateTime>,
    pub checked_in_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A registration as the API returns it (no personal details).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegistrationView {
    pub id: String,
    pub participant_id: String,
    pub status: RegistrationStatus,
    /// Place in the waitlist (1 = next to get a seat), for waitlisted registrations.
    pub waitlist_position: Option<i64>,
    pub registered_at: chrono::DateTime<chrono::Utc>,
    pub checked_in_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl RegistrationView {
    pub fn of(r: &Registration, waitlist_position: Option<i64>) -> RegistrationView {
        RegistrationView {
            id: r.id.to_string(),
            participant_id: r.participant_id.to_string(),
            status: r.status(),
            waitlist_position,
            registered_at: r.created_at.and_utc(),
            checked_in_at: r.checked_in_at.map(|t| t.and_utc()),
        }
    }
}
