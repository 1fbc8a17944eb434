//! Looks for many secrets at once in logs and files: the campaign's list
//! grows by one access token per process, to thousands, and a database is
//! megabytes, so each position is checked against an 8-byte prefix table
//! instead of every needle in turn.

use std::collections::HashMap;

#[derive(Default)]
pub struct Needles {
    by_prefix: HashMap<[u8; 8], Vec<Vec<u8>>>,
    count: usize,
}

impl Needles {
    /// Adds a needle (at least 8 bytes; a shorter secret would be no secret).
    pub fn add(&mut self, needle: &str) {
        let n = needle.as_bytes();
        assert!(n.len() >= 8, "needle too short to be a secret");
        let list = self
            .by_prefix
            .entry(n[..8].try_into().unwrap())
            .or_default();
        if !list.iter().any(|x| x == n) {
            list.push(n.to_vec());
            self.count += 1;
        }
    }

    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether any needle occurs in `hay`.
    pub fn found_in(&self, hay: &[u8]) -> bool {
        hay.windows(8).enumerate().any(|(i, w)| {
            let key: [u8; 8] = w.try_into().unwrap();
            self.by_prefix
                .get(&key)
                .is_some_and(|list| list.iter().any(|n| hay[i..].starts_with(n)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_any_needle_anywhere() {
        let mut n = Needles::default();
        n.add("cs-0123456789abcdef");
        n.add("whsec_c2VjcmV0LWtleQ==");
        n.add("whsec_c2VjcmV0LWtleQ=="); // twice is once
        assert_eq!(n.len(), 2);
        assert!(n.found_in(b"...client_secret=cs-0123456789abcdef\n"));
        assert!(n.found_in(b"whsec_c2VjcmV0LWtleQ=="));
        assert!(!n.found_in(b"cs-0123456789abcde"));
        assert!(!n.found_in(b"whsec_c2Vj"));
    }
}
