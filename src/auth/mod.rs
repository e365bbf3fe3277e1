//! Who is asking: staff identities (bearer token or session cookie) as extractors,
//! role checks in one place, password hashing and tokens stored hashed.

pub mod model;
pub mod secrets;
pub mod store;

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};

pub use model::{Role, User};

use crate::error::AppError;
use crate::state::AppState;

/// The HttpOnly cookie that carries a staff session token for the pages.
pub const SESSION_COOKIE: &str = "doithoai_session";

/// A signed-in staff member.
#[derive(Debug, Clone)]
pub struct Staff {
    pub user: User,
    /// The id of the token row that authenticated this request (for logout).
    pub token_id: String,
}

impl Staff {
    pub fn role(&self) -> Role {
        self.user.role()
    }

    /// Organizers run dialogues; administrators may do everything organizers do.
    pub fn can_organize(&self) -> bool {
        matches!(self.role(), Role::Organizer | Role::Admin)
    }
}

/// The token of an `Authorization: Bearer <token>` header, trimmed, or `None` when the
/// header is absent, not text or of another scheme. The one place the header is read, so
/// staff sessions and participants' links and codes are parsed alike.
pub fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?;
    Some(token.trim().to_string())
}

/// The credential a request carries. The API takes only `Authorization: Bearer`; the
/// cookie is read only for pages, so a cross-site form can never drive the API.
fn credential(req: &HttpRequest) -> Option<String> {
    // A header of another scheme is still a header: the cookie is not consulted then.
    if req.headers().contains_key(AUTHORIZATION) {
        return bearer(req);
    }
    if req.path().starts_with("/api/") {
        return None;
    }
    req.cookie(SESSION_COOKIE).map(|c| c.value().to_string())
}

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, AppError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::unexpected("application state missing"))
}

/// Resolves the request's credential to a staff member, or `None` when there is none.
/// A credential that is present but wrong is an error, not an anonymous request.
async fn resolve(req: &HttpRequest) -> Result<Option<Staff>, AppError> {
    let Some(token) = credential(req) else {
        return Ok(None);
    };
    let state = state(req)?;
    let hash = secrets::hash_token(&token);
    let found = state
        .db
        .read(move |conn| {
            store::find_session(conn, &hash, crate::db::now()).map_err(AppError::from)
        })
        .await?;
    match found {
        Some((user, token_id)) => Ok(Some(Staff { user, token_id })),
        None => Err(AppError::Unauthorized),
    }
}

type Extracted<T> = Pin<Box<dyn Future<Output = Result<T, AppError>>>>;

impl FromRequest for Staff {
    type Error = AppError;
    type Future = Extracted<Staff>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { resolve(&req).await?.ok_or(AppError::Unauthorized) })
    }
}

/// Anyone; staff are recognised when they present a credential.
pub struct MaybeStaff(pub Option<Staff>);

impl MaybeStaff {
    pub fn can_organize(&self) -> bool {
        self.0.as_ref().is_some_and(Staff::can_organize)
    }
}

impl FromRequest for MaybeStaff {
    type Error = AppError;
    type Future = Extracted<MaybeStaff>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        // A stale cookie or token must not lock anyone out of public pages: treat it as anonymous.
        Box::pin(async move {
            match resolve(&req).await {
                Ok(staff) => Ok(MaybeStaff(staff)),
                Err(AppError::Unauthorized) if !req.path().starts_with("/api/") => {
                    Ok(MaybeStaff(None))
                }
                Err(other) => Err(other),
            }
        })
    }
}

/// An organizer (or administrator).
pub struct Organizer(pub Staff);

impl FromRequest for Organizer {
    type Error = AppError;
    type Future = Extracted<Organizer>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let staff = Staff::from_request(req, payload);
        Box::pin(async move {
            let staff = staff.await?;
            if staff.can_organize() {
                Ok(Organizer(staff))
            } else {
                Err(AppError::Forbidden)
            }
        })
    }
}

/// An administrator.
pub struct Admin(pub Staff);

impl FromRequest for Admin {
    type Error = AppError;
    type Future = Extracted<Admin>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let staff = Staff::from_request(req, payload);
        Box::pin(async move {
            let staff = staff.await?;
            if staff.role() == Role::Admin {
                Ok(Admin(staff))
            } else {
                Err(AppError::Forbidden)
            }
        })
    }
}

/// A member of an agency's staff, with the agency they act for.
pub struct AgencyMember {
    pub staff: Staff,
    pub agency_id: String,
}

impl FromRequest for AgencyMember {
    type Error = AppError;
    type Future = Extracted<AgencyMember>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let staff = Staff::from_request(req, payload);
        Box::pin(async move {
            let staff = staff.await?;
            match (staff.role(), staff.user.agency_id.clone()) {
                (Role::Agency, Some(agency_id)) => Ok(AgencyMember { staff, agency_id }),
                _ => Err(AppError::Forbidden),
            }
        })
    }
}
