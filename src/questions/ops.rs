//! The question queue's use cases: submitting (by a participant, anonymously, or by staff
//! from paper or the floor), moderating (approve, reject, reword, merge), voting, and the
//! asker withdrawing. Each runs in one transaction, writes its history to the audit log
//! and queues the asker's emails in the same commit.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;

use chrono::{Duration, SubsecRound};
use minijinja::context;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::{
    Channel, ListedQuestion, NewQuestion, OrganizerQuestion, OwnQuestion, PublicQuestion, Question,
    QuestionStatus, QueueSort, REPEAT_WINDOW_MINUTES, Topic, VoteTarget, parse_body, parse_reason,
};
use super::similar;
use super::store::{self, Decision, Filter};
use crate::audit::{self, Actor};
use crate::auth::Staff;
use crate::config::Settings;
use crate::db::{BatchedWrite, Db, DbConnection, DialogueId, ParticipantId, QuestionId, now};
use crate::dialogues;
use crate::dialogues::model::{Dialogue, DialogueStatus, Intake};
use crate::error::{AppError, FieldError, FieldErrors};
use crate::jobs::{NewEmail, enqueue_email};
use crate::json::schema;
use crate::participants;
use crate::participants::auth::ParticipantCredential;
use crate::participants::model::{Credited, Participant};
use crate::participants::notify::{self, Mailing, Notice};
use crate::ratelimit::{KeyLimiter, LoginLimiter, per_address_per_minute};
use crate::state::AppState;
use crate::text;

/// What staff record when they enter a question for someone: the person agreed to it.
pub const STAFF_ENTRY_STATEMENT: &str =
    "Người hỏi đồng ý để cán bộ ghi lại câu hỏi này thay mình và gửi tới hội nghị.";

/// Who is submitting a question.
pub enum Asker {
    Participant(Participant),
    Staff(Staff),
    /// No credential, from this address (only when the dialogue allows anonymous questions).
    Anonymous(Option<IpAddr>),
}

/// Who asks, as the write needs to know them. A participant's receipt, which needs their
/// whole row, is rendered before; the write itself needs only who they are.
enum Submitter {
    Participant(Credited),
    Staff(Staff),
    Anonymous,
}

impl Submitter {
    fn of(asker: &Asker) -> Submitter {
        match asker {
            Asker::Participant(participant) => Submitter::Participant(Credited::of(participant)),
            Asker::Staff(staff) => Submitter::Staff(staff.clone()),
            Asker::Anonymous(_) => Submitter::Anonymous,
        }
    }
}

/// The participant a new question's receipt goes to: an asker with an email.
fn receipt_to(asker: &Asker) -> Option<&Participant> {
    match asker {
        Asker::Participant(participant) if participant.email.is_some() => Some(participant),
        _ => None,
    }
}

/// A question as submitted (API and form alike).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionInput {
    /// 10–2,000 characters after trimming; line breaks are kept.
    #[schema(schema_with = schema::multiline::<10, 2000>)]
    pub body: String,
    pub topic: Topic,
    /// Hide the asker's name from everyone but the organizers (default: true).
    pub anonymous: Option<bool>,
    /// Let the answering agency see who asked (default: false).
    pub share_identity_with_agency: Option<bool>,
    /// Staff only: `paper` (copied from a paper form) or `floor` (raised in the hall).
    pub channel: Option<Channel>,
    /// Staff only: the asker's name, if they gave it.
    #[schema(schema_with = schema::optional_text::<200>)]
    pub asker_name: Option<String>,
    /// Staff only, required true: the person agreed to have the question entered for them.
    pub asker_agreed: Option<bool>,
    /// Leave empty. A field people never see; automated senders fill it.
    #[schema(schema_with = schema::optional_text::<200>)]
    pub website: Option<String>,
}

/// Limits on questions without a credential, loose enough for a hall behind one address
/// (settings `DOITHOAI_QUESTIONS_PER_ADDRESS_PER_MINUTE`, `…_PER_DIALOGUE_PER_MINUTE`).
/// Registered by the application as `web::Data<QuestionLimiter>`.
#[derive(Clone)]
pub struct QuestionLimiter {
    per_address: LoginLimiter,
    per_dialogue: KeyLimiter,
}

impl QuestionLimiter {
    /// Shared by every instance when `db` is PostgreSQL (see `ratelimit`).
    pub fn from_settings(settings: &Settings, db: &Db) -> QuestionLimiter {
        let db = Some(db);
        QuestionLimiter {
            per_address: per_address_per_minute(
                settings.questions_per_address_per_minute,
                db,
                "questions_per_address",
            ),
            per_dialogue: KeyLimiter::per_minute(
                settings.questions_per_dialogue_per_minute,
                db,
                "questions_per_dialogue",
            ),
        }
    }

    pub async fn check(&self, ip: Option<IpAddr>, dialogue_id: &str) -> Result<(), AppError> {
        self.per_address.check(ip).await?;
        self.per_dialogue.check(dialogue_id).await
    }
}

/// The submission after checking each field, before any rule that needs the database.
struct ValidInput {
    body: String,
    topic: Topic,
    anonymous: bool,
    share_identity_with_agency: bool,
    channel: Channel,
    asker_name: Option<String>,
}

fn validate(input: &QuestionInput, by_staff: bool) -> Result<ValidInput, AppError> {
    let mut errors = FieldErrors::new();
    let body = errors.take("body", parse_body(&input.body));
    if input
        .website
        .as_deref()
        .is_some_and(|w| !w.trim().is_empty())
    {
        errors.add("website", FieldError::new("must_be_empty"));
    }
    let asker_name = errors.take(
        "asker_name",
        text::optional(input.asker_name.as_deref(), super::model::NAME_MAX),
    );
    let channel = match (by_staff, input.channel) {
        (true, Some(c @ (Channel::Paper | Channel::Floor))) => Some(c),
        (true, _) => {
            errors.add("channel", FieldError::new("required_for_staff"));
            None
        }
        (false, None | Some(Channel::Web)) => Some(Channel::Web),
        (false, Some(_)) => {
            errors.add("channel", FieldError::new("only_for_staff"));
            None
        }
    };
    if by_staff && input.asker_agreed != Some(true) {
        errors.add("asker_agreed", FieldError::new("consent_required"));
    }
    if !by_staff && (input.asker_name.is_some() || input.asker_agreed.is_some()) {
        let field = if input.asker_name.is_some() {
            "asker_name"
        } else {
            "asker_agreed"
        };
        errors.add(field, FieldError::new("only_for_staff"));
    }
    errors.into_result()?;
    Ok(ValidInput {
        body: body.unwrap_or_default(),
        topic: input.topic,
        anonymous: input.anonymous.unwrap_or(true),
        share_identity_with_agency: input.share_identity_with_agency.unwrap_or(false),
        channel: channel.unwrap_or(Channel::Web),
        asker_name: asker_name.flatten(),
    })
}

