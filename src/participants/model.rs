//! Participants: the people invited to or registered for a dialogue, their group, and the
//! two credentials each has — a long link token (stored hashed) and a short code that a
//! person can type from paper.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use rand::Rng;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::participants;
use crate::db::{DialogueId, ParticipantId};
use crate::error::{FieldError, FieldErrors};
use crate::i18n::Lang;
use crate::json::schema;
use crate::text;

crate::text_enum! {
    /// The participant groups (docs/PRIVACY.md). Sensitive: shown to organizers only.
    pub enum Category {
        CompletedSentence = "completed_sentence",
        CommunitySentence = "community_sentence",
        DrugRehabilitation = "drug_rehabilitation",
        FamilyMember = "family_member",
        AgencyRepresentative = "agency_representative",
        BusinessRepresentative = "business_representative",
        MassOrganization = "mass_organization",
        Press = "press",
        Other = "other",
        PreferNotToSay = "prefer_not_to_say",
    }
}

impl Category {
    /// The code, or — for spreadsheets typed by hand — the Vietnamese or English label,
    /// ignoring case and accents.
    pub fn parse(raw: &str) -> Result<Category, FieldError> {
        let raw = raw.trim();
        if let Some(c) = Category::ALL.iter().copied().find(|c| c.as_str() == raw) {
            return Ok(c);
        }
        let wanted = label_key(raw);
        folded_labels()
            .iter()
            .find(|(label, _)| *label == wanted)
            .map(|(_, c)| *c)
            .ok_or(FieldError::new("invalid_choice"))
    }
}

/// Other ways the groups are commonly written in Vietnamese lists (official documents say
/// "án phạt tù" as often as "hình phạt tù").
const OTHER_NAMES: [(&str, Category); 5] = [
    ("chấp hành xong án phạt tù", Category::CompletedSentence),
    ("người mãn hạn tù", Category::CompletedSentence),
    ("thi hành án tại cộng đồng", Category::CommunitySentence),
    ("người sau cai nghiện ma túy", Category::DrugRehabilitation),
    ("thân nhân", Category::FamilyMember),
];

/// A group's name as compared: folded (case, diacritics, đ), punctuation as spaces, and
/// without a leading "người" or "đã", so "da chap hanh xong an phat tu" and the label
/// without its comma both match.
fn label_key(raw: &str) -> String {
    let spaced: String = raw
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    let mut key = text::fold(&spaced);
    for word in ["nguoi ", "da "] {
        if let Some(rest) = key.strip_prefix(word) {
            key = rest.to_string();
        }
    }
    key
}

/// Every category's Vietnamese and English label and its other names, as keys, computed
/// once for matching typed input.
fn folded_labels() -> &'static [(String, Category)] {
    static LABELS: std::sync::OnceLock<Vec<(String, Category)>> = std::sync::OnceLock::new();
    LABELS.get_or_init(|| {
        let labels = Category::ALL.iter().copied().flat_map(|c| {
            [Lang::Vi, Lang::En].map(|lang| {
                (
                    label_key(&lang.text(&format!("category.{}", c.as_str()))),
                    c,
                )
            })
        });
        let others = OTHER_NAMES.iter().map(|(name, c)| (label_key(name), *c));
        labels.chain(others).collect()
    })
}

crate::text_enum! {
    /// Where a participant came from.
    pub enum Source {
        Invitation = "invitation",
        SelfRegistration = "self_registration",
        WalkIn = "walk_in",
    }
}

impl Source {}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = participants)]
pub struct Participant {
    pub id: ParticipantId,
    pub dialogue_id: DialogueId,
    pub full_name: String,
    pub name_key: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub category: Category,
    pub address: Option<String>,
    pub language: String,
    pub source: Source,
    pub token_hash: String,
    pub code: String,
    pub consent_at: Option<NaiveDateTime>,
    pub consent_purpose: Option<String>,
    pub purged_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Set when this row registered itself with the details of someone already on the list
    /// (the answer could not say so without revealing who is on it): for the organizer to
    /// review.
    pub duplicate_of: Option<ParticipantId>,
}

