//! Pure domain types and decisions: money, VAT, catalog, sale, payment state.
//!
//! Nothing here does I/O, reads a clock or draws a random number; time and
//! identifiers come in as parameters so every rule is testable on its own.

pub mod money;
pub mod vat;

pub use money::{AmountError, Currency, Money};
pub use vat::VatCode;
