//! The agency directory page: everyone on the staff reads it, organizers add to it.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use minijinja::{Value, context};

use super::model::{AgencyInput, AgencyView};
use super::store;
use crate::auth::{Organizer, Staff};
use crate::error::AppError;
use crate::html::pager::{self, Pager};
use crate::html::{PageForm, render, see_other};
use crate::i18n::Lang;
use crate::state::AppState;

async fn page(
    state: &AppState,
    req: &HttpRequest,
    staff: &Staff,
    values: Value,
    errors: Value,
    notice: Option<String>,
) -> Result<HttpResponse, AppError> {
    let requested = pager::requested(req.query_string(), "page");
    let (rows, pager) = state
        .db
        .read(move |conn| {
            let offset = (requested - 1) * PER_PAGE;
            let (mut rows, total) = store::list(conn, offset, PER_PAGE)?;
            let pager = Pager::new(requested, PER_PAGE, total);
            if pager.offset() != offset {
                rows = store::list(conn, pager.offset(), PER_PAGE)?.0;
            }
            Ok((rows, pager))
        })
        .await?;
    let agencies: Vec<AgencyView> = rows.into_iter().map(AgencyView::from).collect();
    render(
        state,
        req,
        Some(staff),
        "staff/agencies.html",
        context! {
            agencies => Value::from_serialize(&agencies), v => values, errors => errors, notice => notice,
            pager => pager.context(req.query_string(), "page"),
        },
    )
}

/// Agencies per page of the directory (by name).
pub const PER_PAGE: i64 = 100;

#[get("/staff/agencies")]
pub async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: Staff,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of_request(&req);
    let notice = req
        .query_string()
        .contains("done=created")
        .then(|| lang.text("agencies.created"));
    page(
        &state,
        &req,
        &staff,
        context! { kind => "government" },
        context! {},
        notice,
    )
    .await
}

#[post("/staff/agencies")]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    form: PageForm,
) -> Result<HttpResponse, AppError> {
    let input = AgencyInput {
        name: form.get("name").into(),
        short_name: form.opt("short_name"),
        kind: form.get("kind").into(),
        email: form.opt("email"),
    };
    let stored = match input.parse() {
        Ok(new) => state.db.write(move |conn| store::insert(conn, &new)).await,
        Err(e) => Err(e),
    };
    match stored {
        Ok(()) => Ok(see_other("/staff/agencies?done=created")),
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_))) => {
            let lang = Lang::of_request(&req);
            let envelope = e.envelope(lang, None).error;
            let mut errors = envelope.fields;
            if errors.is_empty() {
                errors.insert("name".into(), envelope.message);
            }
            let values = context! { name => form.get("name"), short_name => form.get("short_name"), kind => form.get("kind"), email => form.get("email") };
            let mut res = page(
                &state,
                &req,
                &staff,
                values,
                Value::from_serialize(&errors),
                None,
            )
            .await?;
            *res.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
        Err(other) => Err(other),
    }
}
