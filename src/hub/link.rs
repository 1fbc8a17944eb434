//! The till's side of the hub: `luka pair URL CODE`, the link file, and
//! the sink of the `sync.hub` outbox lane.
//!
//! The link file (`luka.db` → `luka.hub-link.json`, mode 0600, beside the
//! database like the journal key) holds the hub's URL, the till id the hub
//! knows this till by, and the device credential. The credential is never
//! logged, never put in a URL or an error, and never stored in the
//! database. Secrets go only over https, or plain http to this machine.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::ingest::{Ingested, Upload, UploadEntry};
use super::pairing::Paired;
use crate::bookkeeping::Sink;
use crate::retry::{Failure, RetryClass};
use crate::secret::Secret;
use crate::store::{HUB_LANE, OutboxItem, Store};

/// Where the link file of the database at `db` lives.
pub fn link_path(db: &Path) -> PathBuf {
    let stem = db
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("luka")
        .to_string();
    db.with_file_name(format!("{stem}.hub-link.json"))
}

/// Refuses a hub address that would carry a secret in clear.
pub fn check_hub_url(url: &str) -> Result<(), String> {
    if url.starts_with("https://") {
        return Ok(());
    }
    if url.starts_with("http://") && crate::config::is_loopback_url(url) {
        return Ok(());
    }
    Err(format!(
        "{url} is not an https:// address: the device credential would travel in clear. \
         Give the hub's https:// address (put the hub behind a TLS proxy), or http:// only \
         for a hub on this machine (127.0.0.1 or localhost)"
    ))
}

/// What the link file holds.
#[derive(Clone, Serialize, Deserialize)]
pub struct Link {
    pub url: String,
    pub till_id: String,
    credential: String,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("url", &self.url)
            .field("till_id", &self.till_id)
            .field("credential", &"***")
            .finish()
    }
}

impl Link {
    pub fn credential(&self) -> Secret {
        Secret::new(self.credential.clone())
    }

    /// Reads the link of the database at `db`: `None` when the till is not
    /// paired; an error when the file is readable by others or unreadable.
    pub fn load(db: &Path) -> Result<Option<Link>, String> {
        let path = link_path(db);
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(format!(
                    "the hub link {} is readable by others (mode {mode:o}); \
                     run `chmod 600 {}`",
                    path.display(),
                    path.display()
                ));
            }
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        serde_json::from_str(&text).map(Some).map_err(|_| {
            format!(
                "{} is not a hub link file; pair the till again",
                path.display()
            )
        })
    }

    /// Writes the link file: a 0600 temporary file, synced, renamed into place.
    fn save(&self, db: &Path) -> Result<(), String> {
        use std::os::unix::fs::OpenOptionsExt;
        let path = link_path(db);
        let tmp = path.with_extension("json.tmp");
        let _ = std::fs::remove_file(&tmp);
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(serde_json::to_string_pretty(self)?.as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)
        };
        write().map_err(|e| format!("cannot write {}: {e}", path.display()))
    }
}

fn client(timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .user_agent(concat!("luka/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot make the hub client: {e}"))
}

/// The hub's words in an error answer (its `error` field), at most 300 characters.
async fn answer_text(resp: reqwest::Response) -> String {
    let text = resp.text().await.unwrap_or_default();
    let said = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_string))
        .unwrap_or(text);
    said.trim().chars().take(300).collect()
}

/// What `luka pair` did.
#[derive(Debug, Clone, Serialize)]
pub struct PairOutcome {
    pub till_id: String,
    pub url: String,
    /// Journal entries already on the till, now queued for the hub.
    pub queued: usize,
}

