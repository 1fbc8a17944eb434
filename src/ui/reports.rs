//! The X and Z reports from the organizer screen: the same computation as
//! `luka report x|z` ([`crate::reports`]), shown as text and printed on the
//! receipt printer when there is one. A Z asks for the counted cash first.

use super::text::Text;
use slint::{ComponentHandle, SharedString};

use super::{AppWindow, CountAdapter, Ctx, OrganizerAdapter, keypad};
use crate::domain::{Currency, Money};
use crate::printer::ReportInput;

pub(super) fn setup(w: &AppWindow, ctx: &Ctx) {
    let o = w.global::<OrganizerAdapter>();
    let c = ctx.clone();
    o.on_x_report(move || make(&c, Made::X));
    let c = ctx.clone();
    o.on_z_report(move || open_count(&c));

    let a = w.global::<CountAdapter>();
    let c = ctx.clone();
    a.on_key(move |k| {
        let Some(w) = c.weak.upgrade() else { return };
        let text = {
            let mut s = c.state();
            s.count_text = keypad::amount(&s.count_text, &k);
            s.count_text.clone()
        };
        let a = w.global::<CountAdapter>();
        a.set_counted_text(text.into());
        a.set_message(SharedString::new());
    });
    let c = ctx.clone();
    a.on_cancel(move || {
        let Some(w) = c.weak.upgrade() else { return };
        w.global::<CountAdapter>().set_open(false);
    });
    let c = ctx.clone();
    a.on_confirm(move || {
        let Some(w) = c.weak.upgrade() else { return };
        let text = c.state().count_text.clone();
        // Left blank: the drawer was not counted. The Z says so and journals
        // no cash difference, rather than a count of 0 kr and a false shortage.
        let counted = if text.is_empty() {
            None
        } else {
            match Money::parse(text.trim_end_matches(','), Currency::NOK) {
                Ok(m) => Some(m),
                Err(_) => {
                    let msg = Text::of(&w).bad_amount(&text);
                    return w.global::<CountAdapter>().set_message(msg.into());
                }
            }
        };
        make(&c, Made::Z { counted });
    });
}

/// Opens the count dialog with the cash the till expects in the drawer.
fn open_count(c: &Ctx) {
    c.state().count_text.clear();
    c.background(
        |k| k.expected_cash(),
        |w, _c, r| {
            let a = w.global::<CountAdapter>();
            a.set_counted_text(SharedString::new());
            a.set_message(SharedString::new());
            match r {
                Ok(expected) => a.set_expected(expected.to_string().into()),
                Err(e) => a.set_message(Text::of(w).report_error(&e).into()),
            }
            a.set_open(true);
        },
    );
}

/// Which report the organizer asked for.
#[derive(Debug, Clone, Copy)]
enum Made {
    X,
    /// `counted`: the cash counted in the drawer; `None` when not counted.
    Z {
        counted: Option<Money>,
    },
}

/// Makes an X report or closes the day with a Z.
fn make(c: &Ctx, kind: Made) {
    let z = matches!(kind, Made::Z { .. });
    c.background(
        move |k| {
            let made = match kind {
                Made::X => k.x_report(),
                Made::Z { counted } => k.close_day(counted),
            }?;
            Ok::<_, crate::reports::ReportError>((text(&made.paper), made.printed))
        },
        move |w, c, r| {
            let o = w.global::<OrganizerAdapter>();
            let t = Text::of(w);
            match r {
                Ok((text, printed)) => {
                    w.global::<CountAdapter>().set_open(false);
                    o.set_report(text.into());
                    o.set_message(t.report_done(z, printed).into());
                    super::organizer::refresh(c);
                }
                Err(e) if z => w
                    .global::<CountAdapter>()
                    .set_message(t.report_error(&e).into()),
                Err(e) => o.set_message(t.report_error(&e).into()),
            }
        },
    );
}

/// The report as monospaced text, as wide as an 80 mm receipt.
pub fn text(r: &ReportInput) -> String {
    const WIDTH: usize = 42;
    let mut out = String::new();
    let mut line = |l: &str, v: &str| {
        let pad = WIDTH
            .saturating_sub(l.chars().count() + v.chars().count())
            .max(1);
        out.push_str(&format!("{l}{}{v}\n", " ".repeat(pad)));
    };
    let title = match r.number {
        Some(n) => format!("{} nr. {n}", r.title),
        None => r.title.clone(),
    };
    line(&title, &r.till_id);
    if r.training {
        line("TRENING", "");
    }
    let at = crate::domain::local_time::to_oslo(r.timestamp);
    line(
        &r.merchant.name,
        &format!("{} {:02}:{:02}", at.date(), at.hour(), at.minute()),
    );
    for s in &r.sections {
        out.push('\n');
        out.push_str(&s.heading);
        out.push('\n');
        for (l, v) in &s.rows {
            let mut line = |l: &str, v: &str| {
                let pad = WIDTH
                    .saturating_sub(l.chars().count() + v.chars().count())
                    .max(1);
                out.push_str(&format!(
                    "  {l}{}{v}\n",
                    " ".repeat(pad.saturating_sub(2).max(1))
                ));
            };
            line(l, v);
        }
    }
    out
}
