use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, reference_dialogue, spawn_app, spawn_app_with};
use crate::smtp::{SmtpServer, free_port};

/// An organizer's token and an open dialogue (the reference case).
pub async fn open_dialogue(app: &TestApp, change: Value) -> (String, String) {
    let token = app.staff_token("organizer").await;
    let mut body = reference_dialogue();
    for (k, v) in change.as_object().unwrap() {
        body[k] = v.clone();
    }
    let created = app.create_dialogue(&token, &body).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_string();
    let opened = app
        .post(
            &format!("/api/v1/dialogues/{id}/status"),
            Some(&token),
            &json!({"status": "open"}),
        )
        .await;
    assert_eq!(opened.status, 200);
    (token, id)
}

pub async fn invite(app: &TestApp, token: &str, id: &str, people: Value) -> crate::helpers::Reply {
    app.post(
        &format!("/api/v1/dialogues/{id}/invitations"),
        Some(token),
        &json!({ "invitees": people }),
    )
    .await
}

pub async fn import_csv(app: &TestApp, token: &str, id: &str, csv: &str) -> crate::helpers::Reply {
    app.post_raw(
        &format!("/api/v1/dialogues/{id}/invitations/import"),
        Some(token),
        "text/csv; charset=utf-8",
        csv.as_bytes().to_vec(),
    )
    .await
}

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

fn by_name<'a>(list: &'a [Value], name: &str) -> &'a Value {
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

const CSV: &str = "\u{FEFF}full_name;email;phone;category;address\r\n\
\"Nguyễn Văn Ánh\";anh@example.vn;0901 234 567;completed_sentence;\"Ấp 3; xã Thạnh Đức\"\r\n\
Trần Thị Bé;;0912 345 678;drug_rehabilitation;\r\n\
Lê Văn Cường;cuong@example.vn;;Người thi hành án hình sự tại cộng đồng;Thị trấn Bến Lức\r\n";

#[tokio::test]
async fn a_csv_import_keeps_vietnamese_names_exactly_and_reports_people_already_invited() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({})).await;
    let reply = import_csv(&app, &token, &id, CSV).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.body["created"], 3);
    let list = invitations(&app, &token, &id).await;
    let anh = by_name(&list, "Nguyễn Văn Ánh");
    assert_eq!(anh["address"], "Ấp 3; xã Thạnh Đức");
    assert_eq!(anh["category"], "completed_sentence");
    assert_eq!(anh["status"], "pending");
    assert_eq!(
        by_name(&list, "Lê Văn Cường")["category"],
        "community_sentence"
    );
    let code = anh["code"].as_str().unwrap();
    assert_eq!(code.len(), 11);

    // The same people again (one by email, one by name and phone), plus one new person.
    let again = "full_name,email,phone,category\n\
                 Nguyen Van Anh Khac,anh@example.vn,,other\n\
                 trần thị bé,,0912.345.678,other\n\
                 Phạm Thị Dung,dung@example.vn,,family_member\n\
                 Phạm Thị Dung,dung@example.vn,,family_member\n";
    let reply = import_csv(&app, &token, &id, again).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.body["created"], 1);
    let duplicates = reply.body["duplicates"].as_array().unwrap();
    let lines: Vec<(u64, &str)> = duplicates
        .iter()
        .map(|d| (d["line"].as_u64().unwrap(), d["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        lines,
        vec![
            (2, "already_invited"),
            (3, "already_invited"),
            (5, "repeated_in_batch")
        ]
    );
    assert_eq!(invitations(&app, &token, &id).await.len(), 4);
}

#[tokio::test]
async fn a_bad_csv_row_is_422_with_every_line_and_nothing_is_stored() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({})).await;
    let csv = "full_name,email,phone,category\n\
               Nguyễn Văn Ánh,anh@example.vn,,completed_sentence\n\
               Trần Thị Bé,not-an-email,,drug_rehabilitation\n\
               ,c@example.vn,,other\n\
               Lê Văn Dũng,,0901,prisoner\n";
    let reply = import_csv(&app, &token, &id, csv).await;
    assert_eq!(reply.status, 422, "{}", reply.text);
    assert_eq!(reply.code(), "invalid_csv");
    let rows: Vec<(u64, String, String)> = reply.body["error"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["line"].as_u64().unwrap(),
                r["field"].as_str().unwrap().into(),
                r["code"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (3, "email".into(), "invalid_email".into()),
            (4, "full_name".into(), "required".into()),
            (5, "category".into(), "invalid_choice".into()),
            (5, "phone".into(), "invalid_phone".into()),
        ]
    );
    assert!(
        reply.body["error"]["rows"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Email")
    );
    assert!(invitations(&app, &token, &id).await.is_empty());
}

