//! `luka export saft`: the SAF-T Cash Register file (namespace
//! `urn:StandardAuditFile-Taxation-CashRegister:NO`, schema v1.00) for a
//! date range: header, company (VAT codes mapped to standard codes,
//! employees, articles, the basics used), one location with this till's
//! events, X/Z event reports and signed cash transactions.
//!
//! Written straight from the journal in three streaming passes (what the
//! company part must list, then events, then transactions) on a separate
//! read connection, so a year of sales never sits in memory and the till
//! keeps selling meanwhile. Never writes to the store.

mod company;
mod register;
mod xml;

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;

use time::{Date, OffsetDateTime};

use crate::domain::journal::{JournalKind, SaftCode, TransKind, saft_code};
use crate::domain::local_time::{local_date, local_time, start_of_local_day};
use crate::domain::{Catalog, Merchant, VatCode};
use crate::store::{RecordFilter, Store, StoreError, operator_id};
use xml::Xml;

pub const NAMESPACE: &str = "urn:StandardAuditFile-Taxation-CashRegister:NO";

#[derive(Debug, thiserror::Error)]
pub enum SaftError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("cannot write the SAF-T file {path}: {source}; check the folder and free space")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(String),
}

/// What to export and who for.
#[derive(Debug, Clone)]
pub struct SaftOptions {
    /// First and last local date, both included.
    pub from: Date,
    pub to: Date,
    pub merchant: Merchant,
    pub till_id: String,
    /// Products to list as articles besides those sold in the period.
    pub catalog: Catalog,
    pub now: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportSummary {
    pub transactions: u64,
    pub events: u64,
    pub bytes: u64,
}

/// An employee seen in the period (an operator who logged in or sold).
#[derive(Debug, Clone)]
struct Employee {
    name: String,
    date: String,
    time: String,
}

/// Everything the company part lists, gathered in the first pass.
#[derive(Debug, Default)]
struct Meta {
    employees: BTreeMap<String, Employee>,
    /// artID → (name, group, first date)
    articles: BTreeMap<String, (String, String, String)>,
    groups: BTreeMap<String, String>,
    vat: BTreeMap<u16, VatCode>,
    events: BTreeMap<&'static str, SaftCode>,
    /// sale id → SAF-T nr of its sale, for events' transID
    sale_nr: HashMap<i64, i64>,
    /// refund id → SAF-T nr of the return
    refund_nr: HashMap<i64, i64>,
    public_keys: Vec<(String, String)>,
    /// The installation's unique id (§ 2-8-2 d), in the register's description.
    installation: String,
}

/// Writes the file for `opts` to `path` (through a temporary file, renamed
/// into place when complete).
pub fn export_file(
    store: &Store,
    opts: &SaftOptions,
    path: &Path,
) -> Result<ExportSummary, SaftError> {
    let io = |source| SaftError::Io {
        path: path.display().to_string(),
        source,
    };
    let tmp = path.with_extension("xml.part");
    let file = std::fs::File::create(&tmp).map_err(io)?;
    let summary = export(
        store,
        opts,
        std::io::BufWriter::with_capacity(1 << 16, file),
    )?;
    std::fs::rename(&tmp, path).map_err(io)?;
    Ok(summary)
}

/// Writes the SAF-T XML for `opts` to `out`.
pub fn export<W: Write>(
    store: &Store,
    opts: &SaftOptions,
    out: W,
) -> Result<ExportSummary, SaftError> {
    if opts.to < opts.from {
        return Err(SaftError::Invalid(format!(
            "--to {} is before --from {}: give the first date, then the last",
            opts.to, opts.from
        )));
    }
    let from = start_of_local_day(opts.from);
    let to = start_of_local_day(opts.to.next_day().unwrap_or(opts.to));
    let io = |source| SaftError::Io {
        path: "(output)".into(),
        source,
    };
    store.read_separately(|r| {
        let meta = collect(r, opts, from, to)?;
        let mut x = Xml::new(out);
        company::write_head(&mut x, opts, &meta).map_err(io)?;
        let mut events = 0;
        r.records_by_time(from, to, RecordFilter::Events, |rec| {
            events += 1;
            register::write_event(&mut x, opts, &meta, &rec).map_err(io)
        })?;
        let mut transactions = 0;
        r.records_by_time(from, to, RecordFilter::Transactions, |rec| {
            transactions += 1;
            register::write_transaction(&mut x, &rec).map_err(io)
        })?;
        company::write_tail(&mut x).map_err(io)?;
        let (_, bytes) = x.finish().map_err(io)?;
        Ok(ExportSummary {
            transactions,
            events,
            bytes,
        })
    })
}

/// Pass one: who, what and which codes the file must declare up front.
fn collect(
    r: &crate::store::Reader<'_>,
    opts: &SaftOptions,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Result<Meta, SaftError> {
    let mut m = Meta {
        installation: r.installation_id()?,
        ..Meta::default()
    };
    let first_date = opts.from.to_string();
    for p in opts.catalog.products() {
        m.articles.insert(
            company::id35(&p.id),
            (p.name.clone(), p.group.clone(), first_date.clone()),
        );
        m.groups
            .insert(company::group_id(&p.group), p.group.clone());
    }
    r.records_by_time(from, to, RecordFilter::All, |rec| {
        let date = local_date(rec.at);
        let time = local_time(rec.at);
        let mut seen_employee = |id: &str| {
            m.employees.entry(company::id35(id)).or_insert(Employee {
                name: id.to_string(),
                date: date.clone(),
                time: time.clone(),
            });
        };
        if let Some(t) = &rec.trans {
            if let Some(op) = &t.operator {
                seen_employee(op);
            }
            match t.kind {
                TransKind::Sale => {
                    if let Some(id) = t.sale_id {
                        m.sale_nr.insert(id, t.nr);
                    }
                }
                TransKind::Return => {
                    if let Some(id) = t.refund_id {
                        m.refund_nr.insert(id, t.nr);
                    }
                }
                _ => {}
            }
            for l in &t.lines {
                m.vat.insert(l.vat.code(), l.vat);
                m.groups
                    .insert(company::group_id(&l.group), l.group.clone());
                if let Some(id) = &l.product_id {
                    m.articles.entry(company::id35(id)).or_insert((
                        l.name.clone(),
                        l.group.clone(),
                        date.clone(),
                    ));
                }
            }
            return Ok::<(), SaftError>(());
        }
        let code = saft_code(&rec.kind, &rec.data);
        m.events.insert(code.basic_id, code);
        if rec.kind == JournalKind::OperatorLogin.as_str()
            && let Some(id) = operator_id(&rec.data)
        {
            seen_employee(&id);
            if let Some(name) = rec.data.get("name").and_then(|n| n.as_str())
                && let Some(e) = m.employees.get_mut(&company::id35(&id))
            {
                e.name = name.to_string();
            }
        }
        Ok(())
    })?;
    m.public_keys = r
        .journal_keys()?
        .into_iter()
        .map(|(version, _, pem)| (version, pem))
        .collect();
    Ok(m)
}
