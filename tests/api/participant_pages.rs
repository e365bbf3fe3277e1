//! The pages a participant uses, not staff: the personal page from the letter's link or
//! code, the answer to the invitation, the ticket, and the public registration form.

use serde_json::json;

use crate::helpers::{BrowserSession, invitations, link_in, open_dialogue, spawn_app};

#[tokio::test]
async fn a_participant_accepts_on_the_personal_page_sees_the_ticket_and_is_checked_in_at_the_door()
{
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({})).await;
    app.add_invitees(&token, &id, &json!([{"full_name": "Nguyễn Văn Ánh", "email": "anh@example.vn", "category": "completed_sentence"}])).await;
    app.send_invitations(&token, &id).await;
    app.drain_jobs().await;
    let link = link_in(&app.mail_texts()[0]);
    let phone = BrowserSession::new(&app).await;
    let page = phone.get(&format!("/p/{link}")).await;
    assert!(page.contains("Nguyễn Văn Ánh"));
    assert!(page.contains("Tôi sẽ tham dự"));
    assert!(
        !page.contains("Người chấp hành xong hình phạt tù"),
        "the group is never shown on the phone"
    );
    let (status, location) = phone
        .post_form(&format!("/p/{link}/rsvp"), &[("response", "accept")])
        .await;
    assert_eq!(status, 303);
    let page = phone.get(&location).await;
    assert!(page.contains("đã nhận lời."), "{page}");
    assert!(page.contains("ticket.png"), "{page}");
    let png = app
        .client
        .get(app.url(&format!("/p/{link}/ticket.png")))
        .send()
        .await
        .unwrap();
    assert_eq!(png.headers()["content-type"], "image/png");

    // The code from the letter opens the same page.
    let code = invitations(&app, &token, &id).await[0]["code"]
        .as_str()
        .unwrap()
        .to_string();
    let res = app
        .client
        .get(app.url(&format!("/p?code={}", code.to_lowercase())))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["location"].to_str().unwrap(),
        format!("/p/{code}")
    );
    assert!(
        phone
            .get(&format!("/p/{code}"))
            .await
            .contains("Nguyễn Văn Ánh")
    );
    assert_eq!(phone.get_with_status("/p/ZZZ-ZZZ-ZZZ").await.0, 404);

    app.create_account("cua@benluc.example.vn", "Cán Bộ Cửa", "organizer", None)
        .await;
    let door = BrowserSession::new(&app).await;
    door.sign_in("cua@benluc.example.vn").await;
    assert!(
        door.get(&format!("/staff/dialogues/{id}/door"))
            .await
            .contains("door.js")
    );
    let (status, page) = door
        .post_form(&format!("/staff/dialogues/{id}/door"), &[("code", &code)])
        .await;
    assert_eq!(status, 200);
    assert!(
        page.contains("door-result ok") && page.contains("Nguyễn Văn Ánh"),
        "{page}"
    );
    let (_, again) = door
        .post_form(&format!("/staff/dialogues/{id}/door"), &[("code", &code)])
        .await;
    assert!(again.contains("door-result again") && again.contains("ĐÃ ĐIỂM DANH TRƯỚC ĐÓ"));
    let (_, unknown) = door
        .post_form(&format!("/staff/dialogues/{id}/door"), &[("code", "abc")])
        .await;
    assert!(unknown.contains("door-result bad"));
    let attendance = door.get(&format!("/staff/dialogues/{id}/attendance")).await;
    assert!(attendance.contains("Người chấp hành xong hình phạt tù"));
    let phone_after = phone.get(&format!("/p/{code}")).await;
    assert!(phone_after.contains("Đã điểm danh"));
}

