//! Real-time status: the `DLE EOT n` queries and a pure reading of the replies.
//!
//! Owns what a status byte means. It must never do I/O: drivers send
//! [`QUERY`], read three bytes and hand them to [`parse_status`].

use super::error::PrintError;

/// DLE EOT 1 (printer), DLE EOT 2 (offline cause), DLE EOT 4 (paper sensor),
/// in the order `parse_status` expects the three one-byte replies.
pub const QUERY: [u8; 9] = [0x10, 0x04, 1, 0x10, 0x04, 2, 0x10, 0x04, 4];

/// What the printer says about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrinterStatus {
    pub online: bool,
    pub cover_open: bool,
    pub paper_out: bool,
    /// Still prints; the organizer should have a roll ready.
    pub paper_near_end: bool,
    pub error: bool,
}

impl PrinterStatus {
    pub const READY: PrinterStatus = PrinterStatus {
        online: true,
        cover_open: false,
        paper_out: false,
        paper_near_end: false,
        error: false,
    };

    /// Whether a receipt can be sent now, and if not, what the person must do.
    /// The order is the order a person fixes things in: paper, cover, fault.
    pub fn ready(&self) -> Result<(), PrintError> {
        if self.paper_out {
            Err(PrintError::PaperOut)
        } else if self.cover_open {
            Err(PrintError::CoverOpen)
        } else if self.error {
            Err(PrintError::PrinterFault)
        } else if !self.online {
            Err(PrintError::Offline)
        } else {
            Ok(())
        }
    }
}

/// Every status byte has bits 1 and 4 set and bits 0 and 7 clear; anything
/// else means we are out of step with the printer or not talking to one.
fn valid(b: u8) -> bool {
    b & 0b1001_0011 == 0b0001_0010
}

/// Reads the replies to [`QUERY`]: `[printer, offline cause, paper sensor]`.
pub fn parse_status(replies: &[u8]) -> Result<PrinterStatus, PrintError> {
    let [printer, offline, paper] = replies else {
        return Err(PrintError::StatusReply(format!(
            "{} bytes, expected 3",
            replies.len()
        )));
    };
    if let Some(bad) = [printer, offline, paper].into_iter().find(|b| !valid(**b)) {
        return Err(PrintError::StatusReply(format!(
            "byte {bad:#04x} in {replies:02x?}"
        )));
    }
    Ok(PrinterStatus {
        online: printer & 0x08 == 0,
        cover_open: offline & 0x04 != 0,
        // The paper-end stop (offline cause bit 5) or the roll sensor (bits 5-6).
        paper_out: offline & 0x20 != 0 || paper & 0x60 != 0,
        paper_near_end: paper & 0x0C != 0,
        error: offline & 0x40 != 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(online: bool, cover: bool, out: bool, near: bool, error: bool) -> PrinterStatus {
        PrinterStatus {
            online,
            cover_open: cover,
            paper_out: out,
            paper_near_end: near,
            error,
        }
    }

    #[test]
    fn reads_the_replies_of_dle_eot_1_2_4() {
        let cases: &[(&[u8], PrinterStatus)] = &[
            (&[0x12, 0x12, 0x12], PrinterStatus::READY),
            (&[0x16, 0x12, 0x12], PrinterStatus::READY), // drawer pin high: not our concern
            (&[0x1A, 0x12, 0x12], st(false, false, false, false, false)),
            (&[0x1A, 0x16, 0x12], st(false, true, false, false, false)),
            (&[0x1A, 0x32, 0x72], st(false, false, true, false, false)),
            (&[0x12, 0x12, 0x1E], st(true, false, false, true, false)),
            (&[0x1A, 0x32, 0x7E], st(false, false, true, true, false)),
            (&[0x1A, 0x52, 0x12], st(false, false, false, false, true)),
        ];
        for (bytes, want) in cases {
            assert_eq!(parse_status(bytes).unwrap(), *want, "{bytes:02x?}");
        }
    }

    #[test]
    fn refuses_replies_that_are_not_status_bytes() {
        for bytes in [
            &[][..],
            &[0x12, 0x12],
            &[0x12, 0x12, 0x12, 0x12],
            &[0x00, 0x12, 0x12],
            &[0x12, 0x93, 0x12],
        ] {
            assert!(
                matches!(parse_status(bytes), Err(PrintError::StatusReply(_))),
                "{bytes:02x?}"
            );
        }
    }

    #[test]
    fn readiness_names_the_first_thing_to_fix() {
        assert!(PrinterStatus::READY.ready().is_ok());
        assert!(
            st(true, false, false, true, false).ready().is_ok(),
            "near end still prints"
        );
        assert!(matches!(
            st(false, true, true, false, true).ready(),
            Err(PrintError::PaperOut)
        ));
        assert!(matches!(
            st(false, true, false, false, false).ready(),
            Err(PrintError::CoverOpen)
        ));
        assert!(matches!(
            st(false, false, false, false, true).ready(),
            Err(PrintError::PrinterFault)
        ));
        assert!(matches!(
            st(false, false, false, false, false).ready(),
            Err(PrintError::Offline)
        ));
    }
}
