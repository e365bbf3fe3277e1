//! The grouped write path (`Db::write_grouped`): many writers share a transaction, yet each
//! answer is the truth about its own write.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use diesel::prelude::*;
use doithoai::audit::{self, Actor};
use doithoai::db::BatchedWrite;
use doithoai::db::schema::audit_log;
use doithoai::error::AppError;

use crate::helpers::spawn_app;

fn stored_actions(app: &crate::helpers::TestApp) -> Vec<String> {
    let mut conn = doithoai::db::connect(&app.db.url).unwrap();
    let mut actions: Vec<String> = audit_log::table
        .filter(audit_log::action.like("group-test-%"))
        .select(audit_log::action)
        .load(&mut conn)
        .unwrap();
    actions.sort();
    actions
}

/// Writes the audit entry `group-test-{n}`.
fn record_numbered(n: usize) -> impl Fn(&mut doithoai::db::DbConnection) -> QueryResult<()> + Send {
    move |conn| {
        audit::entry(&Actor::System, &format!("group-test-{n:02}"))
            .about("test", "group")
            .record(conn)
    }
}

/// Checks each writer's answer: the `refused` got their own `test_refusal`, the others
/// their own number back. Returns the actions the others recorded, in order.
async fn checked_answers(
    tasks: Vec<tokio::task::JoinHandle<Result<usize, AppError>>>,
    refused: impl Fn(usize) -> bool,
) -> Vec<String> {
    let mut expected = Vec::new();
    for (n, task) in tasks.into_iter().enumerate() {
        let answer = task.await.unwrap();
        if refused(n) {
            assert!(
                matches!(answer, Err(AppError::Conflict("test_refusal"))),
                "write {n}: {answer:?}"
            );
        } else {
            assert_eq!(answer.unwrap(), n, "each writer gets its own value back");
            expected.push(format!("group-test-{n:02}"));
        }
    }
    expected
}

/// 64 writers at once, every fourth failing after it wrote: the others are stored and
/// answered `Ok`, the failing ones leave nothing behind and get their own error.
#[tokio::test]
async fn a_failing_write_in_a_group_fails_alone_and_leaves_nothing() {
    let app = Arc::new(spawn_app().await);
    let mut tasks = Vec::new();
    for n in 0..64 {
        let db = app.state.db.clone();
        tasks.push(tokio::spawn(async move {
            db.write_grouped(move |conn| {
                let action = format!("group-test-{n:02}");
                audit::entry(&Actor::System, &action)
                    .about("test", "group")
                    .record(conn)?;
                if n % 4 == 3 {
                    return Err(AppError::Conflict("test_refusal"));
                }
                Ok(n)
            })
            .await
        }));
    }
    let expected = checked_answers(tasks, |n| n % 4 == 3).await;
    assert_eq!(stored_actions(&app), expected);
}

