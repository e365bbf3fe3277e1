//! Pages of drawing operations to the PDF file, a chunk of pages at a time.
//!
//! printpdf turns a whole document into a PDF at once, holding every page's operations and
//! every page's uncompressed content until the file is written: about 150 KB a page at the
//! peak, 200 MB for minutes of 5,000 questions. So a long document is written in chunks of
//! [`CHUNK_PAGES`] pages. Each chunk goes through printpdf on its own, its pages' content
//! streams are compressed at once and moved into the file being built, and the chunk's
//! operations are freed.
//!
//! The catch is the fonts. printpdf embeds a subset of each face, renumbering the glyphs in
//! the order of their original numbers, so a page's content stream depends on which glyphs
//! the whole document uses. Every chunk therefore carries one extra page that shows every
//! character of the document in every face (all the text the layout can draw comes from the
//! document, see [`Document::for_each_text`]): each chunk then has the same glyph set, the
//! same subsets and the same numbering, and the file keeps the fonts of the first chunk.
//! The extra page itself is never kept. Should a chunk draw a character the extra page lacks
//! (a layout change that adds text of its own), rendering starts again without chunks, so
//! the file is always right.
//!
//! A document of one chunk (every letter, sheet and short minutes) is written exactly as
//! printpdf writes it: no extra page, nothing else in the fonts.

use lopdf::{Object, ObjectId};
use printpdf::{
    FontId, Mm, Op, PdfDocument, PdfFont, PdfFontHandle, PdfPage, PdfSaveOptions, Pt, TextItem,
};

use super::Document;
use super::font::Style;

/// Pages per chunk. With 96, the minutes of 5,000 questions (1,402 pages) peak at about
/// 62 MB, the record included (211 MB in one piece; docs/PERFORMANCE.md).
pub(super) const CHUNK_PAGES: usize = 96;

/// Receives the finished pages in order and builds the file.
pub(super) struct Binder<'d> {
    document: &'d Document,
    chunk_pages: usize,
    /// Finished pages not yet written.
    pending: Vec<Vec<Op>>,
    /// Pages received so far (for the page numbers).
    received: usize,
    /// The file being built, once the first chunk is written.
    file: Option<ChunkedFile>,
    /// Every character the document can draw, once a chunk is written.
    characters: Option<Characters>,
    /// A chunk drew a character that was not in `characters`.
    uncovered: bool,
}

struct ChunkedFile {
    lo: lopdf::Document,
    /// The page tree's root.
    pages_id: ObjectId,
    /// The first page's resources (the same fonts for every page).
    resources_id: ObjectId,
}

impl<'d> Binder<'d> {
    /// `chunk_pages`: [`CHUNK_PAGES`], or `usize::MAX` to write the document in one piece.
    pub(super) fn new(document: &'d Document, chunk_pages: usize) -> Binder<'d> {
        Binder {
            document,
            chunk_pages,
            pending: Vec::new(),
            received: 0,
            file: None,
            characters: None,
            uncovered: false,
        }
    }

    /// A finished page, with more to come.
    pub(super) fn page(&mut self, ops: Vec<Op>) {
        self.take(ops);
        if self.pending.len() >= self.chunk_pages && !self.uncovered {
            self.write_chunk();
        }
    }

    /// The last page: the file's bytes, or `None` if the chunks could not share their fonts
    /// (then render again in one piece).
    pub(super) fn finish(mut self, last: Vec<Op>) -> Option<Vec<u8>> {
        self.take(last);
        // A chunk's pages were dropped when it was refused: nothing here may be written.
        if self.uncovered {
            return None;
        }
        if self.file.is_none() {
            let pages = std::mem::take(&mut self.pending);
            return Some(file_bytes(self.document, self.printpdf_document(pages)));
        }
        if !self.pending.is_empty() {
            self.write_chunk();
        }
        if self.uncovered {
            return None;
        }
        let file = self.file.take()?;
        Some(file_bytes(self.document, file.lo))
    }

    fn take(&mut self, mut ops: Vec<Op>) {
        self.received += 1;
        if self.document.page_numbers && self.received > 1 {
            super::layout::page_number(&mut ops, self.received);
        }
        ops.shrink_to_fit();
        self.pending.push(ops);
    }

    fn write_chunk(&mut self) {
        let characters = self
            .characters
            .get_or_insert_with(|| document_characters(self.document));
        let pages = std::mem::take(&mut self.pending);
        if !drawn_within(&pages, characters) {
            self.uncovered = true;
            return;
        }
        let count = pages.len();
        let mut pages = pages;
        pages.push(every_character(characters));
        let chunk = self.printpdf_document(pages);
        match self.file.as_mut() {
            None => self.file = Some(ChunkedFile::from_first(chunk)),
            Some(file) => file.append(chunk, count),
        }
    }

    /// printpdf's document of these pages, with the faces and metadata, as lopdf objects.
    fn printpdf_document(&self, pages: Vec<Vec<Op>>) -> lopdf::Document {
        let clean = super::clean;
        let document = self.document;
        let mut pdf = PdfDocument::new(&clean(&document.title));
        let info = &mut pdf.metadata.info;
        info.author = clean(&document.author);
        info.subject = clean(&document.subject);
        info.creator = "doithoai".to_owned();
        info.producer = "doithoai (printpdf)".to_owned();
        info.creation_date = pdf_date(document.created);
        info.modification_date = pdf_date(document.created);
        info.metadata_date = pdf_date(document.created);
        for (style, parsed) in Style::ALL.iter().zip(super::layout::PARSED.iter()) {
            if let Some(parsed) = parsed {
                pdf.resources.fonts.map.insert(
                    FontId(style.font_id().to_owned()),
                    PdfFont::new(parsed.clone()),
                );
            }
        }
        let pages = pages
            .into_iter()
            .map(|ops| PdfPage::new(Mm(210.0), Mm(297.0), ops))
            .collect();
        pdf.with_pages(pages);
        let options = PdfSaveOptions {
            image_optimization: None,
            ..PdfSaveOptions::default()
        };
        printpdf::to_lopdf_doc(&pdf, &options, &mut Vec::new())
    }
}

impl ChunkedFile {
    /// The file starts as the first chunk without its character page.
    fn from_first(mut lo: lopdf::Document) -> ChunkedFile {
        let pages = lo.get_pages();
        if let Some((&last, _)) = pages.iter().next_back() {
            lo.delete_pages(&[last]);
            lo.prune_objects();
        }
        let first_page = lo.get_pages().values().next().copied();
        let resources_id = first_page
            .and_then(|id| lo.get_dictionary(id).ok())
            .and_then(|page| page.get(b"Resources").and_then(Object::as_reference).ok())
            .unwrap_or((0, 0));
        let pages_id = lo
            .catalog()
            .and_then(|catalog| catalog.get(b"Pages"))
            .and_then(Object::as_reference)
            .unwrap_or((0, 0));
        let page_ids: Vec<ObjectId> = lo.get_pages().into_values().collect();
        for id in page_ids {
            compress_contents(&mut lo, id);
        }
        ChunkedFile {
            lo,
            pages_id,
            resources_id,
        }
    }

