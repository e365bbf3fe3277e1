//! The layout engine: blocks to positioned text and lines on A4 pages, then PDF bytes.

use std::ops::Range;
use std::sync::LazyLock;

use printpdf::{
    Color, FontId, Line, LinePoint, Op, PaintMode, ParsedFont, PdfFontHandle, Point, Polygon,
    PolygonRing, Pt, Rgb, TextItem, TextMatrix, WindingOrder,
};

use super::binder::{Binder, CHUNK_PAGES};
use super::font::{Metrics, Style};
use super::{
    Align, Block, Document, HeaderBlock, MOTTO, NATIONAL_TITLE, Paragraph, Signature, Table,
};

/// A4 in points.
pub const PAGE_WIDTH: f32 = 595.276;
pub const PAGE_HEIGHT: f32 = 841.89;
pub(super) const MM: f32 = 72.0 / 25.4;
pub const MARGIN_TOP: f32 = 20.0 * MM;
pub const MARGIN_BOTTOM: f32 = 20.0 * MM;
pub const MARGIN_LEFT: f32 = 30.0 * MM;
pub const MARGIN_RIGHT: f32 = 15.0 * MM;
pub const TEXT_WIDTH: f32 = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT;
/// The first-line indent (1 cm).
pub(super) const INDENT: f32 = 10.0 * MM;
/// Line height as a multiple of the type size.
pub(super) const LEADING: f32 = 1.2;
/// Where the baseline sits under the top of a line, as a multiple of the type size.
const ASCENT: f32 = 0.93;
pub(super) const RULE: f32 = 0.6;

pub(super) static PARSED: LazyLock<Vec<Option<ParsedFont>>> = LazyLock::new(|| {
    Style::ALL
        .iter()
        .map(|style| ParsedFont::from_bytes(style.bytes(), 0, &mut Vec::new()))
        .collect()
});

/// A word: pieces of the paragraph's text, each in one face, with its measured width.
#[derive(Debug, Clone)]
struct Word {
    pieces: Range<usize>,
    width: f32,
    /// Width of the space after it (0 when the next word continues it: a word cut in two).
    space: f32,
}

#[derive(Debug, Clone)]
struct Piece {
    style: Style,
    text: Range<usize>,
}

/// A paragraph measured and broken into lines.
struct Prepared {
    text: String,
    pieces: Vec<Piece>,
    words: Vec<Word>,
    lines: Vec<Range<usize>>,
    size: f32,
    align: Align,
    indent: f32,
    width: f32,
}

impl Prepared {
    fn new(paragraph: &Paragraph, width: f32) -> Prepared {
        let size = paragraph.size;
        let indent = if paragraph.indent { INDENT } else { 0.0 };
        let mut text = String::new();
        let mut pieces: Vec<Piece> = Vec::new();
        let mut words: Vec<Word> = Vec::new();
        let mut open = false;
        for span in &paragraph.spans {
            let clean = super::clean(&span.text);
            let metrics = span.style.metrics();
            let space = metrics.width(" ") as f32 * size / 1000.0;
            for (i, chunk) in clean.split(' ').enumerate() {
                if i > 0 {
                    if let Some(last) = words.last_mut() {
                        last.space = space;
                    }
                    open = false;
                }
                if chunk.is_empty() {
                    continue;
                }
                let start = text.len();
                text.push_str(chunk);
                let piece_width = metrics.width(chunk) as f32 * size / 1000.0;
                pieces.push(Piece {
                    style: span.style,
                    text: start..text.len(),
                });
                match words.last_mut() {
                    Some(word) if open => {
                        word.pieces.end = pieces.len();
                        word.width += piece_width;
                    }
                    _ => words.push(Word {
                        pieces: pieces.len() - 1..pieces.len(),
                        width: piece_width,
                        space: 0.0,
                    }),
                }
                open = true;
            }
        }
        if let Some(last) = words.last_mut() {
            last.space = 0.0;
        }
        let (pieces, words) = split_long_words(&text, pieces, words, width - indent, size);
        let widths: Vec<(f32, f32)> = words.iter().map(|w| (w.width, w.space)).collect();
        let lines = break_lines(&widths, width - indent, width);
        Prepared {
            text,
            pieces,
            words,
            lines,
            size,
            align: paragraph.align,
            indent,
            width,
        }
    }

