//! Product groups as records ("Billetter", "Kiosk", "Klær"): a name, a
//! place in the order the tills show them, and an archived flag; and the
//! order of products within a group. Products point at their group
//! (`products.group_id`), so a rename is one row and reaches every product.
//!
//! Every change is one transaction with one catalogue version bump (none
//! when nothing changed), like the products' own (`catalogue.rs`). An
//! archived group takes itself and its products off the tills; the
//! products keep their own archived flag, so taking the group back brings
//! them back as they were.

use serde::Serialize;

use super::catalogue::{BUMP, check_text};
use super::{Hub, HubError};

/// A group as the back office shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    pub id: i64,
    pub name: String,
    pub position: i32,
    pub archived: bool,
}

/// Up or down one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Up,
    Down,
}

impl Move {
    /// The form's `move` field: `up` or `down`.
    pub fn parse(text: &str) -> Result<Move, HubError> {
        match text {
            "up" => Ok(Move::Up),
            "down" => Ok(Move::Down),
            other => Err(HubError::refused(
                400,
                format!("Ukjent flytting «{other}»: bruk ↑ eller ↓."),
            )),
        }
    }
}

/// `order` with `item` moved one place; `None` when it is not there or
/// already first (up) or last (down): nothing to change.
pub fn moved<T: PartialEq + Clone>(order: &[T], item: &T, dir: Move) -> Option<Vec<T>> {
    let at = order.iter().position(|x| x == item)?;
    let to = match dir {
        Move::Up => at.checked_sub(1)?,
        Move::Down => Some(at + 1).filter(|t| *t < order.len())?,
    };
    let mut out = order.to_vec();
    out.swap(at, to);
    Some(out)
}

/// The group named `name` (any case) for `product`, made last in the order
/// when there is none; `None` for an empty name (no group). Putting a
/// product into an archived group is refused (it would silently leave the
/// tills); one that is in it already stays (saving it, a CSV file read
/// back).
pub(super) async fn group_for(
    tx: &deadpool_postgres::Transaction<'_>,
    name: &str,
    product: &str,
) -> Result<Option<i64>, HubError> {
    if name.is_empty() {
        return Ok(None);
    }
    tx.execute(
        "INSERT INTO groups (name, position) \
         SELECT $1, COALESCE(max(position), 0) + 1 FROM groups \
         ON CONFLICT ((lower(name))) DO NOTHING",
        &[&name],
    )
    .await?;
    let row = tx
        .query_one(
            "SELECT id, name, archived FROM groups WHERE lower(name) = lower($1)",
            &[&name],
        )
        .await?;
    let id: i64 = row.get(0);
    let stays = || async {
        Ok::<_, HubError>(
            tx.query_opt(
                "SELECT 1 FROM products WHERE id = $1 AND group_id = $2",
                &[&product, &id],
            )
            .await?
            .is_some(),
        )
    };
    if row.get::<_, bool>(2) && !stays().await? {
        let stored: String = row.get(1);
        return Err(HubError::refused(
            409,
            format!(
                "Gruppen «{stored}» er arkivert: ta den i bruk igjen under Grupper, \
                 eller velg en annen gruppe."
            ),
        ));
    }
    Ok(Some(id))
}

/// Gives the rows `ids` the places 1, 2, 3… in that order (`update` sets
/// the place `$2` of row `$1`). Places made dense on every move, so rows
/// that shared a place (a hub upgraded from text groups, a CSV file) move
/// as one expects.
async fn renumber(
    tx: &deadpool_postgres::Transaction<'_>,
    update: &str,
    ids: &[impl tokio_postgres::types::ToSql + Sync],
) -> Result<(), HubError> {
    let statement = tx.prepare(update).await?;
    for (i, id) in ids.iter().enumerate() {
        let place = i as i32 + 1;
        tx.execute(&statement, &[id, &place]).await?;
    }
    Ok(())
}

async fn version(tx: &deadpool_postgres::Transaction<'_>) -> Result<i64, HubError> {
    Ok(tx
        .query_one("SELECT version FROM catalogue_version", &[])
        .await?
        .get(0))
}

fn group_name(name: &str) -> Result<String, HubError> {
    check_text("Gruppenavnet", name, true)
}

fn name_taken(name: &str) -> HubError {
    HubError::refused(
        409,
        format!(
            "Det finnes alt en gruppe som heter «{name}» (også arkiverte teller): velg et annet navn."
        ),
    )
}

fn no_group(id: i64) -> HubError {
    HubError::refused(404, format!("Ingen gruppe med nummer {id}."))
}

impl Hub {
    /// Every group, in the tills' order; archived ones last.
    pub async fn groups(&self) -> Result<Vec<Group>, HubError> {
        let client = self.client().await?;
        Ok(client
            .query(
                "SELECT id, name, position, archived FROM groups \
                 ORDER BY archived, position, id",
                &[],
            )
            .await?
            .iter()
            .map(|r| Group {
                id: r.get(0),
                name: r.get(1),
                position: r.get(2),
                archived: r.get(3),
            })
            .collect())
    }

    /// Adds a group, last in the order; returns the new version.
    pub async fn add_group(&self, name: &str) -> Result<i64, HubError> {
        let name = group_name(name)?;
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let added = tx
            .execute(
                "INSERT INTO groups (name, position) \
                 SELECT $1, COALESCE(max(position), 0) + 1 FROM groups \
                 ON CONFLICT ((lower(name))) DO NOTHING",
                &[&name],
            )
            .await?;
        if added == 0 {
            return Err(name_taken(&name));
        }
        let version: i64 = tx.query_one(BUMP, &[]).await?.get(0);
        tx.commit().await?;
        tracing::info!(group = %name, version, "group added to the catalogue");
        Ok(version)
    }

