use serde_json::{Value, json};

use crate::helpers::{TestApp, by_name, invitations, open_dialogue, queued_emails, spawn_app};

/// Invites people and returns their codes, in the order given.
async fn invited_codes(app: &TestApp, token: &str, id: &str, people: Value) -> Vec<String> {
    let reply = app.add_invitees(token, id, &people).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let list = invitations(app, token, id).await;
    people
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            list.iter()
                .find(|i| i["full_name"] == p["full_name"])
                .unwrap()["code"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

fn people(names: &[(&str, &str)]) -> Value {
    Value::Array(
        names
            .iter()
            .map(|(name, category)| {
                json!({"full_name": name, "email": format!("{}@example.vn", doithoai::text::fold(name).replace(' ', ".")), "category": category})
            })
            .collect(),
    )
}

#[tokio::test]
async fn accepting_takes_a_seat_and_past_capacity_people_wait_in_order() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({"capacity": 2})).await;
    let codes = invited_codes(
        &app,
        &token,
        &id,
        people(&[
            ("Nguyễn Văn An", "completed_sentence"),
            ("Trần Thị Bình", "community_sentence"),
            ("Lê Văn Châu", "drug_rehabilitation"),
            ("Phạm Thị Dung", "family_member"),
        ]),
    )
    .await;
    let mut statuses = Vec::new();
    for code in &codes {
        let reply = app.rsvp(code, "accept").await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_eq!(reply.body["invitation"]["status"], "accepted");
        statuses.push((
            reply.body["registration"]["status"].clone(),
            reply.body["registration"]["waitlist_position"].clone(),
        ));
    }
    assert_eq!(
        statuses,
        vec![
            (json!("registered"), Value::Null),
            (json!("registered"), Value::Null),
            (json!("waitlisted"), json!(1)),
            (json!("waitlisted"), json!(2)),
        ]
    );
    // Accepting twice changes nothing.
    assert_eq!(
        app.rsvp(&codes[0], "accept").await.body["registration"]["status"],
        "registered"
    );
    let waitlist = app
        .get(
            &format!("/api/v1/dialogues/{id}/registrations?status=waitlisted"),
            Some(&token),
        )
        .await;
    let names: Vec<&str> = waitlist.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["full_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Lê Văn Châu", "Phạm Thị Dung"]);
}

#[tokio::test]
async fn cancelling_a_seat_promotes_the_first_waitlisted_person_and_tells_them() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({"capacity": 1})).await;
    let codes = invited_codes(
        &app,
        &token,
        &id,
        people(&[
            ("Nguyễn Văn An", "other"),
            ("Trần Thị Bình", "other"),
            ("Lê Văn Châu", "other"),
        ]),
    )
    .await;
    for code in &codes {
        app.rsvp(code, "accept").await;
    }
    app.drain_jobs().await;
    let before = app.mail_files().len();
    let cancelled = app.cancel_registration(&codes[0]).await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    assert_eq!(cancelled.body["registration"]["status"], "cancelled");
    let second = app.me(&codes[1]).await;
    assert_eq!(second.body["registration"]["status"], "registered");
    let third = app.me(&codes[2]).await;
    assert_eq!(third.body["registration"]["waitlist_position"], 1);

    app.drain_jobs().await;
    let mails = app.mail_files();
    assert_eq!(mails.len(), before + 1, "one email: the promotion");
    let promoted = mails
        .iter()
        .map(|raw| {
            mail_parser::MessageParser::default()
                .parse(raw.as_bytes())
                .unwrap()
        })
        .find(|m| {
            m.subject()
                .is_some_and(|s| s.starts_with("Đã có chỗ cho Ông/Bà"))
        })
        .expect("a promotion email");
    assert!(
        promoted
            .to()
            .unwrap()
            .first()
            .unwrap()
            .address()
            .unwrap()
            .starts_with("tran.thi.binh@")
    );
    assert!(promoted.body_text(0).unwrap().contains(&codes[1]));
    assert!(
        promoted
            .raw_message()
            .windows(17)
            .any(|w| w == b"multipart/related"),
        "the QR code is shown in place"
    );
    use mail_parser::MimeHeaders;
    assert!(
        promoted
            .attachments()
            .any(|a| a.content_type().is_some_and(|c| c.subtype() == Some("png")))
    );
}

