//! The Report client and its wire shapes.

use serde_json::json;
use time::macros::date;

use super::client::Pager;
use super::*;
use crate::domain::settlement::{EntryType, SettlementEntry};
use crate::vipps::error::VippsError;

fn parse(v: serde_json::Value) -> Result<SettlementEntry, String> {
    entry_from_wire(serde_json::from_value(v).unwrap(), date!(2024 - 05 - 02))
}

#[test]
fn the_spec_example_row_parses() {
    let e = parse(json!({
        "pspReference": "3343121302", "time": "2020-10-05T00:00:00.000000Z",
        "ledgerDate": "2020-10-05", "entryType": "capture",
        "reference": "acme-shop-123-order123abc", "currency": "NOK",
        "amount": 49900, "balanceBefore": 0, "balanceAfter": 49900,
        "recipientHandle": "NO:123455"
    }))
    .unwrap();
    assert_eq!(e.entry_type, EntryType::Capture);
    assert_eq!(
        (e.amount, e.reference.as_deref()),
        (49900, Some("acme-shop-123-order123abc"))
    );
}

#[test]
fn unknown_types_and_missing_fields_are_kept_not_refused() {
    let e = parse(json!({"entryType": "interchange-adjustment", "amount": -12})).unwrap();
    assert_eq!(
        e.entry_type,
        EntryType::Other("interchange-adjustment".into())
    );
    assert_eq!((e.ledger_date.as_str(), e.amount), ("2024-05-02", -12));
    assert_eq!((e.reference, e.recipient_handle), (None, None));
    let bare = parse(json!({"amount": 5.0})).unwrap();
    assert_eq!(bare.entry_type, EntryType::Other(String::new()));
    assert_eq!(bare.amount, 5);
    let balances = parse(json!({"balanceBefore": 100, "balanceAfter": 40})).unwrap();
    assert_eq!(balances.amount, -60);
}

#[test]
fn a_row_without_an_amount_is_refused() {
    let err = parse(json!({"pspReference": "77", "entryType": "capture"})).unwrap_err();
    assert!(err.contains("77") && err.contains("capture"), "{err}");
    assert!(parse(json!({"amount": 1.5})).is_err(), "øre are whole");
}

#[test]
fn pages_without_the_optional_fields_parse() {
    let p: ReportPage = serde_json::from_value(json!({})).unwrap();
    assert_eq!((p.has_more, p.try_later, p.items.len()), (None, None, 0));
    let l: LedgersPage = serde_json::from_value(json!({"items": [{}]})).unwrap();
    assert_eq!(l.items[0].settles_for_recipient_handles.len(), 0);
}

#[test]
fn cursor_loops_are_refused() {
    let mut p = Pager::default();
    assert!(p.next("a".into()).is_ok());
    assert!(matches!(
        p.next("a".into()),
        Err(ReportError::Incomplete(_))
    ));
}

#[test]
fn retryable_follows_the_outbox_policy() {
    assert!(ReportError::Vipps(VippsError::Timeout).is_retryable());
    assert!(!ReportError::Vipps(VippsError::Unauthorized).is_retryable());
    let e503 = VippsError::Http {
        status: 503,
        problem: None,
        body: String::new(),
        retry_after: None,
    };
    assert!(ReportError::Vipps(e503).is_retryable());
    assert!(ReportError::Incomplete("x".into()).is_retryable());
}
