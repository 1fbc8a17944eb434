//! The club's SAF-T Cash Register file (`luka hub export-saft`, and the
//! download on the "Z-rapporter" page): one location, one cash register per
//! till, each with its own events, transactions and public keys, for a
//! range of the tills' local business dates.
//!
//! Written by the till's own writer (`bookkeeping::saft::write`) from the
//! hub's verbatim copies, each row parsed by the till's own reading of a
//! stored entry (`JournalRecord::from_stored`): a till's register in the
//! club's file says what the till's own file says. Read on one read-only
//! snapshot, a page of [`PAGE`] rows at a time, so a year never sits in
//! memory and tills keep uploading meanwhile. Never writes.

use std::io::Write;
use std::path::Path;

use time::{Date, OffsetDateTime};
use tokio::runtime::Handle;
use tokio_postgres::IsolationLevel;
use tokio_postgres::types::ToSql;

use super::ingest::{JOURNAL_COLUMNS, chain_row};
use super::{Hub, HubError};
use crate::bookkeeping::saft::{ExportSummary, FileScope, JournalSource, SaftError, write};
use crate::clock::rfc3339;
use crate::domain::catalog::Product;
use crate::domain::report::Report;
use crate::domain::{Catalog, Merchant, Money, VatCode};
use crate::store::{JournalRecord, RecordFilter};

/// Rows fetched from PostgreSQL at a time.
pub const PAGE: i32 = 500;

fn source_error(e: impl std::fmt::Display) -> SaftError {
    SaftError::Source(e.to_string())
}

/// What the clear error says when `[hub.club]` is missing.
pub const NO_CLUB: &str = "the club is not set, so the SAF-T file would name no company: add \
     [hub.club] with name = \"…\", org_number = \"…\", vat_registered = true|false, \
     address = [\"…\", \"0001 Oslo\"] to the hub's luka.toml and restart the hub";

/// The hub's journal copies as a [`JournalSource`]: the synchronous writer
/// pulls pages through `handle`, so it runs on a blocking thread.
struct HubJournals<'t> {
    handle: Handle,
    tx: &'t tokio_postgres::Transaction<'t>,
    from: String,
    to: String,
}

impl HubJournals<'_> {
    fn query(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<tokio_postgres::Row>, SaftError> {
        self.handle
            .block_on(self.tx.query(sql, params))
            .map_err(|e| source_error(HubError::from(e)))
    }
}

