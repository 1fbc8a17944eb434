//! The electronic journal's protection: the hash chain over every entry,
//! the SAF-T signature chain over cash transactions, the signing key file,
//! and the verification `luka journal verify` runs.
//!
//! The store calls `chain` and `key` while it appends (inside the write
//! transaction), and feeds `verify` the rows it streams
//! (`Store::verify_journal`). Nothing here knows the store
//! or writes SQL, and nothing here ever logs or prints the private key.

pub mod chain;
pub mod key;
pub mod verify;

pub use chain::{ChainRow, GENESIS};
pub use key::{JournalKey, KeyError};
pub use verify::{Problem, Resume, Verifier, VerifyReport};
