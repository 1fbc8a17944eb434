//! Everything that can stop a receipt from reaching paper, in one enum.
//!
//! Each variant says whether trying again can help (`retry_can_help`) and its
//! `Display` tells the person at the till, in Norwegian, what to do. The
//! outbox holds the sale at "receipt not printed" on a retryable error; it
//! must never decide here how a sale ends.

/// Why printing failed. `Display` is the message for the till's screen.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("Tom for papir – legg i ny rull og trykk Prøv igjen")]
    PaperOut,
    #[error("Lokket på skriveren er åpent – lukk det og trykk Prøv igjen")]
    CoverOpen,
    #[error("Skriveren melder feil – slå den av og på, og trykk Prøv igjen")]
    PrinterFault,
    #[error("Skriveren er ikke klar – sjekk at den er på og tilkoblet, og trykk Prøv igjen")]
    Offline,
    #[error(
        "Får ikke kontakt med skriveren ({target}) – sjekk strøm og kabel, og trykk Prøv igjen"
    )]
    Unreachable {
        target: String,
        #[source]
        source: std::io::Error,
    },
    #[error("Finner ikke skriveren ({target}) – sjekk at den er koblet til, og trykk Prøv igjen")]
    NotFound { target: String },
    #[error(
        "Mangler tilgang til skriveren ({target}) – gi brukeren tilgang (f.eks. gruppen lp), så start Luka på nytt"
    )]
    PermissionDenied { target: String },
    #[error("Skriveren svarte uventet ({0}) – slå den av og på, og trykk Prøv igjen")]
    StatusReply(String),
    #[error("Skriveroppsettet er feil: {0} – rett [printer] i luka.toml")]
    Config(String),
    #[error("Kvitteringen kunne ikke lages: {0} – meld feilen til den som drifter kassen")]
    Render(String),
    #[error("Forhåndsvisningen kunne ikke lagres i {target}: {source}")]
    Preview {
        target: String,
        #[source]
        source: std::io::Error,
    },
}

/// What the person at the printer has to do, as a kind: the till's screen
/// says it in its own words and language (`ui/words.slint`); the `Display`
/// of [`PrintError`] is for the log, the outbox and the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrintProblem {
    PaperOut,
    CoverOpen,
    /// The printer reports a fault, or answered something unexpected.
    Fault,
    Offline,
    Unreachable,
    NotFound,
    /// The till's user may not open the printer's device.
    NoAccess,
    /// Only a change of setup (or code) helps: config, render, preview.
    Setup,
    /// Known only as stored words (a failure from before a restart).
    Unknown,
}

impl PrintError {
    pub fn problem(&self) -> PrintProblem {
        match self {
            PrintError::PaperOut => PrintProblem::PaperOut,
            PrintError::CoverOpen => PrintProblem::CoverOpen,
            PrintError::PrinterFault | PrintError::StatusReply(_) => PrintProblem::Fault,
            PrintError::Offline => PrintProblem::Offline,
            PrintError::Unreachable { .. } => PrintProblem::Unreachable,
            PrintError::NotFound { .. } => PrintProblem::NotFound,
            PrintError::PermissionDenied { .. } => PrintProblem::NoAccess,
            PrintError::Config(_) | PrintError::Render(_) | PrintError::Preview { .. } => {
                PrintProblem::Setup
            }
        }
    }

    /// True when the same receipt may print after the person fixes something
    /// at the printer; false when only a change of configuration or code helps.
    pub fn retry_can_help(&self) -> bool {
        match self {
            PrintError::PaperOut
            | PrintError::CoverOpen
            | PrintError::PrinterFault
            | PrintError::Offline
            | PrintError::Unreachable { .. }
            | PrintError::NotFound { .. }
            | PrintError::StatusReply(_)
            | PrintError::Preview { .. } => true,
            PrintError::PermissionDenied { .. } | PrintError::Config(_) | PrintError::Render(_) => {
                false
            }
        }
    }

    /// The sale waits at "receipt not printed" with a Retry button: it is
    /// neither lost nor failed, the printer just needs a hand.
    pub fn is_held(&self) -> bool {
        self.retry_can_help()
    }

    /// Maps an I/O error on a connection to what the person can do about it.
    pub(crate) fn from_io(target: &str, source: std::io::Error) -> PrintError {
        use std::io::ErrorKind;
        let target = target.to_string();
        match source.kind() {
            ErrorKind::NotFound => PrintError::NotFound { target },
            ErrorKind::PermissionDenied => PrintError::PermissionDenied { target },
            _ => PrintError::Unreachable { target, source },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_says_if_a_retry_helps_and_what_to_do() {
        let io = || std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let cases: Vec<(PrintError, bool, &str)> = vec![
            (PrintError::PaperOut, true, "legg i ny rull"),
            (PrintError::CoverOpen, true, "lukk det"),
            (PrintError::PrinterFault, true, "slå den av og på"),
            (PrintError::Offline, true, "ikke klar"),
            (
                PrintError::from_io("10.0.0.9:9100", io()),
                true,
                "sjekk strøm",
            ),
            (
                PrintError::from_io("/dev/usb/lp0", std::io::ErrorKind::NotFound.into()),
                true,
                "koblet til",
            ),
            (
                PrintError::from_io("/dev/usb/lp0", std::io::ErrorKind::PermissionDenied.into()),
                false,
                "gruppen lp",
            ),
            (
                PrintError::Config("width_mm = 60".into()),
                false,
                "luka.toml",
            ),
            (PrintError::Render("qr".into()), false, "meld feilen"),
        ];
        for (err, retry, hint) in cases {
            assert_eq!(err.retry_can_help(), retry, "{err}");
            assert!(err.to_string().contains(hint), "{err}");
        }
    }

    #[test]
    fn each_error_is_a_problem_the_screen_has_words_for() {
        let io = |k: std::io::ErrorKind| PrintError::from_io("/dev/usb/lp0", k.into());
        let cases = [
            (PrintError::PaperOut, PrintProblem::PaperOut),
            (PrintError::CoverOpen, PrintProblem::CoverOpen),
            (PrintError::PrinterFault, PrintProblem::Fault),
            (PrintError::StatusReply("0x7f".into()), PrintProblem::Fault),
            (PrintError::Offline, PrintProblem::Offline),
            (
                io(std::io::ErrorKind::ConnectionRefused),
                PrintProblem::Unreachable,
            ),
            (io(std::io::ErrorKind::NotFound), PrintProblem::NotFound),
            (
                io(std::io::ErrorKind::PermissionDenied),
                PrintProblem::NoAccess,
            ),
            (
                PrintError::Config("width_mm = 60".into()),
                PrintProblem::Setup,
            ),
            (PrintError::Render("qr".into()), PrintProblem::Setup),
        ];
        for (err, problem) in cases {
            assert_eq!(err.problem(), problem, "{err}");
        }
    }
}
