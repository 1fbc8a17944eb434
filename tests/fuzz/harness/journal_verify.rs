//! The journal verifier (`luka::journal::Verifier`) over a real small
//! journal whose rows the fuzzer edits, deletes, reorders and duplicates.
//!
//! The journal is made once by the store itself (float, a cash sale, a
//! Vipps sale, a partial refund, an X report, a Z report with a cash
//! difference, operator log-in, an unknown event), so every row carries a
//! real hash and every cash transaction a real RSA signature.
//!
//! Properties:
//! - it reports, never panics, whatever the rows hold;
//! - without the hashes recomputed, any change to any row is flagged;
//! - with the hashes recomputed (the chain has no secret, so an attacker
//!   can do that), any change to what the SAF-T signatures cover is still
//!   flagged, unless it only cuts signed entries off the end and the
//!   highest entry number is unknown.

use std::collections::HashMap;
use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use luka::domain::journal::{CashTransaction, JournalKind, signature_message};
use luka::domain::{Money, PaymentMethod, SaleLine, SaleStatus, VatCode};
use luka::journal::{ChainRow, GENESIS, Verifier, VerifyReport};
use luka::store::{NewSale, Store};
use serde_json::json;
use time::OffsetDateTime;
use time::macros::datetime;

pub struct Journal {
    _dir: tempfile::TempDir,
    pub rows: Vec<ChainRow>,
    pub keys: HashMap<String, String>,
    pub highest: Option<i64>,
}

/// The journal every input is applied to, made on first use.
pub fn journal() -> &'static Journal {
    static J: OnceLock<Journal> = OnceLock::new();
    J.get_or_init(make)
}

fn at(minutes: i64) -> OffsetDateTime {
    datetime!(2024-05-01 08:00 UTC) + time::Duration::minutes(minutes)
}

fn make() -> Journal {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&dir.path().join("fuzz-training.db")).expect("store");
    let event = |kind: JournalKind, data: serde_json::Value, m: i64| {
        store.write(|w| w.journal(kind, None, data, at(m))).unwrap();
    };
    event(JournalKind::AppStart, json!({"till": "kiosk-1"}), 0);
    event(
        JournalKind::OperatorLogin,
        json!({"operator": "organizer"}),
        1,
    );
    luka::reports::set_float(&store, "kiosk-1", Money::nok(150_000), at(2)).unwrap();
    let sell = |method: PaymentMethod, lines: Vec<SaleLine>, m: i64| {
        let total = Money::nok(lines.iter().map(|l| l.amount().unwrap().minor()).sum());
        store
            .write(|w| {
                let sale = w.insert_sale(&NewSale {
                    till_id: "kiosk-1".into(),
                    method,
                    status: SaleStatus::Pending,
                    lines,
                    total,
                    description: String::new(),
                    training: false,
                    cash_given: (method == PaymentMethod::Cash).then_some(total),
                    terminal_ref: None,
                    reference_random: 7,
                    msn: None,
                    department: None,
                    now: at(m),
                })?;
                if method == PaymentMethod::Vipps {
                    w.insert_payment(&sale, "vipps", at(m))?;
                }
                luka::kiosk::settle::record_paid(
                    w,
                    &sale,
                    json!({"method": method.as_str()}),
                    &Default::default(),
                    at(m),
                )?;
                w.reader().sale(sale.id)
            })
            .unwrap()
    };
    let line = |name: &str, kr: i64, qty: u32, vat: VatCode| {
        let mut l = SaleLine::free_amount(Money::nok(kr * 100), vat, name);
        l.quantity = qty;
        l
    };
    sell(
        PaymentMethod::Cash,
        vec![line("Voksen", 150, 2, VatCode::OutsideScope)],
        10,
    );
    let b = sell(
        PaymentMethod::Vipps,
        vec![
            line("Kaffe", 30, 1, VatCode::ReducedMiddle),
            line("Skjerf", 250, 1, VatCode::Regular),
        ],
        20,
    );
    store
        .write(|w| {
            let id = w.insert_refund(b.id, 2_500, "feil vare", at(30))?;
            w.finish_refund(id, true, at(31))?;
            w.journal(
                JournalKind::SaleRefunded,
                Some(b.id),
                json!({"refund_id": id, "amount": 2_500}),
                at(31),
            )
        })
        .unwrap();
    // A kind of Luka's own that SAF-T knows as "other" (13999).
    event(JournalKind::OutboxRetryRequested, json!({"items": 0}), 40);
    luka::reports::x_report(&store, "kiosk-1", at(50)).unwrap();
    luka::reports::close_day(&store, "kiosk-1", Some(Money::nok(179_900)), at(60)).unwrap();
    let mut rows = Vec::new();
    let (keys, highest) = store
        .read(|r| {
            r.chain_rows(|row| {
                rows.push(row.clone());
                true
            })?;
            let keys = r
                .journal_keys()?
                .into_iter()
                .map(|(version, _, pem)| (version, pem))
                .collect();
            Ok((keys, r.highest_journal_seq()?))
        })
        .unwrap();
    let j = Journal {
        _dir: dir,
        rows,
        keys,
        highest,
    };
    let clean = verify(&j.rows, &j.keys, j.highest);
    assert!(clean.ok(), "the fresh journal must verify: {clean:?}");
    assert!(clean.signed >= 4, "{clean:?}");
    j
}

