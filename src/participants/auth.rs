//! A participant's identity: the link token or the short code, as a bearer credential.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};

use super::model::{Credited, Participant, normalize_code};
use super::store;
use crate::auth::secrets;
use crate::db::{Db, DbConnection};
use crate::error::AppError;
use crate::ratelimit::{FailureLimiter, client_ip};
use crate::state::AppState;

/// Counts credentials that match nobody, per address: short codes can be guessed, slowly.
/// Registered by the application as `web::Data<CodeLimiter>`.
#[derive(Clone, Default)]
pub struct CodeLimiter(pub FailureLimiter);

/// The participant behind `credential`, with guessing slowed down: only failures count, so
/// a participant's own phone is never slowed down, and a client that failed too often is
/// refused before its next attempt is looked up.
pub async fn find_limited(
    state: &AppState,
    req: &HttpRequest,
    credential: String,
) -> Result<Option<Participant>, AppError> {
    let limiter = req
        .app_data::<web::Data<CodeLimiter>>()
        .cloned()
        .ok_or_else(|| AppError::unexpected("code limiter missing"))?;
    let ip = client_ip(req, state.settings.trusted_proxy);
    limiter.0.ensure_allowed(ip)?;
    let found = state
        .db
        .read(move |conn| resolve(conn, &credential))
        .await?;
    if found.is_none() {
        limiter.0.record_failure(ip).await?;
    }
    Ok(found)
}

/// Longest credential read as a short code (with its dashes and spaces); anything longer
/// is a link token.
pub const SHORT_CODE_MAX_LEN: usize = 16;

/// What a credential is looked up by.
enum Lookup {
    Code(String),
    TokenHash(String),
    /// Text nobody's credential can be.
    Nothing,
}

fn lookup_of(credential: &str) -> Lookup {
    // Nobody's link or code holds a control character (not even at its ends, where trimming
    // would hide it); such text is never looked up.
    if crate::text::has_control(credential) {
        return Lookup::Nothing;
    }
    let credential = credential.trim();
    if credential.is_empty() {
        return Lookup::Nothing;
    }
    match normalize_code(credential) {
        Some(code) if credential.len() <= SHORT_CODE_MAX_LEN => Lookup::Code(code),
        _ => Lookup::TokenHash(secrets::hash_token(credential)),
    }
}

/// The participant a credential (link token or short code) belongs to.
pub fn resolve(conn: &mut DbConnection, credential: &str) -> Result<Option<Participant>, AppError> {
    let found = match lookup_of(credential) {
        Lookup::Code(code) => store::find_by_code(conn, &code)?,
        Lookup::TokenHash(hash) => store::find_by_token_hash(conn, &hash)?,
        Lookup::Nothing => None,
    };
    Ok(found)
}

/// Who each credential belongs to, in their order, as a write acting for them needs it
/// (`Credited`): on PostgreSQL one query for the codes and one for the links.
pub fn resolve_all(
    conn: &mut DbConnection,
    credentials: &[&str],
) -> Result<Vec<Option<Credited>>, AppError> {
    let lookups: Vec<Lookup> = credentials.iter().map(|c| lookup_of(c)).collect();
    // On SQLite a statement costs microseconds once prepared, and a list of any length is a
    // new statement to prepare each time: one cached lookup per credential is cheaper. On
    // PostgreSQL each statement is a round trip, which the list saves.
    if let DbConnection::Sqlite(_) = conn {
        return lookups
            .iter()
            .map(|lookup| {
                Ok(match lookup {
                    Lookup::Code(code) => store::credited_by_code(conn, code)?,
                    Lookup::TokenHash(hash) => store::credited_by_token_hash(conn, hash)?,
                    Lookup::Nothing => None,
                })
            })
            .collect();
    }
    let (mut codes, mut hashes) = (Vec::new(), Vec::new());
    for lookup in &lookups {
        match lookup {
            Lookup::Code(code) => codes.push(code.as_str()),
            Lookup::TokenHash(hash) => hashes.push(hash.as_str()),
            Lookup::Nothing => {}
        }
    }
    let by_code: HashMap<String, Credited> = store::credited_by_codes(conn, &codes)?
        .into_iter()
        .collect();
    let by_hash: HashMap<String, Credited> = store::credited_by_token_hashes(conn, &hashes)?
        .into_iter()
        .collect();
    Ok(lookups
        .iter()
        .map(|lookup| match lookup {
            Lookup::Code(code) => by_code.get(code).cloned(),
            Lookup::TokenHash(hash) => by_hash.get(hash).cloned(),
            Lookup::Nothing => None,
        })
        .collect())
}

