//! The question and answer pages as people use them, without JavaScript: a participant
//! asks from their personal page, the organizer approves and assigns, the agency answers,
//! the organizer publishes, and the public page shows the answer and nothing personal.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::{BrowserSession, TestApp, queued_emails, spawn_app};
use crate::questions::{dialogue_taking_questions, participants};

const ASKED: &str =
    "Tôi đã chấp hành xong án phạt tù 3 năm, xin hỏi thủ tục xóa án tích như thế nào?";
const ASKED_ANONYMOUSLY: &str =
    "Xin hỏi người từng cai nghiện có được vay vốn Ngân hàng Chính sách để chăn nuôi không?";
const ANSWER: &str =
    "Ông liên hệ Sở Tư pháp để được cấp phiếu lý lịch tư pháp; thời hạn giải quyết 10 ngày.";

async fn staff_browser<'a>(
    app: &'a TestApp,
    role: &str,
    agency: Option<&str>,
) -> BrowserSession<'a> {
    let email = format!("{role}-{}@benluc.example.vn", uuid::Uuid::new_v4().simple());
    app.create_account(&email, "Phạm Quốc Khánh", role, agency)
        .await;
    let browser = BrowserSession::new(app).await;
    browser.sign_in(&email).await;
    browser
}

/// The dialogue's questions as the organizer's API lists them, by body.
async fn question_id(app: &TestApp, token: &str, id: &str, body: &str) -> String {
    let list = app
        .get(&format!("/api/v1/dialogues/{id}/questions"), Some(token))
        .await;
    let items = list.body["items"].as_array().unwrap();
    items.iter().find(|q| q["body"] == body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn assignment_of(app: &TestApp, token: &str, question: &str) -> String {
    let list = app.get("/api/v1/assignments", Some(token)).await;
    let items: &Vec<Value> = list.body["items"].as_array().unwrap();
    items
        .iter()
        .find(|a| a["question"]["id"] == question)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[actix_web::test]
async fn a_question_asked_on_the_personal_page_is_answered_and_published_for_everyone() {
    let app = spawn_app().await;
    let (token, id) = dialogue_taking_questions(&app, json!({})).await;
    let codes = participants(
        &app,
        &token,
        &id,
        &[
            ("Trần Văn Bảy", Some("bay@example.vn")),
            ("Lê Thị Mai", None),
        ],
    )
    .await;

    // Bảy asks, named; the receipt promises an email because he has an address.
    let bay = BrowserSession::new(&app).await;
    let page = bay.get(&format!("/p/{}", codes[0])).await;
    assert!(page.contains("Câu hỏi của tôi") && page.contains("Hiện tên tôi công khai"));
    let (status, location) = bay
        .post_form(
            &format!("/p/{}/questions", codes[0]),
            &[
                ("body", ASKED),
                ("topic", "record_expungement"),
                ("named", "true"),
            ],
        )
        .await;
    assert_eq!(status, 303, "{location}");
    let page = bay.get(&location.replace("#my-questions", "")).await;
    assert!(page.contains("Đã nhận câu hỏi của bạn"), "{page}");
    assert!(page.contains("gửi thư điện tử cho bạn"));
    assert!(page.contains(ASKED) && page.contains("Chờ duyệt"));

    // Mai has no email: the receipt never promises one. She asks anonymously (the default).
    let mai = BrowserSession::new(&app).await;
    mai.get(&format!("/p/{}", codes[1])).await;
    let (status, location) = mai
        .post_form(
            &format!("/p/{}/questions", codes[1]),
            &[("body", ASKED_ANONYMOUSLY), ("topic", "loans_livelihood")],
        )
        .await;
    assert_eq!(status, 303, "{location}");
    let page = mai.get(&location.replace("#my-questions", "")).await;
    assert!(page.contains("Đã nhận câu hỏi của bạn"));
    assert!(
        !page.contains("thư điện tử"),
        "no email promised without an address"
    );

    // The organizer sees both, with who asked, and approves them with the buttons.
    let organizer = staff_browser(&app, "organizer", None).await;
    let queue = organizer
        .get(&format!("/staff/dialogues/{id}/questions"))
        .await;
    assert!(queue.contains(ASKED) && queue.contains(ASKED_ANONYMOUSLY));
    assert!(
        queue.contains("Lê Thị Mai"),
        "organizers see the anonymous asker"
    );
    assert!(queue.contains("Giao cơ quan"), "the organizer's tabs");
    let q1 = question_id(&app, &token, &id, ASKED).await;
    let q2 = question_id(&app, &token, &id, ASKED_ANONYMOUSLY).await;
    for q in [&q1, &q2] {
        let back = format!("/staff/dialogues/{id}/questions?status=submitted");
        let (status, location) = organizer
            .post_form(
                &format!("/staff/questions/{q}/moderation"),
                &[("action", "approve"), ("back", &back)],
            )
            .await;
        assert_eq!(status, 303, "{location}");
        assert_eq!(location, format!("{back}&done=moderated"));
    }
    let approved = organizer
        .get(&format!("/staff/dialogues/{id}/questions?status=approved"))
        .await;
    assert!(approved.contains(ASKED) && approved.contains("Đã duyệt (2)"));

    // Both go to one agency in one post: one email per staff member of that agency.
    let justice = app.create_agency_directly("Sở Tư pháp").await;
    let police = app.create_agency_directly("Công an huyện").await;
    let justice_staff = staff_browser(&app, "agency", Some(&justice)).await;
    app.create_account(
        "tuphap2@benluc.example.vn",
        "Võ Thị Lan",
        "agency",
        Some(&justice),
    )
    .await;
    let police_staff = staff_browser(&app, "agency", Some(&police)).await;
    let board = organizer
        .get(&format!("/staff/dialogues/{id}/assignments"))
        .await;
    assert!(board.contains(ASKED) && board.contains("Sở Tư pháp"));
    let due = (Utc::now() + Duration::days(3) + Duration::hours(7))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let (status, location) = organizer
        .post_form(
            &format!("/staff/dialogues/{id}/assignments"),
            &[
                ("question_id", &q1),
                ("question_id", &q2),
                ("agency_id", &justice),
                ("due_at", &due),
                ("note", "Đề nghị trả lời trước hội nghị."),
            ],
        )
        .await;
    assert_eq!(status, 303, "{location}");
    let notices = queued_emails(&app, "agency_notice").await;
    assert_eq!(notices.len(), 2, "one email per staff member of the agency");
    let board = organizer.get(&location).await;
    assert!(
        board.contains("Đang xử lý") && board.contains("<svg"),
        "{board}"
    );
    let csv = organizer
        .client
        .get(app.url(&format!("/staff/dialogues/{id}/questions.csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert!(csv.text().await.unwrap().contains(ASKED));

    // The agency sees its own; another agency sees nothing of it.
    let a1 = assignment_of(&app, &token, &q1).await;
    let inbox = justice_staff.get("/staff/assignments").await;
    assert!(inbox.contains(ASKED) && inbox.contains(ASKED_ANONYMOUSLY));
    let other = police_staff.get("/staff/assignments").await;
    assert!(!other.contains(ASKED));
    let (status, _) = police_staff
        .get_with_status(&format!("/staff/assignments/{a1}"))
        .await;
    assert_eq!(status, 404);

    // The agency answers through the form; the asker's name shows because he is named.
    let detail = justice_staff.get(&format!("/staff/assignments/{a1}")).await;
    assert!(detail.contains("Trần Văn Bảy") && detail.contains("Gửi trả lời"));
    let (status, location) = justice_staff
        .post_form(
            &format!("/staff/assignments/{a1}/response"),
            &[("body", ANSWER), ("submit", "send")],
        )
        .await;
    assert_eq!(status, 303, "{location}");

    // The organizer approves from the side-by-side view.
    let approval = organizer.get(&format!("/staff/assignments/{a1}")).await;
    assert!(approval.contains(ANSWER) && approval.contains("Duyệt và công bố"));
    let (status, location) = organizer
        .post_form(&format!("/staff/assignments/{a1}/approve"), &[])
        .await;
    assert_eq!(status, 303, "{location}");

    // Everyone sees the answer; nothing personal about anyone who did not choose it.
    let public = BrowserSession::new(&app).await;
    let dialogue_page = public.get(&format!("/d/{id}")).await;
    assert!(dialogue_page.contains(&format!("/d/{id}/questions")));
    let html = public.get(&format!("/d/{id}/questions")).await;
    assert!(html.contains(ASKED) && html.contains(ANSWER) && html.contains("Sở Tư pháp"));
    assert!(html.contains(ASKED_ANONYMOUSLY));
    assert!(html.contains("Trần Văn Bảy"), "named by his choice");
    assert!(
        !html.contains("Lê Thị Mai"),
        "an anonymous asker is never named"
    );
    assert!(!html.contains("@example.vn") && !html.contains("bay@"));
    assert!(!html.contains("090123"), "no phone number");
    assert!(
        !html.contains("Người chấp hành xong hình phạt tù"),
        "no group"
    );
    assert!(html.contains("<svg"), "the overview is drawn");
    assert!(
        html.contains("Đã có trả lời: <b>1</b>"),
        "one of the two approved questions has its answer published"
    );

    // Bảy finds the answer on his page.
    let page = bay.get(&format!("/p/{}", codes[0])).await;
    assert!(page.contains(ANSWER) && page.contains("Sở Tư pháp"));

    // Mai supports Bảy's question from her page without JavaScript, and can take it back.
    let queue = mai.get(&format!("/p/{}/questions", codes[1])).await;
    assert!(queue.contains("Ủng hộ"));
    let (status, location) = mai
        .post_form(
            &format!("/p/{}/questions/{q1}/vote", codes[1]),
            &[("on", "true")],
        )
        .await;
    assert_eq!(status, 303, "{location}");
    let queue = mai.get(&format!("/p/{}/questions", codes[1])).await;
    assert!(queue.contains("Bỏ ủng hộ") && queue.contains("<b>1</b>"));
}

#[actix_web::test]
async fn a_refused_question_keeps_what_was_typed_and_marks_the_field() {
    let app = spawn_app().await;
    let (token, id) = dialogue_taking_questions(&app, json!({})).await;
    let codes = participants(&app, &token, &id, &[("Lê Thị Mai", None)]).await;
    let mai = BrowserSession::new(&app).await;
    mai.get(&format!("/p/{}", codes[0])).await;
    let (status, page) = mai
        .post_form(
            &format!("/p/{}/questions", codes[0]),
            &[("body", "Ngắn quá"), ("topic", "employment")],
        )
        .await;
    assert_eq!(status, 422);
    assert!(page.contains(">Ngắn quá</textarea>"), "{page}");
    assert!(page.contains("aria-invalid=\"true\" aria-describedby=\"ask-body-error\""));
    assert!(page.contains("id=\"ask-body-error\""));
    // No topic chosen: the text is still there.
    let (status, page) = mai
        .post_form(&format!("/p/{}/questions", codes[0]), &[("body", ASKED)])
        .await;
    assert_eq!(status, 422);
    assert!(page.contains(ASKED) && page.contains("ask-topic-error"));
    // Withdrawing a pending question from the page.
    let (status, _) = mai
        .post_form(
            &format!("/p/{}/questions", codes[0]),
            &[("body", ASKED), ("topic", "employment")],
        )
        .await;
    assert_eq!(status, 303);
    let q = question_id(&app, &token, &id, ASKED).await;
    let (status, location) = mai
        .post_form(&format!("/p/{}/questions/{q}/withdraw", codes[0]), &[])
        .await;
    assert_eq!(status, 303, "{location}");
    let page = mai.get(&location).await;
    assert!(page.contains("Đã rút"));
}

/// The public queue is paged (50 a page): nothing is cut off, and the pages link each other.
#[actix_web::test]
async fn the_public_queue_page_shows_every_question_page_by_page() {
    let app = spawn_app().await;
    let (organizer, id) = dialogue_taking_questions(&app, json!({})).await;
    let people: Vec<(String, Option<&str>)> =
        (0..3).map(|n| (format!("Người Hỏi {n}"), None)).collect();
    let named: Vec<(&str, Option<&str>)> = people.iter().map(|(n, e)| (n.as_str(), *e)).collect();
    let codes = participants(&app, &organizer, &id, &named).await;
    for n in 0..55 {
        let body = format!("Câu hỏi thứ {n:02} về thủ tục vay vốn học nghề ở xã?");
        let asked = app
            .ask(
                &id,
                Some(&codes[n % 3]),
                &json!({"body": body, "topic": "employment"}),
            )
            .await;
        assert_eq!(asked.status, 201, "{}", asked.text);
        let q = asked.body["id"].as_str().unwrap().to_string();
        let r = app
            .moderate(&organizer, &q, &json!({"action": "approve"}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let first = app
        .get(&format!("/d/{id}/questions?sort=oldest"), None)
        .await;
    assert_eq!(first.status, 200);
    assert_eq!(first.text.matches("class=\"card question\"").count(), 50);
    assert!(first.text.contains("Câu hỏi thứ 00"));
    assert!(!first.text.contains("Câu hỏi thứ 50"));
    // The page escapes "/" as "&#x2f;".
    assert!(
        first.text.contains("Trang 1 &#x2f; 2"),
        "the pager says where we are"
    );
    assert!(
        first.text.contains("?page=2&amp;sort=oldest"),
        "the next page keeps the order"
    );
    let second = app
        .get(&format!("/d/{id}/questions?page=2&sort=oldest"), None)
        .await;
    assert_eq!(second.text.matches("class=\"card question\"").count(), 5);
    assert!(second.text.contains("Câu hỏi thứ 54"));
    assert!(second.text.contains("?page=1&amp;sort=oldest"));
}

/// A public page without a form goes gzipped to a browser that asks for it, once compressed
/// for everyone; a client that does not accept gzip, or refuses it, gets the page as it is.
#[actix_web::test]
async fn the_public_pages_go_gzipped_to_browsers_that_accept_it() {
    use std::io::Read;
    let app = spawn_app().await;
    let (organizer, id) = dialogue_taking_questions(&app, json!({})).await;
    many_questions(&app, &organizer, &id, 3, true).await;
    for path in [format!("/d/{id}/questions"), format!("/d/{id}")] {
        let fetch = |accept: Option<&'static str>| {
            let mut request = app.client.get(app.url(&path));
            if let Some(accept) = accept {
                request = request.header("Accept-Encoding", accept);
            }
            request.send()
        };
        let plain = fetch(None).await.unwrap();
        assert_eq!(plain.status(), 200);
        assert!(plain.headers().get("content-encoding").is_none());
        let plain = plain.text().await.unwrap();

        let zipped = fetch(Some("gzip, deflate, br")).await.unwrap();
        assert_eq!(zipped.status(), 200);
        assert_eq!(zipped.headers()["content-encoding"], "gzip", "{path}");
        assert_eq!(zipped.headers()["vary"], "Accept-Encoding");
        assert_eq!(zipped.headers()["content-type"], "text/html; charset=utf-8");
        let bytes = zipped.bytes().await.unwrap();
        assert!(
            bytes.len() * 2 < plain.len(),
            "{} of {}",
            bytes.len(),
            plain.len()
        );
        let mut unzipped = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut unzipped)
            .unwrap();
        assert_eq!(unzipped, plain, "{path}: the same page either way");

        let refused = fetch(Some("gzip;q=0, identity")).await.unwrap();
        assert!(refused.headers().get("content-encoding").is_none());
        assert_eq!(refused.text().await.unwrap(), plain);
    }
    // A signed-in organizer's page is their own, with a token in its forms: never shared.
    let signed_in = app
        .client
        .get(app.url(&format!("/d/{id}/questions")))
        .header("Accept-Encoding", "gzip")
        .bearer_auth(&organizer)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 200);
    assert!(signed_in.headers().get("content-encoding").is_none());
}

/// `n` questions entered by the organizer from paper forms, approved when `approve`.
async fn many_questions(
    app: &TestApp,
    token: &str,
    id: &str,
    n: usize,
    approve: bool,
) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let reply = app
            .ask(
                id,
                Some(token),
                &json!({"body": format!("Câu hỏi số {i:03} ghi từ phiếu giấy tại xã"), "topic": "other", "channel": "paper", "asker_agreed": true}),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        let q = reply.body["id"].as_str().unwrap().to_string();
        if approve {
            let moderated = app.moderate(token, &q, &json!({"action": "approve"})).await;
            assert_eq!(moderated.status, 200, "{}", moderated.text);
        }
        ids.push(q);
    }
    ids
}

/// How many question cards a moderation page shows.
fn cards(page: &str) -> usize {
    page.matches("<li class=\"card question\"").count()
}

#[actix_web::test]
async fn the_moderation_queue_is_paged_and_nothing_is_cut_off() {
    let app = spawn_app().await;
    let (token, id) = dialogue_taking_questions(&app, json!({})).await;
    let ids = many_questions(&app, &token, &id, 53, false).await;
    let organizer = staff_browser(&app, "organizer", None).await;
    let base = format!("/staff/dialogues/{id}/questions");

    let first = organizer
        .get(&format!("{base}?status=submitted&sort=oldest"))
        .await;
    assert_eq!(cards(&first), 50);
    assert!(first.contains("Đang xem 1–50 trên tổng số 53"), "{first}");
    let shown =
        |page: &str, n: usize| page.contains(&format!("<p class=\"body\">Câu hỏi số {n:03}"));
    assert!(shown(&first, 0) && shown(&first, 49) && !shown(&first, 50));
    // The next page keeps the filter and the order.
    assert!(first.contains("href=\"?status=submitted&amp;sort=oldest&amp;page=2\""));
    assert!(first.contains("Trang sau") && !first.contains("Trang trước"));

    let second = organizer
        .get(&format!("{base}?status=submitted&sort=oldest&page=2"))
        .await;
    assert_eq!(cards(&second), 3);
    assert!(second.contains("Đang xem 51–53 trên tổng số 53"));
    assert!(shown(&second, 50) && shown(&second, 52) && !shown(&second, 49));
    assert!(second.contains("Trang trước") && !second.contains("Trang sau"));

    // A page past the end (the list shrank) shows the last page; nonsense shows the first.
    let past = organizer.get(&format!("{base}?sort=oldest&page=9")).await;
    assert!(past.contains("Đang xem 51–53 trên tổng số 53"), "{past}");
    let nonsense = organizer.get(&format!("{base}?sort=oldest&page=abc")).await;
    assert!(nonsense.contains("Đang xem 1–50 trên tổng số 53"));

    // A decision made on page 2 comes back to page 2.
    let last = &ids[52];
    let back = format!("{base}?status=submitted&sort=oldest&page=2");
    let (status, location) = organizer
        .post_form(
            &format!("/staff/questions/{last}/moderation"),
            &[("action", "approve"), ("back", &back)],
        )
        .await;
    assert_eq!(status, 303);
    assert_eq!(location, format!("{back}&done=moderated"));
    let after = organizer.get(&location).await;
    assert!(after.contains("Đang xem 51–52 trên tổng số 52"), "{after}");
    assert!(
        after.contains("href=\"?status=submitted&amp;sort=oldest&amp;page=1\""),
        "the notice is not carried on to other pages: {after}"
    );
}

#[actix_web::test]
async fn the_assignment_board_pages_both_of_its_lists() {
    let app = spawn_app().await;
    let (token, id) = dialogue_taking_questions(&app, json!({})).await;
    let ids = many_questions(&app, &token, &id, 104, true).await;
    let agency = app.create_agency_directly("Sở Lao động").await;
    let due = (Utc::now() + Duration::days(5)).to_rfc3339();
    let assigned = app
        .post(
            &format!("/api/v1/dialogues/{id}/assignments"),
            Some(&token),
            &json!({"question_ids": &ids[..52], "agency_id": agency, "due_at": due}),
        )
        .await;
    assert_eq!(assigned.status, 201, "{}", assigned.text);
    let organizer = staff_browser(&app, "organizer", None).await;
    let base = format!("/staff/dialogues/{id}/assignments");

    let board = organizer.get(&base).await;
    assert_eq!(board.matches("name=\"question_id\"").count(), 50);
    assert!(
        board.contains("Câu hỏi đã duyệt, chưa giao (52)"),
        "{board}"
    );
    assert!(board.contains("Đã giao (52)"));
    assert!(board.contains("Đang xem 1–50 trên tổng số 52"));
    assert_eq!(board.matches("href=\"/staff/assignments/").count(), 50);
    assert!(board.contains("href=\"?approved_page=2\""));
    assert!(board.contains("href=\"?assigned_page=2\""));

    // Each list turns its own pages and keeps the other's.
    let both = organizer
        .get(&format!("{base}?approved_page=2&assigned_page=2"))
        .await;
    assert_eq!(both.matches("name=\"question_id\"").count(), 2);
    assert_eq!(both.matches("href=\"/staff/assignments/").count(), 2);
    assert!(both.contains("Đang xem 51–52 trên tổng số 52"));
    assert!(
        both.contains("href=\"?assigned_page=2&amp;approved_page=1\""),
        "{both}"
    );
}

/// The `into` choices of the merge form of question `q` on a moderation page.
fn merge_choices(page: &str, q: &str) -> Vec<String> {
    let start = page
        .find(&format!("id=\"q-{q}\""))
        .expect("the question's card");
    let card = &page[start..];
    let card = &card[..card.find("</li>\n").unwrap_or(card.len())];
    card.split("name=\"into\" value=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_string())
        .collect()
}

#[actix_web::test]
async fn the_merge_control_offers_only_similar_questions_and_the_shortcuts_are_listed() {
    let app = spawn_app().await;
    let (token, id) = dialogue_taking_questions(&app, json!({})).await;
    let codes = participants(&app, &token, &id, &[("Lê Thị Mai", None)]).await;
    let ask = |body: &'static str, topic: &'static str| {
        let app = &app;
        let code = codes[0].clone();
        let id = id.clone();
        async move { crate::questions::asked(app, &id, Some(&code), body, topic).await }
    };
    let loan = ask(
        "Người mới ra tù có được vay vốn Ngân hàng Chính sách xã hội để chăn nuôi bò không?",
        "loans_livelihood",
    )
    .await;
    let loan_again = ask(
        "Xin hỏi người mới ra tù có được vay vốn Ngân hàng Chính sách xã hội để chăn nuôi không?",
        "loans_livelihood",
    )
    .await;
    let residence = ask(
        "Thủ tục đăng ký thường trú lại tại xã sau khi về địa phương gồm giấy tờ gì?",
        "residence_documents",
    )
    .await;
    // An approved question can still be merged, into a question like it.
    let approved = app
        .moderate(&token, &loan, &json!({"action": "approve"}))
        .await;
    assert_eq!(approved.status, 200, "{}", approved.text);

    let organizer = staff_browser(&app, "organizer", None).await;
    let page = organizer
        .get(&format!("/staff/dialogues/{id}/questions"))
        .await;
    assert_eq!(merge_choices(&page, &loan_again), vec![loan.clone()]);
    assert_eq!(merge_choices(&page, &loan), vec![loan_again.clone()]);
    assert!(
        merge_choices(&page, &residence).is_empty(),
        "nothing like it: no merge control"
    );
    assert!(
        !page[page.find(&format!("id=\"q-{residence}\"")).unwrap()..]
            .split("</li>\n")
            .next()
            .unwrap()
            .contains("action\" value=\"merge\"")
    );

    // The shortcuts are listed in Vietnamese, shown by the script (the page works without it).
    assert!(page.contains("<details class=\"shortcuts card\" id=\"shortcuts\" hidden>"));
    assert!(page.contains("Phím tắt") && page.contains("duyệt câu hỏi đang chọn"));
    assert!(page.contains("<script src=\"/static/moderation.js\" defer></script>"));
    let script = app
        .client
        .get(app.url("/static/moderation.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status().as_u16(), 200);
    assert!(
        script.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );

    // Merging through the page still works, and lands back on the list.
    let (status, location) = organizer
        .post_form(
            &format!("/staff/questions/{loan_again}/moderation"),
            &[
                ("action", "merge"),
                ("into", &loan),
                ("back", &format!("/staff/dialogues/{id}/questions")),
            ],
        )
        .await;
    assert_eq!(status, 303, "{location}");
    let list = app
        .get(
            &format!("/api/v1/dialogues/{id}/questions?status=merged"),
            Some(&token),
        )
        .await;
    assert_eq!(list.body["items"][0]["id"], loan_again.as_str());
    assert_eq!(list.body["items"][0]["merged_into"], loan.as_str());
}

#[actix_web::test]
async fn the_agency_inbox_pages_what_is_waiting_and_what_is_done() {
    let app = spawn_app().await;
    let (token, id) = dialogue_taking_questions(&app, json!({})).await;
    let ids = many_questions(&app, &token, &id, 53, true).await;
    let agency = app.create_agency_directly("Sở Lao động").await;
    let due = (Utc::now() + Duration::days(5)).to_rfc3339();
    let assigned = app
        .post(
            &format!("/api/v1/dialogues/{id}/assignments"),
            Some(&token),
            &json!({"question_ids": ids, "agency_id": agency, "due_at": due}),
        )
        .await;
    assert_eq!(assigned.status, 201, "{}", assigned.text);
    let email = "canbo@laodong.example.vn";
    app.create_account(email, "Cán Bộ Lao Động", "agency", Some(&agency))
        .await;
    let agency_token = app.login(email, crate::helpers::PASSWORD).await.body["token"]
        .as_str()
        .unwrap()
        .to_string();
    let all = app
        .get("/api/v1/assignments?per_page=200", Some(&agency_token))
        .await;
    for q in &ids[..2] {
        let a = all.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["question"]["id"] == q.as_str())
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let declined = app
            .post(
                &format!("/api/v1/assignments/{a}/decline"),
                Some(&agency_token),
                &json!({"reason": "Không thuộc thẩm quyền của Sở."}),
            )
            .await;
        assert_eq!(declined.status, 200, "{}", declined.text);
    }
    let inbox = BrowserSession::new(&app).await;
    inbox.sign_in(email).await;

    let first = inbox.get("/staff/assignments").await;
    assert_eq!(first.matches("<li class=\"card\">").count(), 50);
    assert!(
        first.contains("Cần xử lý (51)") && first.contains("Đã xong (2)"),
        "{first}"
    );
    assert!(first.contains("Đang xem 1–50 trên tổng số 51"));
    assert!(first.contains("Đang xem 1–2 trên tổng số 2"));
    assert!(first.contains("href=\"?waiting_page=2\""));

    let second = inbox.get("/staff/assignments?waiting_page=2").await;
    assert_eq!(second.matches("<li class=\"card\">").count(), 1);
    assert!(second.contains("Đang xem 51–51 trên tổng số 51"));
    assert!(second.contains("Đã xong (2)"), "the other list stays");
}
