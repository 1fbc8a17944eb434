//! The electronic journal's protection: the hash chain over every entry,
//! the SAF-T signature chain over cash transactions, the signing key file,
//! and the verification `luka journal verify` runs.
//!
//! The store calls `chain` and `key` while it appends (inside the write
//! transaction); `verify` reads rows the store streams to it. Nothing here
//! writes SQL, and nothing here ever logs or prints the private key.

pub mod chain;
pub mod key;
pub mod verify;

pub use chain::{ChainRow, GENESIS};
pub use key::{JournalKey, KeyError};
pub use verify::{Problem, Verifier, VerifyReport};

use std::collections::HashMap;

/// Checks the whole journal of `store`, on its own read connection.
pub fn verify_store(store: &crate::store::Store) -> Result<VerifyReport, crate::store::StoreError> {
    store.read_separately(|r| {
        let keys: HashMap<String, String> = r
            .journal_keys()?
            .into_iter()
            .map(|(version, _, pem)| (version, pem))
            .collect();
        let mut v = Verifier::new(&keys);
        r.chain_rows(|row| v.push(row))?;
        Ok(v.finish(r.highest_journal_seq()?))
    })
}
