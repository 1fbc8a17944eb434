//! The bench for the network fault matrix: the in-process kiosk (as the UI
//! runs it) talking to the Vipps simulator through the loopback proxy, so a
//! test can turn the simulator's fault knobs and also take the network away.
//!
//! A watcher reads every kiosk event as it is emitted and checks, at that
//! moment, that it is true: "paid" only once Vipps has captured and the
//! till has recorded it, "approved – capturing" only once the customer has
//! approved, "not paid" only when nothing was captured.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use luka::domain::{Cart, Money, PaymentMethod, SaleLine, SaleStatus, VatCode};
use luka::kiosk::{Kiosk, KioskEvent, KioskSettings, Running, StatusNote};
use luka::sim::{SimConfig, SimHandle};
use luka::store::{SaleRecord, Store};
use luka::vipps::dto::State;

use super::proxy::Proxy;

pub struct Bench {
    pub dir: tempfile::TempDir,
    pub sim: SimHandle,
    pub proxy: Proxy,
    pub store: Arc<Store>,
    pub kiosk: Kiosk,
    running: Option<Running>,
    events: Arc<Mutex<Vec<KioskEvent>>>,
    violations: Arc<Mutex<Vec<String>>>,
}

/// Checks one event against the simulator and the store as it arrives.
fn check_event(e: &KioskEvent, sim: &SimHandle, store: &Store) -> Option<String> {
    let sale = |id: i64| store.read(|r| r.sale(id)).ok();
    match e {
        KioskEvent::Paid {
            sale_id,
            reference,
            amount,
            receipt_no,
            method,
        } => {
            let s = sale(*sale_id)?;
            if s.method != *method {
                return Some(format!(
                    "said paid by {method:?} for {reference}, a {:?} sale",
                    s.method
                ));
            }
            let recorded = s.status == SaleStatus::Paid && s.receipt_no == Some(*receipt_no);
            if s.method == PaymentMethod::Cash {
                return (!recorded)
                    .then(|| format!("said paid for cash sale {reference} unrecorded"));
            }
            let Some(p) = sim.payment(reference) else {
                return Some(format!("said paid for {reference}, unknown to Vipps"));
            };
            let captured = p.captures == 1 && p.aggregate.captured_amount.value == amount.minor();
            (!(recorded && captured)).then(|| {
                format!("said paid for {reference} (recorded {recorded}, captured {captured})")
            })
        }
        KioskEvent::Status {
            status: SaleStatus::Capturing,
            sale_id,
            ..
        } => {
            let s = sale(*sale_id)?;
            let approved = sim
                .payment(&s.reference)
                .is_some_and(|p| p.state == State::Authorized);
            (!approved)
                .then(|| format!("said approved for {} before the customer did", s.reference))
        }
        KioskEvent::NotPaid { reference, .. } => sim
            .payment(reference)
            .filter(|p| p.aggregate.captured_amount.value != 0)
            .map(|_| format!("said not paid for {reference}, which Vipps captured")),
        _ => None,
    }
}

/// Test settings: fast polling and retries (see `support::fast_settings`),
/// with this payment lifetime at the till.
pub fn settings(lifetime: Duration) -> KioskSettings {
    KioskSettings {
        payment_lifetime: lifetime,
        ..crate::support::fast_settings()
    }
}

