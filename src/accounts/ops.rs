//! Account operations shared by the API, the pages and the CLI.

use minijinja::context;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::agencies;
use crate::audit::{self, Actor};
use crate::auth::Staff;
use crate::auth::model::{NewUser, TokenPurpose};
use crate::auth::{Role, User, secrets, store};
use crate::config::Settings;
use crate::db::{DbConnection, new_id, now};
use crate::error::{AppError, FieldError, FieldErrors};
use crate::html::Templates;
use crate::i18n::Lang;
use crate::jobs::{NewEmail, enqueue_email};
use crate::json::schema;
use crate::state::AppState;
use crate::text;

/// How long the emailed link to set a first password works.
const PASSWORD_SETUP_HOURS: i64 = 72;
pub const MIN_PASSWORD: usize = 10;

/// The body of `POST /api/v1/users`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct AccountInput {
    #[schema(schema_with = schema::email)]
    pub email: String,
    #[schema(schema_with = schema::text::<200>)]
    pub name: String,
    /// `admin`, `organizer` or `agency`
    #[schema(value_type = Role)]
    pub role: String,
    /// An existing agency's id: required for `agency`, refused for the others.
    #[serde(default)]
    #[schema(schema_with = schema::optional_uuid)]
    pub agency_id: Option<String>,
    /// 10 to 200 characters, taken exactly as sent. Without it (or empty) the user is
    /// emailed a link to set one.
    #[serde(default)]
    #[schema(schema_with = password_schema)]
    pub password: Option<String>,
    /// `vi` (default) or `en`: the language of the emails this person gets.
    #[serde(default)]
    #[schema(schema_with = schema::language)]
    pub language: Option<String>,
}

fn password_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(MIN_PASSWORD))
                .max_length(Some(200)),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(0)),
        )
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .into()
}

#[derive(Debug, Clone)]
pub struct ValidAccount {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub agency_id: Option<String>,
    pub password: Option<String>,
    pub language: Lang,
}

pub fn check_password(password: &str) -> Result<String, FieldError> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(FieldError::with_n("too_short", MIN_PASSWORD as i64));
    }
    if password.chars().count() > 200 {
        return Err(FieldError::with_n("too_long", 200));
    }
    Ok(password.to_string())
}

impl AccountInput {
    pub fn validate(&self) -> Result<ValidAccount, AppError> {
        let mut errors = FieldErrors::new();
        let email = errors.take("email", text::email(&self.email));
        let name = errors.take("name", text::required(&self.name, 200));
        let role = errors.take(
            "role",
            Role::from_code(self.role.trim()).ok_or(FieldError::new("invalid_choice")),
        );
        let agency_id = self
            .agency_id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        match (role, agency_id) {
            (Some(Role::Agency), None) => errors.add("agency_id", FieldError::new("required")),
            (Some(Role::Admin | Role::Organizer), Some(_)) => {
                errors.add("agency_id", FieldError::new("only_for_agency"))
            }
            _ => {}
        }
        let password = match self.password.as_deref() {
            None | Some("") => Some(None),
            Some(p) => errors.take("password", check_password(p)).map(Some),
        };
        let language = match self.language.as_deref() {
            None | Some("") => Some(Lang::Vi),
            Some(code) => errors.take(
                "language",
                Lang::parse(code).ok_or(FieldError::new("invalid_choice")),
            ),
        };
        errors.into_result()?;
        match (email, name, role, password, language) {
            (Some(email), Some(name), Some(role), Some(password), Some(language)) => {
                Ok(ValidAccount {
                    email,
                    name,
                    role,
                    agency_id: agency_id.map(str::to_string),
                    password,
                    language,
                })
            }
            _ => Err(AppError::unexpected("account fields parsed without values")),
        }
    }
}

/// Creates the account. `password_hash` is computed by the caller outside the transaction.
/// Without a password, a one-time link is emailed so the person sets their own.
pub fn create(
    conn: &mut DbConnection,
    account: &ValidAccount,
    password_hash: Option<String>,
    actor: &Actor,
    mail: Option<(&Templates, &Settings)>,
) -> Result<User, AppError> {
    if store::find_user_by_email(conn, &account.email)?.is_some() {
        return Err(AppError::Conflict("email_taken"));
    }
    if let Some(agency_id) = &account.agency_id {
        let known = uuid::Uuid::parse_str(agency_id).is_ok()
            && agencies::store::find(conn, agency_id)?.is_some();
        if !known {
            return Err(AppError::field(
                "agency_id",
                FieldError::new("unknown_agency"),
            ));
        }
    }
    let at = now();
    let user_id = new_id();
    store::insert_user(
        conn,
        &NewUser {
            id: user_id.clone(),
            email: account.email.clone(),
            name: account.name.clone(),
            role: account.role,
            agency_id: account.agency_id.clone(),
            password_hash,
            language: account.language.code().to_string(),
            created_at: at,
            updated_at: at,
        },
    )?;
    if account.password.is_none() {
        if let Some((templates, settings)) = mail {
            queue_password_setup(conn, &user_id, account, templates, settings)?;
        }
    }
    audit::entry(actor, "user.create")
        .about("user", &user_id)
        .detail(account.role.as_str().to_string())
        .record(conn)?;
    store::find_user(conn, &user_id)?.ok_or(AppError::NotFound)
}

/// Emails the user a new one-time link to set their password (for a forgotten password
/// too); links sent before stop working.
pub fn send_password_link(
    conn: &mut DbConnection,
    user: &User,
    actor: &Actor,
    templates: &Templates,
    settings: &Settings,
) -> Result<(), AppError> {
    store::revoke_password_links(conn, &user.id)?;
    let account = ValidAccount {
        email: user.email.clone(),
        name: user.name.clone(),
        role: user.role(),
        agency_id: user.agency_id.clone(),
        password: None,
        language: Lang::parse(&user.language).unwrap_or_default(),
    };
    queue_password_setup(conn, &user.id, &account, templates, settings)?;
    audit::entry(actor, "user.password_link")
        .about("user", &user.id)
        .record(conn)?;
    Ok(())
}

