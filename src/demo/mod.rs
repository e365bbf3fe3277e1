//! `doithoai demo`: a sample day like the reference case (Bến Lức, 30 November), so that a
//! newcomer sees the product at once. Refuses to touch a database that has dialogues.

use std::fmt;

pub mod questions;

use chrono::{Datelike, Duration, TimeZone};
use diesel::prelude::*;

use crate::accounts;
use crate::accounts::ops::AccountInput;
use crate::agencies;
use crate::agencies::model::AgencyInput;
use crate::audit::Actor;
use crate::auth::secrets;
use crate::config::Settings;
use crate::db::Db;
use crate::db::schema::dialogues as dialogues_table;
use crate::dialogues;
use crate::dialogues::input::{AgendaInput, DialogueInput, OfficialInput};
use crate::dialogues::model::DialogueStatus;
use crate::error::AppError;

pub struct DemoReport {
    pub people: String,
    pub dialogue_id: String,
    pub base_url: String,
    pub accounts: Vec<(String, String, String)>,
}

impl fmt::Display for DemoReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Demo data created: {}.", self.people)?;
        writeln!(
            f,
            "Public page: {}/d/{}",
            self.base_url.trim_end_matches('/'),
            self.dialogue_id
        )?;
        writeln!(
            f,
            "Staff sign-in: {}/login",
            self.base_url.trim_end_matches('/')
        )?;
        for (role, email, password) in &self.accounts {
            writeln!(f, "  {role:<10} {email:<32} password: {password}")?;
        }
        write!(f, "These passwords are shown only now.")
    }
}

const AGENCIES: &[(&str, &str, &str)] = &[
    ("Công an huyện Bến Lức", "CA huyện", "government"),
    (
        "Phòng Lao động - Thương binh và Xã hội huyện Bến Lức",
        "Phòng LĐ-TB&XH",
        "government",
    ),
    ("Phòng Tư pháp huyện Bến Lức", "Phòng Tư pháp", "government"),
    ("Trung tâm Y tế huyện Bến Lức", "TTYT huyện", "government"),
    (
        "Chi cục Thi hành án dân sự huyện Bến Lức",
        "Chi cục THADS",
        "government",
    ),
    (
        "Ủy ban Mặt trận Tổ quốc Việt Nam huyện Bến Lức",
        "UBMTTQ huyện",
        "organization",
    ),
    (
        "Công ty TNHH Giày da Phú Thành",
        "Giày da Phú Thành",
        "business",
    ),
    (
        "Công ty Cổ phần May mặc Long An",
        "May mặc Long An",
        "business",
    ),
];

/// The coming 30 November at 14:00 in Vietnam (next year's once this year's has passed).
fn reference_start() -> chrono::DateTime<chrono_tz::Tz> {
    let zone = chrono_tz::Asia::Ho_Chi_Minh;
    let now = chrono::Utc::now().with_timezone(&zone);
    let this_year = zone.with_ymd_and_hms(now.year(), 11, 30, 14, 0, 0).single();
    match this_year {
        Some(start) if start > now => start,
        _ => zone
            .with_ymd_and_hms(now.year() + 1, 11, 30, 14, 0, 0)
            .single()
            .unwrap_or(now + Duration::days(30)),
    }
}

