//! Small domain values shared by every capability: text normalised to NFC and bounded,
//! email addresses, search keys that ignore Vietnamese diacritics.
//!
//! "Parse, don't validate": each function turns raw input into a clean value or a
//! `FieldError`, before any query runs.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::error::FieldError;

/// NFC, trimmed, with inner runs of whitespace kept as they are.
pub fn nfc(raw: &str) -> String {
    raw.nfc().collect::<String>().trim().to_string()
}

/// Required text of 1..=max characters (after NFC and trimming), no control characters
/// other than line breaks and tabs.
pub fn required(raw: &str, max: usize) -> Result<String, FieldError> {
    let text = nfc(raw);
    if text.is_empty() {
        return Err(FieldError::new("required"));
    }
    bounded(text, max)
}

/// Optional text: empty or missing becomes `None`.
pub fn optional(raw: Option<&str>, max: usize) -> Result<Option<String>, FieldError> {
    match raw.map(nfc) {
        None => Ok(None),
        Some(text) if text.is_empty() => Ok(None),
        Some(text) => bounded(text, max).map(Some),
    }
}

/// Text whose length must fall in `min..=max` characters.
pub fn sized(raw: &str, min: usize, max: usize) -> Result<String, FieldError> {
    let text = required(raw, max)?;
    if text.chars().count() < min {
        return Err(FieldError::with_n("too_short", min as i64));
    }
    Ok(text)
}

fn bounded(text: String, max: usize) -> Result<String, FieldError> {
    if text.chars().count() > max {
        return Err(FieldError::with_n("too_long", max as i64));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(FieldError::new("invalid_characters"));
    }
    Ok(text)
}

/// A plausible email address, lower-cased, checked by lettre's parser (the same one that
/// will later address the message).
pub fn email(raw: &str) -> Result<String, FieldError> {
    let text = required(raw, 254)?.to_lowercase();
    let valid = text.parse::<lettre::Address>().is_ok()
        && text.rsplit('@').next().is_some_and(|d| d.contains('.'));
    if valid && !text.contains(char::is_whitespace) {
        Ok(text)
    } else {
        Err(FieldError::new("invalid_email"))
    }
}

pub fn optional_email(raw: Option<&str>) -> Result<Option<String>, FieldError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => email(text).map(Some),
    }
}

/// A Vietnamese phone number as people write it: digits with spaces, dots, dashes, a leading +.
pub fn optional_phone(raw: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(text) = raw.map(nfc).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let allowed = text.chars().enumerate().all(|(i, c)| {
        c.is_ascii_digit() || matches!(c, ' ' | '.' | '-' | '(' | ')') || (c == '+' && i == 0)
    });
    if allowed && (8..=15).contains(&digits.len()) {
        Ok(Some(text))
    } else {
        Err(FieldError::new("invalid_phone"))
    }
}

/// A key for comparing and searching names: lower case, no diacritics, đ → d, single spaces.
/// "Nguyễn Văn Ánh" and "nguyen van anh" share one key.
pub fn fold(raw: &str) -> String {
    let lowered = raw
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .collect::<String>()
        .to_lowercase();
    let replaced = lowered.replace('đ', "d");
    replaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Digits of a phone number, to compare "0901 234 567" with "0901.234.567".
pub fn phone_digits(phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    match digits.strip_prefix("84") {
        Some(rest) if phone.trim_start().starts_with('+') => format!("0{rest}"),
        _ => digits,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decomposed_vietnamese_becomes_precomposed() {
        let decomposed = "Le\u{0302}\u{0301} Tha\u{0300}nh U\u{0301}t";
        assert_eq!(nfc(decomposed), "Lế Thành Út");
        assert_eq!(required(decomposed, 100).unwrap().chars().count(), 11);
    }

    #[test]
    fn required_text_refuses_blank_long_and_control_characters() {
        assert_eq!(required("   ", 10).unwrap_err().code, "required");
        assert_eq!(
            required("abcdef", 3).unwrap_err(),
            FieldError::with_n("too_long", 3)
        );
        assert_eq!(
            required("a\u{0007}b", 10).unwrap_err().code,
            "invalid_characters"
        );
        assert_eq!(required("Hội trường", 10).unwrap(), "Hội trường");
    }

    #[test]
    fn emails_are_checked_and_lower_cased() {
        assert_eq!(
            email(" Minh.Xuan@BenLuc.gov.vn ").unwrap(),
            "minh.xuan@benluc.gov.vn"
        );
        assert!(email("not-an-email").is_err());
        assert!(email("a@localhost").is_err());
        assert_eq!(optional_email(Some("")).unwrap(), None);
    }

    #[test]
    fn phones_allow_common_punctuation() {
        assert!(optional_phone(Some("0901 234 567")).unwrap().is_some());
        assert!(optional_phone(Some("+84 901.234.567")).unwrap().is_some());
        assert!(optional_phone(Some("call me")).is_err());
        assert_eq!(
            phone_digits("+84 901 234 567"),
            phone_digits("0901.234.567")
        );
    }

    #[test]
    fn folding_ignores_case_diacritics_and_d_stroke() {
        assert_eq!(fold("Đặng  Thị Ánh"), "dang thi anh");
        assert_eq!(fold("NGUYỄN văn Út"), fold("nguyen van ut"));
    }
}
