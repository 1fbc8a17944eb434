//! The sale page: product tiles, the free-amount keypad and the cart. Cart
//! edits are pure and instant on the UI thread; starting a payment writes
//! to SQLite, so it goes to the background.

use super::text::Text;
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use super::{AppWindow, CartRow, Ctx, CurrentSale, Page, ProductTile, SaleAdapter, keypad};
use crate::domain::{Currency, Customer, Money, SaleLine};

/// The product tiles, with what is left of each (`stock`: the counted or
/// sold-out products; the rest are simply on sale).
fn show_tiles(w: &AppWindow, ctx: &Ctx, stock: &[crate::store::Stock]) {
    let t = Text::of(w);
    let tiles: Vec<ProductTile> = ctx
        .services
        .kiosk
        .catalog()
        .products()
        .iter()
        .map(|p| {
            let s = stock.iter().find(|s| s.product_id == p.id);
            let available = s.is_none_or(|s| s.available());
            let note = match s {
                Some(_) if !available => t.sold_out(),
                Some(s) => s.remaining.map(|n| t.left(n)).unwrap_or_default(),
                None => String::new(),
            };
            ProductTile {
                id: p.id.as_str().into(),
                name: p.name.as_str().into(),
                price: p.price.format_plain().into(),
                group: p.group.as_str().into(),
                available,
                note: note.into(),
                low: s.is_some_and(|s| s.low()),
            }
        })
        .collect();
    w.global::<SaleAdapter>()
        .set_products(ModelRc::new(VecModel::from(tiles)));
}

/// Reads the stock in the background and shows it on the tiles: at start,
/// and after every sale, return or change by hand; with when the prices
/// last changed ("Priser per hh:mm").
pub(super) fn refresh_stock(ctx: &Ctx) {
    ctx.background(
        |k| Ok::<_, crate::kiosk::KioskError>((k.stock()?, k.prices_since()?)),
        |w, c, read| match read {
            Ok((stock, since)) => {
                show_tiles(w, c, &stock);
                let note = since
                    .map(|t| Text::of(w).prices_since(t, time::OffsetDateTime::now_utc()))
                    .unwrap_or_default();
                w.global::<SaleAdapter>().set_prices_note(note.into());
            }
            Err(e) => tracing::warn!(error = %e, "cannot read the stock"),
        },
    );
}

pub(super) fn setup(w: &AppWindow, ctx: &Ctx) {
    let a = w.global::<SaleAdapter>();
    show_tiles(w, ctx, &[]);
    refresh_stock(ctx);
    a.set_keypad_text("".into());

    let c = ctx.clone();
    a.on_add_product(move |id| {
        let Some(w) = c.weak.upgrade() else { return };
        if let Some(p) = c.services.kiosk.catalog().get(&id) {
            c.state().cart.add_product(p);
        }
        refresh(&w, &c);
    });
    let c = ctx.clone();
    a.on_keypad_key(move |key| {
        let Some(w) = c.weak.upgrade() else { return };
        let text = {
            let mut s = c.state();
            s.keypad = keypad::amount(&s.keypad, &key);
            s.keypad.clone()
        };
        let a = w.global::<SaleAdapter>();
        a.set_keypad_text(text.into());
        a.set_message("".into());
    });
    let c = ctx.clone();
    a.on_add_amount(move || {
        let Some(w) = c.weak.upgrade() else { return };
        add_amount(&w, &c);
    });
    let c = ctx.clone();
    a.on_increment(move |i| change_quantity(&c, i, 1));
    let c = ctx.clone();
    a.on_decrement(move |i| change_quantity(&c, i, -1));
    let c = ctx.clone();
    a.on_clear(move || {
        let Some(w) = c.weak.upgrade() else { return };
        let emptied: Vec<SaleLine> = c.state().cart.lines().to_vec();
        c.state().cart.clear();
        for line in emptied {
            let n = line.quantity;
            corrected(&c, line, n);
        }
        refresh(&w, &c);
    });
    let c = ctx.clone();
    a.on_pay_vipps(move || {
        let Some(w) = c.weak.upgrade() else { return };
        start_vipps(&w, &c, None);
    });
    let c = ctx.clone();
    a.on_pay_customer(move || {
        let Some(w) = c.weak.upgrade() else { return };
        super::customer::open(&w, &c);
    });
    let c = ctx.clone();
    a.on_pay_cash(move || {
        let Some(w) = c.weak.upgrade() else { return };
        super::cash::open(&w, &c);
    });
    let c = ctx.clone();
    a.on_mark_product(move |id| {
        let id = id.to_string();
        c.background(
            move |k| k.toggle_sold_out(&id),
            |w, c, r| match r {
                // The kiosk's Stock event refreshes the tiles.
                Ok(_) => w.global::<SaleAdapter>().set_message("".into()),
                Err(e) => {
                    let message = Text::of(w).error(&e);
                    w.global::<SaleAdapter>().set_message(message.into());
                    refresh_stock(c);
                }
            },
        );
    });
    a.set_card_enabled(ctx.services.card_terminal);
    let c = ctx.clone();
    a.on_pay_card(move || {
        let Some(w) = c.weak.upgrade() else { return };
        super::card::open(&w, &c);
    });
    refresh(w, ctx);
}

