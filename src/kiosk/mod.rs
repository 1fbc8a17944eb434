//! The kiosk service: takes commands (start a sale, cancel, refund, cash),
//! runs them through the store, the outbox and the payment provider, and
//! emits events. The CLI and the UI drive the same service; it owns the
//! tokio side and never knows a UI exists.
//!
//! Cancel racing approval, the rule we chose: a cashier's cancel wins while
//! the till has not yet *seen* the approval (the sale is `awaiting`): the
//! cancel releases the reservation at Vipps even if the customer approved a
//! moment earlier, and the sale closes unpaid. Once the till has seen the
//! approval (the sale is `capturing`) the cancel is refused and the sale
//! completes: the customer already saw "approved" in the app.
//!
//! | file | holds |
//! |---|---|
//! | `mod.rs` | [`Kiosk`]: commands (sales, cash, cancel, backlog), settings, outbox kinds |
//! | `events.rs` | [`KioskEvent`]: what happened, for whoever shows it |
//! | `error.rs` | [`KioskError`]: why a command was refused |
//! | `card.rs` | sales paid on the club's own card terminal, recorded at once |
//! | `stock.rs` | sold out and counts: set by hand (journaled), taken by paid sales, refused when out |
//! | `refund.rs` | refunds: a Vipps sale's through the outbox, a cash sale's from the drawer at once |
//! | `cart.rs` | lines corrected in the cart before payment, journaled |
//! | `catalog.rs` | the price list and version the till starts selling with, each change journaled |
//! | `drawer.rs` | every drawer opening journaled; the organizer's "Åpne skuff" |
//! | `training.rs` | training mode inside a production till: the switch, and where training sales go |
//! | `units.rs` | Vipps sales units (MSN) and departments: which one new sales are made under, each sale's provider, the switch journaled |
//! | `hub.rs` | pairing with the club's hub from the organizer screen, and which hub it is |
//! | `operators.rs` | volunteers' shifts: login with a code, logout, who is at the till |
//! | `organizer.rs` | what the organizer screen reads and does: login, day view, refund limit, X/Z, backlog |
//! | `poller.rs` | polls one payment within Vipps's guideline until the sale moves on |
//! | `settle.rs` | applies what the provider said and acts on the decision, in one transaction |
//! | `handler.rs` | runs the kiosk's outbox items (create, capture, cancel, refund) against the provider |
//! | `printing.rs` | receipts and reports through the outbox; the printer's held/printed/skipped journal |
//! | `receipt_api.rs` | what the UI and CLI may ask of the printer (retry, the one copy, skip, X/Z) |
//! | `receipt_input.rs` | a stored sale or refund → the printer's receipt input |
//! | `printer_state.rs` | the printer's settings, its state for the UI, the print lock |

mod card;
mod cart;
mod catalog;
mod drawer;
mod error;
mod events;
mod handler;
mod hub;
mod operators;
mod organizer;
mod poller;
mod printer_state;
pub mod printing;
mod receipt_api;
pub mod receipt_input;
mod refund;
pub mod settle;
pub mod stock;
mod training;
mod units;

pub use drawer::DrawerDevice;
pub use error::KioskError;
pub use events::{KioskEvent, StatusNote};
pub use hub::HubView;
pub use operators::{Operator, OperatorAccount};
pub use organizer::{DayCounts, DayData, DaySale, MAX_ROWS, MadeReport};
pub use printer_state::{PrinterState, PrinterView, ReceiptSettings};
pub use receipt_api::ReceiptError;
pub use stock::StockChange;
pub use units::Providers;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::sync::{Notify, broadcast, watch};

use crate::clock::{Clock, IdSource};
use crate::domain::payment::PaymentOrder;
use crate::domain::sale::CartError;
use crate::domain::{Cart, Customer, Money, PaymentMethod, SaleStatus, UnpaidReason};
use crate::outbox::Worker;
use crate::payments::PaymentProvider;
use crate::retry::RetryPolicy;
use crate::store::{NewOutboxItem, NewSale, SaleRecord, Store, StoreError};

