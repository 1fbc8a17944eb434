//! PowerOffice Go v2: posting the till's vouchers to the club's general
//! ledger. The spec files in `specs/bookkeeping/poweroffice-go-v2.*`
//! are the contract.
//!
//! | file           | owns                                                         |
//! |----------------|--------------------------------------------------------------|
//! | `client.rs`    | [`PowerOfficeClient::post_voucher`]: token, look-ups, post   |
//! | `duplicate.rs` | recognising a reused `ExternalImportReference` and its voucher |
//! | `map.rs`       | voucher → `CashVoucherPostDto`/`BankVoucherPostDto`, local refusals (pure) |
//! | `lookup.rs`    | account and VAT code ids, remembered per client               |
//! | `sink.rs`      | the `sync.poweroffice` lane's [`sink::PowerOfficeSink`]   |
//! | `token.rs`     | fetching the client-credentials access token (cached by `crate::http`) |
//! | `error.rs`     | [`PowerOfficeError`] and its mapping to the outbox's `Failure` |
//! | `dto.rs`       | wire types, shared with the simulator (`crate::sim::poweroffice`) |
//! | `amount.rs`    | øre ↔ JSON decimal numbers, exactly, without floats          |
//!
//! Must never post a voucher twice, never send an unbalanced one, and never
//! log or print a key or a token.

pub mod amount;
pub mod client;
pub mod dto;
pub mod duplicate;
pub mod error;
pub mod lookup;
pub mod map;
pub mod sink;
pub mod token;

pub use client::{
    DEMO_API_BASE_URL, DEMO_TOKEN_URL, Posted, PowerOfficeClient, PowerOfficeSettings,
};
pub use error::PowerOfficeError;
