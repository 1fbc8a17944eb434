//! Runs every statement of the store against a real SQLite file.

use serde_json::json;
use time::macros::datetime;

use super::*;
use crate::domain::journal::JournalKind;
use crate::domain::{
    Catalog, Money, PaymentMethod, PaymentPhase, SaleLine, SaleStatus, UnpaidReason,
};

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("luka.db")).unwrap();
    (dir, store)
}

fn new_sale(method: PaymentMethod) -> NewSale {
    let c = Catalog::club_default();
    let line = SaleLine::from_product(c.get("voksen").unwrap(), 2);
    NewSale {
        till_id: "kiosk-1".into(),
        method,
        status: SaleStatus::Pending,
        total: line.amount().unwrap(),
        lines: vec![line],
        description: "2 x Voksen".into(),
        training: false,
        cash_given: None,
        terminal_ref: None,
        reference_random: 7,
        msn: None,
        department: None,
        now: datetime!(2026-11-21 12:00 UTC),
    }
}

fn item(sale_id: i64, kind: &str, key: &str) -> NewOutboxItem {
    NewOutboxItem {
        sale_id: Some(sale_id),
        kind: kind.into(),
        idempotency_key: key.into(),
        payload: json!({"k": kind}),
    }
}

const NOW: time::OffsetDateTime = datetime!(2026-11-21 12:00 UTC);

#[test]
fn a_sale_with_its_lines_payment_and_outbox_commits_together() {
    let (_d, s) = store();
    let sale = s
        .write(|w| {
            let sale = w.insert_sale(&new_sale(PaymentMethod::Vipps))?;
            w.insert_payment(&sale, "vipps", NOW)?;
            w.enqueue(&item(sale.id, "vipps.create", "k1"), NOW)?;
            w.journal(
                JournalKind::SaleStarted,
                Some(sale.id),
                json!({"total": 30000}),
                NOW,
            )?;
            Ok(sale)
        })
        .unwrap();
    assert_eq!(sale.reference, "kiosk-1-000001-00000007");
    assert_eq!(sale.total, Money::nok(30_000));
    s.read(|r| {
        assert_eq!(r.sale_lines(sale.id)?.len(), 1);
        assert_eq!(r.payment(sale.id)?.phase, PaymentPhase::Initiated);
        assert_eq!(r.outbox_for_sale(sale.id)?[0].idempotency_key, "k1");
        assert_eq!(r.open_sales()?.len(), 1);
        assert_eq!(r.sale_by_reference(&sale.reference)?.id, sale.id);
        assert_eq!(r.journal_entries(Some(sale.id))?.len(), 1);
        Ok(())
    })
    .unwrap();
}

#[test]
fn a_failure_inside_write_rolls_everything_back() {
    let (_d, s) = store();
    let err = s.write(|w| {
        let sale = w.insert_sale(&new_sale(PaymentMethod::Vipps))?;
        w.enqueue(&item(sale.id, "vipps.create", "k1"), NOW)?;
        w.enqueue(&item(sale.id, "vipps.create", "k1"), NOW)?; // duplicate key
        Ok(())
    });
    assert!(err.is_err());
    assert!(s.read(|r| r.all_sales()).unwrap().is_empty());
}

#[test]
fn guarded_updates_refuse_a_wrong_starting_state() {
    let (_d, s) = store();
    let sale = s
        .write(|w| {
            let sale = w.insert_sale(&new_sale(PaymentMethod::Vipps))?;
            w.insert_payment(&sale, "vipps", NOW)?;
            Ok(sale)
        })
        .unwrap();
    let id = sale.id;
    s.write(|w| w.set_sale_status(id, &[SaleStatus::Pending], SaleStatus::Awaiting))
        .unwrap();
    let err = s
        .write(|w| w.set_sale_status(id, &[SaleStatus::Pending], SaleStatus::Awaiting))
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict { found, .. } if found == "awaiting"),
        "{err}"
    );
    s.write(|w| w.payment_created(id, Some("http://qr"), NOW, NOW))
        .unwrap();
    assert!(s.write(|w| w.payment_created(id, None, NOW, NOW)).is_err());
    let amounts = Amounts {
        authorized: 30_000,
        ..Default::default()
    };
    s.write(|w| {
        w.update_payment(
            id,
            PaymentPhase::Created,
            PaymentPhase::Authorized,
            amounts,
            Some("psp"),
            NOW,
        )
    })
    .unwrap();
    // A stale writer that still believes the payment is CREATED changes nothing.
    assert!(
        s.write(|w| w.update_payment(
            id,
            PaymentPhase::Created,
            PaymentPhase::Aborted,
            Amounts::default(),
            None,
            NOW
        ))
        .is_err()
    );
    s.write(|w| w.count_read(id)).unwrap();
    let p = s.read(|r| r.payment(id)).unwrap();
    assert_eq!(
        (p.phase, p.authorized, p.reads),
        (PaymentPhase::Authorized, 30_000, 1)
    );
    assert_eq!(p.psp_reference.as_deref(), Some("psp"));
}

