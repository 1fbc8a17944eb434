//! The organizer's side: the PIN (verified off the UI thread, with the
//! lockout from [`crate::pin`]), today's takings, the sales list with
//! refunds, the backlog, and the language switch.

use super::text::Text;
use std::time::Instant;

use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use super::day::{self, DayView};
use super::{
    AppState, AppWindow, BacklogRow, Ctx, Figure, HourBar, OrganizerAdapter, Page, PinAdapter,
    RefundAdapter, SaleRow, keypad,
};
use crate::config::Language;
use crate::domain::{Currency, Money};
use crate::pin::{Attempt, TRAINING_PIN};

/// The refund being typed in the dialog.
#[derive(Debug, Clone)]
pub(crate) struct RefundDraft {
    pub sale_id: i64,
    pub max: Money,
    pub text: String,
    /// How it was paid: cash goes back out of the drawer at once, card on
    /// the terminal at once, Vipps through Vipps.
    pub method: crate::domain::PaymentMethod,
}

pub const REFUND_REASONS_NB: [&str; 4] = ["Feil vare", "Kunden angret", "Dobbeltbetaling", "Annet"];

pub(super) fn setup(w: &AppWindow, ctx: &Ctx) {
    let p = w.global::<PinAdapter>();
    let c = ctx.clone();
    p.on_key(move |k| {
        let Some(w) = c.weak.upgrade() else { return };
        pin_key(&w, &c, &k);
    });
    let c = ctx.clone();
    p.on_cancel(move || {
        let Some(w) = c.weak.upgrade() else { return };
        c.state().pin_entry.clear();
        c.set_page(&w, Page::Sale);
    });

    let o = w.global::<OrganizerAdapter>();
    o.set_language(ctx.state().lang.code().into());
    let c = ctx.clone();
    o.on_refresh(move || refresh(&c));
    let c = ctx.clone();
    o.on_close(move || {
        let Some(w) = c.weak.upgrade() else { return };
        c.background(
            |k| k.organizer_logout(),
            |_, _, r| {
                if let Err(e) = r {
                    tracing::warn!(error = %e, "cannot journal the organizer's logout");
                }
            },
        );
        c.set_page(&w, Page::Sale);
    });
    let c = ctx.clone();
    o.on_retry_backlog(move || {
        c.background(
            |k| k.retry_backlog(),
            |w, c, r| {
                let t = Text::of(w);
                let msg = match r {
                    Ok(n) => t.retried(n),
                    Err(e) => t.error(&e),
                };
                w.global::<OrganizerAdapter>().set_message(msg.into());
                refresh(c);
            },
        );
    });
    let c = ctx.clone();
    o.on_set_language(move |code| {
        let Some(w) = c.weak.upgrade() else { return };
        let lang = Language::parse(&code).unwrap_or_default();
        c.state().lang = lang;
        super::select_language(lang);
        w.global::<OrganizerAdapter>()
            .set_language(lang.code().into());
        let t = Text::of(&w);
        w.global::<super::StatusAdapter>()
            .set_vipps_text(t.vipps_chip(c.state().vipps_reachable).into());
        super::sale::refresh(&w, &c);
        refresh(&c);
    });
    let c = ctx.clone();
    o.on_open_refund(move |sale_id| open_refund(&c, sale_id as i64));
    let c = ctx.clone();
    o.on_print_copy(move |sale_id| {
        let sale_id = sale_id as i64;
        c.background(
            move |k| k.print_copy(sale_id),
            |w, c, r| {
                let t = Text::of(w);
                let msg = match r {
                    Ok(()) => t.copy_queued(),
                    Err(e) => t.error(&e),
                };
                w.global::<OrganizerAdapter>().set_message(msg.into());
                refresh(c);
            },
        );
    });

    let r = w.global::<RefundAdapter>();
    let c = ctx.clone();
    r.on_key(move |k| {
        let Some(w) = c.weak.upgrade() else { return };
        let text = {
            let mut s = c.state();
            let Some(d) = s.refund.as_mut() else { return };
            d.text = keypad::amount(&d.text, &k);
            d.text.clone()
        };
        let r = w.global::<RefundAdapter>();
        r.set_amount_text(text.into());
        r.set_message(SharedString::new());
    });
    let c = ctx.clone();
    r.on_cancel(move || {
        let Some(w) = c.weak.upgrade() else { return };
        c.state().refund = None;
        w.global::<RefundAdapter>().set_open(false);
    });
    let c = ctx.clone();
    r.on_confirm(move || {
        let Some(w) = c.weak.upgrade() else { return };
        confirm_refund(&w, &c);
    });
}

