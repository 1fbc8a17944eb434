//! Vipps MobilePay: wire types mirroring `shared/specs/vipps` (clients are added here).
//!
//! Must never log a secret or a full access token.

pub mod dto;
