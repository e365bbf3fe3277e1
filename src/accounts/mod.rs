//! Staff accounts: login and logout, the current user, and accounts created by an admin.

pub mod api;
pub mod ops;
pub mod pages;
