//! The projector in a real browser: it follows the organizer's choice without a reload.

use std::time::Duration;

use fantoccini::Locator;
use serde_json::json;

use crate::browser::{browser, keep_screenshot};
use crate::helpers::spawn_app;
use crate::questions::{asked, dialogue_taking_questions, participants};

const FIRST: &str = "Xin hỏi thủ tục vay vốn Ngân hàng Chính sách xã hội để học nghề?";
const SECOND: &str = "Người đã chấp hành xong án có được cấp lại căn cước công dân không?";

/// Waits until the projector's current question reads `text`.
async fn wait_for_current(client: &fantoccini::Client, text: &str) {
    for _ in 0..100 {
        if let Ok(element) = client.find(Locator::Css("#projector-current")).await
            && element.text().await.is_ok_and(|t| t.contains(text))
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the projector never showed {text:?}");
}

#[tokio::test]
async fn the_projector_follows_the_organizers_choice_without_reloading() {
    let Some((_driver, client)) = browser().await else {
        return;
    };
    let app = spawn_app().await;
    let (organizer, id) = dialogue_taking_questions(&app, json!({})).await;
    let code = participants(&app, &organizer, &id, &[("Lê Thị Mai", None)]).await[0].clone();
    let first = asked(&app, &id, Some(&code), FIRST, "loans_livelihood").await;
    let second = asked(&app, &id, Some(&code), SECOND, "residence_documents").await;
    for q in [&first, &second] {
        let r = app
            .moderate(&organizer, q, &json!({"action": "approve"}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    assert_eq!(
        app.change_status(&organizer, &id, "in_progress")
            .await
            .status,
        200
    );
    let live = format!("/api/v1/dialogues/{id}/live");
    let r = app
        .put_json(
            &live,
            Some(&organizer),
            &json!({"current_question_id": first}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    client.set_window_size(1280, 720).await.unwrap();
    client
        .goto(&app.url(&format!("/d/{id}/live")))
        .await
        .unwrap();
    wait_for_current(&client, FIRST).await;
    // A mark that a reload would wipe.
    client
        .execute("window.stillTheSamePage = true; return true;", vec![])
        .await
        .unwrap();

    let r = app
        .put_json(
            &live,
            Some(&organizer),
            &json!({"current_question_id": second}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    wait_for_current(&client, SECOND).await;
    let topic = client
        .find(Locator::Css(".projector-topic"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(topic, "Cư trú, giấy tờ tùy thân");
    let same = client
        .execute("return window.stillTheSamePage === true;", vec![])
        .await
        .unwrap();
    assert_eq!(same, json!(true), "the page changed without a reload");
    keep_screenshot(&client, "projector").await;
    client.close().await.unwrap();
}
