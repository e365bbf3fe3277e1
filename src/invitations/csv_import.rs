//! Invitee lists as CSV or Excel (.xlsx), read by the same rules.
//!
//! CSV: UTF-8 with or without BOM, comma or semicolon separated (the separator is read from
//! the header), quoted fields, CRLF or LF line ends. Excel: the first sheet, its first used
//! row as the header; lines are the row numbers Excel shows.
//!
//! The header names the columns in Vietnamese or English, in any order, ignoring case,
//! diacritics and spaces: `Họ và tên` / `full_name`, `Email`, `Số điện thoại` / `phone`,
//! `Nhóm` / `category`, `Địa chỉ` / `address`, and optionally `Ngôn ngữ` / `language`.

use std::io::Cursor;

use calamine::{Reader, Xlsx};

use crate::error::{AppError, RowError};
use crate::i18n::Lang;
use crate::participants::model::{Category, PersonInput};
use crate::text;

/// The columns, each with the names (folded, see [`header_key`]) it may have in a file.
const COLUMNS: [(&str, &[&str]); 6] = [
    ("full_name", &["full name", "ho va ten", "ho ten"]),
    ("email", &["email", "e mail", "thu dien tu"]),
    (
        "phone",
        &["phone", "so dien thoai", "dien thoai", "sdt", "so dt"],
    ),
    ("category", &["category", "nhom", "nhom doi tuong"]),
    ("address", &["address", "dia chi"]),
    ("language", &["language", "ngon ngu"]),
];
const REQUIRED: [&str; 2] = ["full_name", "category"];
pub const MAX_ROWS: usize = 20_000;

/// How much of a value from the file is echoed back in an error.
const ECHO_CHARS: usize = 80;

/// An .xlsx file is a ZIP package; a CSV file never starts with these bytes.
fn is_xlsx(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// A header as compared: folded (case and diacritics), `_` and `-` as spaces.
fn header_key(header: &str) -> String {
    text::fold(&header.replace(['_', '-'], " "))
}

/// The column a header names, if any.
fn column_of(header: &str) -> Option<&'static str> {
    let key = header_key(header);
    COLUMNS
        .iter()
        .find(|(_, names)| names.contains(&key.as_str()))
        .map(|(column, _)| *column)
}

/// The column's name as the template file and the messages write it, in `lang`.
pub fn column_label(column: &str, lang: Lang) -> String {
    lang.text(&format!("import_column.{column}"))
}

fn invalid(rows: Vec<RowError>) -> AppError {
    AppError::InvalidRows {
        code: "invalid_csv",
        rows,
    }
}

/// A problem with the file or a header: `subject` is what the message is about (a column's
/// name from the file, or one of ours), and `allowed` what would have been accepted.
fn file_error(line: usize, field: &str, code: &str, subject: Option<&str>, lang: Lang) -> RowError {
    // The field may be a column name from the file: a header line of 1 MiB must not come
    // back whole in the answer.
    let field = text::excerpt(field, ECHO_CHARS);
    let base = lang.text(&format!("field.{code}"));
    let message = match subject {
        Some(subject) => format!("«{}»: {base}", text::excerpt(subject, ECHO_CHARS)),
        None => base,
    };
    RowError {
        line,
        field,
        code: code.to_string(),
        message,
        column: None,
        value: None,
        allowed: Vec::new(),
    }
}

/// A refused value: its column's name in `lang`, the value as found (cut short), the
/// reason, and the accepted values when the column takes one of a list.
pub fn value_error(
    line: usize,
    field: &str,
    code: &str,
    reason: String,
    value: Option<&str>,
    lang: Lang,
) -> RowError {
    let column = column_label(field, lang);
    let value = value.map(|v| text::excerpt(v.trim(), ECHO_CHARS));
    let allowed = if code == "invalid_choice" {
        allowed_values(field, lang)
    } else {
        Vec::new()
    };
    let mut message = match value.as_deref() {
        Some(v) if !v.is_empty() => format!("{column} «{v}»: {reason}"),
        _ => format!("{column}: {reason}"),
    };
    if !allowed.is_empty() {
        message.push_str(&format!(
            " {}: {}.",
            lang.text("import.allowed"),
            allowed.join("; ")
        ));
    }
    RowError {
        line,
        field: field.to_string(),
        code: code.to_string(),
        message,
        column: Some(column),
        value,
        allowed,
    }
}