    fn line_height(&self) -> f32 {
        self.size * LEADING
    }

    fn height(&self) -> f32 {
        self.lines.len().max(1) as f32 * self.line_height()
    }

    /// The natural width of a line (no extra space).
    fn natural(&self, line: &Range<usize>) -> f32 {
        let words = &self.words[line.clone()];
        let mut w: f32 = words.iter().map(|w| w.width + w.space).sum();
        if let Some(last) = words.last() {
            w -= last.space;
        }
        w
    }
}

/// The natural width of each line of a paragraph laid out at the text width.
#[cfg(test)]
pub(crate) fn measure(paragraph: &Paragraph) -> Vec<f32> {
    let p = Prepared::new(paragraph, TEXT_WIDTH);
    p.lines.iter().map(|l| p.natural(l)).collect()
}

/// Cuts words wider than a line into pieces that fit, joined without a space.
fn split_long_words(
    text: &str,
    pieces: Vec<Piece>,
    words: Vec<Word>,
    width: f32,
    size: f32,
) -> (Vec<Piece>, Vec<Word>) {
    if words.iter().all(|w| w.width <= width) || width <= size {
        return (pieces, words);
    }
    let mut out_pieces = Vec::with_capacity(pieces.len());
    let mut out_words = Vec::with_capacity(words.len());
    for word in words {
        if word.width <= width {
            let start = out_pieces.len();
            out_pieces.extend(pieces[word.pieces.clone()].iter().cloned());
            out_words.push(Word {
                pieces: start..out_pieces.len(),
                ..word
            });
            continue;
        }
        let mut current = Word {
            pieces: out_pieces.len()..out_pieces.len(),
            width: 0.0,
            space: 0.0,
        };
        for piece in &pieces[word.pieces.clone()] {
            let metrics = piece.style.metrics();
            let mut from = piece.text.start;
            let mut run = 0.0;
            for (at, c) in text[piece.text.clone()].char_indices() {
                let at = piece.text.start + at;
                let w = metrics.advance(metrics.glyph(c).unwrap_or(0)) as f32 * size / 1000.0;
                if current.width + run + w > width && (current.width + run) > 0.0 {
                    if at > from {
                        out_pieces.push(Piece {
                            style: piece.style,
                            text: from..at,
                        });
                    }
                    current.pieces.end = out_pieces.len();
                    current.width += run;
                    out_words.push(current);
                    current = Word {
                        pieces: out_pieces.len()..out_pieces.len(),
                        width: 0.0,
                        space: 0.0,
                    };
                    from = at;
                    run = 0.0;
                }
                run += w;
            }
            if piece.text.end > from {
                out_pieces.push(Piece {
                    style: piece.style,
                    text: from..piece.text.end,
                });
                current.width += run;
            }
            current.pieces.end = out_pieces.len();
        }
        current.space = word.space;
        out_words.push(current);
    }
    (out_pieces, out_words)
}

/// Greedy line breaking: `words` are `(width, space after)`; the first line is `first` wide,
/// the others `rest`. Returns the word ranges of each line. A word wider than a line gets a
/// line of its own.
pub(crate) fn break_lines(words: &[(f32, f32)], first: f32, rest: f32) -> Vec<Range<usize>> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut used = 0.0;
    let mut limit = first;
    for (i, &(width, _)) in words.iter().enumerate() {
        let space_before = if i > start { words[i - 1].1 } else { 0.0 };
        if i > start && used + space_before + width > limit + 0.01 {
            lines.push(start..i);
            start = i;
            used = width;
            limit = rest;
        } else {
            used += space_before + width;
        }
    }
    if start < words.len() || lines.is_empty() {
        lines.push(start..words.len());
    }
    lines
}

/// The extra space added at each gap of a justified line, or 0 for its last line.
pub(crate) fn justify_gap(natural: f32, available: f32, gaps: usize, last: bool) -> f32 {
    if last || gaps == 0 || natural >= available {
        0.0
    } else {
        (available - natural) / gaps as f32
    }
}

struct Writer<'b, 'd> {
    /// The page being filled.
    page: Vec<Op>,
    /// Where finished pages go.
    out: &'b mut Binder<'d>,
    /// The top of the free space on the current page, from the bottom of the page.
    y: f32,
    /// The face and size the current page's text is set in so far: a PDF keeps them from
    /// one text object to the next, so a line repeats them only when they change (a long
    /// document's memory is mostly these operations).
    font: Option<(Style, f32)>,
}