#[tokio::test]
async fn declining_after_accepting_gives_the_seat_back() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({"capacity": 1})).await;
    let codes = invited_codes(
        &app,
        &token,
        &id,
        people(&[("Nguyễn Văn An", "other"), ("Trần Thị Bình", "other")]),
    )
    .await;
    app.rsvp(&codes[0], "accept").await;
    app.rsvp(&codes[1], "accept").await;
    let declined = app.rsvp(&codes[0], "decline").await;
    assert_eq!(declined.body["invitation"]["status"], "declined");
    assert_eq!(declined.body["registration"]["status"], "cancelled");
    assert_eq!(
        app.me(&codes[1]).await.body["registration"]["status"],
        "registered"
    );
    let bad = app.rsvp(&codes[0], "maybe").await;
    assert_eq!(bad.status, 422);
}

#[tokio::test]
async fn self_registration_needs_consent_and_records_it_with_its_purpose() {
    let app = spawn_app().await;
    let (_token, id) = open_dialogue(&app, json!({"self_registration": true})).await;
    let body = json!({"full_name": "Võ Văn Tự", "phone": "0987 654 321", "category": "completed_sentence"});
    let refused = app.self_register(&id, &body).await;
    assert_eq!(refused.status, 422);
    assert_eq!(
        refused.body["error"]["field_codes"]["consent"],
        "consent_required"
    );
    let mut with_consent = body.clone();
    with_consent["consent"] = json!(true);
    let created = app.self_register(&id, &with_consent).await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["outcome"], "registered");
    assert_eq!(created.body["registration"]["status"], "registered");
    assert!(created.body.get("token").is_none(), "{}", created.text);
    let code = created.body["code"].as_str().unwrap();
    let me = app.me(code).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["participant"]["full_name"], "Võ Văn Tự");
    let participant_id = me.body["participant"]["id"].as_str().unwrap().to_string();
    let db = app.state.db.clone();
    let stored = tokio::task::spawn_blocking(move || {
        db.read_now(|c| Ok(doithoai::participants::store::find(c, &participant_id)?))
    })
    .await
    .unwrap()
    .unwrap()
    .unwrap();
    assert!(stored.consent_at.is_some());
    assert!(stored.consent_purpose.unwrap().contains("hội nghị"));
    assert_eq!(stored.source.as_str(), "self_registration");
}

