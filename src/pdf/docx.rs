//! The same [`Document`] as an editable Word file (.docx, Office Open XML), for offices that
//! finish their papers in Word or LibreOffice. The PDF stays the record; this is a copy to
//! amend and print.
//!
//! The copy follows the PDF's layout as far as a word processor can: A4 with the same
//! margins, Times New Roman (the font Liberation Serif is metric-compatible with) at the
//! same sizes, the same bold, italics, alignment, first-line indent and spacing; the header
//! block as a borderless two-column table with its short rules; tables with a header row
//! that repeats on each page; signatures side by side in a row that never splits; page
//! numbers centred in the top margin from page 2. Lines break where the word processor
//! breaks them, so pages may end in other places than in the PDF.
//!
//! docx-rs writes the package. What it has no builder for is added to its XML on the way
//! out: the repeating header row (`w:tblHeader`), the language (`vi-VN`) and the core
//! properties (title, author, subject, dates). The package is then stored again with
//! deflate (docx-rs stores its parts uncompressed) and with the document's date on every
//! entry, so the same document gives the same bytes.

use std::io::{Cursor, Read, Write};

use docx_rs::{
    AlignmentType, BreakType, Docx, Header, HeightRule, LineSpacing, LineSpacingType, PageMargin,
    PageNum, ParagraphBorder, ParagraphBorderPosition, Pic, Run, RunFonts, SpecialIndentType,
    TableBorder, TableBorderPosition, TableBorders, TableCell, TableCellMargins, TableLayoutType,
    TableRow, VAlignType, WidthType,
};

use super::layout::{
    self, HEADER_LEFT, INDENT, LEADING, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MM,
    PAD_X, PAD_Y, PAGE_HEIGHT, PAGE_WIDTH, RULE, SIGNING_ROOM, TEXT_WIDTH,
};
use super::{
    Align, BODY_SIZE, Block, Document, HeaderBlock, MOTTO, NATIONAL_TITLE, Paragraph, Signature,
    Style, Table,
};

/// The font named in the file: Liberation Serif, embedded in the PDF, has the same metrics,
/// and word processors without Times New Roman substitute a metric-compatible face.
pub const FONT: &str = "Times New Roman";

/// The media type of a .docx file.
pub const CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// Points to twentieths of a point (twips), the unit of most lengths in WordprocessingML.
fn tw(points: f32) -> i32 {
    (points * 20.0).round() as i32
}

fn utw(points: f32) -> u32 {
    tw(points).max(0) as u32
}

/// Points to half-points, the unit of type sizes.
fn half_points(size: f32) -> usize {
    (size * 2.0).round().max(2.0) as usize
}

/// A marker that docx-rs writes for a table's header row, replaced by `<w:tblHeader />`
/// when the package is stored again (docx-rs has no builder for it). A row at least one
/// twip high is what any row is, so a missed replacement would change nothing visible.
const HEADER_ROW_MARKER: &str = r#"<w:trHeight w:val="1" w:hRule="atLeast" />"#;

/// Builds the paragraphs with fixed ids (docx-rs draws them from a per-thread counter).
struct Builder {
    next_id: u32,
    images: u32,
}

impl Builder {
    fn paragraph(&mut self) -> docx_rs::Paragraph {
        self.next_id += 1;
        docx_rs::Paragraph::new().id(format!("{:08X}", self.next_id))
    }

    /// A paragraph in the PDF's terms: spans, alignment, indent, size, space after.
    fn text(&mut self, p: &Paragraph, width_indent: Option<(i32, i32)>) -> docx_rs::Paragraph {
        let mut out = self
            .paragraph()
            .align(alignment(p.align))
            .line_spacing(
                LineSpacing::new()
                    .before(0)
                    .after(utw(p.space_after))
                    .line(tw(p.size * LEADING))
                    .line_rule(LineSpacingType::AtLeast),
            )
            .size(half_points(p.size));
        let first = p.indent.then_some(SpecialIndentType::FirstLine(tw(INDENT)));
        if first.is_some() || width_indent.is_some() {
            let (left, right) = width_indent.unwrap_or((0, 0));
            out = out.indent(Some(left), first, Some(right), None);
        }
        for span in &p.spans {
            out = out.add_run(run(&span.text, span.style, p.size));
        }
        out
    }

