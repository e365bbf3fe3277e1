//! One-time notices after a form post: the post stores the notice in a short-lived cookie
//! and redirects (303); the next page shows it and removes the cookie in the same response,
//! so a refresh neither repeats the action nor shows the notice again.
//!
//! The cookie is HttpOnly, `SameSite=Strict`, limited to `/staff` and two minutes, and is
//! read only by the staff page the post redirects to. It may carry a secret that is shown
//! once (a reissued link), which is why it never outlives the next page.

use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

const FLASH_COOKIE: &str = "doithoai_flash";

/// A 303 to `location` carrying `notice` for the page there.
pub fn redirect_with(req: &HttpRequest, location: &str, notice: &Value) -> HttpResponse {
    let mut response = super::see_other(location);
    let encoded = URL_SAFE_NO_PAD.encode(notice.to_string());
    let cookie = Cookie::build(FLASH_COOKIE, encoded)
        .path("/staff")
        .http_only(true)
        .secure(super::is_https(req))
        .same_site(SameSite::Strict)
        .max_age(time::Duration::minutes(2))
        .finish();
    response.add_cookie(&cookie).ok();
    response
}

/// The notice left by the last post, if any (pair with [`forget`] on the response).
pub fn peek(req: &HttpRequest) -> Option<Value> {
    let cookie = req.cookie(FLASH_COOKIE)?;
    let bytes = URL_SAFE_NO_PAD.decode(cookie.value()).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Removes the notice from the browser, so it is shown once.
pub fn forget(response: &mut HttpResponse) {
    let mut cookie = Cookie::build(FLASH_COOKIE, "").path("/staff").finish();
    cookie.make_removal();
    response.add_cookie(&cookie).ok();
}
