//! Shared pieces of the JSON API: a JSON body extractor with the API's error envelope, paging,
//! and path ids that are never a 5xx.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{FromRequest, HttpRequest, web};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{AppError, FieldError, FieldErrors};

pub mod schema;

/// Bodies larger than this are refused with 413.
pub const JSON_LIMIT: usize = 1024 * 1024;

/// A JSON request body. Malformed JSON → 400 `malformed_json`; a value of the wrong type or
/// a missing field → 422 naming the field; over 1 MiB → 413; not JSON → 415.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<ApiJson<T>, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|v| v.starts_with("application/json") || v.ends_with("+json"));
        let declared_too_large = req
            .headers()
            .get(actix_web::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok())
            .is_some_and(|n| n > JSON_LIMIT);
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if declared_too_large {
                return Err(AppError::PayloadTooLarge);
            }
            if !content_type_ok {
                return Err(AppError::UnsupportedMediaType);
            }
            let bytes =
                body.await
                    .map_err(|e| match e.as_response_error().status_code().as_u16() {
                        413 => AppError::PayloadTooLarge,
                        _ => AppError::BadRequest {
                            code: "malformed_json",
                            detail: None,
                        },
                    })?;
            parse_json(&bytes).map(ApiJson)
        })
    }
}

/// Reads a whole request body of any type, refusing more than `limit` bytes with 413.
pub async fn read_body(
    mut payload: actix_web::web::Payload,
    limit: usize,
) -> Result<web::Bytes, AppError> {
    use futures_util::StreamExt;
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| AppError::BadRequest {
            code: "bad_request",
            detail: None,
        })?;
        if body.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Parses JSON, telling syntax errors (400) from data errors (422 with the field's path).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        (Some(path), err.into_inner())
    });
    let result = parsed.and_then(|value| de.end().map(|_| value).map_err(|e| (None, e)));
    match result {
        Ok(value) => Ok(value),
        Err((path, inner)) if inner.is_data() => {
            let message = inner.to_string();
            let path = path.filter(|p| p != "." && !p.is_empty());
            let field = match (path, missing_field(&message)) {
                (Some(path), Some(missing)) => format!("{path}.{missing}"),
                (Some(path), None) => path,
                (None, Some(missing)) => missing,
                (None, None) => "body".into(),
            };
            let code = if message.starts_with("missing field") {
                "required"
            } else {
                "invalid_type"
            };
            Err(AppError::field(&field, FieldError::new(code)))
        }
        Err((_, inner)) => Err(AppError::BadRequest {
            code: "malformed_json",
            detail: Some(format!("line {}, column {}", inner.line(), inner.column())),
        }),
    }
}

/// serde reports a missing field at the parent's path; pull the field's name out of its message.
fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    Some(rest.split('`').next()?.to_string())
}

/// The values of the query parameters `names`, each allowed at most once. A repeated one is
/// 422 `repeated_parameter` on its name: `?per_page=-1&per_page=1` must not pass as either
/// value (nor, as it once did, as neither). Other parameters are not looked at.
pub fn single_parameters(query: &str, names: &[&str]) -> Result<HashMap<String, String>, AppError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query).map_err(|_| AppError::BadRequest {
            code: "bad_request",
            detail: None,
        })?;
    let mut values = HashMap::with_capacity(pairs.len());
    let mut errors = FieldErrors::new();
    for (name, value) in pairs {
        if !names.contains(&name.as_str()) {
            continue;
        }
        match values.entry(name) {
            Entry::Occupied(seen) => {
                errors.add(seen.key().clone(), FieldError::new("repeated_parameter"))
            }
            Entry::Vacant(slot) => {
                slot.insert(value);
            }
        }
    }
    errors.into_result()?;
    Ok(values)
}

/// `?page=1&per_page=50`, both optional, checked.
#[derive(Debug, Clone, Copy)]
pub struct Paging {
    pub page: i64,
    pub per_page: i64,
}

impl Paging {
    pub const MAX_PAGE: i64 = 1_000_000;
    pub const MAX_PER_PAGE: i64 = 200;

    pub fn offset(&self) -> i64 {
        (self.page - 1).saturating_mul(self.per_page)
    }

