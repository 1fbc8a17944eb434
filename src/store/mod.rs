//! SQLite: migrations, sales, payments, refunds, the outbox (with its
//! bookkeeping sync lanes and the hub lane), the journal, the hub link, reconciliations and online backups. The only module that writes SQL.
//!
//! Durability: WAL with `synchronous=FULL`, so a commit has reached the disk
//! before `commit()` returns; a sale is never acknowledged (nor is the network
//! touched on its behalf) before that. WAL lets readers (reports, the UI's
//! pulls) run while a writer commits. Every state change is a guarded
//! `UPDATE … WHERE status = ?`; zero rows changed is a `Conflict`, never a
//! silent no-op.
//!
//! One connection behind a `std::sync::Mutex` for the till's work: statements
//! are short (a few milliseconds with the fsync), so briefly blocking a
//! runtime worker is cheaper than a thread hop per statement. The screens
//! read on a second, read-only connection ([`Store::view`]); long exports on
//! a fresh one ([`Store::read_separately`]). The UI thread never calls here.

pub mod backup;
mod cash_trans;
mod catalog;
mod hub;
mod journal;
mod journal_read;
mod outbox;
mod payments;
mod refunds;
mod sales;
mod settlement;
mod stock;
mod sync;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OpenFlags, Transaction};

pub use crate::domain::payment::Amounts;
pub use catalog::KnownPrice;
pub use hub::{HUB_LANE, HubLink};
pub use journal::{JournalEntry, operator_id};
pub use journal_read::{JournalRecord, LastZ, RecordFilter};
pub use outbox::{NewOutboxItem, OutboxItem, OutboxStatus};
pub use payments::PaymentRecord;
pub use refunds::RefundRecord;
pub use sales::{NewSale, SaleRecord};
pub use settlement::StoredReconciliation;
pub use stock::Stock;
pub use sync::{SYNC_PREFIX, SyncLaneStatus};

