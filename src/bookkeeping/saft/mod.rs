//! `luka export saft`: the SAF-T Cash Register file (namespace
//! `urn:StandardAuditFile-Taxation-CashRegister:NO`, schema v1.00) for a
//! date range: header, company (VAT codes mapped to standard codes,
//! employees, articles, the basics used), one location with one cash
//! register per journal: its events, X/Z event reports and signed cash
//! transactions.
//!
//! Written from a [`JournalSource`] in streaming passes (what the company
//! part must list, over every register; then per register its events and
//! its transactions), so a year of sales never sits in memory. The till
//! reads its own SQLite on a separate read connection ([`export`]), so it
//! keeps selling meanwhile; the hub reads its verbatim copies of every
//! till's journal (`hub::saft`), one register per till. Never writes to
//! the journal.

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
use crate::store::{JournalRecord, Reader, RecordFilter, Store, StoreError, operator_id};
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
    /// The journal copies could not be read (the hub's database); a retry
    /// may help.
    #[error("cannot read the journals: {0}")]
    Source(String),
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

/// What a file covers and who it is for, whichever registers it holds.
#[derive(Debug, Clone)]
pub struct FileScope {
    /// First and last local date, both included.
    pub from: Date,
    pub to: Date,
    pub merchant: Merchant,
    /// Products to list as articles besides those sold in the period.
    pub catalog: Catalog,
    pub now: OffsetDateTime,
}

