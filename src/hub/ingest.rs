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

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use deadpool_postgres::{GenericClient, Transaction};
use serde::{Deserialize, Serialize};
use time::Date;
use tokio_postgres::types::ToSql;

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

pub(super) const JOURNAL_COLUMNS: &str = "seq, at, sale_id, kind, data, event_code, trans, signature, \
                               key_version, prev_hash, hash";

/// A stored entry read back with [`JOURNAL_COLUMNS`], as the till sent it.
pub(super) fn chain_row(r: &tokio_postgres::Row) -> ChainRow {
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
            &tx.prepare_cached("SELECT 1 FROM tills WHERE id = $1 FOR UPDATE")
                .await?,
            &[&device_till],
        )
        .await?;
        // Where the chain stands, the till's keys and what of this upload
        // the hub has already: three reads sent at once (one round trip),
        // each a fresh snapshot taken after the lock above.
        let seqs: Vec<i64> = upload.entries.iter().map(|e| e.entry.seq).collect();
        let (chain, keys, have) = {
            let chain = tx.prepare_cached(
                "SELECT head_seq, head_hash, last_signature, last_nr FROM till_chain \
                 WHERE till_id = $1",
            );
            let keys = tx
                .prepare_cached("SELECT key_version, public_key FROM till_keys WHERE till_id = $1");
            let have_sql = format!(
                "SELECT {JOURNAL_COLUMNS} FROM journal WHERE till_id = $1 AND seq = ANY($2)"
            );
            let have = tx.prepare_cached(&have_sql);
            let (chain, keys, have) = tokio::try_join!(chain, keys, have)?;
            let (one, two): (&[&(dyn ToSql + Sync)], &[&(dyn ToSql + Sync)]) =
                (&[&device_till], &[&device_till, &seqs]);
            tokio::try_join!(
                tx.query_opt(&chain, one),
                tx.query(&keys, one),
                tx.query(&have, two),
            )?
        };
        let mut state: Option<Resume> = chain.map(|r| Resume {
            seq: r.get(0),
            hash: r.get(1),
            signature: r.get(2),
            nr: r.get(3),
        });
        let mut keys: HashMap<String, String> = keys.iter().map(|r| (r.get(0), r.get(1))).collect();
        // An entry sent twice in one upload is a duplicate of the first:
        // the upload's own entries are kept by reference, not copied.
        let mut have: HashMap<i64, Cow<'_, ChainRow>> = have
            .iter()
            .map(|r| {
                let row = chain_row(r);
                (row.seq, Cow::Owned(row))
            })
            .collect();
        let mut out = Ingested::default();
        // Checked in order, stored together after the loop (a few
        // statements for the whole upload, not several per entry).
        let mut fresh: Vec<&ChainRow> = Vec::new();
        for e in &upload.entries {
            let row = &e.entry;
            if let Some(stored) = have.get(&row.seq) {
                if stored.as_ref() == row {
                    out.duplicates += 1;
                    continue;
                }
                drop(tx);
                let what = format!(
                    "till {device_till} sent entry {} again with other content than the hub \
                     stored: the till's journal was changed or replaced",
                    row.seq
                );
                // The alert is for the treasurer's Kasser page (bokmål);
                // the refusal is for the till's log.
                let nb = format!(
                    "Kassen {device_till} sendte oppføring {} på nytt med annet innhold enn \
                     huben har lagret: kassens journal er endret eller byttet ut.",
                    row.seq
                );
                self.alert(device_till, Some(row.seq), &nb).await?;
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
                    alert = v.report().problem.as_ref().map(|p| p.nb.clone());
                    // Go on from this entry as stored, so one break raises
                    // one alert, not one for every entry after it.
                    state = Some(past(state.take(), row));
                }
            }
            fresh.push(row);
            have.insert(row.seq, Cow::Borrowed(row));
            if let Some(what) = alert {
                tx.execute(
                    &tx.prepare_cached(
                        "INSERT INTO alerts (till_id, seq, what) VALUES ($1, $2, $3)",
                    )
                    .await?,
                    &[&device_till, &row.seq, &what],
                )
                .await?;
                tracing::warn!(till = %device_till, seq = row.seq, "journal alert: {what}");
                out.alerts.push(what);
            }
            out.stored += 1;
        }
        insert_entries(&tx, device_till, &fresh).await?;
        // The chain's new position and the till's last contact, sent at once.
        let (upsert, seen) = tokio::try_join!(
            tx.prepare_cached(
                "INSERT INTO till_chain (till_id, head_seq, head_hash, last_signature, last_nr) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (till_id) DO UPDATE SET \
                 head_seq = excluded.head_seq, head_hash = excluded.head_hash, \
                 last_signature = excluded.last_signature, last_nr = excluded.last_nr",
            ),
            tx.prepare_cached("UPDATE tills SET last_seen = now() WHERE id = $1"),
        )?;
        let chain = async {
            match &state {
                Some(s) => {
                    tx.execute(
                        &upsert,
                        &[&device_till, &s.seq, &s.hash, &s.signature, &s.nr],
                    )
                    .await
                }
                None => Ok(0),
            }
        };
        let till: &[&(dyn ToSql + Sync)] = &[&device_till];
        tokio::try_join!(chain, tx.execute(&seen, till))?;
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
                &tx.prepare_cached(
                    "INSERT INTO till_keys (till_id, key_version, algorithm, public_key) \
                 VALUES ($1, $2, $3, $4)",
                )
                .await?,
                &[&till, &k.version, &k.algorithm, &k.public_key],
            )
            .await?;
            keys.insert(k.version.clone(), k.public_key.clone());
            Ok(())
        }
    }
}