/// The credential as this participant's pages should name it: the stored code when a code
/// was typed (in any case, with any spacing), else the link token as given.
pub fn canonical(credential: &str, participant: &Participant) -> String {
    let credential = credential.trim();
    match normalize_code(credential) {
        Some(_) if credential.len() <= 16 => participant.code.clone(),
        _ => credential.to_string(),
    }
}

/// A participant's bearer credential, checked against the guessing limit but not yet looked
/// up: for hot writes (votes, submissions) that look the participant up inside their own
/// transaction, saving a trip to a reader thread and back per request. `as_str` is what
/// `resolve_all` looks up (`resolve_in` one alone), `counting_failure` counts a credential
/// that matched nobody, as `find_limited` does.
pub struct ParticipantCredential {
    credential: String,
    ip: Option<std::net::IpAddr>,
    limiter: web::Data<CodeLimiter>,
}

impl ParticipantCredential {
    /// The participant, or `Unauthorized`.
    pub fn resolve_in(&self, conn: &mut DbConnection) -> Result<Participant, AppError> {
        resolve(conn, &self.credential)?.ok_or(AppError::Unauthorized)
    }

    /// The credential as given, for `resolve_all`.
    pub fn as_str(&self) -> &str {
        &self.credential
    }

    /// `resolve_in` on a reader thread, for a write that does not look the participant up
    /// itself (on PostgreSQL, or before a write that needs the participant first).
    pub async fn resolve_on_reader(self: &Arc<Self>, db: &Db) -> Result<Participant, AppError> {
        let credential = self.clone();
        db.read(move |conn| credential.resolve_in(conn)).await
    }

    /// Awaits the work done with this credential; an `Unauthorized` answer (nobody has the
    /// credential) counts towards the guessing limit, and may become `rate_limited`.
    pub async fn counting_failure<T>(
        &self,
        work: impl std::future::Future<Output = Result<T, AppError>>,
    ) -> Result<T, AppError> {
        let outcome = work.await;
        if matches!(outcome, Err(AppError::Unauthorized)) {
            self.limiter.0.record_failure(self.ip).await?;
        }
        outcome
    }
}

impl FromRequest for ParticipantCredential {
    type Error = AppError;
    type Future = std::future::Ready<Result<ParticipantCredential, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready((|| {
            let credential = crate::auth::bearer(req).ok_or(AppError::Unauthorized)?;
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| AppError::unexpected("application state missing"))?;
            let limiter = req
                .app_data::<web::Data<CodeLimiter>>()
                .cloned()
                .ok_or_else(|| AppError::unexpected("code limiter missing"))?;
            let ip = client_ip(req, state.settings.trusted_proxy);
            limiter.0.ensure_allowed(ip)?;
            Ok(ParticipantCredential {
                credential,
                ip,
                limiter,
            })
        })())
    }
}

/// A participant signed in by `Authorization: Bearer <link token or code>`.
pub struct ParticipantAuth(pub Participant);

impl FromRequest for ParticipantAuth {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<ParticipantAuth, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let credential = crate::auth::bearer(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let req = req.clone();
        Box::pin(async move {
            let credential = credential.ok_or(AppError::Unauthorized)?;
            let state = state.ok_or_else(|| AppError::unexpected("application state missing"))?;
            find_limited(&state, &req, credential)
                .await?
                .map(ParticipantAuth)
                .ok_or(AppError::Unauthorized)
        })
    }
}
