//! One error type at the edge: a stable snake_case code, a human message in the
//! reader's language, per-field reasons for validation, and nothing internal in a 5xx.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::i18n::Lang;

mod render;

pub use render::render_errors;

/// Why one field was refused: a stable code (`required`, `too_long`, …) with its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub code: &'static str,
    /// Fills `{n}` in the message, e.g. the largest allowed length.
    pub n: Option<i64>,
}

impl FieldError {
    pub fn new(code: &'static str) -> FieldError {
        FieldError { code, n: None }
    }
    pub fn with_n(code: &'static str, n: i64) -> FieldError {
        FieldError { code, n: Some(n) }
    }
}

/// Field errors gathered while parsing a request; empty means valid.
#[derive(Debug, Default, Clone)]
pub struct FieldErrors(pub BTreeMap<String, FieldError>);

impl FieldErrors {
    pub fn new() -> FieldErrors {
        FieldErrors::default()
    }

    pub fn add(&mut self, field: impl Into<String>, error: FieldError) {
        self.0.entry(field.into()).or_insert(error);
    }

    /// Keeps the value when it parsed, records the field's error when it did not.
    pub fn take<T>(&mut self, field: &str, parsed: Result<T, FieldError>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(e) => {
                self.add(field, e);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when nothing was refused, else the 422 to return.
    pub fn into_result(self) -> Result<(), AppError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self))
        }
    }
}

