//! The price list the till sells from, and the software it runs: each
//! change is journaled when the till starts selling with it
//! (kassasystemforskriften § 2-7-1; SAF-T 13021 "price change" with the old
//! and the new price, 13007 "update of POS application" with both versions).

use serde_json::{Value, json};

use super::{Kiosk, KioskError};
use crate::domain::Catalog;
use crate::domain::journal::JournalKind;
use crate::store::{KnownPrice, Writer};

/// This build's version, journaled at every start.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

impl Kiosk {
    /// Starts selling from `catalog`: journals each product added, changed
    /// (name, price or VAT code) or removed since the price list the till
    /// last sold from, and remembers this one. A till's very first price list
    /// is its starting point, not a change. Returns how many changes were
    /// journaled. Call it between sales (at start-up; a hub's catalogue later).
    pub fn apply_catalog(&self, catalog: &Catalog) -> Result<usize, KioskError> {
        self.apply(catalog, None, None)
    }

    /// [`Kiosk::apply_catalog`] for the club hub's catalogue as this till's
    /// event menu `menu` gives it (`None`: the whole catalogue). A switch to
    /// another menu than the one this till last journaled is journaled
    /// (`catalogue.menu`) in the same transaction, before the products it
    /// adds or takes away; a till that never had a menu and gets none
    /// journals nothing. The menu's sales unit (`unit`, by name; `None`:
    /// the till's own) is the one new sales are made under from now on
    /// (`units.rs`); a unit this till has no keys for cannot be the
    /// catalogue's unit: the till sells under its own and logs why.
    /// Returns the entries journaled.
    pub fn apply_hub_catalog(
        &self,
        catalog: &Catalog,
        menu: Option<&str>,
        unit: Option<&str>,
    ) -> Result<usize, KioskError> {
        self.apply(catalog, Some(menu), unit)
    }

    /// `menu`: `None` when the catalogue says nothing of menus (luka.toml).
    fn apply(
        &self,
        catalog: &Catalog,
        menu: Option<Option<&str>>,
        unit: Option<&str>,
    ) -> Result<usize, KioskError> {
        // A menu naming a unit this till has no keys for must not stop the
        // till: it sells the menu under its own unit (each sale keeps the
        // unit it was made under, so the books stay right) and says so.
        let unit = self.find_sales_unit(unit).unwrap_or_else(|e| {
            tracing::error!(
                "the club's menu for this till: {e}; selling under this till's own unit"
            );
            self.inner.settings.sales_unit.clone()
        });
        let now = self.inner.clock.now();
        let new: Vec<KnownPrice> = catalog
            .products()
            .iter()
            .map(|p| KnownPrice {
                product_id: p.id.clone(),
                name: p.name.clone(),
                price_minor: p.price.minor(),
                currency: p.price.currency().code().to_string(),
                vat_code: p.vat.code(),
            })
            .collect();
        let training = self.inner.settings.training;
        let journaled = self.inner.store.write(|w| {
            let mut switched = 0;
            if let Some(menu) = menu {
                let last = w.reader().last_journal_of(JournalKind::CatalogueMenu)?;
                let was = last.as_ref().and_then(|e| e.data["menu"].as_str());
                if menu_switched(last.is_some(), was, menu) {
                    let mut data = json!({ "menu": menu, "was": was });
                    if training {
                        data["training"] = json!(true);
                    }
                    w.journal(JournalKind::CatalogueMenu, None, data, now)?;
                    switched = 1;
                }
            }
            if super::units::journal_unit(w, &unit, training, now)? {
                switched += 1;
            }
            let old = w.reader().known_prices()?;
            let changes = if old.is_empty() {
                Vec::new()
            } else {
                price_changes(&old, &new)
            };
            for mut data in changes.iter().cloned() {
                if training {
                    data["training"] = json!(true);
                }
                w.journal(JournalKind::PriceChanged, None, data, now)?;
            }
            if old != new {
                w.set_known_prices(&new)?;
            }
            Ok(switched + changes.len())
        })?;
        self.set_unit(unit);
        let was = {
            let mut current = self
                .inner
                .catalog
                .write()
                .unwrap_or_else(|e| e.into_inner());
            std::mem::replace(&mut *current, catalog.clone())
        };
        if was != *catalog && !was.products().is_empty() {
            let _ = self
                .inner
                .events
                .send(super::KioskEvent::Catalog { changes: journaled });
        }
        Ok(journaled)
    }

    /// The price list the till sells from now (the last one applied).
    /// When this till's prices last changed (the newest `price.changed`
    /// entry: a new catalogue from the hub, or a changed `luka.toml` at
    /// start), for the sale page's "Priser per hh:mm". `None`: never.
    pub fn prices_since(&self) -> Result<Option<time::OffsetDateTime>, KioskError> {
        Ok(self
            .inner
            .store
            .read(|r| r.last_journal_of(JournalKind::PriceChanged))?
            .map(|e| e.at))
    }

