//! The door at phone size (390×844) in a real browser: an organizer finds a waitlisted
//! person by name typed without diacritics, admits them past capacity, and undoes it.

use std::time::Duration;

use fantoccini::Locator;
use serde_json::json;

use crate::browser::{browser, keep_screenshot};
use crate::helpers::{PASSWORD, by_name, invitations, open_dialogue, spawn_app};

/// Chromium's headless window is at least 500 px wide, whatever `--window-size` says; the
/// DevTools protocol (through chromedriver) makes the page itself phone-sized.
#[derive(Debug)]
pub(crate) struct PhoneViewport;

impl fantoccini::wd::WebDriverCompatibleCommand for PhoneViewport {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (reqwest::Method, Option<String>) {
        let body = json!({
            "cmd": "Emulation.setDeviceMetricsOverride",
            "params": {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": true},
        });
        (reqwest::Method::POST, Some(body.to_string()))
    }
}

pub(crate) async fn click(client: &fantoccini::Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
}

pub(crate) async fn type_into(client: &fantoccini::Client, css: &str, text: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .send_keys(text)
        .await
        .unwrap();
}

/// Signs a staff member in through the login form and waits for their dashboard.
pub(crate) async fn sign_in(
    client: &fantoccini::Client,
    app: &crate::helpers::TestApp,
    email: &str,
) {
    client.goto(&app.url("/login")).await.unwrap();
    type_into(client, "input[name=email]", email).await;
    type_into(client, "input[name=password]", PASSWORD).await;
    click(client, "form[action='/login'] button").await;
    client
        .wait()
        .for_element(Locator::Css("a[href='/staff/dialogues/new']"))
        .await
        .unwrap();
}

/// Scrolls the element into view, for the screenshot.
pub(crate) async fn scroll_to(client: &fantoccini::Client, css: &str) {
    client
        .execute(
            &format!("document.querySelector({css:?}).scrollIntoView();"),
            vec![],
        )
        .await
        .unwrap();
}

/// The text of the first element `css` matches, once it is there.
async fn text_of(client: &fantoccini::Client, css: &str) -> String {
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn at_the_door_on_a_phone_a_name_search_admits_from_the_waitlist_and_an_undo_puts_back() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({"capacity": 1})).await;
    app.add_invitees(
        &token,
        &id,
        &json!([
            {"full_name": "Nguyễn Văn Ánh", "category": "other"},
            {"full_name": "Đặng Thị Đào", "phone": "0987 654 321", "category": "other"},
        ]),
    )
    .await;
    let all = invitations(&app, &token, &id).await;
    for name in ["Nguyễn Văn Ánh", "Đặng Thị Đào"] {
        app.rsvp(by_name(&all, name)["code"].as_str().unwrap(), "accept")
            .await;
    }
    app.create_account("cua@benluc.example.vn", "Cán Bộ Cửa", "organizer", None)
        .await;
    let Some((_driver, client)) = browser().await else {
        return;
    };
    client.issue_cmd(PhoneViewport).await.unwrap();

    sign_in(&client, &app, "cua@benluc.example.vn").await;
    client
        .goto(&app.url(&format!("/staff/dialogues/{id}/door")))
        .await
        .unwrap();
    let width = client
        .execute("return window.innerWidth;", vec![])
        .await
        .unwrap();
    assert_eq!(width, json!(390), "the page is phone-sized");
    keep_screenshot(&client, "door-0-page").await;

    // Search by name, typed without diacritics.
    type_into(&client, "#door-q", "dang thi dao").await;
    click(&client, "#door-search button[type=submit]").await;
    let found = text_of(&client, ".door-person.waitlisted").await;
    assert!(found.contains("Đặng Thị Đào"), "{found}");
    assert!(found.contains("Trong danh sách chờ (thứ 1)"), "{found}");
    scroll_to(&client, ".door-found").await;
    keep_screenshot(&client, "door-1-search").await;

    // Admit from the waitlist: every seat is held, so the button says it goes past capacity.
    let button = text_of(
        &client,
        ".door-person.waitlisted form[action$='/door/admit'] button",
    )
    .await;
    assert_eq!(button, "Cho vào, vượt số chỗ");
    click(
        &client,
        ".door-person.waitlisted form[action$='/door/admit'] button",
    )
    .await;
    let admitted = text_of(&client, ".door-result.ok").await;
    assert!(admitted.contains("Đặng Thị Đào"), "{admitted}");
    let over = text_of(&client, "#door-over").await;
    assert!(over.contains("Vượt 1 chỗ"), "{over}");
    keep_screenshot(&client, "door-2-admitted").await;
    assert_eq!(app.attendance(&token, &id).await.body["checked_in"], 1);

    // Undo: back to the waitlist, and the counter follows.
    click(&client, ".door-next form[action$='/door/undo'] button").await;
    let undone = text_of(&client, ".door-result.undone").await;
    assert!(undone.contains("Trong danh sách chờ (thứ 1)"), "{undone}");
    assert!(
        client.find(Locator::Css("#door-over")).await.is_err(),
        "no longer over capacity"
    );
    let (scrolled, focused) = (
        client
            .execute("return window.scrollY;", vec![])
            .await
            .unwrap(),
        client
            .execute("return document.activeElement.id;", vec![])
            .await
            .unwrap(),
    );
    assert_eq!(
        (scrolled, focused),
        (json!(0), json!("door-code")),
        "the result stays in view, the field is ready for the next code"
    );
    keep_screenshot(&client, "door-3-undone").await;

    // A walk-in while full: the form asks for the explicit choice.
    click(&client, "#walk-in summary").await;
    type_into(&client, "#walk-in input[name=full_name]", "Hồ Văn Đến").await;
    client
        .execute(
            "document.querySelector('#walk-in select[name=category]').value = 'family_member';",
            vec![],
        )
        .await
        .unwrap();
    click(&client, "#walk-in input[name=consent]").await;
    click(&client, "#walk-in button[type=submit]").await;
    let refused = text_of(&client, "#walk-in .alert").await;
    assert!(refused.contains("Đã hết chỗ"), "{refused}");
    let kept = client
        .find(Locator::Css("#walk-in input[name=full_name]"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("Hồ Văn Đến"));
    scroll_to(&client, "#walk-in").await;
    keep_screenshot(&client, "door-4-walk-in-full").await;
    client.close().await.unwrap();

    let counts = app.attendance(&token, &id).await.body;
    assert_eq!(
        (
            &counts["registered"],
            &counts["waitlisted"],
            &counts["checked_in"]
        ),
        (&json!(1), &json!(1), &json!(0))
    );
}
