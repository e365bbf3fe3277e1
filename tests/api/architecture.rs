//! The module layering, read from `src/`.
//!
//! 1. An infrastructure module imports no capability.
//! 2. A capability never uses another capability's `api` or `pages` module.
//! 3. A capability uses only capabilities of lower layers, so no two import each other and no
//!    cycle can form.
//!
//! The checker is a plain function over `(path, source)` pairs: the rules are proven on small
//! synthetic sources first, then applied to the real tree.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

/// Modules every capability may build on. They import no capability.
const INFRASTRUCTURE: &[&str] = &[
    "config",
    "db",
    "error",
    "events",
    "auth",
    "i18n",
    "text",
    "audit",
    "ratelimit",
    "json",
    "cache",
    "html",
    "headers",
    "jobs",
    "mail",
    "state",
    "pdf",
    "collate",
];

/// Modules that wire the capabilities together. They may import anything.
const COMPOSITION: &[&str] = &["app", "cli", "demo", "lib", "main"];

/// The capabilities, lowest layer first. A capability may use only capabilities of lower
/// layers.
///
/// Planned, to be added by those who build them: `questions` in a layer above
/// `participants`, `assignments` above `questions`, `live` and `minutes` above those.
const LAYERS: &[&[&str]] = &[
    &["agencies", "dialogues"],
    &["accounts", "participants"],
    &["invitations", "registrations", "questions"],
    &["attendance", "assignments"],
    &["live"],
    &["personal", "minutes"],
];

/// A capability's handler modules, which no other capability uses.
const HANDLERS: &[&str] = &["api", "pages"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Infrastructure,
    Composition,
    Capability(usize),
}

fn kind(module: &str) -> Option<Kind> {
    if INFRASTRUCTURE.contains(&module) {
        Some(Kind::Infrastructure)
    } else if COMPOSITION.contains(&module) {
        Some(Kind::Composition)
    } else {
        LAYERS
            .iter()
            .position(|layer| layer.contains(&module))
            .map(Kind::Capability)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Violation {
    file: String,
    line: usize,
    path: String,
    problem: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: `{}`: {}",
            self.file, self.line, self.path, self.problem
        )
    }
}

/// The top-level module a file under `src/` belongs to, and how deep the file's module sits
/// below the crate root: `src/lib.rs` 0, `src/x.rs` and `src/x/mod.rs` 1, `src/x/y.rs` 2.
fn module_of(file: &str) -> Option<(String, usize)> {
    let parts: Vec<&str> = file
        .strip_prefix("src/")?
        .strip_suffix(".rs")?
        .split('/')
        .collect();
    let depth = match parts.as_slice() {
        ["lib"] | ["main"] => 0,
        [.., "mod"] => parts.len() - 1,
        _ => parts.len(),
    };
    Some((parts.first()?.to_string(), depth))
}

