//! The organizers' pages without dead ends (issue 11, "Organizers"): the dialogue's status
//! with the next step on its edit page, a confirmation step naming the dialogue before any
//! one-way move, sending invitations for a draft turned into the way to open it, error pages
//! that keep the staff header and a way back, the form, the dashboard and sending progress.

use serde_json::json;

use crate::helpers::{BrowserSession, reference_dialogue, spawn_app};

const ORGANIZER: &str = "bantochuc@benluc.example.vn";

async fn organizer(app: &crate::helpers::TestApp) -> BrowserSession<'_> {
    app.create_account(ORGANIZER, "Ban Tổ Chức", "organizer", None)
        .await;
    let browser = BrowserSession::new(app).await;
    browser.sign_in(ORGANIZER).await;
    browser
}

async fn draft(app: &crate::helpers::TestApp) -> (String, String) {
    let token = app.staff_token("organizer").await;
    let created = app.create_dialogue(&token, &reference_dialogue()).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_string();
    (token, id)
}

#[tokio::test]
async fn the_edit_page_shows_the_status_and_each_step_asks_for_confirmation_naming_the_dialogue() {
    let app = spawn_app().await;
    let (token, id) = draft(&app).await;
    let title = reference_dialogue()["title"].as_str().unwrap().to_string();
    let browser = organizer(&app).await;

    let edit = browser.get(&format!("/staff/dialogues/{id}/edit")).await;
    assert!(
        edit.contains("Trạng thái: <span class=\"badge status-draft\">Bản nháp</span>"),
        "{edit}"
    );
    let open_step = format!("href=\"/staff/dialogues/{id}/status?to=open\">Mở hội nghị</a>");
    assert!(edit.contains(&open_step), "{edit}");
    assert!(edit.contains(&format!(
        "href=\"/staff/dialogues/{id}/status?to=cancelled\">Hủy hội nghị</a>"
    )));
    // The form's own way out is not worded like cancelling the dialogue.
    assert!(!edit.contains("Hủy bỏ"), "{edit}");
    assert!(edit.contains(">Quay lại</a>") && edit.contains(">Bỏ thay đổi</a>"));

    // The step is a page of its own: the title, what will happen, a confirm button, a way back.
    let confirm = browser
        .get(&format!("/staff/dialogues/{id}/status?to=open"))
        .await;
    assert!(confirm.contains("<h1>Mở hội nghị này?</h1>"), "{confirm}");
    assert!(confirm.contains(&title));
    assert!(confirm.contains("Hội nghị sẽ hiện trên trang công khai."));
    assert!(confirm.contains("Bước này không hoàn tác được."));
    assert!(confirm.contains("name=\"status\" value=\"open\""));
    assert!(confirm.contains(">Có, mở hội nghị</button>"));
    assert!(confirm.contains(&format!("href=\"/staff/dialogues/{id}/edit\">Quay lại</a>")));
    // Looking at the step changes nothing.
    assert_eq!(
        app.get_dialogue(Some(&token), &id).await.body["status"],
        "draft"
    );

    let (status, location) = browser
        .post_form(
            &format!("/staff/dialogues/{id}/status"),
            &[("status", "open")],
        )
        .await;
    assert_eq!(status, 303);
    assert_eq!(location, format!("/staff/dialogues/{id}/edit?done=status"));
    let edit = browser.get(&location).await;
    assert!(edit.contains("Đã đổi trạng thái hội nghị."));
    assert!(
        edit.contains("<span class=\"badge status-open\">Đang mở</span>"),
        "{edit}"
    );
    assert!(edit.contains(&format!(
        "href=\"/staff/dialogues/{id}/status?to=in_progress\">Bắt đầu hội nghị</a>"
    )));

    let cancel = browser
        .get(&format!("/staff/dialogues/{id}/status?to=cancelled"))
        .await;
    assert!(cancel.contains("<h1>Hủy hội nghị này?</h1>") && cancel.contains(&title));
    assert!(cancel.contains("Hệ thống không tự báo cho những người đã được mời"));

    // The dashboard's buttons lead to the same step instead of acting at once.
    let dashboard = browser.get("/staff").await;
    assert!(
        dashboard.contains(&format!(
            "href=\"/staff/dialogues/{id}/status?to=in_progress\">Bắt đầu hội nghị</a>"
        )),
        "{dashboard}"
    );
    assert!(!dashboard.contains(&format!("action=\"/staff/dialogues/{id}/status\"")));

    // A step the dialogue cannot take is not offered as one.
    let (status, _) = browser
        .get_with_status(&format!("/staff/dialogues/{id}/status?to=open"))
        .await;
    assert_eq!(status, 409);

    // In English too.
    browser.get("/lang?to=en&next=/").await;
    let confirm = browser
        .get(&format!("/staff/dialogues/{id}/status?to=in_progress"))
        .await;
    assert!(confirm.contains("<h1>Start this dialogue?</h1>") && confirm.contains(&title));
}

