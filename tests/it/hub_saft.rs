//! The club's Z reports and SAF-T file at the hub (issue 15): two real
//! `luka` tills sell, close their day and sync into a hub on a throwaway
//! PostgreSQL cluster; the hub lists both Zs with the tills' figures, and
//! `luka hub export-saft` (and the page's download) writes one file with a
//! cash register per till that validates against Skatteetaten's XSD, whose
//! registers are byte for byte the tills' own and whose signatures verify.

use crate::reports_day::xmllint;
use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use luka::domain::Merchant;
use luka::hub::Hub;
use luka::hub::web::{Serving, serve};
use luka::sim::{SimConfig, SimHandle};
use luka::store::Store;
use support::pg::PgCluster;
use time::Date;

const PASSWORD: &str = "kasserer-passord-1";

fn luka(config: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_luka"))
        .arg("--config")
        .arg(config)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The club as the tills' `[merchant]` names it (`support::write_till_config`).
fn club() -> Merchant {
    Merchant {
        name: "Hub IL".into(),
        org_number: "974760673".into(),
        vat_registered: false,
        address: vec![],
    }
}

const CLUB: &str = "[hub.club]\nname = \"Hub IL\"\norg_number = \"974760673\"\n";

struct Rig {
    hub: Hub,
    serving: Serving,
    dir: tempfile::TempDir,
    /// With `[hub.club]`.
    config: PathBuf,
    _pg: PgCluster,
}

impl Rig {
    async fn start() -> Rig {
        let pg = PgCluster::start();
        let hub = Hub::connect(&pg.url())
            .await
            .unwrap()
            .with_club(Some(club()));
        let serving = serve(hub.clone(), ([127, 0, 0, 1], 0).into(), false)
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("hub.toml");
        let base = format!("[hub]\ndatabase_url = \"{}\"\n", pg.url());
        std::fs::write(&config, format!("{base}{CLUB}")).unwrap();
        std::fs::write(dir.path().join("no-club.toml"), base).unwrap();
        Rig {
            hub,
            serving,
            dir,
            config,
            _pg: pg,
        }
    }

    fn url(&self) -> String {
        self.serving.url()
    }

    fn add_till(&self, name: &str) -> String {
        let (code, out, err) = luka(&self.config, &["hub", "add-till", name]);
        assert_eq!(code, 0, "{out}{err}");
        out.lines()
            .find_map(|l| l.trim().strip_prefix("luka pair URL "))
            .unwrap()
            .trim()
            .to_string()
    }

    fn export(&self, config: &Path, from: Date, to: Date, out: &Path) -> (i32, String, String) {
        luka(
            config,
            &[
                "hub",
                "export-saft",
                "--from",
                &from.to_string(),
                "--to",
                &to.to_string(),
                "--out",
                out.to_str().unwrap(),
            ],
        )
    }
}

struct Till {
    id: String,
    _sim: SimHandle,
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Till {
    async fn paired(rig: &Rig, id: &str) -> Till {
        let sim = luka::sim::start(([127, 0, 0, 1], 0).into(), SimConfig::training())
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let config = support::write_till_config(dir.path(), &sim, id, "Hub IL", "");
        let till = Till {
            id: id.into(),
            _sim: sim,
            dir,
            config,
        };
        till.ok(&["pair", &rig.url(), &rig.add_till(id)]);
        till
    }

    fn ok(&self, args: &[&str]) -> String {
        let (code, out, err) = luka(&self.config, args);
        assert_eq!(code, 0, "{} {args:?}: {out}{err}", self.id);
        out
    }

    fn store(&self) -> Store {
        Store::open(&self.dir.path().join("luka.db")).unwrap()
    }

    /// The till's own SAF-T file for the dates.
    fn own_saft(&self, from: Date, to: Date) -> String {
        let out = self.dir.path().join("own-saft.xml");
        self.ok(&[
            "export",
            "saft",
            "--from",
            &from.to_string(),
            "--to",
            &to.to_string(),
            "--out",
            out.to_str().unwrap(),
        ]);
        std::fs::read_to_string(out).unwrap()
    }
}

/// Each `<cashregister>…</cashregister>` of a file, whole.
fn registers(xml: &str) -> Vec<&str> {
    xml.match_indices("<cashregister>")
        .map(|(i, _)| {
            let end = xml[i..].find("</cashregister>").unwrap() + i + "</cashregister>".len();
            &xml[i..end]
        })
        .collect()
}

fn field<'a>(xml: &'a str, tag: &str) -> &'a str {
    let open = format!("<{tag}>");
    let start = xml.find(&open).unwrap() + open.len();
    let end = xml[start..].find(&format!("</{tag}>")).unwrap() + start;
    &xml[start..end]
}

