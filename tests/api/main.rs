//! One integration binary: the application as its clients see it. Runs on SQLite, or on
//! PostgreSQL when TEST_DATABASE_URL is set.

mod helpers;

mod accounts;
mod agencies;
mod browser;
mod cli;
mod dialogues;
mod pages;
mod schema;
mod system;
