//! `/api/v1/auth/*` and `/api/v1/users`

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ops::{self, AccountInput, UserView};
use crate::auth::{Admin, Staff, store};
use crate::db::UserId;
use crate::error::{AppError, ErrorEnvelope};
use crate::json::{ApiJson, PageOf, Paging, PagingParams};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginInput {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginOutput {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    pub user: UserView,
}

/// Exchanges email and password for a bearer token.
#[utoipa::path(
    tag = "auth",
    operation_id = "auth_login",
    request_body = LoginInput,
    responses(
        (status = 200, body = LoginOutput),
        (status = 401, description = "`invalid_credentials`: a wrong email or password", body = ErrorEnvelope),
        (status = 429, description = "`rate_limited`: too many attempts from this address; see `Retry-After`", body = ErrorEnvelope,
            headers(("Retry-After" = u64, description = "seconds to wait"))),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    body: ApiJson<LoginInput>,
) -> Result<HttpResponse, AppError> {
    let ip = crate::ratelimit::client_ip(&req, state.settings.trusted_proxy);
    let (token, user) = ops::log_in(&state, ip, body.0.email, body.0.password).await?;
    Ok(HttpResponse::Ok().json(LoginOutput {
        token,
        expires_at: chrono::Utc::now() + state.settings.session_lifetime,
        user: UserView::from(&user),
    }))
}

/// Revokes the token this request carries.
#[utoipa::path(
    tag = "auth",
    operation_id = "auth_logout",
    responses((status = 204, description = "the token is revoked")),
    security(("bearer" = []))
)]
#[post("/auth/logout")]
pub async fn logout(state: web::Data<AppState>, staff: Staff) -> Result<HttpResponse, AppError> {
    state
        .db
        .write(move |conn| Ok(store::revoke_token(conn, &staff.token_id)?))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in staff member.
#[utoipa::path(
    tag = "auth",
    operation_id = "auth_me",
    responses((status = 200, body = UserView)),
    security(("bearer" = []))
)]
#[get("/auth/me")]
pub async fn me(staff: Staff) -> HttpResponse {
    HttpResponse::Ok().json(UserView::from(&staff.user))
}

/// Creates a staff account (admin only).
#[utoipa::path(
    tag = "users",
    operation_id = "users_create",
    request_body = AccountInput,
    responses(
        (status = 201, body = UserView),
        (status = 403, description = "`forbidden`: not an administrator", body = ErrorEnvelope),
        (status = 409, description = "`email_taken`; `already_exists` when two requests race", body = ErrorEnvelope),
        (status = 422, description = "`validation_failed`, including `unknown_agency` and `only_for_agency` on `agency_id`", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    Admin(admin): Admin,
    body: ApiJson<AccountInput>,
) -> Result<HttpResponse, AppError> {
    let user = ops::create_account(&state, body.0, &admin).await?;
    Ok(HttpResponse::Created().json(UserView::from(&user)))
}

/// Lists staff accounts (admin only).
#[utoipa::path(
    tag = "users",
    operation_id = "users_list",
    params(PagingParams),
    responses(
        (status = 200, body = PageOf<UserView>),
        (status = 403, description = "`forbidden`: not an administrator", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[get("/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    _admin: Admin,
    paging: Paging,
) -> Result<HttpResponse, AppError> {
    let (users, total) = state
        .db
        .read(move |conn| Ok(store::list_users(conn, paging.offset(), paging.per_page)?))
        .await?;
    let items = users.iter().map(UserView::from).collect();
    Ok(HttpResponse::Ok().json(PageOf::new(items, total, paging)))
}

/// Emails the user a new one-time link to set a password (first login or a forgotten
/// password). Earlier links stop working; the current password keeps working until changed.
#[utoipa::path(
    tag = "users",
    operation_id = "users_password_link",
    params(("id" = uuid::Uuid, Path, description = "the user's id")),
    responses(
        (status = 202, description = "the email is queued"),
        (status = 403, description = "`forbidden`: not an administrator", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such user", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/users/{id}/password-link")]
pub async fn password_link(
    state: web::Data<AppState>,
    Admin(admin): Admin,
    id: web::Path<UserId>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    ops::send_link(&state, &id, &admin).await?;
    Ok(HttpResponse::Accepted().finish())
}