pub fn verify(
    rows: &[ChainRow],
    keys: &HashMap<String, String>,
    highest: Option<i64>,
) -> VerifyReport {
    let mut v = Verifier::new(keys);
    for row in rows {
        if !v.push(row) {
            break;
        }
    }
    v.finish(highest)
}

#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum Field {
    At,
    Kind,
    Data,
    Trans,
    Signature,
    KeyVersion,
    PrevHash,
    Hash,
}

#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum Number {
    Seq,
    SaleId,
    EventCode,
}

#[derive(Debug, Clone, Arbitrary)]
pub enum Op {
    /// XOR one byte of a text field (the text is re-read as UTF-8).
    Flip {
        row: u8,
        field: Field,
        pos: u16,
        xor: u8,
    },
    Set {
        row: u8,
        field: Field,
        text: String,
    },
    Clear {
        row: u8,
        field: Field,
    },
    SetNumber {
        row: u8,
        field: Number,
        value: Option<i64>,
    },
    /// Changes one number inside a signed entry's cash transaction.
    TransNumber {
        row: u8,
        which: u8,
        value: i64,
    },
    Delete {
        row: u8,
    },
    Swap {
        a: u8,
        b: u8,
    },
    Duplicate {
        row: u8,
    },
    /// Strips what the chain added (hashes, code, signature) off a range.
    StripChain {
        from: u8,
        count: u8,
    },
    Truncate {
        keep: u8,
    },
}

#[derive(Debug, Arbitrary)]
pub struct Input {
    pub ops: Vec<Op>,
    /// Recompute every hash afterwards, as an attacker without the
    /// signing key can.
    pub rehash: bool,
    /// Verify without knowing the highest entry number ever handed out.
    pub forget_highest: bool,
    /// Edit a stored public key: (which key, byte, xor).
    pub key_edit: Option<(u8, u16, u8)>,
}

fn text_mut(row: &mut ChainRow, f: Field) -> TextSlot<'_> {
    match f {
        Field::At => TextSlot::Plain(&mut row.at),
        Field::Kind => TextSlot::Plain(&mut row.kind),
        Field::Data => TextSlot::Plain(&mut row.data),
        Field::Trans => TextSlot::Opt(&mut row.trans),
        Field::Signature => TextSlot::Opt(&mut row.signature),
        Field::KeyVersion => TextSlot::Opt(&mut row.key_version),
        Field::PrevHash => TextSlot::Opt(&mut row.prev_hash),
        Field::Hash => TextSlot::Opt(&mut row.hash),
    }
}

