//! The HTML pages staff and visitors use, driven like a browser without JavaScript (see
//! `helpers::BrowserSession`). The pages a participant uses are in `participant_pages.rs`.

use serde_json::json;

use crate::helpers::{BrowserSession, PASSWORD, open_dialogue, reference_dialogue, spawn_app};

#[tokio::test]
async fn the_home_page_is_vietnamese_by_default_and_english_on_request() {
    let app = spawn_app().await;
    let browser = BrowserSession::new(&app).await;
    let home = browser.get("/").await;
    assert!(home.contains("<html lang=\"vi\">"));
    assert!(home.contains("Các hội nghị đối thoại"));
    let (status, _) = browser.get_with_status("/lang?to=en&next=/").await;
    assert_eq!(status, 303);
    let english = browser.get("/").await;
    assert!(english.contains("<html lang=\"en\">"));
    assert!(english.contains("Dialogue conferences"));
}

#[tokio::test]
async fn the_language_switch_never_redirects_off_site() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/lang?to=en&next=//evil.example/x"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/");
}

#[tokio::test]
async fn staff_pages_send_a_signed_out_visitor_to_the_login_page() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/staff/dialogues/new"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(
        res.headers()["location"],
        "/login?next=%2Fstaff%2Fdialogues%2Fnew"
    );
}

