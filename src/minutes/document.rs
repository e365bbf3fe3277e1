//! The biên bản as a document, in the order and layout of Decree 30/2020's template for
//! minutes (docs/DOCUMENTS.md): header block, BIÊN BẢN and the title, time and venue,
//! attendance (counts per group, never names), the proceedings with the questions by topic,
//! commitments, the chair's conclusion, the closing line, signatures and recipients.
//! Always in Vietnamese.

use chrono::{Datelike, NaiveDateTime, Timelike};

use super::record::{QuestionEntry, Record};
use crate::dialogues::model::{Dialogue, OfficialRole};
use crate::i18n::Lang;
use crate::pdf::{self, Block, Document, HeaderBlock, Paragraph, Signature, Style};

/// "14 giờ 00 phút, ngày 30 tháng 11 năm 2026" in the dialogue's zone.
fn spoken_time(d: &Dialogue, at: NaiveDateTime) -> String {
    let t = d.local(at);
    format!(
        "{} giờ {:02} phút, ngày {:02} tháng {:02} năm {}",
        t.hour(),
        t.minute(),
        t.day(),
        t.month(),
        t.year()
    )
}

fn date(d: &Dialogue, at: NaiveDateTime) -> String {
    let t = d.local(at);
    format!("{:02}/{:02}/{}", t.day(), t.month(), t.year())
}

/// "Người chấp hành xong án phạt tù" → "người chấp hành xong án phạt tù".
fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn bullet(text: &str) -> Block {
    Block::Paragraph(Paragraph::body(&format!("- {text}")).with_space_after(3.0))
}

/// The paragraphs of a multi-line text (blank lines and single breaks both separate them).
fn paragraphs(doc: &mut Document, text: &str) {
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        doc.push(Block::Paragraph(Paragraph::body(line)));
    }
}

