//! Dialogues: scheduling, officials, agenda, status, and who may see them.

pub mod api;
pub mod cache;
pub mod input;
pub mod model;
pub mod ops;
pub mod pages;
pub mod store;
pub mod view;
