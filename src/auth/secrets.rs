//! Passwords (argon2) and bearer tokens (random, stored as SHA-256).
//!
//! Tokens carry 256 bits of randomness, so a fast hash is enough to store them: a leaked
//! table gives nothing usable. Passwords are low-entropy and get argon2.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng;
use sha2::{Digest, Sha256};

use crate::error::AppError;

/// Argon2id over 7 MiB of memory in 5 passes: of the configurations OWASP's password storage
/// guidance lists as equal in defence (19 MiB in 2 passes, 12 in 3, 9 in 4, 7 in 5), the one
/// that trades the most memory for CPU. Each login holds this memory while it runs, and the
/// server is meant to stay under 64 MB resident even then (docs/PERFORMANCE.md). A stored
/// hash carries its own parameters, so hashes made with other ones still verify.
pub const PASSWORD_MEMORY_KIB: u32 = 7 * 1024;
pub const PASSWORD_PASSES: u32 = 5;

fn hasher() -> Result<Argon2<'static>, AppError> {
    let params = Params::new(PASSWORD_MEMORY_KIB, PASSWORD_PASSES, 1, None)
        .map_err(|e| AppError::unexpected(format!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

pub fn hash_password(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::unexpected(format!("hashing a password: {e}")))
}

/// True when `password` matches the stored hash, computed with the hash's own parameters;
/// a malformed hash never matches.
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to spend the same time on when the account does not exist, so that response
/// times do not tell which emails have accounts.
pub fn dummy_verify(password: &str) {
    static DUMMY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    if let Some(hash) = DUMMY.get_or_init(|| hash_password("dummy password for timing").ok()) {
        verify_password(password, hash);
    }
}

/// A new random token (for a link or a bearer header).
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::thread_rng().r#gen();
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn hash_token(token: &str) -> String {
    // In one write: pages and participants' requests hash a token each.
    format!("{:x}", Sha256::digest(token.as_bytes()))
}

/// A password for accounts created without one: 20 characters, easy to copy.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..20)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// The CSRF token of a browser: derived from its random cookie, so forms can carry it
/// and a cross-site page, which cannot read the cookie, cannot forge it.
pub fn csrf_for(cookie_value: &str) -> String {
    hash_token(&format!("csrf:{cookie_value}"))[..32].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_only_against_its_own_hash() {
        let hash = hash_password("mật khẩu đúng").unwrap();
        assert!(hash.starts_with("$argon2"));
        assert!(verify_password("mật khẩu đúng", &hash));
        assert!(!verify_password("mật khẩu sai", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn new_hashes_use_7_mib_in_5_passes_and_older_ones_still_verify() {
        let hash = hash_password("mật khẩu mới").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"), "{hash}");
        // As hashed before: the crate's default, 19 MiB in 2 passes.
        let salt = SaltString::generate(&mut OsRng);
        let older = Argon2::default()
            .hash_password("mật khẩu cũ".as_bytes(), &salt)
            .unwrap()
            .to_string();
        assert!(
            older.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{older}"
        );
        assert!(verify_password("mật khẩu cũ", &older));
        assert!(!verify_password("mật khẩu mới", &older));
    }

    #[test]
    fn tokens_are_long_random_and_hashed_stably() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert!(a.len() >= 43);
        assert_eq!(hash_token(&a), hash_token(&a));
        assert_eq!(hash_token(&a).len(), 64);
        assert_ne!(hash_token(&a), hash_token(&b));
        // SHA-256 in lower-case hex, as the stored hashes were written: FIPS 180-2's "abc".
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn generated_passwords_are_long_enough() {
        let p = generate_password();
        assert_eq!(p.chars().count(), 20);
        assert_ne!(p, generate_password());
    }
}
