//! Settings: defaults → optional TOML file → environment.
//!
//! The environment names are a contract with operators (see docs/DEPLOYMENT.md):
//! `DATABASE_URL` and `DOITHOAI_*`. A bad value stops start-up with one line that
//! names the setting, so `validate` turns every raw string into a typed value here,
//! before anything else starts.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::db::Backend;

/// The raw settings as read from files and the environment.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RawSettings {
    pub database_url: String,
    pub bind: String,
    pub base_url: Option<String>,
    pub smtp_url: Option<String>,
    /// A PEM file of extra root certificates for the SMTP server's TLS (a private CA).
    pub smtp_ca_file: Option<String>,
    pub mail_dir: String,
    pub mail_from: String,
    /// The name emails are sent under: the host unit ("UBND huyện Bến Lức"). Empty: the
    /// name in `mail_from`.
    pub sender_name: String,
    /// The organizers' phone number, shown as the contact on public and personal pages and
    /// in every participant email. Empty: only the host unit is shown.
    pub contact_phone: String,
    pub log: String,
    /// Hours a staff login stays valid.
    pub session_hours: i64,
    /// Seconds a job worker holds a claimed job (an email) before another may take it.
    pub outbox_lease_seconds: i64,
    /// Seconds before the first retry of a job (an email) that failed for now (doubling after).
    pub outbox_retry_seconds: i64,
    /// Hours before a dialogue starts when reminders go to those who accepted.
    pub reminder_hours: i64,
    /// Largest number of database connections (readers; SQLite keeps one writer).
    pub db_pool_size: u32,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// The reverse proxy's address, whose X-Forwarded-For is trusted for rate limits.
    pub trusted_proxy: Option<String>,
    /// Self-registrations a minute from one address (a district hall is often one address).
    pub registrations_per_address_per_minute: u32,
    /// Self-registrations a minute for one dialogue, from all addresses together.
    pub registrations_per_dialogue_per_minute: u32,
    /// Self-registrations a minute for the whole service.
    pub registrations_per_minute: u32,
    /// The longest waitlist a dialogue keeps; past it, registering is refused.
    pub waitlist_limit: i64,
    /// Questions without a credential a minute from one address (a hall is often one address).
    pub questions_per_address_per_minute: u32,
    /// Questions without a credential a minute for one dialogue, from all addresses together.
    pub questions_per_dialogue_per_minute: u32,
    /// Live stream clients one instance serves at once; past it new ones get 503.
    pub live_max_clients: u32,
}

impl Default for RawSettings {
    fn default() -> Self {
        RawSettings {
            database_url: "sqlite://doithoai.db".into(),
            bind: "127.0.0.1:8080".into(),
            base_url: None,
            smtp_url: None,
            smtp_ca_file: None,
            mail_dir: "./outbox".into(),
            mail_from: "doithoai <no-reply@localhost>".into(),
            sender_name: String::new(),
            contact_phone: String::new(),
            log: "info".into(),
            session_hours: 12,
            outbox_lease_seconds: 120,
            outbox_retry_seconds: 30,
            reminder_hours: 24,
            db_pool_size: 8,
            workers: 0,
            trusted_proxy: None,
            registrations_per_address_per_minute: 20,
            registrations_per_dialogue_per_minute: 120,
            registrations_per_minute: 600,
            waitlist_limit: 200,
            questions_per_address_per_minute: 20,
            questions_per_dialogue_per_minute: 120,
            live_max_clients: 10_000,
        }
    }
}

/// Validated settings: every value here is usable as it is.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    pub backend: Backend,
    pub bind: SocketAddr,
    pub base_url: url::Url,
    /// False when the base URL was derived from the bind address (and may need the real port).
    pub base_url_explicit: bool,
    pub smtp_url: Option<String>,
    /// Extra trusted root certificates (PEM) for SMTP over TLS.
    pub smtp_ca_pem: Option<Vec<u8>>,
    pub mail_dir: PathBuf,
    pub mail_from: lettre::message::Mailbox,
    /// The organizers' phone number for participants, if set.
    pub contact_phone: Option<String>,
    pub log: String,
    pub session_lifetime: chrono::Duration,
    pub outbox_lease: Duration,
    pub outbox_retry: Duration,
    pub reminder_lead: chrono::Duration,
    pub db_pool_size: u32,
    pub workers: usize,
    pub trusted_proxy: Option<std::net::IpAddr>,
    pub registrations_per_address_per_minute: u32,
    pub registrations_per_dialogue_per_minute: u32,
    pub registrations_per_minute: u32,
    pub waitlist_limit: i64,
    pub questions_per_address_per_minute: u32,
    pub questions_per_dialogue_per_minute: u32,
    pub live_max_clients: u32,
    /// Whether the job worker runs inside `serve` (tests turn it off to drain by hand).
    pub run_job_worker: bool,
}

