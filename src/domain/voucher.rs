//! Vouchers for the club's books (bilag): the daily sales voucher made from a
//! Z report, and the fee and payout vouchers made from a Vipps settlement
//! day. Every sink (PowerOffice Go, CSV, …) posts these same vouchers.
//!
//! Pure: a voucher is built from figures already computed elsewhere; it
//! carries its own deterministic `external_ref`, so posting it twice (a lost
//! answer, a retry, a second `luka sync`) can always be recognised upstream.
//!
//! Sign rule: a line's `amount` is positive for a debit and negative for a
//! credit, in minor units (øre); a balanced voucher sums to zero.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::VatCode;
use super::report::Report;

/// Account numbers (Norwegian standard chart, NS 4102) the vouchers use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accounts {
    /// Vipps clearing (mellomregning Vipps): debited with Vipps sales,
    /// credited with fees and payouts; zero once a day is settled.
    pub vipps_clearing: u32,
    /// Cash in the till (kontanter).
    pub cash: u32,
    /// What the card terminal's acquirer owes the club (mellomregning
    /// kortterminal): debited with card sales, credited by its payouts.
    pub card_clearing: u32,
    /// The bank account Vipps pays out to.
    pub bank: u32,
    /// Vipps fees (gebyrer).
    pub fees: u32,
    /// Cash counted above or below what was expected at Z (kassedifferanse).
    pub cash_difference: u32,
    /// Sales account per SAF-T VAT code.
    pub sales: BTreeMap<u16, u32>,
}

impl Default for Accounts {
    fn default() -> Self {
        Accounts {
            vipps_clearing: 1903,
            cash: 1900,
            card_clearing: 1580,
            bank: 1920,
            fees: 7770,
            cash_difference: 7799,
            sales: BTreeMap::from([
                (3, 3000),  // salgsinntekt, avgiftspliktig 25 %
                (31, 3030), // salgsinntekt, avgiftspliktig 15 % (mat)
                (32, 3030),
                (33, 3033), // salgsinntekt, avgiftspliktig 12 %
                (5, 3100),  // salgsinntekt, avgiftsfri (nullsats)
                (6, 3200),  // salgsinntekt, utenfor avgiftsområdet (billetter)
            ]),
        }
    }
}

impl Accounts {
    /// The sales account for a VAT code; unknown codes fall back to the
    /// outside-scope account so a voucher never fails to balance.
    pub fn sales_account(&self, vat: u16) -> u32 {
        self.sales
            .get(&vat)
            .or_else(|| self.sales.get(&6))
            .copied()
            .unwrap_or(3200)
    }

