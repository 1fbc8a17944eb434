//! One access-token cache for every client that fetches a bearer token
//! (Vipps Access Token API, PowerOffice Go client credentials). How a token is
//! fetched is the client's business: it hands [`TokenCache::get`] an async
//! fetch that answers a token and its lifetime. The rules are the cache's:
//!
//! 1. A token is used until [`refresh_after`] of its lifetime has passed,
//!    counted from when its fetch started (so network time eats into the
//!    margin, never into the token's life): 5 minutes before the stated
//!    expiry, or at 90 % of the lifetime when that is shorter.
//! 2. Single flight: concurrent callers that find no usable token wait for
//!    the one fetch under way (an async mutex held across it) and take its
//!    token; they never each ask for one of their own.
//! 3. A failed fetch caches nothing: the error goes to the caller that
//!    fetched, and the next caller fetches again. A fetch abandoned half-way
//!    (its caller's future dropped) caches nothing either.
//! 4. After a 401 the caller calls [`TokenCache::invalidate`] with the token
//!    that was refused and tries once more. Only that token is forgotten: when
//!    several callers were refused the same token, the first one's
//!    invalidation makes one new fetch and the others' find it already gone,
//!    so they use the new token instead of throwing it away.
//! 5. [`TokenCache::fetches`] counts fetches started (token requests sent or
//!    attempted), successful or not.
//!
//! Must never log, print or put into an error a token: [`Token`] and the
//! cache's `Debug` show only that a token is there.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use crate::secret::Secret;

/// What a fetch answers: the token and how long the service says it lives.
pub struct Fetched {
    pub token: Secret,
    pub lifetime: Duration,
}

impl fmt::Debug for Fetched {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fetched")
            .field("token", &self.token)
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

/// A token handed out by the cache. It remembers which fetch it came from, so
/// invalidating it after a 401 cannot forget a newer one.
#[derive(Clone)]
pub struct Token {
    secret: Secret,
    serial: u64,
}

impl Token {
    /// The value itself, for the one place that sends it (an HTTP header).
    pub fn expose(&self) -> &str {
        self.secret.expose()
    }

    pub fn secret(&self) -> &Secret {
        &self.secret
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token(#{}, ***)", self.serial)
    }
}

struct Cached {
    token: Token,
    refresh_at: Instant,
}

/// Where the cache reads the time: `Instant::now`, or a test's own clock.
pub type Now = Arc<dyn Fn() -> Instant + Send + Sync>;

pub struct TokenCache {
    cached: Mutex<Option<Cached>>,
    /// Fetches started so far, for tests and benchmarks.
    fetches: AtomicU64,
    now: Now,
}

impl Default for TokenCache {
    fn default() -> Self {
        TokenCache::with_clock(Arc::new(Instant::now))
    }
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let held = match self.cached.try_lock() {
            Ok(c) => {
                if c.is_some() {
                    "a token"
                } else {
                    "none"
                }
            }
            Err(_) => "a fetch under way",
        };
        f.debug_struct("TokenCache")
            .field("holds", &held)
            .field("fetches", &self.fetches())
            .finish()
    }
}

/// Refresh this long before the stated expiry, or at 90 % of the lifetime
/// when that is shorter, so a call never leaves with a token about to lapse.
pub fn refresh_after(lifetime: Duration) -> Duration {
    let margin = Duration::from_secs(300).min(lifetime / 10);
    lifetime.saturating_sub(margin)
}

impl TokenCache {
    /// A cache that reads the time from `now` (tests move it by hand).
    pub fn with_clock(now: Now) -> TokenCache {
        TokenCache {
            cached: Mutex::new(None),
            fetches: AtomicU64::new(0),
            now,
        }
    }

    /// A usable token, and whether getting it took a fetch. `fetch` runs only
    /// when there is no usable token, and at most once at a time per cache.
    pub async fn get<F, Fut, E>(&self, fetch: F) -> Result<(Token, bool), E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Fetched, E>>,
    {
        let mut guard = self.cached.lock().await;
        let now = (self.now)();
        if let Some(c) = guard.as_ref().filter(|c| now < c.refresh_at) {
            return Ok((c.token.clone(), false));
        }
        let started = now;
        let serial = self.fetches.fetch_add(1, Ordering::Relaxed) + 1;
        let fetched = fetch().await?;
        let token = Token {
            secret: fetched.token,
            serial,
        };
        *guard = Some(Cached {
            token: token.clone(),
            refresh_at: started + refresh_after(fetched.lifetime),
        });
        Ok((token, true))
    }

    /// Forgets `refused` after a 401, so the next call fetches a new token;
    /// a newer token (fetched since by another caller) is kept.
    pub async fn invalidate(&self, refused: &Token) {
        let mut guard = self.cached.lock().await;
        if guard
            .as_ref()
            .is_some_and(|c| c.token.serial == refused.serial)
        {
            *guard = None;
        }
    }

    /// Token fetches started so far, successful or not.
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex as StdMutex;

    use super::*;

    /// A clock that moves only when told.
    #[derive(Clone)]
    struct Hand(Arc<StdMutex<Instant>>);

    impl Hand {
        fn new() -> Hand {
            Hand(Arc::new(StdMutex::new(Instant::now())))
        }
        fn advance(&self, by: Duration) {
            *self.0.lock().unwrap() += by;
        }
        fn cache(&self) -> TokenCache {
            let hand = self.clone();
            TokenCache::with_clock(Arc::new(move || *hand.0.lock().unwrap()))
        }
    }

    const SECRET: &str = "tok-very-secret-123";

