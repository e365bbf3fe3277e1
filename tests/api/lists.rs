//! The organizers' lists people can work with (issue "No dead ends", item 11): search by
//! name (without diacritics), phone or code with a count per status, CSV exports, print
//! views, tables that keep their labels on a phone, waitlisted invitees shown as waiting,
//! "send again" with a confirmation naming the person, a reissued code shown once, and
//! editing or removing an invitee.

use diesel::prelude::*;
use doithoai::db::schema::audit_log;
use serde_json::{Value, json};

use crate::helpers::{BrowserSession, TestApp, by_name, invitations, open_dialogue, spawn_app};

const ORGANIZER: &str = "danhsach@benluc.example.vn";

async fn organizer(app: &TestApp) -> BrowserSession<'_> {
    app.create_account(ORGANIZER, "Ban Tổ Chức", "organizer", None)
        .await;
    let browser = BrowserSession::new(app).await;
    browser.sign_in(ORGANIZER).await;
    browser
}

/// An open dialogue of `capacity` seats with these invitees; the first `accepting` accept.
async fn dialogue_with(
    app: &TestApp,
    capacity: i64,
    people: Value,
    accepting: &[&str],
) -> (String, String, Vec<Value>) {
    let (token, id) = open_dialogue(app, json!({"capacity": capacity})).await;
    let added = app.add_invitees(&token, &id, &people).await;
    assert!(added.status < 300, "{}", added.text);
    let all = invitations(app, &token, &id).await;
    for name in accepting {
        let code = by_name(&all, name)["code"].as_str().unwrap().to_string();
        let answer = app.rsvp(&code, "accept").await;
        assert!(answer.status < 300, "{}", answer.text);
    }
    let all = invitations(app, &token, &id).await;
    (token, id, all)
}

fn three_people() -> Value {
    json!([
        {"full_name": "Nguyễn Văn Ánh", "phone": "0912 345 678", "email": "anh@example.vn", "category": "completed_sentence", "address": "Ấp 3, Bến Lức"},
        {"full_name": "Đặng Thị Đào", "phone": "0987 000 111", "category": "family_member"},
        {"full_name": "Trần Văn Bình", "email": "binh@example.vn", "category": "other"},
    ])
}

fn audited(app: &TestApp, action: &str) -> usize {
    let mut conn = doithoai::db::connect(&app.db.url).unwrap();
    audit_log::table
        .filter(audit_log::action.eq(action))
        .select(audit_log::id)
        .load::<String>(&mut conn)
        .unwrap()
        .len()
}

fn rows_named(html: &str, name: &str) -> usize {
    html.matches(&format!(">{name}</td>")).count()
}

/// The filter link of a status with its count, as the list shows it.
fn filter(label: &str, count: usize) -> String {
    format!("{label} <span class=\"count\">{count}</span></a>")
}