/// Registering with someone else's details must not tell whether they are on the list (a
/// list of people after prison or in drug rehabilitation is itself sensitive), nor hand out
/// their code.
#[tokio::test]
async fn self_registration_answers_the_same_whether_or_not_the_person_is_on_the_list() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({"self_registration": true})).await;
    app.add_invitees(
        &token,
        &id,
        &json!([
            {"full_name": "Nguyễn Thị Hoa", "email": "hoa@example.vn", "category": "drug_rehabilitation"},
            {"full_name": "Lê Văn Nam", "phone": "0912 345 678", "category": "completed_sentence"}
        ]),
    )
    .await;
    let listed = invitations(&app, &token, &id).await;
    let nam_code = by_name(&listed, "Lê Văn Nam")["code"]
        .as_str()
        .unwrap()
        .to_string();

    // With an email: 202 and the same body, on the list or not; nothing secret in it.
    let known = app
        .self_register(&id, &json!({"full_name": "Ai Đó", "email": "HOA@example.vn", "category": "other", "consent": true}))
        .await;
    let unknown = app
        .self_register(&id, &json!({"full_name": "Trần Văn Mới", "email": "moi@example.vn", "category": "other", "consent": true}))
        .await;
    assert_eq!(known.status, 202, "{}", known.text);
    assert_eq!(unknown.status, 202, "{}", unknown.text);
    assert_eq!(known.text, unknown.text);
    assert_eq!(known.text, r#"{"outcome":"emailed"}"#);
    // The person on the list is reminded of their own link, at their own address only.
    let reminders = queued_emails(&app, "registration").await;
    assert!(
        reminders
            .iter()
            .any(|e| e.recipient.contains("hoa@example.vn")
                && e.subject.contains("đã có trong danh sách"))
    );
    assert!(
        reminders
            .iter()
            .any(|e| e.recipient.contains("moi@example.vn"))
    );
    assert!(!reminders.iter().any(|e| e.recipient.contains("HOA")));

    // With only a phone: 201 with a code either way, and never the listed person's code.
    let same_phone = app
        .self_register(&id, &json!({"full_name": "le van nam", "phone": "+84 912 345 678", "category": "other", "consent": true}))
        .await;
    let new_phone = app
        .self_register(&id, &json!({"full_name": "Phạm Thị Lan", "phone": "0987 111 222", "category": "other", "consent": true}))
        .await;
    assert_eq!(same_phone.status, 201, "{}", same_phone.text);
    assert_eq!(new_phone.status, 201, "{}", new_phone.text);
    let keys = |r: &crate::helpers::Reply| {
        let mut k: Vec<String> = r.body.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&same_phone), keys(&new_phone));
    let given = same_phone.body["code"].as_str().unwrap();
    assert_ne!(given, nam_code);
    // The organizer sees the new row as a possible duplicate of the one on the list.
    let registrations = app
        .get(
            &format!("/api/v1/dialogues/{id}/registrations"),
            Some(&token),
        )
        .await;
    let flagged: Vec<_> = registrations.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["possible_duplicate"] == json!(true))
        .collect();
    assert_eq!(flagged.len(), 1, "{}", registrations.text);
    assert_eq!(flagged[0]["code"], given);
}

#[tokio::test]
async fn self_registration_is_refused_where_the_dialogue_does_not_allow_it() {
    let app = spawn_app().await;
    let (_token, id) = open_dialogue(&app, json!({"self_registration": false})).await;
    let reply = app
        .self_register(
            &id,
            &json!({"full_name": "Võ Văn Tự", "phone": "0987654321", "category": "other", "consent": true}),
        )
        .await;
    assert_eq!(reply.status, 403);
    assert_eq!(reply.code(), "self_registration_closed");
}

#[tokio::test]
async fn a_code_checks_in_once_and_a_second_scan_says_when() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({})).await;
    let codes = invited_codes(
        &app,
        &token,
        &id,
        people(&[
            ("Nguyễn Văn An", "completed_sentence"),
            ("Trần Thị Bình", "other"),
        ]),
    )
    .await;
    app.rsvp(&codes[0], "accept").await;
    let typed = codes[0].to_lowercase().replace('-', " ");
    let first = app.check_in(&token, &id, &typed).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.body["already_checked_in"], false);
    assert_eq!(first.body["full_name"], "Nguyễn Văn An");
    assert_eq!(first.body["registration"]["status"], "checked_in");
    let second = app.check_in(&token, &id, &codes[0]).await;
    assert_eq!(second.body["already_checked_in"], true);
    assert_eq!(
        second.body["registration"]["checked_in_at"],
        first.body["registration"]["checked_in_at"]
    );
    // Someone who never accepted, and a code that does not exist.
    let not_registered = app.check_in(&token, &id, &codes[1]).await;
    assert_eq!(not_registered.code(), "not_registered");
    let unknown = app.check_in(&token, &id, "ZZZ-ZZZ-ZZZ").await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.code(), "unknown_code");
    // A checked-in participant cannot cancel any more.
    let cancel = app.cancel_registration(&codes[0]).await;
    assert_eq!(cancel.code(), "already_checked_in");
}