    fn ok(n: u32, lifetime: u64) -> Result<Fetched, String> {
        Ok(Fetched {
            token: Secret::new(format!("{SECRET}-{n}")),
            lifetime: Duration::from_secs(lifetime),
        })
    }

    #[test]
    fn refreshes_before_expiry() {
        let s = Duration::from_secs;
        // PowerOffice v2 tokens live 20 minutes: refreshed after 18.
        assert_eq!(refresh_after(s(1200)), s(1080));
        // Vipps tokens live an hour (or a day): refreshed 5 minutes early.
        assert_eq!(refresh_after(s(3600)), s(3300));
        assert_eq!(refresh_after(s(86_400)), s(86_100));
        assert_eq!(refresh_after(s(60)), s(54));
        assert_eq!(refresh_after(s(10)), s(9));
        assert_eq!(refresh_after(s(0)), s(0));
    }

    #[tokio::test]
    async fn a_token_is_reused_then_refreshed_ahead_of_expiry() {
        let hand = Hand::new();
        let cache = hand.cache();
        let (t1, fetched) = cache.get(|| async { ok(1, 1200) }).await.unwrap();
        assert!(fetched);
        hand.advance(Duration::from_secs(1079));
        let (t, fetched) = cache.get(|| async { ok(2, 1200) }).await.unwrap();
        assert!(!fetched);
        assert_eq!(t.expose(), t1.expose());
        // At 18 of its 20 minutes: a new one, though the old has 2 left.
        hand.advance(Duration::from_secs(1));
        let (t2, fetched) = cache.get(|| async { ok(2, 1200) }).await.unwrap();
        assert!(fetched);
        assert_eq!(t2.expose(), format!("{SECRET}-2"));
        assert_eq!(cache.fetches(), 2);
    }

    #[tokio::test]
    async fn the_lifetime_counts_from_when_the_fetch_started() {
        let hand = Hand::new();
        let cache = hand.cache();
        cache
            .get(|| async {
                // A slow token endpoint: 30 s of the 60 s lifetime gone.
                hand.advance(Duration::from_secs(30));
                ok(1, 60)
            })
            .await
            .unwrap();
        hand.advance(Duration::from_secs(23));
        let (_, fetched) = cache.get(|| async { ok(2, 60) }).await.unwrap();
        assert!(!fetched, "53 s after the fetch started");
        hand.advance(Duration::from_secs(1));
        let (_, fetched) = cache.get(|| async { ok(2, 60) }).await.unwrap();
        assert!(fetched, "54 s after the fetch started, not after it ended");
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_fetch() {
        let cache = Arc::new(TokenCache::default());
        let calls = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let (cache, calls) = (cache.clone(), calls.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get(|| async {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        ok(1, 3600)
                    })
                    .await
                    .unwrap()
            }));
        }
        let mut fetched = 0;
        for t in tasks {
            let (token, f) = t.await.unwrap();
            assert_eq!(token.expose(), format!("{SECRET}-1"));
            fetched += u32::from(f);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(fetched, 1, "one caller fetched, fifteen waited for it");
        assert_eq!(cache.fetches(), 1);
    }

    #[tokio::test]
    async fn a_refused_token_is_fetched_again_exactly_once() {
        let cache = TokenCache::default();
        let (old, _) = cache.get(|| async { ok(1, 3600) }).await.unwrap();
        // Two calls were refused the same token (401): both invalidate it.
        let again = old.clone();
        cache.invalidate(&old).await;
        let (new, fetched) = cache.get(|| async { ok(2, 3600) }).await.unwrap();
        assert!(fetched);
        cache.invalidate(&again).await;
        let (same, fetched) = cache.get(|| async { ok(3, 3600) }).await.unwrap();
        assert!(
            !fetched,
            "the late invalidation must not forget the new token"
        );
        assert_eq!(same.expose(), new.expose());
        assert_eq!(cache.fetches(), 2);
        // Invalidating the current token does forget it.
        cache.invalidate(&same).await;
        let (_, fetched) = cache.get(|| async { ok(3, 3600) }).await.unwrap();
        assert!(fetched);
        assert_eq!(cache.fetches(), 3);
    }

    #[tokio::test]
    async fn a_failed_fetch_is_not_cached() {
        let cache = TokenCache::default();
        let e = cache
            .get(|| async { Err::<Fetched, _>("token endpoint answered 503".to_string()) })
            .await
            .unwrap_err();
        assert_eq!(e, "token endpoint answered 503");
        let (t, fetched) = cache.get(|| async { ok(1, 3600) }).await.unwrap();
        assert!(fetched);
        assert_eq!(t.expose(), format!("{SECRET}-1"));
        assert_eq!(cache.fetches(), 2, "attempts are counted, failed or not");
    }

    #[tokio::test]
    async fn an_abandoned_fetch_is_not_cached() {
        let cache = TokenCache::default();
        let never = cache.get(|| async {
            std::future::pending::<()>().await;
            ok(1, 3600)
        });
        assert!(
            tokio::time::timeout(Duration::from_millis(2), never)
                .await
                .is_err()
        );
        let (t, fetched) = cache.get(|| async { ok(2, 3600) }).await.unwrap();
        assert!(fetched);
        assert_eq!(t.expose(), format!("{SECRET}-2"));
    }

    #[tokio::test]
    async fn tokens_never_print() {
        let cache = TokenCache::default();
        let (t, _) = cache.get(|| async { ok(1, 3600) }).await.unwrap();
        let shown = format!("{t:?} {cache:?} {:?} {:?}", t.secret(), ok(2, 1).unwrap());
        assert!(
            !shown.contains("very-secret") && !shown.contains("tok-"),
            "{shown}"
        );
        assert!(shown.contains("***"), "{shown}");
    }
}
