//! Decisions that depend on what other requests do at the same moment — a seat, "no
//! duplicate person" — under 64 parallel clients. SQLite's single writer hides these races;
//! they matter on PostgreSQL, where `.ci/run` runs this file too.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::helpers::{TestApp, invitations, open_dialogue, spawn_app_with};

const CLIENTS: usize = 64;

/// An application whose registration limits do not get in the way of the test.
async fn unlimited_app() -> Arc<TestApp> {
    let app = spawn_app_with(|s| {
        s.registrations_per_address_per_minute = 1_000_000;
        s.registrations_per_dialogue_per_minute = 1_000_000;
        s.registrations_per_minute = 1_000_000;
        s.waitlist_limit = 1_000;
        s.db_pool_size = 8;
        s.workers = 2;
    })
    .await;
    Arc::new(app)
}

/// Sends the same kind of request from many tasks at once; returns the statuses.
async fn in_parallel<F, Fut>(count: usize, request: F) -> Vec<crate::helpers::Reply>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = crate::helpers::Reply> + Send + 'static,
{
    let tasks: Vec<_> = (0..count).map(|i| tokio::spawn(request(i))).collect();
    let mut replies = Vec::with_capacity(count);
    for task in tasks {
        replies.push(task.await.expect("task ran"));
    }
    replies
}

fn count_statuses(replies: &[crate::helpers::Reply]) -> HashMap<u16, usize> {
    let mut counts = HashMap::new();
    for reply in replies {
        *counts.entry(reply.status).or_default() += 1;
    }
    counts
}

fn assert_no_server_errors(replies: &[crate::helpers::Reply]) {
    for reply in replies {
        assert!(reply.status < 500, "{}: {}", reply.status, reply.text);
    }
}

