//! Per-reference sliding-window rate limits and the access-token store.
//!
//! Owns counting and expiry only; it must never look at a payment or a request body.
//! Time comes in as a parameter so every rule is testable without sleeping.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use tokio::time::Instant;

/// The window Vipps states its limits in ("120 reads per minute per reference").
pub(crate) const WINDOW: Duration = Duration::from_secs(60);

/// Requests admitted per key in the last [`WINDOW`]. Only admitted requests count, so a
/// client that backs off after a 429 gets through once the window has moved on.
#[derive(Debug, Default)]
pub(crate) struct RateWindows {
    seen: HashMap<String, VecDeque<Instant>>,
    /// The map's size that triggers the next sweep of quiet keys.
    sweep_at: usize,
}

impl RateWindows {
    /// `Err(wait)` when `key` already had `limit` requests in the window; `wait` is how
    /// long until the oldest one leaves it.
    pub fn admit(&mut self, key: &str, limit: u32, now: Instant) -> Result<(), Duration> {
        self.forget_quiet_keys(now);
        let q = self.seen.entry(key.to_string()).or_default();
        while q.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
            q.pop_front();
        }
        if q.len() >= limit as usize {
            let oldest = q.front().copied().unwrap_or(now);
            return Err(WINDOW.saturating_sub(now.duration_since(oldest)));
        }
        q.push_back(now);
        Ok(())
    }

    /// Drops keys with nothing left in the window (they count as zero either way), so a
    /// training day does not keep a queue for every payment it ever saw. Runs when the
    /// map has doubled since the last sweep, which keeps it cheap per request.
    fn forget_quiet_keys(&mut self, now: Instant) {
        if self.seen.len() < self.sweep_at {
            return;
        }
        self.seen
            .retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < WINDOW));
        self.sweep_at = (self.seen.len() * 2).max(64);
    }
}

/// Seconds for a `Retry-After` header: rounded up, so a client that waits that long is
/// admitted, and at least 1 so it never retries in a tight loop.
pub(crate) fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

/// Issued access tokens and when each stops working.
#[derive(Debug, Default)]
pub(crate) struct Tokens {
    valid_until: HashMap<String, Instant>,
}

impl Tokens {
    pub fn issue(&mut self, token: String, now: Instant, lifetime: Duration) {
        // Expired tokens are dropped here so a long training day does not grow the map.
        self.valid_until.retain(|_, until| *until > now);
        self.valid_until.insert(token, now + lifetime);
    }

    pub fn is_valid(&self, token: &str, now: Instant) -> bool {
        self.valid_until
            .get(token)
            .is_some_and(|until| *until > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_admits_up_to_limit_then_says_how_long_to_wait() {
        let t0 = Instant::now();
        let mut w = RateWindows::default();
        for i in 0..3 {
            assert!(w.admit("r", 3, t0 + Duration::from_secs(i)).is_ok());
        }
        let wait = w.admit("r", 3, t0 + Duration::from_secs(10)).unwrap_err();
        assert_eq!(wait, Duration::from_secs(50));
        assert!(w.admit("other", 3, t0).is_ok(), "limits are per key");
        assert!(
            w.admit("r", 3, t0 + WINDOW).is_ok(),
            "oldest left the window"
        );
    }

    #[test]
    fn quiet_keys_are_forgotten_and_busy_ones_kept() {
        let t0 = Instant::now();
        let mut w = RateWindows::default();
        for i in 0..1_000 {
            w.admit(&format!("old-{i}"), 3, t0).unwrap();
        }
        let later = t0 + WINDOW;
        w.admit("busy", 1, later).unwrap();
        for i in 0..200 {
            w.admit(&format!("new-{i}"), 3, later).unwrap();
        }
        assert!(w.seen.len() <= 201 + 64, "{} keys kept", w.seen.len());
        assert!(
            w.admit("busy", 1, later).is_err(),
            "a key still in its window keeps its count"
        );
    }

    #[test]
    fn retry_after_rounds_up_and_is_never_zero() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(2001)), 3);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }

    #[test]
    fn tokens_expire() {
        let t0 = Instant::now();
        let mut t = Tokens::default();
        t.issue("a".into(), t0, Duration::from_secs(5));
        assert!(t.is_valid("a", t0 + Duration::from_secs(4)));
        assert!(!t.is_valid("a", t0 + Duration::from_secs(5)));
        assert!(!t.is_valid("b", t0));
    }
}
