//! The secretary's parts of the minutes, as stored and as typed.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::{commitments, live_answers, minutes};
use crate::dialogues::input::parse_instant;
use crate::error::{AppError, FieldError, FieldErrors};
use crate::text;

/// The stored row (one per dialogue).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = minutes, treat_none_as_null = true)]
pub struct Minutes {
    pub dialogue_id: String,
    /// The document number, "12" in "Số: 12/BB-UBND".
    pub number: Option<String>,
    pub opened_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub summary: Option<String>,
    pub conclusion: Option<String>,
    pub published_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// "Nơi nhận", one a line.
    pub recipients: Option<String>,
}

impl Minutes {
    pub fn recipient_list(&self) -> Vec<String> {
        match &self.recipients {
            Some(list) => list
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
            None => default_recipients(),
        }
    }
}

/// Recipients when the secretary named none.
pub fn default_recipients() -> Vec<String> {
    vec![
        "Thành phần tham dự hội nghị;".to_string(),
        "Lưu: VT.".to_string(),
    ]
}

/// `PUT /api/v1/dialogues/{id}/minutes`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MinutesInput {
    /// The number, up to 20 characters ("12" gives "Số: 12/BB-UBND").
    pub number: Option<String>,
    /// RFC 3339 with an offset: when the meeting opened.
    #[schema(schema_with = crate::json::schema::date_time)]
    pub opened_at: String,
    /// RFC 3339 with an offset: when it closed; after `opened_at`.
    #[schema(schema_with = crate::json::schema::date_time)]
    pub closed_at: String,
    /// What happened, up to 20,000 characters; paragraphs separated by line breaks.
    pub summary: Option<String>,
    /// The chair's conclusion, 1–20,000 characters.
    #[schema(schema_with = crate::json::schema::multiline::<1, 20000>)]
    pub conclusion: String,
    /// "Nơi nhận": up to 20 lines of up to 200 characters; absent: the usual two.
    #[schema(max_items = 20)]
    pub recipients: Option<Vec<String>>,
}

/// Checked input.
#[derive(Debug, Clone)]
pub struct ValidMinutes {
    pub number: Option<String>,
    pub opened_at: NaiveDateTime,
    pub closed_at: NaiveDateTime,
    pub summary: Option<String>,
    pub conclusion: String,
    pub recipients: Option<String>,
}

pub const LONG_TEXT: usize = 20_000;

impl MinutesInput {
    pub fn validate(&self) -> Result<ValidMinutes, AppError> {
        let mut errors = FieldErrors::new();
        let number = errors.take("number", text::optional(self.number.as_deref(), 20));
        let opened = errors.take("opened_at", parse_instant(&self.opened_at));
        let closed = errors.take("closed_at", parse_instant(&self.closed_at));
        let summary = errors.take(
            "summary",
            text::optional_multiline(self.summary.as_deref(), LONG_TEXT),
        );
        let conclusion = errors.take(
            "conclusion",
            text::optional_multiline(Some(&self.conclusion), LONG_TEXT)
                .and_then(|c| c.ok_or(FieldError::new("required"))),
        );
        let mut recipients = None;
        if let Some(list) = &self.recipients {
            if list.len() > 20 {
                errors.add("recipients", FieldError::with_n("too_many", 20));
            } else {
                let mut lines = Vec::new();
                for (i, line) in list.iter().enumerate() {
                    let field = format!("recipients[{i}]");
                    if let Some(Some(line)) = errors.take(&field, text::optional(Some(line), 200)) {
                        lines.push(line);
                    }
                }
                recipients = Some(lines.join("\n"));
            }
        }
        if let (Some(o), Some(c)) = (opened, closed)
            && c <= o
        {
            errors.add("closed_at", FieldError::new("must_end_after_start"));
        }
        errors.into_result()?;
        match (number, opened, closed, summary, conclusion) {
            (Some(number), Some(opened_at), Some(closed_at), Some(summary), Some(conclusion)) => {
                Ok(ValidMinutes {
                    number,
                    opened_at,
                    closed_at,
                    summary,
                    conclusion,
                    recipients,
                })
            }
            _ => Err(AppError::unexpected("minutes validation")),
        }
    }
}

/// The minutes as the API shows them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MinutesView {
    pub dialogue_id: String,
    pub number: Option<String>,
    pub opened_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub summary: Option<String>,
    pub conclusion: Option<String>,
    pub recipients: Vec<String>,
    pub published_at: Option<NaiveDateTime>,
    /// Where the PDF is: `/api/v1/dialogues/{id}/minutes.pdf`.
    pub pdf: String,
}

impl MinutesView {
    pub fn of(m: &Minutes) -> MinutesView {
        MinutesView {
            dialogue_id: m.dialogue_id.clone(),
            number: m.number.clone(),
            opened_at: m.opened_at,
            closed_at: m.closed_at,
            summary: m.summary.clone(),
            conclusion: m.conclusion.clone(),
            recipients: m.recipient_list(),
            published_at: m.published_at,
            pdf: format!("/api/v1/dialogues/{}/minutes.pdf", m.dialogue_id),
        }
    }
}

/// A commitment made at the dialogue (a memorandum signed, support or jobs promised), as
/// the live session records it; the minutes read only what they print.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = commitments)]
pub struct Commitment {
    pub party: String,
    pub kind: String,
    pub description: String,
    pub jobs_offered: Option<i32>,
    pub created_at: NaiveDateTime,
}

/// An answer given aloud during the dialogue, as the live session records it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = live_answers)]
pub struct LiveAnswer {
    pub question_id: String,
    pub speaker: String,
    pub agency_id: Option<String>,
    pub summary: String,
    pub created_at: NaiveDateTime,
}
