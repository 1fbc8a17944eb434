//! Sentences the Rust side puts on screen, in the operator's language.
//! Strings written in `.slint` files go through `@tr` instead; these are the
//! ones built from kiosk events and errors.

use crate::config::Language;
use crate::domain::{Money, SaleStatus, UnpaidReason};
use crate::kiosk::KioskError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Text(pub Language);

impl Text {
    fn pick(self, nb: &str, en: &str) -> String {
        match self.0 {
            Language::Nb => nb.to_string(),
            Language::En => en.to_string(),
        }
    }

    /// The live status line while the customer decides.
    pub fn status(self, status: SaleStatus) -> String {
        match status {
            SaleStatus::Pending => self.pick("Lager betaling…", "Creating the payment…"),
            SaleStatus::Awaiting => self.pick("Venter på godkjenning…", "Waiting for approval…"),
            SaleStatus::Capturing => self.pick(
                "Godkjent – trekker beløpet…",
                "Approved – capturing the amount…",
            ),
            SaleStatus::Cancelling => self.pick("Avbryter betalingen…", "Cancelling the payment…"),
            SaleStatus::Paid => self.pick("Betalt", "Paid"),
            SaleStatus::Unpaid => self.pick("Ikke betalt", "Not paid"),
        }
    }

    pub fn offline(self) -> String {
        self.pick(
            "Får ikke kontakt med Vipps. Prøver igjen – salget avgjøres når nettet er tilbake.",
            "Cannot reach Vipps. Retrying – the sale is settled when the network is back.",
        )
    }

    pub fn vipps_chip(self, reachable: bool) -> String {
        match reachable {
            true => self.pick("Vipps OK", "Vipps OK"),
            false => self.pick("Vipps nede", "Vipps down"),
        }
    }

    pub fn unpaid(self, reason: UnpaidReason) -> String {
        match self.0 {
            Language::Nb => reason.message_nb().to_string(),
            Language::En => reason.message_en().to_string(),
        }
    }

    pub fn receipt_no(self, n: i64) -> String {
        match self.0 {
            Language::Nb => format!("Kvittering nr. {n}"),
            Language::En => format!("Receipt no. {n}"),
        }
    }

    pub fn change(self, change: Money) -> String {
        match self.0 {
            Language::Nb => format!("Vekslepenger: {change}"),
            Language::En => format!("Change: {change}"),
        }
    }

    pub fn vat_note(self, vat: Money) -> String {
        match self.0 {
            Language::Nb => format!("herav mva. {vat}"),
            Language::En => format!("incl. VAT {vat}"),
        }
    }

    pub fn free_amount_name(self) -> String {
        self.pick("Beløp", "Amount")
    }

    pub fn already_approved(self) -> String {
        self.pick(
            "Kunden har allerede godkjent – betalingen fullføres.",
            "The customer already approved – the payment is being completed.",
        )
    }

    pub fn bad_amount(self, text: &str) -> String {
        match self.0 {
            Language::Nb => format!("«{text}» er ikke et gyldig beløp. Tast for eksempel 149,50."),
            Language::En => format!("\"{text}\" is not a valid amount. Type e.g. 149,50."),
        }
    }

    pub fn zero_amount(self) -> String {
        self.pick(
            "Beløpet må være større enn 0.",
            "The amount must be above 0.",
        )
    }

    pub fn wrong_pin(self) -> String {
        self.pick("Feil PIN-kode.", "Wrong PIN.")
    }

    pub fn locked(self, secs: u64) -> String {
        match self.0 {
            Language::Nb => format!("For mange feil. Prøv igjen om {secs} sekunder."),
            Language::En => format!("Too many wrong PINs. Try again in {secs} seconds."),
        }
    }

    pub fn training_pin_hint(self, pin: &str) -> String {
        match self.0 {
            Language::Nb => format!("Treningsmodus: PIN-koden er {pin}."),
            Language::En => format!("Training mode: the PIN is {pin}."),
        }
    }

    pub fn refund_queued(self, amount: Money) -> String {
        match self.0 {
            Language::Nb => format!("Refusjon av {amount} er sendt til Vipps."),
            Language::En => format!("A refund of {amount} was sent to Vipps."),
        }
    }

    pub fn refunded(self, amount: Money) -> String {
        match self.0 {
            Language::Nb => format!("Refundert: {amount}. Pengene er på vei tilbake til kunden."),
            Language::En => format!("Refunded: {amount}. The money is on its way back."),
        }
    }

    pub fn refund_too_much(self, max: Money) -> String {
        match self.0 {
            Language::Nb => format!("Du kan refundere høyst {max}."),
            Language::En => format!("You can refund at most {max}."),
        }
    }

    pub fn retried(self, n: usize) -> String {
        match self.0 {
            Language::Nb => format!("{n} oppgaver prøves på nytt nå."),
            Language::En => format!("{n} items are being retried now."),
        }
    }

