//! A report as the printer's [`ReportInput`]: labelled rows in sections,
//! amounts formatted the Norwegian way. Only wording and formatting here;
//! the figures come from `domain::report`.

use crate::domain::local_time::to_oslo;
use crate::domain::report::{Report, ReportKind, Tally};
use crate::domain::{Merchant, Money, VatCode};
use crate::printer::{ReportInput, ReportSection};

fn amount(m: Money) -> String {
    m.format_plain()
}

fn tally(t: Tally) -> String {
    format!("{} / {}", t.count, amount(t.amount))
}

fn section(heading: &str, rows: Vec<(String, String)>) -> ReportSection {
    ReportSection {
        heading: heading.to_string(),
        rows,
    }
}

/// The report for the printer. `training` marks it as made in training mode.
pub fn to_printer(
    report: &Report,
    merchant: &Merchant,
    training: bool,
    now: time::OffsetDateTime,
) -> ReportInput {
    let row = |l: &str, v: String| (l.to_string(), v);
    let h = &report.header;
    let mut sections = vec![section(
        "Salg",
        vec![
            row("Salg (antall / beløp)", tally(report.sales)),
            row("Salg ekskl. mva", amount(report.sales_net_of_vat)),
            row("Returer (antall / beløp)", tally(report.returns)),
            row("Netto", amount(report.net)),
        ],
    )];
    let listed = |rows: &[crate::domain::report::Row]| -> Vec<(String, String)> {
        rows.iter()
            .map(|r| (format!("{} ({})", r.label, r.count), amount(r.amount)))
            .collect()
    };
    sections.push(section("Varegrupper", listed(&report.per_group)));
    sections.push(section("Produkter", listed(&report.per_product)));
    sections.push(section(
        "MVA",
        report
            .per_vat
            .iter()
            .map(|v| {
                let label = VatCode::from_code(v.code)
                    .map(|c| c.description().to_string())
                    .unwrap_or_else(|| format!("Kode {}", v.code));
                if v.rate_bp == 0 {
                    (label, amount(v.gross))
                } else {
                    (
                        format!("{label} grunnlag / mva"),
                        format!("{} / {}", amount(v.net), amount(v.vat)),
                    )
                }
            })
            .collect(),
    ));
    sections.push(section("Betalingsmåter", listed(&report.per_payment)));
    // Each Vipps sales unit is paid out to its own bank account, and each
    // department is booked apart (issue 16, part 4).
    if report.per_vipps_unit.len() > 1 {
        sections.push(section(
            "Vipps per salgsenhet",
            listed(&report.per_vipps_unit),
        ));
    }
    if !report.per_department.is_empty() {
        let mut rows = Vec::new();
        for d in &report.per_department {
            let name = if d.department.is_empty() {
                crate::domain::report::NO_DEPARTMENT.to_string()
            } else {
                format!("Avdeling {}", d.department)
            };
            rows.push((format!("{name} netto"), amount(d.net)));
            rows.push(("  Salg (antall / beløp)".into(), tally(d.sales)));
            if d.returns.count > 0 {
                rows.push(("  Returer (antall / beløp)".into(), tally(d.returns)));
            }
            for p in &d.per_payment {
                rows.push((format!("  {} ({})", p.label, p.count), amount(p.amount)));
            }
            for v in &d.per_vat {
                rows.push((format!("  Mva-kode {}", v.code), amount(v.gross)));
            }
        }
        sections.push(section("Avdelinger", rows));
    }
    // Each operator, then what they took per payment method (§ 2-8-2 h).
    let mut operators = Vec::new();
    for op in &report.per_operator {
        operators.push((format!("{} ({})", op.label, op.count), amount(op.amount)));
        let prefix = format!("{}/", op.key);
        for m in report
            .per_operator_payment
            .iter()
            .filter(|r| r.key.starts_with(&prefix))
        {
            operators.push((format!("  {} ({})", m.label, m.count), amount(m.amount)));
        }
    }
    sections.push(section("Operatører", operators));
    sections.push(section(
        "Per time",
        report
            .per_hour
            .iter()
            .filter(|r| r.count != 0 || !r.amount.is_zero())
            .map(|r| (format!("{} ({})", r.label, r.count), amount(r.amount)))
            .collect(),
    ));
    let c = &report.cash;
    let mut cash = vec![
        row("Veksel (inngående)", amount(c.float)),
        row("Kontant inn", amount(c.cash_in)),
        row("Forventet i kassen", amount(c.expected)),
    ];
    match (c.counted, c.difference) {
        (Some(counted), Some(diff)) => {
            cash.push(row("Opptalt", amount(counted)));
            cash.push(row("Differanse", amount(diff)));
        }
        // A Z closed without counting the drawer says so: no count of
        // 0 kr and no shortage that never happened.
        _ if report.header.kind == crate::domain::report::ReportKind::Z => {
            cash.push(row("Opptalt", "ikke talt".to_string()));
        }
        _ => {}
    }
    sections.push(section("Kontanter", cash));
    sections.push(section(
        "Annet",
        vec![
            row("Kopikvitteringer", tally(report.copies)),
            row("Treningskvitteringer", tally(report.training)),
            row("Rabatter", tally(report.discounts)),
            row(
                "Skuff åpnet uten salg",
                report.drawer_openings_without_sale.to_string(),
            ),
            row(
                "Salgskvitteringer skrevet ut",
                report.receipts_printed.to_string(),
            ),
            row(
                "Returkvitteringer skrevet ut",
                report.return_receipts_printed.to_string(),
            ),
            row("Avbrutte og ubetalte salg", tally(report.voids)),
            row("Korrigerte linjer før betaling", tally(report.corrections)),
            row(
                "Salg uten kvittering",
                report.receipts_not_printed.to_string(),
            ),
            row("Prisendringer", report.price_changes.to_string()),
        ],
    ));
    let g = report.grand_totals;
    let cur = report.currency;
    sections.push(section(
        "Grand total (akkumulert)",
        vec![
            row("Salg", amount(Money::new(g.sales, cur))),
            row("Returer", amount(Money::new(g.returns, cur))),
            row("Netto", amount(Money::new(g.net, cur))),
        ],
    ));
    sections.push(section(
        "Elektronisk journal",
        vec![
            row("Oppføringer", format!("{}–{}", h.from_seq + 1, h.to_seq)),
            row("Kjede", h.journal_head.chars().take(16).collect()),
        ],
    ));
    // Which system made it, and which installation (§ 2-8-2 d).
    sections.push(section(
        "Kassasystem",
        vec![
            row("System", h.system.clone()),
            row("Kasse", h.till_id.clone()),
            row("Installasjon", h.installation.clone()),
        ],
    ));
    ReportInput {
        title: match h.kind {
            ReportKind::X => "X-rapport".into(),
            ReportKind::Z => "Z-rapport".into(),
        },
        merchant: merchant.clone(),
        till_id: h.till_id.clone(),
        number: h.number.map(|n| n as u64),
        timestamp: to_oslo(now),
        sections,
        training,
    }
}
