//! A short-lived copy of each dialogue's public JSON, for the page and API that everyone
//! (phones, the projector, the hall's screens) reads over and over.
//!
//! The database stays the only source of truth: an entry lives at most `TTL`, and this
//! process forgets an entry as soon as it changes the dialogue. Another instance (several
//! servers on PostgreSQL) or the CLI may change it too; readers then see the change within
//! `TTL`.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use actix_web::web::Bytes;

use super::model::DialogueStatus;

pub const TTL: Duration = Duration::from_secs(1);
/// Far more dialogues than a district holds; past it the cache starts over.
const MAX_ENTRIES: usize = 10_000;

struct Entry {
    fetched: Instant,
    status: DialogueStatus,
    json: Bytes,
}

#[derive(Default)]
pub struct DialogueCache {
    entries: RwLock<HashMap<String, Entry>>,
}

impl DialogueCache {
    /// The cached JSON and status, while fresh.
    pub fn get(&self, id: &str) -> Option<(DialogueStatus, Bytes)> {
        let entries = self.entries.read().ok()?;
        let entry = entries.get(id)?;
        (entry.fetched.elapsed() < TTL).then(|| (entry.status, entry.json.clone()))
    }

    pub fn put(&self, id: &str, status: DialogueStatus, json: Bytes) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(
                id.to_string(),
                Entry {
                    fetched: Instant::now(),
                    status,
                    json,
                },
            );
        }
    }

    /// Called after this process changes the dialogue.
    pub fn forget(&self, id: &str) {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_can_be_forgotten() {
        let cache = DialogueCache::default();
        cache.put("a", DialogueStatus::Open, Bytes::from_static(b"{}"));
        assert!(cache.get("a").is_some());
        cache.forget("a");
        assert!(cache.get("a").is_none());
        cache.put("b", DialogueStatus::Open, Bytes::from_static(b"{}"));
        std::thread::sleep(TTL + Duration::from_millis(50));
        assert!(cache.get("b").is_none());
    }
}
