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

use super::ingest::{Ingested, UploadEntry};
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

/// Entries claimed and sent together: as many as the hub takes in one
/// upload ([`super::ingest::MAX_ENTRIES`]), so a backlog costs the till few
/// commits and the hub few transactions. A batch whose body would pass
/// [`UPLOAD_BYTES`] goes as several uploads, in order.
pub const UPLOAD_BATCH: usize = super::ingest::MAX_ENTRIES;

/// The most one upload's body may hold: three quarters of the hub's limit
/// ([`super::web::MAX_BODY`]), so an upload is never refused for its size
/// (a sale's entry is about 1.5 KiB; a Z report's a few).
pub const UPLOAD_BYTES: usize = super::web::MAX_BODY / 4 * 3;

/// The bodies of the uploads that carry `items`, in order: each at most
/// [`UPLOAD_BYTES`] (unless one entry alone is larger) and
/// [`super::ingest::MAX_ENTRIES`] entries. A signed entry's public key goes
/// only with the first entry of each upload signed with that key version:
/// the hub stores a key the first time it comes, and checks later entries
/// of the same upload against it (the outbox item keeps its key, so a
/// retry that starts elsewhere sends it again).
pub fn upload_bodies(till_id: &str, items: &[OutboxItem]) -> Result<Vec<Vec<u8>>, Failure> {
    use serde::Deserialize;
    /// An [`UploadEntry`] as sent: its key left out when the upload
    /// carries it already.
    #[derive(Serialize)]
    struct Sent<'a> {
        entry: &'a crate::journal::ChainRow,
        #[serde(skip_serializing_if = "Option::is_none")]
        key: Option<&'a super::ingest::PublicKey>,
    }
    let unwritable = |e: serde_json::Error| Failure::local(format!("cannot write an upload: {e}"));
    let encode = |e: &UploadEntry, keys_sent: &[String]| {
        let key = e.key.as_ref().filter(|k| !keys_sent.contains(&k.version));
        serde_json::to_vec(&Sent {
            entry: &e.entry,
            key,
        })
        .map_err(unwritable)
    };
    let mut head = br#"{"till_id":"#.to_vec();
    serde_json::to_writer(&mut head, till_id).map_err(unwritable)?;
    head.extend_from_slice(br#","entries":["#);
    const TAIL: &[u8] = b"]}";
    let mut bodies = Vec::new();
    let mut body = head.clone();
    let mut count = 0usize;
    let mut keys_sent: Vec<String> = Vec::new();
    for item in items {
        let entry = UploadEntry::deserialize(&item.payload).map_err(|e| {
            Failure::local(format!(
                "outbox item {} holds no journal entry: {e}",
                item.id
            ))
        })?;
        let mut bytes = encode(&entry, &keys_sent)?;
        let fits = count < super::ingest::MAX_ENTRIES
            && body.len() + 1 + bytes.len() + TAIL.len() <= UPLOAD_BYTES;
        if !fits && count > 0 {
            body.extend_from_slice(TAIL);
            bodies.push(std::mem::replace(&mut body, head.clone()));
            count = 0;
            keys_sent.clear();
            bytes = encode(&entry, &keys_sent)?;
        }
        if count > 0 {
            body.push(b',');
        }
        body.extend_from_slice(&bytes);
        count += 1;
        if let Some(k) = &entry.key
            && !keys_sent.contains(&k.version)
        {
            keys_sent.push(k.version.clone());
        }
    }
    if count > 0 {
        body.extend_from_slice(TAIL);
        bodies.push(body);
    }
    Ok(bodies)
}

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
        // All or none: an upload that fails fails the batch, and the hub
        // takes the uploads before it again as duplicates on the retry.
        for body in upload_bodies(&self.link.till_id, items)? {
            self.upload(body).await?;
        }
        Ok(())
    }
}

