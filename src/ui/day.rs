//! The organizer screen's figures and lists, in words. The kiosk reads the
//! data ([`crate::kiosk::DayData`]: the figures since the last Z, the same
//! numbers an X report prints, today's sales and the backlog); this file
//! only turns them into display rows, in [`today`] and [`view`], pure
//! functions.

use crate::config::Language;
use crate::domain::report::Report;
use crate::domain::{Money, PaymentMethod, SaleStatus};
use crate::kiosk::{DayCounts, DayData, DaySale, MAX_ROWS};
use crate::store::{OutboxItem, OutboxStatus};

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
    /// The last Vipps settlement reconciliation, in a line or two.
    pub books_note: String,
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

/// What the organizer screen shows of the kiosk's [`DayData`], in `lang`.
pub fn today(data: &DayData, lang: Language) -> DayView {
    let mut v = view(
        &data.report,
        &data.sales,
        data.counts,
        &data.backlog,
        lang,
        data.printer,
    );
    // The books: one row per lane with something waiting, and the last
    // Vipps settlement reconciliation.
    let books = data.lanes.iter().filter(|l| l.status.pending > 0);
    v.backlog.extend(books.map(|l| lane_row(l, lang)));
    if let Some(r) = &data.reconciliation {
        v.books_note = reconciliation_note(r, lang);
    }
    v
}

fn lane_row(l: &crate::bookkeeping::sync::LaneView, lang: Language) -> BacklogView {
    let name = match l.status.kind.as_str() {
        crate::bookkeeping::kind::WEBHOOK => "webhook",
        crate::bookkeeping::kind::POWEROFFICE => "PowerOffice Go",
        crate::bookkeeping::kind::CSV => "CSV",
        other => other,
    };
    BacklogView {
        id: 0,
        what: format!("{} {name}", t(lang, "Regnskap:", "Books:")),
        sale: match lang {
            Language::Nb => format!("{} venter", l.status.pending),
            Language::En => format!("{} waiting", l.status.pending),
        },
        attempts: l.status.head_attempts,
        state: if l.alert {
            t(lang, "får ikke levert – sjekk", "cannot deliver – check")
        } else {
            t(lang, "venter", "waiting")
        },
        error: l.status.head_error.clone().unwrap_or_default(),
    }
}

fn reconciliation_note(
    r: &crate::bookkeeping::reconcile::Reconciliation,
    lang: Language,
) -> String {
    let problems = r.captured_not_in_journal.len()
        + r.journaled_not_captured.len()
        + r.refunds_not_in_journal.len()
        + r.journaled_refunds_not_at_vipps.len()
        + r.amount_differences.len()
        + r.for_review.len();
    let kr = |m: i64| Money::new(m, crate::domain::Currency::NOK).to_string();
    let head = match lang {
        Language::Nb => format!(
            "Vipps-oppgjør {}: utbetalt {}, gebyr {} – {}",
            r.ledger_date,
            kr(r.payout),
            kr(r.fees),
            if r.ok() {
                "stemmer med kassen".to_string()
            } else {
                format!("{problems} avvik")
            }
        ),
        Language::En => format!(
            "Vipps settlement {}: paid out {}, fees {} – {}",
            r.ledger_date,
            kr(r.payout),
            kr(r.fees),
            if r.ok() {
                "matches the till".to_string()
            } else {
                format!("{problems} differences")
            }
        ),
    };
    match r.summary().lines().find(|l| l.starts_with("  ")) {
        Some(first) => format!("{head}\n{}", first.trim()),
        None => head,
    }
}

fn t(lang: Language, nb: &str, en: &str) -> String {
    match lang {
        Language::Nb => nb.into(),
        Language::En => en.into(),
    }
}

