//! `luka charge` (one Vipps sale from the command line, its QR in the
//! terminal or sent to the customer's app with `--personal-qr`/`--phone`;
//! or `--cash`, `--card`) and `luka resume` (settle what a stop left open). Each prints
//! one JSON line per sale.

use std::time::Duration;

use serde_json::json;

use crate::app::App;
use crate::config::Config;
use crate::domain::{Cart, Currency, Customer, Money, SaleLine};
use crate::kiosk::{KioskEvent, StatusNote};
use crate::shutdown::StopSignal;
use crate::store::{SaleRecord, Store};

/// What `luka charge` sells: a free amount and/or products, and the lines
/// taken out again before payment.
pub(super) struct CartSpec {
    pub amount: Option<String>,
    pub products: Vec<String>,
    pub removed: Vec<String>,
}

/// `ID` or `IDxN` (N ≥ 1).
fn product_and_count(spec: &str) -> anyhow::Result<(&str, u32)> {
    let bad = || {
        anyhow::anyhow!(
            "'{spec}' is not a product: give its id, or id and count as IDxN (e.g. kaffex2)"
        )
    };
    let (id, n) = match spec.rsplit_once('x') {
        Some((id, n))
            if !id.is_empty() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) =>
        {
            (id, n.parse::<u32>().map_err(|_| bad())?)
        }
        _ => (spec, 1),
    };
    if id.trim().is_empty() || n == 0 {
        return Err(bad());
    }
    Ok((id, n))
}

impl CartSpec {
    /// The cart, checked against the price list before the till starts:
    /// the lines to sell and the corrections (line, units taken out).
    fn build(&self, config: &Config) -> anyhow::Result<(Cart, Vec<(SaleLine, u32)>)> {
        let mut cart = Cart::new();
        if let Some(amount) = &self.amount {
            let money = Money::parse(amount, Currency::NOK)?;
            cart.add_line(SaleLine::free_amount(
                money,
                config.free_amount_vat,
                "Beløp",
            ));
        }
        for spec in &self.products {
            let (id, n) = product_and_count(spec)?;
            let p = config.catalog.get(id).ok_or_else(|| {
                let ids: Vec<&str> = config
                    .catalog
                    .products()
                    .iter()
                    .map(|p| p.id.as_str())
                    .collect();
                anyhow::anyhow!(
                    "no product '{id}' in the price list: the products are {}",
                    ids.join(", ")
                )
            })?;
            for _ in 0..n {
                cart.add_product(p);
            }
        }
        let mut corrections = Vec::new();
        for spec in &self.removed {
            let (id, n) = product_and_count(spec)?;
            let index = cart
                .lines()
                .iter()
                .position(|l| l.product_id.as_deref() == Some(id))
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "--remove {id}: it is not in the cart (add it with --product first)"
                    )
                })?;
            let line = cart.lines()[index].clone();
            if n > line.quantity {
                anyhow::bail!(
                    "--remove {spec}: the cart holds only {} of {id}",
                    line.quantity
                );
            }
            cart.set_quantity(index, line.quantity - n)?;
            corrections.push((line, n));
        }
        if cart.is_empty() {
            anyhow::bail!("nothing left to sell: every line was removed again");
        }
        Ok((cart, corrections))
    }
}

/// Journals the cart's corrections, as the sale page does when a line is
/// taken out before payment.
fn journal_corrections(app: &App, corrections: &[(SaleLine, u32)]) -> anyhow::Result<()> {
    for (line, n) in corrections {
        app.kiosk.cart_line_corrected(line, *n)?;
    }
    Ok(())
}

