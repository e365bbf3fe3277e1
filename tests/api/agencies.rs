use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn an_organizer_adds_an_agency_and_all_staff_can_list_it() {
    let app = spawn_app().await;
    let organizer = app.staff_token("organizer").await;
    let created = app
        .create_agency(&organizer, &json!({"name": "Công ty TNHH Giày da Phú Thành", "short_name": "Phú Thành", "kind": "business", "email": "nhansu@phuthanh.example.vn"}))
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["name"], "Công ty TNHH Giày da Phú Thành");
    let agency_staff = app.staff_token("agency").await;
    let list = app
        .get("/api/v1/agencies?per_page=10", Some(&agency_staff))
        .await;
    assert_eq!(list.status, 200);
    let names: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"Công ty TNHH Giày da Phú Thành"),
        "{names:?}"
    );
    assert_eq!(list.body["per_page"], 10);
    assert_eq!(list.body["page"], 1);
}

#[tokio::test]
async fn agency_staff_cannot_add_agencies_and_the_public_cannot_list_them() {
    let app = spawn_app().await;
    let agency_staff = app.staff_token("agency").await;
    let reply = app
        .create_agency(&agency_staff, &json!({"name": "X", "kind": "government"}))
        .await;
    assert_eq!(reply.status, 403);
    assert_eq!(app.list_agencies(None).await.status, 401);
}

#[tokio::test]
async fn a_bad_agency_is_refused_with_each_field_named() {
    let app = spawn_app().await;
    let organizer = app.staff_token("organizer").await;
    let reply = app
        .create_agency(
            &organizer,
            &json!({"name": "  ", "kind": "army", "email": "@"}),
        )
        .await;
    assert_eq!(reply.status, 422);
    let codes = &reply.body["error"]["field_codes"];
    assert_eq!(codes["name"], "required");
    assert_eq!(codes["kind"], "invalid_choice");
    assert_eq!(codes["email"], "invalid_email");
    let missing = app
        .create_agency(&organizer, &json!({"name": "Phòng Nội vụ"}))
        .await;
    assert_eq!(missing.status, 422);
    assert_eq!(missing.body["error"]["field_codes"]["kind"], "required");
    let list = app.list_agencies(Some(&organizer)).await;
    assert_eq!(list.body["total"], 0);
}