    /// A one-line centred paragraph in one face, no space after.
    fn centered(&mut self, text: &str, style: Style, size: f32) -> docx_rs::Paragraph {
        self.text(&Paragraph::centered(text, style, size), None)
    }

    /// An empty paragraph `height` points high.
    fn gap(&mut self, height: f32) -> docx_rs::Paragraph {
        self.paragraph().size(2).line_spacing(
            LineSpacing::new()
                .before(0)
                .after(0)
                .line(tw(height.max(1.0)))
                .line_rule(LineSpacingType::Exact),
        )
    }

    /// A short horizontal rule `width` points wide, centred in a column `column` points wide:
    /// the bottom border of an empty paragraph, indented from both sides.
    fn rule(&mut self, width: f32, column: f32) -> docx_rs::Paragraph {
        let side = tw(((column - width) / 2.0).max(0.0));
        self.gap(3.0)
            .indent(Some(side), None, Some(side), None)
            .add_border(
                ParagraphBorder::new(ParagraphBorderPosition::Bottom)
                    .size((RULE * 8.0).round() as usize)
                    .space(0),
            )
    }
}

/// Lets [`Builder::rule`] set a border on a paragraph in one chain.
trait WithBorder {
    fn add_border(self, border: ParagraphBorder) -> Self;
}

impl WithBorder for docx_rs::Paragraph {
    fn add_border(mut self, border: ParagraphBorder) -> Self {
        self.property = self.property.set_border(border);
        self
    }
}

fn alignment(align: Align) -> AlignmentType {
    match align {
        Align::Left => AlignmentType::Left,
        Align::Center => AlignmentType::Center,
        Align::Right => AlignmentType::Right,
        Align::Justify => AlignmentType::Both,
    }
}

fn run(text: &str, style: Style, size: f32) -> Run {
    let run = Run::new()
        .add_text(super::clean(text))
        .size(half_points(size));
    match style {
        Style::Regular => run,
        Style::Bold => run.bold(),
        Style::Italic => run.italic(),
    }
}

fn cell(width: f32) -> TableCell {
    TableCell::new().width(utw(width) as usize, WidthType::Dxa)
}

/// The header block: a borderless table, parent and host unit and the number on the left,
/// the national title, the motto and the place and date on the right, as in the PDF.
fn header(b: &mut Builder, h: &HeaderBlock) -> Vec<docx_rs::DocumentChild> {
    let left_width = TEXT_WIDTH * HEADER_LEFT;
    let right_width = TEXT_WIDTH - left_width;
    // The PDF draws the left column 12 pt into the left margin.
    let shift = 12.0;
    let mut left = cell(left_width);
    if !h.parent_unit.trim().is_empty() {
        left = left.add_paragraph(b.centered(&h.parent_unit, Style::Regular, 13.0));
    }
    left = left.add_paragraph(b.centered(&h.host_unit, Style::Bold, 13.0));
    let host_width =
        Style::Bold.metrics().width(&super::clean(&h.host_unit)) as f32 * 13.0 / 1000.0;
    left = left.add_paragraph(b.rule(
        layout::host_rule_width(host_width.min(left_width)),
        left_width,
    ));
    let title_size = layout::national_title_size(right_width);
    let motto_width = Style::Bold.metrics().width(MOTTO) as f32 * 13.0 / 1000.0;
    let right = cell(right_width + shift)
        .add_paragraph(b.centered(NATIONAL_TITLE, Style::Bold, title_size).indent(
            Some(tw(shift)),
            None,
            None,
            None,
        ))
        .add_paragraph(b.centered(MOTTO, Style::Bold, 13.0).indent(
            Some(tw(shift)),
            None,
            None,
            None,
        ))
        .add_paragraph(b.rule(motto_width, right_width).indent(
            Some(tw(shift + (right_width - motto_width) / 2.0)),
            None,
            Some(tw((right_width - motto_width) / 2.0)),
            None,
        ));
    let number = Paragraph::centered(&h.number, Style::Regular, 13.0);
    let date = Paragraph::centered(&h.place_date, Style::Italic, 13.0);
    let spaced = |p: docx_rs::Paragraph| {
        p.line_spacing(
            LineSpacing::new()
                .before(utw(8.0))
                .after(utw(14.0))
                .line(tw(13.0 * LEADING))
                .line_rule(LineSpacingType::AtLeast),
        )
    };
    let number_cell = cell(left_width).add_paragraph(spaced(b.text(&number, None)));
    let date_cell = cell(right_width + shift).add_paragraph(spaced(b.text(&date, None).indent(
        Some(tw(shift)),
        None,
        None,
        None,
    )));
    let table = docx_rs::Table::without_borders(vec![
        TableRow::new(vec![left, right]).cant_split(),
        TableRow::new(vec![number_cell, date_cell]).cant_split(),
    ])
    .set_grid(vec![
        utw(left_width) as usize,
        utw(right_width + shift) as usize,
    ])
    .width(utw(TEXT_WIDTH + shift) as usize, WidthType::Dxa)
    .indent(-tw(shift))
    .layout(TableLayoutType::Fixed)
    .margins(TableCellMargins::new().margin(0, 0, 0, 0));
    vec![docx_rs::DocumentChild::Table(Box::new(table))]
}

