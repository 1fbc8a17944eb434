//! The bodies of the fuzz targets, shared by the libFuzzer binaries in
//! `fuzz_targets/` and by the main package's `tests/it/fuzz_regressions.rs`,
//! which replays every seed and every input that once failed. A property
//! that does not hold panics, which libFuzzer reports as a crash.
#![allow(dead_code)]

pub mod config;
pub mod journal_verify;
pub mod money_parse;
pub mod poweroffice_dto;
pub mod printer_status;
pub mod report_wire;
pub mod vipps_dto;

/// Parses `bytes` as `T`, writes it back, parses that again: the value and
/// the text must both be stable (what the till reads is what it would send
/// or store). Returns the value when the input parsed.
pub fn round_trip<T>(bytes: &[u8]) -> Option<T>
where
    T: serde::de::DeserializeOwned + serde::Serialize,
{
    let v: T = serde_json::from_slice(bytes).ok()?;
    let text = serde_json::to_string(&v).expect("a parsed value serializes");
    let again: T = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("what was written cannot be read back: {e}\n{text}"));
    let text2 = serde_json::to_string(&again).unwrap();
    assert_eq!(text, text2, "the second round trip changed the text");
    Some(again)
}