/// A row of a bulk input (a CSV file) that was refused.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RowError {
    /// The line of a CSV file (the header is line 1), or the row number Excel shows.
    pub line: usize,
    pub field: String,
    pub code: String,
    /// Says it all in the request's language: the column's name, the value, the reason and,
    /// for a list, the accepted values.
    pub message: String,
    /// The column's name in the request's language ("Nhóm"), when a value was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// The refused value as found in the file (long values cut short).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The accepted values (a list column's, or the known columns for `unknown_column`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<String>,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    #[error("validation failed")]
    Validation(FieldErrors),
    #[error("bad rows")]
    InvalidRows {
        code: &'static str,
        rows: Vec<RowError>,
    },
    #[error("bad request: {code}")]
    BadRequest {
        code: &'static str,
        detail: Option<String>,
    },
    #[error("unauthorized")]
    Unauthorized,
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("csrf check failed")]
    Csrf,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("forbidden")]
    Forbidden,
    /// Refused for a reason worth naming (e.g. `self_registration_closed`).
    #[error("forbidden: {0}")]
    ForbiddenBecause(&'static str),
    #[error("not found")]
    NotFound,
    /// Not there, for a reason a client should tell apart (e.g. `unknown_code` at the door).
    #[error("not found: {0}")]
    NotFoundBecause(&'static str),
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("rate limited")]
    RateLimited { retry_after_seconds: u64 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Full for now, for a reason a client should tell apart (e.g. `too_many_listeners`);
    /// answered 503 with `Retry-After`.
    #[error("busy: {code}")]
    Busy {
        code: &'static str,
        retry_after_seconds: u64,
    },
    /// Anything else. The text is logged, never sent.
    #[error("unexpected: {0}")]
    Unexpected(String),
}

/// The JSON envelope of every error: `{"error": {"code", "message", …}}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable snake_case code for programs.
    pub code: String,
    /// Human text in the reader's language (Vietnamese unless English was asked for).
    pub message: String,
    /// Per-field reasons, for 422.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
    /// Per-field stable codes, matching `fields`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub field_codes: BTreeMap<String, String>,
    /// Refused rows of a bulk import.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<Vec<RowError>>,
    /// Quote this to support; it finds the log lines of the failed request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl AppError {
    pub fn unexpected(detail: impl Into<String>) -> AppError {
        AppError::Unexpected(detail.into())
    }

    pub fn field(field: &str, error: FieldError) -> AppError {
        let mut errors = FieldErrors::new();
        errors.add(field, error);
        AppError::Validation(errors)
    }

    pub fn from_pool(e: diesel::r2d2::PoolError) -> AppError {
        AppError::Unavailable(format!("database pool: {e}"))
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Validation(_) => "validation_failed",
            AppError::InvalidRows { code, .. } => code,
            AppError::BadRequest { code, .. } => code,
            AppError::Unauthorized => "unauthorized",
            AppError::InvalidCredentials => "invalid_credentials",
            AppError::Csrf => "csrf_failed",
            AppError::MethodNotAllowed => "method_not_allowed",
            AppError::Forbidden => "forbidden",
            AppError::ForbiddenBecause(code) => code,
            AppError::NotFound => "not_found",
            AppError::NotFoundBecause(code) => code,
            AppError::Conflict(code) => code,
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::UnsupportedMediaType => "unsupported_media_type",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::Unavailable(_) => "service_unavailable",
            AppError::Busy { code, .. } => code,
            AppError::Unexpected(_) => "internal_error",
        }
    }

    /// The body in one language, with the request id on server errors.
    pub fn envelope(&self, lang: Lang, request_id: Option<String>) -> ErrorEnvelope {
        let mut fields = BTreeMap::new();
        let mut field_codes = BTreeMap::new();
        if let AppError::Validation(errors) = self {
            for (name, e) in &errors.0 {
                let text = lang.text(&format!("field.{}", e.code));
                let text = match e.n {
                    Some(n) => text.replace("{n}", &n.to_string()),
                    None => text,
                };
                fields.insert(name.clone(), text);
                field_codes.insert(name.clone(), e.code.to_string());
            }
        }
        let mut message = lang.text(&format!("error.{}", self.code()));
        if let AppError::BadRequest {
            detail: Some(d), ..
        } = self
        {
            message = format!("{message} ({d})");
        }
        let rows = match self {
            AppError::InvalidRows { rows, .. } => Some(rows.clone()),
            _ => None,
        };
        let server_side = self.status_code().is_server_error();
        ErrorEnvelope {
            error: ErrorBody {
                code: self.code().to_string(),
                message,
                fields,
                field_codes,
                rows,
                request_id: if server_side { request_id } else { None },
            },
        }
    }

    pub fn to_response(&self, lang: Lang, request_id: Option<String>) -> HttpResponse {
        let mut builder = HttpResponse::build(self.status_code());
        if let AppError::RateLimited {
            retry_after_seconds,
        }
        | AppError::Busy {
            retry_after_seconds,
            ..
        } = self
        {
            builder.insert_header(("Retry-After", retry_after_seconds.to_string()));
        }
        builder.json(self.envelope(lang, request_id))
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::Validation(_) | AppError::InvalidRows { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Unauthorized | AppError::InvalidCredentials => StatusCode::UNAUTHORIZED,
            AppError::Csrf | AppError::ForbiddenBecause(_) => StatusCode::FORBIDDEN,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::NotFound | AppError::NotFoundBecause(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) | AppError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Vietnamese by default; `app::render_errors` re-renders it in the request's language
    /// and adds the request id, because only the middleware sees the request.
    fn error_response(&self) -> HttpResponse {
        self.to_response(Lang::Vi, None)
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> AppError {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => AppError::NotFound,
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                AppError::Conflict("already_exists")
            }
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                AppError::Unavailable("transaction conflict, retry".into())
            }
            other => AppError::Unexpected(format!("database: {other}")),
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> AppError {
        AppError::from_pool(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_never_carry_their_cause() {
        let err = AppError::unexpected("password=hunter2 at /srv/db");
        let body = serde_json::to_string(&err.envelope(Lang::En, Some("rid-1".into()))).unwrap();
        assert!(!body.contains("hunter2"), "{body}");
        assert!(body.contains("internal_error"));
        assert!(body.contains("rid-1"));
    }

    #[test]
    fn validation_names_each_field_in_the_readers_language() {
        let mut errors = FieldErrors::new();
        errors.add("title", FieldError::new("required"));
        errors.add("capacity", FieldError::with_n("too_small", 1));
        let err = AppError::Validation(errors);
        let vi = err.envelope(Lang::Vi, None).error;
        let en = err.envelope(Lang::En, None).error;
        assert_eq!(vi.field_codes["title"], "required");
        assert_ne!(vi.fields["title"], en.fields["title"]);
        assert!(
            en.fields["capacity"].contains('1'),
            "{}",
            en.fields["capacity"]
        );
    }

    #[test]
    fn a_missing_row_is_not_found_and_a_broken_database_is_not() {
        assert!(matches!(
            AppError::from(diesel::result::Error::NotFound),
            AppError::NotFound
        ));
        let broken = diesel::result::Error::BrokenTransactionManager;
        assert!(matches!(AppError::from(broken), AppError::Unexpected(_)));
    }
}
