//! `luka bench`: rerunnable measurements, printed as tables for people to read
//! and compare with `BENCHMARKS.md`. Nothing here is asserted, and none of it
//! runs while the till sells.
//!
//! | file | measures |
//! |---|---|
//! | `money.rs` | `luka bench`: the money path (sale → QR → capture → paid) against the simulator |
//! | `records.rs` | `--records`: Z report, SAF-T export and journal verify at a day and a year |
//! | `books.rs` | `--books`: draining an offline day's backlog to the webhook and PowerOffice |
//! | `hub.rs` | `--hub`: the club's hub at scale: tills' backlogs draining, sale → takings page, queries over a million sales, the hub's RSS |
//! | `webhooks.rs` | `--webhooks`: approve → "Betalt" by polling alone and with the hub's webhook hint |
//! | `all.rs` | `--all`: every one of them in one table, with the machine it ran on |

pub mod all;
pub mod books;
pub mod hub;
pub mod money;
pub mod records;
pub mod webhooks;
