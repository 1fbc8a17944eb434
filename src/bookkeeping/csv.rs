//! Vouchers as CSV, for clubs whose accounting system is not PowerOffice:
//! one row per voucher line with date, voucher number, account, VAT code,
//! amount (debit positive, credit negative, kroner with a decimal point),
//! text, reference and department. Used by `luka export vouchers` and by
//! the CSV sink, which appends each voucher once to `vouchers-YYYY-MM.csv`
//! in a folder.
//!
//! The header is the format's version. `department` (issue 16, part 4) came
//! last, after `reference`, so a reader that takes the first eight columns
//! by position reads a new file as an old one. A monthly file begun with
//! the old eight-column header is upgraded when the sink next appends to
//! it: rewritten whole (to a temporary file, then renamed over it) with
//! the new header and an empty department on its old rows, so one file
//! never mixes two shapes.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Sink, kind};
use crate::domain::voucher::Voucher;
use crate::retry::{Failure, RetryClass};
use crate::store::OutboxItem;

pub const HEADER: &str =
    "date,voucher_no,account,vat_code,amount,currency,text,reference,department";

/// The header before departments: files written by older versions.
pub const HEADER_V1: &str = "date,voucher_no,account,vat_code,amount,currency,text,reference";

/// Minor units as a decimal: `-12345` → `-123.45`. Integer arithmetic only.
pub fn decimal(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// Quotes a field when it holds a comma, quote or line break (RFC 4180).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The rows of one voucher, without the header.
pub fn rows(v: &Voucher) -> String {
    let mut out = String::new();
    for l in &v.lines {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{}\n",
            v.date,
            field(&v.number),
            l.account,
            l.vat_code.map(|c| c.to_string()).unwrap_or_default(),
            decimal(l.amount),
            v.currency,
            field(&l.text),
            field(&v.external_ref),
            field(l.department.as_deref().unwrap_or_default()),
        ));
    }
    out
}

/// A whole CSV document: header and every voucher's rows.
pub fn document(vouchers: &[Voucher]) -> String {
    let mut out = format!("{HEADER}\n");
    for v in vouchers {
        out.push_str(&rows(v));
    }
    out
}

/// Appends each voucher once to a monthly file in `dir`.
pub struct CsvSink {
    dir: PathBuf,
}

impl CsvSink {
    pub fn new(dir: &Path) -> CsvSink {
        CsvSink {
            dir: dir.to_path_buf(),
        }
    }

    fn file_for(&self, v: &Voucher) -> PathBuf {
        let month = v.date.get(..7).unwrap_or("undated");
        self.dir.join(format!("vouchers-{month}.csv"))
    }

    fn append(&self, v: &Voucher) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let path = self.file_for(v);
        let mut existing = std::fs::read_to_string(&path).unwrap_or_default();
        if existing.starts_with(&format!("{HEADER_V1}\n")) {
            existing = upgraded(&existing);
            let tmp = path.with_extension("csv.upgrade");
            {
                let mut f = std::fs::File::create(&tmp)?;
                f.write_all(existing.as_bytes())?;
                f.sync_all()?;
            }
            std::fs::rename(&tmp, &path)?;
            tracing::info!(file = %path.display(), "CSV voucher file upgraded: a department column was added");
        }
        // Already written by an attempt whose "done" was lost to a power cut.
        if existing
            .lines()
            .skip(1)
            .any(|l| reference_of(l) == Some(field(&v.external_ref).as_str()))
        {
            return Ok(());
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        let mut text = String::new();
        if existing.is_empty() {
            text.push_str(HEADER);
            text.push('\n');
        }
        text.push_str(&rows(v));
        f.write_all(text.as_bytes())?;
        f.sync_all()
    }
}

/// An eight-column file as a nine-column one: the new header, and an empty
/// department after each old row. Luka's own rows never hold a line break
/// (no text it writes has one), so a row is a line.
fn upgraded(old: &str) -> String {
    let mut out = format!("{HEADER}\n");
    for line in old.lines().skip(1).filter(|l| !l.is_empty()) {
        out.push_str(line);
        out.push_str(",\n");
    }
    out
}

/// The reference field of a nine-column row as written (quoted if it was):
/// the one before the department, which is a plain code, never quoted.
fn reference_of(row: &str) -> Option<&str> {
    let (rest, _department) = row.rsplit_once(',')?;
    if let Some(quoted) = rest.strip_suffix('"') {
        // A quoted reference: back to its opening quote.
        let start = quoted.rfind(",\"")?;
        return Some(&rest[start + 1..]);
    }
    rest.rsplit_once(',').map(|(_, r)| r)
}

