//! Receipt and report layout: one pure function from the input to a `Document`.
//!
//! This is where kassasystemforskriften's content rules live (title, seller,
//! org. number + MVA, number, till, lines, VAT per rate, payment, KOPI,
//! Returkvittering, training marking). It must never do I/O, read a clock or
//! emit printer bytes: what it returns is drawn by `escpos` and `preview` alike.

use time::macros::format_description;

use super::document::{Align, Bitmap, Block, Document, PaperWidth, Size, Style};
use super::model::{
    KitchenTicket, Merchant, PaymentInfo, ReceiptInput, ReceiptKind, ReceiptLine, ReportInput,
};
use super::text::{self, SOFT_HYPHEN};
use crate::domain::{VatCode, VatTotal};

/// The marking the rules demand on every training receipt, in nynorsk as
/// written there. The soft hyphen lets 58 mm double-width type break the
/// long word where a reader expects it.
pub const TRAINING_TEXT: &str = "Trenings\u{AD}kvittering – IKKJE KVITTERING FOR KJØP";

/// How this till prints: paper width, an optional logo and whether a cash
/// sale opens the drawer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutConfig {
    pub width: PaperWidth,
    pub logo: Option<Bitmap>,
    pub open_drawer_for_cash: bool,
}

impl LayoutConfig {
    pub fn new(width: PaperWidth) -> LayoutConfig {
        LayoutConfig {
            width,
            logo: None,
            open_drawer_for_cash: false,
        }
    }
}

/// Lays out a sale or refund receipt (original, copy, or training).
pub fn layout(r: &ReceiptInput, cfg: &LayoutConfig) -> Document {
    let mut s = Sheet::new(cfg.width);
    let cash = matches!(r.payment, PaymentInfo::Cash { .. });
    // A copy is printed long after the money changed hands: no drawer then.
    if cash && cfg.open_drawer_for_cash && !r.copy {
        s.blocks.push(Block::DrawerKick);
    }
    s.logo(cfg.logo.as_ref());
    s.markings(r.training, r.copy);
    // A training receipt has no "Salgskvittering" or "Returkvittering" title
    // that could pass for a real one (kassasystemforskriften § 2-8-2 w): the
    // training marking is its title, and a training return says only "Retur".
    let title = match (r.kind, r.training) {
        (ReceiptKind::Sale, false) => Some("Salgskvittering"),
        (ReceiptKind::Refund, false) => Some("Returkvittering"),
        (ReceiptKind::Sale, true) => None,
        (ReceiptKind::Refund, true) => Some("Retur"),
    };
    if let Some(title) = title {
        s.text(
            title,
            Style::default()
                .bold()
                .size(Size::TALL)
                .align(Align::Center),
        );
    }
    if let Some(n) = r.order_no {
        // Called out at the hatch: the largest thing on the receipt.
        s.text(
            &format!("Ordre {n}"),
            Style::default()
                .bold()
                .size(Size::DOUBLE)
                .align(Align::Center),
        );
    }
    s.merchant(&r.merchant);
    s.separator();
    s.row(
        &format!("Dato {}", date(r)),
        &format!("Kl. {}", clock(r)),
        false,
    );
    s.row("Kvittering nr", &r.receipt_number.to_string(), false);
    s.row("Kasse", &r.till_id, false);
    if let Some(original) = r.refers_to {
        s.row("Gjelder kvittering nr", &original.to_string(), false);
    }
    s.separator();
    for line in &r.lines {
        s.item(line);
    }
    s.separator();
    s.vat_table(&r.vat_totals);
    let total_label = match r.kind {
        ReceiptKind::Sale => "Totalt",
        ReceiptKind::Refund => "Totalt tilbake",
    };
    s.row(total_label, &format!("kr {}", r.total.format_plain()), true);
    s.separator();
    s.payment(r.kind, &r.payment);
    s.separator();
    s.markings(r.training, r.copy);
    for line in &r.footer {
        s.text(line, Style::default().align(Align::Center));
    }
    if let Some(data) = &r.qr {
        s.blocks.push(Block::Qr {
            data: data.clone(),
            module_dots: 6,
        });
    }
    s.finish()
}

/// Lays out the kitchen's ticket: the order number large, then what to make.
/// No prices and no title that could pass for a receipt.
pub fn layout_kitchen(t: &KitchenTicket, cfg: &LayoutConfig) -> Document {
    let mut s = Sheet::new(cfg.width);
    s.markings(t.training, false);
    s.text("KJØKKEN", Style::default().bold().align(Align::Center));
    s.text(
        &format!("Ordre {}", t.order_no),
        Style::default()
            .bold()
            .size(Size::DOUBLE)
            .align(Align::Center),
    );
    s.row(
        &format!("Kl. {}", fmt_clock(t.timestamp)),
        &format!("Kasse {}", t.till_id),
        false,
    );
    s.separator();
    for (quantity, name) in &t.lines {
        s.text(
            &format!("{quantity} x {name}"),
            Style::default().bold().size(Size::TALL),
        );
    }
    s.separator();
    s.text("Ikke kvittering", Style::default().align(Align::Center));
    s.finish()
}

