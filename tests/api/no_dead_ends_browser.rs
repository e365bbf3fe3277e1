//! The organizer's new questions and help at phone size (390×844) in Chromium: the edit
//! form asks whether to tell the people who accepted, and the import shows a bad value with
//! the accepted groups beside the template's link. With DOITHOAI_SCREENSHOTS set, the pages
//! are kept as pictures (docs/images/edit-notify.png, import-error.png,
//! import-template.png).

use std::time::Duration;

use fantoccini::Locator;
use serde_json::json;

use crate::browser::{browser, keep_screenshot};
use crate::door_browser::{PhoneViewport, click, scroll_to, sign_in};
use crate::helpers::{by_name, invitations, open_dialogue, spawn_app};

#[tokio::test]
async fn on_a_phone_the_edit_form_asks_to_tell_people_and_a_bad_import_shows_what_is_accepted() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({})).await;
    app.add_invitees(
        &token,
        &id,
        &json!([{"full_name": "Nguyễn Văn Ánh", "email": "anh@example.vn", "category": "other"}]),
    )
    .await;
    app.send_invitations(&token, &id).await;
    let all = invitations(&app, &token, &id).await;
    app.rsvp(
        by_name(&all, "Nguyễn Văn Ánh")["code"].as_str().unwrap(),
        "accept",
    )
    .await;
    app.create_account("sua@benluc.example.vn", "Ban Tổ Chức", "organizer", None)
        .await;
    let Some((_driver, client)) = browser().await else {
        return;
    };
    client.issue_cmd(PhoneViewport).await.unwrap();
    sign_in(&client, &app, "sua@benluc.example.vn").await;

    // The edit form: the question, ticked, with how many people it reaches.
    client
        .goto(&app.url(&format!("/staff/dialogues/{id}/edit")))
        .await
        .unwrap();
    let question = client
        .find(Locator::Css("fieldset.notify-change"))
        .await
        .unwrap();
    let text = question.text().await.unwrap();
    assert!(text.contains("Báo cho người đã nhận lời"), "{text}");
    assert!(text.contains("Có 1 người đã nhận lời mời"), "{text}");
    let ticked = client
        .find(Locator::Css("input[name=notify]"))
        .await
        .unwrap()
        .prop("checked")
        .await
        .unwrap();
    assert_eq!(ticked.as_deref(), Some("true"));
    scroll_to(&client, "fieldset.notify-change").await;
    keep_screenshot(&client, "edit-notify").await;

    // A bad file: the line, the column, the value and the accepted groups.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("danh-sach.csv");
    std::fs::write(
        &file,
        "Họ và tên,Email,Nhóm\nTrần Thị Bé,be@example.vn,Khác\nLê Văn Cường,,tù nhân\n",
    )
    .unwrap();
    client
        .goto(&app.url(&format!("/staff/dialogues/{id}/invitations")))
        .await
        .unwrap();
    client
        .find(Locator::Css("#import summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .find(Locator::Css("#import input[type=file]"))
        .await
        .unwrap()
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    click(&client, "#import button[type=submit]").await;
    let alert = client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("div.alert[role=alert]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(alert.contains("dòng 3: Nhóm «tù nhân»"), "{alert}");
    assert!(
        alert.contains("Người chấp hành xong hình phạt tù"),
        "{alert}"
    );
    let template = client
        .find(Locator::Css(
            "#import a[href='/staff/invitations/template.csv']",
        ))
        .await
        .unwrap();
    assert!(template.is_displayed().await.unwrap());
    scroll_to(&client, "div.alert[role=alert]").await;
    keep_screenshot(&client, "import-error").await;
    scroll_to(&client, "#import").await;
    keep_screenshot(&client, "import-template").await;
    assert_eq!(invitations(&app, &token, &id).await.len(), 1);
}
