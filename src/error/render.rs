//! Where errors become responses: the JSON envelope under /api, an HTML page elsewhere,
//! in the reader's language; server errors are logged with the request id.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpResponse, web};
use minijinja::context;
use tracing_actix_web::RequestId;

use super::AppError;
use crate::html;
use crate::i18n::Lang;
use crate::state::AppState;

/// Turns every error into the JSON envelope (under /api) or an HTML page (elsewhere), in
/// the reader's language; logs server errors with the request id and sends only the id.
pub async fn render_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let lang = Lang::of_request(req.request());
    let is_api = req.path().starts_with("/api/") || req.path() == "/healthz";
    let path = req.uri().to_string();
    let request_id = req.extensions().get::<RequestId>().map(|id| id.to_string());
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let res = next.call(req).await?;
    let status = res.status();
    if status.as_u16() < 400 {
        return Ok(res.map_into_boxed_body());
    }
    let error = match res.response().error() {
        Some(e) => match e.as_error::<AppError>() {
            Some(app_error) => app_error.clone(),
            None => error_for_status(status.as_u16(), res.headers()),
        },
        // A response a handler built on purpose (a form shown again with 422) stays as it is;
        // only bare framework responses (405 and the like) get the envelope or the page.
        None if is_bare(&res, is_api) => error_for_status(status.as_u16(), res.headers()),
        None => return Ok(res.map_into_boxed_body()),
    };
    if status.is_server_error() {
        tracing::error!(request_id = request_id.as_deref().unwrap_or("-"), error = %error, "request failed");
    }
    let (req, original) = res.into_parts();
    let response = if is_api {
        let mut response = error.to_response(lang, request_id);
        // A 405 says which methods the path has.
        if let Some(allow) = original.headers().get(actix_web::http::header::ALLOW) {
            response
                .headers_mut()
                .insert(actix_web::http::header::ALLOW, allow.clone());
        }
        response
    } else {
        // The page keeps the signed-in header; a database that is failing is not asked again.
        let staff = match error {
            AppError::Unauthorized | AppError::Unavailable(_) => None,
            _ => crate::auth::MaybeStaff::extract(&req)
                .await
                .ok()
                .and_then(|s| s.0),
        };
        html_error(
            state.as_ref().map(|s| s.get_ref()),
            &req,
            staff.as_ref(),
            &error,
            lang,
            request_id,
            &path,
        )
    };
    Ok(ServiceResponse::new(req, response))
}

/// A response without the body its audience expects: JSON under /api, HTML elsewhere.
fn is_bare<B>(res: &ServiceResponse<B>, is_api: bool) -> bool {
    let content_type = res
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let expected = if is_api {
        "application/json"
    } else {
        "text/html"
    };
    !content_type.starts_with(expected)
}

/// Errors raised by actix itself (no route, wrong method, unreadable query…).
fn error_for_status(status: u16, headers: &actix_web::http::header::HeaderMap) -> AppError {
    match status {
        401 => AppError::Unauthorized,
        403 => AppError::Forbidden,
        404 => AppError::NotFound,
        405 => AppError::MethodNotAllowed,
        413 => AppError::PayloadTooLarge,
        415 => AppError::UnsupportedMediaType,
        429 => AppError::RateLimited {
            retry_after_seconds: headers
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
                .unwrap_or(1),
        },
        400..=499 => AppError::BadRequest {
            code: "bad_request",
            detail: None,
        },
        503 => AppError::Unavailable(format!("status {status}")),
        _ => AppError::Unexpected(format!("status {status} from the framework")),
    }
}

/// The page the person came from, when the browser says so and it is a page of this site
/// other than the one that failed: its path and query.
fn came_from(req: &actix_web::HttpRequest, path: &str) -> Option<String> {
    let referer = req
        .headers()
        .get(actix_web::http::header::REFERER)?
        .to_str()
        .ok()?;
    let url = url::Url::parse(referer).ok()?;
    let authority = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str()?),
        None => url.host_str()?.to_string(),
    };
    if authority != req.connection_info().host() {
        return None;
    }
    let local = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_string(),
    };
    (html::is_local_path(&local) && local != path).then_some(local)
}

/// A field's label in the reader's language; fields without one are not named (their
/// message says enough), so no internal field name shows on the page.
fn field_label(name: &str, lang: Lang) -> Option<String> {
    let key = format!("field_label.{name}");
    let label = lang.text(&key);
    (label != key).then_some(label)
}

fn html_error(
    state: Option<&AppState>,
    req: &actix_web::HttpRequest,
    staff: Option<&crate::auth::Staff>,
    error: &AppError,
    lang: Lang,
    request_id: Option<String>,
    path: &str,
) -> HttpResponse {
    use actix_web::ResponseError;
    if matches!(error, AppError::Unauthorized) {
        let next = url::form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>();
        return html::see_other(&format!("/login?next={next}"));
    }
    let envelope = error.envelope(lang, request_id);
    let fields: Vec<minijinja::Value> = envelope
        .error
        .fields
        .iter()
        .map(|(name, why)| context! { label => field_label(name, lang), why => why })
        .collect();
    let page = context! {
        status => error.status_code().as_u16(),
        code => envelope.error.code,
        message => envelope.error.message,
        fields => fields,
        request_id => envelope.error.request_id,
        back => came_from(req, path),
    };
    let rendered = state.and_then(|s| {
        let ctx = context! { ..page, ..html::base_context(req, staff) };
        s.templates.render("error.html", ctx).ok()
    });
    let mut builder = HttpResponse::build(error.status_code());
    if let AppError::RateLimited {
        retry_after_seconds,
    } = error
    {
        builder.insert_header(("Retry-After", retry_after_seconds.to_string()));
    }
    match rendered {
        Some(html) => builder.content_type("text/html; charset=utf-8").body(html),
        None => builder
            .content_type("text/plain; charset=utf-8")
            .body(lang.text(&format!("error.{}", error.code()))),
    }
}
