//! Journal entries coming up from a till (`POST /api/journal`): stored
//! exactly as the till sent them, checked as they are stored.
//!
//! The check is the till's own (`crate::journal::Verifier`), resumed where
//! this till's last upload left it, so each entry is hashed and its
//! signature verified once. A gap, a changed entry or a bad signature is
//! stored as it came and raises an alert for the treasurer; the hub never
//! patches. An entry that contradicts one stored already is refused (409)
//! and raises an alert; an entry sent again as it was is a duplicate and
//! changes nothing. Entries of another till are refused whole (403).

use std::collections::HashMap;

use deadpool_postgres::{GenericClient, Transaction};
use serde::{Deserialize, Serialize};

use super::{Hub, HubError};
use crate::domain::journal::CashTransaction;
use crate::journal::{ChainRow, Resume, Verifier};

/// The public half of a signing key, as the till sends it with the first
/// entry it signed (and every signed entry after).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKey {
    pub version: String,
    pub algorithm: String,
    pub public_key: String,
}

/// One entry of an upload: the `sync.hub` outbox item's payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UploadEntry {
    pub entry: ChainRow,
    #[serde(default)]
    pub key: Option<PublicKey>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Upload {
    pub till_id: String,
    pub entries: Vec<UploadEntry>,
}

/// What an upload did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ingested {
    pub stored: usize,
    pub duplicates: usize,
    /// Alerts raised by this upload, in the treasurer's words.
    pub alerts: Vec<String>,
    pub head_seq: Option<i64>,
}

/// At most this many entries in one upload.
pub const MAX_ENTRIES: usize = 500;

const JOURNAL_COLUMNS: &str = "seq, at, sale_id, kind, data, event_code, trans, signature, \
                               key_version, prev_hash, hash";

fn chain_row(r: &tokio_postgres::Row) -> ChainRow {
    ChainRow {
        seq: r.get(0),
        at: r.get(1),
        sale_id: r.get(2),
        kind: r.get(3),
        data: r.get(4),
        event_code: r.get(5),
        trans: r.get(6),
        signature: r.get(7),
        key_version: r.get(8),
        prev_hash: r.get(9),
        hash: r.get(10),
    }
}

