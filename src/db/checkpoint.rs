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
//! gigabytes in a minute of submissions. So when the log is past `CATCH_UP_AT_PAGES`, the
//! thread asks the writer to catch up: the next time the writer's connection is handed
//! back, outside any transaction, it runs a passive checkpoint itself, which copies only the
//! little that came since, and leaves nothing behind; its next write then starts the log
//! from the beginning. (A restarting checkpoint from this thread would do it without the
//! writer, but it holds off writes while it waits for readers, and a writer already reading
//! in its transaction is then refused at once: it made requests fail.) The thread ends when
//! the last `Db` is dropped (the signal's sender goes with it).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::Duration;

use super::{DbConnection, connect};

/// Set on the writer's connection, after the pragmas every connection gets. The size limit
/// applies when the log starts again: a log file that grew during a burst shrinks back to
/// 64 MiB.
pub(super) const WRITER_PRAGMAS: &str =
    "PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 67108864;";

/// Past this many pages in the log (4 MiB), the writer is asked to catch up.
const CATCH_UP_AT_PAGES: i32 = 1024;

/// How long the thread waits once told of a write, so that a burst is copied back in one
/// checkpoint rather than one per commit (SQLite's own threshold, 1,000 pages, came about
/// every 30 ms when a hall submitted at once).
const GATHER: Duration = Duration::from_millis(100);

/// Tells the checkpointing thread that the log may have grown.
#[derive(Clone)]
pub(super) struct Checkpoints {
    signal: SyncSender<()>,
    catch_up: Arc<AtomicBool>,
}

impl Checkpoints {
    /// Opens the thread's own connection and starts it.
    pub fn start(url: &str) -> Result<Checkpoints, String> {
        let conn = connect(url).map_err(|e| format!("cannot open the database: {e}"))?;
        // One pending signal is enough: a checkpoint copies everything committed before it.
        let (signal, wakes) = sync_channel(1);
        let catch_up = Arc::new(AtomicBool::new(false));
        let asked = catch_up.clone();
        std::thread::Builder::new()
            .name("wal-checkpoint".into())
            .spawn(move || checkpoint_when_told(conn, wakes, &asked))
            .map_err(|e| format!("cannot start the checkpoints: {e}"))?;
        Ok(Checkpoints { signal, catch_up })
    }

    /// When the writer's connection is handed back, outside any transaction: if asked to,
    /// it copies the rest of the log itself, so that its next write starts the log again.
    pub fn catch_up_if_asked(&self, writer: &mut DbConnection) {
        if self.catch_up.swap(false, Ordering::Relaxed)
            && let Err(e) = checkpoint(writer, "PASSIVE")
        {
            tracing::warn!(error = %e, "the writer's checkpoint failed; asked again later");
        }
    }

    /// After a write: the thread checkpoints within `GATHER`. Never waits.
    pub fn after_write(&self) {
        // Full: a signal is already pending. Closed: the thread has ended (it should not);
        // the log then grows until the next start, which checkpoints it.
        let _ = self.signal.try_send(());
    }
}

fn checkpoint_when_told(mut conn: DbConnection, wakes: Receiver<()>, catch_up: &AtomicBool) {
    while wakes.recv().is_ok() {
        std::thread::sleep(GATHER);
        // Writes told of until now are committed, so this checkpoint copies them.
        while wakes.try_recv().is_ok() {}
        match checkpoint(&mut conn, "PASSIVE") {
            Ok(log) if log >= CATCH_UP_AT_PAGES => catch_up.store(true, Ordering::Relaxed),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "checkpoint failed; the next write tries again"),
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
