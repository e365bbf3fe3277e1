use std::io::Write;
use std::process::{Command, Stdio};

use chrono::NaiveDate;

use super::layout::{break_lines, justify_gap};
use super::*;

fn created() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, 30)
        .and_then(|d| d.and_hms_opt(9, 30, 0))
        .unwrap_or_default()
}

const LONG: &str = "Lãnh đạo huyện Bến Lức trả lời ý kiến của người dân về việc hỗ trợ vay vốn \
                    tạo việc làm, học nghề và hòa nhập cộng đồng sau khi chấp hành xong hình \
                    phạt tù; các cơ quan, tổ chức, doanh nghiệp tham dự hội nghị cam kết tiếp \
                    nhận người lao động, tạo điều kiện để họ ổn định cuộc sống.";

fn sample() -> Document {
    let mut d = Document::new("BIÊN BẢN thử", "UBND HUYỆN BẾN LỨC", created());
    d.push(Block::Header(HeaderBlock {
        parent_unit: "UBND TỈNH LONG AN".into(),
        host_unit: "UBND HUYỆN BẾN LỨC".into(),
        number: "Số: 12/BB-UBND".into(),
        place_date: "Bến Lức, ngày 30 tháng 11 năm 2026".into(),
    }));
    d.push(Block::Paragraph(Paragraph::centered(
        "BIÊN BẢN",
        Style::Bold,
        14.0,
    )));
    for i in 0..40 {
        d.push(Block::Heading(format!("{}. Nội dung thứ {}", i + 1, i + 1)));
        d.push(Block::Paragraph(Paragraph::body(LONG)));
    }
    d.push(Block::Table(Table {
        columns: vec![
            Column {
                title: "STT".into(),
                width: 1.0,
                align: Align::Center,
            },
            Column {
                title: "Họ và tên".into(),
                width: 4.0,
                align: Align::Left,
            },
        ],
        rows: (1..80)
            .map(|i| vec![i.to_string(), format!("Nguyễn Văn Ánh {i}")])
            .collect(),
        size: 12.0,
        min_row_height: 0.0,
    }));
    d.push(Block::Qr {
        data: "https://example.org/p/abc".into(),
        size_mm: 30.0,
    });
    d.push(Block::Signatures(vec![
        Signature {
            title: vec!["THƯ KÝ".into()],
            note: None,
            name: "Trần Thị Bình".into(),
        },
        Signature {
            title: vec!["CHỦ TỌA".into()],
            note: None,
            name: "Lê Văn Cường".into(),
        },
    ]));
    d.push(Block::Recipients(vec![
        "Như trên;".into(),
        "Lưu: VT.".into(),
    ]));
    d
}

/// Whether the poppler and qpdf tools may be missing (then the checks that need them are
/// skipped); `DOITHOAI_REQUIRE_PDF_TOOLS=1` makes a missing tool a failure.
fn tool(name: &str) -> bool {
    let present = Command::new(name)
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !present && std::env::var("DOITHOAI_REQUIRE_PDF_TOOLS").as_deref() == Ok("1") {
        panic!("{name} is required (DOITHOAI_REQUIRE_PDF_TOOLS=1) but not installed");
    }
    if !present {
        eprintln!("note: {name} is not installed; skipping this check");
    }
    present
}