/// Why pairing was refused; each says what to do. Kept apart so the
/// till's screen can say it in the volunteer's language.
#[derive(Debug, thiserror::Error)]
pub enum PairError {
    #[error("type the hub's address and the code from the hub's Kasser page (Legg til kasse)")]
    Missing,
    /// Not https, and not this machine: the credential would travel in clear.
    #[error("{0}")]
    Address(String),
    #[error("this till is paired already as {till} with {url}; a till pairs once")]
    AlreadyPaired { till: String, url: String },
    #[error("the hub at {url} could not be reached: {detail}")]
    Unreachable { url: String, detail: String },
    /// Used, expired, unknown, or a device is paired as that till already.
    #[error("the hub refused the code ({status}): {detail}")]
    Refused { status: u16, detail: String },
    #[error(
        "the hub added this till as {hub_till}, but luka.toml says [till] id = \"{configured}\"; \
         set id = \"{hub_till}\" in [till], or ask for a code for {configured}. The code is used: \
         ask the treasurer to unpair {hub_till} and give a new one"
    )]
    WrongTill {
        hub_till: String,
        configured: String,
    },
    /// The link file or the hub's answer could not be read or written.
    #[error("{0}")]
    Other(String),
}

/// `luka pair URL CODE`: trades the code for this till's credential, keeps
/// it in the 0600 link file, and from then on queues every journal entry
/// (those already there too) for the hub.
pub async fn pair(
    store: &Store,
    configured_till: &str,
    url: &str,
    code: &str,
) -> Result<PairOutcome, PairError> {
    let url = url.trim().trim_end_matches('/').to_string();
    let code = code.trim();
    if url.is_empty() || code.is_empty() {
        return Err(PairError::Missing);
    }
    check_hub_url(&url).map_err(PairError::Address)?;
    if let Some(link) = Link::load(store.path()).map_err(PairError::Other)? {
        return Err(PairError::AlreadyPaired {
            till: link.till_id,
            url: link.url,
        });
    }
    let resp = client(Duration::from_secs(20))
        .map_err(PairError::Other)?
        .post(format!("{url}/api/pair"))
        .json(&serde_json::json!({ "code": code }))
        .send()
        .await
        .map_err(|e| PairError::Unreachable {
            url: url.clone(),
            detail: e.without_url().to_string(),
        })?;
    let status = resp.status();
    if !status.is_success() {
        return Err(PairError::Refused {
            status: status.as_u16(),
            detail: answer_text(resp).await,
        });
    }
    let paired: Paired = resp
        .json()
        .await
        .map_err(|_| PairError::Other("the hub's answer could not be read".into()))?;
    if paired.till_id != configured_till {
        return Err(PairError::WrongTill {
            hub_till: paired.till_id,
            configured: configured_till.to_string(),
        });
    }
    let link = Link {
        url: url.clone(),
        till_id: paired.till_id.clone(),
        credential: paired.credential,
    };
    link.save(store.path()).map_err(PairError::Other)?;
    // A catalogue kept from a hub this till was paired with before is not
    // this hub's: its version could match one of this hub's and be taken
    // for it (304). The till sells from luka.toml until this hub's comes.
    let kept = super::till_catalogue::catalogue_path(store.path());
    match std::fs::remove_file(&kept) {
        Ok(()) => tracing::info!("the catalogue kept from an earlier hub is removed"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(PairError::Other(format!(
                "cannot remove {}: {e}",
                kept.display()
            )));
        }
    }
    let now = time::OffsetDateTime::now_utc();
    let queued = store
        .write(|w| w.hub_paired(&url, &link.till_id, now))
        .map_err(|e| PairError::Other(e.to_string()))?;
    Ok(PairOutcome {
        till_id: link.till_id,
        url,
        queued,
    })
}

/// Entries sent in one upload: one request and one hub transaction for
/// many entries, well under the hub's body limit (an entry with its key is
/// a few KiB).
pub const UPLOAD_BATCH: usize = 100;

/// The `sync.hub` lane's sink: posts the lane's next entries (up to
/// [`UPLOAD_BATCH`]) to `/api/journal` with the device credential, all or
/// none. Safe to repeat: the hub takes an entry it has as a duplicate.
pub struct HubSink {
    http: reqwest::Client,
    link: Link,
}

impl HubSink {
    pub fn new(link: Link, timeout: Duration) -> Result<HubSink, String> {
        check_hub_url(&link.url)?;
        Ok(HubSink {
            http: client(timeout)?,
            link,
        })
    }
}

