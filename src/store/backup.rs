//! Online backup: a consistent copy of the till's database while the till
//! keeps selling, with SQLite's backup API, checked before it is given a name.
//!
//! Owns the copy and its verification. It must never write to the source
//! database (it opens it read-only) and never leave a
//! half-written file under a backup's name: the copy is made as a hidden
//! `.partial` file, checked with `integrity_check`, synced, then renamed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use time::OffsetDateTime;

/// What a finished backup is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupMade {
    pub path: PathBuf,
    pub bytes: u64,
    pub pages: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "there is no database at {0}; check [store] path in luka.toml (and --config), \
         or start the till once so it creates one"
    )]
    NoDatabase(PathBuf),
    #[error("cannot write to {dir}: {source}; is the USB stick mounted and writable?")]
    Destination {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "cannot read the database {path}: {source}; run the backup as root \
         (sudo luka backup …) or as the luka user"
    )]
    Source {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("the copy failed: {0}; try again (the till's database is untouched)")]
    Copy(rusqlite::Error),
    #[error(
        "the till kept the database busy for too long; try again in a quiet moment \
         (the till's database is untouched)"
    )]
    Busy,
    #[error(
        "the copy at {path} failed its integrity check ({report}); it was deleted. \
         Try again; if it fails again the SD card or USB stick may be failing"
    )]
    NotIntact { path: PathBuf, report: String },
}

/// The file name a backup gets: till id and UTC time, no characters that
/// FAT-formatted USB sticks refuse (no `:`).
pub fn backup_file_name(till_id: &str, at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{till_id}-{:04}{:02}{:02}T{:02}{:02}{:02}Z.db",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// Copies the database at `source` into `dest_dir`, safe while another
/// process (the till) writes to it.
pub fn backup_database(
    source: &Path,
    dest_dir: &Path,
    till_id: &str,
    now: OffsetDateTime,
) -> Result<BackupMade, BackupError> {
    if !source.is_file() {
        return Err(BackupError::NoDatabase(source.to_path_buf()));
    }
    let dest_err = |e| BackupError::Destination {
        dir: dest_dir.to_path_buf(),
        source: e,
    };
    std::fs::create_dir_all(dest_dir).map_err(dest_err)?;
    let name = free_name(dest_dir, &backup_file_name(till_id, now));
    let final_path = dest_dir.join(&name);
    let partial = dest_dir.join(format!(".{name}.partial"));
    let _ = std::fs::remove_file(&partial);

    let pages = match copy_and_check(source, &partial) {
        Ok(pages) => pages,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(match e {
                BackupError::NotIntact { report, .. } => BackupError::NotIntact {
                    path: final_path,
                    report,
                },
                e => e,
            });
        }
    };
    // The rename is the commit point: sync the data first, the folder after.
    std::fs::File::open(&partial)
        .and_then(|f| f.sync_all())
        .map_err(dest_err)?;
    std::fs::rename(&partial, &final_path).map_err(dest_err)?;
    if let Ok(dir) = std::fs::File::open(dest_dir) {
        let _ = dir.sync_all();
    }
    let bytes = std::fs::metadata(&final_path).map_err(dest_err)?.len();
    tracing::info!(path = %final_path.display(), bytes, pages, "database backed up");
    Ok(BackupMade {
        path: final_path,
        bytes,
        pages,
    })
}

/// Copies in one step (one read snapshot: in WAL mode the writer is never
/// blocked, and a multi-step copy would restart on every commit of a busy
/// till), then makes the copy a standalone rollback-journal file and checks it.
fn copy_and_check(source: &Path, partial: &Path) -> Result<i64, BackupError> {
    // Read-only: a wrong path fails instead of making an empty database, and
    // closing this connection never checkpoints into the till's file.
    let src = Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| BackupError::Source {
        path: source.to_path_buf(),
        source: e,
    })?;
    src.busy_timeout(Duration::from_secs(5))
        .map_err(BackupError::Copy)?;
    let mut dst = Connection::open(partial).map_err(BackupError::Copy)?;
    {
        let backup = Backup::new(&src, &mut dst).map_err(BackupError::Copy)?;
        let mut busy_turns = 0;
        loop {
            match backup.step(-1).map_err(BackupError::Copy)? {
                StepResult::Done => break,
                StepResult::More => {}
                StepResult::Busy | StepResult::Locked => {
                    busy_turns += 1;
                    if busy_turns > 200 {
                        return Err(BackupError::Busy);
                    }
                    std::thread::sleep(Duration::from_millis(25));
                }
                // StepResult is non_exhaustive; anything new is treated as busy.
                _ => std::thread::sleep(Duration::from_millis(25)),
            }
        }
    }
    drop(src);
    // The copy carries the source's WAL flag; a restored file should be one
    // self-contained file, so switch it back to a rollback journal.
    dst.pragma_update(None, "journal_mode", "DELETE")
        .map_err(BackupError::Copy)?;
    let report: String = dst
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(BackupError::Copy)?;
    if report != "ok" {
        return Err(BackupError::NotIntact {
            path: partial.to_path_buf(),
            report,
        });
    }
    let pages: i64 = dst
        .pragma_query_value(None, "page_count", |r| r.get(0))
        .map_err(BackupError::Copy)?;
    dst.close().map_err(|(_, e)| BackupError::Copy(e))?;
    Ok(pages)
}

