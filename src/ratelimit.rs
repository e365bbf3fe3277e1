//! Limits on guessing and flooding: per client address, per dialogue, for the whole service.
//!
//! Two ways to count, chosen by the database:
//!
//! - **SQLite** (one instance): keyed `governor` limiters in process memory — a burst, then
//!   an even refill. A restart forgets them, which is enough to make guessing slow.
//! - **PostgreSQL** (possibly several instances behind one address): the counts live in the
//!   `rate_limits` table (key, window start, count), raised with one upsert per attempt, so
//!   the limits hold for the service as a whole and not per process. Windows are fixed; the
//!   count is smoothed over the previous window (a sliding-window estimate), so nothing
//!   resets all at once at a window's edge. The table is UNLOGGED: losing the counts in a
//!   crash costs nothing, and its commits need no WAL flush.
//!
//! Blocks decided from failures (`FailureLimiter`) are also told to the other instances as an
//! event, so the check before each attempt stays in memory: every participant request checks
//! it, and only failures touch the database.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::HttpRequest;
use diesel::sql_types::{BigInt, Text, Timestamp};
use diesel::{QueryableByName, RunQueryDsl};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::db::{Backend, Db, DbConnection};
use crate::error::AppError;
use crate::events::{self, Event};

const BURST: u32 = 10;
const REFILL_EVERY: Duration = Duration::from_secs(3);

/// How long shared counts are kept: longer than any window.
const KEEP_COUNTS: Duration = Duration::from_secs(3600);

/// Where a limiter counts: in memory, or in the database shared by all instances.
#[derive(Clone)]
enum Counter<K: std::hash::Hash + Eq + Clone> {
    Memory(Arc<DefaultKeyedRateLimiter<K>>),
    Shared(SharedCounter),
}

/// At most `limit` attempts per key in any `window` (estimated), counted in `rate_limits`.
#[derive(Clone)]
pub struct SharedCounter {
    db: Db,
    /// Keeps the keys of different limiters apart in the one table.
    scope: &'static str,
    limit: u32,
    window: Duration,
}

#[derive(QueryableByName)]
struct Counts {
    #[diesel(sql_type = BigInt)]
    current: i64,
    #[diesel(sql_type = BigInt)]
    previous: i64,
}

impl SharedCounter {
    /// The database shared by several instances, or `None` where memory is enough.
    fn of(db: Option<&Db>, scope: &'static str, limit: u32, window: Duration) -> Option<Self> {
        let db = db.filter(|db| db.backend() == Backend::Postgres)?;
        Some(SharedCounter {
            db: db.clone(),
            scope,
            limit: limit.max(1),
            window: window.max(Duration::from_secs(1)),
        })
    }

    fn hit_now(&self, conn: &mut DbConnection, key: &str) -> Result<(), AppError> {
        let DbConnection::Postgresql(pg) = conn else {
            return Ok(());
        };
        let window_ms = i64::try_from(self.window.as_millis()).unwrap_or(i64::MAX);
        let now = crate::db::now();
        let now_ms = now.and_utc().timestamp_millis();
        let start_ms = now_ms - now_ms.rem_euclid(window_ms);
        let start = chrono::DateTime::from_timestamp_millis(start_ms)
            .map(|t| t.naive_utc())
            .unwrap_or(now);
        let previous = start - chrono::Duration::milliseconds(window_ms);
        let counts: Counts = diesel::sql_query(
            "WITH hit AS ( \
                INSERT INTO rate_limits (key, window_start, count) VALUES ($1, $2, 1) \
                ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limits.count + 1 \
                RETURNING count) \
             SELECT (SELECT count FROM hit)::BIGINT AS current, \
                    COALESCE((SELECT count FROM rate_limits \
                              WHERE key = $1 AND window_start = $3), 0)::BIGINT AS previous",
        )
        .bind::<Text, _>(format!("{}:{key}", self.scope))
        .bind::<Timestamp, _>(start)
        .bind::<Timestamp, _>(previous)
        .get_result(pg)?;
        let elapsed = (now_ms - start_ms) as f64 / window_ms as f64;
        let estimate = counts.previous as f64 * (1.0 - elapsed) + counts.current as f64;
        if estimate <= f64::from(self.limit) {
            return Ok(());
        }
        // When the estimate falls back to the limit: the rest of the window if this window
        // alone is over, else when enough of the previous window has slid out.
        let window_s = self.window.as_secs_f64();
        let wait = if counts.current as f64 > f64::from(self.limit) || counts.previous == 0 {
            (1.0 - elapsed) * window_s
        } else {
            (estimate - f64::from(self.limit)) / counts.previous as f64 * window_s
        };
        Err(AppError::RateLimited {
            retry_after_seconds: (wait.ceil() as u64).max(1),
        })
    }
}