impl<'b, 'd> Writer<'b, 'd> {
    fn new(out: &'b mut Binder<'d>) -> Writer<'b, 'd> {
        Writer {
            page: Vec::new(),
            out,
            y: PAGE_HEIGHT - MARGIN_TOP,
            font: None,
        }
    }

    fn at_top(&self) -> bool {
        self.y >= PAGE_HEIGHT - MARGIN_TOP - 0.01
    }

    fn room(&self) -> f32 {
        self.y - MARGIN_BOTTOM
    }

    fn new_page(&mut self) {
        self.out.page(std::mem::take(&mut self.page));
        self.y = PAGE_HEIGHT - MARGIN_TOP;
        self.font = None;
    }

    /// Starts a new page unless `height` fits here (or this page is still empty).
    fn ensure(&mut self, height: f32) {
        if height > self.room() + 0.01 && !self.at_top() {
            self.new_page();
        }
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        &mut self.page
    }

    fn rule(&mut self, x1: f32, x2: f32, y: f32) {
        let ops = self.ops();
        ops.push(Op::SetOutlineThickness { pt: Pt(RULE) });
        ops.push(Op::DrawLine {
            line: Line {
                points: vec![
                    LinePoint {
                        p: Point {
                            x: Pt(x1),
                            y: Pt(y),
                        },
                        bezier: false,
                    },
                    LinePoint {
                        p: Point {
                            x: Pt(x2),
                            y: Pt(y),
                        },
                        bezier: false,
                    },
                ],
                is_closed: false,
            },
        });
    }

    /// Draws one line of a prepared paragraph with its baseline at `baseline`, in the box
    /// from `left`, `width` wide.
    fn draw_line(&mut self, p: &Prepared, index: usize, left: f32, baseline: f32) {
        let line = p.lines[index].clone();
        if line.is_empty() {
            return;
        }
        let first = index == 0;
        let last = index + 1 == p.lines.len();
        let indent = if first { p.indent } else { 0.0 };
        let available = p.width - indent;
        let natural = p.natural(&line);
        let gaps = p.words[line.start..line.end - 1]
            .iter()
            .filter(|w| w.space > 0.0)
            .count();
        let (x, extra) = match p.align {
            Align::Left => (left + indent, 0.0),
            Align::Center => (left + (available - natural).max(0.0) / 2.0, 0.0),
            Align::Right => (left + (available - natural).max(0.0), 0.0),
            Align::Justify => (left + indent, justify_gap(natural, available, gaps, last)),
        };
        let size = p.size;
        let mut current = self
            .font
            .filter(|(_, set)| *set == size)
            .map(|(style, _)| style);
        let ops = &mut self.page;
        ops.push(Op::StartTextSection);
        ops.push(Op::SetTextMatrix {
            matrix: TextMatrix::Translate(Pt(x), Pt(baseline)),
        });
        let mut items: Vec<TextItem> = Vec::new();
        let mut buffer = String::new();
        for (w, word) in p.words[line.clone()].iter().enumerate() {
            for piece in &p.pieces[word.pieces.clone()] {
                if current != Some(piece.style) {
                    flush(ops, &mut items, &mut buffer);
                    ops.push(Op::SetFont {
                        font: PdfFontHandle::External(FontId(piece.style.font_id().to_owned())),
                        size: Pt(size),
                    });
                    current = Some(piece.style);
                }
                push_kerned(
                    &mut items,
                    &mut buffer,
                    &p.text[piece.text.clone()],
                    piece.style.metrics(),
                );
            }
            let last_word = w + 1 == line.len();
            if !last_word && word.space > 0.0 {
                buffer.push(' ');
                if extra > 0.0 {
                    items.push(take_text(&mut buffer));
                    items.push(TextItem::Offset(-extra * 1000.0 / size));
                }
            }
        }
        flush(ops, &mut items, &mut buffer);
        ops.push(Op::EndTextSection);
        if let Some(style) = current {
            self.font = Some((style, size));
        }
    }

