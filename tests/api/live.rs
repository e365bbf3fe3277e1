//! The live session: the projector's question, answers given aloud, commitments, and the
//! event stream (each kind, resuming with Last-Event-ID, the cap on clients).

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};
use crate::questions::{asked, dialogue_taking_questions, participants};

/// A dialogue under way with two approved questions (anonymous, named) and one submitted.
/// Returns (organizer token, dialogue id, participant code, [approved…], submitted).
pub(crate) async fn running_dialogue(
    app: &TestApp,
) -> (String, String, String, Vec<String>, String) {
    let (organizer, id) = dialogue_taking_questions(app, json!({})).await;
    let codes = participants(
        app,
        &organizer,
        &id,
        &[("Nguyễn Thị Hoa", Some("hoa@example.vn"))],
    )
    .await;
    let code = codes[0].clone();
    let first = asked(
        app,
        &id,
        Some(&code),
        "Xin hỏi thủ tục vay vốn Ngân hàng Chính sách xã hội để học nghề?",
        "loans_livelihood",
    )
    .await;
    let anonymous = app
        .ask(
            &id,
            Some(&code),
            &json!({"body": "Người đã chấp hành xong án có được cấp lại căn cước không?", "topic": "residence_documents"}),
        )
        .await;
    assert_eq!(anonymous.status, 201, "{}", anonymous.text);
    let second = anonymous.body["id"].as_str().unwrap().to_string();
    let waiting = asked(
        app,
        &id,
        Some(&code),
        "Xin hỏi có lớp học nghề sửa xe máy miễn phí cho người vừa ra trại không?",
        "vocational_training",
    )
    .await;
    for q in [&first, &second] {
        let r = app
            .moderate(&organizer, q, &json!({"action": "approve"}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let r = app.change_status(&organizer, &id, "in_progress").await;
    assert_eq!(r.status, 200, "{}", r.text);
    (organizer, id, code, vec![first, second], waiting)
}

async fn set_current(
    app: &TestApp,
    token: Option<&str>,
    id: &str,
    question: Value,
) -> crate::helpers::Reply {
    app.put_json(
        &format!("/api/v1/dialogues/{id}/live"),
        token,
        &json!({"current_question_id": question}),
    )
    .await
}

/// One event read from a stream: its id (if logged), kind and data.
#[derive(Debug)]
pub(crate) struct SseEvent {
    pub id: Option<i32>,
    pub kind: String,
    pub data: Value,
}

/// A stream client that reads events as they come.
pub(crate) struct Listener {
    response: reqwest::Response,
    buffer: String,
}

impl Listener {
    async fn open(app: &TestApp, id: &str, last_event_id: Option<i32>) -> Listener {
        let url = app.url(&format!("/api/v1/dialogues/{id}/live/events"));
        Listener::open_url(&app.client, &url, last_event_id).await
    }

    /// A stream at `url` (through a proxy, another instance).
    pub(crate) async fn open_url(
        client: &reqwest::Client,
        url: &str,
        last_event_id: Option<i32>,
    ) -> Listener {
        let mut request = client.get(url);
        if let Some(last) = last_event_id {
            request = request.header("Last-Event-ID", last.to_string());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        Listener {
            response,
            buffer: String::new(),
        }
    }

    /// The next event (comments and the `retry` field skipped), within five seconds.
    pub(crate) async fn next(&mut self) -> SseEvent {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = SseEvent {
                    id: None,
                    kind: String::new(),
                    data: Value::Null,
                };
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        event.id = Some(v.parse().unwrap());
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        event.kind = v.to_string();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        event.data = serde_json::from_str(v).unwrap();
                    }
                }
                if !event.kind.is_empty() {
                    return event;
                }
                continue;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(5), self.response.chunk())
                .await
                .expect("an event within five seconds")
                .unwrap()
                .expect("the stream stays open");
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// The next event of `kind`, skipping others.
    pub(crate) async fn next_of(&mut self, kind: &str) -> SseEvent {
        loop {
            let event = self.next().await;
            if event.kind == kind {
                return event;
            }
        }
    }
}

#[actix_web::test]
async fn a_client_that_names_its_questions_gets_every_change_of_their_counts_and_no_other() {
    let app = spawn_app().await;
    let (_organizer, id, code, approved, _waiting) = running_dialogue(&app).await;
    // The upper-case form of an id is the same question.
    let url = app.url(&format!(
        "/api/v1/dialogues/{id}/live/events?votes={}",
        approved[1].to_uppercase()
    ));
    let mut listener = Listener::open_url(&app.client, &url, None).await;
    listener.next_of("current_question").await;
    for question in [&approved[0], &approved[1]] {
        let r = app.vote(&code, question).await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    // The first question's vote may reach the stream alone, a tick earlier: this client
    // does not show that question and gets nothing of it.
    let event = listener.next_of("votes").await;
    assert_eq!(event.data, json!({ "votes": { approved[1].clone(): 1 } }));
}

#[actix_web::test]
async fn naming_questions_that_are_not_ids_or_too_many_is_refused() {
    let app = spawn_app().await;
    let (_organizer, id, _code, approved, _waiting) = running_dialogue(&app).await;
    let not_an_id = app
        .get(
            &format!(
                "/api/v1/dialogues/{id}/live/events?votes={},câu-hỏi",
                approved[0]
            ),
            None,
        )
        .await;
    assert_eq!(not_an_id.status, 422, "{}", not_an_id.text);
    assert_eq!(
        not_an_id.body["error"]["field_codes"]["votes"],
        "invalid_id"
    );
    let many: Vec<String> = (0..101).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let too_many = app
        .get(
            &format!(
                "/api/v1/dialogues/{id}/live/events?votes={}",
                many.join(",")
            ),
            None,
        )
        .await;
    assert_eq!(too_many.status, 422, "{}", too_many.text);
    assert_eq!(too_many.body["error"]["field_codes"]["votes"], "too_many");
    let repeated = app
        .get(
            &format!(
                "/api/v1/dialogues/{id}/live/events?votes={0}&votes={0}",
                approved[0]
            ),
            None,
        )
        .await;
    assert_eq!(
        repeated.body["error"]["field_codes"]["votes"],
        "repeated_parameter"
    );
}

#[actix_web::test]
async fn the_stream_carries_each_kind_of_event() {
    let app = spawn_app().await;
    let (organizer, id, code, approved, waiting) = running_dialogue(&app).await;
    let mut listener = Listener::open(&app, &id, None).await;
    let start = listener.next().await;
    assert_eq!(start.kind, "current_question");
    assert_eq!(start.data["question"], Value::Null);

    let reply = set_current(&app, Some(&organizer), &id, json!(approved[0])).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["current"]["id"], approved[0].as_str());
    let event = listener.next_of("current_question").await;
    assert_eq!(event.data["question"]["id"], approved[0].as_str());
    assert!(
        event.data["question"]["body"]
            .as_str()
            .unwrap()
            .contains("vay vốn Ngân hàng Chính sách xã hội")
    );
    assert!(event.id.unwrap() > start.id.unwrap_or(0));

    let r = app
        .moderate(&organizer, &waiting, &json!({"action": "approve"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let event = listener.next_of("question_approved").await;
    assert_eq!(event.data["question"]["id"], waiting.as_str());

    let r = app.vote(&code, &approved[1]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // A votes event may first report the newly approved question's count (0).
    let event = loop {
        let event = listener.next_of("votes").await;
        if event.data["votes"].get(&approved[1]).is_some() {
            break event;
        }
    };
    assert_eq!(event.data["votes"][&approved[1]], 1);
    assert!(event.id.is_none(), "vote updates are not logged");

    let agency = app.create_agency_directly("Công an huyện Bến Lức").await;
    let r = app
        .post(
            &format!("/api/v1/questions/{}/live-answer", approved[0]),
            Some(&organizer),
            &json!({"speaker": "Ông Lê Văn Tám, Phó Trưởng Công an huyện", "agency_id": agency,
                    "summary": "Công an huyện sẽ hướng dẫn thủ tục tại bộ phận một cửa trong tuần tới."}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let agency_name = r.body["agency"].as_str().unwrap().to_string();
    assert!(
        agency_name.starts_with("Công an huyện Bến Lức"),
        "{agency_name}"
    );
    let event = listener.next_of("answer").await;
    assert_eq!(event.data["question_id"], approved[0].as_str());
    assert_eq!(event.data["given"], "aloud");
    assert_eq!(event.data["agency"], agency_name.as_str());

    let question = app
        .get(
            &format!("/api/v1/questions/{}", approved[0]),
            Some(&organizer),
        )
        .await;
    assert_eq!(question.body["status"], "answered_live");
}

#[actix_web::test]
async fn a_client_that_comes_back_gets_what_it_missed_in_order() {
    let app = spawn_app().await;
    let (organizer, id, _code, approved, waiting) = running_dialogue(&app).await;
    let mut listener = Listener::open(&app, &id, None).await;
    let start = listener.next().await;
    let seen = start.id.unwrap();
    drop(listener);

    assert_eq!(
        set_current(&app, Some(&organizer), &id, json!(approved[1]))
            .await
            .status,
        200
    );
    let r = app
        .moderate(&organizer, &waiting, &json!({"action": "approve"}))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        set_current(&app, Some(&organizer), &id, json!(null))
            .await
            .status,
        200
    );

    let mut again = Listener::open(&app, &id, Some(seen)).await;
    let first = again.next().await;
    let second = again.next().await;
    let third = again.next().await;
    assert_eq!(first.kind, "current_question");
    assert_eq!(first.data["question"]["id"], approved[1].as_str());
    // The anonymous asker stays unnamed in the stream too.
    assert!(
        first.data["question"].get("asker").is_none(),
        "{:?}",
        first.data
    );
    assert_eq!(second.kind, "question_approved");
    assert_eq!(third.kind, "current_question");
    assert_eq!(third.data["question"], Value::Null);
    assert_eq!(
        (first.id.unwrap(), second.id.unwrap(), third.id.unwrap()),
        (seen + 1, seen + 2, seen + 3)
    );
}

#[actix_web::test]
async fn only_organizers_change_what_the_projector_shows() {
    let app = spawn_app().await;
    let (organizer, id, code, approved, waiting) = running_dialogue(&app).await;
    let agency_staff = app.staff_token("agency").await;
    assert_eq!(
        set_current(&app, None, &id, json!(approved[0]))
            .await
            .status,
        401
    );
    assert_eq!(
        set_current(&app, Some(&code), &id, json!(approved[0]))
            .await
            .status,
        401
    );
    assert_eq!(
        set_current(&app, Some(&agency_staff), &id, json!(approved[0]))
            .await
            .status,
        403
    );
    // A question not in the public queue is refused, and nothing changes.
    let r = set_current(&app, Some(&organizer), &id, json!(waiting)).await;
    assert_eq!((r.status, r.code()), (409, "not_in_queue"), "{}", r.text);
    let live = app.get(&format!("/api/v1/dialogues/{id}/live"), None).await;
    assert_eq!(live.status, 200);
    assert_eq!(live.body["current"], Value::Null);
    assert_eq!(live.body["next"].as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn live_answers_and_commitments_are_validated_and_kept_for_the_minutes() {
    let app = spawn_app().await;
    let (organizer, id, code, approved, _waiting) = running_dialogue(&app).await;
    let path = format!("/api/v1/questions/{}/live-answer", approved[1]);
    let r = app
        .post(
            &path,
            Some(&organizer),
            &json!({"speaker": " ", "summary": ""}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.body["error"]["field_codes"]["speaker"], "required");
    assert_eq!(r.body["error"]["field_codes"]["summary"], "required");
    let r = app
        .post(
            &path,
            Some(&code),
            &json!({"speaker": "Ai đó", "summary": "Nội dung"}),
        )
        .await;
    assert_eq!(r.status, 401);
    let r = app
        .post(
            &path,
            Some(&organizer),
            &json!({"speaker": "Bà Phạm Thị Lan, Trưởng phòng Lao động", "summary": "Căn cước được cấp lại bình thường,\nkhông phân biệt."}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);

    let commitments = format!("/api/v1/dialogues/{id}/commitments");
    let r = app
        .post(
            &commitments,
            Some(&organizer),
            &json!({"party": "Công ty TNHH May mặc Bến Lức", "kind": "employment_mou", "description": "Tuyển 30 lao động, ưu tiên người đã chấp hành xong án.", "jobs_offered": -1}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(
        r.body["error"]["field_codes"]["jobs_offered"],
        "jobs_out_of_range"
    );
    let r = app
        .post(
            &commitments,
            Some(&organizer),
            &json!({"party": "Công ty TNHH May mặc Bến Lức", "kind": "employment_mou", "description": "Tuyển 30 lao động, ưu tiên người đã chấp hành xong án.", "jobs_offered": 30}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);

    // What the minutes are built from.
    let dialogue_id = id.clone();
    let db = app.state.db.clone();
    let record = tokio::task::spawn_blocking(move || {
        db.read_now(|conn| {
            let dialogue = doithoai::dialogues::store::find(conn, &dialogue_id)?.unwrap();
            doithoai::live::ops::record(conn, &dialogue)
        })
    })
    .await
    .unwrap()
    .unwrap();
    let answers = &record.answers[&approved[1]];
    assert_eq!(answers[0].speaker, "Bà Phạm Thị Lan, Trưởng phòng Lao động");
    assert_eq!(
        answers[0].summary,
        "Căn cước được cấp lại bình thường,\nkhông phân biệt."
    );
    assert_eq!(record.commitments.len(), 1);
    assert_eq!(record.commitments[0].jobs_offered, Some(30));

    // And the asker sees the answer given aloud on their own page.
    let page = app.get(&format!("/p/{code}"), None).await;
    assert!(
        page.text.contains("Căn cước được cấp lại bình thường"),
        "the personal page shows the answer given aloud"
    );
}

#[actix_web::test]
async fn past_the_cap_a_new_listener_is_told_to_come_back_later() {
    let app = spawn_app_with(|s| s.live_max_clients = 1).await;
    let (_organizer, id, _code, _approved, _waiting) = running_dialogue(&app).await;
    let _first = Listener::open(&app, &id, None).await;
    let second = app
        .client
        .get(app.url(&format!("/api/v1/dialogues/{id}/live/events")))
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 503);
    assert_eq!(second.headers()["retry-after"], "10");
    let body: Value = second.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_listeners");
}

#[actix_web::test]
async fn a_draft_dialogue_has_no_public_stream() {
    let app = spawn_app().await;
    let token = app.staff_token("organizer").await;
    let created = app
        .create_dialogue(&token, &crate::helpers::reference_dialogue())
        .await;
    let id = created.body["id"].as_str().unwrap();
    let r = app
        .client
        .get(app.url(&format!("/api/v1/dialogues/{id}/live/events")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}