/// Outbox item kinds.
pub mod outbox_kind {
    pub const CREATE: &str = "vipps.create";
    pub const CAPTURE: &str = "vipps.capture";
    pub const CANCEL: &str = "vipps.cancel";
    pub const REFUND: &str = "vipps.refund";
    /// A sale's receipt, its copy or a refund's Returkvittering.
    pub const PRINT_RECEIPT: &str = "print.receipt";
    /// An X or Z report on the receipt printer.
    pub const PRINT_REPORT: &str = "print.report";
}

/// Settings the service runs with.
#[derive(Debug, Clone)]
pub struct KioskSettings {
    pub till_id: String,
    pub training: bool,
    /// First read after creation (the guideline says about 5 s).
    pub poll_initial_delay: Duration,
    /// Between reads; never below 500 ms (120 reads/min per reference).
    pub poll_interval: Duration,
    /// How long a payment lives at the provider (10 minutes at Vipps).
    pub payment_lifetime: Duration,
    /// Extra time before the till cancels a payment nobody acted on.
    pub expiry_margin: Duration,
    pub retry: RetryPolicy,
    pub concurrency: usize,
    /// Printer, paper, merchant and footer; the default has no printer.
    pub receipts: ReceiptSettings,
    /// Where completed sales and refunds go for the books; default nowhere.
    pub books: crate::bookkeeping::SyncTargets,
    /// Wakes the bookkeeping lanes when something was queued for them.
    pub sync: crate::bookkeeping::SyncHandle,
    /// The drawer opens on a GPIO relay (`[gpio] drawer_relay`): the kiosk
    /// journals each opening and tells the GPIO driver to pulse it.
    pub drawer_relay: bool,
    /// The volunteers who may log in (`[[operators]]`).
    pub operators: Vec<OperatorAccount>,
    /// `[till] order_numbers`: each paid sale gets the day's next order
    /// number, printed large on its receipt (waffles, hot food).
    pub order_numbers: bool,
    /// `[printer] kitchen_ticket`: with an order number, a second ticket with
    /// the number and the lines only, for the kitchen.
    pub kitchen_ticket: bool,
    /// The sales unit this till sells under unless its event menu names
    /// another (`[till] sales_unit`, else `[vipps]`'s own).
    pub sales_unit: crate::domain::SalesUnit,
    /// Every unit this till has keys for (`[vipps]` and `[[vipps.units]]`).
    pub sales_units: Vec<crate::domain::SalesUnit>,
}

impl Default for KioskSettings {
    fn default() -> Self {
        KioskSettings {
            till_id: "kiosk-1".into(),
            training: false,
            poll_initial_delay: Duration::from_secs(5),
            poll_interval: Duration::from_secs(2),
            payment_lifetime: Duration::from_secs(600),
            expiry_margin: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            concurrency: 8,
            receipts: ReceiptSettings::default(),
            books: Default::default(),
            sync: Default::default(),
            drawer_relay: false,
            operators: Vec::new(),
            order_numbers: false,
            kitchen_ticket: false,
            sales_unit: crate::domain::SalesUnit::single(None),
            sales_units: Vec::new(),
        }
    }
}

/// The lower bound that keeps a till within 120 reads/min per reference.
pub const MIN_POLL_INTERVAL: Duration = Duration::from_millis(500);

pub(crate) struct Inner {
    store: Arc<Store>,
    provider: Arc<dyn PaymentProvider>,
    /// Where a production till's training sales are paid: the in-process
    /// simulator (`training.rs`). None in the demo, whose provider is it.
    training_provider: Option<Arc<dyn PaymentProvider>>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
    settings: KioskSettings,
    events: broadcast::Sender<KioskEvent>,
    wake: Arc<Notify>,
    tracked: Mutex<HashSet<i64>>,
    /// The poller of each reference being polled, to wake on a hint.
    hints: Mutex<std::collections::HashMap<String, Arc<Notify>>>,
    shutdown: watch::Receiver<bool>,
    printer: printer_state::PrinterCell,
    /// The price list the till sells from now: set by
    /// [`Kiosk::apply_catalog`] (at start, and when the hub's changes).
    catalog: std::sync::RwLock<crate::domain::Catalog>,
    /// The sales unit new sales are made under, and each unit's provider.
    units: units::Units,
}

/// A cheap handle to the service.
#[derive(Clone)]
pub struct Kiosk {
    inner: Arc<Inner>,
}

