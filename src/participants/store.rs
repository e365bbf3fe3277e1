//! Queries on `participants`.

use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{
    Credited, NewParticipant, Participant, Person, Source, new_code, stored_identity_keys,
};
use crate::auth::secrets;
use crate::db::schema::participants;
use crate::db::{DbConnection, DialogueId, ParticipantId, now};
use crate::text;

/// A new participant row and the link token to give them (the row keeps only its hash).
pub fn prepare(
    dialogue_id: &str,
    person: &Person,
    source: Source,
    consent: Option<(NaiveDateTime, &str)>,
) -> (NewParticipant, String) {
    let token = secrets::new_token();
    let at = now();
    let row = NewParticipant {
        id: ParticipantId::new(),
        dialogue_id: DialogueId::from_stored(dialogue_id),
        full_name: person.full_name.clone(),
        name_key: text::fold(&person.full_name),
        email: person.email.clone(),
        phone: person.phone.clone(),
        category: person.category,
        address: person.address.clone(),
        language: person.language.code().to_string(),
        source,
        token_hash: secrets::hash_token(&token),
        code: new_code(),
        consent_at: consent.map(|(at, _)| at),
        consent_purpose: consent.map(|(_, purpose)| purpose.to_string()),
        created_at: at,
        updated_at: at,
        email_key: person.email_key(),
        name_phone_key: person.name_phone_key(),
        duplicate_of: None,
    };
    (row, token)
}

