//! The journal's protection, attacked: rows edited (amount), reordered and
//! deleted with the append-only triggers dropped, through a raw SQLite
//! connection, must each be named by `luka journal verify`. And the SAF-T
//! signature chain, rebuilt from the exported XML by the `openssl` command
//! line tool, must match the signatures Luka wrote byte for byte.

use crate::day;

use std::path::Path;
use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use day::{may1, mixed_day};
use luka::bookkeeping::saft::export_file;
use luka::domain::Merchant;
use luka::journal::{ChainRow, GENESIS};
use luka::store::Store;
use rusqlite::{Connection, params};

/// A journal of a whole mixed day, and a raw connection without the triggers.
fn journal() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("day-training.db");
    let store = Store::open(&path).unwrap();
    mixed_day(&store);
    let report = store.verify_journal().unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.signed, 7);
    (dir, path)
}

fn raw(path: &Path) -> Connection {
    let c = Connection::open(path).unwrap();
    c.execute_batch("DROP TRIGGER journal_no_update; DROP TRIGGER journal_no_delete;")
        .unwrap();
    c
}

fn seq_of(c: &Connection, kind: &str, nth: usize) -> i64 {
    let mut stmt = c
        .prepare("SELECT seq FROM journal WHERE kind = ?1 ORDER BY seq")
        .unwrap();
    let seqs: Vec<i64> = stmt
        .query_map(params![kind], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    seqs[nth]
}

fn problem(path: &Path) -> (i64, String) {
    let store = Store::open(path).unwrap();
    let p = store
        .verify_journal()
        .unwrap()
        .problem
        .expect("tampering went unnoticed");
    (p.seq, p.what)
}

#[test]
fn the_append_only_triggers_hold_without_tampering() {
    let (_dir, path) = journal();
    let c = Connection::open(&path).unwrap();
    let e = c
        .execute("DELETE FROM journal WHERE seq = 3", [])
        .unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
    let e = c.execute("UPDATE journal SET data = '{}'", []).unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
}

#[test]
fn an_edited_amount_is_named() {
    let (_dir, path) = journal();
    let c = raw(&path);
    let seq = seq_of(&c, "sale.paid", 0);
    let changed = c
        .execute(
            "UPDATE journal SET trans = replace(trans, '\"amount_in\":30000', '\"amount_in\":3000') \
             WHERE seq = ?1",
            params![seq],
        )
        .unwrap();
    assert_eq!(changed, 1);
    let (at, what) = problem(&path);
    assert_eq!(at, seq);
    assert!(what.contains("was changed"), "{what}");
}

#[test]
fn an_edited_amount_with_the_hashes_recomputed_fails_its_signature() {
    let (_dir, path) = journal();
    let c = raw(&path);
    let seq = seq_of(&c, "sale.paid", 1);
    c.execute(
        "UPDATE journal SET trans = replace(trans, '\"amount_in\":5500', '\"amount_in\":550') \
         WHERE seq = ?1",
        params![seq],
    )
    .unwrap();
    // The attacker re-links every hash from the edit on (the chain has no secret).
    let rows: Vec<ChainRow> = {
        let store = Store::open(&path).unwrap();
        let mut rows = Vec::new();
        store
            .read(|r| {
                r.chain_rows(|row| {
                    rows.push(row.clone());
                    true
                })
            })
            .unwrap();
        rows
    };
    let mut prev = GENESIS.to_string();
    for mut row in rows {
        let hash = row.expected_hash(&prev);
        row.prev_hash = Some(prev.clone());
        c.execute(
            "UPDATE journal SET prev_hash = ?1, hash = ?2 WHERE seq = ?3",
            params![prev, hash, row.seq],
        )
        .unwrap();
        prev = hash;
    }
    let (at, what) = problem(&path);
    assert_eq!(at, seq);
    assert!(what.contains("signature"), "{what}");
}

#[test]
fn reordered_entries_are_named() {
    let (_dir, path) = journal();
    let c = raw(&path);
    let a = seq_of(&c, "sale.paid", 2);
    let b = a + 1;
    c.execute_batch(&format!(
        "UPDATE journal SET seq = -1 WHERE seq = {a};
         UPDATE journal SET seq = {a} WHERE seq = {b};
         UPDATE journal SET seq = {b} WHERE seq = -1;"
    ))
    .unwrap();
    let (at, what) = problem(&path);
    assert_eq!(at, a);
    assert!(what.contains("was changed"), "{what}");
}

#[test]
fn deleted_entries_are_named_in_the_middle_and_at_the_end() {
    let (_dir, path) = journal();
    let c = raw(&path);
    let seq = seq_of(&c, "sale.refunded", 0);
    c.execute("DELETE FROM journal WHERE seq = ?1", params![seq])
        .unwrap();
    let (at, what) = problem(&path);
    assert_eq!(at, seq + 1);
    assert!(
        what.contains(&format!("entries {seq} to {seq} are missing")),
        "{what}"
    );

    let (_dir, path) = journal();
    let c = raw(&path);
    let last: i64 = c
        .query_row("SELECT MAX(seq) FROM journal", [], |r| r.get(0))
        .unwrap();
    c.execute("DELETE FROM journal WHERE seq = ?1", params![last])
        .unwrap();
    let (at, what) = problem(&path);
    assert_eq!(at, last);
    assert!(what.contains("end of the journal was deleted"), "{what}");
}

#[test]
fn luka_journal_verify_names_the_broken_entry_and_fails() {
    let (dir, path) = journal();
    let config = dir.path().join("luka.toml");
    std::fs::write(&config, format!("[store]\npath = \"{}\"\n", path.display())).unwrap();
    let run = || {
        let out = Command::new(env!("CARGO_BIN_EXE_luka"))
            .args(["--config", config.to_str().unwrap(), "journal", "verify"])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
        )
    };
    let (code, out) = run();
    assert_eq!(code, Some(0), "{out}");
    assert!(out.starts_with("OK:"), "{out}");

    let c = raw(&path);
    let seq = seq_of(&c, "sale.paid", 3);
    c.execute(
        "UPDATE journal SET data = replace(data, '\"total\":7000', '\"total\":700') WHERE seq = ?1",
        params![seq],
    )
    .unwrap();
    let (code, out) = run();
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains(&format!("BROKEN at entry {seq}")), "{out}");
}

