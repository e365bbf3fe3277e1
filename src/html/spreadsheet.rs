//! CSV files that spreadsheets open safely: UTF-8 with a byte-order mark (so Excel keeps
//! Vietnamese intact), and no cell a spreadsheet would run as a formula.

use actix_web::HttpResponse;
use actix_web::http::header;

use crate::error::AppError;

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, or a leading tab or
/// carriage return) gets a leading apostrophe, so it is shown as the text it is.
pub fn inert(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

/// The file: the byte-order mark, the header, then each row, every cell made inert.
pub fn csv_bytes(header: &[String], rows: &[Vec<String>]) -> Result<Vec<u8>, AppError> {
    let mut out = Vec::from("\u{feff}".as_bytes());
    {
        let mut writer = csv::Writer::from_writer(&mut out);
        writer.write_record(header).map_err(csv_error)?;
        for row in rows {
            writer
                .write_record(row.iter().map(|cell| inert(cell)))
                .map_err(csv_error)?;
        }
        writer
            .flush()
            .map_err(|e| AppError::unexpected(format!("csv: {e}")))?;
    }
    Ok(out)
}

/// The download of a CSV file named `filename` (ASCII), never cached.
pub fn download(bytes: Vec<u8>, filename: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(bytes)
}

pub fn csv_error(e: csv::Error) -> AppError {
    AppError::unexpected(format!("csv: {e}"))
}

#[cfg(test)]
mod tests {
    use super::inert;

    #[test]
    fn formula_cells_are_made_inert() {
        assert_eq!(
            inert("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(inert("+84 90"), "'+84 90");
        assert_eq!(inert("-1"), "'-1");
        assert_eq!(inert("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(inert("\tx"), "'\tx");
        assert_eq!(inert("Việc làm"), "Việc làm");
        assert_eq!(inert(""), "");
    }
}
