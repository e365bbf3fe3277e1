//! The people of a dialogue: who they are, their group, and their personal credentials.

pub mod auth;
pub mod model;
pub mod notify;
pub mod store;
pub mod ticket;
