//! The two migration sets and schema.rs must describe one and the same model.

use std::collections::BTreeSet;

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
    Db::open(url, 1).expect("sqlite migrates");
    let mut conn = SqliteConnection::establish(url.trim_start_matches("sqlite://")).unwrap();
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
    let mut conn = PgConnection::establish(url).unwrap();
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
        outbox,
        outbox_attempts,
        audit_log
    );
    drop(store);
}
