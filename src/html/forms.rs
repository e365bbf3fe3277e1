//! Form posts from the pages: the body as name/value pairs (repeated names allowed, for
//! table rows like officials), accepted only with this browser's CSRF token.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};

use super::BROWSER_COOKIE;
use crate::auth::secrets::csrf_for;
use crate::error::AppError;

const FORM_LIMIT: usize = 1024 * 1024;

#[derive(Debug, Default, Clone)]
pub struct PageForm(pub Vec<(String, String)>);

impl PageForm {
    /// The first value of a field, or "" when absent.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }

    /// The value, or `None` when the field is absent or blank.
    pub fn opt(&self, name: &str) -> Option<String> {
        Some(self.get(name).trim().to_string()).filter(|v| !v.is_empty())
    }

    /// Every value of a repeated field, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A checkbox: present and not "false".
    pub fn checked(&self, name: &str) -> bool {
        self.0.iter().any(|(k, v)| k == name && v != "false")
    }
}

/// A form post read without refusing a CSRF token that does not match: for a form that is
/// shown again with what was typed when its token has expired (a lost browser cookie),
/// rather than refused with an error page. The handler acts on it only when `csrf_ok`.
#[derive(Debug, Default, Clone)]
pub struct KeptForm {
    pub form: PageForm,
    pub csrf_ok: bool,
}

impl FromRequest for KeptForm {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<KeptForm, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let form = read_form(body.await)?;
            let csrf_ok = csrf_matches(&req, &form);
            Ok(KeptForm { form, csrf_ok })
        })
    }
}

fn read_form(body: Result<web::Bytes, actix_web::Error>) -> Result<PageForm, AppError> {
    let bytes = body.map_err(|e| match e.as_response_error().status_code().as_u16() {
        413 => AppError::PayloadTooLarge,
        _ => AppError::BadRequest {
            code: "malformed_form",
            detail: None,
        },
    })?;
    if bytes.len() > FORM_LIMIT {
        return Err(AppError::PayloadTooLarge);
    }
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_bytes(&bytes).map_err(|_| AppError::BadRequest {
            code: "malformed_form",
            detail: None,
        })?;
    Ok(PageForm(pairs))
}

fn csrf_matches(req: &HttpRequest, form: &PageForm) -> bool {
    let expected = req.cookie(BROWSER_COOKIE).map(|c| csrf_for(c.value()));
    matches!(expected, Some(token) if !form.get("csrf").is_empty() && token == form.get("csrf"))
}

impl FromRequest for PageForm {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<PageForm, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let form = read_form(body.await)?;
            if csrf_matches(&req, &form) {
                Ok(form)
            } else {
                Err(AppError::Csrf)
            }
        })
    }
}
