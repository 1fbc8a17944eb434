//! Luka: a till for club kiosks, match doors and small shops.
//!
//! A sale goes from a tap to a captured Vipps MobilePay payment through a
//! crash-safe SQLite outbox. The module map (the design, as built: `docs/DESIGN.md`):
//!
//! | module       | owns                                                                  |
//! |--------------|-----------------------------------------------------------------------|
//! | [`domain`]   | money (øre), VAT, catalog, sale/cart, payment state, SAF-T codes, X/Z arithmetic, Vipps sales units and departments; pure |
//! | [`store`]    | SQLite: migrations, sales, payments, outbox, journal; the only SQL     |
//! | [`journal`]  | journal protection: hash chain, SAF-T signatures, key file, verify     |
//! | [`reports`]  | X/Z reports, cash float and count: the one API the UI and CLI call    |
//! | [`bookkeeping`] | the books: sync lanes (signed webhook, PowerOffice Go, CSV) fed from the outbox, vouchers, Vipps reconciliation, SAF-T export |
//! | [`retry`]    | retrying in its own words: retry classes, `Failure`, the pure decision; a leaf |
//! | [`outbox`]   | the durable work queue's worker loop (hands items to handlers, records verdicts) |
//! | [`http`]     | what the Vipps and PowerOffice clients share: one token cache (refresh ahead, single flight), the 401 rule (one fresh token, one more try), one error-answer reader; a leaf |
//! | [`vipps`]    | Access Token, ePayment and Webhooks clients (and the webhook signature); DTOs mirroring the official specs |
//! | [`payments`] | the payment-provider trait and its implementations (Vipps, cash)       |
//! | [`printer`]  | receipt layout (pure), ESC/POS + PC865, drivers, PNG preview, printer sim |
//! | [`hub`]      | `luka hub`: the club's back office on PostgreSQL (pairing, every till's journal checked as it arrives, alerts, takings from per-day sums, roles, sold-out marks, till status, catalogue with groups, event menus per till and CSV, Z reports, the club's SAF-T file, web pages, Vipps webhooks checked and passed to each till's event stream, its own throwaway cluster); and the till's side (`luka pair`, the `sync.hub` lane's sink, the catalogue coming down, the event stream kept open); no Slint, no kiosk |
//! | [`kiosk`]    | the service: commands in, events out; runs sales and receipts through it all |
//! | [`hardware`] | GPIO (rppal): paid LED + buzzer, error LED, drawer relay, buttons; no-op off the Pi |
//! | [`sim`]      | contract-faithful Vipps (ePayment, Report, Webhooks with signed delivery) and PowerOffice simulators for training mode and tests; faults only with `testing` |
//! | [`config`]   | `luka.toml` + environment → typed, validated config                    |
//! | [`cli`]      | the `luka` command line (clap); one file per group of commands, table in `cli/mod.rs` |
//! | [`app`]      | wiring: config → store, provider, simulator (training), kiosk; a paired till's catalogue, sold-out marks and status; `luka hub demo` |
//! | [`clock`]    | time and id sources, passed in so tests are deterministic              |
//! | [`shutdown`] | SIGTERM/SIGINT latched into one stop signal (graceful stop)            |
//! | [`secret`]   | a string type that never prints its value                              |
//! | [`pin`]      | the organizer PIN: Argon2 hash and the lockout rule                    |
//! | [`ui`]       | the Slint bridge (the only module that imports Slint); `.slint` in `ui/`, every sentence from its `@tr` catalogue |
//! | [`bench`](mod@bench) | `luka bench`: money path; `--records`: Z, SAF-T, verify; `--books`: backlog drain; `--hub`: the club's hub at scale; `--webhooks`: approve → Betalt with and without the hub; `--all`: one table of everything |
//!
//! Nothing below the UI knows a UI exists: every flow runs headless.

pub mod app;
pub mod bench;
pub mod bookkeeping;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod hardware;
pub mod http;
pub mod hub;
pub mod journal;
pub mod kiosk;
pub mod outbox;
pub mod payments;
pub mod pin;
pub mod printer;
pub mod reports;
pub mod retry;
pub mod secret;
pub mod shutdown;
pub mod sim;
pub mod store;
pub mod ui;
pub mod vipps;

