//! The club's hub (issue 15) against a real throwaway PostgreSQL cluster
//! (`support::pg`), served on 127.0.0.1, with real `luka` till binaries on
//! real SQLite files: pairing, the journal going up through the `sync.hub`
//! lane, the chain check and its alerts, refusals that change nothing, the
//! hub down while the till sells, and the treasurer's pages.

use crate::support;

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use luka::hub::Hub;
use luka::hub::ingest::{Upload, UploadEntry};
use luka::hub::users::Role;
use luka::hub::web::{MAX_BODY, Serving, serve};
use luka::journal::ChainRow;
use luka::sim::{SimConfig, SimHandle};
use luka::store::{HUB_LANE, Store};
use support::pg::PgCluster;

/// Groups, their order and event menus per till: `hub/menus.rs`.
mod menus;

const PASSWORD: &str = "kasserer-passord-1";

fn luka(config: &Path, args: &[&str]) -> (i32, String, String) {
    luka_with_stdin(config, args, "")
}

fn luka_with_stdin(config: &Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_luka"))
        .arg("--config")
        .arg(config)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// PostgreSQL, the hub on it serving on 127.0.0.1, and a hub luka.toml.
struct HubRig {
    hub: Hub,
    serving: Option<Serving>,
    addr: SocketAddr,
    /// Holds hub.toml.
    _dir: tempfile::TempDir,
    config: PathBuf,
    // Last: the cluster stops after everything using it.
    _pg: PgCluster,
}

impl HubRig {
    async fn start() -> HubRig {
        let pg = PgCluster::start();
        let hub = Hub::connect(&pg.url()).await.unwrap();
        let serving = serve(hub.clone(), ([127, 0, 0, 1], 0).into(), false)
            .await
            .unwrap();
        let addr = serving.addr;
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("hub.toml");
        std::fs::write(
            &config,
            format!(
                "[hub]\ndatabase_url = \"{}\"\nlisten = \"{addr}\"\n",
                pg.url()
            ),
        )
        .unwrap();
        HubRig {
            hub,
            serving: Some(serving),
            addr,
            _dir: dir,
            config,
            _pg: pg,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `luka hub add-till NAME` → the code it prints.
    fn add_till(&self, name: &str) -> String {
        let (code, out, err) = luka(&self.config, &["hub", "add-till", name]);
        assert_eq!(code, 0, "{out}{err}");
        out.lines()
            .find_map(|l| l.trim().strip_prefix("luka pair URL "))
            .unwrap_or_else(|| panic!("no code in: {out}"))
            .trim()
            .to_string()
    }

    async fn stop(&mut self) {
        if let Some(s) = self.serving.take() {
            s.shutdown().await;
        }
    }

    async fn restart(&mut self) {
        assert!(self.serving.is_none());
        self.serving = Some(serve(self.hub.clone(), self.addr, false).await.unwrap());
    }

    async fn stored(&self, till: &str) -> Vec<ChainRow> {
        self.hub.journal_of(till).await.unwrap()
    }

    async fn alerts(&self, till: &str) -> Vec<(Option<i64>, String)> {
        self.hub
            .tills()
            .await
            .unwrap()
            .into_iter()
            .find(|t| t.id == till)
            .map(|t| t.alerts.into_iter().map(|a| (a.seq, a.what)).collect())
            .unwrap_or_default()
    }
}

/// A production till (`[till] id = till`) in its own folder: the Vipps
/// simulator is only there because the config names one; the sales here
/// are cash.
struct Till {
    _sim: SimHandle,
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Till {
    async fn new(till: &str) -> Till {
        let sim = luka::sim::start(([127, 0, 0, 1], 0).into(), SimConfig::training())
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let config = support::write_till_config(dir.path(), &sim, till, "Hub IL", "");
        Till {
            _sim: sim,
            dir,
            config,
        }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("luka.db")
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        luka(&self.config, args)
    }

    /// Runs with the log on at `level`, to show what the log says.
    fn run_logged(&self, level: &str, args: &[&str]) -> (i32, String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_luka"))
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .env("LUKA_LOG", level)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn sell_cash(&self, kroner: &str) {
        let (code, out, err) = self.run(&["charge", kroner, "--cash"]);
        assert_eq!(code, 0, "a cash sale: {out}{err}");
    }

    fn pair(&self, url: &str, code: &str) -> (i32, String, String) {
        self.run(&["pair", url, code])
    }

    fn credential(&self) -> String {
        let text = std::fs::read_to_string(luka::hub::link::link_path(&self.db())).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["credential"].as_str().unwrap().to_string()
    }

    fn journal(&self) -> Vec<ChainRow> {
        let store = Store::open(&self.db()).unwrap();
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
    }

    fn lane_pending(&self) -> usize {
        let store = Store::open(&self.db()).unwrap();
        store.read(|r| r.sync_lane(HUB_LANE)).unwrap().pending
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn post_upload(url: &str, credential: &str, body: Vec<u8>) -> (u16, String) {
    let resp = http()
        .post(format!("{url}/api/journal"))
        .bearer_auth(credential)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

fn upload(till: &str, rows: &[ChainRow]) -> Vec<u8> {
    serde_json::to_vec(&Upload {
        till_id: till.into(),
        entries: rows
            .iter()
            .map(|r| UploadEntry {
                entry: r.clone(),
                key: None,
            })
            .collect(),
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_apply_once_in_order_on_a_real_cluster() {
    let rig = HubRig::start().await;
    assert_eq!(
        rig.hub.migrations().await.unwrap(),
        vec![
            "001_init",
            "002_catalogue",
            "003_backoffice",
            "004_webhooks",
            "005_menus",
            "006_sales_units",
            "007_department_day"
        ]
    );
    // A second hub on the same database applies nothing again.
    let again = Hub::connect(&rig._pg.url()).await.unwrap();
    assert_eq!(
        again.migrations().await.unwrap(),
        vec![
            "001_init",
            "002_catalogue",
            "003_backoffice",
            "004_webhooks",
            "005_menus",
            "006_sales_units",
            "007_department_day"
        ]
    );
    // The journal is append-only at the hub too.
    let c = rig.hub.client().await.unwrap();
    c.execute("INSERT INTO tills (id) VALUES ('kiosk-9')", &[])
        .await
        .unwrap();
    c.execute(
        "INSERT INTO journal (till_id, seq, at, kind, data) VALUES ('kiosk-9', 1, 'x', 'app.start', '{}')",
        &[],
    )
    .await
    .unwrap();
    let refused = c
        .execute("UPDATE journal SET data = '{\"x\":1}'", &[])
        .await
        .unwrap_err();
    assert!(
        format!("{refused:?}").contains("append-only"),
        "{refused:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_pairs_one_device_once_and_an_unpaired_till_is_refused() {
    let rig = HubRig::start().await;
    let code = rig.add_till("kiosk-1");
    let till = Till::new("kiosk-1").await;
    till.sell_cash("20");

    // Secrets never in clear beyond this machine: refused before any request.
    let (c, out, err) = till.pair("http://hub.example.org:8470", &code);
    assert_ne!(c, 0);
    assert!(err.contains("https://"), "{out}{err}");
    assert!(!luka::hub::link::link_path(&till.db()).exists());

    let (c, out, err) = till.pair(&rig.url(), "WRONG-CODE1");
    assert_ne!(c, 0);
    assert!(err.contains("no till waits for this code"), "{err}");

    // A catalogue kept from a hub paired before (its link removed by hand)
    // is not this hub's: pairing removes it.
    let kept = luka::hub::till_catalogue::catalogue_path(&till.db());
    std::fs::write(&kept, r#"{"version": 1, "products": []}"#).unwrap();
    let (c, out2, err2) = till.pair(&rig.url(), &code.to_lowercase());
    assert_eq!(c, 0, "{out2}{err2}");
    let paired: serde_json::Value = serde_json::from_str(out2.trim()).unwrap();
    assert_eq!(paired["till_id"], "kiosk-1");
    assert!(!kept.exists(), "the earlier hub's catalogue is gone");
    let link = luka::hub::link::link_path(&till.db());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&link).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let credential = till.credential();
    assert!(credential.len() >= 40);
    for text in [&out, &err, &out2, &err2] {
        assert!(!text.contains(&credential), "the credential was printed");
    }
    // Nothing of the credential in the till's database.
    let db = std::fs::read(till.db()).unwrap();
    assert!(
        !db.windows(credential.len())
            .any(|w| w == credential.as_bytes())
    );

    // The same code again, from a second device claiming the same till.
    let other = Till::new("kiosk-1").await;
    let (c, _, err) = other.pair(&rig.url(), &code);
    assert_ne!(c, 0);
    assert!(err.contains("used already"), "{err}");
    assert!(!luka::hub::link::link_path(&other.db()).exists());
    // No new code while a device is paired as that till.
    let (c, _, err) = luka(&rig.config, &["hub", "add-till", "kiosk-1"]);
    assert_ne!(c, 0);
    assert!(err.contains("paired with a device already"), "{err}");

    // A code for another till id than the till's own config is refused.
    let wrong = rig.add_till("kiosk-3");
    let mismatched = Till::new("kiosk-4").await;
    let (c, _, err) = mismatched.pair(&rig.url(), &wrong);
    assert_ne!(c, 0);
    assert!(err.contains("[till] id = \"kiosk-4\""), "{err}");
    assert!(!luka::hub::link::link_path(&mismatched.db()).exists());

    // An expired code is refused.
    let late = rig.add_till("kiosk-2");
    rig.hub
        .client()
        .await
        .unwrap()
        .execute(
            "UPDATE pair_codes SET expires_at = now() - interval '1 minute' WHERE till_id = 'kiosk-2'",
            &[],
        )
        .await
        .unwrap();
    let third = Till::new("kiosk-2").await;
    let (c, _, err) = third.pair(&rig.url(), &late);
    assert_ne!(c, 0);
    assert!(err.contains("expired"), "{err}");

    // The paired device's credential works until the till is unpaired.
    let rows = till.journal();
    assert!(!rows.is_empty());
    let (status, body) = post_upload(&rig.url(), &credential, upload("kiosk-1", &rows)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(rig.stored("kiosk-1").await, rows);
    let (c, out, err) = luka(&rig.config, &["hub", "remove-till", "kiosk-1"]);
    assert_eq!(c, 0, "{out}{err}");
    // The till sells on; its lane is refused, and nothing more is stored.
    till.sell_cash("30");
    let more = till.journal();
    assert!(more.len() > rows.len());
    let (status, body) = post_upload(&rig.url(), &credential, upload("kiosk-1", &more)).await;
    assert_eq!(status, 401, "{body}");
    assert!(!body.contains(&credential));
    let (c, out, err) = till.run(&["sync", "--patience", "1"]);
    assert_eq!(c, 1, "{out}{err}");
    assert!(!out.contains(&credential) && !err.contains(&credential));
    assert_eq!(rig.stored("kiosk-1").await, rows);
    // After unpairing, a new code pairs a replacement device.
    let fresh = rig.add_till("kiosk-1");
    let (c, out, err) = other.pair(&rig.url(), &fresh);
    assert_eq!(c, 0, "{out}{err}");

    // Guessing codes: after 10 wrong ones in a minute, even a right one
    // waits (429) and pairs nothing.
    let guessed = rig.add_till("kiosk-5");
    // (One wrong code was typed above already, in this minute or the last.)
    let mut answers = Vec::new();
    for i in 0..=luka::hub::web::WRONG_CODES_PER_MINUTE {
        let resp = http()
            .post(format!("{}/api/pair", rig.url()))
            .json(&serde_json::json!({ "code": format!("AAAAA-AAAA{i}") }))
            .send()
            .await
            .unwrap();
        answers.push(resp.status().as_u16());
        if answers.last() == Some(&429) {
            break;
        }
    }
    let refused = answers.len() - 1;
    assert_eq!(answers[refused], 429, "{answers:?}");
    assert!(answers[..refused].iter().all(|a| *a == 404), "{answers:?}");
    assert!(refused >= luka::hub::web::WRONG_CODES_PER_MINUTE as usize - 1);
    let resp = http()
        .post(format!("{}/api/pair", rig.url()))
        .json(&serde_json::json!({ "code": guessed }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    let paired: bool = rig
        .hub
        .client()
        .await
        .unwrap()
        .query_one(
            "SELECT credential_hash IS NOT NULL FROM tills WHERE id = 'kiosk-5'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(!paired);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sales_reach_the_hub_and_the_hub_being_down_never_stops_selling() {
    let mut rig = HubRig::start().await;
    let till = Till::new("kiosk-1").await;
    till.sell_cash("50"); // before pairing: goes up with the backlog
    let (c, out, err) = till.pair(&rig.url(), &rig.add_till("kiosk-1"));
    assert_eq!(c, 0, "{out}{err}");
    till.sell_cash("60");
    let (c, out, err) = till.run(&["sync"]);
    assert_eq!(c, 0, "{out}{err}");
    assert_eq!(rig.stored("kiosk-1").await, till.journal());

    // The hub goes away; the till sells on.
    rig.stop().await;
    till.sell_cash("40");
    till.sell_cash("25,50");
    let (c, out, err) = till.run_logged("debug", &["sync", "--patience", "1"]);
    assert_eq!(c, 1, "the lane cannot drain with the hub down: {out}{err}");
    assert!(err.contains("the club's hub could not be reached"), "{err}");
    assert!(!out.contains(&till.credential()) && !err.contains(&till.credential()));
    assert!(till.lane_pending() > 0);
    assert!(out.contains("sync.hub"), "{out}");

    // Back: the backlog drains, every entry exactly once, in order. The
    // credential is in no line of the log, even at its most talkative.
    rig.restart().await;
    let (c, out, err) = till.run_logged("trace", &["sync"]);
    assert_eq!(c, 0, "{out}{err}");
    assert!(!err.is_empty(), "the log is on");
    assert!(!out.contains(&till.credential()) && !err.contains(&till.credential()));
    assert_eq!(till.lane_pending(), 0);
    let stored = rig.stored("kiosk-1").await;
    let journal = till.journal();
    assert_eq!(stored, journal, "the hub holds the till's journal exactly");
    let seqs: Vec<i64> = stored.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, (1..=journal.len() as i64).collect::<Vec<_>>());
    assert!(rig.alerts("kiosk-1").await.is_empty());
    // Sending again changes nothing.
    let (status, body) =
        post_upload(&rig.url(), &till.credential(), upload("kiosk-1", &journal)).await;
    assert_eq!(status, 200, "{body}");
    let done: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(done["duplicates"], journal.len());
    assert_eq!(done["stored"], 0);
    assert_eq!(rig.stored("kiosk-1").await, journal);

    // A return of 10 kr on the first sale, from the drawer, goes up too.
    let (c, out, err) = till.run(&["refund", "1", "--amount", "10", "--reason", "Feil vare"]);
    assert_eq!(c, 0, "{out}{err}");
    let (c, out, err) = till.run(&["sync"]);
    assert_eq!(c, 0, "{out}{err}");
    let journal = till.journal();
    assert_eq!(rig.stored("kiosk-1").await, journal);
    assert!(journal.iter().any(|r| r.kind == "sale.refunded"));

    // Takings: 50 + 60 + 40 + 25,50 kr in cash, less the 10 kr return,
    // from the signed sales and returns.
    let today = luka::domain::local_time::to_oslo(time::OffsetDateTime::now_utc()).date();
    let (from, to) = (today.previous_day().unwrap(), today.next_day().unwrap());
    let t = rig.hub.takings(from, to, None, false).await.unwrap();
    assert_eq!(t.total, 16_550);
    assert_eq!(t.rows.len(), 1);
    let row = &t.rows[0];
    assert_eq!(
        (
            row.till_id.as_str(),
            row.method.as_str(),
            row.sales,
            row.returns,
            row.count
        ),
        ("kiosk-1", "cash", 17_550, -1_000, 5)
    );

    // And the treasurer sees them in the back office.
    let (c, out, err) = luka_with_stdin(
        &rig.config,
        &["hub", "add-user", "kasserer"],
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(c, 0, "{out}{err}");
    assert!(!out.contains(PASSWORD) && !err.contains(PASSWORD));
    let cookie = log_in(&rig.url(), "kasserer", PASSWORD).await;
    let page = get_page(
        &rig.url(),
        &format!("/omsetning?fra={from}&til={to}"),
        &cookie,
    )
    .await;
    assert!(
        page.contains("kr 165,50") && page.contains("kr -10,00"),
        "{page}"
    );
    assert!(
        page.contains("kiosk-1") && page.contains("Kontant"),
        "{page}"
    );
    let tills = get_page(&rig.url(), "/kasser", &cookie).await;
    assert!(tills.contains("Journalen er hel"), "{tills}");
    assert!(tills.contains(journal.last().unwrap().hash.as_deref().unwrap()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_forged_foreign_and_oversized_uploads_are_refused_or_alerted() {
    let mut rig = HubRig::start().await;
    let till = Till::new("kiosk-1").await;
    let (c, out, err) = till.pair(&rig.url(), &rig.add_till("kiosk-1"));
    assert_eq!(c, 0, "{out}{err}");
    till.sell_cash("60");
    let (c, out, err) = till.run(&["sync"]);
    assert_eq!(c, 0, "{out}{err}");
    let credential = till.credential();
    let stored = rig.stored("kiosk-1").await;
    let n = stored.len();

    // The next entries, sold while the hub is away: they wait in the lane.
    rig.stop().await;
    till.sell_cash("70");
    rig.restart().await;
    let next: Vec<ChainRow> = till.journal().into_iter().skip(n).collect();
    assert!(!next.is_empty());

    // A forged credential: refused, nothing stored.
    let (status, body) = post_upload(
        &rig.url(),
        "forged-credential-0000000000000000000000000",
        upload("kiosk-1", &next),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    let (status, _) = http()
        .post(format!("{}/api/journal", rig.url()))
        .body(upload("kiosk-1", &next))
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .unwrap();
    assert_eq!(status, 401);
    // Another till's entries under this device's credential.
    rig.add_till("kiosk-2");
    let (status, body) = post_upload(&rig.url(), &credential, upload("kiosk-2", &next)).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("paired as till kiosk-1"), "{body}");
    // A signed transaction of another till inside this till's upload.
    let mut foreign = next.clone();
    let signed = foreign.iter_mut().find(|r| r.trans.is_some()).unwrap();
    signed.trans = Some(
        signed
            .trans
            .as_ref()
            .unwrap()
            .replace("\"kiosk-1\"", "\"kiosk-2\""),
    );
    let (status, body) = post_upload(&rig.url(), &credential, upload("kiosk-1", &foreign)).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("kiosk-2"), "{body}");
    // Oversized.
    let (status, _) = post_upload(&rig.url(), &credential, vec![b' '; MAX_BODY + 1]).await;
    assert_eq!(status, 413);
    assert_eq!(rig.stored("kiosk-1").await, stored, "nothing changed");
    assert!(rig.alerts("kiosk-1").await.is_empty());

    // A replayed entry with the real credential is a duplicate, not a change.
    let (status, body) =
        post_upload(&rig.url(), &credential, upload("kiosk-1", &stored[..1])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(rig.stored("kiosk-1").await, stored);

    // Tampered on the way: the sale's entry in the outbox gets another time.
    let sale = next.iter().find(|r| r.kind == "sale.paid").unwrap();
    {
        let db = rusqlite::Connection::open(till.db()).unwrap();
        let changed = db
            .execute(
                "UPDATE outbox SET payload = json_set(payload, '$.entry.at', '2020-01-01T12:00:00Z') \
                 WHERE kind = 'sync.hub' AND status = 'pending' \
                 AND json_extract(payload, '$.entry.seq') = ?1",
                [sale.seq],
            )
            .unwrap();
        assert_eq!(changed, 1);
    }
    let (c, out, err) = till.run(&["sync"]);
    assert_eq!(c, 0, "stored and alerted, not refused: {out}{err}");
    let alerts = rig.alerts("kiosk-1").await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].0, Some(sale.seq));
    assert!(
        alerts[0].1.contains("er endret etter at den ble skrevet"),
        "the treasurer reads it in bokmål: {alerts:?}"
    );
    // Stored as it came, never patched.
    let kept = rig.stored("kiosk-1").await;
    let at_hub = kept.iter().find(|r| r.seq == sale.seq).unwrap().clone();
    assert_eq!(at_hub.at, "2020-01-01T12:00:00Z");
    // One break, one alert: the entries after it check against it as stored.
    till.sell_cash("10");
    let (c, out, err) = till.run(&["sync"]);
    assert_eq!(c, 0, "{out}{err}");
    assert_eq!(rig.alerts("kiosk-1").await.len(), 1);
    assert_eq!(rig.stored("kiosk-1").await.len(), till.journal().len());

    // The same entry again with other content: refused, and an alert.
    let mut other = till.journal().last().unwrap().clone();
    other.data = "{\"edited\":true}".into();
    let (status, body) = post_upload(&rig.url(), &credential, upload("kiosk-1", &[other])).await;
    assert_eq!(status, 409, "{body}");
    let alerts = rig.alerts("kiosk-1").await;
    assert_eq!(alerts.len(), 2);
    assert!(
        alerts[1].1.contains("på nytt med annet innhold"),
        "{alerts:?}"
    );
    // Everything the hub holds is the till's journal, but for the one
    // entry that was changed on the way, kept as it came.
    let expected: Vec<ChainRow> = till
        .journal()
        .into_iter()
        .map(|r| if r.seq == sale.seq { at_hub.clone() } else { r })
        .collect();
    assert_eq!(rig.stored("kiosk-1").await, expected);

    // The treasurer sees the alert on the tills page.
    let (c, out, err) = luka_with_stdin(
        &rig.config,
        &["hub", "add-user", "kasserer"],
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(c, 0, "{out}{err}");
    let cookie = log_in(&rig.url(), "kasserer", PASSWORD).await;
    let page = get_page(&rig.url(), "/kasser", &cookie).await;
    assert!(page.contains("2 varsel"), "{page}");
    assert!(page.contains(&format!("Oppføring {}", sale.seq)), "{page}");

    // A forger who rewrites a sale's amount and makes its hash fit again
    // still cannot sign it: the hub checks the SAF-T signature with the
    // public key that came up with the journal.
    rig.stop().await;
    till.sell_cash("99");
    rig.restart().await;
    let forged_seq = {
        let db = rusqlite::Connection::open(till.db()).unwrap();
        let (id, payload): (i64, String) = db
            .query_row(
                "SELECT id, payload FROM outbox WHERE kind = 'sync.hub' AND status = 'pending' \
                 AND json_extract(payload, '$.entry.kind') = 'sale.paid'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        let mut item: serde_json::Value = serde_json::from_str(&payload).unwrap();
        let mut row: ChainRow = serde_json::from_value(item["entry"].clone()).unwrap();
        let mut t: serde_json::Value = serde_json::from_str(row.trans.as_deref().unwrap()).unwrap();
        assert_eq!(t["amount_in"], 9900);
        t["amount_in"] = 990.into();
        row.trans = Some(t.to_string());
        row.hash = Some(row.expected_hash(row.prev_hash.as_deref().unwrap()));
        item["entry"] = serde_json::to_value(&row).unwrap();
        db.execute(
            "UPDATE outbox SET payload = ?1 WHERE id = ?2",
            rusqlite::params![item.to_string(), id],
        )
        .unwrap();
        row.seq
    };
    let (c, out, err) = till.run(&["sync"]);
    assert_eq!(c, 0, "{out}{err}");
    // Two alerts: the signature, and the next entry, which links to the
    // hash the till wrote, not to the forger's.
    let alerts = rig.alerts("kiosk-1").await;
    assert_eq!(alerts.len(), 4, "{alerts:?}");
    assert_eq!(alerts[2].0, Some(forged_seq));
    assert!(alerts[2].1.contains("SAF-T-signaturen"), "{alerts:?}");
    assert_eq!(alerts[3].0, Some(forged_seq + 1));
    assert!(alerts[3].1.contains("henger ikke sammen med"), "{alerts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_need_the_form_token_and_lock_after_repeated_failures() {
    let rig = HubRig::start().await;
    rig.hub
        .set_user("kasserer", PASSWORD, Role::Treasurer)
        .await
        .unwrap();
    // Pages need a session.
    let resp = http()
        .get(format!("{}/omsetning", rig.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 303);
    // A login without the form's token is refused even with the right password.
    let resp = http()
        .post(format!("{}/logg-inn", rig.url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("csrf", "x"),
            ("name", "kasserer"),
            ("password", PASSWORD),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    assert!(
        resp.headers()
            .get_all("set-cookie")
            .iter()
            .all(|c| !c.to_str().unwrap().starts_with("luka_hub="))
    );
    // Cookies: HttpOnly, SameSite=Strict (Secure only off loopback http).
    let cookie = log_in(&rig.url(), "kasserer", PASSWORD).await;
    assert!(!cookie.is_empty());
    // Five wrong passwords lock the account: then the right one is refused too.
    for _ in 0..luka::hub::users::FAILURES_BEFORE_LOCK {
        let (status, _) = try_log_in(&rig.url(), "kasserer", "feil-passord-123").await;
        assert!(status == 401 || status == 429, "{status}");
    }
    let (status, page) = try_log_in(&rig.url(), "kasserer", PASSWORD).await;
    assert_eq!(status, 429, "{page}");
    assert!(page.contains("låst"), "{page}");
    // An unknown name gets the same words as a wrong password.
    let (status, page) = try_log_in(&rig.url(), "ingen", PASSWORD).await;
    assert_eq!(status, 401);
    assert!(page.contains("Feil brukernavn eller passord"));
    // Logging out needs the session's token.
    let resp = http()
        .post(format!("{}/logg-ut", rig.url()))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("csrf", "wrong")]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    assert_eq!(get_status(&rig.url(), "/kasser", &cookie).await, 200);
}

/// Logs in through the form; returns the `Cookie` header of the session.
async fn log_in(url: &str, name: &str, password: &str) -> String {
    let (status, cookie) = login_request(url, name, password).await;
    assert_eq!(status, 303, "login failed");
    cookie.expect("a session cookie")
}

async fn try_log_in(url: &str, name: &str, password: &str) -> (u16, String) {
    let (status, _, page) = login_full(url, name, password).await;
    (status, page)
}

async fn login_request(url: &str, name: &str, password: &str) -> (u16, Option<String>) {
    let (status, cookie, _) = login_full(url, name, password).await;
    (status, cookie)
}

async fn login_full(url: &str, name: &str, password: &str) -> (u16, Option<String>, String) {
    let page = http().get(format!("{url}/logg-inn")).send().await.unwrap();
    let login_cookie = page
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(login_cookie.contains("HttpOnly") && login_cookie.contains("SameSite=Strict"));
    assert!(!login_cookie.contains("Secure"), "loopback http: no Secure");
    let login_cookie = login_cookie.split(';').next().unwrap().to_string();
    let html = page.text().await.unwrap();
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let resp = http()
        .post(format!("{url}/logg-inn"))
        .header("cookie", &login_cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("csrf", csrf.as_str()),
            ("name", name),
            ("password", password),
        ]))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let session = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|c| c.to_str().ok())
        .find(|c| c.starts_with("luka_hub="))
        .map(|c| {
            assert!(
                c.contains("HttpOnly") && c.contains("SameSite=Strict"),
                "{c}"
            );
            c.split(';').next().unwrap().to_string()
        });
    (status, session, resp.text().await.unwrap())
}

async fn get_page(url: &str, path: &str, cookie: &str) -> String {
    let resp = http()
        .get(format!("{url}{path}"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200, "{path}");
    resp.text().await.unwrap()
}

async fn get_status(url: &str, path: &str, cookie: &str) -> u16 {
    http()
        .get(format!("{url}{path}"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// An `application/x-www-form-urlencoded` body, as a browser sends a form.
fn form(fields: &[(&str, &str)]) -> String {
    fn enc(s: &str) -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                b' ' => "+".to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    }
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Where the page pictures go: the target folder, and `docs/screenshots/`
/// with `LUKA_UPDATE_SCREENSHOTS=1` (as the till's screenshot test does).
fn save_screenshot(name: &str, png: &[u8]) {
    assert!(png.starts_with(b"\x89PNG"), "{name} is not a PNG");
    let image = image::load_from_memory(png).unwrap();
    assert!(
        image.width() > 300 && image.height() > 300,
        "{name}: {}x{}",
        image.width(),
        image.height()
    );
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hub-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), png).unwrap();
    if std::env::var_os("LUKA_UPDATE_SCREENSHOTS").is_some() {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
        std::fs::write(docs.join(name), png).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_real_browser_the_treasurer_logs_in_and_sees_a_real_tills_sale() {
    let mut rig = HubRig::start().await;
    rig.hub
        .set_user("kasserer", PASSWORD, Role::Treasurer)
        .await
        .unwrap();
    let till = Till::new("kiosk-1").await;
    let (c, out, err) = till.pair(&rig.url(), &rig.add_till("kiosk-1"));
    assert_eq!(c, 0, "{out}{err}");
    till.sell_cash("80");
    till.sell_cash("12,50");
    let (c, out, err) = till.run(&["sync"]);
    assert_eq!(c, 0, "{out}{err}");

    let browser = support::webdriver::Browser::start(390, 844).await;
    browser.goto(&format!("{}/omsetning", rig.url())).await;
    assert!(
        browser.url().await.ends_with("/logg-inn"),
        "pages need a login"
    );
    save_screenshot("hub-login-phone.png", &browser.screenshot().await);
    browser.type_into("#name", "kasserer").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("#login").await;
    assert!(browser.wait_for_url("/omsetning").await, "logged in");
    // Midnight must not move the sale out of the page: yesterday to tomorrow.
    let today = luka::domain::local_time::to_oslo(time::OffsetDateTime::now_utc()).date();
    let (from, to) = (today.previous_day().unwrap(), today.next_day().unwrap());
    browser
        .goto(&format!("{}/omsetning?fra={from}&til={to}", rig.url()))
        .await;
    let page = browser.source().await;
    assert!(page.contains("kr 92,50"), "{page}");
    assert!(
        page.contains("kiosk-1") && page.contains("Kontant"),
        "{page}"
    );
    browser.goto(&format!("{}/kasser", rig.url())).await;
    let page = browser.source().await;
    assert!(page.contains("Journalen er hel"), "{page}");
    save_screenshot("hub-kasser-phone.png", &browser.screenshot().await);
    // A sale changed on its way up: the treasurer sees the alert.
    rig.stop().await;
    till.sell_cash("30");
    rig.restart().await;
    {
        let db = rusqlite::Connection::open(till.db()).unwrap();
        let changed = db
            .execute(
                "UPDATE outbox SET payload = json_set(payload, '$.entry.data', '{}') \
                 WHERE kind = 'sync.hub' AND status = 'pending' \
                 AND json_extract(payload, '$.entry.kind') = 'sale.paid'",
                [],
            )
            .unwrap();
        assert_eq!(changed, 1);
    }
    let (c, out, err) = till.run(&["sync"]);
    assert_eq!(c, 0, "{out}{err}");
    browser.resize(500, 844).await;
    browser.goto(&format!("{}/kasser", rig.url())).await;
    let page = browser.source().await;
    assert!(
        page.contains("1 varsel") && page.contains("er endret etter at den ble skrevet"),
        "{page}"
    );
    save_screenshot("hub-kasser-varsel-phone.png", &browser.screenshot().await);
    // Logging out ends the session: the pages ask for a login again.
    browser.click("header button").await;
    assert!(browser.wait_for_url("/logg-inn").await, "logged out");
    browser.goto(&format!("{}/kasser", rig.url())).await;
    assert!(browser.url().await.ends_with("/logg-inn"));
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn luka_hub_serve_runs_from_its_config_and_stops_on_sigterm() {
    use std::io::BufRead;
    let rig = HubRig::start().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = rig._dir.path().join("serve.toml");
    std::fs::write(
        &config,
        format!(
            "[hub]\ndatabase_url = \"{}\"\nlisten = \"127.0.0.1:{port}\"\n",
            rig._pg.url()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_luka"))
        .arg("--config")
        .arg(&config)
        .args(["hub", "serve"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains(&format!("http://127.0.0.1:{port}")), "{line}");
    let resp = http()
        .get(format!("http://127.0.0.1:{port}/logg-inn"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert!(resp.text().await.unwrap().contains("Logg inn"));
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // Without a database the hub says what to set.
    let bare = rig._dir.path().join("bare.toml");
    std::fs::write(&bare, "[hub]\nlisten = \"127.0.0.1:0\"\n").unwrap();
    let (c, _, err) = luka(&bare, &["hub", "serve"]);
    assert_ne!(c, 0);
    assert!(err.contains("database_url"), "{err}");
}

/// A till that dies between an upload the hub stored and marking its
/// items done sends that batch again: every entry ends on the hub once,
/// checked (chain and signatures, no alert), and the lane empties. The
/// batch is full-size and signed, so most of its entries go without their
/// key (the upload carries it once).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_an_upload_and_its_done_still_puts_each_entry_on_the_hub_once() {
    use luka::bookkeeping::Sink;
    use luka::hub::link::{HubSink, Link, UPLOAD_BATCH};
    let rig = HubRig::start().await;
    let till = Till::new("kiosk-1").await;
    till.sell_cash("10");
    {
        // Cash floats are cash transactions: each entry signed.
        let store = Store::open(&till.db()).unwrap();
        let now = time::OffsetDateTime::now_utc();
        store
            .write(|w| {
                for i in 0..(UPLOAD_BATCH * 2 + 10) as i64 {
                    w.journal(
                        luka::domain::journal::JournalKind::CashFloat,
                        None,
                        serde_json::json!({ "amount": 100 + i, "till": "kiosk-1" }),
                        now,
                    )?;
                }
                Ok(())
            })
            .unwrap();
    }
    let (c, out, err) = till.pair(&rig.url(), &rig.add_till("kiosk-1"));
    assert_eq!(c, 0, "{out}{err}");
    let first = {
        let store = Store::open(&till.db()).unwrap();
        let link = Link::load(&till.db()).unwrap().unwrap();
        let sink = HubSink::new(link, std::time::Duration::from_secs(30)).unwrap();
        // Claimed by the lane of a till that then died: the hub has the
        // batch, the till never recorded it done.
        let now = time::OffsetDateTime::now_utc();
        let first = store
            .write(|w| w.sync_claim(HUB_LANE, UPLOAD_BATCH, now))
            .unwrap();
        assert_eq!(first.len(), UPLOAD_BATCH);
        sink.deliver_all(&first).await.unwrap();
        let stored = rig.stored("kiosk-1").await;
        assert_eq!(stored, till.journal()[..UPLOAD_BATCH]);
        // The till starts again: what it left in flight waits again.
        let requeued = store
            .write(|w| w.requeue_in_flight("found in flight at start-up", now))
            .unwrap();
        assert_eq!(requeued, UPLOAD_BATCH);
        first
    };
    assert!(rig.alerts("kiosk-1").await.is_empty());

    // The lane sends everything, the batch the hub has too.
    let (c, out, err) = till.run(&["sync"]);
    assert_eq!(c, 0, "{out}{err}");
    assert_eq!(till.lane_pending(), 0);
    let journal = till.journal();
    assert!(journal.len() > UPLOAD_BATCH * 2 + 10);
    let stored = rig.stored("kiosk-1").await;
    assert_eq!(stored, journal, "the hub holds the till's journal exactly");
    let seqs: Vec<i64> = stored.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, (1..=journal.len() as i64).collect::<Vec<_>>());
    assert!(rig.alerts("kiosk-1").await.is_empty());
    // The batch the hub had went again (a second attempt), and is done.
    let store = Store::open(&till.db()).unwrap();
    for item in [&first[0], &first[UPLOAD_BATCH - 1]] {
        let now = store.read(|r| r.outbox_item(item.id)).unwrap();
        assert_eq!(
            (now.status, now.attempts),
            (luka::store::OutboxStatus::Done, 2)
        );
    }
}

/// Not a timed test: prints how fast a till's offline backlog drains into
/// the hub through `luka sync` (in uploads of up to `UPLOAD_BATCH` entries, as the lane
/// sends them). `cargo test --test it hub::backlog -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn backlog_drain_numbers() {
    let rig = HubRig::start().await;
    let till = Till::new("kiosk-1").await;
    till.sell_cash("10");
    let n = 5_000;
    {
        let store = Store::open(&till.db()).unwrap();
        let now = time::OffsetDateTime::now_utc();
        store
            .write(|w| {
                for i in 0..n {
                    w.journal(
                        luka::domain::journal::JournalKind::AppStart,
                        None,
                        serde_json::json!({ "n": i }),
                        now,
                    )?;
                }
                Ok(())
            })
            .unwrap();
    }
    let started = std::time::Instant::now();
    let (c, out, err) = till.pair(&rig.url(), &rig.add_till("kiosk-1"));
    assert_eq!(c, 0, "{out}{err}");
    let queued = started.elapsed();
    let started = std::time::Instant::now();
    let (c, out, err) = till.run(&["sync"]);
    assert_eq!(c, 0, "{out}{err}");
    let drained = started.elapsed();
    let stored = rig.stored("kiosk-1").await;
    assert_eq!(stored, till.journal());
    assert!(rig.alerts("kiosk-1").await.is_empty());
    println!(
        "{} entries: pairing queued them in {:.2} s; luka sync delivered and the hub checked them in {:.2} s ({:.0} entries/s)",
        stored.len(),
        queued.as_secs_f64(),
        drained.as_secs_f64(),
        stored.len() as f64 / drained.as_secs_f64()
    );
}

// ---- the catalogue comes down ----

/// The CSRF token of a logged-in page (every form carries it).
fn page_csrf(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a form token on the page")
        .to_string()
}

/// Posts a back office form with the session cookie; (status, page).
async fn post_form(url: &str, path: &str, cookie: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let resp = http()
        .post(format!("{url}{path}"))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(fields))
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

/// `GET /api/catalogue` as a till asks: (status, ETag, body).
async fn get_catalogue(
    url: &str,
    credential: Option<&str>,
    if_none_match: Option<&str>,
) -> (u16, Option<String>, String) {
    let mut req = http().get(format!("{url}/api/catalogue"));
    if let Some(c) = credential {
        req = req.bearer_auth(c);
    }
    if let Some(tag) = if_none_match {
        req = req.header("if-none-match", tag);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let etag = resp
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_string());
    (status, etag, resp.text().await.unwrap())
}

fn sold_amount(out: &str) -> i64 {
    let v: serde_json::Value =
        serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["state"], "paid", "{out}");
    v["amount"].as_i64().unwrap()
}

fn price_changes_of(journal: &[ChainRow], product: &str) -> Vec<serde_json::Value> {
    journal
        .iter()
        .filter(|r| r.kind == "price.changed")
        .map(|r| {
            assert_eq!(r.event_code, Some(13021), "a price change is SAF-T 13021");
            serde_json::from_str::<serde_json::Value>(&r.data).unwrap()
        })
        .filter(|d| d["product"] == product)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_treasurer_changes_a_price_and_the_till_sells_at_it_even_with_the_hub_gone() {
    let started = std::time::Instant::now();
    let mut rig = HubRig::start().await;
    let url = rig.url();
    let (c, out, err) = luka_with_stdin(
        &rig.config,
        &["hub", "add-user", "kasserer"],
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(c, 0, "{out}{err}");
    let cookie = log_in(&url, "kasserer", PASSWORD).await;
    let page = get_page(&url, "/katalog", &cookie).await;
    assert!(page.contains("Ingen varer ennå"), "{page}");
    assert!(page.contains("width=device-width"), "phone width");
    let csrf = page_csrf(&page);

    // The treasurer adds the club's menu.
    let sql_name = "Robert'); DROP TABLE products;--";
    for (id, name, price, vat) in [
        ("kaffe", "Kaffe", "30", "31"),
        ("brus", "Brus", "35", "31"),
        ("voksen", "Voksen", "150", "6"),
        ("sql", sql_name, "10", "3"),
    ] {
        let (status, body) = post_form(
            &url,
            "/katalog/ny",
            &cookie,
            &[
                ("csrf", csrf.as_str()),
                ("id", id),
                ("name", name),
                ("group", "Kiosk"),
                ("price", price),
                ("vat_code", vat),
                ("position", ""),
            ],
        )
        .await;
        assert_eq!(status, 303, "adding {id}: {body}");
    }
    let (version, products) = rig.hub.products().await.unwrap();
    assert_eq!(version, 4, "one version per change");
    let sql = products.iter().find(|p| p.id == "sql").unwrap();
    assert_eq!(sql.name, sql_name, "an SQL-looking name is stored verbatim");
    let page = get_page(&url, "/katalog", &cookie).await;
    assert!(
        page.contains("Robert&#x27;); DROP TABLE products;--"),
        "{page}"
    );

    // Bad input is refused with a clear message, and nothing changes.
    let before = rig.hub.products().await.unwrap();
    let edit = |price: &'static str, vat: &'static str, name: &'static str| {
        vec![
            ("id", "kaffe"),
            ("name", name),
            ("group", "Kiosk"),
            ("price", price),
            ("vat_code", vat),
            ("position", "0"),
        ]
    };
    for (fields, status, says) in [
        (edit("0", "31", "Kaffe"), 400, "Prisen «0» er ikke gyldig"),
        (edit("-5", "31", "Kaffe"), 400, "er ikke gyldig"),
        (edit("30", "25", "Kaffe"), 400, "Ukjent mva-kode «25»"),
        (edit("30", "31", "   "), 400, "Navnet kan ikke være tomt"),
    ] {
        let mut f = vec![("csrf", csrf.as_str())];
        f.extend(fields);
        let (got, page) = post_form(&url, "/katalog/endre", &cookie, &f).await;
        assert_eq!(got, status, "{page}");
        assert!(page.contains(says), "{says}: {page}");
    }
    let (got, page) = post_form(
        &url,
        "/katalog/ny",
        &cookie,
        &[
            ("csrf", csrf.as_str()),
            ("id", "kaffe"),
            ("name", "Kaffe 2"),
            ("price", "20"),
            ("vat_code", "31"),
        ],
    )
    .await;
    assert_eq!(got, 409, "a taken id: {page}");
    assert!(page.contains("«kaffe» er allerede i bruk"), "{page}");
    assert!(
        page.contains("value=\"Kaffe 2\""),
        "what was typed is kept: {page}"
    );
    let mut f = vec![("csrf", "forged")];
    f.extend(edit("99", "31", "Kaffe"));
    let (got, _) = post_form(&url, "/katalog/endre", &cookie, &f).await;
    assert_eq!(got, 403, "a form without the session's token");
    let (got, _) = post_form(&url, "/katalog/endre", "luka_hub=nobody", &f).await;
    assert_eq!(got, 303, "no session: to the login page");
    assert_eq!(rig.hub.products().await.unwrap(), before, "nothing changed");

    // A till that sold from luka.toml pairs and takes the hub's catalogue.
    let till = Till::new("kiosk-1").await;
    let (c, out, err) = till.run(&["charge", "--product", "kaffe", "--cash"]);
    assert_eq!(c, 0, "{out}{err}");
    assert_eq!(sold_amount(&out), 3_000, "luka.toml's price");
    let (c, out, err) = till.pair(&url, &rig.add_till("kiosk-1"));
    assert_eq!(c, 0, "{out}{err}");
    let credential = till.credential();

    // The API: a paired till's credential only; ETag; 304 when unchanged.
    let (status, _, _) = get_catalogue(&url, None, None).await;
    assert_eq!(status, 401);
    let (status, _, _) = get_catalogue(&url, Some("forged-credential"), None).await;
    assert_eq!(status, 401);
    let (status, etag, body) = get_catalogue(&url, Some(&credential), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(etag.as_deref(), Some("\"catalogue-4\""));
    let snap: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(snap["version"], 4);
    assert_eq!(snap["products"].as_array().unwrap().len(), 4);
    let (status, _, body) = get_catalogue(&url, Some(&credential), etag.as_deref()).await;
    assert_eq!(
        (status, body.as_str()),
        (304, ""),
        "unchanged: 304, no body"
    );

    let (c, out, err) = till.run(&["sync"]);
    assert_eq!(c, 0, "{out}{err}");
    assert!(
        out.contains("hub catalogue: version 4 with 4 products"),
        "{out}"
    );
    let (c, out, err) = till.run(&["sync"]);
    assert_eq!(c, 0, "{out}{err}");
    assert!(out.contains("hub catalogue: version 4, unchanged"), "{out}");

    // The treasurer changes the price of coffee on the hub's page.
    let mut f = vec![("csrf", csrf.as_str())];
    f.extend(edit("32,50", "31", "Kaffe"));
    let (got, page) = post_form(&url, "/katalog/endre", &cookie, &f).await;
    assert_eq!(got, 303, "{page}");
    let (status, etag, _) = get_catalogue(&url, Some(&credential), Some("\"catalogue-4\"")).await;
    assert_eq!((status, etag.as_deref()), (200, Some("\"catalogue-5\"")));
    let page = get_page(&url, "/katalog", &cookie).await;
    assert!(page.contains("value=\"32,50\""), "{page}");

    // The till picks it up and sells coffee at the new price; the change
    // is in its journal (13021) with the old and the new price, before
    // the sale at it, and goes up to the hub like every entry.
    let (c, out, err) = till.run(&["sync"]);
    assert_eq!(c, 0, "{out}{err}");
    assert!(out.contains("hub catalogue: version 5"), "{out}");
    let (c, out, err) = till.run(&["charge", "--product", "kaffe", "--cash"]);
    assert_eq!(c, 0, "{out}{err}");
    assert_eq!(sold_amount(&out), 3_250, "the hub's new price");
    let journal = till.journal();
    let changes = price_changes_of(&journal, "kaffe");
    assert_eq!(changes.len(), 1, "30 → 32,50 once: {changes:?}");
    assert_eq!(changes[0]["old"]["price"], 3_000);
    assert_eq!(changes[0]["new"]["price"], 3_250);
    let change_seq = journal
        .iter()
        .find(|r| r.kind == "price.changed" && r.data.contains("\"kaffe\""))
        .unwrap()
        .seq;
    let last_sale = journal
        .iter()
        .rev()
        .find(|r| r.kind == "sale.paid")
        .unwrap();
    assert!(
        change_seq < last_sale.seq,
        "journaled before the sale at it"
    );
    // Products the hub does not list are journaled as removed.
    let polse = price_changes_of(&journal, "polse");
    assert_eq!(polse.len(), 1);
    assert!(polse[0]["new"].is_null());
    let (c, out, err) = till.run(&["sync"]);
    assert_eq!(c, 0, "{out}{err}");
    assert_eq!(rig.stored("kiosk-1").await, till.journal());

    // The hub goes away: the till sells on at the hub's prices, restart
    // after restart, and journals no change.
    rig.stop().await;
    let (c, out, err) = till.run(&["sync", "--patience", "1"]);
    assert_eq!(c, 1, "{out}{err}");
    assert!(
        err.contains("hub catalogue: the club's hub could not be reached"),
        "{err}"
    );
    for _ in 0..2 {
        let (c, out, err) = till.run(&["charge", "--product", "kaffe", "--cash"]);
        assert_eq!(c, 0, "{out}{err}");
        assert_eq!(sold_amount(&out), 3_250);
    }
    let (c, out, err) = till.run(&["charge", "--product", "polse", "--cash"]);
    assert_ne!(c, 0, "not on the hub's menu: {out}");
    assert!(err.contains("no product 'polse'"), "{err}");
    assert_eq!(
        price_changes_of(&till.journal(), "kaffe").len(),
        1,
        "no change journaled while the hub is away"
    );
    eprintln!(
        "catalogue end to end: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// Waits up to `secs` for `ok`.
async fn eventually(secs: u64, mut ok: impl FnMut() -> bool) -> bool {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < until {
        if ok() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_running_till_takes_the_hubs_new_price_between_sales_only() {
    let rig = HubRig::start().await;
    let url = rig.url();
    let (c, out, err) = luka_with_stdin(
        &rig.config,
        &["hub", "add-user", "kasserer"],
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(c, 0, "{out}{err}");
    let cookie = log_in(&url, "kasserer", PASSWORD).await;
    let csrf = page_csrf(&get_page(&url, "/katalog", &cookie).await);
    let kaffe = |price: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("id", "kaffe".to_string()),
            ("name", "Kaffe".to_string()),
            ("group", "Kiosk".to_string()),
            ("price", price.to_string()),
            ("vat_code", "31".to_string()),
        ]
    };
    let as_str = |f: &Vec<(&'static str, String)>| {
        f.iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect::<Vec<(&str, String)>>()
    };
    let post = |path: &'static str, f: Vec<(&'static str, String)>| {
        let url = url.clone();
        let cookie = cookie.clone();
        async move {
            let fields = as_str(&f);
            let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post_form(&url, path, &cookie, &refs).await
        }
    };
    assert_eq!(post("/katalog/ny", kaffe("30")).await.0, 303);

    let till = Till::new("kiosk-1").await;
    let (c, out, err) = till.pair(&url, &rig.add_till("kiosk-1"));
    assert_eq!(c, 0, "{out}{err}");
    let config = luka::config::Config::load(Some(&till.config)).unwrap();
    let mut app = luka::app::App::start(config).await.unwrap();
    app.refresh_catalogue(std::time::Duration::from_millis(200));
    let kiosk = app.kiosk.clone();
    let price = |k: &luka::kiosk::Kiosk| k.catalog().get("kaffe").map(|p| p.price.minor());
    assert!(
        eventually(10, || kiosk.catalog().products().len() == 1).await,
        "the running till takes the hub's catalogue: {:?}",
        kiosk.catalog()
    );
    assert_eq!(price(&kiosk), Some(3_000));

    // A Vipps sale is open on the till when the treasurer changes the price.
    let mut cart = luka::domain::Cart::new();
    cart.add_product(kiosk.catalog().get("kaffe").unwrap());
    let open = kiosk.start_vipps_sale(&cart, "").unwrap();
    assert_eq!(post("/katalog/endre", kaffe("35")).await.0, 303);
    let db = till.db();
    assert!(
        eventually(10, || {
            luka::hub::till_catalogue::load_kept(&db)
                .unwrap()
                .is_some_and(|s| s.version == 2)
        })
        .await,
        "the new version came down"
    );
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert_eq!(price(&kiosk), Some(3_000), "not applied during a sale");

    // The sale ends; the new price applies, journaled, and the next sale is at it.
    kiosk.cancel_sale(open.id).unwrap();
    assert!(
        eventually(20, || price(&kiosk) == Some(3_500)).await,
        "applied once the sale is over"
    );
    let mut cart = luka::domain::Cart::new();
    cart.add_product(kiosk.catalog().get("kaffe").unwrap());
    let (sold, _) = kiosk
        .cash_sale(&cart, luka::domain::Money::nok(3_500), "")
        .unwrap();
    assert_eq!(sold.total.minor(), 3_500);
    let mut journal = Vec::new();
    app.store
        .read(|r| {
            r.chain_rows(|row| {
                journal.push(row.clone());
                true
            })
        })
        .unwrap();
    let changes = price_changes_of(&journal, "kaffe");
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(
        (&changes[0]["old"]["price"], &changes[0]["new"]["price"]),
        (&serde_json::json!(3_000), &serde_json::json!(3_500))
    );
    let change_seq = journal
        .iter()
        .find(|r| r.kind == "price.changed" && r.data.contains("\"kaffe\""))
        .unwrap()
        .seq;
    let closed = journal
        .iter()
        .filter(|r| r.sale_id == Some(open.id))
        .map(|r| r.seq)
        .max()
        .unwrap();
    assert!(
        change_seq > closed,
        "the change comes after the open sale ended"
    );
    app.shutdown().await;
}

/// The page once it holds `text` (a form post navigates to the same URL).
async fn page_with(browser: &support::webdriver::Browser, text: &str) -> String {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let page = browser.source().await;
        if page.contains(text) || std::time::Instant::now() > until {
            assert!(page.contains(text), "{text}: {page}");
            return page;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_real_browser_the_treasurer_adds_a_product_and_changes_its_price() {
    let rig = HubRig::start().await;
    rig.hub
        .set_user("kasserer", PASSWORD, Role::Treasurer)
        .await
        .unwrap();
    let till = Till::new("kiosk-1").await;
    let (c, out, err) = till.pair(&rig.url(), &rig.add_till("kiosk-1"));
    assert_eq!(c, 0, "{out}{err}");

    let browser = support::webdriver::Browser::start(390, 844).await;
    browser.goto(&format!("{}/logg-inn", rig.url())).await;
    browser.type_into("#name", "kasserer").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("#login").await;
    assert!(browser.wait_for_url("/omsetning").await, "logged in");
    browser.goto(&format!("{}/katalog", rig.url())).await;
    let new = "#new-product";
    browser
        .type_into(&format!("{new} input[name=id]"), "skjerf")
        .await;
    browser
        .type_into(&format!("{new} input[name=name]"), "Klubbskjerf")
        .await;
    browser
        .type_into(&format!("{new} input[name=group]"), "Klær")
        .await;
    browser
        .type_into(&format!("{new} input[name=price]"), "250")
        .await;
    browser.click(&format!("{new} button")).await;
    page_with(&browser, "id=\"product-skjerf\"").await;
    let (version, products) = rig.hub.products().await.unwrap();
    assert_eq!(version, 1);
    assert_eq!((products[0].price, products[0].vat_code), (25_000, 3));

    // A price of 0 is refused on the page, and nothing changes.
    let price = "#product-skjerf input[name=price]";
    browser.clear(price).await;
    browser.type_into(price, "0").await;
    browser.click("#product-skjerf button.primary").await;
    let page = page_with(&browser, "Prisen «0» er ikke gyldig").await;
    assert!(page.contains("role=\"alert\""), "{page}");
    save_screenshot("hub-katalog-feil-phone.png", &browser.screenshot().await);
    assert_eq!(rig.hub.products().await.unwrap(), (version, products));

    // 199 kr: saved, a new version, and the till sells at it.
    browser.goto(&format!("{}/katalog", rig.url())).await;
    browser.clear(price).await;
    browser.type_into(price, "199").await;
    browser.click("#product-skjerf button.primary").await;
    page_with(&browser, "value=\"199,00\"").await;
    save_screenshot("hub-katalog-phone.png", &browser.screenshot().await);
    browser.resize(1280, 800).await;
    save_screenshot("hub-katalog-laptop.png", &browser.screenshot().await);
    browser.quit().await;
    assert_eq!(rig.hub.catalogue_version().await.unwrap(), 2);

    let (c, out, err) = till.run(&["sync"]);
    assert_eq!(c, 0, "{out}{err}");
    let (c, out, err) = till.run(&["charge", "--product", "skjerf", "--cash"]);
    assert_eq!(c, 0, "{out}{err}");
    assert_eq!(sold_amount(&out), 19_900);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archiving_takes_a_product_off_the_snapshot_and_back() {
    let rig = HubRig::start().await;
    let url = rig.url();
    rig.hub
        .set_user("kasserer", PASSWORD, Role::Treasurer)
        .await
        .unwrap();
    let cookie = log_in(&url, "kasserer", PASSWORD).await;
    let input =
        |name: &str, price: &str, vat: &str, position: &str| luka::hub::catalogue::ProductInput {
            name: name.into(),
            group: "Kiosk".into(),
            price: price.into(),
            vat_code: vat.into(),
            position: position.into(),
        };
    assert_eq!(
        rig.hub
            .add_product("vaffel", &input("Vaffel", "25", "31", "2"))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        rig.hub
            .add_product("kaffe", &input("Kaffe", "30", "31", "1"))
            .await
            .unwrap(),
        2
    );
    // Saving what is there already is no change and no new version.
    assert_eq!(
        rig.hub
            .update_product("kaffe", &input("Kaffe", "30,00", "31", "1"))
            .await
            .unwrap(),
        2
    );
    let snap = rig.hub.snapshot().await.unwrap();
    let ids: Vec<&str> = snap.products.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["kaffe", "vaffel"], "in the treasurer's order");

    let csrf = page_csrf(&get_page(&url, "/katalog", &cookie).await);
    let (status, page) = post_form(
        &url,
        "/katalog/arkiver",
        &cookie,
        &[("csrf", csrf.as_str()), ("id", "vaffel"), ("archived", "1")],
    )
    .await;
    assert_eq!(status, 303, "{page}");
    let snap = rig.hub.snapshot().await.unwrap();
    assert_eq!(snap.version, 3);
    assert_eq!(snap.products.len(), 1, "archived: not sold");
    let page = get_page(&url, "/katalog", &cookie).await;
    assert!(
        page.contains("Ta i bruk igjen") && page.contains("arkivert"),
        "{page}"
    );
    let (status, _) = post_form(
        &url,
        "/katalog/arkiver",
        &cookie,
        &[("csrf", csrf.as_str()), ("id", "vaffel"), ("archived", "0")],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(rig.hub.snapshot().await.unwrap().products.len(), 2);
    let (status, page) = post_form(
        &url,
        "/katalog/arkiver",
        &cookie,
        &[
            ("csrf", csrf.as_str()),
            ("id", "finnes-ikke"),
            ("archived", "1"),
        ],
    )
    .await;
    assert_eq!(status, 404, "{page}");
    assert!(page.contains("Ingen vare «finnes-ikke»"), "{page}");
    assert_eq!(rig.hub.catalogue_version().await.unwrap(), 4);
}

// ---- the back office: takings in detail, roles, sold out, till status ----

impl Till {
    /// A production till with two operators who log in with code 1234.
    async fn with_operators(till: &str) -> Till {
        let sim = luka::sim::start(([127, 0, 0, 1], 0).into(), SimConfig::training())
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let code = luka::pin::PinHash::create("1234").unwrap();
        let extra = format!(
            "[[operators]]\nid = \"1001\"\nname = \"Kari\"\ncode_hash = \"{code}\"\n\n\
             [[operators]]\nid = \"1002\"\nname = \"Ola\"\ncode_hash = \"{code}\"\n",
            code = code.as_str()
        );
        let config = support::write_till_config(dir.path(), &sim, till, "Hub IL", &extra);
        Till {
            _sim: sim,
            dir,
            config,
        }
    }

    /// `luka sync`: the journal goes up, the catalogue comes down.
    fn sync(&self) {
        let (c, out, err) = self.run(&["sync"]);
        assert_eq!(c, 0, "luka sync: {out}{err}");
    }

    fn charge(&self, args: &[&str]) -> (i32, String, String) {
        let mut all = vec!["charge"];
        all.extend_from_slice(args);
        self.run(&all)
    }
}

/// The rig with a treasurer logged in and two products in the catalogue:
/// kaffe 30 kr (Kiosk), vaffel 40 kr (Mat).
async fn rig_with_catalogue() -> (HubRig, String) {
    let rig = HubRig::start().await;
    rig.hub
        .set_user("kasserer", PASSWORD, Role::Treasurer)
        .await
        .unwrap();
    let url = rig.url();
    let cookie = log_in(&url, "kasserer", PASSWORD).await;
    let csrf = page_csrf(&get_page(&url, "/katalog", &cookie).await);
    for (id, name, group, price) in [
        ("kaffe", "Kaffe", "Kiosk", "30"),
        ("vaffel", "Vaffel", "Mat", "40"),
    ] {
        let (s, page) = post_form(
            &url,
            "/katalog/ny",
            &cookie,
            &[
                ("csrf", &csrf),
                ("id", id),
                ("name", name),
                ("group", group),
                ("price", price),
                ("vat_code", "31"),
            ],
        )
        .await;
        assert_eq!(s, 303, "{page}");
    }
    (rig, cookie)
}

/// A till paired with the rig's hub, with the catalogue fetched.
async fn paired_till(rig: &HubRig, id: &str) -> Till {
    let till = Till::with_operators(id).await;
    let (c, out, err) = till.pair(&rig.url(), &rig.add_till(id));
    assert_eq!(c, 0, "{out}{err}");
    till.sync();
    till
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn takings_per_product_group_hour_and_operator_and_what_a_kioskansvarlig_may_do() {
    let (rig, cookie) = rig_with_catalogue().await;
    let url = rig.url();
    let a = paired_till(&rig, "kiosk-1").await;
    let b = paired_till(&rig, "kiosk-2").await;

    // kiosk-1: Kari sells 2 kaffe and a vaffel (100 kr), Ola a kaffe (30 kr).
    // kiosk-2: Ola sells a vaffel (40 kr) and returns it whole; then 2 vaffel (80 kr).
    for (till, product, operator) in [
        (
            &a,
            vec!["--product", "kaffex2", "--product", "vaffel"],
            "1001",
        ),
        (&a, vec!["--product", "kaffe"], "1002"),
        (&b, vec!["--product", "vaffel"], "1002"),
    ] {
        let mut args = product.clone();
        args.extend(["--cash", "--operator", operator]);
        let (c, out, err) = till.charge(&args);
        assert_eq!(c, 0, "{out}{err}");
    }
    let sold: serde_json::Value = serde_json::from_str(
        &b.journal()
            .iter()
            .rev()
            .find(|r| r.kind == "sale.paid")
            .unwrap()
            .data,
    )
    .unwrap();
    let receipt = sold["receipt_no"].as_i64().unwrap().to_string();
    let (c, out, err) = b.run(&[
        "refund",
        &receipt,
        "--reason",
        "feil vare",
        "--operator",
        "1002",
    ]);
    assert_eq!(c, 0, "a whole return: {out}{err}");
    let (c, out, err) = b.charge(&["--product", "vaffelx2", "--cash", "--operator", "1002"]);
    assert_eq!(c, 0, "{out}{err}");
    a.sync();
    b.sync();

    let today = luka::domain::local_time::to_oslo(time::OffsetDateTime::now_utc()).date();
    let t = rig.hub.takings(today, today, None, false).await.unwrap();
    // By hand: 100 + 30 + 40 − 40 + 80 = 210 kr, 4 sales.
    assert_eq!(t.total, 21_000);
    assert_eq!(t.sales, 4);
    let of = |rows: &[luka::hub::takings::Sold], key: &str| {
        rows.iter()
            .find(|s| s.key == key)
            .map(|s| (s.quantity, s.amount))
    };
    assert_eq!(of(&t.by_product, "kaffe"), Some((3, 9_000)));
    assert_eq!(
        of(&t.by_product, "vaffel"),
        Some((3, 12_000)),
        "1 + 1 − 1 + 2"
    );
    assert_eq!(of(&t.by_group, "Kiosk"), Some((3, 9_000)));
    assert_eq!(of(&t.by_group, "Mat"), Some((3, 12_000)));
    assert_eq!(of(&t.by_operator, "1001"), Some((3, 10_000)));
    assert_eq!(of(&t.by_operator, "1002"), Some((3, 11_000)));
    assert_eq!(t.by_hour.iter().map(|h| h.1).sum::<i64>(), t.total);
    let one = rig
        .hub
        .takings(today, today, Some("kiosk-2"), false)
        .await
        .unwrap();
    assert_eq!(one.total, 8_000);
    assert_eq!(of(&one.by_product, "kaffe"), None);
    // The page shows the same, with the chart.
    let page = get_page(&url, "/omsetning", &cookie).await;
    for text in [
        "210,00", "Per time", "<svg", "Vaffel", "Mat", "Kari", "Ola", "kiosk-2",
    ] {
        assert!(page.contains(text), "the takings page shows {text}: {page}");
    }
    let page = get_page(&url, "/omsetning?kasse=kiosk-2", &cookie).await;
    assert!(page.contains("80,00") && !page.contains("210,00"), "{page}");

    // A hub upgraded from before `sale_lines` derives the lines of the
    // sales it stored already: undo migration 003 by hand, connect again.
    rig.hub
        .client()
        .await
        .unwrap()
        .batch_execute(
            "DROP TABLE sale_lines, operators, takings_day, product_day, operator_day; ALTER TABLE tills DROP COLUMN status, DROP COLUMN status_at; \
             ALTER TABLE users DROP COLUMN role; \
             ALTER TABLE products DROP COLUMN sold_out, DROP COLUMN sold_out_at; \
             DELETE FROM hub_migrations WHERE version = 3;",
        )
        .await
        .unwrap();
    let upgraded = Hub::connect(&rig._pg.url()).await.unwrap();
    let again = upgraded.takings(today, today, None, false).await.unwrap();
    assert_eq!(
        again, t,
        "summed again from the stored entries: the same takings"
    );
    rig.hub
        .set_user("kasserer", PASSWORD, Role::Treasurer)
        .await
        .unwrap();

    // A kioskansvarlig: takings and sold-out marks, nothing else.
    rig.hub
        .set_user("kiosk", PASSWORD, Role::Kiosk)
        .await
        .unwrap();
    let kiosk = log_in(&url, "kiosk", PASSWORD).await;
    let page = get_page(&url, "/omsetning", &kiosk).await;
    assert!(
        page.contains("210,00") && !page.contains("href=\"/katalog\""),
        "{page}"
    );
    for path in ["/kasser", "/katalog", "/z", "/z/saft"] {
        assert_eq!(get_status(&url, path, &kiosk).await, 403, "{path}");
    }
    let csrf = page_csrf(&get_page(&url, "/utsolgt", &kiosk).await);
    let (s, _) = post_form(
        &url,
        "/katalog/endre",
        &kiosk,
        &[
            ("csrf", &csrf),
            ("id", "kaffe"),
            ("name", "Kaffe"),
            ("price", "1"),
            ("vat_code", "31"),
        ],
    )
    .await;
    assert_eq!(s, 403, "a kioskansvarlig cannot change a price");
    let (_, products) = rig.hub.products().await.unwrap();
    assert_eq!(
        products.iter().find(|p| p.id == "kaffe").unwrap().price,
        3_000
    );
    let (s, _) = post_form(
        &url,
        "/utsolgt",
        &kiosk,
        &[("csrf", &csrf), ("id", "vaffel"), ("sold_out", "1")],
    )
    .await;
    assert_eq!(s, 303, "a kioskansvarlig marks sold out");
    let (_, products) = rig.hub.products().await.unwrap();
    assert!(products.iter().find(|p| p.id == "vaffel").unwrap().sold_out);
    let (s, _) = post_form(
        &url,
        "/utsolgt",
        &kiosk,
        &[("csrf", "forged"), ("id", "kaffe"), ("sold_out", "1")],
    )
    .await;
    assert_eq!(s, 403, "without the form token nothing changes");
    let (_, products) = rig.hub.products().await.unwrap();
    assert!(!products.iter().find(|p| p.id == "kaffe").unwrap().sold_out);
}

fn stock_changes(journal: &[ChainRow], product: &str) -> Vec<bool> {
    journal
        .iter()
        .filter(|r| r.kind == "stock.changed")
        .map(|r| serde_json::from_str::<serde_json::Value>(&r.data).unwrap())
        .filter(|d| d["product"] == product)
        .map(|d| d["sold_out"].as_bool().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sold_out_mark_on_the_hub_or_on_one_till_reaches_the_other_tills() {
    let (rig, cookie) = rig_with_catalogue().await;
    let url = rig.url();
    let a = paired_till(&rig, "kiosk-1").await;
    let b = paired_till(&rig, "kiosk-2").await;

    // On the hub: vaffel sold out. kiosk-1 takes it with its next sync.
    let csrf = page_csrf(&get_page(&url, "/utsolgt", &cookie).await);
    let (s, _) = post_form(
        &url,
        "/utsolgt",
        &cookie,
        &[("csrf", &csrf), ("id", "vaffel"), ("sold_out", "1")],
    )
    .await;
    assert_eq!(s, 303);
    a.sync();
    let (c, out, err) = a.charge(&["--product", "vaffel", "--cash"]);
    assert_ne!(c, 0, "sold out on the hub: refused on the till: {out}");
    assert!(
        err.contains("Vaffel") || out.contains("Vaffel"),
        "{out}{err}"
    );
    assert_eq!(
        stock_changes(&a.journal(), "vaffel"),
        vec![true],
        "journaled once"
    );
    let (c, out, err) = a.charge(&["--product", "kaffe", "--cash"]);
    assert_eq!(c, 0, "kaffe still sells: {out}{err}");

    // On kiosk-2 by hand: kaffe sold out. It goes up and comes down to kiosk-1.
    let (c, out, err) = b.run(&["product", "kaffe", "--sold-out"]);
    assert_eq!(c, 0, "{out}{err}");
    b.sync();
    let (_, products) = rig.hub.products().await.unwrap();
    assert!(products.iter().find(|p| p.id == "kaffe").unwrap().sold_out);
    a.sync();
    let (c, out, _) = a.charge(&["--product", "kaffe", "--cash"]);
    assert_ne!(c, 0, "kaffe is sold out on kiosk-1 too: {out}");
    // kiosk-2 took the hub's vaffel mark as well, and journaled its own kaffe once.
    let (c, _, _) = b.charge(&["--product", "vaffel", "--cash"]);
    assert_ne!(c, 0);
    assert_eq!(stock_changes(&b.journal(), "kaffe"), vec![true]);

    // Back on sale on the hub: both tills sell kaffe again.
    let (s, _) = post_form(
        &url,
        "/utsolgt",
        &cookie,
        &[("csrf", &csrf), ("id", "kaffe"), ("sold_out", "0")],
    )
    .await;
    assert_eq!(s, 303);
    for till in [&a, &b] {
        till.sync();
        let (c, out, err) = till.charge(&["--product", "kaffe", "--cash"]);
        assert_eq!(c, 0, "kaffe on sale again: {out}{err}");
    }
    // A till's mark older than the hub's newest never undoes it: kiosk-2's
    // "sold out" entry sent again changes nothing (it is a duplicate), and
    // the hub's version stays.
    let version = rig.hub.catalogue_version().await.unwrap();
    b.sync();
    assert_eq!(rig.hub.catalogue_version().await.unwrap(), version);
    let (_, products) = rig.hub.products().await.unwrap();
    assert!(!products.iter().find(|p| p.id == "kaffe").unwrap().sold_out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_running_till_reports_its_status_to_the_kasser_page() {
    let (rig, cookie) = rig_with_catalogue().await;
    let till = Till::with_operators("kiosk-1").await;
    let (c, out, err) = till.pair(&rig.url(), &rig.add_till("kiosk-1"));
    assert_eq!(c, 0, "{out}{err}");
    let config = luka::config::Config::load(Some(&till.config)).unwrap();
    let mut app = luka::app::App::start(config).await.unwrap();
    app.refresh_catalogue(std::time::Duration::from_millis(200));
    let mut status = None;
    for _ in 0..100 {
        let tills = rig.hub.tills().await.unwrap();
        status = tills[0]
            .status
            .clone()
            .filter(|s| s.catalogue_version.is_some());
        if status.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let status = status.expect("the running till said its status");
    assert_eq!(status.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(status.catalogue_version, Some(2));
    assert!(status.printer.contains("kvitteringsskriver"), "{status:?}");
    assert!(!status.training);
    let page = get_page(&rig.url(), "/kasser", &cookie).await;
    let version = format!("Luka {}", env!("CARGO_PKG_VERSION"));
    for text in [version.as_str(), "Usendt", "Skriver", "versjon 2"] {
        assert!(page.contains(text), "the Kasser page shows {text}: {page}");
    }
    // A forged credential's status is refused and stored nowhere.
    let resp = http()
        .post(format!("{}/api/status", rig.url()))
        .bearer_auth("forged")
        .json(
            &serde_json::json!({"version": "9.9.9", "backlog": 0, "hub_backlog": 0,
            "printer": "x", "printer_ok": true, "vipps_reachable": null,
            "catalogue_version": null, "training": false}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    assert!(
        !get_page(&rig.url(), "/kasser", &cookie)
            .await
            .contains("9.9.9")
    );
    app.shutdown().await;
}

/// Issue 15's walk through, in a real browser: log in, add a product,
/// change its price, sell it on a real `luka` till at that price, see the
/// takings move, mark it sold out, and see a second, running till refuse
/// it; the Kasser page shows that till's status. Screenshots of Omsetning,
/// Utsolgt and Kasser at phone and laptop width.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn in_a_real_browser_a_new_price_a_sale_and_a_sold_out_mark_reach_the_tills() {
    let rig = HubRig::start().await;
    rig.hub
        .set_user("kasserer", PASSWORD, Role::Treasurer)
        .await
        .unwrap();
    let url = rig.url();
    let a = Till::with_operators("kiosk-1").await;
    let (c, out, err) = a.pair(&url, &rig.add_till("kiosk-1"));
    assert_eq!(c, 0, "{out}{err}");
    let b = Till::with_operators("kiosk-2").await;
    let (c, out, err) = b.pair(&url, &rig.add_till("kiosk-2"));
    assert_eq!(c, 0, "{out}{err}");
    let config = luka::config::Config::load(Some(&b.config)).unwrap();
    let mut running = luka::app::App::start(config).await.unwrap();
    running.refresh_catalogue(std::time::Duration::from_millis(200));
    let kiosk = running.kiosk.clone();

    let browser = support::webdriver::Browser::start(390, 844).await;
    browser.goto(&format!("{url}/logg-inn")).await;
    browser.type_into("#name", "kasserer").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("#login").await;
    assert!(browser.wait_for_url("/omsetning").await, "logged in");
    browser.goto(&format!("{url}/katalog")).await;
    for (field, value) in [
        ("id", "vaffel"),
        ("name", "Vaffel"),
        ("group", "Kiosk"),
        ("price", "40"),
    ] {
        browser
            .type_into(&format!("#new-product input[name={field}]"), value)
            .await;
    }
    browser.click("#new-product button").await;
    page_with(&browser, "id=\"product-vaffel\"").await;
    let price = "#product-vaffel input[name=price]";
    browser.clear(price).await;
    browser.type_into(price, "45").await;
    browser.click("#product-vaffel button.primary").await;
    page_with(&browser, "value=\"45,00\"").await;

    // The headless till sells it at the new price; the takings move.
    a.sync();
    let (c, out, err) = a.charge(&["--product", "vaffelx2", "--cash", "--operator", "1001"]);
    assert_eq!(c, 0, "{out}{err}");
    assert_eq!(sold_amount(&out), 9_000);
    a.sync();
    browser.goto(&format!("{url}/omsetning")).await;
    let page = page_with(&browser, "kr 90,00").await;
    assert!(page.contains("Vaffel") && page.contains("Kari"), "{page}");
    save_screenshot("hub-omsetning-phone.png", &browser.screenshot().await);

    // Sold out on the hub: the running till refuses it within its next look.
    assert!(
        eventually(20, || kiosk.catalog().get("vaffel").is_some()).await,
        "the running till has the product"
    );
    browser.goto(&format!("{url}/utsolgt")).await;
    browser.click("#product-vaffel button").await;
    page_with(&browser, "I salg igjen").await;
    save_screenshot("hub-utsolgt-phone.png", &browser.screenshot().await);
    assert!(
        eventually(20, || kiosk
            .stock()
            .unwrap()
            .iter()
            .any(|s| s.product_id == "vaffel" && s.sold_out))
        .await,
        "the running till took the sold-out mark"
    );
    let mut cart = luka::domain::Cart::new();
    cart.add_product(kiosk.catalog().get("vaffel").unwrap());
    let refused = kiosk
        .cash_sale(&cart, luka::domain::Money::nok(4_500), "")
        .unwrap_err();
    assert!(refused.to_string().contains("Vaffel"), "{refused}");

    // Kasser: the running till's status (it goes up with each look).
    browser.resize(1280, 800).await;
    let mut shown = String::new();
    for _ in 0..100 {
        browser.goto(&format!("{url}/kasser")).await;
        shown = browser.source().await;
        // The running till's journal has gone up and its status says so.
        if shown.contains("Skriver") && shown.contains("<span class=\"ok\">ingenting</span>") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(
        shown.contains(&format!("Luka {}", env!("CARGO_PKG_VERSION")))
            && shown.contains("<span class=\"ok\">ingenting</span>"),
        "the running till says it has sent everything: {shown}"
    );
    save_screenshot("hub-kasser-laptop.png", &browser.screenshot().await);
    browser.goto(&format!("{url}/utsolgt")).await;
    save_screenshot("hub-utsolgt-laptop.png", &browser.screenshot().await);
    browser.goto(&format!("{url}/omsetning")).await;
    save_screenshot("hub-omsetning-laptop.png", &browser.screenshot().await);
    browser.quit().await;
    running.shutdown().await;
}

// ---- the catalogue as a CSV file ----

/// `GET /katalog/csv` with the session: (status, content-type,
/// content-disposition, body bytes).
async fn get_csv(url: &str, cookie: &str) -> (u16, String, String, Vec<u8>) {
    let resp = http()
        .get(format!("{url}/katalog/csv"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let (ct, cd) = (header("content-type"), header("content-disposition"));
    let status = resp.status().as_u16();
    (status, ct, cd, resp.bytes().await.unwrap().to_vec())
}

async fn import_csv(url: &str, cookie: &str, text: &str) -> (u16, String) {
    let csrf = page_csrf(&get_page(url, "/katalog", cookie).await);
    post_form(
        url,
        "/katalog/import",
        cookie,
        &[("csrf", &csrf), ("csv", text)],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalogue_goes_out_as_csv_and_comes_back_in_all_or_nothing() {
    let (rig, cookie) = rig_with_catalogue().await;
    let url = rig.url();
    let code = rig.hub.add_till("kasse-1").await.unwrap();
    let till = rig.hub.pair(&code).await.unwrap();
    // A name Excel would split without quotes; an archived product.
    rig.hub
        .update_product(
            "vaffel",
            &luka::hub::catalogue::ProductInput {
                name: "Vaffel; med \"syltetøy\"".into(),
                group: "Mat".into(),
                price: "40".into(),
                vat_code: "31".into(),
                position: String::new(),
            },
        )
        .await
        .unwrap();
    rig.hub.set_archived("kaffe", true).await.unwrap();
    assert_eq!(rig.hub.catalogue_version().await.unwrap(), 4);

    let (status, ct, cd, body) = get_csv(&url, &cookie).await;
    assert_eq!(status, 200);
    assert_eq!(ct, "text/csv; charset=utf-8");
    assert_eq!(cd, "attachment; filename=\"luka-katalog.csv\"");
    assert!(body.starts_with(b"\xEF\xBB\xBF"), "UTF-8 with BOM");
    let exported = String::from_utf8(body).unwrap();
    // In the page's order: groups (Kiosk came first), then places (each
    // product went first in its new group).
    assert_eq!(
        exported,
        "\u{feff}id;navn;gruppe;pris;mva;plassering;arkivert;utsolgt\r\n\
         kaffe;Kaffe;Kiosk;30,00;31;1;ja;nei\r\n\
         vaffel;\"Vaffel; med \"\"syltetøy\"\"\";Mat;40,00;31;1;nei;nei\r\n"
    );

    // The round trip: the same file changes nothing, not even the version.
    let (status, page) = import_csv(&url, &cookie, &exported).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Ingen endringer"), "{page}");
    assert_eq!(rig.hub.catalogue_version().await.unwrap(), 4);

    // Two new products and one new price, as pasted from a spreadsheet
    // (no BOM, LF, no arkivert/utsolgt: kaffe stays archived).
    let file = "id;navn;gruppe;pris;mva;plassering\n\
                kaffe;Kaffe;Kiosk;30;31;1\n\
                vaffel;Vaffel; med \"\"syltetøy\"\";Mat;45,50;31;1\n\
                bolle;Bolle;Bakst;20;31;1\n\
                billett;Billett voksen;Inngang;100;6;2\n";
    // The name above is unquoted, so its `;` splits it: refused, nothing changed.
    let (status, page) = import_csv(&url, &cookie, file).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("Linje 3: raden har 7 felt"), "{page}");
    assert_eq!(rig.hub.catalogue_version().await.unwrap(), 4);
    let file = file.replace(
        "Vaffel; med \"\"syltetøy\"\"",
        "\"Vaffel; med \"\"syltetøy\"\"\"",
    );
    let (status, page) = import_csv(&url, &cookie, &file).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Lest inn: 2 nye og 1 endrede varer (katalogversjon 5)."),
        "{page}"
    );
    assert_eq!(rig.hub.catalogue_version().await.unwrap(), 5, "one bump");
    let (status, etag, body) = get_catalogue(&url, Some(&till.credential), None).await;
    assert_eq!((status, etag.as_deref()), (200, Some("\"catalogue-5\"")));
    let snap: luka::hub::catalogue::Snapshot = serde_json::from_str(&body).unwrap();
    let sold: Vec<(&str, &str, &str, i64, u16)> = snap
        .products
        .iter()
        .map(|p| {
            (
                p.id.as_str(),
                p.name.as_str(),
                p.group.as_str(),
                p.price,
                p.vat_code,
            )
        })
        .collect();
    assert_eq!(
        sold,
        [
            ("vaffel", "Vaffel; med \"syltetøy\"", "Mat", 4_550, 31),
            ("bolle", "Bolle", "Bakst", 2_000, 31),
            ("billett", "Billett voksen", "Inngang", 10_000, 6),
        ],
        "kaffe is still archived"
    );

    // A bad price on line 3 and a bad VAT code on line 5: both named, nothing changed.
    let bad = "id;navn;gruppe;pris;mva;plassering;arkivert;utsolgt\n\
               bolle;Bolle;Bakst;25;31;1;nei;nei\n\
               vaffel;Vaffel;Mat;0;31;0;nei;nei\n\
               ny-vare;Ny;Mat;10;31;3;;\n\
               billett;Billett;Inngang;100;25;2;nei;nei\n";
    let (status, page) = import_csv(&url, &cookie, bad).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("ingenting er endret"), "{page}");
    assert!(
        page.contains("Linje 3: Prisen «0» er ikke gyldig"),
        "{page}"
    );
    assert!(page.contains("Linje 5: Ukjent mva-kode «25»"), "{page}");
    assert!(
        !page.contains("Linje 2:") && !page.contains("Linje 4:"),
        "{page}"
    );
    assert!(
        page.contains("ny-vare;Ny;Mat"),
        "the pasted text is kept: {page}"
    );
    assert_eq!(rig.hub.catalogue_version().await.unwrap(), 5);
    let (_, products) = rig.hub.products().await.unwrap();
    assert_eq!(products.len(), 4);
    assert!(products.iter().all(|p| p.id != "ny-vare"));
    assert_eq!(
        products.iter().find(|p| p.id == "bolle").unwrap().price,
        2_000
    );

    // A duplicate id and a missing column are refused too.
    let (status, page) = import_csv(
        &url,
        &cookie,
        "id;navn;gruppe;pris;mva;plassering\nbolle;Bolle;;25;31;\nbolle;Bolle;;26;31;\n",
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        page.contains("Linje 3: varenummeret «bolle» står også på linje 2."),
        "{page}"
    );
    let (status, page) = import_csv(&url, &cookie, "id;navn;pris;mva\nbolle;Bolle;25;31\n").await;
    assert_eq!(status, 400);
    assert!(page.contains("kolonnen «gruppe» mangler"), "{page}");

    // Round trip again after the import: nothing changes.
    let (_, _, _, body) = get_csv(&url, &cookie).await;
    let (status, page) = import_csv(&url, &cookie, &String::from_utf8(body).unwrap()).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Ingen endringer"), "{page}");
    assert_eq!(rig.hub.catalogue_version().await.unwrap(), 5);

    // The marks: bolle sold out for every till, kaffe back on sale; one bump.
    let marks = "id;navn;gruppe;pris;mva;plassering;utsolgt;arkivert\n\
                 bolle;Bolle;Bakst;20;31;1;JA;\n\
                 kaffe;Kaffe;Kiosk;30;31;0;;nei\n";
    let (status, page) = import_csv(&url, &cookie, marks).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("0 nye og 2 endrede varer (katalogversjon 6)"),
        "{page}"
    );
    let snap = rig.hub.snapshot().await.unwrap();
    let bolle = snap.products.iter().find(|p| p.id == "bolle").unwrap();
    assert!(bolle.sold_out && bolle.sold_out_at.is_some(), "{bolle:?}");
    assert!(snap.products.iter().any(|p| p.id == "kaffe" && !p.sold_out));

    // A kioskansvarlig may do neither.
    rig.hub
        .set_user("kiosk", PASSWORD, Role::Kiosk)
        .await
        .unwrap();
    let kiosk = log_in(&url, "kiosk", PASSWORD).await;
    assert_eq!(get_csv(&url, &kiosk).await.0, 403);
    let csrf = page_csrf(&get_page(&url, "/utsolgt", &kiosk).await);
    let (status, _) = post_form(
        &url,
        "/katalog/import",
        &kiosk,
        &[("csrf", &csrf), ("csv", &file)],
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(rig.hub.catalogue_version().await.unwrap(), 6);
}

/// The treasurer picks the CSV file Excel saved instead of pasting it: a
/// file in Windows-1252 (Excel's "CSV (semikolonseparert)") arrives with
/// its æøå, in a real browser, and is read in with "Les inn".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csv_file_picked_in_the_browser_is_read_in_with_its_letters() {
    let (rig, _cookie) = rig_with_catalogue().await;
    let url = rig.url();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("varer.csv");
    // "Bløtkake" and "Kjøkken" in Windows-1252: ø is the one byte 0xF8.
    let mut bytes = b"id;navn;gruppe;pris;mva;plassering\r\nblot;Bl".to_vec();
    bytes.push(0xF8);
    bytes.extend_from_slice(b"tkake;Kj");
    bytes.push(0xF8);
    bytes.extend_from_slice(b"kken;45;31;\r\n");
    std::fs::write(&path, &bytes).unwrap();

    let browser = support::webdriver::Browser::start(1280, 900).await;
    browser.goto(&format!("{url}/logg-inn")).await;
    browser.type_into("#name", "kasserer").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("#login").await;
    assert!(browser.wait_for_url("/omsetning").await, "logged in");
    browser.goto(&format!("{url}/katalog")).await;
    browser.type_into("#csv-file", path.to_str().unwrap()).await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    let text = loop {
        let v = browser
            .script("return document.getElementById('csv-text').value;")
            .await;
        let text = v.as_str().unwrap_or_default().to_string();
        if !text.is_empty() || tokio::time::Instant::now() >= deadline {
            break text;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(text.contains("blot;Bløtkake;Kjøkken;45"), "{text:?}");
    browser.click("#csv-read").await;
    assert!(browser.wait_for_url("/katalog/import").await);
    let page = browser.source().await;
    assert!(page.contains("1 nye og 0 endrede varer"), "{page}");
    let snap = rig.hub.snapshot().await.unwrap();
    let blot = snap.products.iter().find(|p| p.id == "blot").unwrap();
    assert_eq!(
        (blot.name.as_str(), blot.group.as_str()),
        ("Bløtkake", "Kjøkken")
    );
    browser.quit().await;
}

/// "Legg til kasse" on *Kasser*: the treasurer gets a one-time code (and a
/// QR of the address and the code) on the page, never in a URL or a cache;
/// a real till pairs with it; "Koble fra" unpairs it, after which its
/// credential is refused and "Ny kode" gives a code for a new device. A bad
/// id changes nothing, and a kioskansvarlig may do neither.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_treasurer_adds_and_unpairs_a_till_on_the_kasser_page() {
    let rig = HubRig::start().await;
    let url = rig.url();
    rig.hub
        .set_user("kasserer", PASSWORD, Role::Treasurer)
        .await
        .unwrap();
    let browser = support::webdriver::Browser::start(390, 844).await;
    browser.goto(&format!("{url}/logg-inn")).await;
    browser.type_into("#name", "kasserer").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("#login").await;
    assert!(browser.wait_for_url("/omsetning").await, "logged in");
    browser.goto(&format!("{url}/kasser")).await;
    browser.type_into("input[name=id]", "kiosk-2").await;
    browser.click("form[action='/kasser/ny'] button").await;
    assert!(browser.wait_for_url("/kasser/ny").await, "the code page");
    let page = browser.source().await;
    let code = page
        .split("id=\"pair-code\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("the code on the page")
        .to_string();
    assert_eq!(code.len(), 11, "{code}");
    assert!(
        page.contains(&format!("id=\"pair-address\">{url}<")),
        "{page}"
    );
    assert!(page.contains("<svg"), "a QR for a scanner");
    assert!(page.contains("Arrangør"), "how to use it on the till");
    let png = browser.screenshot().await;
    // What a till's scanner reads off the screen: the address, a space, the code.
    let img = image::load_from_memory(&png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR on the page");
    assert_eq!(grids[0].decode().unwrap().1, format!("{url} {code}"));
    save_screenshot("hub-kasse-kode-phone.png", &png);
    browser.quit().await;

    // The code is a real one: a till pairs with it, once.
    let till = Till::new("kiosk-2").await;
    till.sell_cash("20");
    let (c, out, err) = till.pair(&url, &code);
    assert_eq!(c, 0, "{out}{err}");
    let credential = till.credential();
    assert_eq!(
        get_catalogue(&url, Some(&credential), None).await.0,
        200,
        "paired"
    );

    let cookie = log_in(&url, "kasserer", PASSWORD).await;
    let page = get_page(&url, "/kasser", &cookie).await;
    assert!(page.contains("Koble fra"), "{page}");
    let csrf = page_csrf(&page);
    // A code page is never cached, and a code asked for a paired till is refused.
    let resp = http()
        .post(format!("{url}/kasser/ny"))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("csrf", &csrf), ("id", "kiosk-3")]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let (s, body) = post_form(
        &url,
        "/kasser/ny",
        &cookie,
        &[("csrf", &csrf), ("id", "kiosk-2")],
    )
    .await;
    assert_eq!(s, 409, "{body}");
    assert!(body.contains("allerede koblet til en enhet"), "{body}");
    for bad in ["kiosk 9", "Robert'); DROP TABLE tills;--", ""] {
        let (s, body) =
            post_form(&url, "/kasser/ny", &cookie, &[("csrf", &csrf), ("id", bad)]).await;
        assert_eq!(s, 400, "{bad}: {body}");
        assert!(body.contains("kan ikke være en kasse-id"), "{body}");
    }
    let ids: Vec<String> = rig
        .hub
        .tills()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(ids.len(), 2, "only kiosk-2 and kiosk-3: {ids:?}");
    // Without the form's token nothing changes.
    let (s, _) = post_form(
        &url,
        "/kasser/koble-fra",
        &cookie,
        &[("csrf", "x"), ("id", "kiosk-2")],
    )
    .await;
    assert_eq!(s, 403);
    assert_eq!(get_catalogue(&url, Some(&credential), None).await.0, 200);

    // A kioskansvarlig may not add or unpair.
    rig.hub
        .set_user("kiosk", PASSWORD, Role::Kiosk)
        .await
        .unwrap();
    let kiosk = log_in(&url, "kiosk", PASSWORD).await;
    let kiosk_csrf = page_csrf(&get_page(&url, "/utsolgt", &kiosk).await);
    for path in ["/kasser/ny", "/kasser/koble-fra"] {
        let (s, _) = post_form(
            &url,
            path,
            &kiosk,
            &[("csrf", &kiosk_csrf), ("id", "kiosk-2")],
        )
        .await;
        assert_eq!(s, 403, "{path}");
    }
    assert_eq!(get_catalogue(&url, Some(&credential), None).await.0, 200);

    // "Koble fra": the credential is refused; "Ny kode" pairs a new device.
    let (s, body) = post_form(
        &url,
        "/kasser/koble-fra",
        &cookie,
        &[("csrf", &csrf), ("id", "kiosk-2")],
    )
    .await;
    assert_eq!(s, 303, "{body}");
    assert_eq!(get_catalogue(&url, Some(&credential), None).await.0, 401);
    let page = get_page(&url, "/kasser", &cookie).await;
    assert!(page.contains("Ny kode"), "{page}");
    let (s, body) = post_form(
        &url,
        "/kasser/ny",
        &cookie,
        &[("csrf", &csrf), ("id", "kiosk-2")],
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let code = body
        .split("id=\"pair-code\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .to_string();
    let new_device = Till::new("kiosk-2").await;
    let (c, out, err) = new_device.pair(&url, &code);
    assert_eq!(c, 0, "{out}{err}");
    let (s, _) = post_form(
        &url,
        "/kasser/koble-fra",
        &cookie,
        &[("csrf", &csrf), ("id", "nope")],
    )
    .await;
    assert_eq!(s, 404);
}

/// A managed PostgreSQL asks for TLS: with `sslmode=require` the hub talks
/// TLS and checks the server's certificate against `[hub]
/// database_ca_file` (or the system's roots, which do not know this test's
/// CA, so that is refused); a CA file without `sslmode=require` is a
/// mistake said as such.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_talks_tls_to_a_postgresql_that_requires_it() {
    let dir = tempfile::tempdir().unwrap();
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-subj",
        "/CN=Luka test CA",
        "-days",
        "2",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    std::fs::write(
        dir.path().join("ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "ext",
    ]);
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    let pg = luka::hub::cluster::PgCluster::temporary().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    pg.serve_tls(&read("server.crt"), &read("server.key"), port)
        .unwrap();
    let ca = dir.path().join("ca.crt");
    let url = format!(
        "host=127.0.0.1 port={port} user={} dbname=postgres sslmode=require",
        luka::hub::cluster::USER
    );

    let hub = Hub::connect_with(&url, Some(&ca)).await.unwrap();
    let client = hub.client().await.unwrap();
    let tls: bool = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(tls, "the connection is encrypted");
    drop(client);

    // The system's roots do not know this CA: refused, not sent in clear.
    let err = Hub::connect_with(&url, None).await.err().expect("refused");
    assert!(
        err.to_string().to_lowercase().contains("certificate"),
        "{err}"
    );
    // A CA file for a URL that does not ask for TLS.
    let plain = format!("host=127.0.0.1 port={port} user=luka dbname=postgres");
    let err = Hub::connect_with(&plain, Some(&ca))
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("sslmode=require"), "{err}");
}
