//! `doithoai demo`: a sample day like the reference case (Bến Lức, 30 November), so that a
//! newcomer sees the product at once. Refuses to touch a database that has dialogues.

use std::fmt;

use chrono::{Datelike, Duration, TimeZone};
use diesel::prelude::*;

use crate::accounts::ops::{self as accounts, AccountInput};
use crate::agencies::model::AgencyInput;
use crate::agencies::store as agencies;
use crate::audit::Actor;
use crate::auth::secrets;
use crate::config::Settings;
use crate::db::Db;
use crate::db::schema::dialogues as dialogues_table;
use crate::dialogues::model::{AgendaInput, DialogueInput, DialogueStatus, OfficialInput};
use crate::dialogues::ops as dialogues;
use crate::error::AppError;

pub struct DemoReport {
    pub dialogue_id: String,
    pub base_url: String,
    pub accounts: Vec<(String, String, String)>,
}

impl fmt::Display for DemoReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Demo data created.")?;
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
        capacity: Some(120),
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
        db.write_now(|conn| agencies::insert(conn, &new))?;
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
        db.write_now(|conn| accounts::create(conn, &account, Some(hash), &Actor::System, None))?;
        accounts_made.push((role.to_string(), email.to_string(), password));
    }
    let input = reference_dialogue();
    let full = db.write_now(|conn| {
        let full = dialogues::create(conn, &input, &Actor::System, None)?;
        dialogues::change_status(
            conn,
            &full.dialogue.id,
            DialogueStatus::Open,
            &Actor::System,
        )
    })?;
    Ok(DemoReport {
        dialogue_id: full.dialogue.id,
        base_url: settings.base_url.to_string(),
        accounts: accounts_made,
    })
}
