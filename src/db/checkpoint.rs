//! SQLite's checkpoints, on a thread of their own.
//!
//! In WAL mode a commit appends its pages to the log, and a checkpoint copies them back into
//! the database file. By default SQLite checkpoints inside the commit that takes the log past
//! 1,000 pages, on the committing connection. Here one thread commits for the whole service
//! (`group.rs`), and when a hall submitted questions at once it spent a sixth of its time
//! copying pages back and waiting for the disk instead of committing the next batch.
//!
//! So the writer connection does not checkpoint (`wal_autocheckpoint = 0`, see
//! `WRITER_PRAGMAS`). Each time the writer is handed back it signals this thread, which
//! waits a little for the burst to gather and then runs a passive checkpoint on its own
//! connection: it copies what is committed without taking the writer's lock, so the writer
//! and the readers go on meanwhile. The thread ends when the last `Db` is dropped (the
//! signal's sender goes with it).

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::Duration;

use diesel::connection::SimpleConnection;

use super::{DbConnection, connect};

/// Set on the writer's connection, after the pragmas every connection gets.
pub(super) const WRITER_PRAGMAS: &str = "PRAGMA wal_autocheckpoint = 0;";

/// How long the thread waits once told of a write, so that a burst is copied back in one
/// checkpoint. The log then holds at most this long's writes (SQLite's own threshold, 1,000
/// pages, came about every 30 ms when a hall submitted at once).
const GATHER: Duration = Duration::from_millis(100);

/// Tells the checkpointing thread that the log may have grown.
#[derive(Clone)]
pub(super) struct Checkpoints {
    signal: SyncSender<()>,
}

impl Checkpoints {
    /// Opens the thread's own connection and starts it.
    pub fn start(url: &str) -> Result<Checkpoints, String> {
        let conn = connect(url).map_err(|e| format!("cannot open the database: {e}"))?;
        // One pending signal is enough: a checkpoint copies everything committed before it.
        let (signal, wakes) = sync_channel(1);
        std::thread::Builder::new()
            .name("wal-checkpoint".into())
            .spawn(move || checkpoint_when_told(conn, wakes))
            .map_err(|e| format!("cannot start the checkpoints: {e}"))?;
        Ok(Checkpoints { signal })
    }

    /// After a write: the thread checkpoints within `GATHER`. Never waits.
    pub fn after_write(&self) {
        // Full: a signal is already pending. Closed: the thread has ended (it should not);
        // the log then grows until the next start, which checkpoints it.
        let _ = self.signal.try_send(());
    }
}

fn checkpoint_when_told(mut conn: DbConnection, wakes: Receiver<()>) {
    while wakes.recv().is_ok() {
        std::thread::sleep(GATHER);
        // Writes told of until now are committed, so this checkpoint copies them.
        while wakes.try_recv().is_ok() {}
        if let Err(e) = conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE);") {
            tracing::warn!(error = %e, "checkpoint failed; the next write tries again");
        }
    }
}
