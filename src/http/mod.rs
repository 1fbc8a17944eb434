//! What the Vipps and PowerOffice Go clients share on the wire: one access
//! token cache ([`token`]), one rule for a refused token ([`bearer`]: a 401
//! costs one fresh token and one more try) and one reader of error answers
//! ([`error_body`]).
//!
//! A leaf below the clients: it knows neither service, only tokens, lifetimes,
//! statuses, `Retry-After` and error bodies. Each client keeps its own
//! messages and its own way of fetching a token.
//!
//! Must never log, print or put into an error a token.

pub mod bearer;
pub mod error_body;
pub mod token;

pub use error_body::ErrorAnswer;
pub use token::{Fetched, Token, TokenCache};
