//! The till's side of the catalogue coming down: fetch the hub's snapshot
//! (`GET /api/catalogue`, `If-None-Match` with the version the till has),
//! keep the last one in `luka.hub-catalogue.json` beside the database, and
//! sell from it.
//!
//! * A paired till with a kept catalogue sells from it, not from
//!   `[[products]]` in `luka.toml` ([`overlay`], at every start), so a
//!   restart without the hub keeps the hub's prices. An unpaired till, or
//!   a hub with no products yet, leaves `luka.toml` in charge.
//! * A new catalogue is kept on disk first, then applied (by the running
//!   till, `app/catalogue.rs`) with `Kiosk::apply_catalog` only between sales, which journals every
//!   price change (SAF-T 13021) before the first sale at the new price. A
//!   crash between the two applies it at the next start, journaled then.
//! * Sold-out marks come with the catalogue, each with when the club's
//!   newest mark was made; the till takes a mark newer than its own last
//!   mark of that product by hand (`app/catalogue.rs`, journaled).
//! * The hub being away changes nothing: the till keeps what it has.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::catalogue::Snapshot;
use super::link::{Link, check_hub_url};
use crate::config::Config;

/// Where the kept catalogue of the database at `db` lives.
pub fn catalogue_path(db: &Path) -> PathBuf {
    let stem = db
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("luka")
        .to_string();
    db.with_file_name(format!("{stem}.hub-catalogue.json"))
}

/// The catalogue last fetched from the hub, if any.
pub fn load_kept(db: &Path) -> Result<Option<Snapshot>, String> {
    let path = catalogue_path(db);
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
            format!(
                "{} is not a catalogue from the hub ({e}); it is fetched again",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// Keeps `snap`: a temporary file, synced, renamed into place.
fn keep(db: &Path, snap: &Snapshot) -> Result<(), String> {
    use std::io::Write;
    let path = catalogue_path(db);
    let tmp = path.with_extension("json.tmp");
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(serde_json::to_string_pretty(snap)?.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        if let Some(dir) = path.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    };
    write().map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// At start: a paired till sells from the hub's catalogue it kept (when it
/// has products). Returns the version taken, if any; a kept file that
/// cannot be used is said in the log and `luka.toml` stays in charge.
pub fn overlay(config: &mut Config) -> Option<i64> {
    match Link::load(&config.store_path) {
        Ok(Some(_)) => {}
        Ok(None) => return None,
        Err(e) => {
            tracing::warn!("the hub link cannot be read, selling from luka.toml: {e}");
            return None;
        }
    }
    let snap = match load_kept(&config.store_path) {
        Ok(Some(s)) if !s.products.is_empty() => s,
        Ok(_) => return None,
        Err(e) => {
            tracing::warn!("{e}");
            return None;
        }
    };
    match snap.to_catalog() {
        Ok(c) => {
            config.catalog = c;
            Some(snap.version)
        }
        Err(e) => {
            tracing::warn!(
                "the kept hub catalogue cannot be sold from ({e}); selling from luka.toml"
            );
            None
        }
    }
}

/// What one look at the hub found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pulled {
    /// Not paired: nothing to ask.
    NotPaired,
    /// The till has the hub's version already (304).
    Unchanged { version: i64 },
    /// A new version, kept on disk and to be applied between sales.
    New(Snapshot),
}

fn client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(5))
        .user_agent(concat!("luka/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot make the hub client: {e}"))
}

/// Asks the hub for its catalogue with `If-None-Match` of the kept version;
/// keeps a new one (checked first: every product must be sellable).
pub async fn pull(db: &Path) -> Result<Pulled, String> {
    let Some(link) = Link::load(db)? else {
        return Ok(Pulled::NotPaired);
    };
    check_hub_url(&link.url)?;
    let kept = load_kept(db).unwrap_or(None);
    let mut req = client()?
        .get(format!("{}/api/catalogue", link.url))
        .bearer_auth(link.credential().expose());
    if let Some(k) = &kept {
        req = req.header(reqwest::header::IF_NONE_MATCH, k.etag());
    }
    let resp = req.send().await.map_err(|e| {
        format!(
            "the club's hub could not be reached for the catalogue: {}",
            e.without_url()
        )
    })?;
    let status = resp.status();
    if status == reqwest::StatusCode::NOT_MODIFIED {
        return Ok(Pulled::Unchanged {
            version: kept.map(|k| k.version).unwrap_or_default(),
        });
    }
    if !status.is_success() {
        let text: String = resp.text().await.unwrap_or_default();
        let said = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_string))
            .unwrap_or(text);
        return Err(format!(
            "the club's hub refused the catalogue ({}): {}",
            status.as_u16(),
            said.trim().chars().take(300).collect::<String>()
        ));
    }
    let snap: Snapshot = resp
        .json()
        .await
        .map_err(|_| "the club's hub sent a catalogue that could not be read".to_string())?;
    if let Some(k) = &kept
        && k.version == snap.version
    {
        return Ok(Pulled::Unchanged { version: k.version });
    }
    if !snap.products.is_empty() {
        snap.to_catalog()
            .map_err(|e| format!("the hub's catalogue {} is refused: {e}", snap.version))?;
    }
    keep(db, &snap)?;
    tracing::info!(
        version = snap.version,
        products = snap.products.len(),
        "a new catalogue came down from the club's hub"
    );
    Ok(Pulled::New(snap))
}