#[test]
fn receipt_numbers_are_consecutive_and_final_states_are_final() {
    let (_d, s) = store();
    let mut receipts = vec![];
    for _ in 0..3 {
        let no = s
            .write(|w| {
                let sale = w.insert_sale(&new_sale(PaymentMethod::Cash))?;
                w.mark_paid(sale.id, &[SaleStatus::Pending], NOW)
            })
            .unwrap();
        receipts.push(no);
    }
    assert_eq!(receipts, vec![1, 2, 3]);
    // Paying twice is refused and does not burn a receipt number.
    assert!(
        s.write(|w| w.mark_paid(1, &[SaleStatus::Pending], NOW))
            .is_err()
    );
    let unpaid = s
        .write(|w| {
            let sale = w.insert_sale(&new_sale(PaymentMethod::Vipps))?;
            w.close_unpaid(sale.id, &[SaleStatus::Pending], UnpaidReason::Aborted, NOW)?;
            Ok(sale.id)
        })
        .unwrap();
    assert!(
        s.write(|w| w.close_unpaid(unpaid, &[SaleStatus::Pending], UnpaidReason::Expired, NOW))
            .is_err()
    );
    let next = s
        .write(|w| {
            let sale = w.insert_sale(&new_sale(PaymentMethod::Cash))?;
            w.mark_paid(sale.id, &[SaleStatus::Pending], NOW)
        })
        .unwrap();
    assert_eq!(next, 4);
    let closed = s.read(|r| r.sale(unpaid)).unwrap();
    assert_eq!(closed.unpaid_reason, Some(UnpaidReason::Aborted));
    assert_eq!(
        s.read(|r| r.last_paid_sale()).unwrap().unwrap().receipt_no,
        Some(4)
    );
}

#[test]
fn todays_rows_are_bounded_and_todays_counts_are_not() {
    let (_d, s) = store();
    let mut yesterday = new_sale(PaymentMethod::Cash);
    yesterday.now = datetime!(2026-11-20 12:00 UTC);
    s.write(|w| w.insert_sale(&yesterday)).unwrap();
    s.write(|w| {
        let sale = w.insert_sale(&new_sale(PaymentMethod::Vipps))?;
        w.close_unpaid(sale.id, &[SaleStatus::Pending], UnpaidReason::Aborted, NOW)
    })
    .unwrap();
    for _ in 0..5 {
        s.write(|w| {
            let sale = w.insert_sale(&new_sale(PaymentMethod::Cash))?;
            w.mark_paid(sale.id, &[SaleStatus::Pending], NOW)
        })
        .unwrap();
    }
    s.write(|w| w.insert_sale(&new_sale(PaymentMethod::Vipps)))
        .unwrap();
    let midnight = datetime!(2026-11-21 00:00 UTC);
    let newest: Vec<i64> = s
        .read(|r| r.sales_since(midnight, 3))
        .unwrap()
        .iter()
        .map(|sale| sale.id)
        .collect();
    assert_eq!(newest, vec![8, 7, 6], "the newest three, newest first");
    assert_eq!(s.read(|r| r.sales_since(midnight, 100)).unwrap().len(), 7);
    assert_eq!(
        s.read(|r| r.sale_counts_since(midnight)).unwrap(),
        vec![
            (SaleStatus::Paid, 5),
            (SaleStatus::Pending, 1),
            (SaleStatus::Unpaid, 1)
        ],
        "every sale of the day, however few rows were read; not yesterday's"
    );
}