#[tokio::test]
async fn sending_invitations_for_a_draft_shows_the_way_to_open_it_instead_of_an_error() {
    let app = spawn_app().await;
    let (token, id) = draft(&app).await;
    app.add_invitees(
        &token,
        &id,
        &json!([{"full_name": "Nguyễn Văn Ánh", "email": "anh@example.vn", "category": "completed_sentence"}]),
    )
    .await;
    let browser = organizer(&app).await;
    let page = browser
        .get(&format!("/staff/dialogues/{id}/invitations"))
        .await;
    assert!(
        page.contains("Hội nghị còn là bản nháp nên chưa gửi được giấy mời."),
        "{page}"
    );
    assert!(page.contains(&format!(
        "href=\"/staff/dialogues/{id}/status?to=open\">Mở hội nghị</a>"
    )));
    assert!(!page.contains("/invitations/send\""), "{page}");

    // A send posted anyway (an old tab) comes back to the list with the same way forward.
    let (status, location) = browser
        .post_form(&format!("/staff/dialogues/{id}/invitations/send"), &[])
        .await;
    assert_eq!(status, 303, "{location}");
    let page = browser.get(&location).await;
    assert!(page.contains("Hội nghị còn là bản nháp nên chưa gửi được giấy mời."));
    assert_eq!(app.drain_jobs().await, 0);
}

/// The text a person reads: the page without its tags (attributes and comments dropped).
fn visible_text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[tokio::test]
async fn error_pages_keep_the_staff_header_and_a_way_back_without_english_codes() {
    let app = spawn_app().await;
    let browser = organizer(&app).await;
    let missing = format!("/staff/dialogues/{}/edit", uuid::Uuid::new_v4());
    let (status, page) = browser.get_with_status(&missing).await;
    assert_eq!(status, 404);
    // The signed-in header, and the way back for staff is their dashboard.
    assert!(page.contains("action=\"/logout\""), "{page}");
    assert!(
        page.contains("href=\"/staff\">Về bảng điều khiển</a>"),
        "{page}"
    );
    // The stable code is for programs, not for the reader.
    assert!(page.contains("data-code=\"not_found\""), "{page}");
    let text = visible_text(&page);
    assert!(
        !text.contains("not_found") && !text.contains("Mã lỗi"),
        "{text}"
    );
    assert!(text.contains("Không tìm thấy"), "{text}");

    // Back to the page the person came from, when it is a page of this site.
    let res = browser
        .client
        .get(app.url(&missing))
        .header("Referer", app.url("/staff/agencies?page=2"))
        .send()
        .await
        .unwrap();
    let page = res.text().await.unwrap();
    assert!(
        page.contains("href=\"&#x2f;staff&#x2f;agencies?page=2\">Quay lại trang trước</a>"),
        "{page}"
    );
    let res = browser
        .client
        .get(app.url(&missing))
        .header("Referer", "https://evil.example/staff/agencies")
        .send()
        .await
        .unwrap();
    let page = res.text().await.unwrap();
    assert!(!page.contains("Quay lại trang trước") && !page.contains("evil.example"));

    // A conflict names no code either, and the header stays.
    let (token, id) = draft(&app).await;
    app.change_status(&token, &id, "open").await;
    let (status, page) = browser
        .get_with_status(&format!("/staff/dialogues/{id}/status?to=open"))
        .await;
    assert_eq!(status, 409);
    assert!(page.contains("action=\"/logout\""));
    assert!(
        !visible_text(&page).contains("invalid_transition"),
        "{page}"
    );

    // Someone not signed in is offered the home page.
    let visitor = BrowserSession::new(&app).await;
    let (status, page) = visitor
        .get_with_status(&format!("/d/{}", uuid::Uuid::new_v4()))
        .await;
    assert_eq!(status, 404);
    assert!(page.contains("href=\"/\">Về trang chủ</a>"), "{page}");
    assert!(!page.contains("Về bảng điều khiển") && !page.contains("action=\"/logout\""));
    assert!(!visible_text(&page).contains("not_found"));
}

