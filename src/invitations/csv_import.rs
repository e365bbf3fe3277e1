//! Invitee lists as CSV: UTF-8 with or without BOM, comma or semicolon separated (the
//! separator is read from the header), quoted fields, CRLF or LF line ends.
//! Header: `full_name,email,phone,category,address` (any order; `language` optional).

use crate::error::{AppError, RowError};
use crate::i18n::Lang;
use crate::participants::model::PersonInput;
use crate::text;

const KNOWN: [&str; 6] = [
    "full_name",
    "email",
    "phone",
    "category",
    "address",
    "language",
];
const REQUIRED: [&str; 2] = ["full_name", "category"];
pub const MAX_ROWS: usize = 20_000;

/// How much of a column name from the file is echoed back in an error.
const ECHO_CHARS: usize = 80;

fn row_error(line: usize, field: &str, code: &str, lang: Lang) -> RowError {
    let key = format!("field.{code}");
    RowError {
        line,
        // The field may be a column name from the file: a header line of 1 MiB must not
        // come back whole in the answer.
        field: text::excerpt(field, ECHO_CHARS),
        code: code.to_string(),
        message: lang.text(&key),
    }
}

/// Every data row as `(line, person)`, or every problem found (header problems first).
pub fn parse(bytes: &[u8], lang: Lang) -> Result<Vec<(usize, PersonInput)>, AppError> {
    let invalid = |rows: Vec<RowError>| AppError::InvalidRows {
        code: "invalid_csv",
        rows,
    };
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        invalid(vec![row_error(line, "file", "not_utf8", lang)])
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
        .map_err(|_| invalid(vec![row_error(1, "file", "unreadable", lang)]))?
        .iter()
        .map(|h| h.trim().to_lowercase())
        .collect();
    let mut problems = Vec::new();
    for header in &headers {
        if !KNOWN.contains(&header.as_str()) {
            problems.push(row_error(1, header, "unknown_column", lang));
        }
    }
    for required in REQUIRED {
        if !headers.iter().any(|h| h == required) {
            problems.push(row_error(1, required, "missing_column", lang));
        }
    }
    if !problems.is_empty() {
        return Err(invalid(problems));
    }
    let column = |name: &str| headers.iter().position(|h| h == name);
    let (name_at, email_at, phone_at, category_at, address_at, language_at) = (
        column("full_name"),
        column("email"),
        column("phone"),
        column("category"),
        column("address"),
        column("language"),
    );
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
    let mut people = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map(|p| line_at(p.byte())).unwrap_or(0);
                problems.push(row_error(line, "row", "unreadable", lang));
                continue;
            }
        };
        let line = record.position().map(|p| line_at(p.byte())).unwrap_or(0);
        if record.iter().all(str::is_empty) {
            continue;
        }
        if record.len() > headers.len() {
            problems.push(row_error(line, "row", "too_many_fields", lang));
            continue;
        }
        let get = |at: Option<usize>| at.and_then(|i| record.get(i)).map(str::to_string);
        people.push((
            line,
            PersonInput {
                full_name: get(name_at).unwrap_or_default(),
                email: get(email_at),
                phone: get(phone_at),
                category: get(category_at).unwrap_or_default(),
                address: get(address_at),
                language: get(language_at),
            },
        ));
        if people.len() > MAX_ROWS {
            return Err(invalid(vec![row_error(
                line,
                "file",
                "too_many_rows",
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
