//! Printable documents: a small document model and its layout on A4 pages (printpdf), and
//! the same document as an editable .docx ([`docx`]).
//!
//! Infrastructure: this module knows no capability and no database. A capability describes
//! a document as a list of [`Block`]s (headings, paragraphs, the two-column header of an
//! administrative document, tables, signature blocks, QR codes, page breaks) and calls
//! [`render`], which returns the PDF's bytes.
//!
//! What the layout guarantees (docs/DOCUMENTS.md):
//! - A4 portrait; margins top 20 mm, bottom 20 mm, left 30 mm, right 15 mm.
//! - Liberation Serif (regular, bold, italic), embedded as subsets.
//! - Text is normalised to NFC before it is measured and drawn, so what `pdftotext` or a
//!   reader's copy gives back is the precomposed Vietnamese that went in.
//! - Paragraphs are wrapped by measured glyph widths (with the font's kerning) and justified;
//!   a heading is kept with what follows; a table repeats its header row on each page; a
//!   signature block is never split; page numbers are centred in the top margin from page 2.
//! - The same document gives the same bytes: fixed font ids, the creation date given by the
//!   caller, a document id derived from the content.

mod binder;
pub mod docx;
mod font;
mod layout;
#[cfg(test)]
mod tests;

pub use font::Style;

use chrono::NaiveDateTime;

/// A document to render.
#[derive(Clone, Debug)]
pub struct Document {
    /// The PDF's title (metadata).
    pub title: String,
    /// The PDF's author (metadata): the host unit.
    pub author: String,
    /// The PDF's subject (metadata), may be empty.
    pub subject: String,
    /// Creation date (UTC), taken from the record so that the output is reproducible.
    pub created: NaiveDateTime,
    /// Page numbers in the top margin from page 2 on.
    pub page_numbers: bool,
    pub blocks: Vec<Block>,
}

impl Document {
    pub fn new(title: &str, author: &str, created: NaiveDateTime) -> Document {
        Document {
            title: title.to_owned(),
            author: author.to_owned(),
            subject: String::new(),
            created,
            page_numbers: true,
            blocks: Vec::new(),
        }
    }

    pub fn push(&mut self, block: Block) -> &mut Self {
        self.blocks.push(block);
        self
    }

    /// Every piece of text the layout may draw for this document, the fixed words of the
    /// header block and the recipients' list included. A long document's fonts are chosen
    /// from these before it is laid out (see `binder`), so a block that draws text must
    /// give it here.
    pub(crate) fn for_each_text(&self, mut f: impl FnMut(&str)) {
        for block in &self.blocks {
            match block {
                Block::Heading(text) => f(text),
                Block::Paragraph(p) | Block::Line(p) => p.spans.iter().for_each(|s| f(&s.text)),
                Block::Header(h) => {
                    for text in [&h.parent_unit, &h.host_unit, &h.number, &h.place_date] {
                        f(text);
                    }
                    f(NATIONAL_TITLE);
                    f(MOTTO);
                }
                Block::Table(t) => {
                    t.columns.iter().for_each(|c| f(&c.title));
                    t.rows.iter().flatten().for_each(|cell| f(cell));
                }
                Block::Signatures(list) => {
                    for s in list {
                        s.title.iter().for_each(|t| f(t));
                        if let Some(note) = &s.note {
                            f(note);
                        }
                        f(&s.name);
                    }
                }
                Block::Recipients(list) => {
                    f(layout::RECIPIENTS_LABEL);
                    list.iter().for_each(|r| f(r));
                }
                Block::Qr { .. } | Block::Space(_) | Block::PageBreak => {}
            }
        }
    }
}

/// One piece of a document, laid out top to bottom.
#[derive(Clone, Debug)]
pub enum Block {
    /// A bold line (or lines) kept on the same page as the start of the next block.
    Heading(String),
    /// Wrapped text.
    Paragraph(Paragraph),
    /// One line that never wraps: if it is too wide, its type is made smaller.
    Line(Paragraph),
    /// The two-column top block of an administrative document.
    Header(HeaderBlock),
    Table(Table),
    /// Signatures side by side (one: on the right; two: left and right), never split.
    Signatures(Vec<Signature>),
    /// "Nơi nhận:" and its list, small, at the left, never split.
    Recipients(Vec<String>),
    /// A QR code of `data`, `size_mm` wide, centred, drawn as vector squares.
    Qr {
        data: String,
        size_mm: f32,
    },
    /// Vertical space in points.
    Space(f32),
    PageBreak,
}

/// A run of text in one face.
#[derive(Clone, Debug, PartialEq)]
pub struct Span {
    pub text: String,
    pub style: Style,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Center,
    Right,
    /// Both edges straight; the last line of the paragraph is left-aligned.
    Justify,
}

#[derive(Clone, Debug)]
pub struct Paragraph {
    pub spans: Vec<Span>,
    pub align: Align,
    /// Indent the first line by 1 cm.
    pub indent: bool,
    /// Type size in points.
    pub size: f32,
    /// Space after the paragraph, in points.
    pub space_after: f32,
}

/// The body size (13 pt).
pub const BODY_SIZE: f32 = 13.0;

impl Paragraph {
    /// A justified body paragraph with a first-line indent.
    pub fn body(text: &str) -> Paragraph {
        Paragraph {
            spans: vec![Span {
                text: text.to_owned(),
                style: Style::Regular,
            }],
            align: Align::Justify,
            indent: true,
            size: BODY_SIZE,
            space_after: 6.0,
        }
    }