#[test]
fn refunds_never_exceed_what_was_paid() {
    let (_d, s) = store();
    let id = s
        .write(|w| {
            let sale = w.insert_sale(&new_sale(PaymentMethod::Vipps))?;
            w.mark_paid(sale.id, &[SaleStatus::Pending], NOW)?;
            Ok(sale.id)
        })
        .unwrap();
    let r1 = s
        .write(|w| w.insert_refund(id, 10_000, "feil billett", NOW))
        .unwrap();
    let too_much = s
        .write(|w| w.insert_refund(id, 20_001, "for mye", NOW))
        .unwrap_err();
    assert!(
        too_much.to_string().contains("only kr 200,00 is left"),
        "{too_much}"
    );
    s.write(|w| w.finish_refund(r1, false, NOW)).unwrap();
    // A failed refund frees its amount again.
    s.write(|w| w.insert_refund(id, 30_000, "alt", NOW))
        .unwrap();
    assert!(s.write(|w| w.finish_refund(r1, true, NOW)).is_err());
    assert_eq!(s.read(|r| r.refunds(id)).unwrap().len(), 2);
    assert_eq!(s.read(|r| r.refunded_or_pending(id)).unwrap(), 30_000);
}

#[test]
fn outbox_claims_in_order_per_sale_and_keeps_keys_across_retries() {
    let (_d, s) = store();
    let (_a, _b) = s
        .write(|w| {
            let a = w.insert_sale(&new_sale(PaymentMethod::Vipps))?.id;
            let b = w.insert_sale(&new_sale(PaymentMethod::Vipps))?.id;
            w.enqueue(&item(a, "vipps.create", "a1"), NOW)?;
            w.enqueue(&item(a, "vipps.capture", "a2"), NOW)?;
            w.enqueue(&item(b, "vipps.create", "b1"), NOW)?;
            Ok((a, b))
        })
        .unwrap();
    let now_ms = NOW.unix_timestamp() * 1000;
    let claimed = s.write(|w| w.claim_due(now_ms, 10)).unwrap();
    let keys: Vec<_> = claimed.iter().map(|i| i.idempotency_key.as_str()).collect();
    assert_eq!(keys, vec!["a1", "b1"], "a2 waits for a1");
    assert!(
        claimed
            .iter()
            .all(|i| i.attempts == 1 && i.status == OutboxStatus::InFlight)
    );
    // a1 fails transiently: back to pending, later.
    s.write(|w| w.outbox_retry_at(claimed[0].id, now_ms + 1000, "timeout", NOW))
        .unwrap();
    assert!(s.write(|w| w.claim_due(now_ms, 10)).unwrap().is_empty());
    let again = s.write(|w| w.claim_due(now_ms + 1000, 10)).unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(
        (again[0].idempotency_key.as_str(), again[0].attempts),
        ("a1", 2)
    );
    assert_eq!(again[0].last_error.as_deref(), Some("timeout"));
    s.write(|w| w.outbox_done(again[0].id, NOW)).unwrap();
    assert!(
        s.write(|w| w.outbox_done(again[0].id, NOW)).is_err(),
        "done twice"
    );
    let next = s.write(|w| w.claim_due(now_ms + 1000, 10)).unwrap();
    assert_eq!(next[0].idempotency_key, "a2");
    // A crash leaves a2 and b1 in flight: start-up puts them back.
    let n = s
        .write(|w| w.requeue_in_flight("found in flight at start-up", NOW))
        .unwrap();
    assert_eq!(n, 2);
    let backlog = s.read(|r| r.outbox_backlog()).unwrap();
    assert!(backlog.iter().all(|i| i.status == OutboxStatus::Pending));
    assert!(
        backlog
            .iter()
            .all(|i| i.requeue_reason.as_deref() == Some("found in flight at start-up"))
    );
    assert_eq!(s.read(|r| r.next_due_ms()).unwrap(), Some(now_ms));
}

