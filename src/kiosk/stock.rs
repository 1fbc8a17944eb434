//! Sold out and counts (issue 16, part 1): an organizer marks a product
//! sold out, or gives it a count ("40 pølser") that goes down with every paid
//! sale and back with a full return, with a low mark to warn at. Every
//! change by hand is journaled with the operator; a sale of a product that
//! is sold out, or of more than is left, is refused before it starts.
//! Training sales of a production till never touch the count.

use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Kiosk, KioskError, KioskEvent};
use crate::domain::SaleLine;
use crate::domain::journal::JournalKind;
use crate::store::{Reader, SaleRecord, Stock, Writer};

/// A change made by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockChange {
    SoldOut,
    /// Back on sale (the count, if any, stays).
    OnSale,
    /// Counted from now: `remaining` left, warn at `low_mark`.
    Count {
        remaining: u32,
        low_mark: Option<u32>,
    },
    /// Add (or with a negative number, take away) from the count.
    Add(i32),
    /// No longer counted.
    Uncounted,
}

impl Kiosk {
    /// Every counted or sold-out product.
    pub fn stock(&self) -> Result<Vec<Stock>, KioskError> {
        Ok(self.inner.store.read(|r| r.stock())?)
    }

    /// Applies a change by hand to a product of the till's price list;
    /// journaled. Returns the product's stock after it.
    pub fn set_stock(&self, product_id: &str, change: StockChange) -> Result<Stock, KioskError> {
        self.change_stock(product_id, change, false)
    }

    /// Whether the volunteer at the till now is a kioskansvarlig
    /// (`[[operators]] stock = true`), who may mark products from the sale
    /// page without the organizer PIN.
    pub fn may_mark_stock(&self) -> Result<bool, KioskError> {
        let id = self.inner.store.read(|r| r.current_operator())?;
        Ok(id.is_some_and(|id| {
            self.inner
                .settings
                .operators
                .iter()
                .any(|a| a.operator.id == id && a.marks_stock)
        }))
    }

    /// The sale page's two taps (issue 16, part 1): "Utsolgt", then the
    /// product. A product on sale is marked sold out; one sold out (or
    /// counted to zero) is back on sale. Only a kioskansvarlig logged in
    /// now may; journaled with them like any change by hand.
    pub fn toggle_sold_out(&self, product_id: &str) -> Result<Stock, KioskError> {
        if !self.may_mark_stock()? {
            return Err(KioskError::Rejected(
                "only a kioskansvarlig may mark products sold out from the sale page: \
                 log in as one (stock = true in their [[operators]] entry), or use \
                 the organizer's Varer tab"
                    .into(),
            ));
        }
        let now = self.inner.store.read(|r| r.stock_of(product_id))?;
        let change = if now.available() {
            StockChange::SoldOut
        } else {
            StockChange::OnSale
        };
        self.set_stock(product_id, change)
    }

    /// Follows the club's hub: its sold-out mark of `product_id`, made at
    /// `marked_at`, is taken when it is newer than this till's own last
    /// mark of the product by hand (a mark the volunteer here made later
    /// stays). Journaled as `from_hub`, so the hub does not take it back as
    /// a till's own mark. Returns whether the till's stock changed.
    pub fn follow_hub_mark(
        &self,
        product_id: &str,
        sold_out: bool,
        marked_at: OffsetDateTime,
    ) -> Result<bool, KioskError> {
        if self.catalog().get(product_id).is_none() {
            return Ok(false);
        }
        let (now, own) = self.inner.store.read(|r| {
            Ok((
                r.stock_of(product_id)?.sold_out,
                r.last_stock_mark(product_id)?,
            ))
        })?;
        let own_is_newer = own
            .and_then(|t| OffsetDateTime::parse(&t, &Rfc3339).ok())
            .is_some_and(|own| own >= marked_at);
        if now == sold_out || own_is_newer {
            return Ok(false);
        }
        let change = if sold_out {
            StockChange::SoldOut
        } else {
            StockChange::OnSale
        };
        self.change_stock(product_id, change, true)?;
        Ok(true)
    }

