//! Assignments to agencies: one email per batch, the agency's draft, answer and decline,
//! the organizer's approval and return, due-date reminders, history, export, and who may
//! see and do what.

use serde_json::{Value, json};

use crate::helpers::{TestApp, queued_emails};
use crate::questions::{asked, dialogue_taking_questions, in_hours, participants};

/// An agency with `staff` signed-in members: (agency id, their tokens).
async fn agency_with_staff(app: &TestApp, name: &str, staff: usize) -> (String, Vec<String>) {
    let admin = app.staff_token("admin").await;
    let agency = app
        .create_agency(&admin, &json!({"name": format!("{name} {}", uuid::Uuid::new_v4().simple()), "kind": "government"}))
        .await;
    assert_eq!(agency.status, 201, "{}", agency.text);
    let agency_id = agency.body["id"].as_str().unwrap().to_string();
    let mut tokens = Vec::new();
    for i in 0..staff {
        let email = format!(
            "canbo{i}-{}@benluc.example.vn",
            uuid::Uuid::new_v4().simple()
        );
        app.create_account(
            &email,
            &format!("Cán bộ {i} {name}"),
            "agency",
            Some(&agency_id),
        )
        .await;
        let login = app.login(&email, crate::helpers::PASSWORD).await;
        tokens.push(login.body["token"].as_str().unwrap().to_string());
    }
    (agency_id, tokens)
}

/// Approved anonymous questions, asked by `asker` (a participant code) or by nobody known.
async fn approved(
    app: &TestApp,
    organizer: &str,
    id: &str,
    asker: Option<&str>,
    bodies: &[&str],
) -> Vec<String> {
    let mut ids = Vec::new();
    for body in bodies {
        // Anonymous, as most questions are.
        let reply = app
            .ask(id, asker, &json!({"body": body, "topic": "employment"}))
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        let q = reply.body["id"].as_str().unwrap().to_string();
        let reply = app
            .moderate(organizer, &q, &json!({"action": "approve"}))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        ids.push(q);
    }
    ids
}

async fn act(
    app: &TestApp,
    token: &str,
    assignment: &str,
    step: &str,
    body: Value,
) -> crate::helpers::Reply {
    app.post(
        &format!("/api/v1/assignments/{assignment}/{step}"),
        Some(token),
        &body,
    )
    .await
}

