//! Live session records: answers given aloud, commitments, and the stream's replay log.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::{commitments, live_answers, live_events};
use crate::db::{AgencyId, QuestionId};
use crate::json::schema;
use crate::questions::model::PublicQuestion;

/// Names and parties fit a line; summaries and descriptions a paragraph of the minutes.
pub const NAME_MAX: usize = 200;
pub const SUMMARY_MAX: usize = 4000;
/// More jobs than any one agreement offers: a typo, not a promise.
pub const JOBS_MAX: i32 = 100_000;

crate::text_enum! {
    /// What was promised on the day.
    pub enum CommitmentKind {
        /// A memorandum with a business about jobs.
        EmploymentMou = "employment_mou",
        /// Support promised by an agency (a loan, training, papers).
        Support = "support",
        Other = "other",
    }
}

crate::text_enum! {
    /// The events of the live stream (`GET /dialogues/{id}/live/events`).
    pub enum LiveEventKind {
        /// The question on the projector changed (or was cleared).
        CurrentQuestion = "current_question",
        /// A question joined the public queue.
        QuestionApproved = "question_approved",
        /// Vote counts changed (coalesced; not kept in the replay log).
        Votes = "votes",
        /// An answer was published or given aloud.
        Answer = "answer",
    }
}

/// `PUT /dialogues/{id}/live`: what the projector shows; `null` clears it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CurrentInput {
    pub current_question_id: Option<QuestionId>,
}

/// `POST /questions/{id}/live-answer`: an answer given aloud, for the minutes.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LiveAnswerInput {
    /// Who answered, with their position (e.g. "Ông Nguyễn Văn A, Trưởng Công an huyện").
    #[schema(schema_with = schema::text::<200>)]
    pub speaker: String,
    /// The agency that answered, if any.
    pub agency_id: Option<AgencyId>,
    /// What was said, as the secretary writes it down.
    #[schema(schema_with = schema::multiline::<1, 4000>)]
    pub summary: String,
}

/// `POST /dialogues/{id}/commitments`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommitmentInput {
    /// Who commits: an agency or a business, by name.
    #[schema(schema_with = schema::text::<200>)]
    pub party: String,
    pub kind: CommitmentKind,
    #[schema(schema_with = schema::multiline::<1, 4000>)]
    pub description: String,
    /// Jobs offered, for an employment memorandum.
    #[schema(minimum = 0, maximum = 100000)]
    pub jobs_offered: Option<i32>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = live_answers)]
pub struct LiveAnswer {
    pub id: String,
    pub question_id: String,
    pub speaker: String,
    pub agency_id: Option<String>,
    pub summary: String,
    pub recorded_by: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = commitments)]
pub struct Commitment {
    pub id: String,
    pub dialogue_id: String,
    pub party: String,
    pub agency_id: Option<String>,
    pub kind: CommitmentKind,
    pub description: String,
    pub jobs_offered: Option<i32>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// One entry of the replay log.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = live_events)]
pub struct LiveEventRow {
    pub dialogue_id: String,
    pub seq: i32,
    pub kind: String,
    pub data: String,
    pub created_at: NaiveDateTime,
}

/// An answer given aloud, as participants and the minutes see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LiveAnswerView {
    pub id: String,
    pub question_id: QuestionId,
    pub speaker: String,
    /// The answering agency's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    pub summary: String,
    pub at: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CommitmentView {
    pub id: String,
    pub party: String,
    pub kind: CommitmentKind,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jobs_offered: Option<i32>,
    pub at: String,
}

/// What the projector shows: the current question and the next ones by votes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LiveState {
    pub dialogue_id: String,
    /// `null` when nothing is on screen.
    pub current: Option<PublicQuestion>,
    /// The most voted approved questions not yet answered, the current one left out.
    pub next: Vec<PublicQuestion>,
    /// The last event of the replay log; a stream opened with it as `Last-Event-ID` misses nothing.
    pub last_event_id: i32,
}
