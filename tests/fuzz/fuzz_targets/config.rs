#![no_main]
//! See `harness/config.rs` for what is fed in and which properties must hold.

#[path = "../harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::config::run(data));
