//! Every fuzz target's seeds and every input that once failed, replayed
//! through the same harness the libFuzzer binaries run (`tests/fuzz/`), so a
//! fixed finding stays fixed under a plain `cargo test`. Fuzzing itself is
//! `scripts/fuzz.sh`, never part of the test run.

#[path = "fuzz/harness/mod.rs"]
mod harness;

use std::path::Path;

/// Runs `target` over `tests/fuzz/{seeds,regressions}/<target>/*`; returns
/// how many inputs it fed.
fn replay(target: &str, run: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz");
    let mut fed = 0;
    for kind in ["seeds", "regressions"] {
        let dir = root.join(kind).join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        paths.sort();
        for path in paths {
            let bytes = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| run(&bytes));
            assert!(outcome.is_ok(), "{} failed again", path.display());
            fed += 1;
        }
    }
    fed
}

#[test]
fn config_inputs_replay() {
    assert!(replay("config", harness::config::run) > 0);
}

#[test]
fn vipps_dto_inputs_replay() {
    assert!(replay("vipps_dto", harness::vipps_dto::run) > 0);
}

#[test]
fn report_wire_inputs_replay() {
    assert!(replay("report_wire", harness::report_wire::run) > 0);
}

#[test]
fn poweroffice_dto_inputs_replay() {
    assert!(replay("poweroffice_dto", harness::poweroffice_dto::run) > 0);
}

#[test]
fn money_parse_inputs_replay() {
    assert!(replay("money_parse", harness::money_parse::run) > 0);
}

#[test]
fn printer_status_inputs_replay() {
    assert!(replay("printer_status", harness::printer_status::run) > 0);
}

#[test]
fn journal_verify_inputs_replay() {
    assert!(replay("journal_verify", harness::journal_verify::run) > 0);
}
