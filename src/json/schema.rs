//! OpenAPI schemas for request fields whose rules live in code (`text::*`, the models'
//! parsers), so that the document states the same limits: used with `#[schema(schema_with =
//! …)]` on the input types. Lengths count characters after NFC and trimming, as `text` does.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{
    AnyOfBuilder, ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat,
};
use utoipa::openapi::schema::{KnownFormat, SchemaType, Type};

/// Control characters that single-line text refuses inside (`text::single_line`): C0 with
/// tab and line breaks, DEL, C1, and the Unicode line and paragraph separators.
const CONTROL: &str = r"\x00-\x1F\x7F-\x9F\u2028\u2029";
/// Those that multi-line text refuses (`text::optional_multiline`): the same, but line feed
/// and carriage return are allowed.
const MULTILINE_CONTROL: &str = r"\x00-\x09\x0B\x0C\x0E-\x1F\x7F-\x9F\u2028\u2029";
/// Empty, or 8–15 digits with spaces, dots, dashes, brackets and a leading `+`
/// (`text::optional_phone`).
const PHONE: &str = r"^\s*(\+?[ .()-]*([0-9][ .()-]*){8,15})?\s*$";
/// Only white space: what optional fields read as absent.
const BLANK: &str = r"^\s*$";

/// Text of at most `max` characters once trimmed (surrounding white space does not count,
/// as in `text`), without the refused control characters; `required` needs one character
/// that is not white space. The limit is in the pattern rather than in `maxLength`, which
/// would count the white space that the service trims.
fn text_pattern(max: usize, required: bool) -> String {
    controlled_pattern(max, required, CONTROL)
}

fn controlled_pattern(max: usize, required: bool, inside: &str) -> String {
    let core = format!(
        r"[^\s{CONTROL}](?:[^{inside}]{{0,{}}}[^\s{CONTROL}])?",
        max.saturating_sub(2)
    );
    if required {
        format!(r"^\s*{core}\s*$")
    } else {
        format!(r"^\s*(?:{core})?\s*$")
    }
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn nullable_string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null]))
}

/// Required text of at most `MAX` characters (`text::required`).
pub fn text<const MAX: usize>() -> Schema {
    string()
        .min_length(Some(1))
        .pattern(Some(text_pattern(MAX, true)))
        .description(Some(format!(
            "1 to {MAX} characters, not counting surrounding white space"
        )))
        .into()
}

/// Optional text of at most `MAX` characters; `null` and blank are absent (`text::optional`).
pub fn optional_text<const MAX: usize>() -> Schema {
    nullable_string()
        .pattern(Some(text_pattern(MAX, false)))
        .description(Some(format!(
            "at most {MAX} characters, not counting surrounding white space"
        )))
        .into()
}

/// Optional multi-line text (descriptions, addresses): line breaks allowed inside.
pub fn optional_multiline_text<const MAX: usize>() -> Schema {
    nullable_string()
        .pattern(Some(controlled_pattern(MAX, false, MULTILINE_CONTROL)))
        .description(Some(format!(
            "at most {MAX} characters, not counting surrounding white space; line breaks allowed"
        )))
        .into()
}

/// Multi-line text of `MIN` to `MAX` characters once trimmed (questions, answers, reasons):
/// line breaks allowed inside; `null` allowed when `nullable` (an absent field of a PATCH).
pub fn multiline_between<const MIN: usize, const MAX: usize>(nullable: bool) -> Schema {
    let inner = format!(
        r"[^\s{CONTROL}](?:[^{MULTILINE_CONTROL}]{{{},{}}}[^\s{CONTROL}])?",
        MIN.saturating_sub(2),
        MAX.saturating_sub(2)
    );
    let inner = if MIN >= 2 {
        format!(
            r"[^\s{CONTROL}][^{MULTILINE_CONTROL}]{{{},{}}}[^\s{CONTROL}]",
            MIN - 2,
            MAX.saturating_sub(2)
        )
    } else {
        inner
    };
    let builder = if nullable {
        nullable_string()
    } else {
        string()
    };
    builder
        .min_length(Some(MIN.max(1)))
        .pattern(Some(format!(r"^\s*{inner}\s*$")))
        .description(Some(format!(
            "{MIN} to {MAX} characters, not counting surrounding white space; line breaks allowed"
        )))
        .into()
}

/// Required multi-line text of `MIN` to `MAX` characters.
pub fn multiline<const MIN: usize, const MAX: usize>() -> Schema {
    multiline_between::<MIN, MAX>(false)
}

