//! The organizers' lists at phone size (390×844) in a real browser: the header row folds
//! away and every cell shows its column's name; the print view keeps the table a table.

use fantoccini::Locator;
use serde_json::json;

use crate::browser::{browser, keep_screenshot};
use crate::door_browser::PhoneViewport;
use crate::helpers::{PASSWORD, invitations, open_dialogue, spawn_app};

/// What the browser draws before a cell: its `::before` content.
async fn label_of(client: &fantoccini::Client, css: &str) -> serde_json::Value {
    client
        .execute(
            &format!(
                "return getComputedStyle(document.querySelector({css:?}), '::before').content;"
            ),
            vec![],
        )
        .await
        .unwrap()
}

async fn display_of(client: &fantoccini::Client, css: &str) -> serde_json::Value {
    client
        .execute(
            &format!("return getComputedStyle(document.querySelector({css:?})).display;"),
            vec![],
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn on_a_phone_each_cell_of_a_list_shows_its_column_name() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({})).await;
    app.add_invitees(
        &token,
        &id,
        &json!([{"full_name": "Nguyễn Văn Ánh", "phone": "0912 345 678", "category": "other"}]),
    )
    .await;
    let code = invitations(&app, &token, &id).await[0]["code"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(app.rsvp(&code, "accept").await.status, 200);
    app.create_account("ds@benluc.example.vn", "Ban Tổ Chức", "organizer", None)
        .await;
    let Some((_driver, client)) = browser().await else {
        return;
    };
    client.issue_cmd(PhoneViewport).await.unwrap();
    client.goto(&app.url("/login")).await.unwrap();
    for (field, value) in [("email", "ds@benluc.example.vn"), ("password", PASSWORD)] {
        client
            .find(Locator::Css(&format!("input[name={field}]")))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
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

    for list in ["invitations", "registrations", "attendance"] {
        client
            .goto(&app.url(&format!("/staff/dialogues/{id}/{list}?q=nguyen")))
            .await
            .unwrap();
        let width = client
            .execute("return window.innerWidth;", vec![])
            .await
            .unwrap();
        assert_eq!(width, json!(390), "the page is phone-sized");
        let table = "table.list.people";
        assert_eq!(
            display_of(&client, &format!("{table} thead")).await,
            json!("none")
        );
        let first = format!("{table} tbody td:first-child");
        assert_eq!(
            label_of(&client, &first).await,
            json!("\"Họ và tên\""),
            "{list}"
        );
        let code = format!("{table} tbody td.code");
        assert_eq!(label_of(&client, &code).await, json!("\"Mã\""), "{list}");
        client
            .execute(
                &format!("document.querySelector({table:?}).scrollIntoView();"),
                vec![],
            )
            .await
            .unwrap();
        keep_screenshot(&client, &format!("lists-phone-{list}")).await;
    }

    // The print view is for paper: the table keeps its header row, cells carry no labels.
    client
        .goto(&app.url(&format!("/staff/dialogues/{id}/invitations?print=1")))
        .await
        .unwrap();
    assert_eq!(
        display_of(&client, "table.list.people thead").await,
        json!("table-header-group")
    );
    assert_eq!(
        label_of(&client, "table.list.people tbody td:first-child").await,
        json!("none")
    );
    client.close().await.unwrap();
}
