//! The two migration sets and schema.rs must describe one and the same model.

use std::collections::BTreeSet;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};
use doithoai::db::{self, Db};

use crate::helpers::TestDb;

#[derive(QueryableByName)]
struct SqliteColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    column_type: String,
    #[diesel(sql_type = Integer)]
    not_null: i32,
}

#[derive(QueryableByName)]
struct PgColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Text)]
    is_nullable: String,
}

type Shape = BTreeSet<(String, String, &'static str, bool)>;

fn portable(sql_type: &str) -> &'static str {
    match sql_type.to_ascii_lowercase().as_str() {
        "text" => "text",
        "timestamp" | "timestamp without time zone" => "timestamp",
        "boolean" => "boolean",
        "integer" => "integer",
        _ => "other",
    }
}

fn sqlite_shape(url: &str) -> Shape {
    // Kept open while reading: a dropped store's connections close on their own threads,
    // and the last one to close checkpoints the WAL under an exclusive lock.
    let _store = Db::open(url, 1).expect("sqlite migrates");
    let mut conn = SqliteConnection::establish(url.trim_start_matches("sqlite://")).unwrap();
    // Waits out any lock the store's background work still holds instead of failing at once.
    conn.batch_execute("PRAGMA busy_timeout = 5000").unwrap();
    diesel::sql_query(
        "SELECT m.name AS table_name, p.name AS column_name, p.type AS column_type, p.\"notnull\" AS not_null \
         FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations'",
    )
    .load::<SqliteColumn>(&mut conn)
    .unwrap()
    .into_iter()
    // SQLite reports primary-key columns as nullable unless declared NOT NULL; every one here is.
    .map(|c| (c.table_name, c.column_name, portable(&c.column_type), c.not_null == 1))
    .collect()
}

fn postgres_shape(url: &str) -> Shape {
    Db::open(url, 1).expect("postgres migrates");
    let mut conn = doithoai::db::establish_postgres(url).unwrap();
    diesel::sql_query(
        "SELECT table_name::text AS table_name, column_name::text AS column_name, data_type::text AS data_type, \
         is_nullable::text AS is_nullable FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
    )
    .load::<PgColumn>(&mut conn)
    .unwrap()
    .into_iter()
    .map(|c| (c.table_name, c.column_name, portable(&c.data_type), c.is_nullable == "NO"))
    .collect()
}

#[test]
fn both_migration_sets_create_the_same_tables_and_columns() {
    let Some(admin) = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!(
            "both_migration_sets_create_the_same_tables_and_columns needs TEST_DATABASE_URL (.ci/run sets it)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = sqlite_shape(&format!(
        "sqlite://{}",
        dir.path().join("shape.db").display()
    ));
    let postgres_db = TestDb::new();
    assert!(
        postgres_db.is_postgres(),
        "TEST_DATABASE_URL={admin} gives a PostgreSQL database"
    );
    let postgres = postgres_shape(&postgres_db.url);
    assert!(sqlite.len() > 150, "{} columns", sqlite.len());
    assert!(
        !sqlite.iter().any(|c| c.2 == "other"),
        "a column of a non-portable type: {sqlite:?}"
    );
    let only_sqlite: Vec<_> = sqlite.difference(&postgres).collect();
    let only_postgres: Vec<_> = postgres.difference(&sqlite).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "only in SQLite: {only_sqlite:?}\nonly in PostgreSQL: {only_postgres:?}"
    );
}

/// Selecting every column schema.rs declares fails if the database lacks one.
#[test]
fn schema_rs_matches_the_migrated_database() {
    use doithoai::db::schema::*;
    let test_db = TestDb::new();
    let store = Db::open(&test_db.url, 1).unwrap();
    let mut conn = db::connect(&test_db.url).unwrap();
    macro_rules! every_column {
        ($($table:ident),*) => {$(
            $table::table.select($table::all_columns).limit(0).execute(&mut conn)
                .unwrap_or_else(|e| panic!("{}: {e}", stringify!($table)));
        )*};
    }
    every_column!(
        agencies,
        users,
        auth_tokens,
        dialogues,
        officials,
        agenda_items,
        participants,
        invitations,
        registrations,
        questions,
        votes,
        assignments,
        responses,
        live_answers,
        commitments,
        minutes,
        jobs,
        job_attempts,
        audit_log
    );
    drop(store);
}