#[tokio::test]
async fn someone_registers_on_the_public_form_with_consent() {
    let app = spawn_app().await;
    let (_token, id) = open_dialogue(&app, json!({"self_registration": true})).await;
    let visitor = BrowserSession::new(&app).await;
    assert!(
        visitor
            .get(&format!("/d/{id}"))
            .await
            .contains(&format!("/d/{id}/register"))
    );
    let form = visitor.get(&format!("/d/{id}/register")).await;
    assert!(form.contains("name=\"consent\""));
    let fields = [
        ("full_name", "Võ Văn Tự"),
        ("phone", "0987 654 321"),
        ("category", "completed_sentence"),
    ];
    let (status, page) = visitor
        .post_form(&format!("/d/{id}/register"), &fields)
        .await;
    assert_eq!(status, 422);
    assert!(page.contains("Cần đồng ý để đăng ký."));
    let mut with_consent = fields.to_vec();
    with_consent.push(("consent", "true"));
    let (status, location) = visitor
        .post_form(&format!("/d/{id}/register"), &with_consent)
        .await;
    assert_eq!(status, 303, "{location}");
    let page = visitor.get(&location).await;
    assert!(page.contains("Đăng ký thành công"));
    assert!(page.contains("ticket.png"));
}

#[tokio::test]
async fn a_refused_action_on_the_personal_page_shows_the_reason_and_changes_nothing() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({})).await;
    app.add_invitees(
        &token,
        &id,
        &json!([{"full_name": "Nguyễn Văn Ánh", "phone": "0901234567", "category": "other"}]),
    )
    .await;
    let code = invitations(&app, &token, &id).await[0]["code"]
        .as_str()
        .unwrap()
        .to_string();
    app.rsvp(&code, "accept").await;
    for step in ["in_progress", "concluded"] {
        app.change_status(&token, &id, step).await;
    }
    let phone = BrowserSession::new(&app).await;
    // The page offers no button any more; a form kept open from earlier still posts.
    phone.get("/login").await;
    let (status, page) = phone.post_form(&format!("/p/{code}/cancel"), &[]).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Hội nghị chưa mở hoặc đã kết thúc."),
        "{page}"
    );
    assert_eq!(
        app.me(&code).await.body["registration"]["status"],
        "registered"
    );
}

#[tokio::test]
async fn registering_with_an_email_on_the_form_shows_the_same_page_whether_or_not_the_address_is_listed()
 {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({"self_registration": true})).await;
    app.add_invitees(
        &token,
        &id,
        &json!([{"full_name": "Nguyễn Thị Hoa", "email": "hoa@example.vn", "category": "other"}]),
    )
    .await;
    let mut pages = Vec::new();
    for (name, email) in [
        ("Ai Đó", "hoa@example.vn"),
        ("Trần Văn Mới", "moi@example.vn"),
    ] {
        let visitor = BrowserSession::new(&app).await;
        visitor.get(&format!("/d/{id}/register")).await;
        let fields = [
            ("full_name", name),
            ("email", email),
            ("category", "other"),
            ("consent", "true"),
        ];
        let (status, location) = visitor
            .post_form(&format!("/d/{id}/register"), &fields)
            .await;
        assert_eq!(status, 303, "{location}");
        assert_eq!(location, format!("/d/{id}/register/sent"));
        let page = visitor.get(&location).await;
        assert!(page.contains("Đã nhận đăng ký"), "{page}");
        let csrf = visitor.csrf.lock().unwrap().clone();
        pages.push(page.replace(&csrf, ""));
    }
    assert_eq!(pages[0], pages[1]);
}

/// The code as the page shows it, for the next visit.
fn shown_code(page: &str) -> String {
    let at = page
        .find("<p class=\"code\">")
        .unwrap_or_else(|| panic!("no code on the page: {page}"));
    let rest = &page[at + "<p class=\"code\">".len()..];
    rest.split('<').next().unwrap().to_string()
}