/// Questions come in while the dialogue is open or under way.
fn ensure_taking_questions(dialogue: &Intake) -> Result<(), AppError> {
    match dialogue.status() {
        DialogueStatus::Open | DialogueStatus::InProgress => Ok(()),
        _ => Err(AppError::Conflict("dialogue_not_open")),
    }
}

/// Past the deadline only staff may add a question, and only one raised from the floor
/// while the dialogue is under way.
fn ensure_before_deadline(dialogue: &Intake, channel: Channel) -> Result<(), AppError> {
    let past = dialogue
        .question_deadline
        .is_some_and(|deadline| now() > deadline);
    let floor_during_session =
        channel == Channel::Floor && dialogue.status() == DialogueStatus::InProgress;
    if past && !floor_during_session {
        return Err(AppError::Conflict("question_deadline_passed"));
    }
    Ok(())
}

/// Submits a question to the dialogue. Runs in the caller's transaction.
pub fn submit(
    conn: &mut DbConnection,
    mailing: Mailing<'_>,
    dialogue_id: &DialogueId,
    asker: Asker,
    input: &QuestionInput,
) -> Result<Question, AppError> {
    let draft = Draft::prepare(input, matches!(asker, Asker::Staff(_)))?;
    let mut submission = draft.into_submission(dialogue_id, Submitter::of(&asker));
    if let Some(participant) = receipt_to(&asker)
        && let Some(dialogue) = dialogues::store::find(conn, dialogue_id)?
    {
        submission.render_receipt(mailing, &dialogue, participant)?;
    }
    match Submissions::write_all(conn, vec![Queued::Prepared(Box::new(submission))])?.pop() {
        Some(Ok(Outcome::Stored(stored))) => Ok(stored.question),
        Some(Err(refused)) => Err(refused),
        _ => Err(AppError::unexpected(
            "a submission was neither stored nor refused",
        )),
    }
}

/// A submission's fields checked and its forms made (the text's search form, the id, the
/// time), before anyone is looked up: the asker may be found only inside the write.
struct Draft {
    valid: ValidInput,
    search_text: String,
    id: QuestionId,
    created_at: chrono::NaiveDateTime,
}

impl Draft {
    fn prepare(input: &QuestionInput, by_staff: bool) -> Result<Draft, AppError> {
        let valid = validate(input, by_staff)?;
        Ok(Draft {
            search_text: similar::search_text(&valid.body),
            valid,
            id: QuestionId::new(),
            // Whole microseconds, as PostgreSQL keeps them: the answer is built from the
            // row, not read back, and must show what is stored.
            created_at: now().trunc_subsecs(6),
        })
    }

    fn into_submission(self, dialogue_id: &DialogueId, asker: Submitter) -> Submission {
        let row = new_row(dialogue_id, &asker, self);
        Submission {
            asker,
            row,
            receipt: None,
        }
    }
}

/// A submission with everything done that needs no database: the fields checked, the
/// text's search form, the row, the receipt rendered. Prepared before the write, so that
/// the committing thread (one for the whole service, and the limit when a hall submits at
/// once) runs only what must see the stored data: the dialogue's rules, the repeat check and
/// the inserts.
struct Submission {
    asker: Submitter,
    row: NewQuestion,
    receipt: Option<NewEmail>,
}

impl Submission {
    /// The receipt `participant` (the asker) gets in the same commit as the question.
    fn render_receipt(
        &mut self,
        mailing: Mailing<'_>,
        dialogue: &Dialogue,
        participant: &Participant,
    ) -> Result<(), AppError> {
        let notice = asker_notice(
            mailing,
            dialogue,
            participant,
            &self.row.id,
            &self.row.body,
            "receipt",
            None,
        );
        self.receipt = notify::render(mailing, participant, notice)?;
        Ok(())
    }

    /// What the dialogue allows: the asker may ask there, it takes questions, its deadline.
    /// The repeat rule is checked for the whole batch (`refuse_repeats`).
    fn check(&self, dialogue: Option<&Intake>) -> Result<(), AppError> {
        let dialogue = dialogue.ok_or(AppError::NotFound)?;
        check_asker_may_ask(dialogue, &self.asker)?;
        ensure_taking_questions(dialogue)?;
        ensure_before_deadline(dialogue, self.row.channel)
    }
}

/// Submissions queued together, written together (see `BatchedWrite`): their askers
/// looked up in one query, each dialogue read once, the questions and their history
/// entries inserted in one statement each. One thread commits for the whole service; when
/// a hall submits at once, a set of statements per question was most of its time.
struct Submissions;

/// A submission on its way to the committing thread.
enum Queued {
    /// Its asker to be looked up, by code or link, with the others of the batch.
    ByCredential {
        dialogue_id: DialogueId,
        credential: Arc<ParticipantCredential>,
        draft: Draft,
    },
    /// Its asker known, its receipt rendered if it needs one.
    Prepared(Box<Submission>),
}

/// What became of a submission that was not refused.
enum Outcome {
    Stored(Box<Stored>),
    /// Nothing written: the asker has an email, and their receipt is rendered outside the
    /// write first.
    NeedsReceipt(Box<Draft>),
}

struct Stored {
    question: Question,
    time_zone: String,
}

/// A submission that passed the dialogue's rules, still to be written (`Ok`), or its
/// answer already (`Err`).
type Checked = Result<Box<Submission>, Result<Outcome, AppError>>;

/// A queued submission with its asker found.
enum Ready {
    Submit(Box<Submission>),
    NeedsReceipt(Box<Draft>),
}

impl BatchedWrite for Submissions {
    type Item = Queued;
    type Output = Outcome;

