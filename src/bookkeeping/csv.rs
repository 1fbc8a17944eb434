//! Vouchers as CSV, for clubs whose accounting system is not PowerOffice:
//! one row per voucher line with date, voucher number, account, VAT code,
//! amount (debit positive, credit negative, kroner with a decimal point),
//! text and reference. Used by `luka export vouchers` and by the CSV sink,
//! which appends each voucher once to `vouchers-YYYY-MM.csv` in a folder.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Sink, kind};
use crate::domain::voucher::Voucher;
use crate::retry::{Failure, RetryClass};
use crate::store::OutboxItem;

pub const HEADER: &str = "date,voucher_no,account,vat_code,amount,currency,text,reference";

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
            "{},{},{},{},{},{},{},{}\n",
            v.date,
            field(&v.number),
            l.account,
            l.vat_code.map(|c| c.to_string()).unwrap_or_default(),
            decimal(l.amount),
            v.currency,
            field(&l.text),
            field(&v.external_ref),
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
        let existing = std::fs::read_to_string(&path).unwrap_or_default();
        // Already written by an attempt whose "done" was lost to a power cut.
        let marker = format!(",{}\n", field(&v.external_ref));
        if existing
            .lines()
            .any(|l| format!("{l}\n").ends_with(&marker))
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
            "date,voucher_no,account,vat_code,amount,currency,text,reference\n\
             2026-11-30,VIPPS-FEES,7770,,262.50,NOK,\"Vipps-gebyr, 30.11\",luka-vipps-1-2026-11-30-fees\n\
             2026-11-30,VIPPS-FEES,1903,,-262.50,NOK,\"Vipps-gebyr, 30.11\",luka-vipps-1-2026-11-30-fees\n"
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
}