/// The migrations as files, to apply them one at a time.
fn migration_files(url: &str) -> diesel_migrations::FileBasedMigrations {
    let set = if url.starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    };
    diesel_migrations::FileBasedMigrations::from_path(format!(
        "{}/migrations/{set}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// Runs `$body` with a plain connection of the database's own type.
macro_rules! with_raw {
    ($url:expr, |$conn:ident| $body:expr) => {
        if $url.starts_with("postgres") {
            let $conn = &mut doithoai::db::establish_postgres($url).unwrap();
            $body
        } else {
            let $conn =
                &mut SqliteConnection::establish($url.trim_start_matches("sqlite://")).unwrap();
            $body
        }
    };
}

const OUTBOX_ROWS: &str = r#"INSERT INTO outbox (id, kind, recipient, subject, body_text, body_html,
    attachments, dedupe_key, subject_kind, subject_id, status, attempts, next_attempt_at,
    locked_by, locked_until, last_error, created_at, sent_at) VALUES
  ('0190d8a0-0000-7000-8000-000000000001', 'invitation', 'Ánh <anh@example.vn>', 'Thư mời',
   'văn bản', '<p>thư</p>',
   '[{"filename":"a.ics","content_type":"text/calendar","content_base64":"QkVHSU4=","inline_id":null}]',
   'invitation:1', 'invitation', 'inv-1', 'pending', 1, '2020-01-01 10:00:00',
   NULL, NULL, 'connection refused', '2020-01-01 09:00:00', NULL),
  ('0190d8a0-0000-7000-8000-000000000002', 'password_setup', 'binh@example.vn', 'Mật khẩu',
   'b', '<p>b</p>', '[]', NULL, 'user', 'u-1', 'sent', 1, '2020-01-01 09:00:00',
   NULL, NULL, NULL, '2020-01-01 09:00:00', '2020-01-01 09:00:05')"#;

const OUTBOX_ATTEMPTS: &str = "INSERT INTO outbox_attempts (id, outbox_id, attempted_at, outcome, detail) VALUES \
  ('a1', '0190d8a0-0000-7000-8000-000000000001', '2020-01-01 09:00:01', 'retry', 'connection refused'), \
  ('a2', '0190d8a0-0000-7000-8000-000000000002', '2020-01-01 09:00:05', 'sent', NULL)";

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// An upgrade keeps the emails of the old `outbox`: pending ones are sent by the job
/// worker with the Message-ID they always had; and the down migration brings them back.
#[tokio::test]
async fn outbox_emails_survive_the_upgrade_to_jobs() {
    use diesel_migrations::MigrationHarness;
    use doithoai::jobs::{self, JobWorker, email};
    use doithoai::mail::Mailer;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    let test_db = TestDb::new();
    let url = test_db.url.clone();
    with_raw!(&url, |conn| {
        conn.run_next_migration(migration_files(&url)).unwrap();
        diesel::sql_query(OUTBOX_ROWS).execute(conn).unwrap();
        diesel::sql_query(OUTBOX_ATTEMPTS).execute(conn).unwrap();
    });

    let store = Db::open(&url, 2).expect("migrates to jobs");
    let (invitations, passwords, counts, attempts) = store
        .read_now(|conn| {
            Ok((
                email::list_kind(conn, "invitation")?,
                email::list_kind(conn, "password_setup")?,
                jobs::counts(conn)?,
                jobs::store::attempts(conn, "0190d8a0-0000-7000-8000-000000000002")?,
            ))
        })
        .unwrap();
    assert_eq!(counts.get("pending"), Some(&1));
    assert_eq!(counts.get("done"), Some(&1));
    let pending = &invitations[0];
    assert_eq!(pending.id, "0190d8a0-0000-7000-8000-000000000001");
    assert_eq!(pending.recipient, "Ánh <anh@example.vn>");
    assert_eq!(pending.subject, "Thư mời");
    assert_eq!(pending.body_text, "văn bản");
    assert_eq!(pending.body_html, "<p>thư</p>");
    assert_eq!(pending.attachments.len(), 1);
    assert_eq!(pending.attachments[0].filename, "a.ics");
    assert_eq!(pending.attachments[0].content_base64, "QkVHSU4=");
    assert_eq!(pending.subject_id.as_deref(), Some("inv-1"));
    assert_eq!((pending.status.as_str(), pending.attempts), ("pending", 1));
    assert_eq!(pending.last_error.as_deref(), Some("connection refused"));
    let sent = &passwords[0];
    assert_eq!(sent.status, "done");
    assert!(sent.finished_at.is_some());
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].outcome, "done");

    let outbox = Arc::new(Mutex::new(Vec::new()));
    let worker = JobWorker::new(
        store.clone(),
        Duration::from_secs(60),
        Duration::from_secs(1),
    )
    .handle(
        email::KIND,
        email::handler(
            Arc::new(Mailer::Memory(outbox.clone())),
            "doithoai <noreply@doithoai.test>".parse().unwrap(),
            "doithoai.test".into(),
        ),
    );
    assert_eq!(worker.drain().await.unwrap(), 1);
    let messages = outbox.lock().unwrap();
    let raw = String::from_utf8(messages[0].formatted()).unwrap();
    assert!(
        raw.contains("<0190d8a0-0000-7000-8000-000000000001@doithoai.test>"),
        "{raw}"
    );
    drop(messages);
    drop(store);

    with_raw!(&url, |conn| {
        // Back down through every later migration, then the jobs one.
        while conn
            .applied_migrations()
            .unwrap()
            .iter()
            .any(|v| v.to_string().replace('-', "").starts_with("20261129000001"))
        {
            conn.revert_last_migration(migration_files(&url)).unwrap();
        }
        let back = diesel::sql_query("SELECT count(*) AS n FROM outbox WHERE status = 'sent'")
            .get_result::<Count>(conn)
            .unwrap();
        assert_eq!(back.n, 2, "both emails are back in the outbox, sent");
    });
}