/// The hub lane of a running till that was not paired when it started:
/// it waits, idle, until the organizer pairs the till from its screen
/// (`Kiosk::pair_with_hub`), then delivers like [`HubSink`] with the link
/// read once from its file. No restart needed.
pub struct LaterHubSink {
    db: PathBuf,
    timeout: Duration,
    sink: std::sync::Mutex<Option<std::sync::Arc<HubSink>>>,
}

impl LaterHubSink {
    pub fn new(db: &Path, timeout: Duration) -> LaterHubSink {
        LaterHubSink {
            db: db.to_path_buf(),
            timeout,
            sink: std::sync::Mutex::new(None),
        }
    }

    fn sink(&self) -> Result<std::sync::Arc<HubSink>, Failure> {
        let mut held = self.sink.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = held.as_ref() {
            return Ok(s.clone());
        }
        // Items come only after pairing: a link that cannot be read now
        // is a file to fix, and the items wait for it.
        let link = Link::load(&self.db)
            .map_err(|e| Failure::new(RetryClass::Transient, e))?
            .ok_or_else(|| {
                Failure::new(
                    RetryClass::Transient,
                    "this till is not paired with a hub: pair it (Arrangør → Rapporter → \
                     Klubbens hub, or `luka pair URL CODE`)",
                )
            })?;
        let sink = std::sync::Arc::new(HubSink::new(link, self.timeout).map_err(Failure::local)?);
        *held = Some(sink.clone());
        Ok(sink)
    }
}

#[async_trait::async_trait]
impl Sink for LaterHubSink {
    fn kind(&self) -> &'static str {
        HUB_LANE
    }

    fn service(&self) -> &'static str {
        "the club's hub"
    }

    async fn deliver(&self, item: &OutboxItem) -> Result<(), Failure> {
        self.sink()?.deliver(item).await
    }

    fn batch(&self) -> usize {
        UPLOAD_BATCH
    }

    async fn deliver_all(&self, items: &[OutboxItem]) -> Result<(), Failure> {
        self.sink()?.deliver_all(items).await
    }
}

#[async_trait::async_trait]
impl Sink for HubSink {
    fn kind(&self) -> &'static str {
        HUB_LANE
    }

    fn service(&self) -> &'static str {
        "the club's hub"
    }

    async fn deliver(&self, item: &OutboxItem) -> Result<(), Failure> {
        self.deliver_all(std::slice::from_ref(item)).await
    }

    fn batch(&self) -> usize {
        UPLOAD_BATCH
    }

    async fn deliver_all(&self, items: &[OutboxItem]) -> Result<(), Failure> {
        let entries = items
            .iter()
            .map(|item| {
                serde_json::from_value::<UploadEntry>(item.payload.clone()).map_err(|e| {
                    Failure::local(format!(
                        "outbox item {} holds no journal entry: {e}",
                        item.id
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let upload = Upload {
            till_id: self.link.till_id.clone(),
            entries,
        };
        let resp = self
            .http
            .post(format!("{}/api/journal", self.link.url))
            .bearer_auth(self.link.credential.as_str())
            .json(&upload)
            .send()
            .await
            .map_err(|e| {
                Failure::new(
                    RetryClass::NoAnswer,
                    format!("the club's hub could not be reached: {}", e.without_url()),
                )
            })?;
        let status = resp.status();
        if status.is_success() {
            let done: Ingested = resp.json().await.map_err(|_| {
                Failure::new(RetryClass::Unreadable, "the club's hub answered unreadably")
            })?;
            for a in &done.alerts {
                tracing::warn!(alert = %a, "the club's hub raised an alert on this till's journal");
            }
            return Ok(());
        }
        let after = crate::bookkeeping::webhook::retry_after(&resp);
        Err(Failure::new(
            RetryClass::from_http(status.as_u16(), after),
            format!(
                "the club's hub answered {}: {}",
                status.as_u16(),
                answer_text(resp).await
            ),
        ))
    }
}
