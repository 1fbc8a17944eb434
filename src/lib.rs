//! Luka: a till for club kiosks, match doors and small shops.
//!
//! A sale goes from a tap to a captured Vipps MobilePay payment through a
//! crash-safe SQLite outbox. The module map (the design, as built: `docs/DESIGN.md`):
//!
//! | module       | owns                                                                  |
//! |--------------|-----------------------------------------------------------------------|
//! | [`domain`]   | money (øre), VAT, catalog, sale/cart, payment state, SAF-T codes, X/Z arithmetic; pure |
//! | [`store`]    | SQLite: migrations, sales, payments, outbox, journal; the only SQL     |
//! | [`journal`]  | journal protection: hash chain, SAF-T signatures, key file, verify     |
//! | [`reports`]  | X/Z reports, cash float and count: the one API the UI and CLI call    |
//! | [`bookkeeping`] | the books: sync lanes (signed webhook, PowerOffice Go, CSV) fed from the outbox, vouchers, Vipps reconciliation, SAF-T export |
//! | [`outbox`]   | the durable work queue: pure retry decision + worker loop              |
//! | [`vipps`]    | Access Token and ePayment clients; DTOs mirroring the official specs   |
//! | [`payments`] | the payment-provider trait and its implementations (Vipps, cash)       |
//! | [`printer`]  | receipt layout (pure), ESC/POS + PC865, drivers, PNG preview, printer sim |
//! | [`kiosk`]    | the service: commands in, events out; runs sales and receipts through it all |
//! | [`hardware`] | GPIO (rppal): paid LED + buzzer, error LED, drawer relay, buttons; no-op off the Pi |
//! | [`sim`]      | contract-faithful Vipps simulator for training mode and tests          |
//! | [`config`]   | `luka.toml` + environment → typed, validated config                    |
//! | [`cli`]      | the `luka` command line (clap); `cli/records.rs`: `report`, `journal`, `cash`, `export` |
//! | [`app`]      | wiring: config → store, provider, simulator (training), kiosk          |
//! | [`clock`]    | time and id sources, passed in so tests are deterministic              |
//! | [`shutdown`] | SIGTERM/SIGINT latched into one stop signal (graceful stop)            |
//! | [`secret`]   | a string type that never prints its value                              |
//! | [`pin`]      | the organizer PIN: Argon2 hash and the lockout rule                    |
//! | [`ui`]       | the Slint bridge (the only module that imports Slint); `.slint` in `ui/` |
//! | [`bench`](mod@bench) | `luka bench`: money path; `--records`: Z, SAF-T, verify; `--books`: backlog drain; `--all`: one table of everything |
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
pub mod journal;
pub mod kiosk;
pub mod outbox;
pub mod payments;
pub mod pin;
pub mod printer;
pub mod reports;
pub mod secret;
pub mod shutdown;
pub mod sim;
pub mod store;
pub mod ui;
pub mod vipps;