/// A setting that could not be used; its `Display` is the one line printed at start-up.
#[derive(Debug, thiserror::Error)]
#[error("invalid setting {name}: {reason}")]
pub struct SettingError {
    pub name: &'static str,
    pub reason: String,
}

fn bad(name: &'static str, reason: impl std::fmt::Display) -> SettingError {
    SettingError {
        name,
        reason: reason.to_string(),
    }
}

impl RawSettings {
    /// Reads defaults, then `doithoai.toml` (or the file named by `DOITHOAI_CONFIG`), then the environment.
    pub fn load() -> Result<RawSettings, SettingError> {
        let file = std::env::var("DOITHOAI_CONFIG").unwrap_or_else(|_| "doithoai.toml".into());
        Figment::from(Serialized::defaults(RawSettings::default()))
            .merge(Toml::file(&file))
            .merge(Env::prefixed("DOITHOAI_").ignore(&["CONFIG"]))
            .merge(Env::raw().only(&["DATABASE_URL"]))
            .extract()
            .map_err(|e| {
                let name = e
                    .path
                    .first()
                    .map(|key| env_name(key))
                    .unwrap_or("DOITHOAI_CONFIG");
                bad(name, e.kind)
            })
    }

    pub fn validate(self) -> Result<Settings, SettingError> {
        let backend = Backend::from_url(&self.database_url).map_err(|e| bad("DATABASE_URL", e))?;
        let bind: SocketAddr = self.bind.parse().map_err(|_| {
            bad(
                "DOITHOAI_BIND",
                format!("{:?} is not an address like 127.0.0.1:8080", self.bind),
            )
        })?;
        let base_url_text = self
            .base_url
            .clone()
            .unwrap_or_else(|| format!("http://{bind}"));
        let base_url = url::Url::parse(&base_url_text)
            .map_err(|e| bad("DOITHOAI_BASE_URL", format!("{base_url_text:?}: {e}")))?;
        if !matches!(base_url.scheme(), "http" | "https") {
            return Err(bad(
                "DOITHOAI_BASE_URL",
                "must start with http:// or https://",
            ));
        }
        let smtp_url = self.smtp_url.clone().filter(|s| !s.trim().is_empty());
        if let Some(smtp) = &smtp_url {
            check_smtp_url(smtp).map_err(|e| bad("DOITHOAI_SMTP_URL", e))?;
        }
        let smtp_ca_pem = match self.smtp_ca_file.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(path) => {
                let pem = std::fs::read(path).map_err(|e| {
                    bad(
                        "DOITHOAI_SMTP_CA_FILE",
                        format!("cannot read {path:?}: {e}"),
                    )
                })?;
                lettre::transport::smtp::client::Certificate::from_pem(&pem).map_err(|e| {
                    bad(
                        "DOITHOAI_SMTP_CA_FILE",
                        format!("{path:?} is not a PEM certificate: {e}"),
                    )
                })?;
                Some(pem)
            }
        };
        let mut mail_from: lettre::message::Mailbox = self
            .mail_from
            .parse()
            .map_err(|e| bad("DOITHOAI_MAIL_FROM", format!("{:?}: {e}", self.mail_from)))?;
        let sender_name = self.sender_name.trim();
        if sender_name.chars().any(char::is_control) || sender_name.chars().count() > 200 {
            return Err(bad(
                "DOITHOAI_SENDER_NAME",
                "must be one line of at most 200 characters",
            ));
        }
        if !sender_name.is_empty() {
            mail_from.name = Some(sender_name.to_string());
        }
        let contact_phone = self.contact_phone.trim();
        if contact_phone.chars().any(char::is_control) || contact_phone.chars().count() > 40 {
            return Err(bad(
                "DOITHOAI_CONTACT_PHONE",
                "must be one line of at most 40 characters",
            ));
        }
        let contact_phone = (!contact_phone.is_empty()).then(|| contact_phone.to_string());
        tracing_subscriber::EnvFilter::try_new(&self.log).map_err(|e| bad("DOITHOAI_LOG", e))?;
        if !(1..=24 * 30).contains(&self.session_hours) {
            return Err(bad("DOITHOAI_SESSION_HOURS", "must be between 1 and 720"));
        }
        if !(5..=3600).contains(&self.outbox_lease_seconds) {
            return Err(bad(
                "DOITHOAI_OUTBOX_LEASE_SECONDS",
                "must be between 5 and 3600",
            ));
        }
        if !(1..=3600).contains(&self.outbox_retry_seconds) {
            return Err(bad(
                "DOITHOAI_OUTBOX_RETRY_SECONDS",
                "must be between 1 and 3600",
            ));
        }
        if !(1..=24 * 14).contains(&self.reminder_hours) {
            return Err(bad("DOITHOAI_REMINDER_HOURS", "must be between 1 and 336"));
        }
        if self.workers > 64 {
            return Err(bad(
                "DOITHOAI_WORKERS",
                "must be between 0 (one per core) and 64",
            ));
        }
        if !(1..=200).contains(&self.db_pool_size) {
            return Err(bad("DOITHOAI_DB_POOL_SIZE", "must be between 1 and 200"));
        }
        for (value, name) in [
            (
                self.registrations_per_address_per_minute,
                "DOITHOAI_REGISTRATIONS_PER_ADDRESS_PER_MINUTE",
            ),
            (
                self.registrations_per_dialogue_per_minute,
                "DOITHOAI_REGISTRATIONS_PER_DIALOGUE_PER_MINUTE",
            ),
            (
                self.registrations_per_minute,
                "DOITHOAI_REGISTRATIONS_PER_MINUTE",
            ),
            (
                self.questions_per_address_per_minute,
                "DOITHOAI_QUESTIONS_PER_ADDRESS_PER_MINUTE",
            ),
            (
                self.questions_per_dialogue_per_minute,
                "DOITHOAI_QUESTIONS_PER_DIALOGUE_PER_MINUTE",
            ),
            (self.live_max_clients, "DOITHOAI_LIVE_MAX_CLIENTS"),
        ] {
            if !(1..=1_000_000).contains(&value) {
                return Err(bad(name, "must be between 1 and 1000000"));
            }
        }
        if !(0..=100_000).contains(&self.waitlist_limit) {
            return Err(bad(
                "DOITHOAI_WAITLIST_LIMIT",
                "must be between 0 (no waitlist) and 100000",
            ));
        }
        let trusted_proxy = match self.trusted_proxy.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(ip) => Some(ip.parse().map_err(|_| {
                bad(
                    "DOITHOAI_TRUSTED_PROXY",
                    format!("{ip:?} is not an IP address"),
                )
            })?),
        };
        Ok(Settings {
            database_url: self.database_url,
            backend,
            bind,
            base_url,
            base_url_explicit: self.base_url.is_some(),
            smtp_url,
            smtp_ca_pem,
            mail_dir: PathBuf::from(self.mail_dir),
            mail_from,
            contact_phone,
            log: self.log,
            session_lifetime: chrono::Duration::hours(self.session_hours),
            outbox_lease: Duration::from_secs(self.outbox_lease_seconds.unsigned_abs()),
            outbox_retry: Duration::from_secs(self.outbox_retry_seconds.unsigned_abs()),
            reminder_lead: chrono::Duration::hours(self.reminder_hours),
            db_pool_size: self.db_pool_size,
            workers: self.workers,
            trusted_proxy,
            registrations_per_address_per_minute: self.registrations_per_address_per_minute,
            registrations_per_dialogue_per_minute: self.registrations_per_dialogue_per_minute,
            registrations_per_minute: self.registrations_per_minute,
            waitlist_limit: self.waitlist_limit,
            questions_per_address_per_minute: self.questions_per_address_per_minute,
            questions_per_dialogue_per_minute: self.questions_per_dialogue_per_minute,
            live_max_clients: self.live_max_clients,
            run_job_worker: true,
        })
    }
}