/// Numbered migrations, applied in order on open; `PRAGMA user_version`
/// holds how many have run.
const MIGRATIONS: &[(&str, &str)] = &[
    ("001_init", include_str!("migrations/001_init.sql")),
    (
        "002_journal_chain",
        include_str!("migrations/002_journal_chain.sql"),
    ),
    ("003_sync", include_str!("migrations/003_sync.sql")),
    (
        "004_prices_and_identity",
        include_str!("migrations/004_prices_and_identity.sql"),
    ),
    ("005_card", include_str!("migrations/005_card.sql")),
    ("006_stock", include_str!("migrations/006_stock.sql")),
    ("007_hub", include_str!("migrations/007_hub.sql")),
    (
        "008_open_items",
        include_str!("migrations/008_open_items.sql"),
    ),
    (
        "009_sales_units",
        include_str!("migrations/009_sales_units.sql"),
    ),
    (
        "010_unit_reconciliations",
        include_str!("migrations/010_unit_reconciliations.sql"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A guarded update changed no row: the state was not what the caller
    /// believed. Retrying the same change cannot help.
    #[error("{what}: expected {expected}, found {found}")]
    Conflict {
        what: String,
        expected: String,
        found: String,
    },
    #[error("{0} not found")]
    NotFound(String),
    #[error("cannot open the database at {path}: {reason}")]
    Open { path: PathBuf, reason: String },
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Rejected(String),
    /// The journal signing key cannot be read or made: no cash transaction
    /// can be recorded until it is fixed.
    #[error("{0}")]
    Key(#[from] crate::journal::KeyError),
    /// Another process already runs the outbox of this database.
    #[error(
        "another Luka is already working on {} (the till, `luka sync` or `luka charge`); \
         stop it first (on a Pi: sudo systemctl stop luka), then run this again",
        path.display()
    )]
    InUse { path: PathBuf },
}

impl StoreError {
    /// Disk full or read-only media: new sales must be refused.
    pub fn is_storage_unavailable(&self) -> bool {
        use rusqlite::ErrorCode as C;
        match self {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.code,
                C::DiskFull | C::ReadOnly | C::CannotOpen | C::SystemIoFailure
            ),
            StoreError::Open { .. } => true,
            _ => false,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
    key: KeySlot,
    /// Held while this process runs the outbox; see [`Store::claim_workers`].
    workers: Mutex<Option<std::fs::File>>,
    /// The screens' read-only connection, opened on first use; see [`Store::view`].
    viewer: std::sync::OnceLock<Mutex<Connection>>,
}

/// The page cache of the view connection, in KiB. The screens read a few
/// hundred rows; SQLite's default (2 MiB) would only hold pages the till's
/// own connection caches already.
const VIEW_CACHE_KIB: i64 = 512;

/// The page cache of the till's own (writing) connection, in KiB. Its
/// commits touch the tails of a few tables and indexes; the rest of the file
/// is in the OS's cache anyway. SQLite's default (2 MiB) is reached only
/// once the database has grown past it, so a till's memory crept up through
/// its first few hundred sales of a fresh day (issue 18).
const TILL_CACHE_KIB: i64 = 1024;

/// The journal signing key, loaded (or made) the first time a cash
/// transaction is signed, so opening a store stays cheap.
struct KeySlot {
    path: PathBuf,
    key: std::sync::OnceLock<std::sync::Arc<crate::journal::JournalKey>>,
}

impl KeySlot {
    fn get(&self) -> Result<std::sync::Arc<crate::journal::JournalKey>> {
        if let Some(k) = self.key.get() {
            return Ok(k.clone());
        }
        let (key, _created) = crate::journal::JournalKey::load_or_create(&self.path)?;
        Ok(self.key.get_or_init(|| std::sync::Arc::new(key)).clone())
    }
}

/// Where the signing key of the database at `db` lives: beside it,
/// `luka.db` → `luka.journal-key.pem`.
pub fn signing_key_path(db: &Path) -> PathBuf {
    let stem = db
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("luka")
        .to_string();
    db.with_file_name(format!("{stem}.journal-key.pem"))
}

/// The file whose lock says which process runs the outbox of the database at
/// `db`: `luka.db` → `luka.db.workers.lock`. It holds no data.
pub fn worker_lock_path(db: &Path) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(".workers.lock");
    db.with_file_name(name)
}

impl Store {
    /// Opens (creating if needed) the database and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
                path: path.to_path_buf(),
                reason: format!("cannot create folder {}: {e}", dir.display()),
            })?;
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| StoreError::Open {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Self::configure(&conn)?;
        let store = Store {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
            key: KeySlot {
                path: signing_key_path(path),
                key: std::sync::OnceLock::new(),
            },
            workers: Mutex::new(None),
            viewer: std::sync::OnceLock::new(),
        };
        store.migrate()?;
        Ok(store)
    }

    /// How long this store's writes wait for another process's write lock
    /// (5 s from [`Store::open`]). A command run beside the till (`luka
    /// backup`, `cash float`, `report z`, exports) may wait longer: SQLite's
    /// lock has no queue, and a till committing back to back can hold it
    /// past 5 s. The till itself keeps 5 s: a sale must not hang on a command.
    pub fn wait_for_writers(&self, wait: std::time::Duration) -> Result<()> {
        self.lock().busy_timeout(wait)?;
        Ok(())
    }

    fn configure(conn: &Connection) -> Result<()> {
        // WAL + FULL: each commit is on disk when it returns (FULL syncs the
        // WAL on every commit; NORMAL would not, and a power cut could lose
        // the last sales). busy_timeout covers a second process such as
        // `luka report` reading while the till writes.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "cache_size", -TILL_CACHE_KIB)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(())
    }

    fn migrate(&self) -> Result<()> {
        let mut conn = self.lock();
        let applied: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let applied = applied.max(0) as usize;
        if applied > MIGRATIONS.len() {
            return Err(StoreError::Corrupt(format!(
                "the database has schema version {applied}, newer than this Luka knows \
                 ({}); install the newer Luka again or restore a backup",
                MIGRATIONS.len()
            )));
        }
        for (i, (name, sql)) in MIGRATIONS.iter().enumerate().skip(applied) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)
                .map_err(|e| StoreError::Corrupt(format!("migration {name} failed: {e}")))?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
            tracing::info!(migration = name, "applied database migration");
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Claims the database for this process's outbox workers, until the store
    /// is dropped (or the process dies: the kernel releases the lock).
    ///
    /// Start-up re-queues every item found in flight, on the belief that a
    /// crash left it there. A second process doing that while the first is
    /// alive would send its captures again (harmless, same key) and print its
    /// receipts again (a second original), and two `sync` workers would break
    /// a lane's order. Readers (`luka report`, `luka backup`, …) need no claim.
    pub fn claim_workers(&self) -> Result<()> {
        let mut held = self.workers.lock().unwrap_or_else(|e| e.into_inner());
        if held.is_some() {
            return Ok(());
        }
        let lock_path = worker_lock_path(&self.path);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| StoreError::Open {
                path: self.path.clone(),
                reason: format!("cannot open {}: {e}", lock_path.display()),
            })?;
        match file.try_lock() {
            Ok(()) => {
                *held = Some(file);
                Ok(())
            }
            Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::InUse {
                path: self.path.clone(),
            }),
            Err(std::fs::TryLockError::Error(e)) => Err(StoreError::Open {
                path: self.path.clone(),
                reason: format!("cannot lock {}: {e}", lock_path.display()),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (the
        // transaction rolls back on drop), so the poisoned guard is usable.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` in one write transaction: all of it commits, or none.
    pub fn write<T>(&self, f: impl FnOnce(&mut Writer<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut w = Writer { tx, key: &self.key };
        let out = f(&mut w)?;
        w.tx.commit()?;
        Ok(out)
    }

    /// Runs read-only queries on a consistent snapshot.
    pub fn read<T>(&self, f: impl FnOnce(&Reader<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let r = Reader { conn: &tx };
        f(&r)
    }

    /// Runs the screens' read-only queries (the organizer's day view, the
    /// status bar's backlog count) on a connection of their own, kept open
    /// with a small page cache: a screen never waits behind the till's
    /// writes (WAL readers do not block), nor holds them up. The snapshot is
    /// consistent, and sees every commit made before it began.
    pub fn view<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Reader<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let cell = match self.viewer.get() {
            Some(c) => c,
            None => {
                let conn = self.open_reader()?;
                conn.pragma_update(None, "cache_size", -VIEW_CACHE_KIB)
                    .map_err(StoreError::from)?;
                // Two threads racing here both open one; the loser's is dropped.
                let _ = self.viewer.set(Mutex::new(conn));
                self.viewer.get().expect("set above")
            }
        };
        let mut conn = cell.lock().unwrap_or_else(|e| e.into_inner());
        let tx = conn.transaction().map_err(StoreError::from)?;
        let r = Reader { conn: &tx };
        f(&r)
    }

    fn open_reader(&self) -> Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(conn)
    }

    /// Runs long read-only work (reports over a year, the SAF-T export) on
    /// its own connection, so the till's writes are not held up meanwhile.
    pub fn read_separately<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Reader<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut conn = self.open_reader()?;
        let tx = conn.transaction().map_err(StoreError::from)?;
        let r = Reader { conn: &tx };
        f(&r)
    }

    /// Loads the journal signing key, making it (0600) if this is the first
    /// start; returns its key version. The till calls it at start-up so a
    /// key problem stops it there, not at the first sale.
    pub fn signing_key_version(&self) -> Result<String> {
        Ok(self.key.get()?.version().to_string())
    }

    /// The signing key file of this database.
    pub fn signing_key_path(&self) -> &Path {
        &self.key.path
    }

    /// Settings the store runs with, for `luka` diagnostics and tests.
    pub fn pragmas(&self) -> Result<(String, i64)> {
        let conn = self.lock();
        let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0))?;
        let sync: i64 = conn.pragma_query_value(None, "synchronous", |r| r.get(0))?;
        Ok((mode, sync))
    }

    /// Copies the WAL into the database file and truncates it, so the `.db`
    /// file alone holds every commit (clean stop, before a plain file copy).
    /// Durability never depends on it: committed data is already in the WAL.
    pub fn checkpoint(&self) -> Result<()> {
        let conn = self.lock();
        let (busy, _, _): (i64, i64, i64) =
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        if busy != 0 {
            return Err(StoreError::Rejected(
                "another connection is reading; the checkpoint will happen later".into(),
            ));
        }
        Ok(())
    }

    pub fn integrity_check(&self) -> Result<String> {
        let conn = self.lock();
        Ok(conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }
}

