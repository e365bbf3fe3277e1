//! Page links for staff lists that can be long (the moderation queue, the assignment board):
//! which items of how many are shown, "Trang trước", numbered pages and "Trang sau", so
//! that nothing beyond a fixed number is ever silently left out.

use minijinja::{Value, context};

/// The highest page number a link may ask for (as for the API's paging).
const MAX_PAGE: i64 = 1_000_000;

/// The page `?{param}=N` asks for, from 1. Anything that is not a page number is page 1:
/// these are links people follow, and a stale or mistyped one should still show the list.
pub fn requested(query: &str, param: &str) -> i64 {
    url::form_urlencoded::parse(query.as_bytes())
        .filter(|(name, _)| name == param)
        .last()
        .and_then(|(_, value)| value.trim().parse::<i64>().ok())
        .filter(|n| (1..=MAX_PAGE).contains(n))
        .unwrap_or(1)
}

/// One page of a list of `total` items, `per_page` each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pager {
    pub page: i64,
    pub per_page: i64,
    pub total: i64,
}

impl Pager {
    /// The requested page, brought back to the last page when the list has become shorter
    /// (the items were moderated or assigned since the link was made).
    pub fn new(page: i64, per_page: i64, total: i64) -> Pager {
        let per_page = per_page.max(1);
        let pages = Self::pages_of(total, per_page);
        Pager {
            page: page.clamp(1, pages),
            per_page,
            total: total.max(0),
        }
    }

    fn pages_of(total: i64, per_page: i64) -> i64 {
        ((total.max(0) + per_page - 1) / per_page).max(1)
    }

    pub fn pages(&self) -> i64 {
        Self::pages_of(self.total, self.per_page)
    }

    pub fn offset(&self) -> i64 {
        (self.page - 1).saturating_mul(self.per_page)
    }

    /// What `pager.html` shows. Links keep the other parameters of `query` (filters, sort,
    /// another list's page) and drop a one-off `done` notice.
    pub fn context(&self, query: &str, param: &str) -> Value {
        let kept: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .filter(|(name, _)| name != param && name != "done")
            .map(|(n, v)| (n.into_owned(), v.into_owned()))
            .collect();
        let href = |page: i64| {
            let mut out = url::form_urlencoded::Serializer::new(String::new());
            for (name, value) in &kept {
                out.append_pair(name, value);
            }
            out.append_pair(param, &page.to_string());
            format!("?{}", out.finish())
        };
        let pages = self.pages();
        let links: Vec<Value> = self
            .numbers()
            .into_iter()
            .map(|n| match n {
                Some(n) => context! { n => n, href => href(n), current => n == self.page },
                None => context! { gap => true },
            })
            .collect();
        let first = if self.total == 0 {
            0
        } else {
            self.offset() + 1
        };
        context! {
            page => self.page,
            pages => pages,
            total => self.total,
            first => first,
            last => (self.offset() + self.per_page).min(self.total),
            previous => (self.page > 1).then(|| href(self.page - 1)),
            next => (self.page < pages).then(|| href(self.page + 1)),
            links => links,
        }
    }

    /// The page numbers to link: all of them when few, else the first, the last and two on
    /// each side of this one, with `None` where numbers are skipped.
    fn numbers(&self) -> Vec<Option<i64>> {
        let pages = self.pages();
        if pages <= 9 {
            return (1..=pages).map(Some).collect();
        }
        let mut out = Vec::new();
        let mut previous = 0;
        for n in 1..=pages {
            let near = (n - self.page).abs() <= 2;
            if n == 1 || n == pages || near {
                if n > previous + 1 {
                    out.push(None);
                }
                out.push(Some(n));
                previous = n;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_past_the_end_is_the_last_page_and_an_empty_list_has_one() {
        assert_eq!(Pager::new(9, 50, 120).page, 3);
        assert_eq!(Pager::new(0, 50, 120).page, 1);
        assert_eq!(Pager::new(4, 50, 0).pages(), 1);
        assert_eq!(Pager::new(2, 50, 120).offset(), 50);
    }

    #[test]
    fn the_requested_page_is_read_leniently() {
        assert_eq!(requested("status=submitted&page=3", "page"), 3);
        assert_eq!(requested("page=x", "page"), 1);
        assert_eq!(requested("page=-2", "page"), 1);
        assert_eq!(requested("", "page"), 1);
        assert_eq!(requested("approved_page=2&page=5", "approved_page"), 2);
    }

    #[test]
    fn links_keep_the_filters_and_drop_the_notice() {
        let ctx = Pager::new(2, 50, 230).context("status=submitted&done=moderated&page=2", "page");
        assert_eq!(
            ctx.get_attr("previous").unwrap().to_string(),
            "?status=submitted&page=1"
        );
        assert_eq!(
            ctx.get_attr("next").unwrap().to_string(),
            "?status=submitted&page=3"
        );
        assert_eq!(ctx.get_attr("first").unwrap().to_string(), "51");
        assert_eq!(ctx.get_attr("last").unwrap().to_string(), "100");
    }

    #[test]
    fn many_pages_are_linked_around_the_current_one() {
        let numbers = Pager::new(10, 10, 200).numbers();
        assert_eq!(
            numbers,
            vec![
                Some(1),
                None,
                Some(8),
                Some(9),
                Some(10),
                Some(11),
                Some(12),
                None,
                Some(20)
            ]
        );
    }
}
