//! Luka Hub (`luka hub`): the club's back office on PostgreSQL. It pairs
//! tills, keeps a verified copy of every till's journal, and shows the
//! treasurer combined takings in a web page.
//!
//! | file | holds |
//! |---|---|
//! | `db.rs` | the pool ([`Hub`]), the numbered migrations in `migrations/`, errors |
//! | `token.rs` | random tokens and codes, their SHA-256 hashes, constant-time compare |
//! | `pairing.rs` | tills, one-time pairing codes, device credentials, unpairing |
//! | `ingest.rs` | journal entries coming up: the chain and signature check, alerts |
//! | `users.rs` | treasurer accounts (argon2), sessions, CSRF tokens, lockout |
//! | `takings.rs` | takings per till and payment method from the stored sales and returns |
//! | `web.rs` | the axum app: the API the tills call and the back office pages (`templates/`) |
//! | `saft.rs` | the club's SAF-T Cash Register file: one register per till, from the stored journals |
//! | `zreports.rs` | every till's Z reports, as journaled, for the "Z-rapporter" page |
//! | `catalogue.rs` | products, prices and VAT codes, the version every change raises, the snapshot per till |
//! | `groups.rs` | product groups as records: name, order, archived; the order of products in a group |
//! | `menus.rs` | event menus (named sets of products) and which menu each till sells from |
//! | `catalogue_csv.rs` | the catalogue as a CSV file: export, and an all-or-nothing import |
//! | `csv.rs` | the `;`-separated CSV dialect Norwegian Excel reads and writes (pure text) |
//! | `till_catalogue.rs` | the till's side: fetch with `If-None-Match`, keep, apply between sales |
//! | `status.rs` | each till's last report of itself (version, unsent, printer, Vipps); the till's sender |
//! | `cluster.rs` | a PostgreSQL cluster of Luka's own in a folder (initdb + pg_ctl, socket only): the demo's and the tests' |
//! | `link.rs` | the till's side: `luka pair`, the 0600 link file, the `sync.hub` lane's sink |
//! | `vipps_hooks.rs` | Vipps webhooks: registration per MSN, the signed deliveries checked and taken once, each till's event stream |
//! | `till_events.rs` | the till's side: keeps the hub's event stream open and hands each hint on |
//!
//! Tills never depend on the hub: the journal goes up through one more
//! outbox lane (`sync.hub`) and waits there while the hub is away. The hub
//! stores what tills send and checks it; it never edits a till's record.
//! No Slint here, and nothing of the kiosk.

pub mod catalogue;
pub mod catalogue_csv;
pub mod cluster;
pub mod csv;
pub mod db;
pub mod groups;
pub mod ingest;
pub mod link;
pub mod menus;
pub mod pairing;
pub mod saft;
pub mod status;
pub mod takings;
pub mod till_catalogue;
pub mod till_events;
pub mod token;
pub mod users;
pub mod vipps_hooks;
pub mod web;
pub mod zreports;

pub use db::{Hub, HubError};
