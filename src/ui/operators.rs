//! Who stands at the till (kassasystemforskriften § 2-8-2 h), on a till with
//! `[[operators]]`: the cart's "Vakt" button opens the picker; a volunteer
//! taps their name, types their code and OK, and every sale from then on
//! carries them. The next volunteer does the same; "Logg ut" ends a shift.

use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use super::text::Text;
use super::{AppWindow, Ctx, OperatorAdapter, SaleAdapter, keypad};
use crate::kiosk::{Kiosk, KioskError};

pub(super) fn setup(w: &AppWindow, ctx: &Ctx) {
    let names: Vec<SharedString> = ctx
        .kiosk()
        .operators()
        .into_iter()
        .map(|o| o.name.into())
        .collect();
    let s = w.global::<SaleAdapter>();
    s.set_operators(!names.is_empty());
    if names.is_empty() {
        return;
    }
    let a = w.global::<OperatorAdapter>();
    a.set_names(ModelRc::new(VecModel::from(names)));
    show_current(ctx);

    let c = ctx.clone();
    s.on_choose_operator(move || {
        let Some(w) = c.weak.upgrade() else { return };
        c.state().operator_code.clear();
        let a = w.global::<OperatorAdapter>();
        a.set_selected(-1);
        a.set_digits(0);
        a.set_message(SharedString::new());
        a.set_busy(false);
        a.set_open(true);
    });
    let c = ctx.clone();
    a.on_pick(move |i| {
        let Some(w) = c.weak.upgrade() else { return };
        c.state().operator_code.clear();
        let a = w.global::<OperatorAdapter>();
        a.set_selected(i);
        a.set_digits(0);
        a.set_message(SharedString::new());
    });
    let c = ctx.clone();
    a.on_cancel(move || {
        let Some(w) = c.weak.upgrade() else { return };
        c.state().operator_code.clear();
        w.global::<OperatorAdapter>().set_open(false);
    });
    let c = ctx.clone();
    a.on_key(move |k| {
        let Some(w) = c.weak.upgrade() else { return };
        key(&w, &c, &k);
    });
    let c = ctx.clone();
    a.on_logout(move || change_shift(&c, |k| k.operator_logout().map(|_| ())));
}

/// Runs a login or logout off the UI thread (Argon2 is slow on purpose);
/// then closes the picker and shows who stands at the till, or says why not.
fn change_shift(c: &Ctx, work: impl FnOnce(&Kiosk) -> Result<(), KioskError> + Send + 'static) {
    let Some(w) = c.weak.upgrade() else { return };
    w.global::<OperatorAdapter>().set_busy(true);
    c.background(work, |w, c, r| {
        let a = w.global::<OperatorAdapter>();
        a.set_busy(false);
        match r {
            Ok(()) => {
                a.set_open(false);
                show_current(c);
            }
            Err(e) => a.set_message(Text::of(w).error(&e).into()),
        }
    });
}

fn key(w: &AppWindow, c: &Ctx, k: &str) {
    let a = w.global::<OperatorAdapter>();
    if k != "OK" {
        let n = {
            let mut s = c.state();
            s.operator_code = keypad::pin(&s.operator_code, k);
            s.operator_code.len()
        };
        a.set_digits(n as i32);
        a.set_message(SharedString::new());
        return;
    }
    let Some(op) = usize::try_from(a.get_selected())
        .ok()
        .and_then(|i| c.kiosk().operators().into_iter().nth(i))
    else {
        return;
    };
    let code = std::mem::take(&mut c.state().operator_code);
    a.set_digits(0);
    change_shift(c, move |k| k.operator_login(&op.id, &code).map(|_| ()));
}

/// Shows who stands at the till now, read from the journal, and whether
/// they may mark products sold out from the sale page (a kioskansvarlig).
pub(super) fn show_current(c: &Ctx) {
    c.background(
        |k| Ok::<_, KioskError>((k.current_operator()?, k.may_mark_stock()?)),
        |w, _, r| {
            let (op, may_mark) = r.unwrap_or_default();
            let name = op.map(|o| o.name).unwrap_or_default();
            let s = w.global::<SaleAdapter>();
            s.set_operator(name.as_str().into());
            s.set_may_mark(may_mark);
            if !may_mark {
                s.set_marking(false);
            }
            w.global::<OperatorAdapter>().set_current(name.into());
        },
    );
}