/// The values a list column accepts, as people read them in `lang`.
fn allowed_values(field: &str, lang: Lang) -> Vec<String> {
    match field {
        "category" => Category::ALL
            .iter()
            .map(|c| lang.text(&format!("category.{}", c.as_str())))
            .collect(),
        "language" => vec!["vi".to_string(), "en".to_string()],
        _ => Vec::new(),
    }
}

/// A file read into rows: the header's line and cells, then each data row with its line,
/// and the rows that could not be read at all.
struct Table {
    header_line: usize,
    headers: Vec<String>,
    rows: Vec<(usize, Vec<String>)>,
    problems: Vec<RowError>,
}

/// Every data row as `(line, person)`, or every problem found (header problems first).
pub fn parse(bytes: &[u8], lang: Lang) -> Result<Vec<(usize, PersonInput)>, AppError> {
    let table = if is_xlsx(bytes) {
        read_xlsx(bytes, lang)?
    } else {
        read_csv(bytes, lang)?
    };
    people(table, lang)
}

/// Maps the columns by their headers, then each row to a person.
fn people(table: Table, lang: Lang) -> Result<Vec<(usize, PersonInput)>, AppError> {
    let mut problems = Vec::new();
    let columns: Vec<Option<&str>> = table.headers.iter().map(|h| column_of(h)).collect();
    for (header, column) in table.headers.iter().zip(&columns) {
        if column.is_none() && !header.trim().is_empty() {
            let mut error = file_error(
                table.header_line,
                header.trim(),
                "unknown_column",
                Some(header.trim()),
                lang,
            );
            let known: Vec<String> = COLUMNS.iter().map(|(c, _)| column_label(c, lang)).collect();
            error.message.push_str(&format!(
                " {}: {}.",
                lang.text("import.allowed_columns"),
                known.join(", ")
            ));
            error.allowed = known;
            problems.push(error);
        }
    }
    for required in REQUIRED {
        if !columns.contains(&Some(required)) {
            let label = column_label(required, lang);
            problems.push(file_error(
                table.header_line,
                required,
                "missing_column",
                Some(&label),
                lang,
            ));
        }
    }
    if !problems.is_empty() {
        return Err(invalid(problems));
    }
    let at = |name: &str| columns.iter().position(|c| *c == Some(name));
    let (name_at, email_at, phone_at, category_at, address_at, language_at) = (
        at("full_name"),
        at("email"),
        at("phone"),
        at("category"),
        at("address"),
        at("language"),
    );
    let mut people = Vec::new();
    let mut problems = table.problems;
    for (line, row) in table.rows {
        if row.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        if row.len() > table.headers.len() {
            problems.push(file_error(line, "row", "too_many_fields", None, lang));
            continue;
        }
        let get = |at: Option<usize>| at.and_then(|i| row.get(i)).map(|s| s.trim().to_string());
        people.push((
            line,
            PersonInput {
                full_name: get(name_at).unwrap_or_default(),
                email: get(email_at),
                phone: get(phone_at).map(restore_leading_zero),
                category: get(category_at).unwrap_or_default(),
                address: get(address_at),
                language: get(language_at),
            },
        ));
        if people.len() > MAX_ROWS {
            return Err(invalid(vec![file_error(
                line,
                "file",
                "too_many_rows",
                None,
                lang,
            )]));
        }
    }
    if problems.is_empty() {
        Ok(people)
    } else {
        Err(invalid(problems))
    }
}

/// A phone number a spreadsheet took for a number has lost its leading 0 ("912345678" for
/// "0912345678"): nine digits not starting with 0 are such a number, and get it back.
fn restore_leading_zero(phone: String) -> String {
    if phone.len() == 9 && phone.bytes().all(|b| b.is_ascii_digit()) && !phone.starts_with('0') {
        format!("0{phone}")
    } else {
        phone
    }
}

/// The most an .xlsx file may unpack to. The upload limit bounds only the packed size, and
/// a few megabytes of ZIP can claim gigabytes: a real district list is well under 5 MB.
const MAX_UNPACKED: u64 = 64 * 1024 * 1024;

