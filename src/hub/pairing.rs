//! Tills and pairing: the treasurer adds a till and gets a one-time code;
//! the till trades the code for its device credential (`POST /api/pair`);
//! from then on every upload carries the credential, which the hub keeps
//! only as a SHA-256 hash and compares in constant time. One device per
//! till id: a used code is refused, and so is a second pairing while a
//! device is paired. Unpairing forgets the credential.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::token::{normalise_code, pairing_code, random_token, same, sha256};
use super::{Hub, HubError};

/// How long a pairing code can be used.
pub const CODE_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// What the till gets for a good code.
#[derive(Serialize, Deserialize)]
pub struct Paired {
    pub till_id: String,
    /// The device credential: shown once, here, and never again.
    pub credential: String,
}

impl std::fmt::Debug for Paired {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Paired")
            .field("till_id", &self.till_id)
            .field("credential", &"***")
            .finish()
    }
}

/// A till as the back office lists it.
#[derive(Debug, Clone, Serialize)]
pub struct TillRow {
    pub id: String,
    pub paired: bool,
    pub last_seen: Option<String>,
    pub head_seq: Option<i64>,
    pub head_hash: Option<String>,
    pub entries: i64,
    pub alerts: Vec<AlertRow>,
    /// What the till last said of itself, and how many seconds ago.
    pub status: Option<super::status::TillStatus>,
    pub status_age_secs: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AlertRow {
    pub seq: Option<i64>,
    pub what: String,
    pub at: String,
}

impl Hub {
    /// Adds the till `id` (or takes an unpaired one back) and returns a
    /// one-time code for it. Refused while a device is paired as that till.
    pub async fn add_till(&self, id: &str) -> Result<String, HubError> {
        crate::domain::reference::validate_till_id(id).map_err(|p| {
            HubError::refused(
                400,
                format!(
                    "{id:?} cannot be a till id: {p}; use letters, digits and '-', e.g. kiosk-2"
                ),
            )
        })?;
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute(
            "INSERT INTO tills (id) VALUES ($1) ON CONFLICT (id) DO NOTHING",
            &[&id],
        )
        .await?;
        let paired: bool = tx
            .query_one(
                "SELECT credential_hash IS NOT NULL FROM tills WHERE id = $1 FOR UPDATE",
                &[&id],
            )
            .await?
            .get(0);
        if paired {
            return Err(HubError::refused(
                409,
                format!(
                    "till {id} is paired with a device already; unpair it first \
                     (`luka hub remove-till {id}`) if that device is gone"
                ),
            ));
        }
        let code = pairing_code();
        let secs = CODE_LIFETIME.as_secs() as f64;
        tx.execute(
            "INSERT INTO pair_codes (code_hash, till_id, expires_at) \
             VALUES ($1, $2, now() + make_interval(secs => $3))",
            &[&sha256(&normalise_code(&code)), &id, &secs],
        )
        .await?;
        tx.commit().await?;
        Ok(code)
    }

    /// Trades a one-time code for the till id and a new device credential.
    pub async fn pair(&self, code: &str) -> Result<Paired, HubError> {
        let code = normalise_code(code);
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let row = tx
            .query_opt(
                "SELECT till_id, used_at IS NOT NULL, expires_at < now() FROM pair_codes \
                 WHERE code_hash = $1 FOR UPDATE",
                &[&sha256(&code)],
            )
            .await?;
        let Some(row) = row else {
            return Err(HubError::refused(
                404,
                "no till waits for this code: check it, or ask for a new one",
            ));
        };
        let (till_id, used, expired): (String, bool, bool) = (row.get(0), row.get(1), row.get(2));
        if used {
            return Err(HubError::refused(
                409,
                "this code was used already: a till is paired with it. Ask for a new code",
            ));
        }
        if expired {
            return Err(HubError::refused(
                410,
                "this code has expired (codes last 15 minutes): ask for a new one",
            ));
        }
        let paired: bool = tx
            .query_one(
                "SELECT credential_hash IS NOT NULL FROM tills WHERE id = $1 FOR UPDATE",
                &[&till_id],
            )
            .await?
            .get(0);
        if paired {
            return Err(HubError::refused(
                409,
                format!("till {till_id} is paired with another device already"),
            ));
        }
        let credential = random_token();
        tx.execute(
            "UPDATE tills SET credential_hash = $2, paired_at = now(), removed_at = NULL \
             WHERE id = $1",
            &[&till_id, &sha256(&credential)],
        )
        .await?;
        tx.execute(
            "UPDATE pair_codes SET used_at = now() WHERE code_hash = $1",
            &[&sha256(&code)],
        )
        .await?;
        tx.commit().await?;
        tracing::info!(till = %till_id, "till paired");
        Ok(Paired {
            till_id,
            credential,
        })
    }

