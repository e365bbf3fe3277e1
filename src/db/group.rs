//! Group commit: many small writes, one transaction, one commit.
//!
//! A commit costs a disk flush (SQLite's WAL sync, PostgreSQL's WAL flush), and on SQLite
//! only one writer runs at a time. When thousands of people submit questions or vote within
//! a minute, each request committing alone makes the flushes the queue everyone waits in.
//! Here one thread takes whatever writes have queued (up to `MAX_BATCH`), runs each in its
//! own savepoint inside one transaction, commits once, and only then answers each request:
//! an answer still means "stored". A write that fails rolls back to its savepoint and fails
//! alone; a commit that fails fails every write of the batch. A write checked first skips
//! the savepoint: its checks refuse before it changes anything, and a failure once it has
//! changed something fails the batch (`Work::CheckedFirst`). Writes of one kind that
//! queue one after another can also be written together (`Work::Batched`, see
//! `BatchedWrite`): one lookup, one check and one insert for all of them, where each
//! would otherwise run its own statements.
//!
//! With one request at a time the batch holds one write, as before. The thread holds no
//! handle that keeps the database open: when the last `Db` is dropped the channel closes
//! and the thread ends.

use std::any::{Any, TypeId};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, RwLock};

use diesel::Connection;
use tokio::sync::oneshot;

use super::{DbConnection, Listener, Writer, notify, run_listeners};
use crate::error::AppError;
use crate::events::{self, Bus, Event};

/// The most writes one transaction takes. Enough to absorb a burst; small enough that the
/// first write of a batch does not wait long for the last.
pub const MAX_BATCH: usize = 256;

type Value = Box<dyn Any + Send>;
type Writes = Box<dyn FnOnce(&mut DbConnection) -> Result<Value, AppError>>;
type Guarded = Box<dyn FnOnce(&mut DbConnection) -> Result<Value, AppError> + Send>;
type Checks = Box<dyn FnOnce(&mut DbConnection) -> Result<Writes, AppError> + Send>;
type Answers = Vec<Result<Value, AppError>>;
/// A write's value and the events it emitted, to publish after the commit.
type Published = Result<(Value, Vec<Event>), AppError>;
type WriteAll = fn(&mut DbConnection, Vec<Value>) -> Result<Answers, AppError>;

/// A write that many requests make at about the same time, written for all those queued
/// together: `write_all` gets them in the order they came, in one transaction, and answers
/// each. As with `Db::write_grouped_checked_first`, an item it refuses must have changed
/// nothing, and an error for the whole (`Err`) fails the whole batch, so nothing of it is
/// kept: the checks come first, then the writes. The answers are published only after the
/// commit.
pub trait BatchedWrite: 'static {
    type Item: Send + 'static;
    type Output: Send + 'static;

    /// One answer per item, in the items' order.
    fn write_all(
        conn: &mut DbConnection,
        items: Vec<Self::Item>,
    ) -> Result<Vec<Result<Self::Output, AppError>>, AppError>;
}

/// A grouped write, and how it is kept apart from the others of its batch.
enum Work {
    /// In a savepoint of its own: its failure rolls back only its changes.
    Guarded(Guarded),
    /// Without a savepoint, in two steps (see `Db::write_grouped_checked_first`): checks that
    /// change nothing, so a refusal has written nothing; then the writes, whose failure fails
    /// the whole batch, since nothing smaller can be undone.
    CheckedFirst(Checks),
    /// One item of a `BatchedWrite`, written with the items of the same kind queued right
    /// before and after it.
    Batched {
        kind: TypeId,
        item: Value,
        write_all: WriteAll,
    },
}

struct Job {
    work: Work,
    reply: oneshot::Sender<Result<Value, AppError>>,
    span: tracing::Span,
}

/// What the committing thread needs; nothing in it refers back to the sender.
#[derive(Clone)]
pub(super) struct Committed {
    pub writer: Writer,
    pub listeners: Arc<RwLock<Vec<Listener>>>,
    pub bus: Bus,
    pub instance: Arc<str>,
}