/// Two backups in the same second get `-2`, `-3`, … rather than overwriting.
fn free_name(dir: &Path, name: &str) -> String {
    if !dir.join(name).exists() {
        return name.to_string();
    }
    let stem = name.trim_end_matches(".db");
    (2..)
        .map(|n| format!("{stem}-{n}.db"))
        .find(|n| !dir.join(n).exists())
        .unwrap_or_else(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;
    use crate::domain::journal::JournalKind;
    use crate::store::Store;

    fn journal_rows(path: &Path) -> i64 {
        let c = Connection::open(path).unwrap();
        c.query_row("SELECT count(*) FROM journal", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn names_carry_till_and_utc_time_without_colons() {
        let at = time::macros::datetime!(2025-03-09 07:05:01 +01:00);
        assert_eq!(
            backup_file_name("kiosk-1", at),
            "kiosk-1-20250309T060501Z.db"
        );
    }

    #[test]
    fn copies_while_a_writer_commits_and_the_copy_is_intact() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("luka.db");
        let store = Arc::new(Store::open(&db).unwrap());
        let now = OffsetDateTime::now_utc();
        let write_one = move |s: &Store, i: i64| {
            s.write(|w| {
                w.journal(
                    JournalKind::AppStart,
                    None,
                    serde_json::json!({ "i": i }),
                    now,
                )
            })
            .unwrap();
        };
        for i in 0..50 {
            write_one(&store, i);
        }
        let before = journal_rows(&db);
        let stop = Arc::new(AtomicBool::new(false));
        let started = Arc::new(AtomicBool::new(false));
        let writer = {
            let (store, stop, started) = (store.clone(), stop.clone(), started.clone());
            std::thread::spawn(move || {
                let mut i = 1000;
                while !stop.load(Ordering::Relaxed) {
                    write_one(&store, i);
                    started.store(true, Ordering::Relaxed);
                    i += 1;
                }
                i - 1000
            })
        };
        // On a busy machine the thread may start late: copy only once it
        // commits, so the copies are made while it does.
        while !started.load(Ordering::Relaxed) {
            std::thread::yield_now();
        }
        let out = dir.path().join("usb");
        let mut made = Vec::new();
        for _ in 0..3 {
            made.push(backup_database(&db, &out, "kiosk-1", now).unwrap());
        }
        stop.store(true, Ordering::Relaxed);
        let written_meanwhile = writer.join().unwrap();
        assert!(written_meanwhile > 0, "the writer never ran");
        let names: Vec<_> = made.iter().map(|m| m.path.clone()).collect();
        assert_eq!(
            names[0].file_name(),
            Some(backup_file_name("kiosk-1", now).as_ref())
        );
        assert!(names[1].to_string_lossy().ends_with("Z-2.db"), "{names:?}");
        for m in &made {
            let c = Connection::open(&m.path).unwrap();
            let ok: String = c
                .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .unwrap();
            assert_eq!(ok, "ok");
            let mode: String = c
                .pragma_query_value(None, "journal_mode", |r| r.get(0))
                .unwrap();
            assert_eq!(mode, "delete", "a restored copy is one self-contained file");
            drop(c);
            assert!(journal_rows(&m.path) >= before);
            assert_eq!(m.bytes, std::fs::metadata(&m.path).unwrap().len());
        }
        // No partial files are left behind.
        let leftovers: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
            .collect();
        assert!(leftovers.is_empty());
        // The till's own database is untouched and still fine.
        assert_eq!(store.integrity_check().unwrap(), "ok");
    }

    #[test]
    fn copies_a_database_nobody_has_open() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("luka.db");
        let store = Store::open(&db).unwrap();
        store
            .write(|w| {
                w.journal(
                    JournalKind::AppStart,
                    None,
                    serde_json::json!({}),
                    OffsetDateTime::now_utc(),
                )
            })
            .unwrap();
        drop(store);
        let before = std::fs::read(&db).unwrap();
        let made = backup_database(&db, dir.path(), "door-2", OffsetDateTime::now_utc()).unwrap();
        assert_eq!(
            std::fs::read(&db).unwrap(),
            before,
            "the source was written to"
        );
        assert_eq!(journal_rows(&made.path), journal_rows(&db));
    }

    #[test]
    fn a_wrong_path_is_named_and_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.db");
        let e = backup_database(&missing, dir.path(), "kiosk-1", OffsetDateTime::now_utc())
            .unwrap_err();
        assert!(e.to_string().contains("[store] path"), "{e}");
        assert!(!missing.exists());
    }
}
