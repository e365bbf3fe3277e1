//! One integration binary: the application as its clients see it. Runs on SQLite, or on
//! PostgreSQL when TEST_DATABASE_URL is set.

// Test code fails loudly on purpose; the unwrap/expect ban is for the service itself.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;
mod smtp;

mod accounts;
mod agencies;
mod architecture;
mod assignments;
mod browser;
mod calendar;
mod cli;
mod concurrency;
mod dialogues;
mod documents;
mod door_browser;
mod door_pages;
mod group_commit;
mod instances;
mod invitations;
mod invitee_import;
mod lists;
mod lists_browser;
mod live;
mod live_browser;
mod mail;
mod minutes;
mod nginx;
mod no_dead_ends_browser;
mod organizer_pages;
mod outbox_crash;
mod pages;
mod participant_pages;
mod question_pages;
mod questions;
mod registrations;
mod schema;
mod security;
mod similar_questions;
mod system;