/// Forgets shared counts older than any window (a periodic task of the job worker).
pub fn forget_old_counts(conn: &mut DbConnection) -> Result<usize, AppError> {
    use crate::db::schema::rate_limits;
    use diesel::{ExpressionMethods, QueryDsl};
    let before = crate::db::now() - chrono::Duration::from_std(KEEP_COUNTS).unwrap_or_default();
    let gone = diesel::delete(rate_limits::table.filter(rate_limits::window_start.lt(before)))
        .execute(conn)?;
    Ok(gone)
}

fn memory<K: std::hash::Hash + Eq + Clone>(quota: Quota) -> Counter<K> {
    Counter::Memory(Arc::new(DefaultKeyedRateLimiter::keyed(quota)))
}

fn refused_until(not_until: governor::NotUntil<governor::clock::QuantaInstant>) -> AppError {
    let wait = not_until.wait_time_from(DefaultClock::default().now());
    AppError::RateLimited {
        retry_after_seconds: wait.as_secs().max(1),
    }
}

/// A burst of attempts per client address, then one every few seconds.
#[derive(Clone)]
pub struct LoginLimiter(Counter<IpAddr>);

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter::new(BURST, REFILL_EVERY, None, "login")
    }
}

impl LoginLimiter {
    /// `burst` attempts at once, then one more every `refill`. With a PostgreSQL `db`, the
    /// count is shared: `burst` attempts per `burst × refill`, under `scope`.
    pub fn new(burst: u32, refill: Duration, db: Option<&Db>, scope: &'static str) -> Self {
        let window = refill * burst.max(1);
        if let Some(shared) = SharedCounter::of(db, scope, burst, window) {
            return LoginLimiter(Counter::Shared(shared));
        }
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(refill)
            .unwrap_or_else(|| Quota::per_minute(burst))
            .allow_burst(burst);
        LoginLimiter(memory(quota))
    }

    /// Counts one attempt from `ip`; too many → 429 with the seconds to wait.
    pub async fn check(&self, ip: Option<IpAddr>) -> Result<(), AppError> {
        check_all([self.count(ip)]).await
    }

    /// One attempt from `ip`, to count with others in one go (`check_all`).
    pub fn count(&self, ip: Option<IpAddr>) -> Count {
        let Some(ip) = ip else {
            return Count::Memory(Box::new(|| Ok(())));
        };
        match &self.0 {
            Counter::Memory(limiter) => {
                let limiter = limiter.clone();
                Count::Memory(Box::new(move || {
                    limiter.check_key(&ip).map_err(refused_until)
                }))
            }
            Counter::Shared(shared) => Count::Shared(shared.clone(), ip.to_string()),
        }
    }
}

/// At most `n` events a minute per key (a burst of `n`, refilled evenly), for keys that are
/// not addresses: a dialogue, or one key for the whole service.
#[derive(Clone)]
pub struct KeyLimiter(Counter<String>);

impl KeyLimiter {
    /// Shared between instances when `db` is PostgreSQL; `scope` keeps its keys apart.
    pub fn per_minute(n: u32, db: Option<&Db>, scope: &'static str) -> KeyLimiter {
        if let Some(shared) = SharedCounter::of(db, scope, n, Duration::from_secs(60)) {
            return KeyLimiter(Counter::Shared(shared));
        }
        let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        KeyLimiter(memory(Quota::per_minute(n)))
    }

    /// Counts one event for `key`; too many → 429 with the seconds to wait.
    pub async fn check(&self, key: &str) -> Result<(), AppError> {
        check_all([self.count(key)]).await
    }

    /// One event for `key`, to count with others in one go (`check_all`).
    pub fn count(&self, key: &str) -> Count {
        match &self.0 {
            Counter::Memory(limiter) => {
                let (limiter, key) = (limiter.clone(), key.to_string());
                Count::Memory(Box::new(move || {
                    limiter.check_key(&key).map_err(refused_until)
                }))
            }
            Counter::Shared(shared) => Count::Shared(shared.clone(), key.to_string()),
        }
    }
}

/// An attempt for one limiter to count: in memory, or in the shared table. Nothing is
/// counted until `check_all`, so a limit reached spares the limits after it.
pub enum Count {
    Memory(Box<dyn FnOnce() -> Result<(), AppError> + Send>),
    Shared(SharedCounter, String),
}

