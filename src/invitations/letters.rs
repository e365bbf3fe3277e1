//! Printed invitation letters (giấy mời): one invitee per page, for people without email
//! (or for everyone), with the personal code in large type and a QR code of the personal
//! link. Administrative documents are always in Vietnamese.

use chrono::NaiveDateTime;

use super::model::Invitation;
use crate::collate;
use crate::config::Settings;
use crate::dialogues::model::{FullDialogue, OfficialRole};
use crate::dialogues::view::{moment, when};
use crate::i18n::Lang;
use crate::participants::model::Participant;
use crate::participants::notify::code_link;
use crate::pdf::{self, Block, Document, HeaderBlock, Paragraph, Signature, Style};

/// Which invitees get a letter (`?only=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Only {
    All,
    WithoutEmail,
}

/// The letters as one PDF, in name order (docs/DOCUMENTS.md). `invitees` may hold anyone
/// invited to the dialogue; those `only` leaves out are skipped.
pub fn letters(
    settings: &Settings,
    full: &FullDialogue,
    mut invitees: Vec<(Invitation, Participant)>,
    only: Only,
) -> Vec<u8> {
    let d = &full.dialogue;
    invitees.retain(|(_, p)| only == Only::All || p.email.is_none());
    invitees.sort_by_cached_key(|(_, p)| (collate::name_key(&p.full_name), p.id.to_string()));
    // The letter's date: when the latest of these invitations was made (so that the same
    // list prints the same bytes).
    let created: NaiveDateTime = invitees
        .iter()
        .map(|(i, _)| i.created_at)
        .max()
        .unwrap_or(d.created_at);
    let mut doc = Document::new(&format!("Giấy mời: {}", d.title), &d.host_unit, created);
    doc.subject = "Giấy mời tham dự hội nghị đối thoại".to_owned();
    doc.page_numbers = false;
    let date = d.local(created).date_naive();
    // The host unit's leader signs: the chair whose position names the chairman
    // ("Chủ tịch UBND …"), else the first chair.
    let chairs = || {
        full.officials
            .iter()
            .filter(|o| o.role == OfficialRole::Chair)
    };
    let signer = chairs()
        .find(|o| crate::text::fold(&o.position).starts_with("chu tich"))
        .or_else(|| chairs().next());
    for (i, (_, p)) in invitees.iter().enumerate() {
        if i > 0 {
            doc.push(Block::PageBreak);
        }
        letter(&mut doc, settings, full, p, date, signer);
    }
    if invitees.is_empty() {
        doc.push(Block::Paragraph(Paragraph::body(
            "Không có người được mời nào cần giấy mời in.",
        )));
    }
    pdf::render(&doc)
}

fn letter(
    doc: &mut Document,
    settings: &Settings,
    full: &FullDialogue,
    p: &Participant,
    date: chrono::NaiveDate,
    signer: Option<&crate::dialogues::model::Official>,
) {
    let d = &full.dialogue;
    let lang = Lang::Vi;
    doc.push(Block::Header(HeaderBlock {
        parent_unit: d.parent_unit.to_uppercase(),
        host_unit: d.host_unit.to_uppercase(),
        // Room to write the number by hand (non-breaking spaces keep it).
        number: "Số:\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}/GM-UBND"
            .to_owned(),
        place_date: pdf::place_date(&d.locality, date),
    }));
    doc.push(Block::Paragraph(
        Paragraph::centered("GIẤY MỜI", Style::Bold, 14.0).with_space_after(2.0),
    ));
    doc.push(Block::Paragraph(
        Paragraph::centered(&d.title, Style::Bold, 13.0).with_space_after(10.0),
    ));
    doc.push(Block::Paragraph(
        Paragraph::centered("Kính gửi: Ông/Bà ", Style::Regular, 14.0)
            .push(&p.full_name, Style::Bold)
            .with_space_after(10.0),
    ));
    let mut purpose = format!("{} tổ chức {}.", d.host_unit, lowercase_first(&d.title));
    if !d.description.trim().is_empty() {
        purpose.push(' ');
        purpose.push_str(d.description.trim());
    }
    doc.push(Block::Paragraph(Paragraph::body(&purpose)));
    doc.push(Block::Paragraph(Paragraph::body(
        "Trân trọng kính mời Ông/Bà đến dự.",
    )));
    doc.push(Block::Paragraph(Paragraph::labelled(
        "Thời gian: ",
        &when(d, lang),
    )));
    doc.push(Block::Paragraph(Paragraph::labelled(
        "Địa điểm: ",
        &d.venue,
    )));
    doc.push(Block::Paragraph(Paragraph::labelled(
        "Khi đến, xin mang theo: ",
        "giấy mời này (hoặc mã cá nhân bên dưới) và giấy tờ tùy thân (căn cước công dân).",
    )));
    doc.push(Block::Paragraph(
        Paragraph::centered("Mã cá nhân của Ông/Bà", Style::Regular, 13.0).with_space_after(2.0),
    ));
    doc.push(Block::Line(
        Paragraph::centered(&p.code, Style::Bold, 30.0).with_space_after(4.0),
    ));
    let link = code_link(settings, p);
    doc.push(Block::Qr {
        data: link.clone(),
        size_mm: 32.0,
    });
    let deadline = d
        .question_deadline
        .map(|t| format!(" trước {}", moment(d, t, lang)))
        .unwrap_or_default();
    doc.push(Block::Paragraph(Paragraph::labelled(
        "Gửi câu hỏi trước hội nghị: ",
        &format!(
            "Ông/Bà có thể gửi câu hỏi{deadline} bằng cách quét mã QR ở trên, hoặc mở {} \
             và nhập mã cá nhân; hoặc viết câu hỏi ra giấy và gửi cho cán bộ tổ chức khi đến \
             dự. Người hỏi có thể đề nghị không nêu tên.",
            settings.link("/p")
        ),
    )));
    let (title, name) = match signer {
        Some(o) => (
            vec![
                format!("TM. {}", d.host_unit.to_uppercase()),
                o.position.to_uppercase(),
            ],
            o.name.clone(),
        ),
        None => (
            vec![format!("TM. {}", d.host_unit.to_uppercase())],
            String::new(),
        ),
    };
    doc.push(Block::Signatures(vec![Signature {
        title,
        note: None,
        name,
    }]));
}

fn lowercase_first(text: &str) -> String {
    // "Hội nghị đối thoại …" reads "tổ chức hội nghị đối thoại …"; an acronym stays.
    let mut chars = text.trim().chars();
    match (chars.next(), chars.clone().next()) {
        (Some(first), Some(second)) if !second.is_uppercase() => {
            first.to_lowercase().chain(chars).collect()
        }
        _ => text.trim().to_string(),
    }
}