impl Hub {
    /// Stores and checks an upload from the device paired as `device_till`
    /// (already authenticated). All of it is stored, or none of it.
    pub async fn ingest(&self, device_till: &str, upload: &Upload) -> Result<Ingested, HubError> {
        if upload.till_id != device_till {
            return Err(HubError::refused(
                403,
                format!(
                    "this device is paired as till {device_till}; it cannot send entries of till {}",
                    upload.till_id
                ),
            ));
        }
        if upload.entries.len() > MAX_ENTRIES {
            return Err(HubError::refused(
                413,
                format!("at most {MAX_ENTRIES} entries in one upload"),
            ));
        }
        for e in &upload.entries {
            check_entry(device_till, e)?;
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // One upload of a till at a time: the chain position is per till.
        tx.execute(
            "SELECT 1 FROM tills WHERE id = $1 FOR UPDATE",
            &[&device_till],
        )
        .await?;
        let mut state: Option<Resume> = tx
            .query_opt(
                "SELECT head_seq, head_hash, last_signature, last_nr FROM till_chain \
                 WHERE till_id = $1",
                &[&device_till],
            )
            .await?
            .map(|r| Resume {
                seq: r.get(0),
                hash: r.get(1),
                signature: r.get(2),
                nr: r.get(3),
            });
        let mut keys: HashMap<String, String> = tx
            .query(
                "SELECT key_version, public_key FROM till_keys WHERE till_id = $1",
                &[&device_till],
            )
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        // What of this upload the hub has already, in one query.
        let seqs: Vec<i64> = upload.entries.iter().map(|e| e.entry.seq).collect();
        let mut have: HashMap<i64, ChainRow> = tx
            .query(
                &format!(
                    "SELECT {JOURNAL_COLUMNS} FROM journal WHERE till_id = $1 AND seq = ANY($2)"
                ),
                &[&device_till, &seqs],
            )
            .await?
            .iter()
            .map(|r| {
                let row = chain_row(r);
                (row.seq, row)
            })
            .collect();
        let mut out = Ingested::default();
        for e in &upload.entries {
            let row = &e.entry;
            if let Some(stored) = have.get(&row.seq) {
                if stored == row {
                    out.duplicates += 1;
                    continue;
                }
                drop(tx);
                let what = format!(
                    "till {device_till} sent entry {} again with other content than the hub \
                     stored: the till's journal was changed or replaced",
                    row.seq
                );
                self.alert(device_till, Some(row.seq), &what).await?;
                return Err(HubError::refused(409, what));
            }
            if let Some(k) = &e.key {
                store_key(&tx, device_till, k, &mut keys).await?;
            }
            let mut alert = None;
            let behind = state.as_ref().is_some_and(|s| row.seq <= s.seq);
            if behind {
                alert = Some(format!(
                    "entry {} arrived after later entries of till {device_till}: it was missing \
                     and is now stored, unchecked against its neighbours",
                    row.seq
                ));
            } else {
                let mut v = Verifier::resume(&keys, state.clone());
                if v.push(row) {
                    state = v.position();
                } else {
                    alert = v.report().problem.as_ref().map(|p| p.what.clone());
                    // Go on from this entry as stored, so one break raises
                    // one alert, not one for every entry after it.
                    state = Some(past(state.take(), row));
                }
            }
            insert_entry(&tx, device_till, row).await?;
            have.insert(row.seq, row.clone());
            if let Some(what) = alert {
                tx.execute(
                    "INSERT INTO alerts (till_id, seq, what) VALUES ($1, $2, $3)",
                    &[&device_till, &row.seq, &what],
                )
                .await?;
                tracing::warn!(till = %device_till, seq = row.seq, "journal alert: {what}");
                out.alerts.push(what);
            }
            out.stored += 1;
        }
        if let Some(s) = &state {
            tx.execute(
                "INSERT INTO till_chain (till_id, head_seq, head_hash, last_signature, last_nr) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (till_id) DO UPDATE SET \
                 head_seq = excluded.head_seq, head_hash = excluded.head_hash, \
                 last_signature = excluded.last_signature, last_nr = excluded.last_nr",
                &[&device_till, &s.seq, &s.hash, &s.signature, &s.nr],
            )
            .await?;
        }
        tx.execute(
            "UPDATE tills SET last_seen = now() WHERE id = $1",
            &[&device_till],
        )
        .await?;
        tx.commit().await?;
        out.head_seq = state.map(|s| s.seq);
        Ok(out)
    }

    /// Records an alert on its own (outside an upload that was refused).
    pub async fn alert(&self, till: &str, seq: Option<i64>, what: &str) -> Result<(), HubError> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO alerts (till_id, seq, what) VALUES ($1, $2, $3)",
                &[&till, &seq, &what],
            )
            .await?;
        tracing::warn!(till = %till, ?seq, "journal alert: {what}");
        Ok(())
    }

    /// A till's stored journal, in order (for checks and the tests).
    pub async fn journal_of(&self, till: &str) -> Result<Vec<ChainRow>, HubError> {
        let client = self.client().await?;
        Ok(client
            .query(
                &format!("SELECT {JOURNAL_COLUMNS} FROM journal WHERE till_id = $1 ORDER BY seq"),
                &[&till],
            )
            .await?
            .iter()
            .map(chain_row)
            .collect())
    }
}

/// What can be refused before touching the database: a signed entry must
/// be this till's, and its key (if sent) the one it names.
fn check_entry(till: &str, e: &UploadEntry) -> Result<(), HubError> {
    let row = &e.entry;
    if row.seq < 1 {
        return Err(HubError::refused(
            400,
            format!("entry number {} is not a journal entry number", row.seq),
        ));
    }
    if let Some(k) = &e.key
        && row.key_version.as_deref() != Some(k.version.as_str())
    {
        return Err(HubError::refused(
            400,
            format!(
                "entry {} comes with key version {}, but is signed with {:?}",
                row.seq, k.version, row.key_version
            ),
        ));
    }
    if let Some(t) = row
        .trans
        .as_deref()
        .and_then(|t| serde_json::from_str::<CashTransaction>(t).ok())
        && t.till_id != till
        && !t.till_id.is_empty()
    {
        return Err(HubError::refused(
            403,
            format!(
                "entry {} is a transaction of till {}, not of till {till}: a till sends only its own journal",
                row.seq, t.till_id
            ),
        ));
    }
    Ok(())
}