#[test]
fn failed_items_wait_for_a_hand_retry_and_unattempted_ones_can_be_skipped() {
    let (_d, s) = store();
    let (create, capture) = s
        .write(|w| {
            let a = w.insert_sale(&new_sale(PaymentMethod::Vipps))?.id;
            Ok((
                w.enqueue(&item(a, "vipps.create", "c1"), NOW)?,
                w.enqueue(&item(a, "vipps.capture", "c2"), NOW)?,
            ))
        })
        .unwrap();
    assert!(
        s.write(|w| w.outbox_skip_unattempted(capture, NOW))
            .unwrap()
    );
    let now_ms = NOW.unix_timestamp() * 1000;
    let claimed = s.write(|w| w.claim_due(now_ms, 10)).unwrap();
    assert_eq!(claimed[0].id, create);
    assert!(!s.write(|w| w.outbox_skip_unattempted(create, NOW)).unwrap());
    s.write(|w| w.outbox_fail(create, "400: bad reference", NOW))
        .unwrap();
    assert!(s.write(|w| w.claim_due(now_ms, 10)).unwrap().is_empty());
    s.write(|w| w.outbox_retry_failed(create, NOW)).unwrap();
    assert_eq!(s.write(|w| w.claim_due(now_ms, 10)).unwrap().len(), 1);
}

#[test]
fn the_journal_refuses_edits_and_deletions() {
    let (_d, s) = store();
    s.write(|w| w.journal(JournalKind::AppStart, None, json!({}), NOW))
        .unwrap();
    let conn = rusqlite::Connection::open(s.path()).unwrap();
    let upd = conn
        .execute("UPDATE journal SET kind = 'x'", [])
        .unwrap_err();
    assert!(upd.to_string().contains("append-only"), "{upd}");
    let del = conn.execute("DELETE FROM journal", []).unwrap_err();
    assert!(del.to_string().contains("append-only"), "{del}");
    assert_eq!(s.read(|r| r.journal_entries(None)).unwrap().len(), 1);
}

#[test]
fn lanes_keep_a_held_receipt_from_holding_up_a_refund_and_a_hand_wakes_prints() {
    let (_d, s) = store();
    let (print, refund, copy) = s
        .write(|w| {
            let a = w.insert_sale(&new_sale(PaymentMethod::Vipps))?.id;
            Ok((
                w.enqueue(&item(a, "print.receipt", "print:1:sale"), NOW)?,
                w.enqueue(&item(a, "vipps.refund", "r1"), NOW)?,
                w.enqueue(&item(a, "print.receipt", "print:1:copy"), NOW)?,
            ))
        })
        .unwrap();
    let now_ms = NOW.unix_timestamp() * 1000;
    let ids = |v: Vec<OutboxItem>| v.iter().map(|i| i.id).collect::<Vec<_>>();
    // The original print and the refund run side by side; the copy waits
    // behind the original in the print lane.
    let claimed = s.write(|w| w.claim_due(now_ms, 10)).unwrap();
    assert_eq!(ids(claimed), vec![print, refund]);
    s.write(|w| w.outbox_retry_at(print, now_ms + 60_000, "Tom for papir", NOW))
        .unwrap();
    assert!(s.write(|w| w.claim_due(now_ms, 10)).unwrap().is_empty());
    assert_eq!(s.read(|r| r.outbox_open_count("print.")).unwrap(), 2);
    assert_eq!(s.read(|r| r.outbox_open_count("vipps.")).unwrap(), 1);
    // Retry by hand: the held print is due now (a stopped one would be pending again).
    assert_eq!(s.write(|w| w.outbox_wake("print.", NOW)).unwrap(), 2);
    let claimed = s.write(|w| w.claim_due(now_ms, 10)).unwrap();
    assert_eq!(ids(claimed), vec![print]);
    s.write(|w| w.outbox_fail(print, "Mangler tilgang", NOW))
        .unwrap();
    assert_eq!(s.write(|w| w.outbox_wake("print.", NOW)).unwrap(), 2);
    let held = s
        .read(|r| r.outbox_by_key("print:1:sale"))
        .unwrap()
        .unwrap();
    assert_eq!(
        (held.status, held.requeue_reason.as_deref()),
        (OutboxStatus::Pending, Some("retried by hand"))
    );
    // Skipped by the organizer: the copy may go, and the skip is final.
    s.write(|w| w.outbox_skip(print, "skipped by the organizer", NOW))
        .unwrap();
    assert!(s.write(|w| w.outbox_skip(print, "again", NOW)).is_err());
    assert_eq!(
        ids(s.write(|w| w.claim_due(now_ms, 10)).unwrap()),
        vec![copy]
    );
    assert!(
        s.read(|r| r.outbox_by_key("print:9:sale"))
            .unwrap()
            .is_none()
    );
}

