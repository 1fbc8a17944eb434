//! Vipps settlement reconciliation: what Vipps says it captured, refunded,
//! kept in fees and paid out on a ledger date, against what the till's
//! journal says it sold by Vipps that day.
//!
//! [`reconcile`] is pure and table-tested; [`run`] fetches the ledger day,
//! reads the journal, stores the result and queues the fee and payout
//! vouchers in one transaction. Unknown or unexpected entry types are kept
//! for a person to review, never a reason to crash or to guess.
//!
//! Sales units (issue 16, part 4): each MSN is settled in its own ledger to
//! its own bank account, so a till with several units runs one source per
//! unit (its own keys), each compared with the sales paid to that MSN only
//! and booked under the unit's department.
//!
//! | file | holds |
//! |---|---|
//! | `compare.rs` | the pure comparison: [`reconcile`], [`Reconciliation`] and its vouchers |
//! | `run.rs` | [`SettlementSource`] (the Report API), and [`run`]: fetch, read the journal, store, queue |

mod compare;
mod run;
#[cfg(test)]
mod tests;

pub use compare::{Mismatch, Reconciliation, reconcile};
// The journal's side lives in `domain`, so the store can fill it without
// importing the books.
pub use crate::domain::settlement::{Booked, JournalSide, UnitSales};
pub use crate::vipps::report::LedgerDay;
pub use run::{Outcome, ReconcileError, SettlementSource, VippsSettlements, reconciled, run};
