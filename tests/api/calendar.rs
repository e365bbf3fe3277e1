//! The invitation's calendar event and its updates (issue "No dead ends", item 6): a
//! published event without RSVP, the host unit as organizer, and — when the organizer
//! chooses to tell people of a new time or venue — an update email to exactly the people
//! who hold a place, with the same UID and a higher SEQUENCE.

use std::collections::BTreeSet;

use base64::Engine;
use serde_json::{Value, json};

use crate::helpers::{
    BrowserSession, TestApp, by_name, invitations, open_dialogue, queued_emails, spawn_app,
};

const HOST_UNIT: &str = "UBND huyện Bến Lức";

/// One property of the calendar: its parameters and its value.
#[derive(Debug)]
struct Line {
    params: Vec<(String, String)>,
    value: String,
}

/// The `.ics` attached to a queued email, parsed: the calendar's METHOD and the VEVENT's
/// properties by name.
#[derive(Debug)]
struct Ics {
    method: Option<String>,
    event: Vec<(String, Line)>,
    text: String,
}

impl Ics {
    fn of(email: &doithoai::jobs::QueuedEmail) -> Ics {
        let attachment = email
            .attachments
            .iter()
            .find(|a| a.filename.ends_with(".ics"))
            .unwrap_or_else(|| panic!("an .ics in the email to {}", email.recipient));
        assert!(
            attachment.content_type.contains("method=PUBLISH"),
            "{}",
            attachment.content_type
        );
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&attachment.content_base64)
            .unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let unfolded = icalendar::parser::unfold(&text);
        let calendar = icalendar::parser::read_calendar(&unfolded).expect("a calendar");
        let method = calendar
            .properties
            .iter()
            .find(|p| p.name.as_ref() == "METHOD")
            .map(|p| p.val.as_ref().to_string());
        let vevent = calendar
            .components
            .iter()
            .find(|c| c.name.as_ref() == "VEVENT")
            .expect("a VEVENT");
        let event = vevent
            .properties
            .iter()
            .map(|p| {
                let params = p
                    .params
                    .iter()
                    .map(|param| {
                        (
                            param.key.as_ref().to_string(),
                            param
                                .val
                                .as_ref()
                                .map(|v| v.as_ref().trim_matches('"').to_string())
                                .unwrap_or_default(),
                        )
                    })
                    .collect();
                (
                    p.name.as_ref().to_string(),
                    Line {
                        params,
                        value: p.val.as_ref().to_string(),
                    },
                )
            })
            .collect();
        Ics {
            method,
            event,
            text,
        }
    }

    fn get(&self, name: &str) -> Option<&Line> {
        self.event.iter().find(|(n, _)| n == name).map(|(_, l)| l)
    }

    fn value(&self, name: &str) -> &str {
        &self
            .get(name)
            .unwrap_or_else(|| panic!("{name} in {}", self.text))
            .value
    }
}