    fn write_all(
        conn: &mut DbConnection,
        items: Vec<Queued>,
    ) -> Result<Vec<Result<Outcome, AppError>>, AppError> {
        let ready = with_askers(conn, items)?;
        let intakes = intakes_of(conn, &ready)?;
        let mut checked: Vec<Checked> = ready
            .into_iter()
            .map(|item| match item {
                Ok(Ready::Submit(submission)) => {
                    let dialogue = intakes.get(submission.row.dialogue_id.as_str());
                    match submission.check(dialogue) {
                        Ok(()) => Ok(submission),
                        Err(refused) => Err(Err(refused)),
                    }
                }
                Ok(Ready::NeedsReceipt(draft)) => Err(Ok(Outcome::NeedsReceipt(draft))),
                Err(refused) => Err(Err(refused)),
            })
            .collect();
        refuse_repeats(conn, &mut checked)?;
        let mut accepted = Vec::new();
        // `None` holds the place of an accepted submission, answered once it is written.
        let answers: Vec<Option<Result<Outcome, AppError>>> = checked
            .into_iter()
            .map(|item| match item {
                Ok(submission) => {
                    accepted.push(submission);
                    None
                }
                Err(answer) => Some(answer),
            })
            .collect();
        store_all(conn, &mut accepted)?;
        let mut stored = accepted.into_iter().map(|submission| {
            let time_zone = intakes
                .get(submission.row.dialogue_id.as_str())
                .map(|dialogue| dialogue.time_zone.clone())
                .unwrap_or_default();
            Outcome::Stored(Box::new(Stored {
                question: Question::from(submission.row),
                time_zone,
            }))
        });
        Ok(answers
            .into_iter()
            .map(|answer| {
                answer.unwrap_or_else(|| {
                    stored
                        .next()
                        .ok_or_else(|| AppError::unexpected("a submission lost its place"))
                })
            })
            .collect())
    }
}

/// Refuses a question from the web asked before within the repeat window, or earlier in
/// the same batch: one statement per dialogue for the whole batch.
fn refuse_repeats(conn: &mut DbConnection, checked: &mut [Checked]) -> Result<(), AppError> {
    let mut texts_by_dialogue: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for submission in checked.iter().flatten() {
        if submission.row.channel == Channel::Web {
            let row = &submission.row;
            texts_by_dialogue
                .entry(row.dialogue_id.as_str())
                .or_default()
                .push(row.search_text.as_str());
        }
    }
    let since = now() - Duration::minutes(REPEAT_WINDOW_MINUTES);
    let mut asked: HashSet<(String, String)> = HashSet::new();
    for (dialogue_id, texts) in texts_by_dialogue {
        for text in store::asked_among(conn, dialogue_id, &texts, since)? {
            asked.insert((dialogue_id.to_string(), text));
        }
    }
    for item in checked.iter_mut() {
        let Ok(submission) = item else { continue };
        if submission.row.channel != Channel::Web {
            continue;
        }
        let key = (
            submission.row.dialogue_id.to_string(),
            submission.row.search_text.clone(),
        );
        // The first of a batch is taken; the rest are repeats of it.
        if !asked.insert(key) {
            *item = Err(Err(AppError::Conflict("duplicate_question")));
        }
    }
    Ok(())
}

/// The queued submissions with their askers: those by credential looked up in one query.
fn with_askers(
    conn: &mut DbConnection,
    items: Vec<Queued>,
) -> Result<Vec<Result<Ready, AppError>>, AppError> {
    let credentials: Vec<&str> = items
        .iter()
        .filter_map(|item| match item {
            Queued::ByCredential { credential, .. } => Some(credential.as_str()),
            Queued::Prepared(_) => None,
        })
        .collect();
    let mut found = participants::auth::resolve_all(conn, &credentials)?.into_iter();
    Ok(items
        .into_iter()
        .map(|item| match item {
            Queued::Prepared(submission) => Ok(Ready::Submit(submission)),
            Queued::ByCredential {
                dialogue_id, draft, ..
            } => match found.next().flatten() {
                None => Err(AppError::Unauthorized),
                Some(participant) if participant.has_email => {
                    Ok(Ready::NeedsReceipt(Box::new(draft)))
                }
                Some(participant) => Ok(Ready::Submit(Box::new(
                    draft.into_submission(&dialogue_id, Submitter::Participant(participant)),
                ))),
            },
        })
        .collect())
}

/// Each dialogue the submissions go to, read (and on PostgreSQL locked) once, in the order
/// of their ids so that two writers never wait on each other's locks.
fn intakes_of(
    conn: &mut DbConnection,
    ready: &[Result<Ready, AppError>],
) -> Result<HashMap<String, Intake>, AppError> {
    let ids: BTreeSet<&str> = ready
        .iter()
        .filter_map(|item| match item {
            Ok(Ready::Submit(submission)) => Some(submission.row.dialogue_id.as_str()),
            _ => None,
        })
        .collect();
    let mut intakes = HashMap::with_capacity(ids.len());
    for id in ids {
        if let Some(intake) = dialogues::store::intake_locked(conn, id)? {
            intakes.insert(id.to_string(), intake);
        }
    }
    Ok(intakes)
}

/// The accepted submissions' questions, history entries and receipts, one statement each
/// for the first two.
fn store_all(conn: &mut DbConnection, accepted: &mut [Box<Submission>]) -> Result<(), AppError> {
    let rows: Vec<&NewQuestion> = accepted.iter().map(|s| &s.row).collect();
    store::insert_all(conn, &rows)?;
    let actors: Vec<Actor> = accepted.iter().map(|s| actor_of(&s.asker)).collect();
    let entries: Vec<audit::Entry<'_>> = accepted
        .iter()
        .zip(&actors)
        .map(|(s, actor)| {
            audit::entry(actor, "question.submit")
                .about("question", &s.row.id)
                .in_dialogue(&s.row.dialogue_id)
                .detail(s.row.channel.as_str())
        })
        .collect();
    audit::record_all(conn, &entries)?;
    for submission in accepted.iter_mut() {
        if let Some(receipt) = submission.receipt.take() {
            enqueue_email(conn, receipt)?;
        }
    }
    Ok(())
}