#[tokio::test]
async fn the_personal_code_is_on_the_personal_page_in_every_state_and_nothing_is_promised_by_email_to_a_phone()
 {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({"self_registration": true, "capacity": 1})).await;
    // The only seat goes to someone else.
    let first = app
        .self_register(
            &id,
            &json!({"full_name": "Lê Văn Một", "phone": "0911111111", "category": "other", "consent": true}),
        )
        .await;
    assert_eq!(first.status, 201, "{}", first.text);

    // A phone only: waitlisted, shown the code and the link at once.
    let visitor = BrowserSession::new(&app).await;
    visitor.get(&format!("/d/{id}/register")).await;
    let (status, location) = visitor
        .post_form(
            &format!("/d/{id}/register"),
            &[
                ("full_name", "Võ Văn Tự"),
                ("phone", "0987654321"),
                ("category", "other"),
                ("consent", "true"),
            ],
        )
        .await;
    assert_eq!(status, 303, "{location}");
    let page = visitor.get(&location).await;
    assert!(page.contains("danh sách chờ"), "{page}");
    let code = shown_code(&page);
    assert_eq!(code.len(), 11, "{code}");
    assert!(
        page.replace("&#x2f;", "/")
            .contains(&format!("/p/{code}\"")),
        "the personal link: {page}"
    );
    assert!(page.contains("Mã cá nhân của Ông"), "{page}");
    assert!(
        !page.contains("sẽ được báo") && !page.contains("email"),
        "no notice promised by a channel the person does not have: {page}"
    );

    // Cancelled: still there.
    let (status, _) = visitor.post_form(&format!("/p/{code}/cancel"), &[]).await;
    assert_eq!(status, 303);
    let page = visitor.get(&format!("/p/{code}")).await;
    assert!(page.contains("đã hủy đăng ký"), "{page}");
    assert_eq!(shown_code(&page), code);

    // Invited and not yet answered: the code from the letter is on the page too.
    app.add_invitees(
        &token,
        &id,
        &json!([{"full_name": "Nguyễn Thị Hoa", "email": "hoa@example.vn", "category": "other"}]),
    )
    .await;
    let invited = invitations(&app, &token, &id).await[0]["code"]
        .as_str()
        .unwrap()
        .to_string();
    let page = visitor.get(&format!("/p/{invited}")).await;
    assert_eq!(shown_code(&page), invited);

    // Registered (a seat, with the ticket): the code is under the QR.
    let page = visitor
        .get(&format!("/p/{}", first.body["code"].as_str().unwrap()))
        .await;
    assert!(page.contains("ticket.png"), "{page}");
    assert_eq!(shown_code(&page), first.body["code"].as_str().unwrap());

    // In English too, with nothing promised by email.
    let english = BrowserSession::new(&app).await;
    english.get("/lang?to=en&next=/").await;
    app.self_register(
        &id,
        &json!({"full_name": "Trần Văn Ba", "phone": "0933333333", "category": "other", "consent": true}),
    )
    .await;
    let waiting = app
        .self_register(
            &id,
            &json!({"full_name": "Trần Văn Bốn", "phone": "0944444444", "category": "other", "consent": true}),
        )
        .await;
    let page = english
        .get(&format!("/p/{}", waiting.body["code"].as_str().unwrap()))
        .await;
    assert!(page.contains("Your personal code"), "{page}");
    assert!(
        !page.contains("we will email") && !page.contains("you will be told"),
        "{page}"
    );
}

