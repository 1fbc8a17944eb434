//! Sentences the Rust side puts on screen. The words are not here: they are
//! `@tr` strings in `ui/words.slint` (the `Words` global), translated from
//! the one catalogue (`ui/translations/`) in the language the screen has
//! selected. This file only picks the sentence for an event, a status or an
//! error and hands it its numbers, so every sentence on screen goes through
//! the same translation path, and `tests/it/translations.rs` checks them all.
//!
//! The English `Display` of an error from below (the store, the kiosk) never
//! reaches the screen: it is logged, and the volunteer reads the catalogued
//! sentence for its kind.

use super::{AppWindow, ErrorWord, PrinterWord, StatusWord, UnpaidWord, Words};
use crate::domain::{Money, PaymentMethod, SaleStatus, UnpaidReason};
use crate::kiosk::{KioskError, PrinterState, PrinterView, ReceiptError};
use crate::printer::PrintProblem;
use crate::reports::ReportError;
use slint::ComponentHandle;

/// The screen's sentences, in the language the window shows.
pub struct Text<'a>(Words<'a>);

impl<'a> Text<'a> {
    pub fn of(w: &'a AppWindow) -> Text<'a> {
        Text(w.global::<Words>())
    }

    /// The `Words` global itself, for the organizer's lists (`day.rs`).
    pub(crate) fn words(&self) -> &Words<'a> {
        &self.0
    }

    /// The live status line while the customer decides.
    pub fn status(&self, status: SaleStatus) -> String {
        self.0.invoke_status(status_word(status)).into()
    }

    pub fn offline(&self) -> String {
        self.0.invoke_offline().into()
    }

    pub fn vipps_chip(&self, reachable: bool) -> String {
        self.0.invoke_vipps_chip(reachable).into()
    }

    pub fn unpaid(&self, reason: UnpaidReason) -> String {
        self.0.invoke_unpaid(unpaid_word(reason)).into()
    }

    /// "Ikke betalt – avvist": the sales list's short form.
    pub fn unpaid_short(&self, reason: UnpaidReason) -> String {
        let short = self.0.invoke_unpaid_short(unpaid_word(reason));
        self.0.invoke_unpaid_because(short).into()
    }

    pub fn receipt_no(&self, n: i64) -> String {
        self.0.invoke_receipt_no(int(n)).into()
    }

    pub fn change(&self, change: Money) -> String {
        self.0.invoke_change(change.to_string().into()).into()
    }

    pub fn vat_note(&self, vat: Money) -> String {
        self.0.invoke_vat_note(vat.to_string().into()).into()
    }

    pub fn free_amount_name(&self) -> String {
        self.0.invoke_free_amount_name().into()
    }

    pub fn already_approved(&self) -> String {
        self.error_word(ErrorWord::AlreadyApproved, 0)
    }

    pub fn bad_amount(&self, text: &str) -> String {
        self.0.invoke_bad_amount(text.into()).into()
    }

    pub fn zero_amount(&self) -> String {
        self.0.invoke_zero_amount().into()
    }

    pub fn wrong_pin(&self) -> String {
        self.0.invoke_wrong_pin().into()
    }

    pub fn locked(&self, secs: u64) -> String {
        self.0.invoke_locked(int(secs)).into()
    }

    pub fn training_pin_hint(&self, pin: &str) -> String {
        self.0.invoke_training_pin_hint(pin.into()).into()
    }

    pub fn refund_queued(&self, amount: Money) -> String {
        self.0
            .invoke_refund_queued(amount.to_string().into())
            .into()
    }

    pub fn drawer_opened(&self) -> String {
        self.0.invoke_drawer_opened().into()
    }

    /// A product's stock on the organizer's "Varer" tab.
    pub fn stock_status(&self, s: &crate::store::Stock) -> String {
        self.0
            .invoke_stock_status(
                s.available(),
                s.remaining.map(|n| n as i32).unwrap_or(-1),
                s.low_mark.map(|n| n as i32).unwrap_or(-1),
            )
            .into()
    }

    pub fn order(&self, n: u64) -> String {
        self.0.invoke_order(n as i32).into()
    }

    /// "Skannet (46 tegn) – sender…" on the customer page.
    pub fn scanned(&self, chars: usize) -> String {
        self.0.invoke_scanned(int(chars)).into()
    }

    pub fn sold_out(&self) -> String {
        self.0.invoke_sold_out().into()
    }

    pub fn left(&self, n: i64) -> String {
        self.0.invoke_left(n as i32).into()
    }

    /// "Priser per 14:05" (today) or "Priser per 5.12. 14:05".
    pub fn prices_since(&self, when: time::OffsetDateTime, now: time::OffsetDateTime) -> String {
        let when = crate::domain::local_time::to_oslo(when);
        let now = crate::domain::local_time::to_oslo(now);
        let clock = format!("{:02}:{:02}", when.hour(), when.minute());
        let text = if when.date() == now.date() {
            clock
        } else {
            format!("{}.{}. {clock}", when.day(), u8::from(when.month()))
        };
        self.0.invoke_prices_since(text.into()).into()
    }