enum TextSlot<'a> {
    Plain(&'a mut String),
    Opt(&'a mut Option<String>),
}

fn flip(s: &str, pos: u16, xor: u8) -> String {
    let mut b = s.as_bytes().to_vec();
    if b.is_empty() {
        b.push(xor);
    } else {
        let i = usize::from(pos) % b.len();
        b[i] ^= xor.max(1);
    }
    String::from_utf8_lossy(&b).into_owned()
}

fn pick(len: usize, i: u8) -> Option<usize> {
    (len > 0).then(|| usize::from(i) % len)
}

pub fn apply(rows: &mut Vec<ChainRow>, op: &Op) {
    match *op {
        Op::Flip {
            row,
            field,
            pos,
            xor,
        } => {
            let Some(i) = pick(rows.len(), row) else {
                return;
            };
            match text_mut(&mut rows[i], field) {
                TextSlot::Plain(s) => *s = flip(s, pos, xor),
                TextSlot::Opt(o) => *o = Some(flip(o.as_deref().unwrap_or(""), pos, xor)),
            }
        }
        Op::Set {
            row,
            field,
            ref text,
        } => {
            let Some(i) = pick(rows.len(), row) else {
                return;
            };
            match text_mut(&mut rows[i], field) {
                TextSlot::Plain(s) => *s = text.clone(),
                TextSlot::Opt(o) => *o = Some(text.clone()),
            }
        }
        Op::Clear { row, field } => {
            let Some(i) = pick(rows.len(), row) else {
                return;
            };
            match text_mut(&mut rows[i], field) {
                TextSlot::Plain(s) => s.clear(),
                TextSlot::Opt(o) => *o = None,
            }
        }
        Op::SetNumber { row, field, value } => {
            let Some(i) = pick(rows.len(), row) else {
                return;
            };
            let r = &mut rows[i];
            match field {
                Number::Seq => r.seq = value.unwrap_or(0),
                Number::SaleId => r.sale_id = value,
                Number::EventCode => r.event_code = value,
            }
        }
        Op::TransNumber { row, which, value } => {
            let signed: Vec<usize> = (0..rows.len())
                .filter(|i| rows[*i].trans.is_some())
                .collect();
            let Some(k) = pick(signed.len(), row) else {
                return;
            };
            let r = &mut rows[signed[k]];
            let Ok(mut v) = serde_json::from_str::<serde_json::Value>(r.trans.as_deref().unwrap())
            else {
                return;
            };
            if !v.is_object() {
                return;
            }
            let key =
                ["nr", "amount_in", "amount_ex", "sale_id", "receipt_no"][usize::from(which) % 5];
            v[key] = json!(value);
            r.trans = Some(v.to_string());
        }
        Op::Delete { row } => {
            if let Some(i) = pick(rows.len(), row) {
                rows.remove(i);
            }
        }
        Op::Swap { a, b } => {
            if let (Some(a), Some(b)) = (pick(rows.len(), a), pick(rows.len(), b)) {
                rows.swap(a, b);
            }
        }
        Op::Duplicate { row } => {
            if let Some(i) = pick(rows.len(), row) {
                let copy = rows[i].clone();
                rows.insert(i + 1, copy);
            }
        }
        Op::StripChain { from, count } => {
            let Some(start) = pick(rows.len(), from) else {
                return;
            };
            for r in rows.iter_mut().skip(start).take(usize::from(count)) {
                r.prev_hash = None;
                r.hash = None;
                r.event_code = None;
                r.trans = None;
                r.signature = None;
                r.key_version = None;
            }
        }
        Op::Truncate { keep } => rows.truncate(usize::from(keep)),
    }
}

/// What an attacker without the key does after editing: re-link every
/// hash, so the chain alone no longer shows the edit.
pub fn rehash(rows: &mut [ChainRow]) {
    let mut prev = GENESIS.to_string();
    for r in rows.iter_mut() {
        if r.hash.is_none() && r.prev_hash.is_none() {
            continue;
        }
        r.prev_hash = Some(prev.clone());
        let h = r.expected_hash(&prev);
        r.hash = Some(h.clone());
        prev = h;
    }
}

/// The hash encodes an absent text column as the empty text, so NULL and
/// '' in `trans`, `signature` or `key_version` are the same entry to it
/// (fuzz finding `journal_verify/crash-0e2f4f5f…`). Every reader treats an
/// empty one as absent too, and telling them apart would change every hash
/// already stored, so the property compares rows with '' read as NULL.
fn normalized(rows: &[ChainRow]) -> Vec<ChainRow> {
    let none_if_empty = |o: &Option<String>| o.clone().filter(|s| !s.is_empty());
    rows.iter()
        .map(|r| ChainRow {
            trans: none_if_empty(&r.trans),
            signature: none_if_empty(&r.signature),
            key_version: none_if_empty(&r.key_version),
            ..r.clone()
        })
        .collect()
}

/// What the SAF-T signatures vouch for, entry by entry: the signed text
/// (which chains the previous signature) and the key version.
fn signed_content(rows: &[ChainRow]) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut prev: Option<String> = None;
    for r in rows {
        let (Some(t), Some(sig)) = (&r.trans, &r.signature) else {
            continue;
        };
        let msg = match serde_json::from_str::<CashTransaction>(t) {
            Ok(t) => signature_message(prev.as_deref(), &t),
            Err(_) => format!("unreadable {t}"),
        };
        out.push((msg, sig.clone(), r.key_version.clone().unwrap_or_default()));
        prev = Some(sig.clone());
    }
    out
}