/// Stores `rows` (checked already) of `till` and what the back office
/// reads of them, in a few statements for the whole upload.
async fn insert_entries(
    tx: &Transaction<'_>,
    till: &str,
    rows: &[&ChainRow],
) -> Result<(), HubError> {
    if rows.is_empty() {
        return Ok(());
    }
    let col = |f: &dyn Fn(&ChainRow) -> Option<String>| -> Vec<Option<String>> {
        rows.iter().map(|r| f(r)).collect()
    };
    let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
    let ats = col(&|r| Some(r.at.clone()));
    let sale_ids: Vec<Option<i64>> = rows.iter().map(|r| r.sale_id).collect();
    let kinds = col(&|r| Some(r.kind.clone()));
    let data = col(&|r| Some(r.data.clone()));
    let codes: Vec<Option<i64>> = rows.iter().map(|r| r.event_code).collect();
    let trans = col(&|r| r.trans.clone());
    let signatures = col(&|r| r.signature.clone());
    let key_versions = col(&|r| r.key_version.clone());
    let prev = col(&|r| r.prev_hash.clone());
    let hashes = col(&|r| r.hash.clone());
    tx.execute(
        &tx.prepare_cached(&format!(
            "INSERT INTO journal (till_id, {JOURNAL_COLUMNS}) \
             SELECT $1, * FROM unnest($2::BIGINT[], $3::TEXT[], $4::BIGINT[], $5::TEXT[], \
                 $6::TEXT[], $7::BIGINT[], $8::TEXT[], $9::TEXT[], $10::TEXT[], $11::TEXT[], \
                 $12::TEXT[])"
        ))
        .await?,
        &[
            &till,
            &seqs,
            &ats,
            &sale_ids,
            &kinds,
            &data,
            &codes,
            &trans,
            &signatures,
            &key_versions,
            &prev,
            &hashes,
        ],
    )
    .await?;
    derive(tx, till, rows, true).await
}

/// (date, hour, method, training): a row of `takings_day`.
type TakingsKey = (Date, i16, String, bool);
/// (sales, returns, payments, sales count).
type TakingsSums = (i64, i64, i64, i64);

/// (date, training, product, group): a row of `product_day`.
type ProductKey = (Date, bool, String, String);