    /// Renames group `id`; every product in it follows.
    pub async fn rename_group(&self, id: i64, name: &str) -> Result<i64, HubError> {
        let name = group_name(name)?;
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let taken = tx
            .query_opt(
                "SELECT 1 FROM groups WHERE lower(name) = lower($1) AND id <> $2",
                &[&name, &id],
            )
            .await?
            .is_some();
        if taken {
            return Err(name_taken(&name));
        }
        let changed = tx
            .execute(
                "UPDATE groups SET name = $2 WHERE id = $1 AND name <> $2",
                &[&id, &name],
            )
            .await?;
        let version = self.settle(tx, id, changed).await?;
        tracing::info!(group = id, %name, version, "group renamed");
        Ok(version)
    }

    /// Archives group `id` (it and its products leave the tills) or takes
    /// it back (last in the order).
    pub async fn set_group_archived(&self, id: i64, archived: bool) -> Result<i64, HubError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let changed = tx
            .execute(
                "UPDATE groups SET archived = $2, position = CASE WHEN $2 THEN position \
                 ELSE (SELECT COALESCE(max(position), 0) + 1 FROM groups WHERE NOT archived) END \
                 WHERE id = $1 AND archived <> $2",
                &[&id, &archived],
            )
            .await?;
        let version = self.settle(tx, id, changed).await?;
        tracing::info!(group = id, archived, version, "group archived or restored");
        Ok(version)
    }

    /// Moves group `id` one place up or down among the groups in use.
    pub async fn move_group(&self, id: i64, dir: Move) -> Result<i64, HubError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let order: Vec<i64> = tx
            .query(
                "SELECT id FROM groups WHERE NOT archived ORDER BY position, id FOR UPDATE",
                &[],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        if !order.contains(&id) {
            let archived = tx
                .query_opt("SELECT 1 FROM groups WHERE id = $1", &[&id])
                .await?
                .is_some();
            return Err(if archived {
                HubError::refused(
                    409,
                    "En arkivert gruppe har ingen plass: ta den i bruk igjen først.",
                )
            } else {
                no_group(id)
            });
        }
        let Some(order) = moved(&order, &id, dir) else {
            return version(&tx).await;
        };
        renumber(&tx, "UPDATE groups SET position = $2 WHERE id = $1", &order).await?;
        let version: i64 = tx.query_one(BUMP, &[]).await?.get(0);
        tx.commit().await?;
        tracing::info!(group = id, ?dir, version, "group moved");
        Ok(version)
    }

    /// Moves product `id` one place up or down within its group (the
    /// products on sale there).
    pub async fn move_product(&self, id: &str, dir: Move) -> Result<i64, HubError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let Some(row) = tx
            .query_opt(
                "SELECT group_id, archived FROM products WHERE id = $1",
                &[&id],
            )
            .await?
        else {
            return Err(HubError::refused(404, format!("Ingen vare «{id}».")));
        };
        let group: Option<i64> = row.get(0);
        if row.get::<_, bool>(1) {
            return Err(HubError::refused(
                409,
                format!("«{id}» er arkivert og har ingen plass: ta den i bruk igjen først."),
            ));
        }
        let order: Vec<String> = tx
            .query(
                "SELECT id FROM products WHERE group_id IS NOT DISTINCT FROM $1 \
                 AND NOT archived ORDER BY position, id FOR UPDATE",
                &[&group],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let Some(order) = moved(&order, &id.to_string(), dir) else {
            return version(&tx).await;
        };
        renumber(
            &tx,
            "UPDATE products SET position = $2, updated_at = now() WHERE id = $1",
            &order,
        )
        .await?;
        let version: i64 = tx.query_one(BUMP, &[]).await?.get(0);
        tx.commit().await?;
        tracing::info!(product = %id, ?dir, version, "product moved within its group");
        Ok(version)
    }

    /// After an `UPDATE` of group `id` that changed `changed` rows: bump
    /// and commit, or the version as it is, or 404.
    async fn settle(
        &self,
        tx: deadpool_postgres::Transaction<'_>,
        id: i64,
        changed: u64,
    ) -> Result<i64, HubError> {
        if changed > 0 {
            let version: i64 = tx.query_one(BUMP, &[]).await?.get(0);
            tx.commit().await?;
            return Ok(version);
        }
        let exists = tx
            .query_opt("SELECT 1 FROM groups WHERE id = $1", &[&id])
            .await?
            .is_some();
        if !exists {
            return Err(no_group(id));
        }
        version(&tx).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_move_swaps_with_the_neighbour_and_stops_at_the_ends() {
        let order = ["a", "b", "c"];
        assert_eq!(moved(&order, &"b", Move::Up).unwrap(), ["b", "a", "c"]);
        assert_eq!(moved(&order, &"b", Move::Down).unwrap(), ["a", "c", "b"]);
        assert_eq!(moved(&order, &"c", Move::Up).unwrap(), ["a", "c", "b"]);
        assert_eq!(moved(&order, &"a", Move::Up), None, "first: nothing");
        assert_eq!(moved(&order, &"c", Move::Down), None, "last: nothing");
        assert_eq!(moved(&order, &"x", Move::Up), None, "not there");
        assert_eq!(moved::<&str>(&[], &"a", Move::Down), None);
        assert_eq!(Move::parse("up").unwrap(), Move::Up);
        assert_eq!(Move::parse("down").unwrap(), Move::Down);
        assert!(Move::parse("'; DROP TABLE groups; --").is_err());
    }
}
