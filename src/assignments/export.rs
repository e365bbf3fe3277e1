//! The organizers' export of a dialogue's questions with their agency, due date and answer,
//! as CSV that Excel opens with Vietnamese intact (UTF-8 with a byte-order mark).

use std::collections::HashMap;

use super::model::Assignment;
use super::store;
use crate::db::DbConnection;
use crate::dialogues::model::Dialogue;
use crate::error::AppError;
use crate::html::spreadsheet::{csv_error, inert};
use crate::i18n::Lang;
use crate::questions;

/// The CSV file: one line per question, the latest assignment's agency, due date, status
/// and answer beside it. Askers are named only where they chose to be.
pub fn questions_csv(
    conn: &mut DbConnection,
    dialogue: &Dialogue,
    lang: Lang,
) -> Result<Vec<u8>, AppError> {
    let questions = questions::store::all_in(conn, &dialogue.id)?;
    let assignments = store::in_dialogue(conn, &dialogue.id)?;
    let latest = latest_by_question(&assignments);
    let ids: Vec<String> = assignments.iter().map(|a| a.id.to_string()).collect();
    let answers: HashMap<String, String> = store::responses_for(conn, &ids)?
        .into_iter()
        .filter(|r| r.submitted_at.is_some())
        .map(|r| (r.assignment_id.to_string(), r.body))
        .collect();
    let agency_ids: Vec<String> = assignments
        .iter()
        .map(|a| a.agency_id.to_string())
        .collect();
    let agencies: HashMap<String, String> = store::agency_names(conn, &agency_ids)?
        .into_iter()
        .collect();
    let mut out = Vec::from("\u{feff}".as_bytes());
    {
        let mut writer = csv::Writer::from_writer(&mut out);
        let header = [
            "id",
            "created_at",
            "topic",
            "status",
            "votes",
            "asker",
            "question",
            "agency",
            "due_at",
            "assignment_status",
            "answer",
        ];
        writer
            .write_record(header.iter().map(|h| lang.text(&format!("export.{h}"))))
            .map_err(csv_error)?;
        for q in &questions {
            let a = latest.get(q.id.as_str());
            let row = [
                q.id.to_string(),
                dialogue.local(q.created_at).to_rfc3339(),
                lang.text(&format!("topic.{}", q.topic.as_str())),
                lang.text(&format!("question_status.{}", q.status.as_str())),
                q.vote_count.to_string(),
                q.public_asker().unwrap_or_default().to_string(),
                q.body.clone(),
                a.and_then(|a| agencies.get(a.agency_id.as_str()).cloned())
                    .unwrap_or_default(),
                a.map(|a| dialogue.local(a.due_at).to_rfc3339())
                    .unwrap_or_default(),
                a.map(|a| lang.text(&format!("assignment_status.{}", a.status.as_str())))
                    .unwrap_or_default(),
                a.and_then(|a| answers.get(a.id.as_str()).cloned())
                    .unwrap_or_default(),
            ];
            writer
                .write_record(row.iter().map(|cell| inert(cell)))
                .map_err(csv_error)?;
        }
        writer
            .flush()
            .map_err(|e| AppError::unexpected(e.to_string()))?;
    }
    Ok(out)
}

/// Each question's latest assignment (they come oldest first).
fn latest_by_question(assignments: &[Assignment]) -> HashMap<&str, &Assignment> {
    assignments
        .iter()
        .map(|a| (a.question_id.as_str(), a))
        .collect()
}