fn queue_password_setup(
    conn: &mut DbConnection,
    user_id: &str,
    account: &ValidAccount,
    templates: &Templates,
    settings: &Settings,
) -> Result<(), AppError> {
    let token = secrets::new_token();
    store::insert_token(
        conn,
        user_id,
        TokenPurpose::PasswordSetup,
        &secrets::hash_token(&token),
        chrono::Duration::hours(PASSWORD_SETUP_HOURS),
    )?;
    let link = settings.link(&format!("/account/password?token={token}"));
    let email = templates.email(
        "password_setup",
        context! { lang => account.language.code(), name => &account.name, link => link, hours => PASSWORD_SETUP_HOURS },
    )?;
    enqueue_email(
        conn,
        NewEmail {
            kind: "password_setup",
            recipient: account.email.clone(),
            subject: email.subject,
            body_text: email.text,
            body_html: email.html,
            attachments: Vec::new(),
            dedupe_key: None,
            subject_ref: Some(("user", user_id.to_string())),
        },
    )?;
    Ok(())
}

/// The user these credentials belong to, or `None`. Runs argon2: call on a blocking thread.
pub fn check_credentials(
    conn: &mut DbConnection,
    email: &str,
    password: &str,
) -> Result<Option<User>, AppError> {
    // An address no account can have (a NUL byte, a line break…) is never looked up:
    // PostgreSQL refuses NUL in text with an error, which must not become a 500.
    let Ok(email) = text::email(email) else {
        secrets::dummy_verify(password);
        return Ok(None);
    };
    let user = store::find_user_by_email(conn, &email)?;
    match user {
        Some(user) if user.disabled_at.is_none() => match &user.password_hash {
            Some(hash) if secrets::verify_password(password, hash) => Ok(Some(user)),
            Some(_) => Ok(None),
            None => {
                // Same time as a wrong password, so nobody learns the account awaits its first one.
                secrets::dummy_verify(password);
                Ok(None)
            }
        },
        _ => {
            secrets::dummy_verify(password);
            Ok(None)
        }
    }
}

/// Starts a session: returns the bearer token (shown once, stored hashed).
pub fn start_session(
    conn: &mut DbConnection,
    user: &User,
    lifetime: chrono::Duration,
) -> Result<String, AppError> {
    let token = secrets::new_token();
    store::insert_token(
        conn,
        &user.id,
        TokenPurpose::Session,
        &secrets::hash_token(&token),
        lifetime,
    )?;
    audit::entry(&Actor::User(user.id.clone()), "user.login")
        .about("user", &user.id)
        .record(conn)?;
    Ok(token)
}

/// Sets the password from an emailed one-time link and uses the link up.
pub fn set_password_from_link(
    conn: &mut DbConnection,
    token: &str,
    password_hash: &str,
) -> Result<User, AppError> {
    let (user, token_id) = store::find_password_setup(conn, &secrets::hash_token(token), now())?
        .ok_or(AppError::Conflict("link_expired"))?;
    store::set_password(conn, &user.id, password_hash)?;
    store::revoke_token(conn, &token_id)?;
    Ok(user)
}

/// A staff member as the API shows them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub agency_id: Option<String>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> UserView {
        UserView {
            id: u.id.clone(),
            email: u.email.clone(),
            name: u.name.clone(),
            role: u.role(),
            agency_id: u.agency_id.clone(),
        }
    }
}

/// Checks the password on a reader (argon2 takes a while) and only then takes the writer.
pub async fn log_in(
    state: &AppState,
    ip: Option<std::net::IpAddr>,
    email: String,
    password: String,
) -> Result<(String, User), AppError> {
    state.login_limiter.ensure_allowed(ip)?;
    let found = state
        .db
        .read(move |conn| check_credentials(conn, &email, &password))
        .await?;
    let Some(user) = found else {
        state.login_limiter.record_failure(ip).await?;
        return Err(AppError::InvalidCredentials);
    };
    let lifetime = state.settings.session_lifetime;
    let session_user = user.clone();
    let token = state
        .db
        .write(move |conn| start_session(conn, &session_user, lifetime))
        .await?;
    Ok((token, user))
}

/// Validates, hashes the password off the async workers, stores, and wakes the mailer.
pub async fn create_account(
    state: &AppState,
    input: AccountInput,
    admin: &Staff,
) -> Result<User, AppError> {
    let account = input.validate()?;
    let hash = match account.password.clone() {
        Some(password) => Some(
            actix_web::web::block(move || secrets::hash_password(&password))
                .await
                .map_err(|e| AppError::unexpected(e.to_string()))??,
        ),
        None => None,
    };
    let actor = Actor::User(admin.user.id.clone());
    let templates = state.templates.clone();
    let settings = state.settings.clone();
    let user = state
        .db
        .write(move |conn| create(conn, &account, hash, &actor, Some((&templates, &settings))))
        .await?;
    Ok(user)
}

pub async fn send_link(state: &AppState, user_id: &str, admin: &Staff) -> Result<(), AppError> {
    let st = state.clone();
    let user_id = user_id.to_string();
    let actor = Actor::User(admin.user.id.clone());
    state
        .db
        .write(move |conn| {
            let user = store::find_user(conn, &user_id)?.ok_or(AppError::NotFound)?;
            send_password_link(conn, &user, &actor, &st.templates, &st.settings)
        })
        .await?;
    Ok(())
}