    /// A body paragraph that starts with a bold label ("Thời gian: …").
    pub fn labelled(label: &str, text: &str) -> Paragraph {
        let mut p = Paragraph::body(label);
        p.spans[0].style = Style::Bold;
        p.spans.push(Span {
            text: text.to_owned(),
            style: Style::Regular,
        });
        p
    }

    /// A centred line (or lines) in one face.
    pub fn centered(text: &str, style: Style, size: f32) -> Paragraph {
        Paragraph {
            spans: vec![Span {
                text: text.to_owned(),
                style,
            }],
            align: Align::Center,
            indent: false,
            size,
            space_after: 0.0,
        }
    }

    pub fn with_align(mut self, align: Align) -> Paragraph {
        self.align = align;
        if align != Align::Justify {
            self.indent = false;
        }
        self
    }

    pub fn with_style(mut self, style: Style) -> Paragraph {
        for span in &mut self.spans {
            span.style = style;
        }
        self
    }

    pub fn with_size(mut self, size: f32) -> Paragraph {
        self.size = size;
        self
    }

    pub fn with_space_after(mut self, points: f32) -> Paragraph {
        self.space_after = points;
        self
    }

    pub fn without_indent(mut self) -> Paragraph {
        self.indent = false;
        self
    }

    pub fn push(mut self, text: &str, style: Style) -> Paragraph {
        self.spans.push(Span {
            text: text.to_owned(),
            style,
        });
        self
    }
}

/// The top block: parent and host unit with the number on the left; the national title,
/// the motto and the place and date on the right.
#[derive(Clone, Debug)]
pub struct HeaderBlock {
    /// "UBND TỈNH LONG AN" (may be empty).
    pub parent_unit: String,
    /// "UBND HUYỆN BẾN LỨC", in bold.
    pub host_unit: String,
    /// "Số: 12/BB-UBND".
    pub number: String,
    /// "Bến Lức, ngày 30 tháng 11 năm 2026", in italics.
    pub place_date: String,
}

/// The national title and motto of the header block.
pub const NATIONAL_TITLE: &str = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM";
pub const MOTTO: &str = "Độc lập - Tự do - Hạnh phúc";

#[derive(Clone, Debug)]
pub struct Column {
    pub title: String,
    /// Relative width; the columns share the text width in proportion.
    pub width: f32,
    pub align: Align,
}

#[derive(Clone, Debug)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<String>>,
    /// Type size in points.
    pub size: f32,
    /// The least height of a body row in points (room to sign, on a sign-in sheet).
    pub min_row_height: f32,
}

#[derive(Clone, Debug, Default)]
pub struct Signature {
    /// Bold lines above the signature ("THƯ KÝ", or "TM. ỦY BAN NHÂN DÂN" / "CHỦ TỊCH").
    pub title: Vec<String>,
    /// An italic note under the title ("(Ký, ghi rõ họ tên)").
    pub note: Option<String>,
    /// The printed name under the room to sign, in bold (may be empty: a blank to fill in).
    pub name: String,
}

/// Renders the document to PDF bytes. The same document gives the same bytes.
pub fn render(document: &Document) -> Vec<u8> {
    layout::render(document)
}

/// Renders the same document as an editable .docx (see [`docx`]).
pub fn render_docx(document: &Document) -> std::io::Result<Vec<u8>> {
    docx::render(document)
}

/// NFC, with characters the font cannot draw (and control characters) replaced: the same
/// text comes back out of the PDF as went in, for every letter the font has.
pub fn clean(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    text.nfc().map(drawable).collect()
}

/// A character of NFC text as [`clean`] leaves it.
fn drawable(c: char) -> char {
    match c {
        '\t' | '\n' | '\r' => ' ',
        c if c.is_control() => ' ',
        c if Style::Regular.metrics().has(c) => c,
        c if c.is_whitespace() => ' ',
        _ => '?',
    }
}

/// Calls `f` with each character of `clean(text)`, without building the string when the
/// text is NFC already (as stored text is).
fn for_each_clean_char(text: &str, f: impl FnMut(char)) {
    use unicode_normalization::{IsNormalized, is_nfc_quick};
    if is_nfc_quick(text.chars()) == IsNormalized::Yes {
        text.chars().map(drawable).for_each(f);
    } else {
        clean(text).chars().for_each(f);
    }
}

/// "Bến Lức, ngày 05 tháng 02 năm 2026": the place and date line of an administrative
/// document. Days below 10 and months below 3 take a leading zero, as Decree 30/2020
/// prescribes.
pub fn place_date(place: &str, date: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    let (day, month) = (date.day(), date.month());
    let day = if day < 10 {
        format!("0{day}")
    } else {
        day.to_string()
    };
    let month = if month < 3 {
        format!("0{month}")
    } else {
        month.to_string()
    };
    let place = place.trim();
    if place.is_empty() {
        format!("Ngày {day} tháng {month} năm {}", date.year())
    } else {
        format!("{place}, ngày {day} tháng {month} năm {}", date.year())
    }
}

/// A PDF as an HTTP answer: to save (`attachment`) or to show in the browser (`inline`).
/// `filename` is plain ASCII.
pub fn response(bytes: Vec<u8>, filename: &str, inline: bool) -> actix_web::HttpResponse {
    let disposition = if inline { "inline" } else { "attachment" };
    actix_web::HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("{disposition}; filename=\"{filename}\""),
        ))
        .body(bytes)
}
