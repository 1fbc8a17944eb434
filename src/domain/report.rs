//! X and Z report arithmetic: from the signed cash transactions and the
//! events of a period to the figures an organizer reads and SAF-T exports.
//!
//! Pure: the store gathers the period, `reports` orchestrates and journals.
//! Definitions (the hand-computed test expectations follow these):
//! - training transactions count only under `training`, nowhere else;
//! - `sales` are sale transactions (count, VAT-inclusive amount), `returns`
//!   the refunds (count, amount given back, positive), `net` = sales − returns;
//! - per product / group / VAT / payment / operator / hour figures are net
//!   of returns (a return's lines and payments are negative);
//! - expected cash = the period's last declared float + cash taken − cash
//!   given back; difference = counted − expected.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::journal::{CashTransaction, JournalKind, TransKind};
use super::{Currency, Money, PaymentMethod};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReportKind {
    X,
    Z,
}

/// A count and an amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub count: i64,
    pub amount: Money,
}

/// Nothing, in kroner: what a report made before a tally existed reads as.
impl Default for Tally {
    fn default() -> Self {
        Tally {
            count: 0,
            amount: Money::nok(0),
        }
    }
}

/// One labelled row: a product, group, payment method, operator or hour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub key: String,
    pub label: String,
    /// Units for products and groups; transactions for the others.
    pub count: i64,
    pub amount: Money,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VatRow {
    pub code: u16,
    pub rate_bp: i64,
    pub gross: Money,
    pub vat: Money,
    pub net: Money,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashSummary {
    pub float: Money,
    /// Cash taken in sales minus cash given back.
    pub cash_in: Money,
    pub expected: Money,
    pub counted: Option<Money>,
    pub difference: Option<Money>,
}

/// One department's share of a period (issue 16, part 4): what its sales
/// took per payment method and per VAT code, net of returns. A report has
/// these only when some sale of the period was booked under a department.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartmentRow {
    /// The department code; empty for sales booked under none.
    pub department: String,
    pub sales: Tally,
    pub returns: Tally,
    pub net: Money,
    pub per_payment: Vec<Row>,
    pub per_vat: Vec<VatRow>,
}

/// The label of sales booked under no department.
pub const NO_DEPARTMENT: &str = "(uten avdeling)";

/// Sales, returns and net since the first Z of this till.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct GrandTotals {
    pub sales: i64,
    pub returns: i64,
    pub net: i64,
}

/// A journal event that reports count (copies, drawer openings, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFact {
    pub kind: JournalKind,
    pub sale_id: Option<i64>,
    /// For copies: the amount of the receipt copied.
    pub amount: Option<i64>,
    pub training: bool,
}

