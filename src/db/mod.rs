//! Storage: one connection type over SQLite and PostgreSQL, pools, migrations,
//! and the helper every query goes through so actix workers never block.

mod checkpoint;
mod group;
mod notify;
pub mod schema;
pub mod types;

pub use group::BatchedWrite;
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
        Backend::Postgres => Ok(DbConnection::Postgresql(establish_postgres(url)?)),
        Backend::Sqlite => {
            let path = url.trim_start_matches("sqlite://");
            let mut conn = SqliteConnection::establish(path)?;
            conn.batch_execute(SQLITE_PRAGMAS)
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
            Ok(DbConnection::Sqlite(conn))
        }
    }
}

/// Opens a PostgreSQL connection, with OpenSSL set up so that leaving the process is safe.
///
/// libpq speaks TLS through OpenSSL, which by default frees its global state in an `atexit`
/// handler. When a process ends while another thread is still reading from a TLS connection
/// (the event listener, a pool connection in a job worker), that handler frees memory the
/// thread still uses and glibc aborts ("corrupted size vs. prev_size"). Initialising OpenSSL
/// first with `OPENSSL_INIT_NO_ATEXIT`, which `openssl_sys::init` does, leaves the cleanup to
/// the operating system; libpq's own later initialisation then changes nothing.
pub fn establish_postgres(url: &str) -> Result<PgConnection, diesel::ConnectionError> {
    openssl_sys::init();
    PgConnection::establish(url)
}

