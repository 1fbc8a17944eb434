//! The till's side of the link to the club's hub: whether it is paired,
//! and the `sync.hub` outbox lane that carries every journal entry up.
//!
//! The lane is an ordinary sync lane (`store::sync`): strictly in order,
//! delivered by the sync worker, idempotent at the hub by (till, seq). An
//! item's payload is the entry exactly as stored, plus the public key of a
//! signed entry, so a retry sends the same entry and the hub can check the
//! signature without asking the till anything (an upload carries each key
//! once, with the first entry signed with it: `hub::link::upload_bodies`).

use rusqlite::{OptionalExtension, params};
use serde_json::json;
use time::OffsetDateTime;

use super::{NewOutboxItem, Reader, Result, Writer};
use crate::clock::rfc3339;
use crate::journal::ChainRow;

/// The outbox kind (and so the lane) of journal entries going to the hub.
pub const HUB_LANE: &str = "sync.hub";

/// The hub this till is paired with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubLink {
    pub url: String,
    /// The till id the hub knows this till by.
    pub till_id: String,
    pub paired_at: String,
}

impl Reader<'_> {
    pub fn hub_link(&self) -> Result<Option<HubLink>> {
        Ok(self
            .conn
            .prepare_cached("SELECT url, till_id, paired_at FROM hub_link WHERE one = 1")?
            .query_row([], |r| {
                Ok(HubLink {
                    url: r.get(0)?,
                    till_id: r.get(1)?,
                    paired_at: r.get(2)?,
                })
            })
            .optional()?)
    }

    /// The public key PEM and algorithm of a key version.
    fn journal_key(&self, version: &str) -> Result<Option<(String, String)>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT algorithm, public_key FROM journal_keys WHERE key_version = ?1",
            )?
            .query_row(params![version], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }
}

impl Writer<'_> {
    /// Records the pairing and queues every entry already in the journal
    /// (the hub keeps the whole journal, not only what comes after), all in
    /// one transaction. Returns how many entries were queued.
    pub fn hub_paired(&mut self, url: &str, till_id: &str, now: OffsetDateTime) -> Result<usize> {
        self.conn().execute(
            "INSERT INTO hub_link (one, url, till_id, paired_at) VALUES (1, ?1, ?2, ?3) \
             ON CONFLICT (one) DO UPDATE SET url = excluded.url, till_id = excluded.till_id, \
             paired_at = excluded.paired_at",
            params![url, till_id, rfc3339(now)],
        )?;
        let link = HubLink {
            url: url.to_string(),
            till_id: till_id.to_string(),
            paired_at: rfc3339(now),
        };
        // A chunk at a time: a year's journal is not held in memory at once.
        let mut queued = 0;
        let mut after = 0;
        loop {
            let rows = self.reader().chain_rows_after(after, 1000)?;
            let Some(last) = rows.last() else { break };
            after = last.seq;
            for row in &rows {
                if self.enqueue_hub_entry(&link, row, now)? {
                    queued += 1;
                }
            }
        }
        Ok(queued)
    }

    /// Queues one entry for the hub, once per (hub till id, seq).
    pub(super) fn enqueue_hub_entry(
        &mut self,
        link: &HubLink,
        row: &ChainRow,
        now: OffsetDateTime,
    ) -> Result<bool> {
        let key = match &row.key_version {
            Some(v) => self
                .reader()
                .journal_key(v)?
                .map(|(algorithm, public_key)| {
                    json!({"version": v, "algorithm": algorithm, "public_key": public_key})
                }),
            None => None,
        };
        let item = NewOutboxItem {
            sale_id: None,
            kind: HUB_LANE.to_string(),
            idempotency_key: format!("hub-{}-{}", link.till_id, row.seq),
            payload: json!({ "entry": row, "key": key }),
        };
        self.enqueue_once(&item, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::journal::JournalKind;
    use crate::store::Store;

    #[test]
    fn entries_go_up_only_while_paired_and_the_backlog_goes_with_the_pairing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("luka.db")).unwrap();
        let now = OffsetDateTime::now_utc();
        let lane = |s: &Store| s.read(|r| r.sync_lane(HUB_LANE)).unwrap().pending;
        // More than one chunk of the pairing's backlog.
        store
            .write(|w| {
                for i in 0..2_500 {
                    w.journal(JournalKind::AppStart, None, json!({ "n": i }), now)?;
                }
                Ok(())
            })
            .unwrap();
        assert_eq!(lane(&store), 0, "not paired: nothing queued");
        let queued = store
            .write(|w| w.hub_paired("https://hub.example", "kiosk-1", now))
            .unwrap();
        assert_eq!(queued, 2_500);
        store
            .write(|w| w.journal(JournalKind::AppStart, None, json!({}), now))
            .unwrap();
        assert_eq!(lane(&store), 2_501);
        // Pairing again queues nothing twice.
        let again = store
            .write(|w| w.hub_paired("https://hub.example", "kiosk-1", now))
            .unwrap();
        assert_eq!(again, 0);
        let items = store.write(|w| w.sync_claim(HUB_LANE, 3_000, now)).unwrap();
        let seqs: Vec<i64> = items
            .iter()
            .map(|i| i.payload["entry"]["seq"].as_i64().unwrap())
            .collect();
        assert_eq!(seqs, (1..=2_501).collect::<Vec<_>>());
        let row: ChainRow = serde_json::from_value(items[1].payload["entry"].clone()).unwrap();
        assert_eq!(
            row.hash.as_deref(),
            Some(
                row.expected_hash(row.prev_hash.as_deref().unwrap())
                    .as_str()
            )
        );
    }
}
