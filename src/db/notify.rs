//! Events between instances on PostgreSQL: `NOTIFY` inside the transaction, one listener
//! per process.
//!
//! Several instances of the service may run on one PostgreSQL database (a province serving
//! all its districts behind one address). A change one instance commits must reach the
//! others' `Bus` — their caches forget, their job workers wake, the live stream tells its
//! screens — as it reaches its own. So:
//!
//! - **Sending.** Every write transaction that emitted events also calls `pg_notify` with
//!   them, *inside* the transaction. PostgreSQL delivers a notification only when its
//!   transaction commits (and drops those of a rolled-back savepoint), so what other
//!   instances hear is exactly what this one publishes after the commit. The payload carries
//!   this process's instance id, so its own listener skips what the process has already
//!   published itself.
//! - **Listening.** One thread per process holds a dedicated connection (not from the pool:
//!   `LISTEN` belongs to a session) and polls it for notifications every `POLL`. Remote
//!   events are published on the local `Bus`, so callbacks and broadcast receivers cannot
//!   tell them from local ones. A broken connection is noticed (a failed read, or the
//!   periodic `SELECT 1`) and opened again; events sent meanwhile are lost, which the
//!   subscribers tolerate: caches keep entries at most a second, the job worker polls
//!   every second.
//!
//! Why diesel's `notifications_iter` polled, and not an async driver (`tokio-postgres`)
//! that would wake on the socket: it needs no second PostgreSQL driver with its own TLS and
//! URL handling, and the poll interval bounds the delay well below what anyone reading a
//! screen notices (measured in docs/PERFORMANCE.md, "Events between instances"). A poll
//! is one non-blocking `recv` on an idle socket.

use std::sync::Weak;
use std::time::{Duration, Instant};

use diesel::RunQueryDsl;
use diesel::sql_types::Text;
use serde::{Deserialize, Serialize};

use super::DbConnection;
use crate::error::AppError;
use crate::events::{Bus, Event};

/// The channel every instance of the service listens on.
pub const CHANNEL: &str = "doithoai_events";

/// How the listening connection names itself in `pg_stat_activity`, so that an operator can
/// tell it from the pool's connections (it stays idle, by design).
pub const APPLICATION_NAME: &str = "doithoai-listener";

/// How often the listener looks for notifications: the bound on the added delay.
const POLL: Duration = Duration::from_millis(5);

/// How often an idle listener checks that its connection still works.
const PING_EVERY: Duration = Duration::from_secs(5);

/// PostgreSQL refuses payloads of 8,000 bytes or more; events are far smaller, but a
/// transaction may emit many, so they are sent in parts below this size.
const PAYLOAD_MAX: usize = 7_000;

#[derive(Serialize, Deserialize)]
struct Message {
    /// The sending process's instance id.
    from: String,
    events: Vec<Event>,
}

/// Sends the transaction's events to the other instances; delivered only if it commits.
/// Does nothing on SQLite, which serves one instance.
pub(super) fn send(
    conn: &mut DbConnection,
    instance: &str,
    events: &[Event],
) -> Result<(), AppError> {
    let DbConnection::Postgresql(pg) = conn else {
        return Ok(());
    };
    if events.is_empty() {
        return Ok(());
    }
    for payload in payloads(instance, events)? {
        diesel::sql_query("SELECT pg_notify($1, $2)")
            .bind::<Text, _>(CHANNEL)
            .bind::<Text, _>(payload)
            .execute(pg)?;
    }
    Ok(())
}

/// The events as JSON messages, each under `PAYLOAD_MAX` bytes.
fn payloads(instance: &str, events: &[Event]) -> Result<Vec<String>, AppError> {
    let encode = |events: Vec<Event>| {
        serde_json::to_string(&Message {
            from: instance.to_string(),
            events,
        })
        .map_err(|e| AppError::unexpected(format!("cannot encode events: {e}")))
    };
    let mut out = Vec::new();
    let mut part: Vec<Event> = Vec::new();
    for event in events {
        part.push(event.clone());
        if part.len() > 1 && encode(part.clone())?.len() > PAYLOAD_MAX {
            let last = part.pop();
            out.push(encode(std::mem::take(&mut part))?);
            part.extend(last);
        }
    }
    if !part.is_empty() {
        out.push(encode(part)?);
    }
    Ok(out)
}

