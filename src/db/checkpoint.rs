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
//! and the readers go on meanwhile.
//!
//! A passive checkpoint alone never lets the log start again while writes keep coming (the
//! writer appends while it copies, so it never copies all of it), and the log grew by
//! gigabytes in a minute of submissions. So when the log is past `RESTART_AT_PAGES`, a
//! restarting checkpoint follows: it copies the little that came during the passive one
//! while holding off new writes, so that the next write starts the log from its beginning.
//! It waits for readers at most `RESTART_WAIT` (a reader still on an older snapshot makes it
//! give up until the next round), so the writer is never held for long. The thread ends
//! when the last `Db` is dropped (the signal's sender goes with it).
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::Duration;

use diesel::connection::SimpleConnection;

use super::{DbConnection, connect};

/// Set on the writer's connection, after the pragmas every connection gets. The size limit
/// applies when the log starts again: a log that grew during a burst shrinks back.
pub(super) const WRITER_PRAGMAS: &str =
    "PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 67108864;";

/// Past this many pages in the log (16 MiB), a restarting checkpoint follows the passive one.
const RESTART_AT_PAGES: i32 = 4096;

/// How long a restarting checkpoint waits for the writer and the readers (the
/// checkpointing connection's busy timeout).
const RESTART_WAIT: &str = "PRAGMA busy_timeout = 50;";

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
        let mut conn = connect(url).map_err(|e| format!("cannot open the database: {e}"))?;
        conn.batch_execute(RESTART_WAIT)
            .map_err(|e| format!("cannot open the database: {e}"))?;
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
        let outcome = checkpoint(&mut conn, "PASSIVE").and_then(|log| {
            if log >= RESTART_AT_PAGES {
                checkpoint(&mut conn, "RESTART")?;
            }
            Ok(())
        });
        if let Err(e) = outcome {
            tracing::warn!(error = %e, "checkpoint failed; the next write tries again");
        }
    }
}

/// Runs a checkpoint; the log's size in pages when it ran. Busy (the writer or a reader
/// held it off) is no error: the next round tries again.
fn checkpoint(conn: &mut DbConnection, mode: &str) -> diesel::QueryResult<i32> {
    #[derive(diesel::QueryableByName)]
    struct Checkpointed {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        log: i32,
    }
    use diesel::RunQueryDsl;
    diesel::sql_query(format!("PRAGMA wal_checkpoint({mode})"))
        .get_result::<Checkpointed>(conn)
        .map(|outcome| outcome.log)
}