#[tokio::test]
async fn a_form_without_the_csrf_token_is_refused() {
    let app = spawn_app().await;
    app.create_account("csrf@benluc.example.vn", "Người Thử", "organizer", None)
        .await;
    let browser = BrowserSession::new(&app).await;
    browser.sign_in("csrf@benluc.example.vn").await;
    let (status, body) = browser
        .post_raw(
            "/staff/agencies",
            &[("name", "Cơ quan giả"), ("kind", "government")],
        )
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = browser
        .post_raw(
            "/staff/agencies",
            &[
                ("csrf", "forged"),
                ("name", "Cơ quan giả"),
                ("kind", "government"),
            ],
        )
        .await;
    assert_eq!(status, 403);
    let page = browser.get("/staff/agencies").await;
    assert!(!page.contains("Cơ quan giả"));
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site() {
    let app = spawn_app().await;
    app.create_account("cookie@benluc.example.vn", "Người Thử", "organizer", None)
        .await;
    let browser = BrowserSession::new(&app).await;
    browser.get("/login").await;
    let csrf = browser.csrf.lock().unwrap().clone();
    let res = browser
        .client
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", "cookie@benluc.example.vn"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("doithoai_session="))
        .expect("a session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
}

#[tokio::test]
async fn the_session_cookie_does_not_authenticate_the_api() {
    let app = spawn_app().await;
    app.create_account("api@benluc.example.vn", "Người Thử", "organizer", None)
        .await;
    let browser = BrowserSession::new(&app).await;
    browser.sign_in("api@benluc.example.vn").await;
    let res = browser
        .client
        .get(app.url("/api/v1/auth/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
}

#[tokio::test]
async fn an_organizer_creates_and_edits_a_dialogue_through_the_pages() {
    let app = spawn_app().await;
    app.create_account("trang@benluc.example.vn", "Lê Thu Trang", "organizer", None)
        .await;
    let browser = BrowserSession::new(&app).await;
    browser.sign_in("trang@benluc.example.vn").await;
    let form = browser.get("/staff/dialogues/new").await;
    assert!(form.contains("name=\"official_name\""));
    let title = "Hội nghị đối thoại với người nghiện ma túy xã Thạnh Đức";
    let fields = [
        ("title", title),
        ("host_unit", "UBND huyện Bến Lức"),
        ("venue", "Nhà văn hóa xã Thạnh Đức"),
        ("starts_at", "2026-12-05T08:00"),
        ("ends_at", "2026-12-05T11:00"),
        ("question_deadline", "2026-12-03T17:00"),
        ("capacity", "60"),
        ("time_zone", "Asia/Ho_Chi_Minh"),
        ("official_name", "Lê Thành Út"),
        ("official_position", "Chủ tịch UBND huyện"),
        ("official_role", "chair"),
        ("official_name", ""),
        ("official_position", ""),
        ("official_role", "secretary"),
        ("agenda_title", "Khai mạc"),
        ("agenda_presenter", ""),
    ];
    let (status, location) = browser.post_form("/staff/dialogues", &fields).await;
    assert_eq!(status, 303, "{location}");
    assert!(location.ends_with("/edit?done=created"), "{location}");
    let id = location.split('/').nth(3).unwrap().to_string();
    let token = app.login("trang@benluc.example.vn", PASSWORD).await.body["token"]
        .as_str()
        .unwrap()
        .to_string();
    let stored = app.get_dialogue(Some(&token), &id).await;
    assert_eq!(stored.body["title"], title);
    assert_eq!(stored.body["starts_at"], "2026-12-05T08:00:00+07:00");
    assert_eq!(stored.body["officials"].as_array().unwrap().len(), 1);
    assert_eq!(stored.body["agenda"][0]["title"], "Khai mạc");

    // A bad edit shows the form again with the field named, and changes nothing.
    let mut bad = fields.to_vec();
    bad[4] = ("ends_at", "2026-12-05T07:00");
    let (status, page) = browser
        .post_form(&format!("/staff/dialogues/{id}"), &bad)
        .await;
    assert_eq!(status, 422);
    assert!(page.contains("err-ends_at"), "{page}");
    assert!(page.contains("Thời gian kết thúc phải sau thời gian bắt đầu."));
    let unchanged = app.get_dialogue(Some(&token), &id).await;
    assert_eq!(unchanged.body["ends_at"], "2026-12-05T11:00:00+07:00");

    let (status, _) = browser
        .post_form(
            &format!("/staff/dialogues/{id}/status"),
            &[("status", "open")],
        )
        .await;
    assert_eq!(status, 303);
    let public = app.get_dialogue(None, &id).await;
    assert_eq!(public.body["status"], "open");
    let page = browser.get(&format!("/d/{id}")).await;
    assert!(page.contains(title));
    assert!(page.contains("08:00–11:00"));
}

#[tokio::test]
async fn drafts_are_not_shown_on_public_pages() {
    let app = spawn_app().await;
    let token = app.staff_token("organizer").await;
    let draft = app.create_dialogue(&token, &reference_dialogue()).await;
    let id = draft.body["id"].as_str().unwrap();
    let visitor = BrowserSession::new(&app).await;
    assert!(
        !visitor
            .get("/")
            .await
            .contains("Hội trường UBND huyện Bến Lức")
    );
    let (status, _) = visitor.get_with_status(&format!("/d/{id}")).await;
    assert_eq!(status, 404);
    app.change_status(&token, id, "open").await;
    assert!(
        visitor
            .get("/")
            .await
            .contains("Hội trường UBND huyện Bến Lức")
    );
    assert_eq!(visitor.get_with_status(&format!("/d/{id}")).await.0, 200);
}

#[tokio::test]
async fn an_admin_adds_staff_and_agencies_through_the_pages() {
    let app = spawn_app().await;
    app.create_account("admin@benluc.example.vn", "Quản Trị", "admin", None)
        .await;
    let browser = BrowserSession::new(&app).await;
    browser.sign_in("admin@benluc.example.vn").await;
    browser.get("/staff/agencies").await;
    let (status, location) = browser
        .post_form(
            "/staff/agencies",
            &[
                ("name", "Trung tâm Y tế huyện Bến Lức"),
                ("kind", "government"),
                ("short_name", ""),
                ("email", ""),
            ],
        )
        .await;
    assert_eq!(status, 303, "{location}");
    assert!(
        browser
            .get("/staff/agencies")
            .await
            .contains("Trung tâm Y tế huyện Bến Lức")
    );
    let (status, page) = browser
        .post_form(
            "/staff/agencies",
            &[
                ("name", "trung tâm y tế huyện bến lức"),
                ("kind", "government"),
            ],
        )
        .await;
    assert_eq!(
        status, 422,
        "a second agency of the same name is refused: {page}"
    );
    assert!(page.contains("Đã có cơ quan cùng tên."));
    browser.get("/staff/users").await;
    let (status, location) = browser
        .post_form(
            "/staff/users",
            &[
                ("name", "Hồ Văn Bình"),
                ("email", "binh@benluc.example.vn"),
                ("role", "organizer"),
                ("agency_id", ""),
                ("password", "mật-khẩu-bình-123"),
            ],
        )
        .await;
    assert_eq!(status, 303, "{location}");
    assert!(browser.get("/staff/users").await.contains("Hồ Văn Bình"));
    assert_eq!(
        app.login("binh@benluc.example.vn", "mật-khẩu-bình-123")
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn an_organizer_cannot_open_the_staff_accounts_page() {
    let app = spawn_app().await;
    app.create_account("org@benluc.example.vn", "Người Tổ Chức", "organizer", None)
        .await;
    let browser = BrowserSession::new(&app).await;
    browser.sign_in("org@benluc.example.vn").await;
    let (status, page) = browser.get_with_status("/staff/users").await;
    assert_eq!(status, 403);
    assert!(page.contains("không có quyền"));
}

#[tokio::test]
async fn static_assets_are_served_by_the_service_itself() {
    let app = spawn_app().await;
    let css = app
        .client
        .get(app.url("/static/app.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status().as_u16(), 200);
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    let home = app
        .client
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !home.contains("https://"),
        "no asset from elsewhere: {home}"
    );
}

#[tokio::test]
async fn an_organizer_imports_a_csv_file_through_the_page_and_sends() {
    let app = spawn_app().await;
    let (_token, id) = open_dialogue(&app, json!({})).await;
    app.create_account(
        "bantochuc@benluc.example.vn",
        "Ban Tổ Chức",
        "organizer",
        None,
    )
    .await;
    let browser = BrowserSession::new(&app).await;
    browser.sign_in("bantochuc@benluc.example.vn").await;
    let page = browser
        .get(&format!("/staff/dialogues/{id}/invitations"))
        .await;
    assert!(page.contains("enctype=\"multipart/form-data\""));
    let csrf = browser.csrf.lock().unwrap().clone();
    let csv = "full_name,email,phone,category\nNguyễn Văn Ánh,anh@example.vn,,completed_sentence\nTrần Thị Bé,,0912345678,drug_rehabilitation\n";
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .part(
            "file",
            reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("danh-sach.csv"),
        );
    let res = browser
        .client
        .post(app.url(&format!("/staff/dialogues/{id}/invitations/import")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("Đã thêm 2"), "{page}");
    assert!(page.contains("Nguyễn Văn Ánh") && page.contains("Người chấp hành xong hình phạt tù"));

    // A bad file shows every bad line and stores nothing.
    let bad = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"full_name,category\nA,unknown\n".to_vec())
                .file_name("x.csv"),
        );
    let res = browser
        .client
        .post(app.url(&format!("/staff/dialogues/{id}/invitations/import")))
        .multipart(bad)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 422);
    assert!(res.text().await.unwrap().contains("dòng 2"));

    let (status, location) = browser
        .post_form(&format!("/staff/dialogues/{id}/invitations/send"), &[])
        .await;
    assert_eq!(status, 303);
    assert!(location.ends_with("?done=sent"));
    assert_eq!(app.drain_jobs().await, 1);
    let without_csrf = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("danh-sach.csv"),
    );
    let res = browser
        .client
        .post(app.url(&format!("/staff/dialogues/{id}/invitations/import")))
        .multipart(without_csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
}

#[tokio::test]
async fn agency_staff_cannot_open_the_invitation_door_or_attendance_pages() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({})).await;
    app.add_invitees(&token, &id, &json!([{"full_name": "Nguyễn Văn Ánh", "phone": "0901234567", "category": "completed_sentence"}])).await;
    let agency = app
        .create_agency(
            &token,
            &json!({"name": "Công an huyện", "kind": "government"}),
        )
        .await;
    let agency_id = agency.body["id"].as_str().unwrap().to_string();
    app.create_account(
        "canbo@congan.example.vn",
        "Cán Bộ Công An",
        "agency",
        Some(&agency_id),
    )
    .await;
    let browser = BrowserSession::new(&app).await;
    browser.sign_in("canbo@congan.example.vn").await;
    for page in ["invitations", "registrations", "door", "attendance"] {
        let (status, body) = browser
            .get_with_status(&format!("/staff/dialogues/{id}/{page}"))
            .await;
        assert_eq!(status, 403, "{page}");
        assert!(
            !body.contains("Nguyễn Văn Ánh") && !body.contains("0901234567"),
            "{page}"
        );
    }
}

#[tokio::test]
async fn after_signing_in_agency_staff_land_on_their_inbox_and_organizers_on_the_dashboard() {
    let app = spawn_app().await;
    let agency = app.create_agency_directly("Sở Lao động").await;
    app.create_account(
        "canbo@laodong.example.vn",
        "Cán Bộ Lao Động",
        "agency",
        Some(&agency),
    )
    .await;
    app.create_account("btc@benluc.example.vn", "Ban Tổ Chức", "organizer", None)
        .await;
    // The login form sends `next=/` when nobody asked for a page; a form without it too.
    for next in [Some("/"), Some(""), None] {
        for (email, home) in [
            ("canbo@laodong.example.vn", "/staff/assignments"),
            ("btc@benluc.example.vn", "/staff"),
        ] {
            let browser = BrowserSession::new(&app).await;
            browser.get("/login").await;
            let mut fields = vec![("email", email), ("password", PASSWORD)];
            if let Some(next) = next {
                fields.push(("next", next));
            }
            let (status, location) = browser.post_form("/login", &fields).await;
            assert_eq!(status, 303, "{email}: {location}");
            assert_eq!(location, home, "{email} with next={next:?}");
            if home == "/staff/assignments" {
                let inbox = browser.get(&location).await;
                assert!(inbox.contains("<h1>Câu hỏi được giao</h1>"), "{inbox}");
            }
        }
    }
    // A page asked for is still where anyone goes.
    let browser = BrowserSession::new(&app).await;
    browser.get("/login").await;
    let (status, location) = browser
        .post_form(
            "/login",
            &[
                ("email", "canbo@laodong.example.vn"),
                ("password", PASSWORD),
                ("next", "/staff/agencies"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    assert_eq!(location, "/staff/agencies");
}

#[tokio::test]
async fn the_agency_directory_and_the_staff_accounts_are_paged() {
    let app = spawn_app().await;
    for i in 0..101 {
        app.create_agency_directly(&format!("Cơ quan {i:03}")).await;
    }
    // Accounts without a password: no hashing, so a hundred are quick to make.
    let db = app.state.db.clone();
    tokio::task::spawn_blocking(move || {
        for i in 0..100 {
            let account = doithoai::accounts::ops::AccountInput {
                email: format!("canbo{i:03}@benluc.example.vn"),
                name: format!("Cán bộ {i:03}"),
                role: "organizer".into(),
                agency_id: None,
                password: None,
                language: None,
            }
            .validate()
            .unwrap();
            db.write_now(|conn| {
                doithoai::accounts::ops::create(
                    conn,
                    &account,
                    None,
                    &doithoai::audit::Actor::System,
                    None,
                )
            })
            .unwrap();
        }
    })
    .await
    .unwrap();
    app.create_account("quantri@benluc.example.vn", "Quản Trị", "admin", None)
        .await;
    let admin = BrowserSession::new(&app).await;
    admin.sign_in("quantri@benluc.example.vn").await;

    let agencies = admin.get("/staff/agencies").await;
    assert_eq!(agencies.matches("<tr><td>Cơ quan").count(), 100);
    assert!(
        agencies.contains("Đang xem 1–100 trên tổng số 101"),
        "{agencies}"
    );
    let rest = admin.get("/staff/agencies?page=2").await;
    assert_eq!(rest.matches("<tr><td>Cơ quan").count(), 1);
    assert!(rest.contains("Cơ quan 100") && rest.contains("Trang trước"));

    let users = admin.get("/staff/users").await;
    assert!(users.contains("Đang xem 1–100 trên tổng số 101"), "{users}");
    let rest = admin.get("/staff/users?page=2").await;
    assert!(rest.contains("Đang xem 101–101 trên tổng số 101"));
    assert_eq!(rest.matches("/password-link\"").count(), 1);
}
