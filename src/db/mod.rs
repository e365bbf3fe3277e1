//! Storage: one connection type over SQLite and PostgreSQL, pools, migrations,
//! and the helper every query goes through so actix workers never block.

mod group;
pub mod schema;
pub mod types;

pub use group::MAX_BATCH as GROUP_COMMIT_MAX;

pub use types::{
    AgencyId, AssignmentId, DialogueId, InvitationId, ParticipantId, QuestionId, RegistrationId,
    UserId,
};

use std::sync::{Arc, RwLock};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ManageConnection, Pool, R2D2Connection};
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::AppError;
use crate::events::{self, Bus, Event};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Set on every SQLite connection: WAL lets readers run beside the writer, and the
/// busy timeout makes a second process (the CLI beside the server) wait instead of failing.
/// The busy timeout comes first: switching to WAL itself needs a lock that another process
/// (the CLI, a restarting server) may hold for a moment.
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
     PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;";

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Picks the backend from the URL's scheme, so that a bad URL gets a real error
    /// instead of diesel's "Invalid connection url for multiconnection".
    pub fn from_url(url: &str) -> Result<Backend, String> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                Err("sqlite:// needs a file path, e.g. sqlite://doithoai.db".into())
            } else {
                Ok(Backend::Sqlite)
            }
        } else {
            Err(format!(
                "{:?} should start with sqlite:// or postgres://",
                url.split(':').next().unwrap_or_default()
            ))
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Opens one connection and prepares it for use.
pub fn connect(url: &str) -> Result<DbConnection, diesel::ConnectionError> {
    match Backend::from_url(url).map_err(diesel::ConnectionError::InvalidConnectionUrl)? {
        Backend::Postgres => Ok(DbConnection::Postgresql(PgConnection::establish(url)?)),
        Backend::Sqlite => {
            let path = url.trim_start_matches("sqlite://");
            let mut conn = SqliteConnection::establish(path)?;
            conn.batch_execute(SQLITE_PRAGMAS)
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
            Ok(DbConnection::Sqlite(conn))
        }
    }
}

pub struct ConnectionManager {
    url: String,
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        connect(&self.url).map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

/// Applies pending migrations for the connection's backend.
pub fn run_migrations(conn: &mut DbConnection) -> Result<usize, String> {
    let applied = match conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
        DbConnection::Postgresql(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
    };
    applied.map(|list| list.len()).map_err(|e| e.to_string())
}

/// The database handle shared by handlers and workers.
///
/// SQLite allows one writer at a time; several writer connections only sleep in its busy
/// handler and make the slowest requests slower (measured: p99 of 57 ms with 8, see docs/ARCHITECTURE.md).
/// So on SQLite every write goes through a pool of one connection, and reads use their own
/// pool. On PostgreSQL both are the same pool.
///
/// Every write also carries the events it emitted (`events::emit`): the in-transaction
/// listeners run before the commit, and the `Bus` publishes the events after it.
#[derive(Clone)]
pub struct Db {
    readers: Pool<ConnectionManager>,
    writer: Pool<ConnectionManager>,
    backend: Backend,
    bus: Bus,
    listeners: Arc<RwLock<Vec<Listener>>>,
    group: group::GroupCommit,
}

/// Work that must commit together with the change an event reports (e.g. freed seats go to
/// the waitlist in the same transaction as the capacity change). Registered by the
/// application, so the capability that emits the event need not know who reacts.
pub type Listener = Arc<dyn Fn(&mut DbConnection, &Event) -> Result<(), AppError> + Send + Sync>;

impl Db {
    /// Builds the pools and applies migrations. Fails with a message fit for an operator.
    pub fn open(url: &str, pool_size: u32) -> Result<Db, String> {
        let backend = Backend::from_url(url)?;
        let mut first = connect(url).map_err(|e| format!("cannot open the database: {e}"))?;
        run_migrations(&mut first).map_err(|e| format!("cannot migrate the database: {e}"))?;
        drop(first);
        let build = |size: u32| {
            Pool::builder()
                .max_size(size)
                .min_idle(Some(1))
                .test_on_check_out(false)
                .connection_timeout(Duration::from_secs(10))
                .build(ConnectionManager {
                    url: url.to_string(),
                })
                .map_err(|e| format!("cannot open the database: {e}"))
        };
        let readers = build(pool_size)?;
        let writer = match backend {
            Backend::Sqlite => build(1)?,
            Backend::Postgres => readers.clone(),
        };
        Ok(Db {
            readers,
            writer,
            backend,
            bus: Bus::default(),
            listeners: Arc::default(),
            group: group::GroupCommit::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Where committed events are published.
    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// Adds work to run inside every write transaction that emits an event.
    pub fn listen_in_transaction(&self, listener: Listener) {
        if let Ok(mut listeners) = self.listeners.write() {
            listeners.push(listener);
        }
    }

    /// Runs read-only queries on a blocking thread.
    pub async fn read<T, F>(&self, work: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.readers.clone();
        run_blocking(move || {
            let mut conn = pool.get().map_err(AppError::from_pool)?;
            work(&mut conn)
        })
        .await
    }

    /// Runs `work` in one transaction on the writer: all of it is stored, or none of it.
    /// The events it emitted are published once it has committed.
    pub async fn write<T, F>(&self, work: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let db = self.clone();
        run_blocking(move || db.write_now(work)).await
    }

    /// The same as `write`, committed together with other grouped writes that are waiting
    /// (see `group.rs`): for small, frequent writes from many people at once — questions,
    /// votes. It still answers only after the commit; `work` runs in a savepoint, so its
    /// failure rolls back only its own changes.
    pub async fn write_grouped<T, F>(&self, work: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let committed = group::Committed {
            writer: self.writer.clone(),
            listeners: self.listeners.clone(),
            bus: self.bus.clone(),
        };
        self.group.write(&committed, work).await
    }

    /// The same as `write`, for code that already runs on a blocking thread (CLI, workers).
    pub fn write_now<T>(
        &self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let mut pooled = self.writer.get().map_err(AppError::from_pool)?;
        let conn: &mut DbConnection = &mut pooled;
        events::take_pending();
        let outcome = conn.transaction(|conn| {
            let value = work(conn)?;
            let emitted = run_listeners(&self.listeners, conn)?;
            Ok((value, emitted))
        });
        match outcome {
            Ok((value, emitted)) => {
                for event in emitted {
                    self.bus.publish(event);
                }
                Ok(value)
            }
            Err(e) => {
                events::take_pending();
                Err(e)
            }
        }
    }

    /// The same as `read`, for code that already runs on a blocking thread.
    pub fn read_now<T>(
        &self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let mut conn = self.readers.get().map_err(AppError::from_pool)?;
        work(&mut conn)
    }
}

/// Runs the listeners for every event emitted so far, and for those they emit in turn.
/// Returns every event of the transaction.
fn run_listeners(
    listeners: &RwLock<Vec<Listener>>,
    conn: &mut DbConnection,
) -> Result<Vec<Event>, AppError> {
    let listeners: Vec<Listener> = match listeners.read() {
        Ok(list) => list.clone(),
        Err(_) => return Err(AppError::unexpected("event listeners poisoned")),
    };
    let mut all = Vec::new();
    loop {
        let batch = events::take_pending();
        if batch.is_empty() {
            return Ok(all);
        }
        for event in batch {
            for listener in &listeners {
                listener(conn, &event)?;
            }
            if !all.contains(&event) {
                all.push(event);
            }
        }
    }
}

/// Runs blocking work off the async workers, inside the caller's tracing span.
async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let span = tracing::Span::current();
    actix_web::web::block(move || span.in_scope(work))
        .await
        .map_err(|e| AppError::unexpected(format!("blocking task failed: {e}")))?
}

/// Current time in UTC without offset, as stored in every timestamp column.
pub fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

/// A new time-ordered id, stored as text on both backends.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_comes_from_the_scheme() {
        assert_eq!(Backend::from_url("sqlite://x.db"), Ok(Backend::Sqlite));
        assert_eq!(
            Backend::from_url("postgres://u@h/db"),
            Ok(Backend::Postgres)
        );
        assert_eq!(
            Backend::from_url("postgresql://u@h/db"),
            Ok(Backend::Postgres)
        );
        assert!(Backend::from_url("sqlite://").is_err());
        assert!(Backend::from_url("mysql://h/db").is_err());
        assert!(Backend::from_url("doithoai.db").is_err());
    }
}