/// What the package's parts claim to unpack to, added up (`None`: not a ZIP package).
fn unpacked_size(bytes: &[u8]) -> Option<u64> {
    let mut package = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    let mut total: u64 = 0;
    for i in 0..package.len() {
        total = total.saturating_add(package.by_index_raw(i).ok()?.size());
    }
    Some(total)
}

/// The first sheet of an .xlsx file; lines are Excel's row numbers (1-based, counting
/// the empty rows above the table).
fn read_xlsx(bytes: &[u8], lang: Lang) -> Result<Table, AppError> {
    let unreadable = || invalid(vec![file_error(1, "file", "unreadable_xlsx", None, lang)]);
    match unpacked_size(bytes) {
        None => return Err(unreadable()),
        Some(size) if size > MAX_UNPACKED => {
            return Err(invalid(vec![file_error(
                1,
                "file",
                "xlsx_too_large",
                None,
                lang,
            )]));
        }
        Some(_) => {}
    }
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|_| unreadable())?;
    let range = match book.worksheet_range_at(0) {
        Some(Ok(range)) => range,
        _ => return Err(unreadable()),
    };
    let first_row = range.start().map_or(0, |(row, _)| row as usize);
    // Cells left of the used range are empty columns: the rows start at column A anyway,
    // so that the header and the data line up.
    let first_column = range.start().map_or(0, |(_, column)| column as usize);
    if range.height() > MAX_ROWS + 1 {
        return Err(invalid(vec![file_error(
            first_row + MAX_ROWS + 2,
            "file",
            "too_many_rows",
            None,
            lang,
        )]));
    }
    let mut rows = range.rows().enumerate().map(|(i, cells)| {
        let mut row = vec![String::new(); first_column];
        row.extend(cells.iter().map(|cell| cell.to_string()));
        // Trailing empty cells are formatting, not fields.
        while row.last().is_some_and(|c| c.trim().is_empty()) {
            row.pop();
        }
        (first_row + i + 1, row)
    });
    let Some((header_line, headers)) = rows.next() else {
        return Err(invalid(vec![file_error(
            1,
            "file",
            "empty_file",
            None,
            lang,
        )]));
    };
    Ok(Table {
        header_line,
        headers,
        rows: rows.collect(),
        problems: Vec::new(),
    })
}

fn read_csv(bytes: &[u8], lang: Lang) -> Result<Table, AppError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        invalid(vec![file_error(line, "file", "not_utf8", None, lang)])
    })?;
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let first_line = text.lines().next().unwrap_or_default();
    let delimiter = if first_line.matches(';').count() > first_line.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|_| invalid(vec![file_error(1, "file", "unreadable", None, lang)]))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    // Lines are counted from byte offsets: the reader's own line counter is off after CRLF.
    // A record's position may point at the line break before it; skip those first.
    // Records come in order, so the count carries on from the previous one (linear, not
    // quadratic, in the file's size).
    let bytes = text.as_bytes();
    let mut counted_to = 0usize;
    let mut breaks_before = 0usize;
    let mut line_at = |byte: u64| {
        let mut at = usize::try_from(byte).unwrap_or(0).min(bytes.len());
        while at < bytes.len() && matches!(bytes[at], b'\r' | b'\n') {
            at += 1;
        }
        if at >= counted_to {
            breaks_before += bytes[counted_to..at]
                .iter()
                .filter(|b| **b == b'\n')
                .count();
            counted_to = at;
        } else {
            breaks_before = bytes[..at].iter().filter(|b| **b == b'\n').count();
            counted_to = at;
        }
        breaks_before + 1
    };
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for record in reader.records() {
        match record {
            Ok(record) => {
                let line = record.position().map(|p| line_at(p.byte())).unwrap_or(0);
                rows.push((line, record.iter().map(str::to_string).collect()));
            }
            Err(e) => {
                let line = e.position().map(|p| line_at(p.byte())).unwrap_or(0);
                problems.push(file_error(line, "row", "unreadable", None, lang));
            }
        }
    }
    Ok(Table {
        header_line: 1,
        headers,
        rows,
        problems,
    })
}