/// The invitation id of the person named `name` in a list of invitations.
fn id_of(all: &[Value], name: &str) -> String {
    by_name(all, name)["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_invitee_list_finds_people_without_diacritics_by_phone_or_code_and_counts_each_status()
{
    let app = spawn_app().await;
    let (_token, id, all) = dialogue_with(&app, 10, three_people(), &["Trần Văn Bình"]).await;
    let browser = organizer(&app).await;
    let path = format!("/staff/dialogues/{id}/invitations");

    let everyone = browser.get(&path).await;
    assert!(everyone.contains(&filter("Tất cả", 3)), "{everyone}");
    assert!(everyone.contains(&filter("Chưa gửi", 2)));
    assert!(everyone.contains(&filter("Nhận lời", 1)));
    assert!(everyone.contains(&filter("Từ chối", 0)));

    let by_name = browser.get(&format!("{path}?q=nguyen+van")).await;
    assert_eq!(rows_named(&by_name, "Nguyễn Văn Ánh"), 1, "{by_name}");
    assert_eq!(rows_named(&by_name, "Trần Văn Bình"), 0);
    assert_eq!(rows_named(&by_name, "Đặng Thị Đào"), 0);
    // The counts are those of the people found.
    assert!(by_name.contains(&filter("Tất cả", 1)) && by_name.contains(&filter("Nhận lời", 0)));
    // đ is found as d.
    let dao = browser.get(&format!("{path}?q=dang+thi+dao")).await;
    assert_eq!(rows_named(&dao, "Đặng Thị Đào"), 1);

    let by_phone = browser.get(&format!("{path}?q=345+678")).await;
    assert_eq!(rows_named(&by_phone, "Nguyễn Văn Ánh"), 1);
    assert_eq!(rows_named(&by_phone, "Đặng Thị Đào"), 0);

    let code = crate::helpers::by_name(&all, "Đặng Thị Đào")["code"]
        .as_str()
        .unwrap()
        .to_lowercase();
    let by_code = browser.get(&format!("{path}?q={code}")).await;
    assert_eq!(rows_named(&by_code, "Đặng Thị Đào"), 1, "{by_code}");
    assert_eq!(rows_named(&by_code, "Nguyễn Văn Ánh"), 0);

    // A filter keeps the search, and the search keeps the filter.
    let accepted = browser.get(&format!("{path}?q=van&status=accepted")).await;
    assert_eq!(rows_named(&accepted, "Trần Văn Bình"), 1);
    assert_eq!(rows_named(&accepted, "Nguyễn Văn Ánh"), 0);
    assert!(accepted.contains("name=\"status\" value=\"accepted\""));
    assert!(
        accepted.contains("href=\"?q=van&amp;status=pending\""),
        "{accepted}"
    );
}

#[tokio::test]
async fn the_registration_and_attendance_lists_search_and_count_each_status() {
    let app = spawn_app().await;
    let (token, id, all) =
        dialogue_with(&app, 1, three_people(), &["Nguyễn Văn Ánh", "Đặng Thị Đào"]).await;
    let code = by_name(&all, "Nguyễn Văn Ánh")["code"].as_str().unwrap();
    assert_eq!(app.check_in(&token, &id, code).await.status, 200);
    let browser = organizer(&app).await;

    let registrations = format!("/staff/dialogues/{id}/registrations");
    let list = browser.get(&registrations).await;
    assert!(list.contains(&filter("Đã điểm danh", 1)), "{list}");
    assert!(list.contains(&filter("Đang chờ chỗ", 1)));
    assert!(list.contains(&filter("Có chỗ", 0)));
    let found = browser.get(&format!("{registrations}?q=dao")).await;
    assert_eq!(rows_named(&found, "Đặng Thị Đào"), 1, "{found}");
    assert_eq!(rows_named(&found, "Nguyễn Văn Ánh"), 0);
    let waiting = browser
        .get(&format!("{registrations}?status=waitlisted"))
        .await;
    assert_eq!(rows_named(&waiting, "Đặng Thị Đào"), 1);
    assert_eq!(rows_named(&waiting, "Nguyễn Văn Ánh"), 0);

    let attendance = format!("/staff/dialogues/{id}/attendance");
    let people = browser.get(&attendance).await;
    assert!(people.contains(&filter("Đã điểm danh", 1)), "{people}");
    assert!(people.contains(&filter("Đang chờ chỗ", 1)));
    assert!(people.contains(&filter("Chưa trả lời", 1)));
    let found = browser.get(&format!("{attendance}?q=0987000111")).await;
    assert_eq!(rows_named(&found, "Đặng Thị Đào"), 1, "{found}");
    assert_eq!(rows_named(&found, "Trần Văn Bình"), 0);
    let came = browser
        .get(&format!("{attendance}?status=checked_in"))
        .await;
    assert_eq!(rows_named(&came, "Nguyễn Văn Ánh"), 1);
    assert_eq!(rows_named(&came, "Trần Văn Bình"), 0);
}

async fn download(browser: &BrowserSession<'_>, app: &TestApp, path: &str) -> (u16, Vec<u8>) {
    let res = browser.client.get(app.url(path)).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn the_csv_exports_have_a_bom_inert_formulas_contact_details_for_organizers_and_are_audited()
{
    let app = spawn_app().await;
    let people = json!([
        {"full_name": "=HYPERLINK(\"x\")", "phone": "0912 345 678", "email": "x@example.vn", "category": "press", "address": "Ấp 3"},
        {"full_name": "Đặng Thị Đào", "phone": "+84 987 000 111", "category": "family_member"},
    ]);
    let (_token, id, _) = dialogue_with(&app, 10, people, &["Đặng Thị Đào"]).await;
    let browser = organizer(&app).await;

    let (status, bytes) = download(
        &browser,
        &app,
        &format!("/staff/dialogues/{id}/invitations.csv"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "UTF-8 with a BOM");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "Họ và tên,Mã,Trạng thái,Nhóm,Số điện thoại,Email,Địa chỉ"
    );
    assert!(text.contains("\"'=HYPERLINK(\"\"x\"\")\""), "{text}");
    assert!(!text.contains("\n=HYPERLINK"));
    // A phone written +84 starts with a formula sign too.
    assert!(text.contains(",'+84 987 000 111,"), "{text}");
    assert!(text.contains("x@example.vn") && text.contains("Ấp 3"));
    assert!(text.contains("Đặng Thị Đào") && text.contains("Nhận lời"));
    assert_eq!(audited(&app, "invitations.export"), 1);

    // The search and filter of the page apply to the file.
    let (_, bytes) = download(
        &browser,
        &app,
        &format!("/staff/dialogues/{id}/invitations.csv?status=accepted"),
    )
    .await;
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.contains("Đặng Thị Đào") && !text.contains("HYPERLINK"));
    assert_eq!(audited(&app, "invitations.export"), 2);

    for (list, action) in [
        ("registrations", "registrations.export"),
        ("attendance", "attendance.export"),
    ] {
        let (status, bytes) =
            download(&browser, &app, &format!("/staff/dialogues/{id}/{list}.csv")).await;
        assert_eq!(status, 200, "{list}");
        assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "{list}");
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        assert!(
            text.contains("Đặng Thị Đào") && text.contains("'+84 987 000 111"),
            "{text}"
        );
        assert_eq!(audited(&app, action), 1, "{list}");
    }

    // Agency staff (who have no business with the list) get nothing, and nothing is logged.
    let agency_id = app.create_agency_directly("Công an huyện").await;
    app.create_account("cb@congan.example.vn", "Cán bộ", "agency", Some(&agency_id))
        .await;
    let agency = BrowserSession::new(&app).await;
    agency.get("/login").await;
    agency
        .post_form(
            "/login",
            &[
                ("email", "cb@congan.example.vn"),
                ("password", crate::helpers::PASSWORD),
                ("next", "/staff"),
            ],
        )
        .await;
    for list in ["invitations", "registrations", "attendance"] {
        let (status, bytes) =
            download(&agency, &app, &format!("/staff/dialogues/{id}/{list}.csv")).await;
        assert_eq!(status, 403, "{list}");
        let body = String::from_utf8_lossy(&bytes);
        assert!(
            !body.contains("Đặng Thị Đào") && !body.contains("0987"),
            "{list}"
        );
    }
    assert_eq!(audited(&app, "invitations.export"), 2);
}

#[tokio::test]
async fn the_print_views_have_every_row_and_no_navigation_or_forms() {
    let app = spawn_app().await;
    let (_token, id, _) = dialogue_with(&app, 10, three_people(), &["Nguyễn Văn Ánh"]).await;
    let browser = organizer(&app).await;
    for list in ["invitations", "registrations", "attendance"] {
        let screen = browser.get(&format!("/staff/dialogues/{id}/{list}")).await;
        assert!(screen.contains("<header class=\"top\">"), "{list}");
        assert!(
            screen.contains("?print=1"),
            "{list}: a link to the print view"
        );
        let paper = browser
            .get(&format!("/staff/dialogues/{id}/{list}?print=1"))
            .await;
        assert!(!paper.contains("<header class=\"top\">"), "{list}: {paper}");
        assert!(!paper.contains("<form"), "{list}: {paper}");
        assert!(!paper.contains("class=\"tabs\""), "{list}");
        assert!(paper.contains("Bản in danh sách"), "{list}");
        assert_eq!(rows_named(&paper, "Nguyễn Văn Ánh"), 1, "{list}: {paper}");
    }
    let paper = browser
        .get(&format!(
            "/staff/dialogues/{id}/invitations?print=1&status=pending"
        ))
        .await;
    assert_eq!(rows_named(&paper, "Trần Văn Bình"), 1);
    assert_eq!(rows_named(&paper, "Nguyễn Văn Ánh"), 0);
    // On paper too, the stylesheet hides navigation and forms.
    let css = app
        .client
        .get(app.url("/static/app.css"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(css.contains("@media print"));
}

#[tokio::test]
async fn every_cell_of_the_lists_carries_its_column_label_for_phones() {
    let app = spawn_app().await;
    let (_token, id, _) = dialogue_with(&app, 10, three_people(), &["Nguyễn Văn Ánh"]).await;
    let browser = organizer(&app).await;
    for list in ["invitations", "registrations", "attendance"] {
        let html = browser.get(&format!("/staff/dialogues/{id}/{list}")).await;
        assert!(
            html.contains("<td data-label=\"Họ và tên\">Nguyễn Văn Ánh</td>"),
            "{list}: {html}"
        );
        assert!(
            html.contains("<td data-label=\"Mã\" class=\"code\">"),
            "{list}"
        );
        assert!(html.contains("data-label=\"Trạng thái\""), "{list}");
        // Every cell of the people table has a label.
        let table = &html[html.find("<table class=\"list stack people\">").unwrap()..];
        let body = &table[..table.find("</table>").unwrap()];
        assert_eq!(
            body.matches("<td").count(),
            body.matches("<td data-label=").count()
        );
    }
    let css = app
        .client
        .get(app.url("/static/app.css"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(css.contains("table.list td[data-label]::before { content: attr(data-label);"));
}

#[tokio::test]
async fn an_invitee_on_the_waitlist_is_shown_as_waiting_not_as_accepted() {
    let app = spawn_app().await;
    let (_token, id, _) =
        dialogue_with(&app, 1, three_people(), &["Nguyễn Văn Ánh", "Đặng Thị Đào"]).await;
    let browser = organizer(&app).await;
    let html = browser
        .get(&format!("/staff/dialogues/{id}/invitations"))
        .await;
    let row = |name: &str| {
        let at = html.find(&format!(">{name}</td>")).unwrap();
        let rest = &html[at..];
        rest[..rest.find("</tr>").unwrap()].to_string()
    };
    assert!(
        row("Đặng Thị Đào").contains(">Đang chờ chỗ</span>"),
        "{html}"
    );
    assert!(!row("Đặng Thị Đào").contains("Nhận lời"));
    assert!(row("Nguyễn Văn Ánh").contains(">Nhận lời</span>"));
    assert!(html.contains(&filter("Nhận lời", 1)) && html.contains(&filter("Đang chờ chỗ", 1)));
}

#[tokio::test]
async fn send_again_is_offered_only_for_sent_invitations_after_a_step_naming_the_person() {
    let app = spawn_app().await;
    let (token, id, _) = dialogue_with(&app, 10, three_people(), &[]).await;
    let browser = organizer(&app).await;
    let path = format!("/staff/dialogues/{id}/invitations");
    let before = browser.get(&path).await;
    assert!(
        !before.contains("/resend\""),
        "nothing was sent yet: {before}"
    );

    app.send_invitations(&token, &id).await;
    app.drain_jobs().await;
    let all = invitations(&app, &token, &id).await;
    let anh = id_of(&all, "Nguyễn Văn Ánh");
    let dao = id_of(&all, "Đặng Thị Đào");
    let list = browser.get(&path).await;
    assert!(list.contains(&format!("href=\"/staff/invitations/{anh}/resend\"")));
    // Without an email nothing was sent, so nothing can be sent again.
    assert!(!list.contains(&format!("/staff/invitations/{dao}/resend")));
    let (status, _) = browser
        .get_with_status(&format!("/staff/invitations/{dao}/resend"))
        .await;
    assert_eq!(status, 409);

    let step = browser
        .get(&format!("/staff/invitations/{anh}/resend"))
        .await;
    assert!(
        step.contains("<h1>Gửi lại thư mời cho Nguyễn Văn Ánh?</h1>"),
        "{step}"
    );
    assert!(step.contains("anh@example.vn"));
    assert!(step.contains(">Có, gửi lại thư mời</button>"));
    assert!(step.contains(&format!("href=\"{path}\">Quay lại</a>")));
    // Looking at the step sends nothing.
    assert_eq!(app.drain_jobs().await, 0);

    let (status, location) = browser
        .post_form(&format!("/staff/invitations/{anh}/resend"), &[])
        .await;
    assert_eq!(status, 303);
    assert_eq!(location, path);
    let after = browser.get(&location).await;
    assert!(
        after.contains("Đã gửi lại thư mời cho Nguyễn Văn Ánh."),
        "{after}"
    );
    assert_eq!(app.drain_jobs().await, 1);
    let again = browser.get(&location).await;
    assert!(!again.contains("Đã gửi lại thư mời cho"), "shown once");
}

#[tokio::test]
async fn a_reissued_code_is_shown_once_after_the_redirect_and_a_refresh_issues_nothing() {
    let app = spawn_app().await;
    let (token, id, all) = dialogue_with(&app, 10, three_people(), &[]).await;
    let invitation = by_name(&all, "Đặng Thị Đào");
    let (invitation_id, old_code) = (
        invitation["id"].as_str().unwrap().to_string(),
        invitation["code"].as_str().unwrap().to_string(),
    );
    let browser = organizer(&app).await;
    let path = format!("/staff/dialogues/{id}/invitations");
    browser.get(&path).await;
    let (status, location) = browser
        .post_form(&format!("/staff/invitations/{invitation_id}/reissue"), &[])
        .await;
    assert_eq!(status, 303);
    assert_eq!(location, path);
    let new_code = by_name(&invitations(&app, &token, &id).await, "Đặng Thị Đào")["code"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_code, old_code);

    let shown = browser.get(&location).await;
    assert!(shown.contains("Mã mới của Đặng Thị Đào"), "{shown}");
    assert!(shown.contains(&format!("<b class=\"code\">{new_code}</b>")));
    // The new link, once (minijinja writes its slashes as `&#x2f;`).
    assert!(shown.contains("&#x2f;p&#x2f;"), "{shown}");

    let refreshed = browser.get(&location).await;
    assert!(!refreshed.contains("Mã mới của"), "{refreshed}");
    assert!(!refreshed.contains("&#x2f;p&#x2f;"));
    let still = by_name(&invitations(&app, &token, &id).await, "Đặng Thị Đào")["code"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(still, new_code, "a refresh issues no other code");
    assert_eq!(audited(&app, "participant.reissue"), 1);
}

#[tokio::test]
async fn an_organizer_edits_an_invitee_and_the_change_is_audited() {
    let app = spawn_app().await;
    let (token, id, all) = dialogue_with(&app, 10, three_people(), &[]).await;
    let invitation_id = id_of(&all, "Đặng Thị Đào");
    let browser = organizer(&app).await;
    let list = browser
        .get(&format!("/staff/dialogues/{id}/invitations"))
        .await;
    let edit = format!("/staff/invitations/{invitation_id}/edit");
    assert!(list.contains(&format!("href=\"{edit}\"")));
    let form = browser.get(&edit).await;
    assert!(form.contains("value=\"Đặng Thị Đào\""), "{form}");
    assert!(form.contains("<option value=\"family_member\" selected>"));

    // A bad phone: the form again, with what was typed and the reason.
    let fields = [
        ("full_name", "Đặng Thị Hồng Đào"),
        ("email", "dao@example.vn"),
        ("phone", "abc"),
        ("category", "press"),
        ("address", "Ấp 5"),
    ];
    let (status, page) = browser.post_form(&edit, &fields).await;
    assert_eq!(status, 422);
    assert!(page.contains("value=\"Đặng Thị Hồng Đào\"") && page.contains("aria-invalid"));
    // Someone else's email: refused, nothing changed.
    let mut taken = fields;
    taken[1] = ("email", "anh@example.vn");
    taken[2] = ("phone", "0987 000 222");
    let (status, page) = browser.post_form(&edit, &taken).await;
    assert_eq!(status, 409, "{page}");
    assert_eq!(audited(&app, "invitation.edit"), 0);

    let mut good = fields;
    good[2] = ("phone", "0987 000 222");
    let (status, location) = browser.post_form(&edit, &good).await;
    assert_eq!(status, 303, "{location}");
    let after = browser.get(&location).await;
    assert!(
        after.contains("Đã lưu thông tin của Đặng Thị Hồng Đào."),
        "{after}"
    );
    let row = by_name(&invitations(&app, &token, &id).await, "Đặng Thị Hồng Đào").clone();
    assert_eq!(row["email"], "dao@example.vn");
    assert_eq!(row["phone"], "0987 000 222");
    assert_eq!(row["category"], "press");
    assert_eq!(row["address"], "Ấp 5");
    assert_eq!(audited(&app, "invitation.edit"), 1);
    // The search finds the new name.
    let found = browser
        .get(&format!("/staff/dialogues/{id}/invitations?q=hong+dao"))
        .await;
    assert_eq!(rows_named(&found, "Đặng Thị Hồng Đào"), 1);

    // The same through the API.
    let reply = app
        .patch(
            &format!("/api/v1/invitations/{invitation_id}"),
            Some(&token),
            &json!({"full_name": "Đặng Thị Đào", "category": "family_member"}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["full_name"], "Đặng Thị Đào");
    assert!(reply.body["email"].is_null());
    let bad = app
        .patch(
            &format!("/api/v1/invitations/{invitation_id}"),
            Some(&token),
            &json!({"full_name": "", "category": "family_member"}),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.body["error"]["field_codes"]["full_name"], "required");
    assert_eq!(audited(&app, "invitation.edit"), 2);
}

#[tokio::test]
async fn removing_an_invitee_asks_first_and_is_refused_once_they_have_accepted() {
    let app = spawn_app().await;
    let (token, id, all) = dialogue_with(&app, 10, three_people(), &["Nguyễn Văn Ánh"]).await;
    let dao = id_of(&all, "Đặng Thị Đào");
    let anh = id_of(&all, "Nguyễn Văn Ánh");
    let browser = organizer(&app).await;
    let path = format!("/staff/dialogues/{id}/invitations");
    let list = browser.get(&path).await;
    assert!(list.contains(&format!("href=\"/staff/invitations/{dao}/remove\"")));
    assert!(!list.contains(&format!("href=\"/staff/invitations/{anh}/remove\"")));

    let step = browser
        .get(&format!("/staff/invitations/{dao}/remove"))
        .await;
    assert!(
        step.contains("<h1>Xóa Đặng Thị Đào khỏi danh sách mời?</h1>"),
        "{step}"
    );
    assert!(step.contains(">Có, xóa khỏi danh sách</button>"));
    assert_eq!(
        invitations(&app, &token, &id).await.len(),
        3,
        "looking removes nothing"
    );
    let (status, location) = browser
        .post_form(&format!("/staff/invitations/{dao}/remove"), &[])
        .await;
    assert_eq!(status, 303);
    let after = browser.get(&location).await;
    assert!(
        after.contains("Đã xóa Đặng Thị Đào khỏi danh sách mời."),
        "{after}"
    );
    assert_eq!(rows_named(&after, "Đặng Thị Đào"), 0);
    assert_eq!(invitations(&app, &token, &id).await.len(), 2);
    assert_eq!(audited(&app, "invitation.remove"), 1);

    // Someone who accepted holds a seat: the step says why, with no button, and a post is
    // refused.
    let step = browser
        .get(&format!("/staff/invitations/{anh}/remove"))
        .await;
    assert!(step.contains("không xóa khỏi danh sách được"), "{step}");
    assert!(!step.contains(&format!("action=\"/staff/invitations/{anh}/remove\"")));
    let (status, _) = browser
        .post_form(&format!("/staff/invitations/{anh}/remove"), &[])
        .await;
    assert_eq!(status, 409);
    let reply = app
        .delete(&format!("/api/v1/invitations/{anh}"), Some(&token))
        .await;
    assert_eq!(reply.status, 409);
    assert_eq!(reply.code(), "invitee_registered");
    assert_eq!(invitations(&app, &token, &id).await.len(), 2);

    let binh = id_of(&all, "Trần Văn Bình");
    let reply = app
        .delete(&format!("/api/v1/invitations/{binh}"), Some(&token))
        .await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    assert_eq!(invitations(&app, &token, &id).await.len(), 1);
    assert_eq!(audited(&app, "invitation.remove"), 2);
}

#[tokio::test]
async fn the_openapi_document_lists_editing_and_removing_an_invitee_with_their_codes() {
    let app = spawn_app().await;
    let doc = app.get("/api/openapi.json", None).await.body;
    let path = &doc["paths"]["/api/v1/invitations/{id}"];
    let edit = &path["patch"];
    assert_eq!(edit["operationId"], "invitations_edit");
    assert!(edit["requestBody"].is_object());
    for status in ["200", "403", "404", "409", "422"] {
        assert!(edit["responses"][status].is_object(), "PATCH {status}");
    }
    let remove = &path["delete"];
    assert_eq!(remove["operationId"], "invitations_remove");
    assert!(remove["responses"]["204"].is_object());
    let conflict = remove["responses"]["409"]["description"].as_str().unwrap();
    assert!(conflict.contains("invitee_registered") && conflict.contains("invitation_queued"));
}

#[tokio::test]
async fn an_invitee_who_voted_stays_on_the_list_so_that_every_count_stays_true() {
    let app = spawn_app().await;
    let (token, id) = crate::questions::dialogue_taking_questions(&app, json!({})).await;
    let added = app.add_invitees(&token, &id, &three_people()).await;
    assert!(added.status < 300, "{}", added.text);
    let all = invitations(&app, &token, &id).await;
    let code_of = |name: &str| by_name(&all, name)["code"].as_str().unwrap().to_string();
    let question = crate::questions::asked(
        &app,
        &id,
        Some(&code_of("Nguyễn Văn Ánh")),
        "Xin hỏi thủ tục vay vốn ưu đãi để mở tiệm sửa xe máy?",
        "loans_livelihood",
    )
    .await;
    let approved = app
        .moderate(&token, &question, &json!({"action": "approve"}))
        .await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    // Bình never answered the invitation, but his code lets him vote.
    let voted = app.vote(&code_of("Trần Văn Bình"), &question).await;
    assert_eq!(voted.status, 200, "{}", voted.text);
    assert_eq!(voted.body["votes"], 1);

    let binh = id_of(&all, "Trần Văn Bình");
    let reply = app
        .delete(&format!("/api/v1/invitations/{binh}"), Some(&token))
        .await;
    assert_eq!(reply.status, 409, "{}", reply.text);
    assert_eq!(reply.code(), "invitee_registered");
    assert_eq!(invitations(&app, &token, &id).await.len(), 3);
    let mut conn = doithoai::db::connect(&app.db.url).unwrap();
    use doithoai::db::schema::{questions, votes};
    let stored: i32 = questions::table
        .find(&question)
        .select(questions::vote_count)
        .first(&mut conn)
        .unwrap();
    let counted: i64 = votes::table
        .filter(votes::question_id.eq(&question))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!((stored, counted), (1, 1));
}