fn pdftotext(pdf: &[u8]) -> String {
    let mut child = Command::new("pdftotext")
        .args(["-enc", "UTF-8", "-", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(pdf).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn the_same_document_gives_the_same_bytes() {
    let a = render(&sample());
    let b = render(&sample());
    std::fs::write("/tmp/sample.pdf", &a).unwrap();
    assert!(a.starts_with(b"%PDF-"));
    assert_eq!(a, b);
    let text = String::from_utf8_lossy(&a);
    assert!(!text.contains("00000000000000000000000000000000"));
}

#[test]
fn the_text_extracts_exactly_as_it_went_in() {
    if !tool("pdftotext") {
        return;
    }
    let mut d = sample();
    // Decomposed input (NFD) comes out precomposed.
    d.push(Block::Paragraph(Paragraph::body(
        "Le\u{0302}\u{0301} Thi\u{0323} Ha\u{0300} - ho\u{031B}\u{0323}p",
    )));
    let text = squash(&pdftotext(&render(&d)));
    for expected in [
        "UBND TỈNH LONG AN",
        "UBND HUYỆN BẾN LỨC",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Số: 12/BB-UBND",
        "Bến Lức, ngày 30 tháng 11 năm 2026",
        "BIÊN BẢN",
        &squash(LONG),
        "Nguyễn Văn Ánh 79",
        "THƯ KÝ",
        "CHỦ TỌA",
        "Trần Thị Bình",
        "Nơi nhận:",
        "Lế Thị Hà - hợp",
    ] {
        let expected = clean(expected);
        assert!(
            text.contains(&squash(&expected)),
            "missing {expected:?} in {text}"
        );
    }
}

#[test]
fn a_long_document_has_numbered_pages_and_repeats_the_table_header() {
    if !tool("pdftotext") {
        return;
    }
    let pdf = render(&sample());
    let text = pdftotext(&pdf);
    let pages: Vec<&str> = text
        .split('\u{c}')
        .filter(|p| !p.trim().is_empty())
        .collect();
    assert!(pages.len() >= 4, "{} pages", pages.len());
    // Page 1 carries no number; page 2 starts with "2".
    assert!(pages[1].trim_start().starts_with('2'), "{}", pages[1]);
    let headers = pages.iter().filter(|p| p.contains("Họ và tên")).count();
    assert!(
        headers >= 2,
        "the header row repeats on each page of the table"
    );
}

#[test]
fn lines_break_greedily_by_width() {
    let words = [(10.0, 2.0), (10.0, 2.0), (10.0, 2.0), (10.0, 0.0)];
    assert_eq!(break_lines(&words, 22.0, 22.0), vec![0..2, 2..4]);
    assert_eq!(break_lines(&words, 10.0, 34.0), vec![0..1, 1..4]);
    // A word wider than the line gets a line of its own.
    assert_eq!(
        break_lines(&[(50.0, 2.0), (5.0, 0.0)], 20.0, 20.0),
        vec![0..1, 1..2]
    );
    assert_eq!(break_lines(&[], 20.0, 20.0), vec![0..0]);
}

#[test]
fn justification_spreads_the_slack_over_the_gaps_except_on_the_last_line() {
    assert_eq!(justify_gap(90.0, 100.0, 5, false), 2.0);
    assert_eq!(justify_gap(90.0, 100.0, 5, true), 0.0);
    assert_eq!(justify_gap(90.0, 100.0, 0, false), 0.0);
    assert_eq!(justify_gap(100.0, 90.0, 3, false), 0.0);
}

#[test]
fn a_measured_line_never_overflows_the_text_width() {
    let p = Paragraph::body(&LONG.repeat(5));
    let prepared = layout::measure(&p);
    for (i, width) in prepared.iter().enumerate() {
        let limit = layout::TEXT_WIDTH - if i == 0 { 10.0 * 72.0 / 25.4 } else { 0.0 };
        assert!(*width <= limit + 0.01, "line {i}: {width} > {limit}");
        if i + 1 < prepared.len() {
            assert!(*width > limit * 0.8, "line {i} is too short: {width}");
        }
    }
}

#[test]
fn clean_makes_nfc_and_replaces_what_the_font_cannot_draw() {
    assert_eq!(clean("Ha\u{0300}\tno\u{0323}i\n"), "Hà nọi ");
    assert_eq!(clean("a\u{1F600}b"), "a?b");
}

#[test]
fn the_date_line_pads_small_days_and_months() {
    let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    assert_eq!(
        place_date("Bến Lức", date(2026, 11, 30)),
        "Bến Lức, ngày 30 tháng 11 năm 2026"
    );
    assert_eq!(
        place_date("Bến Lức", date(2026, 2, 5)),
        "Bến Lức, ngày 05 tháng 02 năm 2026"
    );
    assert_eq!(
        place_date("", date(2026, 3, 15)),
        "Ngày 15 tháng 3 năm 2026"
    );
}

/// The parts of a .docx by name.
fn docx_parts(bytes: &[u8]) -> std::collections::BTreeMap<String, Vec<u8>> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut entry = archive.by_index(i).unwrap();
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            (entry.name().to_string(), data)
        })
        .collect()
}

