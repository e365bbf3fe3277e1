//! The door page as door staff use it: the code typed shown back on every result, search by
//! name (without diacritics) or phone, admitting from the waitlist, undoing a check-in, and
//! the walk-in form for someone who came without registering.

use diesel::prelude::*;
use doithoai::db::schema::audit_log;
use serde_json::{Value, json};

use crate::helpers::{BrowserSession, TestApp, by_name, invitations, open_dialogue, spawn_app};

/// An open dialogue of `capacity` seats with these invitees (name, phone) who all accept in
/// order, and a signed-in organizer at its door. Returns the token, the dialogue and each
/// person's code.
async fn door_with(
    app: &TestApp,
    capacity: i64,
    people: &[(&str, Option<&str>)],
    accepting: usize,
) -> (String, String, Vec<String>) {
    let (token, id) = open_dialogue(app, json!({"capacity": capacity})).await;
    let list: Vec<Value> = people
        .iter()
        .map(|(name, phone)| json!({"full_name": name, "phone": phone, "category": "other"}))
        .collect();
    let added = app.add_invitees(&token, &id, &json!(list)).await;
    assert!(added.status < 300, "{}", added.text);
    let all = invitations(app, &token, &id).await;
    let codes: Vec<String> = people
        .iter()
        .map(|(name, _)| by_name(&all, name)["code"].as_str().unwrap().to_string())
        .collect();
    for code in codes.iter().take(accepting) {
        let answer = app.rsvp(code, "accept").await;
        assert!(answer.status < 300, "{}", answer.text);
    }
    (token, id, codes)
}

async fn organizer_at_door(app: &TestApp) -> BrowserSession<'_> {
    app.create_account("cua@benluc.example.vn", "Cán Bộ Cửa", "organizer", None)
        .await;
    let door = BrowserSession::new(app).await;
    door.sign_in("cua@benluc.example.vn").await;
    door
}

fn audited(app: &TestApp, action: &str) -> Vec<Option<String>> {
    let mut conn = doithoai::db::connect(&app.db.url).unwrap();
    audit_log::table
        .filter(audit_log::action.eq(action))
        .select(audit_log::detail)
        .load(&mut conn)
        .unwrap()
}

async fn attendance(app: &TestApp, token: &str, id: &str) -> (i64, i64, i64) {
    let counts = app.attendance(token, id).await.body;
    (
        counts["registered"].as_i64().unwrap(),
        counts["waitlisted"].as_i64().unwrap(),
        counts["checked_in"].as_i64().unwrap(),
    )
}

#[tokio::test]
async fn every_door_result_shows_the_code_as_it_was_typed() {
    let app = spawn_app().await;
    let (_token, id, codes) = door_with(
        &app,
        1,
        &[("Nguyễn Văn Ánh", None), ("Đặng Thị Đào", None)],
        2,
    )
    .await;
    let door = organizer_at_door(&app).await;
    door.get(&format!("/staff/dialogues/{id}/door")).await;
    let path = format!("/staff/dialogues/{id}/door");
    let typed = codes[0].to_lowercase().replace('-', " ");
    let (status, ok) = door.post_form(&path, &[("code", &typed)]).await;
    assert_eq!(status, 200);
    assert!(ok.contains("door-result ok"), "{ok}");
    assert!(ok.contains("Mã đã nhập") && ok.contains(&typed), "{ok}");
    let (_, again) = door.post_form(&path, &[("code", &codes[0])]).await;
    assert!(again.contains("door-result again") && again.contains(&codes[0]));
    assert!(again.contains("Mã đã nhập"));
    let (_, unknown) = door.post_form(&path, &[("code", "K7M-4PX-Q9X")]).await;
    assert!(unknown.contains("door-result bad") && unknown.contains("K7M-4PX-Q9X"));
    assert!(unknown.contains("Mã đã nhập"));
    let (_, waiting) = door.post_form(&path, &[("code", &codes[1])]).await;
    assert!(waiting.contains("door-result wait"), "{waiting}");
    assert!(waiting.contains("Đặng Thị Đào") && waiting.contains(&codes[1]));
    assert!(waiting.contains("Mã đã nhập"));
    assert!(
        waiting.contains("/door/admit"),
        "a waitlisted person can be admitted from the result"
    );
}

