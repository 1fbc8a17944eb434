//! Table-style tests of the ledger rules in `ledger.rs`, at fixed instants.

use std::collections::HashSet;

use time::macros::{date, datetime};

use super::*;

fn mv(
    at: OffsetDateTime,
    entry_type: EntryType,
    reference: &str,
    psp: &str,
    amount: i64,
) -> Movement {
    Movement {
        at,
        entry_type,
        reference: Some(reference.into()),
        psp_reference: psp.into(),
        amount,
    }
}

fn rows(
    moves: &[Movement],
    closings: &Closings,
    now: OffsetDateTime,
    d: Date,
    t: Topic,
) -> (Vec<Row>, DayStatus) {
    day_rows(
        &ReportConfig::default(),
        moves,
        &HashSet::new(),
        closings,
        now,
        d,
        t,
    )
    .unwrap()
}

fn kinds(rows: &[Row]) -> Vec<&str> {
    rows.iter().map(|r| r.entry_type.as_str()).collect()
}

fn assert_chained(rows: &[Row], opening: i64) {
    let mut balance = opening;
    for r in rows {
        assert_eq!(r.balance_before, balance, "{r:?}");
        assert_eq!(r.balance_after, r.balance_before + r.amount, "{r:?}");
        balance = r.balance_after;
    }
}

#[test]
fn capture_fee_is_percent_rounded_half_up_plus_fixed() {
    let mut cfg = ReportConfig::default();
    for (amount, fee) in [
        (10_000, 175),
        (35_000, 613),
        (20_000, 350),
        (28, 0),
        (29, 1),
        (0, 0),
    ] {
        assert_eq!(cfg.capture_fee(amount), fee, "fee of {amount}");
    }
    cfg.fee_fixed_ore = 100;
    assert_eq!(cfg.capture_fee(10_000), 275);
}

#[test]
fn dates_are_oslo_days_and_close_at_local_midnight_or_when_told() {
    let none = Closings::new();
    // 22:30 UTC on 1 May is 00:30 on 2 May in Oslo (CEST).
    assert_eq!(
        ledger_date(datetime!(2024-05-01 22:30 UTC), &none),
        date!(2024 - 05 - 02)
    );
    let d = date!(2024 - 05 - 02);
    let cases = [
        (datetime!(2024-05-01 21:59 UTC), DayStatus::NotStarted),
        (datetime!(2024-05-01 22:00 UTC), DayStatus::Open),
        (datetime!(2024-05-02 21:59:59 UTC), DayStatus::Open),
        (
            datetime!(2024-05-02 22:00 UTC),
            DayStatus::Closed {
                at: datetime!(2024-05-02 22:00 UTC),
            },
        ),
    ];
    for (now, want) in cases {
        assert_eq!(status(d, now, &none), want, "at {now}");
    }
    let early = datetime!(2024-05-02 15:00 UTC);
    let closed = Closings::from([(d, early)]);
    assert_eq!(
        status(d, datetime!(2024-05-02 16:00 UTC), &closed),
        DayStatus::Closed { at: early }
    );
    // After an early close the rest of the day goes to the next ledger date.
    assert_eq!(ledger_date(datetime!(2024-05-02 14:59 UTC), &closed), d);
    assert_eq!(ledger_date(early, &closed), date!(2024 - 05 - 03));
}