/// A PATCH field: absent, `null`, or multi-line text of `MIN` to `MAX` characters.
pub fn optional_multiline_between<const MIN: usize, const MAX: usize>() -> Schema {
    multiline_between::<MIN, MAX>(true)
}

/// Optional text that may be blank but not `null` (a `String` with a serde default).
pub fn blank_or_text<const MAX: usize>() -> Schema {
    string()
        .pattern(Some(text_pattern(MAX, false)))
        .description(Some(format!(
            "at most {MAX} characters, not counting surrounding white space"
        )))
        .into()
}

fn email_object() -> ObjectBuilder {
    string()
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
        .max_length(Some(254))
}

/// A required email address (`text::email`).
pub fn email() -> Schema {
    email_object().into()
}

/// An optional email address: `null` or blank is absent (`text::optional_email`).
pub fn optional_email() -> Schema {
    OneOfBuilder::new()
        .item(email_object())
        .item(string().pattern(Some(BLANK)))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .into()
}

/// An optional phone number (`text::optional_phone`).
pub fn optional_phone() -> Schema {
    nullable_string()
        .pattern(Some(PHONE))
        .description(Some(
            "8 to 15 digits; spaces, `.`, `-`, `(`, `)` and a leading `+` allowed",
        ))
        .into()
}

/// A string with one of `codes`.
pub fn one_of(codes: &[&str]) -> ObjectBuilder {
    string().enum_values(Some(codes.iter().copied()))
}

/// `vi` or `en` (also `vi-VN`, `en-US`, `en-GB`, in any case); `null` or empty is `vi`
/// (`i18n::Lang::parse`).
pub fn language() -> Schema {
    nullable_string()
        .enum_values(Some([
            Some("vi"),
            Some("en"),
            Some("vi-VN"),
            Some("en-US"),
            Some("en-GB"),
            Some(""),
            None,
        ]))
        .into()
}

/// `true`, the only value accepted: consent to the stated purpose.
pub fn consent() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::Boolean)
        .enum_values(Some([true]))
        .description(Some("Must be `true`: consent to the stated purpose"))
        .into()
}

/// An RFC 3339 time with an offset.
pub fn date_time() -> Schema {
    string()
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        .into()
}

/// An RFC 3339 time with an offset; `null` or empty is absent.
pub fn optional_date_time() -> Schema {
    OneOfBuilder::new()
        .item(date_time())
        .item(string().max_length(Some(0)))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .into()
}

/// An IANA time-zone name, as `chrono_tz` knows them; `null` is the default zone.
pub fn time_zone() -> Schema {
    let mut names: Vec<Option<&str>> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| Some(tz.name()))
        .collect();
    names.push(None);
    nullable_string()
        .enum_values(Some(names))
        .description(Some("IANA zone; default Asia/Ho_Chi_Minh"))
        .into()
}

/// A UUID given as text.
pub fn optional_uuid() -> Schema {
    OneOfBuilder::new()
        .item(string().format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))))
        .item(string().pattern(Some(BLANK)))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .into()
}

/// An array of at most `max` items of `item`.
pub fn array_of(item: impl Into<RefOr<Schema>>, max: usize) -> ArrayBuilder {
    ArrayBuilder::new().items(item.into()).max_items(Some(max))
}

/// Marks every property of an object schema optional and nullable: the PATCH form of a
/// create body, where `null` counts as absent.
pub fn all_optional(schema: RefOr<Schema>) -> RefOr<Schema> {
    let RefOr::T(Schema::Object(mut object)) = schema else {
        return schema;
    };
    object.required.clear();
    for property in object.properties.values_mut() {
        let nullable = AnyOfBuilder::new()
            .item(property.clone())
            .item(ObjectBuilder::new().schema_type(Type::Null));
        *property = nullable.into();
    }
    RefOr::T(Schema::Object(object))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_pattern_bounds_the_trimmed_text() {
        assert_eq!(
            text_pattern(5, true),
            r"^\s*[^\s\x00-\x1F\x7F-\x9F\u2028\u2029](?:[^\x00-\x1F\x7F-\x9F\u2028\u2029]{0,3}[^\s\x00-\x1F\x7F-\x9F\u2028\u2029])?\s*$"
        );
        assert!(text_pattern(5, false).starts_with(r"^\s*(?:[^\s"));
    }
}