/// Where a report starts and ends, and who it is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportHeader {
    pub kind: ReportKind,
    /// The Z number; `None` for X.
    pub number: Option<i64>,
    pub till_id: String,
    /// Local business day, `YYYY-MM-DD`.
    pub business_date: String,
    /// Local date and time the report was made.
    pub made_date: String,
    pub made_time: String,
    /// Journal entries covered: after `from_seq`, up to and including `to_seq`.
    pub from_seq: i64,
    pub to_seq: i64,
    /// Hash of the journal entry `to_seq`: printed, it anchors the chain on paper.
    pub journal_head: String,
    /// The system and its version, e.g. "Luka 0.1.0" (§ 2-8-2 d).
    #[serde(default)]
    pub system: String,
    /// The installation's unique id (§ 2-8-2 d).
    #[serde(default)]
    pub installation: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub header: ReportHeader,
    pub currency: Currency,
    pub sales: Tally,
    /// Sales without VAT.
    pub sales_net_of_vat: Money,
    pub returns: Tally,
    pub net: Money,
    pub per_product: Vec<Row>,
    pub per_group: Vec<Row>,
    pub per_vat: Vec<VatRow>,
    pub per_payment: Vec<Row>,
    pub per_operator: Vec<Row>,
    /// Per operator and payment method (§ 2-8-2 h): key `operator/method`,
    /// label the method's.
    #[serde(default)]
    pub per_operator_payment: Vec<Row>,
    /// 24 rows, hour 0 to 23 local time, for the organizer's bar chart.
    pub per_hour: Vec<Row>,
    /// Per department, when the period has any (issue 16, part 4).
    #[serde(default)]
    pub per_department: Vec<DepartmentRow>,
    /// Vipps net per sales unit (key: the MSN), when the payments name
    /// their unit: each MSN is settled to its own bank account.
    #[serde(default)]
    pub per_vipps_unit: Vec<Row>,
    /// The till has no discount function yet: always zero, kept for SAF-T.
    pub discounts: Tally,
    pub copies: Tally,
    pub training: Tally,
    /// Salgskvitteringer on paper (§ 2-8-2 l); SAF-T's reportReceiptNum.
    pub receipts_printed: i64,
    /// Returkvitteringer on paper: not sales receipts, counted apart.
    #[serde(default)]
    pub return_receipts_printed: i64,
    pub receipts_not_printed: i64,
    /// Sales cancelled or not paid, with what they would have come to
    /// (§ 2-8-2 r; SAF-T reportVoidTrans).
    #[serde(default)]
    pub voids: Tally,
    /// Cart lines taken out or lowered before payment, with their amount
    /// (§ 2-8-2 s; SAF-T reportCorrLines).
    #[serde(default)]
    pub corrections: Tally,
    pub drawer_openings_without_sale: i64,
    pub price_changes: i64,
    pub cash: CashSummary,
    pub grand_totals: GrandTotals,
}

/// The label used for transactions nobody was logged in for.
pub const NO_OPERATOR: &str = "(ingen innlogget)";

/// Computes a report over one period held in memory.
pub fn compute(
    header: ReportHeader,
    transactions: &[CashTransaction],
    events: &[EventFact],
    counted: Option<i64>,
    previous: GrandTotals,
) -> Report {
    let mut b = ReportBuilder::default();
    transactions.iter().for_each(|t| b.transaction(t));
    events.iter().for_each(|e| b.event(e));
    b.finish(header, counted, previous)
}

#[derive(Debug, Default)]
struct DepartmentAcc {
    sales: (i64, i64),
    returns: (i64, i64),
    payments: BTreeMap<&'static str, (i64, i64)>,
    vat: VatSums,
}

/// Folds a period in one transaction or event at a time, so a year of
/// sales never has to sit in memory.
#[derive(Debug, Default)]
pub struct ReportBuilder {
    currency: Option<Currency>,
    sales: (i64, i64),
    sales_net: i64,
    returns: (i64, i64),
    training: (i64, i64),
    products: BTreeMap<String, (String, i64, i64)>,
    groups: BTreeMap<String, (i64, i64)>,
    vat: VatSums,
    payments: BTreeMap<&'static str, (i64, i64)>,
    operators: BTreeMap<String, (i64, i64)>,
    operator_payments: BTreeMap<(String, &'static str), (i64, i64)>,
    hours: [(i64, i64); 24],
    departments: BTreeMap<String, DepartmentAcc>,
    any_department: bool,
    vipps_units: BTreeMap<String, (i64, i64)>,
    float: i64,
    cash_in: i64,
    copies: (i64, i64),
    printed: i64,
    return_printed: i64,
    not_printed: i64,
    voids: (i64, i64),
    corrections: (i64, i64),
    drawer: i64,
    price_changes: i64,
    /// A training till: its separate database holds nothing but training,
    /// so its reports count training as what it is practising (the
    /// `training` tally still says how much of it there was).
    training_till: bool,
}

impl ReportBuilder {
    /// A builder for a training till's database (see `training_till`).
    pub fn for_training_till() -> ReportBuilder {
        ReportBuilder {
            training_till: true,
            ..ReportBuilder::default()
        }
    }

    pub fn transaction(&mut self, t: &CashTransaction) {
        self.currency.get_or_insert(t.currency);
        let training = t.training && !self.training_till;
        if t.training && t.kind == TransKind::Sale && self.training_till {
            self.training.0 += 1;
            self.training.1 += t.amount_in;
        }
        match t.kind {
            TransKind::Float if !training => self.float = t.amount_in,
            TransKind::Float | TransKind::Difference => {}
            TransKind::Sale | TransKind::Return if training => {
                if t.kind == TransKind::Sale {
                    self.training.0 += 1;
                    self.training.1 += t.amount_in;
                }
            }
            TransKind::Sale | TransKind::Return => self.sale_or_return(t),
        }
    }