/// Invites people with an email (and one without), sends the invitations; returns the
/// organizer's token, the dialogue id and each invitee's code by name.
async fn invited(app: &TestApp, names: &[&str]) -> (String, String, Vec<(String, String)>) {
    let (token, id) = open_dialogue(app, json!({})).await;
    let people: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(i, name)| json!({"full_name": name, "email": format!("nguoi{i}@example.vn"), "category": "other"}))
        .collect();
    let added = app.add_invitees(&token, &id, &json!(people)).await;
    assert_eq!(added.status, 201, "{}", added.text);
    let sent = app.send_invitations(&token, &id).await;
    assert_eq!(sent.status, 200, "{}", sent.text);
    let list = invitations(app, &token, &id).await;
    let codes = names
        .iter()
        .map(|name| {
            (
                name.to_string(),
                by_name(&list, name)["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (token, id, codes)
}

fn code_of<'a>(codes: &'a [(String, String)], name: &str) -> &'a str {
    &codes.iter().find(|(n, _)| n == name).unwrap().1
}

/// The recipients' addresses of the update emails queued so far.
async fn told(app: &TestApp) -> BTreeSet<String> {
    queued_emails(app, "dialogue_update")
        .await
        .iter()
        .map(|e| {
            let start = e.recipient.find('<').unwrap();
            e.recipient[start + 1..e.recipient.len() - 1].to_string()
        })
        .collect()
}

#[tokio::test]
async fn the_invitation_event_is_published_without_rsvp_and_an_update_keeps_its_uid_with_a_higher_sequence()
 {
    let app = spawn_app().await;
    let (token, id, codes) = invited(&app, &["Nguyễn Văn An"]).await;
    let invitation = queued_emails(&app, "invitation").await;
    assert_eq!(invitation.len(), 1);
    let first = Ics::of(&invitation[0]);
    assert_eq!(first.method.as_deref(), Some("PUBLISH"));
    assert!(first.get("ATTENDEE").is_none(), "{}", first.text);
    assert!(!first.text.contains("RSVP"), "{}", first.text);
    let organizer = first.get("ORGANIZER").unwrap();
    assert_eq!(
        organizer.params,
        vec![("CN".to_string(), HOST_UNIT.to_string())]
    );
    assert!(organizer.value.starts_with("mailto:"), "{}", first.text);
    assert_eq!(first.value("SEQUENCE"), "0");
    // The answer is given on the personal page: its link is in the event.
    assert!(first.value("URL").contains("/p/"), "{}", first.text);

    let accepted = app.rsvp(code_of(&codes, "Nguyễn Văn An"), "accept").await;
    assert_eq!(accepted.status, 200, "{}", accepted.text);
    let moved = app
        .edit_dialogue(
            &token,
            &id,
            &json!({"venue": "Nhà văn hóa xã Thạnh Đức", "notify": true}),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.text);
    assert_eq!(moved.body["calendar_sequence"], 1);
    let updates = queued_emails(&app, "dialogue_update").await;
    assert_eq!(updates.len(), 1);
    let update = Ics::of(&updates[0]);
    assert_eq!(update.method.as_deref(), Some("PUBLISH"));
    assert_eq!(update.value("UID"), first.value("UID"));
    assert_eq!(update.value("SEQUENCE"), "1");
    assert_eq!(update.value("LOCATION"), "Nhà văn hóa xã Thạnh Đức");
    assert!(update.get("ATTENDEE").is_none(), "{}", update.text);
    assert_eq!(
        update.get("ORGANIZER").unwrap().params,
        vec![("CN".to_string(), HOST_UNIT.to_string())]
    );
    assert!(
        updates[0].body_text.contains("Nhà văn hóa xã Thạnh Đức"),
        "{}",
        updates[0].body_text
    );
    assert!(
        updates[0]
            .subject
            .starts_with("Thay đổi thời gian, địa điểm")
    );

    // A later change of time raises the sequence again, told or not.
    let later = app
        .edit_dialogue(
            &token,
            &id,
            &json!({"starts_at": "2026-11-30T15:00:00+07:00", "notify": false}),
        )
        .await;
    assert_eq!(later.status, 200, "{}", later.text);
    assert_eq!(later.body["calendar_sequence"], 2);
    let again = app
        .edit_dialogue(
            &token,
            &id,
            &json!({"starts_at": "2026-11-30T14:30:00+07:00", "notify": true}),
        )
        .await;
    assert_eq!(again.body["calendar_sequence"], 3);
    let updates = queued_emails(&app, "dialogue_update").await;
    assert_eq!(updates.len(), 2);
    let sequences: BTreeSet<String> = updates
        .iter()
        .map(|e| Ics::of(e).value("SEQUENCE").to_string())
        .collect();
    assert_eq!(sequences, BTreeSet::from(["1".into(), "3".into()]));
    let newest = updates.iter().find(|e| Ics::of(e).value("SEQUENCE") == "3");
    assert_eq!(
        Ics::of(newest.unwrap()).value("DTSTART"),
        "20261130T073000Z"
    );
}

#[tokio::test]
async fn exactly_the_people_who_hold_a_place_are_told_and_nobody_when_the_organizer_says_no() {
    let app = spawn_app().await;
    let (token, id, codes) = invited(
        &app,
        &[
            "Nguyễn Văn An",
            "Trần Thị Bình",
            "Lê Văn Châu",
            "Phạm Thị Dung",
        ],
    )
    .await;
    app.rsvp(code_of(&codes, "Nguyễn Văn An"), "accept").await;
    app.rsvp(code_of(&codes, "Trần Thị Bình"), "decline").await;
    app.rsvp(code_of(&codes, "Phạm Thị Dung"), "accept").await;
    app.rsvp(code_of(&codes, "Phạm Thị Dung"), "decline").await;
    // Lê Văn Châu never answers. Someone registers on their own.
    let registered = app
        .self_register(
            &id,
            &json!({"full_name": "Võ Văn Em", "email": "em@example.vn", "category": "other", "consent": true}),
        )
        .await;
    // Registered; with an email the answer is 202 (the details go to that address).
    assert_eq!(registered.status, 202, "{}", registered.text);

    // The organizer says no: nobody is told, though the sequence goes up.
    let silent = app
        .edit_dialogue(
            &token,
            &id,
            &json!({"venue": "Hội trường xã Thạnh Đức", "notify": false}),
        )
        .await;
    assert_eq!(silent.status, 200, "{}", silent.text);
    assert!(told(&app).await.is_empty());
    // Without the field, nobody is told either.
    app.edit_dialogue(&token, &id, &json!({"venue": "Hội trường UBND xã"}))
        .await;
    assert!(told(&app).await.is_empty());
    // A change that moves nothing tells nobody, even when asked.
    let renamed = app
        .edit_dialogue(
            &token,
            &id,
            &json!({"description": "Thêm nội dung học nghề.", "notify": true}),
        )
        .await;
    assert_eq!(renamed.body["calendar_sequence"], 2);
    assert!(told(&app).await.is_empty());

    let moved = app
        .edit_dialogue(
            &token,
            &id,
            &json!({"ends_at": "2026-11-30T17:30:00+07:00", "notify": true}),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.text);
    assert_eq!(
        told(&app).await,
        BTreeSet::from(["nguoi0@example.vn".to_string(), "em@example.vn".to_string()])
    );
    // The emails are jobs in the outbox; running them delivers them.
    app.drain_jobs().await;
    let delivered = app
        .mail_texts()
        .into_iter()
        .filter(|t| t.contains("đã thay đổi"))
        .count();
    assert_eq!(delivered, 2);
}

#[tokio::test]
async fn a_failed_edit_tells_nobody_and_keeps_the_sequence() {
    let app = spawn_app().await;
    let (token, id, codes) = invited(&app, &["Nguyễn Văn An"]).await;
    app.rsvp(code_of(&codes, "Nguyễn Văn An"), "accept").await;
    let bad = app
        .edit_dialogue(
            &token,
            &id,
            &json!({"starts_at": "2026-11-30T18:00:00+07:00", "notify": true}),
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert!(told(&app).await.is_empty());
    let stored = app.get_dialogue(Some(&token), &id).await;
    assert_eq!(stored.body["calendar_sequence"], 0);
}

/// The edit form's fields for the reference dialogue, with `venue`.
fn edit_fields(venue: &str) -> Vec<(&'static str, String)> {
    let reference = crate::helpers::reference_dialogue();
    let text = |k: &str| reference[k].as_str().unwrap().to_string();
    vec![
        ("title", text("title")),
        ("description", text("description")),
        ("host_unit", text("host_unit")),
        ("parent_unit", text("parent_unit")),
        ("locality", text("locality")),
        ("venue", venue.to_string()),
        ("starts_at", "2026-11-30T14:00".into()),
        ("ends_at", "2026-11-30T17:00".into()),
        ("question_deadline", "2026-11-28T17:00".into()),
        ("capacity", "120".into()),
        ("time_zone", "Asia/Ho_Chi_Minh".into()),
        ("self_registration", "true".into()),
        ("anonymous_questions", "true".into()),
        ("official_name", "Lê Thành Út".into()),
        ("official_position", "Chủ tịch UBND huyện Bến Lức".into()),
        ("official_role", "chair".into()),
    ]
}

#[tokio::test]
async fn the_edit_page_asks_whether_to_tell_the_people_who_accepted() {
    let app = spawn_app().await;
    let (_token, id, codes) = invited(&app, &["Nguyễn Văn An", "Trần Thị Bình"]).await;
    app.create_account("sua@benluc.example.vn", "Người Sửa", "organizer", None)
        .await;
    let browser = BrowserSession::new(&app).await;
    browser.sign_in("sua@benluc.example.vn").await;

    // Nobody holds a place yet: there is no one to tell, so no question.
    let page = browser.get(&format!("/staff/dialogues/{id}/edit")).await;
    assert!(!page.contains("name=\"notify\""), "{page}");

    app.rsvp(code_of(&codes, "Nguyễn Văn An"), "accept").await;
    let page = browser.get(&format!("/staff/dialogues/{id}/edit")).await;
    assert!(page.contains("Báo cho người đã nhận lời"), "{page}");
    assert!(page.contains("Có <b>1</b> người đã nhận lời mời"), "{page}");
    assert!(
        page.contains("<input type=\"checkbox\" name=\"notify\" value=\"true\" checked>"),
        "{page}"
    );

    // Unticked: saved, nobody told, and the page says so.
    let fields = edit_fields("Nhà văn hóa xã Thạnh Đức");
    let mut form: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    form.push(("notify_asked", "true"));
    let (status, location) = browser
        .post_form(&format!("/staff/dialogues/{id}"), &form)
        .await;
    assert_eq!(status, 303, "{location}");
    assert!(location.ends_with("done=saved_not_told"), "{location}");
    assert!(told(&app).await.is_empty());
    let page = browser.get(&location).await;
    assert!(page.contains("Không gửi thư báo"), "{page}");

    // Ticked: the one who accepted is told.
    let fields = edit_fields("Hội trường xã Thạnh Đức");
    let mut form: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    form.push(("notify_asked", "true"));
    form.push(("notify", "true"));
    let (status, location) = browser
        .post_form(&format!("/staff/dialogues/{id}"), &form)
        .await;
    assert_eq!(status, 303, "{location}");
    assert!(location.ends_with("done=saved_told"), "{location}");
    assert_eq!(
        told(&app).await,
        BTreeSet::from(["nguoi0@example.vn".to_string()])
    );
    let page = browser.get(&location).await;
    assert!(
        page.contains("đang được gửi cho những người đã nhận lời"),
        "{page}"
    );

    // In English too.
    let page = browser
        .client
        .get(app.url(&format!("/staff/dialogues/{id}/edit")))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Tell the people who accepted"), "{page}");
}
