//! Sign-in and sign-out pages (an HttpOnly session cookie), setting a password from an
//! emailed link, and the administrator's page of staff accounts.

use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use minijinja::{Value, context};
use serde::Deserialize;

use super::ops::{self, AccountInput, UserView};
use super::ops::{create_account, log_in, send_link};
use crate::agencies;
use crate::auth::{Admin, Role, SESSION_COOKIE, Staff, User, secrets, store};
use crate::db::UserId;
use crate::error::{AppError, FieldError};
use crate::html::pager::{self, Pager};
use crate::html::{PageForm, render, safe_next, see_other};
use crate::i18n::Lang;
use crate::ratelimit::client_ip;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
    done: Option<String>,
}

#[get("/login")]
pub async fn login_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of_request(&req);
    let notice = match query.done.as_deref() {
        Some("logout") => Some(lang.text("login.logged_out")),
        Some("password") => Some(lang.text("password.done")),
        _ => None,
    };
    render(
        &state,
        &req,
        None,
        "login.html",
        context! { next => safe_next(query.next.as_deref()), email => "", notice => notice },
    )
}

fn session_cookie(state: &AppState, token: String) -> Cookie<'static> {
    let seconds = state.settings.session_lifetime.num_seconds();
    Cookie::build(SESSION_COOKIE, token)
        .path("/")
        .http_only(true)
        .secure(state.settings.base_url.scheme() == "https")
        .same_site(SameSite::Lax)
        .max_age(time::Duration::seconds(seconds))
        .finish()
}

/// Where a staff member starts after signing in: agency staff answer questions from their
/// inbox; the dashboard (`/staff`) is where organizers and administrators run dialogues.
fn home_of(user: &User) -> &'static str {
    match user.role() {
        Role::Agency => "/staff/assignments",
        Role::Organizer | Role::Admin => "/staff",
    }
}

#[post("/login")]
pub async fn login_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: PageForm,
) -> Result<HttpResponse, AppError> {
    let ip = client_ip(&req, state.settings.trusted_proxy);
    // The value as sent, untrimmed: safe_next judges exactly what would be redirected to.
    // Empty and "/" mean "nowhere in particular": the staff member's own start page then.
    let next = match form.get("next") {
        "" | "/" => None,
        raw => Some(safe_next(Some(raw))).filter(|n| n != "/"),
    };
    match log_in(
        &state,
        ip,
        form.get("email").to_string(),
        form.get("password").to_string(),
    )
    .await
    {
        Ok((token, user)) => {
            let target = next.unwrap_or_else(|| home_of(&user).to_string());
            let mut res = see_other(&target);
            res.add_cookie(&session_cookie(&state, token)).ok();
            Ok(res)
        }
        Err(AppError::InvalidCredentials) => {
            let lang = Lang::of_request(&req);
            let next = next.unwrap_or_else(|| "/".to_string());
            let mut res = render(
                &state,
                &req,
                None,
                "login.html",
                context! { next => next, email => form.get("email"), failed => lang.text("login.failed") },
            )?;
            *res.status_mut() = actix_web::http::StatusCode::UNAUTHORIZED;
            Ok(res)
        }
        Err(other) => Err(other),
    }
}

#[post("/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    staff: Staff,
    _form: PageForm,
) -> Result<HttpResponse, AppError> {
    state
        .db
        .write(move |conn| Ok(store::revoke_token(conn, &staff.token_id)?))
        .await?;
    let mut res = see_other("/login?done=logout");
    let mut gone = Cookie::build(SESSION_COOKIE, "").path("/").finish();
    gone.make_removal();
    res.add_cookie(&gone).ok();
    Ok(res)
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

#[get("/account/password")]
pub async fn password_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<TokenQuery>,
) -> Result<HttpResponse, AppError> {
    let token = query.token.clone().unwrap_or_default();
    let hash = secrets::hash_token(&token);
    let valid = state
        .db
        .read(move |conn| Ok(store::find_password_setup(conn, &hash, crate::db::now())?.is_some()))
        .await?;
    render(
        &state,
        &req,
        None,
        "password_setup.html",
        context! { token => token, valid => valid },
    )
}