/// Checks the layering of the given `(path, source)` pairs, paths relative to the crate root
/// (`src/dialogues/ops.rs`). Returns every violation, sorted by file and line.
fn check(files: &[(String, String)]) -> Vec<Violation> {
    let mut violations = BTreeSet::new();
    let mut unknown: BTreeMap<String, String> = BTreeMap::new();
    // (from, to) → the first place `from` uses `to`: file, line, path.
    let mut edges: BTreeMap<(String, String), (String, usize, String)> = BTreeMap::new();

    for (file, source) in files {
        let Some((module, depth)) = module_of(file) else {
            continue;
        };
        let Some(own_kind) = kind(&module) else {
            unknown.entry(module).or_insert_with(|| file.clone());
            continue;
        };
        for found in references(source, depth) {
            if found.module == module {
                continue;
            }
            let Some(Kind::Capability(target_layer)) = kind(&found.module) else {
                continue;
            };
            let target = &found.module;
            let violation = |problem: String| Violation {
                file: file.clone(),
                line: found.line,
                path: found.path.clone(),
                problem,
            };
            match own_kind {
                Kind::Composition => {}
                Kind::Infrastructure => {
                    if !found.via_alias {
                        violations.insert(violation(format!(
                            "rule 1: infrastructure module `{module}` imports capability \
                             `{target}`; infrastructure knows no capability (move the code \
                             into a capability, or let app.rs wire it in through a hook)"
                        )));
                    }
                }
                Kind::Capability(layer) => {
                    match found.next.as_deref() {
                        Some(handler) if HANDLERS.contains(&handler) => {
                            violations.insert(violation(format!(
                                "rule 2: capability `{module}` uses `{target}::{handler}`; \
                                 another capability's handlers are off limits, use its ops, \
                                 store, model or view"
                            )));
                        }
                        Some("*") => {
                            violations.insert(violation(format!(
                                "rule 2: capability `{module}` glob-imports `{target}`, which \
                                 brings in its `api` and `pages`; import its ops, store, model \
                                 or view by name"
                            )));
                        }
                        _ => {}
                    }
                    if found.via_alias {
                        continue;
                    }
                    edges
                        .entry((module.clone(), target.clone()))
                        .or_insert_with(|| (file.clone(), found.line, found.path.clone()));
                    if target_layer >= layer {
                        violations.insert(violation(format!(
                            "rule 3: capability `{module}` (layer {layer}) uses `{target}` \
                             (layer {target_layer}); a capability may use only capabilities \
                             of lower layers (see LAYERS in tests/api/architecture.rs)"
                        )));
                    }
                }
            }
        }
    }

    for ((from, to), (file, line, path)) in &edges {
        if from >= to {
            continue;
        }
        if let Some((other_file, other_line, other_path)) = edges.get(&(to.clone(), from.clone())) {
            violations.insert(Violation {
                file: file.clone(),
                line: *line,
                path: path.clone(),
                problem: format!(
                    "rule 3: capabilities `{from}` and `{to}` import each other (the other way: \
                     {other_file}:{other_line} `{other_path}`); only the higher layer may use \
                     the lower one"
                ),
            });
        }
    }

    for (module, file) in unknown {
        violations.insert(Violation {
            file,
            line: 1,
            path: module.clone(),
            problem: format!(
                "the top-level module `{module}` is in no list: add it to INFRASTRUCTURE, \
                 COMPOSITION or a layer of LAYERS in tests/api/architecture.rs, and to the \
                 checklist in docs/ARCHITECTURE.md"
            ),
        });
    }

    violations.into_iter().collect()
}

/// One place a file reaches a top-level module of the crate.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Reference {
    line: usize,
    /// The path, flattened out of any `use` group: `crate::dialogues::store`.
    path: String,
    /// The top-level module the path reaches: `dialogues`.
    module: String,
    /// What the path names inside that module, if anything: `store`, `api`, `*`.
    next: Option<String>,
    /// Found through a name that a `use` bound to the module itself (`use crate::dialogues;`
    /// then `dialogues::pages::…`), rather than by a path from the crate root.
    via_alias: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Ident(String),
    /// `::`
    PathSep,
    Punct(char),
    Literal,
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    line: usize,
}

type Segment = (String, usize);

