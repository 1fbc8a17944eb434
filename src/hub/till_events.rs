//! The till's side of the hub's event stream (`GET /api/events`): a paired
//! till keeps it open and hands every reference that comes down to
//! `on_hint` (the app wires that to `Kiosk::hint`, which wakes the poller
//! of that payment to read it now).
//!
//! Never holds a sale up and never changes one: a hint only makes the till
//! read the payment from Vipps sooner. A hub that is away, slow or
//! unpaired leaves the till polling as it always does; the stream is tried
//! again with backoff until the till stops.

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::watch;

use super::link::{Link, check_hub_url};

/// The hub says it is alive every 15 s; a stream silent for this long is dead.
const SILENCE: Duration = Duration::from_secs(40);

/// The wait after the first failure, doubled up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Reads server-sent events out of the bytes as they come: the data of
/// each `payment` event, whole lines only.
#[derive(Default)]
struct Parser {
    buf: String,
    event: Option<String>,
    data: Vec<String>,
}

impl Parser {
    fn feed(&mut self, bytes: &[u8], out: &mut Vec<String>) {
        self.buf.push_str(&String::from_utf8_lossy(bytes));
        while let Some(end) = self.buf.find('\n') {
            let line: String = self.buf.drain(..=end).collect();
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                let event = self.event.take();
                let data = std::mem::take(&mut self.data).join("\n");
                if event.as_deref() == Some("payment") && !data.is_empty() {
                    out.push(data);
                }
            } else if let Some(v) = line.strip_prefix("event:") {
                self.event = Some(v.trim().to_string());
            } else if let Some(v) = line.strip_prefix("data:") {
                self.data.push(v.trim().to_string());
            }
            // Comments (": keep-alive") and other fields are skipped.
        }
    }
}

/// Why one stream ended.
enum Ended {
    Stopped,
    NotPaired,
    /// Said in the log; tried again after the backoff. `long` when the hub
    /// refused the till (a 4xx): asking every second would not help.
    Failed {
        why: String,
        long: bool,
    },
    /// It was open and then closed (the hub restarted, the network went).
    Closed,
}

async fn once(
    db: &std::path::Path,
    on_hint: &(dyn Fn(&str) + Send + Sync),
    stop: &mut watch::Receiver<bool>,
) -> Ended {
    let link = match Link::load(db) {
        Ok(Some(l)) => l,
        Ok(None) => return Ended::NotPaired,
        Err(why) => return Ended::Failed { why, long: true },
    };
    if let Err(why) = check_hub_url(&link.url) {
        return Ended::Failed { why, long: true };
    }
    let client = match reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .read_timeout(SILENCE)
        .user_agent(concat!("luka/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            return Ended::Failed {
                why: format!("cannot make the hub client: {e}"),
                long: true,
            };
        }
    };
    let sent = client
        .get(format!("{}/api/events", link.url))
        .bearer_auth(link.credential().expose())
        .header(reqwest::header::ACCEPT, "text/event-stream")
        .send();
    let mut resp = tokio::select! {
        r = sent => match r {
            Ok(r) => r,
            Err(e) => return Ended::Failed {
                why: format!("the club's hub could not be reached for its events: {}", e.without_url()),
                long: false,
            },
        },
        _ = stop.wait_for(|s| *s) => return Ended::Stopped,
    };
    let status = resp.status();
    if !status.is_success() {
        return Ended::Failed {
            why: format!(
                "the club's hub refused the event stream ({})",
                status.as_u16()
            ),
            long: status.is_client_error(),
        };
    }
    tracing::info!("listening to the club's hub for Vipps events");
    let mut parser = Parser::default();
    let mut hints = Vec::new();
    loop {
        let chunk = tokio::select! {
            c = resp.chunk() => c,
            _ = stop.wait_for(|s| *s) => return Ended::Stopped,
        };
        match chunk {
            Ok(Some(bytes)) => {
                parser.feed(&bytes, &mut hints);
                for reference in hints.drain(..) {
                    on_hint(&reference);
                }
            }
            Ok(None) => return Ended::Closed,
            Err(e) => {
                tracing::debug!("the hub's event stream broke: {}", e.without_url());
                return Ended::Closed;
            }
        }
    }
}

/// How often a till not paired yet looks whether it was paired meanwhile
/// (from its screen): a file's presence, nothing more.
const UNPAIRED_LOOK: Duration = Duration::from_secs(5);

/// Keeps the hub's event stream open while the till runs, handing each
/// reference to `on_hint`. Returns when `stop` is set, or when the till is
/// not paired unless `follow_pairing` (then it waits for the pairing).
pub fn spawn(
    db: PathBuf,
    on_hint: impl Fn(&str) + Send + Sync + 'static,
    follow_pairing: bool,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut backoff = FIRST_BACKOFF;
        loop {
            let wait = match once(&db, &on_hint, &mut stop).await {
                Ended::Stopped => return,
                Ended::NotPaired if !follow_pairing => return,
                Ended::NotPaired => UNPAIRED_LOOK,
                Ended::Closed => {
                    backoff = FIRST_BACKOFF;
                    FIRST_BACKOFF
                }
                Ended::Failed { why, long } => {
                    tracing::warn!("{why}; selling on, polling Vipps");
                    let wait = if long { MAX_BACKOFF } else { backoff };
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    wait
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_events_are_read_across_chunks_and_keep_alives_skipped() {
        let mut p = Parser::default();
        let mut out = Vec::new();
        p.feed(b": keep-alive\n\nevent: pay", &mut out);
        assert!(out.is_empty());
        p.feed(b"ment\ndata: kiosk-1-000001-deadbeef\n\n", &mut out);
        p.feed(
            b"event: other\ndata: x\n\nevent: payment\r\ndata: b\r\n\r\n",
            &mut out,
        );
        assert_eq!(out, vec!["kiosk-1-000001-deadbeef", "b"]);
    }
}
