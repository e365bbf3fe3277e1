//! Short-lived copies of what everyone at a dialogue reads over and over: the public queue,
//! the public pages. The database stays the only source of truth; a copy is served for at
//! most `max_age` after it was read, so a change (a vote, an approval, another instance's
//! write) shows within that time.
//!
//! When a copy is older than half its life, the first reader refreshes it while the others
//! keep getting the copy, so a popular entry never sends the whole hall to the database at
//! the same moment; a copy that nobody refreshed by `max_age` is not served at all. Then,
//! or when there is no copy yet, [`ShortCache::get_or_fill`] lets one reader per key read
//! afresh while the others wait for what it reads: a hall arriving at an expired page costs
//! one read, not one per open connection.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

struct Entry<V> {
    fetched: Instant,
    value: V,
    refreshing: AtomicBool,
}

pub struct ShortCache<V> {
    max_age: Duration,
    /// Past it the cache starts over rather than grow: set far above the entries a
    /// district's dialogues need, low enough to bound the memory.
    max_entries: usize,
    entries: RwLock<HashMap<String, Entry<V>>>,
    /// One gate per key being filled: who holds it reads afresh, the others wait their turn
    /// and then find the copy it left.
    filling: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// A caller's hold on a key's gate; the gate goes once nobody holds it, however the
/// caller ends (a request dropped while waiting too).
struct Gate<'a> {
    filling: &'a Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    key: &'a str,
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl<'a> Gate<'a> {
    fn enter(
        filling: &'a Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
        key: &'a str,
    ) -> Gate<'a> {
        let mut map = filling.lock().unwrap_or_else(|p| p.into_inner());
        let lock = map.entry(key.to_string()).or_default().clone();
        Gate { filling, key, lock }
    }
}

impl Drop for Gate<'_> {
    fn drop(&mut self) {
        let mut map = self.filling.lock().unwrap_or_else(|p| p.into_inner());
        // Holds are taken only under the map's lock, so the count cannot grow meanwhile;
        // two references are the map's and this one.
        if Arc::strong_count(&self.lock) <= 2 {
            map.remove(self.key);
        }
    }
}

impl<V: Clone> ShortCache<V> {
    pub fn new(max_age: Duration, max_entries: usize) -> ShortCache<V> {
        ShortCache {
            max_age,
            max_entries,
            entries: RwLock::new(HashMap::new()),
            filling: Mutex::default(),
        }
    }

