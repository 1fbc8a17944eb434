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
use super::report::{Report, Row, VatRow};

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
    /// The department (avdeling) the line is booked under (issue 16, part
    /// 4); `None` on lines of no department. Left out of the JSON when
    /// `None`, so a voucher queued before departments reads the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
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

    /// Every line booked under `department` (a fee or payout voucher of a
    /// sales unit's MSN).
    pub fn in_department(mut self, department: Option<&str>) -> Voucher {
        for l in &mut self.lines {
            l.department = department.map(String::from);
        }
        self
    }

    /// Every department code the voucher's lines name, in order, once each.
    pub fn departments(&self) -> Vec<&str> {
        let mut seen: Vec<&str> = Vec::new();
        for d in self.lines.iter().filter_map(|l| l.department.as_deref()) {
            if !seen.contains(&d) {
                seen.push(d);
            }
        }
        seen
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
///
/// When the report splits the day by department (`per_department`), the
/// payment and sales lines are made per department, each carrying its
/// code (sales booked under none carry none), so every department's lines
/// balance on their own. The cash difference carries no department: the
/// drawer is the till's, shared by every unit it sold for that day, and
/// nothing says whose the missing or extra kroner are.
pub fn daily_sales(report: &Report, accounts: &Accounts) -> Option<Voucher> {
    let number = report.header.number?;
    let date = report.header.business_date.clone();
    let currency = report.currency.code().to_string();
    let mut lines = Vec::new();
    if report.per_department.is_empty() {
        sales_lines(
            &mut lines,
            accounts,
            number,
            None,
            &report.per_payment,
            &report.per_vat,
        );
    } else {
        for d in &report.per_department {
            let department = Some(d.department.as_str()).filter(|c| !c.is_empty());
            sales_lines(
                &mut lines,
                accounts,
                number,
                department,
                &d.per_payment,
                &d.per_vat,
            );
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
            department: None,
        });
        lines.push(VoucherLine {
            account: accounts.cash_difference,
            vat_code: None,
            amount: -diff,
            text: format!("Z{number} kassedifferanse"),
            department: None,
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

/// The payment (debit) and sales (credit) lines of a day or of one
/// department's share of it; zero rows book nothing and are left out.
fn sales_lines(
    lines: &mut Vec<VoucherLine>,
    accounts: &Accounts,
    number: i64,
    department: Option<&str>,
    per_payment: &[Row],
    per_vat: &[VatRow],
) {
    let suffix = department.map(|d| format!(" avd. {d}")).unwrap_or_default();
    for row in per_payment {
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
                text: format!("Z{number} {}{suffix}", row.label),
                department: department.map(String::from),
            });
        }
    }
    for vat in per_vat {
        if vat.gross.minor() != 0 {
            lines.push(VoucherLine {
                account: accounts.sales_account(vat.code),
                vat_code: Some(vat.code),
                amount: -vat.gross.minor(),
                text: format!(
                    "Z{number} salg mva-kode {} ({}){suffix}",
                    vat.code,
                    VatCode::from_code(vat.code)
                        .map(|v| v.description())
                        .unwrap_or("ukjent")
                ),
                department: department.map(String::from),
            });
        }
    }
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
                department: None,
            },
            VoucherLine {
                account: credit,
                vat_code: None,
                amount: -amount,
                text: description,
                department: None,
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

    /// A Z of hand-computed figures (issue 16, part 4): department 10 sold
    /// a ticket for 150 kr by Vipps (outside VAT, code 6) and coffee for
    /// 40 kr in cash (15 %, code 31), and gave 50 kr back by Vipps;
    /// department 20 sold a ticket for 100 kr by Vipps; a sale booked under
    /// no department took 30 kr in cash (coffee). Counted cash was 5 kr
    /// short.
    mod departments {
        use super::super::*;
        use crate::domain::journal::{
            CashTransaction, TransKind, TransLine, TransPayment, TransVat,
        };
        use crate::domain::report::{GrandTotals, ReportHeader, ReportKind, compute};
        use crate::domain::{Currency, PaymentMethod};

        fn header() -> ReportHeader {
            ReportHeader {
                kind: ReportKind::Z,
                number: Some(7),
                till_id: "kiosk-1".into(),
                business_date: "2026-11-30".into(),
                made_date: "2026-11-30".into(),
                made_time: "22:00:00".into(),
                from_seq: 0,
                to_seq: 10,
                journal_head: "00".into(),
                system: "Luka 0.1.0".into(),
                installation: "test".into(),
            }
        }

        fn t(
            amount: i64,
            vat: VatCode,
            method: PaymentMethod,
            department: Option<&str>,
        ) -> CashTransaction {
            let v = vat.vat_of_gross(amount);
            CashTransaction {
                nr: 1,
                kind: if amount > 0 {
                    TransKind::Sale
                } else {
                    TransKind::Return
                },
                till_id: "kiosk-1".into(),
                currency: Currency::NOK,
                sale_id: Some(1),
                receipt_no: Some(1),
                refund_id: None,
                date: "2026-11-30".into(),
                time: "18:30:00".into(),
                amount_in: amount,
                amount_ex: amount - v,
                lines: vec![TransLine {
                    product_id: Some("x".into()),
                    name: "X".into(),
                    group: "G".into(),
                    quantity: Some(amount.signum()),
                    amount_in: amount,
                    amount_ex: amount - v,
                    vat,
                    vat_amount: v,
                }],
                vat: vec![TransVat {
                    vat,
                    gross: amount,
                    vat_amount: v,
                    net: amount - v,
                }],
                payments: vec![TransPayment {
                    method,
                    amount,
                    reference: None,
                    msn: None,
                }],
                operator: None,
                training: false,
                department: department.map(String::from),
            }
        }

        fn day(with_departments: bool) -> Report {
            let d = |code| with_departments.then_some(code);
            let ts = [
                t(15_000, VatCode::OutsideScope, PaymentMethod::Vipps, d("10")),
                t(4_000, VatCode::ReducedMiddle, PaymentMethod::Cash, d("10")),
                t(-5_000, VatCode::OutsideScope, PaymentMethod::Vipps, d("10")),
                t(10_000, VatCode::OutsideScope, PaymentMethod::Vipps, d("20")),
                t(3_000, VatCode::ReducedMiddle, PaymentMethod::Cash, None),
            ];
            // Expected cash: 40 + 30 kr; counted 65 kr.
            compute(header(), &ts, &[], Some(6_500), GrandTotals::default())
        }

        fn lines(v: &Voucher) -> Vec<(u32, Option<u16>, i64, Option<&str>)> {
            v.lines
                .iter()
                .map(|l| (l.account, l.vat_code, l.amount, l.department.as_deref()))
                .collect()
        }

        #[test]
        fn each_department_has_its_own_balanced_lines() {
            let v = daily_sales(&day(true), &Accounts::default()).unwrap();
            assert_eq!(
                lines(&v),
                [
                    // No department: 30 kr coffee in cash.
                    (1900, None, 3_000, None),
                    (3030, Some(31), -3_000, None),
                    // Department 10: 40 kr cash, 150 − 50 kr Vipps.
                    (1900, None, 4_000, Some("10")),
                    (1903, None, 10_000, Some("10")),
                    (3200, Some(6), -10_000, Some("10")),
                    (3030, Some(31), -4_000, Some("10")),
                    // Department 20: 100 kr Vipps.
                    (1903, None, 10_000, Some("20")),
                    (3200, Some(6), -10_000, Some("20")),
                    // The drawer was 5 kr short: the till's, no department.
                    (1900, None, -500, None),
                    (7799, None, 500, None),
                ]
            );
            assert_eq!(v.check(), Ok(()));
            for d in [None, Some("10"), Some("20")] {
                let sum: i64 = v
                    .lines
                    .iter()
                    .filter(|l| l.department.as_deref() == d && l.account != 7799)
                    .filter(|l| !l.text.ends_with("kassedifferanse"))
                    .map(|l| l.amount)
                    .sum();
                assert_eq!(sum, 0, "department {d:?} balances by itself");
            }
            assert_eq!(v.departments(), ["10", "20"]);
            // The sales lines follow the report's VAT rows (its order).
            assert_eq!(v.lines[3].text, "Z7 Vipps MobilePay avd. 10");
            assert_eq!(v.debit_total(), 3_000 + 4_000 + 10_000 + 10_000 + 500);
        }

        #[test]
        fn without_departments_the_voucher_is_as_before() {
            let v = daily_sales(&day(false), &Accounts::default()).unwrap();
            assert_eq!(
                lines(&v),
                [
                    (1900, None, 7_000, None),
                    (1903, None, 20_000, None),
                    (3200, Some(6), -20_000, None),
                    (3030, Some(31), -7_000, None),
                    (1900, None, -500, None),
                    (7799, None, 500, None),
                ]
            );
            assert!(v.departments().is_empty());
            let json = serde_json::to_string(&v).unwrap();
            assert!(!json.contains("department"), "{json}");
        }

        #[test]
        fn fee_and_payout_lines_take_their_units_department() {
            let v = transfer(
                VoucherKind::VippsFees,
                "2026-11-30",
                "F".into(),
                "ref".into(),
                "fees".into(),
                "NOK",
                (7770, 1903),
                263,
            )
            .in_department(Some("20"));
            assert!(
                v.lines
                    .iter()
                    .all(|l| l.department.as_deref() == Some("20"))
            );
            let back: Voucher = serde_json::from_str(&serde_json::to_string(&v).unwrap()).unwrap();
            assert_eq!(back, v);
        }
    }
}
