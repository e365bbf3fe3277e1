//! Finding earlier questions that ask the same thing, so an organizer can merge duplicates.
//!
//! Two questions are compared as sets of syllables and of adjacent syllable pairs, after
//! folding away diacritics, case and punctuation and dropping function syllables. Sets make
//! word order matter little; pairs carry the meaning of Vietnamese compounds ("viec lam",
//! "tam tru", "an tich") that single syllables, shared by unrelated compounds, do not.
//! See docs/SIMILAR_QUESTIONS.md for the method and how well it does on the demo questions.

use std::cmp::Ordering;

use crate::text::fold_where;

/// Below this, a candidate is not shown at all. On the demo reference set it keeps 24 of
/// the 28 duplicates (the other four say the same thing in other words, 0.10–0.24) while 26
/// of the 40 questions get no false alarm; 0.20 would keep one more duplicate for twice the
/// false alarms, 0.30 would lose three.
pub const MIN_SCORE: f64 = 0.25;

/// Shared syllables catch reordered and reworded questions; shared pairs separate "the same
/// question" from "same topic". Equal weights: a fully reordered question still keeps half
/// its score, and on the reference set no other split did clearly better.
const SYLLABLE_WEIGHT: f64 = 0.5;
const PAIR_WEIGHT: f64 = 1.0 - SYLLABLE_WEIGHT;

/// Folded function syllables, pronouns, particles and phone shorthands: they occur in most
/// questions and would make any two look alike. Kept sorted for `binary_search`. Folding
/// merges some of them with content words ("toi" is also "tội", "the" also "thẻ", "hoi"
/// also "hội"); those are lost for matching, which the pairs around them mostly make up for.
/// Not listed on purpose: "ma" (ma túy), "vay" (vay vốn, though also "vậy"), "tu" (tù),
/// "con", "di", "ra".
///
/// "chap hanh xong" is listed too: it names the invitees' group ("người chấp hành xong án
/// phạt tù"), which every dialogue of this service is about, so it says who asks, not what;
/// on the reference set it was the main source of false alarms.
const FUNCTION_SYLLABLES: &[&str] = &[
    "a", "ah", "ai", "ak", "anh", "bi", "cac", "chap", "cho", "chu", "co", "cua", "cung", "da",
    "dc", "de", "do", "duoc", "e", "em", "gi", "ha", "hanh", "hay", "hoac", "hoi", "j", "k", "khi",
    "khong", "ko", "la", "lai", "minh", "moi", "mot", "nao", "nay", "neu", "nhe", "nhu", "nhung",
    "nua", "o", "oi", "ong", "rang", "roi", "sao", "se", "the", "thi", "toi", "trong", "tui", "va",
    "vi", "voi", "vs", "xin", "xong",
];

/// The normalised form kept in the `questions.search_text` column: folded (see text::fold),
/// punctuation turned into spaces, words separated by single spaces.
pub fn search_text(body: &str) -> String {
    fold_where(body, |c| !c.is_alphanumeric())
}

/// How alike two `search_text` forms are, from 0.0 (nothing shared) to 1.0 (same words).
pub fn similarity(a: &str, b: &str) -> f64 {
    Features::of(a).similarity(&Features::of(b))
}

/// One candidate's score.
#[derive(Debug, Clone, PartialEq)]
pub struct Match<K> {
    pub key: K,
    pub score: f64,
}

/// The `limit` candidates most like `target` (both as `search_text` forms) whose score is at
/// least `MIN_SCORE`, best first; ties keep the candidates' order.
pub fn rank<K: Clone>(
    target: &str,
    candidates: impl IntoIterator<Item = (K, String)>,
    limit: usize,
) -> Vec<Match<K>> {
    if limit == 0 {
        return Vec::new();
    }
    let target = Features::of(target);
    let mut matches: Vec<Match<K>> = candidates
        .into_iter()
        .filter_map(|(key, text)| {
            let score = target.similarity(&Features::of(&text));
            (score >= MIN_SCORE).then_some(Match { key, score })
        })
        .collect();
    // A stable sort, so equal scores stay in the order the caller gave (oldest first, say).
    matches.sort_by(|a, b| b.score.total_cmp(&a.score));
    matches.truncate(limit);
    matches
}