    pub fn catalog(&self) -> Catalog {
        self.inner
            .catalog
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Whether no sale is open (started, not yet paid or closed) and no
    /// payment is tracked: the moment a new price list may be applied
    /// ("between sales"). A database that cannot be read says no.
    pub fn between_sales(&self) -> bool {
        let tracked = !self
            .inner
            .tracked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty();
        !tracked
            && self
                .inner
                .store
                .read(|r| r.open_sales())
                .is_ok_and(|open| open.is_empty())
    }
}

/// Journals an update (13007) when this build's version differs from the
/// one the last start journaled; called in the start-up transaction, before
/// this start's own entry.
pub(super) fn journal_version_change(
    w: &mut Writer<'_>,
    now: time::OffsetDateTime,
) -> crate::store::Result<()> {
    let Some(last) = w.reader().last_journal_of(JournalKind::AppStart)? else {
        return Ok(()); // a new till: nothing was updated
    };
    let before = last.data["version"].as_str();
    if before != Some(VERSION) {
        // A start without a version was made by a Luka older than 0.1.0's
        // journaled versions: the software changed, from what is unknown.
        w.journal(
            JournalKind::AppUpdated,
            None,
            json!({ "from": before, "to": VERSION }),
            now,
        )?;
    }
    Ok(())
}

/// Whether selling from `menu` is a switch: another menu than the last one
/// journaled (`journaled`: there was one; `was`: its name, `None` the whole
/// catalogue). Never having had a menu is the whole catalogue.
fn menu_switched(journaled: bool, was: Option<&str>, menu: Option<&str>) -> bool {
    if journaled {
        was != menu
    } else {
        menu.is_some()
    }
}

fn price_json(p: &KnownPrice) -> Value {
    json!({ "name": p.name, "price": p.price_minor, "currency": p.currency, "vat_code": p.vat_code })
}

/// One journal entry's data per product added, changed or removed, in
/// product-id order: `{"product", "old": {…} | null, "new": {…} | null}`.
fn price_changes(old: &[KnownPrice], new: &[KnownPrice]) -> Vec<Value> {
    let mut ids: Vec<&str> = old
        .iter()
        .chain(new)
        .map(|p| p.product_id.as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter()
        .filter_map(|id| {
            let was = old.iter().find(|p| p.product_id == id);
            let is = new.iter().find(|p| p.product_id == id);
            (was != is).then(|| {
                json!({
                    "product": id,
                    "old": was.map(price_json),
                    "new": is.map(price_json),
                })
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(id: &str, price: i64, vat: u16) -> KnownPrice {
        KnownPrice {
            product_id: id.into(),
            name: id.to_uppercase(),
            price_minor: price,
            currency: "NOK".into(),
            vat_code: vat,
        }
    }

    #[test]
    fn a_menu_is_a_switch_when_it_differs_from_the_last_one_journaled() {
        assert!(!menu_switched(false, None, None), "never a menu: nothing");
        assert!(menu_switched(false, None, Some("Kamp")), "the first menu");
        assert!(!menu_switched(true, Some("Kamp"), Some("Kamp")));
        assert!(menu_switched(true, Some("Kamp"), Some("Cup lørdag")));
        assert!(
            menu_switched(true, Some("Kamp"), None),
            "back to everything"
        );
        assert!(!menu_switched(true, None, None));
        assert!(menu_switched(true, None, Some("Kamp")));
    }

    #[test]
    fn each_product_added_changed_or_removed_is_one_change_with_old_and_new() {
        let old = [
            p("brus", 3_500, 31),
            p("kaffe", 3_000, 31),
            p("skjerf", 25_000, 3),
        ];
        let new = [
            p("kaffe", 3_500, 31),
            p("brus", 3_500, 31),
            p("te", 2_500, 31),
        ];
        let c = price_changes(&old, &new);
        let ids: Vec<&str> = c.iter().map(|v| v["product"].as_str().unwrap()).collect();
        assert_eq!(ids, ["kaffe", "skjerf", "te"], "brus did not change");
        assert_eq!(
            (c[0]["old"]["price"].as_i64(), c[0]["new"]["price"].as_i64()),
            (Some(3_000), Some(3_500))
        );
        assert!(c[1]["new"].is_null(), "skjerf was removed");
        assert!(c[2]["old"].is_null(), "te is new");
        let vat = price_changes(&[p("kaffe", 3_000, 31)], &[p("kaffe", 3_000, 3)]);
        assert_eq!(vat.len(), 1, "a VAT code change is a change");
        assert!(price_changes(&new, &new).is_empty());
    }
}
