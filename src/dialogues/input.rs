//! A dialogue as a request describes it, parsed and checked into a valid dialogue: every
//! rule in one place, shared by the API, the pages and the CLI.

use chrono::{DateTime, Datelike, NaiveDateTime};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::{DEFAULT_TIME_ZONE, DialogueFields, FullDialogue, OfficialRole};
use crate::error::{AppError, FieldError, FieldErrors};
use crate::json::schema;
use crate::text;

const MAX_OFFICIALS: usize = 50;
const MAX_AGENDA: usize = 100;

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct OfficialInput {
    #[schema(schema_with = schema::text::<200>)]
    pub name: String,
    #[serde(default)]
    #[schema(schema_with = schema::blank_or_text::<300>, required = false)]
    pub position: String,
    /// `chair`, `secretary` or `member`
    #[schema(value_type = OfficialRole)]
    pub role: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct AgendaInput {
    #[schema(schema_with = schema::text::<300>)]
    pub title: String,
    #[serde(default)]
    #[schema(schema_with = schema::optional_text::<200>)]
    pub presenter: Option<String>,
}

/// The dialogue body of the API. On create, the fields marked required must be present;
/// on PATCH every field is optional and only the ones present change.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct DialogueInput {
    /// Required on create.
    #[schema(schema_with = schema::text::<500>, required = true)]
    pub title: Option<String>,
    #[schema(schema_with = schema::optional_multiline_text::<10_000>)]
    pub description: Option<String>,
    /// Required on create, e.g. "UBND huyện Bến Lức".
    #[schema(schema_with = schema::text::<200>, required = true)]
    pub host_unit: Option<String>,
    #[schema(schema_with = schema::optional_text::<200>)]
    pub parent_unit: Option<String>,
    #[schema(schema_with = schema::optional_text::<100>)]
    pub locality: Option<String>,
    /// Required on create.
    #[schema(schema_with = schema::text::<300>, required = true)]
    pub venue: Option<String>,
    /// RFC 3339 with an offset. Required on create.
    #[schema(schema_with = schema::date_time, required = true, example = "2026-11-30T14:00:00+07:00")]
    pub starts_at: Option<String>,
    /// RFC 3339; must be after `starts_at`. Required on create.
    #[schema(schema_with = schema::date_time, required = true)]
    pub ends_at: Option<String>,
    /// RFC 3339; must be before `starts_at`. Empty string clears it.
    #[schema(schema_with = schema::optional_date_time)]
    pub question_deadline: Option<String>,
    /// IANA zone; default Asia/Ho_Chi_Minh.
    #[schema(schema_with = schema::time_zone)]
    pub time_zone: Option<String>,
    /// 1 to 100,000. Required on create.
    #[schema(value_type = i64, required = true, minimum = 1, maximum = 100_000)]
    pub capacity: Option<i64>,
    pub self_registration: Option<bool>,
    pub anonymous_questions: Option<bool>,
    /// Replaces the whole list when present; at least one `chair`. Required on create.
    #[schema(schema_with = officials_schema, required = true)]
    pub officials: Option<Vec<OfficialInput>>,
    /// Replaces the whole list when present.
    #[schema(schema_with = agenda_schema)]
    pub agenda: Option<Vec<AgendaInput>>,
    /// PATCH only: whether to email the people who hold a place when this change moves the
    /// dialogue's time or venue. Documented on `DialoguePatch`; ignored on create.
    #[serde(default)]
    #[schema(ignore)]
    pub notify: Option<bool>,
}

fn officials_schema() -> utoipa::openapi::schema::Array {
    schema::array_of(
        utoipa::openapi::Ref::from_schema_name("OfficialInput"),
        MAX_OFFICIALS,
    )
    .min_items(Some(1))
    .build()
}

fn agenda_schema() -> utoipa::openapi::schema::Array {
    schema::array_of(
        utoipa::openapi::Ref::from_schema_name("AgendaInput"),
        MAX_AGENDA,
    )
    .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
        utoipa::openapi::schema::Type::Array,
        utoipa::openapi::schema::Type::Null,
    ]))
    .build()
}

/// The body of `PATCH /api/v1/dialogues/{id}` in the OpenAPI document: the fields of
/// `DialogueInput`, none required, `null` counting as absent. (The handler reads a
/// `DialogueInput`.)
pub struct DialoguePatch;