fn borders() -> TableBorders {
    let size = (RULE * 8.0).round() as usize;
    [
        TableBorderPosition::Top,
        TableBorderPosition::Left,
        TableBorderPosition::Bottom,
        TableBorderPosition::Right,
        TableBorderPosition::InsideH,
        TableBorderPosition::InsideV,
    ]
    .into_iter()
    .fold(TableBorders::new(), |all, position| {
        all.set(TableBorder::new(position).size(size))
    })
}

/// A ruled table whose header row repeats on each page, as in the PDF.
fn table(b: &mut Builder, t: &Table) -> Vec<docx_rs::DocumentChild> {
    let total: f32 = t.columns.iter().map(|c| c.width).sum::<f32>().max(0.0001);
    let widths: Vec<f32> = t
        .columns
        .iter()
        .map(|c| c.width / total * TEXT_WIDTH)
        .collect();
    let mut cells = |texts: &[String], header: bool| -> Vec<TableCell> {
        t.columns
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (column, width))| {
                let text = texts.get(i).map(String::as_str).unwrap_or("");
                let (style, align) = if header {
                    (Style::Bold, Align::Center)
                } else if column.align == Align::Justify {
                    (Style::Regular, Align::Left)
                } else {
                    (Style::Regular, column.align)
                };
                let p = Paragraph::centered(text, style, t.size).with_align(align);
                cell(*width)
                    .vertical_align(VAlignType::Center)
                    .add_paragraph(b.text(&p, None))
            })
            .collect()
    };
    let titles: Vec<String> = t.columns.iter().map(|c| c.title.clone()).collect();
    let mut rows = vec![
        TableRow::new(cells(&titles, true))
            .cant_split()
            .row_height(1.0)
            .height_rule(HeightRule::AtLeast),
    ];
    for row in &t.rows {
        let mut r = TableRow::new(cells(row, false)).cant_split();
        if t.min_row_height > 0.0 {
            r = r
                .row_height(utw(t.min_row_height).max(2) as f32)
                .height_rule(HeightRule::AtLeast);
        }
        rows.push(r);
    }
    let table = docx_rs::Table::new(rows)
        .set_grid(widths.iter().map(|w| utw(*w) as usize).collect())
        .width(utw(TEXT_WIDTH) as usize, WidthType::Dxa)
        .layout(TableLayoutType::Fixed)
        .set_borders(borders())
        .margins(TableCellMargins::new().margin(
            utw(PAD_Y) as usize,
            utw(PAD_X) as usize,
            utw(PAD_Y) as usize,
            utw(PAD_X) as usize,
        ));
    vec![
        docx_rs::DocumentChild::Table(Box::new(table)),
        docx_rs::DocumentChild::Paragraph(Box::new(b.gap(8.0))),
    ]
}