#[actix_web::test]
async fn a_batch_goes_to_the_agency_in_one_email_and_is_answered_approved_and_published() {
    let app = crate::helpers::spawn_app().await;
    let (organizer, id) = dialogue_taking_questions(&app, json!({})).await;
    let codes = participants(
        &app,
        &organizer,
        &id,
        &[("Nguyễn Văn Sáu", Some("sau@example.vn"))],
    )
    .await;
    let (police, police_staff) = agency_with_staff(&app, "Công an huyện", 2).await;
    let questions = approved(
        &app,
        &organizer,
        &id,
        Some(&codes[0]),
        &[
            "Xin hỏi thủ tục cấp căn cước cho người vừa ra trại?",
            "Đăng ký thường trú lại ở nhà cũ cần giấy tờ gì?",
        ],
    )
    .await;
    let batch = app
        .post(&format!("/api/v1/dialogues/{id}/assignments"), Some(&organizer),
            &json!({"question_ids": questions, "agency_id": police, "due_at": in_hours(72), "note": "Trả lời trước hội nghị."}))
        .await;
    assert_eq!(batch.status, 201, "{}", batch.text);
    assert_eq!(batch.body.as_array().unwrap().len(), 2);
    let notices = queued_emails(&app, "agency_notice").await;
    assert_eq!(
        notices.len(),
        2,
        "one email per staff member for the whole batch"
    );
    assert!(
        notices
            .iter()
            .all(|e| e.body_text.contains("căn cước") && e.body_text.contains("thường trú"))
    );
    assert!(
        notices
            .iter()
            .all(|e| !e.body_text.contains("Nguyễn Văn Sáu")),
        "anonymous asker not named to the agency"
    );

    let assignment = batch.body[0]["id"].as_str().unwrap().to_string();
    assert_eq!(batch.body[0]["status"], "assigned");
    assert_eq!(batch.body[0]["question"]["status"], "assigned");
    assert!(
        batch.body[0]["question"].get("asker").is_none(),
        "the asker did not allow it"
    );
    // A draft is saved but nothing is submitted.
    let draft = act(
        &app,
        &police_staff[0],
        &assignment,
        "response",
        json!({"body": "Bản nháp", "submit": false}),
    )
    .await;
    assert_eq!(draft.status, 200, "{}", draft.text);
    assert_eq!(draft.body["status"], "assigned");
    assert!(draft.body["response"].get("submitted_at").is_none());
    // The organizer cannot approve a draft, nor answer for the agency.
    assert_eq!(
        act(&app, &organizer, &assignment, "approve", json!({}))
            .await
            .code(),
        "invalid_transition"
    );
    assert_eq!(
        act(
            &app,
            &organizer,
            &assignment,
            "response",
            json!({"body": "x", "submit": true})
        )
        .await
        .code(),
        "agency_only"
    );
    let answer = "Theo Luật Căn cước 2023, Ông/Bà đến Công an xã nơi cư trú, mang giấy chứng nhận chấp hành xong án phạt tù.";
    let submitted = act(
        &app,
        &police_staff[1],
        &assignment,
        "response",
        json!({"body": answer, "submit": true}),
    )
    .await;
    assert_eq!(submitted.body["status"], "answered");
    assert_eq!(
        queued_emails(&app, "organizer_notice").await.len(),
        1,
        "the organizer is told an answer waits"
    );
    // Returned with a reason: the agency is emailed, edits and resubmits.
    assert_eq!(
        act(
            &app,
            &organizer,
            &assignment,
            "return",
            json!({"reason": ""})
        )
        .await
        .body["error"]["field_codes"]["reason"],
        "required"
    );
    let returned = act(
        &app,
        &organizer,
        &assignment,
        "return",
        json!({"reason": "Xin ghi rõ thời hạn giải quyết."}),
    )
    .await;
    assert_eq!(returned.body["status"], "returned");
    assert_eq!(
        returned.body["return_reason"],
        "Xin ghi rõ thời hạn giải quyết."
    );
    assert!(
        queued_emails(&app, "agency_notice")
            .await
            .iter()
            .any(|e| e.body_text.contains("Xin ghi rõ thời hạn"))
    );
    let final_answer = format!("{answer} Thời hạn giải quyết là 7 ngày làm việc.");
    act(
        &app,
        &police_staff[0],
        &assignment,
        "response",
        json!({"body": final_answer, "submit": true}),
    )
    .await;
    let published = act(&app, &organizer, &assignment, "approve", json!({})).await;
    assert_eq!(published.status, 200, "{}", published.text);
    assert_eq!(published.body["status"], "published");
    assert_eq!(published.body["question"]["status"], "answered");
    // Refused after publication.
    assert_eq!(
        act(
            &app,
            &police_staff[0],
            &assignment,
            "response",
            json!({"body": "sửa", "submit": true})
        )
        .await
        .code(),
        "invalid_transition"
    );
    assert_eq!(
        act(
            &app,
            &police_staff[0],
            &assignment,
            "decline",
            json!({"reason": "muộn"})
        )
        .await
        .code(),
        "invalid_transition"
    );
    assert_eq!(
        act(&app, &organizer, &assignment, "approve", json!({}))
            .await
            .code(),
        "invalid_transition"
    );
    // The asker is emailed the answer and sees it on their page.
    let told: Vec<_> = queued_emails(&app, "question")
        .await
        .into_iter()
        .filter(|e| e.body_text.contains("7 ngày làm việc"))
        .collect();
    assert_eq!(told.len(), 1, "the asker is told exactly once");
    let me = app.me(&codes[0]).await;
    let mine = me.body["questions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["id"] == questions[0].as_str())
        .unwrap()
        .clone();
    assert_eq!(mine["status"], "answered");
    assert!(
        mine["answer"]["body"]
            .as_str()
            .unwrap()
            .contains("7 ngày làm việc")
    );
    // The history of the assignment names each step.
    let detail = app
        .get(
            &format!("/api/v1/questions/{}", questions[0]),
            Some(&organizer),
        )
        .await;
    let steps: Vec<&str> = detail.body["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "question.submit",
            "question.approve",
            "question.assign",
            "question.answered"
        ]
    );
}