/// The sets one text is compared by, sorted and deduplicated so that two of them can be
/// intersected in one merge pass, borrowing from the text rather than copying it.
struct Features<'a> {
    syllables: Vec<&'a str>,
    pairs: Vec<(&'a str, &'a str)>,
}

impl<'a> Features<'a> {
    fn of(text: &'a str) -> Self {
        let mut syllables = content_syllables(text);
        // Pairs are taken before sorting, between syllables that were adjacent once function
        // syllables are gone: "vay von cua ngan hang" and "vay von ngan hang" share them all.
        let mut pairs: Vec<_> = syllables.windows(2).map(|w| (w[0], w[1])).collect();
        syllables.sort_unstable();
        syllables.dedup();
        pairs.sort_unstable();
        pairs.dedup();
        Features { syllables, pairs }
    }

    fn similarity(&self, other: &Features<'_>) -> f64 {
        let Some(syllables) = dice(&self.syllables, &other.syllables) else {
            return 0.0;
        };
        match dice(&self.pairs, &other.pairs) {
            Some(pairs) => SYLLABLE_WEIGHT * syllables + PAIR_WEIGHT * pairs,
            // Both texts are one syllable long: there are no pairs to disagree on.
            None => syllables,
        }
    }
}

/// The syllables that carry meaning; a text made only of function syllables ("co duoc
/// khong") keeps them all, so that it still equals itself rather than nothing.
fn content_syllables(text: &str) -> Vec<&str> {
    let content: Vec<&str> = text
        .split_whitespace()
        .filter(|w| !is_function(w))
        .collect();
    if content.is_empty() {
        text.split_whitespace().collect()
    } else {
        content
    }
}

fn is_function(syllable: &str) -> bool {
    FUNCTION_SYLLABLES.binary_search(&syllable).is_ok()
}

/// Dice coefficient 2|A∩B| / (|A|+|B|) of two sorted, deduplicated sets; `None` when both
/// are empty, where it says nothing either way.
fn dice<T: Ord>(a: &[T], b: &[T]) -> Option<f64> {
    let total = a.len() + b.len();
    if total == 0 {
        return None;
    }
    Some(2.0 * common(a, b) as f64 / total as f64)
}

