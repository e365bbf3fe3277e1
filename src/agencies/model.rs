//! Agencies: kinds, the stored row, and input parsed into a valid new agency.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::agencies;
use crate::error::{AppError, FieldError, FieldErrors};
use crate::json::schema;
use crate::text;

crate::text_enum! {
    pub enum AgencyKind {
        Government = "government",
        Business = "business",
        Organization = "organization",
    }
}

impl AgencyKind {
    pub fn parse(text: &str) -> Result<AgencyKind, FieldError> {
        AgencyKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == text.trim())
            .ok_or(FieldError::new("invalid_choice"))
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = agencies)]
pub struct Agency {
    pub id: String,
    pub name: String,
    pub name_key: String,
    pub short_name: Option<String>,
    pub kind: AgencyKind,
    pub email: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = agencies)]
pub struct NewAgency {
    pub id: String,
    pub name: String,
    pub name_key: String,
    pub short_name: Option<String>,
    pub kind: AgencyKind,
    pub email: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The request body to create an agency.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct AgencyInput {
    /// e.g. "Công an huyện Bến Lức"
    #[schema(schema_with = schema::text::<200>)]
    pub name: String,
    /// e.g. "CA huyện"
    #[serde(default)]
    #[schema(schema_with = schema::optional_text::<50>)]
    pub short_name: Option<String>,
    /// `government`, `business` or `organization`
    #[schema(value_type = AgencyKind)]
    pub kind: String,
    #[serde(default)]
    #[schema(schema_with = schema::optional_email)]
    pub email: Option<String>,
}

impl AgencyInput {
    /// Checks every field and returns a row ready to insert.
    pub fn parse(&self) -> Result<NewAgency, AppError> {
        let mut errors = FieldErrors::new();
        let name = errors.take("name", text::required(&self.name, 200));
        let short_name = errors.take("short_name", text::optional(self.short_name.as_deref(), 50));
        let kind = errors.take("kind", AgencyKind::parse(&self.kind));
        let email = errors.take("email", text::optional_email(self.email.as_deref()));
        errors.into_result()?;
        let (Some(name), Some(short_name), Some(kind), Some(email)) =
            (name, short_name, kind, email)
        else {
            return Err(AppError::unexpected("agency fields parsed without values"));
        };
        let at = crate::db::now();
        Ok(NewAgency {
            id: crate::db::new_id(),
            name_key: text::fold(&name),
            name,
            short_name,
            kind,
            email,
            created_at: at,
            updated_at: at,
        })
    }
}

/// An agency as the API returns it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgencyView {
    pub id: String,
    pub name: String,
    pub short_name: Option<String>,
    pub kind: AgencyKind,
    pub email: Option<String>,
}

impl From<Agency> for AgencyView {
    fn from(a: Agency) -> AgencyView {
        AgencyView {
            id: a.id,
            name: a.name,
            short_name: a.short_name,
            kind: a.kind,
            email: a.email,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_agency_keeps_its_vietnamese_name_and_gets_a_folded_key() {
        let input = AgencyInput {
            name: " Công an huyện Bến Lức ".into(),
            short_name: Some("CA".into()),
            kind: "government".into(),
            email: Some("CA@benluc.gov.vn".into()),
        };
        let new = input.parse().unwrap();
        assert_eq!(new.name, "Công an huyện Bến Lức");
        assert_eq!(new.name_key, "cong an huyen ben luc");
        assert_eq!(new.email.as_deref(), Some("ca@benluc.gov.vn"));
    }

    #[test]
    fn every_bad_field_is_reported() {
        let input = AgencyInput {
            name: "".into(),
            kind: "army".into(),
            email: Some("nope".into()),
            ..AgencyInput::default()
        };
        match input.parse() {
            Err(AppError::Validation(f)) => {
                assert_eq!(f.0.keys().collect::<Vec<_>>(), ["email", "kind", "name"]);
            }
            other => panic!("{other:?}"),
        }
    }
}
