//! The invitee import that forgives (issue "No dead ends", item 12): Vietnamese or English
//! headers, groups written loosely, errors that show the value and what is accepted, the
//! template to download, and Excel (.xlsx) files read by the same rules.

use serde_json::{Value, json};

use crate::helpers::{BrowserSession, TestApp, by_name, invitations, open_dialogue, spawn_app};

const ORGANIZER: &str = "nhapds@benluc.example.vn";

/// POST the file to the import endpoint, as `lang` reads.
async fn import(app: &TestApp, token: &str, id: &str, bytes: Vec<u8>, lang: &str) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/dialogues/{id}/invitations/import")))
        .bearer_auth(token)
        .header("accept-language", lang)
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

/// A real .xlsx workbook: `rows` from the first row down, `None` leaving a row empty.
/// Cells that parse as numbers are written as numbers, as Excel stores typed digits.
fn workbook(rows: &[Option<&[&str]>]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        let Some(cells) = row else { continue };
        for (c, cell) in cells.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            match cell.parse::<f64>() {
                Ok(number) => sheet.write_number(r, c, number).map(|_| ()),
                Err(_) => sheet.write_string(r, c, *cell).map(|_| ()),
            }
            .unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

fn categories(list: &[Value]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = list
        .iter()
        .map(|i| {
            (
                i["full_name"].as_str().unwrap().to_string(),
                i["category"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    pairs.sort();
    pairs
}

#[tokio::test]
async fn vietnamese_headers_and_loosely_written_groups_are_understood() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({})).await;
    // Headers in any case, with or without diacritics; groups without their comma, with
    // "đã … án phạt tù", in capitals or without diacritics.
    let csv = "\u{FEFF}HỌ VÀ TÊN;email;So dien thoai;Nhóm;Địa chỉ\r\n\
               Nguyễn Văn An;an@example.vn;0901 234 567;da chap hanh xong an phat tu;Ấp 3\r\n\
               Trần Thị Bình;;0912345678;Người nghiện ma túy người sau cai nghiện;\r\n\
               Lê Văn Châu;chau@example.vn;;THÂN NHÂN, GIA ĐÌNH;\r\n\
               Phạm Thị Dung;dung@example.vn;;nguoi thi hanh an hinh su tai cong dong;\r\n";
    let (status, body) = import(&app, &token, &id, csv.as_bytes().to_vec(), "vi").await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["created"], 4);
    let list = invitations(&app, &token, &id).await;
    assert_eq!(
        categories(&list),
        vec![
            ("Lê Văn Châu".into(), "family_member".into()),
            ("Nguyễn Văn An".into(), "completed_sentence".into()),
            ("Phạm Thị Dung".into(), "community_sentence".into()),
            ("Trần Thị Bình".into(), "drug_rehabilitation".into()),
        ]
    );
    assert_eq!(by_name(&list, "Nguyễn Văn An")["address"], "Ấp 3");
    assert_eq!(by_name(&list, "Nguyễn Văn An")["phone"], "0901 234 567");

    // The English headers still work.
    let csv = "full_name,email,category\nVõ Văn Em,em@example.vn,Press\n";
    let (status, body) = import(&app, &token, &id, csv.as_bytes().to_vec(), "vi").await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn an_error_shows_the_line_the_column_the_value_and_the_accepted_values() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({})).await;
    let csv = "Họ và tên,Email,Nhóm\n\
               Nguyễn Văn An,an@example.vn,Khác\n\
               Trần Thị Bình,binh@example.vn,tù nhân\n\
               Lê Văn Châu,khong-phai-email,Báo chí\n";
    let (status, body) = import(&app, &token, &id, csv.as_bytes().to_vec(), "vi").await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "invalid_csv");
    let rows = body["error"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{body}");
    let group = &rows[0];
    assert_eq!(group["line"], 3);
    assert_eq!(group["field"], "category");
    assert_eq!(group["code"], "invalid_choice");
    assert_eq!(group["column"], "Nhóm");
    assert_eq!(group["value"], "tù nhân");
    let allowed: Vec<&str> = group["allowed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(allowed.len(), 10);
    assert!(allowed.contains(&"Người chấp hành xong hình phạt tù"));
    let message = group["message"].as_str().unwrap();
    assert!(message.starts_with("Nhóm «tù nhân»: "), "{message}");
    assert!(
        message.contains("Giá trị được chấp nhận: Người chấp hành xong hình phạt tù; "),
        "{message}"
    );
    let email = &rows[1];
    assert_eq!(
        (email["line"].as_u64(), email["field"].as_str()),
        (Some(4), Some("email"))
    );
    assert!(
        email["message"]
            .as_str()
            .unwrap()
            .starts_with("Email «khong-phai-email»: Email không hợp lệ."),
        "{email}"
    );
    assert!(email.get("allowed").is_none(), "{email}");
    // All or nothing.
    assert!(invitations(&app, &token, &id).await.is_empty());

    // In English, the column and the groups are named in English.
    let (_, body) = import(&app, &token, &id, csv.as_bytes().to_vec(), "en").await;
    let message = body["error"]["rows"][0]["message"].as_str().unwrap();
    assert!(message.starts_with("Group «tù nhân»: "), "{message}");
    assert!(message.contains("Completed a prison sentence"), "{message}");

    // An unknown column names the columns that are known.
    let (status, body) = import(&app, &token, &id, b"Ten,Nhom\nA,Khac\n".to_vec(), "vi").await;
    assert_eq!(status, 422);
    let first = body["error"]["rows"][0]["message"].as_str().unwrap();
    assert!(
        first.starts_with("«Ten»: Cột không được hỗ trợ."),
        "{first}"
    );
    assert!(
        first.contains("Họ và tên, Email, Số điện thoại, Nhóm, Địa chỉ"),
        "{first}"
    );
}

#[tokio::test]
async fn an_excel_workbook_is_imported_by_the_same_rules_with_excel_row_numbers() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({})).await;
    let header: &[&str] = &["Họ và tên", "Email", "Số điện thoại", "Nhóm", "Địa chỉ"];
    let good = workbook(&[
        Some(header),
        Some(&[
            "Nguyễn Văn An",
            "an@example.vn",
            "0901 234 567",
            "Người chấp hành xong hình phạt tù",
            "Ấp 3, xã Thạnh Đức",
        ]),
        // Digits typed into Excel become a number and lose the leading 0.
        Some(&[
            "Trần Thị Bình",
            "",
            "912345678",
            "da chap hanh xong an phat tu",
            "",
        ]),
        None,
        Some(&["Lê Văn Châu", "chau@example.vn", "", "Báo chí", ""]),
    ]);
    let (status, body) = import(&app, &token, &id, good, "vi").await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["created"], 3);
    let list = invitations(&app, &token, &id).await;
    assert_eq!(by_name(&list, "Trần Thị Bình")["phone"], "0912345678");
    assert_eq!(
        by_name(&list, "Trần Thị Bình")["category"],
        "completed_sentence"
    );
    assert_eq!(
        by_name(&list, "Nguyễn Văn An")["address"],
        "Ấp 3, xã Thạnh Đức"
    );

    // The table starts lower down: lines are the row numbers Excel shows.
    let bad = workbook(&[
        None,
        Some(header),
        Some(&["Phạm Thị Dung", "dung@example.vn", "", "Khác", ""]),
        Some(&["Võ Văn Em", "em@example.vn", "", "tù nhân", ""]),
    ]);
    let (status, body) = import(&app, &token, &id, bad, "vi").await;
    assert_eq!(status, 422, "{body}");
    let row = &body["error"]["rows"][0];
    assert_eq!(row["line"], 4, "{body}");
    assert_eq!(row["column"], "Nhóm");
    assert_eq!(row["value"], "tù nhân");
    assert!(
        row["message"]
            .as_str()
            .unwrap()
            .contains("Giá trị được chấp nhận"),
        "{body}"
    );
    assert_eq!(invitations(&app, &token, &id).await.len(), 3);

    // A file that only looks like a workbook is refused with a reason.
    let (status, body) = import(&app, &token, &id, b"PK\x03\x04broken".to_vec(), "vi").await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["rows"][0]["code"], "unreadable_xlsx");
}

