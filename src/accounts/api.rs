//! `/api/v1/auth/*` and `/api/v1/users`

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ops::{self, AccountInput, UserView};
use crate::auth::{Admin, Staff, store};
use crate::db::UserId;
use crate::error::{AppError, ErrorEnvelope};
use crate::json::{ApiJson, PageOf, Paging};
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
    request_body = LoginInput,
    responses(
        (status = 200, body = LoginOutput),
        (status = 401, description = "`invalid_credentials`", body = ErrorEnvelope),
        (status = 429, description = "too many attempts; see Retry-After", body = ErrorEnvelope),
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
#[utoipa::path(tag = "auth", responses((status = 204), (status = 401, body = ErrorEnvelope)), security(("bearer" = [])))]
#[post("/auth/logout")]
pub async fn logout(state: web::Data<AppState>, staff: Staff) -> Result<HttpResponse, AppError> {
    state
        .db
        .write(move |conn| Ok(store::revoke_token(conn, &staff.token_id)?))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in staff member.
#[utoipa::path(tag = "auth", responses((status = 200, body = UserView), (status = 401, body = ErrorEnvelope)), security(("bearer" = [])))]
#[get("/auth/me")]
pub async fn me(staff: Staff) -> HttpResponse {
    HttpResponse::Ok().json(UserView::from(&staff.user))
}

/// Creates a staff account (admin only).
#[utoipa::path(
    tag = "users",
    request_body = AccountInput,
    responses(
        (status = 201, body = UserView),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 409, description = "`email_taken`", body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope),
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
    params(("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, body = PageOf<UserView>), (status = 403, body = ErrorEnvelope)),
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
    params(("id" = String, Path)),
    responses((status = 202, description = "the email is queued"), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)),
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