impl SaftOptions {
    pub fn scope(&self) -> FileScope {
        FileScope {
            from: self.from,
            to: self.to,
            merchant: self.merchant.clone(),
            catalog: self.catalog.clone(),
            now: self.now,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportSummary {
    /// Cash registers in the file (one on a till; one per till at the hub).
    pub registers: u64,
    pub transactions: u64,
    pub events: u64,
    pub bytes: u64,
}

/// Where the journals of a file come from: one journal per cash register,
/// each streamed in journal order as often as the writer asks (once per
/// pass), so no pass holds more than one entry.
pub trait JournalSource {
    /// The registers (till ids), in the order the file lists them.
    fn registers(&mut self) -> Result<Vec<String>, SaftError>;
    /// The installation's unique id (§ 2-8-2 d), for the register's description.
    fn installation(&mut self, register: &str) -> Result<String, SaftError>;
    /// (key version, public key PEM) of every key the register signs with.
    fn public_keys(&mut self, register: &str) -> Result<Vec<(String, String)>, SaftError>;
    /// The register's entries with `from <= at < to`, in journal order.
    fn records(
        &mut self,
        register: &str,
        from: OffsetDateTime,
        to: OffsetDateTime,
        filter: RecordFilter,
        f: &mut dyn FnMut(JournalRecord) -> Result<(), SaftError>,
    ) -> Result<(), SaftError>;
}

/// The till's own journal: one register, read on one snapshot.
struct TillJournal<'r, 'c> {
    reader: &'r Reader<'c>,
    till_id: String,
}

impl JournalSource for TillJournal<'_, '_> {
    fn registers(&mut self) -> Result<Vec<String>, SaftError> {
        Ok(vec![self.till_id.clone()])
    }

    fn installation(&mut self, _: &str) -> Result<String, SaftError> {
        Ok(self.reader.installation_id()?)
    }

    fn public_keys(&mut self, _: &str) -> Result<Vec<(String, String)>, SaftError> {
        Ok(self
            .reader
            .journal_keys()?
            .into_iter()
            .map(|(version, _, pem)| (version, pem))
            .collect())
    }

    fn records(
        &mut self,
        _: &str,
        from: OffsetDateTime,
        to: OffsetDateTime,
        filter: RecordFilter,
        f: &mut dyn FnMut(JournalRecord) -> Result<(), SaftError>,
    ) -> Result<(), SaftError> {
        self.reader.records_by_time(from, to, filter, f)
    }
}

/// An employee seen in the period (an operator who logged in or sold).
#[derive(Debug, Clone)]
struct Employee {
    name: String,
    date: String,
    time: String,
}

/// Everything the company part lists, gathered over every register in the
/// first pass.
#[derive(Debug, Default)]
struct Meta {
    employees: BTreeMap<String, Employee>,
    /// artID → (name, group, first date)
    articles: BTreeMap<String, (String, String, String)>,
    groups: BTreeMap<String, String>,
    vat: BTreeMap<u16, VatCode>,
    events: BTreeMap<&'static str, SaftCode>,
}

/// One cash register of the file, gathered in the first pass.
#[derive(Debug, Default)]
struct Register {
    id: String,
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

/// Writes the till's SAF-T XML for `opts` to `out`.
pub fn export<W: Write>(
    store: &Store,
    opts: &SaftOptions,
    out: W,
) -> Result<ExportSummary, SaftError> {
    check_range(opts.from, opts.to)?;
    store.read_separately(|r| {
        let mut source = TillJournal {
            reader: r,
            till_id: opts.till_id.clone(),
        };
        write(&mut source, &opts.scope(), out)
    })
}

fn check_range(from: Date, to: Date) -> Result<(), SaftError> {
    if to < from {
        return Err(SaftError::Invalid(format!(
            "--to {to} is before --from {from}: give the first date, then the last"
        )));
    }
    Ok(())
}

/// The instants a local date range covers: from the start of its first
/// day to the start of the day after its last.
pub fn bounds(from: Date, to: Date) -> (OffsetDateTime, OffsetDateTime) {
    (
        start_of_local_day(from),
        start_of_local_day(to.next_day().unwrap_or(to)),
    )
}

/// Writes the SAF-T XML of every register of `source` for `scope` to `out`.
pub fn write<W: Write>(
    source: &mut dyn JournalSource,
    scope: &FileScope,
    out: W,
) -> Result<ExportSummary, SaftError> {
    check_range(scope.from, scope.to)?;
    let (from, to) = bounds(scope.from, scope.to);
    let io = |source| SaftError::Io {
        path: "(output)".into(),
        source,
    };
    let (meta, registers) = collect(source, scope, from, to)?;
    let mut x = Xml::new(out);
    company::write_head(&mut x, scope, &meta, &registers).map_err(io)?;
    let mut events = 0;
    let mut transactions = 0;
    for reg in &registers {
        company::open_register(&mut x, reg).map_err(io)?;
        source.records(&reg.id, from, to, RecordFilter::Events, &mut |rec| {
            events += 1;
            register::write_event(&mut x, scope, &meta, reg, &rec).map_err(io)
        })?;
        source.records(&reg.id, from, to, RecordFilter::Transactions, &mut |rec| {
            transactions += 1;
            register::write_transaction(&mut x, &rec).map_err(io)
        })?;
        company::close_register(&mut x).map_err(io)?;
    }
    company::write_tail(&mut x).map_err(io)?;
    let (_, bytes) = x.finish().map_err(io)?;
    Ok(ExportSummary {
        registers: registers.len() as u64,
        transactions,
        events,
        bytes,
    })
}

/// Pass one: who, what and which codes the file must declare up front,
/// and each register's own numbers and keys.
fn collect(
    source: &mut dyn JournalSource,
    scope: &FileScope,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Result<(Meta, Vec<Register>), SaftError> {
    let mut m = Meta::default();
    let first_date = scope.from.to_string();
    for p in scope.catalog.products() {
        m.articles.insert(
            company::id35(&p.id),
            (p.name.clone(), p.group.clone(), first_date.clone()),
        );
        m.groups
            .insert(company::group_id(&p.group), p.group.clone());
    }
    let mut registers = Vec::new();
    for id in source.registers()? {
        let mut reg = Register {
            installation: source.installation(&id)?,
            public_keys: source.public_keys(&id)?,
            id,
            ..Register::default()
        };
        let id = reg.id.clone();
        source.records(&id, from, to, RecordFilter::All, &mut |rec| {
            collect_record(&mut m, &mut reg, &rec);
            Ok(())
        })?;
        registers.push(reg);
    }
    Ok((m, registers))
}

fn collect_record(m: &mut Meta, reg: &mut Register, rec: &JournalRecord) {
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
                    reg.sale_nr.insert(id, t.nr);
                }
            }
            TransKind::Return => {
                if let Some(id) = t.refund_id {
                    reg.refund_nr.insert(id, t.nr);
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
        return;
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
}
