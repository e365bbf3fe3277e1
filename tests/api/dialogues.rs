use serde_json::{Value, json};
use unicode_normalization::UnicodeNormalization;

use crate::helpers::{reference_dialogue, spawn_app};

#[tokio::test]
async fn an_organizer_creates_a_dialogue_whose_vietnamese_text_comes_back_byte_for_byte() {
    let app = spawn_app().await;
    let token = app.staff_token("organizer").await;
    let body = reference_dialogue();
    let created = app.create_dialogue(&token, &body).await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["status"], "draft");
    let id = created.body["id"].as_str().unwrap();
    let fetched = app.get_dialogue(Some(&token), id).await;
    for field in [
        "title",
        "description",
        "host_unit",
        "parent_unit",
        "locality",
        "venue",
        "starts_at",
        "ends_at",
        "question_deadline",
    ] {
        assert_eq!(fetched.body[field], body[field], "{field}");
    }
    assert_eq!(fetched.body["officials"], body["officials"]);
    assert_eq!(fetched.body["agenda"][0], body["agenda"][0]);
    assert_eq!(fetched.body["agenda"][1]["title"], "Đối thoại");
    assert_eq!(fetched.body["capacity"], 120);
    assert_eq!(fetched.body["time_zone"], "Asia/Ho_Chi_Minh");
}

#[tokio::test]
async fn decomposed_vietnamese_is_stored_as_nfc() {
    let app = spawn_app().await;
    let token = app.staff_token("organizer").await;
    let mut body = reference_dialogue();
    let decomposed: String = "Hội trường UBND huyện Bến Lức".nfd().collect();
    assert_ne!(decomposed, "Hội trường UBND huyện Bến Lức");
    body["venue"] = json!(decomposed);
    let created = app.create_dialogue(&token, &body).await;
    assert_eq!(created.body["venue"], "Hội trường UBND huyện Bến Lức");
}

#[tokio::test]
async fn times_in_any_offset_are_returned_in_the_dialogues_zone() {
    let app = spawn_app().await;
    let token = app.staff_token("organizer").await;
    let mut body = reference_dialogue();
    body["starts_at"] = json!("2026-11-30T07:00:00Z");
    body["ends_at"] = json!("2026-11-30T11:00:00+01:00");
    let created = app.create_dialogue(&token, &body).await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["starts_at"], "2026-11-30T14:00:00+07:00");
    assert_eq!(created.body["ends_at"], "2026-11-30T17:00:00+07:00");
}

#[tokio::test]
async fn a_dialogue_ending_before_it_starts_is_422_naming_the_field_and_nothing_is_stored() {
    let app = spawn_app().await;
    let token = app.staff_token("organizer").await;
    let mut body = reference_dialogue();
    body["ends_at"] = json!("2026-11-30T13:00:00+07:00");
    let reply = app.create_dialogue(&token, &body).await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.code(), "validation_failed");
    assert_eq!(
        reply.body["error"]["field_codes"]["ends_at"],
        "must_end_after_start"
    );
    assert!(reply.body["error"]["fields"]["ends_at"].is_string());
    assert_eq!(app.list_dialogues(Some(&token)).await.body["total"], 0);
}

#[tokio::test]
async fn every_dialogue_rule_is_enforced() {
    let app = spawn_app().await;
    let token = app.staff_token("organizer").await;
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"question_deadline": "2026-11-30T15:00:00+07:00"}),
            "question_deadline",
            "must_be_before_start",
        ),
        (json!({"capacity": 0}), "capacity", "too_small"),
        (json!({"capacity": "many"}), "capacity", "invalid_type"),
        (
            json!({"starts_at": "30/11/2026 14:00"}),
            "starts_at",
            "invalid_datetime",
        ),
        (
            json!({"officials": [{"name": "Lê Thành Út", "position": "Chủ tịch", "role": "secretary"}]}),
            "officials",
            "needs_a_chair",
        ),
        (
            json!({"officials": [{"name": "", "position": "", "role": "chair"}]}),
            "officials[0].name",
            "required",
        ),
        (
            json!({"officials": [{"name": "A", "position": "", "role": "king"}]}),
            "officials[0].role",
            "invalid_choice",
        ),
        (json!({"title": ""}), "title", "required"),
        (
            json!({"time_zone": "Mars/Olympus"}),
            "time_zone",
            "invalid_time_zone",
        ),
        (
            json!({"agenda": [{"title": ""}]}),
            "agenda[0].title",
            "required",
        ),
    ];
    for (change, field, code) in cases {
        let mut body = reference_dialogue();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let reply = app.create_dialogue(&token, &body).await;
        assert_eq!(reply.status, 422, "{change}: {}", reply.text);
        assert_eq!(
            reply.body["error"]["field_codes"][field], code,
            "{change}: {}",
            reply.text
        );
    }
    let mut missing = reference_dialogue();
    missing.as_object_mut().unwrap().remove("venue");
    let reply = app.create_dialogue(&token, &missing).await;
    assert_eq!(reply.body["error"]["field_codes"]["venue"], "required");
    assert_eq!(app.list_dialogues(Some(&token)).await.body["total"], 0);
}