#[tokio::test]
async fn someone_who_cancelled_registers_again_from_the_personal_page_while_places_allow() {
    let app = crate::helpers::spawn_app_with(|s| s.waitlist_limit = 0).await;
    let (_token, id) = open_dialogue(&app, json!({"self_registration": true, "capacity": 1})).await;
    let reply = app
        .self_register(
            &id,
            &json!({"full_name": "Võ Văn Tự", "phone": "0987654321", "category": "other", "consent": true}),
        )
        .await;
    let code = reply.body["code"].as_str().unwrap().to_string();
    let phone = BrowserSession::new(&app).await;
    phone.get(&format!("/p/{code}")).await;
    let (status, _) = phone.post_form(&format!("/p/{code}/cancel"), &[]).await;
    assert_eq!(status, 303);
    let page = phone.get(&format!("/p/{code}")).await;
    assert!(
        page.replace("&#x2f;", "/")
            .contains(&format!("action=\"/p/{code}/register\"")),
        "{page}"
    );
    assert!(page.contains("Đăng ký lại"), "{page}");

    // Someone else takes the only seat: no place left, so no button, and the reason.
    let other = app
        .self_register(
            &id,
            &json!({"full_name": "Lê Văn Một", "phone": "0911111111", "category": "other", "consent": true}),
        )
        .await;
    let page = phone.get(&format!("/p/{code}")).await;
    assert!(!page.contains("Đăng ký lại</button>"), "{page}");
    assert!(page.contains("danh sách chờ cũng đã đầy"), "{page}");
    let (status, page) = phone.post_form(&format!("/p/{code}/register"), &[]).await;
    assert_eq!(status, 200);
    assert!(page.contains("đã đầy"), "{page}");
    assert_eq!(
        app.me(&code).await.body["registration"]["status"],
        "cancelled"
    );

    // The seat is given back: the button returns and registering again gives the ticket.
    let other_code = other.body["code"].as_str().unwrap();
    assert_eq!(app.cancel_registration(other_code).await.status, 200);
    let (status, location) = phone.post_form(&format!("/p/{code}/register"), &[]).await;
    assert_eq!(status, 303, "{location}");
    let page = phone.get(&location).await;
    assert!(page.contains("đã đăng ký lại"), "{page}");
    assert!(page.contains("ticket.png"), "{page}");
    assert_eq!(
        app.me(&code).await.body["registration"]["status"],
        "registered"
    );

    // Registering twice is answered to the person, with nothing changed.
    let (status, location) = phone.post_form(&format!("/p/{code}/register"), &[]).await;
    assert_eq!(status, 303);
    let page = phone.get(&location).await;
    assert!(page.contains("đã có tên trong danh sách"), "{page}");
}

#[tokio::test]
async fn registering_again_with_an_email_after_cancelling_sends_the_way_back_to_that_address() {
    let app = spawn_app().await;
    let (_token, id) = open_dialogue(&app, json!({"self_registration": true})).await;
    let fields = [
        ("full_name", "Nguyễn Thị Hoa"),
        ("email", "hoa@example.vn"),
        ("category", "other"),
        ("consent", "true"),
    ];
    let visitor = BrowserSession::new(&app).await;
    visitor.get(&format!("/d/{id}/register")).await;
    visitor
        .post_form(&format!("/d/{id}/register"), &fields)
        .await;
    app.drain_jobs().await;
    let link = link_in(&app.mail_texts()[0]);
    assert_eq!(app.cancel_registration(&link).await.status, 200);
    let code = app.me(&link).await.body["participant"]["code"]
        .as_str()
        .unwrap()
        .to_string();

    // The form answers as it answers everyone; the address gets the way forward.
    let (status, location) = visitor
        .post_form(&format!("/d/{id}/register"), &fields)
        .await;
    assert_eq!(status, 303);
    assert_eq!(location, format!("/d/{id}/register/sent"));
    app.drain_jobs().await;
    let texts = app.mail_texts();
    let already = texts
        .iter()
        .find(|t| t.contains("không cần đăng ký thêm"))
        .unwrap_or_else(|| panic!("{texts:?}"));
    assert!(already.contains("Đăng ký lại"), "{already}");
    assert!(already.contains(&code), "{already}");
    assert!(already.contains("/p"), "{already}");
}

