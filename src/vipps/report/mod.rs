//! Report API v2 client (`specs/vipps/report.swagger.yaml`): the ledgers this
//! merchant's keys can see, and one ledger date's funds or fees rows as
//! [`SettlementEntry`]s, every page followed.
//!
//! Owns the Report wire shapes (shared with the simulator, which must answer in them)
//! and the paging rules: `cursor` on the ledgers list until it is empty; `hasMore` +
//! `cursor` on a ledger date, where a 404 or `tryLater` means "not closed yet"
//! ([`LedgerDay::NotReady`]), never an error. Every field of a row is optional in the
//! spec and `entryType` is open-ended, so a row parses unless its amount is missing.
//! It must never log a secret or a token, and never return half a ledger date.
//!
//! | file | holds |
//! |---|---|
//! | `dto.rs` | the wire shapes of `report.swagger.yaml` and their reading into [`SettlementEntry`]s |
//! | `client.rs` | [`ReportClient`]: ledgers, one ledger date's rows, paging; [`LedgerDay`], [`ReportError`] |

mod client;
mod dto;
#[cfg(test)]
mod tests;

pub use client::{LedgerDay, ReportClient, ReportError};
pub use dto::{
    BankAccount, Ledger, LedgersPage, Organization, ReportPage, Topic, Transaction,
    entry_from_wire, minor_units, ymd,
};

#[cfg(doc)]
use crate::domain::settlement::SettlementEntry;
