//! The pay page (QR, amount, countdown, live status, cancel) and the result
//! page that follows it. Kiosk events for the current sale arrive through
//! `status::apply` and land here.

use super::text::Text;
use slint::{ComponentHandle, SharedString};

use super::{AppWindow, Ctx, Page, PayAdapter, ResultAdapter, SaleAdapter};
use crate::domain::{Money, SaleStatus, UnpaidReason};
use crate::kiosk::KioskError;

pub(super) fn setup(w: &AppWindow, ctx: &Ctx) {
    let a = w.global::<PayAdapter>();
    a.set_phone_url(SharedString::new());
    let c = ctx.clone();
    a.on_cancel(move || {
        let Some(w) = c.weak.upgrade() else { return };
        let Some(id) = c.state().sale.as_ref().map(|s| s.id) else {
            return;
        };
        w.global::<PayAdapter>().set_can_cancel(false);
        c.background(
            move |k| k.cancel_sale(id),
            |w, _, result| {
                let a = w.global::<PayAdapter>();
                let t = Text::of(w);
                match result {
                    Ok(()) => a.set_status(t.status(SaleStatus::Cancelling).into()),
                    Err(KioskError::AlreadyApproved) => {
                        a.set_status(t.already_approved().into());
                    }
                    Err(e) => {
                        a.set_status(t.error(&e).into());
                        a.set_problem(true);
                    }
                }
            },
        );
    });
    let c = ctx.clone();
    a.on_open_phone(move || {
        let Some(w) = c.weak.upgrade() else { return };
        let url = w.global::<PayAdapter>().get_phone_url().to_string();
        open_in_browser(&url);
    });
    let r = w.global::<ResultAdapter>();
    r.set_auto_return(true);
    r.set_return_after(ctx.services.result_time.as_millis() as i64);
    let c = ctx.clone();
    r.on_done(move || {
        let Some(w) = c.weak.upgrade() else { return };
        if w.global::<super::AppState>().get_page() == Page::Result {
            c.set_page(&w, Page::Sale);
        }
    });
}

/// Resets the pay page for a new sale of `amount`.
pub(super) fn open(w: &AppWindow, amount: &Money) {
    let a = w.global::<PayAdapter>();
    a.set_qr_ready(false);
    a.set_sent_to_customer(false);
    a.set_amount(amount.to_string().into());
    a.set_countdown("–".into());
    a.set_status(Text::of(w).status(SaleStatus::Pending).into());
    a.set_problem(false);
    a.set_can_cancel(true);
    a.set_phone_url(SharedString::new());
    a.set_reference(SharedString::new());
}

/// The QR text arrived: draw it off the UI thread, then show it.
pub(super) fn qr_ready(
    w: &AppWindow,
    c: &Ctx,
    reference: String,
    target: String,
    expires_at: time::OffsetDateTime,
) {
    let training = match c.state().sale.as_mut() {
        Some(s) => {
            s.expires_at = Some(expires_at);
            s.training
        }
        None => c.services.training,
    };
    let a = w.global::<PayAdapter>();
    a.set_reference(reference.into());
    a.set_countdown(countdown(expires_at, time::OffsetDateTime::now_utc()).into());
    a.set_status(Text::of(w).status(SaleStatus::Awaiting).into());
    if training {
        a.set_phone_url(target.as_str().into());
    }
    let weak = c.weak.clone();
    c.rt.spawn_blocking(move || match super::qr::pixels(&target) {
        Ok(buf) => {
            let _ = weak.upgrade_in_event_loop(move |w| {
                let a = w.global::<PayAdapter>();
                a.set_qr(slint::Image::from_rgb8(buf));
                a.set_qr_ready(true);
            });
        }
        Err(e) => tracing::error!(error = %e, "cannot draw the QR code"),
    });
}

