//! Vietnamese name order, as on official lists (docs/DOCUMENTS.md, "Name order").
//!
//! A Vietnamese full name is written family name, middle names, given name ("Nguyễn Văn
//! An"), and lists are sorted by the **given name** (the last word), then by the rest of the
//! name from the first word on. Letters compare in the Vietnamese alphabet
//! (a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y, with f j w z placed where
//! the Latin alphabet has them); a letter's tone only decides between names whose letters
//! are all the same, in the order: none, huyền (à), hỏi (ả), ngã (ã), sắc (á), nặng (ạ).
//! Case never matters.

use std::cmp::Ordering;

use unicode_normalization::UnicodeNormalization;

/// The alphabet, lowest first. A base letter with its vowel mark (ă â ê ô ơ ư) and đ are
/// letters of their own.
const ALPHABET: &[&str] = &[
    "a", "ă", "â", "b", "c", "d", "đ", "e", "ê", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o",
    "ô", "ơ", "p", "q", "r", "s", "t", "u", "ư", "v", "w", "x", "y", "z",
];

/// The sort key of a full name: compare keys to order names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NameKey {
    letters: Vec<u32>,
    tones: Vec<u8>,
    original: String,
}

/// The key of `full_name`: given name first, then the rest.
pub fn name_key(full_name: &str) -> NameKey {
    let words: Vec<&str> = full_name.split_whitespace().collect();
    let (given, rest) = match words.split_last() {
        Some((given, rest)) => (*given, rest),
        None => ("", &[][..]),
    };
    let mut letters = Vec::with_capacity(full_name.len() + 2);
    let mut tones = Vec::with_capacity(full_name.len() + 2);
    push_word(given, &mut letters, &mut tones);
    for word in rest {
        // A word boundary sorts before any letter: "An" before "Anh".
        letters.push(0);
        tones.push(0);
        push_word(word, &mut letters, &mut tones);
    }
    NameKey {
        letters,
        tones,
        original: full_name.to_string(),
    }
}

/// Orders two full names.
pub fn compare_names(a: &str, b: &str) -> Ordering {
    name_key(a).cmp(&name_key(b))
}

fn push_word(word: &str, letters: &mut Vec<u32>, tones: &mut Vec<u8>) {
    // Each letter is a base character followed by its combining marks (NFD).
    let lowered = word.to_lowercase();
    let mut chars = lowered.nfd().peekable();
    while let Some(base) = chars.next() {
        let mut mark: Option<char> = None;
        let mut tone = 0u8;
        while let Some(&next) = chars.peek() {
            match next {
                '\u{0306}' | '\u{0302}' | '\u{031B}' => mark = Some(next),
                '\u{0300}' => tone = 1,
                '\u{0309}' => tone = 2,
                '\u{0303}' => tone = 3,
                '\u{0301}' => tone = 4,
                '\u{0323}' => tone = 5,
                c if unicode_normalization::char::is_combining_mark(c) => {}
                _ => break,
            }
            chars.next();
        }
        letters.push(rank(base, mark));
        tones.push(tone);
    }
}

/// A letter's place: the alphabet first (1…), then every other character by code point.
fn rank(base: char, mark: Option<char>) -> u32 {
    let mut letter = String::with_capacity(4);
    letter.push(base);
    if let Some(mark) = mark {
        letter.push(mark);
    }
    let letter: String = letter.nfc().collect();
    match ALPHABET.iter().position(|l| *l == letter) {
        Some(i) => 1 + i as u32,
        None if base.is_ascii_digit() => 0x40 + base as u32 - '0' as u32,
        None => 0x100 + base as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(names: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        v.sort_by(|a, b| compare_names(a, b));
        v
    }

    #[test]
    fn names_sort_by_given_name_then_the_rest() {
        assert_eq!(
            sorted(&[
                "Trần Văn Bình",
                "Nguyễn Thị An",
                "Lê Văn An",
                "Nguyễn Văn Anh"
            ]),
            [
                "Lê Văn An",
                "Nguyễn Thị An",
                "Nguyễn Văn Anh",
                "Trần Văn Bình"
            ]
        );
    }

    #[test]
    fn the_vietnamese_alphabet_and_tones_decide() {
        // d < đ < e; a < ă < â; o < ô < ơ; u < ư.
        assert_eq!(
            sorted(&["A Đức", "A Dũng", "A Em"]),
            ["A Dũng", "A Đức", "A Em"]
        );
        assert_eq!(sorted(&["A Ân", "A Ăn", "A An"]), ["A An", "A Ăn", "A Ân"]);
        assert_eq!(sorted(&["A Ơn", "A Ôn", "A On"]), ["A On", "A Ôn", "A Ơn"]);
        assert_eq!(sorted(&["A Ưng", "A Uyên"]), ["A Uyên", "A Ưng"]);
        // Tones only break ties: none, huyền, hỏi, ngã, sắc, nặng.
        assert_eq!(
            sorted(&["B Mạ", "B Má", "B Mã", "B Mả", "B Mà", "B Ma"]),
            ["B Ma", "B Mà", "B Mả", "B Mã", "B Má", "B Mạ"]
        );
        assert_eq!(sorted(&["B Mạnh", "B Mai"]), ["B Mai", "B Mạnh"]);
        // Case and decomposed input do not matter.
        let (a, b) = (
            name_key("nguyễn văn an"),
            name_key("Nguye\u{0302}\u{0303}n VĂN AN"),
        );
        assert_eq!((a.letters, a.tones), (b.letters, b.tones));
    }
}