fn signature_cell(b: &mut Builder, s: Option<&Signature>, width: f32) -> TableCell {
    let mut c = cell(width);
    let Some(s) = s else {
        return c.add_paragraph(b.gap(1.0));
    };
    let mut parts: Vec<(Paragraph, bool)> = s
        .title
        .iter()
        .map(|line| (Paragraph::centered(line, Style::Bold, 13.0), false))
        .collect();
    if let Some(note) = &s.note {
        parts.push((Paragraph::centered(note, Style::Italic, 13.0), false));
    }
    if let Some(last) = parts.last_mut() {
        last.0.space_after = SIGNING_ROOM;
    }
    parts.push((Paragraph::centered(&s.name, Style::Bold, 13.0), true));
    for (p, _) in parts {
        c = c.add_paragraph(b.text(&p, None).keep_next(true));
    }
    c
}

/// Signatures side by side in a row that never splits (one: on the right).
fn signatures(b: &mut Builder, list: &[Signature]) -> Vec<docx_rs::DocumentChild> {
    let half = TEXT_WIDTH / 2.0;
    let (left, right) = match list {
        [one] => (None, Some(one)),
        many => (many.first(), many.get(1)),
    };
    let cells = vec![
        signature_cell(b, left, half),
        signature_cell(b, right, half),
    ];
    let table = docx_rs::Table::without_borders(vec![TableRow::new(cells).cant_split()])
        .set_grid(vec![utw(half) as usize, utw(half) as usize])
        .width(utw(TEXT_WIDTH) as usize, WidthType::Dxa)
        .layout(TableLayoutType::Fixed)
        .margins(TableCellMargins::new().margin(0, 0, 0, 0));
    vec![
        docx_rs::DocumentChild::Paragraph(Box::new(b.gap(6.0))),
        docx_rs::DocumentChild::Table(Box::new(table)),
        docx_rs::DocumentChild::Paragraph(Box::new(b.gap(10.0))),
    ]
}

/// "Nơi nhận:" and the list, small, in the left half, kept on one page.
fn recipients(b: &mut Builder, list: &[String]) -> Vec<docx_rs::DocumentChild> {
    let half = Some((0, tw(TEXT_WIDTH / 2.0)));
    let mut out = Vec::new();
    let label = Paragraph::centered("Nơi nhận:", Style::Italic, 12.0).with_align(Align::Left);
    out.push(b.text(&label, half).keep_next(!list.is_empty()));
    for (i, r) in list.iter().enumerate() {
        let mut p =
            Paragraph::centered(&format!("- {r}"), Style::Regular, 11.0).with_align(Align::Left);
        if i + 1 == list.len() {
            p.space_after = 6.0;
        }
        out.push(b.text(&p, half).keep_next(i + 1 < list.len()));
    }
    out.into_iter()
        .map(|p| docx_rs::DocumentChild::Paragraph(Box::new(p.keep_lines(true))))
        .collect()
}

