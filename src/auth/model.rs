//! Staff accounts as stored: the persistence triplet for `users` and `auth_tokens`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{auth_tokens, users};

crate::text_enum! {
    pub enum Role {
        Admin = "admin",
        Organizer = "organizer",
        Agency = "agency",
    }
}

impl Role {}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub agency_id: Option<String>,
    pub password_hash: Option<String>,
    pub language: String,
    pub disabled_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl User {
    /// Rows are written only through `Role::as_str`; an unknown value reads as the least powerful role.
    pub fn role(&self) -> Role {
        self.role
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub agency_id: Option<String>,
    pub password_hash: Option<String>,
    pub language: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

crate::text_enum! {
    /// What a token is for: a login session, or a one-time link to set a password.
    pub enum TokenPurpose {
        Session = "session",
        PasswordSetup = "password_setup",
    }
}

impl TokenPurpose {}

#[derive(Debug, Insertable)]
#[diesel(table_name = auth_tokens)]
pub struct NewToken {
    pub id: String,
    pub user_id: String,
    pub purpose: TokenPurpose,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}
