//! The printer's real-time status replies (`printer::status::parse_status`,
//! three bytes after `DLE EOT 1/2/4`), and the ESC/POS tokenizer the
//! printer simulator and the preview driver read a byte stream with (it is
//! how the simulator finds the status queries it must answer).
//!
//! A status reply is accepted exactly when it is three valid status bytes,
//! and "ready" never hides paper out, an open cover, a fault or offline.
//! The tokenizer always makes progress and never reads past the input.

use luka::printer::interpret::{Command, interpret, next_command};
use luka::printer::{PaperWidth, PrintError, parse_status};

fn valid(b: u8) -> bool {
    b & 0b1001_0011 == 0b0001_0010
}

pub fn run(data: &[u8]) {
    status(data);
    for window in data.windows(3).take(64) {
        status(window);
    }
    tokens(data);
    for width in [PaperWidth::Mm58, PaperWidth::Mm80] {
        for doc in interpret(data, width) {
            assert_eq!(doc.width, width);
            let _ = doc.plain_lines();
        }
    }
}

fn status(replies: &[u8]) {
    let want_ok = replies.len() == 3 && replies.iter().all(|b| valid(*b));
    match parse_status(replies) {
        Ok(st) => {
            assert!(want_ok, "accepted {replies:02x?}");
            let (printer, offline, paper) = (replies[0], replies[1], replies[2]);
            assert_eq!(st.online, printer & 0x08 == 0);
            assert_eq!(st.cover_open, offline & 0x04 != 0);
            assert_eq!(st.error, offline & 0x40 != 0);
            assert_eq!(st.paper_out, offline & 0x20 != 0 || paper & 0x60 != 0);
            match st.ready() {
                Ok(()) => assert!(st.online && !st.paper_out && !st.cover_open && !st.error),
                Err(e) => {
                    assert!(!(st.online && !st.paper_out && !st.cover_open && !st.error));
                    // What holds a receipt must say so, so the sale is never lost.
                    assert!(e.is_held(), "{e:?} for {st:?}");
                }
            }
        }
        Err(PrintError::StatusReply(msg)) => {
            assert!(!want_ok, "refused {replies:02x?}: {msg}");
        }
        Err(other) => panic!("a status reply gave {other:?}"),
    }
}

fn tokens(data: &[u8]) {
    let mut rest = data;
    let mut queries = 0usize;
    while let Some((cmd, len)) = next_command(rest) {
        assert!(len >= 1 && len <= rest.len(), "{len} of {}", rest.len());
        match cmd {
            Command::Text(t) => {
                assert!(!t.is_empty() && t.iter().all(|c| *c >= 0x20));
                assert_eq!(t.len(), len);
            }
            Command::StatusQuery(_) => {
                assert_eq!(&rest[..2], &[0x10, 0x04]);
                queries += 1;
            }
            Command::Raster {
                width_bytes,
                height,
                data,
            } => assert_eq!(data.len(), width_bytes * height),
            _ => {}
        }
        rest = &rest[len..];
    }
    assert!(queries <= data.len() / 3);
}
