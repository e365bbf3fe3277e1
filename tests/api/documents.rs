//! Printed documents: the invitation letters and the sign-in sheet (and the PDF checks the
//! minutes' tests share). The text is read back with `pdftotext`, the file checked with
//! `qpdf --check` and the fonts with `pdffonts`; without those tools the checks that need
//! them are skipped, unless `DOITHOAI_REQUIRE_PDF_TOOLS=1` (CI), which makes them fail.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::json;

use crate::helpers::{TestApp, invitations, open_dialogue, spawn_app};

/// Whether a PDF tool is installed; a missing one fails the test under
/// `DOITHOAI_REQUIRE_PDF_TOOLS=1`.
pub fn tool(name: &str) -> bool {
    let present = Command::new(name)
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !present {
        assert!(
            std::env::var("DOITHOAI_REQUIRE_PDF_TOOLS").as_deref() != Ok("1"),
            "{name} is required (DOITHOAI_REQUIRE_PDF_TOOLS=1) but not installed"
        );
        eprintln!("note: {name} is not installed; skipping the checks that need it");
    }
    present
}

fn run(program: &str, args: &[&str], input: &[u8]) -> (bool, String) {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    let mut text = String::from_utf8(out.stdout).unwrap();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// The text of a PDF, pages separated by form feeds (`None` without pdftotext).
pub fn pdf_text(pdf: &[u8]) -> Option<String> {
    if !tool("pdftotext") {
        return None;
    }
    let (ok, text) = run("pdftotext", &["-enc", "UTF-8", "-", "-"], pdf);
    assert!(ok, "pdftotext failed: {text}");
    Some(text)
}

/// Whitespace (line breaks of wrapped text included) collapsed to single spaces.
pub fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `qpdf --check` passes and every font is embedded and subset (`pdffonts`).
pub fn check_file(pdf: &[u8]) {
    let path = std::env::temp_dir().join(format!("doithoai-{}.pdf", uuid::Uuid::new_v4()));
    std::fs::write(&path, pdf).unwrap();
    let file = path.to_str().unwrap();
    if tool("qpdf") {
        let (ok, out) = run("qpdf", &["--check", file], b"");
        assert!(ok, "qpdf --check: {out}");
    }
    if tool("pdffonts") {
        let (ok, out) = run("pdffonts", &[file], b"");
        assert!(ok, "pdffonts: {out}");
        let fonts: Vec<&str> = out
            .lines()
            .skip(2)
            .filter(|l| !l.trim().is_empty())
            .collect();
        assert!(!fonts.is_empty(), "no fonts: {out}");
        for line in fonts {
            let cols: Vec<&str> = line.split_whitespace().collect();
            // name type… encoding emb sub uni object ID
            let n = cols.len();
            assert!(n >= 7, "{line}");
            assert_eq!(
                (cols[n - 5], cols[n - 4]),
                ("yes", "yes"),
                "embedded and subset: {line}"
            );
        }
    }
    let _ = std::fs::remove_file(path);
}

/// GET a PDF with a bearer token: the status, the content type and the bytes.
pub async fn get_pdf(app: &TestApp, path: &str, token: Option<&str>) -> (u16, String, Vec<u8>) {
    let mut request = app.client.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (
        status,
        content_type,
        response.bytes().await.unwrap().to_vec(),
    )
}

const PEOPLE: &[(&str, Option<&str>, &str)] = &[
    ("Trần Văn Bình", None, "completed_sentence"),
    (
        "Nguyễn Thị Ánh",
        Some("anh.nguyen@example.vn"),
        "community_sentence",
    ),
    ("Lê Văn An", None, "drug_rehabilitation"),
    ("Phạm Thị Đào", None, "family_member"),
    (
        "Võ Minh Dũng",
        Some("dung.vo@example.vn"),
        "completed_sentence",
    ),
    ("Đặng Văn Ân", None, "other"),
];

pub async fn invite(app: &TestApp, token: &str, id: &str) -> Vec<serde_json::Value> {
    let people: Vec<_> = PEOPLE
        .iter()
        .map(|(name, email, category)| {
            json!({"full_name": name, "email": email, "phone": "0912 000 111", "category": category})
        })
        .collect();
    let added = app.add_invitees(token, id, &json!(people)).await;
    assert_eq!(added.status, 201, "{}", added.text);
    invitations(app, token, id).await
}

#[tokio::test]
async fn letters_print_one_invitee_per_page_with_code_and_qr() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({})).await;
    let list = invite(&app, &token, &id).await;
    let path = format!("/api/v1/dialogues/{id}/invitations/letters.pdf?only=without_email");
    let (status, content_type, pdf) = get_pdf(&app, &path, Some(&token)).await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "application/pdf");
    // The same list prints the same bytes.
    let (_, _, again) = get_pdf(&app, &path, Some(&token)).await;
    assert_eq!(pdf, again);
    check_file(&pdf);
    let Some(text) = pdf_text(&pdf) else { return };
    let pages: Vec<String> = text
        .split('\u{c}')
        .filter(|p| !p.trim().is_empty())
        .map(squash)
        .collect();
    let without: Vec<&(&str, Option<&str>, &str)> = PEOPLE
        .iter()
        .filter(|(_, email, _)| email.is_none())
        .collect();
    assert_eq!(
        pages.len(),
        without.len(),
        "one page per invitee without email"
    );
    // In name order: An, Ân, Bình, Đào.
    let order = ["Lê Văn An", "Đặng Văn Ân", "Trần Văn Bình", "Phạm Thị Đào"];
    for (page, name) in pages.iter().zip(order) {
        let invitation = list.iter().find(|i| i["full_name"] == name).unwrap();
        let code = invitation["code"].as_str().unwrap();
        for part in [
            "UBND TỈNH LONG AN",
            "UBND HUYỆN BẾN LỨC",
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
            "Độc lập - Tự do - Hạnh phúc",
            "/GM-UBND",
            "GIẤY MỜI",
            &format!("Kính gửi: Ông/Bà {name}"),
            "Thời gian: 14:00–17:00, Thứ Hai, 30/11/2026",
            "Địa điểm: Hội trường UBND huyện Bến Lức",
            "Khi đến, xin mang theo:",
            code,
            "Gửi câu hỏi trước hội nghị:",
            "TM. UBND HUYỆN BẾN LỨC",
            "CHỦ TỊCH UBND HUYỆN BẾN LỨC",
            "Lê Thành Út",
        ] {
            assert!(
                page.contains(part),
                "{part:?} missing from the letter: {page}"
            );
        }
    }
    assert!(
        !text.contains("Nguyễn Thị Ánh"),
        "people with email get no letter here"
    );

    let (status, _, all) = get_pdf(
        &app,
        &format!("/api/v1/dialogues/{id}/invitations/letters.pdf"),
        Some(&token),
    )
    .await;
    assert_eq!(status, 200);
    let all = pdf_text(&all).unwrap();
    assert!(all.contains("Kính gửi: Ông/Bà Nguyễn Thị Ánh"));
    assert_eq!(all.matches("GIẤY MỜI").count(), PEOPLE.len());
}