fn count(page: &str, needle: &str) -> usize {
    page.matches(needle).count()
}

#[tokio::test]
async fn a_refused_new_dialogue_form_does_not_pile_up_blank_rows() {
    let app = spawn_app().await;
    let browser = organizer(&app).await;
    let form = browser.get("/staff/dialogues/new").await;
    assert_eq!(count(&form, "name=\"official_name\""), 3);
    assert_eq!(count(&form, "name=\"agenda_title\""), 3);
    assert!(form.contains("(Giờ Việt Nam (UTC+7))"), "{form}");
    assert!(!form.contains("(Asia/Ho_Chi_Minh)"));

    // Sent back as a browser would, with the three blank rows, and no title: refused.
    let mut fields: Vec<(&str, &str)> = vec![
        ("title", ""),
        ("host_unit", "UBND huyện Bến Lức"),
        ("venue", "Nhà văn hóa xã Thạnh Đức"),
        ("starts_at", "2026-12-05T08:00"),
        ("ends_at", "2026-12-05T11:00"),
        ("capacity", "60"),
        ("time_zone", "Asia/Ho_Chi_Minh"),
        ("official_name", "Lê Thành Út"),
        ("official_position", "Chủ tịch UBND huyện"),
        ("official_role", "chair"),
    ];
    for _ in 0..2 {
        fields.extend([
            ("official_name", ""),
            ("official_position", ""),
            ("official_role", "member"),
        ]);
    }
    for _ in 0..3 {
        fields.extend([("agenda_title", ""), ("agenda_presenter", "")]);
    }
    for _ in 0..3 {
        let (status, page) = browser.post_form("/staff/dialogues", &fields).await;
        assert_eq!(status, 422);
        assert!(page.contains("err-title"));
        assert_eq!(count(&page, "name=\"official_name\""), 3, "{page}");
        assert!(page.contains("value=\"Lê Thành Út\""));
        assert_eq!(count(&page, "name=\"agenda_title\""), 3);
        assert!(page.contains("(Giờ Việt Nam (UTC+7))"));
    }
}

#[tokio::test]
async fn the_dashboard_lists_the_soonest_first_with_registration_links_and_large_targets() {
    use crate::questions::in_hours;
    let app = spawn_app().await;
    let token = app.staff_token("organizer").await;
    let mut ids = Vec::new();
    for (title, start) in [
        ("Hội nghị đã qua", -24 * 30),
        ("Hội nghị tháng sau", 24 * 30),
        ("Hội nghị tuần này", 24 * 2),
    ] {
        let mut body = reference_dialogue();
        body["title"] = json!(title);
        body["starts_at"] = json!(in_hours(start));
        body["ends_at"] = json!(in_hours(start + 3));
        body["question_deadline"] = json!(in_hours(start - 1));
        let created = app.create_dialogue(&token, &body).await;
        assert_eq!(created.status, 201, "{}", created.text);
        let id = created.body["id"].as_str().unwrap().to_string();
        app.change_status(&token, &id, "open").await;
        ids.push(id);
    }
    let browser = organizer(&app).await;
    let page = browser.get("/staff").await;
    let at = |title: &str| {
        page.find(title)
            .unwrap_or_else(|| panic!("{title}: {page}"))
    };
    assert!(at("Hội nghị tuần này") < at("Hội nghị tháng sau"));
    assert!(at("Hội nghị tháng sau") < at("Hội nghị đã qua"));
    assert!(page.contains(&format!(
        "class=\"button small secondary\" href=\"/d/{}/register\">Đăng ký</a>",
        ids[2]
    )));
    assert!(page.contains(&format!(
        "class=\"button small secondary\" href=\"/staff/dialogues/{}/edit\">Sửa</a>",
        ids[2]
    )));
    let css = browser.get("/static/app.css").await;
    assert!(
        css.contains("button.small, .button.small { padding: .35rem .7rem; min-height: 2.75rem;")
    );
}