#[tokio::test]
async fn the_public_page_tells_the_places_left_hides_a_passed_deadline_and_shows_the_contact_everywhere()
 {
    let app = crate::helpers::spawn_app_with(|s| {
        s.contact_phone = Some("0272 3871 234".into());
        s.mail_from = doithoai::config::RawSettings {
            mail_from: "doithoai <no-reply@benluc.example.vn>".into(),
            sender_name: "UBND huyện Bến Lức".into(),
            ..Default::default()
        }
        .validate()
        .unwrap()
        .mail_from;
    })
    .await;
    let future = json!({
        "self_registration": true, "capacity": 2,
        "starts_at": "2027-01-10T14:00:00+07:00", "ends_at": "2027-01-10T17:00:00+07:00",
        "question_deadline": "2027-01-08T17:00:00+07:00",
    });
    let (_token, id) = open_dialogue(&app, future).await;
    let visitor = BrowserSession::new(&app).await;
    let page = visitor.get(&format!("/d/{id}")).await;
    assert!(page.contains("Số chỗ còn trống: <b>2</b>"), "{page}");
    assert!(
        page.contains("Hạn gửi câu hỏi"),
        "a deadline to come: {page}"
    );
    assert!(
        page.contains("Liên hệ Ban tổ chức") && page.contains("0272 3871 234"),
        "{page}"
    );
    assert!(page.contains("UBND huyện Bến Lức"), "{page}");
    let form = visitor.get(&format!("/d/{id}/register")).await;
    assert!(form.contains("Số chỗ còn trống: <b>2</b>"), "{form}");
    assert!(form.contains("0272 3871 234"), "{form}");

    // The reference dialogue's deadline (28/11/2026) has passed; both seats are taken
    // before anyone reads the page.
    let (_token, full) =
        open_dialogue(&app, json!({"self_registration": true, "capacity": 2})).await;
    let mut codes = Vec::new();
    for (name, phone) in [("Lê Văn Một", "0911111111"), ("Lê Văn Hai", "0922222222")] {
        let r = app
            .self_register(
                &full,
                &json!({"full_name": name, "phone": phone, "category": "other", "consent": true}),
            )
            .await;
        codes.push(r.body["code"].as_str().unwrap().to_string());
    }
    app.self_register(
        &full,
        &json!({"full_name": "Trần Thị Ba", "email": "ba@example.vn", "category": "other", "consent": true}),
    )
    .await;
    let page = visitor.get(&format!("/d/{full}")).await;
    assert!(
        !page.contains("Hạn gửi câu hỏi"),
        "a passed deadline is hidden: {page}"
    );
    assert!(
        page.contains("người đăng ký mới sẽ vào danh sách chờ"),
        "{page}"
    );
    assert!(page.contains("Đăng ký vào danh sách chờ"), "{page}");
    let form = visitor.get(&format!("/d/{full}/register")).await;
    assert!(
        form.contains("người đăng ký mới sẽ vào danh sách chờ"),
        "{form}"
    );

    // The personal page: the contact, and no question form past the deadline.
    let personal = visitor.get(&format!("/p/{}", codes[0])).await;
    assert!(personal.contains("0272 3871 234"), "{personal}");
    assert!(!personal.contains("name=\"body\""), "{personal}");

    // The email: the contact, sent in the host unit's name.
    app.drain_jobs().await;
    let raw = app.mail_files();
    assert_eq!(raw.len(), 1);
    let message = mail_parser::MessageParser::default()
        .parse(raw[0].as_bytes())
        .unwrap();
    let from = message.from().unwrap().first().unwrap();
    assert_eq!(from.name().unwrap(), "UBND huyện Bến Lức");
    assert_eq!(from.address().unwrap(), "no-reply@benluc.example.vn");
    let text = message.body_text(0).unwrap();
    assert!(
        text.contains("Liên hệ: UBND huyện Bến Lức, điện thoại 0272 3871 234"),
        "{text}"
    );
    let html = message.body_html(0).unwrap();
    assert!(html.contains("0272 3871 234"), "{html}");
}

#[tokio::test]
async fn a_wrong_code_is_answered_on_the_code_form_with_the_code_shown_back() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({})).await;
    app.add_invitees(
        &token,
        &id,
        &json!([{"full_name": "Nguyễn Văn Ánh", "phone": "0901234567", "category": "other"}]),
    )
    .await;
    let code = invitations(&app, &token, &id).await[0]["code"]
        .as_str()
        .unwrap()
        .to_string();
    let phone = BrowserSession::new(&app).await;
    let (status, page) = phone.get_with_status("/p?code=zzz zzz zzz").await;
    assert_eq!(status, 404);
    assert!(page.contains("Không tìm thấy mã ZZZ-ZZZ-ZZZ"), "{page}");
    assert!(page.contains("value=\"ZZZ-ZZZ-ZZZ\""), "{page}");
    assert!(page.contains("aria-invalid=\"true\""), "{page}");
    assert!(page.contains("aria-describedby=\"code-error\""), "{page}");
    assert!(
        page.contains("<form method=\"get\" action=\"&#x2f;p\">") || page.contains("action=\"/p\""),
        "{page}"
    );
    // The same from a typed address.
    let (status, page) = phone.get_with_status("/p/ZZZ-ZZZ-ZZZ").await;
    assert_eq!(status, 404);
    assert!(page.contains("value=\"ZZZ-ZZZ-ZZZ\""), "{page}");
    // A long link that no longer works is not echoed.
    let (status, page) = phone
        .get_with_status("/p/not-a-real-link-token-at-all")
        .await;
    assert_eq!(status, 404);
    assert!(page.contains("không còn dùng được"), "{page}");
    // The right code goes on to the page.
    let res = app
        .client
        .get(app.url(&format!("/p?code={}", code.to_lowercase())))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"].to_str().unwrap(),
        format!("/p/{code}")
    );
}

