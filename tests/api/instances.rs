//! Several instances on one database, the way a province runs the service for all its
//! districts: events cross instances, job workers share the work without sending an email
//! twice, rate limits hold for the whole service. On SQLite, one server per file.
//!
//! The tests about several instances need PostgreSQL (`TEST_DATABASE_URL`); on SQLite they
//! print a note and pass, as a second instance is refused there (tested below).

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use doithoai::error::AppError;
use doithoai::events::{self, Event};
use doithoai::jobs::{self, NewEmail};
use doithoai::state::AppState;
use doithoai::{Application, Settings};
use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::helpers::{PASSWORD, TestApp, open_dialogue, spawn_app_with};
use crate::smtp::SmtpServer;

/// Another instance on the database of `first`, with the same kind of settings.
pub struct Other {
    pub address: String,
    pub state: AppState,
    server: actix_web::dev::ServerHandle,
    _mail: tempfile::TempDir,
}

impl Drop for Other {
    fn drop(&mut self) {
        drop(self.server.stop(false));
    }
}

impl Other {
    pub async fn start(first: &TestApp, adjust: impl FnOnce(&mut Settings)) -> Other {
        let mail = tempfile::tempdir().unwrap();
        let mut settings = Settings::for_database(&first.db.url).unwrap();
        settings.mail_dir = mail.path().to_path_buf();
        settings.workers = 1;
        settings.db_pool_size = 4;
        settings.run_job_worker = false;
        adjust(&mut settings);
        let app = Application::build(settings).expect("the second instance starts");
        let address = format!("http://127.0.0.1:{}", app.port());
        let state = app.state().clone();
        let server = app.server_handle();
        tokio::spawn(app.run_until_stopped());
        Other {
            address,
            state,
            server,
            _mail: mail,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }
}

/// Skips (with a note) where several instances cannot run.
fn postgres_only(app: &TestApp) -> bool {
    if !app.db.is_postgres() {
        eprintln!("note: several instances need PostgreSQL (TEST_DATABASE_URL); skipped");
    }
    app.db.is_postgres()
}

/// The first event on `bus` that `wanted` accepts, or a panic after `within`.
pub async fn wait_for_event(
    bus: &mut broadcast::Receiver<Event>,
    within: Duration,
    wanted: impl Fn(&Event) -> bool,
) -> Event {
    tokio::time::timeout(within, async {
        loop {
            match bus.recv().await {
                Ok(event) if wanted(&event) => return event,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => panic!("the bus closed"),
            }
        }
    })
    .await
    .expect("the event arrives")
}

async fn get_json(client: &reqwest::Client, url: &str) -> (u16, Value) {
    let reply = client.get(url).send().await.unwrap();
    let status = reply.status().as_u16();
    (status, reply.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_dialogue_edited_through_one_instance_is_fresh_at_once_on_the_other() {
    let first = spawn_app_with(|_| {}).await;
    if !postgres_only(&first) {
        return;
    }
    let second = Other::start(&first, |_| {}).await;
    let (token, id) = open_dialogue(&first, json!({})).await;
    // The second instance reads the dialogue, and so keeps it in its cache.
    let path = format!("/api/v1/dialogues/{id}");
    let (status, before) = get_json(&first.client, &second.url(&path)).await;
    assert_eq!(status, 200);
    let mut heard = second.state.db.bus().subscribe();
    let title = "Đối thoại về giải phóng mặt bằng (đã sửa)";
    let edited = first
        .patch(&path, Some(&token), &json!({"title": title}))
        .await;
    assert_eq!(edited.status, 200, "{}", edited.text);
    assert_ne!(before["title"], title);
    // The event reaches the other instance's bus (its cache forgot the entry first: the
    // callbacks run before the broadcast) ...
    let event = wait_for_event(
        &mut heard,
        Duration::from_secs(10),
        |e| matches!(e, Event::DialogueChanged { dialogue_id } if *dialogue_id == id),
    )
    .await;
    assert_eq!(
        event,
        Event::DialogueChanged {
            dialogue_id: id.clone()
        }
    );
    // ... so it answers with the change right away, not a second later.
    let (_, after) = get_json(&first.client, &second.url(&path)).await;
    assert_eq!(after["title"], title);
}

#[tokio::test]
async fn committed_events_cross_instances_and_rolled_back_ones_do_not() {
    let first = spawn_app_with(|_| {}).await;
    if !postgres_only(&first) {
        return;
    }
    let second = Other::start(&first, |_| {}).await;
    let mut heard = second.state.db.bus().subscribe();
    let mut own = first.state.db.bus().subscribe();
    let changed = |n: &str| Event::QuestionsChanged {
        dialogue_id: n.to_string(),
    };
    let rolled_back = first
        .state
        .db
        .write(move |_| -> Result<(), AppError> {
            events::emit(Event::QuestionsChanged {
                dialogue_id: "rolled-back".into(),
            });
            Err(AppError::Conflict("test"))
        })
        .await;
    assert!(rolled_back.is_err());
    let grouped_failure = first
        .state
        .db
        .write_grouped(move |_| -> Result<(), AppError> {
            events::emit(Event::QuestionsChanged {
                dialogue_id: "rolled-back-grouped".into(),
            });
            Err(AppError::Conflict("test"))
        })
        .await;
    assert!(grouped_failure.is_err());
    first
        .state
        .db
        .write(|_| {
            events::emit(Event::QuestionsChanged {
                dialogue_id: "write".into(),
            });
            Ok(())
        })
        .await
        .unwrap();
    first
        .state
        .db
        .write_grouped(|_| {
            events::emit(Event::QuestionsChanged {
                dialogue_id: "grouped".into(),
            });
            Ok(())
        })
        .await
        .unwrap();
    // Notifications arrive in commit order, so had a rolled-back one been sent, it would
    // come before these.
    let within = Duration::from_secs(10);
    assert_eq!(
        wait_for_event(&mut heard, within, |_| true).await,
        changed("write")
    );
    assert_eq!(
        wait_for_event(&mut heard, within, |_| true).await,
        changed("grouped")
    );
    // The sender publishes its own events once: not again when its listener hears them.
    assert_eq!(
        wait_for_event(&mut own, within, |_| true).await,
        changed("write")
    );
    assert_eq!(
        wait_for_event(&mut own, within, |_| true).await,
        changed("grouped")
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(own.try_recv().is_err(), "an event was published twice");
    assert!(heard.try_recv().is_err(), "an unexpected event crossed");
}

#[tokio::test]
async fn the_job_workers_of_two_instances_send_each_of_1000_emails_exactly_once() {
    let smtp = SmtpServer::start();
    let smtp_url = smtp.url();
    let with_worker = |s: &mut Settings| {
        s.run_job_worker = true;
        s.smtp_url = Some(smtp_url.clone());
    };
    let first = spawn_app_with(with_worker).await;
    if !postgres_only(&first) {
        return;
    }
    let second = Other::start(&first, with_worker).await;
    const EMAILS: usize = 1000;
    first
        .state
        .db
        .write(|conn| {
            for n in 0..EMAILS {
                jobs::enqueue_email(
                    conn,
                    NewEmail {
                        kind: "invitation",
                        recipient: format!("nguoi-{n}@benluc.example.vn"),
                        subject: format!("Thư mời {n}"),
                        body_text: "Kính mời ông/bà dự hội nghị đối thoại.".into(),
                        body_html: "<p>Kính mời ông/bà dự hội nghị đối thoại.</p>".into(),
                        attachments: Vec::new(),
                        dedupe_key: None,
                        subject_ref: None,
                    },
                )?;
            }
            Ok(())
        })
        .await
        .unwrap();
    smtp.wait_for(EMAILS, Duration::from_secs(240)).await;
    // Until every job is recorded, then a little longer: a duplicate would arrive now.
    for _ in 0..600 {
        let counts = first
            .state
            .db
            .read(|conn| Ok(jobs::counts(conn)?))
            .await
            .unwrap();
        if counts.get("done").copied().unwrap_or(0) == EMAILS as i64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let received = smtp.received();
    let ids: HashSet<String> = received.iter().map(|m| m.message_id()).collect();
    let recipients: HashSet<String> = received.iter().flat_map(|m| m.to.clone()).collect();
    assert_eq!(received.len(), EMAILS, "each email arrives exactly once");
    assert_eq!(ids.len(), EMAILS);
    assert_eq!(recipients.len(), EMAILS);
    let attempts: i64 = second
        .state
        .db
        .read(|conn| {
            use diesel::prelude::*;
            use doithoai::db::schema::job_attempts;
            Ok(job_attempts::table.count().get_result(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(attempts, EMAILS as i64, "one attempt per email");
}

#[tokio::test]
async fn registrations_are_capped_per_dialogue_across_instances() {
    let limits = |s: &mut Settings| {
        s.registrations_per_address_per_minute = 1_000;
        s.registrations_per_dialogue_per_minute = 3;
        s.registrations_per_minute = 1_000;
    };
    let first = spawn_app_with(limits).await;
    if !postgres_only(&first) {
        return;
    }
    let second = Other::start(&first, limits).await;
    let (_token, id) = open_dialogue(&first, json!({"self_registration": true})).await;
    let person = |i: usize| json!({"full_name": format!("Người Dự {i}"), "phone": format!("09{:08}", 700 + i), "category": "other", "consent": true});
    let path = format!("/api/v1/dialogues/{id}/registrations");
    let register = |url: String, body: Value| {
        let client = first.client.clone();
        async move {
            let reply = client.post(url).json(&body).send().await.unwrap();
            reply.status().as_u16()
        }
    };
    assert_eq!(register(first.url(&path), person(0)).await, 201);
    assert_eq!(register(second.url(&path), person(1)).await, 201);
    assert_eq!(register(first.url(&path), person(2)).await, 201);
    // Each instance alone has seen fewer than three; together they have seen three.
    assert_eq!(register(second.url(&path), person(3)).await, 429);
    assert_eq!(register(first.url(&path), person(4)).await, 429);
}

#[tokio::test]
async fn an_address_blocked_for_failed_logins_on_one_instance_is_refused_by_the_other() {
    let first = spawn_app_with(|_| {}).await;
    if !postgres_only(&first) {
        return;
    }
    let second = Other::start(&first, |_| {}).await;
    let mut heard = second.state.db.bus().subscribe();
    let wrong = json!({"email": "ke-do-doan@benluc.example.vn", "password": "đoán-mò"});
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(first.post("/api/v1/auth/login", None, &wrong).await.status);
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    wait_for_event(
        &mut heard,
        Duration::from_secs(10),
        |e| matches!(e, Event::AddressBlocked { scope, .. } if scope == "login"),
    )
    .await;
    // Even the right password is refused on the other instance while the block lasts.
    let email = "nguoi-that@benluc.example.vn";
    first
        .create_account(email, "Nguyễn Văn Thật", "organizer", None)
        .await;
    let reply = first
        .client
        .post(second.url("/api/v1/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status().as_u16(), 429);
    assert!(reply.headers().contains_key("retry-after"));
}

fn doithoai(database_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_doithoai"));
    command
        .env("DATABASE_URL", database_url)
        .env("DOITHOAI_LOG", "warn")
        .env("DOITHOAI_BIND", "127.0.0.1:0")
        .env_remove("DOITHOAI_SMTP_URL");
    command
}

/// Whatever the test database, this is about a SQLite file.
#[test]
fn a_second_server_on_the_same_sqlite_file_refuses_to_start_and_the_cli_still_works() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("doithoai.db").display());
    let mut running = doithoai(&url)
        .arg("serve")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(running.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.contains("is serving"), "{first}");
    let second = doithoai(&url).arg("serve").output().unwrap();
    let migrate = doithoai(&url).arg("migrate").output().unwrap();
    let user = doithoai(&url)
        .args([
            "user",
            "create",
            "--email",
            "admin@benluc.example.vn",
            "--name",
            "Quản Trị",
            "--role",
            "admin",
        ])
        .output()
        .unwrap();
    let _ = running.kill();
    let _ = running.wait();
    assert_eq!(second.status.code(), Some(2));
    let stderr = String::from_utf8(second.stderr).unwrap();
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("another doithoai server is already using")
            && stderr.contains("DATABASE_URL"),
        "{stderr}"
    );
    assert!(migrate.status.success(), "{migrate:?}");
    assert!(user.status.success(), "{user:?}");
    // Once the first has stopped, a server starts again on the file.
    let mut again = doithoai(&url)
        .arg("serve")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let line = BufReader::new(again.stdout.take().unwrap())
        .lines()
        .next()
        .unwrap()
        .unwrap();
    let _ = again.kill();
    let _ = again.wait();
    assert!(line.contains("is serving"), "{line}");
}

#[tokio::test]
async fn the_listener_connects_again_when_its_connection_is_cut() {
    let first = spawn_app_with(|_| {}).await;
    if !postgres_only(&first) {
        return;
    }
    let second = Other::start(&first, |_| {}).await;
    let mut heard = second.state.db.bus().subscribe();
    let send = |n: usize| {
        first.state.db.write(move |_| {
            events::emit(Event::QuestionsChanged {
                dialogue_id: format!("{n}"),
            });
            Ok(())
        })
    };
    // Connected: an event crosses.
    send(0).await.unwrap();
    wait_for_event(&mut heard, Duration::from_secs(10), |_| true).await;
    // An administrator (or a failover) ends the listeners' sessions.
    let cut: Vec<bool> = first
        .state
        .db
        .read(|conn| {
            use diesel::RunQueryDsl;
            #[derive(diesel::QueryableByName)]
            struct Cut {
                #[diesel(sql_type = diesel::sql_types::Bool)]
                cut: bool,
            }
            let rows: Vec<Cut> = diesel::sql_query(
                "SELECT pg_terminate_backend(pid) AS cut FROM pg_stat_activity \
                 WHERE datname = current_database() AND application_name = 'doithoai-listener'",
            )
            .load(conn)?;
            Ok(rows.into_iter().map(|r| r.cut).collect())
        })
        .await
        .unwrap();
    assert_eq!(cut, vec![true, true], "each instance has one listener");
    // Events sent while it was away are lost; once it is back, they cross again.
    let mut n = 1;
    let back = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            send(n).await.unwrap();
            n += 1;
            tokio::select! {
                event = heard.recv() => return event.unwrap(),
                () = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
        }
    })
    .await;
    assert!(
        back.is_ok(),
        "no event crossed after the connection was cut"
    );
}
