//! The security headers of every response, set in one middleware (docs/SECURITY.md, "Input,
//! redirects and headers"):
//!
//! - everywhere: `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer` (personal
//!   links carry a credential in the path, which must never leave in a `Referer`),
//!   `X-Frame-Options: DENY`, and `Strict-Transport-Security` when the service is reached
//!   over https (`DOITHOAI_BASE_URL`);
//! - pages: a Content-Security-Policy without inline script or style (the templates use only
//!   `/static/app.js`, `/static/door.js`, `/static/moderation.js` and `/static/app.css`), and
//!   `Cache-Control: no-store` unless the handler chose otherwise;
//! - the API: a CSP that allows nothing (JSON is never a document), and
//!   `Cache-Control: no-store` on every `/api/v1/…` answer except the public dialogue reads
//!   (`GET /api/v1/dialogues` and `GET /api/v1/dialogues/{id}`), since most answers carry
//!   personal data.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;

use crate::state::AppState;

/// The pages' policy: everything from this origin only, no inline script or style, no
/// framing, no `<base>`, forms posted only here. `data:` images are allowed for the browser's
/// own form controls.
pub const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
                            img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; \
                            form-action 'self'";

/// The API's policy: a JSON answer opened as a document may load and run nothing.
pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

pub const HSTS: &str = "max-age=31536000";

/// Adds the security headers to every response, errors included (it wraps `render_errors`).
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let https = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|s| s.settings.base_url.scheme() == "https");
    let path = req.path().to_string();
    let cacheable_api = is_public_dialogue_read(req.method(), &path);
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    let is_api = path.starts_with("/api/") || path == "/healthz";
    let no_store = if is_api {
        path.starts_with("/api/v1/") && !cacheable_api && !says_no_store(headers)
    } else {
        !path.starts_with("/static/") && !headers.contains_key(header::CACHE_CONTROL)
    };
    let csp = if is_api { API_CSP } else { PAGE_CSP };
    let mut set = |name: HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "no-referrer");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::CONTENT_SECURITY_POLICY, csp);
    if https {
        set(header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
    if no_store {
        set(header::CACHE_CONTROL, "no-store");
    }
    Ok(res)
}

fn says_no_store(headers: &header::HeaderMap) -> bool {
    headers
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("no-store"))
}

/// `GET /api/v1/dialogues` and `GET /api/v1/dialogues/{id}`: public, read by every phone at
/// a dialogue, and free of personal data.
fn is_public_dialogue_read(method: &Method, path: &str) -> bool {
    if method != Method::GET && method != Method::HEAD {
        return false;
    }
    match path.strip_prefix("/api/v1/dialogues") {
        Some("" | "/") => true,
        Some(rest) => rest
            .strip_prefix('/')
            .is_some_and(|id| !id.is_empty() && !id.contains('/')),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_public_dialogue_reads_are_cacheable() {
        let get = Method::GET;
        assert!(is_public_dialogue_read(&get, "/api/v1/dialogues"));
        assert!(is_public_dialogue_read(&get, "/api/v1/dialogues/0192"));
        assert!(!is_public_dialogue_read(&Method::POST, "/api/v1/dialogues"));
        assert!(!is_public_dialogue_read(
            &get,
            "/api/v1/dialogues/0192/invitations"
        ));
        assert!(!is_public_dialogue_read(&get, "/api/v1/dialoguesx"));
        assert!(!is_public_dialogue_read(&get, "/api/v1/me"));
    }
}
