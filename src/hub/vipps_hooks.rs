//! Vipps webhooks through the hub: "Betalt" without waiting for the next
//! poll. The hub registers `{public_url}/vipps/webhook` at Vipps for each
//! sales unit of `[[hub.vipps]]`, checks every delivery's signature, date
//! and content hash, takes each event once, and hands the payment's
//! reference to the till it belongs to over the stream that till keeps
//! open (`GET /api/events`).
//!
//! A hint is all it is: the till reads the payment from Vipps itself, and
//! its polling goes on as the safety net. So nothing here can make a sale
//! paid: a lost, late or forged event costs at most a read. The signing
//! secret is kept in the hub's database, only read to check a signature,
//! never logged and never in an answer.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use time::OffsetDateTime;
use tokio::sync::mpsc;

use super::token::sha256;
use super::{Hub, HubError};
use crate::config::HubVipps;
use crate::secret::Secret;
use crate::vipps::dto::{PaymentEventName, WebhookEvent};
use crate::vipps::webhooks::{Delivery, WebhooksClient, host_and_path, verify};
use crate::vipps::{SystemInfo, VippsError};

/// Where Vipps posts, under the hub's public URL.
pub const WEBHOOK_PATH: &str = "/vipps/webhook";

/// The events the hub asks for: those the till's poller acts on.
pub const EVENTS: &[&str] = &[
    "epayments.payment.authorized.v1",
    "epayments.payment.aborted.v1",
    "epayments.payment.expired.v1",
    "epayments.payment.terminated.v1",
];

/// A delivery dated further than this from the hub's clock is refused: an
/// old one replayed, or a clock far off.
pub const DATE_WINDOW: Duration = Duration::from_secs(5 * 60);

/// Hints a till's stream holds before more are dropped (its poller reads anyway).
const STREAM_BUFFER: usize = 64;

/// How often the record of taken events is pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(10 * 60);

/// Each paired till's open stream: one per till, a new one replaces the
/// old (whose stream then ends).
#[derive(Default)]
pub struct Streams {
    open: Mutex<HashMap<String, (u64, mpsc::Sender<String>)>>,
    next: AtomicU64,
    pruned: Mutex<Option<Instant>>,
}

impl Streams {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u64, mpsc::Sender<String>)>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Opens `till`'s stream, ending the one it had.
    pub fn open(&self, till: &str) -> mpsc::Receiver<String> {
        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(till.to_string(), (id, tx));
        rx
    }

    /// Ends `till`'s stream (it was unpaired).
    pub fn close(&self, till: &str) {
        self.lock().remove(till);
    }

    /// Ends every stream (the hub is stopping: a graceful stop waits for
    /// every connection, and a stream would never end by itself).
    pub fn close_all(&self) {
        self.lock().clear();
    }

    /// Whether `till` has a stream open now.
    pub fn is_open(&self, till: &str) -> bool {
        self.lock().get(till).is_some_and(|(_, tx)| !tx.is_closed())
    }

    /// Hands `reference` to `till`'s stream; false when it has none (or it
    /// is full: the till's poller reads the payment anyway).
    pub fn send(&self, till: &str, reference: &str) -> bool {
        let mut open = self.lock();
        let Some((_, tx)) = open.get(till) else {
            return false;
        };
        match tx.try_send(reference.to_string()) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => false,
            Err(mpsc::error::TrySendError::Closed(_)) => {
                open.remove(till);
                false
            }
        }
    }
}

/// The till a payment reference belongs to: references are
/// `{till}-{sale number}-{random}` (`domain::reference`), and till ids may
/// hold '-', so the last two parts are cut off.
pub fn till_of_reference(reference: &str) -> Option<&str> {
    let mut parts = reference.rsplitn(3, '-');
    let random = parts.next()?;
    let sale = parts.next()?;
    let till = parts.next()?;
    let ok = random.len() == 8
        && random.chars().all(|c| c.is_ascii_hexdigit())
        && !sale.is_empty()
        && sale.chars().all(|c| c.is_ascii_digit())
        && !till.is_empty();
    ok.then_some(till)
}