#[tokio::test]
async fn ten_thousand_csv_rows_import_in_one_request() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({})).await;
    let mut csv = String::from("full_name,email,phone,category,address\n");
    for i in 0..10_000 {
        csv.push_str(&format!(
            "Nguyễn Văn Thử {i},thu{i}@example.vn,09{i:08},other,Ấp {i}\n"
        ));
    }
    let reply = import_csv(&app, &token, &id, &csv).await;
    assert_eq!(
        reply.status,
        201,
        "{}",
        &reply.text[..reply.text.len().min(500)]
    );
    assert_eq!(reply.body["created"], 10_000);
    let page = app
        .get(
            &format!("/api/v1/dialogues/{id}/invitations?per_page=1"),
            Some(&token),
        )
        .await;
    assert_eq!(page.body["total"], 10_000);
}

#[tokio::test]
async fn json_invitees_are_checked_all_or_nothing() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({})).await;
    let reply = invite(
        &app,
        &token,
        &id,
        json!([
            {"full_name": "Đặng Văn Em", "email": "em@example.vn", "category": "completed_sentence"},
            {"full_name": "Võ Thị Gấm", "email": "gam@", "category": "nobody"}
        ]),
    )
    .await;
    assert_eq!(reply.status, 422);
    let codes = &reply.body["error"]["field_codes"];
    assert_eq!(codes["invitees[1].email"], "invalid_email");
    assert_eq!(codes["invitees[1].category"], "invalid_choice");
    assert!(invitations(&app, &token, &id).await.is_empty());
}

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
    invite(
        &app,
        &token,
        &id,
        json!([
            {"full_name": "Nguyễn Văn Ánh", "email": "anh@example.vn", "category": "completed_sentence"},
            {"full_name": "Peter Nguyen", "email": "peter@example.vn", "category": "press", "language": "en"},
            {"full_name": "Trần Thị Bé", "phone": "0912345678", "category": "drug_rehabilitation"}
        ]),
    )
    .await;
    let sent = app
        .post(
            &format!("/api/v1/dialogues/{id}/invitations/send"),
            Some(&token),
            &json!({}),
        )
        .await;
    assert_eq!(sent.body, json!({"queued": 2}));
    assert_eq!(
        by_name(&invitations(&app, &token, &id).await, "Nguyễn Văn Ánh")["status"],
        "queued"
    );
    assert_eq!(app.drain_outbox().await, 2);
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
    assert!(text.contains("14:00, Thứ Hai, 30/11/2026"), "{text}");
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
    assert!(ics.contains("METHOD:REQUEST"));

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
    let me = app.get("/api/v1/me", Some(&token_in_link)).await;
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
    let by_code = app
        .get("/api/v1/me", Some(&code.to_lowercase().replace('-', "")))
        .await;
    assert_eq!(
        by_code.status, 200,
        "the short code works in place of the link"
    );

    // Sending again sends nothing twice.
    let again = app
        .post(
            &format!("/api/v1/dialogues/{id}/invitations/send"),
            Some(&token),
            &json!({}),
        )
        .await;
    assert_eq!(again.body, json!({"queued": 0}));
    app.drain_outbox().await;
    assert_eq!(smtp.received().len(), 2);
}

