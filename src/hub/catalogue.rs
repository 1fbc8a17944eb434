//! The club's catalogue on the hub: products with their group (a record,
//! `groups.rs`), price (øre), SAF-T VAT code, place in the group and an
//! archived flag, and the one version every change raises. The tills fetch
//! it as a [`Snapshot`] (`GET /api/catalogue`, `If-None-Match`): the
//! products of the till's menu (`menus.rs`), or all, in the groups' order;
//! the till's side is in `till_catalogue.rs`.
//!
//! Every change is checked before it touches the database (a price above
//! zero, a VAT code the till knows, a name, an id not taken) and is made in
//! one transaction with the version bump, so a refused change changes
//! nothing and a till never sees half a change.

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;

use super::groups::group_for;
use super::{Hub, HubError};
use crate::domain::{Catalog, Currency, Money, Product, VatCode};

/// A product as the back office shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HubProduct {
    pub id: String,
    pub name: String,
    /// The group's name; empty: no group.
    pub group: String,
    /// The group is archived: the product is off the tills with it.
    pub group_archived: bool,
    pub price: i64,
    pub vat_code: u16,
    pub position: i32,
    pub archived: bool,
    pub sold_out: bool,
}

/// One product in the snapshot a till fetches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotProduct {
    pub id: String,
    pub name: String,
    pub group: String,
    /// VAT-inclusive unit price in øre.
    pub price: i64,
    pub vat_code: u16,
    /// Sold out for the whole club (a catalogue kept before this field
    /// existed reads as on sale), and when that mark was last set or
    /// taken off (RFC 3339; `None`: never marked).
    #[serde(default)]
    pub sold_out: bool,
    #[serde(default)]
    pub sold_out_at: Option<String>,
}

/// The catalogue at one version as one till sells it: the products on
/// sale (neither they nor their group archived) of the till's menu, or all
/// of them, in the treasurer's order (groups in their order, products in
/// theirs; those without a group last).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub version: i64,
    pub products: Vec<SnapshotProduct>,
    /// The event menu the till sells from, by name; `None`: the whole
    /// catalogue (also what a catalogue kept before menus existed reads as).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub menu: Option<String>,
    /// The Vipps sales unit the menu sells under, by the name the tills'
    /// `luka.toml` gives it (issue 16, part 4); `None`: each till's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sales_unit: Option<String>,
}

impl Snapshot {
    /// The `ETag` of this version (a quoted string, as HTTP wants it).
    pub fn etag(&self) -> String {
        etag(self.version)
    }

