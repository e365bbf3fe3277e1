//! Attendance counts for organizers: invitations and registrations in one report.

pub mod api;
pub mod ops;
pub mod pages;
pub mod sheet;