/// Every path in `source` that reaches a top-level module from the crate root: `crate::x…`
/// (also `$crate::x…`), `super::…::x…` with as many `super`s as the file is deep, and `self::x…`
/// in the crate root. `use` trees are flattened; inline paths anywhere in the code count.
fn references(source: &str, depth: usize) -> Vec<Reference> {
    let toks = tokenize(&strip(source));
    let mut found = Vec::new();
    let mut aliases: BTreeMap<String, String> = BTreeMap::new();
    let mut in_use = vec![false; toks.len()];
    let mut braces = 0usize;
    // The brace depth at which each enclosing inline `mod name { … }` opened.
    let mut inline_mods: Vec<usize> = Vec::new();

    let mut i = 0;
    while i < toks.len() {
        let here = depth + inline_mods.len();
        match &toks[i].tok {
            Tok::Ident(word)
                if word == "mod"
                    && matches!(toks.get(i + 1).map(|t| &t.tok), Some(Tok::Ident(_)))
                    && toks.get(i + 2).map(|t| &t.tok) == Some(&Tok::Punct('{')) =>
            {
                inline_mods.push(braces);
                braces += 1;
                i += 3;
                continue;
            }
            Tok::Punct('{') => braces += 1,
            Tok::Punct('}') => {
                braces = braces.saturating_sub(1);
                if inline_mods.last() == Some(&braces) {
                    inline_mods.pop();
                }
            }
            Tok::Ident(word) if word == "use" => {
                let mut paths = Vec::new();
                if let Some(end) = parse_use_tree(&toks, i + 1, Vec::new(), &mut paths) {
                    for (segments, alias) in paths {
                        let Some(reference) = reference_from(&segments, here) else {
                            continue;
                        };
                        if reference.next.is_none() {
                            let name = alias.or_else(|| segments.last().map(|s| s.0.clone()));
                            if let Some(name) = name.filter(|n| n != "_") {
                                aliases.insert(name, reference.module.clone());
                            }
                        }
                        found.push(reference);
                    }
                    in_use[i..end].fill(true);
                    i = end;
                    continue;
                }
            }
            Tok::Ident(word)
                if matches!(word.as_str(), "crate" | "super" | "self") && starts_path(&toks, i) =>
            {
                let (segments, end) = path_at(&toks, i);
                found.extend(reference_from(&segments, here));
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }

    for (i, token) in toks.iter().enumerate() {
        if in_use[i] || !starts_path(&toks, i) {
            continue;
        }
        let (Tok::Ident(name), Some(Tok::Ident(next))) =
            (&token.tok, toks.get(i + 2).map(|t| &t.tok))
        else {
            continue;
        };
        if let Some(module) = aliases.get(name) {
            found.push(Reference {
                line: token.line,
                path: format!("{name}::{next}"),
                module: module.clone(),
                next: Some(next.clone()),
                via_alias: true,
            });
        }
    }
    found
}

/// The token at `i` begins a path: it is not preceded by `::` and is followed by one.
fn starts_path(toks: &[Token], i: usize) -> bool {
    let before = i.checked_sub(1).map(|k| &toks[k].tok);
    before != Some(&Tok::PathSep) && toks.get(i + 1).map(|t| &t.tok) == Some(&Tok::PathSep)
}

/// The segments of the plain path `a::b::c` starting at `i`, and the index after it.
fn path_at(toks: &[Token], i: usize) -> (Vec<Segment>, usize) {
    let mut segments = Vec::new();
    let mut k = i;
    while let Some(Tok::Ident(name)) = toks.get(k).map(|t| &t.tok) {
        segments.push((name.clone(), toks[k].line));
        if toks.get(k + 1).map(|t| &t.tok) != Some(&Tok::PathSep) {
            return (segments, k + 1);
        }
        k += 2;
    }
    (segments, k)
}

/// Resolves a path seen in a module `depth` levels below the crate root. Only paths that
/// reach the crate root's modules give a reference; `self::…` and `super::…` that stay inside
/// the file's own top-level module do not.
fn reference_from(segments: &[Segment], depth: usize) -> Option<Reference> {
    let root = match segments.first()?.0.as_str() {
        "crate" => 1,
        "self" if depth == 0 => 1,
        "super" => {
            let supers = segments.iter().take_while(|s| s.0 == "super").count();
            if supers != depth {
                return None;
            }
            supers
        }
        _ => return None,
    };
    let (module, line) = segments.get(root)?.clone();
    Some(Reference {
        line,
        path: segments
            .iter()
            .map(|s| s.0.as_str())
            .collect::<Vec<_>>()
            .join("::"),
        module,
        next: segments.get(root + 1).map(|s| s.0.clone()),
        via_alias: false,
    })
}

/// Parses the `use` tree starting at `toks[i]`, flattening groups: `crate::{a, b::{c as d}}`
/// gives `crate::a`, and `crate::b::c` bound to `d`. Returns the index after the tree, or
/// `None` where the tokens are no tree this parser knows (then only inline paths are seen).
fn parse_use_tree(
    toks: &[Token],
    mut i: usize,
    mut segments: Vec<Segment>,
    out: &mut Vec<(Vec<Segment>, Option<String>)>,
) -> Option<usize> {
    loop {
        let token = toks.get(i)?;
        match &token.tok {
            Tok::PathSep | Tok::Punct('$') => i += 1,
            Tok::Punct('*') => {
                segments.push(("*".to_string(), token.line));
                out.push((segments, None));
                return Some(i + 1);
            }
            Tok::Punct('{') => {
                i += 1;
                loop {
                    match toks.get(i)?.tok {
                        Tok::Punct('}') => return Some(i + 1),
                        Tok::Punct(',') => i += 1,
                        _ => i = parse_use_tree(toks, i, segments.clone(), out)?,
                    }
                }
            }
            Tok::Ident(name) => {
                segments.push((name.clone(), token.line));
                i += 1;
                match toks.get(i).map(|t| &t.tok) {
                    Some(Tok::PathSep) => i += 1,
                    Some(Tok::Ident(word)) if word == "as" => {
                        let Tok::Ident(alias) = &toks.get(i + 1)?.tok else {
                            return None;
                        };
                        out.push((without_self(segments), Some(alias.clone())));
                        return Some(i + 2);
                    }
                    _ => {
                        out.push((without_self(segments), None));
                        return Some(i);
                    }
                }
            }
            _ => return None,
        }
    }
}

/// `a::b::{self}` imports `a::b`.
fn without_self(mut segments: Vec<Segment>) -> Vec<Segment> {
    if segments.len() > 1 && segments.last().is_some_and(|s| s.0 == "self") {
        segments.pop();
    }
    segments
}

fn tokenize(code: &str) -> Vec<Token> {
    let chars: Vec<char> = code.chars().collect();
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let mut toks = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && word(chars[i]) {
                i += 1;
            }
            let mut name: String = chars[start..i].iter().collect();
            // A raw identifier: r#type.
            if name == "r"
                && chars.get(i) == Some(&'#')
                && chars
                    .get(i + 1)
                    .is_some_and(|&c| c.is_alphabetic() || c == '_')
            {
                let start = i + 1;
                i = start;
                while i < chars.len() && word(chars[i]) {
                    i += 1;
                }
                name = chars[start..i].iter().collect();
            }
            toks.push(Token {
                tok: Tok::Ident(name),
                line,
            });
        } else if c.is_ascii_digit() {
            while i < chars.len() && (word(chars[i]) || chars[i] == '.') {
                i += 1;
            }
            toks.push(Token {
                tok: Tok::Literal,
                line,
            });
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            toks.push(Token {
                tok: Tok::PathSep,
                line,
            });
            i += 2;
        } else {
            toks.push(Token {
                tok: Tok::Punct(c),
                line,
            });
            i += 1;
        }
    }
    toks
}

