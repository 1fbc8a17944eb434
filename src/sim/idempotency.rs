//! What the simulator keeps of an idempotent request so a retry gets exactly the first
//! answer: a digest of the body it came with and the answer as compact JSON text.
//!
//! A training till keeps one of these per create and per capture for the whole day, so
//! it is kept small (the digest, not the body); it must never change what a client
//! receives or which retries are refused.

use axum::http::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::state::Reply;

/// A SHA-256 over a JSON body with object keys in sorted order: two bodies match exactly
/// when they are the same JSON value (key order aside), as comparing the values would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fingerprint([u8; 32]);

impl Fingerprint {
    pub fn of(body: &Value) -> Fingerprint {
        let mut h = Sha256::new();
        feed(&mut h, body);
        Fingerprint(h.finalize().into())
    }
}

/// Tagged and length-prefixed, so no two different values feed the same bytes.
fn feed(h: &mut Sha256, v: &Value) {
    let len = |h: &mut Sha256, n: usize| h.update((n as u64).to_le_bytes());
    match v {
        Value::Null => h.update(b"n"),
        Value::Bool(b) => h.update(if *b { b"t" } else { b"f" }),
        Value::Number(n) => {
            let text = n.to_string();
            h.update(b"#");
            len(h, text.len());
            h.update(text.as_bytes());
        }
        Value::String(s) => {
            h.update(b"s");
            len(h, s.len());
            h.update(s.as_bytes());
        }
        Value::Array(items) => {
            h.update(b"[");
            len(h, items.len());
            for item in items {
                feed(h, item);
            }
        }
        Value::Object(map) => {
            let mut fields: Vec<_> = map.iter().collect();
            fields.sort_by(|a, b| a.0.cmp(b.0));
            h.update(b"{");
            len(h, fields.len());
            for (key, value) in fields {
                len(h, key.len());
                h.update(key.as_bytes());
                feed(h, value);
            }
        }
    }
}

/// A stored answer to an idempotent request.
#[derive(Debug)]
pub(crate) struct Stored {
    pub fingerprint: Fingerprint,
    status: StatusCode,
    /// The JSON body as text: a fraction of a parsed [`Value`]'s size.
    body: Box<str>,
}

impl Stored {
    pub fn new(fingerprint: Fingerprint, reply: &Reply) -> Stored {
        Stored {
            fingerprint,
            status: reply.status,
            body: reply.body.to_string().into_boxed_str(),
        }
    }

    /// The first answer, again.
    pub fn reply(&self) -> Reply {
        Reply {
            status: self.status,
            body: serde_json::from_str(&self.body).unwrap_or(Value::Null),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_same_json_matches_and_any_difference_does_not() {
        let body = json!({"amount": {"value": 15000, "currency": "NOK"}, "reference": "a-1"});
        let reordered = json!({"reference": "a-1", "amount": {"currency": "NOK", "value": 15000}});
        assert_eq!(Fingerprint::of(&body), Fingerprint::of(&reordered));
        let different = [
            json!({"amount": {"value": 15001, "currency": "NOK"}, "reference": "a-1"}),
            json!({"amount": {"value": 15000.0, "currency": "NOK"}, "reference": "a-1"}),
            json!({"amount": {"value": "15000", "currency": "NOK"}, "reference": "a-1"}),
            json!({"amount": {"value": 15000, "currency": "NOK"}, "reference": "a-1", "x": null}),
            json!({"amount": {"value": 15000, "currency": "NOK"}}),
            json!(["a", "b"]),
            json!(["ab"]),
            json!(null),
        ];
        for d in &different {
            assert_ne!(Fingerprint::of(&body), Fingerprint::of(d), "{d}");
        }
        assert_ne!(
            Fingerprint::of(&json!(["a", "b"])),
            Fingerprint::of(&json!(["ab"]))
        );
        assert_ne!(Fingerprint::of(&json!([])), Fingerprint::of(&json!({})));
    }

    #[test]
    fn a_stored_reply_comes_back_unchanged() {
        let reply = Reply {
            status: StatusCode::CREATED,
            body: json!({"redirectUrl": "http://127.0.0.1/phone/x", "reference": "a-1", "n": 1.5}),
        };
        let stored = Stored::new(Fingerprint::of(&json!({})), &reply);
        let again = stored.reply();
        assert_eq!(again.status, reply.status);
        assert_eq!(again.body, reply.body);
    }
}
