//! The service behind nginx, configured as docs/DEPLOYMENT.md says ("Several instances on
//! PostgreSQL"): an upstream of two instances, HTTP/1.1 with keep-alive, no buffering, a
//! long read timeout. Runs when `/usr/sbin/nginx` is present; fails instead of skipping
//! when `DOITHOAI_REQUIRE_NGINX=1` (`.ci/run` sets it).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use doithoai::events::Event;
use serde_json::{Value, json};

use crate::helpers::{open_dialogue, spawn_app_with};
use crate::instances::{Other, wait_for_event};
use crate::smtp::free_port;

const NGINX: &str = "/usr/sbin/nginx";

/// nginx in the foreground with a configuration of its own in a temporary folder; stopped
/// when dropped.
struct Nginx {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Nginx {
    /// `None` when nginx is not installed (and not required).
    async fn start(upstreams: &[u16]) -> Option<Nginx> {
        if !Path::new(NGINX).exists() {
            assert!(
                std::env::var("DOITHOAI_REQUIRE_NGINX").as_deref() != Ok("1"),
                "DOITHOAI_REQUIRE_NGINX=1 but {NGINX} is missing (apt-get install nginx)"
            );
            eprintln!("note: {NGINX} not found; the test through nginx is skipped");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let d = dir.path().display();
        let servers: String = upstreams
            .iter()
            .map(|p| format!("        server 127.0.0.1:{p};\n"))
            .collect();
        // As root, nginx would run its workers as `nobody`, who cannot write to this folder.
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
        let user = if root { "user root;" } else { "" };
        let config = format!(
            r#"{user}
daemon off;
master_process on;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    upstream doithoai {{
{servers}        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 9m;
        location / {{
            proxy_pass http://doithoai;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_buffering off;
            proxy_read_timeout 1h;
            proxy_send_timeout 1h;
        }}
    }}
}}
"#
        );
        let conf = dir.path().join("nginx.conf");
        std::fs::write(&conf, config).unwrap();
        let child = Command::new(NGINX)
            .arg("-p")
            .arg(dir.path())
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("nginx starts");
        let nginx = Nginx {
            child,
            port,
            _dir: dir,
        };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(nginx);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let log = std::fs::read_to_string(nginx._dir.path().join("error.log")).unwrap_or_default();
        panic!("nginx did not start listening on {port}: {log}");
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

async fn get(client: &reqwest::Client, url: &str) -> (u16, Value) {
    let reply = client.get(url).send().await.unwrap();
    let status = reply.status().as_u16();
    (status, reply.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn two_instances_behind_nginx_serve_requests_and_share_changes() {
    let trusted = |s: &mut doithoai::Settings| s.trusted_proxy = Some([127, 0, 0, 1].into());
    let first = spawn_app_with(trusted).await;
    let second = if first.db.is_postgres() {
        Some(Other::start(&first, trusted).await)
    } else {
        eprintln!("note: on SQLite one instance runs behind nginx (several need PostgreSQL)");
        None
    };
    let first_port = first.address.rsplit(':').next().unwrap().parse().unwrap();
    let mut ports = vec![first_port];
    if let Some(second) = &second {
        ports.push(second.address.rsplit(':').next().unwrap().parse().unwrap());
    }
    let Some(nginx) = Nginx::start(&ports).await else {
        return;
    };
    let client = &first.client;
    let (status, health) = get(client, &nginx.url("/healthz")).await;
    assert_eq!(status, 200, "{health}");
    assert_eq!(health["status"], "ok");

    let (token, id) = open_dialogue(&first, json!({})).await;
    let path = format!("/api/v1/dialogues/{id}");
    // Round robin: two reads through the proxy, one per instance, each keeps a copy.
    for _ in 0..2 {
        let (status, _) = get(client, &nginx.url(&path)).await;
        assert_eq!(status, 200);
    }
    let mut buses = vec![first.state.db.bus().subscribe()];
    if let Some(second) = &second {
        buses.push(second.state.db.bus().subscribe());
    }
    let title = "Đối thoại qua nginx (đã sửa)";
    let edited = client
        .patch(nginx.url(&path))
        .bearer_auth(&token)
        .json(&json!({"title": title}))
        .send()
        .await
        .unwrap();
    assert_eq!(edited.status().as_u16(), 200);
    // Whichever instance took the edit, both have heard of it: one from its own commit, the
    // other through PostgreSQL.
    // The live stream through nginx is the next test's.
    for bus in &mut buses {
        wait_for_event(
            bus,
            Duration::from_secs(10),
            |e| matches!(e, Event::DialogueChanged { dialogue_id } if *dialogue_id == id),
        )
        .await;
    }
    // Both instances answer with the change at once (their copies were forgotten, not
    // waited out).
    for _ in 0..2 {
        let (status, dialogue) = get(client, &nginx.url(&path)).await;
        assert_eq!(status, 200);
        assert_eq!(dialogue["title"], title);
    }
}

/// Two stream clients through nginx (round robin puts one on each instance) both receive a
/// change made directly on the first instance: the event crossed to the other instance,
/// and nginx passed it on at once rather than buffering the stream.
#[tokio::test]
async fn a_stream_client_behind_nginx_receives_an_event_raised_on_the_other_instance() {
    let trusted = |s: &mut doithoai::Settings| s.trusted_proxy = Some([127, 0, 0, 1].into());
    let first = spawn_app_with(trusted).await;
    let second = if first.db.is_postgres() {
        Some(Other::start(&first, trusted).await)
    } else {
        eprintln!("note: on SQLite one instance runs behind nginx (several need PostgreSQL)");
        None
    };
    let mut ports = vec![first.address.rsplit(':').next().unwrap().parse().unwrap()];
    if let Some(second) = &second {
        ports.push(second.address.rsplit(':').next().unwrap().parse().unwrap());
    }
    let Some(nginx) = Nginx::start(&ports).await else {
        return;
    };
    let (organizer, id, _code, approved, _waiting) = crate::live::running_dialogue(&first).await;
    let url = nginx.url(&format!("/api/v1/dialogues/{id}/live/events"));
    let mut streams = Vec::new();
    for _ in 0..2 {
        let client = reqwest::Client::new();
        let mut stream = crate::live::Listener::open_url(&client, &url, None).await;
        assert_eq!(stream.next().await.kind, "current_question");
        streams.push((client, stream));
    }
    let reply = first
        .put_json(
            &format!("/api/v1/dialogues/{id}/live"),
            Some(&organizer),
            &json!({"current_question_id": approved[0]}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    for (_, stream) in &mut streams {
        let event = stream.next_of("current_question").await;
        assert_eq!(event.data["question"]["id"], approved[0].as_str());
    }
}
