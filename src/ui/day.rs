//! The organizer screen's figures and lists, in words. The kiosk reads the
//! data ([`crate::kiosk::DayData`]: the figures since the last Z, the same
//! numbers an X report prints, today's sales and the backlog); this file
//! only turns them into display rows, in [`today`] and [`view`], pure
//! functions.

use super::text::Text;
use super::{JobStateWord, JobWord, MismatchWord};
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

/// What the organizer screen shows of the kiosk's [`DayData`], in the
/// screen's words.
pub fn today(data: &DayData, text: &Text) -> DayView {
    let mut v = view(
        &data.report,
        &data.sales,
        data.counts,
        &data.backlog,
        text,
        data.printer,
    );
    // The books: one row per lane with something waiting, and the last
    // Vipps settlement reconciliation.
    let books = data.lanes.iter().filter(|l| l.status.pending > 0);
    v.backlog.extend(books.map(|l| lane_row(l, text)));
    // One note per sales unit reconciled that date, named by its MSN when
    // the till has several.
    let several = data.reconciliations.len() > 1;
    v.books_note = data
        .reconciliations
        .iter()
        .map(|r| match (&r.msn, several) {
            (Some(msn), true) => format!("{msn}: {}", reconciliation_note(r, text)),
            _ => reconciliation_note(r, text),
        })
        .collect::<Vec<_>>()
        .join("\n");
    v
}

fn lane_row(l: &crate::bookkeeping::sync::LaneView, text: &Text) -> BacklogView {
    let name = match l.status.kind.as_str() {
        crate::bookkeeping::kind::WEBHOOK => "webhook",
        crate::bookkeeping::kind::POWEROFFICE => "PowerOffice Go",
        crate::bookkeeping::kind::CSV => "CSV",
        other => other,
    };
    let w = text.words();
    BacklogView {
        id: 0,
        what: w.invoke_books(name.into()).into(),
        sale: w.invoke_lane_waiting(count(l.status.pending)).into(),
        attempts: l.status.head_attempts,
        state: w
            .invoke_job_state(if l.alert {
                JobStateWord::Undeliverable
            } else {
                JobStateWord::Waiting
            })
            .into(),
        error: l.status.head_error.clone().unwrap_or_default(),
    }
}

/// The last settlement in a line, and its first difference (in the order
/// the reconciliation lists them) on a second line.
fn reconciliation_note(r: &crate::bookkeeping::reconcile::Reconciliation, text: &Text) -> String {
    let problems = r.captured_not_in_journal.len()
        + r.journaled_not_captured.len()
        + r.refunds_not_in_journal.len()
        + r.journaled_refunds_not_at_vipps.len()
        + r.amount_differences.len()
        + r.for_review.len();
    let kr = |m: i64| Money::new(m, crate::domain::Currency::NOK).to_string();
    let w = text.words();
    let head = w.invoke_settlement(
        r.ledger_date.as_str().into(),
        kr(r.payout).into(),
        kr(r.fees).into(),
        r.ok(),
        count(problems),
    );
    let lists = [
        (
            MismatchWord::CapturedNotJournaled,
            &r.captured_not_in_journal,
        ),
        (
            MismatchWord::JournaledNotCaptured,
            &r.journaled_not_captured,
        ),
        (MismatchWord::RefundNotJournaled, &r.refunds_not_in_journal),
        (
            MismatchWord::RefundNotAtVipps,
            &r.journaled_refunds_not_at_vipps,
        ),
        (MismatchWord::AmountsDiffer, &r.amount_differences),
    ];
    let first = lists
        .iter()
        .find_map(|(word, list)| list.first().map(|m| (*word, m)))
        .map(|(word, m)| {
            let amount = match m.journal_amount {
                Some(j) => format!("{} ({})", kr(m.amount), kr(j)),
                None => kr(m.amount),
            };
            w.invoke_mismatch(word, m.reference.as_str().into(), amount.into())
        })
        .or_else(|| {
            r.for_review.first().map(|e| {
                let what = e
                    .reference
                    .clone()
                    .unwrap_or_else(|| e.psp_reference.clone());
                w.invoke_mismatch(MismatchWord::ForReview, what.into(), kr(e.amount).into())
            })
        })
        .or_else(|| {
            (r.clearing_left != 0).then(|| w.invoke_clearing_left(kr(r.clearing_left).into()))
        });
    match first {
        Some(line) => format!("{head}\n{line}"),
        None => head.into(),
    }
}

fn count(n: impl TryInto<i32>) -> i32 {
    n.try_into().unwrap_or(i32::MAX)
}

/// The figures from the report and today's counts; a row for each of
/// `sales` (the newest, in the order given, at most [`MAX_ROWS`]); the
/// backlog. No figure is computed from the rows.
pub fn view(
    report: &Report,
    sales: &[DaySale],
    today: DayCounts,
    backlog: &[(OutboxItem, String)],
    text: &Text,
    printer: bool,
) -> DayView {
    let w = text.words();
    let DayCounts { unpaid, open } = today;
    let mut counts = vec![
        (w.invoke_sales().into(), report.sales.count.to_string()),
        (
            w.invoke_refunds().into(),
            format!("{} ({})", report.returns.count, report.returns.amount),
        ),
        (w.invoke_unpaid_today().into(), unpaid.to_string()),
        (w.invoke_gross().into(), report.sales.amount.to_string()),
    ];
    if open > 0 {
        counts.push((w.invoke_in_progress().into(), open.to_string()));
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
        // Each method, then each department's net when the day was booked
        // under departments (issue 16, part 4).
        per_method: report
            .per_payment
            .iter()
            .map(|r| (method(&r.key, &r.label), r.amount.to_string()))
            .chain(report.per_department.iter().map(|d| {
                let name = if d.department.is_empty() {
                    w.invoke_no_department().to_string()
                } else {
                    w.invoke_department(d.department.as_str().into())
                        .to_string()
                };
                (name, d.net.to_string())
            }))
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
            .map(|d| row(d, text, printer))
            .collect(),
        backlog: backlog
            .iter()
            .map(|(i, r)| backlog_row(i, r, text))
            .collect(),
        books_note: String::new(),
    }
}

