//! How well the similar-question hints find duplicates on the reference questions
//! (assets/demo/questions.toml); the procedure and the figures are in
//! docs/SIMILAR_QUESTIONS.md.

use doithoai::demo::questions::reference_set;
use doithoai::questions::similar::{rank, search_text};

#[test]
fn similar_questions_reference_set() {
    let set = reference_set().expect("the reference file parses");
    let texts: Vec<String> = set.question.iter().map(|q| search_text(&q.body)).collect();
    let merged: Vec<usize> = (0..set.question.len())
        .filter(|&i| set.question[i].fate == "merged")
        .collect();
    assert_eq!(
        (set.question.len(), set.paraphrase.len(), merged.len()),
        (40, 25, 3)
    );
    let in_cluster = |k: usize| {
        merged.contains(&k)
            || merged
                .iter()
                .any(|&m| set.question[m].duplicate_of == Some(k))
    };
    assert!(
        set.paraphrase.iter().all(|p| !in_cluster(p.duplicate_of)),
        "one true duplicate per pair"
    );

    // (target text, true duplicate, candidates to leave out)
    let mut pairs: Vec<(String, usize, Option<usize>)> = set
        .paraphrase
        .iter()
        .map(|p| (search_text(&p.body), p.duplicate_of, None))
        .collect();
    pairs.extend(merged.iter().map(|&i| {
        (
            texts[i].clone(),
            set.question[i].duplicate_of.unwrap(),
            Some(i),
        )
    }));
    let (mut top1, mut top3) = (0, 0);
    for (target, truth, skip) in &pairs {
        let candidates = (0..texts.len())
            .filter(|k| Some(*k) != *skip)
            .map(|k| (k, texts[k].clone()));
        let shown = rank(target, candidates, 3);
        top1 += usize::from(shown.first().is_some_and(|m| m.key == *truth));
        top3 += usize::from(shown.iter().any(|m| m.key == *truth));
    }
    let root = |k: usize| set.question[k].duplicate_of.unwrap_or(k);
    let mut false_alarms = 0;
    for i in 0..texts.len() {
        let others = (0..texts.len())
            .filter(|&k| k != i)
            .map(|k| (k, texts[k].clone()));
        false_alarms += rank(&texts[i], others, usize::MAX)
            .iter()
            .filter(|m| root(m.key) != root(i))
            .count();
    }
    println!(
        "reference set: top-1 {top1} of {}, top-3 {top3}, false alarms {false_alarms}",
        pairs.len()
    );
    assert!(top1 >= 24, "top-1 {top1} of {}", pairs.len());
    assert!(top3 >= 24, "top-3 {top3} of {}", pairs.len());
    assert!(false_alarms <= 24, "false alarms {false_alarms}");
}
