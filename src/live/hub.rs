//! The live stream's fan-out: one room per dialogue that someone watches, in this process.
//!
//! Logged events (the replay log, `live_events`) reach a room through the bus — from this
//! instance or, on PostgreSQL, from another one — and are read once per room, formatted
//! once, and handed to every client as the same bytes. Votes are not logged: a room reads
//! its dialogue's vote counts a few times a second and sends what changed (a bounded number
//! at a time, see [`VoteBoard`]), so a hall voting at thousands a second costs the same few
//! reads and small writes, on every instance.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::web::Bytes;
use futures_util::Stream;
use tokio::sync::broadcast;

use super::model::{LiveEventKind, LiveEventRow, VoteBoard};
use super::{ops, store};
use crate::db::Db;
use crate::dialogues;
use crate::error::AppError;
use crate::events::Event;

/// How often a room reads its vote counts: vote updates are at most this much behind.
pub const VOTES_EVERY: Duration = Duration::from_millis(300);
/// A comment line this often keeps proxies and phones from closing an idle stream.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(15);
/// Messages a slow client may fall behind before its stream ends (it reconnects and
/// resumes from the replay log).
const ROOM_BACKLOG: usize = 256;
/// Replay entries sent to a client that comes back, at most; further behind, it starts afresh.
const REPLAY_MAX: i64 = 500;
/// What a client that reconnects waits first, in milliseconds (the SSE `retry` field).
const RETRY_MS: u32 = 3000;

/// One message for every client of a room: formatted once.
#[derive(Debug)]
struct Message {
    /// The replay entry, for logged events.
    seq: Option<i32>,
    /// What clients that watch no particular questions get (for a vote update, the bounded
    /// one of [`VoteBoard`]; it may be empty).
    bytes: Bytes,
    /// For a vote update, every count that changed since the last tick: clients that named
    /// the questions they show (`?votes=`) get theirs from it.
    changed: Option<Arc<HashMap<String, i32>>>,
}

struct Room {
    sender: broadcast::Sender<Arc<Message>>,
    /// The last replay entry sent to this room.
    last_seq: i32,
    votes: VoteBoard,
    /// Every count as read at the last tick.
    counts: HashMap<String, i32>,
}

pub struct Hub {
    db: Db,
    max_clients: usize,
    clients: Arc<AtomicUsize>,
    rooms: Mutex<HashMap<String, Room>>,
}

fn format(seq: Option<i32>, kind: &str, data: &str) -> Bytes {
    let id = seq.map(|s| format!("id: {s}\n")).unwrap_or_default();
    // `data` is compact JSON: one line, so one `data:` field.
    Bytes::from(format!("{id}event: {kind}\ndata: {data}\n\n"))
}

fn message_of(row: &LiveEventRow) -> Arc<Message> {
    Arc::new(Message {
        seq: Some(row.seq),
        bytes: format(Some(row.seq), &row.kind, &row.data),
        changed: None,
    })
}

/// Counts a client from its stream's start to its end, however it ends.
struct ClientGuard(Arc<AtomicUsize>);

impl Drop for ClientGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What one client's stream holds.
struct Feed {
    first: VecDeque<Bytes>,
    receiver: broadcast::Receiver<Arc<Message>>,
    heartbeat: tokio::time::Interval,
    /// Logged events up to here were sent already (in `first`).
    sent_through: i32,
    /// The questions whose counts this client shows (`?votes=`), if it named them.
    watched: Option<Vec<String>>,
    _guard: ClientGuard,
}

impl Hub {
    pub fn new(db: Db, max_clients: usize) -> Arc<Hub> {
        Arc::new(Hub {
            db,
            max_clients,
            clients: Arc::default(),
            rooms: Mutex::default(),
        })
    }

    /// Clients connected to this instance now.
    pub fn clients(&self) -> usize {
        self.clients.load(Ordering::Acquire)
    }

    /// Runs the room keeping: logged events from the bus, vote counts on a timer. Spawned
    /// once at start-up on the server's runtime; ends when `stop` turns true.
    pub async fn run(self: Arc<Hub>, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut events = self.db.bus().subscribe();
        let mut votes = tokio::time::interval(VOTES_EVERY);
        votes.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                _ = stop.changed() => return,
                event = events.recv() => match event {
                    Ok(Event::Live { dialogue_id, .. }) => self.deliver_logged(&dialogue_id).await,
                    Ok(_) => {}
                    // Fell behind the bus: every room catches up from the replay log.
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        for id in self.room_ids() {
                            self.deliver_logged(&id).await;
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = votes.tick() => self.deliver_votes().await,
            }
        }
    }

