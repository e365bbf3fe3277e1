use serde_json::json;

use crate::helpers::{PASSWORD, spawn_app};

#[tokio::test]
async fn an_admin_creates_an_organizer_and_agency_staff_who_then_log_in() {
    let app = spawn_app().await;
    let admin = app.staff_token("admin").await;
    let agency = app
        .create_agency(
            &admin,
            &json!({"name": "Phòng Tư pháp huyện Bến Lức", "kind": "government"}),
        )
        .await;
    assert_eq!(agency.status, 201, "{}", agency.text);
    let agency_id = agency.body["id"].as_str().unwrap();

    let organizer = app
        .create_user(&admin, &json!({"email": "VanPhong@BenLuc.example.vn", "name": "Phạm Văn Phong", "role": "organizer", "password": "một-mật-khẩu-dài"}))
        .await;
    assert_eq!(organizer.status, 201, "{}", organizer.text);
    assert_eq!(organizer.body["email"], "vanphong@benluc.example.vn");
    assert_eq!(organizer.body["name"], "Phạm Văn Phong");
    assert!(organizer.body.get("password_hash").is_none());

    let staff = app
        .create_user(&admin, &json!({"email": "tuphap@benluc.example.vn", "name": "Võ Thị Lan", "role": "agency", "agency_id": agency_id, "password": "mật-khẩu-tư-pháp"}))
        .await;
    assert_eq!(staff.status, 201, "{}", staff.text);
    assert_eq!(staff.body["agency_id"], agency_id);

    let login = app
        .login("vanphong@benluc.example.vn", "một-mật-khẩu-dài")
        .await;
    assert_eq!(login.status, 200);
    assert_eq!(login.body["user"]["role"], "organizer");
    let me = app.auth_me(login.body["token"].as_str()).await;
    assert_eq!(me.body["name"], "Phạm Văn Phong");
    let agency_login = app
        .login("tuphap@benluc.example.vn", "mật-khẩu-tư-pháp")
        .await;
    assert_eq!(agency_login.body["user"]["agency_id"], agency_id);
}

#[tokio::test]
async fn wrong_credentials_are_401_and_say_nothing_about_which_part_was_wrong() {
    let app = spawn_app().await;
    app.create_account("an@benluc.example.vn", "Nguyễn Văn An", "organizer", None)
        .await;
    let wrong_password = app.login("an@benluc.example.vn", "không đúng đâu").await;
    let unknown_email = app.login("ai-do@benluc.example.vn", PASSWORD).await;
    assert_eq!(wrong_password.status, 401);
    assert_eq!(unknown_email.status, 401);
    assert_eq!(wrong_password.code(), "invalid_credentials");
    assert_eq!(wrong_password.body, unknown_email.body);
}

#[tokio::test]
async fn logout_revokes_the_token() {
    let app = spawn_app().await;
    let token = app.staff_token("organizer").await;
    assert_eq!(app.auth_me(Some(&token)).await.status, 200);
    let out = app
        .post("/api/v1/auth/logout", Some(&token), &json!({}))
        .await;
    assert_eq!(out.status, 204);
    let after = app.auth_me(Some(&token)).await;
    assert_eq!(after.status, 401);
}

#[tokio::test]
async fn tokens_are_stored_hashed_and_expire() {
    let app = spawn_app_short_sessions().await;
    let token = app.staff_token("organizer").await;
    let stored: Vec<String> = {
        use diesel::prelude::*;
        use doithoai::db::schema::auth_tokens;
        let db = app.state.db.clone();
        tokio::task::spawn_blocking(move || {
            db.read_now(|c| Ok(auth_tokens::table.select(auth_tokens::token_hash).load(c)?))
        })
        .await
        .unwrap()
        .unwrap()
    };
    assert!(!stored.contains(&token));
    assert!(stored.contains(&doithoai::auth::secrets::hash_token(&token)));
    // Age the token past its expiry.
    {
        use diesel::prelude::*;
        use doithoai::db::schema::auth_tokens;
        let db = app.state.db.clone();
        tokio::task::spawn_blocking(move || {
            db.write_now(|c| {
                diesel::update(auth_tokens::table)
                    .set(
                        auth_tokens::expires_at
                            .eq(doithoai::db::now() - chrono::Duration::seconds(1)),
                    )
                    .execute(c)?;
                Ok(())
            })
        })
        .await
        .unwrap()
        .unwrap();
    }
    assert_eq!(app.auth_me(Some(&token)).await.status, 401);
}

