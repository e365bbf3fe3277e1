//! A real browser (headless Chromium driven by ChromeDriver over WebDriver) on the login
//! and dialogue-creation pages. Runs when chromium and chromedriver are installed;
//! `.ci/run` installs them and sets DOITHOAI_REQUIRE_BROWSER=1 so that CI cannot skip it.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{ClientBuilder, Locator};
use serde_json::json;

use crate::helpers::{PASSWORD, spawn_app};

pub(crate) struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn find_program(candidates: &[&str]) -> Option<String> {
    candidates
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(|p| p.to_string())
}

/// Starts chromedriver and a browser session, or says why it cannot.
pub(crate) async fn browser() -> Option<(Driver, fantoccini::Client)> {
    let chromium = find_program(&[
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]);
    let driver = find_program(&["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]);
    let (Some(chromium), Some(driver)) = (chromium, driver) else {
        assert!(
            std::env::var("DOITHOAI_REQUIRE_BROWSER").is_err(),
            "DOITHOAI_REQUIRE_BROWSER is set but chromium/chromedriver are missing"
        );
        eprintln!("browser test skipped: install chromium and chromium-driver to run it");
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver(child);
    let profile = tempfile::tempdir().unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "prefs": {"intl.accept_languages": "vi-VN,vi"},
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=390,844", "--lang=vi-VN",
                format!("--user-data-dir={}", profile.path().display()),
            ]
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let mut last_error = None;
    for _ in 0..50 {
        match ClientBuilder::new(connector.clone())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => {
                std::mem::forget(profile);
                return Some((driver, client));
            }
            Err(e) => {
                last_error = Some(e.to_string());
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    panic!("no WebDriver session: {last_error:?}");
}

/// Signs in on the login page and waits for the dashboard.
async fn sign_in(client: &fantoccini::Client, app: &crate::helpers::TestApp, email: &str) {
    submit_login(client, app, email).await;
    client
        .wait()
        .for_element(Locator::Css("a[href='/staff/dialogues/new']"))
        .await
        .unwrap();
}

/// Fills in and sends the login form; the caller waits for where the person lands.
async fn submit_login(client: &fantoccini::Client, app: &crate::helpers::TestApp, email: &str) {
    client.goto(&app.url("/login")).await.unwrap();
    client
        .find(Locator::Css("input[name=email]"))
        .await
        .unwrap()
        .send_keys(email)
        .await
        .unwrap();
    client
        .find(Locator::Css("input[name=password]"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    client
        .find(Locator::Css("form[action='/login'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Saves what the browser shows when DOITHOAI_SCREENSHOTS names a folder (for people
/// reviewing the pages; the tests never look at the pictures).
pub(crate) async fn keep_screenshot(client: &fantoccini::Client, name: &str) {
    if let Ok(dir) = std::env::var("DOITHOAI_SCREENSHOTS") {
        if let Ok(png) = client.screenshot().await {
            let _ = std::fs::create_dir_all(&dir);
            let _ = std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png);
        }
    }
}

/// Waits until the browser's address contains `part` (after a form post and its redirect).
async fn wait_for_url(client: &fantoccini::Client, part: &str) {
    for _ in 0..100 {
        if client
            .current_url()
            .await
            .is_ok_and(|u| u.as_str().contains(part))
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the browser never reached a page with {part:?}");
}

#[tokio::test]
async fn an_organizer_signs_in_and_creates_a_dialogue_in_a_real_browser() {
    let app = spawn_app().await;
    app.create_account(
        "thu.ky@benluc.example.vn",
        "Trần Thị Thu Hà",
        "organizer",
        None,
    )
    .await;
    let Some((_driver, client)) = browser().await else {
        return;
    };

    sign_in(&client, &app, "thu.ky@benluc.example.vn").await;
    client
        .find(Locator::Css("a[href='/staff/dialogues/new']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::Css("textarea[name=title]"))
        .await
        .unwrap();
    // app.js runs under the pages' Content-Security-Policy: it adds an "add a row" button
    // after each repeated block (officials, agenda).
    let added = client
        .wait()
        .for_element(Locator::Css("[data-repeat='officials'] + button"))
        .await
        .unwrap();
    assert_eq!(added.text().await.unwrap(), "Thêm dòng");

    let title = "Hội nghị đối thoại với người chấp hành xong hình phạt tù năm 2026";
    let typed = [
        ("textarea[name=title]", title),
        ("input[name=host_unit]", "UBND huyện Bến Lức"),
        ("input[name=venue]", "Hội trường UBND huyện Bến Lức"),
        ("input[name=official_name]", "Nguyễn Đăng Minh Xuân"),
        ("input[name=official_position]", "Bí thư Huyện ủy Bến Lức"),
        ("input[name=agenda_title]", "Khai mạc"),
    ];
    for (selector, text) in typed {
        client
            .find(Locator::Css(selector))
            .await
            .unwrap()
            .send_keys(text)
            .await
            .unwrap();
    }
    // datetime-local inputs take typed digits in the browser's locale; set their value directly.
    client
        .execute(
            "document.querySelector('input[name=starts_at]').value = '2026-11-30T14:00';\
             document.querySelector('input[name=ends_at]').value = '2026-11-30T17:00';\
             document.querySelector('input[name=question_deadline]').value = '2026-11-28T17:00';",
            vec![],
        )
        .await
        .unwrap();
    let capacity = client
        .find(Locator::Css("input[name=capacity]"))
        .await
        .unwrap();
    capacity.clear().await.unwrap();
    capacity.send_keys("80").await.unwrap();
    client
        .find(Locator::Css("form.dialogue-form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    let notice = client
        .wait()
        .for_element(Locator::Css("p.notice"))
        .await
        .unwrap();
    keep_screenshot(&client, "1-dialogue-form-saved").await;
    assert_eq!(
        notice.text().await.unwrap().split(" · ").next().unwrap(),
        "Đã tạo hội nghị."
    );
    let url = client.current_url().await.unwrap();
    let id = url.path().split('/').nth(3).unwrap().to_string();
    client.close().await.unwrap();

    let token = app.login("thu.ky@benluc.example.vn", PASSWORD).await.body["token"]
        .as_str()
        .unwrap()
        .to_string();
    let stored = app.get_dialogue(Some(&token), &id).await;
    assert_eq!(stored.body["title"], title);
    assert_eq!(stored.body["starts_at"], "2026-11-30T14:00:00+07:00");
    assert_eq!(stored.body["capacity"], 80);
    assert_eq!(stored.body["officials"][0]["name"], "Nguyễn Đăng Minh Xuân");
    assert_eq!(stored.body["officials"][0]["role"], "chair");
}

#[tokio::test]
async fn an_invitee_accepts_from_the_emailed_link_and_is_checked_in_at_the_door_in_a_real_browser()
{
    let app = spawn_app().await;
    let (token, id) = crate::helpers::open_dialogue(&app, json!({})).await;
    app.create_account("cua@benluc.example.vn", "Cán Bộ Cửa", "organizer", None)
        .await;
    let Some((_driver, client)) = browser().await else {
        return;
    };

    // The organizer imports a CSV file and sends the invitations.
    sign_in(&client, &app, "cua@benluc.example.vn").await;
    client
        .goto(&app.url(&format!("/staff/dialogues/{id}/invitations")))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("danh-sach.csv");
    std::fs::write(&csv, "full_name,email,phone,category\nNguyễn Văn Ánh,anh@example.vn,,completed_sentence\nTrần Thị Bé,,0912345678,drug_rehabilitation\n").unwrap();
    client
        .find(Locator::Css("input[type=file]"))
        .await
        .unwrap()
        .send_keys(&csv.display().to_string())
        .await
        .unwrap();
    client
        .find(Locator::Css("form[enctype='multipart/form-data'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let notice = client
        .wait()
        .for_element(Locator::Css("p.notice"))
        .await
        .unwrap();
    assert!(notice.text().await.unwrap().starts_with("Đã thêm 2"));
    // The send button asks for confirmation; accept the dialog.
    client
        .execute("window.confirm = function () { return true; };", vec![])
        .await
        .unwrap();
    client
        .find(Locator::Css("form[action$='/invitations/send'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The import's notice is already on the page: wait for the redirect of the send itself.
    wait_for_url(&client, "done=sent").await;
    keep_screenshot(&client, "2-invitations").await;
    assert_eq!(app.drain_jobs().await, 1);

    // The invitee opens the personal link from the email on a phone-sized screen and accepts.
    let link = crate::helpers::link_in(&app.mail_texts()[0]);
    client.goto(&app.url(&format!("/p/{link}"))).await.unwrap();
    let person = client.find(Locator::Css("h1.person")).await.unwrap();
    assert_eq!(person.text().await.unwrap(), "Nguyễn Văn Ánh");
    client
        .find(Locator::Css("form[action$='/rsvp'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let ticket = client
        .wait()
        .for_element(Locator::Css(".ticket img"))
        .await
        .unwrap();
    keep_screenshot(&client, "3-personal-page-ticket").await;
    let loaded: serde_json::Value = client
        .execute(
            "return arguments[0].complete && arguments[0].naturalWidth;",
            vec![serde_json::to_value(&ticket).unwrap()],
        )
        .await
        .unwrap();
    assert!(
        loaded.as_u64().unwrap_or(0) >= 200,
        "the QR ticket image loads: {loaded}"
    );
    let code = client
        .find(Locator::Css(".ticket .code"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(code.len(), 11);

    // The organizer types the code at the door.
    client
        .goto(&app.url(&format!("/staff/dialogues/{id}/door")))
        .await
        .unwrap();
    client
        .find(Locator::Css("#door-code"))
        .await
        .unwrap()
        .send_keys(&code.to_lowercase())
        .await
        .unwrap();
    client
        .find(Locator::Css("#door-form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let result = client
        .wait()
        .for_element(Locator::Css(".door-result.ok"))
        .await
        .unwrap();
    keep_screenshot(&client, "4-door").await;
    assert!(result.text().await.unwrap().contains("Nguyễn Văn Ánh"));
    client.close().await.unwrap();

    let attendance = app.attendance(&token, &id).await;
    assert_eq!(attendance.body["checked_in"], 1);
}

/// Clicks the first element `css` matches.
async fn click(client: &fantoccini::Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
}

/// Types `text` into the first field `css` matches.
async fn type_into(client: &fantoccini::Client, css: &str, text: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .send_keys(text)
        .await
        .unwrap();
}

/// The visible text of the first element `css` matches, once it is there.
async fn text_of(client: &fantoccini::Client, css: &str) -> String {
    client
        .wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

/// Presses one key on the keyboard, wherever the focus is.
async fn press(client: &fantoccini::Client, key: char) {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    let keys = KeyActions::new("keyboard".to_string())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    client.perform_actions(keys).await.unwrap();
}

/// Signs out with the button in the page header.
async fn sign_out(client: &fantoccini::Client) {
    click(client, "form[action='/logout'] button").await;
    wait_for_url(client, "done=logout").await;
}

const PHONE: (u32, u32) = (390, 844);
const DESKTOP: (u32, u32) = (1280, 900);

#[tokio::test]
async fn a_question_asked_on_a_phone_is_moderated_assigned_answered_and_published_in_a_real_browser()
 {
    let app = spawn_app().await;
    let (token, id) = crate::questions::dialogue_taking_questions(&app, json!({})).await;
    crate::questions::participants(
        &app,
        &token,
        &id,
        &[("Trần Văn Bảy", Some("bay@example.vn"))],
    )
    .await;
    app.send_invitations(&token, &id).await;
    assert_eq!(app.drain_jobs().await, 1);
    let link = crate::helpers::link_in(&app.mail_texts()[0]);
    let justice = app.create_agency_directly("Sở Tư pháp").await;
    app.create_account(
        "tuphap@benluc.example.vn",
        "Võ Thị Lan",
        "agency",
        Some(&justice),
    )
    .await;
    app.create_account(
        "btc@benluc.example.vn",
        "Trần Thị Thu Hà",
        "organizer",
        None,
    )
    .await;
    let asked = "Tôi đã chấp hành xong án phạt tù 3 năm, xin hỏi thủ tục xóa án tích như thế nào?";
    let answer =
        "Ông liên hệ Sở Tư pháp để được cấp phiếu lý lịch tư pháp; thời hạn giải quyết 10 ngày.";
    let Some((_driver, client)) = browser().await else {
        return;
    };

    // The participant opens the personal link on a phone and asks, named.
    client.set_window_size(PHONE.0, PHONE.1).await.unwrap();
    client.goto(&app.url(&format!("/p/{link}"))).await.unwrap();
    assert_eq!(text_of(&client, "h1.person").await, "Trần Văn Bảy");
    assert_eq!(
        text_of(&client, "#my-questions-title").await,
        "Câu hỏi của tôi"
    );
    type_into(&client, "textarea[name=body]", asked).await;
    // The topic buttons are labels around hidden radio buttons: people tap the label.
    click(&client, "input[value=record_expungement] + span").await;
    click(&client, "input[name=named]").await;
    click(&client, "section.ask button[type=submit]").await;
    let receipt = text_of(&client, ".receipt").await;
    keep_screenshot(&client, "loop-1-asked-on-the-phone").await;
    assert!(receipt.starts_with("Đã nhận câu hỏi của bạn"), "{receipt}");
    let mine = text_of(&client, "#my-questions").await;
    assert!(mine.contains(asked) && mine.contains("Chờ duyệt"), "{mine}");

    // The organizer approves it on the moderation page…
    client.set_window_size(DESKTOP.0, DESKTOP.1).await.unwrap();
    sign_in(&client, &app, "btc@benluc.example.vn").await;
    client
        .goto(&app.url(&format!("/staff/dialogues/{id}/edit")))
        .await
        .unwrap();
    click(
        &client,
        &format!("nav.tabs a[href='/staff/dialogues/{id}/questions']"),
    )
    .await;
    let queue = text_of(&client, "ol.questions").await;
    assert!(
        queue.contains(asked) && queue.contains("Trần Văn Bảy") && queue.contains("Chờ duyệt"),
        "{queue}"
    );
    click(&client, "li.question button[value=approve]").await;
    wait_for_url(&client, "done=moderated").await;
    assert_eq!(text_of(&client, "p.notice").await, "Đã lưu quyết định.");
    assert!(
        text_of(&client, "li.question .meta")
            .await
            .contains("Đã duyệt")
    );
    keep_screenshot(&client, "loop-2-approved").await;

    // …and gives it to the justice department on the assignment board.
    click(
        &client,
        &format!("nav.tabs a[href='/staff/dialogues/{id}/assignments']"),
    )
    .await;
    let waiting = text_of(&client, "form[action$='/assignments'] fieldset").await;
    assert!(waiting.contains(asked), "{waiting}");
    click(&client, "input[name=question_id]").await;
    client
        .find(Locator::Css("select[name=agency_id]"))
        .await
        .unwrap()
        .select_by_value(&justice)
        .await
        .unwrap();
    let chosen = text_of(&client, "select[name=agency_id] option:checked").await;
    assert!(chosen.starts_with("Sở Tư pháp"), "{chosen}");
    type_into(
        &client,
        "textarea[name=note]",
        "Đề nghị trả lời trước hội nghị.",
    )
    .await;
    click(&client, "form[action$='/assignments'] button[type=submit]").await;
    wait_for_url(&client, "done=assigned").await;
    assert_eq!(
        text_of(&client, "p.notice").await,
        "Đã giao câu hỏi và báo cho cơ quan."
    );
    let assigned = text_of(&client, "section.agency-group").await;
    assert!(
        assigned.contains("Sở Tư pháp")
            && assigned.contains(asked)
            && assigned.contains("Đang xử lý"),
        "{assigned}"
    );
    keep_screenshot(&client, "loop-3-assigned").await;
    sign_out(&client).await;

    // The agency's staff member lands on the inbox, opens the question and answers.
    submit_login(&client, &app, "tuphap@benluc.example.vn").await;
    wait_for_url(&client, "/staff/assignments").await;
    assert_eq!(text_of(&client, "main h1").await, "Câu hỏi được giao");
    let inbox = text_of(&client, "main ul.cards").await;
    assert!(inbox.contains(asked), "{inbox}");
    click(&client, "main ul.cards a[href^='/staff/assignments/']").await;
    let question = text_of(&client, "main article.card").await;
    assert!(
        question.contains(asked) && question.contains("Trần Văn Bảy"),
        "named by his choice: {question}"
    );
    type_into(&client, "textarea#answer-body", answer).await;
    click(&client, "button[name=submit][value=send]").await;
    wait_for_url(&client, "done=sent").await;
    assert!(
        text_of(&client, "p.notice")
            .await
            .starts_with("Đã gửi trả lời.")
    );
    keep_screenshot(&client, "loop-4-answered").await;
    sign_out(&client).await;

    // The organizer reads the answer beside the question and publishes it.
    sign_in(&client, &app, "btc@benluc.example.vn").await;
    click(&client, "header a[href='/staff/assignments']").await;
    click(&client, "main a[href^='/staff/assignments/']").await;
    let approval = text_of(&client, "main").await;
    assert!(
        approval.contains(answer) && approval.contains("Duyệt và công bố"),
        "{approval}"
    );
    click(&client, "form[action$='/approve'] button").await;
    wait_for_url(&client, "done=approved").await;
    assert_eq!(
        text_of(&client, "p.notice").await,
        "Đã duyệt và công bố trả lời."
    );
    sign_out(&client).await;

    // Anyone sees the answer on the public questions page…
    client
        .goto(&app.url(&format!("/d/{id}/questions")))
        .await
        .unwrap();
    let public = text_of(&client, "main").await;
    keep_screenshot(&client, "loop-5-public").await;
    assert!(
        public.contains(asked) && public.contains(answer) && public.contains("Sở Tư pháp"),
        "{public}"
    );
    assert!(!public.contains("bay@example.vn"));

    // …and the participant finds it on the phone, on the personal page.
    client.set_window_size(PHONE.0, PHONE.1).await.unwrap();
    client.goto(&app.url(&format!("/p/{link}"))).await.unwrap();
    let mine = text_of(&client, "#my-questions").await;
    keep_screenshot(&client, "loop-6-answer-on-the-phone").await;
    assert!(
        mine.contains(asked) && mine.contains(answer) && mine.contains("Sở Tư pháp"),
        "{mine}"
    );
    client.close().await.unwrap();
}

#[tokio::test]
async fn the_moderation_page_answers_to_keyboard_shortcuts_in_a_real_browser() {
    let app = spawn_app().await;
    let (token, id) = crate::questions::dialogue_taking_questions(&app, json!({})).await;
    let codes = crate::questions::participants(
        &app,
        &token,
        &id,
        &[("Lê Thị Mai", None), ("Phan Văn Tài", None)],
    )
    .await;
    let first =
        "Người mới ra tù có được vay vốn Ngân hàng Chính sách xã hội để chăn nuôi bò không?";
    let alike =
        "Xin hỏi người mới ra tù có được vay vốn Ngân hàng Chính sách xã hội để chăn nuôi không?";
    let other = "Thủ tục đăng ký thường trú lại tại xã sau khi về địa phương gồm giấy tờ gì?";
    let first_id =
        crate::questions::asked(&app, &id, Some(&codes[0]), first, "loans_livelihood").await;
    crate::questions::asked(&app, &id, Some(&codes[1]), alike, "loans_livelihood").await;
    crate::questions::asked(&app, &id, Some(&codes[1]), other, "residence_documents").await;
    app.create_account(
        "btc@benluc.example.vn",
        "Trần Thị Thu Hà",
        "organizer",
        None,
    )
    .await;
    let Some((_driver, client)) = browser().await else {
        return;
    };
    client.set_window_size(DESKTOP.0, DESKTOP.1).await.unwrap();
    sign_in(&client, &app, "btc@benluc.example.vn").await;
    client
        .goto(&app.url(&format!(
            "/staff/dialogues/{id}/questions?status=submitted&sort=oldest"
        )))
        .await
        .unwrap();
    // The list of shortcuts shows once the script runs.
    let help = client.find(Locator::Css("#shortcuts")).await.unwrap();
    assert!(help.is_displayed().await.unwrap());
    click(&client, "#shortcuts summary").await;
    let listed = text_of(&client, "#shortcuts dl").await;
    for expected in ["duyệt câu hỏi đang chọn", "không đưa vào", "gộp vào"] {
        assert!(listed.contains(expected), "{listed}");
    }
    let selected = || async {
        client
            .find(Locator::Css("li.question.current .body"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };

    // j and k move between the questions.
    press(&client, 'j').await;
    assert_eq!(selected().await, first);
    press(&client, 'j').await;
    press(&client, 'j').await;
    assert_eq!(selected().await, other);
    press(&client, 'k').await;
    assert_eq!(selected().await, alike);

    // m offers only the questions like it, as the merge targets.
    press(&client, 'm').await;
    let targets = client
        .find_all(Locator::Css(
            "li.question.current details[data-shortcut=merge] input[name=into]",
        ))
        .await
        .unwrap();
    let mut offered = Vec::new();
    for t in &targets {
        offered.push(t.attr("value").await.unwrap().unwrap());
    }
    assert_eq!(offered, vec![first_id.clone()], "only the similar question");
    let focused = client.active_element().await.unwrap();
    assert_eq!(focused.attr("name").await.unwrap().as_deref(), Some("into"));

    // Esc leaves the field; r opens the reason to leave the question out, e the wording.
    press(&client, fantoccini::key::Key::Escape.into()).await;
    press(&client, 'r').await;
    let focused = client.active_element().await.unwrap();
    assert_eq!(
        focused.attr("name").await.unwrap().as_deref(),
        Some("reason")
    );
    // Letters typed in a field are text, not shortcuts.
    focused.send_keys("jak").await.unwrap();
    assert_eq!(focused.prop("value").await.unwrap().as_deref(), Some("jak"));
    assert_eq!(selected().await, alike);
    press(&client, fantoccini::key::Key::Escape.into()).await;
    press(&client, 'e').await;
    let focused = client.active_element().await.unwrap();
    assert_eq!(
        focused.prop("value").await.unwrap().as_deref(),
        Some(alike),
        "the wording to edit"
    );
    press(&client, fantoccini::key::Key::Escape.into()).await;

    // a approves the selected question.
    press(&client, 'a').await;
    wait_for_url(&client, "done=moderated").await;
    assert_eq!(text_of(&client, "p.notice").await, "Đã lưu quyết định.");
    keep_screenshot(&client, "shortcuts-approved").await;
    client.close().await.unwrap();

    let list = app
        .get(
            &format!("/api/v1/dialogues/{id}/questions?status=approved"),
            Some(&token),
        )
        .await;
    assert_eq!(list.body["total"], 1, "{}", list.text);
    assert_eq!(list.body["items"][0]["body"], alike);
}

/// Waits until the page's text contains `part`.
async fn wait_for_text(client: &fantoccini::Client, part: &str) -> String {
    let mut last = String::new();
    for _ in 0..100 {
        if let Ok(body) = client.find(Locator::Css("body")).await {
            last = body.text().await.unwrap_or_default();
            if last.contains(part) {
                return last;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page never said {part:?}: {last}");
}

#[tokio::test]
async fn on_a_phone_someone_registers_with_a_phone_is_waitlisted_keeps_the_code_cancels_and_registers_again()
 {
    let app = spawn_app().await;
    let (_token, id) =
        crate::helpers::open_dialogue(&app, json!({"self_registration": true, "capacity": 1}))
            .await;
    let first = app
        .self_register(
            &id,
            &json!({"full_name": "Lê Văn Một", "phone": "0911111111", "category": "other", "consent": true}),
        )
        .await;
    assert_eq!(first.status, 201);
    let Some((_driver, client)) = browser().await else {
        return;
    };

    // The public page says new registrations go to the waitlist, before registering.
    client.goto(&app.url(&format!("/d/{id}"))).await.unwrap();
    wait_for_text(&client, "người đăng ký mới sẽ vào danh sách chờ").await;
    keep_screenshot(&client, "paths-1-public-page-waitlist").await;
    click(&client, &format!("a[href='/d/{id}/register']")).await;
    wait_for_url(&client, "/register").await;
    type_into(&client, "#r-full_name", "Võ Văn Tự").await;
    type_into(&client, "#r-phone", "0987 654 321").await;
    client
        .find(Locator::Css("#r-category"))
        .await
        .unwrap()
        .select_by_value("prefer_not_to_say")
        .await
        .unwrap();
    click(&client, "label.consent").await;
    keep_screenshot(&client, "paths-2-register-form").await;
    click(&client, "form[action$='/register'] button[type=submit]").await;

    // Waitlisted, with the code on the page.
    wait_for_url(&client, "done=waitlisted").await;
    let code = text_of(&client, ".my-code .code").await;
    assert_eq!(code.len(), 11, "{code}");
    let text = wait_for_text(&client, "danh sách chờ").await;
    assert!(!text.contains("sẽ được báo qua email"), "{text}");
    keep_screenshot(&client, "paths-3-waitlisted-code").await;

    // Cancel (the confirmation is accepted), then register again.
    click(&client, "form[action$='/cancel'] button").await;
    client.accept_alert().await.unwrap();
    wait_for_url(&client, "done=cancelled").await;
    assert_eq!(text_of(&client, ".my-code .code").await, code);
    keep_screenshot(&client, "paths-4-cancelled").await;
    click(&client, "form[action$='/register'] button").await;
    wait_for_url(&client, "done=waitlisted").await;
    assert_eq!(text_of(&client, ".waitlist .big-number").await, "1");
    assert_eq!(text_of(&client, ".my-code .code").await, code);
    keep_screenshot(&client, "paths-5-registered-again").await;
    assert_eq!(
        app.me(&code).await.body["registration"]["status"],
        "waitlisted"
    );
}