/// The minutes' document, ready to render.
pub fn document(record: &Record) -> Document {
    let d = &record.full.dialogue;
    let m = record.minutes.as_ref();
    let lang = Lang::Vi;
    // The record decides the date: the last save of the minutes (or the dialogue's end).
    let created = m.map(|m| m.updated_at).unwrap_or(d.ends_at);
    let opened = m.and_then(|m| m.opened_at);
    let closed = m.and_then(|m| m.closed_at);
    let mut doc = Document::new(&format!("Biên bản: {}", d.title), &d.host_unit, created);
    doc.subject = "Biên bản hội nghị đối thoại".to_owned();

    let number = m
        .and_then(|m| m.number.clone())
        .unwrap_or_else(|| "       ".to_string());
    let day = d.local(opened.unwrap_or(d.starts_at)).date_naive();
    doc.push(Block::Header(HeaderBlock {
        parent_unit: d.parent_unit.to_uppercase(),
        host_unit: d.host_unit.to_uppercase(),
        number: format!("Số: {number}/BB-UBND"),
        place_date: pdf::place_date(&d.locality, day),
    }));
    doc.push(Block::Paragraph(
        Paragraph::centered("BIÊN BẢN", Style::Bold, 14.0).with_space_after(2.0),
    ));
    doc.push(Block::Paragraph(
        Paragraph::centered(&d.title, Style::Bold, 13.0).with_space_after(12.0),
    ));

    // 1. Time and venue.
    doc.push(Block::Heading("1. Thời gian, địa điểm".to_owned()));
    let start = opened.map(|t| spoken_time(d, t)).unwrap_or_else(|| {
        format!(
            "… giờ … phút, {}",
            spoken_time(d, d.starts_at)
                .split(", ")
                .nth(1)
                .unwrap_or_default()
        )
    });
    doc.push(Block::Paragraph(Paragraph::labelled(
        "Thời gian bắt đầu: ",
        &format!("{start}."),
    )));
    doc.push(Block::Paragraph(Paragraph::labelled(
        "Địa điểm: ",
        &format!("{}.", d.venue),
    )));

    // 2. Attendance.
    doc.push(Block::Heading("2. Thành phần tham dự".to_owned()));
    let officials = &record.full.officials;
    let named = |role: OfficialRole| -> Vec<String> {
        officials
            .iter()
            .filter(|o| o.role == role)
            .map(|o| {
                if o.position.trim().is_empty() {
                    format!("Ông/Bà {}", o.name)
                } else {
                    format!("Ông/Bà {}, {}", o.name, o.position)
                }
            })
            .collect()
    };
    let chairs = named(OfficialRole::Chair);
    let secretaries = named(OfficialRole::Secretary);
    let members = named(OfficialRole::Member);
    doc.push(Block::Paragraph(Paragraph::labelled(
        "Chủ trì (chủ tọa): ",
        &if chairs.is_empty() {
            "…".to_string()
        } else {
            format!("{}.", chairs.join("; "))
        },
    )));
    if !members.is_empty() {
        doc.push(Block::Paragraph(Paragraph::labelled(
            "Cùng dự: ",
            &format!("{}.", members.join("; ")),
        )));
    }
    doc.push(Block::Paragraph(Paragraph::labelled(
        "Thư ký: ",
        &if secretaries.is_empty() {
            "…".to_string()
        } else {
            format!("{}.", secretaries.join("; "))
        },
    )));
    doc.push(Block::Paragraph(Paragraph::labelled(
        "Đại diện các cơ quan, đơn vị: ",
        &if record.agencies.is_empty() {
            "không có.".to_string()
        } else {
            format!("{}.", record.agencies.join("; "))
        },
    )));
    let total = record.attendance_total();
    let groups: Vec<String> = record
        .checked_in
        .iter()
        .map(|(c, n)| {
            let label = lang.text(&format!("category.{}", c.as_str()));
            if label.starts_with("Người") {
                format!("{n} {}", lower_first(&label))
            } else {
                format!("{n} người thuộc nhóm {}", lower_first(&label))
            }
        })
        .collect();
    let attendance = if groups.is_empty() {
        "0 người.".to_string()
    } else {
        format!("{total} người, gồm: {}.", groups.join(", "))
    };
    doc.push(Block::Paragraph(Paragraph::labelled(
        "Người tham dự (theo điểm danh): ",
        &attendance,
    )));

    // 3. Proceedings.
    doc.push(Block::Heading("3. Nội dung hội nghị".to_owned()));
    if !record.full.agenda.is_empty() {
        doc.push(Block::Paragraph(
            Paragraph::body("Chương trình hội nghị:").with_style(Style::Italic),
        ));
        for item in &record.full.agenda {
            let text = match &item.presenter {
                Some(p) if !p.trim().is_empty() => format!("{} ({}).", item.title, p),
                _ => format!("{}.", item.title),
            };
            doc.push(bullet(&text));
        }
    }
    if let Some(summary) = m.and_then(|m| m.summary.as_deref()) {
        paragraphs(&mut doc, summary);
    }
    let count: usize = record.topics.iter().map(|(_, qs)| qs.len()).sum();
    doc.push(Block::Paragraph(Paragraph::body(&format!(
        "Hội nghị đã nhận {count} câu hỏi, ý kiến được duyệt; nội dung câu hỏi và trả lời theo từng lĩnh vực như sau:"
    ))));
    for (i, (topic, questions)) in record.topics.iter().enumerate() {
        doc.push(Block::Heading(format!(
            "3.{} {}",
            i + 1,
            lang.text(&format!("topic.{}", topic.as_str()))
        )));
        for q in questions {
            question(&mut doc, d, q);
        }
    }
    let awaiting = record.awaiting();
    if !awaiting.is_empty() {
        doc.push(Block::Heading(
            "Các câu hỏi sẽ được trả lời bằng văn bản sau hội nghị".to_owned(),
        ));
        for q in awaiting {
            doc.push(bullet(&format!(
                "Câu {}: {} trả lời bằng văn bản trước ngày {}.",
                q.number,
                q.agency.as_deref().unwrap_or("…"),
                q.due_at.map(|t| date(d, t)).unwrap_or_default()
            )));
        }
    }

    // 4. Commitments.
    doc.push(Block::Heading("4. Cam kết".to_owned()));
    if record.commitments.is_empty() {
        doc.push(Block::Paragraph(Paragraph::body(
            "Không có cam kết nào được ghi nhận.",
        )));
    }
    for c in &record.commitments {
        let jobs = c
            .jobs_offered
            .filter(|n| *n > 0)
            .map(|n| format!(" ({n} chỗ làm việc)"))
            .unwrap_or_default();
        doc.push(bullet(&format!(
            "{}: {}{jobs}.",
            c.party,
            c.description.trim_end_matches('.')
        )));
    }

    // 5. Conclusion.
    doc.push(Block::Heading("5. Kết luận của chủ tọa".to_owned()));
    match m.and_then(|m| m.conclusion.as_deref()) {
        Some(conclusion) => paragraphs(&mut doc, conclusion),
        None => {
            doc.push(Block::Paragraph(Paragraph::body("…")));
        }
    }

    // The closing line.
    let end = closed
        .map(|t| {
            let t = d.local(t);
            format!("{} giờ {:02} phút", t.hour(), t.minute())
        })
        .unwrap_or_else(|| "… giờ … phút".to_string());
    doc.push(Block::Paragraph(Paragraph::body(&format!(
        "Hội nghị kết thúc vào {end} cùng ngày. Biên bản đã được đọc lại cho hội nghị nghe và thống nhất thông qua."
    ))));

    let first = |role: OfficialRole| {
        officials
            .iter()
            .find(|o| o.role == role)
            .map(|o| o.name.clone())
            .unwrap_or_default()
    };
    doc.push(Block::Signatures(vec![
        Signature {
            title: vec!["THƯ KÝ".to_owned()],
            note: None,
            name: first(OfficialRole::Secretary),
        },
        Signature {
            title: vec!["CHỦ TỌA".to_owned()],
            note: None,
            name: first(OfficialRole::Chair),
        },
    ]));
    let recipients = m
        .map(|m| m.recipient_list())
        .unwrap_or_else(super::model::default_recipients);
    doc.push(Block::Recipients(recipients));
    doc
}