/// A day's sums of one kind, added up over an upload before they are
/// written (one row per key, as `ON CONFLICT` needs).
#[derive(Default)]
struct DaySums {
    takings: BTreeMap<TakingsKey, TakingsSums>,
    /// → (name, quantity, amount)
    products: BTreeMap<ProductKey, (String, i64, i64)>,
    /// (date, training, operator) → (quantity, amount)
    operators: BTreeMap<(Date, bool, String), (i64, i64)>,
    /// (date, training, department, method) → (sales, returns)
    departments: BTreeMap<(Date, bool, String, String), (i64, i64)>,
}

/// The payment and line rows of an upload, column by column.
#[derive(Default)]
struct Derived {
    pay_seq: Vec<i64>,
    pay_date: Vec<Date>,
    pay_hour: Vec<i16>,
    pay_kind: Vec<String>,
    pay_method: Vec<String>,
    pay_amount: Vec<i64>,
    pay_training: Vec<bool>,
    line_seq: Vec<i64>,
    line_date: Vec<Date>,
    line_hour: Vec<i16>,
    line_kind: Vec<String>,
    line_operator: Vec<String>,
    line_product: Vec<String>,
    line_name: Vec<String>,
    line_group: Vec<String>,
    line_quantity: Vec<Option<i64>>,
    line_amount: Vec<i64>,
    line_training: Vec<bool>,
}

/// What the back office reads of stored entries, derived in the same
/// transaction: the payments and lines of sales and returns and their
/// per-day sums (only the lines when not `with_payments`: the migration
/// that added `sale_lines` derives the lines of entries stored before it
/// and sums everything once after), a till's sold-out mark, an operator's
/// name.
pub(super) async fn derive(
    tx: &Transaction<'_>,
    till: &str,
    rows: &[&ChainRow],
    with_payments: bool,
) -> Result<(), HubError> {
    let mut d = Derived::default();
    let mut sums = DaySums::default();
    for row in rows {
        if row.kind == "stock.changed" {
            super::catalogue::sold_out_from_till(tx, row).await?;
            continue;
        }
        if row.kind == "operator.login" {
            #[derive(Deserialize)]
            struct Login {
                operator: String,
                name: String,
            }
            if let Ok(l) = serde_json::from_str::<Login>(&row.data) {
                tx.execute(
                    &tx.prepare_cached(
                        "INSERT INTO operators (till_id, id, name) VALUES ($1, $2, $3) \
                     ON CONFLICT (till_id, id) DO UPDATE SET name = excluded.name",
                    )
                    .await?,
                    &[&till, &l.operator, &l.name],
                )
                .await?;
            }
            continue;
        }
        if row.kind != "sale.paid" && row.kind != "sale.refunded" {
            continue;
        }
        let Some(t) = row
            .trans
            .as_deref()
            .and_then(|t| serde_json::from_str::<CashTransaction>(t).ok())
        else {
            continue;
        };
        let Ok(date) = Date::parse(
            &t.date,
            time::macros::format_description!("[year]-[month]-[day]"),
        ) else {
            continue;
        };
        let hour = t.hour() as i16;
        let paid = row.kind == "sale.paid";
        for p in &t.payments {
            d.pay_seq.push(row.seq);
            d.pay_date.push(date);
            d.pay_hour.push(hour);
            d.pay_kind.push(row.kind.clone());
            d.pay_method.push(p.method.as_str().to_string());
            d.pay_amount.push(p.amount);
            d.pay_training.push(t.training);
            let d = sums
                .departments
                .entry((
                    date,
                    t.training,
                    t.department.clone().unwrap_or_default(),
                    p.method.as_str().to_string(),
                ))
                .or_default();
            if paid {
                d.0 += p.amount;
            } else {
                d.1 += p.amount;
            }
            let s = sums
                .takings
                .entry((date, hour, p.method.as_str().to_string(), t.training))
                .or_default();
            if paid {
                s.0 += p.amount;
                s.3 += 1;
            } else {
                s.1 += p.amount;
            }
            s.2 += 1;
        }
        let operator = t.operator.clone().unwrap_or_default();
        for l in &t.lines {
            let product = l.product_id.clone().unwrap_or_default();
            d.line_seq.push(row.seq);
            d.line_date.push(date);
            d.line_hour.push(hour);
            d.line_kind.push(row.kind.clone());
            d.line_operator.push(operator.clone());
            d.line_product.push(product.clone());
            d.line_name.push(l.name.clone());
            d.line_group.push(l.group.clone());
            d.line_quantity.push(l.quantity);
            d.line_amount.push(l.amount_in);
            d.line_training.push(t.training);
            let quantity = l.quantity.unwrap_or(0);
            let s = sums
                .products
                .entry((date, t.training, product, l.group.clone()))
                .or_default();
            // Rows come in journal order: the last name is the newest.
            s.0 = l.name.clone();
            s.1 += quantity;
            s.2 += l.amount_in;
            let s = sums
                .operators
                .entry((date, t.training, operator.clone()))
                .or_default();
            s.0 += quantity;
            s.1 += l.amount_in;
        }
    }
    if with_payments && !d.pay_seq.is_empty() {
        tx.execute(
            &tx.prepare_cached("INSERT INTO payments (till_id, seq, business_date, hour, kind, method, amount, training) \
             SELECT $1, * FROM unnest($2::BIGINT[], $3::DATE[], $4::SMALLINT[], $5::TEXT[], \
                 $6::TEXT[], $7::BIGINT[], $8::BOOLEAN[])").await?,
            &[
                &till,
                &d.pay_seq,
                &d.pay_date,
                &d.pay_hour,
                &d.pay_kind,
                &d.pay_method,
                &d.pay_amount,
                &d.pay_training,
            ],
        )
        .await?;
    }
    if !d.line_seq.is_empty() {
        tx.execute(
            &tx.prepare_cached(
                "INSERT INTO sale_lines (till_id, seq, business_date, hour, kind, operator, \
                 product_id, name, grp, quantity, amount, training) \
             SELECT $1, * FROM unnest($2::BIGINT[], $3::DATE[], $4::SMALLINT[], $5::TEXT[], \
                 $6::TEXT[], $7::TEXT[], $8::TEXT[], $9::TEXT[], $10::BIGINT[], $11::BIGINT[], \
                 $12::BOOLEAN[])",
            )
            .await?,
            &[
                &till,
                &d.line_seq,
                &d.line_date,
                &d.line_hour,
                &d.line_kind,
                &d.line_operator,
                &d.line_product,
                &d.line_name,
                &d.line_group,
                &d.line_quantity,
                &d.line_amount,
                &d.line_training,
            ],
        )
        .await?;
    }
    if with_payments {
        add_day_sums(tx, till, &sums).await?;
    }
    Ok(())
}

