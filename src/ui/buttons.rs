//! Physical buttons (GPIO, see [`crate::hardware`]) do what the same words
//! on screen do: "new sale" leaves the result screen or empties the cart,
//! "cancel" cancels the sale waiting for approval or leaves the cash page.

use slint::ComponentHandle;

use super::{AppState, AppWindow, Ctx, Page, PayAdapter, ResultAdapter, SaleAdapter};
use crate::hardware::Button;

pub(super) fn pump(ctx: &Ctx, mut rx: tokio::sync::mpsc::Receiver<Button>) {
    let c = ctx.clone();
    ctx.rt.spawn(async move {
        while let Some(b) = rx.recv().await {
            let c2 = c.clone();
            if c.weak
                .upgrade_in_event_loop(move |w| press(&w, &c2, b))
                .is_err()
            {
                break;
            }
        }
    });
}

fn press(w: &AppWindow, _c: &Ctx, b: Button) {
    let page = w.global::<AppState>().get_page();
    tracing::info!(button = ?b, ?page, "button pressed");
    match (b, page) {
        (Button::NewSale, Page::Result) => w.global::<ResultAdapter>().invoke_done(),
        (Button::NewSale, Page::Sale) => w.global::<SaleAdapter>().invoke_clear(),
        (Button::Cancel, Page::Pay) if w.global::<PayAdapter>().get_can_cancel() => {
            w.global::<PayAdapter>().invoke_cancel()
        }
        (Button::Cancel, Page::Cash) => w.global::<super::CashAdapter>().invoke_back(),
        _ => {}
    }
}