#[tokio::test]
async fn the_status_machine_refuses_invalid_transitions_with_409() {
    let app = spawn_app().await;
    let token = app.staff_token("organizer").await;
    let id = app
        .create_dialogue(&token, &reference_dialogue())
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let skip = app.change_status(&token, &id, "in_progress").await;
    assert_eq!(skip.status, 409);
    assert_eq!(skip.code(), "invalid_transition");
    for next in ["open", "in_progress", "concluded"] {
        let reply = app.change_status(&token, &id, next).await;
        assert_eq!(reply.status, 200, "{next}: {}", reply.text);
        assert_eq!(reply.body["status"], next);
    }
    let cancel = app.change_status(&token, &id, "cancelled").await;
    assert_eq!(cancel.status, 409);
    let nonsense = app.change_status(&token, &id, "finished").await;
    assert_eq!(nonsense.status, 422);
    assert_eq!(
        nonsense.body["error"]["field_codes"]["status"],
        "invalid_choice"
    );
    let edit = app
        .edit_dialogue(&token, &id, &json!({"venue": "Nơi khác"}))
        .await;
    assert_eq!(edit.status, 409);
    assert_eq!(edit.code(), "dialogue_closed");
}

#[tokio::test]
async fn any_dialogue_but_a_concluded_one_can_be_cancelled() {
    let app = spawn_app().await;
    let token = app.staff_token("organizer").await;
    for steps in [vec![], vec!["open"], vec!["open", "in_progress"]] {
        let id = app
            .create_dialogue(&token, &reference_dialogue())
            .await
            .body["id"]
            .as_str()
            .unwrap()
            .to_string();
        for step in steps {
            app.change_status(&token, &id, step).await;
        }
        let reply = app.change_status(&token, &id, "cancelled").await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        let again = app.change_status(&token, &id, "cancelled").await;
        assert_eq!(again.status, 409);
    }
}