/// "Arrangør" from the status bar: only between sales.
pub(super) fn enter(w: &AppWindow, c: &Ctx) {
    let page = w.global::<AppState>().get_page();
    if !matches!(page, Page::Sale | Page::Result) {
        return;
    }
    c.state().pin_entry.clear();
    let p = w.global::<PinAdapter>();
    p.set_digits(0);
    p.set_message(SharedString::new());
    p.set_checking(false);
    let hint = match c.services.pin_hash {
        None => Text::of(w).training_pin_hint(TRAINING_PIN),
        Some(_) => String::new(),
    };
    p.set_hint(hint.into());
    c.set_page(w, Page::Pin);
    tick_lockout(w, c);
}

fn pin_key(w: &AppWindow, c: &Ctx, key: &str) {
    let p = w.global::<PinAdapter>();
    if key != "OK" {
        let n = {
            let mut s = c.state();
            s.pin_entry = keypad::pin(&s.pin_entry, key);
            s.pin_entry.len()
        };
        p.set_digits(n as i32);
        p.set_message(SharedString::new());
        return;
    }
    let (entry, attempt) = {
        let mut s = c.state();
        (
            std::mem::take(&mut s.pin_entry),
            s.lockout.check(Instant::now()),
        )
    };
    p.set_digits(0);
    if let Attempt::Locked(_) = attempt {
        return tick_lockout(w, c);
    }
    p.set_checking(true);
    let hash = c.services.pin_hash.clone();
    c.background(
        move |k| {
            let ok = match &hash {
                Some(h) => h.verify(&entry),
                None => entry == TRAINING_PIN,
            };
            if let Err(e) = k.organizer_login(ok) {
                tracing::warn!(error = %e, "cannot journal the organizer's PIN attempt");
            }
            ok
        },
        |w, c, ok| {
            let p = w.global::<PinAdapter>();
            p.set_checking(false);
            if ok {
                c.state().lockout.succeeded();
                let o = w.global::<OrganizerAdapter>();
                o.set_tab(0);
                o.set_message(SharedString::new());
                c.set_page(w, Page::Organizer);
                refresh(c);
                return;
            }
            let locked = c.state().lockout.failed(Instant::now());
            p.set_message(Text::of(w).wrong_pin().into());
            if locked.is_some() {
                tick_lockout(w, c);
            }
        },
    );
}

/// Shows the remaining lockout, or lifts it.
pub(super) fn tick_lockout(w: &AppWindow, c: &Ctx) {
    let attempt = c.state().lockout.check(Instant::now());
    let p = w.global::<PinAdapter>();
    match attempt {
        Attempt::Locked(left) => {
            p.set_locked(true);
            p.set_message(Text::of(w).locked(left.as_secs().max(1)).into());
        }
        Attempt::Allowed if p.get_locked() => {
            p.set_locked(false);
            p.set_message(SharedString::new());
        }
        Attempt::Allowed => {}
    }
}

/// Re-reads today's figures, sales and backlog in the background.
pub(super) fn refresh(c: &Ctx) {
    // The figures are read in the background; the words are the window's,
    // so they are put together on the event loop.
    c.background(
        move |k| k.day_view(),
        |w, _c, data| match data {
            Ok(data) => show(w, &day::today(&data, &Text::of(w))),
            Err(e) => w
                .global::<OrganizerAdapter>()
                .set_message(Text::of(w).report_error(&e).into()),
        },
    );
}

fn model<T: Clone + 'static>(v: Vec<T>) -> ModelRc<T> {
    ModelRc::new(VecModel::from(v))
}

