//! The minutes (biên bản): built from the record, every part Decree 30's template asks for,
//! in exact Vietnamese; counts per group and never a participant's name (unless they chose
//! to be named as an asker) nor their group next to a name; the CLI writes the same bytes;
//! publishing makes the PDF public and emails the participants.

use diesel::{ExpressionMethods, RunQueryDsl};
use serde_json::{Value, json};

use crate::documents::{
    check_file, docx_text, get_pdf, invite, libreoffice_pdf, pdf_text, squash, without_page_numbers,
};
use crate::helpers::{TestApp, queued_emails, spawn_app};
use crate::questions::{dialogue_taking_questions, in_hours};

pub(crate) async fn agency_with_staff(app: &TestApp, name: &str) -> (String, String) {
    let admin = app.staff_token("admin").await;
    let agency = app
        .create_agency(&admin, &json!({"name": name, "kind": "government"}))
        .await;
    assert_eq!(agency.status, 201, "{}", agency.text);
    let agency_id = agency.body["id"].as_str().unwrap().to_string();
    let email = format!("canbo-{}@benluc.example.vn", uuid::Uuid::new_v4().simple());
    app.create_account(&email, "Cán bộ Phòng Lao động", "agency", Some(&agency_id))
        .await;
    let login = app.login(&email, crate::helpers::PASSWORD).await;
    (agency_id, login.body["token"].as_str().unwrap().to_string())
}