#[tokio::test]
async fn patch_changes_only_the_fields_sent_and_checks_the_result_as_a_whole() {
    let app = spawn_app().await;
    let token = app.staff_token("organizer").await;
    let id = app
        .create_dialogue(&token, &reference_dialogue())
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let reply = app
        .edit_dialogue(
            &token,
            &id,
            &json!({"capacity": 80, "venue": "Hội trường Huyện ủy Bến Lức"}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["capacity"], 80);
    assert_eq!(reply.body["venue"], "Hội trường Huyện ủy Bến Lức");
    assert_eq!(reply.body["title"], reference_dialogue()["title"]);
    assert_eq!(reply.body["officials"].as_array().unwrap().len(), 3);
    // An end before the existing start is refused, and nothing changes.
    let bad = app
        .edit_dialogue(
            &token,
            &id,
            &json!({"ends_at": "2026-11-30T12:00:00+07:00", "capacity": 5}),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(
        bad.body["error"]["field_codes"]["ends_at"],
        "must_end_after_start"
    );
    let after = app.get_dialogue(Some(&token), &id).await;
    assert_eq!(after.body["capacity"], 80);
    let officials = app
        .edit_dialogue(&token, &id, &json!({"officials": [{"name": "Lê Thành Út", "position": "Chủ tịch UBND huyện", "role": "chair"}]}))
        .await;
    assert_eq!(officials.body["officials"].as_array().unwrap().len(), 1);
    let no_chair = app
        .edit_dialogue(&token, &id, &json!({"officials": []}))
        .await;
    assert_eq!(
        no_chair.body["error"]["field_codes"]["officials"],
        "needs_a_chair"
    );
}

#[tokio::test]
async fn drafts_are_visible_to_organizers_only() {
    let app = spawn_app().await;
    let organizer = app.staff_token("organizer").await;
    let agency = app.staff_token("agency").await;
    let draft = app
        .create_dialogue(&organizer, &reference_dialogue())
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let open = app
        .create_dialogue(&organizer, &reference_dialogue())
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.change_status(&organizer, &open, "open").await;
    let cancelled = app
        .create_dialogue(&organizer, &reference_dialogue())
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.change_status(&organizer, &cancelled, "cancelled").await;

    assert_eq!(app.list_dialogues(Some(&organizer)).await.body["total"], 3);
    for token in [None, Some(agency.as_str())] {
        let list = app.list_dialogues(token).await;
        assert_eq!(list.body["total"], 1, "{}", list.text);
        assert_eq!(list.body["items"][0]["id"], open.as_str());
        assert_eq!(app.get_dialogue(token, &draft).await.status, 404);
        assert_eq!(app.get_dialogue(token, &open).await.status, 200);
        assert_eq!(
            app.get_dialogue(token, &cancelled).await.body["status"],
            "cancelled"
        );
    }
    assert_eq!(app.get_dialogue(Some(&organizer), &draft).await.status, 200);
}

#[tokio::test]
async fn agency_staff_and_the_public_cannot_change_dialogues() {
    let app = spawn_app().await;
    let organizer = app.staff_token("organizer").await;
    let agency = app.staff_token("agency").await;
    let id = app
        .create_dialogue(&organizer, &reference_dialogue())
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.create_dialogue(&agency, &reference_dialogue())
            .await
            .status,
        403
    );
    assert_eq!(
        app.post("/api/v1/dialogues", None, &reference_dialogue())
            .await
            .status,
        401
    );
    let patch = app
        .edit_dialogue(&agency, &id, &json!({"capacity": 1}))
        .await;
    assert_eq!(patch.status, 403);
    let status = app.change_status(&agency, &id, "open").await;
    assert_eq!(status.status, 403);
    assert_eq!(
        app.get_dialogue(Some(&organizer), &id).await.body["capacity"],
        120
    );
}

#[tokio::test]
async fn lists_page_through_dialogues() {
    let app = spawn_app().await;
    let token = app.staff_token("organizer").await;
    for _ in 0..5 {
        app.create_dialogue(&token, &reference_dialogue()).await;
    }
    let page = app
        .get("/api/v1/dialogues?page=2&per_page=2", Some(&token))
        .await;
    assert_eq!(page.body["total"], 5);
    assert_eq!(page.body["page"], 2);
    assert_eq!(page.body["per_page"], 2);
    assert_eq!(page.body["items"].as_array().unwrap().len(), 2);
    let last = app
        .get("/api/v1/dialogues?page=3&per_page=2", Some(&token))
        .await;
    assert_eq!(last.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_stored_status_no_variant_names_is_an_opaque_500_never_another_status() {
    let app = spawn_app().await;
    let token = app.staff_token("organizer").await;
    let created = app.create_dialogue(&token, &reference_dialogue()).await;
    let id = created.body["id"].as_str().unwrap().to_string();
    let db = app.state.db.clone();
    let target = id.clone();
    tokio::task::spawn_blocking(move || {
        db.write_now(|conn| {
            use diesel::RunQueryDsl;
            diesel::sql_query("UPDATE dialogues SET status = 'archived' WHERE id = $1")
                .bind::<diesel::sql_types::Text, _>(&target)
                .execute(conn)?;
            Ok(())
        })
    })
    .await
    .unwrap()
    .unwrap();
    let read = app.get_dialogue(Some(&token), &id).await;
    assert_eq!(read.status, 500, "{}", read.text);
    assert_eq!(read.code(), "internal_error");
    assert!(read.body["error"]["request_id"].is_string());
    assert!(!read.text.contains("archived"), "{}", read.text);
}

#[tokio::test]
async fn a_malformed_id_in_the_path_is_404_before_any_query() {
    let app = spawn_app().await;
    let token = app.staff_token("organizer").await;
    for id in ["not-a-uuid", "..%2F..%2Fetc", "0193a1b2-c3d4-7e5f-8a9b"] {
        let read = app.get_dialogue(Some(&token), id).await;
        assert_eq!(read.status, 404, "{id}: {}", read.text);
        assert_eq!(read.code(), "not_found");
    }
    let page = app
        .client
        .get(format!("{}/staff/dialogues/nonsense/edit", app.address))
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 404);
}
