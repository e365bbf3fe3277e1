//! Input, redirects and headers (docs/SECURITY.md): hostile input is refused at the edge,
//! redirects stay on the site, calendar parameters cannot be injected, repeated query
//! parameters are not silently ignored, and every response carries the security headers.

use serde_json::{Value, json};

use crate::helpers::{
    BrowserSession, PASSWORD, TestApp, by_name, invitations, open_dialogue, reference_dialogue,
    spawn_app, spawn_app_with,
};

/// `next` values that must never lead off the site (raw, before URL encoding).
const NASTY_NEXT: &[&str] = &[
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/\\evil.example",
    "/\\/evil.example",
    "//evil.example",
    "///evil.example",
    "https://evil.example",
    "evil.example",
    " /evil.example",
    "/ /evil.example",
    "/\u{0}/evil.example",
    "/\u{85}/evil.example",
    "/\u{3000}/evil.example",
    "",
];

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .map(|l| l.to_str().expect("an ASCII Location").to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_language_switch_redirects_only_to_a_local_path() {
    let app = spawn_app().await;
    for next in NASTY_NEXT {
        let res = app
            .client
            .get(app.url("/lang"))
            .query(&[("to", "en"), ("next", next)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 303, "next={next:?}");
        assert_eq!(location(&res), "/", "next={next:?}");
    }
    // `next=/%2F/evil` in the URL arrives decoded as `//evil`: refused. Sent double-encoded
    // it arrives as `/%2F/evil`, a local path with an encoded slash that the service never
    // decodes again and browsers keep on this site.
    let res = app
        .client
        .get(app.url("/lang?to=en&next=/%2F/evil.example"))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&res), "/");
    let res = app
        .client
        .get(app.url("/lang?to=en&next=/%252F/evil.example"))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&res), "/%2F/evil.example");
    let res = app
        .client
        .get(app.url("/lang?to=en&next=/%0A/evil.example"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(location(&res), "/");
    // An ordinary local path is kept.
    let res = app
        .client
        .get(app.url("/lang"))
        .query(&[("to", "vi"), ("next", "/d/123?x=1")])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&res), "/d/123?x=1");
}

/// Signs in through the login form from its own client address (the login limiter counts
/// per address); returns the status and the Location.
async fn sign_in_with_next(app: &TestApp, client_ip: &str, next: &str) -> (u16, String) {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-forwarded-for", client_ip.parse().unwrap());
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap();
    let page = client
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = "name=\"csrf\" value=\"";
    let at = page.find(marker).expect("a CSRF field") + marker.len();
    let csrf = page[at..].split('"').next().unwrap().to_string();
    let res = client
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", "next@benluc.example.vn"),
            ("password", PASSWORD),
            ("next", next),
        ])
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), location(&res))
}

#[tokio::test]
async fn signing_in_redirects_only_to_a_local_path() {
    let app = spawn_app_with(|s| s.trusted_proxy = Some("127.0.0.1".parse().unwrap())).await;
    app.create_account("next@benluc.example.vn", "Người Thử", "organizer", None)
        .await;
    for (i, next) in NASTY_NEXT.iter().enumerate() {
        let (status, location) = sign_in_with_next(&app, &format!("192.0.2.{i}"), next).await;
        assert_eq!(status, 303, "next={next:?}: {location}");
        assert_eq!(location, "/staff", "next={next:?}");
    }
    let (_, location) = sign_in_with_next(&app, "198.51.100.1", "/staff/agencies").await;
    assert_eq!(location, "/staff/agencies");
    // The login page itself never puts a foreign target into its form.
    let page = app
        .client
        .get(app.url("/login?next=/%09/evil.example"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<input type=\"hidden\" name=\"next\" value=\"&#x2f;\">"),
        "{page}"
    );
}

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

