//! Invitations and their statuses.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::invitations;
use crate::participants::model::Participant;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    /// Added; no email sent (none yet, or the invitee has no address).
    Pending,
    /// Email waiting in the outbox.
    Queued,
    Sent,
    /// The email could not be delivered; `failure_reason` says why.
    Failed,
    Accepted,
    Declined,
}

impl InvitationStatus {
    pub const ALL: [InvitationStatus; 6] = [
        InvitationStatus::Pending,
        InvitationStatus::Queued,
        InvitationStatus::Sent,
        InvitationStatus::Failed,
        InvitationStatus::Accepted,
        InvitationStatus::Declined,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InvitationStatus::Pending => "pending",
            InvitationStatus::Queued => "queued",
            InvitationStatus::Sent => "sent",
            InvitationStatus::Failed => "failed",
            InvitationStatus::Accepted => "accepted",
            InvitationStatus::Declined => "declined",
        }
    }

    pub fn parse(text: &str) -> Option<InvitationStatus> {
        InvitationStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = invitations)]
pub struct Invitation {
    pub id: String,
    pub dialogue_id: String,
    pub participant_id: String,
    pub status: String,
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
        InvitationStatus::parse(&self.status).unwrap_or(InvitationStatus::Pending)
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = invitations)]
pub struct NewInvitation {
    pub id: String,
    pub dialogue_id: String,
    pub participant_id: String,
    pub status: String,
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
    pub category: String,
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
            id: invitation.id.clone(),
            participant_id: person.id.clone(),
            full_name: person.full_name.clone(),
            email: person.email.clone(),
            phone: person.phone.clone(),
            category: person.category.clone(),
            address: person.address.clone(),
            code: person.code.clone(),
            status: invitation.status(),
            sent_at: invitation.sent_at.map(|t| t.and_utc()),
            responded_at: invitation.responded_at.map(|t| t.and_utc()),
            failure_reason: invitation.failure_reason.clone(),
        }
    }
}
