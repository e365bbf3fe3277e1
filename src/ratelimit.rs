//! Limits on guessing passwords: a burst of attempts per client address, then one every
//! few seconds. Kept per process (a restart forgets it), which is enough to make guessing slow.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use actix_web::HttpRequest;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::error::AppError;

const BURST: u32 = 10;
const REFILL_EVERY: Duration = Duration::from_secs(3);

#[derive(Clone)]
pub struct LoginLimiter(Arc<DefaultKeyedRateLimiter<IpAddr>>);

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter::new(BURST, REFILL_EVERY)
    }
}

impl LoginLimiter {
    /// `burst` attempts at once, then one more every `refill`.
    pub fn new(burst: u32, refill: Duration) -> LoginLimiter {
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(refill)
            .unwrap_or_else(|| Quota::per_minute(burst))
            .allow_burst(burst);
        LoginLimiter(Arc::new(DefaultKeyedRateLimiter::keyed(quota)))
    }

    /// Counts one attempt from `ip`; too many → 429 with the seconds to wait.
    pub fn check(&self, ip: Option<IpAddr>) -> Result<(), AppError> {
        let Some(ip) = ip else { return Ok(()) };
        self.0.check_key(&ip).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            AppError::RateLimited {
                retry_after_seconds: wait.as_secs().max(1),
            }
        })
    }
}

/// At most `n` events a minute per key (a burst of `n`, refilled evenly), for keys that are
/// not addresses: a dialogue, or one key for the whole service.
#[derive(Clone)]
pub struct KeyLimiter(Arc<DefaultKeyedRateLimiter<String>>);

impl KeyLimiter {
    pub fn per_minute(n: u32) -> KeyLimiter {
        let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        KeyLimiter(Arc::new(DefaultKeyedRateLimiter::keyed(Quota::per_minute(
            n,
        ))))
    }

    /// Counts one event for `key`; too many → 429 with the seconds to wait.
    pub fn check(&self, key: &str) -> Result<(), AppError> {
        self.0.check_key(&key.to_string()).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            AppError::RateLimited {
                retry_after_seconds: wait.as_secs().max(1),
            }
        })
    }
}

/// `n` a minute per address, as `LoginLimiter` counts.
pub fn per_address_per_minute(n: u32) -> LoginLimiter {
    let n = n.max(1);
    LoginLimiter::new(n, Duration::from_secs(60) / n)
}

/// Slows down guessing without slowing down the rightful user: only failures count, and a
/// client over the limit is refused *before* its next attempt is looked up, right or wrong.
#[derive(Clone, Default)]
pub struct FailureLimiter {
    failures: LoginLimiter,
    blocked: Arc<std::sync::Mutex<std::collections::HashMap<IpAddr, std::time::Instant>>>,
}

impl FailureLimiter {
    /// 429 while the client is blocked.
    pub fn ensure_allowed(&self, ip: Option<IpAddr>) -> Result<(), AppError> {
        let Some(ip) = ip else { return Ok(()) };
        let now = std::time::Instant::now();
        let mut blocked = self
            .blocked
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        blocked.retain(|_, until| *until > now);
        match blocked.get(&ip) {
            Some(until) => Err(AppError::RateLimited {
                retry_after_seconds: until.duration_since(now).as_secs().max(1),
            }),
            None => Ok(()),
        }
    }

    /// Counts a failed attempt; past the allowance the client is blocked for a while.
    pub fn record_failure(&self, ip: Option<IpAddr>) -> Result<(), AppError> {
        let Some(ip) = ip else { return Ok(()) };
        if let Err(AppError::RateLimited {
            retry_after_seconds,
        }) = self.failures.check(Some(ip))
        {
            let until =
                std::time::Instant::now() + Duration::from_secs(retry_after_seconds.max(1) * 10);
            let mut blocked = self
                .blocked
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            blocked.insert(ip, until);
            return Err(AppError::RateLimited {
                retry_after_seconds: retry_after_seconds.max(1) * 10,
            });
        }
        Ok(())
    }
}

/// The client's address: the peer, or the last X-Forwarded-For hop when the peer is the
/// configured proxy (any other peer could write that header itself).
pub fn client_ip(req: &HttpRequest, trusted_proxy: Option<IpAddr>) -> Option<IpAddr> {
    let peer = req.peer_addr().map(|a| a.ip());
    if peer.is_some() && peer == trusted_proxy {
        let forwarded = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|ip| ip.trim().parse().ok());
        return forwarded.or(peer);
    }
    peer
}