/// Who a credential belongs to, as far as a write that acts for them needs to know: their
/// id, dialogue and name, and whether they have an email. Read without the rest of the row
/// (no contact details, no times to parse): the one committing thread looks up one per
/// submission or vote, and the whole row was a fifth of its time in a profile
/// (docs/PERFORMANCE.md).
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Credited {
    pub id: ParticipantId,
    pub dialogue_id: DialogueId,
    pub full_name: String,
    pub has_email: bool,
}

impl Credited {
    pub fn of(participant: &Participant) -> Credited {
        Credited {
            id: participant.id.clone(),
            dialogue_id: participant.dialogue_id.clone(),
            full_name: participant.full_name.clone(),
            has_email: participant.email.is_some(),
        }
    }
}

impl Participant {
    pub fn lang(&self) -> Lang {
        Lang::parse(&self.language).unwrap_or_default()
    }

    /// `Name <address>` for the email's To header.
    pub fn recipient(&self) -> Option<String> {
        self.email.as_ref().map(|email| {
            let name = self.full_name.replace(['"', '<', '>', '\\'], "");
            format!("\"{name}\" <{email}>")
        })
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = participants)]
pub struct NewParticipant {
    pub id: ParticipantId,
    pub dialogue_id: DialogueId,
    pub full_name: String,
    pub name_key: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub category: Category,
    pub address: Option<String>,
    pub language: String,
    pub source: Source,
    pub token_hash: String,
    pub code: String,
    pub consent_at: Option<NaiveDateTime>,
    pub consent_purpose: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Unique per dialogue (with `name_phone_key`): no person twice, even under a race.
    pub email_key: Option<String>,
    pub name_phone_key: Option<String>,
    pub duplicate_of: Option<ParticipantId>,
}

impl From<NewParticipant> for Participant {
    /// The row as stored, without reading it back.
    fn from(row: NewParticipant) -> Participant {
        Participant {
            id: row.id,
            dialogue_id: row.dialogue_id,
            full_name: row.full_name,
            name_key: row.name_key,
            email: row.email,
            phone: row.phone,
            category: row.category,
            address: row.address,
            language: row.language,
            source: row.source,
            token_hash: row.token_hash,
            code: row.code,
            consent_at: row.consent_at,
            consent_purpose: row.consent_purpose,
            purged_at: None,
            created_at: row.created_at,
            updated_at: row.updated_at,
            duplicate_of: row.duplicate_of,
        }
    }
}

impl NewParticipant {
    /// Marks the row as a possible duplicate of `existing` for the organizer to review; its
    /// keys are left empty so the unique constraints let it in.
    pub fn mark_possible_duplicate(&mut self, existing: &ParticipantId) {
        self.duplicate_of = Some(existing.clone());
        self.email_key = None;
        self.name_phone_key = None;
    }
}

/// One person to invite or register, as sent by a client.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct PersonInput {
    #[schema(schema_with = schema::text::<200>)]
    pub full_name: String,
    #[serde(default)]
    #[schema(schema_with = schema::optional_email)]
    pub email: Option<String>,
    #[serde(default)]
    #[schema(schema_with = schema::optional_phone)]
    pub phone: Option<String>,
    /// One of the participant group codes (the groups' Vietnamese or English labels are
    /// also understood).
    #[schema(value_type = Category)]
    pub category: String,
    #[serde(default)]
    #[schema(schema_with = schema::optional_multiline_text::<300>)]
    pub address: Option<String>,
    /// `vi` (default) or `en`: the language of this person's emails.
    #[serde(default)]
    #[schema(schema_with = schema::language)]
    pub language: Option<String>,
}

/// A person whose details passed every rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub full_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub category: Category,
    pub address: Option<String>,
    pub language: Lang,
}

impl PersonInput {
    /// The value given for a field, by its name, to show it back with an error.
    pub fn value_of(&self, field: &str) -> Option<&str> {
        match field {
            "full_name" => Some(&self.full_name),
            "email" => self.email.as_deref(),
            "phone" => self.phone.as_deref(),
            "category" => Some(&self.category),
            "address" => self.address.as_deref(),
            "language" => self.language.as_deref(),
            _ => None,
        }
    }