/// Checks an SMTP URL the way the mailer will read it.
fn check_smtp_url(url: &str) -> Result<(), String> {
    lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url)
        .map(|_| ())
        .map_err(|e| {
            format!(
                "{url:?} is not an SMTP URL like smtp://host:25 or smtps://user:pass@host:465 ({e})"
            )
        })
}

/// The environment variable an operator sets for a settings key.
fn env_name(key: &str) -> &'static str {
    match key {
        "database_url" => "DATABASE_URL",
        "bind" => "DOITHOAI_BIND",
        "base_url" => "DOITHOAI_BASE_URL",
        "smtp_url" => "DOITHOAI_SMTP_URL",
        "mail_dir" => "DOITHOAI_MAIL_DIR",
        "smtp_ca_file" => "DOITHOAI_SMTP_CA_FILE",
        "mail_from" => "DOITHOAI_MAIL_FROM",
        "sender_name" => "DOITHOAI_SENDER_NAME",
        "contact_phone" => "DOITHOAI_CONTACT_PHONE",
        "log" => "DOITHOAI_LOG",
        "session_hours" => "DOITHOAI_SESSION_HOURS",
        "outbox_lease_seconds" => "DOITHOAI_OUTBOX_LEASE_SECONDS",
        "outbox_retry_seconds" => "DOITHOAI_OUTBOX_RETRY_SECONDS",
        "reminder_hours" => "DOITHOAI_REMINDER_HOURS",
        "db_pool_size" => "DOITHOAI_DB_POOL_SIZE",
        "workers" => "DOITHOAI_WORKERS",
        "trusted_proxy" => "DOITHOAI_TRUSTED_PROXY",
        "registrations_per_address_per_minute" => "DOITHOAI_REGISTRATIONS_PER_ADDRESS_PER_MINUTE",
        "registrations_per_dialogue_per_minute" => "DOITHOAI_REGISTRATIONS_PER_DIALOGUE_PER_MINUTE",
        "registrations_per_minute" => "DOITHOAI_REGISTRATIONS_PER_MINUTE",
        "waitlist_limit" => "DOITHOAI_WAITLIST_LIMIT",
        "questions_per_address_per_minute" => "DOITHOAI_QUESTIONS_PER_ADDRESS_PER_MINUTE",
        "questions_per_dialogue_per_minute" => "DOITHOAI_QUESTIONS_PER_DIALOGUE_PER_MINUTE",
        "live_max_clients" => "DOITHOAI_LIVE_MAX_CLIENTS",
        _ => "DOITHOAI_CONFIG",
    }
}

