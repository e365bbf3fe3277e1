//! Small domain values shared by every capability: text normalised to NFC and bounded,
//! single-line text without control characters, email addresses, search keys that ignore
//! Vietnamese diacritics.
//!
//! "Parse, don't validate": each function turns raw input into a clean value or a
//! `FieldError`, before any query runs.

use unicode_normalization::char::{decompose_canonical, is_combining_mark};
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

use crate::error::FieldError;

/// NFC, trimmed, with inner runs of whitespace kept as they are.
pub fn nfc(raw: &str) -> String {
    // Phones and browsers send NFC almost always; the quick check (one pass, no allocation)
    // says so for most text and spares the decomposition and recomposition.
    if is_nfc_quick(raw.chars()) == IsNormalized::Yes {
        return raw.trim().to_string();
    }
    raw.nfc().collect::<String>().trim().to_string()
}

/// A control character: C0 (tab and line breaks included), DEL and C1, plus the Unicode
/// line and paragraph separators, which break lines as surely as `\n` does.
pub fn is_control(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Whether `raw` holds any control character.
pub fn has_control(raw: &str) -> bool {
    raw.chars().any(is_control)
}

/// Required single-line text of 1..=max characters (after NFC and trimming), with no control
/// character at all: names, titles, units, venues, positions end up in email headers,
/// calendar properties and CSV lines, where a line break or a NUL breaks or forges them.
pub fn required(raw: &str, max: usize) -> Result<String, FieldError> {
    let text = nfc(raw);
    if text.is_empty() {
        return Err(FieldError::new("required"));
    }
    single_line(text, max)
}

/// Optional single-line text: empty or missing becomes `None`.
pub fn optional(raw: Option<&str>, max: usize) -> Result<Option<String>, FieldError> {
    match raw.map(nfc) {
        None => Ok(None),
        Some(text) if text.is_empty() => Ok(None),
        Some(text) => single_line(text, max).map(Some),
    }
}

/// Optional multi-line text (descriptions, addresses): line breaks are kept, CRLF and lone
/// CR become LF; every other control character (tab included) is refused.
pub fn optional_multiline(raw: Option<&str>, max: usize) -> Result<Option<String>, FieldError> {
    let Some(raw) = raw else { return Ok(None) };
    let text = nfc(&raw.replace("\r\n", "\n").replace('\r', "\n"));
    if text.is_empty() {
        return Ok(None);
    }
    if text.chars().any(|c| c != '\n' && is_control(c)) {
        return Err(FieldError::new("control_characters"));
    }
    within(text, max).map(Some)
}

/// Text whose length must fall in `min..=max` characters.
pub fn sized(raw: &str, min: usize, max: usize) -> Result<String, FieldError> {
    let text = required(raw, max)?;
    if text.chars().count() < min {
        return Err(FieldError::with_n("too_short", min as i64));
    }
    Ok(text)
}

fn single_line(text: String, max: usize) -> Result<String, FieldError> {
    if has_control(&text) {
        return Err(FieldError::new("control_characters"));
    }
    within(text, max)
}

fn within(text: String, max: usize) -> Result<String, FieldError> {
    if text.chars().count() > max {
        return Err(FieldError::with_n("too_long", max as i64));
    }
    Ok(text)
}

/// At most `max` characters of `raw`, for echoing input back in an error message: longer
/// text is cut and ends with "…".
pub fn excerpt(raw: &str, max: usize) -> String {
    if raw.chars().count() <= max {
        return raw.to_string();
    }
    let mut cut: String = raw.chars().take(max).collect();
    cut.push('…');
    cut
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
    if has_control(&text) {
        return Err(FieldError::new("control_characters"));
    }
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
    fold_where(raw, char::is_whitespace)
}

/// `fold`, with every run of characters for which `separates` holds (whitespace at least)
/// becoming one space between words. One pass and one allocation, and each character
/// decomposed on its own: it runs on every question submitted. (Dropping every combining
/// mark makes NFD's reordering of marks irrelevant, so no buffer is needed.)
pub fn fold_where(raw: &str, separates: impl Fn(char) -> bool) -> String {
    let mut folded = String::with_capacity(raw.len());
    let mut pending_space = false;
    let mut push = |c: char| {
        for lower in c.to_lowercase() {
            if separates(lower) || lower.is_whitespace() {
                pending_space = !folded.is_empty();
                continue;
            }
            if pending_space {
                folded.push(' ');
                pending_space = false;
            }
            folded.push(if lower == 'đ' { 'd' } else { lower });
        }
    };
    for c in raw.chars() {
        if c.is_ascii() {
            push(c);
        } else {
            decompose_canonical(c, |part| {
                if !is_combining_mark(part) {
                    push(part);
                }
            });
        }
    }
    folded
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
        assert_eq!(required("Hội trường", 10).unwrap(), "Hội trường");
        for bad in [
            "a\u{0007}b",
            "a\tb",
            "a\nb",
            "a\r\nb",
            "a\u{0}b",
            "a\u{7f}b",
            "a\u{85}b",
            "a\u{9b}b",
            "a\u{2028}b",
        ] {
            assert_eq!(
                required(bad, 10).unwrap_err().code,
                "control_characters",
                "{bad:?}"
            );
            assert_eq!(
                optional(Some(bad), 10).unwrap_err().code,
                "control_characters"
            );
        }
        // Surrounding whitespace is trimmed, never stored.
        assert_eq!(required("\tAn\r\n", 10).unwrap(), "An");
    }

    #[test]
    fn multiline_text_keeps_line_breaks_only() {
        assert_eq!(
            optional_multiline(Some("một\r\nhai\rba\nbốn"), 100).unwrap(),
            Some("một\nhai\nba\nbốn".to_string())
        );
        for bad in ["a\tb", "a\u{0}b", "a\u{1b}[31m", "a\u{85}b"] {
            assert_eq!(
                optional_multiline(Some(bad), 100).unwrap_err().code,
                "control_characters",
                "{bad:?}"
            );
        }
        assert_eq!(optional_multiline(Some(" \r\n "), 100).unwrap(), None);
    }

    #[test]
    fn excerpts_are_cut_with_an_ellipsis() {
        assert_eq!(excerpt("ngắn", 80), "ngắn");
        let long = "ư".repeat(100);
        let cut = excerpt(&long, 80);
        assert_eq!(cut.chars().count(), 81);
        assert!(cut.ends_with('…'));
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
        // Whitespace of any kind, at the ends and in runs, becomes single spaces inside.
        assert_eq!(fold(" \t Đ\nđ  \u{3000}ĐỖ\r\n"), "d d do");
        assert_eq!(fold(" \n "), "");
        // Decomposed input folds as the precomposed one does.
        assert_eq!(fold("Le\u{0302}\u{0301} U\u{0301}t"), "le ut");
    }

    /// `fold_where` as first written, through the NFD iterator.
    fn fold_by_nfd(raw: &str, separates: impl Fn(char) -> bool) -> String {
        let lowered = raw
            .nfd()
            .filter(|c| !is_combining_mark(*c))
            .collect::<String>()
            .to_lowercase()
            .replace('đ', "d");
        let spaced: String = lowered
            .chars()
            .map(|c| if separates(c) { ' ' } else { c })
            .collect();
        spaced.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn folding_char_by_char_matches_folding_through_nfd() {
        // Latin with every diacritic, Vietnamese's own block, punctuation and spaces.
        let ranges = [0x20..0x250, 0x1E00..0x1F00, 0x2000..0x2070, 0x3000..0x3003];
        let all: String = ranges
            .into_iter()
            .flatten()
            .filter_map(char::from_u32)
            .flat_map(|c| [c, 'a', ' '])
            .collect();
        let punctuation = |c: char| !c.is_alphanumeric();
        assert_eq!(fold(&all), fold_by_nfd(&all, char::is_whitespace));
        assert_eq!(
            fold_where(&all, punctuation),
            fold_by_nfd(&all, punctuation)
        );
        let decomposed =
            "Ngu\u{031B}\u{0300}o\u{031B}\u{0300}i  đa\u{0303} CHA\u{0302}\u{0301}P ha\u{0300}nh";
        assert_eq!(
            fold(decomposed),
            fold_by_nfd(decomposed, char::is_whitespace)
        );
        assert_eq!(fold(decomposed), "nguoi da chap hanh");
    }

    #[test]
    fn text_already_in_nfc_is_only_trimmed_and_other_text_is_composed() {
        assert_eq!(nfc("  Lế Thành Út \n"), "Lế Thành Út");
        // Half decomposed: the quick check says no, and the whole is composed.
        assert_eq!(nfc(" Lế Tha\u{0300}nh"), "Lế Thành");
    }
}