    /// Moves the first `count` pages of a chunk (its content compressed) to the end of the
    /// file, under the file's page tree and the first chunk's fonts.
    fn append(&mut self, mut chunk: lopdf::Document, count: usize) {
        let chunk_pages: Vec<ObjectId> = chunk.get_pages().into_values().take(count).collect();
        let mut kids = Vec::with_capacity(count);
        for page_id in chunk_pages {
            let Ok(mut page) = chunk.get_dictionary(page_id).cloned() else {
                continue;
            };
            let contents = page
                .get(b"Contents")
                .and_then(Object::as_reference)
                .ok()
                .and_then(|id| chunk.objects.remove(&id));
            if let Some(Object::Stream(mut stream)) = contents {
                // Compressed now: the file would otherwise hold every page's content
                // uncompressed until it is written.
                compress(&mut stream);
                page.set("Contents", Object::Reference(self.lo.add_object(stream)));
            }
            page.set("Parent", Object::Reference(self.pages_id));
            page.set("Resources", Object::Reference(self.resources_id));
            kids.push(Object::Reference(self.lo.add_object(page)));
        }
        if let Ok(tree) = self.lo.get_dictionary_mut(self.pages_id) {
            let added = kids.len() as i64;
            if let Ok(list) = tree.get_mut(b"Kids").and_then(Object::as_array_mut) {
                list.extend(kids);
            }
            let count = tree.get(b"Count").and_then(Object::as_i64).unwrap_or(0);
            tree.set("Count", count + added);
        }
    }
}

fn compress_contents(lo: &mut lopdf::Document, page_id: ObjectId) {
    let contents = lo
        .get_dictionary(page_id)
        .and_then(|page| page.get(b"Contents"))
        .and_then(Object::as_reference);
    if let Ok(id) = contents
        && let Ok(Object::Stream(stream)) = lo.get_object_mut(id)
    {
        compress(stream);
    }
}

/// Deflates a stream not yet compressed, at zlib's default level: lopdf's own `compress`
/// takes the best level, which took more than twice the time for 1 % less (measured on
/// the minutes of 5,000 questions; docs/PERFORMANCE.md).
fn compress(stream: &mut lopdf::Stream) {
    use flate2::{Compression, write::ZlibEncoder};
    use std::io::Write;
    if !stream.allows_compression || stream.dict.get(b"Filter").is_ok() {
        return;
    }
    let mut encoder = ZlibEncoder::new(
        Vec::with_capacity(stream.content.len() / 3),
        Compression::default(),
    );
    if encoder.write_all(&stream.content).is_err() {
        return;
    }
    if let Ok(compressed) = encoder.finish()
        && compressed.len() + 19 < stream.content.len()
    {
        stream.dict.set("Filter", "FlateDecode");
        stream.set_content(compressed);
    }
}

/// A set of characters of the Basic Multilingual Plane (every character the font has).
struct Characters {
    bits: Vec<u64>,
}

impl Characters {
    fn new() -> Characters {
        Characters {
            bits: vec![0; 0x10000 / 64],
        }
    }