#[test]
fn a_closed_day_books_fees_and_pays_out_to_zero() {
    let d = date!(2024 - 05 - 02);
    let t = |h| datetime!(2024-05-02 08:00 UTC) + time::Duration::hours(h);
    let moves = [
        mv(t(0), EntryType::Capture, "sale-a", "1000000001", 35_000),
        mv(t(1), EntryType::Capture, "sale-b", "1000000002", 10_000),
        mv(t(2), EntryType::Refund, "sale-a", "1000000003", -5_000),
        mv(
            t(3),
            EntryType::Other("interchange-adjustment".into()),
            "",
            "400000000001",
            -7,
        ),
    ];
    let now = datetime!(2024-05-03 09:00 UTC);
    let (funds, state) = rows(&moves, &Closings::new(), now, d, Topic::Funds);
    assert_eq!(
        state,
        DayStatus::Closed {
            at: datetime!(2024-05-02 22:00 UTC)
        }
    );
    assert_eq!(
        kinds(&funds),
        [
            "capture",
            "capture",
            "refund",
            "interchange-adjustment",
            "fees-retained",
            "scheduled-for-payout"
        ]
    );
    assert_chained(&funds, 0);
    let fees_total = 613 + 175;
    assert_eq!(funds[4].amount, -fees_total);
    assert_eq!(funds[5].amount, -(45_000 - 5_000 - 7 - fees_total));
    assert_eq!(funds.last().unwrap().balance_after, 0);

    let (fees, _) = rows(&moves, &Closings::new(), now, d, Topic::Fees);
    assert_eq!(
        kinds(&fees),
        ["capture-fee", "capture-fee", "fees-retained"]
    );
    assert_eq!(
        (fees[0].amount, fees[0].reference.as_deref()),
        (613, Some("sale-a"))
    );
    assert_chained(&fees, 0);
    assert_eq!(fees.last().unwrap().balance_after, 0);

    let psps: HashSet<&str> = funds
        .iter()
        .chain(&fees)
        .map(|r| r.psp_reference.as_str())
        .collect();
    assert_eq!(
        psps.len(),
        funds.len() + fees.len(),
        "pspReference unique per row"
    );
}

#[test]
fn an_open_day_has_no_closing_rows_and_a_future_day_is_not_there() {
    let d = date!(2024 - 05 - 02);
    let moves = [mv(
        datetime!(2024-05-02 08:00 UTC),
        EntryType::Capture,
        "sale-a",
        "1000000001",
        10_000,
    )];
    let now = datetime!(2024-05-02 09:00 UTC);
    let (funds, state) = rows(&moves, &Closings::new(), now, d, Topic::Funds);
    assert_eq!((state, kinds(&funds)), (DayStatus::Open, vec!["capture"]));
    let cfg = ReportConfig::default();
    let none = HashSet::new();
    let tomorrow = date!(2024 - 05 - 03);
    assert!(
        day_rows(
            &cfg,
            &moves,
            &none,
            &Closings::new(),
            now,
            tomorrow,
            Topic::Funds
        )
        .is_none()
    );
}

#[test]
fn a_negative_balance_is_carried_to_the_next_date() {
    let moves = [
        mv(
            datetime!(2024-05-02 08:00 UTC),
            EntryType::Refund,
            "sale-old",
            "1000000001",
            -4_000,
        ),
        mv(
            datetime!(2024-05-03 08:00 UTC),
            EntryType::Capture,
            "sale-new",
            "1000000002",
            10_000,
        ),
    ];
    let now = datetime!(2024-05-04 08:00 UTC);
    let (day1, _) = rows(
        &moves,
        &Closings::new(),
        now,
        date!(2024 - 05 - 02),
        Topic::Funds,
    );
    assert_eq!(kinds(&day1), ["refund"], "nothing to pay out");
    let (day2, _) = rows(
        &moves,
        &Closings::new(),
        now,
        date!(2024 - 05 - 03),
        Topic::Funds,
    );
    assert_chained(&day2, -4_000);
    assert_eq!(day2.last().unwrap().amount, -(10_000 - 175 - 4_000));
    assert_eq!(day2.last().unwrap().balance_after, 0);
}

#[test]
fn a_dropped_capture_leaves_no_row_and_no_fee() {
    let d = date!(2024 - 05 - 02);
    let moves = [
        mv(
            datetime!(2024-05-02 08:00 UTC),
            EntryType::Capture,
            "sale-a",
            "1000000001",
            10_000,
        ),
        mv(
            datetime!(2024-05-02 09:00 UTC),
            EntryType::Capture,
            "sale-b",
            "1000000002",
            20_000,
        ),
    ];
    let dropped = HashSet::from(["sale-a".to_string()]);
    let cfg = ReportConfig::default();
    let now = datetime!(2024-05-03 08:00 UTC);
    let (funds, _) = day_rows(
        &cfg,
        &moves,
        &dropped,
        &Closings::new(),
        now,
        d,
        Topic::Funds,
    )
    .unwrap();
    assert_eq!(
        kinds(&funds),
        ["capture", "fees-retained", "scheduled-for-payout"]
    );
    assert_eq!(
        (funds[0].reference.as_deref(), funds[1].amount),
        (Some("sale-b"), -350)
    );
}