/// The payment went to the customer's app: no QR, the countdown runs.
pub(super) fn sent_to_customer(
    w: &AppWindow,
    c: &Ctx,
    reference: String,
    expires_at: time::OffsetDateTime,
) {
    if let Some(s) = c.state().sale.as_mut() {
        s.expires_at = Some(expires_at);
    }
    let a = w.global::<PayAdapter>();
    a.set_reference(reference.into());
    a.set_sent_to_customer(true);
    a.set_countdown(countdown(expires_at, time::OffsetDateTime::now_utc()).into());
    a.set_status(Text::of(w).status(SaleStatus::Awaiting).into());
}

pub(super) fn status(w: &AppWindow, status: SaleStatus) {
    let a = w.global::<PayAdapter>();
    a.set_problem(false);
    a.set_status(Text::of(w).status(status).into());
    if status == SaleStatus::Capturing {
        a.set_can_cancel(false);
    }
}

pub(super) fn paid(
    w: &AppWindow,
    c: &Ctx,
    sale_id: i64,
    amount: Money,
    receipt_no: i64,
    extra: String,
) {
    let t = Text::of(w);
    {
        let mut s = c.state();
        s.sale = None;
        s.cart.clear();
        s.last_paid = Some(sale_id);
    }
    super::sale::refresh(w, c);
    w.global::<PayAdapter>().set_qr_ready(false);
    let r = w.global::<ResultAdapter>();
    r.set_paid(true);
    r.set_amount(amount.to_string().into());
    r.set_detail(t.receipt_no(receipt_no).into());
    r.set_extra(extra.into());
    r.set_receipt_note(SharedString::new());
    r.set_order(SharedString::new());
    c.set_page(w, Page::Result);
    c.background(
        move |k| k.order_no(sale_id),
        move |w, c, n| {
            if let (Ok(Some(n)), Some(true)) = (n, c.state().last_paid.map(|s| s == sale_id)) {
                w.global::<ResultAdapter>()
                    .set_order(Text::of(w).order(n).into());
            }
        },
    );
}

pub(super) fn not_paid(w: &AppWindow, c: &Ctx, reason: UnpaidReason) {
    let t = Text::of(w);
    let amount = c.state().sale.take().map(|s| s.amount);
    w.global::<PayAdapter>().set_qr_ready(false);
    let r = w.global::<ResultAdapter>();
    r.set_paid(false);
    r.set_amount(amount.map(|a| a.to_string()).unwrap_or_default().into());
    r.set_detail(t.unpaid(reason).into());
    r.set_extra(SharedString::new());
    r.set_receipt_note(SharedString::new());
    r.set_order(SharedString::new());
    // The cart stays, so the volunteer can try again or take cash.
    w.global::<SaleAdapter>().set_busy(false);
    c.set_page(w, Page::Result);
}

/// "4:59" until the payment expires.
pub(super) fn countdown(expires_at: time::OffsetDateTime, now: time::OffsetDateTime) -> String {
    let left = (expires_at - now).whole_seconds().max(0);
    format!("{}:{:02}", left / 60, left % 60)
}

/// Training only: lets a desktop user approve on the phone page.
fn open_in_browser(url: &str) {
    if url.is_empty() {
        return;
    }
    match std::process::Command::new("xdg-open")
        .arg(url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        Ok(mut child) => {
            std::thread::spawn(move || child.wait());
        }
        Err(e) => tracing::warn!(error = %e, %url, "cannot open a browser; open the URL by hand"),
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    #[test]
    fn countdown_counts_down_and_stops_at_zero() {
        let exp = datetime!(2026-11-21 12:10:00 UTC);
        assert_eq!(
            super::countdown(exp, datetime!(2026-11-21 12:00:00 UTC)),
            "10:00"
        );
        assert_eq!(
            super::countdown(exp, datetime!(2026-11-21 12:09:01 UTC)),
            "0:59"
        );
        assert_eq!(
            super::countdown(exp, datetime!(2026-11-21 12:11:00 UTC)),
            "0:00"
        );
    }
}