impl Bench {
    pub async fn start(
        sim_cfg: SimConfig,
        settings: KioskSettings,
        request_timeout: Duration,
    ) -> Bench {
        let sim = luka::sim::start(([127, 0, 0, 1], 0).into(), sim_cfg.clone())
            .await
            .unwrap();
        let proxy = Proxy::start(sim.local_addr()).await;
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(&dir.path().join("luka.db")).unwrap());
        let (kiosk, running) = luka::app::start_vipps_kiosk(
            store.clone(),
            &proxy.url(),
            luka::app::training_credentials(&sim_cfg),
            request_timeout,
            settings,
        )
        .unwrap();
        let events = Arc::new(Mutex::new(Vec::new()));
        let violations = Arc::new(Mutex::new(Vec::new()));
        let mut rx = kiosk.subscribe();
        let (ev, vio, s, st) = (
            events.clone(),
            violations.clone(),
            sim.clone(),
            store.clone(),
        );
        tokio::spawn(async move {
            while let Ok(e) = rx.recv().await {
                if let Some(v) = check_event(&e, &s, &st) {
                    vio.lock().unwrap().push(v);
                }
                ev.lock().unwrap().push(e);
            }
        });
        Bench {
            dir,
            sim,
            proxy,
            store,
            kiosk,
            running: Some(running),
            events,
            violations,
        }
    }

    /// Starts a Vipps sale of `kr` kroner.
    pub fn sell(&self, kr: i64) -> SaleRecord {
        let mut cart = Cart::new();
        cart.add_line(SaleLine::free_amount(
            Money::nok(kr * 100),
            VatCode::OutsideScope,
            "Beløp",
        ));
        self.kiosk.start_vipps_sale(&cart, "").unwrap()
    }

    pub fn events(&self) -> Vec<KioskEvent> {
        self.events.lock().unwrap().clone()
    }

    /// Whether the till told the volunteer Vipps was unreachable (`false`)
    /// or reachable again (`true`).
    pub fn said_reachable(&self, reachable: bool) -> bool {
        self.events()
            .iter()
            .any(|e| matches!(e, KioskEvent::Connectivity { reachable: r, .. } if *r == reachable))
    }

    pub fn said_note(&self, sale_id: i64, said: StatusNote) -> bool {
        self.events().iter().any(
            |e| matches!(e, KioskEvent::Status { sale_id: s, note, .. } if *s == sale_id && *note == said),
        )
    }

    pub fn said_paid(&self, sale_id: i64) -> bool {
        self.events()
            .iter()
            .any(|e| matches!(e, KioskEvent::Paid { sale_id: s, .. } if *s == sale_id))
    }

    pub fn sale(&self, id: i64) -> SaleRecord {
        self.store.read(|r| r.sale(id)).unwrap()
    }

    /// How many exchanges got this injected fault.
    pub fn faults_injected(&self, fault: &str) -> usize {
        self.sim
            .exchanges()
            .iter()
            .filter(|x| x.fault.as_deref() == Some(fault))
            .count()
    }

    /// Waits until every sale is closed; panics with the open ones if not.
    pub async fn settle(&self, timeout: Duration) {
        let settled = self.kiosk.wait_settled(timeout).await.unwrap();
        let open = self.store.read(|r| r.open_sales()).unwrap();
        assert!(settled && open.is_empty(), "not settled: {open:?}");
    }

    /// The invariants of every cell; returns what is broken.
    pub fn broken(&self) -> Vec<String> {
        let mut v = self.violations.lock().unwrap().clone();
        let sales = self.store.read(|r| r.all_sales()).unwrap();
        let mut receipts = Vec::new();
        for s in &sales {
            if s.method == PaymentMethod::Cash {
                receipts.extend(s.receipt_no);
                continue;
            }
            let p = self.sim.payment(&s.reference);
            let (captured, captures, reserved) = p.as_ref().map_or((0, 0, 0), |p| {
                let a = &p.aggregate;
                let r =
                    a.authorized_amount.value - a.captured_amount.value - a.cancelled_amount.value;
                (a.captured_amount.value, p.captures, r)
            });
            if reserved != 0 {
                v.push(format!("{}: {reserved} øre left reserved", s.reference));
            }
            match s.status {
                SaleStatus::Paid => {
                    receipts.push(s.receipt_no.unwrap_or(0));
                    if (captured, captures) != (s.total.minor(), 1) {
                        v.push(format!(
                            "{} paid, Vipps captured {captured} in {captures}",
                            s.reference
                        ));
                    }
                }
                SaleStatus::Unpaid if captured != 0 => v.push(format!(
                    "{} unpaid, but Vipps captured {captured}",
                    s.reference
                )),
                SaleStatus::Unpaid => {}
                other => v.push(format!("{} left {other}", s.reference)),
            }
        }
        let known: Vec<&str> = sales.iter().map(|s| s.reference.as_str()).collect();
        for p in self.sim.payments() {
            if !known.contains(&p.reference.as_str()) {
                v.push(format!(
                    "Vipps has {} that the till does not know",
                    p.reference
                ));
            }
        }
        receipts.sort_unstable();
        if receipts != (1..=receipts.len() as i64).collect::<Vec<_>>() {
            v.push(format!("receipt numbers {receipts:?}"));
        }
        v
    }

    /// Asserts the invariants, then stops the till and the simulator.
    pub async fn finish(mut self) {
        let broken = self.broken();
        assert!(
            broken.is_empty(),
            "invariants broken:\n{}",
            broken.join("\n")
        );
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
        assert_eq!(self.store.integrity_check().unwrap(), "ok");
        self.sim.shutdown().await;
    }
}

pub use crate::support::eventually;