#[tokio::test]
async fn the_registration_form_helps_marks_its_errors_and_keeps_what_was_typed_when_its_token_expired()
 {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({"self_registration": true})).await;
    let visitor = BrowserSession::new(&app).await;
    let form = visitor.get(&format!("/d/{id}/register")).await;
    assert!(form.contains("value=\"prefer_not_to_say\""), "{form}");
    assert!(form.contains("Không muốn nêu"), "{form}");
    assert!(
        !form.contains("Người chấp hành xong hình phạt tù")
            && !form.contains("Người nghiện ma túy"),
        "neutral wording on the public form: {form}"
    );
    assert!(
        form.contains("href=\"&#x2f;privacy\"") || form.contains("href=\"/privacy\""),
        "{form}"
    );
    assert!(form.contains("class=\"check consent\""), "{form}");
    let privacy = visitor.get("/privacy").await;
    for part in ["Giữ những gì", "Để làm gì", "Giữ bao lâu", "Ai được xem"] {
        assert!(privacy.contains(part), "{part}: {privacy}");
    }

    // A wrong phone: what is expected, the field marked and described, the values kept.
    let (status, page) = visitor
        .post_form(
            &format!("/d/{id}/register"),
            &[
                ("full_name", "Võ Văn Tự"),
                ("phone", "12ab"),
                ("category", "prefer_not_to_say"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(page.contains("10 chữ số bắt đầu bằng 0"), "{page}");
    assert!(page.contains("+84"), "{page}");
    assert!(
        page.contains("aria-describedby=\"r-phone-hint r-phone-error\" aria-invalid=\"true\""),
        "{page}"
    );
    assert!(page.contains("id=\"r-phone-error\""), "{page}");
    assert!(
        page.contains("aria-invalid=\"true\" aria-describedby=\"r-consent-error\""),
        "{page}"
    );
    assert!(page.contains("value=\"Võ Văn Tự\""), "{page}");

    // "Prefer not to say" is a group like the others.
    let (status, location) = visitor
        .post_form(
            &format!("/d/{id}/register"),
            &[
                ("full_name", "Võ Văn Tự"),
                ("phone", "0987 654 321"),
                ("category", "prefer_not_to_say"),
                ("consent", "true"),
            ],
        )
        .await;
    assert_eq!(status, 303, "{location}");
    let attendance = app.attendance(&token, &id).await;
    assert_eq!(
        attendance.body["by_category"]["prefer_not_to_say"]["registered"],
        1
    );

    // A token that no longer matches: the form again with what was typed, nothing stored.
    let stale = BrowserSession::new(&app).await;
    let (status, page) = stale
        .post_raw(
            &format!("/d/{id}/register"),
            &[
                ("csrf", "0123456789abcdef0123456789abcdef"),
                ("full_name", "Trần Thị Bảy"),
                ("phone", "0977777777"),
                ("email", "bay@example.vn"),
                ("category", "family_member"),
                ("consent", "true"),
            ],
        )
        .await;
    assert_eq!(status, 403);
    assert!(page.contains("phiên làm việc đã hết hạn"), "{page}");
    assert!(page.contains("value=\"Trần Thị Bảy\""), "{page}");
    assert!(page.contains("value=\"0977777777\""), "{page}");
    assert!(page.contains("value=\"bay@example.vn\""), "{page}");
    assert!(page.contains("value=\"family_member\" selected"), "{page}");
    assert!(
        page.contains("name=\"consent\" value=\"true\" checked"),
        "{page}"
    );
    let attendance = app.attendance(&token, &id).await;
    assert_eq!(attendance.body["registered"], 1, "nothing registered");
    // With the fresh token of that page, the same values go through.
    let fresh = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    assert_eq!(fresh.len(), 32, "a fresh token in the form again");
    *stale.csrf.lock().unwrap() = fresh;
    let (status, _) = stale
        .post_form(
            &format!("/d/{id}/register"),
            &[
                ("full_name", "Trần Thị Bảy"),
                ("phone", "0977777777"),
                ("category", "family_member"),
                ("consent", "true"),
            ],
        )
        .await;
    assert_eq!(status, 303);
}

#[tokio::test]
async fn emails_write_one_date_for_one_day_never_double_the_title_and_the_reminder_carries_the_ticket()
 {
    let app = spawn_app().await;
    // 14:00–17:00 on one day.
    let (token, id) = open_dialogue(&app, json!({"capacity": 1})).await;
    app.add_invitees(
        &token,
        &id,
        &json!([
            {"full_name": "Nguyễn Văn Ánh", "email": "anh@example.vn", "category": "other"},
            {"full_name": "Trần Thị Hoa", "email": "hoa@example.vn", "category": "other"}
        ]),
    )
    .await;
    app.send_invitations(&token, &id).await;
    let invitations_sent = crate::helpers::queued_emails(&app, "invitation").await;
    assert_eq!(invitations_sent.len(), 2);
    for email in &invitations_sent {
        assert!(
            email
                .body_text
                .contains("Thời gian: 14:00–17:00, Thứ Hai, 30/11/2026\n"),
            "{}",
            email.body_text
        );
        assert!(
            email
                .body_html
                .contains("14:00–17:00, Thứ Hai, 30&#x2f;11&#x2f;2026")
                || email.body_html.contains("14:00–17:00, Thứ Hai, 30/11/2026"),
            "{}",
            email.body_html
        );
        assert!(
            email.body_html.contains("white-space: nowrap;\">"),
            "{}",
            email.body_html
        );
    }
    // The second to accept waits: the title is not doubled.
    let list = invitations(&app, &token, &id).await;
    for person in &list {
        app.rsvp(person["code"].as_str().unwrap(), "accept").await;
    }
    let waitlisted = crate::helpers::queued_emails(&app, "registration").await;
    for email in &waitlisted {
        assert!(
            !email.body_text.contains("Hội nghị \"Hội nghị"),
            "{}",
            email.body_text
        );
        assert!(
            !email.body_html.contains("Hội nghị “Hội nghị"),
            "{}",
            email.body_html
        );
    }
    assert!(
        waitlisted
            .iter()
            .any(|e| e.body_text.contains("danh sách chờ"))
    );

    // The reminder: the ticket's QR inside, and the code that does not wrap.
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
        &json!([{"full_name": "Người Đồng Ý", "email": "dongy@example.vn", "category": "other"}]),
    )
    .await;
    let code = invitations(&app, &token, &id).await[0]["code"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(app.rsvp(&code, "accept").await.status, 200);
    assert_eq!(crate::helpers::queue_reminders(&app).await, 1);
    let reminder = &crate::helpers::queued_emails(&app, "reminder").await[0];
    assert!(reminder.body_text.contains(&code), "{}", reminder.body_text);
    assert!(
        reminder.body_html.contains("cid:ticket"),
        "{}",
        reminder.body_html
    );
    assert!(
        reminder
            .body_html
            .contains(&format!("white-space: nowrap;\">{code}</b>")),
        "{}",
        reminder.body_html
    );
    let qr = &reminder.attachments[0];
    assert_eq!(qr.content_type, "image/png");
    assert_eq!(qr.inline_id.as_deref(), Some("ticket"));
    use base64::Engine;
    let png = base64::engine::general_purpose::STANDARD
        .decode(&qr.content_base64)
        .unwrap();
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).unwrap();
    let (w, h) = (info.width as usize, info.height as usize);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| pixels[y * w + x]);
    let (_, content) = image.detect_grids()[0].decode().unwrap();
    assert_eq!(content, code);
}