/// The text between `<tag>` and `</tag>` in `xml`.
fn field<'a>(xml: &'a str, tag: &str) -> &'a str {
    let open = format!("<{tag}>");
    let start = xml.find(&open).unwrap() + open.len();
    let end = xml[start..].find(&format!("</{tag}>")).unwrap() + start;
    &xml[start..end]
}

fn openssl(args: &[&str]) -> std::process::Output {
    Command::new("openssl")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("the openssl command line tool is needed for this test: {e}"))
}

#[test]
fn openssl_rebuilds_the_signature_chain_from_the_saft_file() {
    let (dir, path) = journal();
    let store = Store::open(&path).unwrap();
    let opts = day::saft_may1(Merchant::training(), may1(23, 0));
    let xml_path = dir.path().join("saft.xml");
    export_file(&store, &opts, &xml_path).unwrap();
    let xml = std::fs::read_to_string(&xml_path).unwrap();
    let key = store.signing_key_path().to_str().unwrap().to_string();
    let (version, _, public) = store.read(|r| r.journal_keys()).unwrap().remove(0);
    let pub_path = dir.path().join("public.pem");
    std::fs::write(&pub_path, public).unwrap();

    let msg_path = dir.path().join("message.txt");
    let sig_path = dir.path().join("signature.bin");
    let mut previous = "0".to_string();
    let mut checked = 0;
    for t in xml.split("<cashtransaction>").skip(1) {
        let message = format!(
            "{previous};{};{};{};{};{}",
            field(t, "transDate"),
            field(t, "transTime"),
            field(t, "nr"),
            field(t, "transAmntIn"),
            field(t, "transAmntEx"),
        );
        std::fs::write(&msg_path, &message).unwrap();
        // Signing the same text with the same key must give the same bytes
        // (PKCS#1 v1.5 is deterministic).
        let signed = openssl(&["dgst", "-sha1", "-sign", &key, msg_path.to_str().unwrap()]);
        assert!(
            signed.status.success(),
            "{}",
            String::from_utf8_lossy(&signed.stderr)
        );
        let signature = field(t, "signature");
        assert_eq!(
            B64.encode(&signed.stdout),
            signature,
            "transaction {}",
            field(t, "nr")
        );
        assert_eq!(field(t, "keyVersion"), version);
        // And the public key alone verifies it.
        std::fs::write(&sig_path, B64.decode(signature).unwrap()).unwrap();
        let verified = openssl(&[
            "dgst",
            "-sha1",
            "-verify",
            pub_path.to_str().unwrap(),
            "-signature",
            sig_path.to_str().unwrap(),
            msg_path.to_str().unwrap(),
        ]);
        assert!(
            String::from_utf8_lossy(&verified.stdout).contains("Verified OK"),
            "{message}"
        );
        previous = signature.to_string();
        checked += 1;
    }
    assert_eq!(checked, 7);
    assert!(xml.contains(&format!("keyVersion {version}: public key")));
}