pub(super) async fn charge(
    config: Config,
    spec: &CartSpec,
    description: &str,
    timeout: Option<u64>,
    operator: Option<&str>,
    customer: Option<&Customer>,
) -> anyhow::Result<i32> {
    // Before anything else, so a SIGTERM at any later instant is seen.
    let stop = StopSignal::install()?;
    let (cart, corrections) = spec.build(&config)?;
    let lifetime = config.vipps.payment_lifetime + config.vipps.expiry_margin;
    let mut app = super::start_as(config, operator).await?;
    // A paired till hears of the customer's approval through the hub.
    app.listen_to_hub();
    let mut events = app.kiosk.subscribe();
    if let Err(e) = journal_corrections(&app, &corrections) {
        super::finish(app, operator).await;
        return Err(e);
    }
    let sale = match app.kiosk.start_vipps_sale_to(&cart, description, customer) {
        Ok(s) => s,
        Err(e) => {
            super::finish(app, operator).await;
            return Err(e.into());
        }
    };
    eprintln!("Sale {} for {} started.", sale.reference, sale.total);
    let wait = timeout
        .map(Duration::from_secs)
        .unwrap_or(lifetime + Duration::from_secs(120));
    let deadline = tokio::time::Instant::now() + wait;
    let kiosk = app.kiosk.clone();
    loop {
        tokio::select! {
            ev = events.recv() => match ev {
                Ok(KioskEvent::QrReady { sale_id, qr_target, expires_at, .. }) if sale_id == sale.id => {
                    print_qr(&qr_target, sale.training);
                    eprintln!("Waiting for approval (expires {expires_at})…");
                }
                Ok(KioskEvent::SentToCustomer { sale_id, expires_at, .. }) if sale_id == sale.id => {
                    let to = customer.map(Customer::masked).unwrap_or_default();
                    eprintln!("Sent to the customer's Vipps app ({to}); waiting for approval (expires {expires_at})…");
                }
                Ok(KioskEvent::Status { sale_id, note, .. }) if sale_id == sale.id => eprintln!("{}", said(note)),
                _ => {}
            },
            _ = tokio::time::sleep(Duration::from_millis(300)) => {}
            _ = tokio::time::sleep_until(deadline) => break,
            signal = stop.wait() => {
                eprintln!("Stopped by {signal}. The sale is safe; run `luka resume` to settle it.");
                break;
            }
        }
        if kiosk.sale(sale.id)?.status.is_final() {
            break;
        }
    }
    // Stop first (the item in flight finishes, the stop is journalled, the
    // WAL is checkpointed), then report the state that stop left behind.
    let store = app.store.clone();
    super::finish(app, operator).await;
    let final_sale = store.read(|r| r.sale(sale.id))?;
    let mut out = outcome_json(&store, &final_sale);
    if let Some(c) = customer {
        out["customer"] = c.kind().into();
    }
    println!("{out}");
    let paid = final_sale.status == crate::domain::SaleStatus::Paid;
    Ok(if paid { 0 } else { 1 })
}

/// A sale recorded at once (cash, card): the till starts, the cart's
/// corrections are journaled, `sell` records the sale, its receipt is waited
/// for (printed, or held with the printer's message), the till stops; then
/// one JSON line, with `extra` fields from what `sell` returned.
async fn sell_at_once<T>(
    config: Config,
    cart: Cart,
    corrections: Vec<(SaleLine, u32)>,
    operator: Option<&str>,
    sell: impl FnOnce(&crate::kiosk::Kiosk, &Cart) -> Result<T, crate::kiosk::KioskError>,
    extra: impl FnOnce(&T, &mut serde_json::Value),
    sale_of: impl Fn(&T) -> i64,
) -> anyhow::Result<i32> {
    let app = super::start_as(config, operator).await?;
    let sold = match journal_corrections(&app, &corrections) {
        Ok(()) => sell(&app.kiosk, &cart).map_err(anyhow::Error::from),
        Err(e) => Err(e),
    };
    if sold.is_ok() {
        let _ = app.kiosk.wait_settled(Duration::from_secs(10)).await;
    }
    let store = app.store.clone();
    super::finish(app, operator).await;
    let sold = sold?;
    let mut out = outcome_json(&store, &store.read(|r| r.sale(sale_of(&sold)))?);
    extra(&sold, &mut out);
    println!("{out}");
    Ok(0)
}

