//! The three views at the end of a campaign, and the invariants between
//! them: the tills' own records (sales, journal, printed paper), Vipps'
//! record of every payment (the simulator), and what reached the books
//! (the webhook receiver).

use std::collections::{BTreeMap, BTreeSet};

use luka::domain::SaleStatus;
use luka::printer::PaperWidth;
use luka::sim::SimHandle;
use luka::store::{SaleRecord, Store};

use super::lane::Lane;
use super::needles::Needles;
use crate::support::webhook_receiver::Received;

/// The figures a campaign reports.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub sales: usize,
    pub paid: usize,
    pub unpaid: BTreeMap<String, usize>,
    pub sim_payments: usize,
    pub sim_captures: u32,
    pub sim_cancels: u32,
    pub webhook_deliveries: usize,
    pub webhook_unique: usize,
    pub receipts_on_paper: usize,
    /// Originals that came out twice: printed, then killed before the
    /// print was recorded (a printer has no idempotency key).
    pub receipts_reprinted: usize,
}

/// Receipt numbers on the paper a printer put out, in order.
pub fn printed_numbers(printer: &luka::printer::sim::PrinterSim) -> Vec<i64> {
    printer
        .receipts(PaperWidth::Mm80)
        .iter()
        .filter_map(|doc| {
            doc.plain_lines().iter().find_map(|l| {
                l.strip_prefix("Kvittering nr")
                    .and_then(|rest| rest.trim().parse().ok())
            })
        })
        .collect()
}

fn check_lane(lane: &Lane, sim: &SimHandle, t: &mut Tally, v: &mut Vec<String>) -> Vec<SaleRecord> {
    let id = &lane.till.id;
    let store = Store::open(&lane.till.db).unwrap();
    let sales = store.read(|r| r.all_sales()).unwrap();
    let journal = store.read(|r| r.journal_entries(None)).unwrap();
    let refs: BTreeSet<&str> = sales.iter().map(|s| s.reference.as_str()).collect();
    for a in &lane.announced {
        if !refs.contains(a.as_str()) {
            v.push(format!(
                "{id}: sale {a} was announced but is not in the database (lost)"
            ));
        }
    }
    let mut receipt_nos = Vec::new();
    for s in &sales {
        t.sales += 1;
        let entries = |kind: &str| {
            journal
                .iter()
                .filter(|e| e.sale_id == Some(s.id) && e.kind == kind)
                .count()
        };
        let sv = sim.payment(&s.reference);
        let (captured, captures, open) = sv.as_ref().map_or((0, 0, 0), |p| {
            let a = &p.aggregate;
            let open =
                a.authorized_amount.value - a.captured_amount.value - a.cancelled_amount.value;
            (a.captured_amount.value, p.captures, open)
        });
        if open != 0 {
            v.push(format!(
                "{id}: {} has {open} øre still reserved at Vipps",
                s.reference
            ));
        }
        if captures > 1 {
            v.push(format!("{id}: {} captured {captures} times", s.reference));
        }
        if let Some(p) = &sv
            && p.aggregate.refunded_amount.value != 0
        {
            v.push(format!(
                "{id}: {} refunded without a refund asked for",
                s.reference
            ));
        }
        match s.status {
            SaleStatus::Paid => {
                t.paid += 1;
                receipt_nos.push(s.receipt_no.unwrap_or(0));
                if captured != s.total.minor() || captures != 1 {
                    v.push(format!(
                        "{id}: {} is paid but Vipps captured {captured} in {captures} captures",
                        s.reference
                    ));
                }
                for (kind, want) in [("sale.paid", 1), ("receipt.printed", 1), ("sale.unpaid", 0)] {
                    if entries(kind) != want {
                        v.push(format!(
                            "{id}: {} has {} '{kind}' journal entries",
                            s.reference,
                            entries(kind)
                        ));
                    }
                }
            }
            SaleStatus::Unpaid => {
                let reason = s.unpaid_reason.map_or("none", |r| r.as_str());
                *t.unpaid.entry(reason.to_string()).or_default() += 1;
                if captured != 0 {
                    v.push(format!(
                        "{id}: {} is unpaid but Vipps captured {captured}",
                        s.reference
                    ));
                }
                if entries("sale.unpaid") != 1 || entries("sale.paid") != 0 {
                    v.push(format!("{id}: {} unpaid, journalled wrongly", s.reference));
                }
            }
            other => v.push(format!("{id}: sale {} left {other} (lost)", s.reference)),
        }
    }
    receipt_nos.sort_unstable();
    let expected: Vec<i64> = (1..=receipt_nos.len() as i64).collect();
    if receipt_nos != expected {
        v.push(format!(
            "{id}: receipt numbers are not 1..={}: {receipt_nos:?}",
            expected.len()
        ));
    }
    for o in &lane.outcomes {
        let Some(s) = sales
            .iter()
            .find(|s| o["reference"] == s.reference.as_str())
        else {
            v.push(format!(
                "{id}: charge reported a sale the till does not have: {o}"
            ));
            continue;
        };
        let said = o["state"].as_str().unwrap_or_default();
        let truthful = match said {
            "paid" => {
                s.status == SaleStatus::Paid
                    && o["captured"] == s.total.minor()
                    && o["receipt_no"] == s.receipt_no.unwrap_or(-1)
            }
            "unpaid" => s.status == SaleStatus::Unpaid,
            _ => true, // still open when charge gave up waiting; settled later
        };
        if !truthful {
            v.push(format!(
                "{id}: charge said {o} but the sale ended {}",
                s.status
            ));
        }
    }
    let printed = printed_numbers(&lane.printer);
    t.receipts_on_paper += printed.len();
    let on_paper: BTreeSet<i64> = printed.iter().copied().collect();
    t.receipts_reprinted += printed.len() - on_paper.len();
    let paid: BTreeSet<i64> = receipt_nos.iter().copied().collect();
    if on_paper != paid {
        let missing: Vec<_> = paid.difference(&on_paper).collect();
        let extra: Vec<_> = on_paper.difference(&paid).collect();
        v.push(format!(
            "{id}: receipts missing on paper {missing:?}, not sold {extra:?}"
        ));
    }
    sales
}

