//! Events: what changed, told after the transaction that changed it commits.
//!
//! Code inside a write transaction calls [`emit`]; `Db::write` runs the in-transaction
//! listeners for each emitted event (work that must commit together with the change, such
//! as giving freed seats to the waitlist), and once the transaction has committed it
//! publishes the events on the [`Bus`]. A rolled-back transaction publishes nothing.
//!
//! Subscribers — the dialogue cache, the job worker's wake-up, later the live stream — see
//! the same events whether the change came from the API, a page, a job or the CLI. Events
//! are plain data that serialise to JSON, so they can also travel between instances
//! (PostgreSQL `LISTEN/NOTIFY`). This module knows no capability: a variant names what
//! changed by id, never by a capability's type.

use std::cell::RefCell;
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A dialogue's details, capacity or status changed.
    DialogueChanged { dialogue_id: String },
    /// The dialogue's time or venue changed, and the organizer chose to tell the people who
    /// hold a place (emitted with `DialogueChanged`).
    DialogueRescheduled { dialogue_id: String },
    /// A question of the dialogue changed where the public may see it (moderated, reworded,
    /// answered). Votes are not reported here: they are too many, and readers may see them
    /// up to a second late.
    QuestionsChanged { dialogue_id: String },
    /// A question joined the public queue (the live stream tells the hall).
    QuestionApproved {
        dialogue_id: String,
        question_id: String,
    },
    /// An agency's written answer was published.
    AnswerPublished {
        dialogue_id: String,
        question_id: String,
    },
    /// The live stream's replay log of the dialogue gained entry `seq`.
    Live { dialogue_id: String, seq: i32 },
    /// Jobs (emails or other background work) were queued: a worker should look now.
    JobsQueued,
    /// A client address failed too often (`scope`: which limiter) and is refused for
    /// `seconds`. Told to every instance, so that the block holds wherever the client's next
    /// request lands.
    AddressBlocked {
        scope: String,
        address: String,
        seconds: u64,
    },
}

thread_local! {
    /// Events of the transaction running on this thread. A write transaction runs on one
    /// blocking thread from start to commit, so the thread is the transaction's scope.
    static PENDING: RefCell<Vec<Event>> = const { RefCell::new(Vec::new()) };
}

/// Records an event of the transaction in progress: published when it commits, dropped if
/// it rolls back. Outside a `Db::write` the event is dropped.
pub fn emit(event: Event) {
    PENDING.with(|pending| {
        let mut pending = pending.borrow_mut();
        if !pending.contains(&event) {
            pending.push(event);
        }
    });
}

/// The events emitted on this thread since the last call, in order.
pub fn take_pending() -> Vec<Event> {
    PENDING.with(|pending| std::mem::take(&mut *pending.borrow_mut()))
}

type Callback = Arc<dyn Fn(&Event) + Send + Sync>;

/// Where committed events go: callbacks run at once on the committing thread (cheap,
/// synchronous work such as forgetting a cache entry), and a broadcast channel for tasks
/// that wait for events (the job worker, the live stream).
#[derive(Clone)]
pub struct Bus {
    sender: broadcast::Sender<Event>,
    callbacks: Arc<RwLock<Vec<Callback>>>,
}

impl Default for Bus {
    fn default() -> Bus {
        Bus {
            sender: broadcast::channel(1024).0,
            callbacks: Arc::default(),
        }
    }
}

impl Bus {
    /// Tells every subscriber; nobody listening is not an error.
    pub fn publish(&self, event: Event) {
        if let Ok(callbacks) = self.callbacks.read() {
            for callback in callbacks.iter() {
                callback(&event);
            }
        }
        self.sender.send(event).ok();
    }

    /// A receiver of every event published from now on. A receiver that falls behind by
    /// more than the channel holds gets `Lagged` and should assume anything changed.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }

    /// Runs `callback` for every event published from now on, before `publish` returns.
    pub fn on_publish(&self, callback: impl Fn(&Event) + Send + Sync + 'static) {
        if let Ok(mut callbacks) = self.callbacks.write() {
            callbacks.push(Arc::new(callback));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emitted_events_are_kept_once_until_taken() {
        take_pending();
        emit(Event::JobsQueued);
        emit(Event::JobsQueued);
        emit(Event::DialogueChanged {
            dialogue_id: "d".into(),
        });
        assert_eq!(take_pending().len(), 2);
        assert!(take_pending().is_empty());
    }

    #[test]
    fn published_events_reach_callbacks_and_receivers() {
        let bus = Bus::default();
        let seen = Arc::new(RwLock::new(Vec::new()));
        let sink = seen.clone();
        bus.on_publish(move |e| sink.write().unwrap().push(e.clone()));
        let mut receiver = bus.subscribe();
        bus.publish(Event::JobsQueued);
        assert_eq!(seen.read().unwrap().as_slice(), &[Event::JobsQueued]);
        assert_eq!(receiver.try_recv().ok(), Some(Event::JobsQueued));
    }

    #[test]
    fn events_serialise_for_other_instances() {
        let json = serde_json::to_string(&Event::DialogueChanged {
            dialogue_id: "x".into(),
        })
        .unwrap();
        assert_eq!(json, r#"{"type":"dialogue_changed","dialogue_id":"x"}"#);
    }
}
