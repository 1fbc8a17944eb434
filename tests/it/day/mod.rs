//! A day at the kiosk, written through the same store calls the kiosk
//! makes (sale, payment, record_paid, refund, journal), at fixed times.
//! 1 May 2024 is summer time: local = UTC + 2.

#![allow(dead_code)]

use serde_json::json;
use time::OffsetDateTime;
use time::macros::datetime;

use luka::domain::journal::JournalKind;
use luka::domain::{Catalog, Money, PaymentMethod, SaleLine, SaleStatus, VatCode};
use luka::kiosk::settle::record_paid;
use luka::store::{NewSale, SaleRecord, Store};

pub const TILL: &str = "kiosk-1";

/// SAF-T export options for the day (1 May 2024, [`TILL`], the club
/// catalogue), made at `now` for `merchant`.
pub fn saft_may1(
    merchant: luka::domain::Merchant,
    now: OffsetDateTime,
) -> luka::bookkeeping::saft::SaftOptions {
    luka::bookkeeping::saft::SaftOptions {
        from: time::macros::date!(2024 - 05 - 01),
        to: time::macros::date!(2024 - 05 - 01),
        merchant,
        till_id: TILL.into(),
        catalog: Catalog::club_default(),
        now,
    }
}

/// Local 1 May 2024 at `h:m` as UTC.
pub fn may1(h: u8, m: u8) -> OffsetDateTime {
    datetime!(2024-05-01 00:00 UTC) + time::Duration::minutes((h as i64 - 2) * 60 + m as i64)
}

pub fn may2(h: u8, m: u8) -> OffsetDateTime {
    may1(h, m) + time::Duration::days(1)
}

pub fn product(id: &str, qty: u32) -> SaleLine {
    SaleLine::from_product(Catalog::club_default().get(id).unwrap(), qty)
}

pub fn sell(
    store: &Store,
    method: PaymentMethod,
    lines: Vec<SaleLine>,
    training: bool,
    now: OffsetDateTime,
) -> SaleRecord {
    let total = Money::nok(lines.iter().map(|l| l.amount().unwrap().minor()).sum());
    store
        .write(|w| {
            let sale = w.insert_sale(&NewSale {
                till_id: TILL.into(),
                method,
                status: SaleStatus::Pending,
                lines,
                total,
                description: String::new(),
                training,
                cash_given: (method == PaymentMethod::Cash).then_some(total),
                terminal_ref: None,
                reference_random: 7,
                msn: None,
                department: None,
                now,
            })?;
            if method == PaymentMethod::Vipps {
                w.insert_payment(&sale, "vipps", now)?;
            }
            record_paid(
                w,
                &sale,
                json!({ "method": method.as_str() }),
                &Default::default(),
                now,
            )?;
            w.journal(
                JournalKind::ReceiptPrinted,
                Some(sale.id),
                json!({ "kind": "sale", "training": training }),
                now,
            )?;
            w.reader().sale(sale.id)
        })
        .unwrap()
}

pub fn refund(store: &Store, sale: &SaleRecord, amount: i64, now: OffsetDateTime) {
    store
        .write(|w| {
            let id = w.insert_refund(sale.id, amount, "kunden ombestemte seg", now)?;
            w.journal(
                JournalKind::RefundRequested,
                Some(sale.id),
                json!({ "refund_id": id, "amount": amount }),
                now,
            )?;
            w.finish_refund(id, true, now)?;
            w.journal(
                JournalKind::SaleRefunded,
                Some(sale.id),
                json!({ "refund_id": id, "amount": amount }),
                now,
            )
        })
        .unwrap();
}

pub fn event(
    store: &Store,
    kind: JournalKind,
    sale_id: Option<i64>,
    data: serde_json::Value,
    now: OffsetDateTime,
) {
    store
        .write(|w| w.journal(kind, sale_id, data, now))
        .unwrap();
}

