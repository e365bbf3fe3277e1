//! Self-registrations decided in batches.
//!
//! Every registration of a dialogue must hold the dialogue's row lock while it counts the
//! seats and writes (see docs/ARCHITECTURE.md, "Decisions under concurrency"), so
//! registrations of one dialogue go one at a time, and each one's lock, round trips and
//! commit set the pace. Here the requests that arrive while a transaction is running wait
//! in a queue and are then decided together in the next one: one lock and one commit for
//! the batch, the seats counted once and kept up to date in memory. Each person still gets
//! the answer they would have had alone.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::{mpsc, oneshot};

use super::ops::{Opened, SelfRegistered, open_for_registration, register_one};
use crate::error::AppError;
use crate::participants::model::Person;
use crate::participants::notify::Mailing;
use crate::state::AppState;

/// The most registrations one transaction decides.
const MAX_BATCH: usize = 256;

struct Waiting {
    dialogue_id: String,
    person: Person,
    reply: oneshot::Sender<Result<SelfRegistered, AppError>>,
}

/// Registered by the application as `web::Data<RegistrationQueue>`: one per process.
#[derive(Default)]
pub struct RegistrationQueue {
    sender: Mutex<Option<mpsc::UnboundedSender<Waiting>>>,
}

impl RegistrationQueue {
    /// Queues the registration and waits for its answer.
    pub async fn decide(
        &self,
        state: &AppState,
        dialogue_id: String,
        person: Person,
    ) -> Result<SelfRegistered, AppError> {
        let sender = self.sender(state);
        let (reply, answer) = oneshot::channel();
        sender
            .send(Waiting {
                dialogue_id,
                person,
                reply,
            })
            .map_err(|_| AppError::Unavailable("the registration queue has stopped".into()))?;
        answer
            .await
            .map_err(|_| AppError::unexpected("a registration got no answer"))?
    }

    /// The queue's entrance, starting the task that decides on first use, or again if the
    /// worker thread that ran it has stopped.
    fn sender(&self, state: &AppState) -> mpsc::UnboundedSender<Waiting> {
        let mut slot = self
            .sender
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match slot.as_ref() {
            Some(sender) if !sender.is_closed() => sender.clone(),
            _ => {
                let (sender, receiver) = mpsc::unbounded_channel();
                actix_web::rt::spawn(decide_in_batches(state.clone(), receiver));
                *slot = Some(sender.clone());
                sender
            }
        }
    }
}

/// Takes whatever is waiting (at least one), decides it in one transaction, answers each.
async fn decide_in_batches(state: AppState, mut waiting: mpsc::UnboundedReceiver<Waiting>) {
    while let Some(first) = waiting.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match waiting.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let (items, replies): (Vec<_>, Vec<_>) = batch
            .into_iter()
            .map(|w| ((w.dialogue_id, w.person), w.reply))
            .unzip();
        let st = state.clone();
        match state
            .db
            .write(move |conn| decide_all(conn, &st, &items))
            .await
        {
            Ok(answers) => {
                for (reply, answer) in replies.into_iter().zip(answers) {
                    reply.send(answer).ok();
                }
            }
            Err(e) => {
                for reply in replies {
                    reply.send(Err(e.clone())).ok();
                }
            }
        }
    }
}

/// One transaction: each dialogue opened (checked, locked, counted) once, then every
/// person in arrival order. A database error rolls everything back and fails the batch.
fn decide_all(
    conn: &mut crate::db::DbConnection,
    state: &AppState,
    items: &[(String, Person)],
) -> Result<Vec<Result<SelfRegistered, AppError>>, AppError> {
    let mailing = Mailing::of(state);
    let mut opened: HashMap<&str, Opened> = HashMap::new();
    let mut answers = Vec::with_capacity(items.len());
    for (dialogue_id, person) in items {
        if !opened.contains_key(dialogue_id.as_str()) {
            let open = open_for_registration(conn, dialogue_id)?;
            opened.insert(dialogue_id, open);
        }
        let answer = match opened.get_mut(dialogue_id.as_str()) {
            Some(Ok((dialogue, counts))) => register_one(conn, mailing, dialogue, counts, person)?,
            Some(Err(refused)) => Err(refused.clone()),
            None => Err(AppError::unexpected("dialogue not opened")),
        };
        answers.push(answer);
    }
    Ok(answers)
}
