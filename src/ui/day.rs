//! Today's figures for the organizer screen, read from the store and
//! turned into display rows. The arithmetic lives in [`view`], a pure
//! function, so the screen's numbers are tested without a window.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::config::Language;
use crate::domain::{Money, PaymentMethod, SaleLine, SaleStatus};
use crate::store::{OutboxItem, OutboxStatus, RefundRecord, SaleRecord, Store, StoreError};

/// What the organizer screen shows, as text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DayView {
    pub total: String,
    pub counts: Vec<(String, String)>,
    pub per_method: Vec<(String, String)>,
    pub per_product: Vec<(String, String)>,
    pub per_hour: Vec<Hour>,
    pub sales: Vec<SaleRowView>,
    pub backlog: Vec<BacklogView>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Hour {
    pub hour: String,
    pub fraction: f32,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SaleRowView {
    pub id: i64,
    pub time: String,
    pub receipt: String,
    pub amount: String,
    pub method: String,
    pub status: String,
    pub refundable: bool,
    /// Paid, a printer is set up, and its one copy is not used yet.
    pub copyable: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BacklogView {
    pub id: i64,
    pub what: String,
    pub sale: String,
    pub attempts: u32,
    pub state: String,
    pub error: String,
}

/// One stored sale with what the screen needs of it.
pub struct DaySale {
    pub sale: SaleRecord,
    pub lines: Vec<SaleLine>,
    pub refunds: Vec<RefundRecord>,
    pub copy_printed: bool,
}

/// The most rows the sales list shows (newest first).
const MAX_ROWS: usize = 200;

/// Reads today's sales (local midnight onwards) and the backlog.
pub fn today(
    store: &Store,
    now: OffsetDateTime,
    lang: Language,
    printer: bool,
) -> Result<DayView, StoreError> {
    let local = crate::clock::local(now);
    let midnight = local.replace_time(time::Time::MIDNIGHT);
    let (sales, backlog) = store.read(|r| {
        let mut out = Vec::new();
        for sale in r.sales_since(midnight)? {
            let lines = r.sale_lines(sale.id)?;
            let refunds = r.refunds(sale.id)?;
            let copy_printed = r
                .outbox_by_key(&crate::kiosk::printing::copy_key(sale.id))?
                .is_some();
            out.push(DaySale {
                sale,
                lines,
                refunds,
                copy_printed,
            });
        }
        let backlog = r.outbox_backlog()?;
        let refs = backlog
            .iter()
            .map(|i| match i.sale_id {
                Some(id) => r.sale(id).map(|s| s.reference).unwrap_or_default(),
                None => String::new(),
            })
            .collect::<Vec<_>>();
        Ok((out, backlog.into_iter().zip(refs).collect::<Vec<_>>()))
    })?;
    Ok(view(&sales, &backlog, lang, printer))
}

fn t(lang: Language, nb: &str, en: &str) -> String {
    match lang {
        Language::Nb => nb.into(),
        Language::En => en.into(),
    }
}

fn sum(a: Money, b: Money) -> Money {
    a.checked_add(b).unwrap_or(a)
}

/// The figures from today's sales (any order) and the backlog.
pub fn view(
    sales: &[DaySale],
    backlog: &[(OutboxItem, String)],
    lang: Language,
    printer: bool,
) -> DayView {
    let zero = Money::nok(0);
    let mut paid = 0usize;
    let mut unpaid = 0usize;
    let mut open = 0usize;
    let mut gross = zero;
    let mut refunded = zero;
    let mut refund_count = 0usize;
    let mut per_method: BTreeMap<String, Money> = BTreeMap::new();
    let mut per_product: BTreeMap<String, (u32, Money)> = BTreeMap::new();
    let mut per_hour: BTreeMap<u8, Money> = BTreeMap::new();
    for d in sales {
        let s = &d.sale;
        match s.status {
            SaleStatus::Paid => {}
            SaleStatus::Unpaid => {
                unpaid += 1;
                continue;
            }
            _ => {
                open += 1;
                continue;
            }
        }
        paid += 1;
        gross = sum(gross, s.total);
        let method = crate::ui::text::Text(lang).method(s.method);
        let m = per_method.entry(method).or_insert(zero);
        *m = sum(*m, s.total);
        for l in &d.lines {
            let e = per_product.entry(l.name.clone()).or_insert((0, zero));
            e.0 += l.quantity;
            e.1 = sum(e.1, l.amount().unwrap_or(zero));
        }
        let at = crate::clock::local(s.closed_at.unwrap_or(s.created_at));
        let h = per_hour.entry(at.hour()).or_insert(zero);
        *h = sum(*h, s.total);
        for r in d.refunds.iter().filter(|r| r.status == "done") {
            refund_count += 1;
            refunded = sum(refunded, Money::new(r.amount, s.total.currency()));
        }
    }
    let net = gross.checked_sub(refunded).unwrap_or(gross);
    let mut counts = vec![
        (t(lang, "Salg", "Sales"), paid.to_string()),
        (
            t(lang, "Refusjoner", "Refunds"),
            format!("{refund_count} ({refunded})"),
        ),
        (t(lang, "Ikke betalt", "Not paid"), unpaid.to_string()),
        (t(lang, "Brutto", "Gross"), gross.to_string()),
    ];
    if open > 0 {
        counts.push((t(lang, "Pågår", "In progress"), open.to_string()));
    }
    let max_hour = per_hour
        .values()
        .map(|m| m.minor())
        .max()
        .unwrap_or(0)
        .max(1);
    let hours = match (per_hour.keys().next(), per_hour.keys().last()) {
        (Some(&first), Some(&last)) => (first..=last).collect::<Vec<_>>(),
        _ => Vec::new(),
    };
    DayView {
        total: net.to_string(),
        counts,
        per_method: per_method
            .into_iter()
            .map(|(k, v)| (k, v.to_string()))
            .collect(),
        per_product: per_product
            .into_iter()
            .map(|(k, (q, v))| (k, format!("{q} × · {v}")))
            .collect(),
        per_hour: hours
            .into_iter()
            .map(|h| {
                let v = per_hour.get(&h).copied().unwrap_or(zero);
                Hour {
                    hour: format!("{h:02}"),
                    fraction: v.minor() as f32 / max_hour as f32,
                    value: v.to_string(),
                }
            })
            .collect(),
        sales: sales
            .iter()
            .take(MAX_ROWS)
            .map(|d| row(d, lang, printer))
            .collect(),
        backlog: backlog
            .iter()
            .map(|(i, r)| backlog_row(i, r, lang))
            .collect(),
    }
}

fn row(d: &DaySale, lang: Language, printer: bool) -> SaleRowView {
    let s = &d.sale;
    let at = crate::clock::local(s.created_at);
    let refunded: i64 = d
        .refunds
        .iter()
        .filter(|r| r.status == "done" || r.status == "pending")
        .map(|r| r.amount)
        .sum();
    let text = crate::ui::text::Text(lang);
    let status = match (s.status, refunded) {
        (SaleStatus::Paid, 0) => text.status(SaleStatus::Paid),
        (SaleStatus::Paid, r) if r >= s.total.minor() => t(lang, "Refundert", "Refunded"),
        (SaleStatus::Paid, r) => match lang {
            Language::Nb => format!("Delvis refundert ({})", Money::new(r, s.total.currency())),
            Language::En => format!("Partly refunded ({})", Money::new(r, s.total.currency())),
        },
        (SaleStatus::Unpaid, _) => match s.unpaid_reason {
            Some(reason) => format!(
                "{} – {}",
                text.status(SaleStatus::Unpaid),
                short(reason, lang)
            ),
            None => text.status(SaleStatus::Unpaid),
        },
        (other, _) => text.status(other),
    };
    SaleRowView {
        id: s.id,
        time: format!("{:02}:{:02}", at.hour(), at.minute()),
        receipt: s.receipt_no.map(|n| n.to_string()).unwrap_or_default(),
        amount: s.total.to_string(),
        method: text.method(s.method),
        status,
        refundable: s.status == SaleStatus::Paid
            && s.method == PaymentMethod::Vipps
            && refunded < s.total.minor(),
        copyable: printer && s.status == SaleStatus::Paid && !d.copy_printed,
    }
}

fn short(reason: crate::domain::UnpaidReason, lang: Language) -> String {
    use crate::domain::UnpaidReason::*;
    match (reason, lang) {
        (Aborted, Language::Nb) => "avbrutt av kunden".into(),
        (Expired, Language::Nb) => "utløpt".into(),
        (Cancelled, Language::Nb) => "avbrutt i kassen".into(),
        (Rejected, Language::Nb) => "avvist".into(),
        (Unknown, Language::Nb) => "ikke opprettet".into(),
        (r, Language::En) => r.as_str().into(),
    }
}

fn backlog_row(i: &OutboxItem, reference: &str, lang: Language) -> BacklogView {
    let what = match (i.kind.as_str(), lang) {
        ("vipps.create", Language::Nb) => "Opprett Vipps-betaling",
        ("vipps.capture", Language::Nb) => "Trekk beløpet",
        ("vipps.cancel", Language::Nb) => "Avbryt betaling",
        ("vipps.refund", Language::Nb) => "Refusjon",
        (k, Language::Nb) if k.starts_with("print.") => "Kvittering",
        ("vipps.create", Language::En) => "Create Vipps payment",
        ("vipps.capture", Language::En) => "Capture",
        ("vipps.cancel", Language::En) => "Cancel payment",
        ("vipps.refund", Language::En) => "Refund",
        (k, Language::En) if k.starts_with("print.") => "Receipt",
        (other, _) => other,
    };
    let state = match (i.status, lang) {
        (OutboxStatus::Failed, Language::Nb) => "stoppet – trenger deg",
        (OutboxStatus::Failed, Language::En) => "stopped – needs you",
        (OutboxStatus::InFlight, Language::Nb) => "sendes nå",
        (OutboxStatus::InFlight, Language::En) => "sending",
        (_, Language::Nb) => "venter",
        (_, Language::En) => "waiting",
    };
    BacklogView {
        id: i.id,
        what: what.into(),
        sale: reference.into(),
        attempts: i.attempts,
        state: state.into(),
        error: i.last_error.clone().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Currency, VatCode};
    use time::macros::datetime;

    fn sale(
        id: i64,
        status: SaleStatus,
        method: PaymentMethod,
        total: i64,
        hour: u8,
    ) -> SaleRecord {
        let at = datetime!(2026-11-21 00:00 UTC).replace_hour(hour).unwrap();
        SaleRecord {
            id,
            till_id: "kiosk-1".into(),
            reference: format!("kiosk-1-{id:06}-00000000"),
            method,
            status,
            total: Money::new(total, Currency::NOK),
            description: String::new(),
            unpaid_reason: None,
            receipt_no: (status == SaleStatus::Paid).then_some(id),
            cash_given: None,
            training: true,
            created_at: at,
            closed_at: Some(at),
        }
    }

    fn line(name: &str, q: u32, unit: i64) -> SaleLine {
        SaleLine {
            product_id: Some(name.to_lowercase()),
            name: name.into(),
            group: "Kiosk".into(),
            quantity: q,
            unit_price: Money::nok(unit),
            vat: VatCode::try_from(31).unwrap(),
        }
    }

    fn refund(sale_id: i64, amount: i64, status: &str) -> RefundRecord {
        RefundRecord {
            id: sale_id * 10,
            sale_id,
            amount,
            reason: "Feil vare".into(),
            status: status.into(),
            created_at: datetime!(2026-11-21 15:00 UTC),
        }
    }

    #[test]
    fn takings_per_method_product_and_hour_net_of_refunds() {
        let sales = vec![
            DaySale {
                sale: sale(1, SaleStatus::Paid, PaymentMethod::Vipps, 33_000, 12),
                lines: vec![line("Voksen", 2, 15_000), line("Vaffel", 1, 3_000)],
                refunds: vec![refund(1, 15_000, "done")],
                copy_printed: true,
            },
            DaySale {
                sale: sale(2, SaleStatus::Paid, PaymentMethod::Cash, 3_000, 14),
                lines: vec![line("Vaffel", 1, 3_000)],
                refunds: vec![],
                copy_printed: false,
            },
            DaySale {
                sale: sale(3, SaleStatus::Unpaid, PaymentMethod::Vipps, 5_000, 14),
                lines: vec![line("Barn", 1, 5_000)],
                refunds: vec![],
                copy_printed: false,
            },
        ];
        let v = view(&sales, &[], Language::Nb, true);
        assert_eq!(v.total, "kr 210,00", "360 sold − 150 refunded");
        assert_eq!(v.counts[0], ("Salg".into(), "2".into()));
        assert_eq!(v.counts[1], ("Refusjoner".into(), "1 (kr 150,00)".into()));
        assert_eq!(v.counts[2], ("Ikke betalt".into(), "1".into()));
        assert_eq!(
            v.per_method,
            vec![
                ("Kontant".into(), "kr 30,00".into()),
                ("Vipps".into(), "kr 330,00".into())
            ]
        );
        assert!(
            v.per_product
                .contains(&("Vaffel".into(), "2 × · kr 60,00".into()))
        );
        assert!(
            !v.per_product.iter().any(|(n, _)| n == "Barn"),
            "unpaid sales sell nothing"
        );
        let hours: Vec<_> = v
            .per_hour
            .iter()
            .map(|h| (h.hour.as_str(), h.fraction))
            .collect();
        assert_eq!(hours.len(), 3, "12, 13 (empty) and 14: {hours:?}");
        assert_eq!(hours[0].1, 1.0);
        assert_eq!(hours[1].1, 0.0);
        assert!(v.sales[0].status.starts_with("Delvis refundert"));
        assert!(v.sales[0].refundable, "half is left to refund");
        assert!(!v.sales[1].refundable, "cash is refunded from the drawer");
        assert!(!v.sales[2].refundable);
        assert!(!v.sales[0].copyable, "its one copy is used");
        assert!(v.sales[1].copyable);
        assert!(!v.sales[2].copyable, "an unpaid sale has no receipt");
        assert!(
            !view(&sales, &[], Language::Nb, false).sales[1].copyable,
            "no printer"
        );
    }
}