/// An entry of a kind this Luka does not know, as a newer Luka would have
/// written it: linked into the hash chain, SAF-T code 13999. `Writer::journal`
/// takes a `JournalKind` only, so only a raw row can hold such a kind; reading
/// must still take it (reports skip it, SAF-T exports it as "other").
pub fn newer_luka_event(store: &Store, kind: &str, data: serde_json::Value, now: OffsetDateTime) {
    let c = rusqlite::Connection::open(store.path()).unwrap();
    let (seq, prev): (i64, String) = c
        .query_row(
            "SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let mut row = luka::journal::ChainRow {
        seq: seq + 1,
        at: luka::clock::rfc3339(now),
        sale_id: None,
        kind: kind.into(),
        data: data.to_string(),
        event_code: Some(13999),
        trans: None,
        signature: None,
        key_version: None,
        prev_hash: Some(prev.clone()),
        hash: None,
    };
    row.hash = Some(row.expected_hash(&prev));
    c.execute(
        "INSERT INTO journal (seq, at, sale_id, kind, data, event_code, prev_hash, hash) \
         VALUES (?1, ?2, NULL, ?3, ?4, ?5, ?6, ?7)",
        rusqlite::params![
            row.seq,
            row.at,
            row.kind,
            row.data,
            row.event_code,
            row.prev_hash,
            row.hash
        ],
    )
    .unwrap();
}

/// The mixed day the report test computes by hand (see `reports_day.rs`).
pub struct Day {
    pub a: SaleRecord,
    pub b: SaleRecord,
    pub c: SaleRecord,
    pub d: SaleRecord,
    pub e_training: SaleRecord,
}

pub fn mixed_day(store: &Store) -> Day {
    event(
        store,
        JournalKind::AppStart,
        None,
        json!({ "till": TILL }),
        may1(8, 50),
    );
    event(
        store,
        JournalKind::OperatorLogin,
        None,
        json!({ "operator": "1001", "name": "Kari Nordmann" }),
        may1(8, 55),
    );
    luka::reports::set_float(store, TILL, Money::nok(150_000), may1(9, 0)).unwrap();
    let a = sell(
        store,
        PaymentMethod::Cash,
        vec![product("voksen", 2)],
        false,
        may1(10, 5),
    );
    event(
        store,
        JournalKind::DrawerOpened,
        Some(a.id),
        json!({}),
        may1(10, 5),
    );
    let b = sell(
        store,
        PaymentMethod::Vipps,
        vec![product("kaffe", 1), product("vaffel", 1)],
        false,
        may1(10, 20),
    );
    let c = sell(
        store,
        PaymentMethod::Vipps,
        vec![product("skjerf", 1), product("brus", 1)],
        false,
        may1(11, 10),
    );
    event(
        store,
        JournalKind::PriceChanged,
        None,
        json!({ "product": "kaffe", "from": 3_000, "to": 3_500 }),
        may1(11, 30),
    );
    event(
        store,
        JournalKind::OperatorLogout,
        None,
        json!({ "operator": "1001" }),
        may1(11, 45),
    );
    event(
        store,
        JournalKind::OperatorLogin,
        None,
        json!({ "operator": "1002", "name": "Ola Nordmann" }),
        may1(11, 50),
    );
    let mut kaffe = product("kaffe", 2);
    kaffe.unit_price = Money::nok(3_500);
    let d = sell(store, PaymentMethod::Cash, vec![kaffe], false, may1(12, 0));
    event(
        store,
        JournalKind::CopyPrinted,
        Some(b.id),
        json!({}),
        may1(12, 10),
    );
    refund(store, &b, 5_500, may1(13, 0));
    let e_training = sell(
        store,
        PaymentMethod::Vipps,
        vec![SaleLine::free_amount(
            Money::nok(10_000),
            VatCode::Regular,
            "Beløp",
        )],
        true,
        may1(13, 30),
    );
    event(
        store,
        JournalKind::DrawerOpened,
        None,
        json!({}),
        may1(14, 0),
    );
    newer_luka_event(
        store,
        "sale.mystery",
        json!({ "unknown": true }),
        may1(14, 5),
    );
    Day {
        a,
        b,
        c,
        d,
        e_training,
    }
}
