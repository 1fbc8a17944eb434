//! What the till knows about its printer: the settings it prints with, the
//! state the UI shows ([`PrinterState`]), and the one lock every print job
//! takes so two receipts never interleave on the paper.
//!
//! Owns the in-memory picture only; it must never touch the store or a
//! printer. The picture is rebuilt from each print attempt, so it is never
//! more than one attempt old, and the held count comes from the outbox.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::domain::Merchant;
use crate::printer::{Connection, LayoutConfig, PaperWidth, PrintProblem};

/// How this till prints receipts (from `[printer]` and `[merchant]`).
#[derive(Debug, Clone)]
pub struct ReceiptSettings {
    /// `None`: no printer; each sale is journalled as concluded without a receipt.
    pub printer: Option<Connection>,
    /// Paper width, logo, and whether a cash sale opens the drawer.
    pub layout: LayoutConfig,
    pub merchant: Merchant,
    pub footer: Vec<String>,
}

impl Default for ReceiptSettings {
    /// No printer: what headless tests and the money-path bench run with.
    fn default() -> Self {
        ReceiptSettings {
            printer: None,
            layout: LayoutConfig::new(PaperWidth::Mm80),
            merchant: Merchant::training(),
            footer: Vec::new(),
        }
    }
}

/// The printer as the person at the till should see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrinterState {
    /// No printer is configured (`driver = "none"`).
    NotConfigured,
    /// Nothing printed yet since start: no news is not good news.
    Unknown,
    /// The last job came out.
    Ready,
    /// Receipts wait for a hand at the printer: `problem` is what the
    /// screen puts in its words, `message` the printer layer's own
    /// ([`crate::printer::PrintError`]) for the log and the command line.
    Held {
        problem: PrintProblem,
        message: String,
    },
}

impl PrinterState {
    /// One line for the screen, in Norwegian.
    pub fn message(&self) -> String {
        match self {
            PrinterState::NotConfigured => {
                "Ingen kvitteringsskriver er satt opp – salg fullføres uten kvittering. \
                 Sett opp [printer] i luka.toml"
                    .into()
            }
            PrinterState::Unknown => "Skriveren er ikke brukt ennå".into(),
            PrinterState::Ready => "Skriveren er klar".into(),
            PrinterState::Held { message, .. } => message.clone(),
        }
    }

    pub fn is_held(&self) -> bool {
        matches!(self, PrinterState::Held { .. })
    }
}

/// The state plus how many receipts and reports wait to print, cheap to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterView {
    pub state: PrinterState,
    /// Receipts and reports queued but not printed: held while the printer
    /// needs a hand, a moment otherwise.
    pub held: usize,
}

/// After a failed attempt, other jobs within this window fail at once with
/// the same message instead of each waiting out a dead printer's timeout:
/// a pile of held receipts must not fill the worker slots Vipps needs.
const FAIL_FAST: Duration = Duration::from_secs(2);

/// How a print attempt failed: the printer layer's words, the kind of
/// problem, and whether the same receipt may print after a hand fixes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failed {
    pub message: String,
    pub problem: PrintProblem,
    pub retry_can_help: bool,
}

impl Failed {
    pub(crate) fn of(e: &crate::printer::PrintError) -> Failed {
        Failed {
            message: e.to_string(),
            problem: e.problem(),
            retry_can_help: e.retry_can_help(),
        }
    }

    /// What the screen shows while receipts wait.
    pub(crate) fn held(&self) -> PrinterState {
        PrinterState::Held {
            problem: self.problem,
            message: self.message.clone(),
        }
    }
}

pub(crate) struct PrinterCell {
    view: Mutex<PrinterView>,
    last_failure: Mutex<Option<(Instant, Failed)>>,
    /// Taken by each job on the blocking thread that talks to the printer.
    pub(crate) job: Mutex<()>,
}

impl PrinterCell {
    pub(crate) fn new(configured: bool) -> PrinterCell {
        let state = if configured {
            PrinterState::Unknown
        } else {
            PrinterState::NotConfigured
        };
        PrinterCell {
            view: Mutex::new(PrinterView { state, held: 0 }),
            last_failure: Mutex::new(None),
            job: Mutex::new(()),
        }
    }

    pub(crate) fn view(&self) -> PrinterView {
        self.view.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Sets what changed; true when the view is different from before.
    pub(crate) fn update(&self, state: Option<PrinterState>, held: Option<usize>) -> bool {
        let mut v = self.view.lock().unwrap_or_else(|e| e.into_inner());
        let before = v.clone();
        if let Some(s) = state
            && v.state != PrinterState::NotConfigured
        {
            v.state = s;
        }
        if let Some(h) = held {
            v.held = h;
        }
        *v != before
    }

    pub(crate) fn failed(&self, failed: Failed) {
        *self.last_failure.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((Instant::now(), failed));
    }

    pub(crate) fn succeeded(&self) {
        *self.last_failure.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// A failure so recent that trying again now is pointless.
    pub(crate) fn recent_failure(&self) -> Option<Failed> {
        let last = self.last_failure.lock().unwrap_or_else(|e| e.into_inner());
        last.as_ref()
            .filter(|(at, _)| at.elapsed() < FAIL_FAST)
            .map(|(_, f)| f.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_view_changes_only_when_something_changed_and_none_stays_none() {
        let cell = PrinterCell::new(true);
        assert_eq!(cell.view().state, PrinterState::Unknown);
        let held = PrinterState::Held {
            problem: PrintProblem::PaperOut,
            message: "Tom for papir".into(),
        };
        assert!(cell.update(Some(held.clone()), Some(1)));
        assert!(!cell.update(Some(held), Some(1)));
        assert!(cell.update(None, Some(2)));
        assert!(cell.update(Some(PrinterState::Ready), Some(0)));
        let none = PrinterCell::new(false);
        assert!(!none.update(Some(PrinterState::Ready), None));
        assert_eq!(none.view().state, PrinterState::NotConfigured);
        assert!(none.view().state.message().contains("[printer]"));
    }

    #[test]
    fn a_failure_is_recent_until_a_success() {
        let cell = PrinterCell::new(true);
        assert_eq!(cell.recent_failure(), None);
        let paper = Failed::of(&crate::printer::PrintError::PaperOut);
        cell.failed(paper.clone());
        assert_eq!(cell.recent_failure(), Some(paper));
        cell.succeeded();
        assert_eq!(cell.recent_failure(), None);
    }
}
