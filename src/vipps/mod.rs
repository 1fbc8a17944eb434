//! Vipps MobilePay: wire types mirroring `specs/vipps`, the Access
//! Token fetch (cached by `crate::http`), the authenticated session both clients share, and the
//! ePayment and Report clients.
//!
//! Must never log a secret or a full access token.

pub mod client;
pub mod dto;
pub mod error;
pub mod report;
mod session;
pub mod token;
pub mod webhooks;

pub use client::{PRODUCTION_BASE_URL, SystemInfo, TEST_BASE_URL, VippsClient};
pub use error::VippsError;
pub use token::Credentials;