    fn change_stock(
        &self,
        product_id: &str,
        change: StockChange,
        from_hub: bool,
    ) -> Result<Stock, KioskError> {
        let now = self.inner.clock.now();
        let stock = self.inner.store.write(|w| {
            let known = w.reader().known_prices()?;
            let Some(product) = known.iter().find(|p| p.product_id == product_id) else {
                let ids: Vec<&str> = known.iter().map(|p| p.product_id.as_str()).collect();
                return Ok(Err(KioskError::Rejected(format!(
                    "no product '{product_id}' on this till's price list: the products are {}",
                    ids.join(", ")
                ))));
            };
            let mut s = w.reader().stock_of(product_id)?;
            match change {
                StockChange::SoldOut => s.sold_out = true,
                StockChange::OnSale => {
                    s.sold_out = false;
                    // Counted to zero and put back on sale: no longer counted.
                    if s.remaining == Some(0) {
                        s.remaining = None;
                    }
                }
                StockChange::Count {
                    remaining,
                    low_mark,
                } => {
                    s.remaining = Some(i64::from(remaining));
                    s.low_mark = low_mark.map(i64::from);
                    s.sold_out = false;
                }
                StockChange::Add(n) => {
                    s.remaining = Some((s.remaining.unwrap_or(0) + i64::from(n)).max(0));
                }
                StockChange::Uncounted => {
                    s.remaining = None;
                    s.low_mark = None;
                }
            }
            w.set_stock(&s)?;
            let mut data = json!({
                "product": product_id,
                "name": product.name,
                "sold_out": s.sold_out,
                "remaining": s.remaining,
                "low_mark": s.low_mark,
            });
            if from_hub {
                data["from_hub"] = json!(true);
            }
            w.journal_action(JournalKind::StockChanged, None, data, now)?;
            Ok(Ok(s))
        })??;
        self.emit(KioskEvent::Stock {
            product_id: product_id.to_string(),
        });
        Ok(stock)
    }

    /// Refuses a cart that holds a product sold out, or more of a counted
    /// product than is left. Training sales of a production till are not
    /// held to the count (they never take from it).
    pub(super) fn check_stock(&self, r: &Reader<'_>, lines: &[SaleLine]) -> Result<(), KioskError> {
        if self.practice_only(self.training_now(r)?) {
            return Ok(());
        }
        let mut wanted: Vec<(&str, &str, i64)> = Vec::new();
        for l in lines {
            let Some(id) = l.product_id.as_deref() else {
                continue;
            };
            match wanted.iter_mut().find(|w| w.0 == id) {
                Some(w) => w.2 += i64::from(l.quantity),
                None => wanted.push((id, l.name.as_str(), i64::from(l.quantity))),
            }
        }
        // What sales still open (a customer looking at the QR) will take
        // when they are paid: without it, two Vipps sales started for the
        // last pølse would both be paid.
        let mut held: Vec<(String, i64)> = Vec::new();
        if !wanted.is_empty() {
            for sale in r.open_sales()? {
                if self.practice_only(sale.training) {
                    continue;
                }
                for l in r.sale_lines(sale.id)? {
                    let Some(id) = l.product_id else { continue };
                    match held.iter_mut().find(|h| h.0 == id) {
                        Some(h) => h.1 += i64::from(l.quantity),
                        None => held.push((id, i64::from(l.quantity))),
                    }
                }
            }
        }
        for (id, name, n) in wanted {
            let s = r.stock_of(id)?;
            if s.sold_out || s.remaining == Some(0) {
                return Err(KioskError::SoldOut(name.to_string()));
            }
            let held = held.iter().find(|h| h.0 == id).map_or(0, |h| h.1);
            if let Some(left) = s.remaining.map(|left| (left - held).max(0))
                && n > left
            {
                return Err(KioskError::NotEnoughLeft {
                    name: name.to_string(),
                    left,
                });
            }
        }
        Ok(())
    }
}

/// A sale just paid (in `w`'s transaction) takes its products from the
/// count; a training sale of a production till does not. Returns the
/// products touched.
pub(crate) fn take(
    w: &mut Writer<'_>,
    sale: &SaleRecord,
    demo: bool,
) -> crate::store::Result<Vec<String>> {
    if sale.training && !demo {
        return Ok(Vec::new());
    }
    let lines = w.reader().sale_lines(sale.id)?;
    w.count_stock(&lines, 1)
}

/// A return (in `w`'s transaction) that makes the sale fully returned puts
/// its products back in the count; a partial return names no products.
pub(crate) fn put_back_if_returned(
    w: &mut Writer<'_>,
    sale: &SaleRecord,
    demo: bool,
) -> crate::store::Result<Vec<String>> {
    if sale.training && !demo {
        return Ok(Vec::new());
    }
    let returned: i64 = w
        .reader()
        .refunds(sale.id)?
        .iter()
        .filter(|x| x.status == "done")
        .map(|x| x.amount)
        .sum();
    if returned < sale.total.minor() {
        return Ok(Vec::new());
    }
    let lines = w.reader().sale_lines(sale.id)?;
    w.count_stock(&lines, -1)
}