/// An open dialogue with one invitee who has been sent the invitation: (token, id, code).
async fn invited(app: &TestApp) -> (String, String, String) {
    let (token, id) = open_dialogue(app, json!({})).await;
    let added = app
        .add_invitees(
            &token,
            &id,
            &json!([{"full_name": "Nguyễn Văn Ánh", "email": "anh@example.vn", "category": "completed_sentence"}]),
        )
        .await;
    assert_eq!(added.status, 201, "{}", added.text);
    app.send_invitations(&token, &id).await;
    let list = invitations(app, &token, &id).await;
    let code = by_name(&list, "Nguyễn Văn Ánh")["code"]
        .as_str()
        .unwrap()
        .to_string();
    (token, id, code)
}

#[tokio::test]
async fn a_personal_credential_with_a_control_character_is_refused_before_any_lookup() {
    let app = spawn_app().await;
    let (token, id, code) = invited(&app).await;
    let phone = BrowserSession::new(&app).await;
    phone.get("/login").await;
    let compact = code.replace('-', "");
    let with_newline = format!("{}%0A{}-{}", &compact[0..3], &compact[3..6], &compact[6..9]);
    for credential in [
        with_newline.as_str(),
        &format!("{code}%09"),
        &format!("{code}%00"),
    ] {
        let (status, body) = phone
            .post_form(&format!("/p/{credential}/rsvp"), &[("response", "accept")])
            .await;
        assert_eq!(status, 404, "{credential}: {body}");
        let (status, _) = phone.get_with_status(&format!("/p/{credential}")).await;
        assert_eq!(status, 404, "{credential}");
    }
    let list = invitations(&app, &token, &id).await;
    assert_eq!(
        by_name(&list, "Nguyễn Văn Ánh")["status"],
        "queued",
        "nothing was answered"
    );
}

#[tokio::test]
async fn after_answering_the_participant_is_sent_to_the_canonical_code() {
    let app = spawn_app().await;
    let (token, id, code) = invited(&app).await;
    let phone = BrowserSession::new(&app).await;
    phone.get("/login").await;
    let typed = code.to_lowercase().replace('-', "%20");
    let (status, location) = phone
        .post_form(&format!("/p/{typed}/rsvp"), &[("response", "accept")])
        .await;
    assert_eq!(status, 303, "{location}");
    assert_eq!(location, format!("/p/{code}?done=accepted"));
    let list = invitations(&app, &token, &id).await;
    assert_eq!(by_name(&list, "Nguyễn Văn Ánh")["status"], "accepted");
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

/// The parameters of the first property `name` inside the VEVENT, as (key, value) pairs.
fn event_parameters(ics: &str, name: &str) -> (Vec<(String, String)>, String) {
    let unfolded = icalendar::parser::unfold(ics);
    let calendar = icalendar::parser::read_calendar(&unfolded).expect("a calendar that parses");
    let event = calendar
        .components
        .iter()
        .find(|c| c.name.as_ref() == "VEVENT")
        .expect("a VEVENT");
    let property = event
        .properties
        .iter()
        .find(|p| p.name.as_ref() == name)
        .unwrap_or_else(|| panic!("{name} in {ics}"));
    let params = property
        .params
        .iter()
        .map(|p| {
            (
                p.key.as_ref().to_string(),
                p.val
                    .as_ref()
                    .map(|v| v.as_ref().to_string())
                    .unwrap_or_default(),
            )
        })
        .collect();
    (params, property.val.as_ref().to_string())
}

#[tokio::test]
async fn names_cannot_add_parameters_to_the_calendar_event() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(
        &app,
        json!({"host_unit": "UBND \"Bến Lức\", tỉnh Long An;ROLE=CHAIR:x"}),
    )
    .await;
    let mallory = "Mallory\";ROLE=CHAIR;SENT-BY=\"mailto:x@evil.example";
    let added = app
        .add_invitees(
            &token,
            &id,
            &json!([{"full_name": mallory, "email": "mallory@example.vn", "category": "other"}]),
        )
        .await;
    assert_eq!(added.status, 201, "{}", added.text);
    app.send_invitations(&token, &id).await;
    app.drain_jobs().await;
    let files = app.mail_files();
    assert_eq!(files.len(), 1);
    let message = mail_parser::MessageParser::default()
        .parse(files[0].as_bytes())
        .unwrap();
    use mail_parser::MimeHeaders;
    let ics = message
        .attachments()
        .find(|a| a.attachment_name() == Some("hoi-nghi-doi-thoai.ics"))
        .map(|a| String::from_utf8(a.contents().to_vec()).unwrap())
        .expect("an .ics");

    // The invitee is not in the event at all (no ATTENDEE: nobody answers by calendar).
    assert!(!ics.contains("ATTENDEE"), "{ics}");
    assert!(!ics.contains("Mallory"), "{ics}");

    let (params, value) = event_parameters(&ics, "ORGANIZER");
    let keys: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["CN"], "{ics}");
    assert!(params[0].1.contains("Bến Lức"), "{ics}");
    assert!(params[0].1.contains("tỉnh Long An"), "{ics}");
    assert!(value.starts_with("mailto:"), "{ics}");
}

