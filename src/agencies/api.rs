//! `/api/v1/agencies`

use actix_web::{HttpResponse, get, post, web};

use super::model::{AgencyInput, AgencyView};
use super::store;
use crate::auth::{Organizer, Staff};
use crate::error::{AppError, ErrorEnvelope};
use crate::json::{ApiJson, PageOf, Paging, PagingParams};
use crate::state::AppState;

/// Adds an agency or business to the directory.
#[utoipa::path(
    tag = "agencies",
    operation_id = "agencies_create",
    request_body = AgencyInput,
    responses(
        (status = 201, body = AgencyView),
        (status = 403, description = "`forbidden`: not an organizer or administrator", body = ErrorEnvelope),
        (status = 409, description = "`agency_exists`: an agency with this name exists; `already_exists` when two requests race", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/agencies")]
pub async fn create(
    state: web::Data<AppState>,
    _organizer: Organizer,
    body: ApiJson<AgencyInput>,
) -> Result<HttpResponse, AppError> {
    let new = body.0.parse()?;
    let created = state
        .db
        .write(move |conn| {
            store::insert(conn, &new)?;
            store::find(conn, &new.id)?.ok_or(AppError::NotFound)
        })
        .await?;
    Ok(HttpResponse::Created().json(AgencyView::from(created)))
}

/// Lists agencies by name.
#[utoipa::path(
    tag = "agencies",
    operation_id = "agencies_list",
    params(PagingParams),
    responses((status = 200, body = PageOf<AgencyView>)),
    security(("bearer" = []))
)]
#[get("/agencies")]
pub async fn list(
    state: web::Data<AppState>,
    _staff: Staff,
    paging: Paging,
) -> Result<HttpResponse, AppError> {
    let (items, total) = state
        .db
        .read(move |conn| Ok(store::list(conn, paging.offset(), paging.per_page)?))
        .await?;
    let items = items.into_iter().map(AgencyView::from).collect();
    Ok(HttpResponse::Ok().json(PageOf::new(items, total, paging)))
}