    /// The copy, or what `fill` reads, kept for the next readers. Of the callers that find
    /// no copy they may serve, one at a time per key runs `fill`; the others wait and, if it
    /// succeeded, get its copy without reading. A failed `fill` is not kept.
    pub async fn get_or_fill<E, F, Fut>(&self, key: &str, fill: F) -> Result<V, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        if let Some(value) = self.get(key) {
            return Ok(value);
        }
        let gate = Gate::enter(&self.filling, key);
        let _turn = gate.lock.lock().await;
        // Filled while this caller waited?
        if let Some(value) = self.young(key) {
            return Ok(value);
        }
        let filled = fill().await;
        match &filled {
            Ok(value) => self.put(key, value.clone()),
            Err(_) => self.release(key),
        }
        filled
    }

    /// The copy if it is in the first half of its life (just filled by someone else).
    fn young(&self, key: &str) -> Option<V> {
        let entries = self.entries.read().ok()?;
        let entry = entries.get(key)?;
        (entry.fetched.elapsed() < self.max_age / 2).then(|| entry.value.clone())
    }

    /// The copy, unless the caller should read afresh (and `put` what it read).
    pub fn get(&self, key: &str) -> Option<V> {
        self.get_at(key, Instant::now())
    }

    fn get_at(&self, key: &str, now: Instant) -> Option<V> {
        let entries = self.entries.read().ok()?;
        let entry = entries.get(key)?;
        let age = now.saturating_duration_since(entry.fetched);
        if age < self.max_age / 2 {
            return Some(entry.value.clone());
        }
        if age < self.max_age && entry.refreshing.swap(true, Ordering::AcqRel) {
            // Someone else is reading afresh; this copy is still young enough.
            return Some(entry.value.clone());
        }
        None
    }

    pub fn put(&self, key: &str, value: V) {
        self.put_at(key, value, Instant::now())
    }

    fn put_at(&self, key: &str, value: V, now: Instant) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= self.max_entries && !entries.contains_key(key) {
                entries.clear();
            }
            entries.insert(
                key.to_string(),
                Entry {
                    fetched: now,
                    value,
                    refreshing: AtomicBool::new(false),
                },
            );
        }
    }

    /// Gives up a refresh this caller claimed but could not finish (the read failed), so
    /// the next reader tries.
    pub fn release(&self, key: &str) {
        if let Ok(entries) = self.entries.read()
            && let Some(entry) = entries.get(key)
        {
            entry.refreshing.store(false, Ordering::Release);
        }
    }

    /// Forgets every entry whose key starts with `prefix` (after this process changed it).
    pub fn forget_prefix(&self, prefix: &str) {
        if let Ok(mut entries) = self.entries.write() {
            entries.retain(|key, _| !key.starts_with(prefix));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_copy_is_served_while_fresh_and_never_past_its_age() {
        let cache = ShortCache::new(ms(1000), 10);
        let t = Instant::now();
        assert_eq!(cache.get_at("a", t), None::<u32>);
        cache.put_at("a", 1, t);
        assert_eq!(cache.get_at("a", t + ms(400)), Some(1));
        // Past half its life: the first reader refreshes, the next ones get the copy.
        assert_eq!(cache.get_at("a", t + ms(600)), None);
        assert_eq!(cache.get_at("a", t + ms(700)), Some(1));
        // Past its age nobody gets it, refreshing or not.
        assert_eq!(cache.get_at("a", t + ms(1000)), None);
        assert_eq!(cache.get_at("a", t + ms(1100)), None);
        cache.put_at("a", 2, t + ms(1100));
        assert_eq!(cache.get_at("a", t + ms(1200)), Some(2));
    }

    #[test]
    fn a_failed_refresh_lets_the_next_reader_try() {
        let cache = ShortCache::new(ms(1000), 10);
        let t = Instant::now();
        cache.put_at("a", 1, t);
        assert_eq!(cache.get_at("a", t + ms(600)), None);
        assert_eq!(cache.get_at("a", t + ms(650)), Some(1));
        cache.release("a");
        assert_eq!(cache.get_at("a", t + ms(700)), None);
    }

    #[tokio::test]
    async fn readers_that_find_no_copy_wait_for_one_read_instead_of_each_reading() {
        let cache = ShortCache::new(Duration::from_secs(10), 10);
        let reads = std::sync::atomic::AtomicUsize::new(0);
        let fill = || async {
            reads.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(ms(20)).await;
            Ok::<_, ()>(7)
        };
        let readers = (0..50).map(|_| cache.get_or_fill("page", fill));
        let answers = futures_util::future::join_all(readers).await;
        assert!(answers.iter().all(|a| *a == Ok(7)));
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        assert!(
            cache.filling.lock().unwrap().is_empty(),
            "no gate is left behind"
        );
    }

    #[tokio::test]
    async fn a_failed_fill_is_not_kept_and_the_next_waiter_reads_again() {
        let cache = ShortCache::new(Duration::from_secs(10), 10);
        let reads = std::sync::atomic::AtomicUsize::new(0);
        let fill = || async {
            let n = reads.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(ms(5)).await;
            if n == 0 {
                Err("the database is away")
            } else {
                Ok(n)
            }
        };
        let answers =
            futures_util::future::join_all((0..3).map(|_| cache.get_or_fill("page", fill))).await;
        assert_eq!(answers, vec![Err("the database is away"), Ok(1), Ok(1)]);
        assert_eq!(reads.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn entries_can_be_forgotten_by_prefix() {
        let cache = ShortCache::new(Duration::from_secs(10), 10);
        cache.put("d1/queue", 1);
        cache.put("d1/page", 2);
        cache.put("d2/queue", 3);
        cache.forget_prefix("d1/");
        assert_eq!(cache.get("d1/queue"), None);
        assert_eq!(cache.get("d1/page"), None);
        assert_eq!(cache.get("d2/queue"), Some(3));
    }
}