    /// Checks each field; errors are recorded under `prefix` + field name.
    pub fn parse(&self, prefix: &str, errors: &mut FieldErrors) -> Option<Person> {
        let name = |f: &str| format!("{prefix}{f}");
        let full_name = errors.take(&name("full_name"), text::required(&self.full_name, 200));
        let email = errors.take(&name("email"), text::optional_email(self.email.as_deref()));
        let phone = errors.take(&name("phone"), text::optional_phone(self.phone.as_deref()));
        let category = errors.take(&name("category"), Category::parse(&self.category));
        let address = errors.take(
            &name("address"),
            text::optional_multiline(self.address.as_deref(), 300),
        );
        let language = match self.language.as_deref().map(str::trim) {
            None | Some("") => Some(Lang::Vi),
            Some(code) => errors.take(
                &name("language"),
                Lang::parse(code).ok_or(FieldError::new("invalid_choice")),
            ),
        };
        Some(Person {
            full_name: full_name?,
            email: email?,
            phone: phone?,
            category: category?,
            address: address?,
            language: language?,
        })
    }
}

impl Person {
    /// What makes two entries the same person in one dialogue: the same email, or the same
    /// name (ignoring case and accents) with the same phone number.
    /// The unique key of the person's email in a dialogue (emails are stored in lower case).
    pub fn email_key(&self) -> Option<String> {
        self.email.clone()
    }

    /// The unique key of the person's name and phone in a dialogue: the folded name and the
    /// phone's digits, so "Lê Văn A, 0912 345 678" and "le van a, +84912345678" are one.
    pub fn name_phone_key(&self) -> Option<String> {
        self.phone.as_ref().map(|phone| {
            format!(
                "{}|{}",
                text::fold(&self.full_name),
                text::phone_digits(phone)
            )
        })
    }

    pub fn identity_keys(&self) -> Vec<String> {
        let mut keys = Vec::new();
        if let Some(email) = &self.email {
            keys.push(format!("email:{email}"));
        }
        if let Some(phone) = &self.phone {
            keys.push(format!(
                "name+phone:{}|{}",
                text::fold(&self.full_name),
                text::phone_digits(phone)
            ));
        }
        keys
    }
}

/// Identity keys of a stored participant, matching `Person::identity_keys`.
pub fn stored_identity_keys(
    email: Option<&str>,
    name_key: &str,
    phone: Option<&str>,
) -> Vec<String> {
    let mut keys = Vec::new();
    if let Some(email) = email {
        keys.push(format!("email:{email}"));
    }
    if let Some(phone) = phone {
        keys.push(format!(
            "name+phone:{name_key}|{}",
            text::phone_digits(phone)
        ));
    }
    keys
}

/// What a search for people is made of (the door and the organizers' lists): words of a
/// name (folded: no case, no diacritics, đ → d), or the digits of a phone number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonQuery {
    Name(Vec<String>),
    Phone(String),
}

impl PersonQuery {
    /// A query with a letter searches names; one of digits (and phone punctuation) with at
    /// least 3 digits searches phones. Anything else searches nothing.
    pub fn parse(raw: &str) -> Option<PersonQuery> {
        let raw = raw.trim();
        if raw.chars().any(char::is_alphabetic) {
            let folded = text::fold(raw);
            let words: Vec<String> = folded
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .take(6)
                .map(str::to_string)
                .collect();
            return (!words.is_empty()).then_some(PersonQuery::Name(words));
        }
        let digits = text::phone_digits(raw);
        (digits.len() >= 3 && digits.len() <= 15).then_some(PersonQuery::Phone(digits))
    }

    /// Whether `person` is found by this query: every word in their name, the digits in
    /// their phone, or (for the lists, where a code is read off paper) the query's letters
    /// and digits in their code, ignoring case, spaces and dashes.
    pub fn matches(&self, person: &Participant) -> bool {
        let code: String = person
            .code
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        match self {
            PersonQuery::Name(words) => {
                words.iter().all(|w| person.name_key.contains(w.as_str()))
                    || code.eq_ignore_ascii_case(&words.concat())
                    || (words.len() == 1
                        && words[0].len() >= 3
                        && words[0].chars().any(|c| c.is_ascii_digit())
                        && code.to_lowercase().contains(words[0].as_str()))
            }
            PersonQuery::Phone(digits) => {
                person
                    .phone
                    .as_deref()
                    .is_some_and(|phone| text::phone_digits(phone).contains(digits.as_str()))
                    || code.contains(digits.as_str())
            }
        }
    }
}

