//! The card page: the volunteer takes the amount on the club's own card
//! terminal and confirms here ("Betalt på terminalen"); the slip's
//! reference may be typed on the keypad. The sale is recorded in the
//! background (`kiosk/card.rs`); nothing is recorded on "Tilbake".

use slint::{ComponentHandle, SharedString};

use super::text::Text;
use super::{AppWindow, CardAdapter, Ctx, Page, keypad};

pub(super) fn setup(w: &AppWindow, ctx: &Ctx) {
    let a = w.global::<CardAdapter>();
    let c = ctx.clone();
    a.on_key(move |key| {
        let Some(w) = c.weak.upgrade() else { return };
        let text = {
            let mut s = c.state();
            s.card_ref = keypad::pin(&s.card_ref, &key);
            s.card_ref.clone()
        };
        w.global::<CardAdapter>().set_reference(text.into());
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
    c.state().card_ref.clear();
    let a = w.global::<CardAdapter>();
    a.set_due(due.to_string().into());
    a.set_reference(SharedString::new());
    a.set_message(SharedString::new());
    a.set_busy(false);
    c.set_page(w, Page::Card);
}

fn confirm(w: &AppWindow, c: &Ctx) {
    let (cart, reference) = {
        let s = c.state();
        (s.cart.clone(), s.card_ref.clone())
    };
    w.global::<CardAdapter>().set_busy(true);
    c.background(
        move |k| k.card_sale(&cart, Some(&reference), ""),
        |w, c, result| {
            let a = w.global::<CardAdapter>();
            a.set_busy(false);
            match result {
                Ok(sale) => super::pay::paid(
                    w,
                    c,
                    sale.id,
                    sale.total,
                    sale.receipt_no.unwrap_or_default(),
                    String::new(),
                ),
                Err(e) => a.set_message(Text::of(w).error(&e).into()),
            }
        },
    );
}