/// A participant asks only in their own dialogue; without a credential only where the
/// dialogue allows anonymous questions; among staff only organizers enter questions.
fn check_asker_may_ask(dialogue: &Intake, asker: &Submitter) -> Result<(), AppError> {
    match asker {
        Submitter::Participant(p) if p.dialogue_id != dialogue.id => Err(AppError::NotFound),
        Submitter::Participant(_) if dialogue.status() == DialogueStatus::Draft => {
            Err(AppError::NotFound)
        }
        Submitter::Participant(_) => Ok(()),
        Submitter::Staff(staff) if staff.can_organize() => Ok(()),
        Submitter::Staff(_) => Err(AppError::Forbidden),
        Submitter::Anonymous if dialogue.status() == DialogueStatus::Draft => {
            Err(AppError::NotFound)
        }
        Submitter::Anonymous if !dialogue.anonymous_questions => {
            Err(AppError::ForbiddenBecause("anonymous_questions_closed"))
        }
        Submitter::Anonymous => Ok(()),
    }
}

fn new_row(dialogue_id: &DialogueId, asker: &Submitter, draft: Draft) -> NewQuestion {
    let Draft {
        valid,
        search_text,
        id,
        created_at,
    } = draft;
    let (participant_id, asker_name, entered_by, consent, anonymous) = match asker {
        Submitter::Participant(p) => (
            Some(p.id.clone()),
            Some(p.full_name.clone()),
            None,
            None,
            valid.anonymous,
        ),
        Submitter::Staff(staff) => (
            None,
            valid.asker_name.clone(),
            Some(staff.user.id.clone()),
            Some(format!("{STAFF_ENTRY_STATEMENT} ({})", staff.user.name)),
            // Without a name there is nobody to show.
            valid.anonymous || valid.asker_name.is_none(),
        ),
        Submitter::Anonymous => (None, None, None, None, true),
    };
    NewQuestion {
        id,
        dialogue_id: dialogue_id.clone(),
        participant_id,
        asker_name,
        channel: valid.channel,
        search_text,
        body: valid.body,
        topic: valid.topic,
        anonymous,
        share_identity_with_agency: valid.share_identity_with_agency,
        status: QuestionStatus::Submitted,
        vote_count: 0,
        entered_by,
        consent_statement: consent,
        created_at,
        updated_at: created_at,
    }
}

fn actor_of(asker: &Submitter) -> Actor {
    match asker {
        Submitter::Participant(p) => Actor::Participant(p.id.to_string()),
        Submitter::Staff(s) => Actor::User(s.user.id.clone()),
        Submitter::Anonymous => Actor::Anonymous,
    }
}

/// Emails the asker about their question (`kind`: receipt, rejected, merged, answered).
pub fn tell_asker(
    conn: &mut DbConnection,
    mailing: Mailing<'_>,
    dialogue: &Dialogue,
    participant: &Participant,
    question: &Question,
    kind: &'static str,
    extra: Option<&str>,
) -> Result<bool, AppError> {
    if participant.email.is_none() {
        return Ok(false);
    }
    let notice = asker_notice(
        mailing,
        dialogue,
        participant,
        &question.id,
        &question.body,
        kind,
        extra,
    );
    notify::queue(conn, mailing, participant, notice)
}

/// The email telling the asker about their question.
fn asker_notice<'a>(
    mailing: Mailing<'_>,
    dialogue: &Dialogue,
    participant: &Participant,
    question_id: &QuestionId,
    body: &str,
    kind: &'static str,
    extra: Option<&str>,
) -> Notice<'a> {
    let link = notify::code_link(mailing.settings, participant);
    let base = notify::context_for(mailing, dialogue, participant, &link);
    let context = context! {
        kind => kind,
        question => body,
        extra => extra,
        ..base
    };
    Notice {
        kind: "question",
        template: "question",
        context,
        attachments: Vec::new(),
        dedupe_key: None,
        subject_ref: Some(("question", question_id.to_string())),
    }
}

/// The asker of a question, when they are on the list (not anonymous web, not paper).
pub fn asker_of(
    conn: &mut DbConnection,
    question: &Question,
) -> Result<Option<Participant>, AppError> {
    match &question.participant_id {
        Some(id) => Ok(participants::store::find(conn, id)?),
        None => Ok(None),
    }
}

/// A question of a dialogue the caller may moderate, or 404.
pub fn find(conn: &mut DbConnection, id: &str) -> Result<Question, AppError> {
    store::find(conn, id)?.ok_or(AppError::NotFound)
}

// ---------------------------------------------------------------- moderation

/// A moderator's decision on a question.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModerationInput {
    pub action: ModerationAction,
    /// Required to reject: the asker is told it.
    #[schema(schema_with = schema::optional_multiline_text::<1000>)]
    pub reason: Option<String>,
    /// Required to merge: the question this one repeats.
    pub into: Option<QuestionId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ModerationAction {
    Approve,
    Reject,
    Merge,
}

/// Approves, rejects (with a reason the asker is told) or merges a question into another
/// (its votes and asker follow; the asker is told).
pub fn moderate(
    conn: &mut DbConnection,
    mailing: Mailing<'_>,
    staff: &Staff,
    id: &str,
    input: &ModerationInput,
) -> Result<Question, AppError> {
    let question = find(conn, id)?;
    dialogues::store::lock(conn, &question.dialogue_id)?;
    store::lock(conn, id)?;
    let question = find(conn, id)?;
    let actor = Actor::User(staff.user.id.clone());
    match input.action {
        ModerationAction::Approve => approve(conn, &actor, &question)?,
        ModerationAction::Reject => reject(conn, mailing, &actor, &question, input)?,
        ModerationAction::Merge => merge(conn, mailing, &actor, &question, input)?,
    }
    find(conn, id)
}

fn approve(conn: &mut DbConnection, actor: &Actor, question: &Question) -> Result<(), AppError> {
    if !matches!(
        question.status,
        QuestionStatus::Submitted | QuestionStatus::Rejected
    ) {
        return Err(AppError::Conflict("invalid_transition"));
    }
    let decision = Decision {
        status: QuestionStatus::Approved,
        reason: None,
        merged_into: None,
        moderated: true,
    };
    store::decide(conn, &question.id, decision)?;
    crate::events::emit(crate::events::Event::QuestionApproved {
        dialogue_id: question.dialogue_id.to_string(),
        question_id: question.id.to_string(),
    });
    history(conn, actor, question, "question.approve", None)
}