#[test]
fn refund_receipts_share_the_receipt_number_series() {
    let (_d, s) = store();
    let sale = s
        .write(|w| {
            let sale = w.insert_sale(&new_sale(PaymentMethod::Cash))?;
            w.mark_paid(sale.id, &SaleStatus::OPEN, NOW)?;
            Ok(sale)
        })
        .unwrap();
    assert_eq!(s.write(|w| w.next_receipt_no()).unwrap(), 2);
    assert_eq!(s.read(|r| r.sale_by_receipt_no(1)).unwrap().id, sale.id);
    assert!(matches!(
        s.read(|r| r.sale_by_receipt_no(2)),
        Err(StoreError::NotFound(_))
    ));
}

fn sync_item(key: &str) -> NewOutboxItem {
    NewOutboxItem {
        sale_id: None,
        kind: "sync.webhook".into(),
        idempotency_key: key.into(),
        payload: json!({"k": key}),
    }
}

#[test]
fn a_lane_batch_is_claimed_as_stored_and_recorded_done_all_or_none() {
    let (_d, s) = store();
    s.write(|w| {
        for k in ["a", "b", "c"] {
            w.enqueue(&sync_item(k), NOW)?;
        }
        Ok(())
    })
    .unwrap();
    let batch = s.write(|w| w.sync_claim("sync.webhook", 10, NOW)).unwrap();
    assert_eq!(batch.len(), 3);
    for item in &batch {
        let stored = s.read(|r| r.outbox_item(item.id)).unwrap();
        assert_eq!(&stored, item, "a claimed item is what the database holds");
        assert_eq!(
            (stored.status, stored.attempts),
            (OutboxStatus::InFlight, 1)
        );
    }
    let ids: Vec<i64> = batch.iter().map(|i| i.id).collect();
    // c goes back untried: recording the whole batch done is a conflict,
    // and none of it is recorded.
    s.write(|w| w.sync_unclaim(&ids[2..], NOW)).unwrap();
    let refused = s.write(|w| w.sync_done(&ids, NOW));
    assert!(
        matches!(refused, Err(StoreError::Conflict { .. })),
        "{refused:?}"
    );
    let lane = s.read(|r| r.sync_lane("sync.webhook")).unwrap();
    assert_eq!((lane.pending, lane.done), (3, 0));
    // Only what is in flight becomes done, in one transaction.
    s.write(|w| w.sync_done(&ids[..2], NOW)).unwrap();
    let lane = s.read(|r| r.sync_lane("sync.webhook")).unwrap();
    assert_eq!((lane.pending, lane.done, lane.head_attempts), (1, 2, 0));
    assert!(
        s.write(|w| w.sync_done(&ids[..1], NOW)).is_err(),
        "done once"
    );
}

#[test]
fn waking_a_lane_makes_its_waiting_head_due_and_leaves_due_items_unwritten() {
    let (_d, s) = store();
    let later = NOW + time::Duration::seconds(600);
    s.write(|w| {
        for k in ["a", "b", "c"] {
            w.enqueue(&sync_item(k), NOW)?;
        }
        Ok(())
    })
    .unwrap();
    let head = s.write(|w| w.sync_claim("sync.webhook", 1, NOW)).unwrap();
    s.write(|w| w.outbox_retry_at(head[0].id, later.unix_timestamp() * 1000, "503", NOW))
        .unwrap();
    let soon = NOW + time::Duration::seconds(1);
    assert!(
        s.write(|w| w.sync_claim("sync.webhook", 5, soon))
            .unwrap()
            .is_empty(),
        "the head waits, and the rest behind it"
    );
    // Only the waiting head needed waking; b and c were due already.
    assert_eq!(
        s.write(|w| w.outbox_wake_pending("sync.webhook", soon))
            .unwrap(),
        1
    );
    let all = s.write(|w| w.sync_claim("sync.webhook", 5, soon)).unwrap();
    let keys: Vec<&str> = all.iter().map(|i| i.idempotency_key.as_str()).collect();
    assert_eq!(keys, ["a", "b", "c"]);
}

