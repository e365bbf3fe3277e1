//! Questions: what a participant (or staff on someone's behalf) asks, its topic, its
//! status in moderation, and the votes it gathers. Who asked is sensitive: an anonymous
//! asker is never shown outside the organizers' views.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::questions;
use crate::db::{DialogueId, ParticipantId, QuestionId};
use crate::error::FieldError;
use crate::text;

/// Shortest and longest question, in characters after trimming.
pub const BODY_MIN: usize = 10;
pub const BODY_MAX: usize = 2000;
/// Reasons (rejection, decline, return) and names stay short enough for a line of a page.
pub const REASON_MAX: usize = 1000;
pub const NAME_MAX: usize = 200;
/// Identical text in a dialogue within this many minutes is refused (a double tap, a bot).
pub const REPEAT_WINDOW_MINUTES: i64 = 10;

crate::text_enum! {
    /// What a question is about (a fixed list; labels are translated).
    pub enum Topic {
        Reintegration = "reintegration",
        RecordExpungement = "record_expungement",
        LegalProcedures = "legal_procedures",
        ResidenceDocuments = "residence_documents",
        VocationalTraining = "vocational_training",
        Employment = "employment",
        LoansLivelihood = "loans_livelihood",
        DrugRehabilitation = "drug_rehabilitation",
        Other = "other",
    }
}

crate::text_enum! {
    /// Where a question stands.
    pub enum QuestionStatus {
        Submitted = "submitted",
        Approved = "approved",
        Rejected = "rejected",
        Merged = "merged",
        Assigned = "assigned",
        Answered = "answered",
        AnsweredLive = "answered_live",
        /// Taken back by the asker before moderation.
        Withdrawn = "withdrawn",
    }
}

impl QuestionStatus {
    /// Shown in the public queue: accepted by the organizers and not folded into another.
    pub fn is_public(self) -> bool {
        matches!(
            self,
            QuestionStatus::Approved
                | QuestionStatus::Assigned
                | QuestionStatus::Answered
                | QuestionStatus::AnsweredLive
        )
    }

    /// Can still be approved, rejected or merged by a moderator.
    pub fn is_moderatable(self) -> bool {
        matches!(
            self,
            QuestionStatus::Submitted | QuestionStatus::Approved | QuestionStatus::Rejected
        )
    }
}

crate::text_enum! {
    /// How a question reached the service.
    pub enum Channel {
        /// Typed by the person (or anonymously) on the web or the API.
        Web = "web",
        /// Copied by staff from a paper form.
        Paper = "paper",
        /// Raised from the floor during the dialogue and entered by staff.
        Floor = "floor",
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = questions)]
pub struct Question {
    pub id: QuestionId,
    pub dialogue_id: DialogueId,
    pub participant_id: Option<ParticipantId>,
    pub asker_name: Option<String>,
    pub channel: Channel,
    pub body: String,
    pub original_body: Option<String>,
    pub search_text: String,
    pub topic: Topic,
    pub anonymous: bool,
    pub share_identity_with_agency: bool,
    pub status: QuestionStatus,
    pub rejection_reason: Option<String>,
    pub merged_into_id: Option<QuestionId>,
    pub vote_count: i32,
    pub entered_by: Option<String>,
    pub moderated_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub consent_statement: Option<String>,
}

impl From<NewQuestion> for Question {
    /// The question as just stored: nothing moderated yet.
    fn from(row: NewQuestion) -> Question {
        Question {
            id: row.id,
            dialogue_id: row.dialogue_id,
            participant_id: row.participant_id,
            asker_name: row.asker_name,
            channel: row.channel,
            body: row.body,
            original_body: None,
            search_text: row.search_text,
            topic: row.topic,
            anonymous: row.anonymous,
            share_identity_with_agency: row.share_identity_with_agency,
            status: row.status,
            rejection_reason: None,
            merged_into_id: None,
            vote_count: row.vote_count,
            entered_by: row.entered_by,
            moderated_at: None,
            created_at: row.created_at,
            updated_at: row.updated_at,
            consent_statement: row.consent_statement,
        }
    }
}

/// The columns of a question that a vote reads.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = questions)]
pub struct VoteTarget {
    pub dialogue_id: DialogueId,
    pub status: QuestionStatus,
    pub vote_count: i32,
}

impl Question {
    /// The name the public may see: only when the asker chose to be named.
    pub fn public_asker(&self) -> Option<&str> {
        if self.anonymous {
            None
        } else {
            self.asker_name.as_deref()
        }
    }

    /// The name an agency may see: when the asker allowed it, or is named publicly anyway.
    pub fn asker_for_agency(&self) -> Option<&str> {
        if self.share_identity_with_agency || !self.anonymous {
            self.asker_name.as_deref()
        } else {
            None
        }
    }
}