impl Settings {
    /// Settings for tests and tools: everything default except the database.
    pub fn for_database(database_url: &str) -> Result<Settings, SettingError> {
        RawSettings {
            database_url: database_url.to_string(),
            bind: "127.0.0.1:0".into(),
            ..RawSettings::default()
        }
        .validate()
    }

    /// The public address of a path, for links in emails, letters and QR codes.
    pub fn link(&self, path: &str) -> String {
        let base = self.base_url.as_str().trim_end_matches('/');
        format!("{base}{path}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_use_sqlite_in_the_working_directory() {
        let settings = RawSettings::default().validate().unwrap();
        assert_eq!(settings.backend, Backend::Sqlite);
        assert_eq!(settings.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(settings.base_url.as_str(), "http://127.0.0.1:8080/");
        assert!(settings.smtp_url.is_none());
    }

    #[test]
    fn a_bad_bind_address_names_the_setting() {
        let raw = RawSettings {
            bind: "nowhere".into(),
            ..RawSettings::default()
        };
        let err = raw.validate().unwrap_err();
        assert_eq!(err.name, "DOITHOAI_BIND");
        assert!(
            err.to_string()
                .starts_with("invalid setting DOITHOAI_BIND:")
        );
    }

    #[test]
    fn an_unknown_database_scheme_names_database_url() {
        let raw = RawSettings {
            database_url: "mysql://localhost/x".into(),
            ..RawSettings::default()
        };
        assert_eq!(raw.validate().unwrap_err().name, "DATABASE_URL");
    }

    #[test]
    fn a_bad_smtp_url_names_the_setting() {
        let raw = RawSettings {
            smtp_url: Some("carrier-pigeon://x".into()),
            ..RawSettings::default()
        };
        assert_eq!(raw.validate().unwrap_err().name, "DOITHOAI_SMTP_URL");
    }
}