#[tokio::test]
async fn repeated_query_parameters_are_refused_not_ignored() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({})).await;
    let admin = app.staff_token("admin").await;
    let cases: Vec<(String, &str, &str)> = vec![
        (
            format!("/api/v1/dialogues/{id}/invitations?per_page=-1&per_page=1"),
            "per_page",
            token.as_str(),
        ),
        (
            format!("/api/v1/dialogues/{id}/invitations?page=1&page=x"),
            "page",
            token.as_str(),
        ),
        (
            format!("/api/v1/dialogues/{id}/invitations?status=sent&status=nonsense"),
            "status",
            token.as_str(),
        ),
        (
            format!("/api/v1/dialogues/{id}/registrations?status=registered&status=waitlisted"),
            "status",
            token.as_str(),
        ),
        (
            format!("/api/v1/dialogues/{id}/registrations?per_page=5&per_page=5"),
            "per_page",
            token.as_str(),
        ),
        (
            "/api/v1/dialogues?page=1&page=2".to_string(),
            "page",
            token.as_str(),
        ),
        (
            "/api/v1/users?per_page=1&per_page=2".to_string(),
            "per_page",
            admin.as_str(),
        ),
    ];
    for (path, field, who) in cases {
        let reply = app.get(&path, Some(who)).await;
        assert_eq!(reply.status, 422, "{path}: {}", reply.text);
        assert_eq!(reply.code(), "validation_failed");
        assert_eq!(field_code(&reply, field), "repeated_parameter", "{path}");
    }
    // Single values still work.
    let reply = app
        .get(
            &format!("/api/v1/dialogues/{id}/invitations?status=sent&page=1&per_page=10"),
            Some(&token),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
}

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or_default()
}

fn assert_common_headers(headers: &reqwest::header::HeaderMap, what: &str) {
    assert_eq!(
        header(headers, "x-content-type-options"),
        "nosniff",
        "{what}"
    );
    assert_eq!(header(headers, "referrer-policy"), "no-referrer", "{what}");
    assert_eq!(header(headers, "x-frame-options"), "DENY", "{what}");
    assert!(headers.get("strict-transport-security").is_none(), "{what}");
}

#[tokio::test]
async fn pages_carry_the_security_headers_and_are_never_cached() {
    let app = spawn_app().await;
    let (_token, _id, code) = invited(&app).await;
    for path in [
        "/".to_string(),
        "/login".to_string(),
        "/no/such/page".to_string(),
        format!("/p/{code}"),
        "/p/ZZZ-ZZZ-ZZZ".to_string(),
        "/staff".to_string(),
        "/lang?to=en&next=/".to_string(),
    ] {
        let res = app.client.get(app.url(&path)).send().await.unwrap();
        let headers = res.headers();
        assert_common_headers(headers, &path);
        assert_eq!(header(headers, "content-security-policy"), CSP, "{path}");
        assert_eq!(header(headers, "cache-control"), "no-store", "{path}");
    }
    let res = app
        .client
        .get(app.url("/static/app.js"))
        .send()
        .await
        .unwrap();
    assert_common_headers(res.headers(), "app.js");
}