/// Sums the `transAmntIn` of a register's transactions of `trans_type`, in øre.
fn total_in(register: &str, trans_type: &str) -> i64 {
    register
        .split("<cashtransaction>")
        .skip(1)
        .filter(|t| field(t, "transType") == trans_type)
        .map(|t| {
            let a = field(t, "transAmntIn");
            let (kr, ore) = a.split_once('.').unwrap();
            kr.parse::<i64>().unwrap() * 100 + ore.parse::<i64>().unwrap()
        })
        .sum()
}

/// Rebuilds a register's signature chain from the file and checks every
/// signature with the till's public key, as on the till.
fn check_signatures(register: &str, store: &Store) -> usize {
    let keys = store.read(|r| r.journal_keys()).unwrap();
    let (version, _, public) = &keys[0];
    let mut previous = "0".to_string();
    let mut checked = 0;
    for t in register.split("<cashtransaction>").skip(1) {
        let message = format!(
            "{previous};{};{};{};{};{}",
            field(t, "transDate"),
            field(t, "transTime"),
            field(t, "nr"),
            field(t, "transAmntIn"),
            field(t, "transAmntEx"),
        );
        let signature = field(t, "signature");
        assert_eq!(field(t, "keyVersion"), version);
        assert!(
            luka::journal::key::verify(public, &message, signature),
            "transaction {} does not verify",
            field(t, "nr")
        );
        previous = signature.to_string();
        checked += 1;
    }
    checked
}