pub fn reference_dialogue() -> DialogueInput {
    let start = reference_start();
    DialogueInput {
        title: Some(
            "Hội nghị đối thoại với người chấp hành xong hình phạt tù, người thi hành án hình sự tại cộng đồng, người nghiện ma túy"
                .into(),
        ),
        description: Some(
            "Lãnh đạo huyện Bến Lức đối thoại trực tiếp, lắng nghe và giải đáp kiến nghị về tái hòa nhập cộng đồng, \
             xóa án tích, thủ tục pháp lý, học nghề, việc làm, cai nghiện và chính sách sau cai nghiện."
                .into(),
        ),
        host_unit: Some("UBND huyện Bến Lức".into()),
        parent_unit: Some("UBND tỉnh Long An".into()),
        locality: Some("Bến Lức".into()),
        venue: Some("Hội trường UBND huyện Bến Lức".into()),
        starts_at: Some(start.to_rfc3339()),
        ends_at: Some((start + Duration::hours(3)).to_rfc3339()),
        question_deadline: Some((start - Duration::days(2) + Duration::hours(3)).to_rfc3339()),
        time_zone: None,
        // Fewer seats than invitees, so the demo shows a waitlist.
        capacity: Some(60),
        self_registration: Some(true),
        anonymous_questions: Some(true),
        officials: Some(vec![
            OfficialInput {
                name: "Nguyễn Đăng Minh Xuân".into(),
                position: "Bí thư Huyện ủy Bến Lức".into(),
                role: "chair".into(),
            },
            OfficialInput {
                name: "Lê Thành Út".into(),
                position: "Chủ tịch UBND huyện Bến Lức".into(),
                role: "chair".into(),
            },
            OfficialInput {
                name: "Trần Thị Thu Hà".into(),
                position: "Chuyên viên Văn phòng HĐND và UBND huyện".into(),
                role: "secretary".into(),
            },
        ]),
        notify: None,
        agenda: Some(vec![
            AgendaInput {
                title: "Tuyên bố lý do, giới thiệu đại biểu".into(),
                presenter: Some("Văn phòng HĐND và UBND huyện".into()),
            },
            AgendaInput {
                title: "Khai mạc hội nghị".into(),
                presenter: Some("Chủ tịch UBND huyện".into()),
            },
            AgendaInput {
                title: "Báo cáo công tác quản lý, giáo dục, hỗ trợ tái hòa nhập cộng đồng".into(),
                presenter: Some("Công an huyện".into()),
            },
            AgendaInput {
                title: "Đối thoại: người tham dự nêu ý kiến, các cơ quan trả lời".into(),
                presenter: None,
            },
            AgendaInput {
                title: "Ký kết biên bản ghi nhớ tiếp nhận lao động".into(),
                presenter: Some("Các doanh nghiệp".into()),
            },
            AgendaInput {
                title: "Kết luận hội nghị".into(),
                presenter: Some("Bí thư Huyện ủy".into()),
            },
        ]),
    }
}

pub fn fill(db: &Db, settings: &Settings) -> Result<DemoReport, AppError> {
    let existing: i64 =
        db.read_now(|conn| Ok(dialogues_table::table.count().get_result(conn)?))?;
    if existing > 0 {
        return Err(AppError::Conflict("database_not_empty"));
    }
    let mut accounts_made = Vec::new();
    let mut agency_ids = Vec::new();
    for (name, short, kind) in AGENCIES {
        let new = AgencyInput {
            name: name.to_string(),
            short_name: Some(short.to_string()),
            kind: kind.to_string(),
            email: None,
        }
        .parse()?;
        db.write_now(|conn| agencies::store::insert(conn, &new))?;
        agency_ids.push(new.id);
    }
    let people = [
        (
            "organizer",
            "vanphong@benluc.example.vn",
            "Văn phòng HĐND và UBND huyện",
            None,
        ),
        (
            "agency",
            "congan@benluc.example.vn",
            "Công an huyện Bến Lức",
            agency_ids.first().cloned(),
        ),
        (
            "agency",
            "laodong@benluc.example.vn",
            "Phòng LĐ-TB&XH huyện",
            agency_ids.get(1).cloned(),
        ),
    ];
    let mut organizer_id = String::new();
    for (role, email, name, agency_id) in people {
        let password = secrets::generate_password();
        let account = AccountInput {
            email: email.into(),
            name: name.into(),
            role: role.into(),
            agency_id,
            password: Some(password.clone()),
            language: None,
        }
        .validate()?;
        let hash = secrets::hash_password(&password)?;
        let user = db.write_now(|conn| {
            accounts::ops::create(conn, &account, Some(hash), &Actor::System, None)
        })?;
        if role == "organizer" {
            organizer_id = user.id;
        }
        accounts_made.push((role.to_string(), email.to_string(), password));
    }
    let input = reference_dialogue();
    let full = db.write_now(|conn| {
        let full = dialogues::ops::create(conn, &input, &Actor::System, None)?;
        dialogues::ops::change_status(
            conn,
            &full.dialogue.id,
            DialogueStatus::Open,
            &Actor::System,
        )
    })?;
    let people = fill_people(db, settings, &full.dialogue, &organizer_id)?;
    let questions = fill_questions(db, settings, &full.dialogue, &organizer_id, &agency_ids)?;
    Ok(DemoReport {
        people: format!("{people}; {questions}"),
        dialogue_id: full.dialogue.id.to_string(),
        base_url: settings.base_url.to_string(),
        accounts: accounts_made,
    })
}

