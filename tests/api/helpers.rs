//! The test client: each test starts the real application on port 0 with a database of its
//! own (a temporary SQLite file, or a fresh PostgreSQL database when TEST_DATABASE_URL is
//! set, dropped afterwards) and talks HTTP to it.

use std::path::PathBuf;

use diesel::{Connection, PgConnection, RunQueryDsl};
use doithoai::accounts::ops::{self, AccountInput};
use doithoai::audit::Actor;
use doithoai::auth::secrets;
use doithoai::jobs::OutboxWorker;
use doithoai::state::AppState;
use doithoai::{Application, Settings};
use serde_json::{Value, json};
use tempfile::TempDir;

pub const PASSWORD: &str = "mật-khẩu-thử-nghiệm-2026";

/// A database that exists for one test only.
pub struct TestDb {
    pub url: String,
    _dir: TempDir,
    postgres: Option<(String, String)>,
}

impl TestDb {
    pub fn new() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        match std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            Some(admin_url) => {
                let name = format!("doithoai_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin =
                    PgConnection::establish(&admin_url).expect("TEST_DATABASE_URL reachable");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .expect("create the test database");
                let mut url = url::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
                url.set_path(&name);
                TestDb {
                    url: url.to_string(),
                    _dir: dir,
                    postgres: Some((admin_url, name)),
                }
            }
            None => {
                let path = dir.path().join("test.db");
                TestDb {
                    url: format!("sqlite://{}", path.display()),
                    _dir: dir,
                    postgres: None,
                }
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = &self.postgres {
            if let Ok(mut admin) = PgConnection::establish(admin_url) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin);
            }
        }
    }
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub worker: OutboxWorker,
    pub mail_dir: PathBuf,
    pub db: TestDb,
    server: actix_web::dev::ServerHandle,
    _mail: TempDir,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // The command is sent at once; nobody needs to wait for the stop to finish.
        drop(self.server.stop(false));
    }
}