#[tokio::test]
async fn letters_and_the_sheet_are_for_organizers_only() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({})).await;
    let agency = app.staff_token("agency").await;
    for path in [
        format!("/api/v1/dialogues/{id}/invitations/letters.pdf"),
        format!("/api/v1/dialogues/{id}/attendance-sheet.pdf"),
    ] {
        assert_eq!(get_pdf(&app, &path, None).await.0, 401, "{path}");
        assert_eq!(get_pdf(&app, &path, Some(&agency)).await.0, 403, "{path}");
    }
    let bad = app
        .get(
            &format!("/api/v1/dialogues/{id}/invitations/letters.pdf?only=nobody"),
            Some(&token),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.body["error"]["field_codes"]["only"], "invalid_choice");
    let missing = uuid::Uuid::now_v7();
    let (status, _, _) = get_pdf(
        &app,
        &format!("/api/v1/dialogues/{missing}/attendance-sheet.pdf"),
        Some(&token),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_sign_in_sheet_lists_seat_holders_in_vietnamese_name_order() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({})).await;
    let list = invite(&app, &token, &id).await;
    // Everyone but Dũng accepts; Bình is checked in; Dũng holds no seat.
    for invitation in &list {
        if invitation["full_name"] == "Võ Minh Dũng" {
            continue;
        }
        let code = invitation["code"].as_str().unwrap();
        let answered = app.rsvp(code, "accept").await;
        assert_eq!(answered.status, 200, "{}", answered.text);
    }
    let binh = list
        .iter()
        .find(|i| i["full_name"] == "Trần Văn Bình")
        .unwrap();
    let checked = app
        .check_in(&token, &id, binh["code"].as_str().unwrap())
        .await;
    assert_eq!(checked.status, 200, "{}", checked.text);

    let (status, content_type, pdf) = get_pdf(
        &app,
        &format!("/api/v1/dialogues/{id}/attendance-sheet.pdf"),
        Some(&token),
    )
    .await;
    assert_eq!((status, content_type.as_str()), (200, "application/pdf"));
    check_file(&pdf);
    let Some(text) = pdf_text(&pdf) else { return };
    let text = squash(&text);
    for part in [
        "DANH SÁCH KÝ TÊN THAM DỰ",
        "STT",
        "Họ và tên",
        "Nhóm",
        "Ký tên",
    ] {
        assert!(text.contains(part), "{part:?} missing: {text}");
    }
    assert!(!text.contains("Võ Minh Dũng"), "no seat, no line");
    // Given name first, letter by letter in the Vietnamese alphabet (a before â; the tone
    // only breaks ties): An, Ánh, Ân, Bình, Đào.
    let order = [
        "Lê Văn An",
        "Nguyễn Thị Ánh",
        "Đặng Văn Ân",
        "Trần Văn Bình",
        "Phạm Thị Đào",
    ];
    let positions: Vec<usize> = order
        .iter()
        .map(|name| {
            text.find(name)
                .unwrap_or_else(|| panic!("{name} missing: {text}"))
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "order: {text}");
    assert!(text.contains("Tổng số: 5 người."));
}