/// Vipps posts only to https; plain http is taken for a hub on this
/// machine (tests, the simulator).
pub fn check_public_url(url: &str) -> Result<(), HubError> {
    if url.starts_with("https://") || crate::config::is_loopback_url(url) {
        return Ok(());
    }
    Err(HubError::Config(format!(
        "[hub] public_url {url} is not https://: Vipps posts webhooks to https addresses only. \
         Put the hub behind a TLS reverse proxy (deploy-pi/README.md, \"The club's hub\") and \
         set public_url to its https:// address"
    )))
}

/// What registering did for one sales unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Registered {
    pub msn: String,
    pub id: String,
    pub url: String,
    /// "kept" (the registration the hub had is still there) or "registered".
    pub outcome: &'static str,
    /// Earlier registrations of this hub deleted at Vipps.
    pub removed: usize,
}

fn vipps_error(msn: &str, what: &str, e: VippsError) -> HubError {
    let text = e.to_string();
    let fix = if text.contains("at most") || text.contains("limit") {
        " Vipps takes at most 5 webhooks per event per sales unit: delete ones no longer used \
         (GET and DELETE /webhooks/v1/webhooks) and start the hub again."
    } else {
        " Check the keys in [[hub.vipps]]; the tills poll meanwhile."
    };
    HubError::Config(format!(
        "Vipps webhooks for MSN {msn}: {what} failed: {text}.{fix}"
    ))
}

impl Hub {
    /// Registers the hub's webhook for each sales unit, reusing the one it
    /// has when Vipps still lists it, and deletes the hub's stale ones
    /// (its URL, or the id it had), so restarts do not pile registrations
    /// up against Vipps' limit of 5 per event. Others' webhooks are left.
    pub async fn register_vipps_webhooks(
        &self,
        public_url: &str,
        units: &[HubVipps],
    ) -> Result<Vec<Registered>, HubError> {
        check_public_url(public_url)?;
        let url = format!("{}{WEBHOOK_PATH}", public_url.trim_end_matches('/'));
        let mut out = Vec::new();
        for unit in units {
            out.push(self.register_unit(&url, unit).await?);
        }
        Ok(out)
    }

    async fn register_unit(&self, url: &str, unit: &HubVipps) -> Result<Registered, HubError> {
        let msn = unit.credentials.merchant_serial_number.clone();
        let system = SystemInfo {
            plugin_name: "luka-hub".into(),
            ..SystemInfo::default()
        };
        let api = WebhooksClient::new(
            &unit.base_url,
            unit.credentials.clone(),
            system,
            Duration::from_secs(15),
        )
        .map_err(|e| vipps_error(&msn, "making the client", e))?;
        let client = self.client().await?;
        let kept: Option<(String, String)> = client
            .query_opt("SELECT id, url FROM vipps_webhooks WHERE msn = $1", &[&msn])
            .await?
            .map(|r| (r.get(0), r.get(1)));
        let listed = api
            .list()
            .await
            .map_err(|e| vipps_error(&msn, "listing the webhooks", e))?;
        let current = kept.as_ref().and_then(|(id, kept_url)| {
            listed.iter().find(|w| {
                &w.id == id
                    && kept_url == url
                    && w.url == url
                    && EVENTS.iter().all(|e| w.events.iter().any(|x| x == e))
            })
        });
        let stale: Vec<&str> = listed
            .iter()
            .filter(|w| Some(&w.id) != current.map(|c| &c.id))
            .filter(|w| w.url == url || kept.as_ref().is_some_and(|(id, _)| &w.id == id))
            .map(|w| w.id.as_str())
            .collect();
        // Stale ones go first: they hold places under the limit.
        for id in &stale {
            api.delete(id)
                .await
                .map_err(|e| vipps_error(&msn, "deleting an earlier webhook", e))?;
        }
        if let Some(c) = current {
            tracing::info!(msn = %msn, id = %c.id, removed = stale.len(), "Vipps webhook kept");
            return Ok(Registered {
                msn,
                id: c.id.clone(),
                url: url.to_string(),
                outcome: "kept",
                removed: stale.len(),
            });
        }
        let (id, secret) = api
            .register(url, EVENTS)
            .await
            .map_err(|e| vipps_error(&msn, "registering", e))?;
        client
            .execute(
                "INSERT INTO vipps_webhooks (msn, id, url, secret) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (msn) DO UPDATE SET id = $2, url = $3, secret = $4, registered_at = now()",
                &[&msn, &id, &url, &secret.expose()],
            )
            .await?;
        tracing::info!(msn = %msn, id = %id, url = %url, removed = stale.len(), "Vipps webhook registered");
        Ok(Registered {
            msn,
            id,
            url: url.to_string(),
            outcome: "registered",
            removed: stale.len(),
        })
    }

