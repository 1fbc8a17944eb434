//! The simulated settlement ledger, as pure functions: which ledger date a capture or
//! refund lands on, whether a date is closed, and every funds and fees row of a date
//! with its fees, payout and running balances.
//!
//! Rules (documented in the Report API guide, simplified to one daily cycle):
//! - a movement lands on the Europe/Oslo date of its instant, or on the next date when
//!   that one was closed early (by a test) before the movement happened;
//! - a date closes at the end of its local day, or earlier when a test closes it;
//! - funds: `capture` (+), `refund` (−) and injected rows as they happen; at closing one
//!   `fees-retained` (−sum of the date's capture fees) and, if the balance is then
//!   positive, one `scheduled-for-payout` that brings it to 0. A negative balance is
//!   carried to the next date, as Vipps nets it against the next payout;
//! - fees: a `capture-fee` (+, fees owed grow) per capture; at closing a
//!   `fees-retained` (−sum) that settles them from the funds, so the fees balance is 0
//!   at the end of every closed date. Refunds do not give fees back.
//!
//! Pure: no clock, no I/O, no lock. The caller passes `now` and the movements.

use std::collections::{BTreeMap, HashSet};

use time::{Date, OffsetDateTime};

use super::SimPayment;
use crate::domain::local_time::{start_of_local_day, to_oslo};
use crate::domain::money::Currency;
use crate::domain::settlement::EntryType;
use crate::vipps::dto::PaymentEventName;
use crate::vipps::report::Topic;

/// What the simulated ledger looks like and what it charges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportConfig {
    /// `ledgerId` in every Report API path.
    pub ledger_id: String,
    /// The merchant's organisation number (`business:NO:ORG`).
    pub owner_org_number: String,
    /// Where payouts go (`BBAN:NO`).
    pub payout_bank_account: String,
    /// Only movements in this currency are on the ledger (Vipps keeps one per currency).
    pub currency: Currency,
    /// Capture fee in hundredths of a percent: 175 is 1.75 %, rounded half up to øre.
    pub fee_basis_points: u32,
    /// Added to every capture fee, in øre.
    pub fee_fixed_ore: i64,
    /// Rows per page of a ledger date; small by default so clients meet `hasMore`.
    pub page_size: usize,
}

impl Default for ReportConfig {
    fn default() -> ReportConfig {
        ReportConfig {
            ledger_id: "302321".into(),
            owner_org_number: "987654321".into(),
            payout_bank_account: "86011117947".into(),
            currency: Currency::NOK,
            fee_basis_points: 175,
            fee_fixed_ore: 0,
            page_size: 100,
        }
    }
}

impl ReportConfig {
    /// The fee for capturing `amount` øre: percentage rounded half up, plus the fixed part.
    pub fn capture_fee(&self, amount: i64) -> i64 {
        let scaled = i128::from(amount.max(0)) * i128::from(self.fee_basis_points);
        let pct = (scaled + 5_000) / 10_000;
        i64::try_from(pct)
            .unwrap_or(i64::MAX)
            .saturating_add(self.fee_fixed_ore)
    }
}

/// Money moving on the funds ledger: a capture, a refund or an injected row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Movement {
    pub at: OffsetDateTime,
    pub entry_type: EntryType,
    pub reference: Option<String>,
    pub psp_reference: String,
    /// Signed as on the funds ledger: captures +, refunds −.
    pub amount: i64,
}

/// One report row before it is put on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    pub psp_reference: String,
    pub time: OffsetDateTime,
    pub entry_type: EntryType,
    pub reference: Option<String>,
    pub amount: i64,
    pub balance_before: i64,
    pub balance_after: i64,
}

/// Where a ledger date stands at a given instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DayStatus {
    /// The local day has not begun: nothing can be on it yet (404).
    NotStarted,
    /// Rows are arriving; the report is incomplete (`tryLater`).
    Open,
    /// Final, with fees and payout booked at `at`.
    Closed { at: OffsetDateTime },
}

/// Early closings: date → the instant a test closed it.
pub(crate) type Closings = BTreeMap<Date, OffsetDateTime>;

fn local_date(t: OffsetDateTime) -> Date {
    to_oslo(t).date()
}

fn next_day(d: Date) -> Date {
    d.next_day().unwrap_or(d)
}

pub(crate) fn status(date: Date, now: OffsetDateTime, closings: &Closings) -> DayStatus {
    if let Some(at) = closings.get(&date) {
        return DayStatus::Closed { at: *at };
    }
    let end = start_of_local_day(next_day(date));
    if now >= end {
        DayStatus::Closed { at: end }
    } else if now < start_of_local_day(date) {
        DayStatus::NotStarted
    } else {
        DayStatus::Open
    }
}

/// The ledger date a movement at `at` lands on: its local date, moved on past dates a
/// test closed before `at`.
pub(crate) fn ledger_date(at: OffsetDateTime, closings: &Closings) -> Date {
    let mut d = local_date(at);
    while closings.get(&d).is_some_and(|closed| *closed <= at) {
        d = next_day(d);
    }
    d
}

