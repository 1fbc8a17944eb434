//! The cash page: what the customer handed over and the change due. The
//! sale is recorded (and the drawer opens, when printing lands) only on
//! "Fullfør", in the background.

use super::text::Text;
use slint::{ComponentHandle, SharedString};

use super::{AppWindow, CashAdapter, Ctx, Page, keypad};
use crate::domain::{Currency, Money};

pub(super) fn setup(w: &AppWindow, ctx: &Ctx) {
    let a = w.global::<CashAdapter>();
    let c = ctx.clone();
    a.on_key(move |key| {
        let Some(w) = c.weak.upgrade() else { return };
        {
            let mut s = c.state();
            s.cash_given = keypad::amount(&s.cash_given, &key);
        }
        refresh(&w, &c);
    });
    let c = ctx.clone();
    a.on_quick(move |which| {
        let Some(w) = c.weak.upgrade() else { return };
        {
            let mut s = c.state();
            s.cash_given = match which.as_str() {
                "exact" => s
                    .cart
                    .totals()
                    .map(|t| t.gross.format_plain().replace(' ', ""))
                    .unwrap_or_default(),
                n => n.to_string(),
            };
        }
        refresh(&w, &c);
    });
    let c = ctx.clone();
    a.on_back(move || {
        let Some(w) = c.weak.upgrade() else { return };
        c.set_page(&w, Page::Sale);
    });
    let c = ctx.clone();
    a.on_confirm(move || {
        let Some(w) = c.weak.upgrade() else { return };
        confirm(&w, &c);
    });
}

pub(super) fn open(w: &AppWindow, c: &Ctx) {
    let due = match c.state().cart.totals() {
        Ok(t) => t.gross,
        Err(_) => return,
    };
    c.state().cash_given.clear();
    let a = w.global::<CashAdapter>();
    a.set_due(due.to_string().into());
    a.set_message(SharedString::new());
    a.set_busy(false);
    refresh(w, c);
    c.set_page(w, Page::Cash);
}

fn given(text: &str) -> Option<Money> {
    Money::parse(text.trim_end_matches(','), Currency::NOK).ok()
}

fn refresh(w: &AppWindow, c: &Ctx) {
    let (text, due) = {
        let s = c.state();
        (s.cash_given.clone(), s.cart.totals().map(|t| t.gross).ok())
    };
    let a = w.global::<CashAdapter>();
    a.set_given_text(text.as_str().into());
    let change = match (given(&text), due) {
        (Some(g), Some(d)) => crate::payments::cash::change_due(d, g).ok(),
        _ => None,
    };
    a.set_enough(change.is_some());
    a.set_change(change.map(|m| m.to_string()).unwrap_or_default().into());
}

fn confirm(w: &AppWindow, c: &Ctx) {
    let (cart, text) = {
        let s = c.state();
        (s.cart.clone(), s.cash_given.clone())
    };
    let Some(given) = given(&text) else { return };
    w.global::<CashAdapter>().set_busy(true);
    c.background(
        move |k| k.cash_sale(&cart, given, ""),
        |w, c, result| {
            let a = w.global::<CashAdapter>();
            a.set_busy(false);
            match result {
                Ok((sale, change)) => {
                    let extra = Text::of(w).change(change);
                    super::pay::paid(
                        w,
                        c,
                        sale.id,
                        sale.total,
                        sale.receipt_no.unwrap_or_default(),
                        extra,
                    );
                }
                Err(e) => a.set_message(Text::of(w).error(&e).into()),
            }
        },
    );
}