fn reject(
    conn: &mut DbConnection,
    mailing: Mailing<'_>,
    actor: &Actor,
    question: &Question,
    input: &ModerationInput,
) -> Result<(), AppError> {
    let reason = parse_reason(input.reason.as_deref()).map_err(|e| AppError::field("reason", e))?;
    if !matches!(
        question.status,
        QuestionStatus::Submitted | QuestionStatus::Approved
    ) {
        return Err(AppError::Conflict("invalid_transition"));
    }
    let decision = Decision {
        status: QuestionStatus::Rejected,
        reason: Some(&reason),
        merged_into: None,
        moderated: true,
    };
    store::decide(conn, &question.id, decision)?;
    history(
        conn,
        actor,
        question,
        "question.reject",
        Some(reason.clone()),
    )?;
    notify_asker(conn, mailing, question, "rejected", Some(&reason))
}

fn merge(
    conn: &mut DbConnection,
    mailing: Mailing<'_>,
    actor: &Actor,
    question: &Question,
    input: &ModerationInput,
) -> Result<(), AppError> {
    let into_id = input
        .into
        .clone()
        .ok_or_else(|| AppError::field("into", FieldError::new("required")))?;
    if into_id == question.id {
        return Err(AppError::field("into", FieldError::new("same_question")));
    }
    let target = store::find(conn, &into_id)?
        .filter(|t| t.dialogue_id == question.dialogue_id)
        .ok_or_else(|| AppError::field("into", FieldError::new("unknown_question")))?;
    if !question.status.is_moderatable() || !merge_target_ok(target.status) {
        return Err(AppError::Conflict("invalid_transition"));
    }
    store::lock(conn, &target.id)?;
    store::move_votes(conn, &question.id, &target.id)?;
    let decision = Decision {
        status: QuestionStatus::Merged,
        reason: None,
        merged_into: Some(&target.id),
        moderated: true,
    };
    store::decide(conn, &question.id, decision)?;
    history(
        conn,
        actor,
        question,
        "question.merge",
        Some(target.id.to_string()),
    )?;
    notify_asker(conn, mailing, question, "merged", Some(&target.body))
}

/// A question can take in duplicates while it is pending or in the public queue.
pub fn merge_target_ok(status: QuestionStatus) -> bool {
    status == QuestionStatus::Submitted || status.is_public()
}

/// A moderator's rewording or change of topic.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionPatch {
    /// The clearer wording; the first wording stays stored as `original_body`.
    #[schema(schema_with = schema::optional_multiline_between::<10, 2000>)]
    pub body: Option<String>,
    pub topic: Option<Topic>,
}

pub fn edit(
    conn: &mut DbConnection,
    staff: &Staff,
    id: &str,
    patch: &QuestionPatch,
) -> Result<Question, AppError> {
    let body = match &patch.body {
        Some(raw) => Some(parse_body(raw).map_err(|e| AppError::field("body", e))?),
        None => None,
    };
    store::lock(conn, id)?;
    let question = find(conn, id)?;
    if matches!(
        question.status,
        QuestionStatus::Merged | QuestionStatus::Withdrawn
    ) {
        return Err(AppError::Conflict("invalid_transition"));
    }
    let actor = Actor::User(staff.user.id.clone());
    if let Some(body) = body.filter(|b| *b != question.body) {
        store::reword(conn, &question, &body, &similar::search_text(&body))?;
        history(conn, &actor, &question, "question.edit", Some(body))?;
    }
    if let Some(topic) = patch.topic.filter(|t| *t != question.topic) {
        store::set_topic(conn, id, topic)?;
        history(
            conn,
            &actor,
            &question,
            "question.topic",
            Some(topic.as_str().into()),
        )?;
    }
    find(conn, id)
}

/// Writes one step of a question's history (who, what, when) to the audit log.
pub fn history(
    conn: &mut DbConnection,
    actor: &Actor,
    question: &Question,
    action: &str,
    detail: Option<String>,
) -> Result<(), AppError> {
    let mut entry = audit::entry(actor, action)
        .about("question", &question.id)
        .in_dialogue(&question.dialogue_id);
    if let Some(detail) = detail {
        entry = entry.detail(detail);
    }
    entry.record(conn)?;
    // Every change worth a history step may change what the public queue shows.
    crate::events::emit(crate::events::Event::QuestionsChanged {
        dialogue_id: question.dialogue_id.to_string(),
    });
    Ok(())
}

fn notify_asker(
    conn: &mut DbConnection,
    mailing: Mailing<'_>,
    question: &Question,
    kind: &'static str,
    extra: Option<&str>,
) -> Result<(), AppError> {
    let Some(participant) = asker_of(conn, question)? else {
        return Ok(());
    };
    let dialogue =
        dialogues::store::find(conn, &question.dialogue_id)?.ok_or(AppError::NotFound)?;
    tell_asker(
        conn,
        mailing,
        &dialogue,
        &participant,
        question,
        kind,
        extra,
    )?;
    Ok(())
}

/// The asker takes back a question nobody has moderated yet.
pub fn withdraw(
    conn: &mut DbConnection,
    participant: &Participant,
    id: &str,
) -> Result<Question, AppError> {
    store::lock(conn, id)?;
    let question = store::find(conn, id)?
        .filter(|q| q.participant_id.as_ref() == Some(&participant.id))
        .ok_or(AppError::NotFound)?;
    if question.status != QuestionStatus::Submitted {
        return Err(AppError::Conflict("invalid_transition"));
    }
    let decision = Decision {
        status: QuestionStatus::Withdrawn,
        reason: None,
        merged_into: None,
        moderated: false,
    };
    store::decide(conn, id, decision)?;
    let actor = Actor::Participant(participant.id.to_string());
    history(conn, &actor, &question, "question.withdraw", None)?;
    find(conn, id)
}

// ---------------------------------------------------------------- votes

/// The question's votes after the participant's vote was added or taken back.
#[derive(Debug, Serialize, ToSchema)]
pub struct VoteOutput {
    pub votes: i32,
    /// Whether this participant's vote is on the question now.
    pub voted: bool,
}

/// Votes queued together, written together (see `BatchedWrite`). Adding a vote (`on`) or
/// taking it back, repeated, changes nothing. On PostgreSQL the voters are found in one
/// query, the questions locked in one, the votes added in one and taken back in one, where
/// each vote made two or three round trips that the whole batch waited behind; on SQLite
/// each step runs one prepared statement per vote (see `store::insert_all`).
struct Votes;