pub fn insert(conn: &mut DbConnection, row: &NewParticipant) -> QueryResult<()> {
    diesel::insert_into(participants::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Inserts many rows in multi-row statements (run on the backend's own connection: diesel's
/// batch insert does not go through the two-database connection type).
pub fn insert_many(conn: &mut DbConnection, rows: &[NewParticipant]) -> QueryResult<()> {
    match conn {
        DbConnection::Postgresql(pg) => {
            for chunk in rows.chunks(500) {
                diesel::insert_into(participants::table)
                    .values(chunk)
                    .execute(pg)?;
            }
        }
        DbConnection::Sqlite(lite) => {
            // 16 columns × 500 rows stays under SQLite's limit of 32,766 bound values.
            for chunk in rows.chunks(500) {
                diesel::insert_into(participants::table)
                    .values(chunk)
                    .execute(lite)?;
            }
        }
    }
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Participant>> {
    participants::table
        .find(id)
        .select(Participant::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_token_hash(
    conn: &mut DbConnection,
    token_hash: &str,
) -> QueryResult<Option<Participant>> {
    participants::table
        .filter(participants::token_hash.eq(token_hash))
        .filter(participants::purged_at.is_null())
        .select(Participant::as_select())
        .first(conn)
        .optional()
}

/// The columns of a `Credited`.
type CreditedColumns = (
    participants::id,
    participants::dialogue_id,
    participants::full_name,
    diesel::dsl::IsNotNull<participants::email>,
);

fn credited() -> CreditedColumns {
    (
        participants::id,
        participants::dialogue_id,
        participants::full_name,
        participants::email.is_not_null(),
    )
}

/// Who has this code (not purged), as a write acting for them needs it.
pub fn credited_by_code(conn: &mut DbConnection, code: &str) -> QueryResult<Option<Credited>> {
    let query = participants::table
        .filter(participants::code.eq(code))
        .filter(participants::purged_at.is_null())
        .select(credited());
    // On the database's own connection the statement is found in the cache by its type;
    // through the connection enum diesel writes its SQL out again each time.
    match conn {
        DbConnection::Postgresql(pg) => query.first(pg).optional(),
        DbConnection::Sqlite(lite) => query.first(lite).optional(),
    }
}

/// Who has this link (by its token's hash, not purged), as a write acting for them needs it.
pub fn credited_by_token_hash(
    conn: &mut DbConnection,
    token_hash: &str,
) -> QueryResult<Option<Credited>> {
    let query = participants::table
        .filter(participants::token_hash.eq(token_hash))
        .filter(participants::purged_at.is_null())
        .select(credited());
    match conn {
        DbConnection::Postgresql(pg) => query.first(pg).optional(),
        DbConnection::Sqlite(lite) => query.first(lite).optional(),
    }
}

/// Those with these codes (none purged), each with its code, in no order.
pub fn credited_by_codes(
    conn: &mut DbConnection,
    codes: &[&str],
) -> QueryResult<Vec<(String, Credited)>> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    // On the database's own connection: through the connection enum, diesel rewrites the
    // statement and converts every value through its own representation, which cost more
    // than the lookup (a batch of submissions, in a profile).
    macro_rules! load_on {
        ($conn:expr) => {
            participants::table
                .filter(participants::code.eq_any(codes))
                .filter(participants::purged_at.is_null())
                .select((participants::code, credited()))
                .load($conn)
        };
    }
    match conn {
        DbConnection::Postgresql(pg) => load_on!(pg),
        DbConnection::Sqlite(lite) => load_on!(lite),
    }
}

/// Those with these token hashes (none purged), each with its hash, in no order.
pub fn credited_by_token_hashes(
    conn: &mut DbConnection,
    token_hashes: &[&str],
) -> QueryResult<Vec<(String, Credited)>> {
    if token_hashes.is_empty() {
        return Ok(Vec::new());
    }
    participants::table
        .filter(participants::token_hash.eq_any(token_hashes))
        .filter(participants::purged_at.is_null())
        .select((participants::token_hash, credited()))
        .load(conn)
}

pub fn find_by_code(conn: &mut DbConnection, code: &str) -> QueryResult<Option<Participant>> {
    let query = participants::table
        .filter(participants::code.eq(code))
        .filter(participants::purged_at.is_null());
    // Each vote looks its voter up: run on the database's own connection, the statement is
    // found in the cache by its type, without writing out its SQL again every time as the
    // connection enum does.
    match conn {
        DbConnection::Postgresql(pg) => query.select(Participant::as_select()).first(pg).optional(),
        DbConnection::Sqlite(lite) => query
            .select(Participant::as_select())
            .first(lite)
            .optional(),
    }
}

/// Someone already in the dialogue with the person's email, or with their name and phone.
/// Call it with the dialogue locked (`dialogues::store::lock`), so the answer still holds
/// when the caller inserts.
pub fn find_same_person(
    conn: &mut DbConnection,
    dialogue_id: &str,
    person: &Person,
) -> QueryResult<Option<Participant>> {
    let by_email = match person.email_key() {
        Some(key) => participants::table
            .filter(participants::dialogue_id.eq(dialogue_id))
            .filter(participants::email_key.eq(key))
            .select(Participant::as_select())
            .first(conn)
            .optional()?,
        None => None,
    };
    if by_email.is_some() {
        return Ok(by_email);
    }
    match person.name_phone_key() {
        Some(key) => participants::table
            .filter(participants::dialogue_id.eq(dialogue_id))
            .filter(participants::name_phone_key.eq(key))
            .select(Participant::as_select())
            .first(conn)
            .optional(),
        None => Ok(None),
    }
}

/// The identity keys (email; name and phone) of everyone already in the dialogue.
pub fn identity_keys(conn: &mut DbConnection, dialogue_id: &str) -> QueryResult<HashSet<String>> {
    let rows: Vec<(Option<String>, String, Option<String>)> = participants::table
        .filter(participants::dialogue_id.eq(dialogue_id))
        .select((
            participants::email,
            participants::name_key,
            participants::phone,
        ))
        .load(conn)?;
    Ok(rows
        .iter()
        .flat_map(|(email, name_key, phone)| {
            stored_identity_keys(email.as_deref(), name_key, phone.as_deref())
        })
        .collect())
}

/// Gives the participant a new link token and code; the old ones stop working at once.
pub fn reissue(conn: &mut DbConnection, id: &str) -> QueryResult<(String, String)> {
    let token = secrets::new_token();
    let code = new_code();
    diesel::update(participants::table.find(id))
        .set((
            participants::token_hash.eq(secrets::hash_token(&token)),
            participants::code.eq(&code),
            participants::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok((token, code))
}

/// A new link token only (the short code stays); returns the token to put in an email.
pub fn rotate_token(conn: &mut DbConnection, id: &str) -> QueryResult<String> {
    let token = secrets::new_token();
    diesel::update(participants::table.find(id))
        .set((
            participants::token_hash.eq(secrets::hash_token(&token)),
            participants::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(token)
}

/// Records the person's consent and its purpose, unless they gave it before.
pub fn record_consent(conn: &mut DbConnection, id: &str, purpose: &str) -> QueryResult<()> {
    let at = now();
    diesel::update(
        participants::table
            .find(id)
            .filter(participants::consent_at.is_null()),
    )
    .set((
        participants::consent_at.eq(at),
        participants::consent_purpose.eq(purpose),
        participants::updated_at.eq(at),
    ))
    .execute(conn)
    .map(|_| ())
}

/// The dialogue's participants who have an email address (not purged), in name order.
pub fn with_email(conn: &mut DbConnection, dialogue_id: &str) -> QueryResult<Vec<Participant>> {
    participants::table
        .filter(participants::dialogue_id.eq(dialogue_id))
        .filter(participants::email.is_not_null())
        .filter(participants::purged_at.is_null())
        .order((participants::name_key.asc(), participants::id.asc()))
        .select(Participant::as_select())
        .load(conn)
}

/// Replaces a person's details (an organizer's correction), with the keys that keep them
/// unique in the dialogue. Their language, credentials and consent stay.
pub fn update_details(conn: &mut DbConnection, id: &str, person: &Person) -> QueryResult<()> {
    diesel::update(participants::table.find(id))
        .set((
            participants::full_name.eq(&person.full_name),
            participants::name_key.eq(text::fold(&person.full_name)),
            participants::email.eq(&person.email),
            participants::phone.eq(&person.phone),
            participants::category.eq(person.category.as_str()),
            participants::address.eq(&person.address),
            participants::email_key.eq(person.email_key()),
            participants::name_phone_key.eq(person.name_phone_key()),
            participants::updated_at.eq(now()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Deletes a person (their invitation first; votes go with them by the foreign keys).
pub fn delete(conn: &mut DbConnection, id: &str) -> QueryResult<()> {
    diesel::delete(participants::table.find(id))
        .execute(conn)
        .map(|_| ())
}