/// Every successful capture and refund in the simulator's payments, in `currency`.
pub(crate) fn movements(payments: &[SimPayment], currency: Currency) -> Vec<Movement> {
    let rfc3339 = &time::format_description::well_known::Rfc3339;
    payments
        .iter()
        .flat_map(|p| p.events.iter())
        .filter(|e| e.success && e.amount.currency == currency)
        .filter_map(|e| {
            let (entry_type, sign) = match e.name {
                PaymentEventName::Captured => (EntryType::Capture, 1),
                PaymentEventName::Refunded => (EntryType::Refund, -1),
                _ => return None,
            };
            Some(Movement {
                at: OffsetDateTime::parse(&e.timestamp, rfc3339).ok()?,
                entry_type,
                reference: Some(e.reference.clone()),
                psp_reference: e.psp_reference.clone(),
                amount: sign * e.amount.value,
            })
        })
        .collect()
}

/// pspReferences of generated rows. Payment events use 10 digits, injected rows 12
/// starting with 4; these never collide with either.
fn fee_psp(capture_psp: &str) -> String {
    format!("1{capture_psp}")
}

fn closing_psp(date: Date, kind: u8) -> String {
    format!(
        "{kind}{:04}{:02}{:02}001",
        date.year(),
        date.month() as u8,
        date.day()
    )
}

/// The rows of `date` on `topic` as they stand at `now`; `None` before the date began.
/// `dropped` names payment references whose capture rows (and fees) a test removed.
pub(crate) fn day_rows(
    cfg: &ReportConfig,
    all: &[Movement],
    dropped: &HashSet<String>,
    closings: &Closings,
    now: OffsetDateTime,
    date: Date,
    topic: Topic,
) -> Option<(Vec<Row>, DayStatus)> {
    let asked = status(date, now, closings);
    if asked == DayStatus::NotStarted {
        return None;
    }
    let mut by_date: BTreeMap<Date, Vec<&Movement>> = BTreeMap::new();
    for m in all.iter().filter(|m| m.at <= now) {
        let dropped_capture = m.entry_type == EntryType::Capture
            && m.reference.as_ref().is_some_and(|r| dropped.contains(r));
        if !dropped_capture {
            by_date
                .entry(ledger_date(m.at, closings))
                .or_default()
                .push(m);
        }
    }
    by_date.entry(date).or_default();
    let mut carried = 0;
    for (d, mut moves) in by_date.range(..=date).map(|(d, m)| (*d, m.clone())) {
        moves.sort_by(|a, b| (a.at, &a.psp_reference).cmp(&(b.at, &b.psp_reference)));
        let state = status(d, now, closings);
        let (funds, fees) = book_day(cfg, d, &moves, carried, state);
        if d == date {
            let rows = if topic == Topic::Funds { funds } else { fees };
            return Some((rows, state));
        }
        carried = funds.last().map_or(carried, |r| r.balance_after);
    }
    None
}

/// Appends a row that moves `balance` by `amount`.
fn push(
    rows: &mut Vec<Row>,
    balance: &mut i64,
    psp: String,
    time: OffsetDateTime,
    entry_type: EntryType,
    reference: Option<String>,
    amount: i64,
) {
    let before = *balance;
    *balance += amount;
    rows.push(Row {
        psp_reference: psp,
        time,
        entry_type,
        reference,
        amount,
        balance_before: before,
        balance_after: *balance,
    });
}

/// The funds and fees rows of one date, starting the funds at `opening`.
fn book_day(
    cfg: &ReportConfig,
    date: Date,
    moves: &[&Movement],
    opening: i64,
    state: DayStatus,
) -> (Vec<Row>, Vec<Row>) {
    let (mut funds, mut fees) = (Vec::new(), Vec::new());
    let (mut balance, mut owed) = (opening, 0);
    for m in moves {
        let (psp, t, r) = (m.psp_reference.clone(), m.at, m.reference.clone());
        push(
            &mut funds,
            &mut balance,
            psp,
            t,
            m.entry_type.clone(),
            r,
            m.amount,
        );
        if m.entry_type == EntryType::Capture {
            let (psp, r) = (fee_psp(&m.psp_reference), m.reference.clone());
            let fee = cfg.capture_fee(m.amount);
            push(&mut fees, &mut owed, psp, t, EntryType::CaptureFee, r, fee);
        }
    }
    if let DayStatus::Closed { at } = state {
        let retained = owed;
        if retained != 0 {
            let (to_funds, to_fees) = (closing_psp(date, 2), closing_psp(date, 3));
            let kind = EntryType::FeesRetained;
            push(
                &mut funds,
                &mut balance,
                to_funds,
                at,
                kind.clone(),
                None,
                -retained,
            );
            push(&mut fees, &mut owed, to_fees, at, kind, None, -retained);
        }
        let payout = balance;
        if payout > 0 {
            let (psp, kind) = (closing_psp(date, 5), EntryType::ScheduledForPayout);
            push(&mut funds, &mut balance, psp, at, kind, None, -payout);
        }
    }
    (funds, fees)
}

#[cfg(test)]
#[path = "ledger_tests.rs"]
mod tests;