    /// Lays out a paragraph at the cursor, across pages if need be.
    fn paragraph(&mut self, paragraph: &Paragraph) {
        let p = Prepared::new(paragraph, TEXT_WIDTH);
        let lh = p.line_height();
        for i in 0..p.lines.len() {
            self.ensure(lh);
            let baseline = self.y - (lh - p.size) / 2.0 - p.size * ASCENT + p.size * 0.1;
            self.draw_line(&p, i, MARGIN_LEFT, baseline);
            self.y -= lh;
        }
        self.y -= paragraph.space_after;
    }

    /// Draws a prepared paragraph in a box whose top is at `top`; returns its height.
    fn boxed(&mut self, p: &Prepared, left: f32, top: f32) -> f32 {
        let lh = p.line_height();
        for i in 0..p.lines.len() {
            let baseline =
                top - i as f32 * lh - (lh - p.size) / 2.0 - p.size * ASCENT + p.size * 0.1;
            self.draw_line(p, i, left, baseline);
        }
        p.height()
    }
}

/// The buffered text as an item of its exact length; the buffer is kept for the next.
fn take_text(buffer: &mut String) -> TextItem {
    let item = TextItem::Text(buffer.as_str().to_owned());
    buffer.clear();
    item
}

fn flush(ops: &mut Vec<Op>, items: &mut Vec<TextItem>, buffer: &mut String) {
    if !buffer.is_empty() {
        items.push(take_text(buffer));
    }
    if !items.is_empty() {
        // Exactly as long as it is (`mem::take` would keep the grown vector's spare room):
        // a long document holds every page's items until the file is written. The buffer
        // keeps its room for the next line.
        #[allow(clippy::drain_collect)]
        let exact: Vec<TextItem> = items.drain(..).collect();
        ops.push(Op::ShowText { items: exact });
    }
}

/// Appends `text` to the buffer, cutting it where a kerning pair moves the pen.
fn push_kerned(items: &mut Vec<TextItem>, buffer: &mut String, text: &str, metrics: &Metrics) {
    let mut previous: Option<u16> = None;
    for c in text.chars() {
        let gid = metrics.glyph(c).unwrap_or(0);
        if let Some(p) = previous {
            let k = metrics.kern(p, gid);
            if k != 0 {
                items.push(take_text(buffer));
                items.push(TextItem::Offset(-(k as f32)));
            }
        }
        buffer.push(c);
        previous = Some(gid);
    }
}

fn single(text: &str, style: Style, size: f32, align: Align, width: f32) -> Prepared {
    Prepared::new(
        &Paragraph::centered(text, style, size).with_align(align),
        width,
    )
}

/// The share of the text width that the header block's left column takes.
pub(super) const HEADER_LEFT: f32 = 0.40;

/// The national title's type size: 12.5 pt, smaller if it would not fit on one line.
pub(super) fn national_title_size(width: f32) -> f32 {
    let mut size = 12.5;
    while Style::Bold.metrics().width(NATIONAL_TITLE) as f32 * size / 1000.0 > width && size > 9.0 {
        size -= 0.5;
    }
    size
}

/// The width of the short rule under the host unit: a third of its widest line, at least
/// 40 pt.
pub(super) fn host_rule_width(host_width: f32) -> f32 {
    (host_width / 3.0).max(40.0)
}

/// The type size of a [`Block::Line`]: its own, or smaller so that it fits on one line.
pub(super) fn line_size(p: &Paragraph) -> f32 {
    let width: f32 = p
        .spans
        .iter()
        .map(|s| s.style.metrics().width(&super::clean(&s.text)) as f32 / 1000.0)
        .sum::<f32>()
        + p.spans.len().saturating_sub(1) as f32 * 0.25;
    let available = TEXT_WIDTH - if p.indent { INDENT } else { 0.0 };
    if width * p.size > available {
        (available / width).floor().max(4.0)
    } else {
        p.size
    }
}