/// Stops the service: signal with `stop()`, then `join()` the worker.
pub struct Running {
    stop: watch::Sender<bool>,
    worker: tokio::task::JoinHandle<Result<(), StoreError>>,
}

impl Running {
    /// Stops claiming new work and waits for in-flight items to finish.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.worker.await;
    }
}

impl Kiosk {
    /// Starts the service: re-queues work a crash left in flight, resumes
    /// tracking of every open payment, and runs the outbox worker.
    pub fn start(
        store: Arc<Store>,
        provider: Arc<dyn PaymentProvider>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
        settings: KioskSettings,
    ) -> Result<(Kiosk, Running), KioskError> {
        Kiosk::start_with_providers(store, Providers::single(provider), clock, ids, settings)
    }

    /// [`Kiosk::start`] for a production till that can switch training mode
    /// on: its training sales are paid at `training_provider`.
    pub fn start_with_training(
        store: Arc<Store>,
        provider: Arc<dyn PaymentProvider>,
        training_provider: Option<Arc<dyn PaymentProvider>>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
        settings: KioskSettings,
    ) -> Result<(Kiosk, Running), KioskError> {
        let providers = Providers {
            training: training_provider,
            ..Providers::single(provider)
        };
        Kiosk::start_with_providers(store, providers, clock, ids, settings)
    }

    /// [`Kiosk::start`] with every provider a till may need: its own, the
    /// training simulator, and one per Vipps sales unit (`units.rs`).
    pub fn start_with_providers(
        store: Arc<Store>,
        providers: Providers,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
        mut settings: KioskSettings,
    ) -> Result<(Kiosk, Running), KioskError> {
        let Providers {
            main: provider,
            training: training_provider,
            by_msn,
        } = providers;
        let units = units::Units::new(by_msn, settings.sales_unit.clone());
        settings.poll_interval = settings.poll_interval.max(MIN_POLL_INTERVAL);
        store.claim_workers()?;
        let (events, _) = broadcast::channel(256);
        let (stop, shutdown) = watch::channel(false);
        let printer = printer_state::PrinterCell::new(settings.receipts.printer.is_some());
        let inner = Arc::new(Inner {
            store,
            provider,
            training_provider,
            clock,
            ids,
            settings,
            events,
            wake: Arc::new(Notify::new()),
            tracked: Mutex::new(HashSet::new()),
            hints: Mutex::default(),
            shutdown: shutdown.clone(),
            printer,
            catalog: std::sync::RwLock::new(crate::domain::Catalog::default()),
            units,
        });
        let kiosk = Kiosk { inner };
        kiosk.resume()?;
        printing::on_start(&kiosk);
        let worker = Worker {
            store: kiosk.inner.store.clone(),
            handler: Arc::new(handler::KioskHandler::new(kiosk.clone())),
            clock: kiosk.inner.clock.clone(),
            policy: kiosk.inner.settings.retry,
            concurrency: kiosk.inner.settings.concurrency,
            wake: kiosk.inner.wake.clone(),
        };
        let worker = tokio::spawn(worker.run(shutdown));
        Ok((kiosk, Running { stop, worker }))
    }

    fn resume(&self) -> Result<(), KioskError> {
        let now = self.inner.clock.now();
        let (requeued, open) = self.inner.store.write(|w| {
            let n = w.requeue_in_flight("found in flight at start-up (crash or power cut)", now)?;
            catalog::journal_version_change(w, now)?;
            w.journal(
                crate::domain::journal::JournalKind::AppStart,
                None,
                json!({ "till": self.inner.settings.till_id, "version": catalog::VERSION }),
                now,
            )?;
            Ok((n, w.reader().open_sales()?))
        })?;
        if requeued > 0 {
            tracing::warn!(requeued, "re-queued outbox items left in flight");
        }
        // Awaiting payments are read right away. Pending ones are tracked once
        // their create completes; capturing and cancelling ones have their
        // outbox item, which the worker picks up.
        for sale in open {
            if sale.method == PaymentMethod::Vipps && sale.status == SaleStatus::Awaiting {
                self.track(sale.id, Duration::ZERO);
            }
        }
        Ok(())
    }

    pub fn subscribe(&self) -> broadcast::Receiver<KioskEvent> {
        self.inner.events.subscribe()
    }