#[test]
fn the_word_copy_is_reproducible_and_keeps_the_layout() {
    let doc = sample();
    let first = render_docx(&doc).unwrap();
    assert_eq!(first, render_docx(&doc).unwrap(), "the same bytes");
    let parts = docx_parts(&first);
    let text = |name: &str| String::from_utf8(parts[name].clone()).unwrap();
    let document = text("word/document.xml");
    // A4 with the PDF's margins (in twips: 20 mm = 1134, 30 mm = 1701, 15 mm = 850).
    assert!(
        document.contains(r#"<w:pgSz w:w="11906" w:h="16838""#),
        "{document}"
    );
    for margin in [
        r#"w:top="1134""#,
        r#"w:bottom="1134""#,
        r#"w:left="1701""#,
        r#"w:right="850""#,
    ] {
        assert!(document.contains(margin), "{margin}");
    }
    // The table's header row repeats; the marker docx-rs wrote for it is gone.
    assert_eq!(document.matches("<w:tblHeader />").count(), 1);
    assert!(!document.contains(r#"<w:trHeight w:val="1" "#));
    // Body text justified with a 1 cm first-line indent; bold and italics as in the PDF.
    assert!(document.contains(r#"<w:jc w:val="both" />"#));
    assert!(document.contains(r#"w:firstLine="567""#));
    assert!(document.contains("<w:b />") && document.contains("<w:i />"));
    assert!(document.contains("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"));
    assert!(document.contains("Độc lập - Tự do - Hạnh phúc"));
    // Times New Roman at 13 pt by default, in Vietnamese.
    let styles = text("word/styles.xml");
    assert!(styles.contains(r#"w:ascii="Times New Roman""#), "{styles}");
    assert!(styles.contains(r#"<w:sz w:val="26" />"#), "{styles}");
    assert!(styles.contains(r#"<w:lang w:val="vi-VN""#), "{styles}");
    // Metadata from the document, dated by it.
    let core = text("docProps/core.xml");
    assert!(core.contains("<dc:title>BIÊN BẢN thử</dc:title>"), "{core}");
    assert!(core.contains("<dc:creator>UBND HUYỆN BẾN LỨC</dc:creator>"));
    assert!(core.contains("2026-11-30T09:30:00Z"));
    // Page numbers from page 2: a header with the PAGE field, an empty first-page header.
    assert!(document.contains("<w:titlePg />"), "{document}");
    assert!(parts.keys().any(|k| k.starts_with("word/header")));
    // The QR code is a picture.
    assert!(
        parts.keys().any(|k| k.starts_with("word/media/")),
        "{:?}",
        parts.keys()
    );
}

/// Each page as `pdftoppm` draws it (PPM at 40 dpi).
fn page_images(pdf: &[u8]) -> Vec<Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("in.pdf");
    std::fs::write(&file, pdf).unwrap();
    let status = Command::new("pdftoppm")
        .args(["-r", "40"])
        .arg(&file)
        .arg(dir.path().join("page"))
        .status()
        .unwrap();
    assert!(status.success());
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ppm"))
        .collect();
    names.sort();
    names.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

#[test]
fn a_document_written_in_chunks_reads_and_looks_the_same_as_in_one_piece() {
    let doc = sample();
    let whole = layout::render_in_chunks(&doc, usize::MAX).unwrap();
    // Two pages a chunk: every chunk but the first is moved into the file.
    let chunked = layout::render_in_chunks(&doc, 2).expect("the fonts of every chunk agree");
    assert_ne!(whole, chunked, "written differently");
    assert_eq!(chunked, layout::render_in_chunks(&doc, 2).unwrap());
    if !tool("pdftotext") || !tool("qpdf") || !tool("pdffonts") || !tool("pdftoppm") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("chunked.pdf");
    std::fs::write(&file, &chunked).unwrap();
    let qpdf = Command::new("qpdf")
        .arg("--check")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        qpdf.status.success(),
        "{}",
        String::from_utf8_lossy(&qpdf.stdout)
    );
    let fonts = Command::new("pdffonts").arg(&file).output().unwrap();
    let fonts = String::from_utf8(fonts.stdout).unwrap();
    let faces: Vec<&str> = fonts.lines().skip(2).collect();
    assert_eq!(faces.len(), 3, "{fonts}");
    for face in faces {
        // "emb sub" both "yes".
        assert!(face.contains("yes yes"), "{fonts}");
    }
    assert_eq!(pdftotext(&whole), pdftotext(&chunked));
    let (whole, chunked) = (page_images(&whole), page_images(&chunked));
    assert!(whole.len() >= 4, "{} pages", whole.len());
    assert_eq!(whole.len(), chunked.len());
    for (i, (a, b)) in whole.iter().zip(&chunked).enumerate() {
        assert!(a == b, "page {} is drawn differently", i + 1);
    }
}

#[test]
fn pages_that_draw_a_character_the_document_lacks_are_not_written_in_chunks() {
    use printpdf::{FontId, Op, PdfFontHandle, Pt, TextItem};
    let doc = Document::new("Trang", "UBND", created());
    let page = || {
        vec![
            Op::StartTextSection,
            Op::SetFont {
                font: PdfFontHandle::External(FontId(Style::Regular.font_id().to_owned())),
                size: Pt(13.0),
            },
            // Text the document does not contain: the chunks' fonts could not agree.
            Op::ShowText {
                items: vec![TextItem::Text("Ngoài văn bản".into())],
            },
            Op::EndTextSection,
        ]
    };
    let mut binder = super::binder::Binder::new(&doc, 1);
    binder.page(page());
    assert!(
        binder.finish(page()).is_none(),
        "rendered again in one piece instead"
    );
    // In one piece, the same pages are written.
    let mut whole = super::binder::Binder::new(&doc, usize::MAX);
    whole.page(page());
    assert!(whole.finish(page()).is_some());
}