#[tokio::test]
async fn when_the_smtp_server_is_down_the_email_is_retried_later_and_delivered() {
    let port = free_port();
    let app = smtp_app(format!("smtp://127.0.0.1:{port}")).await;
    let (token, id) = open_dialogue(&app, json!({})).await;
    invite(
        &app,
        &token,
        &id,
        json!([{"full_name": "Nguyễn Văn Ánh", "email": "anh@example.vn", "category": "other"}]),
    )
    .await;
    app.post(
        &format!("/api/v1/dialogues/{id}/invitations/send"),
        Some(&token),
        &json!({}),
    )
    .await;
    assert_eq!(
        app.drain_outbox().await,
        1,
        "one attempt, refused connection"
    );
    let rows = outbox_rows(&app, "invitation").await;
    assert_eq!(rows[0].status, "pending");
    assert_eq!(rows[0].attempts, 1);
    assert!(rows[0].last_error.is_some());
    assert_eq!(
        by_name(&invitations(&app, &token, &id).await, "Nguyễn Văn Ánh")["status"],
        "queued"
    );

    let smtp = SmtpServer::start_on(port);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(app.drain_outbox().await, 1);
    assert_eq!(smtp.received().len(), 1);
    let rows = outbox_rows(&app, "invitation").await;
    assert_eq!(rows[0].status, "sent");
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
    invite(
        &app,
        &token,
        &id,
        json!([
            {"full_name": "Người Không Tồn Tại", "email": "khong-ton-tai@example.vn", "category": "other"},
            {"full_name": "Nguyễn Văn Ánh", "email": "anh@example.vn", "category": "other"}
        ]),
    )
    .await;
    app.post(
        &format!("/api/v1/dialogues/{id}/invitations/send"),
        Some(&token),
        &json!({}),
    )
    .await;
    app.drain_outbox().await;
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
    assert_eq!(app.drain_outbox().await, 0);
}

#[tokio::test]
async fn a_resent_invitation_carries_a_new_link_and_reissuing_stops_the_old_code() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({})).await;
    invite(
        &app,
        &token,
        &id,
        json!([{"full_name": "Nguyễn Văn Ánh", "email": "anh@example.vn", "category": "other"}]),
    )
    .await;
    app.post(
        &format!("/api/v1/dialogues/{id}/invitations/send"),
        Some(&token),
        &json!({}),
    )
    .await;
    app.drain_outbox().await;
    let first_link = link_in(&app.mail_texts()[0]);
    let invitation = invitations(&app, &token, &id).await[0].clone();
    let invitation_id = invitation["id"].as_str().unwrap();
    let old_code = invitation["code"].as_str().unwrap().to_string();

    let resent = app
        .post(
            &format!("/api/v1/invitations/{invitation_id}/resend"),
            Some(&token),
            &json!({}),
        )
        .await;
    assert_eq!(resent.status, 200, "{}", resent.text);
    app.drain_outbox().await;
    let texts = app.mail_texts();
    assert_eq!(texts.len(), 2);
    let links: Vec<String> = texts.iter().map(|t| link_in(t)).collect();
    let second_link = links
        .into_iter()
        .find(|l| *l != first_link)
        .expect("a new link");
    assert_eq!(app.get("/api/v1/me", Some(&second_link)).await.status, 200);
    assert_eq!(app.get("/api/v1/me", Some(&first_link)).await.status, 401);

    // A re-send does not undo the invitee's answer.
    assert_eq!(
        app.post(
            "/api/v1/me/rsvp",
            Some(&second_link),
            &json!({"response": "accept"})
        )
        .await
        .status,
        200
    );
    app.post(
        &format!("/api/v1/invitations/{invitation_id}/resend"),
        Some(&token),
        &json!({}),
    )
    .await;
    assert_eq!(
        invitations(&app, &token, &id).await[0]["status"],
        "accepted"
    );
    let second_link = {
        app.drain_outbox().await;
        let texts = app.mail_texts();
        let known = [first_link.clone(), second_link.clone()];
        texts
            .iter()
            .map(|t| link_in(t))
            .find(|l| !known.contains(l))
            .expect("the newest link")
    };

    let reissued = app
        .post(
            &format!("/api/v1/invitations/{invitation_id}/reissue"),
            Some(&token),
            &json!({}),
        )
        .await;
    assert_eq!(reissued.status, 200);
    let new_code = reissued.body["code"].as_str().unwrap();
    assert_ne!(new_code, old_code);
    assert_eq!(app.get("/api/v1/me", Some(&old_code)).await.status, 401);
    assert_eq!(app.get("/api/v1/me", Some(&second_link)).await.status, 401);
    assert_eq!(app.get("/api/v1/me", Some(new_code)).await.status, 200);
    let new_link = reissued.body["link"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(app.get("/api/v1/me", Some(&new_link)).await.status, 200);
}