/// Lays out an X or Z report on the same printer.
pub fn layout_report(r: &ReportInput, cfg: &LayoutConfig) -> Document {
    let mut s = Sheet::new(cfg.width);
    s.markings(r.training, false);
    s.text(
        &r.title,
        Style::default()
            .bold()
            .size(Size::DOUBLE)
            .align(Align::Center),
    );
    s.merchant(&r.merchant);
    s.separator();
    let when = r.timestamp;
    s.row(
        &format!("Dato {}", fmt_date(when)),
        &format!("Kl. {}", fmt_clock(when)),
        false,
    );
    s.row("Kasse", &r.till_id, false);
    if let Some(n) = r.number {
        s.row("Rapport nr", &n.to_string(), false);
    }
    for section in &r.sections {
        s.separator();
        s.text(&section.heading, Style::default().bold());
        for (label, value) in &section.rows {
            s.row(label, value, false);
        }
    }
    s.separator();
    s.markings(r.training, false);
    s.finish()
}

fn date(r: &ReceiptInput) -> String {
    fmt_date(r.timestamp)
}

fn clock(r: &ReceiptInput) -> String {
    fmt_clock(r.timestamp)
}

fn fmt_date(t: time::OffsetDateTime) -> String {
    t.format(format_description!("[day].[month].[year]"))
        .unwrap_or_default()
}

fn fmt_clock(t: time::OffsetDateTime) -> String {
    t.format(format_description!("[hour]:[minute]"))
        .unwrap_or_default()
}

/// "999 999 999" for a nine-digit number; anything else as configured.
pub fn format_org_number(org: &str) -> String {
    let digits: String = org.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() == 9 && digits.chars().all(|c| c.is_ascii_digit()) {
        format!("{} {} {}", &digits[0..3], &digits[3..6], &digits[6..9])
    } else {
        org.trim().to_string()
    }
}

/// Short rate label for the VAT table ("25 %"); outside-scope turnover has no rate.
fn rate_label(code: VatCode) -> &'static str {
    match code {
        VatCode::Regular => "25 %",
        VatCode::ReducedMiddle => "15 %",
        VatCode::RawFish => "11,11 %",
        VatCode::ReducedLow => "12 %",
        VatCode::ZeroRate => "0 %",
        VatCode::OutsideScope => "Utenfor mva-loven",
    }
}

/// A document being built, fitting every line to the paper as it goes.
struct Sheet {
    width: PaperWidth,
    cols: usize,
    blocks: Vec<Block>,
}

impl Sheet {
    fn new(width: PaperWidth) -> Sheet {
        Sheet {
            width,
            cols: width.columns(),
            blocks: Vec::new(),
        }
    }

    fn finish(mut self) -> Document {
        self.blocks.push(Block::Feed(2));
        self.blocks.push(Block::Cut);
        Document {
            width: self.width,
            blocks: self.blocks,
        }
    }

    /// Wraps to the columns left at this size; each wrapped line is a block.
    fn text(&mut self, text: &str, style: Style) {
        let cols = self.cols / style.size.width.max(1) as usize;
        for line in text::wrap(text, cols) {
            self.blocks.push(Block::Text { text: line, style });
        }
    }

    fn separator(&mut self) {
        self.blocks.push(Block::Separator);
    }

    /// Label left, value right; when both do not fit on one line, the value
    /// goes right-aligned on the next, whole (a Vipps reference must stay
    /// readable). Item rows fit by construction: `item` wraps their names.
    fn row(&mut self, left: &str, right: &str, bold: bool) {
        let right_w = text::width(right);
        if right_w + 2 > self.cols {
            self.text(
                left,
                Style {
                    bold,
                    ..Style::default()
                },
            );
            self.text(
                right,
                Style {
                    bold,
                    align: Align::Right,
                    ..Style::default()
                },
            );
            return;
        }
        if text::width(left) + 1 + right_w > self.cols {
            self.text(
                left,
                Style {
                    bold,
                    ..Style::default()
                },
            );
            self.text(
                right,
                Style {
                    bold,
                    align: Align::Right,
                    ..Style::default()
                },
            );
            return;
        }
        self.blocks.push(Block::Row {
            left: left.to_string(),
            right: right.to_string(),
            bold,
        });
    }

    fn logo(&mut self, logo: Option<&Bitmap>) {
        // A logo wider than the head would be cut off mid-image; better none.
        if let Some(logo) = logo.filter(|l| l.width <= self.width.dots()) {
            self.blocks.push(Block::Image(logo.clone()));
            self.blocks.push(Block::Feed(1));
        }
    }

