//! Reads a SQLite WAL file the way recovery does (header, salts, cumulative
//! checksums; <https://www.sqlite.org/fileformat.html#the_write_ahead_log>)
//! to tell whether a kill came while a transaction was being written: valid
//! frames after the last commit frame, or a frame of the current generation
//! whose checksum does not hold (half written).

use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WalState {
    /// Frames that recovery would accept as part of a commit.
    pub committed_frames: usize,
    /// Frames written by a transaction that never committed, or a torn frame.
    pub uncommitted_frames: usize,
}

impl WalState {
    pub fn mid_write(&self) -> bool {
        self.uncommitted_frames > 0
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The WAL checksum: pairs of 32-bit words in the byte order the magic
/// number names, folded into two running sums.
fn checksum(data: &[u8], big_endian: bool, mut s0: u32, mut s1: u32) -> (u32, u32) {
    for pair in data.chunks_exact(8) {
        let word = |b: &[u8]| {
            let a = [b[0], b[1], b[2], b[3]];
            if big_endian {
                u32::from_be_bytes(a)
            } else {
                u32::from_le_bytes(a)
            }
        };
        s0 = s0.wrapping_add(word(&pair[..4])).wrapping_add(s1);
        s1 = s1.wrapping_add(word(&pair[4..])).wrapping_add(s0);
    }
    (s0, s1)
}

/// The state of `<db>-wal`; no file or an empty one is a clean state.
pub fn inspect(db: &Path) -> WalState {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    let Ok(b) = std::fs::read(&wal) else {
        return WalState::default();
    };
    parse(&b)
}

pub fn parse(b: &[u8]) -> WalState {
    let mut st = WalState::default();
    if b.len() < 32 {
        return st;
    }
    let magic = u32_at(b, 0);
    if magic & !1 != 0x377f_0682 {
        return st;
    }
    let big_endian = magic & 1 == 1;
    let page = u32_at(b, 8) as usize;
    let salts = (u32_at(b, 16), u32_at(b, 20));
    let (mut s0, mut s1) = checksum(&b[..24], big_endian, 0, 0);
    if (s0, s1) != (u32_at(b, 24), u32_at(b, 28)) {
        return st;
    }
    let mut at = 32;
    let mut since_commit = 0;
    while at + 24 <= b.len() {
        if (u32_at(b, at + 8), u32_at(b, at + 12)) != salts {
            break; // an older generation: not part of this log
        }
        if at + 24 + page > b.len() {
            since_commit += 1; // torn: the header made it, the page did not
            break;
        }
        let (c0, c1) = checksum(&b[at..at + 8], big_endian, s0, s1);
        let (c0, c1) = checksum(&b[at + 24..at + 24 + page], big_endian, c0, c1);
        if (c0, c1) != (u32_at(b, at + 16), u32_at(b, at + 20)) {
            since_commit += 1; // current generation, but not fully written
            break;
        }
        (s0, s1) = (c0, c1);
        since_commit += 1;
        if u32_at(b, at + 4) != 0 {
            st.committed_frames += since_commit;
            since_commit = 0;
        }
        at += 24 + page;
    }
    st.uncommitted_frames = since_commit;
    st
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real WAL from SQLite: two commits, then a torn copy of it.
    #[test]
    fn reads_commits_and_notices_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        let c = rusqlite::Connection::open(&db).unwrap();
        c.pragma_update(None, "journal_mode", "WAL").unwrap();
        c.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        c.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
            .unwrap();
        let clean = inspect(&db);
        assert!(
            clean.committed_frames > 0 && !clean.mid_write(),
            "{clean:?}"
        );
        let mut wal = std::fs::read(dir.path().join("t.db-wal")).unwrap();
        // Drop the commit flag of the last frame: a transaction in progress.
        let page = u32_at(&wal, 8) as usize;
        let last = wal.len() - (24 + page);
        wal[last + 4..last + 8].copy_from_slice(&[0; 4]);
        assert!(parse(&wal).mid_write());
        // Cut the last page short: a torn write.
        let torn = &std::fs::read(dir.path().join("t.db-wal")).unwrap()[..wal.len() - 100];
        assert!(parse(torn).mid_write());
        drop(c);
    }
}
