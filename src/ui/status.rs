//! The status bar and the kiosk event pump. Events arrive on the tokio side
//! and are applied on the event loop; the bar's clock and the unsynced count
//! tick on Slint timers (the count is read in the background).

use super::text::Text;
use std::time::Duration;

use slint::{ComponentHandle, Timer, TimerMode};
use tokio::sync::broadcast::error::RecvError;

use super::{AppWindow, Ctx, Page, PayAdapter, StatusAdapter};
use crate::kiosk::KioskEvent;

pub(super) fn setup(w: &AppWindow, ctx: &Ctx) -> Vec<Timer> {
    let a = w.global::<StatusAdapter>();
    a.set_training(ctx.services.training);
    a.set_vipps_ok(true);
    a.set_vipps_text(Text::of(w).vipps_chip(true).into());
    show_printer(w, ctx);
    a.set_unsynced(0);
    let c = ctx.clone();
    a.on_printer_retry(move || {
        c.background(
            |k| k.retry_print(),
            |_, _, r| {
                if let Err(e) = r {
                    tracing::warn!(error = %e, "cannot retry the held receipts");
                }
            },
        );
    });
    let c = ctx.clone();
    a.on_organizer(move || {
        let Some(w) = c.weak.upgrade() else { return };
        super::organizer::enter(&w, &c);
    });
    tick(w, ctx);
    let every_second = Timer::default();
    let c = ctx.clone();
    every_second.start(TimerMode::Repeated, Duration::from_secs(1), move || {
        if let Some(w) = c.weak.upgrade() {
            tick(&w, &c);
        }
    });
    let backlog = Timer::default();
    let c = ctx.clone();
    backlog.start(TimerMode::Repeated, Duration::from_secs(3), move || {
        refresh_backlog(&c);
    });
    refresh_backlog(ctx);
    vec![every_second, backlog]
}

/// Once a second: the clock, the pay countdown, the PIN lockout.
fn tick(w: &AppWindow, c: &Ctx) {
    let now = time::OffsetDateTime::now_utc();
    let local = crate::domain::local_time::to_oslo(now);
    w.global::<StatusAdapter>()
        .set_clock(format!("{:02}:{:02}", local.hour(), local.minute()).into());
    let expires = c.state().sale.as_ref().and_then(|s| s.expires_at);
    if let Some(exp) = expires {
        w.global::<PayAdapter>()
            .set_countdown(super::pay::countdown(exp, now).into());
    }
    if w.global::<super::AppState>().get_page() == Page::Pin {
        super::organizer::tick_lockout(w, c);
    }
}

/// Items not yet done (Vipps calls, receipts, bookkeeping), read off the UI thread.
pub(super) fn refresh_backlog(c: &Ctx) {
    c.background(
        |k| k.backlog(),
        |w, _c, r| {
            if let Ok((n, alert)) = r {
                let s = w.global::<StatusAdapter>();
                s.set_unsynced(n as i32);
                s.set_books_alert(alert);
            }
        },
    );
}

/// Forwards every kiosk event to the event loop, in order.
pub(super) fn pump_events(ctx: &Ctx) {
    let mut rx = ctx.kiosk().subscribe();
    let c = ctx.clone();
    ctx.rt.spawn(async move {
        loop {
            match rx.recv().await {
                Ok(ev) => {
                    let c2 = c.clone();
                    if c.weak
                        .upgrade_in_event_loop(move |w| apply(&w, &c2, ev))
                        .is_err()
                    {
                        break;
                    }
                }
                // Missed events: the stored state is the truth; re-read what shows it.
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "the screen fell behind the kiosk's events");
                    refresh_backlog(&c);
                }
                Err(RecvError::Closed) => break,
            }
        }
    });
}

/// Applies one kiosk event to the screen.
pub(super) fn apply(w: &AppWindow, c: &Ctx, ev: KioskEvent) {
    // A sale or a return may have changed what is left of a product.
    if matches!(ev, KioskEvent::Paid { .. } | KioskEvent::Refunded { .. }) {
        super::sale::refresh_stock(c);
    }
    let current = {
        let mut s = c.state();
        if s.starting {
            // The sale is being written and its id is not known yet.
            if event_sale(&ev).is_some() {
                s.early.push(ev.clone());
            }
        }
        s.sale.as_ref().map(|s| s.id)
    };
    let is_current = |id: i64| current == Some(id);
    match ev {
        KioskEvent::QrReady {
            sale_id,
            reference,
            qr_target,
            expires_at,
        } if is_current(sale_id) => super::pay::qr_ready(w, c, reference, qr_target, expires_at),
        KioskEvent::SentToCustomer {
            sale_id,
            reference,
            expires_at,
        } if is_current(sale_id) => super::pay::sent_to_customer(w, c, reference, expires_at),
        KioskEvent::Status {
            sale_id, status, ..
        } if is_current(sale_id) => super::pay::status(w, status),
        KioskEvent::Paid {
            sale_id,
            amount,
            receipt_no,
            ..
        } if is_current(sale_id) => {
            super::pay::paid(w, c, sale_id, amount, receipt_no, String::new())
        }
        KioskEvent::NotPaid {
            sale_id, reason, ..
        } if is_current(sale_id) => super::pay::not_paid(w, c, reason),
        KioskEvent::Refunded { amount, method, .. } => {
            super::organizer::refunded(w, c, amount, method)
        }
        KioskEvent::Printer { .. } => show_printer(w, c),
        KioskEvent::Training { on } => super::training::show(w, on),
        KioskEvent::Stock { .. } | KioskEvent::Catalog { .. } => super::sale::refresh_stock(c),
        KioskEvent::ReceiptPrinted { sale_id, .. } => {
            if c.state().last_paid == Some(sale_id) {
                w.global::<super::ResultAdapter>()
                    .set_receipt_note("".into());
            }
            show_printer(w, c);
        }
        KioskEvent::Connectivity { reachable, .. } => {
            c.state().vipps_reachable = reachable;
            let t = Text::of(w);
            let a = w.global::<StatusAdapter>();
            a.set_vipps_ok(reachable);
            a.set_vipps_text(t.vipps_chip(reachable).into());
            if current.is_some() {
                let p = w.global::<PayAdapter>();
                p.set_problem(!reachable);
                if !reachable {
                    p.set_status(t.offline().into());
                }
            }
        }
        _ => {}
    }
    refresh_backlog(c);
}

/// The printer chip, and the note under "Betalt" while its receipt is held.
/// The state lives in memory in the kiosk, so reading it here is cheap.
fn show_printer(w: &AppWindow, c: &Ctx) {
    let view = c.kiosk().printer_status();
    let (text, ok) = Text::of(w).printer_chip(&view);
    let a = w.global::<StatusAdapter>();
    a.set_printer_text(text.into());
    a.set_printer_ok(ok);
    let r = w.global::<super::ResultAdapter>();
    if let crate::kiosk::PrinterState::Held { problem, .. } = view.state
        && w.global::<super::AppState>().get_page() == Page::Result
        && r.get_paid()
        && c.state().last_paid.is_some()
    {
        r.set_receipt_note(Text::of(w).receipt_held(problem).into());
    }
}

fn event_sale(ev: &KioskEvent) -> Option<i64> {
    match ev {
        KioskEvent::QrReady { sale_id, .. }
        | KioskEvent::SentToCustomer { sale_id, .. }
        | KioskEvent::Status { sale_id, .. }
        | KioskEvent::Paid { sale_id, .. }
        | KioskEvent::NotPaid { sale_id, .. } => Some(*sale_id),
        _ => None,
    }
}
