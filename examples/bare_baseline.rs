//! The bare baselines the question benchmarks are measured against (benches/questions.sh).
//!
//! Three servers with nothing of doithoai in them, on the same crates and the same kind of
//! storage, so that the ratio "service ÷ bare" says what the service's own work costs:
//!
//! * `hello`  — answers "hello": the framework's ceiling;
//! * `insert` — parses a small JSON body and inserts one row per request, each in its own
//!   transaction, through an r2d2 pool on actix's blocking threads: the usual way;
//! * `group`  — the same insert, but every request hands its row to one writer thread that
//!   commits whatever has queued (up to 256 rows) in one transaction and answers each
//!   request after that commit.
//!
//! ```sh
//! cargo run --release --example bare_baseline -- insert sqlite:///tmp/bare.db 127.0.0.1:8097
//! cargo run --release --example bare_baseline -- group postgres://postgres@127.0.0.1/bench 127.0.0.1:8097
//! ```
//! Requests: `POST /rows` with `{"dialogue_id": "…", "body": "…"}`; `GET /hello`.

use std::sync::mpsc;

use actix_web::{App, HttpResponse, HttpServer, web};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, Pool};
use serde::Deserialize;
use tokio::sync::oneshot;

diesel::table! {
    bare_rows (id) {
        id -> Text,
        dialogue_id -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

#[derive(Deserialize)]
struct RowInput {
    dialogue_id: String,
    body: String,
}

#[derive(Insertable)]
#[diesel(table_name = bare_rows)]
struct NewRow {
    id: String,
    dialogue_id: String,
    body: String,
    created_at: chrono::NaiveDateTime,
}

impl NewRow {
    fn from(input: RowInput) -> NewRow {
        NewRow {
            id: uuid::Uuid::now_v7().to_string(),
            dialogue_id: input.dialogue_id,
            body: input.body,
            created_at: chrono::Utc::now().naive_utc(),
        }
    }
}

/// The same connection type and settings as the service: WAL, NORMAL sync on SQLite.
#[derive(diesel::MultiConnection)]
enum Conn {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

#[derive(Debug)]
struct Setup;

impl diesel::r2d2::CustomizeConnection<Conn, diesel::r2d2::Error> for Setup {
    fn on_acquire(&self, conn: &mut Conn) -> Result<(), diesel::r2d2::Error> {
        if let Conn::Sqlite(c) = conn {
            c.batch_execute(
                "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
            )
            .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

type DbPool = Pool<ConnectionManager<Conn>>;
type Reply = oneshot::Sender<Result<(), String>>;

async fn hello() -> HttpResponse {
    HttpResponse::Ok().body("hello")
}

async fn insert_alone(pool: web::Data<DbPool>, input: web::Json<RowInput>) -> HttpResponse {
    let row = NewRow::from(input.into_inner());
    let stored = web::block(move || {
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        diesel::insert_into(bare_rows::table)
            .values(&row)
            .execute(&mut conn)
            .map_err(|e| e.to_string())
    })
    .await;
    match stored {
        Ok(Ok(_)) => HttpResponse::Created().finish(),
        _ => HttpResponse::InternalServerError().finish(),
    }
}

async fn insert_grouped(
    writer: web::Data<mpsc::Sender<(NewRow, Reply)>>,
    input: web::Json<RowInput>,
) -> HttpResponse {
    let (reply, answer) = oneshot::channel();
    if writer
        .send((NewRow::from(input.into_inner()), reply))
        .is_err()
    {
        return HttpResponse::InternalServerError().finish();
    }
    match answer.await {
        Ok(Ok(())) => HttpResponse::Created().finish(),
        _ => HttpResponse::InternalServerError().finish(),
    }
}

/// Commits whatever has queued, up to 256 rows, in one transaction; then answers each.
fn commit_in_batches(pool: DbPool, rows: mpsc::Receiver<(NewRow, Reply)>) {
    while let Ok(first) = rows.recv() {
        let mut batch = vec![first];
        while batch.len() < 256 {
            match rows.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let (new_rows, replies): (Vec<NewRow>, Vec<Reply>) = batch.into_iter().unzip();
        let stored = pool.get().map_err(|e| e.to_string()).and_then(|mut conn| {
            conn.transaction(|conn| {
                for row in &new_rows {
                    diesel::insert_into(bare_rows::table)
                        .values(row)
                        .execute(conn)?;
                }
                Ok::<_, diesel::result::Error>(())
            })
            .map_err(|e| e.to_string())
        });
        for reply in replies {
            reply.send(stored.clone()).ok();
        }
    }
}

fn open(url: &str, size: u32) -> DbPool {
    let url = url.strip_prefix("sqlite://").unwrap_or(url);
    let pool = Pool::builder()
        .max_size(size)
        .connection_customizer(Box::new(Setup))
        .build(ConnectionManager::<Conn>::new(url))
        .expect("the database opens");
    let mut conn = pool.get().expect("a connection");
    conn.batch_execute(
        "CREATE TABLE IF NOT EXISTS bare_rows (id TEXT PRIMARY KEY, dialogue_id TEXT NOT NULL, \
         body TEXT NOT NULL, created_at TIMESTAMP NOT NULL); \
         CREATE INDEX IF NOT EXISTS bare_rows_dialogue ON bare_rows (dialogue_id, created_at);",
    )
    .expect("the table is created");
    pool
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: bare_baseline hello|insert|group DATABASE_URL ADDRESS";
    let (mode, url, address) = match args.as_slice() {
        [_, mode, url, address] => (mode.clone(), url.clone(), address.clone()),
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    };
    // One writer connection on SQLite, as the service has; a pool on PostgreSQL.
    let pool_size = std::env::var("POOL")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if url.starts_with("postgres") { 16 } else { 1 });
    let pool = open(&url, pool_size);
    let (sender, receiver) = mpsc::channel::<(NewRow, Reply)>();
    if mode == "group" {
        let pool = pool.clone();
        std::thread::spawn(move || commit_in_batches(pool, receiver));
    }
    let pool = web::Data::new(pool);
    let sender = web::Data::new(sender);
    let mode_for_app = mode.clone();
    HttpServer::new(move || {
        let app = App::new()
            .app_data(pool.clone())
            .app_data(sender.clone())
            .route("/hello", web::get().to(hello));
        match mode_for_app.as_str() {
            "group" => app.route("/rows", web::post().to(insert_grouped)),
            _ => app.route("/rows", web::post().to(insert_alone)),
        }
    })
    .bind(address)?
    .run()
    .await
}
