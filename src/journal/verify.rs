//! `luka journal verify`: walks the whole journal once, in order, and
//! names the first entry whose hash, link or SAF-T signature does not hold.
//!
//! Pure over rows (the store streams them in): it never opens the database
//! and never needs the private key, only the public keys.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::chain::{ChainRow, GENESIS};
use crate::domain::journal::{CashTransaction, is_cash_transaction, signature_message};

/// The first thing found wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub seq: i64,
    /// In English (`luka journal verify`).
    pub what: String,
    /// The same in bokmål, for the club's hub (its pages are in bokmål).
    pub nb: String,
}

/// A problem said in both languages.
struct Said {
    en: String,
    nb: String,
}

fn said(en: String, nb: String) -> Said {
    Said { en, nb }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub entries: u64,
    pub signed: u64,
    /// Entries from before the chain existed (not protected by it).
    pub legacy: u64,
    pub head_seq: Option<i64>,
    pub head_hash: Option<String>,
    pub problem: Option<Problem>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.problem.is_none()
    }
}

/// Where a walk left off: the last entry checked and the signature chain
/// after it. The hub checks each till's entries as they arrive, one upload
/// at a time, and goes on from here instead of walking the whole journal
/// again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resume {
    pub seq: i64,
    pub hash: String,
    /// The last SAF-T signature before this point, if any entry was signed.
    pub signature: Option<String>,
    /// The last signed transaction's `nr`.
    pub nr: Option<i64>,
}

/// Checks entries one at a time; stops at the first problem.
pub struct Verifier<'k> {
    /// key version → public key PEM
    keys: &'k HashMap<String, String>,
    prev: Option<(i64, String)>,
    prev_signature: Option<String>,
    prev_nr: Option<i64>,
    first_seq: Option<i64>,
    report: VerifyReport,
}

