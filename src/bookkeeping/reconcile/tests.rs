//! The comparison, table by table.

use super::*;
use crate::domain::settlement::{EntryType, SettlementEntry};
use crate::domain::voucher::Accounts;

fn row(t: &str, r: Option<&str>, amount: i64, n: u32) -> SettlementEntry {
    SettlementEntry {
        psp_reference: format!("psp{n}"),
        time: "2026-11-30T12:00:00Z".into(),
        ledger_date: "2026-11-30".into(),
        entry_type: EntryType::from(t.to_string()),
        reference: r.map(str::to_string),
        currency: "NOK".into(),
        amount,
        recipient_handle: Some("api:123456".into()),
    }
}

fn booked(r: &str, a: i64) -> Booked {
    Booked {
        reference: r.into(),
        amount: a,
    }
}

#[test]
fn a_clean_day_matches_and_leaves_clearing_at_zero() {
    let entries = vec![
        row("capture", Some("a"), 15000, 1),
        row("capture", Some("b"), 5000, 2),
        row("refund", Some("a"), -15000, 3),
        row("fees-retained", None, -350, 4),
        row("scheduled-for-payout", None, -(20000 - 15000 - 350), 5),
    ];
    let j = JournalSide {
        captures: vec![booked("a", 15000), booked("b", 5000)],
        refunds: vec![booked("a", 15000)],
    };
    let r = reconcile("302321", "2026-11-30", "NOK", &j, &entries);
    assert!(r.ok(), "{}", r.summary());
    assert_eq!(
        (r.captured, r.refunded, r.fees, r.payout),
        (20000, 15000, 350, 4650)
    );
    assert_eq!((r.matched_captures, r.matched_refunds), (2, 1));
    assert_eq!(r.clearing_left, 0);
    let v = r.vouchers(&Accounts::default());
    assert_eq!(v.len(), 2);
    assert!(v.iter().all(|v| v.check().is_ok()));
    assert_eq!(v[0].lines[0].account, 7770);
    assert_eq!(v[1].lines[0].account, 1920);
    assert_eq!(
        v[1].lines[1],
        crate::domain::voucher::VoucherLine {
            account: 1903,
            vat_code: None,
            amount: -4650,
            text: "Utbetaling fra Vipps 2026-11-30".into(),
            department: None,
        }
    );
}

#[test]
fn mismatches_are_named_both_ways_and_unknown_rows_kept() {
    let entries = vec![
        row("capture", Some("a"), 15000, 1),
        row("capture", Some("ghost"), 9900, 2),
        row("capture", Some("c"), 5000, 3),
        row("refund", Some("x"), -2000, 4),
        row("interchange-adjustment", None, -12, 5),
        row("fees-retained", None, -100, 6),
    ];
    let j = JournalSide {
        captures: vec![booked("a", 15000), booked("lost", 5000), booked("c", 4000)],
        refunds: vec![booked("a", 1000)],
    };
    let r = reconcile("1", "2026-11-30", "NOK", &j, &entries);
    assert!(!r.ok());
    assert_eq!(r.captured_not_in_journal.len(), 1);
    assert_eq!(r.captured_not_in_journal[0].reference, "ghost");
    assert_eq!(
        r.captured_not_in_journal[0].psp_reference.as_deref(),
        Some("psp2")
    );
    assert_eq!(r.journaled_not_captured[0].reference, "lost");
    assert_eq!(r.amount_differences[0].reference, "c");
    assert_eq!(r.amount_differences[0].journal_amount, Some(4000));
    assert_eq!(r.refunds_not_in_journal[0].reference, "x");
    assert_eq!(r.journaled_refunds_not_at_vipps[0].reference, "a");
    assert_eq!(r.for_review.len(), 1);
    assert_eq!(
        r.for_review[0].entry_type.as_str(),
        "interchange-adjustment"
    );
    let s = r.summary();
    for needle in ["ghost", "lost", "interchange-adjustment", "NOT OK"] {
        assert!(s.contains(needle), "{s}");
    }
}

#[test]
fn several_captures_of_one_reference_compare_as_their_sum() {
    let entries = vec![
        row("capture", Some("a"), 100, 1),
        row("capture", Some("a"), 200, 2),
    ];
    let j = JournalSide {
        captures: vec![booked("a", 300)],
        refunds: vec![],
    };
    let r = reconcile("1", "d", "NOK", &j, &entries);
    assert_eq!(r.matched_captures, 1);
    assert!(r.amount_differences.is_empty());
}

/// A sales unit's date: its MSN in the voucher numbers and texts, its
/// department on every line, the ledger in the reference.
#[test]
fn a_units_vouchers_carry_its_msn_and_department() {
    let entries = vec![
        row("capture", Some("a"), 10_000, 1),
        row("fees-retained", None, -175, 2),
        row("scheduled-for-payout", None, -9_825, 3),
    ];
    let j = JournalSide {
        captures: vec![booked("a", 10_000)],
        refunds: vec![],
    };
    let mut r = reconcile("ledger-2", "2026-11-30", "NOK", &j, &entries);
    r.msn = Some("234567".into());
    r.department = Some("20".into());
    assert!(r.ok());
    let v = r.vouchers(&Accounts::default());
    let heads: Vec<_> = v
        .iter()
        .map(|v| (v.number.as_str(), v.external_ref.as_str(), v.debit_total()))
        .collect();
    assert_eq!(
        heads,
        [
            (
                "VIPPS-234567-2026-11-30-FEES",
                "luka-vipps-ledger-2-2026-11-30-fees",
                175
            ),
            (
                "VIPPS-234567-2026-11-30-PAYOUT",
                "luka-vipps-ledger-2-2026-11-30-payout",
                9_825
            ),
        ]
    );
    assert!(
        v.iter()
            .flat_map(|v| &v.lines)
            .all(|l| l.department.as_deref() == Some("20"))
    );
    assert_eq!(v[0].lines[0].text, "Vipps-gebyrer 2026-11-30 (MSN 234567)");
    assert!(r.summary().contains("(ledger ledger-2, MSN 234567)"));
    // Stored before units, a reconciliation reads with neither.
    let mut old = serde_json::to_value(&r).unwrap();
    old.as_object_mut().unwrap().remove("msn");
    old.as_object_mut().unwrap().remove("department");
    let back: Reconciliation = serde_json::from_value(old).unwrap();
    assert_eq!((back.msn, back.department), (None, None));
}