fn add_amount(w: &AppWindow, c: &Ctx) {
    let t = Text::of(w);
    let typed = c.state().keypad.clone();
    let a = w.global::<SaleAdapter>();
    let amount = match Money::parse(typed.trim_end_matches(','), Currency::NOK) {
        Ok(m) if m.minor() > 0 => m,
        Ok(_) => return a.set_message(t.zero_amount().into()),
        Err(_) => return a.set_message(t.bad_amount(&typed).into()),
    };
    {
        let mut s = c.state();
        let line = SaleLine::free_amount(amount, c.services.free_amount_vat, &t.free_amount_name());
        s.cart.add_line(line);
        s.keypad.clear();
    }
    a.set_keypad_text("".into());
    refresh(w, c);
}

fn change_quantity(c: &Ctx, index: i32, by: i64) {
    let Some(w) = c.weak.upgrade() else { return };
    {
        let mut s = c.state();
        let index = index as usize;
        if let Some(line) = s.cart.lines().get(index).cloned() {
            let q = line.quantity as i64 + by;
            if q <= 0 {
                let _ = s.cart.remove(index);
            } else {
                let _ = s.cart.set_quantity(index, q as u32);
            }
            if by < 0 {
                let removed = (-by).min(line.quantity as i64) as u32;
                drop(s);
                corrected(c, line, removed);
            }
        }
    }
    refresh(&w, c);
}

/// Journals units taken out of the cart before payment (§ 2-8-2 s).
fn corrected(c: &Ctx, line: SaleLine, removed: u32) {
    c.background(
        move |k| k.cart_line_corrected(&line, removed),
        |w, _, r| {
            if let Err(e) = r {
                let t = Text::of(w);
                w.global::<SaleAdapter>().set_message(t.error(&e).into());
            }
        },
    );
}

/// Shows the cart, its total and VAT.
pub(super) fn refresh(w: &AppWindow, c: &Ctx) {
    let t = Text::of(w);
    let s = c.state();
    let rows: Vec<CartRow> = s
        .cart
        .lines()
        .iter()
        .enumerate()
        .map(|(i, l)| CartRow {
            index: i as i32,
            name: l.name.as_str().into(),
            quantity: l.quantity as i32,
            unit: l.unit_price.format_plain().into(),
            amount: l
                .amount()
                .map(|m| m.format_plain())
                .unwrap_or_default()
                .into(),
        })
        .collect();
    let a = w.global::<SaleAdapter>();
    a.set_cart(ModelRc::new(VecModel::from(rows)));
    match s.cart.totals() {
        Ok(totals) => {
            a.set_total(totals.gross.to_string().into());
            let vat = totals
                .per_vat
                .iter()
                .map(|v| v.vat_amount)
                .try_fold(Money::nok(0), |sum, v| sum.checked_add(v));
            a.set_vat_note(vat.map(|v| t.vat_note(v)).unwrap_or_default().into());
        }
        Err(_) if s.cart.is_empty() => {
            a.set_total(Money::nok(0).to_string().into());
            a.set_vat_note(SharedString::new());
        }
        Err(e) => {
            a.set_total("–".into());
            a.set_message(t.error(&e.into()).into());
        }
    }
    if !s.cart.is_empty() {
        a.set_message(SharedString::new());
    }
}

/// Starts a Vipps sale of the cart: shown as a QR, or sent to `customer`'s
/// app (from the customer page, which shows a refusal itself).
pub(super) fn start_vipps(w: &AppWindow, c: &Ctx, customer: Option<Customer>) {
    let cart = {
        let mut s = c.state();
        if s.starting || s.sale.is_some() {
            return;
        }
        s.starting = true;
        s.early.clear();
        s.cart.clone()
    };
    let a = w.global::<SaleAdapter>();
    a.set_busy(true);
    a.set_message(SharedString::new());
    super::customer::busy(w, true);
    let from_customer_page = customer.is_some();
    c.background(
        move |k| k.start_vipps_sale_to(&cart, "", customer.as_ref()),
        move |w, c, result| {
            w.global::<SaleAdapter>().set_busy(false);
            super::customer::busy(w, false);
            let early = {
                let mut s = c.state();
                s.starting = false;
                std::mem::take(&mut s.early)
            };
            match result {
                Ok(sale) => {
                    c.state().sale = Some(CurrentSale {
                        id: sale.id,
                        amount: sale.total,
                        expires_at: None,
                        training: sale.training,
                    });
                    super::pay::open(w, &sale.total);
                    c.set_page(w, Page::Pay);
                    for ev in early {
                        super::status::apply(w, c, ev);
                    }
                }
                Err(e) => {
                    let msg = Text::of(w).error(&e);
                    if from_customer_page {
                        super::customer::refused(w, msg);
                    } else {
                        w.global::<SaleAdapter>().set_message(msg.into());
                    }
                }
            }
        },
    );
}