#[tokio::test]
async fn the_door_finds_people_by_name_without_diacritics_or_by_phone() {
    let app = spawn_app().await;
    let (_token, id, codes) = door_with(
        &app,
        1,
        &[
            ("Nguyễn Văn Ánh", None),
            ("Đặng Thị Đào", Some("0987 654 321")),
            ("Trần Văn Nguyên", Some("0912.345.678")),
            ("Lê Thị Cúc", None),
        ],
        2,
    )
    .await;
    let door = organizer_at_door(&app).await;
    door.get(&format!("/staff/dialogues/{id}/door")).await;
    let search = format!("/staff/dialogues/{id}/door/search");

    let (status, page) = door.post_form(&search, &[("q", "nguyen van")]).await;
    assert_eq!(status, 200);
    assert!(page.contains("Tìm thấy 2 người"), "{page}");
    assert!(page.contains("Nguyễn Văn Ánh") && page.contains("Trần Văn Nguyên"));
    assert!(!page.contains("Lê Thị Cúc") && !page.contains("Đặng Thị Đào"));
    assert!(page.contains(&codes[0]) && page.contains("Có chỗ, chưa điểm danh"));
    assert!(page.contains("Được mời, chưa nhận lời hay đăng ký"));
    assert!(
        page.contains(&format!("name=\"code\" value=\"{}\"", codes[0])),
        "each match has a check-in button"
    );

    // đ is d, and the waitlisted are shown as waiting, with the organizer's choice.
    let (_, page) = door.post_form(&search, &[("q", "dang thi dao")]).await;
    assert!(page.contains("Đặng Thị Đào") && page.contains("Trong danh sách chờ (thứ 1)"));
    assert!(page.contains("/door/admit") && page.contains("Cho vào, vượt số chỗ"));

    for phone in ["345678", "+84 912 345 678", "0912345678"] {
        let (_, page) = door.post_form(&search, &[("q", phone)]).await;
        assert!(page.contains("Trần Văn Nguyên"), "{phone}: {page}");
        assert!(!page.contains("Đặng Thị Đào"), "{phone}");
    }
    let (_, none) = door.post_form(&search, &[("q", "không có ai")]).await;
    assert!(none.contains("Tìm thấy 0 người") && none.contains("Không tìm thấy ai"));
    assert!(
        !audited(&app, "door.search").is_empty(),
        "a search is a view of personal data"
    );

    // Agency staff cannot search.
    let agency_id = app.create_agency_directly("Công an huyện Bến Lức").await;
    app.create_account(
        "coquan@benluc.example.vn",
        "Cán Bộ",
        "agency",
        Some(&agency_id),
    )
    .await;
    let agency = BrowserSession::new(&app).await;
    agency.sign_in("coquan@benluc.example.vn").await;
    let (status, _) = agency.post_form(&search, &[("q", "nguyen")]).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_mistaken_check_in_is_undone_and_recorded() {
    let app = spawn_app().await;
    let (token, id, codes) = door_with(&app, 5, &[("Nguyễn Văn Ánh", None)], 1).await;
    let door = organizer_at_door(&app).await;
    door.get(&format!("/staff/dialogues/{id}/door")).await;
    let (_, ok) = door
        .post_form(
            &format!("/staff/dialogues/{id}/door"),
            &[("code", &codes[0])],
        )
        .await;
    assert!(ok.contains("/door/undo"), "the result offers the undo");
    assert_eq!(attendance(&app, &token, &id).await, (1, 0, 1));
    let undo = format!("/staff/dialogues/{id}/door/undo");
    let (status, undone) = door.post_form(&undo, &[("code", &codes[0])]).await;
    assert_eq!(status, 200);
    assert!(undone.contains("door-result undone") && undone.contains("ĐÃ HỦY ĐIỂM DANH"));
    assert!(undone.contains("Có chỗ, chưa điểm danh"), "{undone}");
    assert!(undone.contains("Đã điểm danh: <b>0</b>"), "{undone}");
    assert_eq!(attendance(&app, &token, &id).await, (1, 0, 0));
    assert_eq!(
        audited(&app, "registration.check_in_undone"),
        vec![Some("back to registered".to_string())]
    );
    // Nothing to undo any more: said so, nothing changes.
    let (_, again) = door.post_form(&undo, &[("code", &codes[0])]).await;
    assert!(again.contains("door-result bad") && again.contains("chưa điểm danh"));
    assert_eq!(audited(&app, "registration.check_in_undone").len(), 1);
    // The person can be checked in again.
    let second = app.check_in(&token, &id, &codes[0]).await;
    assert_eq!(second.body["already_checked_in"], false);
}

#[tokio::test]
async fn an_organizer_admits_from_the_waitlist_only_by_an_explicit_choice_past_capacity() {
    let app = spawn_app().await;
    let (token, id, codes) = door_with(
        &app,
        1,
        &[("Nguyễn Văn Ánh", None), ("Đặng Thị Đào", None)],
        2,
    )
    .await;
    let door = organizer_at_door(&app).await;
    door.get(&format!("/staff/dialogues/{id}/door")).await;
    let admit = format!("/staff/dialogues/{id}/door/admit");
    // Without the explicit choice the full dialogue admits nobody.
    let (_, refused) = door.post_form(&admit, &[("code", &codes[1])]).await;
    assert!(refused.contains("door-result bad") && refused.contains("Đã hết chỗ"));
    assert_eq!(attendance(&app, &token, &id).await, (1, 1, 0));
    // A registered person is not on the waitlist.
    let (_, not_waiting) = door
        .post_form(&admit, &[("code", &codes[0]), ("over_capacity", "true")])
        .await;
    assert!(not_waiting.contains("không ở trong danh sách chờ"));

    let (status, admitted) = door
        .post_form(&admit, &[("code", &codes[1]), ("over_capacity", "true")])
        .await;
    assert_eq!(status, 200);
    assert!(admitted.contains("door-result ok") && admitted.contains("ĐÃ CHO VÀO"));
    assert!(admitted.contains("Đặng Thị Đào"));
    assert_eq!(attendance(&app, &token, &id).await, (2, 0, 1));
    // The counter says why more seats are taken than there are.
    assert!(admitted.contains("Chỗ đã có người: <b>2</b> / 1"));
    assert!(admitted.contains("id=\"door-over\"") && admitted.contains("Vượt 1 chỗ"));
    assert_eq!(
        audited(&app, "registration.admit_from_waitlist"),
        vec![Some("over capacity: seat 2 of 1".to_string())]
    );
    // A second tap changes nothing.
    let (_, twice) = door
        .post_form(&admit, &[("code", &codes[1]), ("over_capacity", "true")])
        .await;
    assert!(twice.contains("door-result again"));
    assert_eq!(audited(&app, "registration.admit_from_waitlist").len(), 1);

    // Undone, the person goes back to their place on the waitlist.
    let (_, undone) = door
        .post_form(
            &format!("/staff/dialogues/{id}/door/undo"),
            &[("code", &codes[1])],
        )
        .await;
    assert!(undone.contains("Trong danh sách chờ (thứ 1)"), "{undone}");
    assert!(!undone.contains("id=\"door-over\""));
    assert_eq!(attendance(&app, &token, &id).await, (1, 1, 0));
}

#[tokio::test]
async fn the_walk_in_form_is_for_the_door_keeps_what_was_typed_and_asks_before_going_past_capacity()
{
    let app = spawn_app().await;
    let (token, id, _codes) = door_with(&app, 1, &[("Nguyễn Văn Ánh", None)], 1).await;
    let door = organizer_at_door(&app).await;
    let page = door.get(&format!("/staff/dialogues/{id}/door")).await;
    assert!(page.contains("Người đến trực tiếp"));
    assert!(page.contains("<option value=\"\">— Hỏi và chọn nhóm —</option>"));
    assert!(
        !page.contains(" selected>"),
        "no group is chosen for anyone"
    );
    let walk_in = format!("/staff/dialogues/{id}/walk-ins");

    // An error: the form comes back open with what was typed.
    let (status, bad) = door
        .post_form(
            &walk_in,
            &[
                ("full_name", "Hồ Văn Đến"),
                ("phone", "12"),
                ("category", "family_member"),
                ("consent", "true"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(bad.contains("id=\"walk-in\" open"), "{bad}");
    assert!(bad.contains("value=\"Hồ Văn Đến\"") && bad.contains("value=\"12\""));
    assert!(bad.contains("<option value=\"family_member\" selected>"));
    assert!(bad.contains("aria-invalid=\"true\""));

    // Full: refused without the explicit choice, values kept.
    let person = [
        ("full_name", "Hồ Văn Đến"),
        ("phone", "0901 234 567"),
        ("category", "family_member"),
        ("consent", "true"),
    ];
    let (status, full) = door.post_form(&walk_in, &person).await;
    assert_eq!(status, 422);
    assert!(full.contains("Đã hết chỗ") && full.contains("value=\"0901 234 567\""));
    assert!(full.contains("name=\"over_capacity\""));
    assert_eq!(attendance(&app, &token, &id).await, (1, 0, 0));

    let mut over = person.to_vec();
    over.push(("over_capacity", "true"));
    let (status, done) = door.post_form(&walk_in, &over).await;
    assert_eq!(status, 200);
    assert!(done.contains("door-result ok") && done.contains("Hồ Văn Đến"));
    assert!(done.contains("Chỗ đã có người: <b>2</b> / 1") && done.contains("Vượt 1 chỗ"));
    assert_eq!(attendance(&app, &token, &id).await, (2, 0, 1));
    assert_eq!(
        audited(&app, "registration.walk_in"),
        vec![Some("over capacity: seat 2 of 1".to_string())]
    );

    // A walk-in entered by mistake is taken back: the seat is given back.
    let search = door
        .post_form(
            &format!("/staff/dialogues/{id}/door/search"),
            &[("q", "ho van den")],
        )
        .await
        .1;
    let code_at = search.find("name=\"code\" value=\"").unwrap() + 19;
    let code = &search[code_at..code_at + 11];
    let (_, undone) = door
        .post_form(
            &format!("/staff/dialogues/{id}/door/undo"),
            &[("code", code)],
        )
        .await;
    assert!(undone.contains("Đã hủy đăng ký"), "{undone}");
    assert_eq!(attendance(&app, &token, &id).await, (1, 0, 0));
}

#[tokio::test]
async fn a_walk_in_past_capacity_needs_the_explicit_choice_in_the_api_too() {
    let app = spawn_app().await;
    let (token, id, _codes) = door_with(&app, 1, &[("Nguyễn Văn Ánh", None)], 1).await;
    let path = format!("/api/v1/dialogues/{id}/walk-ins");
    let body = json!({"full_name": "Hồ Văn Đến", "category": "family_member", "consent": true});
    let refused = app.post(&path, Some(&token), &body).await;
    assert_eq!(refused.status, 409, "{}", refused.text);
    assert_eq!(refused.code(), "no_free_seat");
    assert_eq!(attendance(&app, &token, &id).await, (1, 0, 0));
    let mut over = body.clone();
    over["over_capacity"] = json!(true);
    let admitted = app.post(&path, Some(&token), &over).await;
    assert_eq!(admitted.status, 201, "{}", admitted.text);
    assert_eq!(attendance(&app, &token, &id).await, (2, 0, 1));
}

#[tokio::test]
async fn the_door_api_searches_admits_and_undoes_with_stable_codes() {
    let app = spawn_app().await;
    let (token, id, codes) = door_with(
        &app,
        1,
        &[
            ("Nguyễn Văn Ánh", None),
            ("Đặng Thị Đào", Some("0987 654 321")),
        ],
        2,
    )
    .await;
    let search = app
        .get(
            &format!("/api/v1/dialogues/{id}/checkins/search?q=dao"),
            Some(&token),
        )
        .await;
    assert_eq!(search.status, 200, "{}", search.text);
    let items = search.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["full_name"], "Đặng Thị Đào");
    assert_eq!(items[0]["code"], codes[1].as_str());
    assert_eq!(items[0]["registration"]["status"], "waitlisted");
    assert_eq!(items[0]["registration"]["waitlist_position"], 1);
    assert!(items[0].get("phone").is_none() && items[0].get("category").is_none());
    let by_phone = app
        .get(
            &format!("/api/v1/dialogues/{id}/checkins/search?q=654321"),
            Some(&token),
        )
        .await;
    assert_eq!(by_phone.body["items"][0]["full_name"], "Đặng Thị Đào");
    let missing = app
        .get(
            &format!("/api/v1/dialogues/{id}/checkins/search"),
            Some(&token),
        )
        .await;
    assert_eq!(missing.status, 422);

    let admit = format!("/api/v1/dialogues/{id}/waitlist/admit");
    let refused = app
        .post(&admit, Some(&token), &json!({"code": codes[1]}))
        .await;
    assert_eq!(refused.status, 409);
    assert_eq!(refused.code(), "no_free_seat");
    assert_eq!(attendance(&app, &token, &id).await, (1, 1, 0));
    let not_waiting = app
        .post(
            &admit,
            Some(&token),
            &json!({"code": codes[0], "over_capacity": true}),
        )
        .await;
    assert_eq!(not_waiting.code(), "not_waitlisted");
    let unknown = app
        .post(
            &admit,
            Some(&token),
            &json!({"code": "ZZZ-ZZZ-ZZZ", "over_capacity": true}),
        )
        .await;
    assert_eq!((unknown.status, unknown.code()), (404, "unknown_code"));
    let admitted = app
        .post(
            &admit,
            Some(&token),
            &json!({"code": codes[1], "over_capacity": true}),
        )
        .await;
    assert_eq!(admitted.status, 200, "{}", admitted.text);
    assert_eq!(admitted.body["registration"]["status"], "checked_in");
    assert_eq!(admitted.body["already_checked_in"], false);
    let again = app
        .post(
            &admit,
            Some(&token),
            &json!({"code": codes[1], "over_capacity": true}),
        )
        .await;
    assert_eq!(again.body["already_checked_in"], true);
    assert_eq!(attendance(&app, &token, &id).await, (2, 0, 1));

    let undo = format!("/api/v1/dialogues/{id}/checkins/undo");
    let undone = app
        .post(&undo, Some(&token), &json!({"code": codes[1]}))
        .await;
    assert_eq!(undone.status, 200, "{}", undone.text);
    assert_eq!(undone.body["registration"]["status"], "waitlisted");
    assert_eq!(attendance(&app, &token, &id).await, (1, 1, 0));
    let nothing = app
        .post(&undo, Some(&token), &json!({"code": codes[1]}))
        .await;
    assert_eq!((nothing.status, nothing.code()), (409, "not_checked_in"));

    let agency = app.staff_token("agency").await;
    let forbidden = app
        .post(&undo, Some(&agency), &json!({"code": codes[0]}))
        .await;
    assert_eq!(forbidden.status, 403);
}