pub fn run(data: &[u8]) {
    let j = journal();
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    check(j, &input);
}

pub fn check(j: &Journal, input: &Input) {
    let mut rows = j.rows.clone();
    for op in input.ops.iter().take(32) {
        apply(&mut rows, op);
    }
    if input.rehash {
        rehash(&mut rows);
    }
    let mut keys = j.keys.clone();
    let mut keys_edited = false;
    if let Some((which, pos, xor)) = input.key_edit {
        let mut names: Vec<String> = keys.keys().cloned().collect();
        names.sort();
        if let Some(k) = pick(names.len(), which) {
            let pem = keys.get_mut(&names[k]).unwrap();
            let edited = flip(pem, pos, xor);
            keys_edited = edited != *pem;
            *pem = edited;
        }
    }
    let highest = if input.forget_highest {
        None
    } else {
        j.highest
    };
    let report = verify(&rows, &keys, highest);
    assert!(report.entries as usize <= rows.len());
    if keys_edited {
        return; // only "never panics": an edited PEM may still be the same key
    }
    let truncated_tail = rows.len() < j.rows.len() && j.rows.starts_with(&rows);
    if !input.rehash {
        if normalized(&rows) != normalized(&j.rows) && !(input.forget_highest && truncated_tail) {
            assert!(
                report.problem.is_some(),
                "an edited journal verified: {report:?}\n{input:?}"
            );
        }
        return;
    }
    let before = signed_content(&j.rows);
    let after = signed_content(&rows);
    let cut_off_the_end = after.len() < before.len() && before.starts_with(&after);
    // Known limit, not a finding to fix here: entries from before the chain
    // are unprotected by design, so an attacker who strips a prefix of
    // entries to look like them and re-links the rest goes unnoticed until
    // the database records where the pre-chain entries end.
    let stripped_to_legacy = report.legacy > 0;
    if after != before && !(cut_off_the_end && input.forget_highest) && !stripped_to_legacy {
        assert!(
            report.problem.is_some(),
            "signed content changed and the journal verified: {report:?}\n{input:?}"
        );
    }
}
