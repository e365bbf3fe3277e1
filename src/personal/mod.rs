//! The participant's own view: `/api/v1/me…` and the personal page reached by the link in
//! the invitation or the short code on the letter. It builds on invitations (the answer)
//! and registrations (the seat and the ticket).

pub mod api;
pub mod ops;
pub mod pages;