    /// The price list a till sells from; refused (with why) when a product
    /// would not be valid on the till.
    pub fn to_catalog(&self) -> Result<Catalog, String> {
        let products = self
            .products
            .iter()
            .map(|p| {
                let vat =
                    VatCode::try_from(p.vat_code).map_err(|e| format!("product {}: {e}", p.id))?;
                Ok(Product {
                    id: p.id.clone(),
                    name: p.name.clone(),
                    group: p.group.clone(),
                    price: Money::new(p.price, Currency::NOK),
                    vat,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Catalog::new(products).map_err(|e| e.to_string())
    }
}

pub fn etag(version: i64) -> String {
    format!("\"catalogue-{version}\"")
}

/// What the treasurer typed for a product (all text, as a form sends it).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProductInput {
    pub name: String,
    #[serde(default)]
    pub group: String,
    /// Kroner as typed: `35`, `35,50`.
    pub price: String,
    pub vat_code: String,
    #[serde(default)]
    pub position: String,
}

/// A checked product change.
pub(super) struct Checked {
    pub(super) name: String,
    pub(super) group: String,
    pub(super) price: i64,
    pub(super) vat: i16,
    /// `None`: keep the product's place (a new one goes last in its group).
    pub(super) position: Option<i32>,
}

const MAX_TEXT: usize = 80;

pub(super) fn check_text(what: &str, text: &str, required: bool) -> Result<String, HubError> {
    let t = text.trim();
    if required && t.is_empty() {
        return Err(HubError::refused(
            400,
            format!("{what} kan ikke være tomt."),
        ));
    }
    if t.chars().count() > MAX_TEXT {
        return Err(HubError::refused(
            400,
            format!("{what} kan ha høyst {MAX_TEXT} tegn."),
        ));
    }
    if t.chars().any(char::is_control) {
        return Err(HubError::refused(
            400,
            format!("{what} kan ikke ha kontrolltegn."),
        ));
    }
    Ok(t.to_string())
}

/// Checks a product id: 1 to 40 of a–z, 0–9, `-` and `_` (it is the
/// article id on receipts, in reports and in SAF-T, and `luka charge
/// --product ID` takes it).
pub fn check_id(id: &str) -> Result<String, HubError> {
    let id = id.trim();
    if id.is_empty()
        || id.len() > 40
        || !id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        return Err(HubError::refused(
            400,
            "Varenummeret må være 1 til 40 tegn: små bokstaver a–z, sifre, - og _.",
        ));
    }
    Ok(id.to_string())
}

/// Reads a VAT code the till knows (3, 31, 32, 33, 5, 6).
pub fn check_vat(text: &str) -> Result<VatCode, HubError> {
    text.trim()
        .parse::<u16>()
        .ok()
        .and_then(VatCode::from_code)
        .ok_or_else(|| {
            HubError::refused(
                400,
                format!(
                    "Ukjent mva-kode «{}»: bruk 3 (25 %), 31 (15 %), 32 (11,11 %), 33 (12 %), \
                     5 (fritatt) eller 6 (utenfor mva-loven).",
                    text.trim()
                ),
            )
        })
}

/// Reads a price in kroner; it must be above zero.
pub fn check_price(text: &str) -> Result<i64, HubError> {
    let refused = || {
        HubError::refused(
            400,
            format!(
                "Prisen «{}» er ikke gyldig: skriv en pris over 0 kr, f.eks. 35 eller 35,50.",
                text.trim()
            ),
        )
    };
    let money = Money::parse(text, Currency::NOK).map_err(|_| refused())?;
    if money.minor() <= 0 {
        return Err(refused());
    }
    Ok(money.minor())
}

pub(super) fn check(input: &ProductInput) -> Result<Checked, HubError> {
    let name = check_text("Navnet", &input.name, true)?;
    let group = check_text("Gruppen", &input.group, false)?;
    let price = check_price(&input.price)?;
    let vat = check_vat(&input.vat_code)?.code() as i16;
    let position = match input.position.trim() {
        "" => None,
        p => Some(
            p.parse::<i32>()
                .ok()
                .filter(|p| (0..=100_000).contains(p))
                .ok_or_else(|| {
                    HubError::refused(400, "Plasseringen er et heltall fra 0 til 100000.")
                })?,
        ),
    };
    Ok(Checked {
        name,
        group,
        price,
        vat,
        position,
    })
}

/// After an `UPDATE` of product `id` that changed `changed` rows: a change
/// raises the version and commits; no change leaves the version as it is;
/// no such product (or, `on_sale`, none not archived) is refused with 404.
async fn settle(
    tx: deadpool_postgres::Transaction<'_>,
    id: &str,
    changed: u64,
    on_sale: bool,
) -> Result<i64, HubError> {
    if changed > 0 {
        let version: i64 = tx.query_one(BUMP, &[]).await?.get(0);
        tx.commit().await?;
        return Ok(version);
    }
    let exists = tx
        .query_opt(
            "SELECT 1 FROM products WHERE id = $1 AND (NOT $2 OR NOT archived)",
            &[&id, &on_sale],
        )
        .await?
        .is_some();
    if !exists {
        let missing = if on_sale {
            format!("Ingen vare «{id}» i salg.")
        } else {
            format!("Ingen vare «{id}».")
        };
        return Err(HubError::refused(404, missing));
    }
    Ok(tx
        .query_one("SELECT version FROM catalogue_version", &[])
        .await?
        .get(0))
}

/// A product's name, group, price, VAT code and (when given) place; a
/// product that changes group without a place given goes last in the new
/// one. No row changed: nothing differed.
const UPDATE: &str = "UPDATE products SET name = $2, group_id = $3, price_ore = $4, \
     vat_code = $5, position = COALESCE($6, CASE WHEN group_id IS NOT DISTINCT FROM $3 \
     THEN position ELSE (SELECT COALESCE(max(position), 0) + 1 FROM products \
     WHERE group_id IS NOT DISTINCT FROM $3) END), updated_at = now() \
     WHERE id = $1 AND (name, group_id, price_ore, vat_code, position) \
     IS DISTINCT FROM ($2, $3, $4, $5, COALESCE($6, position))";

pub(super) const BUMP: &str = "UPDATE catalogue_version SET version = version + 1, changed_at = now() \
                    RETURNING version";

impl Hub {
    /// Every product, archived ones too, with the current version.
    pub async fn products(&self) -> Result<(i64, Vec<HubProduct>), HubError> {
        let client = self.client().await?;
        let version: i64 = client
            .query_one("SELECT version FROM catalogue_version", &[])
            .await?
            .get(0);
        let products = client
            .query(
                "SELECT p.id, p.name, COALESCE(g.name, ''), p.price_ore, p.vat_code, p.position, \
                 p.archived, p.sold_out, COALESCE(g.archived, false) \
                 FROM products p LEFT JOIN groups g ON g.id = p.group_id \
                 ORDER BY COALESCE(g.archived, false), g.position NULLS LAST, g.id, \
                 p.archived, p.position, p.id",
                &[],
            )
            .await?
            .iter()
            .map(|r| HubProduct {
                id: r.get(0),
                name: r.get(1),
                group: r.get(2),
                group_archived: r.get(8),
                price: r.get(3),
                vat_code: r.get::<_, i16>(4) as u16,
                position: r.get(5),
                archived: r.get(6),
                sold_out: r.get(7),
            })
            .collect();
        Ok((version, products))
    }

    /// The whole catalogue on sale, read in one snapshot.
    pub async fn snapshot(&self) -> Result<Snapshot, HubError> {
        self.snapshot_for(None).await
    }

    /// The catalogue as `till` sells it (its menu's products, or all when
    /// it has no menu; `None`: all), read in one snapshot.
    pub async fn snapshot_for(&self, till: Option<&str>) -> Result<Snapshot, HubError> {
        let mut client = self.client().await?;
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let version: i64 = tx
            .query_one("SELECT version FROM catalogue_version", &[])
            .await?
            .get(0);
        let menu = match till {
            Some(till) => tx
                .query_opt(
                    "SELECT m.id, m.name, m.sales_unit FROM tills t \
                     JOIN menus m ON m.id = t.menu_id WHERE t.id = $1",
                    &[&till],
                )
                .await?
                .map(|r| {
                    (
                        r.get::<_, i64>(0),
                        r.get::<_, String>(1),
                        r.get::<_, Option<String>>(2),
                    )
                }),
            None => None,
        };
        let menu_id = menu.as_ref().map(|m| m.0);
        let products = tx
            .query(
                "SELECT p.id, p.name, COALESCE(g.name, ''), p.price_ore, p.vat_code, p.sold_out, \
                 p.sold_out_at FROM products p LEFT JOIN groups g ON g.id = p.group_id \
                 WHERE NOT p.archived AND NOT COALESCE(g.archived, false) \
                 AND ($1::BIGINT IS NULL OR p.id IN \
                      (SELECT product_id FROM menu_products WHERE menu_id = $1)) \
                 ORDER BY g.position NULLS LAST, g.id, p.position, p.id",
                &[&menu_id],
            )
            .await?
            .iter()
            .map(|r| SnapshotProduct {
                id: r.get(0),
                name: r.get(1),
                group: r.get(2),
                price: r.get(3),
                vat_code: r.get::<_, i16>(4) as u16,
                sold_out: r.get(5),
                sold_out_at: r
                    .get::<_, Option<time::OffsetDateTime>>(6)
                    .and_then(|t| t.format(&Rfc3339).ok()),
            })
            .collect();
        tx.commit().await?;
        Ok(Snapshot {
            version,
            products,
            sales_unit: menu.as_ref().and_then(|m| m.2.clone()),
            menu: menu.map(|m| m.1),
        })
    }

    /// Notes that a till asked for the catalogue (its "last seen").
    pub async fn seen(&self, till: &str) -> Result<(), HubError> {
        let client = self.client().await?;
        client
            .execute("UPDATE tills SET last_seen = now() WHERE id = $1", &[&till])
            .await?;
        Ok(())
    }

    /// The current version alone (for `If-None-Match`).
    pub async fn catalogue_version(&self) -> Result<i64, HubError> {
        let client = self.client().await?;
        Ok(client
            .query_one("SELECT version FROM catalogue_version", &[])
            .await?
            .get(0))
    }

    /// Adds a product; returns the new version. A taken id is refused.
    pub async fn add_product(&self, id: &str, input: &ProductInput) -> Result<i64, HubError> {
        let id = check_id(id)?;
        let c = check(input)?;
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let group = group_for(&tx, &c.group, &id).await?;
        let inserted = tx
            .execute(
                "INSERT INTO products (id, name, group_id, price_ore, vat_code, position) \
                 VALUES ($1, $2, $3, $4, $5, COALESCE($6, (SELECT COALESCE(max(position), 0) + 1 \
                 FROM products WHERE group_id IS NOT DISTINCT FROM $3))) \
                 ON CONFLICT (id) DO NOTHING",
                &[&id, &c.name, &group, &c.price, &c.vat, &c.position],
            )
            .await?;
        if inserted == 0 {
            return Err(HubError::refused(
                409,
                format!("Varenummeret «{id}» er allerede i bruk: velg et annet."),
            ));
        }
        let version: i64 = tx.query_one(BUMP, &[]).await?.get(0);
        tx.commit().await?;
        tracing::info!(product = %id, version, "product added to the catalogue");
        Ok(version)
    }

    /// Changes a product's name, group, price, VAT code and position;
    /// returns the version (unchanged when nothing changed).
    pub async fn update_product(&self, id: &str, input: &ProductInput) -> Result<i64, HubError> {
        let c = check(input)?;
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let group = group_for(&tx, &c.group, id).await?;
        let changed = tx
            .execute(
                UPDATE,
                &[&id, &c.name, &group, &c.price, &c.vat, &c.position],
            )
            .await?;
        let version = settle(tx, id, changed, false).await?;
        tracing::info!(product = %id, version, "product changed in the catalogue");
        Ok(version)
    }

    /// Archives a product (the tills stop selling it) or brings it back.
    pub async fn set_archived(&self, id: &str, archived: bool) -> Result<i64, HubError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let changed = tx
            .execute(
                "UPDATE products SET archived = $2, updated_at = now() \
                 WHERE id = $1 AND archived <> $2",
                &[&id, &archived],
            )
            .await?;
        let version = settle(tx, id, changed, false).await?;
        tracing::info!(product = %id, archived, version, "product archived or restored");
        Ok(version)
    }
}

impl Hub {
    /// Marks a product sold out for every till, or back on sale (a
    /// treasurer or a kioskansvarlig on the "Utsolgt" page). Returns the
    /// version, raised when the mark changed.
    pub async fn set_sold_out(&self, id: &str, sold_out: bool) -> Result<i64, HubError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let changed = tx
            .execute(
                "UPDATE products SET sold_out = $2, sold_out_at = now(), updated_at = now() \
                 WHERE id = $1 AND NOT archived AND sold_out <> $2",
                &[&id, &sold_out],
            )
            .await?;
        let version = settle(tx, id, changed, true).await?;
        tracing::info!(product = %id, sold_out, version, "sold-out mark changed on the hub");
        Ok(version)
    }
}