/// The entrance to the committing thread, started on first use.
#[derive(Clone, Default)]
pub(super) struct GroupCommit {
    sender: Arc<Mutex<Option<Sender<Job>>>>,
}

impl GroupCommit {
    /// Queues `work`, in a savepoint of its own, and waits until the transaction that ran
    /// it has committed.
    pub async fn write_guarded<T, F>(&self, committed: &Committed, work: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let work = Work::Guarded(Box::new(move |conn| work(conn).map(boxed)));
        self.write(committed, work).await
    }

    /// Queues `check`, then the writes it hands back, without a savepoint; waits for the
    /// commit as `write_guarded`.
    pub async fn write_checked_first<T, C, W>(
        &self,
        committed: &Committed,
        check: C,
    ) -> Result<T, AppError>
    where
        C: FnOnce(&mut DbConnection) -> Result<W, AppError> + Send + 'static,
        W: FnOnce(&mut DbConnection) -> Result<T, AppError> + 'static,
        T: Send + 'static,
    {
        let work = Work::CheckedFirst(Box::new(move |conn| {
            let writes = check(conn)?;
            Ok(Box::new(move |conn: &mut DbConnection| writes(conn).map(boxed)) as Writes)
        }));
        self.write(committed, work).await
    }

    /// Queues `item` of the batched write `B`; waits for the commit as `write_guarded`.
    pub async fn write_batched<B: BatchedWrite>(
        &self,
        committed: &Committed,
        item: B::Item,
    ) -> Result<B::Output, AppError> {
        let work = Work::Batched {
            kind: TypeId::of::<B>(),
            item: Box::new(item),
            write_all: write_all_of::<B>,
        };
        self.write(committed, work).await
    }

    async fn write<T: Send + 'static>(
        &self,
        committed: &Committed,
        work: Work,
    ) -> Result<T, AppError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            work,
            reply,
            span: tracing::Span::current(),
        };
        self.send(committed, job)?;
        let value = answer
            .await
            .map_err(|_| AppError::unexpected("a grouped write got no answer"))??;
        value
            .downcast::<T>()
            .map(|boxed| *boxed)
            .map_err(|_| AppError::unexpected("a grouped write answered with another type"))
    }

    fn send(&self, committed: &Committed, job: Job) -> Result<(), AppError> {
        let mut slot = self
            .sender
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let job = match slot.as_ref() {
            Some(sender) => match sender.send(job) {
                Ok(()) => return Ok(()),
                // The thread has ended (it should not): start another one below.
                Err(returned) => returned.0,
            },
            None => job,
        };
        let (sender, receiver) = channel();
        let committed = committed.clone();
        std::thread::Builder::new()
            .name("group-commit".into())
            .spawn(move || commit_in_batches(committed, receiver))
            .map_err(|e| AppError::unexpected(format!("cannot start the group commit: {e}")))?;
        sender
            .send(job)
            .map_err(|_| AppError::unexpected("the group commit stopped at once"))?;
        *slot = Some(sender);
        Ok(())
    }
}

/// Takes whatever is waiting (at least one write), commits it, answers each; until every
/// sender is gone.
fn commit_in_batches(committed: Committed, jobs: Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        // A panicking write drops its batch's replies (each caller gets an error) but must
        // not end the thread everyone else depends on.
        let outcome = catch_unwind(AssertUnwindSafe(|| commit_batch(&committed, batch)));
        if outcome.is_err() {
            tracing::error!("a grouped write panicked; its batch was not stored");
            events::take_pending();
        }
    }
}