#[tokio::test]
async fn the_waitlisted_cannot_be_checked_in_but_walk_ins_can() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({"capacity": 1})).await;
    let codes = invited_codes(
        &app,
        &token,
        &id,
        people(&[("Nguyễn Văn An", "other"), ("Trần Thị Bình", "other")]),
    )
    .await;
    app.rsvp(&codes[0], "accept").await;
    app.rsvp(&codes[1], "accept").await;
    let waiting = app.check_in(&token, &id, &codes[1]).await;
    assert_eq!(waiting.code(), "waitlisted");
    let walk_in = app
        .post(
            &format!("/api/v1/dialogues/{id}/walk-ins"),
            Some(&token),
            &json!({"full_name": "Hồ Văn Đến", "category": "family_member", "consent": true, "over_capacity": true}),
        )
        .await;
    assert_eq!(walk_in.status, 201, "{}", walk_in.text);
    assert_eq!(walk_in.body["registration"]["status"], "checked_in");
    let without_consent = app
        .post(
            &format!("/api/v1/dialogues/{id}/walk-ins"),
            Some(&token),
            &json!({"full_name": "Ai Đó", "category": "other"}),
        )
        .await;
    assert_eq!(without_consent.status, 422);
}

#[tokio::test]
async fn attendance_is_counted_per_group() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({"capacity": 3})).await;
    let codes = invited_codes(
        &app,
        &token,
        &id,
        people(&[
            ("Nguyễn Văn An", "completed_sentence"),
            ("Trần Văn Bảo", "completed_sentence"),
            ("Lê Thị Cúc", "community_sentence"),
            ("Phạm Văn Danh", "drug_rehabilitation"),
            ("Đỗ Thị Én", "drug_rehabilitation"),
        ]),
    )
    .await;
    for code in &codes[..4] {
        app.rsvp(code, "accept").await;
    }
    app.rsvp(&codes[4], "decline").await;
    for code in [&codes[0], &codes[2]] {
        app.check_in(&token, &id, code).await;
    }
    let attendance = app.attendance(&token, &id).await;
    assert_eq!(attendance.status, 200);
    let a = &attendance.body;
    assert_eq!(
        (
            a["invited"].as_i64(),
            a["accepted"].as_i64(),
            a["declined"].as_i64()
        ),
        (Some(5), Some(4), Some(1))
    );
    assert_eq!(
        (
            a["registered"].as_i64(),
            a["waitlisted"].as_i64(),
            a["checked_in"].as_i64()
        ),
        (Some(3), Some(1), Some(2))
    );
    assert_eq!(
        a["by_category"]["completed_sentence"],
        json!({"invited": 2, "registered": 2, "checked_in": 1})
    );
    assert_eq!(
        a["by_category"]["community_sentence"],
        json!({"invited": 1, "registered": 1, "checked_in": 1})
    );
    assert_eq!(
        a["by_category"]["drug_rehabilitation"],
        json!({"invited": 2, "registered": 0, "checked_in": 0})
    );
    assert_eq!(
        a["by_category"]["press"],
        json!({"invited": 0, "registered": 0, "checked_in": 0})
    );
}

#[tokio::test]
async fn the_ticket_qr_code_encodes_the_check_in_code() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({})).await;
    let codes = invited_codes(&app, &token, &id, people(&[("Nguyễn Văn An", "other")])).await;
    app.rsvp(&codes[0], "accept").await;
    let png = app
        .client
        .get(app.url("/api/v1/me/ticket.png"))
        .bearer_auth(&codes[0])
        .send()
        .await
        .unwrap();
    assert_eq!(png.headers()["content-type"], "image/png");
    let bytes = png.bytes().await.unwrap();
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes.to_vec()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).unwrap();
    let (w, h) = (info.width as usize, info.height as usize);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| pixels[y * w + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1);
    let (_, content) = grids[0].decode().unwrap();
    assert_eq!(content, codes[0]);
}