async fn spawn_app_short_sessions() -> crate::helpers::TestApp {
    crate::helpers::spawn_app_with(|s| s.session_lifetime = chrono::Duration::hours(1)).await
}

#[tokio::test]
async fn no_token_is_401_and_a_garbage_token_is_401() {
    let app = spawn_app().await;
    assert_eq!(app.auth_me(None).await.status, 401);
    assert_eq!(app.auth_me(Some("not-a-token")).await.status, 401);
    let reply = app.post("/api/v1/users", None, &json!({})).await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.code(), "unauthorized");
}

#[tokio::test]
async fn only_an_admin_creates_accounts() {
    let app = spawn_app().await;
    for role in ["organizer", "agency"] {
        let token = app.staff_token(role).await;
        let reply = app
            .create_user(
                &token,
                &json!({"email": "x@benluc.example.vn", "name": "X", "role": "admin"}),
            )
            .await;
        assert_eq!(reply.status, 403, "{role}");
        assert_eq!(reply.code(), "forbidden");
    }
}

#[tokio::test]
async fn account_input_is_checked_field_by_field_and_nothing_is_stored_on_failure() {
    let app = spawn_app().await;
    let admin = app.staff_token("admin").await;
    let reply = app
        .create_user(
            &admin,
            &json!({"email": "không-phải-email", "name": "", "role": "agency", "password": "ngắn"}),
        )
        .await;
    assert_eq!(reply.status, 422, "{}", reply.text);
    let codes = &reply.body["error"]["field_codes"];
    assert_eq!(codes["email"], "invalid_email");
    assert_eq!(codes["name"], "required");
    assert_eq!(codes["agency_id"], "required");
    assert_eq!(codes["password"], "too_short");
    assert!(
        reply.body["error"]["fields"]["email"]
            .as_str()
            .unwrap()
            .len()
            > 3
    );

    let unknown_agency = app
        .create_user(&admin, &json!({"email": "a@benluc.example.vn", "name": "A", "role": "agency", "agency_id": uuid::Uuid::new_v4()}))
        .await;
    assert_eq!(unknown_agency.status, 422);
    assert_eq!(
        unknown_agency.body["error"]["field_codes"]["agency_id"],
        "unknown_agency"
    );
    let users = app.get("/api/v1/users", Some(&admin)).await;
    assert_eq!(
        users.body["total"], 1,
        "only the admin exists: {}",
        users.text
    );
}

#[tokio::test]
async fn the_same_email_twice_is_a_conflict() {
    let app = spawn_app().await;
    let admin = app.staff_token("admin").await;
    let body = json!({"email": "trung@benluc.example.vn", "name": "Lý Văn Trung", "role": "organizer", "password": "mật-khẩu-đủ-dài"});
    assert_eq!(app.create_user(&admin, &body).await.status, 201);
    let mut again = body.clone();
    again["email"] = json!("TRUNG@benluc.example.vn");
    let reply = app.create_user(&admin, &again).await;
    assert_eq!(reply.status, 409);
    assert_eq!(reply.code(), "email_taken");
}