async fn registrations_by_status(app: &TestApp, token: &str, id: &str) -> HashMap<String, usize> {
    let list = app
        .get(
            &format!("/api/v1/dialogues/{id}/registrations?per_page=200"),
            Some(token),
        )
        .await;
    let mut counts = HashMap::new();
    for item in list.body["items"].as_array().unwrap() {
        *counts
            .entry(item["status"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_parallel_self_registrations_fill_exactly_the_seats_and_the_rest_wait() {
    let app = unlimited_app().await;
    let (token, id) = open_dialogue(&app, json!({"self_registration": true, "capacity": 10})).await;
    let replies = in_parallel(CLIENTS, |i| {
        let app = app.clone();
        let id = id.clone();
        async move {
            app.self_register(
                &id,
                &json!({
                    "full_name": format!("Người Thứ {i}"),
                    "phone": format!("09{:08}", i),
                    "category": "other",
                    "consent": true
                }),
            )
            .await
        }
    })
    .await;
    assert_no_server_errors(&replies);
    assert_eq!(count_statuses(&replies).get(&201), Some(&CLIENTS));
    let counts = registrations_by_status(&app, &token, &id).await;
    assert_eq!(counts.get("registered"), Some(&10), "{counts:?}");
    assert_eq!(
        counts.get("waitlisted"),
        Some(&(CLIENTS - 10)),
        "{counts:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_registrations_with_one_email_make_one_participant() {
    let app = unlimited_app().await;
    let (token, id) = open_dialogue(&app, json!({"self_registration": true})).await;
    let replies = in_parallel(30, |_| {
        let app = app.clone();
        let id = id.clone();
        async move {
            app.self_register(
                &id,
                &json!({"full_name": "Đỗ Thị Mai", "email": "mai@example.vn", "category": "other", "consent": true}),
            )
            .await
        }
    })
    .await;
    assert_no_server_errors(&replies);
    assert_eq!(count_statuses(&replies).get(&202), Some(&30));
    let counts = registrations_by_status(&app, &token, &id).await;
    assert_eq!(counts.values().sum::<usize>(), 1, "{counts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_adds_of_one_invitee_make_one_row() {
    let app = unlimited_app().await;
    let (token, id) = open_dialogue(&app, json!({})).await;
    let replies = in_parallel(16, |_| {
        let app = app.clone();
        let token = token.clone();
        let id = id.clone();
        async move {
            app.add_invitees(
                &token,
                &id,
                &json!([{"full_name": "Bùi Văn Đức", "phone": "0903 000 111", "email": "duc@example.vn", "category": "community_sentence"}]),
            )
            .await
        }
    })
    .await;
    assert_no_server_errors(&replies);
    let created: i64 = replies
        .iter()
        .map(|r| r.body["created"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(created, 1);
    assert_eq!(invitations(&app, &token, &id).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_parallel_acceptances_never_give_more_seats_than_there_are() {
    let app = unlimited_app().await;
    let (token, id) = open_dialogue(&app, json!({"capacity": 10})).await;
    let people: Vec<Value> = (0..CLIENTS)
        .map(|i| json!({"full_name": format!("Khách Mời {i}"), "phone": format!("08{:08}", i), "category": "other"}))
        .collect();
    let added = app.add_invitees(&token, &id, &json!(people)).await;
    assert_eq!(added.status, 201, "{}", added.text);
    let codes: Vec<String> = invitations(&app, &token, &id)
        .await
        .iter()
        .map(|i| i["code"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes.len(), CLIENTS);
    let replies = in_parallel(CLIENTS, |i| {
        let app = app.clone();
        let code = codes[i].clone();
        async move { app.rsvp(&code, "accept").await }
    })
    .await;
    assert_no_server_errors(&replies);
    let counts = registrations_by_status(&app, &token, &id).await;
    assert_eq!(counts.get("registered"), Some(&10), "{counts:?}");
    assert_eq!(
        counts.get("waitlisted"),
        Some(&(CLIENTS - 10)),
        "{counts:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn past_the_seats_and_the_waitlist_cap_everyone_is_refused_alike() {
    let app = Arc::new(
        spawn_app_with(|s| {
            s.registrations_per_address_per_minute = 1_000_000;
            s.registrations_per_dialogue_per_minute = 1_000_000;
            s.registrations_per_minute = 1_000_000;
            s.waitlist_limit = 10;
            s.workers = 2;
        })
        .await,
    );
    let (token, id) = open_dialogue(&app, json!({"self_registration": true, "capacity": 5})).await;
    let replies = in_parallel(40, |i| {
        let app = app.clone();
        let id = id.clone();
        async move {
            app.self_register(
                &id,
                &json!({"full_name": format!("Người Đến Muộn {i}"), "phone": format!("07{:08}", i), "category": "other", "consent": true}),
            )
            .await
        }
    })
    .await;
    assert_no_server_errors(&replies);
    let statuses = count_statuses(&replies);
    assert_eq!(statuses.get(&201), Some(&15), "{statuses:?}");
    assert_eq!(statuses.get(&409), Some(&25), "{statuses:?}");
    assert!(
        replies
            .iter()
            .filter(|r| r.status == 409)
            .all(|r| r.code() == "registration_full")
    );
    let counts = registrations_by_status(&app, &token, &id).await;
    assert_eq!(counts.get("registered"), Some(&5), "{counts:?}");
    assert_eq!(counts.get("waitlisted"), Some(&10), "{counts:?}");
}

/// 64 participants vote for one question at once, each twice; then half take it back at
/// once. The stored count always equals the votes stored.
#[actix_web::test]
async fn parallel_votes_count_each_participant_once() {
    let app = unlimited_app().await;
    let (id, codes, q) = room_with_an_approved_question(&app, "Người bỏ phiếu số").await;
    let votes = in_parallel(CLIENTS * 2, |i| {
        let (app, codes, q) = (app.clone(), codes.clone(), q.clone());
        async move { app.vote(&codes[i % CLIENTS], &q).await }
    })
    .await;
    assert_no_server_errors(&votes);
    assert_eq!(count_statuses(&votes)[&200], CLIENTS * 2);
    let unvotes = in_parallel(CLIENTS, |i| {
        let (app, codes, q) = (app.clone(), codes.clone(), q.clone());
        async move {
            let path = format!("/api/v1/questions/{q}/vote");
            app.delete(&path, Some(&codes[i / 2])).await
        }
    })
    .await;
    assert_no_server_errors(&unvotes);
    let queue = app
        .get(&format!("/api/v1/dialogues/{id}/questions"), None)
        .await;
    assert_eq!(
        queue.body["items"][0]["votes"],
        CLIENTS / 2,
        "{}",
        queue.text
    );
    let (stored, counted) = vote_totals(&app, &q).await;
    assert_eq!(stored, counted, "the count matches the votes stored");
}

/// A dialogue with 64 participants and one approved question: its id, their codes and the
/// question's id.
async fn room_with_an_approved_question(
    app: &TestApp,
    names: &str,
) -> (String, Arc<Vec<String>>, Arc<String>) {
    let (organizer, id) = crate::questions::dialogue_taking_questions(app, json!({})).await;
    let people: Vec<(String, Option<&str>)> = (0..CLIENTS)
        .map(|i| (format!("{names} {i}"), None))
        .collect();
    let refs: Vec<(&str, Option<&str>)> = people.iter().map(|(n, e)| (n.as_str(), *e)).collect();
    let codes = crate::questions::participants(app, &organizer, &id, &refs).await;
    let text = "Câu hỏi được cả hội trường ủng hộ";
    let q = crate::questions::asked(app, &id, None, text, "employment").await;
    let approved = app
        .moderate(&organizer, &q, &json!({"action": "approve"}))
        .await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    (id, Arc::new(codes), Arc::new(q))
}

/// The votes stored for a question, and the count kept on it.
async fn vote_totals(app: &TestApp, question: &str) -> (i64, i64) {
    let db = app.state.db.clone();
    let question = question.to_string();
    let (stored, counted) = tokio::task::spawn_blocking(move || {
        db.read_now(|conn| Ok(doithoai::questions::store::vote_totals(conn, &question)?))
    })
    .await
    .unwrap()
    .unwrap();
    (i64::from(stored), counted)
}

/// Half the room takes its vote back while the other half votes, all at once: additions
/// and removals share batches (on PostgreSQL one statement each). Every answer is 200 and
/// says what the participant asked for; the count ends at the votes stored.
#[actix_web::test]
async fn votes_added_and_taken_back_at_once_keep_the_count() {
    let app = unlimited_app().await;
    let (_, codes, q) = room_with_an_approved_question(&app, "Người đổi ý số").await;
    for code in &codes[..CLIENTS / 2] {
        assert_eq!(app.vote(code, &q).await.status, 200);
    }
    let replies = in_parallel(CLIENTS, |i| {
        let (app, codes, q) = (app.clone(), codes.clone(), q.clone());
        async move {
            if i < CLIENTS / 2 {
                let path = format!("/api/v1/questions/{q}/vote");
                app.delete(&path, Some(&codes[i])).await
            } else {
                app.vote(&codes[i], &q).await
            }
        }
    })
    .await;
    assert_no_server_errors(&replies);
    for (i, reply) in replies.iter().enumerate() {
        assert_eq!(reply.status, 200, "{i}: {}", reply.text);
        assert_eq!(reply.body["voted"], i >= CLIENTS / 2, "{i}: {}", reply.text);
        let votes = reply.body["votes"].as_i64().unwrap();
        assert!((0..=CLIENTS as i64).contains(&votes), "{i}: {votes}");
    }
    let (stored, counted) = vote_totals(&app, &q).await;
    assert_eq!(counted, (CLIENTS / 2) as i64);
    assert_eq!(stored, counted, "the count matches the votes stored");
}

/// The same anonymous question sent 64 times at once is stored once.
#[actix_web::test]
async fn parallel_identical_questions_are_stored_once() {
    let app = spawn_app_with(|s| {
        s.questions_per_address_per_minute = 1_000;
        s.questions_per_dialogue_per_minute = 1_000;
        s.db_pool_size = 8;
        s.workers = 2;
    })
    .await;
    let app = Arc::new(app);
    let (organizer, id) = crate::questions::dialogue_taking_questions(&app, json!({})).await;
    let id = Arc::new(id);
    let replies = in_parallel(CLIENTS, |_| {
        let (app, id) = (app.clone(), id.clone());
        async move {
            app.ask(
                &id,
                None,
                &json!({"body": "Cùng một câu hỏi gửi nhiều lần liên tiếp", "topic": "other"}),
            )
            .await
        }
    })
    .await;
    assert_no_server_errors(&replies);
    let statuses = count_statuses(&replies);
    assert_eq!(statuses.get(&201), Some(&1), "{statuses:?}");
    assert_eq!(statuses.get(&409), Some(&(CLIENTS - 1)), "{statuses:?}");
    let all = app
        .get(
            &format!("/api/v1/dialogues/{id}/questions"),
            Some(&organizer),
        )
        .await;
    assert_eq!(all.body["total"], 1);
}

/// A hall submits at once by code: the submissions share batches, their askers looked up
/// together. Each question is stored once, as its own asker's; those with an email get one
/// receipt each; a code that matches nobody is refused alone.
#[actix_web::test]
async fn a_hall_submitting_at_once_stores_each_question_as_its_own_askers() {
    let app = unlimited_app().await;
    let (organizer, id) = crate::questions::dialogue_taking_questions(&app, json!({})).await;
    let names: Vec<String> = (0..56)
        .map(|i| format!("Người Trong Hội Trường {i}"))
        .collect();
    let emails: Vec<String> = (0..56).map(|i| format!("nguoi{i}@example.vn")).collect();
    let people: Vec<(&str, Option<&str>)> = names
        .iter()
        .zip(&emails)
        .enumerate()
        .map(|(i, (name, email))| (name.as_str(), (i % 7 == 0).then_some(email.as_str())))
        .collect();
    let mut codes = crate::questions::participants(&app, &organizer, &id, &people).await;
    codes.extend((0..8).map(|i| format!("ZZZ-ZZZ-Z{i}")));
    let codes = Arc::new(codes);
    let id = Arc::new(id);
    let replies = in_parallel(CLIENTS, |n| {
        let (app, id, codes) = (app.clone(), id.clone(), codes.clone());
        async move {
            let body = format!("Câu hỏi số {n} của hội trường về thủ tục vay vốn");
            app.ask(
                &id,
                Some(&codes[n]),
                &json!({"body": body, "topic": "loans_livelihood", "anonymous": false}),
            )
            .await
        }
    })
    .await;
    assert_no_server_errors(&replies);
    for (n, reply) in replies.iter().enumerate() {
        if n < 56 {
            assert_eq!(reply.status, 201, "{n}: {}", reply.text);
            let body = format!("Câu hỏi số {n} của hội trường về thủ tục vay vốn");
            assert_eq!(reply.body["body"], body.as_str());
        } else {
            assert_eq!(reply.status, 401, "{n}: {}", reply.text);
        }
    }
    let all = app
        .get(
            &format!("/api/v1/dialogues/{id}/questions?per_page=100"),
            Some(&organizer),
        )
        .await;
    assert_eq!(all.body["total"], 56, "{}", all.text);
    for item in all.body["items"].as_array().unwrap() {
        let body = item["body"].as_str().unwrap();
        let n: usize = body.split(' ').nth(3).unwrap().parse().unwrap();
        assert_eq!(item["asker_name"], names[n].as_str(), "{body}");
    }
    let receipts = crate::helpers::queued_emails(&app, "question").await;
    assert_eq!(
        receipts.len(),
        8,
        "one receipt for each asker with an email"
    );
}

/// Two organizers assign the same question to different agencies at once: one wins.
#[actix_web::test]
async fn parallel_assignments_of_one_question_leave_one_open_assignment() {
    let app = unlimited_app().await;
    let (organizer, id) = crate::questions::dialogue_taking_questions(&app, json!({})).await;
    let q = crate::questions::asked(
        &app,
        &id,
        None,
        "Một câu hỏi chỉ giao cho một cơ quan",
        "other",
    )
    .await;
    app.moderate(&organizer, &q, &json!({"action": "approve"}))
        .await;
    let admin = app.staff_token("admin").await;
    let mut agencies = Vec::new();
    for i in 0..8 {
        let made = app
            .create_agency(
                &admin,
                &json!({"name": format!("Cơ quan số {i}"), "kind": "government"}),
            )
            .await;
        agencies.push(made.body["id"].as_str().unwrap().to_string());
    }
    let (agencies, q, organizer) = (Arc::new(agencies), Arc::new(q), Arc::new(organizer));
    let replies = in_parallel(CLIENTS, |i| {
        let (app, agencies, q, organizer) =
            (app.clone(), agencies.clone(), q.clone(), organizer.clone());
        async move {
            app.assign(
                &organizer,
                &q,
                &agencies[i % 8],
                &crate::questions::in_hours(48),
            )
            .await
        }
    })
    .await;
    assert_no_server_errors(&replies);
    let statuses = count_statuses(&replies);
    assert_eq!(statuses.get(&201), Some(&1), "{statuses:?}");
    let list = app.get("/api/v1/assignments", Some(&organizer)).await;
    assert_eq!(list.body["total"], 1);
}

/// On the day, one question is touched from every side at once: the organizer approves its
/// written answer, a secretary records answers given aloud, the control page puts it on
/// screen, and repeats of it are merged into it. Each of these locks the dialogue before
/// the question; taken in another order they would deadlock on PostgreSQL (a 5xx).
#[actix_web::test]
async fn one_question_published_answered_aloud_shown_and_merged_into_at_once() {
    let app = Arc::new(
        spawn_app_with(|s| {
            s.questions_per_address_per_minute = 1_000;
            s.questions_per_dialogue_per_minute = 1_000;
            s.db_pool_size = 8;
            s.workers = 2;
        })
        .await,
    );
    let (organizer, id) = crate::questions::dialogue_taking_questions(&app, json!({})).await;
    let people: Vec<(String, Option<&str>)> = (0..17)
        .map(|i| (format!("Người Hỏi Số {i}"), None))
        .collect();
    let people: Vec<(&str, Option<&str>)> = people.iter().map(|(n, e)| (n.as_str(), *e)).collect();
    let codes = crate::questions::participants(&app, &organizer, &id, &people).await;
    let q = crate::questions::asked(
        &app,
        &id,
        Some(&codes[0]),
        "Xin hỏi thủ tục vay vốn học nghề cho người vừa chấp hành xong án?",
        "loans_livelihood",
    )
    .await;
    let repeats: Vec<String> = {
        let mut repeats = Vec::new();
        for (i, code) in codes[1..].iter().enumerate() {
            let text = format!("Câu hỏi lặp lại số {i}: thủ tục vay vốn học nghề thế nào?");
            repeats.push(
                crate::questions::asked(&app, &id, Some(code), &text, "loans_livelihood").await,
            );
        }
        repeats
    };
    let approved = app
        .moderate(&organizer, &q, &json!({"action": "approve"}))
        .await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    let (agency, agency_token) =
        crate::minutes::agency_with_staff(&app, "Ngân hàng Chính sách xã hội huyện").await;
    let assignment = app
        .assign(&organizer, &q, &agency, &crate::questions::in_hours(72))
        .await;
    assert_eq!(assignment.status, 201, "{}", assignment.text);
    let assignment = assignment.body["id"].as_str().unwrap().to_string();
    let answered = app
        .post(
            &format!("/api/v1/assignments/{assignment}/response"),
            Some(&agency_token),
            &json!({"body": "Liên hệ Phòng Giao dịch Ngân hàng Chính sách xã hội huyện.", "submit": true}),
        )
        .await;
    assert_eq!(answered.status, 200, "{}", answered.text);
    let started = app.change_status(&organizer, &id, "in_progress").await;
    assert_eq!(started.status, 200, "{}", started.text);

    let shared = Arc::new((
        organizer.clone(),
        q.clone(),
        assignment,
        agency,
        id.clone(),
        repeats,
    ));
    let replies = in_parallel(CLIENTS, |i| {
        let (app, shared) = (app.clone(), shared.clone());
        async move {
            let (organizer, q, assignment, agency, id, repeats) = &*shared;
            match i % 4 {
                0 => {
                    app.post(&format!("/api/v1/assignments/{assignment}/approve"), Some(organizer), &json!({}))
                        .await
                }
                1 => {
                    app.post(
                        &format!("/api/v1/questions/{q}/live-answer"),
                        Some(organizer),
                        &json!({"speaker": format!("Cán bộ số {i}"), "agency_id": agency,
                                "summary": "Ngân hàng sẽ hướng dẫn hồ sơ vay vốn ngay tại hội nghị."}),
                    )
                    .await
                }
                2 => {
                    app.put_json(&format!("/api/v1/dialogues/{id}/live"), Some(organizer), &json!({"current_question_id": q}))
                        .await
                }
                _ => {
                    app.moderate(organizer, &repeats[i / 4], &json!({"action": "merge", "into": q}))
                        .await
                }
            }
        }
    })
    .await;
    assert_no_server_errors(&replies);
    let by_kind = |kind: usize| -> HashMap<u16, usize> {
        let mut counts = HashMap::new();
        for (_, reply) in replies.iter().enumerate().filter(|(i, _)| i % 4 == kind) {
            *counts.entry(reply.status).or_default() += 1;
        }
        counts
    };
    let approvals = by_kind(0);
    assert_eq!(
        approvals.get(&200),
        Some(&1),
        "one approval wins: {approvals:?}"
    );
    assert_eq!(
        approvals.get(&409),
        Some(&15),
        "the rest find it done: {approvals:?}"
    );
    assert_eq!(
        by_kind(1),
        HashMap::from([(201, 16)]),
        "every answer given aloud is recorded"
    );
    assert_eq!(
        by_kind(2),
        HashMap::from([(200, 16)]),
        "showing it again is harmless"
    );
    assert_eq!(
        by_kind(3),
        HashMap::from([(200, 16)]),
        "every repeat is merged"
    );

    let merged = app
        .get(
            &format!("/api/v1/dialogues/{id}/questions?status=merged&per_page=100"),
            Some(&organizer),
        )
        .await;
    assert_eq!(merged.body["total"], 16, "{}", merged.text);
    let live = app
        .get(&format!("/api/v1/dialogues/{id}/live"), Some(&organizer))
        .await;
    assert_eq!(live.status, 200, "{}", live.text);
    assert_eq!(live.body["current"]["id"], q.as_str(), "{}", live.text);
}

/// Walk-ins at several doors at once: without the explicit choice to go past capacity, the
/// free seats are taken exactly, and the rest are told `no_free_seat`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_parallel_walk_ins_take_exactly_the_free_seats() {
    let app = unlimited_app().await;
    let (token, id) = open_dialogue(&app, json!({"capacity": 10})).await;
    let replies = in_parallel(CLIENTS, |i| {
        let app = app.clone();
        let (id, token) = (id.clone(), token.clone());
        async move {
            app.post(
                &format!("/api/v1/dialogues/{id}/walk-ins"),
                Some(&token),
                &json!({"full_name": format!("Người Đến {i}"), "category": "other", "consent": true}),
            )
            .await
        }
    })
    .await;
    assert_no_server_errors(&replies);
    let statuses = count_statuses(&replies);
    assert_eq!(statuses.get(&201), Some(&10), "{statuses:?}");
    assert_eq!(statuses.get(&409), Some(&(CLIENTS - 10)), "{statuses:?}");
    assert!(
        replies
            .iter()
            .filter(|r| r.status == 409)
            .all(|r| r.code() == "no_free_seat")
    );
    let by_status = registrations_by_status(&app, &token, &id).await;
    assert_eq!(by_status.get("checked_in"), Some(&10), "{by_status:?}");
}

/// Eight waitlisted people, each admitted at the door by eight organizers' taps at once: each
/// is admitted once (the dialogue is locked before the person's state is read).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_admits_from_the_waitlist_admit_each_person_once() {
    let app = unlimited_app().await;
    let (token, id) = open_dialogue(&app, json!({"self_registration": true, "capacity": 1})).await;
    for i in 0..9 {
        let r = app
            .self_register(
                &id,
                &json!({"full_name": format!("Người Chờ Số {i}"), "phone": format!("0912{:06}", i),
                        "category": "other", "consent": true}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let found = app
        .get(
            &format!("/api/v1/dialogues/{id}/checkins/search?q=nguoi%20cho"),
            Some(&token),
        )
        .await;
    let waiting: Vec<String> = found.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["registration"]["status"] == "waitlisted")
        .map(|p| p["code"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(waiting.len(), 8, "{}", found.text);
    let (waiting, token, id) = (Arc::new(waiting), Arc::new(token), Arc::new(id));
    let replies = in_parallel(CLIENTS, |i| {
        let (app, waiting, token, id) = (app.clone(), waiting.clone(), token.clone(), id.clone());
        async move {
            app.post(
                &format!("/api/v1/dialogues/{id}/waitlist/admit"),
                Some(&token),
                &json!({"code": waiting[i % 8], "over_capacity": true}),
            )
            .await
        }
    })
    .await;
    assert_no_server_errors(&replies);
    let statuses = count_statuses(&replies);
    assert_eq!(statuses.get(&200), Some(&CLIENTS), "{statuses:?}");
    // A repeated tap answers like a second scan: 200 with `already_checked_in`.
    let first_admissions = replies
        .iter()
        .filter(|r| r.body["already_checked_in"] == false)
        .count();
    assert_eq!(first_admissions, 8);
    let counts = registrations_by_status(&app, &token, &id).await;
    assert_eq!(counts.get("waitlisted"), None, "{counts:?}");
}

#[actix_web::test]
async fn parallel_undos_of_check_ins_take_each_back_once() {
    let app = unlimited_app().await;
    let (token, id) = open_dialogue(&app, json!({"self_registration": true, "capacity": 4})).await;
    for i in 0..4 {
        let r = app
            .self_register(
                &id,
                &json!({"full_name": format!("Người Đến Số {i}"), "phone": format!("0913{:06}", i),
                        "category": "other", "consent": true}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let found = app
        .get(
            &format!("/api/v1/dialogues/{id}/checkins/search?q=nguoi%20den"),
            Some(&token),
        )
        .await;
    let codes: Vec<String> = found.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes.len(), 4, "{}", found.text);
    for code in &codes {
        let r = app
            .post(
                &format!("/api/v1/dialogues/{id}/checkins"),
                Some(&token),
                &json!({ "code": code }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let before = registrations_by_status(&app, &token, &id).await;
    assert_eq!(before.get("checked_in"), Some(&4), "{before:?}");
    let (codes, token, id) = (Arc::new(codes), Arc::new(token), Arc::new(id));
    let replies = in_parallel(CLIENTS, |i| {
        let (app, codes, token, id) = (app.clone(), codes.clone(), token.clone(), id.clone());
        async move {
            app.post(
                &format!("/api/v1/dialogues/{id}/checkins/undo"),
                Some(&token),
                &json!({"code": codes[i % 4]}),
            )
            .await
        }
    })
    .await;
    assert_no_server_errors(&replies);
    let statuses = count_statuses(&replies);
    // Each check-in is taken back once; every later tap is told it is not checked in.
    assert_eq!(statuses.get(&200), Some(&4), "{statuses:?}");
    assert_eq!(statuses.get(&409), Some(&(CLIENTS - 4)), "{statuses:?}");
    assert!(
        replies
            .iter()
            .filter(|r| r.status == 409)
            .all(|r| r.code() == "not_checked_in")
    );
    let counts = registrations_by_status(&app, &token, &id).await;
    assert_eq!(counts.get("registered"), Some(&4), "{counts:?}");
    assert_eq!(counts.get("checked_in"), None, "{counts:?}");
}

/// The votes of a batch, written as one: on PostgreSQL the additions in one statement and
/// the removals in another when no pair comes twice, each on its own otherwise (and always
/// on SQLite). Either way each vote is told whether it changed anything, in order, and the
/// count follows the votes stored.
#[actix_web::test]
async fn a_batch_of_votes_tells_each_whether_it_changed_anything() {
    let app = unlimited_app().await;
    let (_, codes, q) = room_with_an_approved_question(&app, "Người trong lô phiếu").await;
    let db = app.state.db.clone();
    let (q2, codes2) = (q.to_string(), codes[..4].to_vec());
    let changed = tokio::task::spawn_blocking(move || {
        db.write_now(|conn| {
            let mut voters = Vec::new();
            for code in &codes2 {
                let found = doithoai::participants::auth::resolve(conn, code)?;
                voters.push(found.expect("a participant").id.to_string());
            }
            let [a, b, c, d] = [&voters[0], &voters[1], &voters[2], &voters[3]].map(String::as_str);
            let store = |conn: &mut _, votes: &[(&str, &str, bool)]| {
                doithoai::questions::store::apply_votes(conn, votes)
            };
            // A pair twice: one by one, in order.
            let repeated = store(conn, &[(&q2, a, true), (&q2, b, true), (&q2, a, true)])?;
            // Distinct pairs, additions and removals together.
            let distinct = store(conn, &[(&q2, c, true), (&q2, a, false), (&q2, d, false)])?;
            Ok((repeated, distinct))
        })
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(changed.0, vec![true, true, false]);
    assert_eq!(changed.1, vec![true, true, false]);
    let (stored, counted) = vote_totals(&app, &q).await;
    assert_eq!((stored, counted), (2, 2), "b and c have voted");
}