/// The chain position just after `row`, taken as stored.
fn past(before: Option<Resume>, row: &ChainRow) -> Resume {
    let nr = row
        .trans
        .as_deref()
        .and_then(|t| serde_json::from_str::<CashTransaction>(t).ok())
        .map(|t| t.nr);
    let before_sig = before.as_ref().and_then(|b| b.signature.clone());
    let before_nr = before.as_ref().and_then(|b| b.nr);
    Resume {
        seq: row.seq,
        hash: row.hash.clone().unwrap_or_default(),
        signature: row.signature.clone().or(before_sig),
        nr: nr.or(before_nr),
    }
}

async fn store_key(
    tx: &Transaction<'_>,
    till: &str,
    k: &PublicKey,
    keys: &mut HashMap<String, String>,
) -> Result<(), HubError> {
    match keys.get(&k.version) {
        Some(known) if *known == k.public_key => Ok(()),
        Some(_) => Err(HubError::refused(
            409,
            format!(
                "key version {} of till {till} is known with another public key: refused",
                k.version
            ),
        )),
        None => {
            tx.execute(
                "INSERT INTO till_keys (till_id, key_version, algorithm, public_key) \
                 VALUES ($1, $2, $3, $4)",
                &[&till, &k.version, &k.algorithm, &k.public_key],
            )
            .await?;
            keys.insert(k.version.clone(), k.public_key.clone());
            Ok(())
        }
    }
}

