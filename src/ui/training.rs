//! Training mode on the organizer screen (behind the PIN): one button that
//! switches it on or off, and the yellow TRENING banner while it is on
//! (kassasystemforskriften § 2-8-2 w; the rules are the kiosk's, in
//! `kiosk/training.rs`). The demo is a training till throughout: no button.

use slint::ComponentHandle;

use super::text::Text;
use super::{AppWindow, Ctx, OrganizerAdapter, StatusAdapter};

pub(super) fn setup(w: &AppWindow, ctx: &Ctx) {
    let o = w.global::<OrganizerAdapter>();
    o.set_can_train(ctx.kiosk().can_switch_training());
    // The journal says whether a production till was left in training.
    ctx.background(
        |k| k.is_training(),
        |w, _, on| match on {
            Ok(on) => show(w, on),
            Err(e) => tracing::warn!(error = %e, "cannot read whether training mode is on"),
        },
    );
    let c = ctx.clone();
    o.on_toggle_training(move || {
        let Some(w) = c.weak.upgrade() else { return };
        let on = !w.global::<OrganizerAdapter>().get_training();
        c.background(
            move |k| tokio::runtime::Handle::current().block_on(k.set_training(on)),
            move |w, _, r| {
                let o = w.global::<OrganizerAdapter>();
                let t = Text::of(w);
                match r {
                    // The kiosk's Training event shows the new mode.
                    Ok(_) => {
                        show(w, on);
                        o.set_message(t.training_switched(on).into());
                    }
                    Err(e) => o.set_message(t.error(&e).into()),
                }
            },
        );
    });
}

/// Shows the mode: the banner on every page, the button's words.
pub(super) fn show(w: &AppWindow, on: bool) {
    w.global::<StatusAdapter>().set_training(on);
    w.global::<OrganizerAdapter>().set_training(on);
}
