//! The sign-in sheet (danh sách ký tên): a table of everyone holding a seat, with a column to
//! sign, in Vietnamese name order (docs/DOCUMENTS.md). For the organizer's eyes only: it
//! names each person's group.

use chrono::NaiveDateTime;

use crate::collate;
use crate::dialogues::model::FullDialogue;
use crate::dialogues::view::when;
use crate::i18n::Lang;
use crate::participants::model::Participant;
use crate::pdf::{self, Align, Block, Column, Document, Paragraph, Style, Table};
use crate::registrations::model::Registration;

/// The sheet for these registrations (the caller passes those that hold a seat).
pub fn sheet(full: &FullDialogue, mut people: Vec<(Registration, Participant)>) -> Vec<u8> {
    let d = &full.dialogue;
    people.sort_by_cached_key(|(_, p)| (collate::name_key(&p.full_name), p.id.to_string()));
    let created: NaiveDateTime = people
        .iter()
        .map(|(r, _)| r.created_at)
        .max()
        .unwrap_or(d.created_at);
    let mut doc = Document::new(
        &format!("Danh sách ký tên: {}", d.title),
        &d.host_unit,
        created,
    );
    doc.subject = "Danh sách ký tên tham dự hội nghị đối thoại".to_owned();
    let unit = |text: &str, style| {
        Block::Paragraph(Paragraph::centered(&text.to_uppercase(), style, 13.0))
    };
    if !d.parent_unit.trim().is_empty() {
        doc.push(unit(&d.parent_unit, Style::Regular));
    }
    doc.push(unit(&d.host_unit, Style::Bold));
    doc.push(Block::Space(10.0));
    doc.push(Block::Paragraph(Paragraph::centered(
        "DANH SÁCH KÝ TÊN THAM DỰ",
        Style::Bold,
        14.0,
    )));
    doc.push(Block::Paragraph(
        Paragraph::centered(&d.title, Style::Bold, 13.0).with_space_after(4.0),
    ));
    doc.push(Block::Paragraph(
        Paragraph::centered(
            &format!("{} — {}", when(d, Lang::Vi), d.venue),
            Style::Italic,
            12.0,
        )
        .with_space_after(10.0),
    ));
    let rows = people
        .iter()
        .enumerate()
        .map(|(i, (_, p))| {
            vec![
                (i + 1).to_string(),
                p.full_name.clone(),
                Lang::Vi.text(&format!("category.{}", p.category.as_str())),
                String::new(),
            ]
        })
        .collect();
    let column = |title: &str, width: f32, align: Align| pdf::Column {
        title: title.to_owned(),
        width,
        align,
    };
    let columns: Vec<Column> = vec![
        column("STT", 0.7, Align::Center),
        column("Họ và tên", 3.6, Align::Left),
        column("Nhóm", 3.2, Align::Left),
        column("Ký tên", 2.2, Align::Center),
    ];
    doc.push(Block::Table(Table {
        columns,
        rows,
        size: 12.0,
        min_row_height: 26.0,
    }));
    doc.push(Block::Paragraph(
        Paragraph::body(&format!("Tổng số: {} người.", people.len())).without_indent(),
    ));
    pdf::render(&doc)
}
