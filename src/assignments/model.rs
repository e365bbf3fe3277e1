//! Assignments: a question handed to an agency with a due date, and the agency's answer
//! (drafted, submitted, returned, approved and published).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::{assignments, responses};
use crate::db::{AgencyId, AssignmentId, QuestionId};
use crate::questions::model::{QuestionStatus, Topic};

/// Longest answer, in characters.
pub const ANSWER_MAX: usize = 10_000;
/// Longest note to the agency.
pub const NOTE_MAX: usize = 1_000;
/// Most questions assigned in one request.
pub const BATCH_MAX: usize = 200;

crate::text_enum! {
    /// Where an assignment stands.
    pub enum AssignmentStatus {
        /// With the agency (a draft answer may be saved).
        Assigned = "assigned",
        /// The agency says it is not theirs; the question can go to another agency.
        Declined = "declined",
        /// The agency submitted an answer; the organizer decides.
        Answered = "answered",
        /// The organizer sent the answer back with a reason; the agency edits and resubmits.
        Returned = "returned",
        /// Approved and shown on the dialogue's page.
        Published = "published",
    }
}

impl AssignmentStatus {
    /// Still waiting for the agency: reminders and overdue notices apply.
    pub fn awaits_agency(self) -> bool {
        matches!(
            self,
            AssignmentStatus::Assigned | AssignmentStatus::Returned
        )
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = assignments)]
pub struct Assignment {
    pub id: AssignmentId,
    pub question_id: QuestionId,
    pub agency_id: AgencyId,
    pub due_at: NaiveDateTime,
    pub note: Option<String>,
    pub status: AssignmentStatus,
    pub decline_reason: Option<String>,
    pub return_reason: Option<String>,
    pub assigned_by: Option<String>,
    pub reminded_at: Option<NaiveDateTime>,
    pub overdue_notified_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Assignment {
    pub fn is_overdue(&self, now: NaiveDateTime) -> bool {
        self.status.awaits_agency() && self.due_at < now
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = assignments)]
pub struct NewAssignment {
    pub id: AssignmentId,
    pub question_id: QuestionId,
    pub agency_id: AgencyId,
    pub due_at: NaiveDateTime,
    pub note: Option<String>,
    pub status: AssignmentStatus,
    pub assigned_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The agency's answer to one assignment.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = responses)]
pub struct Response {
    pub id: String,
    pub assignment_id: AssignmentId,
    pub body: String,
    pub author_id: Option<String>,
    pub submitted_at: Option<NaiveDateTime>,
    pub approved_at: Option<NaiveDateTime>,
    pub approved_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The question as the answering agency sees it: text and topic, and the asker's name only
/// when the asker allowed it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssignedQuestion {
    pub id: QuestionId,
    pub body: String,
    pub topic: Topic,
    pub status: QuestionStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asker: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgencyRef {
    pub id: AgencyId,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResponseView {
    pub body: String,
    /// Empty while it is a draft.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submitted_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_at: Option<String>,
}

/// An assignment as organizers and the agency's staff see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssignmentView {
    pub id: AssignmentId,
    pub dialogue_id: String,
    pub question: AssignedQuestion,
    pub agency: AgencyRef,
    pub due_at: String,
    pub overdue: bool,
    pub status: AssignmentStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decline_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<ResponseView>,
}

/// A published answer, as the public and the asker see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublishedAnswer {
    pub agency: String,
    pub body: String,
    pub published_at: String,
}