/// An answer means committed: a reader on another connection sees the row at once.
#[tokio::test]
async fn a_grouped_write_is_committed_when_it_answers() {
    let app = spawn_app().await;
    app.state
        .db
        .write_grouped(|conn| {
            audit::entry(&Actor::System, "group-test-seen")
                .about("test", "group")
                .record(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(stored_actions(&app), vec!["group-test-seen".to_string()]);
}

/// Writes that check everything before they change anything run without a savepoint
/// (`Db::write_grouped_checked_first`) in the same batches as guarded ones: of 64 at once,
/// half of each kind, those that refuse (before writing, or, guarded, after) leave nothing
/// behind and get their own error; every other is stored and gets its own value.
#[tokio::test]
async fn writes_checked_first_share_batches_with_guarded_ones() {
    let app = Arc::new(spawn_app().await);
    let mut tasks = Vec::new();
    for n in 0..64 {
        let db = app.state.db.clone();
        tasks.push(tokio::spawn(async move {
            let record = record_numbered(n);
            if n % 2 == 0 {
                db.write_grouped_checked_first(move |_| {
                    if n % 4 == 0 {
                        return Err(AppError::Conflict("test_refusal"));
                    }
                    Ok(move |conn: &mut doithoai::db::DbConnection| {
                        record(conn)?;
                        Ok(n)
                    })
                })
                .await
            } else {
                db.write_grouped(move |conn| {
                    record(conn)?;
                    if n % 4 == 3 {
                        return Err(AppError::Conflict("test_refusal"));
                    }
                    Ok(n)
                })
                .await
            }
        }));
    }
    let expected = checked_answers(tasks, |n| n % 4 == 0 || n % 4 == 3).await;
    assert_eq!(stored_actions(&app), expected);
}

/// A write checked first cannot be undone alone once it changed something: when a listener
/// fails after it, the whole batch is rolled back, so its change is not kept and it gets
/// the listener's error.
#[tokio::test]
async fn a_listener_failing_after_a_write_checked_first_keeps_nothing_of_it() {
    use doithoai::events::{self, Event};
    let app = spawn_app().await;
    app.state
        .db
        .listen_in_transaction(Arc::new(|_, event| match event {
            Event::QuestionsChanged { dialogue_id } if dialogue_id == "group-test" => {
                Err(AppError::Conflict("listener_refusal"))
            }
            _ => Ok(()),
        }));
    let answer = app
        .state
        .db
        .write_grouped_checked_first(|_| {
            Ok(|conn: &mut doithoai::db::DbConnection| {
                audit::entry(&Actor::System, "group-test-undone")
                    .about("test", "group")
                    .record(conn)?;
                events::emit(Event::QuestionsChanged {
                    dialogue_id: "group-test".into(),
                });
                Ok(())
            })
        })
        .await;
    assert!(
        matches!(answer, Err(AppError::Conflict("listener_refusal"))),
        "{answer:?}"
    );
    assert!(stored_actions(&app).is_empty());
}

/// A write checked first whose writes fail after their first change cannot be undone alone:
/// its batch is rolled back, so nothing of it is kept, and every write that shared the batch
/// is told it failed. Whatever each of the others was answered is the truth: stored exactly
/// when answered `Ok`.
#[tokio::test]
async fn writes_failing_after_their_first_change_fail_their_batch_and_keep_nothing() {
    let app = Arc::new(spawn_app().await);
    let mut tasks = Vec::new();
    for n in 0..32 {
        let db = app.state.db.clone();
        tasks.push(tokio::spawn(async move {
            let record = record_numbered(n);
            if n == 16 {
                db.write_grouped_checked_first(move |_| {
                    Ok(move |conn: &mut doithoai::db::DbConnection| {
                        record(conn)?;
                        Err::<usize, _>(AppError::Conflict("test_failure_after_writing"))
                    })
                })
                .await
            } else {
                db.write_grouped(move |conn| {
                    record(conn)?;
                    Ok(n)
                })
                .await
            }
        }));
    }
    let mut answered_ok = Vec::new();
    for (n, task) in tasks.into_iter().enumerate() {
        match task.await.unwrap() {
            Ok(value) => {
                assert_eq!(value, n);
                answered_ok.push(format!("group-test-{n:02}"));
            }
            Err(error) if n == 16 => assert!(
                matches!(error, AppError::Conflict("test_failure_after_writing")),
                "{error:?}"
            ),
            Err(error) => assert!(
                matches!(error, AppError::Conflict("test_failure_after_writing")),
                "write {n} shared the failed batch and gets its error: {error:?}"
            ),
        }
    }
    assert!(!answered_ok.contains(&"group-test-16".to_string()));
    assert_eq!(stored_actions(&app), answered_ok);
}

/// Holds the committing thread until `queued` writers have queued theirs (or ten seconds
/// have passed), so that those writes share the next batch.
fn hold_the_committer(db: &doithoai::db::Db, queued: Arc<AtomicUsize>, writers: usize) {
    let db = db.clone();
    tokio::spawn(async move {
        db.write_grouped(move |_| {
            let started = std::time::Instant::now();
            while queued.load(Ordering::SeqCst) < writers
                && started.elapsed() < std::time::Duration::from_secs(10)
            {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            // The last writer counts itself just before it queues.
            std::thread::sleep(std::time::Duration::from_millis(100));
            Ok(())
        })
        .await
    });
}

/// How many times `Numbered::write_all` ran, and with how many items at most.
static NUMBERED_CALLS: AtomicUsize = AtomicUsize::new(0);
static NUMBERED_LARGEST: AtomicUsize = AtomicUsize::new(0);

/// A batched write for the tests: item `n` records `group-test-{n}`, except every fourth,
/// refused before anything is written.
struct Numbered;

impl BatchedWrite for Numbered {
    type Item = usize;
    type Output = usize;

    fn write_all(
        conn: &mut doithoai::db::DbConnection,
        items: Vec<usize>,
    ) -> Result<Vec<Result<usize, AppError>>, AppError> {
        NUMBERED_CALLS.fetch_add(1, Ordering::SeqCst);
        NUMBERED_LARGEST.fetch_max(items.len(), Ordering::SeqCst);
        let taken: Vec<usize> = items.iter().copied().filter(|n| n % 4 != 3).collect();
        let actions: Vec<String> = taken.iter().map(|n| format!("group-test-{n:02}")).collect();
        let entries: Vec<audit::Entry<'_>> = actions
            .iter()
            .map(|action| audit::entry(&Actor::System, action).about("test", "group"))
            .collect();
        audit::record_all(conn, &entries)?;
        Ok(items
            .into_iter()
            .map(|n| {
                if n % 4 == 3 {
                    Err(AppError::Conflict("test_refusal"))
                } else {
                    Ok(n)
                }
            })
            .collect())
    }
}

/// Writes of one kind queued at the same time are written in one call, and still each gets
/// its own answer: the refused ones their refusal and nothing stored, the others their own
/// value, stored.
#[tokio::test]
async fn batched_writes_queued_together_are_written_together_and_answered_each() {
    let app = Arc::new(spawn_app().await);
    let queued = Arc::new(AtomicUsize::new(0));
    hold_the_committer(&app.state.db, queued.clone(), 64);
    let calls_before = NUMBERED_CALLS.load(Ordering::SeqCst);
    let mut tasks = Vec::new();
    for n in 0..64 {
        let (db, queued) = (app.state.db.clone(), queued.clone());
        tasks.push(tokio::spawn(async move {
            queued.fetch_add(1, Ordering::SeqCst);
            db.write_batched::<Numbered>(n).await
        }));
    }
    let expected = checked_answers(tasks, |n| n % 4 == 3).await;
    assert_eq!(stored_actions(&app), expected);
    let calls = NUMBERED_CALLS.load(Ordering::SeqCst) - calls_before;
    assert!(calls < 64, "64 items queued at once took {calls} calls");
    assert!(NUMBERED_LARGEST.load(Ordering::SeqCst) > 1);
}

/// A batched write that fails as a whole (after writing) cannot be undone alone: nothing of
/// its batch is kept, and every write that shared the batch, of its kind or another, gets
/// its error.
#[tokio::test]
async fn a_batched_write_failing_as_a_whole_keeps_nothing_of_its_batch() {
    struct FailsAfterWriting;
    impl BatchedWrite for FailsAfterWriting {
        type Item = usize;
        type Output = usize;
        fn write_all(
            conn: &mut doithoai::db::DbConnection,
            items: Vec<usize>,
        ) -> Result<Vec<Result<usize, AppError>>, AppError> {
            for n in items {
                record_numbered(n)(conn)?;
            }
            Err(AppError::Conflict("test_failure_after_writing"))
        }
    }
    let app = Arc::new(spawn_app().await);
    let queued = Arc::new(AtomicUsize::new(0));
    hold_the_committer(&app.state.db, queued.clone(), 8);
    let mut tasks = Vec::new();
    for n in 0..8 {
        let (db, queued) = (app.state.db.clone(), queued.clone());
        tasks.push(tokio::spawn(async move {
            queued.fetch_add(1, Ordering::SeqCst);
            if n == 0 {
                db.write_grouped(move |conn| {
                    record_numbered(n)(conn)?;
                    Ok(n)
                })
                .await
            } else {
                db.write_batched::<FailsAfterWriting>(n).await
            }
        }));
    }
    for (n, task) in tasks.into_iter().enumerate() {
        let answer = task.await.unwrap();
        assert!(
            matches!(
                answer,
                Err(AppError::Conflict("test_failure_after_writing"))
            ),
            "write {n}: {answer:?}"
        );
    }
    assert!(stored_actions(&app).is_empty());
}

/// On SQLite the writer does not stop to checkpoint (`db/checkpoint.rs`): its connection
/// has automatic checkpoints off, and a thread of its own copies committed writes into the
/// database file soon after. Seen from outside: the database file alone, without its log,
/// soon holds what was written.
#[tokio::test]
async fn committed_writes_reach_the_database_file_without_the_writer_checkpointing() {
    let app = spawn_app().await;
    if app.db.is_postgres() {
        return;
    }
    let writer_checkpoints = app
        .state
        .db
        .write(|conn| {
            #[derive(QueryableByName)]
            struct Setting {
                #[diesel(sql_type = diesel::sql_types::Integer)]
                wal_autocheckpoint: i32,
            }
            Ok(diesel::sql_query("PRAGMA wal_autocheckpoint")
                .get_result::<Setting>(conn)?
                .wal_autocheckpoint)
        })
        .await
        .unwrap();
    assert_eq!(
        writer_checkpoints, 0,
        "the writer leaves checkpoints to their thread"
    );
    app.state
        .db
        .write_grouped(|conn| {
            audit::entry(&Actor::System, "group-test-checkpointed")
                .about("test", "group")
                .record(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    let file = app.db.url.trim_start_matches("sqlite://").to_string();
    let copy = std::env::temp_dir().join(format!("checkpointed-{}.db", uuid::Uuid::new_v4()));
    let mut found = false;
    for _ in 0..200 {
        // A copy taken while a checkpoint writes may be torn: read as not there yet.
        std::fs::copy(&file, &copy).unwrap();
        if let Ok(mut conn) = diesel::SqliteConnection::establish(copy.to_str().unwrap()) {
            found = audit_log::table
                .filter(audit_log::action.eq("group-test-checkpointed"))
                .count()
                .get_result::<i64>(&mut conn)
                .is_ok_and(|n| n == 1);
        }
        for leftover in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{leftover}", copy.display()));
        }
        if found {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(found, "the write never reached the database file");
}

/// Under writes that never pause, the log still starts again (a passive checkpoint alone
/// never copies all of it while the writer appends): after 200 MB written at about 60 MB a
/// second, more than a hall submitting at once writes, the log file holds a fraction of it,
/// not everything written.
#[tokio::test]
async fn the_log_starts_again_under_writes_that_never_pause() {
    let app = spawn_app().await;
    if app.db.is_postgres() {
        return;
    }
    let log = format!("{}-wal", app.db.url.trim_start_matches("sqlite://"));
    let detail = "đối thoại ".repeat(10_000); // about 110 KB a write
    let mut written = 0;
    let mut largest = 0;
    while written < 200_000_000 {
        let mut batch = Vec::new();
        for _ in 0..8 {
            let (db, detail) = (app.state.db.clone(), detail.clone());
            batch.push(tokio::spawn(async move {
                db.write_grouped(move |conn| {
                    audit::entry(&Actor::System, "group-test-log")
                        .about("test", "group")
                        .detail(detail)
                        .record(conn)?;
                    Ok(())
                })
                .await
            }));
        }
        for write in batch {
            write.await.unwrap().unwrap();
            written += detail.len();
        }
        largest = largest.max(std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0));
        tokio::time::sleep(std::time::Duration::from_millis(15)).await;
    }
    eprintln!("the log's largest size: {largest} bytes for {written} written");
    assert!(
        largest < 120_000_000,
        "the log grew to {largest} bytes for {written} written"
    );
}