#[tokio::test]
async fn the_import_page_links_a_template_that_excel_opens_and_that_imports_as_it_is() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({})).await;
    app.create_account(ORGANIZER, "Ban Tổ Chức", "organizer", None)
        .await;
    let browser = BrowserSession::new(&app).await;
    let res = browser
        .client
        .get(app.url("/staff/invitations/template.csv"))
        .send()
        .await
        .unwrap();
    assert_ne!(res.status().as_u16(), 200, "signed-in organizers only");
    browser.sign_in(ORGANIZER).await;

    let page = browser
        .get(&format!("/staff/dialogues/{id}/invitations"))
        .await;
    assert!(
        page.contains("href=\"/staff/invitations/template.csv\" download>Tải tệp mẫu"),
        "{page}"
    );
    assert!(page.contains("accept=\".csv,.xlsx,"), "{page}");
    assert!(
        page.contains("Họ và tên, Email, Số điện thoại, Nhóm, Địa chỉ"),
        "{page}"
    );

    let res = browser
        .client
        .get(app.url("/staff/invitations/template.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let headers = res.headers().clone();
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"),
        "{headers:?}"
    );
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment"),
        "{headers:?}"
    );
    let bytes = res.bytes().await.unwrap().to_vec();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 with a BOM");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0], "Họ và tên,Email,Số điện thoại,Nhóm,Địa chỉ");
    assert!(
        lines[1].contains("Người chấp hành xong hình phạt tù"),
        "{text}"
    );

    // Uploaded as it is, the example row is imported.
    let csrf = browser.csrf.lock().unwrap().clone();
    let form = reqwest::multipart::Form::new().text("csrf", csrf).part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name("mau.csv"),
    );
    let res = browser
        .client
        .post(app.url(&format!("/staff/dialogues/{id}/invitations/import")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.text().await.unwrap().contains("Đã thêm 1"));
    assert_eq!(invitations(&app, &token, &id).await.len(), 1);
}

#[tokio::test]
async fn the_import_page_shows_the_bad_value_and_the_accepted_groups() {
    let app = spawn_app().await;
    let (token, id) = open_dialogue(&app, json!({})).await;
    app.create_account(ORGANIZER, "Ban Tổ Chức", "organizer", None)
        .await;
    let browser = BrowserSession::new(&app).await;
    browser.sign_in(ORGANIZER).await;
    browser
        .get(&format!("/staff/dialogues/{id}/invitations"))
        .await;
    let csrf = browser.csrf.lock().unwrap().clone();
    let csv = "Họ và tên,Nhóm\nNguyễn Văn An,Khác\nTrần Thị Bình,tù nhân\n";
    let form = reqwest::multipart::Form::new().text("csrf", csrf).part(
        "file",
        reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("ds.csv"),
    );
    let res = browser
        .client
        .post(app.url(&format!("/staff/dialogues/{id}/invitations/import")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 422);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("dòng 3: Nhóm «tù nhân»: Giá trị không nằm trong danh sách cho phép. Giá trị được chấp nhận: Người chấp hành xong hình phạt tù;"),
        "{page}"
    );
    // The import form stays open under the errors.
    assert!(
        page.contains("<details class=\"card\" id=\"import\" open>"),
        "{page}"
    );
    assert!(invitations(&app, &token, &id).await.is_empty());
}
