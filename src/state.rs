//! What every handler can reach: the database (with its event bus), the settings, page
//! templates and the login limiter. Built once, outside the `HttpServer::new` closure.
//! Knows no capability: a capability's own shared state (its limiters, its cache) is
//! registered by the application as `web::Data` of its own type.

use std::sync::Arc;

use crate::config::Settings;
use crate::db::Db;
use crate::html::templates::Templates;
use crate::ratelimit::FailureLimiter;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub templates: Templates,
    /// Failed logins per address (only failures count: a colleague behind the same NAT who
    /// types the right password is never refused).
    pub login_limiter: FailureLimiter,
}

impl AppState {
    pub fn new(db: Db, settings: Settings) -> Result<AppState, String> {
        Ok(AppState {
            login_limiter: FailureLimiter::new(&db, "login"),
            db,
            settings: Arc::new(settings),
            templates: Templates::load()?,
        })
    }
}
