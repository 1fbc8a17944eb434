//! The journal's hash chain: every entry's hash covers its own fields and
//! the previous entry's hash, so an edit, a deletion or a reordering breaks
//! the chain at the first entry touched.
//!
//! Pure: SHA-256 over a length-prefixed encoding of the stored text, so
//! the same bytes always give the same hash. It never reads the store.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The "previous hash" of the very first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An entry exactly as stored: the text the hash covers. It travels to the
/// club's hub as it is (serde), so the hub checks the very bytes the till
/// hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainRow {
    pub seq: i64,
    pub at: String,
    pub sale_id: Option<i64>,
    pub kind: String,
    pub data: String,
    pub event_code: Option<i64>,
    /// The cash transaction (JSON) of a signed entry.
    pub trans: Option<String>,
    pub signature: Option<String>,
    pub key_version: Option<String>,
    /// `None` on entries written before the chain existed.
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
}

impl ChainRow {
    /// The hash this entry must carry, given the hash it links to.
    pub fn expected_hash(&self, prev_hash: &str) -> String {
        let sale = self.sale_id.map(|s| s.to_string()).unwrap_or_default();
        let code = self.event_code.map(|c| c.to_string()).unwrap_or_default();
        let seq = self.seq.to_string();
        let fields: [&str; 10] = [
            prev_hash,
            &seq,
            &self.at,
            &sale,
            &self.kind,
            &self.data,
            &code,
            self.trans.as_deref().unwrap_or(""),
            self.signature.as_deref().unwrap_or(""),
            self.key_version.as_deref().unwrap_or(""),
        ];
        let mut h = Sha256::new();
        for f in fields {
            // Length-prefixed, so no two field lists encode alike.
            h.update(f.len().to_string().as_bytes());
            h.update(b":");
            h.update(f.as_bytes());
        }
        hex(&h.finalize())
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> ChainRow {
        ChainRow {
            seq: 1,
            at: "2024-05-01T10:00:00Z".into(),
            sale_id: None,
            kind: "app.start".into(),
            data: "{}".into(),
            event_code: Some(13001),
            trans: None,
            signature: None,
            key_version: None,
            prev_hash: Some(GENESIS.into()),
            hash: None,
        }
    }

    #[test]
    fn every_field_and_the_link_change_the_hash() {
        let base = row().expected_hash(GENESIS);
        assert_eq!(base.len(), 64);
        assert_eq!(base, row().expected_hash(GENESIS));
        let mut r = row();
        r.data = "{ }".into();
        assert_ne!(r.expected_hash(GENESIS), base);
        let mut r = row();
        r.seq = 2;
        assert_ne!(r.expected_hash(GENESIS), base);
        assert_ne!(row().expected_hash(&"1".repeat(64)), base);
        // Moving text between fields is not the same entry.
        let mut a = row();
        a.kind = "ab".into();
        a.data = "c".into();
        let mut b = row();
        b.kind = "a".into();
        b.data = "bc".into();
        assert_ne!(a.expected_hash(GENESIS), b.expected_hash(GENESIS));
    }
}
