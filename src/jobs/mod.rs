//! Transactional jobs: background work that must survive restarts.
//!
//! A change that needs work done later (today: sending an email) queues a job in the same
//! transaction (`enqueue`, or `email::enqueue_email`), so either both are stored or
//! neither is. A job has a `kind`, which names its handler, and a JSON `payload`. The
//! worker claims due jobs with a lease, runs each with its kind's handler, retries
//! transient failures with backoff, and records each attempt. It also runs the periodic
//! tasks the application registers.
//!
//! This module is infrastructure: it knows no capability. `app.rs` registers the handlers,
//! the hooks told of outcomes, and the periodic tasks.
//!
//! - `store`: the tables — enqueue, claim, release, record, counts, lists.
//! - `worker`: `JobWorker`, `Handler`, `Outcome`, `JobHooks`, `PeriodicTask`.
//! - `email`: the `email` job — `NewEmail`, `enqueue_email`, its handler.

pub mod email;
pub mod store;
pub mod worker;

pub use email::{NewEmail, QueuedEmail, enqueue_email};
pub use store::{Job, NewJob, counts, enqueue};
pub use worker::{Handler, Hook, JobHooks, JobWorker, Outcome, PeriodicRun, PeriodicTask};