/// A vote on its way to the committing thread.
struct QueuedVote {
    voter: Voter,
    question_id: QuestionId,
    on: bool,
}

enum Voter {
    /// A participant's code or link, looked up with the others of the batch.
    Credential(Arc<ParticipantCredential>),
    Known {
        id: ParticipantId,
        dialogue_id: DialogueId,
    },
}

impl BatchedWrite for Votes {
    type Item = QueuedVote;
    type Output = VoteOutput;

    fn write_all(
        conn: &mut DbConnection,
        items: Vec<QueuedVote>,
    ) -> Result<Vec<Result<VoteOutput, AppError>>, AppError> {
        let voters = voters_of(conn, &items)?;
        let ids: BTreeSet<&str> = items
            .iter()
            .zip(&voters)
            .filter(|(_, voter)| voter.is_ok())
            .map(|(item, _)| item.question_id.as_str())
            .collect();
        let ids: Vec<&str> = ids.into_iter().collect();
        // Held until the commit (on SQLite the one writer is us), so the counts read here
        // plus this batch's changes are the stored counts: no second read.
        let mut counts: HashMap<String, VoteTarget> = store::lock_for_votes(conn, &ids)?;
        let checked: Vec<Result<(&str, ParticipantId, bool), AppError>> = items
            .iter()
            .zip(voters)
            .map(|(item, voter)| {
                let (voter_id, dialogue_id) = voter?;
                let question = counts
                    .get(item.question_id.as_str())
                    .filter(|q| q.dialogue_id == dialogue_id)
                    .ok_or(AppError::NotFound)?;
                if !question.status.is_public() {
                    return Err(AppError::Conflict("not_open_for_votes"));
                }
                Ok((item.question_id.as_str(), voter_id, item.on))
            })
            .collect();
        let writes: Vec<(&str, &str, bool)> = checked
            .iter()
            .flatten()
            .map(|(question, voter, on)| (*question, voter.as_str(), *on))
            .collect();
        let mut changed = store::apply_votes(conn, &writes)?.into_iter();
        Ok(checked
            .into_iter()
            .map(|vote| {
                let (question, _, on) = vote?;
                let target = counts
                    .get_mut(question)
                    .ok_or_else(|| AppError::unexpected("a vote lost its question"))?;
                match (changed.next(), on) {
                    (Some(true), true) => target.vote_count += 1,
                    (Some(true), false) => target.vote_count -= 1,
                    _ => {}
                }
                Ok(VoteOutput {
                    votes: target.vote_count,
                    voted: on,
                })
            })
            .collect())
    }
}

/// A voter's id and dialogue.
type VoterOf = (ParticipantId, DialogueId);

/// Each vote's voter: those by credential looked up together.
fn voters_of(
    conn: &mut DbConnection,
    items: &[QueuedVote],
) -> Result<Vec<Result<VoterOf, AppError>>, AppError> {
    let credentials: Vec<&str> = items
        .iter()
        .filter_map(|item| match &item.voter {
            Voter::Credential(credential) => Some(credential.as_str()),
            Voter::Known { .. } => None,
        })
        .collect();
    let mut found = participants::auth::resolve_all(conn, &credentials)?.into_iter();
    Ok(items
        .iter()
        .map(|item| match &item.voter {
            Voter::Credential(_) => found
                .next()
                .flatten()
                .map(|p| (p.id, p.dialogue_id))
                .ok_or(AppError::Unauthorized),
            Voter::Known { id, dialogue_id } => Ok((id.clone(), dialogue_id.clone())),
        })
        .collect())
}

// ---------------------------------------------------------------- reading

/// The statuses a reader may list: organizers every one, everyone else the public queue.
pub fn readable_statuses(
    requested: Option<QuestionStatus>,
    organizer: bool,
) -> Vec<QuestionStatus> {
    let allowed = |s: &QuestionStatus| organizer || s.is_public();
    match requested {
        Some(status) if allowed(&status) => vec![status],
        Some(_) => Vec::new(),
        None => QuestionStatus::ALL
            .iter()
            .copied()
            .filter(allowed)
            .collect(),
    }
}

/// The public form of a question, with times in the dialogue's zone.
pub fn public_view(dialogue: &Dialogue, q: &Question) -> PublicQuestion {
    PublicQuestion {
        id: q.id.clone(),
        body: q.body.clone(),
        topic: q.topic,
        status: q.status,
        votes: q.vote_count,
        asker: q.public_asker().map(str::to_string),
        created_at: dialogue.local(q.created_at).to_rfc3339(),
    }
}

/// `time_zone`: the dialogue's, in which times are shown.
pub fn own_view(time_zone: &str, q: &Question) -> OwnQuestion {
    OwnQuestion {
        id: q.id.clone(),
        body: q.body.clone(),
        topic: q.topic,
        status: q.status,
        votes: q.vote_count,
        anonymous: q.anonymous,
        share_identity_with_agency: q.share_identity_with_agency,
        channel: q.channel,
        created_at: dialogues::model::local(time_zone, q.created_at).to_rfc3339(),
        rejection_reason: q.rejection_reason.clone(),
        merged_into: q.merged_into_id.clone(),
    }
}

pub fn organizer_view(dialogue: &Dialogue, q: &Question) -> OrganizerQuestion {
    OrganizerQuestion {
        public: public_view(dialogue, q),
        anonymous: q.anonymous,
        share_identity_with_agency: q.share_identity_with_agency,
        channel: q.channel,
        asker_name: q.asker_name.clone(),
        participant_id: q.participant_id.clone(),
        original_body: q.original_body.clone(),
        rejection_reason: q.rejection_reason.clone(),
        merged_into: q.merged_into_id.clone(),
        consent_statement: q.consent_statement.clone(),
    }
}

/// A page of the dialogue's questions as the reader may see them.
pub fn list(
    conn: &mut DbConnection,
    dialogue: &Dialogue,
    filter: &Filter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<Question>, i64), AppError> {
    if filter.statuses.is_empty() {
        return Ok((Vec::new(), 0));
    }
    Ok(store::list(conn, &dialogue.id, filter, offset, limit)?)
}