async fn ask(
    app: &TestApp,
    id: &str,
    code: &str,
    body: &str,
    topic: &str,
    anonymous: bool,
) -> String {
    let reply = app
        .ask(
            id,
            Some(code),
            &json!({"body": body, "topic": topic, "anonymous": anonymous}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    reply.body["id"].as_str().unwrap().to_string()
}

async fn step(app: &TestApp, token: &str, assignment: &str, step: &str, body: Value) {
    let reply = app
        .post(
            &format!("/api/v1/assignments/{assignment}/{step}"),
            Some(token),
            &body,
        )
        .await;
    assert_eq!(reply.status, 200, "{step}: {}", reply.text);
}

const ANSWERED: &str =
    "Tôi đã chấp hành xong án phạt tù, muốn vay vốn để mở tiệm sửa xe thì cần thủ tục gì?";
const ANSWER: &str = "Ông/Bà liên hệ Phòng Giao dịch Ngân hàng Chính sách xã hội huyện, mang giấy chứng nhận chấp hành xong án phạt tù; mức vay tối đa 100 triệu đồng.";
const AWAITING: &str = "Làm thế nào để được xóa án tích khi đã chấp hành xong hình phạt?";
const REJECTED: &str = "Câu hỏi không phù hợp sẽ bị từ chối và không vào biên bản.";
const UNMODERATED: &str = "Câu hỏi chưa được duyệt thì cũng không vào biên bản.";
const CONCLUSION: &str = "Chủ tọa ghi nhận các ý kiến; giao Phòng Lao động - Thương binh và Xã hội phối hợp với các xã tổ chức lớp học nghề trong quý I năm 2027.";

fn minutes_body() -> Value {
    json!({
        "number": "12",
        "opened_at": "2026-11-30T14:00:00+07:00",
        "closed_at": "2026-11-30T16:45:00+07:00",
        "summary": "Đồng chí Chủ tịch UBND huyện phát biểu khai mạc.\nCác cơ quan trả lời trực tiếp các câu hỏi của người dân.",
        "conclusion": CONCLUSION,
        "recipients": ["UBND tỉnh Long An (để báo cáo);", "Các xã, thị trấn;", "Lưu: VT."]
    })
}

/// A dialogue with check-ins, an answered, a waiting, a rejected and an unmoderated
/// question, one commitment, and the minutes saved: (organizer, dialogue id, invitations).
async fn recorded_dialogue(app: &TestApp) -> (String, String, Vec<Value>) {
    let (organizer, id) = dialogue_taking_questions(app, json!({})).await;
    let list = invite(app, &organizer, &id).await;
    let code = |name: &str| {
        list.iter().find(|i| i["full_name"] == name).unwrap()["code"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // Five accept; four come: two of one group, one each of two others.
    for name in [
        "Trần Văn Bình",
        "Võ Minh Dũng",
        "Nguyễn Thị Ánh",
        "Lê Văn An",
        "Phạm Thị Đào",
    ] {
        let reply = app.rsvp(&code(name), "accept").await;
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
    for name in [
        "Trần Văn Bình",
        "Võ Minh Dũng",
        "Nguyễn Thị Ánh",
        "Lê Văn An",
    ] {
        let reply = app.check_in(&organizer, &id, &code(name)).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
    let (agency, agency_token) =
        agency_with_staff(app, "Phòng Lao động - Thương binh và Xã hội huyện").await;
    // Answered and published, asked anonymously by Lê Văn An.
    let q1 = ask(
        app,
        &id,
        &code("Lê Văn An"),
        ANSWERED,
        "loans_livelihood",
        true,
    )
    .await;
    app.moderate(&organizer, &q1, &json!({"action": "approve"}))
        .await;
    let a1 = app.assign(&organizer, &q1, &agency, &in_hours(72)).await;
    assert_eq!(a1.status, 201, "{}", a1.text);
    let a1 = a1.body["id"].as_str().unwrap().to_string();
    step(
        app,
        &agency_token,
        &a1,
        "response",
        json!({"body": ANSWER, "submit": true}),
    )
    .await;
    step(app, &organizer, &a1, "approve", json!({})).await;
    // Waiting for a written answer, asked by Trần Văn Bình, who chose to be named.
    let q2 = ask(
        app,
        &id,
        &code("Trần Văn Bình"),
        AWAITING,
        "record_expungement",
        false,
    )
    .await;
    app.moderate(&organizer, &q2, &json!({"action": "approve"}))
        .await;
    let a2 = app.assign(&organizer, &q2, &agency, &in_hours(240)).await;
    assert_eq!(a2.status, 201, "{}", a2.text);
    // Rejected, and never moderated: neither is reported.
    let q3 = ask(app, &id, &code("Phạm Thị Đào"), REJECTED, "other", false).await;
    let rejected = app
        .moderate(
            &organizer,
            &q3,
            &json!({"action": "reject", "reason": "Không thuộc phạm vi hội nghị."}),
        )
        .await;
    assert_eq!(rejected.status, 200, "{}", rejected.text);
    ask(
        app,
        &id,
        &code("Nguyễn Thị Ánh"),
        UNMODERATED,
        "employment",
        false,
    )
    .await;
    // A commitment, written directly: the live session records them only while the
    // dialogue is under way.
    let dialogue_id = id.clone();
    app.state
        .db
        .write_now(move |conn| {
            use doithoai::db::schema::commitments::dsl as c;
            let at = doithoai::db::now();
            diesel::insert_into(c::commitments)
                .values((
                    c::id.eq(doithoai::db::new_id()),
                    c::dialogue_id.eq(&dialogue_id),
                    c::party.eq("Công ty TNHH May mặc Bến Lức"),
                    c::kind.eq("employment_mou"),
                    c::description.eq("Tiếp nhận người lao động sau khi chấp hành xong án phạt tù"),
                    c::jobs_offered.eq(Some(20)),
                    c::created_at.eq(at),
                    c::updated_at.eq(at),
                ))
                .execute(conn)?;
            Ok(())
        })
        .unwrap();
    let saved = put_json(
        app,
        &format!("/api/v1/dialogues/{id}/minutes"),
        &organizer,
        &minutes_body(),
    )
    .await;
    assert_eq!(saved.status, 200, "{}", saved.text);
    assert_eq!(saved.body["number"], "12");
    (organizer, id, list)
}

/// PUT with a JSON body.
async fn put_json(app: &TestApp, path: &str, token: &str, body: &Value) -> crate::helpers::Reply {
    let response = app
        .client
        .put(app.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    crate::helpers::Reply {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
    }
}

/// Every part of the minutes of [`recorded_dialogue`], in exact Vietnamese, as the text
/// reads once whitespace is squashed (the PDF's and the Word copy's alike).
fn required_parts() -> Vec<String> {
    [
        "UBND TỈNH LONG AN",
        "UBND HUYỆN BẾN LỨC",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Số: 12/BB-UBND",
        "Bến Lức, ngày 30 tháng 11 năm 2026",
        "BIÊN BẢN",
        "Hội nghị đối thoại với người chấp hành xong hình phạt tù, người thi hành án hình sự tại cộng đồng, người nghiện ma túy",
        "Thời gian bắt đầu: 14 giờ 00 phút, ngày 30 tháng 11 năm 2026.",
        "Địa điểm: Hội trường UBND huyện Bến Lức.",
        "Thành phần tham dự",
        "Chủ trì (chủ tọa): Ông/Bà Nguyễn Đăng Minh Xuân, Bí thư Huyện ủy Bến Lức; Ông/Bà Lê Thành Út, Chủ tịch UBND huyện Bến Lức.",
        "Thư ký: Ông/Bà Trần Thị Thu Hà, Chuyên viên Văn phòng HĐND và UBND huyện.",
        "Đại diện các cơ quan, đơn vị: Phòng Lao động - Thương binh và Xã hội huyện.",
        "Người tham dự (theo điểm danh): 4 người, gồm: 2 người chấp hành xong hình phạt tù, 1 người thi hành án hình sự tại cộng đồng, 1 người nghiện ma túy, người sau cai nghiện.",
        "Nội dung hội nghị",
        "Khai mạc (Chủ tịch UBND huyện).",
        "Đồng chí Chủ tịch UBND huyện phát biểu khai mạc.",
        "Vay vốn, sinh kế",
        ANSWERED,
        "Cơ quan trả lời: Phòng Lao động - Thương binh và Xã hội huyện",
        &format!("Trả lời: {ANSWER}"),
        "Xóa án tích, lý lịch tư pháp",
        &format!("{AWAITING} (Ông/Bà Trần Văn Bình hỏi)"),
        "Các câu hỏi sẽ được trả lời bằng văn bản sau hội nghị",
        "Phòng Lao động - Thương binh và Xã hội huyện trả lời bằng văn bản trước ngày",
        "Cam kết",
        "Công ty TNHH May mặc Bến Lức: Tiếp nhận người lao động sau khi chấp hành xong án phạt tù (20 chỗ làm việc).",
        "Kết luận của chủ tọa",
        CONCLUSION,
        "Hội nghị kết thúc vào 16 giờ 45 phút cùng ngày.",
        "THƯ KÝ",
        "CHỦ TỌA",
        "Trần Thị Thu Hà",
        "Nơi nhận:",
        "- UBND tỉnh Long An (để báo cáo);",
        "- Lưu: VT.",
    ]
    .iter()
    .map(|p| p.to_string())
    .collect()
}

/// Participants who did not choose to be named.
const UNNAMED: [&str; 5] = [
    "Lê Văn An",
    "Phạm Thị Đào",
    "Nguyễn Thị Ánh",
    "Võ Minh Dũng",
    "Đặng Văn Ân",
];

#[tokio::test]
async fn the_minutes_hold_every_part_and_name_nobody_who_did_not_choose_to_be() {
    let app = spawn_app().await;
    let (organizer, id, _) = recorded_dialogue(&app).await;
    let (status, content_type, pdf) = get_pdf(
        &app,
        &format!("/api/v1/dialogues/{id}/minutes.pdf"),
        Some(&organizer),
    )
    .await;
    assert_eq!((status, content_type.as_str()), (200, "application/pdf"));
    check_file(&pdf);

    // The command line writes the same bytes.
    let file = app.mail_dir.join("bien-ban.pdf");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_doithoai"))
        .args(["minutes", &id, "-o", file.to_str().unwrap()])
        .env("DATABASE_URL", &app.db.url)
        .env("DOITHOAI_LOG", "warn")
        .env_remove("DOITHOAI_BIND")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(&file).unwrap(),
        pdf,
        "the CLI and the endpoint agree"
    );

    let Some(raw) = pdf_text(&pdf) else { return };
    let text = squash(&without_page_numbers(&raw));
    for part in required_parts() {
        assert!(
            text.contains(&part),
            "{part:?} missing from the minutes:\n{raw}"
        );
    }
    // Only approved questions.
    assert!(!text.contains(REJECTED) && !text.contains(UNMODERATED));
    // No participant is named, except the asker who chose to be, and never with a group.
    for name in UNNAMED {
        assert!(!text.contains(name), "{name} is named in the minutes");
    }
    assert_eq!(text.matches("Trần Văn Bình").count(), 1);
    let at = text.find("Trần Văn Bình").unwrap();
    let before: Vec<char> = text[..at].chars().rev().take(150).collect();
    let around: String = before
        .into_iter()
        .rev()
        .chain(text[at..].chars().take(150))
        .collect();
    for label in ["chấp hành xong hình phạt tù", "Nhóm", "nhóm"] {
        assert!(!around.contains(label), "a group next to a name: {around}");
    }
    // The order of Decree 30's template.
    let order = [
        "Thời gian bắt đầu",
        "Thành phần tham dự",
        "Nội dung hội nghị",
        "Cam kết",
        "Kết luận của chủ tọa",
        "Hội nghị kết thúc vào",
        "THƯ KÝ",
        "Nơi nhận:",
    ];
    let positions: Vec<usize> = order.iter().map(|p| text.find(p).unwrap()).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "order: {positions:?}"
    );
}

#[tokio::test]
async fn publishing_makes_the_minutes_public_and_emails_every_participant_with_an_address() {
    let app = spawn_app().await;
    let (organizer, id) = dialogue_taking_questions(&app, json!({})).await;
    invite(&app, &organizer, &id).await;
    let public = format!("/api/v1/dialogues/{id}/minutes.pdf");
    assert_eq!(
        get_pdf(&app, &public, None).await.0,
        404,
        "not before publishing"
    );
    let early = app
        .post(
            &format!("/api/v1/dialogues/{id}/minutes/publish"),
            Some(&organizer),
            &json!({}),
        )
        .await;
    assert_eq!((early.status, early.code()), (409, "minutes_incomplete"));
    // The secretary's parts are checked.
    let mut bad = minutes_body();
    bad["closed_at"] = json!("2026-11-30T13:00:00+07:00");
    bad["conclusion"] = json!("  ");
    let refused = put_json(
        &app,
        &format!("/api/v1/dialogues/{id}/minutes"),
        &organizer,
        &bad,
    )
    .await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert_eq!(
        refused.body["error"]["field_codes"]["closed_at"],
        "must_end_after_start"
    );
    assert_eq!(
        refused.body["error"]["field_codes"]["conclusion"],
        "required"
    );
    let agency = app.staff_token("agency").await;
    let forbidden = put_json(
        &app,
        &format!("/api/v1/dialogues/{id}/minutes"),
        &agency,
        &minutes_body(),
    )
    .await;
    assert_eq!(forbidden.status, 403);
    let saved = put_json(
        &app,
        &format!("/api/v1/dialogues/{id}/minutes"),
        &organizer,
        &minutes_body(),
    )
    .await;
    assert_eq!(saved.status, 200, "{}", saved.text);

    let published = app
        .post(
            &format!("/api/v1/dialogues/{id}/minutes/publish"),
            Some(&organizer),
            &json!({}),
        )
        .await;
    assert_eq!(published.status, 200, "{}", published.text);
    // Two of the six invitees have an email.
    assert_eq!(published.body["queued"], 2);
    assert!(published.body["minutes"]["published_at"].is_string());
    let emails = queued_emails(&app, "minutes").await;
    assert_eq!(emails.len(), 2);
    let again = app
        .post(
            &format!("/api/v1/dialogues/{id}/minutes/publish"),
            Some(&organizer),
            &json!({}),
        )
        .await;
    assert_eq!(
        (again.status, again.body["queued"].as_i64()),
        (200, Some(0))
    );
    assert_eq!(
        queued_emails(&app, "minutes").await.len(),
        2,
        "nothing twice"
    );
    let frozen = put_json(
        &app,
        &format!("/api/v1/dialogues/{id}/minutes"),
        &organizer,
        &minutes_body(),
    )
    .await;
    assert_eq!((frozen.status, frozen.code()), (409, "minutes_published"));

    // Public now, on the API and from the dialogue's page.
    let (status, _, pdf) = get_pdf(&app, &public, None).await;
    assert_eq!(status, 200);
    let (_, _, organizers) = get_pdf(&app, &public, Some(&organizer)).await;
    assert_eq!(pdf, organizers, "everyone gets the same document");
    let page = app.get(&format!("/d/{id}"), None).await;
    assert!(
        // The link is written HTML-escaped ("/" as "&#x2f;").
        page.text.contains("Biên bản hội nghị (PDF)") && page.text.contains("minutes.pdf"),
        "{}",
        page.text
    );
    let (status, content_type, from_page) =
        get_pdf(&app, &format!("/d/{id}/minutes.pdf"), None).await;
    assert_eq!((status, content_type.as_str()), (200, "application/pdf"));
    assert_eq!(from_page, pdf);
    app.drain_jobs().await;
    let mails = app.mail_texts();
    assert!(
        mails
            .iter()
            .any(|m| m.contains("Biên bản") && m.contains(&format!("/d/{id}/minutes.pdf"))),
        "the email carries the link"
    );
}

#[tokio::test]
async fn the_secretary_edits_previews_and_publishes_on_the_minutes_page() {
    let app = spawn_app().await;
    let (_, id) = dialogue_taking_questions(&app, json!({})).await;
    let email = format!("thuky-{}@benluc.example.vn", uuid::Uuid::new_v4().simple());
    app.create_account(&email, "Trần Thị Thu Hà", "organizer", None)
        .await;
    let browser = crate::helpers::BrowserSession::new(&app).await;
    browser.sign_in(&email).await;
    let path = format!("/staff/dialogues/{id}/minutes");
    let page = browser.get(&path).await;
    assert!(page.contains("Kết luận của chủ tọa"), "{page}");
    assert!(page.contains(&format!("/staff/dialogues/{id}/minutes.pdf")));
    assert!(page.contains(&format!("/staff/dialogues/{id}/minutes.docx")));
    assert!(page.contains("Tải bản Word (.docx)"), "{page}");
    // A closing time before the opening and no conclusion: the form comes back marked.
    let (status, body) = browser
        .post_form(
            &path,
            &[
                ("number", "12"),
                ("opened_at", "2026-11-30T14:00"),
                ("closed_at", "2026-11-30T13:00"),
                ("summary", ""),
                ("conclusion", ""),
                ("recipients", "Lưu: VT."),
            ],
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body.contains("err-closed_at") && body.contains("err-conclusion"),
        "{body}"
    );
    browser.get(&path).await;
    let (status, location) = browser
        .post_form(
            &path,
            &[
                ("number", "12"),
                ("opened_at", "2026-11-30T14:00"),
                ("closed_at", "2026-11-30T16:45"),
                ("summary", "Khai mạc."),
                ("conclusion", CONCLUSION),
                ("recipients", "Lưu: VT."),
            ],
        )
        .await;
    assert_eq!(
        (status, location.as_str()),
        (303, format!("{path}?done=saved").as_str())
    );
    // The preview is shown in the browser; the times were read in the dialogue's zone.
    let preview = browser
        .client
        .get(app.url(&format!("/staff/dialogues/{id}/minutes.pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(preview.status().as_u16(), 200);
    let disposition = preview.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(disposition.starts_with("inline"), "{disposition}");
    let pdf = preview.bytes().await.unwrap();
    if let Some(text) = pdf_text(&pdf) {
        let text = squash(&without_page_numbers(&text));
        assert!(text.contains("Thời gian bắt đầu: 14 giờ 00 phút, ngày 30 tháng 11 năm 2026."));
        assert!(text.contains("Hội nghị kết thúc vào 16 giờ 45 phút cùng ngày."));
    }
    // The Word copy, to save.
    let word = browser
        .client
        .get(app.url(&format!("/staff/dialogues/{id}/minutes.docx")))
        .send()
        .await
        .unwrap();
    assert_eq!(word.status().as_u16(), 200);
    assert!(
        word.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let text = squash(&docx_text(&word.bytes().await.unwrap()));
    assert!(
        text.contains("Hội nghị kết thúc vào 16 giờ 45 phút cùng ngày."),
        "{text}"
    );
    browser.get(&path).await;
    let (status, location) = browser.post_form(&format!("{path}/publish"), &[]).await;
    assert_eq!(
        (status, location.as_str()),
        (303, format!("{path}?done=published").as_str())
    );
    let page = browser.get(&format!("{path}?done=published")).await;
    assert!(
        !page.contains("name=\"conclusion\""),
        "published minutes are not editable"
    );
}

const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// Every required part in `text`, in the template's order, and no participant named who
/// did not choose to be. `recipients_last`: whether "Nơi nhận:" must come after the
/// signatures in the text (pdftotext reads LibreOffice's PDF with the recipients before the
/// signature table that stands above them on the page).
fn assert_sections(text: &str, what: &str, recipients_last: bool) {
    for part in required_parts() {
        assert!(
            text.contains(&part),
            "{part:?} missing from {what}:\n{text}"
        );
    }
    assert!(!text.contains(REJECTED) && !text.contains(UNMODERATED));
    for name in UNNAMED {
        assert!(!text.contains(name), "{name} is named in {what}");
    }
    assert_eq!(text.matches("Trần Văn Bình").count(), 1, "{what}");
    let order = [
        "BIÊN BẢN",
        "Thời gian bắt đầu",
        "Thành phần tham dự",
        "Nội dung hội nghị",
        "Cam kết",
        "Kết luận của chủ tọa",
        "Hội nghị kết thúc vào",
        "THƯ KÝ",
        "Nơi nhận:",
    ];
    let order = if recipients_last {
        &order[..]
    } else {
        &order[..order.len() - 1]
    };
    let positions: Vec<usize> = order.iter().map(|p| text.find(p).unwrap()).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "order in {what}: {positions:?}"
    );
}

#[tokio::test]
async fn the_word_copy_holds_the_same_sections_as_the_pdf() {
    let app = spawn_app().await;
    let (organizer, id, _) = recorded_dialogue(&app).await;
    let path = format!("/api/v1/dialogues/{id}/minutes.docx");
    let response = app
        .client
        .get(app.url(&path))
        .bearer_auth(&organizer)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"].to_str().unwrap(), DOCX);
    assert_eq!(
        response.headers()["content-disposition"].to_str().unwrap(),
        "attachment; filename=\"bien-ban.docx\""
    );
    let docx = response.bytes().await.unwrap().to_vec();
    let (_, _, again) = get_pdf(&app, &path, Some(&organizer)).await;
    assert_eq!(docx, again, "the same record gives the same bytes");

    let text = squash(&docx_text(&docx));
    assert_sections(&text, "the .docx", true);
    // The same sections as the PDF, in the same order.
    let (_, _, pdf) = get_pdf(
        &app,
        &format!("/api/v1/dialogues/{id}/minutes.pdf"),
        Some(&organizer),
    )
    .await;
    if let Some(raw) = pdf_text(&pdf) {
        let pdf_text = squash(&without_page_numbers(&raw));
        for heading in [
            "1. Thời gian, địa điểm",
            "2. Thành phần tham dự",
            "3. Nội dung hội nghị",
            "3.1 Xóa án tích, lý lịch tư pháp",
            "3.2 Vay vốn, sinh kế",
            "4. Cam kết",
            "5. Kết luận của chủ tọa",
        ] {
            assert!(
                pdf_text.contains(heading) && text.contains(heading),
                "{heading}"
            );
        }
    }

    // The command line writes the .docx when the file name ends so: the same bytes.
    let file = app.mail_dir.join("bien-ban.docx");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_doithoai"))
        .args(["minutes", &id, "-o", file.to_str().unwrap()])
        .env("DATABASE_URL", &app.db.url)
        .env("DOITHOAI_LOG", "warn")
        .env_remove("DOITHOAI_BIND")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(&file).unwrap(),
        docx,
        "the CLI and the endpoint agree"
    );
}

#[tokio::test]
async fn the_word_copy_opens_in_libreoffice_with_the_same_sections() {
    let app = spawn_app().await;
    let (organizer, id, _) = recorded_dialogue(&app).await;
    let (status, _, docx) = get_pdf(
        &app,
        &format!("/api/v1/dialogues/{id}/minutes.docx"),
        Some(&organizer),
    )
    .await;
    assert_eq!(status, 200);
    let Some(converted) = libreoffice_pdf(&docx) else {
        return;
    };
    let Some(raw) = pdf_text(&converted) else {
        return;
    };
    // LibreOffice's page numbers stand alone on a line at the top of pages 2 on, as ours.
    let text = squash(&without_page_numbers(&raw));
    assert_sections(&text, "LibreOffice's PDF of the .docx", false);
}

#[tokio::test]
async fn the_word_copy_is_for_organizers_until_the_minutes_are_published() {
    let app = spawn_app().await;
    let (organizer, id, _) = recorded_dialogue(&app).await;
    let path = format!("/api/v1/dialogues/{id}/minutes.docx");
    assert_eq!(get_pdf(&app, &path, None).await.0, 404, "not public yet");
    let agency = app.staff_token("agency").await;
    let reply = app.get(&path, Some(&agency)).await;
    assert_eq!((reply.status, reply.code()), (404, "not_found"));
    let missing = format!("/api/v1/dialogues/{}/minutes.docx", uuid::Uuid::new_v4());
    let reply = app.get(&missing, Some(&organizer)).await;
    assert_eq!((reply.status, reply.code()), (404, "not_found"));
    let reply = app.get(&path, Some("not-a-token")).await;
    assert_eq!((reply.status, reply.code()), (401, "unauthorized"));

    let published = app
        .post(
            &format!("/api/v1/dialogues/{id}/minutes/publish"),
            Some(&organizer),
            &json!({}),
        )
        .await;
    assert_eq!(published.status, 200, "{}", published.text);
    let (status, content_type, public) = get_pdf(&app, &path, None).await;
    assert_eq!((status, content_type.as_str()), (200, DOCX));
    let (_, _, organizers) = get_pdf(&app, &path, Some(&organizer)).await;
    assert_eq!(public, organizers, "everyone gets the same copy");
    // In the OpenAPI document, with its errors.
    let spec = app.get("/api/openapi.json", None).await;
    let op = &spec.body["paths"]["/api/v1/dialogues/{id}/minutes.docx"]["get"];
    assert_eq!(op["operationId"], "minutes_docx", "{}", spec.text);
    for status in ["200", "401", "404", "503"] {
        assert!(op["responses"][status].is_object(), "{status}: {op}");
    }
    assert!(op["responses"]["200"]["content"][DOCX].is_object(), "{op}");
}