#[post("/account/password")]
pub async fn password_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: PageForm,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of_request(&req);
    let token = form.get("token").to_string();
    let problem = if form.get("password") != form.get("repeat") {
        Some(lang.text("password.mismatch"))
    } else {
        ops::check_password(form.get("password")).err().map(|e| {
            AppError::field("password", e)
                .envelope(lang, None)
                .error
                .fields
                .into_values()
                .collect()
        })
    };
    if let Some(error) = problem {
        let mut res = render(
            &state,
            &req,
            None,
            "password_setup.html",
            context! { token => token, valid => true, error => error },
        )?;
        *res.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(res);
    }
    let password = form.get("password").to_string();
    let hash = web::block(move || secrets::hash_password(&password))
        .await
        .map_err(|e| AppError::unexpected(e.to_string()))??;
    match state
        .db
        .write(move |conn| ops::set_password_from_link(conn, &token, &hash))
        .await
    {
        Ok(_) => Ok(see_other("/login?done=password")),
        Err(AppError::Conflict("link_expired")) => render(
            &state,
            &req,
            None,
            "password_setup.html",
            context! { token => "", valid => false },
        ),
        Err(other) => Err(other),
    }
}

/// Staff accounts per page of the administrator's list (by name).
pub const USERS_PER_PAGE: i64 = 100;

async fn users_view(
    state: &AppState,
    req: &HttpRequest,
    admin: &Staff,
    values: Value,
    errors: Value,
    notice: Option<String>,
) -> Result<HttpResponse, AppError> {
    let requested = pager::requested(req.query_string(), "page");
    let (users, agencies, pager) = state
        .db
        .read(move |conn| {
            let offset = (requested - 1) * USERS_PER_PAGE;
            let (mut users, total) = store::list_users(conn, offset, USERS_PER_PAGE)?;
            let pager = Pager::new(requested, USERS_PER_PAGE, total);
            if pager.offset() != offset {
                users = store::list_users(conn, pager.offset(), USERS_PER_PAGE)?.0;
            }
            // For the names and the dropdown: a province has tens of agencies, not thousands.
            let (agencies, _) = agencies::store::list(conn, 0, 1000)?;
            Ok((users, agencies, pager))
        })
        .await?;
    let rows: Vec<Value> = users
        .iter()
        .map(|u| {
            let agency = agencies
                .iter()
                .find(|a| Some(&a.id) == u.agency_id.as_ref())
                .map(|a| a.name.clone());
            let view = UserView::from(u);
            context! { id => view.id, name => view.name, email => view.email, role => view.role, agency => agency }
        })
        .collect();
    let agency_options: Vec<Value> = agencies
        .iter()
        .map(|a| context! { id => &a.id, name => &a.name })
        .collect();
    render(
        state,
        req,
        Some(admin),
        "staff/users.html",
        context! {
            users => rows, agencies => agency_options, v => values, errors => errors, notice => notice,
            pager => pager.context(req.query_string(), "page"),
        },
    )
}

#[get("/staff/users")]
pub async fn users_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    Admin(admin): Admin,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of_request(&req);
    let notice = if req.query_string().contains("done=created") {
        Some(lang.text("users.created"))
    } else if req.query_string().contains("done=link") {
        Some(lang.text("users.link_sent"))
    } else {
        None
    };
    users_view(
        &state,
        &req,
        &admin,
        context! { role => "organizer" },
        context! {},
        notice,
    )
    .await
}

#[post("/staff/users")]
pub async fn users_create(
    state: web::Data<AppState>,
    req: HttpRequest,
    Admin(admin): Admin,
    form: PageForm,
) -> Result<HttpResponse, AppError> {
    let input = AccountInput {
        email: form.get("email").into(),
        name: form.get("name").into(),
        role: form.get("role").into(),
        agency_id: form.opt("agency_id"),
        password: form.opt("password"),
        language: Some(Lang::of_request(&req).code().into()),
    };
    match create_account(&state, input, &admin).await {
        Ok(_) => Ok(see_other("/staff/users?done=created")),
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_))) => {
            let lang = Lang::of_request(&req);
            let e = match e {
                AppError::Conflict("email_taken") => {
                    AppError::field("email", FieldError::new("email_taken"))
                }
                other => other,
            };
            let errors = e.envelope(lang, None).error.fields;
            let values = context! { email => form.get("email"), name => form.get("name"), role => form.get("role"), agency_id => form.get("agency_id") };
            let mut res = users_view(
                &state,
                &req,
                &admin,
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

#[post("/staff/users/{id}/password-link")]
pub async fn users_password_link(
    state: web::Data<AppState>,
    Admin(admin): Admin,
    id: web::Path<UserId>,
    _form: PageForm,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    send_link(&state, &id, &admin).await?;
    Ok(see_other("/staff/users?done=link"))
}