impl JournalSource for HubJournals<'_> {
    /// Every till with an entry in the range, by id.
    fn registers(&mut self) -> Result<Vec<String>, SaftError> {
        Ok(self
            .query(
                "SELECT DISTINCT till_id FROM journal WHERE at >= $1 AND at < $2 ORDER BY till_id",
                &[&self.from, &self.to],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    /// The hub holds no till's database, only its journal: the id comes
    /// from the newest X or Z report the till journaled (§ 2-8-2 d).
    fn installation(&mut self, register: &str) -> Result<String, SaftError> {
        let rows = self.query(
            "SELECT data FROM journal WHERE till_id = $1 AND kind IN ('report.z', 'report.x') \
             ORDER BY seq DESC LIMIT 1",
            &[&register],
        )?;
        Ok(rows
            .first()
            .and_then(|r| serde_json::from_str::<Report>(r.get::<_, &str>(0)).ok())
            .map(|r| r.header.installation)
            .filter(|i| !i.is_empty())
            .unwrap_or_else(|| "unknown (no X or Z report at the hub)".into()))
    }

    fn public_keys(&mut self, register: &str) -> Result<Vec<(String, String)>, SaftError> {
        Ok(self
            .query(
                "SELECT key_version, public_key FROM till_keys WHERE till_id = $1 \
                 ORDER BY received_at, key_version",
                &[&register],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }

    fn records(
        &mut self,
        register: &str,
        from: OffsetDateTime,
        to: OffsetDateTime,
        filter: RecordFilter,
        f: &mut dyn FnMut(JournalRecord) -> Result<(), SaftError>,
    ) -> Result<(), SaftError> {
        let only = match filter {
            RecordFilter::All => "",
            RecordFilter::Transactions => " AND signature IS NOT NULL",
            RecordFilter::Events => " AND signature IS NULL",
        };
        // The till compares its RFC 3339 text the same way (UTC, as written).
        let sql = format!(
            "SELECT {JOURNAL_COLUMNS} FROM journal WHERE till_id = $1 AND at >= $2 AND at < $3{only} \
             ORDER BY seq"
        );
        let (from, to) = (rfc3339(from), rfc3339(to));
        let db = |e: tokio_postgres::Error| source_error(HubError::from(e));
        let portal = self
            .handle
            .block_on(self.tx.bind(&sql, &[&register, &from, &to]))
            .map_err(db)?;
        loop {
            let rows = self
                .handle
                .block_on(self.tx.query_portal(&portal, PAGE))
                .map_err(db)?;
            let last_page = rows.len() < PAGE as usize;
            for r in &rows {
                f(JournalRecord::from_stored(chain_row(r))?)?;
            }
            if last_page {
                return Ok(());
            }
        }
    }
}

impl Hub {
    /// The club the file is for, or the error that says how to set it.
    pub fn club_for_saft(&self) -> Result<Merchant, HubError> {
        self.club()
            .cloned()
            .ok_or_else(|| HubError::Config(NO_CLUB.into()))
    }

    /// The catalogue's products (not archived), listed as articles.
    async fn catalogue_articles(&self) -> Result<Catalog, HubError> {
        let (_, products) = self.products().await?;
        let products = products
            .into_iter()
            .filter(|p| !p.archived)
            .filter_map(|p| {
                Some(Product {
                    vat: VatCode::try_from(p.vat_code).ok()?,
                    id: p.id,
                    name: p.name,
                    group: p.group,
                    price: Money::nok(p.price),
                })
            })
            .collect();
        Ok(Catalog::new(products).unwrap_or_default())
    }

    /// Writes the club's SAF-T file for the local dates `from..=to` to
    /// `out`. Blocks: call it from a blocking thread (`spawn_blocking`),
    /// with `handle` the runtime's.
    pub fn write_saft_blocking<W: Write>(
        &self,
        handle: &Handle,
        from: Date,
        to: Date,
        now: OffsetDateTime,
        out: W,
    ) -> Result<ExportSummary, SaftError> {
        let merchant = self
            .club_for_saft()
            .map_err(|e| SaftError::Invalid(e.to_string()))?;
        let catalog = handle
            .block_on(self.catalogue_articles())
            .map_err(source_error)?;
        let scope = FileScope {
            from,
            to,
            merchant,
            catalog,
            now,
        };
        let mut client = handle.block_on(self.client()).map_err(source_error)?;
        let db = |e: tokio_postgres::Error| source_error(HubError::from(e));
        // One snapshot for every pass: an upload arriving meanwhile is in
        // all of them or in none.
        let tx = handle
            .block_on(
                client
                    .build_transaction()
                    .isolation_level(IsolationLevel::RepeatableRead)
                    .read_only(true)
                    .start(),
            )
            .map_err(db)?;
        let (start, end) = crate::bookkeeping::saft::bounds(from, to.max(from));
        let mut source = HubJournals {
            handle: handle.clone(),
            tx: &tx,
            from: rfc3339(start),
            to: rfc3339(end),
        };
        let summary = write(&mut source, &scope, out)?;
        handle.block_on(tx.commit()).map_err(db)?;
        Ok(summary)
    }

    /// [`Hub::write_saft_blocking`] into `path`, through a temporary file
    /// renamed into place when complete.
    pub fn write_saft_file_blocking(
        &self,
        handle: &Handle,
        from: Date,
        to: Date,
        now: OffsetDateTime,
        path: &Path,
    ) -> Result<ExportSummary, SaftError> {
        let io = |source| SaftError::Io {
            path: path.display().to_string(),
            source,
        };
        let tmp = path.with_extension("xml.part");
        let file = std::fs::File::create(&tmp).map_err(io)?;
        let out = std::io::BufWriter::with_capacity(1 << 16, file);
        match self.write_saft_blocking(handle, from, to, now, out) {
            Ok(summary) => {
                std::fs::rename(&tmp, path).map_err(io)?;
                Ok(summary)
            }
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                Err(e)
            }
        }
    }
}
