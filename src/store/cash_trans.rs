//! Builds the SAF-T cash transaction a journal entry stands for, from what
//! the store holds: the sale, its lines and payment, the refund, the count.
//! Called by `Writer::journal` inside the same write transaction.

use time::OffsetDateTime;

use super::{Result, StoreError, Writer};
use crate::domain::journal::{
    CashTransaction, JournalKind, TransKind, TransPayment, return_lines, sale_lines, totals_of,
};
use crate::domain::local_time::{local_date, local_time};
use crate::domain::{Currency, PaymentMethod};

impl Writer<'_> {
    pub(super) fn cash_transaction(
        &mut self,
        kind: JournalKind,
        sale_id: Option<i64>,
        data: &serde_json::Value,
        now: OffsetDateTime,
    ) -> Result<CashTransaction> {
        let operator = self.current_operator()?;
        let mut t = match kind {
            JournalKind::SalePaid | JournalKind::SaleRefunded => {
                let sale_id = sale_id.ok_or_else(|| {
                    StoreError::Rejected(format!("a {kind} journal entry needs its sale"))
                })?;
                let sale = self.reader().sale(sale_id)?;
                let lines = self.reader().sale_lines(sale_id)?;
                let (kind, amount, (lines, vat), refund_id) = if kind == JournalKind::SalePaid {
                    (
                        TransKind::Sale,
                        sale.total.minor(),
                        sale_lines(&lines),
                        None,
                    )
                } else {
                    let amount = data["amount"].as_i64().ok_or_else(|| {
                        StoreError::Rejected("a sale.refunded entry needs its amount".into())
                    })?;
                    (
                        TransKind::Return,
                        -amount,
                        return_lines(&lines, amount),
                        data["refund_id"].as_i64(),
                    )
                };
                let (gross, net) = totals_of(&vat);
                if gross != amount {
                    return Err(StoreError::Corrupt(format!(
                        "sale {} lines add up to {gross} øre, not {amount}",
                        sale.reference
                    )));
                }
                CashTransaction {
                    nr: 0,
                    kind,
                    till_id: sale.till_id.clone(),
                    currency: sale.total.currency(),
                    sale_id: Some(sale.id),
                    receipt_no: sale.receipt_no,
                    refund_id,
                    date: String::new(),
                    time: String::new(),
                    amount_in: gross,
                    amount_ex: net,
                    lines,
                    vat,
                    payments: vec![TransPayment {
                        method: sale.method,
                        amount: gross,
                        reference: Some(sale.reference.clone()),
                        msn: sale
                            .msn
                            .clone()
                            .filter(|_| sale.method == PaymentMethod::Vipps),
                    }],
                    operator: None,
                    training: sale.training,
                    department: sale.department.clone(),
                }
            }
            JournalKind::CashFloat | JournalKind::CashDifference => {
                let (kind, field) = if kind == JournalKind::CashFloat {
                    (TransKind::Float, "amount")
                } else {
                    (TransKind::Difference, "difference")
                };
                let amount = data[field].as_i64().ok_or_else(|| {
                    StoreError::Rejected(format!(
                        "a {} entry needs '{field}' in øre",
                        kind.journal_kind()
                    ))
                })?;
                CashTransaction {
                    nr: 0,
                    kind,
                    till_id: data["till"].as_str().unwrap_or_default().to_string(),
                    currency: Currency::NOK,
                    sale_id: None,
                    receipt_no: None,
                    refund_id: None,
                    date: String::new(),
                    time: String::new(),
                    amount_in: amount,
                    amount_ex: amount,
                    lines: vec![],
                    vat: vec![],
                    payments: vec![TransPayment {
                        method: PaymentMethod::Cash,
                        amount,
                        reference: None,
                        msn: None,
                    }],
                    operator: None,
                    training: data["training"].as_bool().unwrap_or(false),
                    department: None,
                }
            }
            other => {
                return Err(StoreError::Rejected(format!(
                    "{other} is not a cash transaction"
                )));
            }
        };
        t.nr = self.next_counter("saft_nr")?;
        t.date = local_date(now);
        t.time = local_time(now);
        t.operator = operator;
        Ok(t)
    }
}