#[tokio::test]
async fn guessing_codes_is_slowed_down_and_a_blocked_client_is_refused_even_with_a_right_code() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({})).await;
    let codes = invited_codes(&app, &token, &id, people(&[("Nguyễn Văn An", "other")])).await;
    assert_eq!(
        app.me(&codes[0]).await.status,
        200,
        "the rightful user is never slowed down"
    );
    let mut statuses = Vec::new();
    for i in 0..15 {
        statuses.push(
            app.me(&format!("AAA-BBB-C{}", (b'2' + (i % 8) as u8) as char))
                .await
                .status,
        );
    }
    assert!(statuses.starts_with(&[401, 401, 401]));
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    let blocked = app.me(&codes[0]).await;
    assert_eq!(
        blocked.status, 429,
        "a blocked client cannot test a guess, right or wrong"
    );
    assert!(blocked.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn raising_the_capacity_gives_the_new_seats_to_the_waitlist() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({"capacity": 1})).await;
    let codes = invited_codes(
        &app,
        &token,
        &id,
        people(&[
            ("Nguyễn Văn An", "other"),
            ("Trần Thị Bình", "other"),
            ("Lê Văn Châu", "other"),
        ]),
    )
    .await;
    for code in &codes {
        app.rsvp(code, "accept").await;
    }
    let edited = app
        .edit_dialogue(&token, &id, &json!({"capacity": 2}))
        .await;
    assert_eq!(edited.status, 200);
    assert_eq!(
        app.me(&codes[1]).await.body["registration"]["status"],
        "registered"
    );
    assert_eq!(
        app.me(&codes[2]).await.body["registration"]["waitlist_position"],
        1
    );
}

#[tokio::test]
async fn nobody_cancels_or_gets_a_ticket_without_a_seat_or_after_the_dialogue() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({"capacity": 1})).await;
    let codes = invited_codes(
        &app,
        &token,
        &id,
        people(&[("Nguyễn Văn An", "other"), ("Trần Thị Bình", "other")]),
    )
    .await;
    app.rsvp(&codes[0], "accept").await;
    app.rsvp(&codes[1], "accept").await;
    let waiting_ticket = app
        .client
        .get(app.url("/api/v1/me/ticket.png"))
        .bearer_auth(&codes[1])
        .send()
        .await
        .unwrap();
    assert_eq!(
        waiting_ticket.status().as_u16(),
        409,
        "the waitlisted have no ticket yet"
    );
    for step in ["in_progress", "concluded"] {
        app.change_status(&token, &id, step).await;
    }
    let cancel = app.cancel_registration(&codes[0]).await;
    assert_eq!(cancel.status, 409);
    assert_eq!(cancel.code(), "dialogue_not_open");
    assert_eq!(
        app.me(&codes[1]).await.body["registration"]["status"],
        "waitlisted"
    );
}

/// A hall behind one address is not refused, but one dialogue cannot be flooded from a
/// few addresses: the per-dialogue cap holds whatever the address, and another dialogue
/// still takes registrations.
#[tokio::test]
async fn self_registration_is_capped_per_dialogue_as_well_as_per_address() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.registrations_per_address_per_minute = 1_000;
        s.registrations_per_dialogue_per_minute = 3;
        s.registrations_per_minute = 1_000;
    })
    .await;
    let (_token, first) = open_dialogue(&app, json!({"self_registration": true})).await;
    let (_token, second) = open_dialogue(&app, json!({"self_registration": true})).await;
    let person = |i: usize| json!({"full_name": format!("Người Dự {i}"), "phone": format!("09{:08}", 500 + i), "category": "other", "consent": true});
    for i in 0..3 {
        assert_eq!(app.self_register(&first, &person(i)).await.status, 201);
    }
    let refused = app.self_register(&first, &person(3)).await;
    assert_eq!(refused.status, 429, "{}", refused.text);
    assert_eq!(refused.code(), "rate_limited");
    assert!(refused.headers.contains_key("retry-after"));
    assert_eq!(app.self_register(&second, &person(4)).await.status, 201);
}