    pub fn settings(&self) -> &KioskSettings {
        &self.inner.settings
    }

    pub(crate) fn emit(&self, e: KioskEvent) {
        // A paid sale or a refund has queued its push to the books.
        if matches!(e, KioskEvent::Paid { .. } | KioskEvent::Refunded { .. }) {
            self.inner.settings.sync.wake();
        }
        // No receivers is fine: a headless run may not listen.
        let _ = self.inner.events.send(e);
    }

    pub(crate) fn new_key(&self) -> String {
        self.inner.ids.idempotency_key()
    }

    /// The context `settle::act` needs, with this kiosk's books.
    pub(crate) fn acting<'a>(&'a self, new_key: &'a dyn Fn() -> String) -> settle::Acting<'a> {
        settle::Acting {
            new_key,
            books: &self.inner.settings.books,
            order_numbers: self.inner.settings.order_numbers,
            kitchen_ticket: self.inner.settings.kitchen_ticket,
        }
    }

    /// Starts a Vipps sale: the sale, its payment and the create request are
    /// committed (and on disk) before any network call is made.
    pub fn start_vipps_sale(
        &self,
        cart: &Cart,
        description: &str,
    ) -> Result<SaleRecord, KioskError> {
        self.start_vipps_sale_to(cart, description, None)
    }

    /// [`Kiosk::start_vipps_sale`] sent to a customer's app (the personal
    /// QR the volunteer scanned, or a typed phone number) instead of shown as
    /// a QR: the same sale, polled, captured and receipted the same way.
    pub fn start_vipps_sale_to(
        &self,
        cart: &Cart,
        description: &str,
        customer: Option<&Customer>,
    ) -> Result<SaleRecord, KioskError> {
        let totals = cart.totals()?;
        if totals.gross.minor() < 100 {
            return Err(CartError::BelowMinimum(totals.gross.to_string()).into());
        }
        self.inner
            .store
            .read(|r| Ok(self.check_stock(r, cart.lines())))??;
        let now = self.inner.clock.now();
        let unit = self.sales_unit();
        let mut new = NewSale {
            till_id: self.inner.settings.till_id.clone(),
            method: PaymentMethod::Vipps,
            status: SaleStatus::Pending,
            lines: cart.lines().to_vec(),
            total: totals.gross,
            description: describe(cart, description),
            training: self.inner.settings.training,
            cash_given: None,
            terminal_ref: None,
            reference_random: self.inner.ids.random_u32(),
            msn: unit.msn,
            department: unit.department,
            now,
        };
        let key = self.new_key();
        let sale = self.inner.store.write(|w| {
            new.training = self.training_now(&w.reader())?;
            let sale = w.insert_sale(&new)?;
            // The unit's provider builds the request (a training sale's
            // failure to find its simulator is the create item's to report).
            let provider = match self.provider_for(&sale) {
                Ok(p) => p,
                Err(_) if sale.training => self.inner.provider.clone(),
                Err(f) => return Err(StoreError::Rejected(f.message)),
            };
            w.insert_payment(&sale, provider.name(), now)?;
            w.enqueue(
                &NewOutboxItem {
                    sale_id: Some(sale.id),
                    kind: outbox_kind::CREATE.into(),
                    idempotency_key: key,
                    payload: provider.create_request(
                        &PaymentOrder {
                            customer: customer.cloned(),
                            ..sale.payment_order()
                        },
                        cart.lines(),
                    ),
                },
                now,
            )?;
            let mut started = json!({
                "reference": sale.reference,
                "total": sale.total.minor(),
                "method": "vipps",
                "lines": cart.lines(),
                "vat": totals.per_vat,
                "training": sale.training,
            });
            if let Some(msn) = &sale.msn {
                started["msn"] = json!(msn);
            }
            if let Some(d) = &sale.department {
                started["department"] = json!(d);
            }
            if let Some(c) = customer {
                // Which flow, never who: the number is personal data.
                started["customer"] = json!(c.kind());
            }
            w.journal(
                crate::domain::journal::JournalKind::SaleStarted,
                Some(sale.id),
                started,
                now,
            )?;
            Ok(sale)
        })?;
        match customer {
            None => {
                tracing::info!(reference = %sale.reference, total = sale.total.minor(), "sale started")
            }
            Some(c) => tracing::info!(
                reference = %sale.reference,
                total = sale.total.minor(),
                customer = %c.masked(),
                "sale started, sent to the customer's app"
            ),
        }
        crash_point("after_sale_commit");
        self.inner.wake.notify_one();
        Ok(sale)
    }

