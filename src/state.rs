//! What every handler can reach: the database, the settings, page templates and the
//! outbox's wake-up bell. Built once, outside the `HttpServer::new` closure.

use std::sync::Arc;

use crate::config::Settings;
use crate::db::Db;
use crate::jobs::OutboxBell;
use crate::participants::notify::Mailing;
use crate::ratelimit::LoginLimiter;
use crate::web::Templates;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub templates: Templates,
    pub outbox: OutboxBell,
    pub login_limiter: LoginLimiter,
    /// Counts failed participant credentials (short codes can be guessed, slowly).
    pub code_limiter: LoginLimiter,
    /// Slows down scripted self-registrations from one address.
    pub registration_limiter: LoginLimiter,
}

impl AppState {
    /// What participant emails need, borrowed from the state.
    pub fn mailing(&self) -> Mailing<'_> {
        Mailing {
            templates: &self.templates,
            settings: &self.settings,
        }
    }

    pub fn new(db: Db, settings: Settings) -> Result<AppState, String> {
        Ok(AppState {
            db,
            settings: Arc::new(settings),
            templates: Templates::load()?,
            outbox: OutboxBell::default(),
            login_limiter: LoginLimiter::default(),
            code_limiter: LoginLimiter::default(),
            registration_limiter: LoginLimiter::new(30, std::time::Duration::from_secs(1)),
        })
    }
}
