//! Decisions taken in batches: one transaction for whatever waits.
//!
//! Every registration of a dialogue must hold the dialogue's row lock while it counts the
//! seats and writes (see docs/ARCHITECTURE.md, "Decisions under concurrency"), so
//! registrations of one dialogue go one at a time, and each one's lock, round trips and
//! commit set the pace. A `BatchQueue` lets the requests that arrive while a transaction
//! runs wait, and then hands them all to one call of its `decide` function inside the next
//! transaction: one lock and one commit for the batch. `decide` answers each item as it
//! would have been answered alone (`registrations::ops::decide_registrations`).

use std::sync::Mutex;

use tokio::sync::{mpsc, oneshot};

use crate::db::DbConnection;
use crate::error::AppError;
use crate::state::AppState;

/// The most items one transaction decides.
const MAX_BATCH: usize = 256;

/// Decides a batch in the caller's transaction: one answer per item, in order. An outer
/// error rolls the whole batch back and is every item's answer.
pub type Decide<I, A> =
    fn(&mut DbConnection, &AppState, &[I]) -> Result<Vec<Result<A, AppError>>, AppError>;

type Waiting<I, A> = (I, oneshot::Sender<Result<A, AppError>>);

/// Registered by the application as `web::Data`: one per process.
pub struct BatchQueue<I, A> {
    decide: Decide<I, A>,
    sender: Mutex<Option<mpsc::UnboundedSender<Waiting<I, A>>>>,
}

impl<I: Send + Sync + 'static, A: Send + 'static> BatchQueue<I, A> {
    pub fn new(decide: Decide<I, A>) -> BatchQueue<I, A> {
        BatchQueue {
            decide,
            sender: Mutex::new(None),
        }
    }

    /// Queues the item and waits for its answer.
    pub async fn decide(&self, state: &AppState, item: I) -> Result<A, AppError> {
        let (reply, answer) = oneshot::channel();
        self.sender(state)
            .send((item, reply))
            .map_err(|_| AppError::Unavailable("the queue has stopped".into()))?;
        answer
            .await
            .map_err(|_| AppError::unexpected("a queued item got no answer"))?
    }

    /// The queue's entrance, starting the task that decides on first use, or again if the
    /// worker thread that ran it has stopped.
    fn sender(&self, state: &AppState) -> mpsc::UnboundedSender<Waiting<I, A>> {
        let mut slot = self
            .sender
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match slot.as_ref() {
            Some(sender) if !sender.is_closed() => sender.clone(),
            _ => {
                let (sender, receiver) = mpsc::unbounded_channel();
                actix_web::rt::spawn(decide_in_batches(state.clone(), self.decide, receiver));
                *slot = Some(sender.clone());
                sender
            }
        }
    }
}

/// Takes whatever is waiting (at least one), decides it in one transaction, answers each.
async fn decide_in_batches<I: Send + Sync + 'static, A: Send + 'static>(
    state: AppState,
    decide: Decide<I, A>,
    mut waiting: mpsc::UnboundedReceiver<Waiting<I, A>>,
) {
    while let Some(first) = waiting.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match waiting.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let (items, replies): (Vec<I>, Vec<_>) = batch.into_iter().unzip();
        let st = state.clone();
        match state.db.write(move |conn| decide(conn, &st, &items)).await {
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
