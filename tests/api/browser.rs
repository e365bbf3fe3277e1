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
    client
        .wait()
        .for_element(Locator::Css("a[href='/staff/dialogues/new']"))
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
