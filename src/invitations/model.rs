//! Invitations and their statuses.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::invitations;
use crate::db::{DialogueId, InvitationId, ParticipantId};
use crate::participants::model::{Category, Participant};

crate::text_enum! {
    pub enum InvitationStatus {
        /// Added; no email sent (none yet, or the invitee has no address).
        Pending = "pending",
        /// Email queued as a job, not sent yet.
        Queued = "queued",
        Sent = "sent",
        /// The email could not be delivered; `failure_reason` says why.
        Failed = "failed",
        Accepted = "accepted",
        Declined = "declined",
    }
}

impl InvitationStatus {}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = invitations)]
pub struct Invitation {
    pub id: InvitationId,
    pub dialogue_id: DialogueId,
    pub participant_id: ParticipantId,
    pub status: InvitationStatus,
    pub queued_at: Option<NaiveDateTime>,
    pub sent_at: Option<NaiveDateTime>,
    pub responded_at: Option<NaiveDateTime>,
    pub reminded_at: Option<NaiveDateTime>,
    pub failure_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Invitation {
    pub fn status(&self) -> InvitationStatus {
        self.status
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = invitations)]
pub struct NewInvitation {
    pub id: InvitationId,
    pub dialogue_id: DialogueId,
    pub participant_id: ParticipantId,
    pub status: InvitationStatus,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// An invitee as organizers see them (personal data: organizers only).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InvitationView {
    pub id: String,
    pub participant_id: String,
    pub full_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub category: Category,
    pub address: Option<String>,
    /// The short code printed on letters; also works as the participant's credential.
    pub code: String,
    pub status: InvitationStatus,
    pub sent_at: Option<chrono::DateTime<chrono::Utc>>,
    pub responded_at: Option<chrono::DateTime<chrono::Utc>>,
    pub failure_reason: Option<String>,
}

impl InvitationView {
    pub fn of(invitation: &Invitation, person: &Participant) -> InvitationView {
        InvitationView {
            id: invitation.id.to_string(),
            participant_id: person.id.to_string(),
            full_name: person.full_name.clone(),
            email: person.email.clone(),
            phone: person.phone.clone(),
            category: person.category,
            address: person.address.clone(),
            code: person.code.clone(),
            status: invitation.status(),
            sent_at: invitation.sent_at.map(|t| t.and_utc()),
            responded_at: invitation.responded_at.map(|t| t.and_utc()),
            failure_reason: invitation.failure_reason.clone(),
        }
    }
}

/// The filters of the organizers' invitee list, in order: the invitation's own statuses,
/// and after acceptance what the registration says (a seat, the waitlist, cancelled,
/// checked in).
pub const LIST_STATUSES: [&str; 9] = [
    "pending",
    "queued",
    "sent",
    "failed",
    "accepted",
    "waitlisted",
    "checked_in",
    "cancelled",
    "declined",
];

impl Invitation {
    /// How the invitee stands on the organizers' list. Accepting takes a seat or a place on
    /// the waitlist, so an accepted invitee who waits is shown as waiting, not as accepted.
    pub fn list_status(&self, registration: Option<&str>) -> &'static str {
        match (self.status(), registration) {
            (_, Some("checked_in")) => "checked_in",
            (InvitationStatus::Accepted, Some("waitlisted")) => "waitlisted",
            (InvitationStatus::Accepted, Some("cancelled")) => "cancelled",
            (status, _) => status.as_str(),
        }
    }

    /// Whether an email for this invitation went out (or was tried and failed): only then is
    /// "send again" offered; the others are sent with the list's "send" button.
    pub fn was_sent(&self) -> bool {
        self.queued_at.is_some() && self.status() != InvitationStatus::Queued
    }
}