/// The module boundaries of the map above, checked on the source: a `use`
/// that crosses one fails here, not in a review months later.
#[cfg(test)]
mod boundaries {
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    fn sources(rel: &str) -> Vec<PathBuf> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(rel);
        if root.is_file() {
            return vec![root];
        }
        let mut out = Vec::new();
        let mut stack = vec![root];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    out.push(p);
                }
            }
        }
        out
    }

    /// Every top-level module a file reaches through `crate::`.
    fn reached(rel: &str) -> BTreeSet<(String, String)> {
        let mut out = BTreeSet::new();
        for path in sources(rel) {
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.display().to_string();
            for (i, _) in text.match_indices("crate::") {
                let rest = &text[i + "crate::".len()..];
                let names: Vec<&str> = match rest.strip_prefix('{') {
                    Some(group) => group[..group.find('}').unwrap_or(0)]
                        .split(',')
                        .map(|s| s.trim())
                        .collect(),
                    None => vec![rest],
                };
                for n in names {
                    let module: String = n
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                        .collect();
                    if !module.is_empty() {
                        out.insert((module, name.clone()));
                    }
                }
            }
        }
        out
    }

    fn only(rel: &str, allowed: &[&str]) {
        let bad: Vec<_> = reached(rel)
            .into_iter()
            .filter(|(m, _)| !allowed.contains(&m.as_str()))
            .collect();
        assert!(bad.is_empty(), "{rel} may only reach {allowed:?}: {bad:?}");
    }

    fn never(rel: &str, forbidden: &[&str]) {
        let bad: Vec<_> = reached(rel)
            .into_iter()
            .filter(|(m, _)| forbidden.contains(&m.as_str()))
            .collect();
        assert!(
            bad.is_empty(),
            "{rel} must not reach {forbidden:?}: {bad:?}"
        );
    }

    #[test]
    fn leaves_stay_leaves() {
        only("retry.rs", &[]);
        only("domain", &["domain"]);
        only("printer", &["printer", "domain"]);
        // The journal's crypto knows no store: the store feeds it rows.
        only("journal", &["journal", "domain"]);
        only("http", &["http", "secret"]);
    }

    #[test]
    fn clients_and_the_books_know_no_queue_and_no_screen() {
        let above = ["outbox", "kiosk", "ui", "app", "cli", "hardware"];
        never("vipps", &above);
        never("vipps", &["store", "payments", "bookkeeping"]);
        never("payments", &above);
        // Providers see domain types (a PaymentOrder, Amounts), not records.
        never("payments", &["bookkeeping", "store"]);
        never("bookkeeping", &above);
        // The hub serves the back office and takes the tills' journals; it
        // never reaches into a till's kiosk, screen or wiring.
        never("hub", &above);
        never("store", &["bookkeeping", "kiosk", "ui", "outbox", "vipps"]);
    }

    #[test]
    fn the_ui_talks_only_to_the_kiosk_and_only_it_knows_slint() {
        for path in sources("ui") {
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(
                !text.contains("Store") && !text.contains(".store()"),
                "{} holds the store; ask the kiosk instead",
                path.display()
            );
        }
        for path in sources("") {
            if path.components().any(|c| c.as_os_str() == "ui") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(
                !text.contains(concat!("slint", "::")),
                "{} uses Slint; only ui/ may",
                path.display()
            );
        }
    }

    /// Which language a sentence is in is the catalogue's business
    /// (`ui/words.slint`, `ui/translations/`): product code that branches
    /// on the language with literal words of its own would bring back the
    /// half-English screen. Only `config` (parsing the setting) and
    /// `ui/mod.rs` (selecting the catalogue) name a language.
    #[test]
    fn sentences_come_from_the_catalogue_not_from_language_branches() {
        let en = concat!("Language", "::En");
        for path in sources("") {
            let name = path.display().to_string();
            if name.contains("/src/config") || name.ends_with("/src/ui/mod.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // Tests may switch the screen's language to check its words.
            let product = text.split("#[cfg(test)]").next().unwrap_or_default();
            assert!(
                !product.contains(en),
                "{name} picks words by language; put the sentence in ui/words.slint (@tr) \
                 and its English in luka.po"
            );
        }
    }

    /// Training mode runs the simulators, so they are part of the product;
    /// the faults tests inject are not. Every file of theirs that injects
    /// faults is declared only for `--features testing`.
    #[test]
    fn simulator_faults_are_compiled_only_for_tests() {
        let mut checked = 0;
        for path in sources("sim") {
            let stem = path.file_stem().unwrap().to_string_lossy().to_string();
            if !(stem.contains("fault") || stem == "abort") {
                continue;
            }
            let parent = std::fs::read_to_string(path.with_file_name("mod.rs")).unwrap();
            let gated = format!("#[cfg(feature = \"testing\")]\nmod {stem};");
            assert!(
                parent.contains(&gated),
                "{} injects faults: declare it as `{gated}`",
                path.display()
            );
            checked += 1;
        }
        assert!(checked >= 4, "found only {checked} fault files");
    }
}
