//! Every fuzz target's seeds and every input that once failed, replayed
//! through the same harness the libFuzzer binaries run (`tests/fuzz/`), so a
//! fixed finding stays fixed under a plain `cargo test`. Fuzzing itself is
//! `scripts/fuzz.sh`, never part of the test run.

#[path = "../fuzz/harness/mod.rs"]
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

mod findings {
    //! The findings, each as a named case (the crashing inputs themselves
    //! are in `tests/fuzz/regressions/` and replayed above).

    use super::harness;
    use harness::journal_verify::{Field, Input, Number, Op, check, journal};

    /// Every hash, code and signature removed: the journal looked like one
    /// from before the chain, and verified.
    #[test]
    fn a_journal_stripped_of_its_chain_is_named() {
        let j = journal();
        let input = Input {
            ops: vec![Op::StripChain {
                from: 0,
                count: u8::MAX,
            }],
            rehash: false,
            forget_highest: false,
            key_edit: None,
        };
        check(j, &input);
    }

    /// An entry numbered i64::MAX with the hashes recomputed: the next
    /// entry's "previous + 1" overflowed (a panic with overflow checks on).
    #[test]
    fn an_entry_numbered_i64_max_is_reported_not_a_panic() {
        let j = journal();
        for row in [0u8, 3, 7] {
            let input = Input {
                ops: vec![Op::SetNumber {
                    row,
                    field: Number::Seq,
                    value: Some(i64::MAX),
                }],
                rehash: true,
                forget_highest: false,
                key_edit: None,
            };
            check(j, &input);
        }
        let nr = Input {
            ops: vec![Op::TransNumber {
                row: 1,
                which: 0,
                value: i64::MAX,
            }],
            rehash: true,
            forget_highest: true,
            key_edit: None,
        };
        check(j, &nr);
        let stripped_middle = Input {
            ops: vec![
                Op::Clear {
                    row: 4,
                    field: Field::Hash,
                },
                Op::Clear {
                    row: 4,
                    field: Field::PrevHash,
                },
            ],
            rehash: false,
            forget_highest: false,
            key_edit: None,
        };
        check(j, &stripped_middle);
    }

    /// Plain HTTP counted as "this machine" when the URL merely started
    /// like a loopback address.
    #[test]
    fn loopback_lookalikes_are_other_machines() {
        for url in [
            "http://127.0.0.1.example.org",
            "http://localhost.example.org",
            "http://127.0.0.1@example.org",
            "http://localhost:1@example.org",
        ] {
            assert!(!luka::config::is_loopback_url(url), "{url}");
            assert!(!harness::config::loopback_http(url), "{url}");
        }
        for url in ["http://127.0.0.1:9", "http://[::1]:8/x", "http://localhost"] {
            assert!(luka::config::is_loopback_url(url), "{url}");
        }
    }
}