async fn insert_entry(tx: &Transaction<'_>, till: &str, row: &ChainRow) -> Result<(), HubError> {
    let insert = tx
        .prepare_cached(&format!(
            "INSERT INTO journal (till_id, {JOURNAL_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ))
        .await?;
    tx.execute(
        &insert,
        &[
            &till,
            &row.seq,
            &row.at,
            &row.sale_id,
            &row.kind,
            &row.data,
            &row.event_code,
            &row.trans,
            &row.signature,
            &row.key_version,
            &row.prev_hash,
            &row.hash,
        ],
    )
    .await?;
    derive(tx, till, row, true).await
}

/// What the back office reads of a stored entry, derived in the same
/// transaction: the payments and lines of a sale or return (`payments`
/// only when `with_payments`: the migration that added `sale_lines` derives
/// the lines of entries stored before it), and a till's sold-out mark.
pub(super) async fn derive(
    tx: &Transaction<'_>,
    till: &str,
    row: &ChainRow,
    with_payments: bool,
) -> Result<(), HubError> {
    if row.kind == "stock.changed" {
        return super::catalogue::sold_out_from_till(tx, row).await;
    }
    if row.kind == "operator.login" {
        #[derive(Deserialize)]
        struct Login {
            operator: String,
            name: String,
        }
        if let Ok(l) = serde_json::from_str::<Login>(&row.data) {
            tx.execute(
                "INSERT INTO operators (till_id, id, name) VALUES ($1, $2, $3) \
                 ON CONFLICT (till_id, id) DO UPDATE SET name = excluded.name",
                &[&till, &l.operator, &l.name],
            )
            .await?;
        }
        return Ok(());
    }
    if row.kind != "sale.paid" && row.kind != "sale.refunded" {
        return Ok(());
    }
    let Some(t) = row
        .trans
        .as_deref()
        .and_then(|t| serde_json::from_str::<CashTransaction>(t).ok())
    else {
        return Ok(());
    };
    let Ok(date) = time::Date::parse(
        &t.date,
        time::macros::format_description!("[year]-[month]-[day]"),
    ) else {
        return Ok(());
    };
    let hour = t.hour() as i16;
    let paid = row.kind == "sale.paid";
    if with_payments {
        for p in &t.payments {
            tx.execute(
                "INSERT INTO payments (till_id, seq, business_date, hour, kind, method, amount, training) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[
                    &till,
                    &row.seq,
                    &date,
                    &hour,
                    &row.kind,
                    &p.method.as_str(),
                    &p.amount,
                    &t.training,
                ],
            )
            .await?;
            let (sales, returns, count) = if paid {
                (p.amount, 0, 1i64)
            } else {
                (0, p.amount, 0)
            };
            let upsert = tx
                .prepare_cached(
                    "INSERT INTO takings_day (business_date, till_id, hour, method, training, \
                     sales, returns, payments, sales_count) VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8) \
                     ON CONFLICT (business_date, till_id, hour, method, training) DO UPDATE SET \
                     sales = takings_day.sales + excluded.sales, \
                     returns = takings_day.returns + excluded.returns, \
                     payments = takings_day.payments + 1, \
                     sales_count = takings_day.sales_count + excluded.sales_count",
                )
                .await?;
            tx.execute(
                &upsert,
                &[
                    &date,
                    &till,
                    &hour,
                    &p.method.as_str(),
                    &t.training,
                    &sales,
                    &returns,
                    &count,
                ],
            )
            .await?;
        }
    }
    let insert = tx
        .prepare_cached(
            "INSERT INTO sale_lines (till_id, seq, business_date, hour, kind, operator, \
             product_id, name, grp, quantity, amount, training) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .await?;
    let operator = t.operator.clone().unwrap_or_default();
    for l in &t.lines {
        let product = l.product_id.clone().unwrap_or_default();
        tx.execute(
            &insert,
            &[
                &till,
                &row.seq,
                &date,
                &hour,
                &row.kind,
                &operator,
                &product,
                &l.name,
                &l.group,
                &l.quantity,
                &l.amount_in,
                &t.training,
            ],
        )
        .await?;
        if !with_payments {
            // The migration sums every stored line at once afterwards.
            continue;
        }
        let quantity = l.quantity.unwrap_or(0);
        let by_product = tx
            .prepare_cached(
                "INSERT INTO product_day (business_date, till_id, training, product_id, grp, name, \
                 quantity, amount) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (business_date, till_id, training, product_id, grp) DO UPDATE SET \
                 name = excluded.name, quantity = product_day.quantity + excluded.quantity, \
                 amount = product_day.amount + excluded.amount",
            )
            .await?;
        tx.execute(
            &by_product,
            &[
                &date,
                &till,
                &t.training,
                &product,
                &l.group,
                &l.name,
                &quantity,
                &l.amount_in,
            ],
        )
        .await?;
        let by_operator = tx
            .prepare_cached(
                "INSERT INTO operator_day (business_date, till_id, training, operator, quantity, \
                 amount) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (business_date, till_id, training, operator) DO UPDATE SET \
                 quantity = operator_day.quantity + excluded.quantity, \
                 amount = operator_day.amount + excluded.amount",
            )
            .await?;
        tx.execute(
            &by_operator,
            &[
                &date,
                &till,
                &t.training,
                &operator,
                &quantity,
                &l.amount_in,
            ],
        )
        .await?;
    }
    Ok(())
}

/// Sums `payments` and `sale_lines` into the per-day tables the takings
/// page reads, from scratch (after the migration that added them derived
/// the stored lines, and for the benchmark's stored sales).
pub async fn rebuild_daily(client: &impl GenericClient) -> Result<(), HubError> {
    client
        .batch_execute(
            "DELETE FROM takings_day; DELETE FROM product_day; DELETE FROM operator_day;
             INSERT INTO takings_day (business_date, till_id, hour, method, training, sales, \
                 returns, payments, sales_count) \
             SELECT business_date, till_id, hour, method, training, \
                 COALESCE(sum(amount) FILTER (WHERE kind = 'sale.paid'), 0), \
                 COALESCE(sum(amount) FILTER (WHERE kind = 'sale.refunded'), 0), \
                 count(*), count(*) FILTER (WHERE kind = 'sale.paid') \
             FROM payments GROUP BY 1, 2, 3, 4, 5;
             INSERT INTO product_day (business_date, till_id, training, product_id, grp, name, \
                 quantity, amount) \
             SELECT business_date, till_id, training, product_id, grp, \
                 (array_agg(name ORDER BY seq DESC))[1], COALESCE(sum(quantity), 0), sum(amount) \
             FROM sale_lines GROUP BY 1, 2, 3, 4, 5;
             INSERT INTO operator_day (business_date, till_id, training, operator, quantity, amount) \
             SELECT business_date, till_id, training, operator, COALESCE(sum(quantity), 0), \
                 sum(amount) \
             FROM sale_lines GROUP BY 1, 2, 3, 4;",
        )
        .await?;
    Ok(())
}

/// Derives the lines of every sale and return, and the operators' names,
/// stored before `sale_lines` existed (once, in the migration's transaction).
pub(super) async fn derive_stored_lines(tx: &Transaction<'_>) -> Result<u64, HubError> {
    let rows = tx
        .query(
            &format!(
                "SELECT {JOURNAL_COLUMNS}, till_id FROM journal \
                 WHERE kind IN ('sale.paid', 'sale.refunded', 'operator.login') \
                 ORDER BY till_id, seq"
            ),
            &[],
        )
        .await?;
    for r in &rows {
        let till: String = r.get(11);
        let row = chain_row(r);
        derive(tx, &till, &row, false).await?;
    }
    rebuild_daily(tx).await?;
    Ok(rows.len() as u64)
}
