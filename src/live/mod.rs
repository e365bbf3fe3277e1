//! The day itself: what the projector shows, answers given aloud, commitments, and the live
//! stream (Server-Sent Events) that keeps the projector and the phones up to date.

pub mod api;
pub mod hub;
pub mod model;
pub mod ops;
pub mod pages;
pub mod store;