/// How many items two sorted, deduplicated slices share.
fn common<T: Ord>(a: &[T], b: &[T]) -> usize {
    let (mut i, mut j, mut shared) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            Ordering::Less => i += 1,
            Ordering::Greater => j += 1,
            Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    shared
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sim(a: &str, b: &str) -> f64 {
        similarity(&search_text(a), &search_text(b))
    }

    #[test]
    fn search_text_folds_diacritics_case_and_punctuation() {
        assert_eq!(
            search_text("  Đăng ký TẠM TRÚ ở đâu?!  (xã Lương Hòa)"),
            "dang ky tam tru o dau xa luong hoa"
        );
        assert_eq!(
            search_text("Phiếu số 1/2, Nghị định 116/2021/NĐ-CP"),
            "phieu so 1 2 nghi dinh 116 2021 nd cp"
        );
        assert_eq!(search_text("…!?"), "");
    }

    #[test]
    fn identical_text_scores_one() {
        let q = "Làm phiếu lý lịch tư pháp ở đâu, mất bao lâu?";
        assert_eq!(sim(q, q), 1.0);
        // Only function syllables: still equal to itself.
        assert_eq!(sim("Có được không?", "có được không"), 1.0);
    }

    #[test]
    fn diacritics_d_case_and_punctuation_do_not_matter() {
        let typed = "Đăng ký tạm trú ở nhà chị gái được không?";
        let phone = "dang ky tam tru o nha chi gai duoc khong";
        let shouting = "ĐĂNG KÝ, TẠM TRÚ... ở NHÀ chị gái: được không";
        assert_eq!(sim(typed, phone), 1.0);
        assert_eq!(sim(typed, shouting), 1.0);
    }

    #[test]
    fn word_order_matters_little() {
        let a = "Người chấp hành xong án phạt tù có được vay vốn ngân hàng chính sách không?";
        let b = "Vay vốn ngân hàng chính sách thì người chấp hành xong án phạt tù có được không?";
        assert!(sim(a, b) > 0.8, "{}", sim(a, b));
    }

    #[test]
    fn function_syllables_do_not_make_questions_alike() {
        let a = "Tôi có được không, xin hỏi như thế nào?";
        let b = "Xin hỏi, như thế nào thì tôi có được không ạ?";
        let c = "Xin hỏi tôi có được vay vốn nuôi bò không?";
        assert!(sim(a, c) < 0.1, "{}", sim(a, c));
        assert!(sim(b, c) < 0.1, "{}", sim(b, c));
    }

    #[test]
    fn unrelated_questions_score_low() {
        let a = "Làm phiếu lý lịch tư pháp ở đâu, mất bao lâu thì có?";
        let b = "Điều trị Methadone ở huyện mình có mất tiền không?";
        assert!(sim(a, b) < 0.15, "{}", sim(a, b));
        assert_eq!(sim("vay vốn nuôi bò", "học nghề hàn"), 0.0);
        assert_eq!(similarity("", ""), 0.0);
        assert_eq!(similarity("vay von", ""), 0.0);
    }

    #[test]
    fn similarity_is_symmetric_and_bounded() {
        let a = search_text("Học nghề hàn có được miễn học phí không?");
        let b = search_text("Tôi muốn học nghề sửa xe máy, có được miễn học phí không?");
        let ab = similarity(&a, &b);
        assert_eq!(ab, similarity(&b, &a));
        assert!(ab > 0.0 && ab < 1.0, "{ab}");
    }

    #[test]
    fn function_syllables_are_sorted_and_folded() {
        assert!(FUNCTION_SYLLABLES.windows(2).all(|w| w[0] < w[1]));
        assert!(FUNCTION_SYLLABLES.iter().all(|w| search_text(w) == *w));
    }

    fn candidates() -> Vec<(u32, String)> {
        [
            (1, "Điều trị Methadone ở huyện có mất tiền không?"),
            (2, "Làm phiếu lý lịch tư pháp ở đâu, mất bao lâu thì có?"),
            (3, "Đăng ký tạm trú ở nhà người thân cần giấy tờ gì?"),
            (
                4,
                "Xin phiếu lý lịch tư pháp số 1 ở Sở Tư pháp mất bao lâu?",
            ),
            (5, "Làm phiếu lý lịch tư pháp ở đâu, mất bao lâu thì có?"),
        ]
        .into_iter()
        .map(|(key, body)| (key, search_text(body)))
        .collect()
    }

    #[test]
    fn rank_puts_the_closest_first_and_drops_the_unrelated() {
        let target = search_text("lam phieu ly lich tu phap o dau");
        let ranked = rank(&target, candidates(), 10);
        let keys: Vec<u32> = ranked.iter().map(|m| m.key).collect();
        assert_eq!(keys, [2, 5, 4]);
        assert!(ranked.windows(2).all(|w| w[0].score >= w[1].score));
        assert!(ranked.iter().all(|m| m.score >= MIN_SCORE));
    }

    #[test]
    fn rank_keeps_the_candidates_order_on_ties() {
        let target = search_text("Làm phiếu lý lịch tư pháp ở đâu, mất bao lâu thì có?");
        let ranked = rank(&target, candidates(), 2);
        assert_eq!(ranked.len(), 2);
        assert_eq!((ranked[0].key, ranked[1].key), (2, 5));
        assert_eq!(ranked[0].score, 1.0);
        assert_eq!(ranked[0].score, ranked[1].score);
    }

    #[test]
    fn rank_honours_limit_and_threshold() {
        let target = search_text("lam phieu ly lich tu phap o dau");
        assert_eq!(rank(&target, candidates(), 1).len(), 1);
        assert!(rank(&target, candidates(), 0).is_empty());
        assert!(rank(&search_text("vay vốn nuôi bò"), candidates(), 10).is_empty());
        assert!(rank(&target, Vec::<(u32, String)>::new(), 10).is_empty());
    }
}