impl utoipa::PartialSchema for DialoguePatch {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
        let mut patch = schema::all_optional(<DialogueInput as utoipa::PartialSchema>::schema());
        if let utoipa::openapi::RefOr::T(Schema::Object(object)) = &mut patch {
            let notify = ObjectBuilder::new()
                .schema_type(Type::Boolean)
                .description(Some(
                    "When the change moves `starts_at`, `ends_at` or `venue`: `true` emails \
                     everyone who holds a place (invitees who accepted, people who \
                     registered, the waitlist) the new time and venue with the calendar event \
                     under the same UID and a higher SEQUENCE, as jobs in the outbox. \
                     Default `false`: nobody is told. Has no effect on any other change.",
                ))
                .default(Some(serde_json::Value::Bool(false)));
            object
                .properties
                .insert("notify".to_string(), notify.into());
        }
        patch
    }
}

impl utoipa::ToSchema for DialoguePatch {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        schemas.push((
            "OfficialInput".to_string(),
            <OfficialInput as utoipa::PartialSchema>::schema(),
        ));
        schemas.push((
            "AgendaInput".to_string(),
            <AgendaInput as utoipa::PartialSchema>::schema(),
        ));
        schemas.push((
            "OfficialRole".to_string(),
            <OfficialRole as utoipa::PartialSchema>::schema(),
        ));
    }
}

/// A dialogue that passed every rule, ready to store.
#[derive(Debug, Clone)]
pub struct ValidDialogue {
    pub fields: DialogueFields,
    pub officials: Vec<(String, String, OfficialRole)>,
    pub agenda: Vec<(String, Option<String>)>,
}

/// The years a dialogue's times may fall in (UTC). Far dates are typing mistakes, and near
/// the ends of what chrono can hold they overflow when shown in a time zone or moved by a
/// duration (a start in 2262 once gave an `ends_at` of `+10000-01-01…`, not RFC 3339).
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// An RFC 3339 time with an offset, as UTC, within `YEARS`.
pub fn parse_instant(raw: &str) -> Result<NaiveDateTime, FieldError> {
    let instant = DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.naive_utc())
        .map_err(|_| FieldError::new("invalid_datetime"))?;
    if YEARS.contains(&instant.year()) {
        Ok(instant)
    } else {
        Err(FieldError::new("out_of_range"))
    }
}

impl DialogueInput {
    /// The input as it would be after this edit of `current`: present fields win.
    pub fn over(self, current: &FullDialogue) -> DialogueInput {
        let d = &current.dialogue;
        let rfc = |at: NaiveDateTime| d.local(at).to_rfc3339();
        DialogueInput {
            title: self.title.or_else(|| Some(d.title.clone())),
            description: self.description.or_else(|| Some(d.description.clone())),
            host_unit: self.host_unit.or_else(|| Some(d.host_unit.clone())),
            parent_unit: self.parent_unit.or_else(|| Some(d.parent_unit.clone())),
            locality: self.locality.or_else(|| Some(d.locality.clone())),
            venue: self.venue.or_else(|| Some(d.venue.clone())),
            starts_at: self.starts_at.or_else(|| Some(rfc(d.starts_at))),
            ends_at: self.ends_at.or_else(|| Some(rfc(d.ends_at))),
            question_deadline: self
                .question_deadline
                .or_else(|| d.question_deadline.map(rfc)),
            time_zone: self.time_zone.or_else(|| Some(d.time_zone.clone())),
            capacity: self.capacity.or(Some(i64::from(d.capacity))),
            self_registration: self.self_registration.or(Some(d.self_registration)),
            anonymous_questions: self.anonymous_questions.or(Some(d.anonymous_questions)),
            officials: self.officials.or_else(|| {
                Some(
                    current
                        .officials
                        .iter()
                        .map(|o| OfficialInput {
                            name: o.name.clone(),
                            position: o.position.clone(),
                            role: o.role.to_string(),
                        })
                        .collect(),
                )
            }),
            notify: self.notify,
            agenda: self.agenda.or_else(|| {
                Some(
                    current
                        .agenda
                        .iter()
                        .map(|a| AgendaInput {
                            title: a.title.clone(),
                            presenter: a.presenter.clone(),
                        })
                        .collect(),
                )
            }),
        }
    }