#[tokio::test]
async fn agency_staff_see_the_dialogues_their_agency_takes_part_in() {
    use crate::questions::dialogue_taking_questions;
    let app = spawn_app().await;
    let (organizer_token, id) = dialogue_taking_questions(
        &app,
        json!({"title": "Hội nghị có câu hỏi giao cho Công an"}),
    )
    .await;
    let (_, other) =
        dialogue_taking_questions(&app, json!({"title": "Hội nghị không liên quan"})).await;
    let _ = other;
    let agency = app.create_agency_directly("Công an huyện Bến Lức").await;
    app.create_account(
        "canbo@congan.example.vn",
        "Cán Bộ Công An",
        "agency",
        Some(&agency),
    )
    .await;
    let browser = BrowserSession::new(&app).await;
    browser.sign_in("canbo@congan.example.vn").await;
    let page = browser.get("/staff").await;
    assert!(page.contains("Hội nghị cơ quan tham gia"), "{page}");
    assert!(!page.contains("Hội nghị có câu hỏi giao cho Công an"));

    let asked = app
        .ask(
            &id,
            None,
            &json!({"body": "Xin hỏi về căn cước công dân", "topic": "employment"}),
        )
        .await;
    assert_eq!(asked.status, 201, "{}", asked.text);
    let q = asked.body["id"].as_str().unwrap().to_string();
    let reply = app
        .moderate(&organizer_token, &q, &json!({"action": "approve"}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let reply = app
        .assign(
            &organizer_token,
            &q,
            &agency,
            &crate::questions::in_hours(24),
        )
        .await;
    assert!(reply.status < 300, "{}", reply.text);

    let page = browser.get("/staff").await;
    assert!(
        page.contains(&format!(
            "href=\"/d/{id}\">Hội nghị có câu hỏi giao cho Công an</a>"
        )),
        "{page}"
    );
    assert!(!page.contains("Hội nghị không liên quan"));
}

#[tokio::test]
async fn sending_invitations_shows_its_progress_and_refreshes_while_anything_is_queued() {
    let app = spawn_app().await;
    let (token, id) = draft(&app).await;
    app.change_status(&token, &id, "open").await;
    app.add_invitees(
        &token,
        &id,
        &json!([
            {"full_name": "Nguyễn Văn Ánh", "email": "anh@example.vn", "category": "completed_sentence"},
            {"full_name": "Trần Thị Bé", "email": "be@example.vn", "category": "drug_rehabilitation"}
        ]),
    )
    .await;
    let browser = organizer(&app).await;
    let page = browser
        .get(&format!("/staff/dialogues/{id}/invitations"))
        .await;
    assert!(!page.contains("http-equiv=\"refresh\""));
    let (status, location) = browser
        .post_form(&format!("/staff/dialogues/{id}/invitations/send"), &[])
        .await;
    assert_eq!(status, 303);
    let page = browser.get(&location).await;
    assert!(
        page.contains("<meta http-equiv=\"refresh\" content=\"5\">"),
        "{page}"
    );
    assert!(
        page.contains("Đang chờ gửi: 2") && page.contains("Đã gửi: 0"),
        "{page}"
    );
    assert!(page.contains("Trang tự cập nhật"));

    assert_eq!(app.drain_jobs().await, 2);
    let page = browser.get(&location).await;
    assert!(!page.contains("http-equiv=\"refresh\""), "{page}");
    assert!(
        page.contains("Đang chờ gửi: 0")
            && page.contains("Đã gửi: 2")
            && page.contains("Gửi lỗi: 0")
    );
}