#[tokio::test]
async fn api_answers_with_personal_data_are_never_cached() {
    let app = spawn_app().await;
    let (token, id, code) = invited(&app).await;
    for (path, credential) in [
        ("/api/v1/auth/me".to_string(), token.as_str()),
        ("/api/v1/me".to_string(), code.as_str()),
        (
            format!("/api/v1/dialogues/{id}/invitations"),
            token.as_str(),
        ),
        (
            format!("/api/v1/dialogues/{id}/registrations"),
            token.as_str(),
        ),
        (format!("/api/v1/dialogues/{id}/attendance"), token.as_str()),
        ("/api/v1/auth/me".to_string(), "wrong"),
    ] {
        let reply = app.get(&path, Some(credential)).await;
        assert_common_headers(&reply.headers, &path);
        assert_eq!(
            header(&reply.headers, "cache-control"),
            "no-store",
            "{path}"
        );
        assert!(
            header(&reply.headers, "content-security-policy").contains("default-src 'none'"),
            "{path}"
        );
    }
    let checked_in = app.check_in(&token, &id, &code).await;
    assert_eq!(header(&checked_in.headers, "cache-control"), "no-store");
    let login = app.login("nobody@example.vn", "wrong password").await;
    assert_eq!(header(&login.headers, "cache-control"), "no-store");
    // The public dialogue reads stay cacheable as before.
    for path in [
        "/api/v1/dialogues".to_string(),
        format!("/api/v1/dialogues/{id}"),
    ] {
        let reply = app.get(&path, None).await;
        assert_eq!(reply.status, 200);
        assert!(
            !header(&reply.headers, "cache-control").contains("no-store"),
            "{path}"
        );
        assert_common_headers(&reply.headers, &path);
    }
}

#[tokio::test]
async fn over_https_pages_add_hsts_and_the_language_cookie_is_secure() {
    let app = spawn_app_with(|s| {
        s.base_url = "https://doithoai.example.vn".parse().unwrap();
        s.base_url_explicit = true;
    })
    .await;
    for path in ["/", "/api/v1/dialogues", "/no/such/page"] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(
            header(res.headers(), "strict-transport-security"),
            "max-age=31536000",
            "{path}"
        );
    }
    let res = app
        .client
        .get(app.url("/lang?to=en&next=/"))
        .send()
        .await
        .unwrap();
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("lang="))
        .expect("a language cookie");
    assert!(cookie.contains("Secure"), "{cookie}");
}

/// The CSP forbids inline script and style: no page template may rely on them.
#[test]
fn page_templates_have_no_inline_script_style_or_event_handlers() {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                // Emails are read in mail programs, not under the pages' CSP.
                if path.file_name().unwrap() != "email" {
                    walk(&path, out);
                }
            } else if path.extension().is_some_and(|e| e == "html") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/templates"),
        &mut files,
    );
    assert!(files.len() > 10, "templates found: {files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap().to_lowercase();
        for (at, _) in text.match_indices("<script") {
            let tag = &text[at..at + text[at..].find('>').unwrap()];
            assert!(tag.contains(" src="), "inline script in {}", file.display());
        }
        assert!(!text.contains("<style"), "a <style> in {}", file.display());
        assert!(
            !text.contains(" style="),
            "a style attribute in {}",
            file.display()
        );
        assert!(
            !text.contains("javascript:"),
            "javascript: in {}",
            file.display()
        );
        for handler in [
            " onclick=",
            " onsubmit=",
            " onchange=",
            " onload=",
            " oninput=",
        ] {
            assert!(!text.contains(handler), "{handler} in {}", file.display());
        }
    }
}

