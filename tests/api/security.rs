//! Input, redirects and headers (docs/SECURITY.md): hostile input is refused at the edge,
//! redirects stay on the site, calendar parameters cannot be injected, repeated query
//! parameters are not silently ignored, and every response carries the security headers.

use serde_json::json;

use crate::helpers::{BrowserSession, PASSWORD, open_dialogue, reference_dialogue, spawn_app};

#[tokio::test]
async fn a_nul_byte_in_a_login_email_is_refused_not_a_server_error() {
    let app = spawn_app().await;
    app.create_account("nul@benluc.example.vn", "Người Thử", "organizer", None)
        .await;
    for email in [
        "nul@benluc.example.vn\u{0}",
        "\u{0}",
        "nul\u{0}@benluc.example.vn",
    ] {
        let reply = app.login(email, PASSWORD).await;
        assert_eq!(reply.status, 401, "{email:?}: {}", reply.text);
        assert_eq!(reply.code(), "invalid_credentials");
    }
    let browser = BrowserSession::new(&app).await;
    browser.get("/login").await;
    let (status, _) = browser
        .post_form(
            "/login",
            &[
                ("email", "nul@benluc.example.vn\u{0}"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, 401);
    // The real account still signs in.
    assert_eq!(
        app.login("nul@benluc.example.vn", PASSWORD).await.status,
        200
    );
}

fn field_code<'a>(reply: &'a crate::helpers::Reply, field: &str) -> &'a str {
    reply.body["error"]["field_codes"][field]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test]
async fn single_line_fields_refuse_control_characters_everywhere() {
    let app = spawn_app().await;
    let token = app.staff_token("organizer").await;

    // A dialogue: every single-line field, and the description's own rule.
    let mut body = reference_dialogue();
    body["title"] = json!("Hội nghị\tđối thoại");
    body["host_unit"] = json!("UBND huyện\r\nBến Lức");
    body["venue"] = json!("Hội trường\u{0}");
    body["parent_unit"] = json!("UBND tỉnh\u{7f}");
    body["locality"] = json!("Bến\u{85}Lức");
    body["description"] = json!("Dòng một\u{7}");
    body["officials"][0]["name"] = json!("Nguyễn\nMinh Xuân");
    body["officials"][0]["position"] = json!("Bí thư\u{1b}[31m");
    body["agenda"][0]["title"] = json!("Khai\rmạc");
    let reply = app.create_dialogue(&token, &body).await;
    assert_eq!(reply.status, 422, "{}", reply.text);
    for field in [
        "title",
        "host_unit",
        "venue",
        "parent_unit",
        "locality",
        "description",
        "officials[0].name",
        "officials[0].position",
        "agenda[0].title",
    ] {
        assert_eq!(
            field_code(&reply, field),
            "control_characters",
            "{field}: {}",
            reply.text
        );
    }
    let message = reply.body["error"]["fields"]["title"].as_str().unwrap();
    assert!(!message.contains("control_characters"), "{message}");

    // Line breaks are kept in a description, CRLF becoming LF.
    let mut body = reference_dialogue();
    body["description"] = json!("Dòng một\r\nDòng hai\rDòng ba");
    let created = app.create_dialogue(&token, &body).await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["description"], "Dòng một\nDòng hai\nDòng ba");
    let id = created.body["id"].as_str().unwrap().to_string();

    // Invitees as JSON and as CSV.
    let reply = app
        .add_invitees(
            &token,
            &id,
            &json!([{"full_name": "Mallory\r\nBcc: x@evil.example", "email": "m@example.vn", "phone": "0901\t234 567", "category": "other"}]),
        )
        .await;
    assert_eq!(reply.status, 422, "{}", reply.text);
    assert_eq!(
        field_code(&reply, "invitees[0].full_name"),
        "control_characters"
    );
    assert_eq!(
        field_code(&reply, "invitees[0].phone"),
        "control_characters"
    );
    let csv = "full_name,email,category\n\"Tab\tName\",t@example.vn,other\nAn,\"a\u{0}@example.vn\",other\n";
    let reply = app.import_invitees(&token, &id, csv).await;
    assert_eq!(reply.status, 422, "{}", reply.text);
    let rows: Vec<(u64, String, String)> = reply.body["error"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["line"].as_u64().unwrap(),
                r["field"].as_str().unwrap().to_string(),
                r["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        rows.contains(&(2, "full_name".into(), "control_characters".into())),
        "{rows:?}"
    );
    assert!(
        rows.contains(&(3, "email".into(), "control_characters".into())),
        "{rows:?}"
    );

    // Accounts and agencies.
    let admin = app.staff_token("admin").await;
    let reply = app
        .create_user(
            &admin,
            &json!({"email": "x@benluc.example.vn", "name": "Tên\u{85}giả", "role": "organizer"}),
        )
        .await;
    assert_eq!(reply.status, 422, "{}", reply.text);
    assert_eq!(field_code(&reply, "name"), "control_characters");
    let reply = app
        .create_agency(
            &admin,
            &json!({"name": "Công an\u{7f}", "short_name": "CA\tH", "kind": "government"}),
        )
        .await;
    assert_eq!(reply.status, 422, "{}", reply.text);
    assert_eq!(field_code(&reply, "name"), "control_characters");
    assert_eq!(field_code(&reply, "short_name"), "control_characters");

    // Self-registration.
    let (_, open_id) = open_dialogue(&app, json!({"self_registration": true})).await;
    let reply = app
        .self_register(
            &open_id,
            &json!({"full_name": "Võ\u{2028}Văn Tự", "phone": "0987 654 321", "category": "other", "consent": true}),
        )
        .await;
    assert_eq!(reply.status, 422, "{}", reply.text);
    assert_eq!(field_code(&reply, "full_name"), "control_characters");
}

#[tokio::test]
async fn a_control_character_typed_into_a_page_form_is_shown_as_a_field_error() {
    let app = spawn_app().await;
    app.create_account("form@benluc.example.vn", "Người Thử", "admin", None)
        .await;
    let browser = BrowserSession::new(&app).await;
    browser.sign_in("form@benluc.example.vn").await;
    browser.get("/staff/agencies").await;
    let (status, page) = browser
        .post_form(
            "/staff/agencies",
            &[("name", "Cơ quan\tgiả"), ("kind", "government")],
        )
        .await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("điều khiển"), "{page}");
    let list = browser.get("/staff/agencies").await;
    assert!(!list.contains("giả"));
}