/// `source` with every comment, string and character literal blanked out; line breaks stay,
/// so line numbers do not move.
fn strip(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        match skipped_until(&chars, i) {
            Some(end) => {
                for &c in &chars[i..end] {
                    out.push(if c == '\n' { '\n' } else { ' ' });
                }
                i = end;
            }
            None => {
                out.push(chars[i]);
                i += 1;
            }
        }
    }
    out
}

/// If a comment, string or character literal starts at `i`, the index just after it.
fn skipped_until(c: &[char], i: usize) -> Option<usize> {
    let at = |k: usize| c.get(k).copied();
    let word = |k: Option<usize>| {
        k.and_then(|k| c.get(k))
            .is_some_and(|&c| c.is_alphanumeric() || c == '_')
    };
    match c[i] {
        '/' if at(i + 1) == Some('/') => {
            Some((i..c.len()).find(|&k| c[k] == '\n').unwrap_or(c.len()))
        }
        '/' if at(i + 1) == Some('*') => {
            let mut depth = 0;
            let mut k = i;
            while k < c.len() {
                if c[k] == '/' && at(k + 1) == Some('*') {
                    depth += 1;
                    k += 2;
                } else if c[k] == '*' && at(k + 1) == Some('/') {
                    depth -= 1;
                    k += 2;
                    if depth == 0 {
                        return Some(k);
                    }
                } else {
                    k += 1;
                }
            }
            Some(c.len())
        }
        '"' => {
            let mut k = i + 1;
            while k < c.len() {
                match c[k] {
                    '\\' => k += 2,
                    '"' => return Some(k + 1),
                    _ => k += 1,
                }
            }
            Some(c.len())
        }
        // r"…", r#"…"#, br#"…"#, cr"…" (not the end of an identifier like `bar`).
        'r' if !word(i.checked_sub(1))
            || (matches!(at(i.wrapping_sub(1)), Some('b' | 'c')) && !word(i.checked_sub(2))) =>
        {
            let hashes = c[i + 1..].iter().take_while(|&&c| c == '#').count();
            if at(i + 1 + hashes) != Some('"') {
                return None;
            }
            let mut k = i + 2 + hashes;
            while k < c.len() {
                if c[k] == '"' && (1..=hashes).all(|h| at(k + h) == Some('#')) {
                    return Some(k + 1 + hashes);
                }
                k += 1;
            }
            Some(c.len())
        }
        '\'' if at(i + 1) == Some('\\') => {
            let end = (i + 3..c.len()).find(|&k| c[k] == '\'').unwrap_or(c.len());
            Some((end + 1).min(c.len()))
        }
        // 'x' is a character; 'a without a closing quote is a lifetime or a label.
        '\'' if at(i + 2) == Some('\'') => Some(i + 3),
        _ => None,
    }
}