/// The reference questions, acted out by the organizer and one staff member per agency
/// (accounts without a password for the agencies that have no demo login).
fn fill_questions(
    db: &Db,
    settings: &Settings,
    dialogue: &crate::dialogues::model::Dialogue,
    organizer_id: &str,
    agency_ids: &[String],
) -> Result<String, AppError> {
    use crate::auth::store::{agency_staff, find_user};
    let templates = crate::html::Templates::load().map_err(AppError::unexpected)?;
    let organizer = db
        .read_now(|conn| Ok(find_user(conn, organizer_id)?))?
        .ok_or(AppError::NotFound)?;
    let mut cast = questions::Cast {
        organizer: questions::acting_as(organizer),
        agency_staff: Default::default(),
        agency_ids: Default::default(),
        invitees: invitees_in_order(db, dialogue)?,
        templates: &templates,
        settings,
    };
    for (n, ((name, short, _), id)) in AGENCIES.iter().zip(agency_ids).enumerate() {
        let mut staff = db.read_now(|conn| Ok(agency_staff(conn, id)?))?;
        if staff.is_empty() {
            let account = AccountInput {
                email: format!("coquan{n}@benluc.example.vn"),
                name: format!("Cán bộ {name}"),
                role: "agency".into(),
                agency_id: Some(id.clone()),
                password: None,
                language: None,
            }
            .validate()?;
            db.write_now(|conn| accounts::ops::create(conn, &account, None, &Actor::System, None))?;
            staff = db.read_now(|conn| Ok(agency_staff(conn, id)?))?;
        }
        let member = staff.into_iter().next().ok_or(AppError::NotFound)?;
        cast.agency_staff
            .insert(short.to_string(), questions::acting_as(member));
        cast.agency_ids
            .insert(short.to_string(), crate::db::AgencyId::from_stored(id));
    }
    questions::fill(db, dialogue, &cast)
}

/// The invitees by their demo index (the order `fill_people` made them in).
fn invitees_in_order(
    db: &Db,
    dialogue: &crate::dialogues::model::Dialogue,
) -> Result<Vec<crate::participants::model::Participant>, AppError> {
    let listed = db.read_now(|conn| {
        Ok(crate::invitations::store::list(conn, &dialogue.id, None, 0, 1000)?.0)
    })?;
    let mut by_name: std::collections::HashMap<
        String,
        Vec<crate::participants::model::Participant>,
    > = Default::default();
    for (_, p) in listed {
        by_name.entry(p.full_name.clone()).or_default().push(p);
    }
    let mut ordered = Vec::with_capacity(80);
    for i in 0..80 {
        if let Some(p) = by_name
            .get_mut(&synthetic_name(i))
            .and_then(|list| list.pop())
        {
            ordered.push(p);
        }
    }
    Ok(ordered)
}

const FAMILY: &[&str] = &[
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
    "Hồ", "Ngô", "Dương", "Lý",
];
const MIDDLE_MEN: &[&str] = &["Văn", "Hữu", "Minh", "Đức", "Quốc", "Thanh"];
const MIDDLE_WOMEN: &[&str] = &["Thị", "Ngọc", "Thanh", "Kim"];
const GIVEN_MEN: &[&str] = &[
    "An", "Bình", "Cường", "Dũng", "Hải", "Hùng", "Khánh", "Long", "Nam", "Phúc", "Quang", "Sơn",
    "Tài", "Thắng", "Tuấn", "Vinh", "Lộc", "Trí",
];
const GIVEN_WOMEN: &[&str] = &[
    "Hoa", "Lan", "Mai", "Hương", "Nga", "Thảo", "Trang", "Yến", "Liên", "Hằng",
];

