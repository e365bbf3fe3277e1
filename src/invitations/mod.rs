//! Invitations: invitees from CSV or JSON, the invitation email with its calendar event,
//! RSVP, reminders, and the participant's own view (`/api/v1/me`).

pub mod api;
pub mod csv_import;
pub mod ics;
pub mod letters;
pub mod model;
pub mod ops;
pub mod pages;
pub mod store;
