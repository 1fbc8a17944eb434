#![no_main]
//! See `harness/report_wire.rs` for what is fed in and which properties must hold.

#[path = "../harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::report_wire::run(data));