#[async_trait::async_trait]
impl Sink for CsvSink {
    fn kind(&self) -> &'static str {
        kind::CSV
    }

    fn service(&self) -> &'static str {
        "the CSV folder"
    }

    async fn deliver(&self, item: &OutboxItem) -> Result<(), Failure> {
        let v = super::sink::voucher_of(item)?;
        let dir = self.dir.clone();
        let me = CsvSink { dir };
        tokio::task::spawn_blocking(move || me.append(&v))
            .await
            .map_err(|e| Failure {
                class: RetryClass::Transient,
                message: format!("CSV writer stopped: {e}"),
            })?
            .map_err(|e| Failure {
                // A full or read-only disk may be fixed: keep trying.
                class: RetryClass::Transient,
                message: format!("cannot write {}: {e}", self.dir.display()),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::voucher::{VoucherKind, transfer};

    #[test]
    fn decimals_are_exact() {
        assert_eq!(decimal(0), "0.00");
        assert_eq!(decimal(5), "0.05");
        assert_eq!(decimal(-12345), "-123.45");
        assert!(decimal(i64::MIN + 1).len() > 10);
    }

    #[test]
    fn rows_quote_and_append_once() {
        let v = transfer(
            VoucherKind::VippsFees,
            "2026-11-30",
            "VIPPS-FEES".into(),
            "luka-vipps-1-2026-11-30-fees".into(),
            "Vipps-gebyr, 30.11".into(),
            "NOK",
            (7770, 1903),
            26250,
        );
        let text = document(std::slice::from_ref(&v));
        assert_eq!(
            text,
            "date,voucher_no,account,vat_code,amount,currency,text,reference,department\n\
             2026-11-30,VIPPS-FEES,7770,,262.50,NOK,\"Vipps-gebyr, 30.11\",luka-vipps-1-2026-11-30-fees,\n\
             2026-11-30,VIPPS-FEES,1903,,-262.50,NOK,\"Vipps-gebyr, 30.11\",luka-vipps-1-2026-11-30-fees,\n"
        );
        let dir = tempfile::tempdir().unwrap();
        let sink = CsvSink::new(dir.path());
        sink.append(&v).unwrap();
        sink.append(&v).unwrap();
        let written = std::fs::read_to_string(dir.path().join("vouchers-2026-11.csv")).unwrap();
        assert_eq!(
            written, text,
            "a second append of the same voucher writes nothing"
        );
    }

    #[test]
    fn department_is_the_last_column_and_an_old_file_is_upgraded_once() {
        let fees = |date: &str, reference: &str| {
            transfer(
                VoucherKind::VippsFees,
                date,
                "VIPPS-FEES".into(),
                reference.into(),
                "Vipps-gebyr".into(),
                "NOK",
                (7770, 1903),
                1_050,
            )
        };
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("vouchers-2026-11.csv");
        // A file an older Luka wrote: eight columns.
        let old_row = "2026-11-29,VIPPS-FEES,7770,,10.50,NOK,Vipps-gebyr,\"luka,old\"\n";
        std::fs::write(&file, format!("{HEADER_V1}\n{old_row}")).unwrap();
        let sink = CsvSink::new(dir.path());
        let new = fees("2026-11-30", "luka-vipps-2-2026-11-30-fees").in_department(Some("20"));
        sink.append(&new).unwrap();
        sink.append(&new).unwrap();
        // The old voucher, appended again by a retry, is recognised.
        let mut again = fees("2026-11-29", "luka,old");
        again.lines.truncate(1);
        sink.append(&again).unwrap();
        let written = std::fs::read_to_string(&file).unwrap();
        assert_eq!(
            written,
            format!(
                "{HEADER}\n\
                 2026-11-29,VIPPS-FEES,7770,,10.50,NOK,Vipps-gebyr,\"luka,old\",\n\
                 2026-11-30,VIPPS-FEES,7770,,10.50,NOK,Vipps-gebyr,luka-vipps-2-2026-11-30-fees,20\n\
                 2026-11-30,VIPPS-FEES,1903,,-10.50,NOK,Vipps-gebyr,luka-vipps-2-2026-11-30-fees,20\n"
            )
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file is left"
        );
    }
}
