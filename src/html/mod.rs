//! Infrastructure for the HTML pages: templates, the browser cookie and CSRF check,
//! form bodies, language switching and the service's own static files.

pub mod charts;
pub mod flash;
pub mod forms;
pub mod listing;
pub mod pager;
pub mod spreadsheet;
pub mod templates;

use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, get, http::header, web};
use minijinja::{Value, context};
use serde::Deserialize;

pub use forms::{KeptForm, PageForm};
pub use templates::Templates;

use crate::auth::Staff;
use crate::auth::secrets::{csrf_for, new_token};
use crate::error::AppError;
use crate::i18n::{LANG_COOKIE, Lang};
use crate::state::AppState;

/// A random id per browser, kept in a cookie; the CSRF token of its forms derives from it.
pub const BROWSER_COOKIE: &str = "doithoai_browser";

#[derive(Clone)]
pub struct BrowserId(pub String);

fn is_page_path(path: &str) -> bool {
    !(path.starts_with("/api/") || path.starts_with("/static/") || path == "/healthz")
}

/// Whether the service is reached over https (`DOITHOAI_BASE_URL`): cookies are then
/// `Secure` and responses carry `Strict-Transport-Security`.
pub fn is_https(req: &HttpRequest) -> bool {
    req.app_data::<web::Data<AppState>>()
        .is_some_and(|s| s.settings.base_url.scheme() == "https")
}

/// Gives every browser a random id cookie (SameSite=Lax, HttpOnly) on its first page.
pub async fn browser_cookie(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if !is_page_path(req.path()) {
        return next.call(req).await;
    }
    let existing = req
        .cookie(BROWSER_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| v.len() >= 32);
    let secure = is_https(req.request());
    let (id, fresh) = match existing {
        Some(id) => (id, false),
        None => (new_token(), true),
    };
    req.extensions_mut().insert(BrowserId(id.clone()));
    let mut res = next.call(req).await?;
    if fresh {
        let cookie = Cookie::build(BROWSER_COOKIE, id)
            .path("/")
            .http_only(true)
            .secure(secure)
            .same_site(SameSite::Lax)
            .max_age(time::Duration::days(365))
            .finish();
        res.response_mut().add_cookie(&cookie).ok();
    }
    Ok(res)
}

/// The CSRF token for this browser's forms.
pub fn csrf_token(req: &HttpRequest) -> String {
    req.extensions()
        .get::<BrowserId>()
        .map(|b| csrf_for(&b.0))
        .unwrap_or_default()
}

/// What every page's layout needs: language, who is signed in, the CSRF token, the path.
pub fn base_context(req: &HttpRequest, staff: Option<&Staff>) -> Value {
    let lang = Lang::of_request(req);
    let user = staff.map(|s| {
        context! {
            name => s.user.name.clone(),
            role => s.user.role().as_str(),
            can_organize => s.can_organize(),
            is_admin => s.role() == crate::auth::Role::Admin,
        }
    });
    context! {
        lang => lang.code(),
        other_lang => match lang { Lang::Vi => "en", Lang::En => "vi" },
        user => user,
        csrf => csrf_token(req),
        path => req.uri().to_string(),
    }
}

/// Renders a page with the layout context merged under the page's own values.
pub fn render(
    state: &AppState,
    req: &HttpRequest,
    staff: Option<&Staff>,
    name: &str,
    page: Value,
) -> Result<HttpResponse, AppError> {
    let ctx = context! { ..page, ..base_context(req, staff) };
    let html = state.templates.render(name, ctx)?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(html))
}

/// The `page` of a paged list page (from 1): anything else reads as the first page, since a
/// page number in a link is not worth an error page.
pub fn page_number(req: &HttpRequest) -> i64 {
    web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.get("page").and_then(|p| p.trim().parse::<i64>().ok()))
        .filter(|p| (1..=100_000).contains(p))
        .unwrap_or(1)
}

/// Stands in for the CSRF token in a page rendered once for every anonymous reader
/// ([`render_shared`]); [`serve_shared`] puts each reader's own token in its place.
const CSRF_PLACEHOLDER: &str = "__doithoai_csrf_token__";

/// Copies of public pages as anonymous readers get them, keyed by the page's path and
/// language; at most one second old (see `crate::cache`).
pub struct SharedPages(pub crate::cache::ShortCache<SharedPage>);

impl Default for SharedPages {
    fn default() -> SharedPages {
        // A public page is some 10–40 KB, and its gzipped copy a fifth of that; the bound
        // starts the cache over long before a district's dialogues could fill it.
        SharedPages(crate::cache::ShortCache::new(
            std::time::Duration::from_secs(1),
            2_000,
        ))
    }
}