/// An earlier question like this one, for the moderator.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SimilarQuestion {
    pub id: QuestionId,
    pub body: String,
    pub status: QuestionStatus,
    /// From 0 to 1.
    pub score: f64,
}

/// The questions of the same dialogue most like `question` (any status but withdrawn).
pub fn similar_to(
    conn: &mut DbConnection,
    question: &Question,
    limit: usize,
) -> Result<Vec<SimilarQuestion>, AppError> {
    let others: Vec<Question> = store::all_in(conn, &question.dialogue_id)?
        .into_iter()
        .filter(|q| q.id != question.id && q.status != QuestionStatus::Withdrawn)
        .collect();
    let candidates = others
        .iter()
        .enumerate()
        .map(|(i, q)| (i, q.search_text.clone()));
    Ok(similar::rank(&question.search_text, candidates, limit)
        .into_iter()
        .map(|m| {
            let q = &others[m.key];
            SimilarQuestion {
                id: q.id.clone(),
                body: q.body.clone(),
                status: q.status,
                score: (m.score * 100.0).round() / 100.0,
            }
        })
        .collect())
}

// ---------------------------------------------------------------- entry points

/// Submits a question (see [`submit`]); anonymous askers pass the rate limits first.
pub async fn submit_question(
    state: &AppState,
    limiter: &QuestionLimiter,
    dialogue_id: DialogueId,
    asker: Asker,
    input: QuestionInput,
) -> Result<OwnQuestion, AppError> {
    if let Asker::Anonymous(ip) = &asker {
        limiter.check(*ip, &dialogue_id).await?;
    }
    let draft = Draft::prepare(&input, matches!(asker, Asker::Staff(_)))?;
    submit_prepared(state, dialogue_id, asker, draft).await
}

/// Submits a question from a participant's code or link, looked up inside the write with
/// the other submissions queued with it (see `Submissions`): one query for all of them,
/// where a trip to a reader thread each (two thread wake-ups, or on PostgreSQL a round
/// trip) cost more than the lookup. A participant with an email needs a receipt, rendered
/// outside the write: for them the write changes nothing, hands the participant back, and
/// the submission goes again as from a known asker.
pub async fn submit_with_credential(
    state: &AppState,
    dialogue_id: DialogueId,
    credential: ParticipantCredential,
    input: QuestionInput,
) -> Result<OwnQuestion, AppError> {
    let credential = Arc::new(credential);
    credential
        .counting_failure(async {
            let draft = match Draft::prepare(&input, false) {
                Ok(draft) => draft,
                // Who asks comes first, as when the asker is looked up before the fields
                // are read: a credential that matches nobody is 401 whatever the body holds.
                Err(invalid) => {
                    credential.resolve_on_reader(&state.db).await?;
                    return Err(invalid);
                }
            };
            let queued = Queued::ByCredential {
                dialogue_id: dialogue_id.clone(),
                credential: credential.clone(),
                draft,
            };
            match state.db.write_batched::<Submissions>(queued).await? {
                Outcome::Stored(stored) => Ok(own_view(&stored.time_zone, &stored.question)),
                Outcome::NeedsReceipt(draft) => {
                    // Read again whole, for the receipt.
                    let participant = credential.resolve_on_reader(&state.db).await?;
                    let asker = Asker::Participant(participant);
                    submit_prepared(state, dialogue_id, asker, *draft).await
                }
            }
        })
        .await
}

/// Renders the receipt (for an asker with an email) and writes the submission with the
/// others queued with it.
async fn submit_prepared(
    state: &AppState,
    dialogue_id: DialogueId,
    asker: Asker,
    draft: Draft,
) -> Result<OwnQuestion, AppError> {
    let mut submission = draft.into_submission(&dialogue_id, Submitter::of(&asker));
    if let Some(participant) = receipt_to(&asker) {
        let id = dialogue_id.clone();
        let dialogue = state
            .db
            .read(move |conn| Ok(dialogues::store::find(conn, &id)?))
            .await?;
        if let Some(dialogue) = dialogue {
            submission.render_receipt(Mailing::of(state), &dialogue, participant)?;
        }
    }
    match state
        .db
        .write_batched::<Submissions>(Queued::Prepared(Box::new(submission)))
        .await?
    {
        Outcome::Stored(stored) => Ok(own_view(&stored.time_zone, &stored.question)),
        Outcome::NeedsReceipt(_) => Err(AppError::unexpected("a known asker was looked up")),
    }
}

/// The queue's parameters as read from the query string.
#[derive(Debug, Clone, Default)]
pub struct QueueQuery {
    pub status: Option<QuestionStatus>,
    pub topic: Option<Topic>,
    pub sort: QueueSort,
}

impl QueueQuery {
    /// `?status=&topic=&sort=`, each at most once; empty means absent.
    pub fn parse(query: &str) -> Result<QueueQuery, AppError> {
        let raw = crate::json::single_parameters(query, &["status", "topic", "sort"])?;
        let value = |name: &str| raw.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let mut errors = FieldErrors::new();
        let invalid = || FieldError::new("invalid_choice");
        let status = value("status")
            .and_then(|v| errors.take("status", QuestionStatus::from_code(v).ok_or_else(invalid)));
        let topic = value("topic")
            .and_then(|v| errors.take("topic", Topic::from_code(v).ok_or_else(invalid)));
        let sort = value("sort")
            .and_then(|v| errors.take("sort", QueueSort::from_code(v).ok_or_else(invalid)))
            .unwrap_or_default();
        errors.into_result()?;
        Ok(QueueQuery {
            status,
            topic,
            sort,
        })
    }
}

/// One page of the queue, as organizers (everything) or anyone else (approved questions,
/// no anonymous asker) may see it.
pub enum QueuePage {
    Public(Vec<PublicQuestion>, i64),
    Organizer(Vec<OrganizerQuestion>, i64),
}

pub async fn queue(
    state: &AppState,
    dialogue_id: DialogueId,
    organizer: bool,
    query: QueueQuery,
    offset: i64,
    limit: i64,
) -> Result<QueuePage, AppError> {
    state
        .db
        .read(move |conn| {
            let dialogue = visible_dialogue(conn, &dialogue_id, organizer)?;
            let filter = Filter {
                statuses: readable_statuses(query.status, organizer),
                topic: query.topic,
                sort: query.sort,
            };
            let (rows, total) = list(conn, &dialogue, &filter, offset, limit)?;
            Ok(if organizer {
                QueuePage::Organizer(
                    rows.iter().map(|q| organizer_view(&dialogue, q)).collect(),
                    total,
                )
            } else {
                QueuePage::Public(
                    rows.iter().map(|q| public_view(&dialogue, q)).collect(),
                    total,
                )
            })
        })
        .await
}

