//! The directory of agencies and businesses that answer questions.

pub mod api;
pub mod model;
pub mod pages;
pub mod store;
