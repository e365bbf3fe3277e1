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

/// Vote counts one `votes` update carries at most. Every client of a dialogue gets every
/// update, so its size times the clients is what the stream writes: bounded, a hall voting
/// on a thousand questions at once costs the same as one voting on sixty.
pub const VOTES_PER_UPDATE: usize = 60;
/// The top of the queue by votes: what the projector's "next" list and the first screen of
/// a phone show. Their counts, and the current question's, go out first.
pub const VOTES_IN_VIEW: usize = 20;

/// The counts a dialogue's stream clients have been sent, and which to send next.
#[derive(Debug, Default)]
pub struct VoteBoard {
    sent: std::collections::HashMap<String, i32>,
    /// The last question sent out of turn (not in view): the next update goes on after it,
    /// so every changed count goes out in its turn.
    turn_after: Option<String>,
}

impl VoteBoard {
    /// A board whose clients have these counts (they loaded them with the page).
    pub fn new(counts: Vec<(String, i32)>) -> VoteBoard {
        VoteBoard {
            sent: counts.into_iter().collect(),
            turn_after: None,
        }
    }

    /// The counts to send now, out of every public question's count now (sorted by id):
    /// those that changed since they were last sent, at most [`VOTES_PER_UPDATE`] — the
    /// question on screen and the top of the queue first, then the others in turn by id.
    /// What is left out goes in a later update.
    pub fn next_update(
        &mut self,
        counts: &[(String, i32)],
        current: Option<&str>,
    ) -> Vec<(String, i32)> {
        let changed: Vec<&(String, i32)> = counts
            .iter()
            .filter(|(id, count)| self.sent.get(id) != Some(count))
            .collect();
        let chosen: Vec<&(String, i32)> = if changed.len() <= VOTES_PER_UPDATE {
            changed
        } else {
            let in_view = Self::in_view(counts, current);
            let (mut chosen, others): (Vec<_>, Vec<_>) = changed
                .into_iter()
                .partition(|(id, _)| in_view.contains(id.as_str()));
            let room = VOTES_PER_UPDATE.saturating_sub(chosen.len());
            // Others in turn: after the last one sent out of turn, wrapping round.
            let start = self.turn_after.as_deref().map_or(0, |after| {
                others.partition_point(|(id, _)| id.as_str() <= after)
            });
            let in_turn: Vec<_> = others[start..]
                .iter()
                .chain(&others[..start])
                .take(room)
                .copied()
                .collect();
            if let Some((last, _)) = in_turn.last() {
                self.turn_after = Some(last.clone());
            }
            chosen.extend(in_turn);
            chosen
        };
        // Questions gone from the queue (withdrawn, merged) are forgotten.
        if self.sent.len() > counts.len() {
            let present: std::collections::HashSet<&str> =
                counts.iter().map(|(id, _)| id.as_str()).collect();
            self.sent.retain(|id, _| present.contains(id.as_str()));
        }
        let update: Vec<(String, i32)> = chosen.into_iter().cloned().collect();
        for (id, count) in &update {
            self.sent.insert(id.clone(), *count);
        }
        update
    }

    /// The current question and the most voted ones.
    fn in_view<'a>(
        counts: &'a [(String, i32)],
        current: Option<&'a str>,
    ) -> std::collections::HashSet<&'a str> {
        let mut by_votes: Vec<&(String, i32)> = counts.iter().collect();
        let top = VOTES_IN_VIEW.min(by_votes.len());
        if top < by_votes.len() {
            by_votes.select_nth_unstable_by(top, |a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        }
        by_votes[..top]
            .iter()
            .map(|(id, _)| id.as_str())
            .chain(current)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question(n: usize) -> String {
        format!("q{n:04}")
    }

    fn counts(n: usize, votes: impl Fn(usize) -> i32) -> Vec<(String, i32)> {
        (0..n).map(|k| (question(k), votes(k))).collect()
    }

    #[test]
    fn a_few_changes_go_out_at_once_and_unchanged_counts_not_again() {
        let mut board = VoteBoard::new(counts(10, |_| 0));
        let now = counts(10, |k| if k % 3 == 0 { 1 } else { 0 });
        let update = board.next_update(&now, None);
        assert_eq!(
            update,
            vec![
                (question(0), 1),
                (question(3), 1),
                (question(6), 1),
                (question(9), 1)
            ]
        );
        assert!(board.next_update(&now, None).is_empty());
    }

    #[test]
    fn many_changes_go_out_bounded_the_view_first_and_every_one_in_its_turn() {
        let total = 500;
        let mut board = VoteBoard::new(counts(total, |_| 0));
        // Question 499 has the most votes, 498 the next, ...; question 7 is on screen.
        let now = counts(total, |k| k as i32 + 1);
        let first = board.next_update(&now, Some("q0007"));
        assert_eq!(first.len(), VOTES_PER_UPDATE);
        let first_ids: Vec<&str> = first.iter().map(|(id, _)| id.as_str()).collect();
        assert!(
            first_ids.contains(&"q0007"),
            "the question on screen goes first"
        );
        for top in (total - VOTES_IN_VIEW)..total {
            assert!(
                first_ids.contains(&question(top).as_str()),
                "the top of the queue goes first: {top}"
            );
        }
        let mut seen: std::collections::HashSet<String> =
            first.into_iter().map(|(id, _)| id).collect();
        let mut updates = 1;
        loop {
            let update = board.next_update(&now, Some("q0007"));
            if update.is_empty() {
                break;
            }
            assert!(update.len() <= VOTES_PER_UPDATE);
            for (id, count) in update {
                assert_eq!(count, id[1..].parse::<i32>().unwrap() + 1);
                assert!(seen.insert(id), "each changed count goes out once");
            }
            updates += 1;
        }
        assert_eq!(seen.len(), total);
        assert_eq!(updates, total.div_ceil(VOTES_PER_UPDATE));
    }

    #[test]
    fn a_count_that_changes_again_before_its_turn_goes_out_as_it_is_then() {
        let total = 200;
        let mut board = VoteBoard::new(counts(total, |_| 0));
        board.next_update(&counts(total, |_| 1), None);
        // Everything changes again: the counts sent are the newest, none lost.
        let newest = counts(total, |_| 2);
        let mut sent = std::collections::HashMap::new();
        for _ in 0..10 {
            for (id, count) in board.next_update(&newest, None) {
                sent.insert(id, count);
            }
        }
        assert_eq!(sent.len(), total);
        assert!(sent.values().all(|&count| count == 2));
    }

    #[test]
    fn questions_gone_from_the_queue_are_forgotten() {
        let mut board = VoteBoard::new(counts(100, |_| 0));
        board.next_update(&counts(40, |_| 0), None);
        assert_eq!(board.sent.len(), 40);
    }
}