    /// The signing secret the hub keeps for `msn` (tests sign with it).
    pub async fn vipps_webhook_secret(&self, msn: &str) -> Result<Option<Secret>, HubError> {
        let client = self.client().await?;
        Ok(client
            .query_opt("SELECT secret FROM vipps_webhooks WHERE msn = $1", &[&msn])
            .await?
            .map(|r| Secret::new(r.get::<_, String>(0))))
    }

    /// Events taken so far (kept a day).
    pub async fn vipps_events_taken(&self) -> Result<i64, HubError> {
        let client = self.client().await?;
        Ok(client
            .query_one("SELECT count(*) FROM vipps_webhook_events", &[])
            .await?
            .get(0))
    }

    /// Takes one delivery: refused (400/401, nothing changed) unless it is
    /// signed with the secret of its sales unit, unchanged and recent; taken
    /// once (the same event again is [`Taken::Again`]); then its reference
    /// goes to its till's stream.
    pub async fn take_vipps_webhook(
        &self,
        d: &Delivery<'_>,
        now: OffsetDateTime,
    ) -> Result<Taken, HubError> {
        let event: WebhookEvent = serde_json::from_slice(d.body).map_err(|_| {
            HubError::refused(400, "the body is not a Vipps ePayment webhook event")
        })?;
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT url, secret FROM vipps_webhooks WHERE msn = $1",
                &[&event.msn],
            )
            .await?
            .ok_or_else(|| {
                HubError::refused(
                    401,
                    "this hub has no webhook registered for that sales unit",
                )
            })?;
        let (url, secret): (String, String) = (row.get(0), row.get(1));
        let (host, path) = host_and_path(&url)
            .ok_or_else(|| HubError::Config(format!("the kept webhook URL {url} is no URL")))?;
        verify(&Secret::new(secret), &host, &path, d, now, DATE_WINDOW)
            .map_err(|e| HubError::refused(e.status(), e.to_string()))?;
        let name = serde_json::to_value(event.name)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let key = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            sha256(&format!(
                "{}\n{}\n{name}\n{}\n{}",
                event.msn, event.reference, event.psp_reference, event.timestamp
            )),
        );
        let fresh = client
            .execute(
                "INSERT INTO vipps_webhook_events (key, reference, name) VALUES ($1, $2, $3) \
                 ON CONFLICT (key) DO NOTHING",
                &[&key, &event.reference, &name],
            )
            .await?;
        self.prune_taken(&client).await;
        if fresh == 0 {
            tracing::info!(reference = %event.reference, event = %name, "Vipps webhook taken before: no effect");
            return Ok(Taken::Again);
        }
        let hint = matches!(
            event.name,
            PaymentEventName::Authorized
                | PaymentEventName::Aborted
                | PaymentEventName::Expired
                | PaymentEventName::Terminated
        );
        let till = till_of_reference(&event.reference);
        let sent = hint && till.is_some_and(|t| self.streams.send(t, &event.reference));
        tracing::info!(reference = %event.reference, event = %name, forwarded = sent, "Vipps webhook taken");
        Ok(if sent {
            Taken::Forwarded
        } else {
            Taken::NotForwarded
        })
    }

    /// Whether `till` holds its event stream open now.
    pub fn event_stream_open(&self, till: &str) -> bool {
        self.streams.is_open(till)
    }

    /// Opens `till`'s event stream (the web route's side).
    pub(crate) fn open_event_stream(&self, till: &str) -> mpsc::Receiver<String> {
        self.streams.open(till)
    }

    /// Ends `till`'s event stream (its credential is no longer valid).
    pub(crate) fn close_event_stream(&self, till: &str) {
        self.streams.close(till)
    }

    /// Forgets taken events older than a day, at most every ten minutes.
    async fn prune_taken(&self, client: &deadpool_postgres::Object) {
        {
            let mut last = self
                .streams
                .pruned
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if last.is_some_and(|t| t.elapsed() < PRUNE_EVERY) {
                return;
            }
            *last = Some(Instant::now());
        }
        if let Err(e) = client
            .execute(
                "DELETE FROM vipps_webhook_events WHERE received_at < now() - interval '1 day'",
                &[],
            )
            .await
        {
            tracing::warn!(error = %e, "could not prune the taken Vipps events");
        }
    }
}