/// A QR code as a PNG picture, `size_mm` wide, centred (8 pixels a module, with the quiet
/// zone of 4 modules; the PDF draws it as vector squares).
fn qr(b: &mut Builder, data: &str, size_mm: f32) -> Vec<docx_rs::DocumentChild> {
    let Ok(code) = qrcode::QrCode::with_error_correction_level(data, qrcode::EcLevel::M) else {
        return Vec::new();
    };
    let modules = code.width();
    let colors = code.to_colors();
    let scale = 8;
    let quiet = 4;
    let side = (modules + 2 * quiet) * scale;
    let mut pixels = vec![255u8; side * side];
    for row in 0..modules {
        for col in 0..modules {
            if colors[row * modules + col] == qrcode::Color::Dark {
                for y in 0..scale {
                    let start = ((row + quiet) * scale + y) * side + (col + quiet) * scale;
                    pixels[start..start + scale].fill(0);
                }
            }
        }
    }
    let mut png_bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut png_bytes, side as u32, side as u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let written = encoder
            .write_header()
            .and_then(|mut writer| writer.write_image_data(&pixels));
        if written.is_err() {
            return Vec::new();
        }
    }
    b.images += 1;
    // The picture is as wide as the PDF's code with its quiet zone.
    let emu = (size_mm * MM * (side as f32) / ((modules * scale) as f32) * 12700.0) as u32;
    let pic = Pic::new_with_dimensions(png_bytes, side as u32, side as u32)
        .id(format!("rIdQr{}", b.images))
        .size(emu, emu);
    let p = b
        .paragraph()
        .align(AlignmentType::Center)
        .line_spacing(LineSpacing::new().before(0).after(utw(6.0)))
        .add_run(Run::new().add_image(pic));
    vec![docx_rs::DocumentChild::Paragraph(Box::new(p))]
}

fn blocks(b: &mut Builder, document: &Document) -> Vec<docx_rs::DocumentChild> {
    let mut out = Vec::new();
    let paragraph = |p: docx_rs::Paragraph| docx_rs::DocumentChild::Paragraph(Box::new(p));
    for block in &document.blocks {
        match block {
            Block::Heading(text) => {
                let p = Paragraph::body(text)
                    .with_style(Style::Bold)
                    .with_align(Align::Left)
                    .with_space_after(3.0);
                let before = if out.is_empty() { 0 } else { utw(4.0) };
                out.push(paragraph(
                    b.text(&p, None)
                        .line_spacing(
                            LineSpacing::new()
                                .before(before)
                                .after(utw(3.0))
                                .line(tw(p.size * LEADING))
                                .line_rule(LineSpacingType::AtLeast),
                        )
                        .keep_next(true)
                        .keep_lines(true),
                ));
            }
            Block::Paragraph(p) => out.push(paragraph(b.text(p, None))),
            Block::Line(p) => {
                let mut p = p.clone();
                p.size = layout::line_size(&p);
                out.push(paragraph(b.text(&p, None)));
            }
            Block::Header(h) => out.extend(header(b, h)),
            Block::Table(t) => out.extend(table(b, t)),
            Block::Signatures(list) => out.extend(signatures(b, list)),
            Block::Recipients(list) => out.extend(recipients(b, list)),
            Block::Qr { data, size_mm } => out.extend(qr(b, data, *size_mm)),
            Block::Space(points) => out.push(paragraph(b.gap(*points))),
            Block::PageBreak => out.push(paragraph(
                b.paragraph().add_run(Run::new().add_break(BreakType::Page)),
            )),
        }
    }
    out
}

/// Renders the document as a .docx file. The same document gives the same bytes. The only
/// failures are those of writing the archive in memory.
pub fn render(document: &Document) -> std::io::Result<Vec<u8>> {
    let mut b = Builder {
        next_id: 0,
        images: 0,
    };
    let fonts = RunFonts::new()
        .ascii(FONT)
        .hi_ansi(FONT)
        .cs(FONT)
        .east_asia(FONT);
    let mut docx = Docx::new()
        .page_size(utw(PAGE_WIDTH), utw(PAGE_HEIGHT))
        .page_margin(PageMargin {
            top: tw(MARGIN_TOP),
            left: tw(MARGIN_LEFT),
            bottom: tw(MARGIN_BOTTOM),
            right: tw(MARGIN_RIGHT),
            header: tw(MARGIN_TOP / 2.0 - BODY_SIZE / 2.0),
            footer: tw(MARGIN_BOTTOM / 2.0),
            gutter: 0,
        })
        .default_fonts(fonts)
        .default_size(half_points(BODY_SIZE));
    if document.page_numbers {
        // The page number, centred in the top margin, from page 2 on (the first page's
        // header is empty).
        let number = b
            .paragraph()
            .align(AlignmentType::Center)
            .size(half_points(BODY_SIZE))
            .add_page_num(PageNum::new());
        docx = docx
            .header(Header::new().add_paragraph(number))
            .first_header(Header::new().add_paragraph(b.paragraph()))
            .title_pg();
    }
    for child in blocks(&mut b, document) {
        docx = match child {
            docx_rs::DocumentChild::Paragraph(p) => docx.add_paragraph(*p),
            docx_rs::DocumentChild::Table(t) => docx.add_table(*t),
            _ => docx,
        };
    }
    let mut stored = Cursor::new(Vec::new());
    docx.build()
        .pack(&mut stored)
        .map_err(std::io::Error::other)?;
    repack(&stored.into_inner(), document).map_err(std::io::Error::other)
}