impl SharedPages {
    /// The key of `req`'s page: language and path with query.
    pub fn key(req: &HttpRequest) -> String {
        format!("{}{}", Lang::of_request(req).code(), req.uri())
    }
}

/// Renders a page the same for every anonymous reader (no one signed in), with a stand-in
/// for the CSRF token, so that the result can be kept in [`SharedPages`].
pub fn render_shared(
    state: &AppState,
    req: &HttpRequest,
    name: &str,
    page: Value,
) -> Result<SharedPage, AppError> {
    let ctx =
        context! { csrf => CSRF_PLACEHOLDER, ..context! { ..page, ..base_context(req, None) } };
    Ok(SharedPage::from_html(state.templates.render(name, ctx)?))
}

/// A page from [`render_shared`], cut where each reader's own CSRF token goes: serving it
/// copies the parts once, without searching the page again for every reader.
#[derive(Clone)]
pub struct SharedPage {
    parts: std::sync::Arc<[web::Bytes]>,
    /// The page gzipped once when kept, for browsers that accept it. Only a page without a
    /// form has one: a page with a token differs for every reader, and compressing it on
    /// every request would cost more than sending it whole.
    gzipped: Option<web::Bytes>,
}

/// Gzips a page once for every reader it is served to. Phones on a slow connection get a
/// fifth of the bytes; the server writes a fifth as much for each page.
fn gzip(page: &[u8]) -> Option<web::Bytes> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(page.len() / 4),
        flate2::Compression::default(),
    );
    encoder.write_all(page).ok()?;
    encoder.finish().ok().map(web::Bytes::from)
}

/// Whether the request accepts a gzipped answer (`Accept-Encoding`, with its q-values).
fn accepts_gzip(req: &HttpRequest) -> bool {
    use header::{AcceptEncoding, Encoding, Header};
    let supported = [Encoding::gzip(), Encoding::identity()];
    AcceptEncoding::parse(req)
        .ok()
        .and_then(|accepted| accepted.negotiate(supported.iter()))
        .is_some_and(|chosen| chosen == Encoding::gzip())
}

impl SharedPage {
    fn from_html(html: String) -> SharedPage {
        let cuts: Vec<usize> = html
            .match_indices(CSRF_PLACEHOLDER)
            .map(|(at, _)| at)
            .collect();
        let bytes = web::Bytes::from(html);
        let mut parts = Vec::with_capacity(cuts.len() + 1);
        let mut start = 0;
        for at in cuts {
            parts.push(bytes.slice(start..at));
            start = at + CSRF_PLACEHOLDER.len();
        }
        parts.push(bytes.slice(start..));
        let gzipped = match &parts[..] {
            [whole] => gzip(whole),
            _ => None,
        };
        SharedPage {
            parts: parts.into(),
            gzipped,
        }
    }

    /// The page with the reader's token in each place. A page without a form is served as
    /// it is kept: the token is not worked out and the page not copied.
    fn with_token(&self, token: impl FnOnce() -> String) -> web::Bytes {
        if let [whole] = &*self.parts {
            return whole.clone();
        }
        let token = token();
        let length = self.parts.iter().map(web::Bytes::len).sum::<usize>()
            + token.len() * (self.parts.len() - 1);
        let mut page = web::BytesMut::with_capacity(length);
        for (i, part) in self.parts.iter().enumerate() {
            if i > 0 {
                page.extend_from_slice(token.as_bytes());
            }
            page.extend_from_slice(part);
        }
        page.freeze()
    }
}

/// Serves a page from [`render_shared`] with the reader's own CSRF token.
/// A page without a form goes gzipped to a browser that accepts it.
pub fn serve_shared(req: &HttpRequest, page: &SharedPage) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    response
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"));
    if page.gzipped.is_none() {
        return response.body(page.with_token(|| csrf_token(req)));
    }
    response.insert_header((header::VARY, "Accept-Encoding"));
    match &page.gzipped {
        Some(gzipped) if accepts_gzip(req) => response
            .insert_header(header::ContentEncoding::Gzip)
            .body(gzipped.clone()),
        _ => response.body(page.with_token(|| csrf_token(req))),
    }
}

/// A 303 to another page (after a form post, so reload does not post again).
///
/// The target must be a local path (see [`safe_next`]); anything else, or anything a header
/// cannot carry, goes to `/` rather than building a broken or foreign `Location`.
/// Characters outside ASCII are percent-encoded.
pub fn see_other(location: &str) -> HttpResponse {
    let target = if is_local_path(location) {
        percent_encode_non_ascii(location)
    } else {
        "/".to_string()
    };
    let value = header::HeaderValue::from_str(&target)
        .unwrap_or_else(|_| header::HeaderValue::from_static("/"));
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, value))
        .finish()
}