impl<'k> Verifier<'k> {
    pub fn new(keys: &'k HashMap<String, String>) -> Verifier<'k> {
        Verifier {
            keys,
            prev: None,
            prev_signature: None,
            prev_nr: None,
            first_seq: None,
            report: VerifyReport {
                entries: 0,
                signed: 0,
                legacy: 0,
                head_seq: None,
                head_hash: None,
                problem: None,
            },
        }
    }

    /// Goes on from where an earlier walk left off (`None`: from the start).
    pub fn resume(keys: &'k HashMap<String, String>, at: Option<Resume>) -> Verifier<'k> {
        let mut v = Verifier::new(keys);
        if let Some(at) = at {
            v.first_seq = Some(at.seq);
            v.report.head_seq = Some(at.seq);
            v.report.head_hash = Some(at.hash.clone());
            v.prev = Some((at.seq, at.hash));
            v.prev_signature = at.signature;
            v.prev_nr = at.nr;
        }
        v
    }

    /// Where this walk stands now (after the last entry that held).
    pub fn position(&self) -> Option<Resume> {
        self.prev.as_ref().map(|(seq, hash)| Resume {
            seq: *seq,
            hash: hash.clone(),
            signature: self.prev_signature.clone(),
            nr: self.prev_nr,
        })
    }

    /// The report so far, without the end-of-journal checks of [`Verifier::finish`].
    pub fn report(&self) -> &VerifyReport {
        &self.report
    }

    /// Checks the next entry; false once a problem is found.
    pub fn push(&mut self, row: &ChainRow) -> bool {
        if self.report.problem.is_some() {
            return false;
        }
        self.report.entries += 1;
        self.first_seq.get_or_insert(row.seq);
        if let Err(Said { en, nb }) = self.check(row) {
            self.report.problem = Some(Problem {
                seq: row.seq,
                what: en,
                nb,
            });
            return false;
        }
        true
    }

    fn check(&mut self, row: &ChainRow) -> Result<(), Said> {
        let (Some(hash), Some(prev_hash)) = (&row.hash, &row.prev_hash) else {
            // Entries from before the chain have none of the columns it
            // added; one that has any was stripped of its hash.
            let pre_chain = row.event_code.is_none()
                && row.trans.is_none()
                && row.signature.is_none()
                && row.key_version.is_none();
            if self.prev.is_none() && pre_chain {
                self.report.legacy += 1;
                return Ok(());
            }
            return Err(said(
                format!(
                    "entry {} ({}) has no hash: it was not written by Luka",
                    row.seq, row.kind
                ),
                format!(
                    "Oppføring {} ({}) har ingen hash: den er ikke skrevet av Luka.",
                    row.seq, row.kind
                ),
            ));
        };
        if &row.expected_hash(prev_hash) != hash {
            return Err(said(
                format!(
                    "entry {} ({}) was changed after it was written: its content no longer matches its hash",
                    row.seq, row.kind
                ),
                format!(
                    "Oppføring {} ({}) er endret etter at den ble skrevet: innholdet stemmer ikke lenger med hashen.",
                    row.seq, row.kind
                ),
            ));
        }
        if let Some((prev_seq, _)) = &self.prev
            && prev_seq.checked_add(1) != Some(row.seq)
        {
            // Checked: a stored seq is whatever the file holds, i64::MAX too.
            return Err(if row.seq > *prev_seq {
                let (from, to) = (prev_seq.saturating_add(1), row.seq.saturating_sub(1));
                said(
                    format!("entries {from} to {to} are missing: they were deleted"),
                    format!("Oppføring {from} til {to} mangler: de er slettet."),
                )
            } else {
                said(
                    format!(
                        "entry {} comes after entry {prev_seq}: entries were moved or copied",
                        row.seq
                    ),
                    format!(
                        "Oppføring {} kommer etter oppføring {prev_seq}: oppføringer er flyttet eller kopiert.",
                        row.seq
                    ),
                )
            });
        }
        let link = self.prev.as_ref().map(|p| p.1.as_str()).unwrap_or(GENESIS);
        if prev_hash != link {
            return Err(match &self.prev {
                Some((seq, _)) => said(
                    format!(
                        "entry {} does not follow entry {seq}: an entry between them was deleted, \
                         or entries were moved",
                        row.seq
                    ),
                    format!(
                        "Oppføring {} henger ikke sammen med oppføring {seq}: en oppføring mellom \
                         dem er slettet, eller oppføringer er flyttet.",
                        row.seq
                    ),
                ),
                None => said(
                    format!(
                        "entry {} is not the first of the chain: earlier entries were deleted",
                        row.seq
                    ),
                    format!(
                        "Oppføring {} er ikke den første i kjeden: tidligere oppføringer er slettet.",
                        row.seq
                    ),
                ),
            });
        }
        self.check_signature(row)?;
        self.prev = Some((row.seq, hash.clone()));
        self.report.head_seq = Some(row.seq);
        self.report.head_hash = Some(hash.clone());
        Ok(())
    }

    fn check_signature(&mut self, row: &ChainRow) -> Result<(), Said> {
        let (Some(trans), Some(sig), Some(version)) =
            (&row.trans, &row.signature, &row.key_version)
        else {
            // The store writes all three or none: a part alone was edited in
            // (and the till's next signature would chain to it).
            if row.trans.is_some() || row.signature.is_some() || row.key_version.is_some() {
                return Err(said(
                    format!(
                        "entry {} ({}) carries part of a SAF-T signature: it was edited",
                        row.seq, row.kind
                    ),
                    format!(
                        "Oppføring {} ({}) har bare deler av en SAF-T-signatur: den er redigert.",
                        row.seq, row.kind
                    ),
                ));
            }
            if is_cash_transaction(&row.kind) {
                return Err(said(
                    format!(
                        "entry {} ({}) is a cash transaction without a SAF-T signature",
                        row.seq, row.kind
                    ),
                    format!(
                        "Oppføring {} ({}) er en kassetransaksjon uten SAF-T-signatur.",
                        row.seq, row.kind
                    ),
                ));
            }
            return Ok(());
        };
        let t: CashTransaction = serde_json::from_str(trans).map_err(|e| {
            said(
                format!(
                    "entry {}: its cash transaction cannot be read: {e}",
                    row.seq
                ),
                format!(
                    "Oppføring {}: kassetransaksjonen kan ikke leses ({e}).",
                    row.seq
                ),
            )
        })?;
        if let Some(prev) = self.prev_nr
            && prev.checked_add(1) != Some(t.nr)
        {
            return Err(said(
                format!(
                    "entry {}: transaction nr {} follows nr {prev}: transactions are missing or moved",
                    row.seq, t.nr
                ),
                format!(
                    "Oppføring {}: transaksjon nr. {} kommer etter nr. {prev}: transaksjoner mangler eller er flyttet.",
                    row.seq, t.nr
                ),
            ));
        }
        let Some(public) = self.keys.get(version) else {
            return Err(said(
                format!(
                    "entry {}: signed with key version {version}, whose public key is not in the database",
                    row.seq
                ),
                format!(
                    "Oppføring {}: signert med nøkkelversjon {version}, men den offentlige nøkkelen finnes ikke.",
                    row.seq
                ),
            ));
        };
        let message = signature_message(self.prev_signature.as_deref(), &t);
        if !super::key::verify(public, &message, sig) {
            return Err(said(
                format!(
                    "entry {}: the SAF-T signature of transaction nr {} does not match \
                     (amount, time or an earlier signature was changed)",
                    row.seq, t.nr
                ),
                format!(
                    "Oppføring {}: SAF-T-signaturen til transaksjon nr. {} stemmer ikke \
                     (beløp, tid eller en tidligere signatur er endret).",
                    row.seq, t.nr
                ),
            ));
        }
        self.report.signed += 1;
        self.prev_nr = Some(t.nr);
        self.prev_signature = Some(sig.clone());
        Ok(())
    }

    /// Ends the walk. `highest_seq_ever` is the highest entry number the
    /// database ever handed out: entries after the last one seen were deleted.
    pub fn finish(mut self, highest_seq_ever: Option<i64>) -> VerifyReport {
        // Keys are stored the first time one signs, always after the chain
        // existed: keys without a single chained entry mean the hashes and
        // signatures were stripped, not a journal from before the chain.
        if self.report.problem.is_none()
            && self.report.head_seq.is_none()
            && self.report.entries > 0
            && !self.keys.is_empty()
        {
            self.report.problem = Some(Problem {
                seq: self.first_seq.unwrap_or(1),
                what: "no entry carries a hash, yet the database holds signing keys: \
                       the journal's hashes and signatures were removed"
                    .to_string(),
                nb: "Ingen oppføring har hash, men databasen har signeringsnøkler: \
                     journalens hasher og signaturer er fjernet."
                    .to_string(),
            });
        }
        if self.report.problem.is_none()
            && let (Some(highest), Some(head)) = (highest_seq_ever, self.report.head_seq)
            && head > highest
        {
            self.report.problem = Some(Problem {
                seq: head,
                what: format!(
                    "entry {head} is numbered beyond the highest entry the database handed \
                     out ({highest}): entries were renumbered"
                ),
                nb: format!(
                    "Oppføring {head} har høyere nummer enn den høyeste databasen har delt ut \
                     ({highest}): oppføringer er nummerert om."
                ),
            });
        }
        if self.report.problem.is_none()
            && let Some(highest) = highest_seq_ever
            && highest > self.report.head_seq.unwrap_or(0)
            && self.report.legacy == 0
        {
            let next = self.report.head_seq.unwrap_or(0).saturating_add(1);
            self.report.problem = Some(Problem {
                seq: next,
                what: format!(
                    "entries {next} to {highest} are missing: the end of the journal was deleted"
                ),
                nb: format!(
                    "Oppføring {next} til {highest} mangler: slutten av journalen er slettet."
                ),
            });
        }
        self.report
    }
}
