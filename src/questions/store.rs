//! Queries on `questions` and `votes`.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{NewQuestion, Question, QuestionStatus, QueueSort, Topic, VoteTarget};
use crate::db::DbConnection;
use crate::db::schema::{questions, votes};

pub fn insert(conn: &mut DbConnection, row: &NewQuestion) -> QueryResult<()> {
    // On the database's own connection: through the connection enum, diesel walks and
    // rebinds this twenty-column insert generically on every call (a tenth of a
    // submission's time on the committing thread, in a profile).
    let query = diesel::insert_into(questions::table).values(row);
    match conn {
        DbConnection::Postgresql(pg) => query.execute(pg),
        DbConnection::Sqlite(lite) => query.execute(lite),
    }
    .map(|_| ())
}

/// Inserts many questions (a batch of submissions): on PostgreSQL in one statement, one
/// round trip; on SQLite one prepared statement run per row, cheaper there than preparing a
/// statement of a new length each time (a tenth of the committing thread, in a profile).
pub fn insert_all(conn: &mut DbConnection, rows: &[&NewQuestion]) -> QueryResult<()> {
    match conn {
        DbConnection::Postgresql(_) if rows.is_empty() => Ok(()),
        DbConnection::Postgresql(pg) => diesel::insert_into(questions::table)
            .values(rows.to_vec())
            .execute(pg)
            .map(|_| ()),
        DbConnection::Sqlite(_) => rows.iter().try_for_each(|row| insert(conn, row)),
    }
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Question>> {
    questions::table
        .find(id)
        .select(Question::as_select())
        .first(conn)
        .optional()
}

/// Holds the question's row until the transaction ends, so a vote and a merge of the same
/// question cannot cross (SQLite already lets one writer at a time in).
pub fn lock(conn: &mut DbConnection, id: &str) -> QueryResult<()> {
    match conn {
        DbConnection::Postgresql(pg) => {
            diesel::sql_query("SELECT id FROM questions WHERE id = $1 FOR UPDATE")
                .bind::<diesel::sql_types::Text, _>(id)
                .execute(pg)
                .map(|_| ())
        }
        DbConnection::Sqlite(_) => Ok(()),
    }
}

/// What a vote needs of its question, its row held until the transaction ends (on
/// PostgreSQL; SQLite lets one writer in at a time). Three columns, not the whole question:
/// a room votes thousands of times a second and each read of the text is an allocation.
pub fn lock_for_vote(conn: &mut DbConnection, id: &str) -> QueryResult<Option<VoteTarget>> {
    let query = questions::table.find(id);
    match conn {
        DbConnection::Postgresql(pg) => query
            .select(VoteTarget::as_select())
            .for_update()
            .first(pg)
            .optional(),
        DbConnection::Sqlite(lite) => query.select(VoteTarget::as_select()).first(lite).optional(),
    }
}

/// The questions `ids` (in this order, sorted, so that two writers never wait on each
/// other), held until the transaction ends on PostgreSQL, in one statement there; on SQLite,
/// where the one writer holds everything, one prepared statement each (see `insert_all`).
pub fn lock_for_votes(
    conn: &mut DbConnection,
    ids: &[&str],
) -> QueryResult<HashMap<String, VoteTarget>> {
    match conn {
        DbConnection::Postgresql(_) if ids.is_empty() => Ok(HashMap::new()),
        DbConnection::Postgresql(pg) => Ok(questions::table
            .filter(questions::id.eq_any(ids))
            .order(questions::id)
            .select((questions::id, VoteTarget::as_select()))
            .for_update()
            .load::<(String, VoteTarget)>(pg)?
            .into_iter()
            .collect()),
        DbConnection::Sqlite(_) => {
            let mut found = HashMap::with_capacity(ids.len());
            for id in ids {
                if let Some(target) = lock_for_vote(conn, id)? {
                    found.insert(id.to_string(), target);
                }
            }
            Ok(found)
        }
    }
}

/// Adds (`true`) or takes back each (question, participant) vote, in order; for each,
/// whether it changed anything. The questions' counts follow (the trigger). On PostgreSQL
/// the additions are one statement and the removals another when no pair comes twice (so
/// that their order cannot matter); otherwise, and on SQLite, one prepared statement each.
pub fn apply_votes(
    conn: &mut DbConnection,
    votes: &[(&str, &str, bool)],
) -> QueryResult<Vec<bool>> {
    let pairs: HashSet<(&str, &str)> = votes.iter().map(|(q, p, _)| (*q, *p)).collect();
    match conn {
        DbConnection::Postgresql(pg) if pairs.len() == votes.len() => {
            apply_votes_at_once(pg, votes)
        }
        _ => votes
            .iter()
            .map(|(question, participant, on)| {
                if *on {
                    add_vote(conn, question, participant)
                } else {
                    remove_vote(conn, question, participant)
                }
            })
            .collect(),
    }
}

fn apply_votes_at_once(
    pg: &mut diesel::PgConnection,
    votes: &[(&str, &str, bool)],
) -> QueryResult<Vec<bool>> {
    use diesel::sql_types::{Array, Text, Timestamp};
    #[derive(QueryableByName)]
    struct Changed {
        #[diesel(sql_type = Text)]
        question_id: String,
        #[diesel(sql_type = Text)]
        participant_id: String,
    }
    let side = |on: bool| -> (Vec<&str>, Vec<&str>) {
        votes
            .iter()
            .filter(|v| v.2 == on)
            .map(|v| (v.0, v.1))
            .unzip()
    };
    let mut changed: HashSet<(String, String)> = HashSet::new();
    let (questions, participants) = side(true);
    if !questions.is_empty() {
        let added = diesel::sql_query(
            "INSERT INTO votes (question_id, participant_id, created_at) \
             SELECT q, p, $3 FROM unnest($1::text[], $2::text[]) AS v (q, p) \
             ON CONFLICT DO NOTHING RETURNING question_id, participant_id",
        )
        .bind::<Array<Text>, _>(&questions)
        .bind::<Array<Text>, _>(&participants)
        .bind::<Timestamp, _>(crate::db::now())
        .load::<Changed>(pg)?;
        changed.extend(added.into_iter().map(|c| (c.question_id, c.participant_id)));
    }
    let (questions, participants) = side(false);
    if !questions.is_empty() {
        let removed = diesel::sql_query(
            "DELETE FROM votes USING unnest($1::text[], $2::text[]) AS v (q, p) \
             WHERE votes.question_id = v.q AND votes.participant_id = v.p \
             RETURNING votes.question_id, votes.participant_id",
        )
        .bind::<Array<Text>, _>(&questions)
        .bind::<Array<Text>, _>(&participants)
        .load::<Changed>(pg)?;
        changed.extend(
            removed
                .into_iter()
                .map(|c| (c.question_id, c.participant_id)),
        );
    }
    Ok(votes
        .iter()
        .map(|(q, p, _)| changed.contains(&(q.to_string(), p.to_string())))
        .collect())
}

/// Which of `texts` (search forms) were asked in the dialogue since `since`: the repeat
/// check for a batch of submissions, on PostgreSQL in one statement.
pub fn asked_among(
    conn: &mut DbConnection,
    dialogue_id: &str,
    texts: &[&str],
    since: NaiveDateTime,
) -> QueryResult<HashSet<String>> {
    if texts.is_empty() {
        return Ok(HashSet::new());
    }
    let found: Vec<String> = match conn {
        // The index is on md5(search_text) there (see the migration `question_repeat`); an
        // array of hashes worked out once lets it be searched for each.
        DbConnection::Postgresql(pg) => {
            #[derive(QueryableByName)]
            struct Found {
                #[diesel(sql_type = diesel::sql_types::Text)]
                search_text: String,
            }
            diesel::sql_query(
                "SELECT search_text FROM questions WHERE dialogue_id = $1 \
                 AND md5(search_text) = ANY (ARRAY(SELECT md5(t) FROM unnest($2::text[]) AS t)) \
                 AND search_text = ANY ($2) AND created_at >= $3",
            )
            .bind::<diesel::sql_types::Text, _>(dialogue_id)
            .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(texts)
            .bind::<diesel::sql_types::Timestamp, _>(since)
            .load::<Found>(pg)?
            .into_iter()
            .map(|row| row.search_text)
            .collect()
        }
        // One prepared statement per text: cheaper there than a list, a new statement to
        // prepare each time (see `insert_all`).
        DbConnection::Sqlite(lite) => {
            let mut found = Vec::new();
            for text in texts {
                let asked = diesel::select(diesel::dsl::exists(
                    questions::table
                        .filter(questions::dialogue_id.eq(dialogue_id))
                        .filter(questions::search_text.eq(text))
                        .filter(questions::created_at.ge(since)),
                ))
                .get_result::<bool>(lite)?;
                if asked {
                    found.push(text.to_string());
                }
            }
            found
        }
    };
    Ok(found.into_iter().collect())
}

/// Which questions of the queue to read.
#[derive(Debug, Clone)]
pub struct Filter {
    pub statuses: Vec<QuestionStatus>,
    pub topic: Option<Topic>,
    pub sort: QueueSort,
}

/// One page of a dialogue's questions, and how many match in all.
pub fn list(
    conn: &mut DbConnection,
    dialogue_id: &str,
    filter: &Filter,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<Question>, i64)> {
    let statuses: Vec<&str> = filter.statuses.iter().map(|s| s.as_str()).collect();
    let matching = || {
        let mut query = questions::table
            .filter(questions::dialogue_id.eq(dialogue_id))
            .filter(questions::status.eq_any(statuses.clone()))
            .into_boxed();
        if let Some(topic) = filter.topic {
            query = query.filter(questions::topic.eq(topic.as_str()));
        }
        query
    };
    let total = matching().count().get_result(conn)?;
    let query = matching();
    let query = match filter.sort {
        QueueSort::Votes => query.order((
            questions::vote_count.desc(),
            questions::created_at.asc(),
            questions::id.asc(),
        )),
        QueueSort::Recent => query.order((questions::created_at.desc(), questions::id.desc())),
        QueueSort::Oldest => query.order((questions::created_at.asc(), questions::id.asc())),
        QueueSort::Topic => query.order((
            questions::topic.asc(),
            questions::vote_count.desc(),
            questions::created_at.asc(),
        )),
    };
    let items = query
        .offset(offset)
        .limit(limit)
        .select(Question::as_select())
        .load(conn)?;
    Ok((items, total))
}

/// A participant's own questions, newest first.
pub fn by_participant(conn: &mut DbConnection, participant_id: &str) -> QueryResult<Vec<Question>> {
    questions::table
        .filter(questions::participant_id.eq(participant_id))
        .order((questions::created_at.desc(), questions::id.desc()))
        .select(Question::as_select())
        .load(conn)
}

/// Questions by id (any dialogue), for views that join them to other records.
pub fn find_many(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<Question>> {
    questions::table
        .filter(questions::id.eq_any(ids))
        .select(Question::as_select())
        .load(conn)
}

/// Every question of the dialogue, oldest first (exports, the minutes, similarity hints).
pub fn all_in(conn: &mut DbConnection, dialogue_id: &str) -> QueryResult<Vec<Question>> {
    questions::table
        .filter(questions::dialogue_id.eq(dialogue_id))
        .order((questions::created_at.asc(), questions::id.asc()))
        .select(Question::as_select())
        .load(conn)
}

/// How many of the dialogue's questions are in each status.
pub fn count_by_status(
    conn: &mut DbConnection,
    dialogue_id: &str,
) -> QueryResult<Vec<(QuestionStatus, i64)>> {
    questions::table
        .filter(questions::dialogue_id.eq(dialogue_id))
        .group_by(questions::status)
        .select((questions::status, diesel::dsl::count_star()))
        .load(conn)
}

/// How many of the dialogue's questions are in `statuses`: a range of the queue's index,
/// where counting every status would read the whole dialogue's (all that wait for
/// moderation too).
pub fn count_in(
    conn: &mut DbConnection,
    dialogue_id: &str,
    statuses: &[QuestionStatus],
) -> QueryResult<i64> {
    let statuses: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
    questions::table
        .filter(questions::dialogue_id.eq(dialogue_id))
        .filter(questions::status.eq_any(statuses))
        .count()
        .get_result(conn)
}

/// How many of the dialogue's questions in `statuses` are on each topic.
pub fn count_by_topic(
    conn: &mut DbConnection,
    dialogue_id: &str,
    statuses: &[QuestionStatus],
) -> QueryResult<Vec<(Topic, i64)>> {
    let statuses: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
    questions::table
        .filter(questions::dialogue_id.eq(dialogue_id))
        .filter(questions::status.eq_any(statuses))
        .group_by(questions::topic)
        .select((questions::topic, diesel::dsl::count_star()))
        .load(conn)
}

/// Stores a moderator's wording; the first wording is kept once in `original_body`.
pub fn reword(
    conn: &mut DbConnection,
    question: &Question,
    body: &str,
    search_text: &str,
) -> QueryResult<()> {
    let original = question
        .original_body
        .clone()
        .unwrap_or_else(|| question.body.clone());
    diesel::update(questions::table.find(question.id.as_str()))
        .set((
            questions::body.eq(body),
            questions::search_text.eq(search_text),
            questions::original_body.eq(original),
            questions::updated_at.eq(crate::db::now()),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn set_topic(conn: &mut DbConnection, id: &str, topic: Topic) -> QueryResult<()> {
    diesel::update(questions::table.find(id))
        .set((
            questions::topic.eq(topic.as_str()),
            questions::updated_at.eq(crate::db::now()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// A moderator's decision (or the asker's withdrawal).
pub struct Decision<'a> {
    pub status: QuestionStatus,
    pub reason: Option<&'a str>,
    pub merged_into: Option<&'a str>,
    pub moderated: bool,
}

pub fn decide(conn: &mut DbConnection, id: &str, decision: Decision<'_>) -> QueryResult<()> {
    let now = crate::db::now();
    diesel::update(questions::table.find(id))
        .set((
            questions::status.eq(decision.status.as_str()),
            questions::rejection_reason.eq(decision.reason),
            questions::merged_into_id.eq(decision.merged_into),
            questions::updated_at.eq(now),
        ))
        .execute(conn)?;
    if decision.moderated {
        diesel::update(questions::table.find(id))
            .set(questions::moderated_at.eq(now))
            .execute(conn)?;
    }
    Ok(())
}

/// Moves a question to `status` without touching its reasons (assignment steps).
pub fn set_status(conn: &mut DbConnection, id: &str, status: QuestionStatus) -> QueryResult<()> {
    diesel::update(questions::table.find(id))
        .set((
            questions::status.eq(status.as_str()),
            questions::updated_at.eq(crate::db::now()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Adds the participant's vote; false when it was already there. The unique key on
/// (question, participant) decides, so two parallel votes count once.
pub fn add_vote(
    conn: &mut DbConnection,
    question_id: &str,
    participant_id: &str,
) -> QueryResult<bool> {
    let row = (
        votes::question_id.eq(question_id),
        votes::participant_id.eq(participant_id),
        votes::created_at.eq(crate::db::now()),
    );
    // The question's count follows in the same statement (a trigger: see the migration
    // `vote_count_trigger`). On SQLite, `INSERT OR IGNORE` is a statement diesel prepares
    // once and keeps; `ON CONFLICT DO NOTHING` it would compile for every vote.
    let inserted = match conn {
        DbConnection::Postgresql(pg) => diesel::insert_into(votes::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(pg)?,
        DbConnection::Sqlite(lite) => diesel::insert_or_ignore_into(votes::table)
            .values(row)
            .execute(lite)?,
    };
    Ok(inserted > 0)
}

/// Takes the participant's vote back; false when there was none. The question's count
/// follows (the trigger).
pub fn remove_vote(
    conn: &mut DbConnection,
    question_id: &str,
    participant_id: &str,
) -> QueryResult<bool> {
    let query = diesel::delete(
        votes::table
            .filter(votes::question_id.eq(question_id))
            .filter(votes::participant_id.eq(participant_id)),
    );
    let removed = match conn {
        DbConnection::Postgresql(pg) => query.execute(pg)?,
        DbConnection::Sqlite(lite) => query.execute(lite)?,
    };
    Ok(removed > 0)
}

/// Moves `from`'s votes onto `into` (a voter of both counts once); the counts follow.
pub fn move_votes(conn: &mut DbConnection, from: &str, into: &str) -> QueryResult<()> {
    let voters: Vec<String> = votes::table
        .filter(votes::question_id.eq(from))
        .select(votes::participant_id)
        .load(conn)?;
    for voter in &voters {
        add_vote(conn, into, voter)?;
    }
    // The trigger takes each deleted vote off `from`'s count, down to 0.
    diesel::delete(votes::table.filter(votes::question_id.eq(from))).execute(conn)?;
    Ok(())
}

/// Whether the participant's vote is on the question.
pub fn has_vote(
    conn: &mut DbConnection,
    question_id: &str,
    participant_id: &str,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        votes::table
            .filter(votes::question_id.eq(question_id))
            .filter(votes::participant_id.eq(participant_id)),
    ))
    .get_result(conn)
}

/// Which of the dialogue's questions the participant voted for.
pub fn voted_by(conn: &mut DbConnection, participant_id: &str) -> QueryResult<HashSet<String>> {
    let ids: Vec<String> = votes::table
        .filter(votes::participant_id.eq(participant_id))
        .select(votes::question_id)
        .load(conn)?;
    Ok(ids.into_iter().collect())
}

/// The vote count as stored, and as counted from the votes (they must agree).
pub fn vote_totals(conn: &mut DbConnection, question_id: &str) -> QueryResult<(i32, i64)> {
    let stored = questions::table
        .find(question_id)
        .select(questions::vote_count)
        .first(conn)?;
    let counted = votes::table
        .filter(votes::question_id.eq(question_id))
        .count()
        .get_result(conn)?;
    Ok((stored, counted))
}
