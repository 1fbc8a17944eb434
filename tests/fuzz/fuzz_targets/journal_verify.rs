#![no_main]
//! See `harness/journal_verify.rs` for what is fed in and which properties must hold.

#[path = "../harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::journal_verify::run(data));