/// The template offered on the import page: the Vietnamese headers and one example row,
/// UTF-8 with a BOM (without it, Excel reads the file in the system's code page and the
/// diacritics come out garbled).
pub fn template() -> Vec<u8> {
    let columns = ["full_name", "email", "phone", "category", "address"];
    let example = [
        "Nguyễn Văn An",
        "an.nguyen@example.vn",
        "0901 234 567",
        &Lang::Vi.text("category.completed_sentence"),
        "Ấp 3, xã Thạnh Đức, huyện Bến Lức",
    ];
    let mut file = "\u{FEFF}".as_bytes().to_vec();
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let header: Vec<String> = columns.iter().map(|c| column_label(c, Lang::Vi)).collect();
    // Writing to memory cannot fail; an error would only drop the rows.
    let _ = writer.write_record(&header);
    let _ = writer.write_record(example);
    file.extend(writer.into_inner().unwrap_or_default());
    file
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(result: Result<Vec<(usize, PersonInput)>, AppError>) -> Vec<(usize, String, String)> {
        match result {
            Err(AppError::InvalidRows { rows, .. }) => rows
                .into_iter()
                .map(|r| (r.line, r.field, r.code))
                .collect(),
            other => panic!("expected row errors, got {other:?}"),
        }
    }

    #[test]
    fn what_a_package_unpacks_to_is_added_up_before_it_is_opened() {
        use std::io::Write;
        let mut packed = Cursor::new(Vec::new());
        let mut writer = zip::ZipWriter::new(&mut packed);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for name in ["a.xml", "b.xml"] {
            writer.start_file(name, options).unwrap();
            writer.write_all(&[b' '; 100_000]).unwrap();
        }
        writer.finish().unwrap();
        let bytes = packed.into_inner();
        assert!(bytes.len() < 10_000, "spaces pack small");
        assert_eq!(unpacked_size(&bytes), Some(200_000));
        assert_eq!(unpacked_size(b"not a zip"), None);
    }

    #[test]
    fn bom_semicolons_quotes_and_crlf_are_all_read() {
        let file = "\u{FEFF}full_name;email;phone;category;address\r\n\
                    \"Nguyễn Văn An\";an@example.vn;0901 234 567;completed_sentence;\"Ấp 3; xã Thạnh Đức\"\r\n\
                    \r\n\
                    Trần Thị Bé;;;drug_rehabilitation;\r\n";
        let people = parse(file.as_bytes(), Lang::Vi).unwrap();
        assert_eq!(people.len(), 2);
        assert_eq!(people[0].0, 2);
        assert_eq!(people[0].1.full_name, "Nguyễn Văn An");
        assert_eq!(people[0].1.address.as_deref(), Some("Ấp 3; xã Thạnh Đức"));
        assert_eq!(people[1].0, 4);
        assert_eq!(people[1].1.email.as_deref(), Some(""));
    }

    #[test]
    fn a_quoted_field_may_hold_a_line_break_and_lines_still_count() {
        let file = "full_name,category,address\nA,other,\"line one\nline two\"\nB,other,x\n";
        let people = parse(file.as_bytes(), Lang::Vi).unwrap();
        assert_eq!(people[1].0, 4);
    }

    #[test]
    fn header_problems_are_reported_on_line_one() {
        let errors = rows(parse(b"name,email,group\nA,a@x.vn,other\n", Lang::En));
        assert!(errors.contains(&(1, "name".into(), "unknown_column".into())));
        assert!(errors.contains(&(1, "full_name".into(), "missing_column".into())));
        assert!(errors.contains(&(1, "category".into(), "missing_column".into())));
    }

    #[test]
    fn a_long_unknown_column_is_echoed_cut_short() {
        let file = format!("full_name,category,{}\nA,other,x\n", "x".repeat(5000));
        let errors = rows(parse(file.as_bytes(), Lang::En));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].1.chars().count(), ECHO_CHARS + 1);
        assert!(errors[0].1.ends_with('…'));
    }

    #[test]
    fn a_file_that_is_not_utf8_is_refused() {
        let latin1 = b"full_name,category\nNguy\xe9n,other\n";
        assert_eq!(
            rows(parse(latin1, Lang::Vi)),
            vec![(2, "file".to_string(), "not_utf8".to_string())]
        );
    }
}
