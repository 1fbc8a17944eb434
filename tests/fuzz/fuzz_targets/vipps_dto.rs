#![no_main]
//! See `harness/vipps_dto.rs` for what is fed in and which properties must hold.

#[path = "../harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::vipps_dto::run(data));