    /// Applies every rule; all problems are reported at once, each under its field.
    pub fn validate(&self) -> Result<ValidDialogue, AppError> {
        let mut errors = FieldErrors::new();
        let need = |v: &Option<String>| v.clone().unwrap_or_default();
        let title = errors.take("title", text::required(&need(&self.title), 500));
        let description = errors.take(
            "description",
            text::optional_multiline(self.description.as_deref(), 10_000),
        );
        let host_unit = errors.take("host_unit", text::required(&need(&self.host_unit), 200));
        let parent_unit = errors.take(
            "parent_unit",
            text::optional(self.parent_unit.as_deref(), 200),
        );
        let locality = errors.take("locality", text::optional(self.locality.as_deref(), 100));
        let venue = errors.take("venue", text::required(&need(&self.venue), 300));
        let starts_at = match &self.starts_at {
            Some(raw) => errors.take("starts_at", parse_instant(raw)),
            None => errors.take("starts_at", Err(FieldError::new("required"))),
        };
        let ends_at = match &self.ends_at {
            Some(raw) => errors.take("ends_at", parse_instant(raw)),
            None => errors.take("ends_at", Err(FieldError::new("required"))),
        };
        let question_deadline = match self.question_deadline.as_deref().map(str::trim) {
            None | Some("") => Some(None),
            Some(raw) => errors
                .take("question_deadline", parse_instant(raw))
                .map(Some),
        };
        let time_zone = self
            .time_zone
            .clone()
            .unwrap_or_else(|| DEFAULT_TIME_ZONE.to_string());
        if time_zone.parse::<Tz>().is_err() {
            errors.add("time_zone", FieldError::new("invalid_time_zone"));
        }
        let capacity = match self.capacity {
            None => errors.take("capacity", Err(FieldError::new("required"))),
            Some(n) if n < 1 => errors.take("capacity", Err(FieldError::with_n("too_small", 1))),
            Some(n) if n > 100_000 => {
                errors.take("capacity", Err(FieldError::with_n("too_large", 100_000)))
            }
            Some(n) => i32::try_from(n).ok(),
        };
        if let (Some(start), Some(end)) = (starts_at, ends_at) {
            if end <= start {
                errors.add("ends_at", FieldError::new("must_end_after_start"));
            }
        }
        if let (Some(start), Some(Some(deadline))) = (starts_at, question_deadline) {
            if deadline >= start {
                errors.add("question_deadline", FieldError::new("must_be_before_start"));
            }
        }
        let officials = parse_officials(self.officials.as_deref().unwrap_or_default(), &mut errors);
        let agenda = parse_agenda(self.agenda.as_deref().unwrap_or_default(), &mut errors);
        errors.into_result()?;
        let (
            Some(title),
            Some(description),
            Some(host_unit),
            Some(parent_unit),
            Some(locality),
            Some(venue),
        ) = (title, description, host_unit, parent_unit, locality, venue)
        else {
            return Err(AppError::unexpected("dialogue text parsed without values"));
        };
        let (Some(starts_at), Some(ends_at), Some(question_deadline), Some(capacity)) =
            (starts_at, ends_at, question_deadline, capacity)
        else {
            return Err(AppError::unexpected("dialogue times parsed without values"));
        };
        Ok(ValidDialogue {
            fields: DialogueFields {
                title,
                description: description.unwrap_or_default(),
                host_unit,
                parent_unit: parent_unit.unwrap_or_default(),
                locality: locality.unwrap_or_default(),
                venue,
                starts_at,
                ends_at,
                question_deadline,
                time_zone,
                capacity,
                self_registration: self.self_registration.unwrap_or(false),
                anonymous_questions: self.anonymous_questions.unwrap_or(false),
            },
            officials,
            agenda,
        })
    }
}

fn parse_officials(
    list: &[OfficialInput],
    errors: &mut FieldErrors,
) -> Vec<(String, String, OfficialRole)> {
    if list.len() > MAX_OFFICIALS {
        errors.add(
            "officials",
            FieldError::with_n("too_many", MAX_OFFICIALS as i64),
        );
        return Vec::new();
    }
    let mut parsed = Vec::new();
    for (i, official) in list.iter().enumerate() {
        let name = errors.take(
            &format!("officials[{i}].name"),
            text::required(&official.name, 200),
        );
        let position = errors.take(
            &format!("officials[{i}].position"),
            text::optional(Some(&official.position), 300),
        );
        let role = errors.take(
            &format!("officials[{i}].role"),
            OfficialRole::parse(&official.role),
        );
        if let (Some(name), Some(position), Some(role)) = (name, position, role) {
            parsed.push((name, position.unwrap_or_default(), role));
        }
    }
    let has_chair = list
        .iter()
        .any(|o| o.role.trim() == OfficialRole::Chair.as_str());
    if !has_chair {
        errors.add("officials", FieldError::new("needs_a_chair"));
    }
    parsed
}