impl HubSink {
    /// One `POST /api/journal` with a body from [`upload_bodies`].
    async fn upload(&self, body: Vec<u8>) -> Result<(), Failure> {
        let resp = self
            .http
            .post(format!("{}/api/journal", self.link.url))
            .bearer_auth(self.link.credential.as_str())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::ingest::{MAX_ENTRIES, PublicKey, Upload};
    use crate::journal::ChainRow;
    use crate::store::OutboxStatus;

    /// An outbox item of the hub lane: entry `seq`, signed with `version`
    /// (its key sent along, as the store queues it) unless `None`; `data`
    /// bytes of payload.
    fn item(seq: i64, version: Option<&str>, data: usize) -> OutboxItem {
        let entry = ChainRow {
            seq,
            at: "2026-12-07T10:00:00Z".into(),
            sale_id: None,
            kind: "cash.float".into(),
            data: "x".repeat(data),
            event_code: Some(11007),
            trans: version.map(|_| "{}".into()),
            signature: version.map(|_| "c2lnbmF0dXJl".into()),
            key_version: version.map(str::to_string),
            prev_hash: Some("0".repeat(64)),
            hash: Some("1".repeat(64)),
        };
        let key = version.map(|v| PublicKey {
            version: v.into(),
            algorithm: "RSA-SHA1-1024".into(),
            public_key: format!("-----BEGIN PUBLIC KEY-----\n{v}\n-----END PUBLIC KEY-----\n"),
        });
        OutboxItem {
            id: seq,
            sale_id: None,
            kind: HUB_LANE.into(),
            idempotency_key: format!("hub-kiosk-1-{seq}"),
            payload: serde_json::json!({ "entry": entry, "key": key }),
            status: OutboxStatus::InFlight,
            attempts: 1,
            next_attempt_at_ms: 0,
            last_error: None,
            requeue_reason: None,
        }
    }

    fn uploads(items: &[OutboxItem]) -> Vec<(usize, Upload)> {
        upload_bodies("kiosk-1", items)
            .unwrap()
            .into_iter()
            .map(|b| (b.len(), serde_json::from_slice::<Upload>(&b).unwrap()))
            .collect()
    }

    /// (seq, key version sent with it) of every entry, upload by upload.
    fn sent(uploads: &[(usize, Upload)]) -> Vec<Vec<(i64, Option<String>)>> {
        uploads
            .iter()
            .map(|(_, u)| {
                u.entries
                    .iter()
                    .map(|e| (e.entry.seq, e.key.as_ref().map(|k| k.version.clone())))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn a_batch_goes_as_one_upload_with_each_key_once_and_every_entry_as_stored() {
        let items = vec![
            item(1, None, 10),
            item(2, Some("v1"), 10),
            item(3, Some("v1"), 10),
            item(4, None, 10),
            item(5, Some("v2"), 10),
            item(6, Some("v1"), 10),
            item(7, Some("v2"), 10),
        ];
        let ups = uploads(&items);
        assert_eq!(
            sent(&ups),
            vec![vec![
                (1, None),
                (2, Some("v1".into())),
                (3, None),
                (4, None),
                (5, Some("v2".into())),
                (6, None),
                (7, None),
            ]]
        );
        let (_, upload) = &ups[0];
        assert_eq!(upload.till_id, "kiosk-1");
        for (e, i) in upload.entries.iter().zip(&items) {
            let stored: UploadEntry = serde_json::from_value(i.payload.clone()).unwrap();
            assert_eq!(e.entry, stored.entry, "the entry goes exactly as stored");
            if let Some(k) = &e.key {
                assert_eq!(Some(k), stored.key.as_ref(), "the key is the entry's own");
            }
        }
    }

    #[test]
    fn a_batch_too_large_for_one_body_goes_as_several_each_under_the_limit_in_order() {
        // About 100 KiB an entry: seven to an upload at most.
        let items: Vec<OutboxItem> = (1..=20)
            .map(|seq| item(seq, Some("v1"), 100 * 1024))
            .collect();
        let ups = uploads(&items);
        assert!(ups.len() >= 3, "{} uploads", ups.len());
        for (len, u) in &ups {
            assert!(*len <= UPLOAD_BYTES, "{len} bytes");
            assert!(*len < super::super::web::MAX_BODY);
            // Each upload carries the key with its first signed entry: the
            // hub may take it alone (a retry, another order of arrival).
            assert_eq!(u.entries[0].key.as_ref().unwrap().version, "v1");
            assert!(u.entries[1..].iter().all(|e| e.key.is_none()));
        }
        let seqs: Vec<i64> = ups
            .iter()
            .flat_map(|(_, u)| u.entries.iter().map(|e| e.entry.seq))
            .collect();
        assert_eq!(seqs, (1..=20).collect::<Vec<_>>());

        // Many small entries: never more than the hub takes in one upload.
        let items: Vec<OutboxItem> = (1..=(MAX_ENTRIES as i64 + 3))
            .map(|seq| item(seq, None, 10))
            .collect();
        let ups = uploads(&items);
        assert_eq!(
            ups.iter().map(|(_, u)| u.entries.len()).collect::<Vec<_>>(),
            [MAX_ENTRIES, 3]
        );

        // One entry larger than the budget still goes (alone), for the hub
        // to refuse in its own words rather than the lane to stall silently.
        let items = vec![
            item(1, None, 10),
            item(2, None, UPLOAD_BYTES),
            item(3, None, 10),
        ];
        assert_eq!(
            sent(&uploads(&items)),
            vec![vec![(1, None)], vec![(2, None)], vec![(3, None)]]
        );
    }

    #[test]
    fn an_item_without_a_journal_entry_is_a_local_failure() {
        let mut bad = item(1, None, 10);
        bad.payload = serde_json::json!({ "nothing": true });
        let f = upload_bodies("kiosk-1", &[bad]).unwrap_err();
        assert!(
            f.message.contains("holds no journal entry"),
            "{}",
            f.message
        );
    }
}