/// Only local paths may be redirect targets, so a crafted link cannot send people elsewhere.
/// `raw` is the decoded value (of a query or form field); anything else becomes `/`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if is_local_path(path) => path.to_string(),
        _ => "/".to_string(),
    }
}

/// A path on this site: one `/`, then neither `/` nor `\` (which browsers read as another
/// host: `//evil`, `/\evil`), and no control character, whitespace or backslash anywhere
/// (browsers drop tabs and line breaks from URLs, so `/\t/evil` would become `//evil`).
pub fn is_local_path(path: &str) -> bool {
    let mut chars = path.chars();
    chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && !path
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\' || c == '\u{feff}')
}

fn percent_encode_non_ascii(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    out
}

#[derive(Deserialize)]
pub struct LangQuery {
    to: String,
    next: Option<String>,
}

/// `/lang?to=en&next=/…`: remembers the choice in a cookie and goes back.
#[get("/lang")]
pub async fn switch_language(req: HttpRequest, query: web::Query<LangQuery>) -> HttpResponse {
    let lang = Lang::parse(&query.to).unwrap_or_default();
    let cookie = Cookie::build(LANG_COOKIE, lang.code())
        .path("/")
        .secure(is_https(&req))
        .same_site(SameSite::Lax)
        .max_age(time::Duration::days(365))
        .finish();
    let mut res = see_other(&safe_next(query.next.as_deref()));
    res.add_cookie(&cookie).ok();
    res
}

/// The service's own static files, embedded so that nothing comes from a CDN.
#[get("/static/{name}")]
pub async fn static_file(name: web::Path<String>) -> Result<HttpResponse, AppError> {
    let (body, content_type): (&'static [u8], &str) = match name.as_str() {
        "app.css" => (
            include_bytes!("../../assets/static/app.css"),
            "text/css; charset=utf-8",
        ),
        "app.js" => (
            include_bytes!("../../assets/static/app.js"),
            "text/javascript; charset=utf-8",
        ),
        "door.js" => (
            include_bytes!("../../assets/static/door.js"),
            "text/javascript; charset=utf-8",
        ),
        "live.js" => (
            include_bytes!("../../assets/static/live.js"),
            "text/javascript; charset=utf-8",
        ),
        "moderation.js" => (
            include_bytes!("../../assets/static/moderation.js"),
            "text/javascript; charset=utf-8",
        ),
        "favicon.svg" => (
            include_bytes!("../../assets/static/favicon.svg"),
            "image/svg+xml",
        ),
        _ => return Err(AppError::NotFound),
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(body))
}

/// An error a person can act on (a field, a conflict, a refusal with a reason) as one line
/// for the page, field messages joined; any other error is handed back to be answered as
/// an error page.
pub fn readable(error: AppError, lang: Lang) -> Result<String, AppError> {
    match error {
        e @ (AppError::Validation(_) | AppError::Conflict(_) | AppError::ForbiddenBecause(_)) => {
            let envelope = e.envelope(lang, None).error;
            let fields: Vec<String> = envelope.fields.values().cloned().collect();
            Ok(if fields.is_empty() {
                envelope.message
            } else {
                fields.join(" ")
            })
        }
        other => Err(other),
    }
}

/// The page with another status (422 after a refused form, so the form is shown again).
pub fn with_status(mut page: HttpResponse, status: actix_web::http::StatusCode) -> HttpResponse {
    *page.status_mut() = status;
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_page_gets_each_readers_token_in_every_place_and_nothing_else_changes() {
        let html = format!(
            "<form><input name=csrf value=\"{CSRF_PLACEHOLDER}\">Câu hỏi</form>\
             <form><input value=\"{CSRF_PLACEHOLDER}\"></form>{CSRF_PLACEHOLDER}"
        );
        let page = SharedPage::from_html(html.clone());
        let served = page.with_token(|| "tok-123".to_string());
        assert_eq!(served, html.replace(CSRF_PLACEHOLDER, "tok-123").as_bytes());
        let plain = SharedPage::from_html("<p>Không có biểu mẫu</p>".to_string());
        let token_asked = std::cell::Cell::new(false);
        let served_plain = plain.with_token(|| {
            token_asked.set(true);
            "tok-123".to_string()
        });
        assert_eq!(served_plain, "<p>Không có biểu mẫu</p>".as_bytes());
        assert!(!token_asked.get(), "a page without a form needs no token");
    }
}