/// A .docx as an HTTP answer, to save. `filename` is plain ASCII.
pub fn response(bytes: Vec<u8>, filename: &str) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type(CONTENT_TYPE)
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .body(bytes)
}

/// `dcterms:W3CDTF` for the document's date.
fn w3c(at: chrono::NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn escape(text: &str) -> String {
    super::clean(text)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The core properties: title, author (the host unit), subject, language and dates.
fn core_xml(document: &Document) -> String {
    let date = w3c(document.created);
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
            r#"<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" "#,
            r#"xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" "#,
            r#"xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">"#,
            r#"<dc:title>{title}</dc:title><dc:subject>{subject}</dc:subject>"#,
            r#"<dc:creator>{author}</dc:creator><cp:lastModifiedBy>{author}</cp:lastModifiedBy>"#,
            r#"<dc:language>vi-VN</dc:language><cp:revision>1</cp:revision>"#,
            r#"<dcterms:created xsi:type="dcterms:W3CDTF">{date}</dcterms:created>"#,
            r#"<dcterms:modified xsi:type="dcterms:W3CDTF">{date}</dcterms:modified>"#,
            r#"</cp:coreProperties>"#
        ),
        title = escape(&document.title),
        subject = escape(&document.subject),
        author = escape(&document.author),
        date = date,
    )
}

/// The language of every run, for spelling and hyphenation: Vietnamese.
const LANG: &str = r#"<w:lang w:val="vi-VN" w:eastAsia="vi-VN" w:bidi="ar-SA" />"#;

/// Stores the package again with deflate and the document's date on every entry, with the
/// parts docx-rs cannot write put in.
fn repack(stored: &[u8], document: &Document) -> zip::result::ZipResult<Vec<u8>> {
    use chrono::{Datelike, Timelike};
    let mut archive = zip::ZipArchive::new(Cursor::new(stored))?;
    let c = document.created;
    let stamp = zip::DateTime::from_date_and_time(
        c.year().clamp(1980, 2107) as u16,
        c.month() as u8,
        c.day() as u8,
        c.hour() as u8,
        c.minute() as u8,
        c.second().min(59) as u8,
    )
    .unwrap_or_default();
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(stamp)
        .unix_permissions(0o644);
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i)?;
        let name = entry.name().to_owned();
        if entry.is_dir() {
            // Word and LibreOffice need no folder entries.
            continue;
        }
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes)?;
        let bytes = match name.as_str() {
            "word/document.xml" => String::from_utf8_lossy(&bytes)
                .replace(HEADER_ROW_MARKER, "<w:tblHeader />")
                .into_bytes(),
            "word/styles.xml" => add_language(&String::from_utf8_lossy(&bytes)).into_bytes(),
            "docProps/core.xml" => core_xml(document).into_bytes(),
            _ => bytes,
        };
        out.start_file(name, options)?;
        out.write_all(&bytes)?;
    }
    Ok(out.finish()?.into_inner())
}

/// Puts the language into the default run properties (at their end, where the schema puts
/// `w:lang` after the fonts and sizes docx-rs writes there).
fn add_language(styles: &str) -> String {
    match styles.find("</w:rPrDefault>") {
        Some(end) => match styles[..end].rfind("</w:rPr>") {
            Some(close) => format!("{}{LANG}{}", &styles[..close], &styles[close..]),
            None => styles.to_owned(),
        },
        None => styles.to_owned(),
    }
}