#[test]
fn sync_lanes_are_claimed_in_order_and_never_by_the_kiosk_worker() {
    let (_d, s) = store();
    let later = NOW + time::Duration::seconds(60);
    s.write(|w| {
        let sale = w.insert_sale(&new_sale(PaymentMethod::Vipps))?;
        w.enqueue(&item(sale.id, "vipps.create", "k1"), NOW)?;
        for k in ["a", "b", "c", "d"] {
            w.enqueue(&sync_item(k), NOW)?;
        }
        assert!(
            !w.enqueue_once(&sync_item("a"), NOW)?,
            "a key is queued once"
        );
        Ok(())
    })
    .unwrap();
    // The kiosk's worker sees only its own item.
    let kiosk = s.write(|w| w.claim_due(i64::MAX, 10)).unwrap();
    assert_eq!(kiosk.len(), 1);
    assert_eq!(kiosk[0].kind, "vipps.create");
    // The lane hands out its head, oldest first, in a batch.
    let batch = s.write(|w| w.sync_claim("sync.webhook", 2, NOW)).unwrap();
    let keys: Vec<&str> = batch.iter().map(|i| i.idempotency_key.as_str()).collect();
    assert_eq!(keys, ["a", "b"]);
    // While its head is in flight, nobody else gets the lane.
    assert!(
        s.write(|w| w.sync_claim("sync.webhook", 2, NOW))
            .unwrap()
            .is_empty()
    );
    // a delivered; b failed and waits a minute; the rest never overtake it.
    s.write(|w| {
        w.outbox_done(batch[0].id, NOW)?;
        w.outbox_retry_at(batch[1].id, later.unix_timestamp() * 1000, "503", NOW)
    })
    .unwrap();
    assert!(
        s.write(|w| w.sync_claim("sync.webhook", 5, NOW))
            .unwrap()
            .is_empty()
    );
    let lane = s.read(|r| r.sync_lane("sync.webhook")).unwrap();
    assert_eq!((lane.pending, lane.done, lane.head_attempts), (3, 1, 1));
    assert_eq!(lane.head_error.as_deref(), Some("503"));
    let again = s.write(|w| w.sync_claim("sync.webhook", 5, later)).unwrap();
    let keys: Vec<&str> = again.iter().map(|i| i.idempotency_key.as_str()).collect();
    assert_eq!(keys, ["b", "c", "d"]);
    // Untried items go back without counting an attempt.
    s.write(|w| w.sync_unclaim(&[again[1].id, again[2].id], later))
        .unwrap();
    let c = s.read(|r| r.outbox_item(again[1].id)).unwrap();
    assert_eq!((c.status, c.attempts), (OutboxStatus::Pending, 0));
    assert_eq!(s.read(|r| r.outbox_open_total()).unwrap(), 4);
    assert_eq!(
        s.read(|r| r.outbox_backlog_without_sync(None))
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn the_claim_queries_use_their_partial_indexes() {
    let (_d, s) = store();
    let plan = |sql: &str| -> String {
        let conn = s.lock();
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<Vec<_>>>()
            .unwrap();
        rows.join(" / ")
    };
    let kiosk = plan(
        "SELECT o.id FROM outbox o WHERE o.status = 'pending' AND substr(o.kind, 1, 5) <> 'sync.' \
         AND o.next_attempt_at <= 0 ORDER BY o.next_attempt_at, o.id LIMIT 8",
    );
    assert!(kiosk.contains("outbox_due_kiosk"), "{kiosk}");
    let lane = plan(
        "SELECT id, status, next_attempt_at FROM outbox WHERE kind = 'sync.webhook' \
         AND status IN ('pending', 'in_flight') ORDER BY id LIMIT 16",
    );
    assert!(lane.contains("outbox_sync_open"), "{lane}");
    // A drain's look at each lane's head: one step down the same index.
    let head = plan(
        "SELECT id FROM outbox WHERE kind = 'sync.hub' AND status IN ('pending', 'in_flight') \
         ORDER BY id LIMIT 1",
    );
    assert!(head.contains("outbox_sync_open"), "{head}");
    // The status bar's count and the organizer's backlog: open items only.
    let open =
        plan("SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'in_flight', 'failed')");
    assert!(open.contains("outbox_open"), "{open}");
    let backlog = plan(
        "SELECT id FROM outbox WHERE status IN ('pending', 'in_flight', 'failed') \
         AND (substr(kind, 1, 5) <> 'sync.' OR status = 'failed') ORDER BY id LIMIT 8",
    );
    assert!(backlog.contains("outbox_open"), "{backlog}");
}

#[test]
fn the_view_connection_sees_every_commit_and_reads_bounded_backlogs() {
    let (_d, s) = store();
    let now = datetime!(2026-11-21 12:00 UTC);
    // Opened before the writes below: a view is a fresh snapshot each time.
    assert_eq!(s.view(|r| r.outbox_open_total()).unwrap(), 0);
    let sale = s
        .write(|w| w.insert_sale(&new_sale(PaymentMethod::Vipps)))
        .unwrap();
    for n in 0..5 {
        s.write(|w| w.enqueue(&item(sale.id, "vipps.capture", &format!("k{n}")), now))
            .unwrap();
    }
    assert_eq!(s.view(|r| r.outbox_open_total()).unwrap(), 5);
    let head = s.view(|r| r.outbox_backlog_without_sync(Some(2))).unwrap();
    let keys: Vec<&str> = head.iter().map(|i| i.idempotency_key.as_str()).collect();
    assert_eq!(keys, ["k0", "k1"], "the oldest, and only as many as asked");
    assert_eq!(
        s.view(|r| r.outbox_backlog_without_sync(None))
            .unwrap()
            .len(),
        5
    );
    // It only reads.
    let err = s
        .view(|r| Ok::<_, StoreError>(r.conn.execute("DELETE FROM outbox", [])?))
        .unwrap_err();
    assert!(err.to_string().contains("readonly"), "{err}");
}

/// Migration 005 rebuilds `sales` to admit card sales: a database made by
/// the Luka before it keeps every sale, line, payment and refund, its
/// foreign keys hold, and a card sale with its terminal reference fits.
#[test]
fn the_card_migration_keeps_every_sale_of_an_older_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        let tx = conn.transaction().unwrap();
        for (_, sql) in &MIGRATIONS[..4] {
            tx.execute_batch(sql).unwrap();
        }
        tx.pragma_update(None, "user_version", 4).unwrap();
        tx.execute_batch(
            "INSERT INTO sales (id, till_id, reference, method, status, currency, total_minor, \
             description, receipt_no, cash_given_minor, training, created_at, closed_at) VALUES \
             (1, 'kiosk-1', 'kiosk-1-000001-aa', 'cash', 'paid', 'NOK', 30000, '2 x Voksen', 1, \
              50000, 0, '2026-11-21T12:00:00Z', '2026-11-21T12:00:01Z'), \
             (2, 'kiosk-1', 'kiosk-1-000002-bb', 'vipps', 'awaiting', 'NOK', 5000, 'Barn', NULL, \
              NULL, 1, '2026-11-21T12:01:00Z', NULL); \
             INSERT INTO sale_lines (sale_id, line_no, product_id, name, product_group, quantity, \
              unit_price_minor, vat_code) VALUES (1, 1, 'voksen', 'Voksen', 'Billetter', 2, 15000, 6);",
        )
        .unwrap();
        tx.commit().unwrap();
    }
    let s = Store::open(&path).unwrap();
    let (first, second) = s.read(|r| Ok((r.sale(1)?, r.sale(2)?))).unwrap();
    assert_eq!(
        (
            first.method,
            first.status,
            first.receipt_no,
            first.cash_given
        ),
        (
            PaymentMethod::Cash,
            SaleStatus::Paid,
            Some(1),
            Some(Money::nok(50_000))
        )
    );
    assert_eq!(
        (second.method, second.training, second.terminal_ref),
        (PaymentMethod::Vipps, true, None)
    );
    assert_eq!(s.read(|r| r.sale_lines(1)).unwrap().len(), 1);
    let open: Vec<i64> = s
        .read(|r| r.open_sales())
        .unwrap()
        .iter()
        .map(|x| x.id)
        .collect();
    assert_eq!(open, [2], "the open-sales index is back");
    let orphans: i64 = {
        let conn = s.lock();
        conn.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap()
    };
    assert_eq!(orphans, 0);
    let card = s
        .write(|w| {
            w.insert_sale(&NewSale {
                method: PaymentMethod::Card,
                terminal_ref: Some("123456".into()),
                ..new_sale(PaymentMethod::Card)
            })
        })
        .unwrap();
    let back = s.read(|r| r.sale(card.id)).unwrap();
    assert_eq!(
        (back.method, back.terminal_ref.as_deref()),
        (PaymentMethod::Card, Some("123456"))
    );
}