fn row(d: &DaySale, text: &Text, printer: bool) -> SaleRowView {
    let s = &d.sale;
    let at = crate::domain::local_time::to_oslo(s.created_at);
    let refunded: i64 = d
        .refunds
        .iter()
        .filter(|r| r.status == "done" || r.status == "pending")
        .map(|r| r.amount)
        .sum();
    let w = text.words();
    let status = match (s.status, refunded) {
        (SaleStatus::Paid, 0) => text.status(SaleStatus::Paid),
        (SaleStatus::Paid, r) if r >= s.total.minor() => w.invoke_fully_refunded().into(),
        (SaleStatus::Paid, r) => w
            .invoke_partly_refunded(Money::new(r, s.total.currency()).to_string().into())
            .into(),
        (SaleStatus::Unpaid, _) => match s.unpaid_reason {
            Some(reason) => text.unpaid_short(reason),
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
        // Cash too: it goes back out of the drawer (§ 2-8-2 p).
        refundable: s.status == SaleStatus::Paid && refunded < s.total.minor(),
        copyable: printer && s.status == SaleStatus::Paid && !d.copy_printed,
    }
}

/// An outbox item on the backlog; a kind this screen has no words for shows as stored.
fn backlog_row(i: &OutboxItem, reference: &str, text: &Text) -> BacklogView {
    let w = text.words();
    let job = match i.kind.as_str() {
        "vipps.create" => Some(JobWord::Create),
        "vipps.capture" => Some(JobWord::Capture),
        "vipps.cancel" => Some(JobWord::Cancel),
        "vipps.refund" => Some(JobWord::Refund),
        k if k.starts_with("print.") => Some(JobWord::Receipt),
        _ => None,
    };
    let state = match i.status {
        OutboxStatus::Failed => JobStateWord::Stopped,
        OutboxStatus::InFlight => JobStateWord::Sending,
        _ => JobStateWord::Waiting,
    };
    BacklogView {
        id: i.id,
        what: job.map_or_else(|| i.kind.clone(), |j| w.invoke_job(j).into()),
        sale: reference.into(),
        attempts: i.attempts,
        state: w.invoke_job_state(state).into(),
        error: i.last_error.clone().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Language;
    use crate::domain::Currency;
    use crate::store::{RefundRecord, SaleRecord};
    use crate::ui::AppWindow;
    use time::macros::datetime;

    /// A window to take the words from. Each test runs on its own thread,
    /// which gets its own Slint platform (the testing one, no event loop).
    fn window(lang: Language) -> AppWindow {
        i_slint_backend_testing::init_no_event_loop();
        let w = AppWindow::new().unwrap();
        crate::ui::select_language(lang);
        w
    }

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
            terminal_ref: None,
            msn: None,
            department: None,
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
        let w = window(Language::Nb);
        let nb = Text::of(&w);
        let v = view(&report(), &sales, today, &[], &nb, true);
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
        assert!(v.sales[1].refundable, "cash is refunded from the drawer");
        assert!(!v.sales[2].refundable);
        assert!(!v.sales[0].copyable, "its one copy is used");
        assert!(v.sales[1].copyable);
        assert!(!v.sales[2].copyable, "an unpaid sale has no receipt");
        let no_printer = view(&report(), &sales, today, &[], &nb, false);
        assert!(!no_printer.sales[1].copyable);
        crate::ui::select_language(Language::En);
        let en = view(&report(), &sales, today, &[], &Text::of(&w), true);
        assert_eq!(en.per_method[0].0, "Cash");
        assert_eq!(en.counts[2].0, "Not paid today");
        assert!(en.sales[0].status.starts_with("Partly refunded"));
    }

    #[test]
    fn a_day_booked_under_departments_shows_each_departments_net_after_the_methods() {
        use crate::domain::report::{DepartmentRow, Tally};
        let mut r = report();
        let dept = |code: &str, net| DepartmentRow {
            department: code.into(),
            sales: Tally::default(),
            returns: Tally::default(),
            net: Money::nok(net),
            per_payment: vec![],
            per_vat: vec![],
        };
        r.per_department = vec![dept("", 1_000), dept("10", 12_000), dept("20", 8_000)];
        let w = window(Language::Nb);
        let today = DayCounts { unpaid: 0, open: 0 };
        let v = view(&r, &[], today, &[], &Text::of(&w), true);
        assert_eq!(
            v.per_method[2..],
            [
                ("Uten avdeling".into(), "kr 10,00".into()),
                ("Avdeling 10".into(), "kr 120,00".into()),
                ("Avdeling 20".into(), "kr 80,00".into()),
            ]
        );
        crate::ui::select_language(Language::En);
        let en = view(&r, &[], today, &[], &Text::of(&w), true);
        assert_eq!(en.per_method[3].0, "Department 10");
        crate::ui::select_language(Language::Nb);
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
        let w = window(Language::Nb);
        let v = view(&report(), &rows, today, &[], &Text::of(&w), true);
        assert_eq!(v.counts[0], ("Salg".into(), "2".into()), "from the report");
        assert_eq!(v.counts[2], ("Ikke betalt i dag".into(), "7".into()));
        assert_eq!(v.counts[4], ("Pågår".into(), "3".into()));
        assert_eq!(v.sales.len(), 1);
    }
}
