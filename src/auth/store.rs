//! Queries on `users` and `auth_tokens`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{NewToken, NewUser, Role, TokenPurpose, User};
use crate::db::schema::{auth_tokens, users};
use crate::db::{DbConnection, new_id, now};

/// The user and token id of a live session token (not expired, not revoked, user enabled).
pub fn find_session(
    conn: &mut DbConnection,
    token_hash: &str,
    at: NaiveDateTime,
) -> QueryResult<Option<(User, String)>> {
    auth_tokens::table
        .inner_join(users::table)
        .filter(auth_tokens::token_hash.eq(token_hash))
        .filter(auth_tokens::purpose.eq(TokenPurpose::Session.as_str()))
        .filter(auth_tokens::revoked_at.is_null())
        .filter(auth_tokens::expires_at.gt(at))
        .filter(users::disabled_at.is_null())
        .select((User::as_select(), auth_tokens::id))
        .first(conn)
        .optional()
}

pub fn find_user(conn: &mut DbConnection, id: &str) -> QueryResult<Option<User>> {
    users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()
}

pub fn find_user_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::email.eq(email))
        .select(User::as_select())
        .first(conn)
        .optional()
}

pub fn insert_user(conn: &mut DbConnection, new: &NewUser) -> QueryResult<()> {
    diesel::insert_into(users::table)
        .values(new)
        .execute(conn)
        .map(|_| ())
}

pub fn count_users(conn: &mut DbConnection) -> QueryResult<i64> {
    users::table.count().get_result(conn)
}

pub fn list_users(
    conn: &mut DbConnection,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<User>, i64)> {
    let total = count_users(conn)?;
    let items = users::table
        .order((users::name.asc(), users::id.asc()))
        .offset(offset)
        .limit(limit)
        .select(User::as_select())
        .load(conn)?;
    Ok((items, total))
}

pub fn set_password(
    conn: &mut DbConnection,
    user_id: &str,
    password_hash: &str,
) -> QueryResult<()> {
    diesel::update(users::table.find(user_id))
        .set((
            users::password_hash.eq(password_hash),
            users::updated_at.eq(now()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Stores a token's hash; the token itself is returned to its owner once and never stored.
pub fn insert_token(
    conn: &mut DbConnection,
    user_id: &str,
    purpose: TokenPurpose,
    token_hash: &str,
    lifetime: chrono::Duration,
) -> QueryResult<()> {
    let created_at = now();
    let row = NewToken {
        id: new_id(),
        user_id: user_id.to_string(),
        purpose,
        token_hash: token_hash.to_string(),
        created_at,
        expires_at: created_at + lifetime,
    };
    diesel::insert_into(auth_tokens::table)
        .values(&row)
        .execute(conn)
        .map(|_| ())
}

pub fn revoke_token(conn: &mut DbConnection, token_id: &str) -> QueryResult<()> {
    diesel::update(auth_tokens::table.find(token_id))
        .set(auth_tokens::revoked_at.eq(now()))
        .execute(conn)
        .map(|_| ())
}

/// The user of a live one-time password-setup token.
pub fn find_password_setup(
    conn: &mut DbConnection,
    token_hash: &str,
    at: NaiveDateTime,
) -> QueryResult<Option<(User, String)>> {
    auth_tokens::table
        .inner_join(users::table)
        .filter(auth_tokens::token_hash.eq(token_hash))
        .filter(auth_tokens::purpose.eq(TokenPurpose::PasswordSetup.as_str()))
        .filter(auth_tokens::revoked_at.is_null())
        .filter(auth_tokens::expires_at.gt(at))
        .select((User::as_select(), auth_tokens::id))
        .first(conn)
        .optional()
}

/// Ends every unused password-setup link of the user.
pub fn revoke_password_links(conn: &mut DbConnection, user_id: &str) -> QueryResult<()> {
    diesel::update(
        auth_tokens::table
            .filter(auth_tokens::user_id.eq(user_id))
            .filter(auth_tokens::purpose.eq(TokenPurpose::PasswordSetup.as_str()))
            .filter(auth_tokens::revoked_at.is_null()),
    )
    .set(auth_tokens::revoked_at.eq(now()))
    .execute(conn)
    .map(|_| ())
}

/// The active accounts of an agency's staff (who get its assignment emails).
pub fn agency_staff(conn: &mut DbConnection, agency_id: &str) -> QueryResult<Vec<User>> {
    users::table
        .filter(users::agency_id.eq(agency_id))
        .filter(users::role.eq(Role::Agency.as_str()))
        .filter(users::disabled_at.is_null())
        .order(users::email.asc())
        .select(User::as_select())
        .load(conn)
}

/// The active organizers (told of declined and overdue assignments when a dialogue has no
/// creator on record).
pub fn organizers(conn: &mut DbConnection) -> QueryResult<Vec<User>> {
    users::table
        .filter(users::role.eq(Role::Organizer.as_str()))
        .filter(users::disabled_at.is_null())
        .order(users::email.asc())
        .select(User::as_select())
        .load(conn)
}
