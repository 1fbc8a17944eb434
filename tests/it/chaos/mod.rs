//! The harness of the crash and fault campaign (issue 8): real `luka`
//! processes against the Vipps simulator, the printer simulator and a
//! webhook receiver, all on 127.0.0.1 in the test process so they outlive
//! every till that is killed.
//!
//! | file          | owns                                                          |
//! |---------------|---------------------------------------------------------------|
//! | `till.rs`     | a till on disk: config, secret files, running `luka` (killable) |
//! | `proxy.rs`    | a loopback TCP proxy: records issued access tokens, can cut the network |
//! | `wal.rs`      | reads a SQLite WAL file: was a transaction being written?     |
//! | `customer.rs` | customers who approve, reject or ignore the QR               |
//! | `lane.rs`     | one till's kill/restart loop and what it saw                  |
//! | `matrix.rs`   | the in-process kiosk behind the proxy, with a truth-checking event watcher |
//! | `needles.rs`  | a fast search for thousands of secrets in logs and files      |
//! | `views.rs`    | the three views (till, Vipps, books) and the invariants       |
//!
//! Nothing here may talk to anything but 127.0.0.1.
#![allow(dead_code)]

pub mod customer;
pub mod lane;
pub mod matrix;
pub mod needles;
pub mod proxy;
pub mod till;
pub mod views;
pub mod wal;
