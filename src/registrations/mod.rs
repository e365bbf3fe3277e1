//! Registration: seats and the waitlist, tickets, check-in at the door, attendance.

pub mod api;
pub mod model;
pub mod ops;
pub mod pages;
pub mod queue;
pub mod store;
pub mod ticket;
