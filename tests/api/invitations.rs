use serde_json::json;

use crate::helpers::{
    by_name, invitations, link_in, open_dialogue, queue_reminders, queued_emails,
    reference_dialogue, spawn_app,
};

const CSV: &str = "\u{FEFF}full_name;email;phone;category;address\r\n\
\"Nguyễn Văn Ánh\";anh@example.vn;0901 234 567;completed_sentence;\"Ấp 3; xã Thạnh Đức\"\r\n\
Trần Thị Bé;;0912 345 678;drug_rehabilitation;\r\n\
Lê Văn Cường;cuong@example.vn;;Người thi hành án hình sự tại cộng đồng;Thị trấn Bến Lức\r\n";

#[tokio::test]
async fn a_csv_import_keeps_vietnamese_names_exactly_and_reports_people_already_invited() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({})).await;
    let reply = app.import_invitees(&token, &id, CSV).await;
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
    let reply = app.import_invitees(&token, &id, again).await;
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
    let reply = app.import_invitees(&token, &id, csv).await;
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
    let reply = app.import_invitees(&token, &id, &csv).await;
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
    let reply = app
        .add_invitees(
            &token,
            &id,
            &json!([
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
#[tokio::test]
async fn a_resent_invitation_carries_a_new_link_and_reissuing_stops_the_old_code() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({})).await;
    app.add_invitees(
        &token,
        &id,
        &json!([{"full_name": "Nguyễn Văn Ánh", "email": "anh@example.vn", "category": "other"}]),
    )
    .await;
    app.send_invitations(&token, &id).await;
    app.drain_jobs().await;
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
    app.drain_jobs().await;
    let texts = app.mail_texts();
    assert_eq!(texts.len(), 2);
    let links: Vec<String> = texts.iter().map(|t| link_in(t)).collect();
    let second_link = links
        .into_iter()
        .find(|l| *l != first_link)
        .expect("a new link");
    assert_eq!(app.me(&second_link).await.status, 200);
    assert_eq!(app.me(&first_link).await.status, 401);

    // A re-send does not undo the invitee's answer.
    assert_eq!(app.rsvp(&second_link, "accept").await.status, 200);
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
        app.drain_jobs().await;
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
    assert_eq!(app.me(&old_code).await.status, 401);
    assert_eq!(app.me(&second_link).await.status, 401);
    assert_eq!(app.me(new_code).await.status, 200);
    let new_link = reissued.body["link"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(app.me(&new_link).await.status, 200);
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
    let reply = app.send_invitations(&token, &id).await;
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
    app.add_invitees(
        &token,
        &id,
        &json!([
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
    assert_eq!(app.rsvp(&yes, "accept").await.status, 200);
    assert_eq!(app.rsvp(&no, "decline").await.status, 200);
    // Someone accepted but waitlisted has no seat to be reminded of.
    app.edit_dialogue(&token, &id, &json!({"capacity": 1}))
        .await;
    app.add_invitees(
        &token,
        &id,
        &json!([{"full_name": "Người Chờ Chỗ", "email": "cho@example.vn", "category": "other"}]),
    )
    .await;
    let waiting = invitations(&app, &token, &id).await;
    let waiting = by_name(&waiting, "Người Chờ Chỗ")["code"]
        .as_str()
        .unwrap()
        .to_string();
    let reply = app.rsvp(&waiting, "accept").await;
    assert_eq!(reply.body["registration"]["status"], "waitlisted");
    assert_eq!(queue_reminders(&app).await, 1);
    assert_eq!(queue_reminders(&app).await, 0, "each is reminded once");
    app.drain_jobs().await;
    let reminders = queued_emails(&app, "reminder").await;
    assert_eq!(reminders.len(), 1);
    assert!(reminders[0].recipient.contains("dongy@example.vn"));
    assert!(reminders[0].subject.starts_with("Nhắc lịch: "));
}

#[tokio::test]
async fn only_organizers_read_invitees() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({})).await;
    app.add_invitees(&token, &id, &json!([{"full_name": "Nguyễn Văn Ánh", "email": "anh@example.vn", "phone": "0901234567", "category": "completed_sentence"}])).await;
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
    assert_eq!(app.add_invitees(&agency, &id, &json!([])).await.status, 403);
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
    let public_api = app.get_dialogue(None, &id).await.text;
    for text in [&public_page, &public_api] {
        assert!(!text.contains("Nguyễn Văn Ánh"));
        assert!(!text.contains("0901234567"));
        assert!(!text.contains("completed_sentence"));
    }
}