/// A response, read whole.
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    /// The error code of an error envelope.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the application with settings changed by `adjust`.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let db = TestDb::new();
    let mail = tempfile::tempdir().expect("mail directory");
    let mut settings = Settings::for_database(&db.url).expect("test settings");
    settings.mail_dir = mail.path().to_path_buf();
    settings.workers = 1;
    settings.db_pool_size = 4;
    // Tests drain the outbox themselves, so they can look between steps.
    settings.run_outbox_worker = false;
    adjust(&mut settings);
    let app = Application::build(settings).expect("the application starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    let worker = app.outbox_worker();
    let server = app.server_handle();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client"),
        state,
        worker,
        mail_dir: mail.path().to_path_buf(),
        db,
        server,
        _mail: mail,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    async fn reply(response: reqwest::Response) -> Reply {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("response body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    fn with_token(
        builder: reqwest::RequestBuilder,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        match token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        let request = Self::with_token(self.client.get(self.url(path)), token);
        Self::reply(request.send().await.expect("GET")).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Reply {
        let request = Self::with_token(self.client.post(self.url(path)).json(body), token);
        Self::reply(request.send().await.expect("POST")).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: &Value) -> Reply {
        let request = Self::with_token(self.client.patch(self.url(path)).json(body), token);
        Self::reply(request.send().await.expect("PATCH")).await
    }

    /// POST with a raw body and content type, for malformed and oversized requests.
    pub async fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Reply {
        let request = self
            .client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body);
        Self::reply(Self::with_token(request, token).send().await.expect("POST")).await
    }

    /// Creates a staff account directly (as the CLI does) and returns its user id.
    pub async fn create_account(
        &self,
        email: &str,
        name: &str,
        role: &str,
        agency_id: Option<&str>,
    ) -> String {
        let db = self.state.db.clone();
        let input = AccountInput {
            email: email.into(),
            name: name.into(),
            role: role.into(),
            agency_id: agency_id.map(str::to_string),
            password: Some(PASSWORD.into()),
            language: None,
        };
        tokio::task::spawn_blocking(move || {
            let account = input.validate().expect("valid account");
            let hash = secrets::hash_password(PASSWORD).expect("hash");
            db.write_now(|conn| ops::create(conn, &account, Some(hash), &Actor::System, None))
                .expect("account created")
                .id
        })
        .await
        .expect("blocking task")
    }

    pub async fn login(&self, email: &str, password: &str) -> Reply {
        self.post(
            "/api/v1/auth/login",
            None,
            &json!({"email": email, "password": password}),
        )
        .await
    }

    /// A signed-in staff member of the given role; returns the bearer token.
    pub async fn staff_token(&self, role: &str) -> String {
        let email = format!("{role}-{}@benluc.example.vn", uuid::Uuid::new_v4().simple());
        let agency = if role == "agency" {
            Some(self.create_agency_directly("Công an huyện Bến Lức").await)
        } else {
            None
        };
        self.create_account(&email, "Nguyễn Thị Hồng Nhung", role, agency.as_deref())
            .await;
        let reply = self.login(&email, PASSWORD).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.body["token"].as_str().expect("token").to_string()
    }

    async fn create_agency_directly(&self, name: &str) -> String {
        let db = self.state.db.clone();
        let name = format!("{name} {}", uuid::Uuid::new_v4().simple());
        tokio::task::spawn_blocking(move || {
            let new = doithoai::agencies::model::AgencyInput {
                name,
                short_name: None,
                kind: "government".into(),
                email: None,
            }
            .parse()
            .expect("valid agency");
            db.write_now(|conn| doithoai::agencies::store::insert(conn, &new))
                .expect("agency stored");
            new.id
        })
        .await
        .expect("blocking task")
    }

    pub async fn create_dialogue(&self, token: &str, body: &Value) -> Reply {
        self.post("/api/v1/dialogues", Some(token), body).await
    }

    /// Sends every email that is due, as the worker would.
    pub async fn drain_outbox(&self) -> usize {
        self.worker.drain().await.expect("outbox drained")
    }

    /// The plain-text part of each `.eml` file the default mailer wrote, decoded.
    pub fn mail_texts(&self) -> Vec<String> {
        self.mail_files()
            .iter()
            .map(|raw| {
                let message = mail_parser::MessageParser::default()
                    .parse(raw.as_bytes())
                    .expect("an email");
                message
                    .body_text(0)
                    .map(|t| t.to_string())
                    .unwrap_or_default()
            })
            .collect()
    }

    /// The `.eml` files written by the default mailer.
    pub fn mail_files(&self) -> Vec<String> {
        let mut files: Vec<String> = std::fs::read_dir(&self.mail_dir)
            .map(|dir| {
                dir.filter_map(|e| e.ok())
                    .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
    }
}

/// The reference dialogue of API.md.
pub fn reference_dialogue() -> Value {
    json!({
        "title": "Hội nghị đối thoại với người chấp hành xong hình phạt tù, người thi hành án hình sự tại cộng đồng, người nghiện ma túy",
        "description": "Lắng nghe, giải đáp kiến nghị về tái hòa nhập cộng đồng, xóa án tích, học nghề và việc làm.",
        "host_unit": "UBND huyện Bến Lức",
        "parent_unit": "UBND tỉnh Long An",
        "locality": "Bến Lức",
        "venue": "Hội trường UBND huyện Bến Lức",
        "starts_at": "2026-11-30T14:00:00+07:00",
        "ends_at": "2026-11-30T17:00:00+07:00",
        "question_deadline": "2026-11-28T17:00:00+07:00",
        "capacity": 120,
        "self_registration": true,
        "anonymous_questions": true,
        "officials": [
            {"name": "Nguyễn Đăng Minh Xuân", "position": "Bí thư Huyện ủy Bến Lức", "role": "chair"},
            {"name": "Lê Thành Út", "position": "Chủ tịch UBND huyện Bến Lức", "role": "chair"},
            {"name": "Trần Thị Thu Hà", "position": "Chuyên viên Văn phòng HĐND và UBND huyện", "role": "secretary"}
        ],
        "agenda": [{"title": "Khai mạc", "presenter": "Chủ tịch UBND huyện"}, {"title": "Đối thoại"}]
    })
}