fn header(w: &mut Writer, h: &HeaderBlock) {
    let left_width = TEXT_WIDTH * HEADER_LEFT;
    let right_width = TEXT_WIDTH - left_width;
    let left_x = MARGIN_LEFT - 12.0;
    let right_x = MARGIN_LEFT + left_width;
    let top = w.y;
    // Left: parent unit, host unit in bold, a short rule, the number.
    let mut y = top;
    if !h.parent_unit.trim().is_empty() {
        let parent = single(
            &h.parent_unit,
            Style::Regular,
            13.0,
            Align::Center,
            left_width,
        );
        y -= w.boxed(&parent, left_x, y);
    }
    let host = single(&h.host_unit, Style::Bold, 13.0, Align::Center, left_width);
    y -= w.boxed(&host, left_x, y);
    let host_width = host
        .lines
        .iter()
        .map(|l| host.natural(l))
        .fold(0.0_f32, f32::max);
    let rule = host_rule_width(host_width);
    let centre = left_x + left_width / 2.0;
    y -= 3.0;
    w.rule(centre - rule / 2.0, centre + rule / 2.0, y);
    let left_bottom = y;
    // Right: national title, motto, a rule as wide as the motto.
    let title_size = national_title_size(right_width);
    let mut ry = top;
    let title = single(
        NATIONAL_TITLE,
        Style::Bold,
        title_size,
        Align::Center,
        right_width,
    );
    ry -= w.boxed(&title, right_x, ry);
    let motto = single(MOTTO, Style::Bold, 13.0, Align::Center, right_width);
    ry -= w.boxed(&motto, right_x, ry);
    let motto_width = Style::Bold.metrics().width(MOTTO) as f32 * 13.0 / 1000.0;
    let right_centre = right_x + right_width / 2.0;
    ry -= 3.0;
    w.rule(
        right_centre - motto_width / 2.0,
        right_centre + motto_width / 2.0,
        ry,
    );
    // The number and the place and date, on one line.
    let row = left_bottom.min(ry) - 8.0;
    let number = single(&h.number, Style::Regular, 13.0, Align::Center, left_width);
    let a = w.boxed(&number, left_x, row);
    let date = single(
        &h.place_date,
        Style::Italic,
        13.0,
        Align::Center,
        right_width,
    );
    let b = w.boxed(&date, right_x, row);
    w.y = row - a.max(b) - 14.0;
}

/// Cell padding of tables, in points.
pub(super) const PAD_X: f32 = 3.0;
pub(super) const PAD_Y: f32 = 2.5;

fn table(w: &mut Writer, t: &Table) {
    let total: f32 = t.columns.iter().map(|c| c.width).sum::<f32>().max(0.0001);
    let widths: Vec<f32> = t
        .columns
        .iter()
        .map(|c| c.width / total * TEXT_WIDTH)
        .collect();
    let prepare = |cells: &[String], style: Style, header: bool| -> Vec<Prepared> {
        t.columns
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (column, width))| {
                let text = cells.get(i).map(String::as_str).unwrap_or("");
                let align = if header { Align::Center } else { column.align };
                let align = if align == Align::Justify {
                    Align::Left
                } else {
                    align
                };
                single(text, style, t.size, align, width - 2.0 * PAD_X)
            })
            .collect()
    };
    let titles: Vec<String> = t.columns.iter().map(|c| c.title.clone()).collect();
    let head = prepare(&titles, Style::Bold, true);
    let head_height = row_height(&head, 0.0);
    let draw_row = |w: &mut Writer, cells: &[Prepared], height: f32| {
        let top = w.y;
        let mut x = MARGIN_LEFT;
        for (cell, width) in cells.iter().zip(&widths) {
            let inner = height - 2.0 * PAD_Y;
            let offset = ((inner - cell.height()) / 2.0).max(0.0);
            w.boxed(cell, x + PAD_X, top - PAD_Y - offset);
            x += width;
        }
        // Borders: the row's top and bottom, and every column edge.
        w.rule(MARGIN_LEFT, MARGIN_LEFT + TEXT_WIDTH, top);
        w.rule(MARGIN_LEFT, MARGIN_LEFT + TEXT_WIDTH, top - height);
        let mut x = MARGIN_LEFT;
        vertical(w, x, top, top - height);
        for width in &widths {
            x += width;
            vertical(w, x, top, top - height);
        }
        w.y -= height;
    };
    w.ensure(head_height + 2.0 * t.size * LEADING);
    draw_row(w, &head, head_height);
    for row in &t.rows {
        let cells = prepare(row, Style::Regular, false);
        let height = row_height(&cells, t.min_row_height);
        if height > w.room() + 0.01 {
            w.new_page();
            draw_row(w, &head, head_height);
        }
        draw_row(w, &cells, height);
    }
    w.y -= 8.0;
}