#[tokio::test]
async fn invitations_cannot_be_sent_for_a_draft() {
    let app = spawn_app().await;
    let token = app.staff_token("organizer").await;
    let id = app
        .create_dialogue(&token, &reference_dialogue())
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let reply = app
        .post(
            &format!("/api/v1/dialogues/{id}/invitations/send"),
            Some(&token),
            &json!({}),
        )
        .await;
    assert_eq!(reply.status, 409);
    assert_eq!(reply.code(), "dialogue_not_open");
}

#[tokio::test]
async fn reminders_go_once_to_those_who_accepted() {
    let app = spawn_app().await;
    let start = chrono::Utc::now() + chrono::Duration::hours(3);
    let (token, id) = open_dialogue(
        &app,
        json!({
            "starts_at": start.to_rfc3339(),
            "ends_at": (start + chrono::Duration::hours(2)).to_rfc3339(),
            "question_deadline": (start - chrono::Duration::hours(1)).to_rfc3339()
        }),
    )
    .await;
    invite(
        &app,
        &token,
        &id,
        json!([
            {"full_name": "Người Đồng Ý", "email": "dongy@example.vn", "category": "other"},
            {"full_name": "Người Từ Chối", "email": "tuchoi@example.vn", "category": "other"}
        ]),
    )
    .await;
    let list = invitations(&app, &token, &id).await;
    let yes = by_name(&list, "Người Đồng Ý")["code"]
        .as_str()
        .unwrap()
        .to_string();
    let no = by_name(&list, "Người Từ Chối")["code"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.post(
            "/api/v1/me/rsvp",
            Some(&yes),
            &json!({"response": "accept"})
        )
        .await
        .status,
        200
    );
    assert_eq!(
        app.post(
            "/api/v1/me/rsvp",
            Some(&no),
            &json!({"response": "decline"})
        )
        .await
        .status,
        200
    );
    // Someone accepted but waitlisted has no seat to be reminded of.
    app.patch(
        &format!("/api/v1/dialogues/{id}"),
        Some(&token),
        &json!({"capacity": 1}),
    )
    .await;
    invite(
        &app,
        &token,
        &id,
        json!([{"full_name": "Người Chờ Chỗ", "email": "cho@example.vn", "category": "other"}]),
    )
    .await;
    let waiting = invitations(&app, &token, &id).await;
    let waiting = by_name(&waiting, "Người Chờ Chỗ")["code"]
        .as_str()
        .unwrap()
        .to_string();
    let reply = app
        .post(
            "/api/v1/me/rsvp",
            Some(&waiting),
            &json!({"response": "accept"}),
        )
        .await;
    assert_eq!(reply.body["registration"]["status"], "waitlisted");
    assert_eq!(queue_reminders(&app).await, 1);
    assert_eq!(queue_reminders(&app).await, 0, "each is reminded once");
    app.drain_outbox().await;
    let reminders = outbox_rows(&app, "reminder").await;
    assert_eq!(reminders.len(), 1);
    assert!(reminders[0].recipient.contains("dongy@example.vn"));
    assert!(reminders[0].subject.starts_with("Nhắc lịch: "));
}