    fn insert(&mut self, c: char) {
        let code = c as usize;
        if let Some(word) = self.bits.get_mut(code / 64) {
            *word |= 1 << (code % 64);
        }
    }

    fn contains(&self, c: char) -> bool {
        let code = c as usize;
        self.bits
            .get(code / 64)
            .is_some_and(|word| word & (1 << (code % 64)) != 0)
    }

    fn to_text(&self) -> String {
        (0..0x10000u32)
            .filter_map(char::from_u32)
            .filter(|&c| self.contains(c))
            .collect()
    }
}

/// Every character the layout may draw for this document, as [`super::clean`] leaves it.
fn document_characters(document: &Document) -> Characters {
    let mut characters = Characters::new();
    "0123456789?- ".chars().for_each(|c| characters.insert(c));
    document.for_each_text(|text| super::for_each_clean_char(text, |c| characters.insert(c)));
    characters
}

/// Whether these pages draw only characters of the set.
fn drawn_within(pages: &[Vec<Op>], characters: &Characters) -> bool {
    pages.iter().flatten().all(|op| match op {
        Op::ShowText { items } => items.iter().all(|item| match item {
            TextItem::Text(text) => text.chars().all(|c| characters.contains(c)),
            _ => true,
        }),
        _ => true,
    })
}

/// A page showing every character in every face: it makes each chunk's font subsets the
/// same. It is never kept in the file.
fn every_character(characters: &Characters) -> Vec<Op> {
    let text = characters.to_text();
    let mut ops = vec![Op::StartTextSection];
    for style in Style::ALL {
        ops.push(Op::SetFont {
            font: PdfFontHandle::External(FontId(style.font_id().to_owned())),
            size: Pt(10.0),
        });
        ops.push(Op::ShowText {
            items: vec![TextItem::Text(text.clone())],
        });
    }
    ops.push(Op::EndTextSection);
    ops
}

fn pdf_date(at: chrono::NaiveDateTime) -> printpdf::OffsetDateTime {
    printpdf::OffsetDateTime::from_unix_timestamp(at.and_utc().timestamp())
        .unwrap_or_else(|_| printpdf::OffsetDateTime::now_utc())
}

/// A placeholder for the document id, replaced by a hash of the file once it is written.
const ID_PLACEHOLDER: &[u8; 32] = b"00000000000000000000000000000000";

/// The finished file: language, a cleaned information dictionary, compressed streams, and
/// an id derived from the content.
fn file_bytes(document: &Document, mut lo: lopdf::Document) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let id = Object::String(ID_PLACEHOLDER.to_vec(), lopdf::StringFormat::Literal);
    lo.trailer.set("ID", Object::Array(vec![id.clone(), id]));
    if let Ok(root) = lo.trailer.get(b"Root").and_then(Object::as_reference)
        && let Ok(catalog) = lo.get_object_mut(root).and_then(Object::as_dict_mut)
    {
        catalog.set(
            "Lang",
            Object::String(b"vi".to_vec(), lopdf::StringFormat::Literal),
        );
    }
    // The information dictionary claims PDF/X and carries empty keys: keep what is true.
    if let Ok(info) = lo.trailer.get(b"Info").and_then(Object::as_reference)
        && let Ok(dict) = lo.get_object_mut(info).and_then(Object::as_dict_mut)
    {
        for key in ["GTS_PDFXVersion", "Identifier", "Keywords", "Trapped"] {
            dict.remove(key.as_bytes());
        }
        if document.subject.trim().is_empty() {
            dict.remove(b"Subject");
        }
    }
    for object in lo.objects.values_mut() {
        if let Object::Stream(stream) = object {
            compress(stream);
        }
    }
    let mut bytes = Vec::new();
    if let Err(error) = lo.save_to(&mut bytes) {
        tracing::error!(%error, "writing a PDF failed");
    }
    // The document id: a hash of the file, written over the placeholder (same length, so
    // the cross-reference offsets stay right).
    let digest = Sha256::digest(&bytes);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    replace_all(&mut bytes, ID_PLACEHOLDER, hex.as_bytes());
    bytes
}

fn replace_all(haystack: &mut [u8], needle: &[u8], with: &[u8]) {
    let mut i = 0;
    while i + needle.len() <= haystack.len() {
        if &haystack[i..i + needle.len()] == needle {
            haystack[i..i + needle.len()].copy_from_slice(with);
            i += needle.len();
        } else {
            i += 1;
        }
    }
}