/// The text without the page numbers at the top of pages 2 on, so that a paragraph that
/// runs onto the next page reads as one.
pub fn without_page_numbers(raw: &str) -> String {
    raw.split('\u{c}')
        .enumerate()
        .map(|(i, page)| {
            let page = page.trim_start();
            match page.split_once('\n') {
                Some((first, rest))
                    if i > 0 && first.trim().chars().all(|c| c.is_ascii_digit()) =>
                {
                    rest.to_string()
                }
                _ => page.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The text of a .docx's `word/document.xml`: the runs' text, a line break after each
/// paragraph, entities decoded.
pub fn docx_text(docx: &[u8]) -> String {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(docx)).expect("a zip archive");
    let mut xml = String::new();
    archive
        .by_name("word/document.xml")
        .expect("word/document.xml")
        .read_to_string(&mut xml)
        .unwrap();
    let mut text = String::new();
    let mut rest = xml.as_str();
    while let Some(at) = rest.find('<') {
        let tag_end = rest[at..]
            .find('>')
            .map(|e| at + e + 1)
            .unwrap_or(rest.len());
        let tag = &rest[at..tag_end];
        if tag == "</w:p>" {
            text.push('\n');
        } else if (tag.starts_with("<w:t>") || tag.starts_with("<w:t ")) && !tag.ends_with("/>") {
            let close = rest[tag_end..].find("</w:t>").unwrap() + tag_end;
            text.push_str(
                &rest[tag_end..close]
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&quot;", "\"")
                    .replace("&apos;", "'")
                    .replace("&amp;", "&"),
            );
            rest = &rest[close..];
            continue;
        }
        rest = &rest[tag_end..];
    }
    text
}

/// The .docx converted to PDF by LibreOffice (`soffice --headless --convert-to pdf`), or
/// `None` when LibreOffice is not installed (a failure under
/// `DOITHOAI_REQUIRE_LIBREOFFICE=1`).
pub fn libreoffice_pdf(docx: &[u8]) -> Option<Vec<u8>> {
    let present = Command::new("soffice")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !present {
        assert!(
            std::env::var("DOITHOAI_REQUIRE_LIBREOFFICE").as_deref() != Ok("1"),
            "soffice is required (DOITHOAI_REQUIRE_LIBREOFFICE=1) but not installed"
        );
        eprintln!("note: LibreOffice (soffice) is not installed; skipping the .docx conversion");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("bien-ban.docx");
    std::fs::write(&input, docx).unwrap();
    // A profile of its own, so that a LibreOffice already running does not take the job.
    let profile = format!(
        "-env:UserInstallation=file://{}/profile",
        dir.path().display()
    );
    let out = Command::new("soffice")
        .args([
            profile.as_str(),
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            dir.path().to_str().unwrap(),
            input.to_str().unwrap(),
        ])
        .env("HOME", dir.path())
        .output()
        .unwrap();
    let pdf = dir.path().join("bien-ban.pdf");
    assert!(
        out.status.success() && pdf.exists(),
        "soffice could not convert the .docx: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(std::fs::read(pdf).unwrap())
}