/// Counts an attempt against several limits (a registration: per address, per dialogue,
/// overall); the first limit reached answers 429, and the limits after it are not counted.
/// The shared counts go to the database in one trip to a blocking thread, each upsert
/// committing by itself: the per-dialogue and overall rows are touched by every request,
/// and in one transaction they would stay locked (the others queueing) until its commit.
pub async fn check_all(counts: impl IntoIterator<Item = Count>) -> Result<(), AppError> {
    let mut shared = Vec::new();
    for count in counts {
        match count {
            Count::Memory(count) => count()?,
            Count::Shared(counter, key) => shared.push((counter, key)),
        }
    }
    let Some(db) = shared.first().map(|(counter, _)| counter.db.clone()) else {
        return Ok(());
    };
    db.autocommit(move |conn| {
        shared
            .iter()
            .try_for_each(|(counter, key)| counter.hit_now(conn, key))
    })
    .await
}

/// `n` a minute per address, as `LoginLimiter` counts.
pub fn per_address_per_minute(n: u32, db: Option<&Db>, scope: &'static str) -> LoginLimiter {
    let n = n.max(1);
    LoginLimiter::new(n, Duration::from_secs(60) / n, db, scope)
}

type Blocked = Arc<Mutex<HashMap<IpAddr, Instant>>>;

/// Slows down guessing without slowing down the rightful user: only failures count, and a
/// client over the limit is refused *before* its next attempt is looked up, right or wrong.
///
/// On PostgreSQL the failures are counted in the shared table, and a block is an event
/// (`Event::AddressBlocked`) that reaches every instance, so the check before each attempt
/// reads only memory.
#[derive(Clone)]
pub struct FailureLimiter {
    failures: LoginLimiter,
    blocked: Blocked,
    scope: &'static str,
    db: Option<Db>,
}

impl Default for FailureLimiter {
    fn default() -> Self {
        FailureLimiter {
            failures: LoginLimiter::default(),
            blocked: Blocked::default(),
            scope: "failures",
            db: None,
        }
    }
}

impl FailureLimiter {
    /// A limiter named `scope` (kept apart from the others in the shared table and in the
    /// events). With a PostgreSQL `db`, shared by every instance on it.
    pub fn new(db: &Db, scope: &'static str) -> FailureLimiter {
        let shared = (db.backend() == Backend::Postgres).then(|| db.clone());
        let blocked = Blocked::default();
        if shared.is_some() {
            let blocked = blocked.clone();
            db.bus().on_publish(move |event| {
                if let Event::AddressBlocked {
                    scope: blocked_scope,
                    address,
                    seconds,
                } = event
                {
                    if blocked_scope == scope {
                        if let Ok(ip) = address.parse() {
                            block(&blocked, ip, Duration::from_secs(*seconds));
                        }
                    }
                }
            });
        }
        FailureLimiter {
            failures: LoginLimiter::new(BURST, REFILL_EVERY, shared.as_ref(), scope),
            blocked,
            scope,
            db: shared,
        }
    }

    /// 429 while the client is blocked.
    pub fn ensure_allowed(&self, ip: Option<IpAddr>) -> Result<(), AppError> {
        let Some(ip) = ip else { return Ok(()) };
        let now = Instant::now();
        let mut blocked = self
            .blocked
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        blocked.retain(|_, until| *until > now);
        match blocked.get(&ip) {
            Some(until) => Err(AppError::RateLimited {
                retry_after_seconds: until.duration_since(now).as_secs().max(1),
            }),
            None => Ok(()),
        }
    }

    /// Counts a failed attempt; past the allowance the client is blocked for a while.
    pub async fn record_failure(&self, ip: Option<IpAddr>) -> Result<(), AppError> {
        let Some(ip) = ip else { return Ok(()) };
        let Err(AppError::RateLimited {
            retry_after_seconds,
        }) = self.failures.check(Some(ip)).await
        else {
            return Ok(());
        };
        let seconds = retry_after_seconds.max(1) * 10;
        match &self.db {
            // Published on every instance's bus once stored, this one's included.
            Some(db) => {
                let event = Event::AddressBlocked {
                    scope: self.scope.to_string(),
                    address: ip.to_string(),
                    seconds,
                };
                db.write(move |_| {
                    events::emit(event);
                    Ok(())
                })
                .await?;
            }
            None => block(&self.blocked, ip, Duration::from_secs(seconds)),
        }
        Err(AppError::RateLimited {
            retry_after_seconds: seconds,
        })
    }
}

fn block(blocked: &Mutex<HashMap<IpAddr, Instant>>, ip: IpAddr, how_long: Duration) {
    let mut blocked = blocked
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    blocked.insert(ip, Instant::now() + how_long);
}

/// The client's address: the peer, or the last X-Forwarded-For hop when the peer is the
/// configured proxy (any other peer could write that header itself).
pub fn client_ip(req: &HttpRequest, trusted_proxy: Option<IpAddr>) -> Option<IpAddr> {
    let peer = req.peer_addr().map(|a| a.ip());
    if peer.is_some() && peer == trusted_proxy {
        let forwarded = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|ip| ip.trim().parse().ok());
        return forwarded.or(peer);
    }
    peer
}