/// The file without its creation date and time (the only lines that
/// differ between two exports of the same journals).
fn without_created(xml: &str) -> String {
    xml.lines()
        .filter(|l| !l.contains("<dateCreated>") && !l.contains("<timeCreated>"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Where the page pictures go: the target folder, and `docs/screenshots/`
/// with `LUKA_UPDATE_SCREENSHOTS=1` (as `hub.rs` does).
fn save_screenshot(name: &str, png: &[u8]) {
    assert!(png.starts_with(b"\x89PNG"), "{name} is not a PNG");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hub-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), png).unwrap();
    if std::env::var_os("LUKA_UPDATE_SCREENSHOTS").is_some() {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
        std::fs::write(docs.join(name), png).unwrap();
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Logs in as a browser does, with the login form's token → the session cookie.
async fn log_in(url: &str) -> String {
    let page = http().get(format!("{url}/logg-inn")).send().await.unwrap();
    let login_cookie = page.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
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
        .body(format!("csrf={csrf}&name=kasserer&password={PASSWORD}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 303);
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|c| c.to_str().ok())
        .find(|c| c.starts_with("luka_hub="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

async fn get(url: &str, path: &str, cookie: &str) -> (u16, String, reqwest::header::HeaderMap) {
    let resp = http()
        .get(format!("{url}{path}"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
    (status, resp.text().await.unwrap(), headers)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tills_close_their_day_and_the_hub_lists_both_zs_and_writes_one_saft_file() {
    let rig = Rig::start().await;
    rig.hub
        .set_user("kasserer", PASSWORD, luka::hub::users::Role::Treasurer)
        .await
        .unwrap();
    let a = Till::paired(&rig, "kiosk-1").await;
    let b = Till::paired(&rig, "kiosk-2").await;
    a.ok(&["charge", "50", "--cash"]);
    a.ok(&["charge", "20", "--cash"]);
    b.ok(&["charge", "30", "--cash"]);
    // kiosk-1 counts its drawer 5 kr short; kiosk-2 closes without counting.
    let za: serde_json::Value =
        serde_json::from_str(&a.ok(&["report", "z", "--json", "--counted", "65"])).unwrap();
    let zb: serde_json::Value = serde_json::from_str(&b.ok(&["report", "z", "--json"])).unwrap();
    a.ok(&["sync"]);
    b.ok(&["sync"]);

    // Midnight must not move the day out of the range: yesterday to tomorrow.
    let today = luka::domain::local_time::to_oslo(time::OffsetDateTime::now_utc()).date();
    let (from, to) = (today.previous_day().unwrap(), today.next_day().unwrap());

    // The hub lists both Zs with the tills' own figures.
    let zs = rig.hub.z_reports(from, to).await.unwrap();
    assert_eq!(zs.len(), 2, "{zs:?}");
    let of = |till: &str| zs.iter().find(|z| z.till_id == till).unwrap();
    let (z1, z2) = (of("kiosk-1"), of("kiosk-2"));
    assert_eq!((z1.sales_count, z1.sales, z1.net), (2, 7_000, 7_000));
    assert_eq!((z2.sales_count, z2.sales, z2.net), (1, 3_000, 3_000));
    assert_eq!(z1.cash_difference, Some(-500));
    assert_eq!(z2.cash_difference, None);
    assert_eq!(z1.number, za["header"]["number"].as_i64());
    assert_eq!(
        z2.business_date,
        zb["header"]["business_date"].as_str().unwrap()
    );
    assert!(rig.hub.z_reports(from, from).await.unwrap().len() <= 2);

    // The page lists them; each one opens with its figures.
    let cookie = log_in(&rig.url()).await;
    let (status, page, _) = get(&rig.url(), &format!("/z?fra={from}&til={to}"), &cookie).await;
    assert_eq!(status, 200);
    for text in [
        "kiosk-1",
        "kiosk-2",
        "kr 70,00",
        "kr 30,00",
        "kr 100,00",
        "-5,00",
        "ikke talt",
    ] {
        assert!(page.contains(text), "{text} missing: {page}");
    }
    assert!(page.contains("href=\"/z/saft?fra="), "{page}");
    let (status, detail, _) = get(&rig.url(), &format!("/z/kiosk-1/{}", z1.seq), &cookie).await;
    assert_eq!(status, 200);
    for text in [
        "Z-rapport nr. 1 – kiosk-1",
        "kr 70,00",
        "Kontant",
        "kr 65,00",
        "-5,00",
    ] {
        assert!(detail.contains(text), "{text} missing: {detail}");
    }
    let (status, _, _) = get(&rig.url(), "/z/kiosk-1/1", &cookie).await;
    assert_eq!(status, 404, "entry 1 is no Z report");
    let (status, _, _) = get(&rig.url(), "/z", "luka_hub=nobody").await;
    assert_eq!(status, 303, "the page needs a login");

    // `luka hub export-saft`: one file, two registers, valid.
    let file = rig.dir.path().join("club.xml");
    let (code, out, err) = rig.export(&rig.config, from, to, &file);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("2 cash registers, 4 cash transactions"),
        "{out}"
    );
    let (ok, why) = xmllint(&file);
    assert!(ok, "xmllint rejected the club's file:\n{why}");
    let xml = std::fs::read_to_string(&file).unwrap();
    assert_eq!(xml.matches("<location>").count(), 1);
    let regs = registers(&xml);
    assert_eq!(regs.len(), 2);
    assert_eq!(field(regs[0], "registerID"), "kiosk-1");
    assert_eq!(field(regs[1], "registerID"), "kiosk-2");
    // kiosk-1: two sales and the counted difference (CASHDIFF, 11008).
    assert_eq!(regs[0].matches("<cashtransaction>").count(), 3);
    assert_eq!(regs[1].matches("<cashtransaction>").count(), 1);
    assert_eq!(
        (total_in(regs[0], "CASHSAL"), total_in(regs[1], "CASHSAL")),
        (7_000, 3_000)
    );
    assert_eq!(total_in(regs[0], "CASHDIFF"), -500);
    assert_eq!(
        regs[0].matches("<reportType>Z report</reportType>").count(),
        1
    );
    // Each till's signatures verify from the club's file with its key …
    assert_eq!(check_signatures(regs[0], &a.store()), 3);
    assert_eq!(check_signatures(regs[1], &b.store()), 1);
    for till in [&a, &b] {
        let (version, _, _) = till.store().read(|r| r.journal_keys()).unwrap().remove(0);
        assert!(
            xml.contains(&format!(
                "registerID {} keyVersion {version}: public key",
                till.id
            )),
            "no key of {}",
            till.id
        );
    }
    // … and each register is byte for byte the one in the till's own file.
    for (till, reg) in [(&a, regs[0]), (&b, regs[1])] {
        let own = till.own_saft(from, to);
        assert_eq!(registers(&own), vec![reg], "{}'s register differs", till.id);
    }

    // The page's download streams the same file.
    let (status, downloaded, headers) =
        get(&rig.url(), &format!("/z/saft?fra={from}&til={to}"), &cookie).await;
    assert_eq!(status, 200);
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"SAF-T Cash Register_974760673_"),
        "{disposition}"
    );
    assert_eq!(without_created(&downloaded), without_created(&xml));

    // No sales in the range: a valid file with no registers, and it says so.
    let empty = rig.dir.path().join("empty.xml");
    let day = time::macros::date!(2020 - 01 - 01);
    let (code, out, err) = rig.export(&rig.config, day, day, &empty);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("No sales"), "{err}");
    let (ok, why) = xmllint(&empty);
    assert!(ok, "the empty file does not validate:\n{why}");
    let text = std::fs::read_to_string(&empty).unwrap();
    assert!(!text.contains("<cashregister>") && !text.contains("<cashtransaction>"));

    // Refusals that write nothing: no club, and a reversed range.
    let nothing = rig.dir.path().join("nothing.xml");
    let (code, _, err) = rig.export(&rig.dir.path().join("no-club.toml"), from, to, &nothing);
    assert_ne!(code, 0);
    assert!(err.contains("[hub.club]"), "{err}");
    let (code, _, err) = rig.export(&rig.config, to, from, &nothing);
    assert_ne!(code, 0);
    assert!(err.contains("before --from"), "{err}");
    assert!(!nothing.exists());
    assert!(!rig.dir.path().join("nothing.xml.part").exists());
    let no_club = serve(
        Hub::connect(&rig._pg.url()).await.unwrap(),
        ([127, 0, 0, 1], 0).into(),
        false,
    )
    .await
    .unwrap();
    let (status, page, _) = get(
        &no_club.url(),
        &format!("/z/saft?fra={from}&til={to}"),
        &cookie,
    )
    .await;
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("[hub.club]"), "{page}");
    no_club.shutdown().await;

    // Screenshots: the list and a report, at phone and laptop width.
    let browser = support::webdriver::Browser::start(390, 844).await;
    browser.goto(&format!("{}/logg-inn", rig.url())).await;
    browser.type_into("#name", "kasserer").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("#login").await;
    assert!(browser.wait_for_url("/omsetning").await, "logged in");
    browser
        .goto(&format!("{}/z?fra={from}&til={to}", rig.url()))
        .await;
    assert!(browser.source().await.contains("kiosk-2"));
    save_screenshot("hub-z-phone.png", &browser.screenshot().await);
    browser.click("#z-list a.view").await;
    assert!(
        browser
            .wait_for_url(&format!("/z/kiosk-1/{}", z1.seq))
            .await
    );
    save_screenshot("hub-z-rapport-phone.png", &browser.screenshot().await);
    browser.resize(1280, 800).await;
    save_screenshot("hub-z-rapport-laptop.png", &browser.screenshot().await);
    browser
        .goto(&format!("{}/z?fra={from}&til={to}", rig.url()))
        .await;
    save_screenshot("hub-z-laptop.png", &browser.screenshot().await);
    browser.quit().await;
}
