//! Staff accounts as stored: the persistence triplet for `users` and `auth_tokens`.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::schema::{auth_tokens, users};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Organizer,
    Agency,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Organizer, Role::Agency];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Organizer => "organizer",
            Role::Agency => "agency",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: String,
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
        Role::parse(&self.role).unwrap_or(Role::Agency)
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub agency_id: Option<String>,
    pub password_hash: Option<String>,
    pub language: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What a token is for: a login session, or a one-time link to set a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    Session,
    PasswordSetup,
}

impl TokenPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::Session => "session",
            TokenPurpose::PasswordSetup => "password_setup",
        }
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = auth_tokens)]
pub struct NewToken {
    pub id: String,
    pub user_id: String,
    pub purpose: String,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}