fn parse_agenda(list: &[AgendaInput], errors: &mut FieldErrors) -> Vec<(String, Option<String>)> {
    if list.len() > MAX_AGENDA {
        errors.add("agenda", FieldError::with_n("too_many", MAX_AGENDA as i64));
        return Vec::new();
    }
    let mut parsed = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let title = errors.take(
            &format!("agenda[{i}].title"),
            text::required(&item.title, 300),
        );
        let presenter = errors.take(
            &format!("agenda[{i}].presenter"),
            text::optional(item.presenter.as_deref(), 200),
        );
        if let (Some(title), Some(presenter)) = (title, presenter) {
            parsed.push((title, presenter));
        }
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn reference_input() -> DialogueInput {
        DialogueInput {
            title: Some("Hội nghị đối thoại với người chấp hành xong hình phạt tù".into()),
            host_unit: Some("UBND huyện Bến Lức".into()),
            venue: Some("Hội trường UBND huyện Bến Lức".into()),
            starts_at: Some("2026-11-30T14:00:00+07:00".into()),
            ends_at: Some("2026-11-30T17:00:00+07:00".into()),
            question_deadline: Some("2026-11-28T17:00:00+07:00".into()),
            capacity: Some(120),
            officials: Some(vec![OfficialInput {
                name: "Lê Thành Út".into(),
                position: "Chủ tịch UBND huyện Bến Lức".into(),
                role: "chair".into(),
            }]),
            ..DialogueInput::default()
        }
    }

    fn field_codes(result: Result<ValidDialogue, AppError>) -> Vec<(String, &'static str)> {
        match result {
            Err(AppError::Validation(f)) => f.0.into_iter().map(|(k, v)| (k, v.code)).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn the_reference_dialogue_is_valid_and_stored_in_utc() {
        let valid = reference_input().validate().unwrap();
        assert_eq!(valid.fields.starts_at.to_string(), "2026-11-30 07:00:00");
        assert_eq!(valid.fields.time_zone, DEFAULT_TIME_ZONE);
        assert_eq!(valid.officials.len(), 1);
    }

    #[test]
    fn a_window_that_ends_before_it_starts_names_ends_at() {
        let input = DialogueInput {
            ends_at: Some("2026-11-30T13:00:00+07:00".into()),
            ..reference_input()
        };
        assert_eq!(
            field_codes(input.validate()),
            vec![("ends_at".to_string(), "must_end_after_start")]
        );
    }

    #[test]
    fn the_question_deadline_must_be_before_the_start() {
        let input = DialogueInput {
            question_deadline: Some("2026-11-30T15:00:00+07:00".into()),
            ..reference_input()
        };
        assert_eq!(
            field_codes(input.validate()),
            vec![("question_deadline".to_string(), "must_be_before_start")]
        );
    }

    #[test]
    fn capacity_officials_and_chairs_are_checked() {
        let input = DialogueInput {
            capacity: Some(0),
            officials: Some(vec![OfficialInput {
                name: "".into(),
                position: "".into(),
                role: "secretary".into(),
            }]),
            ..reference_input()
        };
        assert_eq!(
            field_codes(input.validate()),
            vec![
                ("capacity".to_string(), "too_small"),
                ("officials".to_string(), "needs_a_chair"),
                ("officials[0].name".to_string(), "required"),
            ]
        );
    }

    #[test]
    fn times_outside_the_years_2000_to_2100_are_out_of_range() {
        let input = DialogueInput {
            starts_at: Some("2262-04-11T00:00:00Z".into()),
            ends_at: Some("2101-01-01T00:00:00Z".into()),
            question_deadline: Some("1999-12-31T23:59:59Z".into()),
            ..reference_input()
        };
        assert_eq!(
            field_codes(input.validate()),
            vec![
                ("ends_at".to_string(), "out_of_range"),
                ("question_deadline".to_string(), "out_of_range"),
                ("starts_at".to_string(), "out_of_range"),
            ]
        );
    }

    #[test]
    fn an_empty_body_lists_every_required_field() {
        let codes = field_codes(DialogueInput::default().validate());
        let names: Vec<&str> = codes.iter().map(|(k, _)| k.as_str()).collect();
        for required in [
            "title",
            "host_unit",
            "venue",
            "starts_at",
            "ends_at",
            "capacity",
            "officials",
        ] {
            assert!(
                names.contains(&required),
                "{required} missing from {names:?}"
            );
        }
    }
}