    /// Training and copy markings, double width and height: twice the amounts' type.
    fn markings(&mut self, training: bool, copy: bool) {
        let big = Style::default()
            .bold()
            .size(Size::DOUBLE)
            .align(Align::Center);
        if training {
            self.text(TRAINING_TEXT, big);
        }
        if copy {
            self.text("KOPI", big);
        }
    }

    fn merchant(&mut self, m: &Merchant) {
        let centred = Style::default().align(Align::Center);
        self.text(&m.name, centred.bold());
        for line in &m.address {
            self.text(line, centred);
        }
        let mva = if m.vat_registered { " MVA" } else { "" };
        self.text(
            &format!("Org.nr {}{mva}", format_org_number(&m.org_number)),
            centred,
        );
    }

    /// "2 x Name ... amount"; a long name wraps under itself, at most three
    /// lines, the last ending in ".." when still too long.
    fn item(&mut self, line: &ReceiptLine) {
        let amount = line.amount.format_plain();
        let prefix = format!("{} x ", line.quantity);
        let room = self
            .cols
            .saturating_sub(text::width(&amount) + 1 + prefix.len())
            .max(8);
        let name = line.name.replace(SOFT_HYPHEN, "");
        let mut parts = text::wrap(&name, room);
        if parts.len() > 3 {
            let rest = parts[2..].join(" ");
            parts.truncate(2);
            parts.push(text::truncate(&rest, room));
        }
        let first = parts.first().cloned().unwrap_or_default();
        self.row(&format!("{prefix}{first}"), &amount, false);
        let indent = " ".repeat(prefix.len());
        for part in parts.iter().skip(1) {
            self.blocks.push(Block::Text {
                text: format!("{indent}{part}"),
                style: Style::default(),
            });
        }
    }

    /// Basis and VAT per rate in a small table; turnover outside the VAT act
    /// is a row of its own because it has neither a rate nor VAT.
    fn vat_table(&mut self, totals: &[VatTotal]) {
        let (label_w, col_w) = if self.cols >= 48 { (16, 16) } else { (8, 12) };
        let in_scope: Vec<&VatTotal> = totals
            .iter()
            .filter(|t| t.vat != VatCode::OutsideScope)
            .collect();
        let fits = in_scope.iter().all(|t| {
            text::width(&t.net.format_plain()) < col_w
                && text::width(&t.vat_amount.format_plain()) < col_w
        });
        if !in_scope.is_empty() && fits {
            let line = |a: &str, b: &str, c: &str| format!("{a:<label_w$}{b:>col_w$}{c:>col_w$}");
            self.blocks.push(Block::Text {
                text: line("MVA-sats", "Grunnlag", "MVA"),
                style: Style::default(),
            });
            for t in &in_scope {
                let text = line(
                    rate_label(t.vat),
                    &t.net.format_plain(),
                    &t.vat_amount.format_plain(),
                );
                self.blocks.push(Block::Text {
                    text,
                    style: Style::default(),
                });
            }
        } else {
            for t in &in_scope {
                self.row(
                    &format!("Grunnlag {}", rate_label(t.vat)),
                    &t.net.format_plain(),
                    false,
                );
                self.row(
                    &format!("MVA {}", rate_label(t.vat)),
                    &t.vat_amount.format_plain(),
                    false,
                );
            }
        }
        for t in totals.iter().filter(|t| t.vat == VatCode::OutsideScope) {
            self.row(rate_label(t.vat), &t.gross.format_plain(), false);
        }
    }

    fn payment(&mut self, kind: ReceiptKind, payment: &PaymentInfo) {
        match (kind, payment) {
            (ReceiptKind::Sale, PaymentInfo::Vipps { reference }) => {
                self.row("Betalt med", "Vipps", false);
                self.row("Vipps-ref.", reference, false);
            }
            (ReceiptKind::Refund, PaymentInfo::Vipps { reference }) => {
                self.row("Tilbakebetalt til", "Vipps", false);
                self.row("Vipps-ref.", reference, false);
            }
            (ReceiptKind::Sale, PaymentInfo::Cash { given, change }) => {
                self.row("Betalt kontant", &given.format_plain(), false);
                self.row("Tilbake", &change.format_plain(), false);
            }
            (ReceiptKind::Refund, PaymentInfo::Cash { given, .. }) => {
                self.row("Utbetalt kontant", &given.format_plain(), false);
            }
            (kind, PaymentInfo::Card { terminal_ref }) => {
                let what = if kind == ReceiptKind::Sale {
                    "Betalt med"
                } else {
                    "Tilbakebetalt til"
                };
                self.row(what, "Kort (terminal)", false);
                if let Some(r) = terminal_ref {
                    self.row("Terminalref.", r, false);
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "layout_tests.rs"]
mod tests;