#[actix_web::test]
async fn an_agency_sees_and_acts_on_its_own_assignments_only() {
    let app = crate::helpers::spawn_app().await;
    let (organizer, id) = dialogue_taking_questions(&app, json!({})).await;
    let (police, police_staff) = agency_with_staff(&app, "Công an huyện", 1).await;
    let (labour, labour_staff) = agency_with_staff(&app, "Phòng LĐ-TB&XH", 1).await;
    let qs = approved(
        &app,
        &organizer,
        &id,
        None,
        &[
            "Câu hỏi về căn cước công dân",
            "Câu hỏi về việc làm tại khu công nghiệp",
        ],
    )
    .await;
    let a = app.assign(&organizer, &qs[0], &police, &in_hours(48)).await;
    let b = app.assign(&organizer, &qs[1], &labour, &in_hours(48)).await;
    let (a, b) = (
        a.body["id"].as_str().unwrap().to_string(),
        b.body["id"].as_str().unwrap().to_string(),
    );
    let police_list = app.get("/api/v1/assignments", Some(&police_staff[0])).await;
    assert_eq!(police_list.body["total"], 1);
    assert!(
        !police_list.text.contains("khu công nghiệp"),
        "another agency's question is not listed"
    );
    assert_eq!(
        app.get("/api/v1/assignments", Some(&organizer)).await.body["total"],
        2
    );
    assert_eq!(
        app.get(&format!("/api/v1/assignments/{b}"), Some(&police_staff[0]))
            .await
            .status,
        404
    );
    assert_eq!(
        act(
            &app,
            &police_staff[0],
            &b,
            "response",
            json!({"body": "Không phải của tôi", "submit": true})
        )
        .await
        .status,
        404
    );
    assert_eq!(
        act(
            &app,
            &police_staff[0],
            &b,
            "decline",
            json!({"reason": "x"})
        )
        .await
        .status,
        404
    );
    assert_eq!(
        act(
            &app,
            &labour_staff[0],
            &a,
            "decline",
            json!({"reason": "x"})
        )
        .await
        .status,
        404
    );
    // Agency staff cannot approve, assign or export; participants cannot list.
    assert_eq!(
        act(&app, &police_staff[0], &a, "approve", json!({}))
            .await
            .status,
        403
    );
    assert_eq!(
        app.assign(&police_staff[0], &qs[0], &police, &in_hours(48))
            .await
            .status,
        403
    );
    assert_eq!(
        app.get(
            &format!("/api/v1/dialogues/{id}/questions.csv"),
            Some(&police_staff[0])
        )
        .await
        .status,
        403
    );
    assert_eq!(app.get("/api/v1/assignments", None).await.status, 401);
}

#[actix_web::test]
async fn a_declined_question_goes_back_to_the_queue_and_to_another_agency() {
    let app = crate::helpers::spawn_app().await;
    let (organizer, id) = dialogue_taking_questions(&app, json!({})).await;
    let (police, police_staff) = agency_with_staff(&app, "Công an huyện", 1).await;
    let (labour, _) = agency_with_staff(&app, "Phòng LĐ-TB&XH", 1).await;
    let q = approved(
        &app,
        &organizer,
        &id,
        None,
        &["Xin giới thiệu việc làm cho người mới ra tù"],
    )
    .await
    .remove(0);
    let submitted_only = asked(
        &app,
        &id,
        None,
        "Một câu hỏi chưa được duyệt để giao",
        "other",
    )
    .await;
    assert_eq!(
        app.assign(&organizer, &submitted_only, &police, &in_hours(48))
            .await
            .code(),
        "invalid_transition"
    );
    let bad = app.assign(&organizer, &q, &police, &in_hours(-2)).await;
    assert_eq!(bad.body["error"]["field_codes"]["due_at"], "must_be_future");
    let unknown = app
        .assign(
            &organizer,
            &q,
            &uuid::Uuid::new_v4().to_string(),
            &in_hours(48),
        )
        .await;
    assert_eq!(
        unknown.body["error"]["field_codes"]["agency_id"],
        "unknown_agency"
    );
    let first = app.assign(&organizer, &q, &police, &in_hours(48)).await;
    assert_eq!(first.status, 201);
    assert_eq!(
        app.assign(&organizer, &q, &labour, &in_hours(48))
            .await
            .code(),
        "invalid_transition",
        "one agency at a time"
    );
    let a = first.body["id"].as_str().unwrap();
    assert_eq!(
        act(&app, &police_staff[0], a, "decline", json!({"reason": ""}))
            .await
            .status,
        422
    );
    let declined = act(
        &app,
        &police_staff[0],
        a,
        "decline",
        json!({"reason": "Việc làm thuộc Phòng LĐ-TB&XH."}),
    )
    .await;
    assert_eq!(declined.body["status"], "declined");
    assert_eq!(declined.body["question"]["status"], "approved");
    let told = queued_emails(&app, "organizer_notice").await;
    assert!(
        told.iter()
            .any(|e| e.body_text.contains("Việc làm thuộc Phòng LĐ-TB&XH.")),
        "the organizer is told why"
    );
    let again = app.assign(&organizer, &q, &labour, &in_hours(48)).await;
    assert_eq!(again.status, 201, "{}", again.text);
}

