//! The participant's own use cases: what they see, their answer to the invitation, their
//! ticket and cancelling their seat. Above invitations and registrations, so those two
//! never need each other.

use serde::Serialize;
use utoipa::ToSchema;

use crate::assignments;
use crate::assignments::ops::QuestionWithAnswer;
use crate::db::DbConnection;
use crate::dialogues;
use crate::dialogues::view::DialogueView;
use crate::error::AppError;
use crate::events::Event;
use crate::invitations;
use crate::invitations::model::{Invitation, InvitationStatus};
use crate::live;
use crate::participants;
use crate::participants::model::Participant;
use crate::participants::notify::{Mailing, Notice};
use crate::registrations;
use crate::registrations::model::{Registration, RegistrationStatus, RegistrationView};
use crate::state::AppState;
#[derive(Debug, Serialize, ToSchema)]
pub struct MeParticipant {
    pub id: String,
    pub full_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeInvitation {
    pub id: String,
    pub status: InvitationStatus,
    pub responded_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// What a participant sees of themself. Their group is not shown, even to them: it is
/// sensitive and a phone screen is easily read by others.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    pub participant: MeParticipant,
    pub dialogue: DialogueView,
    pub invitation: Option<MeInvitation>,
    pub registration: Option<RegistrationView>,
    /// The participant's own questions, newest first, with their published answers and
    /// the answers given aloud at the dialogue.
    pub questions: Vec<MyQuestion>,
}

/// One of the participant's questions with every answer it got.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyQuestion {
    #[serde(flatten)]
    pub question: QuestionWithAnswer,
    /// Answers given aloud during the dialogue, as the secretary recorded them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub answers_given_aloud: Vec<live::model::LiveAnswerView>,
}

pub fn me_view(conn: &mut DbConnection, participant: &Participant) -> Result<MeView, AppError> {
    let dialogue =
        dialogues::store::find_full(conn, &participant.dialogue_id)?.ok_or(AppError::NotFound)?;
    let invitation = invitations::store::find_by_participant(conn, &participant.id)?;
    let registration = match registrations::store::find_by_participant(conn, &participant.id)? {
        Some(r) => {
            let position = registrations::store::waitlist_position(conn, &r)?;
            Some(RegistrationView::of(&r, position))
        }
        None => None,
    };
    let own = assignments::ops::own_questions(conn, &dialogue.dialogue, &participant.id)?;
    let mut aloud = if own.is_empty() {
        Default::default()
    } else {
        live::ops::record(conn, &dialogue.dialogue)?.answers
    };
    let questions = own
        .into_iter()
        .map(|q| {
            // A merged question was answered as the one it was merged into.
            let answered = q
                .question
                .merged_into
                .clone()
                .unwrap_or(q.question.id.clone());
            MyQuestion {
                answers_given_aloud: aloud.remove(answered.as_str()).unwrap_or_default(),
                question: q,
            }
        })
        .collect();
    Ok(MeView {
        participant: MeParticipant {
            id: participant.id.to_string(),
            full_name: participant.full_name.clone(),
            email: participant.email.clone(),
            phone: participant.phone.clone(),
            code: participant.code.clone(),
        },
        dialogue: DialogueView::from(&dialogue),
        invitation: invitation.map(|i| MeInvitation {
            id: i.id.to_string(),
            status: i.status(),
            responded_at: i.responded_at.map(|t| t.and_utc()),
        }),
        registration,
        questions,
    })
}

pub async fn respond(
    state: &AppState,
    participant: Participant,
    accept: bool,
) -> Result<MeView, AppError> {
    let st = state.clone();
    let view = state
        .db
        .write(move |conn| {
            answer(conn, Mailing::of(&st), &participant, accept)?;
            me_view(conn, &participant)
        })
        .await?;
    Ok(view)
}

/// A ticket exists only for someone holding a seat (registered or checked in).
pub async fn ensure_seat(state: &AppState, participant: &Participant) -> Result<(), AppError> {
    let id = participant.id.clone();
    let seated = state
        .db
        .read(move |conn| {
            Ok(registrations::store::find_by_participant(conn, &id)?
                .is_some_and(|r| r.status().holds_seat()))
        })
        .await?;
    if seated {
        Ok(())
    } else {
        Err(AppError::Conflict("not_registered"))
    }
}

pub async fn cancel_own(state: &AppState, participant: Participant) -> Result<MeView, AppError> {
    let st = state.clone();
    let view = state
        .db
        .write(move |conn| {
            let dialogue = dialogues::store::find(conn, &participant.dialogue_id)?
                .ok_or(AppError::NotFound)?;
            registrations::ops::cancel(conn, Mailing::of(&st), &dialogue, &participant)?;
            me_view(conn, &participant)
        })
        .await?;
    Ok(view)
}