    pub fn training_switched(&self, on: bool) -> String {
        self.0.invoke_training_switched(on).into()
    }

    pub fn refund_cash(&self, amount: Money) -> String {
        self.0.invoke_refund_cash(amount.to_string().into()).into()
    }

    pub fn refund_card(&self, amount: Money) -> String {
        self.0.invoke_refund_card(amount.to_string().into()).into()
    }

    pub fn refunded(&self, amount: Money) -> String {
        self.0.invoke_refunded(amount.to_string().into()).into()
    }

    pub fn refund_too_much(&self, max: Money) -> String {
        self.0.invoke_refund_too_much(max.to_string().into()).into()
    }

    pub fn retried(&self, n: usize) -> String {
        self.0.invoke_retried(int(n)).into()
    }

    pub fn report_done(&self, z: bool, printed: bool) -> String {
        self.0.invoke_report_done(z, printed).into()
    }

    pub fn copy_queued(&self) -> String {
        self.0.invoke_copy_queued().into()
    }

    /// The printer chip in the status bar, and whether it is fine.
    pub fn printer_chip(&self, view: &PrinterView) -> (String, bool) {
        match &view.state {
            PrinterState::NotConfigured => (self.0.invoke_printer_none().into(), true),
            PrinterState::Held { .. } => (
                self.0.invoke_printer_waiting(int(view.held.max(1))).into(),
                false,
            ),
            PrinterState::Ready | PrinterState::Unknown => {
                (self.0.invoke_printer_ready().into(), true)
            }
        }
    }

    /// Under "Betalt" when the receipt is held: what to do about it.
    pub fn receipt_held(&self, problem: PrintProblem) -> String {
        let what = self.0.invoke_printer_problem(printer_word(problem));
        self.0.invoke_receipt_held(what).into()
    }

    pub fn method(&self, method: PaymentMethod) -> String {
        match method {
            // A name, the same in every language.
            PaymentMethod::Vipps => "Vipps".into(),
            PaymentMethod::Cash => self.0.invoke_cash().into(),
            PaymentMethod::Card => self.0.invoke_card().into(),
        }
    }

    /// A kiosk error as the volunteer should read it: what happened and what
    /// to do. The error's own (English) words go to the log.
    pub fn error(&self, e: &KioskError) -> String {
        tracing::warn!(error = %e, "a command was refused");
        let (word, n) = error_word(e);
        self.error_word(word, n)
    }

    /// A report that could not be made, in the organizer's words; the detail is logged.
    pub fn report_error(&self, e: &ReportError) -> String {
        tracing::warn!(error = %e, "a report was refused");
        match e {
            ReportError::AlreadyClosed { number, .. } => {
                self.error_word(ErrorWord::DayClosed, *number)
            }
            _ => self.error_word(ErrorWord::ReportFailed, 0),
        }
    }

    fn error_word(&self, word: ErrorWord, n: i64) -> String {
        self.0.invoke_error(word, int(n)).into()
    }
}

fn int(n: impl TryInto<i32>) -> i32 {
    n.try_into().unwrap_or(i32::MAX)
}

fn status_word(s: SaleStatus) -> StatusWord {
    match s {
        SaleStatus::Pending => StatusWord::Pending,
        SaleStatus::Awaiting => StatusWord::Awaiting,
        SaleStatus::Capturing => StatusWord::Capturing,
        SaleStatus::Cancelling => StatusWord::Cancelling,
        SaleStatus::Paid => StatusWord::Paid,
        SaleStatus::Unpaid => StatusWord::Unpaid,
    }
}

fn printer_word(p: PrintProblem) -> PrinterWord {
    match p {
        PrintProblem::PaperOut => PrinterWord::PaperOut,
        PrintProblem::CoverOpen => PrinterWord::CoverOpen,
        PrintProblem::Fault => PrinterWord::Fault,
        PrintProblem::Offline => PrinterWord::Offline,
        PrintProblem::Unreachable => PrinterWord::Unreachable,
        PrintProblem::NotFound => PrinterWord::NotFound,
        PrintProblem::NoAccess => PrinterWord::NoAccess,
        PrintProblem::Setup => PrinterWord::Setup,
        PrintProblem::Unknown => PrinterWord::Unknown,
    }
}

fn unpaid_word(r: UnpaidReason) -> UnpaidWord {
    match r {
        UnpaidReason::Aborted => UnpaidWord::Aborted,
        UnpaidReason::Expired => UnpaidWord::Expired,
        UnpaidReason::Cancelled => UnpaidWord::Cancelled,
        UnpaidReason::Rejected => UnpaidWord::Rejected,
        UnpaidReason::CustomerRefused => UnpaidWord::CustomerRefused,
        UnpaidReason::Unknown => UnpaidWord::Unknown,
    }
}