    /// Unpairs the till: its credential is refused from now on, and codes
    /// not yet used for it are void. Its journal stays.
    pub async fn remove_till(&self, id: &str) -> Result<(), HubError> {
        let client = self.client().await?;
        let changed = client
            .execute(
                "UPDATE tills SET credential_hash = NULL, removed_at = now() WHERE id = $1",
                &[&id],
            )
            .await?;
        if changed == 0 {
            return Err(HubError::refused(404, format!("the hub has no till {id}")));
        }
        client
            .execute(
                "UPDATE pair_codes SET expires_at = now() WHERE till_id = $1 AND used_at IS NULL",
                &[&id],
            )
            .await?;
        // Its event stream ends too: at once when unpaired from this
        // process (the back office's page); `luka hub remove-till` runs
        // apart, and the serving hub's own check of the stream's
        // credential (`Hub::with_stream_recheck`) ends it there.
        self.streams.close(id);
        tracing::info!(till = %id, "till unpaired");
        Ok(())
    }

    /// Checks a device credential for `till_id`: Ok only for the credential
    /// of the device paired as that till now. Every refusal is the same
    /// answer, so it tells a guesser nothing.
    pub async fn authenticate(&self, till_id: &str, credential: &str) -> Result<(), HubError> {
        let client = self.client().await?;
        // Every upload asks: prepared once per connection.
        let stmt = client
            .prepare_cached("SELECT credential_hash FROM tills WHERE id = $1")
            .await?;
        let stored: Option<Vec<u8>> = client
            .query_opt(&stmt, &[&till_id])
            .await?
            .and_then(|r| r.get(0));
        let offered = sha256(credential);
        // Compare even when there is nothing stored, against a hash no
        // credential has, so both refusals take the same time.
        let expected = stored.unwrap_or_else(|| vec![0u8; offered.len()]);
        if same(&offered, &expected) && expected.iter().any(|b| *b != 0) {
            Ok(())
        } else {
            Err(HubError::refused(
                401,
                "the device credential is not valid for this till (unpaired, or never paired): \
                 pair the till again with `luka pair URL CODE`",
            ))
        }
    }

    /// The till a credential belongs to, whichever it is (to tell a device
    /// that sends another till's entries what it is paired as).
    pub async fn till_of_credential(&self, credential: &str) -> Result<Option<String>, HubError> {
        let client = self.client().await?;
        Ok(client
            .query_opt(
                "SELECT id FROM tills WHERE credential_hash = $1",
                &[&sha256(credential)],
            )
            .await?
            .map(|r| r.get(0)))
    }

    /// The ids of every till the hub knows, in order.
    pub async fn till_ids(&self) -> Result<Vec<String>, HubError> {
        let client = self.client().await?;
        Ok(client
            .query("SELECT id FROM tills ORDER BY id", &[])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    /// Every till with its chain head and open alerts.
    pub async fn tills(&self) -> Result<Vec<TillRow>, HubError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT t.id, t.credential_hash IS NOT NULL, \
                        to_char(t.last_seen AT TIME ZONE 'Europe/Oslo', 'YYYY-MM-DD HH24:MI:SS'), \
                        c.head_seq, c.head_hash, \
                        (SELECT count(*) FROM journal j WHERE j.till_id = t.id), \
                        t.status, extract(epoch FROM now() - t.status_at)::BIGINT \
                 FROM tills t LEFT JOIN till_chain c ON c.till_id = t.id ORDER BY t.id",
                &[],
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let id: String = r.get(0);
            let alerts = client
                .query(
                    "SELECT seq, what, to_char(created_at AT TIME ZONE 'Europe/Oslo', \
                     'YYYY-MM-DD HH24:MI:SS') FROM alerts WHERE till_id = $1 ORDER BY id",
                    &[&id],
                )
                .await?
                .iter()
                .map(|a| AlertRow {
                    seq: a.get(0),
                    what: a.get(1),
                    at: a.get(2),
                })
                .collect();
            out.push(TillRow {
                id,
                paired: r.get(1),
                last_seen: r.get(2),
                head_seq: r.get(3),
                head_hash: r.get(4),
                entries: r.get(5),
                alerts,
                status: super::status::parse(r.get(6)),
                status_age_secs: r.get(7),
            });
        }
        Ok(out)
    }
}
