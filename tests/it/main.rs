//! Luka's integration tests, in one test binary: real SQLite files, the
//! simulators on 127.0.0.1, real `luka` processes where a test kills or
//! signals one. One binary links Slint, axum and reqwest once, not once per
//! file. Run one file's tests with `cargo test --test it money_path::`.
//!
//! | module | tests |
//! |---|---|
//! | `support/` | shared: the kiosk [`support::Rig`], spec validators, webhook receiver, ESC/POS decoder |
//! | `chaos/` | the crash and fault campaign's harness (real tills, proxy, WAL reader) |
//! | `day/` | a scripted day at the kiosk through the store, at fixed times |
//! | `money_path`, `money_properties`, `fault_matrix` | sales end to end, properties, faults |
//! | `receipts`, `printer_golden`, `printer_sim` | receipts, the printer, golden ESC/POS |
//! | `reports_day`, `journal_chain`, `journal_events`, `report_contract` | X/Z, SAF-T, the signed journal and what it records, Vipps' Report API |
//! | `books`, `books_cli`, `poweroffice_contract` | the books' lanes, the CLI, PowerOffice Go |
//! | `crash`, `power_loss`, `sigterm`, `down_for_a_day`, `campaign` | killed, cut, stopped, offline (`campaign` is `#[ignore]`d: `scripts/test.sh` runs it) |
//! | `hub` | the club's hub on a throwaway PostgreSQL cluster (`support/pg.rs`): pairing, the journal lane, alerts, refusals, the pages; `hub/menus.rs`: groups and their order, event menus per till, the upgrade from text groups |
//! | `webhooks` | Vipps webhooks through the hub: approval to "Betalt" by the hint, forged and replayed deliveries, the hub down |
//! | `hub_saft` | the hub's Z-rapporter page and the club's SAF-T file (one register per till) |
//! | `backup`, `security`, `hardware`, `sim_contract`, `translations`, `deploy`, `fuzz_regressions` | the rest |
//!
//! Outside this binary, each for a reason: `tests/storage_faults.rs` sets a
//! process-wide file-size limit (it would fail other tests' writes), and
//! `tests/ui.rs` / `tests/ui_screenshots.rs` run the Slint window on the main
//! thread without the test harness.

mod chaos;
mod day;
mod support;

mod backup;
mod books;
mod books_cli;
mod campaign;
mod card;
mod crash;
mod customer;
mod deploy;
mod down_for_a_day;
mod fault_matrix;
mod fuzz_regressions;
mod hardware;
mod hub;
mod hub_saft;
mod journal_chain;
mod journal_events;
mod money_path;
mod money_properties;
mod orders;
mod power_loss;
mod poweroffice_contract;
mod printer_golden;
mod printer_sim;
mod receipts;
mod report_contract;
mod reports_day;
mod sales_units;
mod sales_units_books;
mod scripted_day;
mod security;
mod sigterm;
mod sim_contract;
mod stock;
mod training;
mod translations;
mod webhooks;
