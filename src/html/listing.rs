//! The organizers' lists of people (invitations, registrations, attendance): a search, a
//! filter per status with its count, pages, a print view and a CSV export, all read from
//! the same query string so that a printed or exported list is the list on the screen.
//!
//! The lists are filtered in memory: a dialogue has at most some thousands of people, all
//! of them are read anyway for the counts, and a name is matched without diacritics by the
//! same rule as the door (`participants::model::PersonQuery`), which SQL `LIKE` cannot do
//! on either database.

use actix_web::HttpRequest;
use minijinja::{Value, context};

use super::pager::Pager;
use crate::i18n::Lang;

/// What the query string asks of a list.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// The search as typed (name, phone or code); empty for none.
    pub q: String,
    /// One status to show, or all.
    pub status: Option<String>,
    pub page: i64,
    /// `?print=1`: every row, without navigation or forms.
    pub print: bool,
}

impl ListQuery {
    /// The query of a list page or, for an `*.export` action, of its export, which holds
    /// every row the search and filter find, like the print view.
    pub fn for_action(req: &HttpRequest, action: &str) -> ListQuery {
        let mut query = ListQuery::of(req);
        query.print |= action.ends_with(".export");
        query
    }

    pub fn of(req: &HttpRequest) -> ListQuery {
        let query = req.query_string();
        let value = |name: &str| {
            url::form_urlencoded::parse(query.as_bytes())
                .filter(|(n, _)| n == name)
                .last()
                .map(|(_, v)| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        ListQuery {
            q: value("q").unwrap_or_default().chars().take(100).collect(),
            status: value("status"),
            page: super::pager::requested(query, "page"),
            print: value("print").is_some_and(|v| v == "1"),
        }
    }

    /// The query string of this list with `status` (none: all), for links and downloads.
    fn href(&self, status: Option<&str>, extra: Option<(&str, &str)>) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        if !self.q.is_empty() {
            out.append_pair("q", &self.q);
        }
        if let Some(status) = status {
            out.append_pair("status", status);
        }
        if let Some((name, value)) = extra {
            out.append_pair(name, value);
        }
        format!("?{}", out.finish())
    }
}

/// A list after the search and the filter: the rows to show and what the page says
/// around them.
pub struct Listed<T> {
    pub rows: Vec<T>,
    /// `filters` (each status with its count among the people found), `q`, `pager`,
    /// `print`, `print_href`, `export_query`, for `staff/list_tools.html`.
    pub context: Value,
}

/// A list's filters: each status code with its words, in the order shown, after "all".
pub struct Filters {
    pub all: String,
    pub statuses: Vec<(&'static str, String)>,
    pub per_page: i64,
}

impl Filters {
    /// The filters of `statuses` (codes of `list_status.*`), in `lang`.
    pub fn of(lang: Lang, statuses: &[&'static str], per_page: i64) -> Filters {
        Filters {
            all: lang.text("invitations.all"),
            statuses: statuses
                .iter()
                .map(|code| (*code, lang.text(&format!("list_status.{code}"))))
                .collect(),
            per_page,
        }
    }
}

/// An export's column headings: the `field_label.*` words of `fields`, in `lang`.
pub fn headings(lang: Lang, fields: &[&str]) -> Vec<String> {
    fields
        .iter()
        .map(|field| lang.text(&format!("field_label.{field}")))
        .collect()
}

/// Searches, counts, filters and pages `rows`. `status_of` is a row's status code; `found`
/// whether the search finds the row (called only when there is a search). Print views get
/// every row.
pub fn list<T>(
    rows: Vec<T>,
    query: &ListQuery,
    filters: &Filters,
    status_of: impl Fn(&T) -> &str,
    found: impl Fn(&T) -> bool,
) -> Listed<T> {
    let per_page = filters.per_page;
    let searched: Vec<T> = if query.q.is_empty() {
        rows
    } else {
        rows.into_iter().filter(|r| found(r)).collect()
    };
    let status = query
        .status
        .as_deref()
        .and_then(|s| filters.statuses.iter().find(|(code, _)| *code == s))
        .map(|(code, _)| *code);
    let count = |code: &str| searched.iter().filter(|r| status_of(r) == code).count();
    let mut links = vec![context! {
        code => "", label => &filters.all, count => searched.len(),
        current => status.is_none(), href => query.href(None, None),
    }];
    links.extend(filters.statuses.iter().map(|(code, label)| {
        context! {
            code => code, label => label, count => count(code),
            current => status == Some(*code), href => query.href(Some(code), None),
        }
    }));
    let shown: Vec<T> = searched
        .into_iter()
        .filter(|r| status.is_none_or(|s| status_of(r) == s))
        .collect();
    let total = i64::try_from(shown.len()).unwrap_or(i64::MAX);
    let pager = Pager::new(query.page, per_page, total);
    let rows: Vec<T> = if query.print {
        shown
    } else {
        let skip = usize::try_from(pager.offset()).unwrap_or(0);
        let take = usize::try_from(per_page).unwrap_or(0);
        shown.into_iter().skip(skip).take(take).collect()
    };
    let kept = query.href(status, None);
    let context = context! {
        filters => links,
        q => &query.q,
        status => status,
        shown => total,
        print => query.print,
        pager => pager.context(kept.trim_start_matches('?'), "page"),
        print_href => query.href(status, Some(("print", "1"))),
        export_query => kept,
    };
    Listed { rows, context }
}