fn commit_batch(committed: &Committed, batch: Vec<Job>) {
    let mut replies = Vec::with_capacity(batch.len());
    let mut works = Vec::with_capacity(batch.len());
    for job in batch {
        replies.push(job.reply);
        works.push((job.work, job.span));
    }
    let mut writer = match committed.writer.get() {
        Ok(conn) => conn,
        Err(e) => {
            let error = AppError::from_pool(e);
            for reply in replies {
                reply.send(Err(error.clone())).ok();
            }
            return;
        }
    };
    let conn: &mut DbConnection = &mut writer;
    events::take_pending();
    let outcome = conn.transaction(|conn| {
        let mut answers = Vec::with_capacity(works.len());
        let mut works = works.into_iter().peekable();
        while let Some((work, span)) = works.next() {
            let _entered = span.enter();
            match work {
                // In the savepoint: a write that fails takes its notification with it.
                Work::Guarded(work) => {
                    let answer = conn.transaction(|conn| {
                        let value = work(conn)?;
                        with_events(committed, conn, value)
                    });
                    answers.push(forget_events_if_failed(answer));
                }
                // A refusal by the checks has changed nothing. Once the writes have begun,
                // only the whole batch can be undone: their failure, or one after them (a
                // listener, the notification), fails the batch.
                Work::CheckedFirst(check) => {
                    let answer = match check(conn) {
                        Ok(writes) => {
                            let value = writes(conn)?;
                            Ok(with_events(committed, conn, value)?)
                        }
                        Err(refused) => Err(refused),
                    };
                    answers.push(forget_events_if_failed(answer));
                }
                Work::Batched {
                    kind,
                    item,
                    write_all,
                } => {
                    let mut items = vec![item];
                    while let Some((Work::Batched { kind: next, .. }, _)) = works.peek()
                        && *next == kind
                    {
                        if let Some((Work::Batched { item, .. }, _)) = works.next() {
                            items.push(item);
                        }
                    }
                    answers.extend(write_together(committed, conn, write_all, items)?);
                }
            }
        }
        Ok::<_, AppError>(answers)
    });
    match outcome {
        Ok(answers) => {
            for (reply, answer) in replies.into_iter().zip(answers) {
                reply
                    .send(answer.map(|value| publish(&committed.bus, value)))
                    .ok();
            }
        }
        Err(error) => {
            events::take_pending();
            for reply in replies {
                reply.send(Err(error.clone())).ok();
            }
        }
    }
}

/// Runs one run of batched items; the events they emitted go out with the first answer
/// that succeeded (all of them are published after the commit, whichever carries them).
fn write_together(
    committed: &Committed,
    conn: &mut DbConnection,
    write_all: WriteAll,
    items: Vec<Value>,
) -> Result<Vec<Published>, AppError> {
    let count = items.len();
    let answers = write_all(conn, items)?;
    if answers.len() != count {
        return Err(AppError::unexpected(format!(
            "a batched write answered {} of {count} items",
            answers.len()
        )));
    }
    let mut emitted = Some(run_listeners(&committed.listeners, conn)?);
    if let Some(events) = &emitted {
        notify::send(conn, &committed.instance, events)?;
    }
    Ok(answers
        .into_iter()
        .map(|answer| {
            let value = answer?;
            Ok((value, emitted.take().unwrap_or_default()))
        })
        .collect())
}

/// Items of one `BatchedWrite` out of their boxes, and their answers into them.
fn write_all_of<B: BatchedWrite>(
    conn: &mut DbConnection,
    items: Vec<Value>,
) -> Result<Answers, AppError> {
    let items = items
        .into_iter()
        .map(|item| item.downcast::<B::Item>().map(|item| *item))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| AppError::unexpected("a batched write got an item of another kind"))?;
    Ok(B::write_all(conn, items)?
        .into_iter()
        .map(|answer| answer.map(boxed))
        .collect())
}

/// A failed write's events are not published: they go with its changes.
fn forget_events_if_failed<T>(answer: Result<T, AppError>) -> Result<T, AppError> {
    if answer.is_err() {
        events::take_pending();
    }
    answer
}

fn boxed<T: Send + 'static>(value: T) -> Value {
    Box::new(value)
}

/// Runs the listeners for the events a write emitted and sends them to other instances.
fn with_events(
    committed: &Committed,
    conn: &mut DbConnection,
    value: Value,
) -> Result<(Value, Vec<Event>), AppError> {
    let emitted = run_listeners(&committed.listeners, conn)?;
    notify::send(conn, &committed.instance, &emitted)?;
    Ok((value, emitted))
}

/// Publishes a committed write's events and hands back its value.
fn publish(bus: &Bus, (value, emitted): (Value, Vec<Event>)) -> Value {
    for event in emitted {
        bus.publish(event);
    }
    value
}