/// `None` is inserted as NULL (none of these columns has another default): with `DEFAULT` in
/// its place the statement's text would depend on the values, so diesel would write it out
/// again for every insert to find it among the prepared statements (5 % of the server's
/// time when a hall submits at once, in a profile). Written as NULL, it is prepared once.
#[derive(Debug, Insertable)]
#[diesel(table_name = questions, treat_none_as_default_value = false)]
pub struct NewQuestion {
    pub id: QuestionId,
    pub dialogue_id: DialogueId,
    pub participant_id: Option<ParticipantId>,
    pub asker_name: Option<String>,
    pub channel: Channel,
    pub body: String,
    pub search_text: String,
    pub topic: Topic,
    pub anonymous: bool,
    pub share_identity_with_agency: bool,
    pub status: QuestionStatus,
    pub vote_count: i32,
    pub entered_by: Option<String>,
    pub consent_statement: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A question's text: NFC, line breaks kept (a long question has paragraphs), 10–2,000
/// characters after trimming.
pub fn parse_body(raw: &str) -> Result<String, FieldError> {
    let body = text::optional_multiline(Some(raw), BODY_MAX)?.ok_or(FieldError::new("required"))?;
    if body.chars().count() < BODY_MIN {
        return Err(FieldError::with_n("too_short", BODY_MIN as i64));
    }
    Ok(body)
}

/// A required reason (rejection, decline, return): one or more lines, at most 1,000 characters.
pub fn parse_reason(raw: Option<&str>) -> Result<String, FieldError> {
    text::optional_multiline(raw, REASON_MAX)?.ok_or(FieldError::new("required"))
}

/// What anyone may see of a question in the public queue: never who asked anonymously,
/// never anyone's group or contact.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicQuestion {
    pub id: QuestionId,
    pub body: String,
    pub topic: Topic,
    pub status: QuestionStatus,
    pub votes: i32,
    /// The asker's name, only when they chose to be named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asker: Option<String>,
    pub created_at: String,
}

/// A question of the public queue as the list hands it out. The same for every reader, so
/// it can be shared; `voted` is added per reader afterwards.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListedQuestion {
    #[serde(flatten)]
    pub question: PublicQuestion,
    /// Whether the participant whose link or code was sent has voted for this question.
    /// Present only for a participant of this dialogue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voted: Option<bool>,
}

/// A question as organizers see it: who asked, how it came in, its first wording.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrganizerQuestion {
    #[serde(flatten)]
    pub public: PublicQuestion,
    pub anonymous: bool,
    pub share_identity_with_agency: bool,
    pub channel: Channel,
    /// The asker's name as given or on the list (also for anonymous questions: organizers see it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asker_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participant_id: Option<ParticipantId>,
    /// The text as first submitted, when a moderator has since edited it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejection_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<QuestionId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent_statement: Option<String>,
}

/// A question as its asker sees it: their own choices, and what became of it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OwnQuestion {
    pub id: QuestionId,
    pub body: String,
    pub topic: Topic,
    pub status: QuestionStatus,
    pub votes: i32,
    pub anonymous: bool,
    pub share_identity_with_agency: bool,
    pub channel: Channel,
    pub created_at: String,
    /// Why the organizers did not take the question.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejection_reason: Option<String>,
    /// The question this one was merged into (it is answered there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<QuestionId>,
}

/// Orders of the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QueueSort {
    /// Most votes first, then the oldest.
    #[default]
    Votes,
    /// Newest first.
    Recent,
    /// Oldest first.
    Oldest,
    /// By topic, then most votes.
    Topic,
}

impl QueueSort {
    pub fn from_code(code: &str) -> Option<QueueSort> {
        match code {
            "votes" => Some(QueueSort::Votes),
            "recent" => Some(QueueSort::Recent),
            "oldest" => Some(QueueSort::Oldest),
            "topic" => Some(QueueSort::Topic),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_is_trimmed_normalised_and_bounded() {
        assert_eq!(
            parse_body("  Xin hỏi về việc làm?  ").unwrap(),
            "Xin hỏi về việc làm?"
        );
        // Decomposed input comes out composed.
        assert_eq!(
            parse_body("Tôi muốn hỏi ve\u{0302}\u{0300} vay vốn").unwrap(),
            "Tôi muốn hỏi về vay vốn"
        );
        assert_eq!(parse_body("   ngắn   ").unwrap_err().code, "too_short");
        assert_eq!(parse_body("").unwrap_err().code, "required");
        assert_eq!(parse_body(&"a".repeat(2001)).unwrap_err().code, "too_long");
        assert!(parse_body(&"a".repeat(2000)).is_ok());
        assert_eq!(
            parse_body("Dòng một\r\nDòng hai dài hơn").unwrap(),
            "Dòng một\nDòng hai dài hơn"
        );
        assert_eq!(
            parse_body("Có ký tự \u{0007} lạ ở đây").unwrap_err().code,
            "control_characters"
        );
    }

    #[test]
    fn only_named_askers_are_public() {
        let mut q = Question {
            id: QuestionId::new(),
            dialogue_id: DialogueId::new(),
            participant_id: None,
            asker_name: Some("Trần Văn Bảy".into()),
            channel: Channel::Web,
            body: "Câu hỏi thử nghiệm".into(),
            original_body: None,
            search_text: String::new(),
            topic: Topic::Employment,
            anonymous: true,
            share_identity_with_agency: false,
            status: QuestionStatus::Approved,
            rejection_reason: None,
            merged_into_id: None,
            vote_count: 0,
            entered_by: None,
            moderated_at: None,
            created_at: crate::db::now(),
            updated_at: crate::db::now(),
            consent_statement: None,
        };
        assert_eq!(q.public_asker(), None);
        assert_eq!(q.asker_for_agency(), None);
        q.share_identity_with_agency = true;
        assert_eq!(q.public_asker(), None);
        assert_eq!(q.asker_for_agency(), Some("Trần Văn Bảy"));
        q.anonymous = false;
        q.share_identity_with_agency = false;
        assert_eq!(q.public_asker(), Some("Trần Văn Bảy"));
        assert_eq!(q.asker_for_agency(), Some("Trần Văn Bảy"));
    }
}