fn source_files(dir: &Path, root: &Path, files: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            source_files(&path, root, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path
                .strip_prefix(root)
                .expect("under the crate root")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let source = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            files.push((relative, source));
        }
    }
}

#[test]
fn the_source_tree_follows_the_layers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    source_files(&root.join("src"), root, &mut files);
    assert!(
        files.iter().any(|(file, _)| file == "src/lib.rs"),
        "no src/lib.rs under {}",
        root.display()
    );

    let violations = check(&files);
    assert!(
        violations.is_empty(),
        "the source tree breaks the module layering (docs/ARCHITECTURE.md, \
         \"Infrastructure and capabilities\"); {} violation(s):\n{}\n",
        violations.len(),
        violations
            .iter()
            .map(|v| format!("  {v}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_layer_table_names_each_module_once() {
    let mut seen = BTreeSet::new();
    let every = INFRASTRUCTURE
        .iter()
        .chain(COMPOSITION)
        .chain(LAYERS.iter().flat_map(|layer| layer.iter()));
    for module in every {
        assert!(seen.insert(module), "`{module}` is listed twice");
    }
}

// The checker on synthetic sources.

fn violations(files: &[(&str, &str)]) -> Vec<String> {
    let files: Vec<(String, String)> = files
        .iter()
        .map(|(file, source)| (file.to_string(), source.to_string()))
        .collect();
    check(&files).iter().map(ToString::to_string).collect()
}

/// Some violation mentions every one of `fragments`.
#[track_caller]
fn assert_fails(files: &[(&str, &str)], fragments: &[&str]) {
    let found = violations(files);
    assert!(
        found
            .iter()
            .any(|v| fragments.iter().all(|fragment| v.contains(fragment))),
        "expected a violation with {fragments:?}, found {found:#?}"
    );
}

#[track_caller]
fn assert_passes(files: &[(&str, &str)]) {
    let found = violations(files);
    assert!(found.is_empty(), "expected no violation, found {found:#?}");
}

#[test]
fn an_infrastructure_module_that_imports_a_capability_fails() {
    assert_fails(
        &[(
            "src/mail/mod.rs",
            "use crate::db::Db;\nuse crate::dialogues::model::Dialogue;\n",
        )],
        &[
            "src/mail/mod.rs:2:",
            "`crate::dialogues::model::Dialogue`",
            "rule 1",
        ],
    );
    assert_fails(
        &[("src/state.rs", "use super::accounts::ops;\n")],
        &["src/state.rs:1:", "`super::accounts::ops`", "rule 1"],
    );
}

#[test]
fn an_infrastructure_module_may_import_infrastructure() {
    assert_passes(&[(
        "src/jobs/outbox.rs",
        "use crate::{db::Db, error::AppError, mail};\nuse super::Job;\nfn f() { crate::events::publish(); }\n",
    )]);
}

#[test]
fn a_capability_that_imports_another_capabilitys_pages_fails() {
    assert_fails(
        &[(
            "src/personal/pages.rs",
            "use crate::registrations::pages::render_ticket;\n",
        )],
        &[
            "src/personal/pages.rs:1:",
            "`crate::registrations::pages::render_ticket`",
            "rule 2",
        ],
    );
}

#[test]
fn a_grouped_use_of_another_capabilitys_api_fails() {
    let source = "use crate::{\n    accounts,\n    invitations::{api::list, store as inv},\n};\n";
    assert_fails(
        &[("src/personal/api.rs", source)],
        &[
            "src/personal/api.rs:3:",
            "`crate::invitations::api::list`",
            "rule 2",
        ],
    );
    assert_eq!(violations(&[("src/personal/api.rs", source)]).len(), 1);
}

#[test]
fn an_inline_path_to_another_capabilitys_api_fails() {
    assert_fails(
        &[(
            "src/personal/api.rs",
            "fn f() {\n    let x = crate::invitations::api::list(&state);\n}\n",
        )],
        &[
            "src/personal/api.rs:2:",
            "`crate::invitations::api::list`",
            "rule 2",
        ],
    );
}

#[test]
fn an_imported_capability_cannot_reach_its_pages_through_its_name() {
    assert_fails(
        &[(
            "src/personal/pages.rs",
            "use crate::registrations;\nfn f() { registrations::pages::render(); }\n",
        )],
        &[
            "src/personal/pages.rs:2:",
            "`registrations::pages`",
            "rule 2",
        ],
    );
}

#[test]
fn a_glob_import_of_another_capability_fails() {
    assert_fails(
        &[("src/personal/api.rs", "use crate::registrations::*;\n")],
        &["`crate::registrations::*`", "rule 2"],
    );
}

#[test]
fn two_capabilities_that_import_each_other_fail() {
    let files = [
        (
            "src/invitations/ops.rs",
            "use crate::registrations::ops::{register, cancel};\n",
        ),
        (
            "src/registrations/api.rs",
            "\nfn f() { crate::invitations::store::counts(conn, id) }\n",
        ),
    ];
    assert_fails(
        &files,
        &[
            "src/invitations/ops.rs:1:",
            "`invitations` and `registrations` import each other",
            "src/registrations/api.rs:2 `crate::invitations::store::counts`",
        ],
    );
}

#[test]
fn a_capability_that_imports_a_higher_layer_fails() {
    assert_fails(
        &[(
            "src/participants/store.rs",
            "use crate::invitations::model::Invitation;\n",
        )],
        &[
            "src/participants/store.rs:1:",
            "`crate::invitations::model::Invitation`",
            "rule 3",
            "(layer 1)",
            "(layer 2)",
        ],
    );
    assert_fails(
        &[(
            "src/dialogues/ops.rs",
            "fn f() {\n    let seats = crate::registrations::store::find(conn, id)?;\n}\n",
        )],
        &[
            "src/dialogues/ops.rs:2:",
            "`crate::registrations::store::find`",
            "rule 3",
        ],
    );
}

#[test]
fn a_capability_that_imports_its_own_layer_fails() {
    assert_fails(
        &[("src/agencies/store.rs", "use crate::accounts::ops;\n")],
        &[
            "src/agencies/store.rs:1:",
            "`crate::accounts::ops`",
            "rule 3",
        ],
    );
}

#[test]
fn a_capability_may_use_lower_layers_through_their_ops_store_and_model() {
    assert_passes(&[
        (
            "src/personal/api.rs",
            "use crate::registrations::{ops as registrations, store};\n\
             use crate::{invitations, participants::auth as participant_auth};\n\
             use crate::{auth::Organizer, db::Db, error::AppError};\n\
             fn f() { crate::dialogues::model::Dialogue::x(); invitations::ops::respond(); }\n",
        ),
        (
            "src/participants/store.rs",
            "use crate::dialogues::{self, model::Dialogue};\nfn f() { dialogues::store::find(); }\n",
        ),
    ]);
}

#[test]
fn super_super_from_a_capability_file_reaches_the_crate_root() {
    assert_fails(
        &[(
            "src/dialogues/ops.rs",
            "use super::super::registrations::ops;\n",
        )],
        &[
            "src/dialogues/ops.rs:1:",
            "`super::super::registrations::ops`",
            "rule 3",
        ],
    );
}

#[test]
fn super_and_self_inside_a_capability_are_the_capability_itself() {
    assert_passes(&[
        (
            "src/invitations/ops.rs",
            "use super::{model, store};\nuse self::inner::x;\n\
             fn f() { super::store::find(); }\n\
             #[cfg(test)]\nmod tests {\n    use super::super::store;\n    use super::*;\n}\n",
        ),
        (
            "src/invitations/mod.rs",
            "pub mod api;\nmod tests {\n    use super::store;\n}\n",
        ),
    ]);
}

#[test]
fn a_top_level_module_in_no_list_fails() {
    assert_fails(
        &[("src/polls/mod.rs", "pub mod store;\n")],
        &[
            "src/polls/mod.rs:1:",
            "`polls` is in no list",
            "tests/api/architecture.rs",
            "docs/ARCHITECTURE.md",
        ],
    );
    assert_fails(&[("src/webhooks.rs", "")], &["`webhooks` is in no list"]);
}

#[test]
fn composition_may_import_anything() {
    assert_passes(&[(
        "src/app.rs",
        "use crate::{accounts, dialogues::{api, pages}, personal};\n\
         fn f() { crate::registrations::pages::scope(); }\n",
    )]);
}

#[test]
fn comments_and_strings_do_not_count() {
    let source = r####"//! Mail knows nothing of crate::dialogues::api.
/// Unlike [`crate::invitations::ops::respond`], this sends.
// use crate::registrations::pages;
/* A block comment about crate::accounts::api,
   /* nested: crate::personal::pages */ still a comment: crate::agencies::api */
use crate::db::Db;
const A: &str = "use crate::dialogues::api; \" crate::accounts::api";
const B: &str = r#"crate::registrations::pages "quoted" "#;
const C: &[u8] = br##"crate::invitations::api"##;
const D: char = '"';
const E: char = '\'';
fn f<'a>(x: &'a str) -> &'a str { 'outer: loop { break 'outer x; } }
"####;
    assert_passes(&[("src/mail/mod.rs", source)]);
}

#[test]
fn code_after_a_string_or_comment_still_counts() {
    let source = "const A: &str = \"a \\\" b\"; /* note */ const B: char = '\"';\n\
                  fn f() { crate::dialogues::store::find(); } // and a comment\n";
    assert_fails(
        &[("src/mail/mod.rs", source)],
        &[
            "src/mail/mod.rs:2:",
            "`crate::dialogues::store::find`",
            "rule 1",
        ],
    );
}

#[test]
fn a_nested_grouped_use_is_flattened() {
    let found: Vec<(usize, String, String, Option<String>)> = references(
        "use crate::{\n    a::{b, c::{d as e, self}},\n    f,\n};\nuse crate::g::{self as h};\n",
        2,
    )
    .into_iter()
    .map(|r| (r.line, r.path, r.module, r.next))
    .collect();
    let expect = |line: usize, path: &str, module: &str, next: Option<&str>| {
        (
            line,
            path.to_string(),
            module.to_string(),
            next.map(str::to_string),
        )
    };
    assert_eq!(
        found,
        vec![
            expect(2, "crate::a::b", "a", Some("b")),
            expect(2, "crate::a::c::d", "a", Some("c")),
            expect(2, "crate::a::c", "a", Some("c")),
            expect(3, "crate::f", "f", None),
            expect(5, "crate::g", "g", None),
        ]
    );
}