fn vertical(w: &mut Writer, x: f32, y1: f32, y2: f32) {
    let ops = w.ops();
    ops.push(Op::SetOutlineThickness { pt: Pt(RULE) });
    ops.push(Op::DrawLine {
        line: Line {
            points: vec![
                LinePoint {
                    p: Point {
                        x: Pt(x),
                        y: Pt(y1),
                    },
                    bezier: false,
                },
                LinePoint {
                    p: Point {
                        x: Pt(x),
                        y: Pt(y2),
                    },
                    bezier: false,
                },
            ],
            is_closed: false,
        },
    });
}

fn row_height(cells: &[Prepared], min: f32) -> f32 {
    let content = cells.iter().map(Prepared::height).fold(0.0_f32, f32::max);
    (content + 2.0 * PAD_Y).max(min)
}

/// Room left to sign, in points.
pub(super) const SIGNING_ROOM: f32 = 70.0;

fn signature_parts(s: &Signature, width: f32) -> Vec<(Prepared, f32)> {
    let mut parts = Vec::new();
    for line in &s.title {
        parts.push((single(line, Style::Bold, 13.0, Align::Center, width), 0.0));
    }
    if let Some(note) = &s.note {
        parts.push((single(note, Style::Italic, 13.0, Align::Center, width), 0.0));
    }
    if let Some(last) = parts.last_mut() {
        last.1 = SIGNING_ROOM;
    }
    parts.push((
        single(&s.name, Style::Bold, 13.0, Align::Center, width),
        0.0,
    ));
    parts
}

fn signatures(w: &mut Writer, list: &[Signature]) {
    let half = TEXT_WIDTH / 2.0;
    let placed: Vec<(f32, Vec<(Prepared, f32)>)> = match list {
        [one] => vec![(MARGIN_LEFT + half, signature_parts(one, half))],
        many => many
            .iter()
            .take(2)
            .enumerate()
            .map(|(i, s)| (MARGIN_LEFT + i as f32 * half, signature_parts(s, half)))
            .collect(),
    };
    let height = placed
        .iter()
        .map(|(_, parts)| parts.iter().map(|(p, gap)| p.height() + gap).sum::<f32>())
        .fold(0.0_f32, f32::max);
    w.y -= 6.0;
    w.ensure(height);
    let top = w.y;
    for (x, parts) in &placed {
        let mut y = top;
        for (p, gap) in parts {
            y -= w.boxed(p, *x, y);
            y -= gap;
        }
    }
    w.y = top - height - 10.0;
}

pub(super) const RECIPIENTS_LABEL: &str = "Nơi nhận:";

fn recipients(w: &mut Writer, list: &[String]) {
    let width = TEXT_WIDTH / 2.0;
    let label = single(RECIPIENTS_LABEL, Style::Italic, 12.0, Align::Left, width);
    let items: Vec<Prepared> = list
        .iter()
        .map(|r| single(&format!("- {r}"), Style::Regular, 11.0, Align::Left, width))
        .collect();
    let height = label.height() + items.iter().map(Prepared::height).sum::<f32>();
    w.ensure(height);
    let mut y = w.y;
    y -= w.boxed(&label, MARGIN_LEFT, y);
    for item in &items {
        y -= w.boxed(item, MARGIN_LEFT, y);
    }
    w.y = y - 6.0;
}

fn qr(w: &mut Writer, data: &str, size_mm: f32) {
    let Ok(code) = qrcode::QrCode::with_error_correction_level(data, qrcode::EcLevel::M) else {
        return;
    };
    let modules = code.width();
    let colors = code.to_colors();
    let size = size_mm * MM;
    let unit = size / modules as f32;
    w.ensure(size + 6.0);
    let left = MARGIN_LEFT + (TEXT_WIDTH - size) / 2.0;
    let top = w.y;
    let mut rings = Vec::new();
    for row in 0..modules {
        let mut col = 0;
        while col < modules {
            if colors[row * modules + col] != qrcode::Color::Dark {
                col += 1;
                continue;
            }
            let start = col;
            while col < modules && colors[row * modules + col] == qrcode::Color::Dark {
                col += 1;
            }
            let x1 = left + start as f32 * unit;
            let x2 = left + col as f32 * unit;
            let y1 = top - row as f32 * unit;
            let y2 = y1 - unit;
            let corner = |x: f32, y: f32| LinePoint {
                p: Point { x: Pt(x), y: Pt(y) },
                bezier: false,
            };
            rings.push(PolygonRing {
                points: vec![
                    corner(x1, y1),
                    corner(x2, y1),
                    corner(x2, y2),
                    corner(x1, y2),
                ],
            });
        }
    }
    let ops = w.ops();
    ops.push(Op::SetFillColor {
        col: Color::Rgb(Rgb::new(0.0, 0.0, 0.0, None)),
    });
    ops.push(Op::DrawPolygon {
        polygon: Polygon {
            rings,
            mode: PaintMode::Fill,
            winding_order: WindingOrder::NonZero,
        },
    });
    w.y = top - size - 6.0;
}