fn show(w: &AppWindow, v: &DayView) {
    let o = w.global::<OrganizerAdapter>();
    o.set_total(v.total.clone().into());
    let figs = |list: &[(String, String)]| {
        model(
            list.iter()
                .map(|(l, v)| Figure {
                    label: l.as_str().into(),
                    value: v.as_str().into(),
                })
                .collect(),
        )
    };
    o.set_counts(figs(&v.counts));
    o.set_per_method(figs(&v.per_method));
    o.set_per_product(figs(&v.per_product));
    o.set_per_hour(model(
        v.per_hour
            .iter()
            .map(|h| HourBar {
                hour: h.hour.as_str().into(),
                fraction: h.fraction,
                value: h.value.as_str().into(),
            })
            .collect(),
    ));
    o.set_sales(model(
        v.sales
            .iter()
            .map(|s| SaleRow {
                id: s.id as i32,
                time: s.time.as_str().into(),
                receipt: s.receipt.as_str().into(),
                amount: s.amount.as_str().into(),
                method: s.method.as_str().into(),
                status: s.status.as_str().into(),
                refundable: s.refundable,
                copyable: s.copyable,
            })
            .collect(),
    ));
    o.set_backlog(model(
        v.backlog
            .iter()
            .map(|b| BacklogRow {
                id: b.id as i32,
                what: b.what.as_str().into(),
                sale: b.sale.as_str().into(),
                attempts: b.attempts as i32,
                state: b.state.as_str().into(),
                error: b.error.as_str().into(),
            })
            .collect(),
    ));
    o.set_books_note(v.books_note.as_str().into());
}

fn open_refund(c: &Ctx, sale_id: i64) {
    c.background(
        move |k| k.refund_limit(sale_id),
        move |w, c, r| {
            let (sale, max) = match r {
                Ok(found) => found,
                Err(e) => {
                    let msg = Text::of(w).error(&e);
                    return w.global::<OrganizerAdapter>().set_message(msg.into());
                }
            };
            let text = max.format_plain().replace(' ', "");
            c.state().refund = Some(RefundDraft {
                sale_id,
                max,
                method: sale.method,
                text: text.clone(),
            });
            // Shown in the screen's words, journaled in bokmål by index.
            let reasons = w.global::<super::Words>().invoke_refund_reasons();
            let a = w.global::<RefundAdapter>();
            a.set_title(
                format!(
                    "#{} · {} · {}",
                    sale.receipt_no.unwrap_or_default(),
                    sale.total,
                    sale.reference
                )
                .into(),
            );
            a.set_max(max.to_string().into());
            a.set_amount_text(text.into());
            a.set_reasons(reasons);
            a.set_reason(0);
            a.set_message(SharedString::new());
            a.set_busy(false);
            a.set_open(true);
        },
    );
}

fn confirm_refund(w: &AppWindow, c: &Ctx) {
    let Some(draft) = c.state().refund.clone() else {
        return;
    };
    let t = Text::of(w);
    let a = w.global::<RefundAdapter>();
    let amount = match Money::parse(draft.text.trim_end_matches(','), Currency::NOK) {
        Ok(m) if m.minor() > 0 => m,
        Ok(_) => return a.set_message(t.zero_amount().into()),
        Err(_) => return a.set_message(t.bad_amount(&draft.text).into()),
    };
    if amount.minor() > draft.max.minor() {
        return a.set_message(t.refund_too_much(draft.max).into());
    }
    // The reason is journaled in Norwegian whatever the screen language.
    let idx = (a.get_reason().max(0) as usize).min(REFUND_REASONS_NB.len() - 1);
    let reason = REFUND_REASONS_NB[idx];
    a.set_busy(true);
    c.background(
        move |k| k.refund(draft.sale_id, amount, reason),
        move |w, c, r| {
            let a = w.global::<RefundAdapter>();
            a.set_busy(false);
            match r {
                Ok(_) => {
                    c.state().refund = None;
                    a.set_open(false);
                    let t = Text::of(w);
                    let said = match draft.method {
                        crate::domain::PaymentMethod::Cash => t.refund_cash(amount),
                        crate::domain::PaymentMethod::Card => t.refund_card(amount),
                        crate::domain::PaymentMethod::Vipps => t.refund_queued(amount),
                    };
                    w.global::<OrganizerAdapter>().set_message(said.into());
                    refresh(c);
                }
                Err(e) => a.set_message(Text::of(w).error(&e).into()),
            }
        },
    );
}

/// A refund went through: at Vipps (said now), or from the drawer (said
/// when it was confirmed).
pub(super) fn refunded(
    w: &AppWindow,
    c: &Ctx,
    amount: Money,
    method: crate::domain::PaymentMethod,
) {
    if w.global::<AppState>().get_page() == Page::Organizer {
        if method == crate::domain::PaymentMethod::Vipps {
            w.global::<OrganizerAdapter>()
                .set_message(Text::of(w).refunded(amount).into());
        }
        refresh(c);
    }
}
