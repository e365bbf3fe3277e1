//! Background work that must survive restarts: the transactional email outbox.

pub mod outbox;

pub use outbox::{NewEmail, OutboxHooks, OutboxWorker};
