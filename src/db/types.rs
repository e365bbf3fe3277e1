//! Typed values stored as TEXT: status enums and row ids.
//!
//! Both are written once here as macros, so every status column and every id reads and
//! writes the same way on SQLite and PostgreSQL. A stored status that no variant names is a
//! deserialisation error (logged, answered as an opaque 500), never silently another status.

/// A closed set of values stored as their snake_case code in a TEXT column.
///
/// ```ignore
/// text_enum! {
///     /// Where a dialogue stands.
///     pub enum DialogueStatus { Draft = "draft", Open = "open" }
/// }
/// ```
/// gives the enum with `ALL`, `as_str`, `from_code`, `Display`, serde (as the code), an
/// OpenAPI schema, and diesel `FromSql`/`ToSql` on `Text`.
#[macro_export]
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
            diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $code)] $variant ),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The code stored in the database and used in the API.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }

            /// The value with this exact code.
            pub fn from_code(code: &str) -> Option<$name> {
                match code {
                    $($code => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        // Written by hand rather than derived: the derive does not see the codes through
        // this macro and would document the Rust variant names instead.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($code),+]))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }

        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let code = <String as diesel::deserialize::FromSql<
                    diesel::sql_types::Text,
                    DB,
                >>::from_sql(bytes)?;
                $name::from_code(&code).ok_or_else(|| {
                    format!(concat!("unknown ", stringify!($name), " {:?} in the database"), code)
                        .into()
                })
            }
        }

        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, DB>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, DB>>::to_sql(
                    self.as_str(),
                    out,
                )
            }
        }
    };
}

/// A row id: a UUID kept as its text. Parsing (from a path, a form, JSON) accepts only a
/// UUID, so a malformed id is refused before any query runs; ids read from the database are
/// taken as stored.
#[macro_export]
macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, utoipa::ToSchema,
            diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        #[serde(transparent)]
        #[schema(value_type = String, format = Uuid)]
        pub struct $name(String);

        impl $name {
            /// A new, time-ordered id (UUID v7).
            pub fn new() -> $name {
                $name($crate::db::new_id())
            }

            /// The id in `text`, if it is a UUID.
            pub fn parse(text: &str) -> Option<$name> {
                uuid::Uuid::parse_str(text.trim())
                    .ok()
                    .map(|id| $name(id.to_string()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// An id that came from the database or from another typed id; not checked again.
            pub fn from_stored(id: &str) -> $name {
                $name(id.to_string())
            }
        }

        impl Default for $name {
            fn default() -> $name {
                $name::new()
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::parse(&text).ok_or_else(|| {
                    serde::de::Error::custom(concat!("not a valid ", stringify!($name)))
                })
            }
        }

        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                <String as diesel::deserialize::FromSql<diesel::sql_types::Text, DB>>::from_sql(
                    bytes,
                )
                .map($name)
            }
        }

        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, DB>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, DB>>::to_sql(
                    self.0.as_str(),
                    out,
                )
            }
        }
    };
}

crate::id_type!(
    /// A dialogue (hội nghị đối thoại).
    DialogueId
);
crate::id_type!(
    /// A person on a dialogue's list.
    ParticipantId
);
crate::id_type!(
    /// An invitation to one participant.
    InvitationId
);
crate::id_type!(
    /// A participant's seat or waitlist place.
    RegistrationId
);
crate::id_type!(
    /// An agency or business that answers questions.
    AgencyId
);
crate::id_type!(
    /// A staff account.
    UserId
);
crate::id_type!(
    /// A question asked before or during a dialogue.
    QuestionId
);
crate::id_type!(
    /// A question handed to an agency to answer.
    AssignmentId
);

#[cfg(test)]
mod tests {
    use super::*;

    crate::text_enum! {
        pub enum Colour { Red = "red", DarkBlue = "dark_blue" }
    }

    #[test]
    fn enums_round_trip_through_their_codes() {
        for colour in Colour::ALL {
            assert_eq!(Colour::from_code(colour.as_str()), Some(*colour));
        }
        assert_eq!(Colour::from_code("Red"), None);
        assert_eq!(
            serde_json::to_string(&Colour::DarkBlue).ok().as_deref(),
            Some("\"dark_blue\"")
        );
    }

    #[test]
    fn the_openapi_schema_lists_the_codes() {
        let schema = serde_json::to_value(<Colour as utoipa::PartialSchema>::schema()).unwrap();
        assert_eq!(schema["enum"], serde_json::json!(["red", "dark_blue"]));
        assert_eq!(<Colour as utoipa::ToSchema>::name(), "Colour");
    }

    #[test]
    fn ids_accept_only_uuids() {
        assert!(DialogueId::parse("../../etc").is_none());
        assert!(DialogueId::parse("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b").is_some());
        assert!(serde_json::from_str::<DialogueId>("\"x\"").is_err());
        let id = DialogueId::new();
        assert_eq!(DialogueId::parse(&id), Some(id));
    }
}
