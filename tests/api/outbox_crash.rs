//! The service stopped mid-batch and started again sends nothing twice: SIGTERM lets the
//! worker finish the message in hand; after SIGKILL at most the one message in flight is
//! repeated, with the same Message-ID.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use doithoai::audit::Actor;
use doithoai::db::Db;
use doithoai::html::Templates;
use doithoai::participants::model::{Category, Person};
use doithoai::participants::notify::Mailing;
use doithoai::{Settings, dialogues, invitations};

use crate::helpers::TestDb;
use crate::smtp::SmtpServer;

const INVITEES: usize = 600;
const LEASE_SECONDS: &str = "10";

/// Puts an open dialogue with `INVITEES` queued invitation emails into the database.
fn queue_invitations(url: &str, smtp_url: &str) {
    let db = Db::open(url, 2).unwrap();
    let mut settings = Settings::for_database(url).unwrap();
    settings.smtp_url = Some(smtp_url.to_string());
    let templates = Templates::load().unwrap();
    let mailing = Mailing {
        templates: &templates,
        settings: &settings,
    };
    db.write_now(|conn| {
        let input = doithoai::demo::reference_dialogue();
        let full = dialogues::ops::create(conn, &input, &Actor::System, None)?;
        let open = dialogues::ops::change_status(
            conn,
            &full.dialogue.id,
            dialogues::model::DialogueStatus::Open,
            &Actor::System,
        )?;
        let people = (0..INVITEES)
            .map(|i| {
                (
                    i,
                    Person {
                        full_name: format!("Người Thử Số {i}"),
                        email: Some(format!("nguoi{i}@example.vn")),
                        phone: None,
                        category: Category::Other,
                        address: None,
                        language: doithoai::i18n::Lang::Vi,
                    },
                )
            })
            .collect();
        invitations::ops::add_people(conn, &open.dialogue, people, &Actor::System)?;
        let queued = invitations::ops::send_all(conn, mailing, &open.dialogue, &Actor::System)?;
        assert_eq!(queued, INVITEES);
        Ok(())
    })
    .unwrap();
}

fn start_service(url: &str, smtp_url: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_doithoai"))
        .env("DATABASE_URL", url)
        .env("DOITHOAI_SMTP_URL", smtp_url)
        .env("DOITHOAI_BIND", "127.0.0.1:0")
        .env("DOITHOAI_BASE_URL", "http://doithoai.test")
        .env("DOITHOAI_OUTBOX_LEASE_SECONDS", LEASE_SECONDS)
        .env("DOITHOAI_OUTBOX_RETRY_SECONDS", "1")
        .env(
            "DOITHOAI_LOG",
            std::env::var("CRASH_TEST_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdout(Stdio::null())
        .spawn()
        .expect("the service starts")
}

fn pending(db: &Db) -> i64 {
    let counts = db
        .read_now(|conn| Ok(doithoai::jobs::counts(conn)?))
        .unwrap();
    counts.get("pending").copied().unwrap_or(0)
}

async fn stop_and_restart(signal: &str) -> (usize, usize) {
    let smtp = SmtpServer::start();
    let db = TestDb::new();
    queue_invitations(&db.url, &smtp.url());
    let mut first = start_service(&db.url, &smtp.url());
    let got = smtp.wait_for(INVITEES / 6, Duration::from_secs(60)).await;
    assert!(
        got.len() < INVITEES,
        "the batch should still be going when it is stopped"
    );
    let status = Command::new("kill")
        .args([signal, &first.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    first.wait().unwrap();
    let at_stop = smtp.received().len();
    assert!(
        at_stop < INVITEES,
        "stopped mid-batch ({at_stop} of {INVITEES} sent)"
    );

    let mut second = start_service(&db.url, &smtp.url());
    let store = Db::open(&db.url, 1).unwrap();
    let until = Instant::now() + Duration::from_secs(90);
    while pending(&store) > 0 && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = Command::new("kill")
        .args(["-TERM", &second.id().to_string()])
        .status();
    second.wait().unwrap();
    assert_eq!(pending(&store), 0, "everything was sent after the restart");

    let mut by_id: HashMap<String, usize> = HashMap::new();
    for message in smtp.received() {
        *by_id.entry(message.message_id()).or_default() += 1;
    }
    let total: usize = by_id.values().sum();
    eprintln!(
        "{signal}: stopped after {at_stop} messages; {} distinct, {total} received in all",
        by_id.len()
    );
    (by_id.len(), total)
}

#[tokio::test]
async fn a_sigterm_mid_batch_sends_nothing_twice() {
    let (distinct, total) = stop_and_restart("-TERM").await;
    assert_eq!(distinct, INVITEES);
    assert_eq!(total, INVITEES, "no message was sent twice");
}

#[tokio::test]
async fn a_sigkill_mid_batch_repeats_at_most_the_message_in_flight_with_the_same_id() {
    let (distinct, total) = stop_and_restart("-KILL").await;
    assert_eq!(distinct, INVITEES);
    assert!(total - distinct <= 1, "{} repeats", total - distinct);
}