/// The sentence for an error, and the receipt number it names (0: none).
fn error_word(e: &KioskError) -> (ErrorWord, i64) {
    use crate::domain::CustomerError;
    use crate::domain::sale::CartError;
    use crate::payments::cash::CashError;
    let word = match e {
        KioskError::StorageUnavailable(_) => ErrorWord::Storage,
        KioskError::Cart(CartError::Empty) => ErrorWord::CartEmpty,
        KioskError::Cart(CartError::BelowMinimum(_)) => ErrorWord::BelowMinimum,
        KioskError::Cart(CartError::TooLarge) => ErrorWord::TooLarge,
        KioskError::AlreadyApproved => ErrorWord::AlreadyApproved,
        KioskError::AlreadyClosed(_) => ErrorWord::AlreadyClosed,
        KioskError::Cash(CashError::NotEnough { .. }) => ErrorWord::NotEnoughCash,
        KioskError::NoRefundReason => ErrorWord::NoRefundReason,
        KioskError::NoDrawerReason => ErrorWord::NoDrawerReason,
        KioskError::NoDrawer => ErrorWord::NoDrawer,
        KioskError::DrawerNotOpened(_) => ErrorWord::DrawerNotOpened,
        KioskError::WrongCode(_) => ErrorWord::WrongCode,
        KioskError::NoTrainingSimulator => ErrorWord::NoTraining,
        KioskError::SoldOut(_) => ErrorWord::SoldOut,
        KioskError::NotEnoughLeft { left, .. } => return (ErrorWord::NotEnoughLeft, *left),
        KioskError::Rejected(_) => ErrorWord::Refused,
        KioskError::Pairing(p) => {
            use crate::hub::link::PairError;
            match p {
                PairError::Missing => ErrorWord::PairMissing,
                PairError::Address(_) => ErrorWord::PairAddress,
                PairError::AlreadyPaired { .. } => ErrorWord::PairAlready,
                PairError::Unreachable { .. } => ErrorWord::PairUnreachable,
                PairError::Refused { .. } => ErrorWord::PairRefused,
                PairError::WrongTill { .. } => ErrorWord::PairWrongTill,
                PairError::Other(_) => ErrorWord::PairFailed,
            }
        }
        KioskError::Customer(c) => match c {
            CustomerError::PhoneNotANumber(_) => ErrorWord::BadPhone,
            CustomerError::PhoneNotMobile(_) => ErrorWord::NotMobile,
            CustomerError::QrNotACode(_) => ErrorWord::BadScan,
        },
        KioskError::Receipt(r) => {
            return match r {
                ReceiptError::NoPrinter => (ErrorWord::NoPrinter, 0),
                ReceiptError::NotPaid(_) => (ErrorWord::NotPaid, 0),
                ReceiptError::CopyAlreadyPrinted(n) => (ErrorWord::CopyAlreadyPrinted, *n),
                ReceiptError::NotPrintedYet(n) => (ErrorWord::NotPrintedYet, *n),
                ReceiptError::PrintingNow(n) => (ErrorWord::PrintingNow, *n),
                ReceiptError::AlreadyPrinted(n) => (ErrorWord::AlreadyPrinted, *n),
            };
        }
        // The rest are faults of the till, not of the volunteer's input.
        _ => ErrorWord::Other,
    };
    (word, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Language;

    /// A volunteer reads one language: a refusal's English detail from below
    /// never lands inside the screen's sentence, whichever language it is.
    #[test]
    fn errors_and_held_receipts_are_said_in_the_screens_language_only() {
        i_slint_backend_testing::init_no_event_loop();
        let w = AppWindow::new().unwrap();
        let detail = "cannot refund kr 10,00 of sale x: only kr 5,00 is left to refund";
        let refused = KioskError::Rejected(detail.into());
        let t = Text::of(&w);
        crate::ui::select_language(Language::Nb);
        assert_eq!(
            t.error(&refused),
            "Ikke mulig: kassen avviste dette. Ingen penger er flyttet."
        );
        assert!(
            t.receipt_held(PrintProblem::PaperOut)
                .contains("Tom for papir")
        );
        crate::ui::select_language(Language::En);
        assert_eq!(
            t.error(&refused),
            "Not possible: the till refused this. No money was moved."
        );
        assert_eq!(
            t.receipt_held(PrintProblem::PaperOut),
            "The sale is paid, but the receipt did not print: Out of paper – put in a new \
             roll. Tap the printer at the top once it is fixed."
        );
        assert_eq!(
            t.error(&KioskError::Receipt(ReceiptError::AlreadyPrinted(7))),
            "Receipt 7 has already printed."
        );
        assert_eq!(t.unpaid_short(UnpaidReason::Expired), "Not paid – expired");
    }
}