    /// Reads `page` and `per_page` from a query string. A parameter given more than once
    /// must be valid every time (the last one counts), so `?per_page=x&per_page=x` is a 422
    /// like `?per_page=x`, not the default.
    pub fn from_query(query: &str) -> Result<Paging, AppError> {
        let raw = single_parameters(query, &["page", "per_page"])?;
        let mut errors = FieldErrors::new();
        let page = match raw.get("page").map(String::as_str) {
            None | Some("") => Some(1),
            Some(text) => errors.take(
                "page",
                text.parse::<i64>()
                    .ok()
                    .filter(|n| (1..=1_000_000).contains(n))
                    .ok_or(FieldError::with_n("out_of_range_page", 1_000_000)),
            ),
        };
        let per_page = match raw.get("per_page").map(String::as_str) {
            None | Some("") => Some(50),
            Some(text) => errors.take(
                "per_page",
                text.parse::<i64>()
                    .ok()
                    .filter(|n| (1..=Self::MAX_PER_PAGE).contains(n))
                    .ok_or(FieldError::with_n(
                        "out_of_range_per_page",
                        Self::MAX_PER_PAGE,
                    )),
            ),
        };
        match (page, per_page) {
            (Some(page), Some(per_page)) if errors.is_empty() => Ok(Paging { page, per_page }),
            _ => Err(AppError::Validation(errors)),
        }
    }
}

/// The paging parameters as the OpenAPI document shows them (read by the `Paging` extractor).
/// An empty value (`?page=`) counts as absent.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PagingParams {
    /// The page, from 1 (default 1; empty is the default).
    #[param(schema_with = page_schema)]
    page: Option<i64>,
    /// Items per page, 1 to 200 (default 50; empty is the default).
    #[param(schema_with = per_page_schema)]
    per_page: Option<i64>,
}

fn paging_schema(max: i64) -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(utoipa::openapi::schema::SchemaFormat::KnownFormat(
                    utoipa::openapi::schema::KnownFormat::Int64,
                )))
                .minimum(Some(1))
                .maximum(Some(max)),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([""])),
        )
        .into()
}

fn page_schema() -> utoipa::openapi::schema::Schema {
    paging_schema(Paging::MAX_PAGE)
}

fn per_page_schema() -> utoipa::openapi::schema::Schema {
    paging_schema(Paging::MAX_PER_PAGE)
}

impl FromRequest for Paging {
    type Error = AppError;
    type Future = std::future::Ready<Result<Paging, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Paging::from_query(req.query_string()))
    }
}

/// A page of a list: `items`, `total`, `page`, `per_page` (docs/API_NOTES.md).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PageOf<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

impl<T> PageOf<T> {
    pub fn new(items: Vec<T>, total: i64, paging: Paging) -> PageOf<T> {
        PageOf {
            items,
            total,
            page: paging.page,
            per_page: paging.per_page,
        }
    }
}

/// The `?status=…` of a list, read once: a repeated `status` is 422 `repeated_parameter`.
/// Turn it into a status with [`status_filter`].
#[derive(Debug, Clone, Default)]
pub struct StatusParam(pub Option<String>);

impl FromRequest for StatusParam {
    type Error = AppError;
    type Future = std::future::Ready<Result<StatusParam, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            single_parameters(req.query_string(), &["status"])
                .map(|mut q| StatusParam(q.remove("status"))),
        )
    }
}

/// `?status=…` of a list: absent or empty means all; anything unknown is 422 on `status`.
pub fn status_filter<T>(
    raw: Option<&str>,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, AppError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => parse(s)
            .map(Some)
            .ok_or_else(|| AppError::field("status", FieldError::new("invalid_choice"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Body {
        title: String,
        capacity: i32,
    }

    #[test]
    fn syntax_errors_are_400_and_type_errors_name_the_field() {
        assert!(matches!(
            parse_json::<Body>(b"{\"title\": "),
            Err(AppError::BadRequest { .. })
        ));
        match parse_json::<Body>(br#"{"title": "x", "capacity": "many"}"#) {
            Err(AppError::Validation(f)) => assert!(f.0.contains_key("capacity"), "{f:?}"),
            other => panic!("{other:?}"),
        }
        match parse_json::<Body>(br#"{"capacity": 3}"#) {
            Err(AppError::Validation(f)) => assert_eq!(f.0["title"].code, "required"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn paging_refuses_nonsense() {
        assert_eq!(Paging::from_query("").unwrap().per_page, 50);
        assert_eq!(
            Paging::from_query("page=3&per_page=10").unwrap().offset(),
            20
        );
        for bad in [
            "page=0",
            "page=-1",
            "page=abc",
            "per_page=201",
            "per_page=0",
            "page=99999999999999999999",
            "per_page=-1&per_page=1",
            "page=1&page=x",
            "page=2&page=2",
        ] {
            assert!(Paging::from_query(bad).is_err(), "{bad}");
        }
        match Paging::from_query("per_page=-1&per_page=1&page=1&page=1") {
            Err(AppError::Validation(f)) => {
                assert_eq!(f.0["per_page"].code, "repeated_parameter");
                assert_eq!(f.0["page"].code, "repeated_parameter");
            }
            other => panic!("{other:?}"),
        }
    }
}