/// The events of a notification that another instance sent; `None` for this instance's own
/// and for payloads that do not parse (logged: a newer version may send new kinds).
fn remote_events(instance: &str, payload: &str) -> Option<Vec<Event>> {
    match serde_json::from_str::<Message>(payload) {
        Ok(message) if message.from == instance => None,
        Ok(message) => Some(message.events),
        Err(e) => {
            tracing::warn!("ignored a notification that does not parse: {e}");
            None
        }
    }
}

/// Starts the listener thread. It ends when `alive` can no longer be upgraded, i.e. when
/// the last handle of the database it belongs to is gone.
pub(super) fn listen(
    url: String,
    instance: String,
    bus: Bus,
    alive: Weak<()>,
) -> Result<(), String> {
    std::thread::Builder::new()
        .name("pg-listen".into())
        .spawn(move || {
            let mut wait = Duration::from_millis(100);
            while alive.strong_count() > 0 {
                match listen_on_one_connection(&url, &instance, &bus, &alive) {
                    Ok(()) => return,
                    Err(e) => {
                        tracing::warn!(
                            "listening for other instances' events failed ({e}); \
                             connecting again in {wait:?}"
                        );
                        std::thread::sleep(wait);
                        wait = (wait * 2).min(Duration::from_secs(5));
                    }
                }
            }
        })
        .map(drop)
        .map_err(|e| format!("cannot start the event listener: {e}"))
}

/// Listens until the database handle is gone (`Ok`) or the connection fails (`Err`).
fn listen_on_one_connection(
    url: &str,
    instance: &str,
    bus: &Bus,
    alive: &Weak<()>,
) -> Result<(), String> {
    let mut conn = super::establish_postgres(&named(url)).map_err(|e| e.to_string())?;
    diesel::sql_query(format!("LISTEN {CHANNEL}"))
        .execute(&mut conn)
        .map_err(|e| e.to_string())?;
    tracing::debug!("listening for other instances' events");
    let mut pinged = Instant::now();
    while alive.strong_count() > 0 {
        let mut heard = Vec::new();
        for notification in conn.notifications_iter() {
            let notification = notification.map_err(|e| e.to_string())?;
            if notification.channel == CHANNEL {
                heard.push(notification.payload);
            }
        }
        for payload in heard {
            for event in remote_events(instance, &payload).unwrap_or_default() {
                bus.publish(event);
            }
        }
        if pinged.elapsed() >= PING_EVERY {
            diesel::sql_query("SELECT 1")
                .execute(&mut conn)
                .map_err(|e| e.to_string())?;
            pinged = Instant::now();
        }
        std::thread::sleep(POLL);
    }
    Ok(())
}

/// The URL with `application_name` set, unless the operator set one.
fn named(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if !parsed.query_pairs().any(|(k, _)| k == "application_name") => {
            parsed
                .query_pairs_mut()
                .append_pair("application_name", APPLICATION_NAME);
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listening_connection_is_named_unless_the_url_names_it() {
        assert_eq!(
            named("postgres://u@h/db"),
            "postgres://u@h/db?application_name=doithoai-listener"
        );
        assert_eq!(
            named("postgres://u@h/db?sslmode=require"),
            "postgres://u@h/db?sslmode=require&application_name=doithoai-listener"
        );
        assert_eq!(
            named("postgres://u@h/db?application_name=x"),
            "postgres://u@h/db?application_name=x"
        );
    }

    #[test]
    fn own_events_are_skipped_and_others_read() {
        let events = vec![Event::JobsQueued];
        let payload = payloads("a", &events).unwrap().remove(0);
        assert_eq!(remote_events("a", &payload), None);
        assert_eq!(remote_events("b", &payload), Some(events));
        assert_eq!(remote_events("b", "not json"), None);
    }

    #[test]
    fn many_events_are_sent_in_parts_that_fit() {
        let events: Vec<Event> = (0..1_000)
            .map(|n| Event::DialogueChanged {
                dialogue_id: format!("{n:036}"),
            })
            .collect();
        let parts = payloads("a", &events).unwrap();
        assert!(parts.len() > 1);
        assert!(parts.iter().all(|p| p.len() <= PAYLOAD_MAX));
        let back: Vec<Event> = parts
            .iter()
            .flat_map(|p| remote_events("b", p).unwrap())
            .collect();
        assert_eq!(back, events);
    }
}
