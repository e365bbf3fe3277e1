//! The question queue: questions submitted before or during a dialogue, moderated by the
//! organizers, voted on by participants. Above participants and dialogues; the answers
//! (assignments/) build on it.

pub mod api;
pub mod model;
pub mod ops;
pub mod pages;
pub mod similar;
pub mod store;
