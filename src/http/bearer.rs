//! One request with a bearer token from a [`TokenCache`], and the one rule
//! both clients follow when it is refused: a 401 forgets the refused token,
//! fetches a fresh one and tries exactly once more. A token can be revoked or
//! expire early on the service's side; a second 401, with a token fetched a
//! moment ago, means the credentials themselves are wrong, and trying again
//! would only hammer the token endpoint.
//!
//! A 401 is refused before anything is applied, so the second try can never
//! apply a request twice. The caller builds and sends the request and reads
//! the answer; this file only decides whether to send it again.

use std::future::Future;

use super::token::{Fetched, Token, TokenCache};

/// The status of an answer, so the rule can be tested without a network.
pub trait Status {
    fn status(&self) -> u16;
}

impl Status for reqwest::Response {
    fn status(&self) -> u16 {
        reqwest::Response::status(self).as_u16()
    }
}

/// What [`send`] got back: the last answer (a 401 only when a fresh token
/// was refused too) and what it took, for callers that count requests.
#[derive(Debug)]
pub struct Sent<R> {
    pub answer: R,
    /// Requests sent: 1, or 2 after a 401.
    pub attempts: u32,
    /// Token fetches it took: 0 when the cached token was used throughout.
    pub fetches: u32,
}

impl<R: Status> Sent<R> {
    /// A fresh token was refused too: the credentials are wrong.
    pub fn refused(&self) -> bool {
        self.answer.status() == 401
    }
}

/// Sends with a token from `cache` (fetched with `fetch` when there is none
/// usable) and, after a 401, once more with a fresh one. `send` builds the
/// request with the token it is given and sends it; its errors and the
/// fetch's are the caller's own.
pub async fn send<R, E, F, FFut, S, SFut>(
    cache: &TokenCache,
    mut fetch: F,
    mut send: S,
) -> Result<Sent<R>, E>
where
    R: Status,
    F: FnMut() -> FFut,
    FFut: Future<Output = Result<Fetched, E>>,
    S: FnMut(&Token) -> SFut,
    SFut: Future<Output = Result<R, E>>,
{
    let mut fetches = 0;
    let mut attempts = 0;
    loop {
        let (token, fetched) = cache.get(&mut fetch).await?;
        fetches += u32::from(fetched);
        attempts += 1;
        let answer = send(&token).await?;
        if answer.status() != 401 || attempts == 2 {
            return Ok(Sent {
                answer,
                attempts,
                fetches,
            });
        }
        cache.invalidate(&token).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use super::*;
    use crate::secret::Secret;

    impl Status for u16 {
        fn status(&self) -> u16 {
            *self
        }
    }

    async fn fetch_numbered(n: &Mutex<u32>) -> Result<Fetched, String> {
        let mut n = n.lock().unwrap();
        *n += 1;
        Ok(Fetched {
            token: Secret::new(format!("token-{n}")),
            lifetime: Duration::from_secs(3600),
        })
    }

    /// Sends to a service that answers `answers` in turn, recording the token of each try.
    async fn run(cache: &TokenCache, answers: &[u16]) -> (Sent<u16>, Vec<String>) {
        let fetched = Mutex::new(0);
        let seen = Mutex::new(Vec::new());
        let next = Mutex::new(answers.iter().copied());
        let sent = send(
            cache,
            || fetch_numbered(&fetched),
            |t: &Token| {
                seen.lock().unwrap().push(t.expose().to_string());
                let a = next.lock().unwrap().next().expect("no more answers");
                async move { Ok::<_, String>(a) }
            },
        )
        .await
        .unwrap();
        (sent, seen.into_inner().unwrap())
    }

    #[tokio::test]
    async fn an_accepted_token_is_sent_once() {
        let cache = TokenCache::default();
        let (sent, tokens) = run(&cache, &[200]).await;
        assert_eq!((sent.answer, sent.attempts, sent.fetches), (200, 1, 1));
        assert_eq!(tokens, ["token-1"]);
        let (sent, _) = run(&cache, &[404]).await;
        assert_eq!((sent.answer, sent.attempts, sent.fetches), (404, 1, 0));
        assert!(!sent.refused(), "only a 401 is a refusal");
    }

    #[tokio::test]
    async fn a_401_costs_one_fresh_token_and_one_more_try() {
        let cache = TokenCache::default();
        let (sent, tokens) = run(&cache, &[401, 201]).await;
        assert_eq!((sent.answer, sent.attempts, sent.fetches), (201, 2, 2));
        assert!(!sent.refused());
        assert_eq!(
            tokens,
            ["token-1", "token-2"],
            "the refused token is forgotten"
        );
    }

    #[tokio::test]
    async fn a_second_401_is_the_answer_not_a_third_try() {
        let cache = TokenCache::default();
        let (sent, tokens) = run(&cache, &[401, 401]).await;
        assert_eq!((sent.answer, sent.attempts), (401, 2));
        assert!(sent.refused());
        assert_eq!(tokens.len(), 2);
    }

    #[tokio::test]
    async fn errors_of_the_fetch_and_the_send_are_the_callers() {
        let cache = TokenCache::default();
        let e = send(
            &cache,
            || async { Err::<Fetched, _>("token endpoint down".to_string()) },
            |_: &Token| async { Ok::<u16, String>(200) },
        )
        .await
        .unwrap_err();
        assert_eq!(e, "token endpoint down");
        let fetched = Mutex::new(0);
        let e = send(
            &cache,
            || fetch_numbered(&fetched),
            |_: &Token| async { Err::<u16, _>("connection reset".to_string()) },
        )
        .await
        .unwrap_err();
        assert_eq!(e, "connection reset");
    }
}