/// `luka charge … --cash [--tendered N]`: a cash sale, recorded at once.
pub(super) async fn charge_cash(
    config: Config,
    spec: &CartSpec,
    tendered: Option<&str>,
    description: &str,
    operator: Option<&str>,
) -> anyhow::Result<i32> {
    let (cart, corrections) = spec.build(&config)?;
    let given = match tendered {
        Some(t) => Money::parse(t, Currency::NOK)?,
        None => cart.totals()?.gross,
    };
    sell_at_once(
        config,
        cart,
        corrections,
        operator,
        |k, cart| k.cash_sale(cart, given, description),
        |(_, change), out| {
            out["method"] = "cash".into();
            out["tendered"] = given.minor().into();
            out["change"] = change.minor().into();
        },
        |(sale, _)| sale.id,
    )
    .await
}

/// `luka charge … --card [--terminal-ref R]`: a sale the customer paid on
/// the club's own card terminal, recorded at once.
pub(super) async fn charge_card(
    config: Config,
    spec: &CartSpec,
    terminal_ref: Option<&str>,
    description: &str,
    operator: Option<&str>,
) -> anyhow::Result<i32> {
    if !config.card_terminal {
        anyhow::bail!(
            "this till has no card terminal: set [till] card_terminal = true in luka.toml \
             if the club's terminal is at this counter"
        );
    }
    let (cart, corrections) = spec.build(&config)?;
    sell_at_once(
        config,
        cart,
        corrections,
        operator,
        |k, cart| k.card_sale(cart, terminal_ref, description),
        |sale, out| {
            out["method"] = "card".into();
            out["terminal_ref"] = sale.terminal_ref.clone().into();
        },
        |sale| sale.id,
    )
    .await
}

/// The command line speaks English, like the rest of its output.
fn said(note: StatusNote) -> &'static str {
    match note {
        StatusNote::Approved => "Approved – capturing the amount…",
        StatusNote::ConnectionLost => "Lost contact with Vipps – retrying. Not paid yet.",
    }
}

pub(super) async fn resume(config: Config, timeout: Duration) -> anyhow::Result<i32> {
    let stop = StopSignal::install()?;
    let store = crate::store::Store::open(&config.store_path)?;
    let open: Vec<SaleRecord> = store.read(|r| r.open_sales())?;
    drop(store);
    let app = App::start(config).await?;
    let settled = tokio::select! {
        s = app.kiosk.wait_settled(timeout) => s?,
        signal = stop.wait() => {
            eprintln!("Stopped by {signal}; what is not settled yet stays safe for the next start.");
            false
        }
    };
    for sale in &open {
        let s = app.kiosk.sale(sale.id)?;
        println!("{}", outcome_json(&app.store, &s));
    }
    app.shutdown().await;
    Ok(if settled { 0 } else { 1 })
}

fn outcome_json(store: &Store, sale: &SaleRecord) -> serde_json::Value {
    let payment = store.read(|r| r.payment(sale.id)).ok();
    json!({
        "sale_id": sale.id,
        "reference": sale.reference,
        "state": sale.status.as_str(),
        "payment_state": payment.as_ref().map(|p| p.phase.as_str()),
        "amount": sale.total.minor(),
        "captured": payment.as_ref().map(|p| p.captured).unwrap_or(0),
        "receipt_no": sale.receipt_no,
        "reason": sale.unpaid_reason.map(|r| r.as_str()),
        "training": sale.training,
        // The Vipps sales unit paid to and the department booked under,
        // when the till has them (issue 16, part 4).
        "msn": sale.msn,
        "department": sale.department,
    })
}

fn print_qr(target: &str, training: bool) {
    match qrcode::QrCode::new(target.as_bytes()) {
        Ok(code) => {
            let text = code
                .render::<qrcode::render::unicode::Dense1x2>()
                .quiet_zone(true)
                .build();
            eprintln!("{text}");
        }
        Err(e) => eprintln!("(cannot draw the QR code: {e})"),
    }
    if training {
        eprintln!("TRAINING: open this page to play the customer: {target}");
    } else {
        eprintln!("Scan with the Vipps or MobilePay app: {target}");
    }
}