    /// Every account a voucher may name, for look-ups upstream.
    pub fn all(&self) -> Vec<u32> {
        let mut v = vec![
            self.vipps_clearing,
            self.cash,
            self.card_clearing,
            self.bank,
            self.fees,
            self.cash_difference,
        ];
        v.extend(self.sales.values().copied());
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// Which journal a voucher belongs to upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoucherKind {
    /// The Z report's daily sales (PowerOffice: CashJournals).
    DailySales,
    /// Vipps fees for a ledger date (PowerOffice: BankJournals).
    VippsFees,
    /// A Vipps payout to the bank (PowerOffice: BankJournals).
    VippsPayout,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoucherLine {
    pub account: u32,
    /// SAF-T standard VAT code on sales lines; `None` elsewhere.
    pub vat_code: Option<u16>,
    /// Debit positive, credit negative, minor units.
    pub amount: i64,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Voucher {
    pub kind: VoucherKind,
    /// Voucher date, `YYYY-MM-DD` (the business day or the ledger date).
    pub date: String,
    /// A short human number: `Z12`, `VIPPS-2026-11-30-FEES`.
    pub number: String,
    /// Deterministic and unique per voucher: PowerOffice's
    /// `ExternalImportReference`, the CSV's reference column.
    pub external_ref: String,
    pub description: String,
    /// ISO 4217, e.g. `NOK`.
    pub currency: String,
    pub lines: Vec<VoucherLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VoucherError {
    #[error("voucher {number} does not balance: debits and credits differ by {diff} øre")]
    Unbalanced { number: String, diff: i64 },
    #[error("voucher {0} has no lines")]
    Empty(String),
}

impl Voucher {
    /// Sum of the lines: zero when balanced.
    pub fn balance(&self) -> i64 {
        self.lines.iter().map(|l| l.amount).sum()
    }

    pub fn check(&self) -> Result<(), VoucherError> {
        if self.lines.is_empty() {
            return Err(VoucherError::Empty(self.number.clone()));
        }
        match self.balance() {
            0 => Ok(()),
            diff => Err(VoucherError::Unbalanced {
                number: self.number.clone(),
                diff,
            }),
        }
    }

    /// Debit total (the voucher's size), minor units.
    pub fn debit_total(&self) -> i64 {
        self.lines.iter().map(|l| l.amount.max(0)).sum()
    }
}

/// The deterministic reference of a till's Z voucher.
pub fn z_external_ref(till_id: &str, business_date: &str, z_number: i64) -> String {
    format!("luka-{till_id}-{business_date}-z{z_number}")
}

/// The daily sales voucher of a Z report: debit Vipps clearing and cash
/// with what each payment method took (net of returns), credit sales per
/// VAT code (VAT-inclusive; the accounting system splits out the VAT from
/// the code), and the counted cash difference if any. `None` when the day
/// had no sales and no difference: there is nothing to book.
pub fn daily_sales(report: &Report, accounts: &Accounts) -> Option<Voucher> {
    let number = report.header.number?;
    let date = report.header.business_date.clone();
    let currency = report.currency.code().to_string();
    let mut lines = Vec::new();
    for row in &report.per_payment {
        let account = match row.key.as_str() {
            "cash" => accounts.cash,
            "card" => accounts.card_clearing,
            _ => accounts.vipps_clearing,
        };
        if row.amount.minor() != 0 {
            lines.push(VoucherLine {
                account,
                vat_code: None,
                amount: row.amount.minor(),
                text: format!("Z{number} {}", row.label),
            });
        }
    }
    for vat in &report.per_vat {
        if vat.gross.minor() != 0 {
            lines.push(VoucherLine {
                account: accounts.sales_account(vat.code),
                vat_code: Some(vat.code),
                amount: -vat.gross.minor(),
                text: format!(
                    "Z{number} salg mva-kode {} ({})",
                    vat.code,
                    VatCode::from_code(vat.code)
                        .map(|v| v.description())
                        .unwrap_or("ukjent")
                ),
            });
        }
    }
    if let Some(diff) = report.cash.difference.map(|d| d.minor())
        && diff != 0
    {
        lines.push(VoucherLine {
            account: accounts.cash,
            vat_code: None,
            amount: diff,
            text: format!("Z{number} kassedifferanse"),
        });
        lines.push(VoucherLine {
            account: accounts.cash_difference,
            vat_code: None,
            amount: -diff,
            text: format!("Z{number} kassedifferanse"),
        });
    }
    if lines.is_empty() {
        return None;
    }
    Some(Voucher {
        kind: VoucherKind::DailySales,
        number: format!("Z{number}"),
        external_ref: z_external_ref(&report.header.till_id, &date, number),
        description: format!(
            "Dagsoppgjør {} kasse {} Z{number}",
            date, report.header.till_id
        ),
        date,
        currency,
        lines,
    })
}

/// A two-line bank voucher: debit `debit`, credit `credit`, `amount` ≥ 0.
/// (Every argument is one field of the voucher; a builder would only hide that.)
#[allow(clippy::too_many_arguments)]
pub fn transfer(
    kind: VoucherKind,
    date: &str,
    number: String,
    external_ref: String,
    description: String,
    currency: &str,
    (debit, credit): (u32, u32),
    amount: i64,
) -> Voucher {
    Voucher {
        kind,
        date: date.to_string(),
        number,
        external_ref,
        description: description.clone(),
        currency: currency.to_string(),
        lines: vec![
            VoucherLine {
                account: debit,
                vat_code: None,
                amount,
                text: description.clone(),
            },
            VoucherLine {
                account: credit,
                vat_code: None,
                amount: -amount,
                text: description,
            },
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balance_and_check() {
        let v = transfer(
            VoucherKind::VippsFees,
            "2026-11-30",
            "F".into(),
            "ref".into(),
            "fees".into(),
            "NOK",
            (7770, 1903),
            1234,
        );
        assert_eq!(v.balance(), 0);
        assert_eq!(v.debit_total(), 1234);
        assert!(v.check().is_ok());
        let mut bad = v.clone();
        bad.lines[0].amount += 1;
        assert_eq!(
            bad.check(),
            Err(VoucherError::Unbalanced {
                number: "F".into(),
                diff: 1
            })
        );
    }

    #[test]
    fn default_accounts_cover_every_vat_code() {
        let a = Accounts::default();
        for v in VatCode::ALL {
            assert!(a.sales.contains_key(&v.code()), "{v:?}");
        }
        assert_eq!(a.sales_account(99), 3200);
        assert!(a.all().contains(&1903));
    }
}