#[tokio::test]
async fn dates_outside_a_sane_range_are_refused() {
    let app = spawn_app().await;
    let token = app.staff_token("organizer").await;
    for (field, start, end) in [
        ("starts_at", "2262-04-11T00:00:00Z", "2262-04-11T03:00:00Z"),
        (
            "starts_at",
            "1999-12-31T08:00:00+07:00",
            "2026-11-30T17:00:00+07:00",
        ),
        ("ends_at", "2100-12-31T08:00:00Z", "2101-01-01T08:00:00Z"),
    ] {
        let mut body = reference_dialogue();
        body["starts_at"] = json!(start);
        body["ends_at"] = json!(end);
        body["question_deadline"] = Value::Null;
        let reply = app.create_dialogue(&token, &body).await;
        assert_eq!(reply.status, 422, "{start}: {}", reply.text);
        assert_eq!(field_code(&reply, field), "out_of_range", "{}", reply.text);
    }
    let mut body = reference_dialogue();
    body["question_deadline"] = json!("1970-01-01T00:00:00Z");
    let reply = app.create_dialogue(&token, &body).await;
    assert_eq!(field_code(&reply, "question_deadline"), "out_of_range");
    // The form of the pages goes through the same rule.
    let created = app.create_dialogue(&token, &reference_dialogue()).await;
    let id = created.body["id"].as_str().unwrap();
    let moved = app
        .edit_dialogue(&token, id, &json!({"ends_at": "2262-04-11T03:00:00Z"}))
        .await;
    assert_eq!(field_code(&moved, "ends_at"), "out_of_range");
}

#[tokio::test]
async fn a_huge_csv_header_is_not_echoed_back_whole() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({})).await;
    let csv = format!(
        "full_name,category,{}\nAn,other,x\n",
        "x".repeat(1024 * 1024 - 100)
    );
    let reply = app.import_invitees(&token, &id, &csv).await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.code(), "invalid_csv");
    assert!(reply.text.len() < 2_000, "{} bytes", reply.text.len());
    let field = reply.body["error"]["rows"][0]["field"].as_str().unwrap();
    assert!(field.ends_with('…'), "{field}");
    assert!(field.chars().count() <= 81, "{field}");
}

/// GET `path` with the `Authorization` header exactly as given.
async fn with_authorization(app: &TestApp, path: &str, header: &str) -> u16 {
    app.client
        .get(app.url(path))
        .header("Authorization", header)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn staff_and_participants_bearer_credentials_are_read_the_same_way_everywhere() {
    let app = spawn_app().await;
    let (token, id, code) = invited(&app).await;
    let queue = format!("/api/v1/dialogues/{id}/questions");
    // Staff (a session), a participant (a code) and the question list, which takes either.
    for (path, credential) in [
        ("/api/v1/auth/me", token.as_str()),
        ("/api/v1/me", code.as_str()),
        (queue.as_str(), token.as_str()),
        (queue.as_str(), code.as_str()),
    ] {
        for header in [
            format!("Bearer {credential}"),
            format!("bearer {credential}"),
            format!("Bearer   {credential}  "),
        ] {
            assert_eq!(
                with_authorization(&app, path, &header).await,
                200,
                "{path} with {header:?}"
            );
        }
        // Another scheme, or a wrong credential, is no credential of theirs.
        assert_eq!(
            with_authorization(&app, path, &format!("Basic {credential}")).await,
            if path == queue { 200 } else { 401 },
            "{path}: another scheme is not a bearer credential"
        );
        assert_eq!(
            with_authorization(&app, path, "Bearer nobody-has-this-credential-0123456789").await,
            401,
            "{path}"
        );
    }
}
