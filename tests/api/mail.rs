//! Invitations delivered over SMTP: a real test server on a loopback port, with and without
//! TLS, up, down and refusing.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{
    TestApp, by_name, invitations, link_in, open_dialogue, queued_emails, reference_dialogue,
    spawn_app_with,
};
use crate::smtp::{SmtpServer, free_port};

async fn smtp_app(smtp_url: String) -> TestApp {
    spawn_app_with(move |s| {
        s.smtp_url = Some(smtp_url);
        s.outbox_retry = Duration::from_millis(500);
    })
    .await
}

#[tokio::test]
async fn invitations_arrive_over_smtp_with_text_html_a_valid_calendar_event_and_a_working_link() {
    let smtp = SmtpServer::start();
    let app = smtp_app(smtp.url()).await;
    let (token, id) = open_dialogue(&app, json!({})).await;
    app.add_invitees(
        &token,
        &id,
        &json!([
            {"full_name": "Nguyễn Văn Ánh", "email": "anh@example.vn", "category": "completed_sentence"},
            {"full_name": "Peter Nguyen", "email": "peter@example.vn", "category": "press", "language": "en"},
            {"full_name": "Trần Thị Bé", "phone": "0912345678", "category": "drug_rehabilitation"}
        ]),
    )
    .await;
    let sent = app.send_invitations(&token, &id).await;
    assert_eq!(sent.body, json!({"queued": 2}));
    assert_eq!(
        by_name(&invitations(&app, &token, &id).await, "Nguyễn Văn Ánh")["status"],
        "queued"
    );
    assert_eq!(app.drain_jobs().await, 2);
    let mails = smtp.received();
    assert_eq!(mails.len(), 2);
    let anh = mails
        .iter()
        .find(|m| m.to.iter().any(|t| t.contains("anh@example.vn")))
        .unwrap();
    let parsed = anh.parsed();
    assert_eq!(
        parsed.subject().unwrap(),
        format!(
            "Giấy mời: {}",
            reference_dialogue()["title"].as_str().unwrap()
        )
    );
    let text = anh.text();
    assert!(text.contains("Kính gửi Ông/Bà Nguyễn Văn Ánh"), "{text}");
    assert!(text.contains("14:00–17:00, Thứ Hai, 30/11/2026"), "{text}");
    assert!(text.contains("Hội trường UBND huyện Bến Lức"));
    assert!(text.contains("Gửi câu hỏi"));
    let html = parsed.body_html(0).unwrap();
    assert!(html.contains("Trả lời tại trang cá nhân"));
    let list = invitations(&app, &token, &id).await;
    let code = by_name(&list, "Nguyễn Văn Ánh")["code"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(text.contains(&code));
    assert!(
        anh.message_id().ends_with("@127.0.0.1"),
        "{}",
        anh.message_id()
    );

    // The calendar event parses and has the right instant, organizer and a reminder.
    use mail_parser::MimeHeaders;
    let ics_part = parsed
        .attachments()
        .find(|a| a.attachment_name() == Some("hoi-nghi-doi-thoai.ics"))
        .expect("an .ics");
    let ics = String::from_utf8(ics_part.contents().to_vec()).unwrap();
    let calendar: icalendar::Calendar = ics.parse().expect("a valid calendar");
    let event = calendar
        .components
        .iter()
        .find_map(|c| c.as_event())
        .expect("an event");
    use icalendar::Component;
    assert_eq!(event.property_value("DTSTART"), Some("20261130T070000Z"));
    assert_eq!(event.property_value("DTEND"), Some("20261130T100000Z"));
    assert_eq!(
        event.property_value("LOCATION"),
        Some("Hội trường UBND huyện Bến Lức")
    );
    assert!(
        event
            .property_value("ORGANIZER")
            .unwrap()
            .starts_with("mailto:")
    );
    assert!(
        ics.contains("BEGIN:VALARM") && ics.contains("TRIGGER;RELATED=START:-PT7200S"),
        "{ics}"
    );
    assert!(
        ics.contains(&format!("{}/p/", app.address)),
        "the link in the event names the real port: {ics}"
    );
    assert!(ics.contains("METHOD:PUBLISH"));

    // English for the invitee who prefers it.
    let peter = mails
        .iter()
        .find(|m| m.to.iter().any(|t| t.contains("peter@")))
        .unwrap();
    assert!(
        peter
            .parsed()
            .subject()
            .unwrap()
            .starts_with("Invitation: ")
    );

    // The status follows delivery; the one without email stays pending.
    let list = invitations(&app, &token, &id).await;
    assert_eq!(by_name(&list, "Nguyễn Văn Ánh")["status"], "sent");
    assert!(by_name(&list, "Nguyễn Văn Ánh")["sent_at"].is_string());
    assert_eq!(by_name(&list, "Trần Thị Bé")["status"], "pending");

    // The personal link signs the participant in, on the page and in the API.
    let token_in_link = link_in(&text);
    let me = app.me(&token_in_link).await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["participant"]["full_name"], "Nguyễn Văn Ánh");
    assert!(
        me.body["participant"].get("category").is_none(),
        "the group is not shown to the participant"
    );
    let page = app
        .client
        .get(app.url(&format!("/p/{token_in_link}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap().contains("Nguyễn Văn Ánh"));
    let by_code = app.me(&code.to_lowercase().replace('-', "")).await;
    assert_eq!(
        by_code.status, 200,
        "the short code works in place of the link"
    );

    // Sending again sends nothing twice.
    let again = app.send_invitations(&token, &id).await;
    assert_eq!(again.body, json!({"queued": 0}));
    app.drain_jobs().await;
    assert_eq!(smtp.received().len(), 2);
}

#[tokio::test]
async fn when_the_smtp_server_is_down_the_email_is_retried_later_and_delivered() {
    let port = free_port();
    let app = smtp_app(format!("smtp://127.0.0.1:{port}")).await;
    let (token, id) = open_dialogue(&app, json!({})).await;
    app.add_invitees(
        &token,
        &id,
        &json!([{"full_name": "Nguyễn Văn Ánh", "email": "anh@example.vn", "category": "other"}]),
    )
    .await;
    app.send_invitations(&token, &id).await;
    assert_eq!(app.drain_jobs().await, 1, "one attempt, refused connection");
    let rows = queued_emails(&app, "invitation").await;
    assert_eq!(rows[0].status, "pending");
    assert_eq!(rows[0].attempts, 1);
    assert!(rows[0].last_error.is_some());
    assert_eq!(
        by_name(&invitations(&app, &token, &id).await, "Nguyễn Văn Ánh")["status"],
        "queued"
    );

    let smtp = SmtpServer::start_on(port);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(app.drain_jobs().await, 1);
    assert_eq!(smtp.received().len(), 1);
    let rows = queued_emails(&app, "invitation").await;
    assert_eq!(rows[0].status, "done");
    assert_eq!(rows[0].attempts, 2);
    assert_eq!(
        by_name(&invitations(&app, &token, &id).await, "Nguyễn Văn Ánh")["status"],
        "sent"
    );
}

#[tokio::test]
async fn a_rejected_address_marks_the_invitation_failed_with_the_reason() {
    let smtp = SmtpServer::start();
    smtp.refuse("khong-ton-tai@example.vn");
    let app = smtp_app(smtp.url()).await;
    let (token, id) = open_dialogue(&app, json!({})).await;
    app.add_invitees(
        &token,
        &id,
        &json!([
            {"full_name": "Người Không Tồn Tại", "email": "khong-ton-tai@example.vn", "category": "other"},
            {"full_name": "Nguyễn Văn Ánh", "email": "anh@example.vn", "category": "other"}
        ]),
    )
    .await;
    app.send_invitations(&token, &id).await;
    app.drain_jobs().await;
    let list = invitations(&app, &token, &id).await;
    let failed = by_name(&list, "Người Không Tồn Tại");
    assert_eq!(failed["status"], "failed");
    assert!(
        failed["failure_reason"].as_str().unwrap().contains("550"),
        "{failed}"
    );
    assert_eq!(by_name(&list, "Nguyễn Văn Ánh")["status"], "sent");
    let only_failed = app
        .get(
            &format!("/api/v1/dialogues/{id}/invitations?status=failed"),
            Some(&token),
        )
        .await;
    assert_eq!(only_failed.body["total"], 1);
    // Nothing more is tried for a permanent failure.
    assert_eq!(app.drain_jobs().await, 0);
}

/// A private CA and a certificate for `localhost` it signed, as PEM files in `dir`.
fn test_certificates(dir: &std::path::Path) -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let path = |name: &str| dir.join(name).display().to_string();
    std::fs::write(path("leaf.pem"), leaf.pem()).unwrap();
    std::fs::write(path("leaf.key"), leaf_key.serialize_pem()).unwrap();
    std::fs::write(path("ca.pem"), ca_cert.pem()).unwrap();
    (path("leaf.pem"), path("leaf.key"), path("ca.pem"))
}

#[tokio::test]
async fn invitations_go_over_starttls_to_a_server_whose_private_ca_is_configured() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, ca) = test_certificates(dir.path());
    let smtp = SmtpServer::start_tls(&cert, &key, &ca);
    let url = format!("smtp://localhost:{}?tls=required", smtp.port);
    let ca_pem = std::fs::read(&ca).unwrap();
    let app = spawn_app_with(move |s| {
        s.smtp_url = Some(url);
        s.smtp_ca_pem = Some(ca_pem);
    })
    .await;
    let (token, id) = open_dialogue(&app, json!({})).await;
    app.add_invitees(
        &token,
        &id,
        &json!([{"full_name": "Nguyễn Văn Ánh", "email": "anh@example.vn", "category": "other"}]),
    )
    .await;
    app.send_invitations(&token, &id).await;
    app.drain_jobs().await;
    assert_eq!(
        smtp.received().len(),
        1,
        "{:?}",
        queued_emails(&app, "invitation").await[0].last_error
    );
    assert!(smtp.received()[0].text().contains("Nguyễn Văn Ánh"));
}

#[tokio::test]
async fn tls_to_a_server_with_an_unknown_certificate_is_refused_and_retried_later() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, ca) = test_certificates(dir.path());
    let smtp = SmtpServer::start_tls(&cert, &key, &ca);
    let url = format!("smtp://localhost:{}?tls=required", smtp.port);
    let app = smtp_app(url).await;
    let (token, id) = open_dialogue(&app, json!({})).await;
    app.add_invitees(
        &token,
        &id,
        &json!([{"full_name": "Nguyễn Văn Ánh", "email": "anh@example.vn", "category": "other"}]),
    )
    .await;
    app.send_invitations(&token, &id).await;
    app.drain_jobs().await;
    assert!(
        smtp.received().is_empty(),
        "nothing goes to a server that could not be verified"
    );
    let rows = queued_emails(&app, "invitation").await;
    assert_eq!(rows[0].status, "pending");
    assert!(
        rows[0]
            .last_error
            .as_deref()
            .unwrap_or_default()
            .to_lowercase()
            .contains("certificate"),
        "{:?}",
        rows[0].last_error
    );
}