    fn sale_or_return(&mut self, t: &CashTransaction) {
        let one = if t.kind == TransKind::Sale {
            self.sales.0 += 1;
            self.sales.1 += t.amount_in;
            self.sales_net += t.amount_ex;
            1
        } else {
            self.returns.0 += 1;
            self.returns.1 -= t.amount_in;
            0
        };
        for l in &t.lines {
            let key = l
                .product_id
                .clone()
                .unwrap_or_else(|| format!("({})", l.name));
            let e = self
                .products
                .entry(key)
                .or_insert_with(|| (l.name.clone(), 0, 0));
            e.1 += l.quantity.unwrap_or(0);
            e.2 += l.amount_in;
            let g = self.groups.entry(l.group.clone()).or_default();
            g.0 += l.quantity.unwrap_or(0);
            g.1 += l.amount_in;
        }
        add_vat(&mut self.vat, &t.vat);
        for p in &t.payments {
            let e = self.payments.entry(p.method.as_str()).or_default();
            e.0 += 1;
            e.1 += p.amount;
            if p.method == PaymentMethod::Cash {
                self.cash_in += p.amount;
            }
        }
        self.any_department |= t.department.is_some();
        let d = self
            .departments
            .entry(t.department.clone().unwrap_or_default())
            .or_default();
        if t.kind == TransKind::Sale {
            d.sales.0 += 1;
            d.sales.1 += t.amount_in;
        } else {
            d.returns.0 += 1;
            d.returns.1 -= t.amount_in;
        }
        for p in &t.payments {
            let e = d.payments.entry(p.method.as_str()).or_default();
            e.0 += 1;
            e.1 += p.amount;
            if let (PaymentMethod::Vipps, Some(msn)) = (p.method, &p.msn) {
                let u = self.vipps_units.entry(msn.clone()).or_default();
                u.0 += one;
                u.1 += p.amount;
            }
        }
        add_vat(&mut d.vat, &t.vat);
        let op = t.operator.clone().unwrap_or_else(|| NO_OPERATOR.into());
        for p in &t.payments {
            let e = self
                .operator_payments
                .entry((op.clone(), p.method.as_str()))
                .or_default();
            e.0 += one;
            e.1 += p.amount;
        }
        let e = self.operators.entry(op).or_default();
        e.0 += one;
        e.1 += t.amount_in;
        let h = &mut self.hours[t.hour().min(23) as usize];
        h.0 += one;
        h.1 += t.amount_in;
    }

    pub fn event(&mut self, e: &EventFact) {
        let training = e.training && !self.training_till;
        match e.kind {
            JournalKind::CopyPrinted if !training => {
                self.copies.0 += 1;
                self.copies.1 += e.amount.unwrap_or(0);
            }
            // Sales receipts on paper (§ 2-8-2 l); return receipts apart.
            JournalKind::ReceiptPrinted if !training => self.printed += 1,
            JournalKind::ReturnReceiptPrinted if !training => self.return_printed += 1,
            JournalKind::SaleUnpaid if !training => {
                self.voids.0 += 1;
                self.voids.1 += e.amount.unwrap_or(0);
            }
            JournalKind::CartLineCorrected if !training => {
                self.corrections.0 += 1;
                self.corrections.1 += e.amount.unwrap_or(0);
            }
            JournalKind::ReceiptNotPrinted if !training => self.not_printed += 1,
            JournalKind::DrawerOpened if e.sale_id.is_none() => self.drawer += 1,
            JournalKind::PriceChanged => self.price_changes += 1,
            _ => {}
        }
    }