/// What registering again from the personal page did.
pub enum Again {
    /// A seat or a waitlist place (the status says which).
    Placed(RegistrationStatus),
    /// The person already held a seat or a waitlist place: nothing changed.
    AlreadyHeld,
}

/// Registers again someone who cancelled (or, for an invitee, accepts again), while seats
/// or the waitlist allow. Someone who still holds a place keeps it and is told so.
pub async fn register_again(state: &AppState, participant: Participant) -> Result<Again, AppError> {
    let st = state.clone();
    state
        .db
        .write(move |conn| {
            let dialogue = dialogues::store::find(conn, &participant.dialogue_id)?
                .ok_or(AppError::NotFound)?;
            registrations::ops::ensure_accepting(&dialogue)?;
            if registrations::store::find_by_participant(conn, &participant.id)?
                .is_some_and(|r| r.status() != RegistrationStatus::Cancelled)
            {
                return Ok(Again::AlreadyHeld);
            }
            let mailing = Mailing::of(&st);
            let registration =
                if invitations::store::find_by_participant(conn, &participant.id)?.is_some() {
                    answer(conn, mailing, &participant, true)?
                        .1
                        .ok_or(AppError::Conflict("not_registered"))?
                } else {
                    registrations::ops::register(conn, mailing, &dialogue, &participant)?
                };
            Ok(Again::Placed(registration.status()))
        })
        .await
}

/// The participant's answer to the invitation, inside the caller's transaction. Accepting takes a seat (or a waitlist place); declining gives
/// back a seat already held.
pub fn answer(
    conn: &mut DbConnection,
    mailing: Mailing<'_>,
    participant: &Participant,
    accept: bool,
) -> Result<(Invitation, Option<Registration>), AppError> {
    let invitation = invitations::store::find_by_participant(conn, &participant.id)?
        .ok_or(AppError::Conflict("no_invitation"))?;
    let dialogue =
        dialogues::store::find(conn, &participant.dialogue_id)?.ok_or(AppError::NotFound)?;
    registrations::ops::ensure_accepting(&dialogue)?;
    let registration = if accept {
        invitations::store::set_status(conn, &invitation.id, InvitationStatus::Accepted)?;
        participants::store::record_consent(
            conn,
            &participant.id,
            registrations::ops::ACCEPT_PURPOSE,
        )?;
        Some(registrations::ops::register(
            conn,
            mailing,
            &dialogue,
            participant,
        )?)
    } else {
        invitations::store::set_status(conn, &invitation.id, InvitationStatus::Declined)?;
        match registrations::store::find_by_participant(conn, &participant.id)? {
            Some(r) if r.status() != RegistrationStatus::Cancelled => Some(
                registrations::ops::cancel(conn, mailing, &dialogue, participant)?,
            ),
            other => other,
        }
    };
    let invitation = invitations::store::find_by_participant(conn, &participant.id)?
        .ok_or(AppError::NotFound)?;
    Ok((invitation, registration))
}

/// Inside the transaction of an edit that moved the dialogue (its time or venue) and that
/// the organizer chose to announce: everyone who holds a place (invitees who accepted and
/// people who registered, waitlist included) is emailed the change with the calendar event
/// again, under the same UID and the new SEQUENCE. The emails are jobs in the outbox.
pub fn on_event(
    conn: &mut DbConnection,
    mailing: Mailing<'_>,
    event: &Event,
) -> Result<(), AppError> {
    let Event::DialogueRescheduled { dialogue_id } = event else {
        return Ok(());
    };
    let dialogue = dialogues::store::find(conn, dialogue_id)?.ok_or(AppError::NotFound)?;
    let invitation_of = invitations::store::ids_by_participant(conn, dialogue_id)?;
    let (rows, _) = registrations::store::list(conn, dialogue_id, None, 0, i64::MAX)?;
    for (registration, person) in rows {
        if registration.status() == RegistrationStatus::Cancelled || person.email.is_none() {
            continue;
        }
        // The event keeps the UID the person's calendar already has.
        let uid_of = invitation_of
            .get(person.id.as_str())
            .map_or(registration.id.as_str(), String::as_str);
        let link = participants::notify::code_link(mailing.settings, &person);
        let calendar =
            invitations::ops::calendar_attachment(mailing, &dialogue, uid_of, &link, person.lang());
        participants::notify::queue(
            conn,
            mailing,
            &person,
            Notice {
                kind: "dialogue_update",
                template: "dialogue_update",
                context: participants::notify::context_for(mailing, &dialogue, &person, &link),
                attachments: vec![calendar],
                dedupe_key: Some(format!(
                    "dialogue_update:{}:{}",
                    registration.id, dialogue.calendar_sequence
                )),
                subject_ref: None,
            },
        )?;
    }
    Ok(())
}