/// Adds an upload's sums to the per-day tables, a statement a table.
async fn add_day_sums(tx: &Transaction<'_>, till: &str, sums: &DaySums) -> Result<(), HubError> {
    if !sums.takings.is_empty() {
        let (mut date, mut hour, mut method, mut training) = (vec![], vec![], vec![], vec![]);
        let (mut sales, mut returns, mut payments, mut count) = (vec![], vec![], vec![], vec![]);
        for ((d, h, m, t), (s, r, p, c)) in &sums.takings {
            date.push(*d);
            hour.push(*h);
            method.push(m.clone());
            training.push(*t);
            sales.push(*s);
            returns.push(*r);
            payments.push(*p);
            count.push(*c);
        }
        tx.execute(
            &tx.prepare_cached(
                "INSERT INTO takings_day (till_id, business_date, hour, method, training, sales, \
                 returns, payments, sales_count) \
             SELECT $1, * FROM unnest($2::DATE[], $3::SMALLINT[], $4::TEXT[], $5::BOOLEAN[], \
                 $6::BIGINT[], $7::BIGINT[], $8::BIGINT[], $9::BIGINT[]) \
             ON CONFLICT (business_date, till_id, hour, method, training) DO UPDATE SET \
                 sales = takings_day.sales + excluded.sales, \
                 returns = takings_day.returns + excluded.returns, \
                 payments = takings_day.payments + excluded.payments, \
                 sales_count = takings_day.sales_count + excluded.sales_count",
            )
            .await?,
            &[
                &till, &date, &hour, &method, &training, &sales, &returns, &payments, &count,
            ],
        )
        .await?;
    }
    if !sums.products.is_empty() {
        let (mut date, mut training, mut product, mut group) = (vec![], vec![], vec![], vec![]);
        let (mut name, mut quantity, mut amount) = (vec![], vec![], vec![]);
        for ((d, t, p, g), (n, q, a)) in &sums.products {
            date.push(*d);
            training.push(*t);
            product.push(p.clone());
            group.push(g.clone());
            name.push(n.clone());
            quantity.push(*q);
            amount.push(*a);
        }
        tx.execute(
            &tx.prepare_cached(
                "INSERT INTO product_day (till_id, business_date, training, product_id, grp, name, \
                 quantity, amount) \
             SELECT $1, * FROM unnest($2::DATE[], $3::BOOLEAN[], $4::TEXT[], $5::TEXT[], \
                 $6::TEXT[], $7::BIGINT[], $8::BIGINT[]) \
             ON CONFLICT (business_date, till_id, training, product_id, grp) DO UPDATE SET \
                 name = excluded.name, quantity = product_day.quantity + excluded.quantity, \
                 amount = product_day.amount + excluded.amount",
            )
            .await?,
            &[
                &till, &date, &training, &product, &group, &name, &quantity, &amount,
            ],
        )
        .await?;
    }
    if !sums.operators.is_empty() {
        let (mut date, mut training, mut operator) = (vec![], vec![], vec![]);
        let (mut quantity, mut amount) = (vec![], vec![]);
        for ((d, t, o), (q, a)) in &sums.operators {
            date.push(*d);
            training.push(*t);
            operator.push(o.clone());
            quantity.push(*q);
            amount.push(*a);
        }
        tx.execute(
            &tx.prepare_cached(
                "INSERT INTO operator_day (till_id, business_date, training, operator, quantity, \
                 amount) \
             SELECT $1, * FROM unnest($2::DATE[], $3::BOOLEAN[], $4::TEXT[], $5::BIGINT[], \
                 $6::BIGINT[]) \
             ON CONFLICT (business_date, till_id, training, operator) DO UPDATE SET \
                 quantity = operator_day.quantity + excluded.quantity, \
                 amount = operator_day.amount + excluded.amount",
            )
            .await?,
            &[&till, &date, &training, &operator, &quantity, &amount],
        )
        .await?;
    }
    if !sums.departments.is_empty() {
        let (mut date, mut training, mut department, mut method) = (vec![], vec![], vec![], vec![]);
        let (mut sales, mut returns) = (vec![], vec![]);
        for ((d, t, dep, m), (s, r)) in &sums.departments {
            date.push(*d);
            training.push(*t);
            department.push(dep.clone());
            method.push(m.clone());
            sales.push(*s);
            returns.push(*r);
        }
        tx.execute(
            &tx.prepare_cached(
                "INSERT INTO department_day (till_id, business_date, training, department, \
                     method, sales, returns) \
                 SELECT $1, * FROM unnest($2::DATE[], $3::BOOLEAN[], $4::TEXT[], $5::TEXT[], \
                     $6::BIGINT[], $7::BIGINT[]) \
                 ON CONFLICT (business_date, till_id, training, department, method) DO UPDATE SET \
                     sales = department_day.sales + excluded.sales, \
                     returns = department_day.returns + excluded.returns",
            )
            .await?,
            &[
                &till,
                &date,
                &training,
                &department,
                &method,
                &sales,
                &returns,
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
    let stored: Vec<(String, ChainRow)> = rows.iter().map(|r| (r.get(11), chain_row(r))).collect();
    for till in stored.chunk_by(|a, b| a.0 == b.0) {
        let of_till: Vec<&ChainRow> = till.iter().map(|(_, row)| row).collect();
        derive(tx, &till[0].0, &of_till, false).await?;
    }
    rebuild_daily(tx).await?;
    Ok(rows.len() as u64)
}