/// A till's `stock.changed` entry (in the transaction that stores it):
/// its sold-out mark becomes the club's, so the other tills get it with
/// the next catalogue, unless a newer mark (on the hub or from another
/// till) is there already. A till following the hub's own mark
/// (`from_hub`) changes nothing here. Counts stay each till's own.
pub(super) async fn sold_out_from_till(
    tx: &deadpool_postgres::Transaction<'_>,
    row: &crate::journal::ChainRow,
) -> Result<(), HubError> {
    #[derive(Deserialize)]
    struct Change {
        product: String,
        sold_out: bool,
        #[serde(default)]
        from_hub: bool,
    }
    let Ok(change) = serde_json::from_str::<Change>(&row.data) else {
        return Ok(());
    };
    let Ok(at) = time::OffsetDateTime::parse(&row.at, &Rfc3339) else {
        return Ok(());
    };
    if change.from_hub {
        return Ok(());
    }
    let changed = tx
        .execute(
            "UPDATE products SET sold_out = $2, sold_out_at = $3, updated_at = now() \
             WHERE id = $1 AND NOT archived AND sold_out <> $2 \
             AND (sold_out_at IS NULL OR sold_out_at < $3)",
            &[&change.product, &change.sold_out, &at],
        )
        .await?;
    if changed > 0 {
        let version: i64 = tx.query_one(BUMP, &[]).await?.get(0);
        tracing::info!(product = %change.product, sold_out = change.sold_out, version,
            "a till's sold-out mark is now the club's");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_vat_codes_and_ids_are_checked_before_the_database() {
        assert_eq!(check_price("35").unwrap(), 3_500);
        assert_eq!(check_price("35,50").unwrap(), 3_550);
        for bad in ["0", "-5", "", "abc", "0,00"] {
            assert!(check_price(bad).is_err(), "{bad}");
        }
        for code in [3, 31, 32, 33, 5, 6] {
            assert_eq!(check_vat(&code.to_string()).unwrap().code(), code);
        }
        for bad in ["25", "0", "x", "", "15"] {
            assert!(check_vat(bad).is_err(), "{bad}");
        }
        assert!(check_id("kaffe-stor_2").is_ok());
        for bad in ["", "Kaffe", "a b", "x'; DROP TABLE products; --"] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
        let snap = Snapshot {
            version: 3,
            products: vec![SnapshotProduct {
                id: "kaffe".into(),
                name: "Kaffe".into(),
                group: "Kiosk".into(),
                price: 3_500,
                vat_code: 31,
                sold_out: false,
                sold_out_at: None,
            }],
            menu: None,
            sales_unit: None,
        };
        let c = snap.to_catalog().unwrap();
        assert_eq!(c.get("kaffe").unwrap().price.minor(), 3_500);
        assert_eq!(snap.etag(), "\"catalogue-3\"");
        let mut bad = snap.clone();
        bad.products[0].vat_code = 25;
        assert!(bad.to_catalog().is_err());
        bad.products[0].vat_code = 31;
        bad.products[0].price = 0;
        assert!(bad.to_catalog().is_err());
    }
}
