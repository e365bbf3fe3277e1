use serde_json::json;

use crate::helpers::{reference_dialogue, spawn_app};

#[tokio::test]
async fn health_names_the_database_in_use() {
    let app = spawn_app().await;
    let reply = app.get("/healthz", None).await;
    assert_eq!(reply.status, 200);
    let expected = if app.db.is_postgres() {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(reply.body, json!({"status": "ok", "database": expected}));
}

#[tokio::test]
async fn an_unknown_api_route_is_a_json_404() {
    let app = spawn_app().await;
    let reply = app.get("/api/v1/no-such-thing", None).await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.code(), "not_found");
    assert!(
        reply.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
}

#[tokio::test]
async fn a_wrong_method_is_a_json_error_not_a_5xx() {
    let app = spawn_app().await;
    let reply = app
        .client
        .delete(app.url("/api/v1/dialogues"))
        .send()
        .await
        .unwrap();
    assert!(reply.status().is_client_error(), "{}", reply.status());
    let body: serde_json::Value = reply.json().await.unwrap();
    assert!(body["error"]["code"].is_string());
}

#[tokio::test]
async fn malformed_json_is_400_with_a_stable_code() {
    let app = spawn_app().await;
    let token = app.staff_token("organizer").await;
    let reply = app
        .post_raw(
            "/api/v1/dialogues",
            Some(&token),
            "application/json",
            b"{\"title\": ".to_vec(),
        )
        .await;
    assert_eq!(reply.status, 400, "{}", reply.text);
    assert_eq!(reply.code(), "malformed_json");
}

#[tokio::test]
async fn a_three_megabyte_body_is_413_and_nothing_is_stored() {
    let app = spawn_app().await;
    let token = app.staff_token("organizer").await;
    let mut body = reference_dialogue();
    body["description"] = json!("đ".repeat(1_500_000));
    let bytes = serde_json::to_vec(&body).unwrap();
    assert!(bytes.len() > 3_000_000);
    let reply = app
        .post_raw("/api/v1/dialogues", Some(&token), "application/json", bytes)
        .await;
    assert_eq!(reply.status, 413, "{}", reply.text);
    assert_eq!(reply.code(), "payload_too_large");
    let list = app.list_dialogues(Some(&token)).await;
    assert_eq!(list.body["total"], 0);
}

#[tokio::test]
async fn errors_speak_english_when_asked_and_vietnamese_by_default() {
    let app = spawn_app().await;
    let vi = app.list_agencies(None).await;
    assert_eq!(vi.status, 401);
    assert_eq!(vi.body["error"]["message"], "Cần đăng nhập.");
    let en = app
        .client
        .get(app.url("/api/v1/agencies"))
        .header("accept-language", "en-US,en;q=0.9")
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = en.json().await.unwrap();
    assert_eq!(body["error"]["message"], "Please sign in.");
    assert_eq!(body["error"]["code"], "unauthorized");
}

#[tokio::test]
async fn nonsense_paging_and_ids_are_never_a_server_error() {
    let app = spawn_app().await;
    let token = app.staff_token("organizer").await;
    for path in [
        "/api/v1/dialogues?page=0",
        "/api/v1/dialogues?page=-3",
        "/api/v1/dialogues?page=abc",
        "/api/v1/dialogues?per_page=100000",
        "/api/v1/dialogues?page=99999999999999999999999",
        "/api/v1/dialogues?page=1&per_page=%00",
        "/api/v1/agencies?per_page=-1",
    ] {
        let reply = app.get(path, Some(&token)).await;
        assert_eq!(reply.status, 422, "{path}: {}", reply.text);
        assert_eq!(reply.code(), "validation_failed", "{path}");
    }
    let far = app
        .get("/api/v1/dialogues?page=1000000&per_page=200", Some(&token))
        .await;
    assert_eq!(far.status, 200);
    assert_eq!(far.body["items"], json!([]));
    for path in [
        "/api/v1/dialogues/not-a-uuid",
        "/api/v1/dialogues/00000000-0000-0000-0000-000000000000",
        "/api/v1/dialogues/%2e%2e%2f%2e%2e",
        "/api/v1/dialogues/' OR 1=1 --",
    ] {
        let reply = app.get(path, Some(&token)).await;
        assert_eq!(reply.status, 404, "{path}: {}", reply.text);
    }
}

#[tokio::test]
async fn the_openapi_document_describes_every_endpoint_with_schemas() {
    let app = spawn_app().await;
    let reply = app.get("/api/openapi.json", None).await;
    assert_eq!(reply.status, 200);
    let doc = reply.body;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/healthz", "get"),
        ("/api/openapi.json", "get"),
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/logout", "post"),
        ("/api/v1/auth/me", "get"),
        ("/api/v1/users", "post"),
        ("/api/v1/users", "get"),
        ("/api/v1/agencies", "post"),
        ("/api/v1/agencies", "get"),
        ("/api/v1/dialogues", "post"),
        ("/api/v1/dialogues", "get"),
        ("/api/v1/dialogues/{id}", "get"),
        ("/api/v1/dialogues/{id}", "patch"),
        ("/api/v1/dialogues/{id}/status", "post"),
        ("/api/v1/users/{id}/password-link", "post"),
        ("/api/v1/dialogues/{id}/invitations", "post"),
        ("/api/v1/dialogues/{id}/invitations", "get"),
        ("/api/v1/dialogues/{id}/invitations/import", "post"),
        ("/api/v1/dialogues/{id}/invitations/send", "post"),
        ("/api/v1/invitations/{id}/resend", "post"),
        ("/api/v1/invitations/{id}/reissue", "post"),
        ("/api/v1/me", "get"),
        ("/api/v1/me/rsvp", "post"),
        ("/api/v1/me/ticket.png", "get"),
        ("/api/v1/me/registration/cancel", "post"),
        ("/api/v1/dialogues/{id}/registrations", "post"),
        ("/api/v1/dialogues/{id}/registrations", "get"),
        ("/api/v1/dialogues/{id}/checkins", "post"),
        ("/api/v1/dialogues/{id}/walk-ins", "post"),
        ("/api/v1/dialogues/{id}/attendance", "get"),
    ] {
        let op = &paths[path][method];
        assert!(
            op.is_object(),
            "{method} {path} missing from the OpenAPI document"
        );
        assert!(
            op["responses"].as_object().is_some_and(|r| !r.is_empty()),
            "{method} {path} has no responses"
        );
    }
    let mut operation_ids = std::collections::BTreeSet::new();
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_default();
            assert!(
                operation_ids.insert(id.to_string()),
                "{method} {path}: operationId {id:?} is not unique"
            );
            let responses = op["responses"].as_object().unwrap();
            if path.starts_with("/api/v1/") {
                assert!(
                    responses.keys().any(|status| status.starts_with('4')),
                    "{method} {path} documents no 4xx"
                );
            }
            let secured = op["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
            if secured {
                assert!(responses.contains_key("401"), "{method} {path}: no 401");
            }
            if op["requestBody"]["content"]["application/json"].is_object() {
                for status in ["400", "413", "415", "422"] {
                    assert!(
                        responses.contains_key(status),
                        "{method} {path}: no {status}"
                    );
                }
            }
            if path.contains('{') {
                assert!(responses.contains_key("404"), "{method} {path}: no 404");
                let id = op["parameters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|p| p["in"] == "path")
                    .unwrap();
                assert_eq!(id["schema"]["format"], "uuid", "{method} {path}");
            }
            for status in responses.keys().filter(|s| s.starts_with('4')) {
                assert_eq!(
                    responses[status]["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorEnvelope",
                    "{method} {path} {status}"
                );
            }
        }
    }
    let page = paths["/api/v1/dialogues"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "per_page")
        .unwrap()
        .clone();
    assert_eq!(page["in"], "query");
    assert_eq!(page["schema"]["oneOf"][0]["minimum"], 1);
    assert_eq!(page["schema"]["oneOf"][0]["maximum"], 200);
    // `?per_page=` (empty) is the default, so the document admits it.
    assert_eq!(page["schema"]["oneOf"][1]["enum"], json!([""]));
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    // Statuses and roles are documented as the codes the service sends.
    assert_eq!(
        schemas["Role"]["enum"],
        json!(["admin", "organizer", "agency"])
    );
    assert_eq!(
        schemas["AgencyInput"]["properties"]["kind"]["$ref"],
        "#/components/schemas/AgencyKind"
    );
    assert_eq!(
        schemas["DialogueInput"]["properties"]["capacity"]["minimum"],
        1
    );
    assert!(
        schemas["DialogueInput"]["required"]
            .as_array()
            .unwrap()
            .contains(&json!("title"))
    );
    assert_eq!(
        paths["/api/v1/dialogues/{id}"]["patch"]["requestBody"]["content"]["application/json"]["schema"]
            ["$ref"],
        "#/components/schemas/DialoguePatch"
    );
    for name in [
        "DialogueInput",
        "DialogueView",
        "ErrorEnvelope",
        "AgencyInput",
        "AccountInput",
        "LoginOutput",
    ] {
        assert!(schemas.contains_key(name), "schema {name} missing");
    }
    assert_eq!(
        paths["/api/v1/dialogues"]["post"]["requestBody"]["content"]["application/json"]["schema"]
            ["$ref"],
        "#/components/schemas/DialogueInput"
    );
}

#[tokio::test]
async fn a_bad_token_on_a_public_endpoint_is_401_but_a_stale_cookie_on_a_page_is_ignored() {
    let app = spawn_app().await;
    assert_eq!(
        app.list_dialogues(Some("expired-or-wrong")).await.status,
        401
    );
    assert_eq!(app.list_dialogues(None).await.status, 200);
    let page = app
        .client
        .get(app.url("/"))
        .header("cookie", "doithoai_session=expired-or-wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
}

#[tokio::test]
async fn a_wrong_method_on_an_api_path_is_405_with_allow() {
    let app = spawn_app().await;
    let token = app.staff_token("organizer").await;
    for (method, path, allow) in [
        ("DELETE", "/api/v1/dialogues", "GET, POST"),
        ("PUT", "/api/v1/dialogues/not-a-uuid", "GET, PATCH"),
        ("TRACE", "/healthz", "GET"),
    ] {
        let reply = app
            .client
            .request(method.parse().unwrap(), app.url(path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status().as_u16(), 405, "{method} {path}");
        assert_eq!(reply.headers()["allow"], allow, "{method} {path}");
        let body: serde_json::Value = reply.json().await.unwrap();
        assert_eq!(body["error"]["code"], "method_not_allowed");
    }
    assert_eq!(app.get("/api/v1/no-such-thing", None).await.status, 404);
}

#[tokio::test]
async fn a_query_parameter_given_twice_is_refused() {
    let app = spawn_app().await;
    let token = app.staff_token("organizer").await;
    let reply = app
        .get(
            "/api/v1/dialogues?per_page=null&per_page=null",
            Some(&token),
        )
        .await;
    assert_eq!(reply.status, 422, "{}", reply.text);
    assert_eq!(
        reply.body["error"]["field_codes"]["per_page"],
        "repeated_parameter"
    );
    let id = app
        .create_dialogue(&token, &reference_dialogue())
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    for list in ["invitations", "registrations"] {
        let reply = app
            .get(
                &format!("/api/v1/dialogues/{id}/{list}?status=null&status=null"),
                Some(&token),
            )
            .await;
        assert_eq!(reply.status, 422, "{list}: {}", reply.text);
        assert_eq!(
            reply.body["error"]["field_codes"]["status"],
            "repeated_parameter"
        );
    }
}