/// The questions `participant` voted for. Read apart from the queue, which is the same for
/// every reader, and merged into it with [`mark_votes`]; a participant's votes are few
/// (one dialogue's), so this stays a small query.
pub async fn votes_of(
    state: &AppState,
    participant: ParticipantId,
) -> Result<HashSet<String>, AppError> {
    state
        .db
        .read(move |conn| Ok(store::voted_by(conn, &participant)?))
        .await
}

/// The public queue with each question marked as voted for, or not, by one participant.
pub fn mark_votes(items: Vec<PublicQuestion>, voted: &HashSet<String>) -> Vec<ListedQuestion> {
    items
        .into_iter()
        .map(|question| ListedQuestion {
            voted: Some(voted.contains(question.id.as_str())),
            question,
        })
        .collect()
}

/// The dialogue, when the reader may see it (drafts only organizers).
pub fn visible_dialogue(
    conn: &mut DbConnection,
    id: &str,
    organizer: bool,
) -> Result<Dialogue, AppError> {
    dialogues::store::find(conn, id)?
        .filter(|d| dialogues::ops::status_visible_to(d.status(), organizer))
        .ok_or(AppError::NotFound)
}

/// One step of a question's (or an assignment's) history, for organizers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryStep {
    pub at: String,
    pub action: String,
    /// The staff member's name, or `participant`, `anonymous`, `system`.
    pub by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The history of the records `ids` of `kind`, with staff named.
pub fn history_of(
    conn: &mut DbConnection,
    dialogue: &Dialogue,
    kind: &str,
    ids: &[String],
) -> Result<Vec<HistoryStep>, AppError> {
    let steps = audit::history(conn, kind, ids)?;
    let mut names: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(steps.len());
    for (_, step) in steps {
        let by = match (step.actor_kind.as_str(), &step.actor_id) {
            ("user", Some(id)) => match names.get(id) {
                Some(name) => name.clone(),
                None => {
                    let name = crate::auth::store::find_user(conn, id)?
                        .map(|u| u.name)
                        .unwrap_or_else(|| "user".into());
                    names.insert(id.clone(), name.clone());
                    name
                }
            },
            (kind, _) => kind.to_string(),
        };
        out.push(HistoryStep {
            at: dialogue.local(step.at).to_rfc3339(),
            action: step.action,
            by,
            detail: step.detail,
        });
    }
    Ok(out)
}

/// A question with what a moderator needs beside it.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionDetail {
    #[serde(flatten)]
    pub question: OrganizerQuestion,
    /// The dialogue's questions most like this one, best first.
    pub similar: Vec<SimilarQuestion>,
    pub history: Vec<HistoryStep>,
}

pub fn detail(conn: &mut DbConnection, id: &str) -> Result<QuestionDetail, AppError> {
    let question = find(conn, id)?;
    let dialogue =
        dialogues::store::find(conn, &question.dialogue_id)?.ok_or(AppError::NotFound)?;
    Ok(QuestionDetail {
        question: organizer_view(&dialogue, &question),
        similar: similar_to(conn, &question, 5)?,
        history: history_of(conn, &dialogue, "question", &[question.id.to_string()])?,
    })
}

/// Moderates a question and answers with its organizer view.
pub async fn moderate_question(
    state: &AppState,
    staff: Staff,
    id: QuestionId,
    input: ModerationInput,
) -> Result<OrganizerQuestion, AppError> {
    let state = state.clone();
    state
        .db
        .clone()
        .write(move |conn| {
            let question = moderate(conn, Mailing::of(&state), &staff, &id, &input)?;
            organizer_view_of(conn, &question)
        })
        .await
}

pub async fn edit_question(
    state: &AppState,
    staff: Staff,
    id: QuestionId,
    patch: QuestionPatch,
) -> Result<OrganizerQuestion, AppError> {
    state
        .db
        .write(move |conn| {
            let question = edit(conn, &staff, &id, &patch)?;
            organizer_view_of(conn, &question)
        })
        .await
}

pub fn organizer_view_of(
    conn: &mut DbConnection,
    q: &Question,
) -> Result<OrganizerQuestion, AppError> {
    let dialogue = dialogues::store::find(conn, &q.dialogue_id)?.ok_or(AppError::NotFound)?;
    Ok(organizer_view(&dialogue, q))
}

/// Adds (`on`) or takes back the participant's vote, with the others queued at the same
/// time (see `Votes`); repeating either changes nothing.
pub async fn vote_on(
    state: &AppState,
    participant: Participant,
    id: QuestionId,
    on: bool,
) -> Result<VoteOutput, AppError> {
    let voter = Voter::Known {
        id: participant.id,
        dialogue_id: participant.dialogue_id,
    };
    let vote = QueuedVote {
        voter,
        question_id: id,
        on,
    };
    state.db.write_batched::<Votes>(vote).await
}

/// `vote_on` for the API, where the credential comes with each request: the voter is
/// looked up in the write (see `Votes`), and a credential that matches nobody counts
/// towards the guessing limit.
pub async fn vote_with_credential(
    state: &AppState,
    credential: ParticipantCredential,
    id: QuestionId,
    on: bool,
) -> Result<VoteOutput, AppError> {
    let credential = Arc::new(credential);
    let vote = QueuedVote {
        voter: Voter::Credential(credential.clone()),
        question_id: id,
        on,
    };
    credential
        .counting_failure(state.db.write_batched::<Votes>(vote))
        .await
}

pub async fn withdraw_own(
    state: &AppState,
    participant: Participant,
    id: QuestionId,
) -> Result<OwnQuestion, AppError> {
    state
        .db
        .write(move |conn| {
            let question = withdraw(conn, &participant, &id)?;
            let dialogue =
                dialogues::store::find(conn, &question.dialogue_id)?.ok_or(AppError::NotFound)?;
            Ok(own_view(&dialogue.time_zone, &question))
        })
        .await
}
