//! The test client: each test starts the real application on port 0 with a database of its
//! own (a temporary SQLite file, or a fresh PostgreSQL database when TEST_DATABASE_URL is
//! set, dropped afterwards) and talks HTTP to it.

use std::path::PathBuf;

use diesel::RunQueryDsl;
use doithoai::accounts::ops::{self, AccountInput};
use doithoai::audit::Actor;
use doithoai::auth::secrets;
use doithoai::jobs::JobWorker;
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
                let mut admin = doithoai::db::establish_postgres(&admin_url)
                    .expect("TEST_DATABASE_URL reachable");
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
            if let Ok(mut admin) = doithoai::db::establish_postgres(admin_url) {
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
    pub worker: JobWorker,
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
    // Tests drain the jobs themselves, so they can look between steps.
    settings.run_job_worker = false;
    adjust(&mut settings);
    let app = Application::build(settings).expect("the application starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    let worker = app.job_worker();
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

    pub async fn put(&self, path: &str, token: Option<&str>) -> Reply {
        let request = Self::with_token(self.client.put(self.url(path)), token);
        Self::reply(request.send().await.expect("PUT")).await
    }

    pub async fn put_json(&self, path: &str, token: Option<&str>, body: &Value) -> Reply {
        let request = Self::with_token(self.client.put(self.url(path)), token).json(body);
        Self::reply(request.send().await.expect("PUT")).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        let request = Self::with_token(self.client.delete(self.url(path)), token);
        Self::reply(request.send().await.expect("DELETE")).await
    }

    /// POST /api/v1/dialogues/{id}/questions
    pub async fn ask(&self, id: &str, token: Option<&str>, body: &Value) -> Reply {
        self.post(&format!("/api/v1/dialogues/{id}/questions"), token, body)
            .await
    }

    /// POST /api/v1/questions/{id}/moderation
    pub async fn moderate(&self, token: &str, question: &str, body: &Value) -> Reply {
        self.post(
            &format!("/api/v1/questions/{question}/moderation"),
            Some(token),
            body,
        )
        .await
    }

    /// PUT /api/v1/questions/{id}/vote
    pub async fn vote(&self, token: &str, question: &str) -> Reply {
        self.put(&format!("/api/v1/questions/{question}/vote"), Some(token))
            .await
    }

    /// POST /api/v1/questions/{id}/assignments
    pub async fn assign(&self, token: &str, question: &str, agency: &str, due_at: &str) -> Reply {
        self.post(
            &format!("/api/v1/questions/{question}/assignments"),
            Some(token),
            &json!({"agency_id": agency, "due_at": due_at, "note": "Trả lời ngắn gọn, dễ hiểu."}),
        )
        .await
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

    pub async fn create_agency_directly(&self, name: &str) -> String {
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

    /// GET /api/v1/auth/me: the signed-in staff member.
    pub async fn auth_me(&self, token: Option<&str>) -> Reply {
        self.get("/api/v1/auth/me", token).await
    }

    /// POST /api/v1/users
    pub async fn create_user(&self, token: &str, body: &Value) -> Reply {
        self.post("/api/v1/users", Some(token), body).await
    }

    /// POST /api/v1/users/{id}/password-link
    pub async fn password_link(&self, token: &str, user_id: &str) -> Reply {
        self.post(
            &format!("/api/v1/users/{user_id}/password-link"),
            Some(token),
            &json!({}),
        )
        .await
    }

    /// POST /api/v1/agencies
    pub async fn create_agency(&self, token: &str, body: &Value) -> Reply {
        self.post("/api/v1/agencies", Some(token), body).await
    }

    /// GET /api/v1/agencies
    pub async fn list_agencies(&self, token: Option<&str>) -> Reply {
        self.get("/api/v1/agencies", token).await
    }

    /// POST /api/v1/dialogues
    pub async fn create_dialogue(&self, token: &str, body: &Value) -> Reply {
        self.post("/api/v1/dialogues", Some(token), body).await
    }

    /// GET /api/v1/dialogues
    pub async fn list_dialogues(&self, token: Option<&str>) -> Reply {
        self.get("/api/v1/dialogues", token).await
    }

    /// GET /api/v1/dialogues/{id}
    pub async fn get_dialogue(&self, token: Option<&str>, id: &str) -> Reply {
        self.get(&format!("/api/v1/dialogues/{id}"), token).await
    }

    /// PATCH /api/v1/dialogues/{id}
    pub async fn edit_dialogue(&self, token: &str, id: &str, body: &Value) -> Reply {
        self.patch(&format!("/api/v1/dialogues/{id}"), Some(token), body)
            .await
    }

    /// POST /api/v1/dialogues/{id}/status
    pub async fn change_status(&self, token: &str, id: &str, status: &str) -> Reply {
        self.post(
            &format!("/api/v1/dialogues/{id}/status"),
            Some(token),
            &json!({ "status": status }),
        )
        .await
    }

    /// POST /api/v1/dialogues/{id}/invitations: invitees as JSON.
    pub async fn add_invitees(&self, token: &str, id: &str, people: &Value) -> Reply {
        self.post(
            &format!("/api/v1/dialogues/{id}/invitations"),
            Some(token),
            &json!({ "invitees": people }),
        )
        .await
    }

    /// POST /api/v1/dialogues/{id}/invitations/import: invitees as a CSV file.
    pub async fn import_invitees(&self, token: &str, id: &str, csv: &str) -> Reply {
        self.post_raw(
            &format!("/api/v1/dialogues/{id}/invitations/import"),
            Some(token),
            "text/csv; charset=utf-8",
            csv.as_bytes().to_vec(),
        )
        .await
    }

    /// POST /api/v1/dialogues/{id}/invitations/send
    pub async fn send_invitations(&self, token: &str, id: &str) -> Reply {
        self.post(
            &format!("/api/v1/dialogues/{id}/invitations/send"),
            Some(token),
            &json!({}),
        )
        .await
    }

    /// POST /api/v1/dialogues/{id}/registrations: self-registration, without a token.
    pub async fn self_register(&self, id: &str, body: &Value) -> Reply {
        self.post(&format!("/api/v1/dialogues/{id}/registrations"), None, body)
            .await
    }

    /// POST /api/v1/dialogues/{id}/checkins
    pub async fn check_in(&self, token: &str, id: &str, code: &str) -> Reply {
        self.post(
            &format!("/api/v1/dialogues/{id}/checkins"),
            Some(token),
            &json!({ "code": code }),
        )
        .await
    }

    /// GET /api/v1/dialogues/{id}/attendance
    pub async fn attendance(&self, token: &str, id: &str) -> Reply {
        self.get(&format!("/api/v1/dialogues/{id}/attendance"), Some(token))
            .await
    }

    /// GET /api/v1/me: the participant a personal link or code belongs to.
    pub async fn me(&self, token: &str) -> Reply {
        self.get("/api/v1/me", Some(token)).await
    }

    /// POST /api/v1/me/rsvp
    pub async fn rsvp(&self, token: &str, response: &str) -> Reply {
        self.post(
            "/api/v1/me/rsvp",
            Some(token),
            &json!({ "response": response }),
        )
        .await
    }

    /// POST /api/v1/me/registration/cancel
    pub async fn cancel_registration(&self, token: &str) -> Reply {
        self.post("/api/v1/me/registration/cancel", Some(token), &json!({}))
            .await
    }

    /// Runs every job that is due (sends the emails), as the worker would.
    pub async fn drain_jobs(&self) -> usize {
        self.worker.drain().await.expect("jobs drained")
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

/// The reference dialogue: Bến Lức, 80 invitees in the three reference groups.
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

/// An organizer's token and an open dialogue (the reference case, with `change` applied).
pub async fn open_dialogue(app: &TestApp, change: Value) -> (String, String) {
    let token = app.staff_token("organizer").await;
    let mut body = reference_dialogue();
    for (k, v) in change.as_object().unwrap() {
        body[k] = v.clone();
    }
    let created = app.create_dialogue(&token, &body).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_string();
    let opened = app.change_status(&token, &id, "open").await;
    assert_eq!(opened.status, 200);
    (token, id)
}

/// Every invitation of a dialogue, as the organizer lists them.
pub async fn invitations(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    let reply = app
        .get(
            &format!("/api/v1/dialogues/{id}/invitations?per_page=200"),
            Some(token),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.body["items"].as_array().unwrap().clone()
}

/// The invitation of the person with this full name.
pub fn by_name<'a>(list: &'a [Value], name: &str) -> &'a Value {
    list.iter()
        .find(|i| i["full_name"] == name)
        .unwrap_or_else(|| panic!("{name} not in {list:?}"))
}

/// The personal link in an email's text.
pub fn link_in(text: &str) -> String {
    let start = text.find("/p/").expect("a personal link");
    text[start + 3..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// The queued emails of one kind (`invitation`, `reminder`, …), newest first.
pub async fn queued_emails(app: &TestApp, kind: &'static str) -> Vec<doithoai::jobs::QueuedEmail> {
    let db = app.state.db.clone();
    tokio::task::spawn_blocking(move || {
        db.read_now(|conn| doithoai::jobs::email::list_kind(conn, kind))
    })
    .await
    .unwrap()
    .unwrap()
}

/// Queues the reminders that are due, as the scheduler would; returns how many.
pub async fn queue_reminders(app: &TestApp) -> usize {
    let state = app.state.clone();
    tokio::task::spawn_blocking(move || {
        state.db.write_now(|conn| {
            doithoai::invitations::ops::queue_reminders(
                conn,
                doithoai::participants::notify::Mailing::of(&state),
                chrono::Duration::hours(24),
            )
        })
    })
    .await
    .unwrap()
    .unwrap()
}

/// The HTML pages, driven like a browser without JavaScript: cookies kept, forms posted
/// with the CSRF token they carry.
pub struct BrowserSession<'a> {
    app: &'a TestApp,
    pub client: reqwest::Client,
    pub csrf: std::sync::Mutex<String>,
}

impl<'a> BrowserSession<'a> {
    pub async fn new(app: &'a TestApp) -> BrowserSession<'a> {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let session = BrowserSession {
            app,
            client,
            csrf: std::sync::Mutex::new(String::new()),
        };
        session.get("/").await;
        session
    }

    pub async fn get_with_status(&self, path: &str) -> (u16, String) {
        let res = self.client.get(self.app.url(path)).send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        if let Some(token) = csrf_in(&text) {
            *self.csrf.lock().unwrap() = token;
        }
        (status, text)
    }

    pub async fn get(&self, path: &str) -> String {
        self.get_with_status(path).await.1
    }

    /// Posts a form with this browser's CSRF token; returns status and Location or body.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let csrf = self.csrf.lock().unwrap().clone();
        let mut all: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let res = self
            .client
            .post(self.app.url(path))
            .form(fields)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let location = res
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string());
        let text = res.text().await.unwrap();
        (status, location.unwrap_or(text))
    }

    pub async fn sign_in(&self, email: &str) {
        self.get("/login").await;
        let (status, location) = self
            .post_form(
                "/login",
                &[("email", email), ("password", PASSWORD), ("next", "/staff")],
            )
            .await;
        assert_eq!(status, 303, "{location}");
        assert_eq!(location, "/staff");
    }
}

fn csrf_in(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf\" value=\"")?;
    let rest = &html[at + "name=\"csrf\" value=\"".len()..];
    Some(rest.split('"').next()?.to_string())
}