fn question(doc: &mut Document, d: &Dialogue, q: &QuestionEntry) {
    let asker = match &q.asker {
        Some(name) => format!(" (Ông/Bà {name} hỏi)"),
        None => String::new(),
    };
    doc.push(Block::Paragraph(Paragraph::labelled(
        &format!("Câu {}.", q.number),
        &format!(" {}{asker}", q.body.trim()),
    )));
    if let Some(agency) = &q.agency {
        doc.push(Block::Paragraph(
            Paragraph::labelled("Cơ quan trả lời: ", agency).with_space_after(3.0),
        ));
    }
    if let Some(answer) = &q.answer {
        let mut lines = answer.lines().map(str::trim).filter(|l| !l.is_empty());
        if let Some(first) = lines.next() {
            doc.push(Block::Paragraph(Paragraph::labelled("Trả lời: ", first)));
        }
        for line in lines {
            doc.push(Block::Paragraph(Paragraph::body(line)));
        }
    }
    for (speaker, summary) in &q.spoken {
        doc.push(Block::Paragraph(Paragraph::labelled(
            &format!("Trả lời tại hội nghị ({speaker}): "),
            summary,
        )));
    }
    if q.answer.is_none() && q.spoken.is_empty() {
        let text = match q.due_at {
            Some(due) => format!("sẽ trả lời bằng văn bản trước ngày {}.", date(d, due)),
            None => "chưa có.".to_string(),
        };
        doc.push(Block::Paragraph(Paragraph::labelled("Trả lời: ", &text)));
    }
}

/// The minutes' PDF: the same record gives the same bytes.
pub fn pdf(record: &Record) -> Vec<u8> {
    pdf::render(&document(record))
}

/// The same minutes as an editable .docx (the PDF stays the record): the same sections in
/// the same order, the same record gives the same bytes.
pub fn docx(record: &Record) -> std::io::Result<Vec<u8>> {
    pdf::render_docx(&document(record))
}