/// The figures from the report and today's counts; a row for each of
/// `sales` (the newest, in the order given, at most [`MAX_ROWS`]); the
/// backlog. No figure is computed from the rows.
pub fn view(
    report: &Report,
    sales: &[DaySale],
    today: DayCounts,
    backlog: &[(OutboxItem, String)],
    lang: Language,
    printer: bool,
) -> DayView {
    let text = crate::ui::text::Text(lang);
    let DayCounts { unpaid, open } = today;
    let mut counts = vec![
        (t(lang, "Salg", "Sales"), report.sales.count.to_string()),
        (
            t(lang, "Refusjoner", "Refunds"),
            format!("{} ({})", report.returns.count, report.returns.amount),
        ),
        (
            t(lang, "Ikke betalt i dag", "Not paid today"),
            unpaid.to_string(),
        ),
        (t(lang, "Brutto", "Gross"), report.sales.amount.to_string()),
    ];
    if open > 0 {
        counts.push((t(lang, "Pågår", "In progress"), open.to_string()));
    }
    let method = |key: &str, label: &str| match PaymentMethod::parse(key) {
        Some(m) => text.method(m),
        None => label.to_string(),
    };
    let busy: Vec<_> = report
        .per_hour
        .iter()
        .filter(|h| h.count > 0 || !h.amount.is_zero())
        .collect();
    let max_hour = busy
        .iter()
        .map(|h| h.amount.minor())
        .max()
        .unwrap_or(0)
        .max(1);
    let (first, last) = match (busy.first(), busy.last()) {
        (Some(f), Some(l)) => (f.key.clone(), l.key.clone()),
        _ => (String::new(), String::new()),
    };
    DayView {
        total: report.net.to_string(),
        counts,
        per_method: report
            .per_payment
            .iter()
            .map(|r| (method(&r.key, &r.label), r.amount.to_string()))
            .collect(),
        per_product: report
            .per_product
            .iter()
            .map(|r| (r.label.clone(), format!("{} × · {}", r.count, r.amount)))
            .collect(),
        per_hour: report
            .per_hour
            .iter()
            .filter(|h| !first.is_empty() && h.key >= first && h.key <= last)
            .map(|h| Hour {
                hour: h.key.clone(),
                fraction: h.amount.minor().max(0) as f32 / max_hour as f32,
                value: h.amount.to_string(),
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
        books_note: String::new(),
    }
}

fn row(d: &DaySale, lang: Language, printer: bool) -> SaleRowView {
    let s = &d.sale;
    let at = crate::domain::local_time::to_oslo(s.created_at);
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
    use crate::domain::Currency;
    use crate::store::{RefundRecord, SaleRecord};
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

    /// A report as the shared arithmetic makes it, with figures filled in.
    fn report() -> Report {
        use crate::domain::report::{GrandTotals, ReportHeader, ReportKind, Row, Tally, compute};
        let header = ReportHeader {
            kind: ReportKind::X,
            number: None,
            till_id: "kiosk-1".into(),
            business_date: "2026-11-21".into(),
            made_date: "2026-11-21".into(),
            made_time: "15:00:00".into(),
            from_seq: 0,
            to_seq: 0,
            journal_head: String::new(),
            system: "Luka 0.1.0".into(),
            installation: "test".into(),
        };
        let mut r = compute(header, &[], &[], None, GrandTotals::default());
        let nok = Money::nok;
        let row = |key: &str, label: &str, count, amount| Row {
            key: key.into(),
            label: label.into(),
            count,
            amount: nok(amount),
        };
        r.sales = Tally {
            count: 2,
            amount: nok(36_000),
        };
        r.returns = Tally {
            count: 1,
            amount: nok(15_000),
        };
        r.net = nok(21_000);
        r.per_payment = vec![
            row("cash", "Kontant", 1, 3_000),
            row("vipps", "Vipps", 1, 33_000),
        ];
        r.per_product = vec![
            row("vaffel", "Vaffel", 2, 6_000),
            row("voksen", "Voksen", 2, 30_000),
        ];
        r.per_hour[12] = row("12", "12–13", 1, 33_000);
        r.per_hour[14] = row("14", "14–15", 1, 3_000);
        r
    }

    #[test]
    fn figures_come_from_the_report_and_rows_from_todays_sales() {
        let sales = vec![
            DaySale {
                sale: sale(1, SaleStatus::Paid, PaymentMethod::Vipps, 33_000, 12),
                refunds: vec![refund(1, 15_000, "done")],
                copy_printed: true,
            },
            DaySale {
                sale: sale(2, SaleStatus::Paid, PaymentMethod::Cash, 3_000, 14),
                refunds: vec![],
                copy_printed: false,
            },
            DaySale {
                sale: sale(3, SaleStatus::Unpaid, PaymentMethod::Vipps, 5_000, 14),
                refunds: vec![],
                copy_printed: false,
            },
        ];
        let today = DayCounts { unpaid: 1, open: 0 };
        let v = view(&report(), &sales, today, &[], Language::Nb, true);
        assert_eq!(v.total, "kr 210,00", "360 sold − 150 refunded");
        assert_eq!(v.counts[0], ("Salg".into(), "2".into()));
        assert_eq!(v.counts[1], ("Refusjoner".into(), "1 (kr 150,00)".into()));
        assert_eq!(v.counts[2], ("Ikke betalt i dag".into(), "1".into()));
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
        let hours: Vec<_> = v
            .per_hour
            .iter()
            .map(|h| (h.hour.as_str(), h.fraction))
            .collect();
        assert_eq!(
            hours,
            vec![("12", 1.0), ("13", 0.0), ("14", 3_000.0 / 33_000.0)]
        );
        assert!(v.sales[0].status.starts_with("Delvis refundert"));
        assert!(v.sales[0].refundable, "half is left to refund");
        assert!(!v.sales[1].refundable, "cash is refunded from the drawer");
        assert!(!v.sales[2].refundable);
        assert!(!v.sales[0].copyable, "its one copy is used");
        assert!(v.sales[1].copyable);
        assert!(!v.sales[2].copyable, "an unpaid sale has no receipt");
        let no_printer = view(&report(), &sales, today, &[], Language::Nb, false);
        assert!(!no_printer.sales[1].copyable);
        let en = view(&report(), &sales, today, &[], Language::En, true);
        assert_eq!(en.per_method[0].0, "Cash");
    }

    #[test]
    fn counts_are_the_days_not_the_rows_shown() {
        // One row on screen, a day of 250 sales behind it.
        let rows = vec![DaySale {
            sale: sale(250, SaleStatus::Paid, PaymentMethod::Cash, 3_000, 14),
            refunds: vec![],
            copy_printed: false,
        }];
        let today = DayCounts::from_statuses(&[
            (SaleStatus::Paid, 240),
            (SaleStatus::Unpaid, 7),
            (SaleStatus::Awaiting, 2),
            (SaleStatus::Capturing, 1),
        ]);
        assert_eq!(today, DayCounts { unpaid: 7, open: 3 });
        let v = view(&report(), &rows, today, &[], Language::Nb, true);
        assert_eq!(v.counts[0], ("Salg".into(), "2".into()), "from the report");
        assert_eq!(v.counts[2], ("Ikke betalt i dag".into(), "7".into()));
        assert_eq!(v.counts[4], ("Pågår".into(), "3".into()));
        assert_eq!(v.sales.len(), 1);
    }
}
