//! Dialogues as stored: the status machine, officials and agenda rows. Pure types and
//! rules; no queries, no HTTP. What a request may change is in `input.rs`, what a reader
//! sees in `view.rs`.

use chrono::{DateTime, FixedOffset, NaiveDateTime};
use chrono_tz::Tz;
use diesel::prelude::*;

use crate::db::DialogueId;
use crate::db::schema::{agenda_items, dialogues, officials};
use crate::error::FieldError;

pub const DEFAULT_TIME_ZONE: &str = "Asia/Ho_Chi_Minh";

crate::text_enum! {
    pub enum DialogueStatus {
        Draft = "draft",
        Open = "open",
        InProgress = "in_progress",
        Concluded = "concluded",
        Cancelled = "cancelled",
    }
}

impl DialogueStatus {
    /// draft → open → in_progress → concluded; anything but concluded may be cancelled.
    pub fn can_become(self, next: DialogueStatus) -> bool {
        use DialogueStatus::*;
        matches!(
            (self, next),
            (Draft, Open)
                | (Open, InProgress)
                | (InProgress, Concluded)
                | (Draft | Open | InProgress, Cancelled)
        )
    }

    /// The statuses a transition from here may go to, for buttons on the pages.
    pub fn next_steps(self) -> Vec<DialogueStatus> {
        DialogueStatus::ALL
            .iter()
            .copied()
            .filter(|s| self.can_become(*s))
            .collect()
    }

    /// Drafts and cancelled dialogues are listed only for organizers.
    pub fn listed_publicly(self) -> bool {
        !matches!(self, DialogueStatus::Draft | DialogueStatus::Cancelled)
    }

    /// Whether the dialogue's details may still be edited.
    pub fn editable(self) -> bool {
        matches!(
            self,
            DialogueStatus::Draft | DialogueStatus::Open | DialogueStatus::InProgress
        )
    }
}

crate::text_enum! {
    pub enum OfficialRole {
        /// Chủ trì / chủ tọa
        Chair = "chair",
        /// Thư ký
        Secretary = "secretary",
        /// Other officials at the table
        Member = "member",
    }
}

impl OfficialRole {
    pub fn parse(text: &str) -> Result<OfficialRole, FieldError> {
        OfficialRole::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == text.trim())
            .ok_or(FieldError::new("invalid_choice"))
    }
}

// ---- stored rows ----

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = dialogues)]
pub struct Dialogue {
    pub id: DialogueId,
    pub title: String,
    pub description: String,
    pub host_unit: String,
    pub parent_unit: String,
    pub locality: String,
    pub venue: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub question_deadline: Option<NaiveDateTime>,
    pub time_zone: String,
    pub capacity: i32,
    pub self_registration: bool,
    pub anonymous_questions: bool,
    pub status: DialogueStatus,
    pub current_question_id: Option<String>,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The calendar event's SEQUENCE: raised on every change of time or venue.
    pub calendar_sequence: i32,
}

impl Dialogue {
    pub fn status(&self) -> DialogueStatus {
        self.status
    }

    pub fn zone(&self) -> Tz {
        zone(&self.time_zone)
    }

    /// A stored UTC instant in this dialogue's zone.
    pub fn local(&self, at: NaiveDateTime) -> DateTime<FixedOffset> {
        local(&self.time_zone, at)
    }

    /// What taking a question checks, from this copy.
    pub fn intake(&self) -> Intake {
        Intake {
            id: self.id.clone(),
            status: self.status,
            question_deadline: self.question_deadline,
            anonymous_questions: self.anonymous_questions,
            time_zone: self.time_zone.clone(),
        }
    }
}

fn zone(time_zone: &str) -> Tz {
    time_zone.parse().unwrap_or(chrono_tz::Asia::Ho_Chi_Minh)
}

/// A stored UTC instant in the zone named `time_zone` (Ho Chi Minh City's if unknown).
pub fn local(time_zone: &str, at: NaiveDateTime) -> DateTime<FixedOffset> {
    at.and_utc().with_timezone(&zone(time_zone)).fixed_offset()
}

/// The columns of a dialogue that taking a question checks: a narrow read, made for every
/// submission at the moment of its write.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = dialogues)]
pub struct Intake {
    pub id: DialogueId,
    pub status: DialogueStatus,
    pub question_deadline: Option<NaiveDateTime>,
    pub anonymous_questions: bool,
    pub time_zone: String,
}

impl Intake {
    pub fn status(&self) -> DialogueStatus {
        self.status
    }

    /// A stored UTC instant in the dialogue's zone.
    pub fn local(&self, at: NaiveDateTime) -> DateTime<FixedOffset> {
        local(&self.time_zone, at)
    }
}

/// The columns a create or an edit writes.
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = dialogues, treat_none_as_null = true)]
pub struct DialogueFields {
    pub title: String,
    pub description: String,
    pub host_unit: String,
    pub parent_unit: String,
    pub locality: String,
    pub venue: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub question_deadline: Option<NaiveDateTime>,
    pub time_zone: String,
    pub capacity: i32,
    pub self_registration: bool,
    pub anonymous_questions: bool,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = officials)]
pub struct Official {
    pub id: String,
    pub dialogue_id: DialogueId,
    pub sort_order: i32,
    pub name: String,
    pub position: String,
    pub role: OfficialRole,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = officials)]
pub struct NewOfficial {
    pub id: String,
    pub dialogue_id: DialogueId,
    pub sort_order: i32,
    pub name: String,
    pub position: String,
    pub role: OfficialRole,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = agenda_items)]
pub struct AgendaItem {
    pub id: String,
    pub dialogue_id: DialogueId,
    pub sort_order: i32,
    pub title: String,
    pub presenter: Option<String>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = agenda_items)]
pub struct NewAgendaItem {
    pub id: String,
    pub dialogue_id: DialogueId,
    pub sort_order: i32,
    pub title: String,
    pub presenter: Option<String>,
}

/// A dialogue with its officials and agenda, as loaded for display.
#[derive(Debug, Clone)]
pub struct FullDialogue {
    pub dialogue: Dialogue,
    pub officials: Vec<Official>,
    pub agenda: Vec<AgendaItem>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use DialogueStatus::*;

    #[test]
    fn the_status_machine_allows_only_forward_steps_and_cancelling() {
        assert!(Draft.can_become(Open));
        assert!(Open.can_become(InProgress));
        assert!(InProgress.can_become(Concluded));
        for s in [Draft, Open, InProgress] {
            assert!(s.can_become(Cancelled), "{s:?}");
        }
        assert!(!Concluded.can_become(Cancelled));
        assert!(!Cancelled.can_become(Cancelled));
        assert!(!Draft.can_become(InProgress));
        assert!(!Open.can_become(Draft));
        assert!(!Concluded.can_become(Open));
        assert_eq!(Open.next_steps(), vec![InProgress, Cancelled]);
    }
}