/// A synthetic but plausible Vietnamese name for person `i`.
fn synthetic_name(i: usize) -> String {
    let family = FAMILY[(i * 7 + 3) % FAMILY.len()];
    if i % 5 == 4 {
        format!(
            "{family} {} {}",
            MIDDLE_WOMEN[i % MIDDLE_WOMEN.len()],
            GIVEN_WOMEN[(i * 3) % GIVEN_WOMEN.len()]
        )
    } else {
        format!(
            "{family} {} {}",
            MIDDLE_MEN[i % MIDDLE_MEN.len()],
            GIVEN_MEN[(i * 5 + 1) % GIVEN_MEN.len()]
        )
    }
}

/// 80 invitees as in the reference case (35 + 25 + 20 by group), about half with email;
/// most accept (so the last are waitlisted), a few decline, some check in.
fn fill_people(
    db: &Db,
    settings: &Settings,
    dialogue: &crate::dialogues::model::Dialogue,
    organizer_id: &str,
) -> Result<String, AppError> {
    use crate::participants::model::{Category, Person};
    let templates = crate::html::Templates::load().map_err(AppError::unexpected)?;
    let mailing = crate::participants::notify::Mailing {
        templates: &templates,
        settings,
    };
    let people: Vec<(usize, Person)> = (0..80)
        .map(|i| {
            let category = match i {
                0..35 => Category::CompletedSentence,
                35..60 => Category::CommunitySentence,
                _ => Category::DrugRehabilitation,
            };
            let name = synthetic_name(i);
            let email = (i % 2 == 0).then(|| {
                format!(
                    "{}.{i}@vidu.example",
                    crate::text::fold(&name).replace(' ', ".")
                )
            });
            let phone = Some(format!(
                "09{:02} {:03} {:03}",
                10 + i % 80,
                (i * 37) % 1000,
                (i * 91) % 1000
            ));
            let address = Some(format!(
                "Ấp {}, xã {}, huyện Bến Lức",
                1 + i % 5,
                ["Thạnh Đức", "Lương Hòa", "Nhựt Chánh", "Mỹ Yên"][i % 4]
            ));
            (
                i,
                Person {
                    full_name: name,
                    email,
                    phone,
                    category,
                    address,
                    language: crate::i18n::Lang::Vi,
                },
            )
        })
        .collect();
    db.write_now(|conn| {
        crate::invitations::ops::add_people(conn, dialogue, people, &Actor::System)?;
        Ok(())
    })?;
    let invitees = db.read_now(|conn| {
        Ok(crate::invitations::store::list(conn, &dialogue.id, None, 0, 1000)?.0)
    })?;
    let (mut accepted, mut declined, mut checked_in) = (0, 0, 0);
    for (n, (_, person)) in invitees.iter().enumerate() {
        let answer = match n % 10 {
            8 => Some(false),
            9 => None,
            _ => Some(true),
        };
        let Some(accept) = answer else { continue };
        db.write_now(|conn| {
            crate::personal::ops::answer(conn, mailing, person, accept).map(|_| ())
        })?;
        if accept {
            accepted += 1;
        } else {
            declined += 1;
        }
        if accept && n % 7 == 0 {
            let done = db.write_now(|conn| {
                crate::registrations::ops::check_in(conn, dialogue, &person.code, organizer_id)
            });
            match done {
                Ok(_) => checked_in += 1,
                // The waitlisted have no seat to check in to; anything else is a real error.
                Err(AppError::Conflict("waitlisted")) => {}
                Err(other) => return Err(other),
            }
        }
    }
    Ok(format!(
        "80 invitees, {accepted} accepted (seats for {}; the rest on the waitlist), {declined} declined, {checked_in} checked in",
        dialogue.capacity
    ))
}
