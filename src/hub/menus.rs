//! Event menus: a named set of products ("Kamp A-lag", "Cup lørdag") a
//! till shows instead of the whole catalogue, and which menu each till
//! sells from (none: everything on sale). The snapshot a till fetches holds
//! only its menu's products, in the catalogue's order (`catalogue.rs`).
//!
//! Every change is one transaction with one catalogue version bump (none
//! when nothing changed): the version is the club's one, so a till's
//! `If-None-Match` sees a switch of its menu as it sees a new price.
//! A menu a till sells from can be neither archived nor emptied: a till
//! given nothing to sell keeps selling what it has (`app/catalogue.rs`),
//! which is worse than being told no here.

use serde::Serialize;

use super::catalogue::{BUMP, check_text};
use super::{Hub, HubError};

/// A menu as the back office shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Menu {
    pub id: i64,
    pub name: String,
    pub archived: bool,
    /// Its products' ids (archived ones too: they come back with them).
    pub products: Vec<String>,
    /// The tills that sell from it.
    pub tills: Vec<String>,
    /// The Vipps sales unit it sells under, by the tills' name for it
    /// (issue 16, part 4); `None`: each till's own.
    pub sales_unit: Option<String>,
}

/// The longest unit name a menu takes (the column's check).
pub const MAX_UNIT: usize = 60;

/// A sales unit's name as the menu form sends it: empty is none.
fn unit_name(text: &str) -> Result<Option<String>, HubError> {
    let t = check_text("Salgsenheten", text, false)?;
    if t.chars().count() > MAX_UNIT {
        return Err(HubError::refused(
            400,
            format!(
                "Salgsenheten kan ha høyst {MAX_UNIT} tegn: bruk navnet fra kassens luka.toml."
            ),
        ));
    }
    Ok((!t.is_empty()).then_some(t))
}

/// Sets the sales unit of menu `id`; whether it changed.
async fn set_unit(
    tx: &deadpool_postgres::Transaction<'_>,
    id: i64,
    unit: Option<&str>,
) -> Result<bool, HubError> {
    let changed = tx
        .execute(
            "UPDATE menus SET sales_unit = $2 WHERE id = $1 AND sales_unit IS DISTINCT FROM $2",
            &[&id, &unit],
        )
        .await?;
    if changed > 0 {
        tracing::info!(menu = id, unit = ?unit, "menu's sales unit set");
    }
    Ok(changed > 0)
}

/// The most products one menu takes (the catalogue import's limit).
pub const MAX_PRODUCTS: usize = super::catalogue_csv::MAX_ROWS;

fn menu_name(name: &str) -> Result<String, HubError> {
    check_text("Menynavnet", name, true)
}

fn name_taken(name: &str) -> HubError {
    HubError::refused(
        409,
        format!(
            "Det finnes alt en meny som heter «{name}» (også arkiverte teller): velg et annet navn."
        ),
    )
}

fn no_menu(id: i64) -> HubError {
    HubError::refused(404, format!("Ingen meny med nummer {id}."))
}

/// Reads a menu number as a form sends it.
pub fn parse_id(text: &str) -> Result<i64, HubError> {
    text.trim()
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| HubError::refused(400, format!("Ukjent meny «{}».", text.trim())))
}

/// The products of menu `id` on sale (neither they nor their group archived).
async fn on_sale(tx: &deadpool_postgres::Transaction<'_>, id: i64) -> Result<i64, HubError> {
    Ok(tx
        .query_one(
            "SELECT count(*) FROM menu_products mp JOIN products p ON p.id = mp.product_id \
             LEFT JOIN groups g ON g.id = p.group_id \
             WHERE mp.menu_id = $1 AND NOT p.archived AND NOT COALESCE(g.archived, false)",
            &[&id],
        )
        .await?
        .get(0))
}

/// The menu `id` (locked for the change), or 404: (name, archived).
async fn locked(
    tx: &deadpool_postgres::Transaction<'_>,
    id: i64,
) -> Result<(String, bool), HubError> {
    tx.query_opt(
        "SELECT name, archived FROM menus WHERE id = $1 FOR UPDATE",
        &[&id],
    )
    .await?
    .map(|r| (r.get(0), r.get(1)))
    .ok_or_else(|| no_menu(id))
}