async fn queue_reminders(app: &TestApp) -> usize {
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

pub async fn outbox_rows(
    app: &TestApp,
    kind: &'static str,
) -> Vec<doithoai::jobs::outbox::OutboxRow> {
    let db = app.state.db.clone();
    tokio::task::spawn_blocking(move || {
        db.read_now(|conn| Ok(doithoai::jobs::outbox::list_kind(conn, kind)?))
    })
    .await
    .unwrap()
    .unwrap()
}

#[tokio::test]
async fn only_organizers_read_invitees() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({})).await;
    invite(&app, &token, &id, json!([{"full_name": "Nguyễn Văn Ánh", "email": "anh@example.vn", "phone": "0901234567", "category": "completed_sentence"}])).await;
    let code = invitations(&app, &token, &id).await[0]["code"]
        .as_str()
        .unwrap()
        .to_string();
    // Each view of the invitees' personal data is written to the audit log.
    app.get(
        &format!("/api/v1/dialogues/{id}/registrations"),
        Some(&token),
    )
    .await;
    let db = app.state.db.clone();
    let (views, registration_views) = tokio::task::spawn_blocking(move || {
        db.read_now(|c| {
            Ok((
                doithoai::audit::count_action(c, "invitations.view")?,
                doithoai::audit::count_action(c, "registrations.view")?,
            ))
        })
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!((views, registration_views), (1, 1));
    let agency = app.staff_token("agency").await;
    for path in [
        format!("/api/v1/dialogues/{id}/invitations"),
        format!("/api/v1/dialogues/{id}/registrations"),
        format!("/api/v1/dialogues/{id}/attendance"),
    ] {
        assert_eq!(app.get(&path, Some(&agency)).await.status, 403, "{path}");
        assert_eq!(
            app.get(&path, Some(&code)).await.status,
            401,
            "{path} with a participant's code"
        );
        assert_eq!(app.get(&path, None).await.status, 401, "{path}");
    }
    assert_eq!(invite(&app, &agency, &id, json!([])).await.status, 403);
    // Nothing personal on the public page or in the public API.
    let public_page = app
        .client
        .get(app.url(&format!("/d/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let public_api = app.get(&format!("/api/v1/dialogues/{id}"), None).await.text;
    for text in [&public_page, &public_api] {
        assert!(!text.contains("Nguyễn Văn Ánh"));
        assert!(!text.contains("0901234567"));
        assert!(!text.contains("completed_sentence"));
    }
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
    invite(
        &app,
        &token,
        &id,
        json!([{"full_name": "Nguyễn Văn Ánh", "email": "anh@example.vn", "category": "other"}]),
    )
    .await;
    app.post(
        &format!("/api/v1/dialogues/{id}/invitations/send"),
        Some(&token),
        &json!({}),
    )
    .await;
    app.drain_outbox().await;
    assert_eq!(
        smtp.received().len(),
        1,
        "{:?}",
        outbox_rows(&app, "invitation").await[0].last_error
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
    invite(
        &app,
        &token,
        &id,
        json!([{"full_name": "Nguyễn Văn Ánh", "email": "anh@example.vn", "category": "other"}]),
    )
    .await;
    app.post(
        &format!("/api/v1/dialogues/{id}/invitations/send"),
        Some(&token),
        &json!({}),
    )
    .await;
    app.drain_outbox().await;
    assert!(
        smtp.received().is_empty(),
        "nothing goes to a server that could not be verified"
    );
    let rows = outbox_rows(&app, "invitation").await;
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
