//! The Report API wire types of `luka::vipps::report` and `entry_from_wire`,
//! which turns a funds or fees row into a settlement entry. The first byte
//! picks the shape, the rest is the JSON body. Rows must never panic; an
//! accepted row keeps a whole amount equal to what the server said, and an
//! entry type reads back as itself.

use luka::domain::settlement::EntryType;
use luka::vipps::report::{
    LedgersPage, ReportPage, Topic, Transaction, entry_from_wire, minor_units, ymd,
};
use time::macros::date;

use super::round_trip;

pub fn run(data: &[u8]) {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    match pick % 4 {
        0 => {
            if let Some(page) = round_trip::<LedgersPage>(body) {
                let first: LedgersPage = serde_json::from_slice(body).unwrap();
                assert_eq!(first, page);
            }
        }
        1 => {
            let Ok(page) = serde_json::from_slice::<ReportPage>(body) else {
                return;
            };
            let again: ReportPage =
                serde_json::from_str(&serde_json::to_string(&page).unwrap()).unwrap();
            assert_eq!(
                (
                    &page.cursor,
                    page.has_more,
                    page.try_later,
                    page.items.len()
                ),
                (
                    &again.cursor,
                    again.has_more,
                    again.try_later,
                    again.items.len()
                )
            );
            for (t, t2) in page.items.into_iter().zip(again.items) {
                same_row(&t, &t2);
                row(t);
            }
        }
        2 => {
            if let Ok(t) = serde_json::from_slice::<Transaction>(body) {
                let t2: Transaction =
                    serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
                same_row(&t, &t2);
                row(t);
            }
        }
        _ => {
            let text = String::from_utf8_lossy(body);
            if let Some(t) = Topic::parse(&text) {
                assert_eq!(t.as_str(), text);
            }
            let e = EntryType::from(text.to_string());
            assert_eq!(EntryType::from(e.as_str().to_string()), e);
        }
    }
}

/// A row written back and read again is the same row. Its numbers are
/// compared as the till reads them (whole minor units): serde_json's float
/// parsing is not correctly rounded, so `12.0333…3` may come back one ulp
/// off (fuzz finding `report_wire/crash-c3eba0f0…`), which can only touch a
/// fraction, and a row with a fraction is refused anyway.
fn same_row(a: &Transaction, b: &Transaction) {
    let units = |t: &Transaction| {
        [&t.amount, &t.balance_before, &t.balance_after].map(|n| n.as_ref().map(minor_units))
    };
    assert_eq!(units(a), units(b), "{a:?} came back as {b:?}");
    let text = |t: &Transaction| {
        (
            t.psp_reference.clone(),
            t.time.clone(),
            t.ledger_date.clone(),
            t.entry_type.clone(),
            t.reference.clone(),
            t.currency.clone(),
            t.recipient_handle.clone(),
        )
    };
    assert_eq!(text(a), text(b));
}

fn row(t: Transaction) {
    let asked = date!(2024 - 05 - 02);
    let said = t.amount.as_ref().map(minor_units);
    let balances = match (&t.balance_before, &t.balance_after) {
        (Some(b), Some(a)) => minor_units(a).zip(minor_units(b)),
        _ => None,
    };
    for n in [&t.amount, &t.balance_before, &t.balance_after]
        .into_iter()
        .flatten()
    {
        if let Some(v) = minor_units(n) {
            let f = n.as_f64().expect("a JSON number");
            assert!((v as f64 - f).abs() < 1.0, "{n} read as {v}");
        }
    }
    let original = t.clone();
    match entry_from_wire(t, asked) {
        Ok(e) => {
            match said {
                Some(v) => assert_eq!(Some(e.amount), v, "amount of {original:?}"),
                None => {
                    let (after, before) = balances.expect("an amount from the balances");
                    assert_eq!(Some(e.amount), after.checked_sub(before));
                }
            }
            assert_eq!(
                EntryType::from(e.entry_type.as_str().to_string()),
                e.entry_type
            );
            let want_date = original.ledger_date.clone().unwrap_or_else(|| ymd(asked));
            assert_eq!(e.ledger_date, want_date);
            assert_ne!(e.reference.as_deref(), Some(""));
        }
        Err(msg) => {
            assert!(
                said == Some(None)
                    || (said.is_none() && balances.and_then(|(a, b)| a.checked_sub(b)).is_none()),
                "refused a row with an amount: {msg} {original:?}"
            );
        }
    }
}
