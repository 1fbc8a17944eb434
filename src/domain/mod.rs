//! Pure domain types and decisions: money, VAT, catalog, sale, payment state,
//! journal vocabulary (SAF-T codes, cash transactions), X/Z arithmetic, and
//! the vouchers and Vipps settlement rows the books are kept from.
//!
//! Nothing here does I/O (but `local_time`, which reads the time-zone database
//! once), reads a clock or draws a random number; time and
//! identifiers come in as parameters so every rule is testable on its own.

pub mod catalog;
pub mod customer;
pub mod journal;
pub mod journal_lines;
pub mod local_time;
pub mod merchant;
pub mod money;
pub mod payment;
pub mod reference;
pub mod report;
pub mod sale;
pub mod sale_status;
pub mod sales_unit;
pub mod settlement;
pub mod vat;
pub mod vat_check;
pub mod voucher;

pub use catalog::{Catalog, Product};
pub use customer::{Customer, CustomerError};
pub use merchant::Merchant;
pub use money::{AmountError, Currency, Money};
pub use payment::{PaymentPhase, Signal, Transition, VippsEvent, VippsState, transition};
pub use sale::{Cart, PaymentMethod, SaleLine, Totals, VatTotal};
pub use sale_status::{Decision, SaleStatus, Snapshot, UnpaidReason, decide};
pub use sales_unit::SalesUnit;
pub use vat::VatCode;