/// The statements that change state, inside one transaction.
pub struct Writer<'c> {
    tx: Transaction<'c>,
    key: &'c KeySlot,
}

/// Queries, on a snapshot.
pub struct Reader<'c> {
    conn: &'c Connection,
}

impl Writer<'_> {
    fn conn(&self) -> &Connection {
        &self.tx
    }

    /// Read queries inside the write transaction.
    pub fn reader(&self) -> Reader<'_> {
        Reader { conn: &self.tx }
    }
}

/// Turns "0 rows changed" into a `Conflict` naming what was found instead.
fn guard(changed: usize, what: impl Into<String>, expected: &str, found: String) -> Result<()> {
    if changed == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict {
            what: what.into(),
            expected: expected.to_string(),
            found,
        })
    }
}

#[cfg(test)]
mod open_tests {
    use super::*;

    #[test]
    fn opens_with_wal_full_sync_and_all_migrations() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/luka.db");
        let store = Store::open(&path).unwrap();
        assert_eq!(store.pragmas().unwrap(), ("wal".to_string(), 2));
        assert_eq!(store.integrity_check().unwrap(), "ok");
        drop(store);
        // Reopening applies nothing twice.
        let store = Store::open(&path).unwrap();
        let v: i64 = store
            .lock()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v as usize, MIGRATIONS.len());
    }

    #[test]
    fn refuses_a_database_from_a_newer_luka() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("luka.db");
        drop(Store::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let err = Store::open(&path).err().unwrap().to_string();
        assert!(err.contains("schema version 99"), "{err}");
    }

    #[test]
    fn one_process_runs_the_outbox_of_a_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("luka.db");
        let till = Store::open(&path).unwrap();
        till.claim_workers().unwrap();
        till.claim_workers().unwrap(); // a restart inside the process keeps it
        // A second opener (another process, or `luka sync` by hand) reads freely…
        let other = Store::open(&path).unwrap();
        assert_eq!(other.integrity_check().unwrap(), "ok");
        // …but may not run the outbox beside it.
        let err = other.claim_workers().unwrap_err();
        assert!(matches!(err, StoreError::InUse { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains(&path.display().to_string()) && msg.contains("systemctl stop luka"),
            "{msg}"
        );
        assert!(!err.is_storage_unavailable(), "not a disk problem");
        drop(till);
        other.claim_workers().unwrap();
        assert!(worker_lock_path(&path).ends_with("luka.db.workers.lock"));
    }
}