    pub fn report_done(self, z: bool, printed: bool) -> String {
        match (self.0, z, printed) {
            (Language::Nb, false, true) => "X-rapporten er laget og skrives ut.".into(),
            (Language::Nb, false, false) => "X-rapporten er laget (ingen skriver).".into(),
            (Language::Nb, true, true) => "Dagen er avsluttet. Z-rapporten skrives ut.".into(),
            (Language::Nb, true, false) => {
                "Dagen er avsluttet (ingen skriver for Z-rapporten).".into()
            }
            (Language::En, false, true) => "The X report is made and printing.".into(),
            (Language::En, false, false) => "The X report is made (no printer).".into(),
            (Language::En, true, true) => "The day is closed. The Z report is printing.".into(),
            (Language::En, true, false) => {
                "The day is closed (no printer for the Z report).".into()
            }
        }
    }

    pub fn copy_queued(self) -> String {
        self.pick(
            "Kopien skrives ut («KOPI»). Hvert salg kan få én kopi.",
            "The copy is printing (\"KOPI\"). Each sale can have one copy.",
        )
    }

    /// The printer chip in the status bar, and whether it is fine.
    pub fn printer_chip(self, view: &crate::kiosk::PrinterView) -> (String, bool) {
        use crate::kiosk::PrinterState::*;
        match (&view.state, self.0) {
            (NotConfigured, Language::Nb) => ("Uten skriver".into(), true),
            (NotConfigured, Language::En) => ("No printer".into(), true),
            (Held { .. }, Language::Nb) => (format!("Skriver: {} venter", view.held.max(1)), false),
            (Held { .. }, Language::En) => {
                (format!("Printer: {} waiting", view.held.max(1)), false)
            }
            (Ready | Unknown, Language::Nb) => ("Skriver klar".into(), true),
            (Ready | Unknown, Language::En) => ("Printer ready".into(), true),
        }
    }

    /// Under "Betalt" when the receipt is held: what to do about it.
    pub fn receipt_held(self, message: &str) -> String {
        match self.0 {
            Language::Nb => format!(
                "Salget er betalt, men kvitteringen er ikke skrevet ut: {message}. \
                 Trykk på skriveren øverst når det er fikset."
            ),
            Language::En => format!(
                "The sale is paid, but the receipt did not print: {message}. \
                 Tap the printer at the top once it is fixed."
            ),
        }
    }

    pub fn method(self, method: crate::domain::PaymentMethod) -> String {
        match method {
            crate::domain::PaymentMethod::Vipps => "Vipps".into(),
            crate::domain::PaymentMethod::Cash => self.pick("Kontant", "Cash"),
        }
    }

    /// A kiosk error as the volunteer should read it: what happened and what to do.
    pub fn error(self, e: &KioskError) -> String {
        use crate::domain::sale::CartError;
        match (self.0, e) {
            (Language::Nb, KioskError::StorageUnavailable(_)) => {
                "Kassen får ikke lagret salg (minnekortet er fullt eller skrivebeskyttet). \
                 Ingen penger er tatt. Ring arrangøren."
                    .into()
            }
            (Language::Nb, KioskError::Cart(CartError::Empty)) => "Handlekurven er tom.".into(),
            (Language::Nb, KioskError::Cart(CartError::BelowMinimum(_))) => {
                "Vipps krever minst kr 1,00.".into()
            }
            (Language::Nb, KioskError::AlreadyApproved) => self.already_approved(),
            (Language::Nb, KioskError::AlreadyClosed(_)) => "Salget er allerede avsluttet.".into(),
            (Language::Nb, KioskError::Rejected(m)) => format!("Ikke mulig: {m}"),
            (Language::Nb, KioskError::Receipt(r)) => receipt_error_nb(r),
            (Language::Nb, e) => format!("Noe gikk galt: {e}. Ingen penger er tatt."),
            (Language::En, e) => e.to_string(),
        }
    }
}

fn receipt_error_nb(e: &crate::kiosk::ReceiptError) -> String {
    use crate::kiosk::ReceiptError::*;
    match e {
        NoPrinter => "Ingen kvitteringsskriver er satt opp ([printer] i luka.toml).".into(),
        NotPaid(_) => "Salget er ikke betalt, så det har ingen kvittering.".into(),
        CopyAlreadyPrinted(n) => {
            format!("Kvittering {n} har allerede fått sin ene kopi; reglene tillater ikke flere.")
        }
        NotPrintedYet(n) => format!(
            "Kvittering {n} er ikke skrevet ut ennå: fiks skriveren og trykk på den øverst først."
        ),
        PrintingNow(n) => format!("Kvittering {n} skrives ut akkurat nå: se på skriveren."),
        AlreadyPrinted(n) => format!("Kvittering {n} er allerede skrevet ut."),
    }
}