    fn room_ids(&self) -> Vec<String> {
        self.rooms
            .lock()
            .map(|rooms| rooms.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Sends a room the replay entries it has not had yet.
    async fn deliver_logged(&self, dialogue_id: &str) {
        let Some(after) = self
            .rooms
            .lock()
            .ok()
            .and_then(|rooms| rooms.get(dialogue_id).map(|room| room.last_seq))
        else {
            return;
        };
        let id = dialogue_id.to_string();
        let rows = self
            .db
            .read(move |conn| Ok(store::events_after(conn, &id, after, REPLAY_MAX)?))
            .await;
        let Ok(rows) = rows else { return };
        if let Ok(mut rooms) = self.rooms.lock()
            && let Some(room) = rooms.get_mut(dialogue_id)
        {
            for row in &rows {
                if row.seq > room.last_seq {
                    room.sender.send(message_of(row)).ok();
                    room.last_seq = row.seq;
                }
            }
        }
    }

    /// Sends each watched room the vote counts that changed (a bounded number per update:
    /// see [`VoteBoard`]); forgets rooms nobody watches.
    async fn deliver_votes(&self) {
        let watched: Vec<String> = match self.rooms.lock() {
            Ok(mut rooms) => {
                rooms.retain(|_, room| room.sender.receiver_count() > 0);
                rooms.keys().cloned().collect()
            }
            Err(_) => return,
        };
        for dialogue_id in watched {
            let id = dialogue_id.clone();
            let Ok((counts, current)) = self
                .db
                .read(move |conn| {
                    Ok((
                        store::vote_counts(conn, &id)?,
                        store::current_of(conn, &id)?,
                    ))
                })
                .await
            else {
                continue;
            };
            if let Ok(mut rooms) = self.rooms.lock()
                && let Some(room) = rooms.get_mut(&dialogue_id)
            {
                let update = room.votes.next_update(&counts, current.as_deref());
                let changed: HashMap<String, i32> = counts
                    .iter()
                    .filter(|(q, n)| room.counts.get(q) != Some(n))
                    .cloned()
                    .collect();
                room.counts = counts.into_iter().collect();
                if update.is_empty() && changed.is_empty() {
                    continue;
                }
                let bytes = match update.is_empty() {
                    true => Bytes::new(),
                    false => votes_message(update.iter().map(|(q, n)| (q.as_str(), *n))),
                };
                room.sender
                    .send(Arc::new(Message {
                        seq: None,
                        bytes,
                        changed: Some(Arc::new(changed)),
                    }))
                    .ok();
            }
        }
    }

    /// Opens a client's stream: what it missed since `last_event_id` (or, new, the current
    /// state), then every event as it happens, and a heartbeat.
    pub async fn connect(
        self: &Arc<Hub>,
        dialogue_id: &str,
        organizer: bool,
        last_event_id: Option<i32>,
        watched: Option<Vec<String>>,
    ) -> Result<impl Stream<Item = Result<Bytes, actix_web::Error>> + use<>, AppError> {
        let guard = self.admit()?;
        let id = dialogue_id.to_string();
        // The counts are read only to start a room: thousands of phones joining one
        // dialogue must not each read every question's votes.
        let new_room = !self.has_room(dialogue_id);
        let (dialogue, state, replay, last_seq, votes) = self
            .db
            .read(move |conn| {
                let dialogue = dialogues::store::find(conn, &id)?
                    .filter(|d| dialogues::ops::status_visible_to(d.status(), organizer))
                    .ok_or(AppError::NotFound)?;
                let state = ops::state(conn, &dialogue)?;
                let replay = match last_event_id {
                    Some(after) => Some(store::events_after(conn, &id, after, REPLAY_MAX + 1)?),
                    None => None,
                };
                let votes = match new_room {
                    true => store::vote_counts(conn, &id)?,
                    false => Vec::new(),
                };
                let last_seq = state.last_event_id;
                Ok((dialogue, state, replay, last_seq, votes))
            })
            .await?;
        let receiver = self.join(&dialogue.id, last_seq, votes)?;
        let mut first = VecDeque::new();
        first.push_back(Bytes::from(format!("retry: {RETRY_MS}\n\n")));
        let resumable = replay.as_ref().is_some_and(|rows| {
            rows.len() as i64 <= REPLAY_MAX
                && rows
                    .first()
                    .is_none_or(|r| Some(r.seq) == last_event_id.map(|s| s + 1))
        });
        let mut sent_through = last_seq;
        match replay {
            Some(rows) if resumable => {
                for row in &rows {
                    first.push_back(message_of(row).bytes.clone());
                }
                sent_through = rows.last().map(|r| r.seq).or(last_event_id).unwrap_or(0);
            }
            // New, or too far behind: start from the state as it is now.
            _ => {
                let data = serde_json::json!({ "question": state.current }).to_string();
                first.push_back(format(
                    Some(last_seq),
                    LiveEventKind::CurrentQuestion.as_str(),
                    &data,
                ));
            }
        }
        let mut heartbeat = tokio::time::interval(HEARTBEAT_EVERY);
        heartbeat.reset();
        let feed = Feed {
            first,
            receiver,
            heartbeat,
            sent_through,
            watched,
            _guard: guard,
        };
        Ok(futures_util::stream::unfold(feed, next_chunk))
    }

    fn has_room(&self, dialogue_id: &str) -> bool {
        self.rooms
            .lock()
            .map(|rooms| rooms.contains_key(dialogue_id))
            .unwrap_or(false)
    }

    fn admit(&self) -> Result<ClientGuard, AppError> {
        let before = self.clients.fetch_add(1, Ordering::AcqRel);
        let guard = ClientGuard(self.clients.clone());
        if before >= self.max_clients {
            return Err(AppError::Busy {
                code: "too_many_listeners",
                retry_after_seconds: 10,
            });
        }
        Ok(guard)
    }

    /// The room's receiver, making the room if nobody watched the dialogue yet.
    fn join(
        &self,
        dialogue_id: &str,
        last_seq: i32,
        votes: Vec<(String, i32)>,
    ) -> Result<broadcast::Receiver<Arc<Message>>, AppError> {
        let mut rooms = self
            .rooms
            .lock()
            .map_err(|_| AppError::unexpected("live rooms poisoned"))?;
        let room = rooms
            .entry(dialogue_id.to_string())
            .or_insert_with(|| Room {
                sender: broadcast::channel(ROOM_BACKLOG).0,
                last_seq,
                counts: votes.iter().cloned().collect(),
                votes: VoteBoard::new(votes),
            });
        Ok(room.sender.subscribe())
    }
}

/// The next bytes of a client's stream; `None` ends it (a client that fell too far behind
/// reconnects and resumes from the replay log).
async fn next_chunk(mut feed: Feed) -> Option<(Result<Bytes, actix_web::Error>, Feed)> {
    if let Some(bytes) = feed.first.pop_front() {
        return Some((Ok(bytes), feed));
    }
    loop {
        tokio::select! {
            message = feed.receiver.recv() => match message {
                Ok(message) => {
                    if message.seq.is_some_and(|seq| seq <= feed.sent_through) {
                        continue;
                    }
                    let bytes = match (&feed.watched, &message.changed) {
                        (Some(watched), Some(changed)) => watched_votes(watched, changed),
                        _ => message.bytes.clone(),
                    };
                    if bytes.is_empty() {
                        continue;
                    }
                    return Some((Ok(bytes), feed));
                }
                Err(_) => return None,
            },
            _ = feed.heartbeat.tick() => {
                return Some((Ok(Bytes::from_static(b": ping\n\n")), feed));
            }
        }
    }
}

/// A `votes` event with these counts.
fn votes_message<'a>(counts: impl Iterator<Item = (&'a str, i32)>) -> Bytes {
    let votes: serde_json::Map<String, serde_json::Value> = counts
        .map(|(question, count)| (question.to_string(), count.into()))
        .collect();
    let data = serde_json::json!({ "votes": votes }).to_string();
    format(None, LiveEventKind::Votes.as_str(), &data)
}

/// The `votes` event of a client that shows `watched`: their counts that changed this
/// tick, all of them (empty when none did).
fn watched_votes(watched: &[String], changed: &HashMap<String, i32>) -> Bytes {
    let mut mine = watched
        .iter()
        .filter_map(|q| changed.get(q).map(|n| (q.as_str(), *n)))
        .peekable();
    match mine.peek() {
        Some(_) => votes_message(mine),
        None => Bytes::new(),
    }
}