/// Letters and digits nobody confuses when reading aloud or copying: no 0/O, 1/I/L.
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const CODE_LENGTH: usize = 9;

/// A new short code, grouped in threes for reading aloud: `K7M-4PX-Q9R`.
pub fn new_code() -> String {
    let mut rng = rand::thread_rng();
    let chars: Vec<char> = (0..CODE_LENGTH)
        .map(|_| CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())] as char)
        .collect();
    chars
        .chunks(3)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// A typed code in its stored form: case, spaces and dashes do not matter.
pub fn normalize_code(raw: &str) -> Option<String> {
    let compact: String = raw
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if compact.len() != CODE_LENGTH || !compact.bytes().all(|b| CODE_ALPHABET.contains(&b)) {
        return None;
    }
    Some(format!(
        "{}-{}-{}",
        &compact[0..3],
        &compact[3..6],
        &compact[6..9]
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_person_query_with_a_letter_is_a_name_and_digits_are_a_phone() {
        use super::PersonQuery;
        assert_eq!(
            PersonQuery::parse("  Nguyễn  VĂN "),
            Some(PersonQuery::Name(vec!["nguyen".into(), "van".into()]))
        );
        assert_eq!(
            PersonQuery::parse("Đào"),
            Some(PersonQuery::Name(vec!["dao".into()]))
        );
        assert_eq!(
            PersonQuery::parse("lê_%"),
            Some(PersonQuery::Name(vec!["le".into()])),
            "LIKE wildcards never reach the query"
        );
        assert_eq!(
            PersonQuery::parse("+84 912 345"),
            Some(PersonQuery::Phone("0912345".into()))
        );
        assert_eq!(
            PersonQuery::parse("0912"),
            Some(PersonQuery::Phone("0912".into()))
        );
        assert_eq!(PersonQuery::parse("12"), None);
        assert_eq!(PersonQuery::parse(" - "), None);
    }

    use super::*;

    #[test]
    fn codes_are_grouped_and_avoid_ambiguous_characters() {
        for _ in 0..200 {
            let code = new_code();
            assert_eq!(code.len(), 11);
            assert_eq!(code.matches('-').count(), 2);
            assert!(!code.contains(['0', 'O', '1', 'I', 'L']), "{code}");
            assert_eq!(normalize_code(&code).as_deref(), Some(code.as_str()));
        }
    }

    #[test]
    fn typed_codes_are_forgiving_about_case_spaces_and_dashes() {
        assert_eq!(
            normalize_code(" k7m 4px q9r ").as_deref(),
            Some("K7M-4PX-Q9R")
        );
        assert_eq!(normalize_code("K7M4PXQ9R").as_deref(), Some("K7M-4PX-Q9R"));
        assert_eq!(normalize_code("K7M-4PX-Q9"), None);
        assert_eq!(normalize_code("O7M-4PX-Q9R"), None);
    }

    #[test]
    fn categories_accept_codes_and_labels() {
        assert_eq!(
            Category::parse("completed_sentence").unwrap(),
            Category::CompletedSentence
        );
        assert_eq!(
            Category::parse("Người chấp hành xong hình phạt tù").unwrap(),
            Category::CompletedSentence
        );
        assert_eq!(
            Category::parse("nguoi chap hanh xong hinh phat tu").unwrap(),
            Category::CompletedSentence
        );
        assert_eq!(Category::parse("press").unwrap(), Category::Press);
        assert!(Category::parse("prisoner").is_err());
    }

    #[test]
    fn the_same_email_or_name_and_phone_is_the_same_person() {
        let mut errors = FieldErrors::new();
        let a = PersonInput {
            full_name: "Nguyễn Văn Ánh".into(),
            phone: Some("0901 234 567".into()),
            category: "other".into(),
            ..PersonInput::default()
        }
        .parse("", &mut errors)
        .unwrap();
        let b = PersonInput {
            full_name: "nguyen van anh".into(),
            phone: Some("0901.234.567".into()),
            category: "press".into(),
            ..PersonInput::default()
        }
        .parse("", &mut errors)
        .unwrap();
        assert!(
            a.identity_keys()
                .iter()
                .any(|k| b.identity_keys().contains(k))
        );
    }
}
