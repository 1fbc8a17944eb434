//! Time and randomness come in through here, so tests can be deterministic.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use time::{Duration, OffsetDateTime};

pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;

    fn now_ms(&self) -> i64 {
        (self.now().unix_timestamp_nanos() / 1_000_000) as i64
    }
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    pub fn new(start: OffsetDateTime) -> ManualClock {
        ManualClock(Mutex::new(start))
    }

    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *t += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Source of identifiers: idempotency keys and the random part of references.
pub trait IdSource: Send + Sync {
    fn idempotency_key(&self) -> String;
    fn random_u32(&self) -> u32;
}

/// Random v4 UUIDs (36 characters, within Vipps' 50-character key limit).
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomIds;

impl IdSource for RandomIds {
    fn idempotency_key(&self) -> String {
        uuid::Uuid::new_v4().to_string()
    }

    fn random_u32(&self) -> u32 {
        rand::random()
    }
}

/// Counting ids for tests.
#[derive(Debug, Default)]
pub struct SequentialIds(AtomicU64);

impl IdSource for SequentialIds {
    fn idempotency_key(&self) -> String {
        format!("key-{:08}", self.0.fetch_add(1, Ordering::Relaxed))
    }

    fn random_u32(&self) -> u32 {
        self.0.fetch_add(1, Ordering::Relaxed) as u32
    }
}

/// RFC 3339 in UTC, the one text form of an instant in the database.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

pub fn parse_rfc3339(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}
