//! doithoai: planning and running public dialogue conferences (hội nghị đối thoại).
//!
//! Infrastructure modules (config, db, error, auth, i18n, jobs, mail, rest, web, text, audit)
//! know nothing of the capabilities; each capability (accounts, agencies, dialogues, …)
//! lives in its own folder and uses the others only through their `store`/`model`/`ops`.

pub mod app;
pub mod audit;
pub mod auth;
pub mod cache;
pub mod cli;
pub mod collate;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod events;
pub mod headers;
pub mod html;
pub mod i18n;
pub mod jobs;
pub mod json;
pub mod mail;
pub mod pdf;
pub mod ratelimit;
pub mod state;
pub mod text;

pub mod accounts;
pub mod agencies;
pub mod assignments;
pub mod attendance;
pub mod dialogues;
pub mod invitations;
pub mod live;
pub mod minutes;
pub mod participants;
pub mod personal;
pub mod questions;
pub mod registrations;

pub use app::Application;
pub use config::Settings;
