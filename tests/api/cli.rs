//! The `doithoai` binary as an operator runs it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::helpers::{TestDb, spawn_app_with};

fn doithoai(database_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_doithoai"));
    command
        .env("DATABASE_URL", database_url)
        .env("DOITHOAI_LOG", "warn")
        .env_remove("DOITHOAI_BIND")
        .env_remove("DOITHOAI_SMTP_URL");
    command
}

#[tokio::test]
async fn an_admin_made_with_the_cli_logs_in_with_the_printed_password() {
    let app = spawn_app_with(|_| {}).await;
    let output = doithoai(&app.db.url)
        .args([
            "user",
            "create",
            "--email",
            "chu.tich@benluc.example.vn",
            "--name",
            "Lê Thành Út",
            "--role",
            "admin",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let password = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Password: "))
        .expect("the generated password is printed")
        .trim()
        .to_string();
    let login = app.login("chu.tich@benluc.example.vn", &password).await;
    assert_eq!(login.status, 200, "{}", login.text);
    assert_eq!(login.body["user"]["role"], "admin");
    assert_eq!(login.body["user"]["name"], "Lê Thành Út");
}

#[test]
fn the_cli_refuses_a_bad_account_and_names_the_option() {
    let db = TestDb::new();
    let output = doithoai(&db.url)
        .args([
            "user", "create", "--email", "nope", "--name", "X", "--role", "agency",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("--email"), "{stderr}");
    assert!(stderr.contains("--agency"), "{stderr}");
}

#[test]
fn an_invalid_setting_stops_start_up_with_one_line_naming_it() {
    let db = TestDb::new();
    for (name, value) in [
        ("DOITHOAI_BIND", "not-an-address"),
        ("DOITHOAI_SMTP_URL", "pigeon://x"),
        ("DATABASE_URL", "mysql://x"),
        ("DOITHOAI_SMTP_CA_FILE", "/no/such/ca.pem"),
    ] {
        let output = doithoai(&db.url)
            .env(name, value)
            .arg("serve")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{name}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(name), "{stderr}");
    }
}

#[test]
fn serve_without_settings_uses_a_sqlite_file_in_the_working_directory_and_says_how_to_start() {
    let cwd = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_doithoai"))
        .current_dir(cwd.path())
        .env_remove("DATABASE_URL")
        .env("DOITHOAI_BIND", "127.0.0.1:0")
        .env("DOITHOAI_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.contains("(database: sqlite)"), "{first}");
    let hint: Vec<String> = lines.by_ref().take(2).map(|l| l.unwrap()).collect();
    assert!(hint[1].contains("doithoai user create"), "{hint:?}");
    let port: u16 = first
        .split(':')
        .nth(2)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let health = {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(cwd.path().join("doithoai.db").exists());
    assert!(health.contains("\"database\":\"sqlite\""), "{health}");
}

/// `serve`'s environment once it is up: what it restarted itself with.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn environment_of_serve(arena_limit: Option<&str>) -> String {
    let db = TestDb::new();
    let mut command = doithoai(&db.url);
    command
        .arg("serve")
        .env("DOITHOAI_BIND", "127.0.0.1:0")
        .env_remove("MALLOC_ARENA_MAX")
        .env_remove("MALLOC_MMAP_THRESHOLD_")
        .stdout(Stdio::piped());
    if let Some(limit) = arena_limit {
        command.env("MALLOC_ARENA_MAX", limit);
    }
    let mut child = command.spawn().unwrap();
    // The first line comes once it listens, after the restart.
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let environment = std::fs::read(format!("/proc/{}/environ", child.id())).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(first.contains("127.0.0.1:"), "{first}");
    String::from_utf8_lossy(&environment).replace('\0', "\n")
}

/// The server limits glibc's malloc to two arenas and a fixed `mmap` threshold (it restarts
/// itself with the variables set, keeping its process id), unless the operator set an arena
/// limit of their own.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn serve_runs_with_two_malloc_arenas_unless_the_operator_chose() {
    let set = environment_of_serve(None);
    assert!(set.lines().any(|l| l == "MALLOC_ARENA_MAX=2"), "{set}");
    assert!(
        set.lines().any(|l| l == "MALLOC_MMAP_THRESHOLD_=131072"),
        "{set}"
    );
    let chosen = environment_of_serve(Some("4"));
    assert!(
        chosen.lines().any(|l| l == "MALLOC_ARENA_MAX=4"),
        "{chosen}"
    );
}

#[test]
fn demo_fills_an_empty_database_once() {
    let db = TestDb::new();
    let first = doithoai(&db.url).arg("demo").output().unwrap();
    let stdout = String::from_utf8(first.stdout).unwrap();
    assert!(
        first.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(stdout.contains("organizer"), "{stdout}");
    assert!(stdout.contains("password: "), "{stdout}");
    let second = doithoai(&db.url).arg("demo").output().unwrap();
    assert!(!second.status.success());
    assert!(String::from_utf8_lossy(&second.stderr).contains("database_not_empty"));
}

#[tokio::test]
async fn the_demo_dialogue_is_public_and_its_organizer_can_sign_in() {
    let app = spawn_app_with(|_| {}).await;
    let output = doithoai(&app.db.url).arg("demo").output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let organizer_line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("organizer"))
        .unwrap();
    let email = organizer_line.split_whitespace().nth(1).unwrap();
    let password = organizer_line.split("password: ").nth(1).unwrap().trim();
    assert_eq!(app.login(email, password).await.status, 200);
    let list = app.list_dialogues(None).await;
    assert_eq!(list.body["total"], 1);
    let dialogue = &list.body["items"][0];
    assert_eq!(dialogue["status"], "open");
    assert_eq!(dialogue["host_unit"], "UBND huyện Bến Lức");
    assert_eq!(dialogue["officials"].as_array().unwrap().len(), 3);
    assert!(dialogue["agenda"].as_array().unwrap().len() >= 5);
    assert!(stdout.contains("80 invitees"), "{stdout}");
    let token = app.login(email, password).await.body["token"]
        .as_str()
        .unwrap()
        .to_string();
    let id = dialogue["id"].as_str().unwrap();
    let attendance = app.attendance(&token, id).await;
    assert_eq!(attendance.body["invited"], 80);
    assert_eq!(
        attendance.body["by_category"]["completed_sentence"]["invited"],
        35
    );
    assert_eq!(attendance.body["registered"], 60, "every seat taken");
    assert!(
        attendance.body["waitlisted"].as_i64().unwrap() > 0,
        "{}",
        attendance.text
    );
    assert!(attendance.body["checked_in"].as_i64().unwrap() > 0);
    assert!(attendance.body["declined"].as_i64().unwrap() > 0);
    // The reference day's questions: every status the day has, answers published, one overdue.
    let all = app
        .get(&format!("/api/v1/dialogues/{id}/overview"), Some(&token))
        .await;
    let by_status: std::collections::HashMap<String, i64> = all.body["by_status"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["status"].as_str().unwrap().to_string(),
                s["count"].as_i64().unwrap(),
            )
        })
        .collect();
    for status in [
        "submitted",
        "approved",
        "rejected",
        "merged",
        "assigned",
        "answered",
    ] {
        assert!(
            by_status.get(status).is_some_and(|n| *n > 0),
            "{status}: {}",
            all.text
        );
    }
    assert_eq!(by_status.values().sum::<i64>(), 40);
    let overdue = app
        .get("/api/v1/assignments?overdue=true", Some(&token))
        .await;
    assert_eq!(overdue.body["total"], 1, "{}", overdue.text);
    let public = app
        .get(
            &format!("/api/v1/dialogues/{id}/questions?status=answered"),
            None,
        )
        .await;
    assert_eq!(public.body["total"], 12, "published answers");
}

#[test]
fn a_port_already_in_use_is_reported_as_a_bad_bind_setting() {
    let db = TestDb::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let output = doithoai(&db.url)
        .env("DOITHOAI_BIND", &address)
        .arg("serve")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("DOITHOAI_BIND") && stderr.contains(&address),
        "{stderr}"
    );
}
