//! The organizer's "Varer" tab: each product of the price list with what is
//! left of it, and one tap to mark it sold out (or back), add to its count,
//! or stop counting it (`kiosk/stock.rs` journals each change). The sale
//! page's tiles follow through the kiosk's Stock event.

use slint::{ComponentHandle, ModelRc, VecModel};

use super::text::Text;
use super::{AppWindow, Ctx, OrganizerAdapter, StockRow};
use crate::kiosk::StockChange;
use crate::store::Stock;

pub(super) fn setup(w: &AppWindow, ctx: &Ctx) {
    let c = ctx.clone();
    w.global::<OrganizerAdapter>()
        .on_change_stock(move |id, action| {
            let change = match action.as_str() {
                "sold-out" => StockChange::SoldOut,
                "on-sale" => StockChange::OnSale,
                "add-10" => StockChange::Add(10),
                "add-1" => StockChange::Add(1),
                "take-1" => StockChange::Add(-1),
                "uncounted" => StockChange::Uncounted,
                other => return tracing::error!(action = other, "unknown stock action"),
            };
            let id = id.to_string();
            c.background(
                move |k| k.set_stock(&id, change),
                |w, c, r| match r {
                    Ok(_) => refresh(c),
                    Err(e) => w
                        .global::<OrganizerAdapter>()
                        .set_message(Text::of(w).error(&e).into()),
                },
            );
        });
}

/// Reads the stock in the background and shows the tab's rows.
pub(super) fn refresh(ctx: &Ctx) {
    ctx.background(
        |k| k.stock(),
        |w, c, stock| match stock {
            Ok(stock) => show(w, c, &stock),
            Err(e) => w
                .global::<OrganizerAdapter>()
                .set_message(Text::of(w).error(&e).into()),
        },
    );
}

fn show(w: &AppWindow, c: &Ctx, stock: &[Stock]) {
    let t = Text::of(w);
    let rows: Vec<StockRow> = c
        .services
        .kiosk
        .catalog()
        .products()
        .iter()
        .map(|p| {
            let s = stock
                .iter()
                .find(|s| s.product_id == p.id)
                .cloned()
                .unwrap_or_else(|| Stock::uncounted(&p.id));
            StockRow {
                id: p.id.as_str().into(),
                name: p.name.as_str().into(),
                status: t.stock_status(&s).into(),
                sold_out: !s.available(),
                counted: s.remaining.is_some(),
            }
        })
        .collect();
    w.global::<OrganizerAdapter>()
        .set_stock(ModelRc::new(VecModel::from(rows)));
}
