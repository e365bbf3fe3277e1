//! What every handler can reach: the database, the settings, page templates and the
//! outbox's wake-up bell. Built once, outside the `HttpServer::new` closure.

use std::sync::Arc;

use crate::config::Settings;
use crate::db::Db;
use crate::db::DbConnection;
use crate::error::AppError;
use crate::jobs::OutboxBell;
use crate::participants::notify::Mailing;
use crate::ratelimit::{FailureLimiter, LoginLimiter};
use crate::html::Templates;

/// Work another capability does after a dialogue is edited (e.g. give freed seats to the
/// waitlist when capacity grows), registered by the application so that dialogues need
/// not know about registrations.
pub type DialogueHook =
    Arc<dyn Fn(&mut DbConnection, Mailing<'_>, &str) -> Result<(), AppError> + Send + Sync>;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub templates: Templates,
    pub outbox: OutboxBell,
    pub login_limiter: LoginLimiter,
    /// Counts failed participant credentials (short codes can be guessed, slowly).
    pub code_limiter: FailureLimiter,
    /// Slows down scripted self-registrations from one address.
    pub registration_limiter: LoginLimiter,
    pub dialogue_edited: Option<DialogueHook>,
}

impl AppState {
    /// Runs the after-edit hook, inside the edit's transaction.
    pub fn after_dialogue_edit(
        &self,
        conn: &mut DbConnection,
        dialogue_id: &str,
    ) -> Result<(), AppError> {
        match &self.dialogue_edited {
            Some(hook) => hook(conn, self.mailing(), dialogue_id),
            None => Ok(()),
        }
    }

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
            code_limiter: FailureLimiter::default(),
            registration_limiter: LoginLimiter::new(30, std::time::Duration::from_secs(1)),
            dialogue_edited: None,
        })
    }
}
