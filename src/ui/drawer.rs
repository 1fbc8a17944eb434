//! "Åpne skuff" on the organizer screen: the drawer opened without a sale,
//! for a reason picked with the second tap (kassasystemforskriften
//! § 2-8-2 m). The kiosk journals the opening once the drawer was told to
//! open; a printer that cannot open it is said, and nothing is journaled.

use slint::{ComponentHandle, SharedString};

use super::text::Text;
use super::{AppWindow, Ctx, DrawerAdapter, OrganizerAdapter};

/// The reasons as journaled (bokmål, whatever the screen's language), in
/// the order of the dialog's buttons (`ui/pages/organizer-dialogs.slint`).
pub const DRAWER_REASONS_NB: [&str; 4] = [
    "Veksel inn eller ut",
    "Telle kassen",
    "Rette feil vekslepenger",
    "Annet",
];

pub(super) fn setup(w: &AppWindow, ctx: &Ctx) {
    let c = ctx.clone();
    w.global::<OrganizerAdapter>().on_open_drawer(move || {
        let Some(w) = c.weak.upgrade() else { return };
        let a = w.global::<DrawerAdapter>();
        a.set_message(SharedString::new());
        a.set_busy(false);
        a.set_open(true);
    });
    let a = w.global::<DrawerAdapter>();
    let c = ctx.clone();
    a.on_cancel(move || {
        let Some(w) = c.weak.upgrade() else { return };
        w.global::<DrawerAdapter>().set_open(false);
    });
    let c = ctx.clone();
    a.on_choose(move |i| {
        let Some(w) = c.weak.upgrade() else { return };
        let reason = DRAWER_REASONS_NB[(i.max(0) as usize).min(DRAWER_REASONS_NB.len() - 1)];
        w.global::<DrawerAdapter>().set_busy(true);
        c.background(
            // The printer answers on the blocking pool; this thread may wait.
            move |k| tokio::runtime::Handle::current().block_on(k.open_drawer(reason)),
            |w, _, r| {
                let a = w.global::<DrawerAdapter>();
                a.set_busy(false);
                let t = Text::of(w);
                match r {
                    Ok(_) => {
                        a.set_open(false);
                        w.global::<OrganizerAdapter>()
                            .set_message(t.drawer_opened().into());
                    }
                    Err(e) => a.set_message(t.error(&e).into()),
                }
            },
        );
    });
}