#[tokio::test]
async fn an_account_without_a_password_is_emailed_a_link_that_sets_one() {
    let app = spawn_app().await;
    let admin = app.staff_token("admin").await;
    let reply = app
        .create_user(
            &admin,
            &json!({"email": "moi@benluc.example.vn", "name": "Đỗ Thị Mới", "role": "organizer"}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(
        app.login("moi@benluc.example.vn", "anything-at-all")
            .await
            .status,
        401
    );
    assert_eq!(app.drain_jobs().await, 1);
    let mails = app.mail_files();
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].contains("To: moi@benluc.example.vn"),
        "{}",
        mails[0]
    );
    let parsed = mail_parser::MessageParser::default()
        .parse(mails[0].as_bytes())
        .unwrap();
    assert_eq!(parsed.subject(), Some("Đặt mật khẩu tài khoản doithoai"));
    assert!(parsed.body_html(0).unwrap().contains("Đặt mật khẩu"));
    let mail = &app.mail_texts()[0];
    assert!(mail.contains("Kính gửi Đỗ Thị Mới"), "{mail}");
    let start = mail
        .find("/account/password?token=")
        .expect("a link in the email");
    let token: String = mail[start + "/account/password?token=".len()..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    assert!(token.len() >= 40, "{token}");
    let setup = crate::helpers::BrowserSession::new(&app).await;
    let page = setup.get(&format!("/account/password?token={token}")).await;
    assert!(page.contains("name=\"password\""), "{page}");
    let done = setup
        .post_form(
            "/account/password",
            &[
                ("token", &token),
                ("password", "mật-khẩu-của-tôi"),
                ("repeat", "mật-khẩu-của-tôi"),
            ],
        )
        .await;
    assert_eq!(done.0, 303, "{}", done.1);
    assert_eq!(
        app.login("moi@benluc.example.vn", "mật-khẩu-của-tôi")
            .await
            .status,
        200
    );
    // The link works once.
    let again = setup
        .post_form(
            "/account/password",
            &[
                ("token", &token),
                ("password", "mật-khẩu-khác-nữa"),
                ("repeat", "mật-khẩu-khác-nữa"),
            ],
        )
        .await;
    assert_eq!(again.0, 200);
    assert_eq!(
        app.login("moi@benluc.example.vn", "mật-khẩu-khác-nữa")
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn repeated_failed_logins_are_rate_limited_with_retry_after() {
    let app = spawn_app().await;
    // Only failures count, and each one takes a password check; sent together, so the
    // allowance cannot refill between them.
    let attempts = (0..14).map(|_| app.login("ke-do-doan@benluc.example.vn", "đoán-mò"));
    let replies = futures_util::future::join_all(attempts).await;
    for reply in &replies {
        assert!(matches!(reply.status, 401 | 429), "{}", reply.text);
    }
    let mut last = replies.into_iter().find(|r| r.status == 429);
    if last.is_none() {
        last = Some(app.login("ke-do-doan@benluc.example.vn", "đoán-mò").await);
    }
    let limited = last.expect("a reply");
    assert_eq!(limited.status, 429, "{}", limited.text);
    assert_eq!(limited.code(), "rate_limited");
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
}

#[tokio::test]
async fn an_admin_sends_a_new_password_link_and_only_the_newest_works() {
    let app = spawn_app().await;
    let admin = app.staff_token("admin").await;
    let user_id = app
        .create_account(
            "quen@benluc.example.vn",
            "Người Quên Mật Khẩu",
            "organizer",
            None,
        )
        .await;
    assert_eq!(app.password_link(&admin, &user_id).await.status, 202);
    assert_eq!(app.password_link(&admin, &user_id).await.status, 202);
    let organizer = app.staff_token("organizer").await;
    assert_eq!(app.password_link(&organizer, &user_id).await.status, 403);
    assert_eq!(app.drain_jobs().await, 2);
    let links: Vec<String> = app
        .mail_texts()
        .iter()
        .map(|text| {
            let start = text.find("token=").unwrap() + "token=".len();
            text[start..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect()
        })
        .collect();
    let browser = crate::helpers::BrowserSession::new(&app).await;
    browser.get("/login").await;
    let mut outcomes = Vec::new();
    for token in &links {
        let (status, _) = browser
            .post_form(
                "/account/password",
                &[
                    ("token", token),
                    ("password", "mật-khẩu-mới-tinh"),
                    ("repeat", "mật-khẩu-mới-tinh"),
                ],
            )
            .await;
        outcomes.push(status);
    }
    outcomes.sort();
    assert_eq!(
        outcomes,
        vec![200, 303],
        "one link was replaced by the other"
    );
    assert_eq!(
        app.login("quen@benluc.example.vn", "mật-khẩu-mới-tinh")
            .await
            .status,
        200
    );
}

/// A district office sits behind one address: colleagues who type the right password are
/// never refused because many logins came from that address; only failures count.
#[tokio::test]
async fn only_failed_logins_count_towards_the_limit() {
    let app = spawn_app().await;
    let email = "dong-nghiep@benluc.example.vn";
    app.create_account(email, "Trần Thị Đồng Nghiệp", "organizer", None)
        .await;
    for attempt in 0..20 {
        let reply = app.login(email, PASSWORD).await;
        assert_eq!(reply.status, 200, "attempt {attempt}: {}", reply.text);
    }
}