pub struct ConnectionManager {
    url: String,
    /// Set on each new SQLite connection after the pragmas every one gets.
    sqlite_pragmas: &'static str,
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        let mut conn = connect(&self.url).map_err(diesel::r2d2::Error::ConnectionError)?;
        if let DbConnection::Sqlite(lite) = &mut conn
            && !self.sqlite_pragmas.is_empty()
        {
            lite.batch_execute(self.sqlite_pragmas)
                .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

/// Held by a server on SQLite for as long as it runs: an exclusive lock on `<file>.lock`.
///
/// A SQLite file belongs to one server. A second one would keep its own caches, rate limits
/// and job worker beside the first, without hearing the first's events (those cross
/// instances only on PostgreSQL), so it refuses to start. The lock is on a file of its own,
/// not on the database, so the CLI's other commands (migrate, user create, demo) keep
/// working beside a running server; the operating system releases it when the process ends,
/// however it ends. `None` on PostgreSQL, where several instances are the point.
pub fn lock_for_serving(url: &str) -> Result<Option<std::fs::File>, String> {
    let Some(path) = url.strip_prefix("sqlite://") else {
        return Ok(None);
    };
    let lock_path = format!("{path}.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| format!("cannot open the database: cannot create {lock_path}: {e}"))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Err(format!(
            "invalid setting DATABASE_URL: another doithoai server is already using {path} \
             (it holds {lock_path}); SQLite serves one instance: stop the other server, \
             or use PostgreSQL to run several"
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(format!(
            "cannot open the database: cannot lock {lock_path}: {e}"
        )),
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
    writer: Writer,
    backend: Backend,
    bus: Bus,
    listeners: Arc<RwLock<Vec<Listener>>>,
    group: group::GroupCommit,
    /// Names this process in the events it sends to other instances (see `notify.rs`).
    instance: Arc<str>,
    url: Arc<str>,
    /// The listener thread runs while some handle of this database exists.
    alive: Arc<()>,
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
        let build = |size: u32, sqlite_pragmas: &'static str| {
            Pool::builder()
                .max_size(size)
                .min_idle(Some(1))
                .test_on_check_out(false)
                .connection_timeout(Duration::from_secs(10))
                .build(ConnectionManager {
                    url: url.to_string(),
                    sqlite_pragmas,
                })
                .map_err(|e| format!("cannot open the database: {e}"))
        };
        let readers = build(pool_size, "")?;
        let writer = match backend {
            Backend::Sqlite => Writer {
                pool: build(1, checkpoint::WRITER_PRAGMAS)?,
                checkpoints: Some(checkpoint::Checkpoints::start(url)?),
            },
            Backend::Postgres => Writer {
                pool: readers.clone(),
                checkpoints: None,
            },
        };
        Ok(Db {
            readers,
            writer,
            backend,
            bus: Bus::default(),
            listeners: Arc::default(),
            group: group::GroupCommit::default(),
            instance: uuid::Uuid::new_v4().simple().to_string().into(),
            url: url.into(),
            alive: Arc::default(),
        })
    }

    /// On PostgreSQL, starts publishing other instances' events on this process's `Bus`
    /// (see `notify.rs`). A server calls it once; one-off commands need not, as they only
    /// send. Nothing to do on SQLite, where the server is the only instance.
    pub fn listen_to_other_instances(&self) -> Result<(), String> {
        if self.backend != Backend::Postgres {
            return Ok(());
        }
        notify::listen(
            self.url.to_string(),
            self.instance.to_string(),
            self.bus.clone(),
            Arc::downgrade(&self.alive),
        )
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
        self.group.write_guarded(&self.committed(), work).await
    }

    /// `write_grouped` without the savepoint, which costs two statements (on PostgreSQL two
    /// round trips to the server) of a write that is itself a few: `check` reads and
    /// decides, changing nothing, and either refuses (its error is the answer, nothing was
    /// written) or hands back the writes. The writes are not undone alone: their failure,
    /// or a listener's after them, rolls back and fails the whole batch. So only for writes
    /// that cannot fail for a request's own reasons once its checks have passed (a vote's
    /// `INSERT … ON CONFLICT DO NOTHING`, a question's inserts). On PostgreSQL a statement
    /// that fails aborts the transaction, even in `check`: the batch fails then too, so the
    /// checks refuse by what they read, never by a statement's error.
    pub async fn write_grouped_checked_first<T, C, W>(&self, check: C) -> Result<T, AppError>
    where
        C: FnOnce(&mut DbConnection) -> Result<W, AppError> + Send + 'static,
        W: FnOnce(&mut DbConnection) -> Result<T, AppError> + 'static,
        T: Send + 'static,
    {
        self.group
            .write_checked_first(&self.committed(), check)
            .await
    }

    /// Writes `item` together with the other items of `B` queued at the same time, in one
    /// call of `B::write_all` (see `BatchedWrite`): for a write many people make at once
    /// whose per-statement cost (a lookup, a check, an insert each) would otherwise be the
    /// committing thread's limit. Answers after the commit, as `write_grouped`.
    pub async fn write_batched<B: BatchedWrite>(
        &self,
        item: B::Item,
    ) -> Result<B::Output, AppError> {
        self.group.write_batched::<B>(&self.committed(), item).await
    }

    fn committed(&self) -> group::Committed {
        group::Committed {
            writer: self.writer.clone(),
            listeners: self.listeners.clone(),
            bus: self.bus.clone(),
            instance: self.instance.clone(),
        }
    }

    /// The same as `write`, for code that already runs on a blocking thread (CLI, workers).
    pub fn write_now<T>(
        &self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let mut writer = self.writer.get().map_err(AppError::from_pool)?;
        let conn: &mut DbConnection = &mut writer;
        events::take_pending();
        let outcome = conn.transaction(|conn| {
            let value = work(conn)?;
            let emitted = run_listeners(&self.listeners, conn)?;
            notify::send(conn, &self.instance, &emitted)?;
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

    /// Runs `work` on the writer **without** a transaction of its own: each statement commits
    /// by itself. For single-statement counters on rows every request touches (the shared
    /// rate-limit counts): inside a transaction, a hot row stays locked until the commit,
    /// a round trip later, and concurrent requests queue on it; alone, only for the
    /// statement. Events emitted here are dropped (use `write`).
    pub async fn autocommit<T, F>(&self, work: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let writer = self.writer.clone();
        run_blocking(move || {
            let mut conn = writer.get().map_err(AppError::from_pool)?;
            events::take_pending();
            let outcome = work(&mut conn);
            events::take_pending();
            outcome
        })
        .await
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

/// The writer's pool (on SQLite one connection) and, on SQLite, the checkpoints it signals
/// (see `checkpoint.rs`).
#[derive(Clone)]
pub(super) struct Writer {
    pool: Pool<ConnectionManager>,
    checkpoints: Option<checkpoint::Checkpoints>,
}

impl Writer {
    /// The writer's connection; handing it back tells the checkpoints of a possible write.
    pub fn get(&self) -> Result<WriterConnection<'_>, diesel::r2d2::PoolError> {
        Ok(WriterConnection {
            conn: self.pool.get()?,
            checkpoints: self.checkpoints.as_ref(),
        })
    }
}

pub(super) struct WriterConnection<'a> {
    conn: diesel::r2d2::PooledConnection<ConnectionManager>,
    checkpoints: Option<&'a checkpoint::Checkpoints>,
}

impl std::ops::Deref for WriterConnection<'_> {
    type Target = DbConnection;
    fn deref(&self) -> &DbConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for WriterConnection<'_> {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.conn
    }
}

impl Drop for WriterConnection<'_> {
    fn drop(&mut self) {
        if let Some(checkpoints) = self.checkpoints {
            checkpoints.catch_up_if_asked(&mut self.conn);
            checkpoints.after_write();
        }
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
