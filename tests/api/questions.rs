//! The question queue: submission (participant, anonymous, staff), the deadline, limits,
//! moderation, votes, withdrawal, and what each reader sees.

use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, invitations, open_dialogue, queued_emails, spawn_app, spawn_app_with,
};

/// RFC 3339 for a time `hours` from now.
pub fn in_hours(hours: i64) -> String {
    (Utc::now() + Duration::hours(hours)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// An open dialogue whose question deadline is tomorrow; returns (organizer token, id).
pub async fn dialogue_taking_questions(app: &TestApp, change: Value) -> (String, String) {
    let mut body = json!({
        "starts_at": in_hours(48),
        "ends_at": in_hours(51),
        "question_deadline": in_hours(24),
    });
    for (k, v) in change.as_object().unwrap() {
        body[k] = v.clone();
    }
    open_dialogue(app, body).await
}

/// Invites people (name, email) and returns each one's short code, which works as their
/// bearer credential.
pub async fn participants(
    app: &TestApp,
    token: &str,
    id: &str,
    people: &[(&str, Option<&str>)],
) -> Vec<String> {
    let invitees: Vec<Value> = people
        .iter()
        .enumerate()
        .map(|(i, (name, email))| {
            json!({"full_name": name, "email": email, "phone": format!("09012345{i:02}"), "category": "completed_sentence"})
        })
        .collect();
    let added = app.add_invitees(token, id, &json!(invitees)).await;
    assert_eq!(added.status, 201, "{}", added.text);
    let list = invitations(app, token, id).await;
    people
        .iter()
        .map(|(name, _)| {
            crate::helpers::by_name(&list, name)["code"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// Sends the dialogue's invitations and returns the personal link in the one sent (the
/// dialogue's only invitee with an email).
async fn invitation_link(app: &TestApp, organizer: &str, id: &str) -> String {
    app.send_invitations(organizer, id).await;
    app.drain_jobs().await;
    app.mail_texts()
        .iter()
        .filter(|t| t.contains("/p/"))
        .map(|t| crate::helpers::link_in(t))
        .find(|l| l.len() > 16)
        .expect("the invitation's personal link")
}

pub fn question(body: &str, topic: &str) -> Value {
    json!({"body": body, "topic": topic})
}

const ASKED: &str =
    "Tôi đã chấp hành xong án phạt tù 3 năm, xin hỏi thủ tục xóa án tích như thế nào?";

#[actix_web::test]
async fn a_participant_asks_gets_a_receipt_and_sees_the_question_as_their_own() {
    let app = spawn_app().await;
    let (organizer, id) = dialogue_taking_questions(&app, json!({})).await;
    let codes = participants(
        &app,
        &organizer,
        &id,
        &[("Trần Văn Bảy", Some("bay@example.vn"))],
    )
    .await;
    // Decomposed input is stored composed; surrounding blanks go.
    let decomposed =
        "  Xin hỏi ve\u{0302}\u{0300} vay vốn Ngân hàng Chính sách xã hội để chăn nuôi?  ";
    let reply = app
        .ask(
            &id,
            Some(&codes[0]),
            &question(decomposed, "loans_livelihood"),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.body["status"], "submitted");
    assert_eq!(reply.body["anonymous"], true, "anonymous by default");
    assert_eq!(reply.body["share_identity_with_agency"], false);
    assert_eq!(reply.body["channel"], "web");
    assert_eq!(
        reply.body["body"],
        "Xin hỏi về vay vốn Ngân hàng Chính sách xã hội để chăn nuôi?"
    );
    let receipts = queued_emails(&app, "question").await;
    assert_eq!(receipts.len(), 1, "exactly one receipt");
    assert!(receipts[0].recipient.contains("bay@example.vn"));
    assert!(receipts[0].body_text.contains("Đã nhận") || receipts[0].subject.contains("Đã nhận"));
    let me = app.me(&codes[0]).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["questions"][0]["id"], reply.body["id"]);
    assert_eq!(me.body["questions"][0]["status"], "submitted");
    // The answer is built from the row written, not read back: it must be what is stored,
    // to the microsecond.
    for (field, answered) in reply.body.as_object().unwrap() {
        assert_eq!(&me.body["questions"][0][field], answered, "{field}");
    }
}

/// A participant's personal link works as their code does: the question asked with it is
/// theirs with one receipt, and a vote with it (the link looked up by its token's hash
/// inside the write) counts them, so their code then finds the vote already there.
#[actix_web::test]
async fn a_personal_link_asks_and_votes_as_the_same_person_as_the_code() {
    let app = spawn_app().await;
    let (organizer, id) = dialogue_taking_questions(&app, json!({})).await;
    let codes = participants(
        &app,
        &organizer,
        &id,
        &[("Phạm Thị Năm", Some("nam@example.vn"))],
    )
    .await;
    let link = invitation_link(&app, &organizer, &id).await;

    let asked = app
        .ask(&id, Some(&link), &question(ASKED, "record_expungement"))
        .await;
    assert_eq!(asked.status, 201, "{}", asked.text);
    let q = asked.body["id"].as_str().unwrap().to_string();
    let receipts = queued_emails(&app, "question").await;
    assert_eq!(receipts.len(), 1, "exactly one receipt");
    assert!(receipts[0].recipient.contains("nam@example.vn"));
    let me = app.me(&codes[0]).await;
    assert_eq!(
        me.body["questions"][0]["id"],
        q.as_str(),
        "hers, by her code"
    );

    let approved = app
        .moderate(&organizer, &q, &json!({"action": "approve"}))
        .await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    let by_link = app.vote(&link, &q).await;
    assert_eq!(by_link.body, json!({"votes": 1, "voted": true}));
    let by_code = app.vote(&codes[0], &q).await;
    assert_eq!(
        by_code.body,
        json!({"votes": 1, "voted": true}),
        "the same person"
    );
    let wrong_link = app.vote(&format!("{link}x"), &q).await;
    assert_eq!(wrong_link.status, 401);
}

#[actix_web::test]
async fn bad_questions_get_field_errors_and_store_nothing() {
    let app = spawn_app().await;
    let (organizer, id) = dialogue_taking_questions(&app, json!({})).await;
    let codes = participants(&app, &organizer, &id, &[("Lê Thị Mai", None)]).await;
    let cases = [
        (question("ngắn quá", "employment"), "body", "too_short"),
        (
            question(&"dài ".repeat(600), "employment"),
            "body",
            "too_long",
        ),
        (question("   ", "employment"), "body", "required"),
        (
            json!({"body": ASKED, "topic": "weather"}),
            "topic",
            "invalid_type",
        ),
        (
            json!({"body": ASKED, "topic": "employment", "channel": "paper"}),
            "channel",
            "only_for_staff",
        ),
        (
            json!({"body": ASKED, "topic": "employment", "website": "http://spam"}),
            "website",
            "must_be_empty",
        ),
    ];
    for (body, field, code) in cases {
        let reply = app.ask(&id, Some(&codes[0]), &body).await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.text);
        assert_eq!(
            reply.body["error"]["field_codes"][field], code,
            "{}",
            reply.text
        );
    }
    let all = app
        .get(
            &format!("/api/v1/dialogues/{id}/questions"),
            Some(&organizer),
        )
        .await;
    assert_eq!(all.body["total"], 0, "nothing stored");
}

/// A short code is looked up with the question's write (on SQLite, inside it); what the
/// asker gets back is the same as when the asker is looked up first.
#[actix_web::test]
async fn a_short_code_is_refused_checked_and_answered_as_when_looked_up_first() {
    let app = spawn_app().await;
    let (organizer, id) = dialogue_taking_questions(&app, json!({})).await;
    let codes = participants(&app, &organizer, &id, &[("Lò Văn Sáu", None)]).await;
    let (other_organizer, other_id) = dialogue_taking_questions(&app, json!({})).await;
    let others = participants(&app, &other_organizer, &other_id, &[("Cà Thị Bảy", None)]).await;
    let unknown: String = codes[0].chars().rev().collect();
    assert_ne!(unknown, codes[0]);
    let path = format!("/api/v1/dialogues/{id}/questions");

    let refused = app
        .ask(&id, Some(&unknown), &question(ASKED, "other"))
        .await;
    assert_eq!(refused.status, 401, "{}", refused.text);
    assert_eq!(refused.code(), "unauthorized");
    // Who asks comes before what is asked: a bad body with a bad code is still 401 …
    let short = app
        .ask(&id, Some(&unknown), &question("Ngắn", "other"))
        .await;
    assert_eq!(short.status, 401, "{}", short.text);
    // … and with a good code it is 422.
    let invalid = app
        .ask(&id, Some(&codes[0]), &question("Ngắn", "other"))
        .await;
    assert_eq!(invalid.status, 422, "{}", invalid.text);
    // Another dialogue's participant finds no such dialogue to ask in.
    let elsewhere = app
        .ask(&id, Some(&others[0]), &question(ASKED, "other"))
        .await;
    assert_eq!(elsewhere.status, 404, "{}", elsewhere.text);
    let stored = app.get(&path, Some(&organizer)).await;
    assert_eq!(stored.body["total"], 0, "nothing stored: {}", stored.text);

    // Without an email: stored, answered from the stored row, and no receipt queued.
    let asked = app
        .ask(
            &id,
            Some(&codes[0].to_lowercase()),
            &question(ASKED, "record_expungement"),
        )
        .await;
    assert_eq!(asked.status, 201, "{}", asked.text);
    assert_eq!(asked.body["body"], ASKED);
    assert_eq!(asked.body["status"], "submitted");
    let listed = app.get(&path, Some(&organizer)).await;
    assert_eq!(listed.body["total"], 1);
    assert_eq!(listed.body["items"][0]["id"], asked.body["id"]);
    assert_eq!(listed.body["items"][0]["asker_name"], "Lò Văn Sáu");
    assert!(
        queued_emails(&app, "question").await.is_empty(),
        "no email, no receipt"
    );
}

#[actix_web::test]
async fn guessing_codes_to_ask_or_to_vote_is_slowed_down_as_anywhere_else() {
    // Asking and voting look the code up in their own write; a code that matches nobody
    // still counts towards the guessing limit, each path on its own.
    for path in ["ask", "vote"] {
        let app = spawn_app().await;
        let (organizer, id) = dialogue_taking_questions(&app, json!({})).await;
        let codes = participants(&app, &organizer, &id, &[("Mùa A Páo", None)]).await;
        let question_id = asked(
            &app,
            &id,
            Some(&codes[0]),
            "Tôi muốn học nghề sửa xe máy thì đăng ký ở đâu?",
            "vocational_training",
        )
        .await;
        let attempt = |code: String| {
            let (app, id, question_id) = (&app, &id, &question_id);
            async move {
                match path {
                    "ask" => app.ask(id, Some(&code), &question(ASKED, "other")).await,
                    _ => app.vote(&code, question_id).await,
                }
            }
        };
        let mut statuses = Vec::new();
        for i in 0..15 {
            let guess = format!("AAA-BBB-C{}", (b'2' + (i % 8) as u8) as char);
            statuses.push(attempt(guess).await.status);
        }
        assert!(
            statuses.starts_with(&[401, 401, 401]),
            "{path}: {statuses:?}"
        );
        assert_eq!(statuses.last(), Some(&429), "{path}: {statuses:?}");
        let blocked = attempt(codes[0].clone()).await;
        assert_eq!(
            blocked.status, 429,
            "{path}: a blocked client tests no code"
        );
        assert!(blocked.headers.contains_key("retry-after"));
    }
}

#[actix_web::test]
async fn anonymous_questions_follow_the_dialogue_setting_the_honeypot_and_the_repeat_rule() {
    let app = spawn_app().await;
    let (_, open_id) = dialogue_taking_questions(&app, json!({})).await;
    let first = app
        .ask(&open_id, None, &question(ASKED, "record_expungement"))
        .await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(first.body["anonymous"], true);
    // The same text again within ten minutes, with other spacing and case: refused.
    let again = app
        .ask(
            &open_id,
            None,
            &question(&format!("  {}", ASKED.to_uppercase()), "record_expungement"),
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.text);
    assert_eq!(again.code(), "duplicate_question");
    let bot = app
        .ask(&open_id, None, &json!({"body": "Mua thuốc giá rẻ tại đây nhé các bạn", "topic": "other", "website": "x"}))
        .await;
    assert_eq!(bot.status, 422);

    let (_, closed_id) =
        dialogue_taking_questions(&app, json!({"anonymous_questions": false})).await;
    let refused = app
        .ask(&closed_id, None, &question(ASKED, "record_expungement"))
        .await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    assert_eq!(refused.code(), "anonymous_questions_closed");
    // A credential that matches no one is not taken as anonymous.
    let wrong = app
        .ask(
            &open_id,
            Some("not-a-real-token-at-all"),
            &question(ASKED, "other"),
        )
        .await;
    assert_eq!(wrong.status, 401);
}

#[actix_web::test]
async fn anonymous_questions_from_one_address_are_rate_limited_with_retry_after() {
    let app = spawn_app_with(|s| s.questions_per_address_per_minute = 3).await;
    let (_, id) = dialogue_taking_questions(&app, json!({})).await;
    for i in 0..3 {
        let reply = app
            .ask(
                &id,
                None,
                &question(
                    &format!("Câu hỏi số {i} về việc làm sau khi ra tù"),
                    "employment",
                ),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
    }
    let limited = app
        .ask(
            &id,
            None,
            &question("Câu hỏi thứ tư về việc làm sau khi ra tù", "employment"),
        )
        .await;
    assert_eq!(limited.status, 429);
    assert!(limited.headers.get("retry-after").is_some());
}

#[actix_web::test]
async fn the_deadline_stops_questions_except_staff_floor_questions_during_the_session() {
    let app = spawn_app().await;
    let (organizer, id) = dialogue_taking_questions(
        &app,
        json!({"question_deadline": in_hours(-1), "starts_at": in_hours(1), "ends_at": in_hours(4)}),
    )
    .await;
    let codes = participants(&app, &organizer, &id, &[("Nguyễn Văn Tám", None)]).await;
    let late = app
        .ask(&id, Some(&codes[0]), &question(ASKED, "record_expungement"))
        .await;
    assert_eq!(late.status, 409, "{}", late.text);
    assert_eq!(late.code(), "question_deadline_passed");
    let floor = json!({"body": "Xin cho biết điều kiện vay vốn khi vừa ra trại?", "topic": "loans_livelihood",
        "channel": "floor", "asker_name": "Phạm Văn Chín", "asker_agreed": true, "anonymous": false});
    let before_session = app.ask(&id, Some(&organizer), &floor).await;
    assert_eq!(
        before_session.code(),
        "question_deadline_passed",
        "{}",
        before_session.text
    );
    assert_eq!(
        app.change_status(&organizer, &id, "in_progress")
            .await
            .status,
        200
    );
    let during = app.ask(&id, Some(&organizer), &floor).await;
    assert_eq!(during.status, 201, "{}", during.text);
    assert_eq!(during.body["channel"], "floor");
    let paper = json!({"body": "Câu hỏi trên phiếu giấy nộp muộn về học nghề", "topic": "vocational_training",
        "channel": "paper", "asker_agreed": true});
    assert_eq!(
        app.ask(&id, Some(&organizer), &paper).await.code(),
        "question_deadline_passed"
    );
    // The organizer sees who asked and the recorded agreement; the public sees no name
    // until the question is approved, and then the name the asker agreed to show.
    let qid = during.body["id"].as_str().unwrap();
    let detail = app
        .get(&format!("/api/v1/questions/{qid}"), Some(&organizer))
        .await;
    assert_eq!(detail.body["asker_name"], "Phạm Văn Chín");
    assert!(
        detail.body["consent_statement"]
            .as_str()
            .unwrap()
            .contains("đồng ý")
    );
}

#[actix_web::test]
async fn staff_entries_need_a_channel_and_the_persons_agreement_and_agencies_cannot_enter() {
    let app = spawn_app().await;
    let (organizer, id) = dialogue_taking_questions(&app, json!({})).await;
    let no_channel = app
        .ask(&id, Some(&organizer), &question(ASKED, "other"))
        .await;
    assert_eq!(
        no_channel.body["error"]["field_codes"]["channel"],
        "required_for_staff"
    );
    let no_consent = app
        .ask(
            &id,
            Some(&organizer),
            &json!({"body": ASKED, "topic": "other", "channel": "paper"}),
        )
        .await;
    assert_eq!(
        no_consent.body["error"]["field_codes"]["asker_agreed"],
        "consent_required"
    );
    let agency = app.staff_token("agency").await;
    let by_agency = app
        .ask(
            &id,
            Some(&agency),
            &json!({"body": ASKED, "topic": "other", "channel": "paper", "asker_agreed": true}),
        )
        .await;
    assert_eq!(by_agency.status, 403);
    let paper = app
        .ask(&id, Some(&organizer), &json!({"body": ASKED, "topic": "record_expungement", "channel": "paper", "asker_agreed": true}))
        .await;
    assert_eq!(paper.status, 201, "{}", paper.text);
    assert_eq!(
        paper.body["anonymous"], true,
        "no name given: nobody to show"
    );
}

/// Submits and returns the question's id.
pub async fn asked(
    app: &TestApp,
    id: &str,
    token: Option<&str>,
    body: &str,
    topic: &str,
) -> String {
    let reply = app
        .ask(
            id,
            token,
            &json!({"body": body, "topic": topic, "anonymous": false}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    reply.body["id"].as_str().unwrap().to_string()
}

#[actix_web::test]
async fn moderation_moves_through_every_status_and_refuses_the_rest() {
    let app = spawn_app().await;
    let (organizer, id) = dialogue_taking_questions(&app, json!({})).await;
    let codes = participants(
        &app,
        &organizer,
        &id,
        &[("Võ Thị Lan", Some("lan@example.vn"))],
    )
    .await;
    let q = asked(&app, &id, Some(&codes[0]), ASKED, "record_expungement").await;
    let moderate = |body: Value| {
        let app = &app;
        let organizer = organizer.clone();
        let q = q.clone();
        async move { app.moderate(&organizer, &q, &body).await }
    };
    let no_reason = moderate(json!({"action": "reject"})).await;
    assert_eq!(no_reason.body["error"]["field_codes"]["reason"], "required");
    let rejected =
        moderate(json!({"action": "reject", "reason": "Nội dung là tranh chấp dân sự cá nhân."}))
            .await;
    assert_eq!(rejected.status, 200, "{}", rejected.text);
    assert_eq!(rejected.body["status"], "rejected");
    assert_eq!(
        rejected.body["rejection_reason"],
        "Nội dung là tranh chấp dân sự cá nhân."
    );
    let told = queued_emails(&app, "question").await;
    assert!(
        told.iter()
            .any(|e| e.body_text.contains("tranh chấp dân sự cá nhân")),
        "the asker is told the reason"
    );
    // Undo: a rejected question can still be approved.
    let approved = moderate(json!({"action": "approve"})).await;
    assert_eq!(approved.body["status"], "approved");
    assert_eq!(
        moderate(json!({"action": "approve"})).await.code(),
        "invalid_transition"
    );
    // Rewording keeps the first text.
    let edited = app
        .patch(&format!("/api/v1/questions/{q}"), Some(&organizer),
            &json!({"body": "Thủ tục xóa án tích sau khi chấp hành xong án phạt tù?", "topic": "legal_procedures"}))
        .await;
    assert_eq!(edited.status, 200, "{}", edited.text);
    assert_eq!(edited.body["original_body"], ASKED);
    assert_eq!(edited.body["topic"], "legal_procedures");
    // The participant cannot moderate, nor withdraw an approved question.
    assert_eq!(
        app.moderate(&codes[0], &q, &json!({"action": "approve"}))
            .await
            .status,
        401
    );
    let late_withdraw = app
        .post(
            &format!("/api/v1/me/questions/{q}/withdraw"),
            Some(&codes[0]),
            &json!({}),
        )
        .await;
    assert_eq!(late_withdraw.code(), "invalid_transition");
    // The history names who did what.
    let detail = app
        .get(&format!("/api/v1/questions/{q}"), Some(&organizer))
        .await;
    let actions: Vec<&str> = detail.body["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "question.submit",
            "question.reject",
            "question.approve",
            "question.edit",
            "question.topic"
        ]
    );
    assert_eq!(detail.body["history"][1]["by"], "Nguyễn Thị Hồng Nhung");
}

#[actix_web::test]
async fn a_participant_withdraws_only_their_own_pending_question() {
    let app = spawn_app().await;
    let (organizer, id) = dialogue_taking_questions(&app, json!({})).await;
    let codes = participants(
        &app,
        &organizer,
        &id,
        &[("Đỗ Văn Hùng", None), ("Mai Thị Thu", None)],
    )
    .await;
    let q = asked(&app, &id, Some(&codes[0]), ASKED, "record_expungement").await;
    let path = format!("/api/v1/me/questions/{q}/withdraw");
    assert_eq!(
        app.post(&path, Some(&codes[1]), &json!({})).await.status,
        404,
        "not theirs"
    );
    let done = app.post(&path, Some(&codes[0]), &json!({})).await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(done.body["status"], "withdrawn");
    assert_eq!(
        app.post(&path, Some(&codes[0]), &json!({})).await.code(),
        "invalid_transition"
    );
}

/// The stored count follows the votes even when they go by a cascade (the count is kept by
/// a trigger on the votes): a participant's row deleted from the database takes their vote
/// off the question's count. No page removes a voter; the database keeps the rule anyway.
#[actix_web::test]
async fn a_vote_taken_away_by_a_cascade_leaves_the_count() {
    use diesel::prelude::*;
    use doithoai::db::schema::participants;
    let app = spawn_app().await;
    let (organizer, id) = dialogue_taking_questions(&app, json!({})).await;
    let codes = participants(
        &app,
        &organizer,
        &id,
        &[("Nguyễn Văn Một", None), ("Trần Thị Hai", None)],
    )
    .await;
    let q = asked(
        &app,
        &id,
        None,
        "Xin hỏi về hỗ trợ vay vốn học nghề",
        "employment",
    )
    .await;
    let approved = app
        .moderate(&organizer, &q, &json!({"action": "approve"}))
        .await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    for code in &codes {
        assert_eq!(app.vote(code, &q).await.status, 200);
    }
    let db = app.state.db.clone();
    let (first, question) = (codes[0].clone(), q.clone());
    let (stored, counted) = tokio::task::spawn_blocking(move || {
        db.write_now(|conn| {
            let voter = doithoai::participants::store::find_by_code(conn, &first)?
                .expect("the first voter");
            diesel::delete(participants::table.find(&voter.id)).execute(conn)?;
            Ok(doithoai::questions::store::vote_totals(conn, &question)?)
        })
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!((i64::from(stored), counted), (1, 1));
    let queue = app
        .get(&format!("/api/v1/dialogues/{id}/questions"), None)
        .await;
    assert_eq!(queue.body["items"][0]["votes"], 1, "{}", queue.text);
}

#[actix_web::test]
async fn votes_are_idempotent_public_only_and_follow_a_merge() {
    let app = spawn_app().await;
    let (organizer, id) = dialogue_taking_questions(&app, json!({})).await;
    let codes = participants(
        &app,
        &organizer,
        &id,
        &[
            ("Trần Văn Một", Some("mot@example.vn")),
            ("Trần Văn Hai", None),
            ("Trần Văn Ba", None),
        ],
    )
    .await;
    let original = asked(
        &app,
        &id,
        Some(&codes[1]),
        "Làm sao để được vay vốn làm ăn sau khi ra tù?",
        "loans_livelihood",
    )
    .await;
    let duplicate = asked(
        &app,
        &id,
        Some(&codes[0]),
        "Người mới ra tù có được vay vốn làm ăn không?",
        "loans_livelihood",
    )
    .await;
    assert_eq!(
        app.vote(&codes[2], &original).await.code(),
        "not_open_for_votes",
        "not approved yet"
    );
    for q in [&original, &duplicate] {
        assert_eq!(
            app.moderate(&organizer, q, &json!({"action": "approve"}))
                .await
                .status,
            200
        );
    }
    let first = app.vote(&codes[2], &original).await;
    assert_eq!(first.body, json!({"votes": 1, "voted": true}));
    assert_eq!(
        app.vote(&codes[2], &original).await.body["votes"],
        1,
        "twice counts once"
    );
    assert_eq!(app.vote(&codes[2], &duplicate).await.body["votes"], 1);
    assert_eq!(app.vote(&codes[1], &duplicate).await.body["votes"], 2);
    let unvoted = app
        .delete(
            &format!("/api/v1/questions/{original}/vote"),
            Some(&codes[2]),
        )
        .await;
    assert_eq!(unvoted.body, json!({"votes": 0, "voted": false}));
    let again = app
        .delete(
            &format!("/api/v1/questions/{original}/vote"),
            Some(&codes[2]),
        )
        .await;
    assert_eq!(again.body["votes"], 0);
    assert_eq!(app.vote(&codes[2], &original).await.body["votes"], 1);
    // Merge the duplicate: its two votes join, the voter of both counts once.
    let into_self = app
        .moderate(
            &organizer,
            &duplicate,
            &json!({"action": "merge", "into": duplicate}),
        )
        .await;
    assert_eq!(
        into_self.body["error"]["field_codes"]["into"],
        "same_question"
    );
    let merged = app
        .moderate(
            &organizer,
            &duplicate,
            &json!({"action": "merge", "into": original}),
        )
        .await;
    assert_eq!(merged.status, 200, "{}", merged.text);
    assert_eq!(merged.body["status"], "merged");
    assert_eq!(merged.body["votes"], 0);
    let queue = app
        .get(&format!("/api/v1/dialogues/{id}/questions"), None)
        .await;
    assert_eq!(
        queue.body["total"], 1,
        "the merged one leaves the public queue"
    );
    assert_eq!(queue.body["items"][0]["votes"], 2);
    let told = queued_emails(&app, "question").await;
    assert!(
        told.iter()
            .any(|e| e.recipient.contains("mot@example.vn") && e.subject.contains("gộp")),
        "the asker is told"
    );
    // The merged question's asker sees where it went.
    let me = app.me(&codes[0]).await;
    assert_eq!(me.body["questions"][0]["merged_into"], original.as_str());
    assert_eq!(
        app.moderate(&organizer, &duplicate, &json!({"action": "approve"}))
            .await
            .code(),
        "invalid_transition"
    );
    assert_eq!(
        app.vote(&codes[0], &duplicate).await.code(),
        "not_open_for_votes"
    );
    // Another dialogue's participant cannot vote here.
    let (other_org, other_id) = dialogue_taking_questions(&app, json!({})).await;
    let outsider = participants(&app, &other_org, &other_id, &[("Người Ngoài", None)]).await;
    assert_eq!(app.vote(&outsider[0], &original).await.status, 404);
    // A code nobody has is refused before anything is written, on each database's path
    // (looked up inside the write on SQLite, before it on PostgreSQL).
    let before = stored_vote_count(&app, &original);
    let unknown = app.vote("ZZZZ-ZZZZ", &original).await;
    assert_eq!(unknown.status, 401, "{:?}", unknown.body);
    assert_eq!(stored_vote_count(&app, &original), before);
}

fn stored_vote_count(app: &crate::helpers::TestApp, question: &str) -> i64 {
    use diesel::prelude::*;
    use doithoai::db::schema::votes;
    let mut conn = doithoai::db::connect(&app.db.url).unwrap();
    votes::table
        .filter(votes::question_id.eq(question))
        .count()
        .get_result(&mut conn)
        .unwrap()
}

#[actix_web::test]
async fn the_public_queue_never_shows_an_anonymous_asker_a_group_or_contact_details() {
    let app = spawn_app().await;
    let (organizer, id) = dialogue_taking_questions(&app, json!({})).await;
    let codes = participants(
        &app,
        &organizer,
        &id,
        &[
            ("Huỳnh Văn Ẩn Danh", Some("an.danh@example.vn")),
            ("Lý Thị Công Khai", Some("cong.khai@example.vn")),
        ],
    )
    .await;
    let hidden = app
        .ask(&id, Some(&codes[0]), &json!({"body": "Tôi đang cai nghiện tại cộng đồng, có được học nghề miễn phí không?", "topic": "drug_rehabilitation"}))
        .await;
    let named = app
        .ask(&id, Some(&codes[1]), &json!({"body": "Xin hỏi thủ tục đăng ký thường trú lại sau khi ra trại?", "topic": "residence_documents", "anonymous": false}))
        .await;
    let pending = app
        .ask(
            &id,
            None,
            &json!({"body": "Câu hỏi chưa duyệt không được hiện ra ngoài", "topic": "other"}),
        )
        .await;
    for q in [&hidden, &named] {
        let qid = q.body["id"].as_str().unwrap();
        assert_eq!(
            app.moderate(&organizer, qid, &json!({"action": "approve"}))
                .await
                .status,
            200
        );
    }
    let public = app
        .get(
            &format!("/api/v1/dialogues/{id}/questions?sort=recent"),
            None,
        )
        .await;
    assert_eq!(public.status, 200);
    assert_eq!(public.body["total"], 2);
    for leak in [
        "Huỳnh Văn Ẩn Danh",
        "an.danh@example.vn",
        "cong.khai@example.vn",
        "0901234",
        "completed_sentence",
        "Câu hỏi chưa duyệt",
    ] {
        assert!(
            !public.text.contains(leak),
            "public queue leaks {leak}: {}",
            public.text
        );
    }
    assert!(
        public.text.contains("Lý Thị Công Khai"),
        "the named asker is shown"
    );
    // A participant reads the same public view.
    let as_participant = app
        .get(
            &format!("/api/v1/dialogues/{id}/questions?sort=recent"),
            Some(&codes[1]),
        )
        .await;
    assert_eq!(as_participant.status, 200, "{}", as_participant.text);
    assert_eq!(
        without_voted(&as_participant.body),
        public.body,
        "the public view, with only the participant's own votes added"
    );
    // Asking for a non-public status lists nothing rather than leaking.
    let submitted = app
        .get(
            &format!("/api/v1/dialogues/{id}/questions?status=submitted"),
            None,
        )
        .await;
    assert_eq!(submitted.body["total"], 0);
    // The organizer sees everything, and who asked.
    let all = app
        .get(
            &format!("/api/v1/dialogues/{id}/questions"),
            Some(&organizer),
        )
        .await;
    assert_eq!(all.body["total"], 3);
    assert!(all.text.contains("Huỳnh Văn Ẩn Danh"));
    assert!(pending.status == 201);
    let bad = app
        .get(
            &format!("/api/v1/dialogues/{id}/questions?sort=loudest"),
            None,
        )
        .await;
    assert_eq!(bad.body["error"]["field_codes"]["sort"], "invalid_choice");
    let repeated = app
        .get(
            &format!("/api/v1/dialogues/{id}/questions?topic=other&topic=employment"),
            None,
        )
        .await;
    assert_eq!(
        repeated.body["error"]["field_codes"]["topic"],
        "repeated_parameter"
    );
    let by_topic = app
        .get(
            &format!("/api/v1/dialogues/{id}/questions?topic=residence_documents"),
            None,
        )
        .await;
    assert_eq!(by_topic.body["total"], 1);
}

#[actix_web::test]
async fn similar_earlier_questions_are_shown_to_the_moderator() {
    let app = spawn_app().await;
    let (organizer, id) = dialogue_taking_questions(&app, json!({})).await;
    let first = asked(
        &app,
        &id,
        None,
        "Thủ tục xóa án tích cho người đã chấp hành xong án phạt tù như thế nào?",
        "record_expungement",
    )
    .await;
    asked(
        &app,
        &id,
        None,
        "Công ty nào đang tuyển lao động phổ thông gần Bến Lức?",
        "employment",
    )
    .await;
    // Typed without diacritics, words in another order.
    let later = asked(
        &app,
        &id,
        None,
        "nhu the nao thi duoc xoa an tich, thu tuc ra sao",
        "record_expungement",
    )
    .await;
    let detail = app
        .get(&format!("/api/v1/questions/{later}"), Some(&organizer))
        .await;
    assert_eq!(detail.status, 200, "{}", detail.text);
    assert_eq!(
        detail.body["similar"][0]["id"],
        first.as_str(),
        "{}",
        detail.text
    );
}

/// The list without `voted`: what anyone may read of it.
fn without_voted(list: &Value) -> Value {
    let mut list = list.clone();
    for item in list["items"].as_array_mut().unwrap() {
        item.as_object_mut().unwrap().remove("voted");
    }
    list
}

#[actix_web::test]
async fn a_participant_lists_the_queue_with_their_own_votes_marked_and_no_one_else_learns_more() {
    let app = spawn_app().await;
    let (organizer, id) = dialogue_taking_questions(&app, json!({})).await;
    let codes = participants(
        &app,
        &organizer,
        &id,
        &[("Đỗ Văn Tư", Some("tu@example.vn")), ("Đỗ Thị Năm", None)],
    )
    .await;
    let first = asked(
        &app,
        &id,
        Some(&codes[0]),
        "Xin hỏi làm lại căn cước công dân khi hộ khẩu đã bị xóa thì thế nào?",
        "residence_documents",
    )
    .await;
    let second = asked(
        &app,
        &id,
        Some(&codes[1]),
        "Trung tâm dạy nghề của huyện có lớp sửa xe máy miễn phí không?",
        "vocational_training",
    )
    .await;
    let pending = asked(
        &app,
        &id,
        Some(&codes[1]),
        "Câu hỏi này còn chờ duyệt nên không ai ngoài ban tổ chức thấy được.",
        "other",
    )
    .await;
    for q in [&first, &second] {
        let reply = app
            .moderate(&organizer, q, &json!({"action": "approve"}))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
    assert_eq!(app.vote(&codes[1], &first).await.status, 200);

    let path = format!("/api/v1/dialogues/{id}/questions?sort=oldest");
    let voted = |list: &Value, q: &str| -> Value {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == q)
            .unwrap()["voted"]
            .clone()
    };
    // Năm with her code: her vote is marked, on her own question too (false).
    let nam = app.get(&path, Some(&codes[1])).await;
    assert_eq!(nam.status, 200, "{}", nam.text);
    assert_eq!(nam.body["total"], 2, "the public queue only");
    assert_eq!(voted(&nam.body, &first), true);
    assert_eq!(voted(&nam.body, &second), false);
    assert!(!nam.text.contains(&pending), "not a pending question");
    // Tư with the link token from his invitation (the receipts link to the short code).
    let link = invitation_link(&app, &organizer, &id).await;
    let tu = app.get(&path, Some(&link)).await;
    assert_eq!(tu.status, 200, "{}", tu.text);
    assert_eq!(voted(&tu.body, &first), false);
    assert_eq!(voted(&tu.body, &second), false);
    // His code, typed in lower case, is the same person.
    let by_code = app.get(&path, Some(&codes[0].to_lowercase())).await;
    assert_eq!(by_code.body, tu.body);

    // Everyone else gets the same list, without `voted`.
    let anyone = app.get(&path, None).await;
    assert_eq!(anyone.status, 200);
    assert!(!anyone.text.contains("\"voted\""), "{}", anyone.text);
    assert_eq!(anyone.body, without_voted(&nam.body));
    let (other_org, other_id) = dialogue_taking_questions(&app, json!({})).await;
    let outsider = participants(&app, &other_org, &other_id, &[("Người Ngoài", None)]).await;
    let theirs = app.get(&path, Some(&outsider[0])).await;
    assert_eq!(theirs.status, 200, "{}", theirs.text);
    assert_eq!(
        theirs.body, anyone.body,
        "another dialogue's participant learns nothing new"
    );
    let staff = app.get(&path, Some(&organizer)).await;
    assert_eq!(staff.body["total"], 3, "organizers see every status");
    assert!(!staff.text.contains("\"voted\""));
    // A participant asking for another status sees what the public sees: nothing.
    let submitted = app
        .get(
            &format!("/api/v1/dialogues/{id}/questions?status=submitted"),
            Some(&codes[1]),
        )
        .await;
    assert_eq!(submitted.body["total"], 0);
    // A credential that matches nobody is refused, not read as anonymous.
    let wrong = app
        .get(&path, Some("khong-phai-ma-cua-ai-ca-0123456789"))
        .await;
    assert_eq!(wrong.status, 401, "{}", wrong.text);
    assert_eq!(wrong.code(), "unauthorized");
}
