//! The organizer PIN: an Argon2 hash in `luka.toml` (never the PIN itself)
//! and the lockout rule that makes guessing a 4-digit PIN impractical.
//!
//! Hashing is deliberately slow (tens of milliseconds on a Pi), so callers
//! run [`PinHash::verify`] off the UI thread.

use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// The PIN used in training mode when `[ui] pin_hash` is not set.
pub const TRAINING_PIN: &str = "1234";

/// A validated Argon2 PHC string (`$argon2id$v=19$...`).
#[derive(Clone, PartialEq, Eq)]
pub struct PinHash(String);

impl std::fmt::Debug for PinHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PinHash(***)")
    }
}

impl PinHash {
    /// Parses a hash as written by `luka pin-hash`.
    pub fn parse(phc: &str) -> Result<PinHash, String> {
        PasswordHash::new(phc.trim()).map_err(|e| format!("not an Argon2 hash ({e})"))?;
        Ok(PinHash(phc.trim().to_string()))
    }

    /// Hashes a new PIN (4–12 digits) with a random salt.
    pub fn create(pin: &str) -> Result<PinHash, String> {
        if !(4..=12).contains(&pin.len()) || !pin.chars().all(|c| c.is_ascii_digit()) {
            return Err("a PIN is 4 to 12 digits".into());
        }
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        let hash = Argon2::default()
            .hash_password(pin.as_bytes(), &salt)
            .map_err(|e| e.to_string())?;
        Ok(PinHash(hash.to_string()))
    }

    pub fn verify(&self, pin: &str) -> bool {
        PasswordHash::new(&self.0).is_ok_and(|h| {
            Argon2::default()
                .verify_password(pin.as_bytes(), &h)
                .is_ok()
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Wrong attempts allowed before the first lockout.
pub const FREE_ATTEMPTS: u32 = 3;
/// The first lockout; each further wrong attempt doubles it, up to [`MAX_LOCKOUT`].
pub const FIRST_LOCKOUT: Duration = Duration::from_secs(30);
pub const MAX_LOCKOUT: Duration = Duration::from_secs(15 * 60);

/// Counts wrong PINs and says when the next attempt is allowed. Pure: the
/// caller passes the instant.
#[derive(Debug, Default, Clone)]
pub struct Lockout {
    failures: u32,
    until: Option<Instant>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// The attempt may be checked.
    Allowed,
    /// Locked for this much longer.
    Locked(Duration),
}

impl Lockout {
    pub fn check(&self, now: Instant) -> Attempt {
        match self.until {
            Some(until) if until > now => Attempt::Locked(until - now),
            _ => Attempt::Allowed,
        }
    }

    /// Records a wrong PIN; returns the lockout it starts, if any.
    pub fn failed(&mut self, now: Instant) -> Option<Duration> {
        self.failures += 1;
        if self.failures < FREE_ATTEMPTS {
            return None;
        }
        let doublings = (self.failures - FREE_ATTEMPTS).min(16);
        let wait = FIRST_LOCKOUT
            .saturating_mul(1 << doublings)
            .min(MAX_LOCKOUT);
        self.until = Some(now + wait);
        Some(wait)
    }

    pub fn succeeded(&mut self) {
        *self = Lockout::default();
    }

    pub fn failures(&self) -> u32 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_never_show_the_pin() {
        let h = PinHash::create("4321").unwrap();
        assert!(h.verify("4321"));
        assert!(!h.verify("1234"));
        assert!(!h.as_str().contains("4321"));
        assert_eq!(format!("{h:?}"), "PinHash(***)");
        assert_eq!(PinHash::parse(h.as_str()).unwrap(), h);
        assert!(PinHash::parse("1234").is_err());
        assert!(PinHash::create("12").is_err());
        assert!(PinHash::create("12ab").is_err());
    }

    #[test]
    fn lockout_starts_after_free_attempts_and_doubles() {
        let t0 = Instant::now();
        let mut l = Lockout::default();
        assert_eq!(l.failed(t0), None);
        assert_eq!(l.failed(t0), None);
        assert_eq!(l.failed(t0), Some(FIRST_LOCKOUT));
        assert_eq!(l.check(t0), Attempt::Locked(FIRST_LOCKOUT));
        let later = t0 + FIRST_LOCKOUT;
        assert_eq!(l.check(later), Attempt::Allowed);
        assert_eq!(l.failed(later), Some(FIRST_LOCKOUT * 2));
        for _ in 0..20 {
            l.failed(later);
        }
        assert_eq!(l.check(later), Attempt::Locked(MAX_LOCKOUT));
        l.succeeded();
        assert_eq!(l.check(later), Attempt::Allowed);
        assert_eq!(l.failures(), 0);
    }
}