/// The least height the start of a block needs (what a heading is kept with).
fn start_height(block: Option<&Block>) -> f32 {
    let line = super::BODY_SIZE * LEADING;
    match block {
        Some(Block::Paragraph(p)) => {
            let prepared = Prepared::new(p, TEXT_WIDTH);
            prepared.lines.len().min(2) as f32 * prepared.line_height()
        }
        Some(Block::Table(t)) => 2.0 * (t.size * LEADING * 2.0 + 2.0 * PAD_Y).max(t.min_row_height),
        Some(Block::Signatures(_)) => 4.0 * line + SIGNING_ROOM,
        _ => 2.0 * line,
    }
}

pub(super) fn page_number(page: &mut Vec<Op>, number: usize) {
    let text = number.to_string();
    let size = 13.0;
    let width = Style::Regular.metrics().width(&text) as f32 * size / 1000.0;
    page.push(Op::StartTextSection);
    page.push(Op::SetFont {
        font: PdfFontHandle::External(FontId(Style::Regular.font_id().to_owned())),
        size: Pt(size),
    });
    page.push(Op::SetTextMatrix {
        matrix: TextMatrix::Translate(
            Pt(MARGIN_LEFT + (TEXT_WIDTH - width) / 2.0),
            Pt(PAGE_HEIGHT - MARGIN_TOP / 2.0 - size / 3.0),
        ),
    });
    page.push(Op::ShowText {
        items: vec![TextItem::Text(text)],
    });
    page.push(Op::EndTextSection);
}

/// Lays out the blocks into pages of drawing operations, handed to `out` as each page is
/// finished.
fn lay_out(document: &Document, out: &mut Binder<'_>) -> Vec<Op> {
    let mut w = Writer::new(out);
    for (i, block) in document.blocks.iter().enumerate() {
        match block {
            Block::Heading(text) => {
                let p = Paragraph::body(text)
                    .with_style(Style::Bold)
                    .with_align(Align::Left)
                    .with_space_after(3.0);
                let prepared = Prepared::new(&p, TEXT_WIDTH);
                if !w.at_top() {
                    w.y -= 4.0;
                }
                w.ensure(prepared.height() + 3.0 + start_height(document.blocks.get(i + 1)));
                w.paragraph(&p);
            }
            Block::Paragraph(p) => w.paragraph(p),
            Block::Line(p) => {
                let mut p = p.clone();
                p.size = line_size(&p);
                w.paragraph(&p);
            }
            Block::Header(h) => header(&mut w, h),
            Block::Table(t) => table(&mut w, t),
            Block::Signatures(list) => signatures(&mut w, list),
            Block::Recipients(list) => recipients(&mut w, list),
            Block::Qr { data, size_mm } => qr(&mut w, data, *size_mm),
            Block::Space(points) => {
                if !w.at_top() {
                    w.y -= points;
                }
            }
            Block::PageBreak => w.new_page(),
        }
    }
    w.page
}

/// The PDF's bytes: in chunks of pages (see [`super::binder`]), or in one piece should the
/// chunks' fonts not agree.
pub(super) fn render(document: &Document) -> Vec<u8> {
    render_in_chunks(document, CHUNK_PAGES).unwrap_or_else(|| {
        tracing::warn!("a document drew characters it does not contain: written in one piece");
        debug_assert!(false, "the character page must cover every drawn character");
        render_in_chunks(document, usize::MAX).unwrap_or_default()
    })
}

pub(super) fn render_in_chunks(document: &Document, chunk_pages: usize) -> Option<Vec<u8>> {
    let mut binder = Binder::new(document, chunk_pages);
    let last = lay_out(document, &mut binder);
    binder.finish(last)
}