    /// A cash sale: paid on the spot, with the change due.
    pub fn cash_sale(
        &self,
        cart: &Cart,
        given: Money,
        description: &str,
    ) -> Result<(SaleRecord, Money), KioskError> {
        let totals = cart.totals()?;
        let change = crate::payments::cash::change_due(totals.gross, given)?;
        self.inner
            .store
            .read(|r| Ok(self.check_stock(r, cart.lines())))??;
        let now = self.inner.clock.now();
        let mut new = NewSale {
            till_id: self.inner.settings.till_id.clone(),
            method: PaymentMethod::Cash,
            status: SaleStatus::Pending,
            lines: cart.lines().to_vec(),
            total: totals.gross,
            description: describe(cart, description),
            training: self.inner.settings.training,
            cash_given: Some(given),
            terminal_ref: None,
            reference_random: self.inner.ids.random_u32(),
            msn: None,
            department: self.sales_unit().department,
            now,
        };
        let sale = self.inner.store.write(|w| {
            new.training = self.training_now(&w.reader())?;
            let sale = w.insert_sale(&new)?;
            settle::record_paid_with_order(
                w,
                &sale,
                json!({
                    "method": "cash",
                    "given": given.minor(),
                    "change": change.minor(),
                    "lines": cart.lines(),
                    "vat": totals.per_vat,
                }),
                &self.acting(&|| self.new_key()),
                now,
            )?;
            if !self.practice_only(sale.training) {
                self.journal_relay(w, Some(sale.id), json!({ "reason": "cash sale" }), now)?;
            }
            w.reader().sale(sale.id)
        })?;
        self.announce_paid(&sale);
        if !self.practice_only(sale.training) {
            self.pulse_relay(Some(sale.id));
        }
        Ok((sale, change))
    }

    /// A sale recorded paid at once (cash, card) is announced: its receipt
    /// is queued, so the worker is woken (it may be asleep for seconds).
    fn announce_paid(&self, sale: &SaleRecord) {
        self.inner.wake.notify_one();
        self.emit(KioskEvent::Paid {
            sale_id: sale.id,
            reference: sale.reference.clone(),
            amount: sale.total,
            receipt_no: sale.receipt_no.unwrap_or_default(),
            method: sale.method,
        });
    }

    /// The cashier's cancel. See the module doc for the race rule.
    pub fn cancel_sale(&self, sale_id: i64) -> Result<(), KioskError> {
        let now = self.inner.clock.now();
        let outcome = self.inner.store.write(|w| {
            let sale = w.reader().sale(sale_id)?;
            match sale.status {
                SaleStatus::Capturing => return Ok(Err(KioskError::AlreadyApproved)),
                SaleStatus::Cancelling => return Ok(Ok(None)),
                s if s.is_final() => return Ok(Err(KioskError::AlreadyClosed(s))),
                _ => {}
            }
            // Never sent: nothing exists at the provider, close right away.
            let items = w.reader().outbox_for_sale(sale_id)?;
            if let Some(create) = items.iter().find(|i| i.kind == outbox_kind::CREATE)
                && w.outbox_skip_unattempted(create.id, now)?
            {
                w.journal(
                    crate::domain::journal::JournalKind::PaymentCancelRequested,
                    Some(sale_id),
                    json!({"reason": "cashier"}),
                    now,
                )?;
                return settle::close_unpaid(w, &sale, UnpaidReason::Cancelled, now)
                    .map(|a| Ok(Some(a)));
            }
            settle::queue_cancel(w, &sale, "cashier", &|| self.new_key(), now)?;
            Ok(Ok(None))
        })??;
        if let Some(settle::Acted::Final(e)) = outcome {
            self.emit(e);
        }
        self.inner.wake.notify_one();
        Ok(())
    }

