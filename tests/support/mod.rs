//! Shared helpers for integration tests. Each test crate compiles this module and uses
//! only part of it, hence the `dead_code` allowance. Must never reach beyond 127.0.0.1.
#![allow(dead_code)]

pub mod openapi;
pub mod report_spec;
pub mod webhook_receiver;