/// What became of a delivery that passed the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// Its reference went to its till's open stream.
    Forwarded,
    /// Taken, but no till to tell: not an event the till waits for, a
    /// reference of no till, or its till has no stream open (it polls).
    NotForwarded,
    /// The same event was taken before (a replay, or Vipps trying again):
    /// no effect.
    Again,
}

/// Registers the webhooks in the background until it succeeds (a minute
/// between tries): the hub serves meanwhile, and the tills poll.
pub fn spawn_registration(
    hub: Hub,
    public_url: String,
    units: Vec<HubVipps>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match hub.register_vipps_webhooks(&public_url, &units).await {
                Ok(done) => {
                    for r in done {
                        tracing::info!(msn = %r.msn, outcome = r.outcome, "Vipps webhooks ready");
                    }
                    return;
                }
                Err(e) => tracing::warn!("{e} (trying again in a minute)"),
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(60)) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_till_is_read_off_the_reference() {
        let r = crate::domain::reference::payment_reference("kiosk-1", 42, 0xdead_beef);
        assert_eq!(till_of_reference(&r), Some("kiosk-1"));
        assert_eq!(till_of_reference("door-000001-0000000a"), Some("door"));
        assert_eq!(till_of_reference("a-b-c-1234567-00000000"), Some("a-b-c"));
        assert_eq!(till_of_reference("kiosk-1-42"), None);
        assert_eq!(till_of_reference("-000001-deadbeef"), None);
        assert_eq!(till_of_reference("x-00000a-deadbeef"), None);
    }

    #[test]
    fn only_https_or_this_machine_gets_webhooks() {
        assert!(check_public_url("https://hub.klubben.no").is_ok());
        assert!(check_public_url("http://127.0.0.1:8470").is_ok());
        let e = check_public_url("http://hub.klubben.no").unwrap_err();
        assert!(e.to_string().contains("TLS reverse proxy"), "{e}");
    }

    #[test]
    fn a_new_stream_replaces_the_old() {
        let s = Streams::default();
        assert!(!s.send("kiosk-1", "r"));
        let mut first = s.open("kiosk-1");
        assert!(s.send("kiosk-1", "kiosk-1-000001-00000001"));
        assert_eq!(first.try_recv().unwrap(), "kiosk-1-000001-00000001");
        let mut second = s.open("kiosk-1");
        assert!(s.send("kiosk-1", "b"));
        assert_eq!(second.try_recv().unwrap(), "b");
        assert!(matches!(
            first.try_recv(),
            Err(mpsc::error::TryRecvError::Disconnected)
        ));
        s.close("kiosk-1");
        assert!(matches!(
            second.try_recv(),
            Err(mpsc::error::TryRecvError::Disconnected)
        ));
        let third = s.open("kiosk-1");
        drop(third);
        assert!(!s.is_open("kiosk-1"));
        assert!(!s.send("kiosk-1", "c"));
    }
}