/// Checks every invariant; returns the figures and the violations.
pub fn check(lanes: &[Lane], sim: &SimHandle, received: &[Received]) -> (Tally, Vec<String>) {
    let mut t = Tally::default();
    let mut v = Vec::new();
    let mut paid: BTreeMap<String, SaleRecord> = BTreeMap::new();
    let mut known = BTreeSet::new();
    for lane in lanes {
        for s in check_lane(lane, sim, &mut t, &mut v) {
            known.insert(s.reference.clone());
            if s.status == SaleStatus::Paid {
                paid.insert(s.reference.clone(), s);
            }
        }
    }
    for p in sim.payments() {
        t.sim_payments += 1;
        t.sim_captures += p.captures;
        t.sim_cancels += p.cancels;
        if !known.contains(&p.reference) {
            v.push(format!(
                "Vipps has payment {} that no till knows",
                p.reference
            ));
        }
    }
    t.webhook_deliveries = received.len();
    let mut by_id: BTreeMap<&str, &Received> = BTreeMap::new();
    for r in received {
        if !r.verified {
            v.push(format!("webhook {} arrived with a bad signature", r.id));
        }
        if let Some(first) = by_id.insert(r.id.as_str(), r)
            && first.body["data"] != r.body["data"]
        {
            v.push(format!(
                "webhook {} arrived twice with different data",
                r.id
            ));
        }
    }
    t.webhook_unique = by_id.len();
    let mut synced = BTreeSet::new();
    for r in by_id.values() {
        let d = &r.body["data"];
        let reference = d["reference"].as_str().unwrap_or_default();
        match paid.get(reference) {
            Some(s)
                if r.body["type"] == "sale.completed"
                    && d["total"] == s.total.minor()
                    && d["receipt_no"] == s.receipt_no.unwrap_or(-1) =>
            {
                synced.insert(reference.to_string());
            }
            _ => v.push(format!(
                "the books got {} which no till sold so: {}",
                r.id, r.body
            )),
        }
    }
    for reference in paid.keys() {
        if !synced.contains(reference) {
            v.push(format!("paid sale {reference} never reached the books"));
        }
    }
    (t, v)
}

/// Looks for any of `needles` in the bytes of each database and its WAL.
pub fn secrets_in_files(lanes: &[Lane], needles: &Needles) -> Vec<String> {
    let mut found = Vec::new();
    for lane in lanes {
        for suffix in ["", "-wal"] {
            let mut path = lane.till.db.as_os_str().to_owned();
            path.push(suffix);
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            if needles.found_in(&bytes) {
                found.push(format!(
                    "{}: a secret is in {}",
                    lane.till.id,
                    path.to_string_lossy()
                ));
            }
        }
    }
    found
}