    pub fn finish(
        self,
        header: ReportHeader,
        counted: Option<i64>,
        previous: GrandTotals,
    ) -> Report {
        let c = self.currency.unwrap_or_default();
        let m = |minor| Money::new(minor, c);
        let tally = |(count, minor): (i64, i64)| Tally {
            count,
            amount: m(minor),
        };
        let row = |key: String, label: String, (count, amount): (i64, i64)| Row {
            key,
            label,
            count,
            amount: m(amount),
        };
        let expected = self.float + self.cash_in;
        let net = self.sales.1 - self.returns.1;
        Report {
            currency: c,
            sales: tally(self.sales),
            sales_net_of_vat: m(self.sales_net),
            returns: tally(self.returns),
            net: m(net),
            per_product: self
                .products
                .into_iter()
                .map(|(k, (label, q, a))| row(k, label, (q, a)))
                .collect(),
            per_group: self
                .groups
                .into_iter()
                .map(|(k, v)| row(k.clone(), k, v))
                .collect(),
            per_vat: vat_rows(self.vat, m),
            per_payment: self
                .payments
                .into_iter()
                .map(|(k, v)| row(k.to_string(), method_label(k).to_string(), v))
                .collect(),
            per_operator: self
                .operators
                .into_iter()
                .map(|(k, v)| row(k.clone(), k, v))
                .collect(),
            per_operator_payment: self
                .operator_payments
                .into_iter()
                .map(|((op, m), v)| row(format!("{op}/{m}"), method_label(m).to_string(), v))
                .collect(),
            per_hour: self
                .hours
                .iter()
                .enumerate()
                .map(|(h, v)| row(format!("{h:02}"), format!("{h:02}–{:02}", h + 1), *v))
                .collect(),
            per_department: if self.any_department {
                self.departments
                    .into_iter()
                    .map(|(department, d)| DepartmentRow {
                        department,
                        sales: tally(d.sales),
                        returns: tally(d.returns),
                        net: m(d.sales.1 - d.returns.1),
                        per_payment: d
                            .payments
                            .into_iter()
                            .map(|(k, v)| row(k.to_string(), method_label(k).to_string(), v))
                            .collect(),
                        per_vat: vat_rows(d.vat, m),
                    })
                    .collect()
            } else {
                Vec::new()
            },
            per_vipps_unit: self
                .vipps_units
                .into_iter()
                .map(|(msn, v)| row(msn.clone(), format!("Vipps MobilePay {msn}"), v))
                .collect(),
            discounts: tally((0, 0)),
            copies: tally(self.copies),
            training: tally(self.training),
            receipts_printed: self.printed,
            return_receipts_printed: self.return_printed,
            voids: tally(self.voids),
            corrections: tally(self.corrections),
            receipts_not_printed: self.not_printed,
            drawer_openings_without_sale: self.drawer,
            price_changes: self.price_changes,
            cash: CashSummary {
                float: m(self.float),
                cash_in: m(self.cash_in),
                expected: m(expected),
                counted: counted.map(m),
                difference: counted.map(|k| m(k - expected)),
            },
            grand_totals: GrandTotals {
                sales: previous.sales + self.sales.1,
                returns: previous.returns + self.returns.1,
                net: previous.net + net,
            },
            header,
        }
    }
}

/// VAT code → (rate, gross, VAT, net), as a period or a department sums it.
type VatSums = BTreeMap<u16, (i64, i64, i64, i64)>;

fn add_vat(sums: &mut VatSums, vat: &[super::journal::TransVat]) {
    for v in vat {
        let e = sums
            .entry(v.vat.code())
            .or_insert((v.vat.rate_bp(), 0, 0, 0));
        e.1 += v.gross;
        e.2 += v.vat_amount;
        e.3 += v.net;
    }
}

fn vat_rows(sums: VatSums, m: impl Fn(i64) -> Money) -> Vec<VatRow> {
    sums.into_iter()
        .map(|(code, (rate_bp, g, v, n))| VatRow {
            code,
            rate_bp,
            gross: m(g),
            vat: m(v),
            net: m(n),
        })
        .collect()
}

fn method_label(method: &str) -> &'static str {
    match method {
        "vipps" => "Vipps MobilePay",
        "cash" => "Kontant",
        "card" => "Kort (terminal)",
        _ => "Annet",
    }
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
