//! The embedded faces and their metrics, read once per process.
//!
//! Liberation Serif 2.x (metric-compatible with Times New Roman, every precomposed
//! Vietnamese letter) ships in `assets/fonts/` with its licence. printpdf embeds a subset of
//! each face that a document uses; this module reads what layout needs straight from the
//! TrueType tables: the character map (`cmap` format 4), the advance widths (`hmtx`) and the
//! kerning pairs (`kern` format 0). Widths are kept in thousandths of an em, truncated the way
//! printpdf writes the `/W` array, so a measured line is exactly as wide as the viewer draws it.

use std::collections::HashMap;
use std::sync::LazyLock;

/// The three faces a document may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Style {
    Regular,
    Bold,
    Italic,
}

impl Style {
    pub const ALL: [Style; 3] = [Style::Regular, Style::Bold, Style::Italic];

    /// The font's resource id in the PDF. Fixed, so that the same input gives the same bytes
    /// (its first six letters are also the subset tag of the embedded font's name).
    pub(crate) fn font_id(self) -> &'static str {
        match self {
            Style::Regular => "DTHRGL",
            Style::Bold => "DTHBLD",
            Style::Italic => "DTHITL",
        }
    }

    pub(crate) fn bytes(self) -> &'static [u8] {
        match self {
            Style::Regular => REGULAR,
            Style::Bold => BOLD,
            Style::Italic => ITALIC,
        }
    }

    pub fn metrics(self) -> &'static Metrics {
        match self {
            Style::Regular => &METRICS[0],
            Style::Bold => &METRICS[1],
            Style::Italic => &METRICS[2],
        }
    }
}

pub(crate) const REGULAR: &[u8] = include_bytes!("../../assets/fonts/LiberationSerif-Regular.ttf");
pub(crate) const BOLD: &[u8] = include_bytes!("../../assets/fonts/LiberationSerif-Bold.ttf");
pub(crate) const ITALIC: &[u8] = include_bytes!("../../assets/fonts/LiberationSerif-Italic.ttf");

static METRICS: LazyLock<[Metrics; 3]> = LazyLock::new(|| {
    Style::ALL.map(|style| Metrics::parse(style.bytes()).unwrap_or_else(Metrics::fallback))
});

/// What layout needs of one face.
pub struct Metrics {
    /// Glyph id per Basic Multilingual Plane code point (0: the font has no glyph).
    gids: Vec<u16>,
    /// Advance per glyph id, in thousandths of an em (as printpdf writes `/W`).
    advances: Vec<i32>,
    /// Kerning per `(left << 16) | right` glyph pair, in thousandths of an em.
    kerning: HashMap<u32, i32>,
}

impl Metrics {
    /// The glyph of `c`, if the face has one.
    pub fn glyph(&self, c: char) -> Option<u16> {
        let code = c as usize;
        match self.gids.get(code) {
            Some(&gid) if gid != 0 => Some(gid),
            _ => None,
        }
    }

    pub fn has(&self, c: char) -> bool {
        self.glyph(c).is_some()
    }

    /// The advance of a glyph, in thousandths of an em.
    pub fn advance(&self, gid: u16) -> i32 {
        self.advances
            .get(usize::from(gid))
            .or(self.advances.last())
            .copied()
            .unwrap_or(500)
    }

    /// The kerning between two glyphs, in thousandths of an em (negative: closer).
    pub fn kern(&self, left: u16, right: u16) -> i32 {
        if self.kerning.is_empty() {
            return 0;
        }
        self.kerning
            .get(&((u32::from(left) << 16) | u32::from(right)))
            .copied()
            .unwrap_or(0)
    }

    /// The width of `text` in thousandths of an em, kerning included.
    pub fn width(&self, text: &str) -> i32 {
        let mut total = 0;
        let mut previous: Option<u16> = None;
        for c in text.chars() {
            let gid = self.glyph(c).unwrap_or(0);
            if let Some(p) = previous {
                total += self.kern(p, gid);
            }
            total += self.advance(gid);
            previous = Some(gid);
        }
        total
    }

    /// Used only if an embedded face could not be read, which a unit test rules out.
    fn fallback() -> Metrics {
        Metrics {
            gids: Vec::new(),
            advances: vec![500],
            kerning: HashMap::new(),
        }
    }

    fn parse(font: &[u8]) -> Option<Metrics> {
        let tables = Tables::read(font)?;
        let head = tables.get("head")?;
        let units_per_em = f32::from(u16_at(head, 18)?);
        let hhea = tables.get("hhea")?;
        let metrics_count = usize::from(u16_at(hhea, 34)?);
        let maxp = tables.get("maxp")?;
        let glyph_count = usize::from(u16_at(maxp, 4)?);
        let hmtx = tables.get("hmtx")?;
        let scale = |units: f32| (units * 1000.0 / units_per_em) as i32;
        let mut advances = Vec::with_capacity(glyph_count);
        let mut last = 0u16;
        for gid in 0..glyph_count {
            if gid < metrics_count {
                last = u16_at(hmtx, gid * 4)?;
            }
            advances.push(scale(f32::from(last)));
        }
        let gids = read_cmap(tables.get("cmap")?)?;
        let mut kerning = HashMap::new();
        if let Some(kern) = tables.get("kern") {
            read_kern(kern, &mut kerning, |v| scale(f32::from(v)));
        }
        Some(Metrics {
            gids,
            advances,
            kerning,
        })
    }
}

fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*data.get(at)?, *data.get(at + 1)?]))
}

fn i16_at(data: &[u8], at: usize) -> Option<i16> {
    u16_at(data, at).map(|v| v as i16)
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes([
        *data.get(at)?,
        *data.get(at + 1)?,
        *data.get(at + 2)?,
        *data.get(at + 3)?,
    ]))
}

struct Tables<'a> {
    font: &'a [u8],
    entries: Vec<([u8; 4], usize, usize)>,
}

impl<'a> Tables<'a> {
    fn read(font: &'a [u8]) -> Option<Tables<'a>> {
        let count = usize::from(u16_at(font, 4)?);
        let mut entries = Vec::with_capacity(count);
        for i in 0..count {
            let at = 12 + 16 * i;
            let tag = font.get(at..at + 4)?;
            let offset = u32_at(font, at + 8)? as usize;
            let length = u32_at(font, at + 12)? as usize;
            entries.push(([tag[0], tag[1], tag[2], tag[3]], offset, length));
        }
        Some(Tables { font, entries })
    }

    fn get(&self, tag: &str) -> Option<&'a [u8]> {
        let (_, offset, length) = self.entries.iter().find(|(t, _, _)| t == tag.as_bytes())?;
        self.font.get(*offset..offset.checked_add(*length)?)
    }
}

/// The Unicode BMP subtable (platform 3 encoding 1, or platform 0), format 4.
fn read_cmap(cmap: &[u8]) -> Option<Vec<u16>> {
    let count = usize::from(u16_at(cmap, 2)?);
    let mut subtable = None;
    for i in 0..count {
        let at = 4 + 8 * i;
        let platform = u16_at(cmap, at)?;
        let encoding = u16_at(cmap, at + 2)?;
        let offset = u32_at(cmap, at + 4)? as usize;
        if ((platform == 3 && encoding == 1) || platform == 0) && u16_at(cmap, offset)? == 4 {
            subtable = Some(offset);
            if platform == 3 {
                break;
            }
        }
    }
    let table = cmap.get(subtable?..)?;
    let segments = usize::from(u16_at(table, 6)? / 2);
    let ends = 14;
    let starts = ends + 2 * segments + 2;
    let deltas = starts + 2 * segments;
    let range_offsets = deltas + 2 * segments;
    let mut gids = vec![0u16; 0x1_0000];
    for s in 0..segments {
        let end = u16_at(table, ends + 2 * s)?;
        let start = u16_at(table, starts + 2 * s)?;
        let delta = u16_at(table, deltas + 2 * s)?;
        let range_offset = usize::from(u16_at(table, range_offsets + 2 * s)?);
        if start > end {
            continue;
        }
        for code in start..=end {
            let gid = if range_offset == 0 {
                code.wrapping_add(delta)
            } else {
                let at = range_offsets + 2 * s + range_offset + 2 * usize::from(code - start);
                match u16_at(table, at)? {
                    0 => 0,
                    g => g.wrapping_add(delta),
                }
            };
            gids[usize::from(code)] = gid;
            if code == u16::MAX {
                break;
            }
        }
    }
    Some(gids)
}

/// Horizontal kerning pairs of a version 0 `kern` table (format 0 subtables).
fn read_kern(kern: &[u8], pairs: &mut HashMap<u32, i32>, scale: impl Fn(i16) -> i32) {
    let Some(count) = u16_at(kern, 2) else { return };
    let mut at = 4;
    for _ in 0..count {
        let (Some(length), Some(coverage)) = (u16_at(kern, at + 2), u16_at(kern, at + 4)) else {
            return;
        };
        let horizontal = coverage & 1 == 1;
        let format = coverage >> 8;
        if horizontal && format == 0 {
            let n = usize::from(u16_at(kern, at + 6).unwrap_or(0));
            for i in 0..n {
                let p = at + 14 + 6 * i;
                let (Some(left), Some(right), Some(value)) =
                    (u16_at(kern, p), u16_at(kern, p + 2), i16_at(kern, p + 4))
                else {
                    return;
                };
                pairs.insert((u32::from(left) << 16) | u32::from(right), scale(value));
            }
        }
        at += usize::from(length);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_face_covers_every_vietnamese_letter() {
        let letters = "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợ\
                       pqrstuùúủũụưừứửữựvxyỳýỷỹỵ";
        for style in Style::ALL {
            let metrics = style.metrics();
            for c in letters.chars().chain(letters.to_uppercase().chars()) {
                assert!(metrics.has(c), "{style:?} has no glyph for {c}");
            }
            assert!(metrics.advance(metrics.glyph('m').unwrap_or(0)) > 500);
        }
    }

    #[test]
    fn kerning_is_read_where_the_font_has_it() {
        let m = Style::Regular.metrics();
        let (a, v) = (m.glyph('A').unwrap_or(0), m.glyph('V').unwrap_or(0));
        assert!(m.kern(a, v) < 0, "A V should kern closer");
        assert!(m.width("AV") < m.width("A") + m.width("V"));
    }
}