    /// The organizer's "try again now": stopped items go back to the queue
    /// and waiting ones are due at once. Returns how many were touched.
    pub fn retry_backlog(&self) -> Result<usize, KioskError> {
        let now = self.inner.clock.now();
        let n = self.inner.store.write(|w| {
            let n = w.outbox_wake("", now)?;
            w.journal_action(
                crate::domain::journal::JournalKind::OutboxRetryRequested,
                None,
                json!({ "items": n }),
                now,
            )?;
            Ok(n)
        })?;
        self.inner.wake.notify_one();
        self.inner.settings.sync.wake();
        Ok(n)
    }

    /// The order number a paid sale was given (`[till] order_numbers`).
    pub fn order_no(&self, sale_id: i64) -> Result<Option<u64>, KioskError> {
        Ok(self
            .inner
            .store
            .read(|r| receipt_input::order_no(r, sale_id))?)
    }

    pub fn sale(&self, sale_id: i64) -> Result<SaleRecord, KioskError> {
        Ok(self.inner.store.read(|r| r.sale(sale_id))?)
    }

    /// Waits until the sale is paid or closed, or `timeout` passes.
    pub async fn wait_final(
        &self,
        sale_id: i64,
        timeout: Duration,
    ) -> Result<SaleRecord, KioskError> {
        let mut rx = self.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let sale = self.sale(sale_id)?;
            if sale.status.is_final() {
                return Ok(sale);
            }
            tokio::select! {
                _ = rx.recv() => {}
                _ = tokio::time::sleep(Duration::from_millis(250)) => {}
                _ = tokio::time::sleep_until(deadline) => return self.sale(sale_id),
            }
        }
    }

    /// Waits until no sale is open and no outbox item is pending or in
    /// flight (items stopped for a person to look at do not count, nor do
    /// receipts held by the printer: they wait for a hand too, nor do items
    /// for the books: their lanes may wait for a receiver for days).
    pub async fn wait_settled(&self, timeout: Duration) -> Result<bool, KioskError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let printer_held = self.inner.printer.view().state.is_held();
            let busy = self.inner.store.read(|r| {
                let open = r.open_sales()?;
                let backlog = r.outbox_backlog_without_sync(None)?;
                Ok(!open.is_empty()
                    || backlog.iter().any(|i| {
                        i.status != crate::store::OutboxStatus::Failed
                            && !i.kind.starts_with(crate::store::SYNC_PREFIX)
                            && !(i.kind.starts_with(printing::PREFIX)
                                && (printer_held || i.last_error.is_some()))
                    }))
            })?;
            if !busy {
                return Ok(true);
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub(crate) fn track(&self, sale_id: i64, first_delay: Duration) {
        poller::track(self.clone(), sale_id, first_delay);
    }

    fn hints(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, Arc<Notify>>> {
        self.inner.hints.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Something (the club's hub passing on a Vipps webhook) says payment
    /// `reference` moved: its poller reads it now instead of at its next
    /// poll. Returns whether a payment of this till was being polled; a
    /// reference it does not poll is ignored. Changes nothing by itself.
    pub fn hint(&self, reference: &str) -> bool {
        match self.hints().get(reference) {
            Some(woken) => {
                tracing::info!(reference = %reference, "hint from the hub: reading the payment now");
                woken.notify_one();
                true
            }
            None => false,
        }
    }
}

fn describe(cart: &Cart, given: &str) -> String {
    if !given.trim().is_empty() {
        return given.trim().to_string();
    }
    let names: Vec<String> = cart
        .lines()
        .iter()
        .map(|l| format!("{} x {}", l.quantity, l.name))
        .collect();
    let text = names.join(", ");
    if text.chars().count() > 100 {
        text.chars().take(97).collect::<String>() + "..."
    } else {
        text
    }
}

/// A crash point for the crash tests, through the `fail` crate: with the
/// `failpoints` feature (every `cargo test` build has it),
/// `FAILPOINTS=<point>=return` makes the process SIGKILL itself here,
/// exactly as a power cut would stop it (no destructors, no flush). Without
/// the feature (the package, `cargo build`) it compiles to nothing.
#[allow(unused_variables)]
pub(crate) fn crash_point(point: &str) {
    #[cfg(feature = "failpoints")]
    fail::fail_point!(point, |_| {
        tracing::warn!(point, "crash point reached: killing the process");
        // SAFETY: kill(2) on our own pid with a valid signal has no memory effects.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
    });
}
