//! Vietnamese first, English second: message lookup and the reader's language.
//!
//! Messages live in assets/i18n/{vi,en}.toml as flat `key = "text"` tables, embedded in the
//! binary. A missing English text falls back to Vietnamese; a test keeps both files in step.

use std::collections::HashMap;
use std::sync::OnceLock;

use actix_web::HttpRequest;
use actix_web::http::header::ACCEPT_LANGUAGE;
use serde::{Deserialize, Serialize};

pub const LANG_COOKIE: &str = "lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Vi,
    En,
}

type Catalog = HashMap<String, String>;

fn parse_catalog(source: &str) -> Catalog {
    // The files are part of the binary and checked by a test; an unreadable one is a build bug.
    match toml::from_str::<toml::Table>(source) {
        Ok(table) => flatten(&table, ""),
        Err(e) => {
            tracing::error!("message catalogue does not parse: {e}");
            Catalog::new()
        }
    }
}

/// Turns nested tables into dotted keys: `[error] not_found = "…"` → `error.not_found`.
fn flatten(table: &toml::Table, prefix: &str) -> Catalog {
    let mut out = Catalog::new();
    for (key, value) in table {
        let full = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::String(s) => {
                out.insert(full, s.clone());
            }
            toml::Value::Table(t) => out.extend(flatten(t, &full)),
            _ => {}
        }
    }
    out
}

fn catalog(lang: Lang) -> &'static Catalog {
    static VI: OnceLock<Catalog> = OnceLock::new();
    static EN: OnceLock<Catalog> = OnceLock::new();
    match lang {
        Lang::Vi => VI.get_or_init(|| parse_catalog(include_str!("../assets/i18n/vi.toml"))),
        Lang::En => EN.get_or_init(|| parse_catalog(include_str!("../assets/i18n/en.toml"))),
    }
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "vi" | "vi-vn" => Some(Lang::Vi),
            "en" | "en-us" | "en-gb" => Some(Lang::En),
            _ => None,
        }
    }

    /// The message for `key`, falling back to Vietnamese, then to the key itself.
    pub fn text(self, key: &str) -> String {
        catalog(self)
            .get(key)
            .or_else(|| catalog(Lang::Vi).get(key))
            .cloned()
            .unwrap_or_else(|| key.to_string())
    }

    /// The language cookie first (an explicit choice), then Accept-Language, then Vietnamese.
    pub fn of_request(req: &HttpRequest) -> Lang {
        if let Some(lang) = req.cookie(LANG_COOKIE).and_then(|c| Lang::parse(c.value())) {
            return lang;
        }
        req.headers()
            .get(ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(from_accept_language)
            .unwrap_or_default()
    }
}

/// The first of vi/en in an Accept-Language header, by quality then order.
fn from_accept_language(header: &str) -> Option<Lang> {
    let mut best: Option<(f32, Lang)> = None;
    for part in header.split(',') {
        let mut pieces = part.split(';');
        let tag = pieces.next().unwrap_or_default().trim();
        let primary = tag.split('-').next().unwrap_or_default();
        let quality = pieces
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        if let Some(lang) = Lang::parse(primary) {
            if best.is_none_or(|(q, _)| quality > q) {
                best = Some((quality, lang));
            }
        }
    }
    best.map(|(_, lang)| lang)
}

/// Every message key of the Vietnamese catalogue, for tests that keep the files in step.
pub fn keys(lang: Lang) -> Vec<String> {
    let mut keys: Vec<String> = catalog(lang).keys().cloned().collect();
    keys.sort();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_catalogues_have_the_same_keys() {
        let vi = keys(Lang::Vi);
        assert!(vi.len() > 20, "catalogue did not load");
        assert_eq!(vi, keys(Lang::En));
    }

    #[test]
    fn accept_language_picks_the_preferred_known_language() {
        assert_eq!(
            from_accept_language("en-US,en;q=0.9,vi;q=0.8"),
            Some(Lang::En)
        );
        assert_eq!(
            from_accept_language("fr, vi;q=0.5, en;q=0.4"),
            Some(Lang::Vi)
        );
        assert_eq!(from_accept_language("fr-FR"), None);
    }

    #[test]
    fn a_missing_key_shows_the_key() {
        assert_eq!(Lang::En.text("no.such.key"), "no.such.key");
    }
}