#[actix_web::test]
async fn due_dates_send_one_reminder_then_one_overdue_notice_and_the_organizer_a_list() {
    let app = crate::helpers::spawn_app().await;
    let (organizer, id) = dialogue_taking_questions(&app, json!({})).await;
    let (police, _) = agency_with_staff(&app, "Công an huyện", 1).await;
    let qs = approved(
        &app,
        &organizer,
        &id,
        None,
        &["Câu hỏi sắp đến hạn", "Câu hỏi còn lâu mới đến hạn"],
    )
    .await;
    let soon = app.assign(&organizer, &qs[0], &police, &in_hours(3)).await;
    app.assign(&organizer, &qs[1], &police, &in_hours(100))
        .await;
    let reminders = |app: &TestApp| {
        let state = app.state.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                state.db.write_now(|conn| {
                    let r = doithoai::assignments::ops::queue_due_reminders(
                        conn,
                        &state.templates,
                        &state.settings,
                    )?;
                    let o = doithoai::assignments::ops::queue_overdue_notices(
                        conn,
                        &state.templates,
                        &state.settings,
                    )?;
                    Ok((r, o))
                })
            })
            .await
            .unwrap()
            .unwrap()
        }
    };
    assert_eq!(
        reminders(&app).await,
        (1, 0),
        "only the one due within a day"
    );
    assert_eq!(reminders(&app).await, (0, 0), "once");
    // Time passes: the due date is now behind us.
    let soon_id = soon.body["id"].as_str().unwrap().to_string();
    let db = app.state.db.clone();
    tokio::task::spawn_blocking(move || {
        use diesel::prelude::*;
        use doithoai::db::schema::assignments;
        db.write_now(|conn| {
            diesel::update(assignments::table.find(&soon_id))
                .set(assignments::due_at.eq(doithoai::db::now() - chrono::Duration::hours(1)))
                .execute(conn)
                .map_err(doithoai::error::AppError::from)
        })
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(reminders(&app).await, (0, 1));
    assert_eq!(reminders(&app).await, (0, 0), "once");
    let agency_mail = queued_emails(&app, "agency_notice").await;
    assert_eq!(
        agency_mail
            .iter()
            .filter(|e| e.subject.contains("Sắp đến hạn"))
            .count(),
        1
    );
    assert_eq!(
        agency_mail
            .iter()
            .filter(|e| e.subject.contains("quá hạn"))
            .count(),
        1
    );
    let organizer_mail = queued_emails(&app, "organizer_notice").await;
    assert_eq!(organizer_mail.len(), 1);
    assert!(organizer_mail[0].body_text.contains("Câu hỏi sắp đến hạn"));
    let overdue = app
        .get(
            &format!("/api/v1/assignments?overdue=true&dialogue_id={id}"),
            Some(&organizer),
        )
        .await;
    assert_eq!(overdue.body["total"], 1);
    assert_eq!(overdue.body["items"][0]["overdue"], true);
}

#[actix_web::test]
async fn the_export_is_excel_ready_inert_and_names_only_askers_who_agreed() {
    let app = crate::helpers::spawn_app().await;
    let (organizer, id) = dialogue_taking_questions(&app, json!({})).await;
    let codes = participants(
        &app,
        &organizer,
        &id,
        &[("Phan Văn Kín", None), ("Lâm Thị Mở", None)],
    )
    .await;
    let (police, staff) = agency_with_staff(&app, "Công an huyện", 1).await;
    let hidden = app
        .ask(
            &id,
            Some(&codes[0]),
            &json!({"body": "=HYPERLINK(\"http://x\",\"bấm vào đây\") câu hỏi", "topic": "other"}),
        )
        .await;
    let hidden = hidden.body["id"].as_str().unwrap().to_string();
    asked(
        &app,
        &id,
        Some(&codes[1]),
        "@SUM câu hỏi công khai tên người hỏi",
        "employment",
    )
    .await;
    app.moderate(&organizer, &hidden, &json!({"action": "approve"}))
        .await;
    let a = app
        .assign(&organizer, &hidden, &police, &in_hours(48))
        .await;
    let a = a.body["id"].as_str().unwrap();
    act(
        &app,
        &staff[0],
        a,
        "response",
        json!({"body": "-Trả lời bắt đầu bằng dấu trừ", "submit": true}),
    )
    .await;
    let reply = app
        .client
        .get(app.url(&format!("/api/v1/dialogues/{id}/questions.csv")))
        .bearer_auth(&organizer)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    assert!(
        reply.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let bytes = reply.bytes().await.unwrap();
    assert!(
        bytes.starts_with("\u{feff}".as_bytes()),
        "UTF-8 BOM for Excel"
    );
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    let hidden_row = rows.iter().find(|r| r[6].contains("HYPERLINK")).unwrap();
    assert!(
        hidden_row[6].starts_with("'="),
        "formula made inert: {:?}",
        &hidden_row[6]
    );
    assert_eq!(&hidden_row[5], "", "anonymous asker not named");
    assert!(hidden_row[10].starts_with("'-Trả lời"));
    assert!(hidden_row[7].starts_with("Công an huyện"));
    let named_row = rows.iter().find(|r| r[6].contains("SUM")).unwrap();
    assert!(named_row[6].starts_with("'@"));
    assert_eq!(&named_row[5], "Lâm Thị Mở");
    assert!(!text.contains("Phan Văn Kín"));
}