/// The tills that sell from menu `id`, by id.
async fn tills_of(
    tx: &deadpool_postgres::Transaction<'_>,
    id: i64,
) -> Result<Vec<String>, HubError> {
    Ok(tx
        .query(
            "SELECT id FROM tills WHERE menu_id = $1 ORDER BY id",
            &[&id],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

async fn bump(tx: deadpool_postgres::Transaction<'_>) -> Result<i64, HubError> {
    let version: i64 = tx.query_one(BUMP, &[]).await?.get(0);
    tx.commit().await?;
    Ok(version)
}

async fn version(tx: &deadpool_postgres::Transaction<'_>) -> Result<i64, HubError> {
    Ok(tx
        .query_one("SELECT version FROM catalogue_version", &[])
        .await?
        .get(0))
}

/// Commits with a version bump when anything changed; else the version as
/// it is (and nothing to commit).
async fn finish(tx: deadpool_postgres::Transaction<'_>, changed: bool) -> Result<i64, HubError> {
    if changed {
        bump(tx).await
    } else {
        version(&tx).await
    }
}

/// Renames menu `id` (already checked name); whether it changed.
async fn rename(
    tx: &deadpool_postgres::Transaction<'_>,
    id: i64,
    name: &str,
) -> Result<bool, HubError> {
    let (was, _) = locked(tx, id).await?;
    if was == name {
        return Ok(false);
    }
    let taken = tx
        .query_opt(
            "SELECT 1 FROM menus WHERE lower(name) = lower($1) AND id <> $2",
            &[&name, &id],
        )
        .await?
        .is_some();
    if taken {
        return Err(name_taken(name));
    }
    tx.execute("UPDATE menus SET name = $2 WHERE id = $1", &[&id, &name])
        .await?;
    tracing::info!(menu = id, %name, "menu renamed");
    Ok(true)
}

/// Makes menu `id` hold exactly `products`; whether that changed it.
async fn set_products(
    tx: &deadpool_postgres::Transaction<'_>,
    id: i64,
    products: &[String],
) -> Result<bool, HubError> {
    let mut wanted: Vec<&str> = products.iter().map(|p| p.trim()).collect();
    wanted.sort_unstable();
    wanted.dedup();
    if wanted.len() > MAX_PRODUCTS {
        return Err(HubError::refused(
            400,
            format!("En meny kan ha høyst {MAX_PRODUCTS} varer."),
        ));
    }
    let (name, _) = locked(tx, id).await?;
    let known: Vec<String> = tx
        .query("SELECT id FROM products WHERE id = ANY($1)", &[&wanted])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let unknown: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|p| !known.iter().any(|k| k == p))
        .collect();
    if !unknown.is_empty() {
        let list = unknown
            .iter()
            .take(5)
            .map(|p| format!("«{}»", p.chars().take(40).collect::<String>()))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(HubError::refused(
            400,
            format!(
                "Ukjent vare {list}: menyen «{name}» er ikke endret. Last siden på nytt og prøv igjen."
            ),
        ));
    }
    let removed = tx
        .execute(
            "DELETE FROM menu_products WHERE menu_id = $1 AND NOT (product_id = ANY($2))",
            &[&id, &wanted],
        )
        .await?;
    let added = tx
        .execute(
            "INSERT INTO menu_products (menu_id, product_id) \
             SELECT $1, p FROM unnest($2::TEXT[]) AS p ON CONFLICT DO NOTHING",
            &[&id, &wanted],
        )
        .await?;
    if removed + added == 0 {
        return Ok(false);
    }
    let tills = tills_of(tx, id).await?;
    if !tills.is_empty() && on_sale(tx, id).await? == 0 {
        return Err(HubError::refused(
            409,
            format!(
                "Menyen «{name}» brukes av {}: den må ha minst én vare i salg. \
                 Velg en annen meny for kassen under Kasser først.",
                tills.join(", ")
            ),
        ));
    }
    tracing::info!(menu = id, added, removed, "menu's products changed");
    Ok(true)
}

impl Hub {
    /// Every menu with its products and tills; archived ones last.
    pub async fn menus(&self) -> Result<Vec<Menu>, HubError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT m.id, m.name, m.archived, \
                 ARRAY(SELECT product_id FROM menu_products WHERE menu_id = m.id ORDER BY product_id), \
                 ARRAY(SELECT id FROM tills WHERE menu_id = m.id ORDER BY id), m.sales_unit \
                 FROM menus m ORDER BY m.archived, lower(m.name), m.id",
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| Menu {
                id: r.get(0),
                name: r.get(1),
                archived: r.get(2),
                products: r.get(3),
                tills: r.get(4),
                sales_unit: r.get(5),
            })
            .collect())
    }

    /// Adds an empty menu; returns the new version.
    pub async fn add_menu(&self, name: &str) -> Result<i64, HubError> {
        let name = menu_name(name)?;
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let added = tx
            .execute(
                "INSERT INTO menus (name) VALUES ($1) ON CONFLICT ((lower(name))) DO NOTHING",
                &[&name],
            )
            .await?;
        if added == 0 {
            return Err(name_taken(&name));
        }
        let version = bump(tx).await?;
        tracing::info!(menu = %name, version, "menu added");
        Ok(version)
    }

    /// Renames menu `id` (the tills that sell from it journal the new name).
    pub async fn rename_menu(&self, id: i64, name: &str) -> Result<i64, HubError> {
        let name = menu_name(name)?;
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let changed = rename(&tx, id, &name).await?;
        finish(tx, changed).await
    }

    /// Makes menu `id` hold exactly `products` (ids). An id the catalogue
    /// does not have refuses the change; so does leaving a menu a till
    /// sells from with nothing on sale.
    pub async fn set_menu_products(&self, id: i64, products: &[String]) -> Result<i64, HubError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let changed = set_products(&tx, id, products).await?;
        finish(tx, changed).await
    }

    /// The menu form: its name, its products and its sales unit (empty:
    /// each till's own), in one transaction with one version bump (none
    /// when nothing changed); refused as a whole.
    pub async fn save_menu(
        &self,
        id: i64,
        name: &str,
        products: &[String],
        sales_unit: &str,
    ) -> Result<i64, HubError> {
        let name = menu_name(name)?;
        let unit = unit_name(sales_unit)?;
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let renamed = rename(&tx, id, &name).await?;
        let changed = set_products(&tx, id, products).await?;
        let moved = set_unit(&tx, id, unit.as_deref()).await?;
        let version = finish(tx, renamed || changed || moved).await?;
        tracing::info!(menu = id, renamed, changed, moved, version, "menu saved");
        Ok(version)
    }

    /// Archives menu `id` or takes it back. A menu a till sells from is
    /// not archived: give the till another menu first.
    pub async fn set_menu_archived(&self, id: i64, archived: bool) -> Result<i64, HubError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let (name, was) = locked(&tx, id).await?;
        if was == archived {
            return version(&tx).await;
        }
        let tills = tills_of(&tx, id).await?;
        if archived && !tills.is_empty() {
            return Err(HubError::refused(
                409,
                format!(
                    "Menyen «{name}» brukes av {}: velg en annen meny for kassen under Kasser før du arkiverer den.",
                    tills.join(", ")
                ),
            ));
        }
        tx.execute(
            "UPDATE menus SET archived = $2 WHERE id = $1",
            &[&id, &archived],
        )
        .await?;
        let version = bump(tx).await?;
        tracing::info!(menu = id, archived, version, "menu archived or restored");
        Ok(version)
    }

    /// Lets `till` sell from menu `menu`, or (`None`) the whole catalogue.
    pub async fn set_till_menu(&self, till: &str, menu: Option<i64>) -> Result<i64, HubError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let Some(row) = tx
            .query_opt(
                "SELECT menu_id FROM tills WHERE id = $1 FOR UPDATE",
                &[&till],
            )
            .await?
        else {
            return Err(HubError::refused(
                404,
                format!(
                    "Ingen kasse «{}».",
                    till.chars().take(40).collect::<String>()
                ),
            ));
        };
        let was: Option<i64> = row.get(0);
        if was == menu {
            return version(&tx).await;
        }
        if let Some(id) = menu {
            let (name, archived) = locked(&tx, id).await?;
            if archived {
                return Err(HubError::refused(
                    409,
                    format!("Menyen «{name}» er arkivert: ta den i bruk igjen under Menyer først."),
                ));
            }
            if on_sale(&tx, id).await? == 0 {
                return Err(HubError::refused(
                    409,
                    format!(
                        "Menyen «{name}» har ingen varer i salg: kryss av varene den skal ha under Menyer først."
                    ),
                ));
            }
        }
        tx.execute(
            "UPDATE tills SET menu_id = $2 WHERE id = $1",
            &[&till, &menu],
        )
        .await?;
        let version = bump(tx).await?;
        tracing::info!(%till, ?menu, version, "till's menu changed");
        Ok(version)
    }

    /// Each till's menu (`None`: the whole catalogue), by till id.
    pub async fn till_menus(&self) -> Result<Vec<(String, Option<i64>)>, HubError> {
        let client = self.client().await?;
        Ok(client
            .query("SELECT id, menu_id FROM tills ORDER BY id", &[])
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn menu_numbers_and_names_are_checked_before_the_database() {
        assert_eq!(parse_id(" 7 ").unwrap(), 7);
        for bad in [
            "",
            "0",
            "-1",
            "x",
            "1; DROP TABLE menus",
            "99999999999999999999",
        ] {
            assert!(parse_id(bad).is_err(), "{bad}");
        }
        assert_eq!(menu_name("  Kamp A-lag ").unwrap(), "Kamp A-lag");
        assert!(menu_name("   ").is_err());
        assert!(menu_name(&"x".repeat(81)).is_err());
        assert!(menu_name("Cup\nlørdag").is_err());
        assert_eq!(
            menu_name("Robert'); DROP TABLE menus;--").unwrap(),
            "Robert'); DROP TABLE menus;--",
            "kept as typed: the queries are parameterised"
        );
    }
}
