//! The customer page: a Vipps sale sent to the customer's app. A USB 2D
//! scanner types the personal QR's text and Enter into the window; the
//! page's FocusScope (`ui/pages/customer-page.slint`) hands every key here
//! and nowhere else, and [`scan_key`] keeps the scan until Enter. A phone
//! number comes from the on-screen keypad. Either is checked here, before
//! anything is written or sent; the sale itself starts in the background
//! like any Vipps sale (`sale::start_vipps`).

use slint::{ComponentHandle, SharedString};

use super::text::Text;
use super::{AppWindow, Ctx, CustomerAdapter, Page, keypad};
use crate::domain::{Customer, CustomerError};
use crate::kiosk::KioskError;

/// The longest scan kept: a personal QR is at most 255 characters (spec);
/// a scanner that never sends Enter must not grow the buffer for ever.
const MAX_SCAN: usize = 512;

/// What a key does to the scan being typed: `Some(text)` when Enter ended
/// it. Slint's special keys (Shift, arrows: control characters and the
/// private-use area) are not text and are dropped. Pure.
pub fn scan_key(scan: &mut String, key: &str) -> Option<String> {
    for ch in key.chars() {
        match ch {
            '\n' | '\r' => {
                let done = std::mem::take(scan);
                if !done.trim().is_empty() {
                    return Some(done);
                }
            }
            c if c.is_control() || ('\u{e000}'..='\u{f8ff}').contains(&c) => {}
            c if scan.chars().count() < MAX_SCAN => scan.push(c),
            _ => {}
        }
    }
    None
}

pub(super) fn setup(w: &AppWindow, ctx: &Ctx) {
    let a = w.global::<CustomerAdapter>();
    let c = ctx.clone();
    a.on_scan_key(move |key| {
        let Some(w) = c.weak.upgrade() else { return };
        let done = {
            let mut s = c.state();
            scan_key(&mut s.scan, &key)
        };
        if let Some(text) = done {
            let a = w.global::<CustomerAdapter>();
            if a.get_busy() {
                return;
            }
            let n = text.trim().chars().count();
            a.set_scan_note(Text::of(&w).scanned(n).into());
            send(&w, &c, Customer::personal_qr(&text));
        }
    });
    let c = ctx.clone();
    a.on_key(move |key| {
        let Some(w) = c.weak.upgrade() else { return };
        let text = {
            let mut s = c.state();
            s.phone = keypad::phone(&s.phone, &key);
            s.phone.clone()
        };
        let a = w.global::<CustomerAdapter>();
        a.set_phone(text.into());
        a.set_message(SharedString::new());
    });
    let c = ctx.clone();
    a.on_send_phone(move || {
        let Some(w) = c.weak.upgrade() else { return };
        let typed = c.state().phone.clone();
        send(&w, &c, Customer::phone(&typed));
    });
    let c = ctx.clone();
    a.on_back(move || {
        let Some(w) = c.weak.upgrade() else { return };
        c.set_page(&w, Page::Sale);
    });
}

pub(super) fn open(w: &AppWindow, c: &Ctx) {
    let due = match c.state().cart.totals() {
        Ok(t) => t.gross,
        Err(_) => return,
    };
    {
        let mut s = c.state();
        s.scan.clear();
        s.phone.clear();
    }
    let a = w.global::<CustomerAdapter>();
    a.set_due(due.to_string().into());
    a.set_phone(SharedString::new());
    a.set_scan_note(SharedString::new());
    a.set_message(SharedString::new());
    a.set_busy(false);
    c.set_page(w, Page::Customer);
}

fn send(w: &AppWindow, c: &Ctx, customer: Result<Customer, CustomerError>) {
    let a = w.global::<CustomerAdapter>();
    match customer {
        Err(e) => {
            a.set_scan_note(SharedString::new());
            a.set_message(Text::of(w).error(&KioskError::Customer(e)).into());
        }
        Ok(customer) => {
            a.set_message(SharedString::new());
            super::sale::start_vipps(w, c, Some(customer));
        }
    }
}

/// A refusal from the kiosk while the customer page shows.
pub(super) fn refused(w: &AppWindow, message: String) {
    let a = w.global::<CustomerAdapter>();
    a.set_busy(false);
    a.set_scan_note(SharedString::new());
    a.set_message(message.into());
}

/// While the sale is written: no second scan or send.
pub(super) fn busy(w: &AppWindow, busy: bool) {
    w.global::<CustomerAdapter>().set_busy(busy);
}

#[cfg(test)]
mod tests {
    use super::scan_key;

    #[test]
    fn a_scan_ends_at_enter_and_keeps_only_text() {
        let mut scan = String::new();
        let mut done = None;
        // Shift (U+0010) before capitals, as a keyboard-mode scanner sends it.
        for k in ["h", "t", "\u{10}", "P", "s", "\u{f700}", ":", "/", "\n"] {
            done = done.or(scan_key(&mut scan, k));
        }
        assert_eq!(done.as_deref(), Some("htPs:/"));
        assert!(scan.is_empty(), "the next scan starts empty");
        // Enter alone (a second Enter, a stray key) starts nothing.
        assert_eq!(scan_key(&mut scan, "\n"), None);
        assert_eq!(scan_key(&mut scan, "\r\n"), None);
        // A scanner that never sends Enter is capped.
        for _ in 0..600 {
            scan_key(&mut scan, "x");
        }
        assert_eq!(scan.len(), super::MAX_SCAN);
    }
}
