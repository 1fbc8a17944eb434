//! The till against people and places it should not trust:
//!
//! - secrets (Vipps client secret, subscription key, access tokens,
//!   PowerOffice keys and tokens, the webhook secret, the organizer PIN)
//!   never reach stdout, stderr (at `LUKA_LOG=debug`), an error message or
//!   the SQLite files, across a whole headless day through the real binary;
//! - secret files readable by others stop the till, naming the file and the
//!   fix; production refuses plain HTTP, and loopback means loopback;
//! - the organizer PIN is an Argon2 hash with a doubling lockout, and every
//!   organizer action is journaled with the operator;
//! - a till outside training listens on no socket at all, so nothing on the
//!   network can play the customer's phone for a real payment; the training
//!   simulator's phone page is where `[training] listen` says.

use crate::support;

use std::collections::HashSet;
use std::fs;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::json;

use luka::config::Config;
use luka::domain::{Money, SaleStatus};
use luka::pin::{Attempt, FIRST_LOCKOUT, Lockout, MAX_LOCKOUT, PinHash};
use luka::printer::Connection;
use luka::sim::SimConfig;
use luka::sim::poweroffice::PowerOfficeSimConfig;
use support::webhook_receiver::Receiver;

const LUKA: &str = env!("CARGO_BIN_EXE_luka");
const PIN: &str = "903172648051";

fn unique(label: &str) -> String {
    format!("{label}-{:016x}", rand::random::<u64>())
}

fn write_secret(path: &Path, value: &str, mode: u32) {
    fs::write(path, value).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// `luka ARGS` with the config, debug logging and its output in files (a
/// debug log would fill a pipe).
fn luka(dir: &Path, name: &str, config: &Path, args: &[&str]) -> Child {
    let out = fs::File::create(dir.join(format!("{name}.stdout"))).unwrap();
    let err = fs::File::create(dir.join(format!("{name}.stderr"))).unwrap();
    Command::new(LUKA)
        .arg("--config")
        .arg(config)
        .args(args)
        .env("LUKA_LOG", "debug")
        .env_remove("LUKA_CONFIG")
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("luka runs")
}

fn output_of(dir: &Path, name: &str) -> (String, String) {
    let read = |ext: &str| fs::read_to_string(dir.join(format!("{name}.{ext}"))).unwrap();
    (read("stdout"), read("stderr"))
}

async fn finish(mut child: Child, timeout: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("luka did not finish within {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn run(dir: &Path, name: &str, config: &Path, args: &[&str]) -> (i32, String, String) {
    let status = finish(luka(dir, name, config, args), Duration::from_secs(90)).await;
    let (out, err) = output_of(dir, name);
    (status.code().unwrap_or(-1), out, err)
}

/// The TCP sockets process `pid` listens on, from `/proc`: its socket
/// inodes matched against the kernel's LISTEN entries.
fn listening_sockets(pid: u32) -> Vec<String> {
    let inodes: HashSet<String> = fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| {
            d.filter_map(|e| fs::read_link(e.ok()?.path()).ok())
                .filter_map(|l| {
                    let l = l.to_string_lossy().to_string();
                    Some(l.strip_prefix("socket:[")?.strip_suffix(']')?.to_string())
                })
                .collect()
        })
        .unwrap_or_default();
    let mut out = Vec::new();
    for table in ["tcp", "tcp6"] {
        let Ok(text) = fs::read_to_string(format!("/proc/{pid}/net/{table}")) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
            if f.len() > 9 && f[3] == "0A" && inodes.contains(f[9]) {
                out.push(format!("{table} {}", f[1]));
            }
        }
    }
    out
}

/// The port of a `/proc/net/tcp` local address (`0100007F:1F90`).
fn port_of(entry: &str) -> u16 {
    let hex = entry.rsplit(':').next().unwrap();
    u16::from_str_radix(hex, 16).unwrap()
}

/// A byte pipe to `upstream` that keeps a copy of every answer, so the test
/// learns the access tokens the till was given (the simulator's own records
/// redact them, as they should).
async fn tee_proxy(upstream: SocketAddr) -> (String, Arc<Mutex<Vec<u8>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let copy = seen.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let seen = copy.clone();
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(upstream).await else {
                    return;
                };
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                tokio::spawn(async move { tokio::io::copy(&mut cr, &mut sw).await });
                let mut buf = [0u8; 16 * 1024];
                while let Ok(n) = sr.read(&mut buf).await {
                    if n == 0 || cw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                    seen.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            });
        }
    });
    (format!("http://{addr}"), seen)
}

fn tokens_in(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    text.split("\"access_token\":\"")
        .skip(1)
        .filter_map(|t| t.split('"').next())
        .map(str::to_string)
        .collect()
}

struct Secrets {
    vipps_secret: String,
    vipps_key: String,
    webhook: String,
    po_app: String,
    po_client: String,
    po_sub: String,
}

impl Secrets {
    fn new() -> Secrets {
        Secrets {
            vipps_secret: unique("vipps-client-secret"),
            vipps_key: unique("vipps-subscription-key"),
            webhook: format!(
                "whsec_{}",
                base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 24]>())
            ),
            po_app: unique("po-application-key"),
            po_client: unique("po-client-key"),
            po_sub: unique("po-subscription-key"),
        }
    }
}

/// The secret files of a till, and a test-environment config naming them.
#[allow(clippy::too_many_arguments)]
fn till_config(
    dir: &Path,
    s: &Secrets,
    vipps_url: &str,
    client_id: &str,
    pin_hash: &str,
    webhook_url: &str,
    po_api: &str,
    po_token: &str,
) -> PathBuf {
    let secrets = dir.join("secrets");
    fs::create_dir_all(&secrets).unwrap();
    for (name, value) in [
        ("vipps-client-secret", &s.vipps_secret),
        ("vipps-subscription-key", &s.vipps_key),
        ("webhook-secret", &s.webhook),
        ("poweroffice-application-key", &s.po_app),
        ("poweroffice-client-key", &s.po_client),
        ("poweroffice-subscription-key", &s.po_sub),
    ] {
        write_secret(&secrets.join(name), value, 0o600);
    }
    let d = secrets.display();
    let text = format!(
        r#"[till]
id = "sec-1"
[store]
path = "{db}"
[vipps]
environment = "test"
base_url = "{vipps_url}"
client_id = "{client_id}"
client_secret_file = "{d}/vipps-client-secret"
subscription_key_file = "{d}/vipps-subscription-key"
merchant_serial_number = "123456"
poll_initial_delay_ms = 200
poll_interval_ms = 500
[printer]
driver = "none"
[ui]
{pin_hash}
[merchant]
name = "Luka IL"
org_number = "974760673"
[bookkeeping.webhook]
url = "{webhook_url}"
secret_file = "{d}/webhook-secret"
[bookkeeping.poweroffice]
api_base_url = "{po_api}"
token_url = "{po_token}"
application_key_file = "{d}/poweroffice-application-key"
client_key_file = "{d}/poweroffice-client-key"
subscription_key_file = "{d}/poweroffice-subscription-key"
"#,
        db = dir.join("luka.db").display(),
    );
    let path = dir.join("luka.toml");
    fs::write(&path, text).unwrap();
    path
}

/// `luka pin-hash` with the PIN on standard input: the hash line, and
/// nothing that shows the PIN.
fn pin_hash_line(dir: &Path) -> String {
    use std::io::Write;
    let mut child = Command::new(LUKA)
        .arg("pin-hash")
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{PIN}").unwrap();
    let out: Output = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stdout.starts_with("pin_hash = \"$argon2id$"), "{stdout}");
    // Standard output is the config line alone, ending its line, so it can be
    // appended to luka.toml; the hint is for the person, on standard error.
    assert!(
        stdout.ends_with("\"\n") && stdout.lines().count() == 1,
        "{stdout:?}"
    );
    assert!(stderr.contains("Put that line under [ui]"), "{stderr:?}");
    assert!(!stdout.contains(PIN) && !stderr.contains(PIN));
    stdout.trim().to_string()
}

/// The whole day through the real binary at debug level: a sale approved on
/// the simulator's admin API, a Z report, `luka sync` to the webhook and
/// PowerOffice, a verify, and a run with a wrong client secret that must
/// fail with a message. No secret may show anywhere, nor in the database.
/// While the sale waits, the till (test environment) must listen on nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_leak_and_a_real_till_listens_nowhere() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let s = Secrets::new();
    let mut sim_cfg = SimConfig::training();
    sim_cfg.client_id = unique("client-id");
    sim_cfg.client_secret = s.vipps_secret.clone();
    sim_cfg.subscription_key = s.vipps_key.clone();
    let sim = luka::sim::start(([127, 0, 0, 1], 0).into(), sim_cfg.clone())
        .await
        .unwrap();
    let (vipps_url, answers) = tee_proxy(sim.local_addr()).await;
    let mut po_cfg = PowerOfficeSimConfig::training();
    po_cfg.application_key = s.po_app.clone();
    po_cfg.client_key = s.po_client.clone();
    po_cfg.subscription_key = s.po_sub.clone();
    let po = luka::sim::poweroffice::start(([127, 0, 0, 1], 0).into(), po_cfg)
        .await
        .unwrap();
    let receiver = Receiver::start(([127, 0, 0, 1], 0).into(), &s.webhook).await;
    let pin_hash = pin_hash_line(dir);
    let config = till_config(
        dir,
        &s,
        &vipps_url,
        &sim_cfg.client_id,
        &pin_hash,
        &receiver.url(),
        &po.api_base_url(),
        &po.token_url(),
    );

    let charge = luka(
        dir,
        "charge",
        &config,
        &["charge", "150", "--timeout", "60"],
    );
    let pid = charge.id();
    let started = Instant::now();
    let reference = loop {
        if let Some(p) = sim.payments().into_iter().next() {
            break p.reference;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no payment");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        listening_sockets(pid),
        Vec::<String>::new(),
        "a till in the test environment must listen on nothing"
    );
    let approved = reqwest::Client::new()
        .post(format!(
            "{}/sim/payments/{reference}/approve",
            sim.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert!(approved.status().is_success(), "{}", approved.status());
    let status = finish(charge, Duration::from_secs(60)).await;
    let (out, err) = output_of(dir, "charge");
    assert!(status.success(), "charge failed: {out}\n{err}");
    assert!(out.contains("\"state\":\"paid\""), "{out}");

    let (code, _, err) = run(dir, "z", &config, &["report", "z", "--counted", "0"]).await;
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(dir, "sync", &config, &["sync"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(!receiver.received().is_empty(), "the webhook got nothing");
    assert!(receiver.received().iter().all(|r| r.verified));
    assert!(!po.vouchers().is_empty(), "PowerOffice got no voucher");
    let (code, _, err) = run(dir, "verify", &config, &["journal", "verify"]).await;
    assert_eq!(code, 0, "{err}");

    // Wrong client secret: the run fails, says what to check, shows nothing.
    let wrong = unique("wrong-client-secret");
    let bad_dir = dir.join("bad");
    fs::create_dir_all(&bad_dir).unwrap();
    let bad = till_config(
        &bad_dir,
        &Secrets {
            vipps_secret: wrong.clone(),
            ..Secrets::new()
        },
        &vipps_url,
        &sim_cfg.client_id,
        &pin_hash,
        &receiver.url(),
        &po.api_base_url(),
        &po.token_url(),
    );
    let (code, out, err) = run(dir, "bad", &bad, &["charge", "150", "--timeout", "20"]).await;
    assert_ne!(code, 0, "a refused client secret must fail the run: {out}");
    assert!(
        err.contains("refused the credentials") || out.contains("refused the credentials"),
        "the failure must say what to check: {out}\n{err}"
    );

    let tokens = tokens_in(&answers.lock().unwrap());
    assert!(!tokens.is_empty(), "the proxy saw no access token");
    let mut needles: Vec<(String, Vec<u8>)> = vec![
        ("Vipps client secret".into(), s.vipps_secret.clone().into()),
        ("Vipps subscription key".into(), s.vipps_key.clone().into()),
        ("wrong client secret".into(), wrong.clone().into()),
        ("webhook secret".into(), s.webhook.clone().into()),
        (
            "webhook key".into(),
            base64::engine::general_purpose::STANDARD
                .decode(s.webhook.trim_start_matches("whsec_"))
                .unwrap(),
        ),
        (
            "PowerOffice application key".into(),
            s.po_app.clone().into(),
        ),
        ("PowerOffice client key".into(), s.po_client.clone().into()),
        (
            "PowerOffice subscription key".into(),
            s.po_sub.clone().into(),
        ),
        ("organizer PIN".into(), PIN.into()),
        ("PowerOffice token".into(), b"po-sim-".to_vec()),
    ];
    for t in tokens {
        needles.push(("Vipps access token".into(), t.into_bytes()));
    }
    let mut haystacks: Vec<(String, Vec<u8>)> = Vec::new();
    for entry in fs::read_dir(dir)
        .unwrap()
        .chain(fs::read_dir(&bad_dir).unwrap())
    {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let is_output = name.ends_with(".stdout") || name.ends_with(".stderr");
        let is_db = name.contains(".db");
        if is_output || is_db {
            haystacks.push((path.display().to_string(), fs::read(&path).unwrap()));
        }
    }
    assert!(haystacks.iter().any(|(n, _)| n.ends_with("luka.db")));
    for (what, needle) in &needles {
        for (file, bytes) in &haystacks {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_slice()),
                "the {what} is in {file}"
            );
        }
    }
    for (file, bytes) in &haystacks {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains("panicked at"), "a panic in {file}");
    }
    receiver.shutdown();
    po.shutdown().await;
    sim.shutdown().await;
}

/// Every secret file, Vipps and `[bookkeeping.*]` alike: readable by group
/// or others, the real binary refuses to start, naming the file and the fix.
#[test]
fn secret_files_readable_by_others_stop_the_till() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let s = Secrets::new();
    let hash = "pin_hash = \"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$uFtn+OAWSJx8dNvqZxnBOhQ0QlqtCDAN4MDMvVjJqGs\"";
    let config = till_config(
        dir,
        &s,
        "https://apitest.vipps.no",
        "client",
        hash,
        "https://books.example.org/hook",
        "https://goapi.poweroffice.net/Demo/v2",
        "https://goapi.poweroffice.net/Demo/OAuth/Token",
    );
    let status = |name: &str| {
        let out = Command::new(LUKA)
            .arg("--config")
            .arg(&config)
            .args(["sync", "status"])
            .current_dir(dir)
            .env_remove("LUKA_CONFIG")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        (out.status.code(), err, name.to_string())
    };
    let (code, err, _) = status("all 0600");
    assert_eq!(code, Some(0), "{err}");
    let files = [
        ("vipps-client-secret", "[vipps] client_secret_file"),
        ("vipps-subscription-key", "[vipps] subscription_key_file"),
        ("webhook-secret", "[bookkeeping.webhook] secret_file"),
        (
            "poweroffice-application-key",
            "[bookkeeping.poweroffice] application_key_file",
        ),
        (
            "poweroffice-client-key",
            "[bookkeeping.poweroffice] client_key_file",
        ),
        (
            "poweroffice-subscription-key",
            "[bookkeeping.poweroffice] subscription_key_file",
        ),
    ];
    for (i, (name, key)) in files.iter().enumerate() {
        let path = dir.join("secrets").join(name);
        let mode = [0o644, 0o640, 0o604][i % 3];
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
        let (code, err, _) = status(name);
        assert_eq!(code, Some(2), "{name} at {mode:o} was accepted: {err}");
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains(key), "{err}");
        assert!(
            err.contains(&format!("chmod 600 {}", path.display())),
            "{err}"
        );
        fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).unwrap();
    }
    let (code, err, _) = status("all 0400");
    assert_eq!(code, Some(0), "owner-only read is fine: {err}");
}

const MERCHANT: &str = "[printer]\ndriver = \"network\"\naddress = \"192.168.1.50\"\n[ui]\npin_hash = \"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$uFtn+OAWSJx8dNvqZxnBOhQ0QlqtCDAN4MDMvVjJqGs\"\n[merchant]\nname = \"Luka IL\"\norg_number = \"974760673\"\n";

fn parse(env: &str, vipps_url: &str, books: &str) -> Result<Config, luka::config::ConfigError> {
    let text = format!(
        "{MERCHANT}[vipps]\nenvironment = \"{env}\"\nbase_url = \"{vipps_url}\"\nclient_id = \"a\"\n\
         client_secret = \"s\"\nsubscription_key = \"k\"\nmerchant_serial_number = \"1234\"\n{books}"
    );
    Config::parse(&text, Path::new("luka.toml"), &|_| None)
}

/// Production takes HTTPS only, for Vipps and for the books; outside
/// production plain HTTP goes to this machine only, and a host that merely
/// starts like a loopback address is not one.
#[test]
fn production_refuses_plain_http_and_loopback_means_loopback() {
    let https = "https://api.vipps.no";
    let e = parse("production", "http://127.0.0.1:9", "").unwrap_err();
    assert_eq!(e.key, "[vipps] base_url");
    let hook = |url: &str| {
        format!("[bookkeeping.webhook]\nurl = \"{url}\"\nsecret = \"whsec_c2VjcmV0\"\n")
    };
    let po = |url: &str| {
        format!(
            "[bookkeeping.poweroffice]\napi_base_url = \"{url}\"\napplication_key = \"a\"\nclient_key = \"b\"\nsubscription_key = \"c\"\n"
        )
    };
    let e = parse("production", https, &hook("http://127.0.0.1:8080/hook")).unwrap_err();
    assert_eq!(e.key, "[bookkeeping.webhook] url", "{e}");
    assert!(e.fix.contains("https://"), "{e}");
    let e = parse("production", https, &po("http://localhost:7000/v2")).unwrap_err();
    assert_eq!(e.key, "[bookkeeping.poweroffice] api_base_url", "{e}");
    assert!(parse("production", https, &hook("https://books.example.org/hook")).is_ok());

    for fake in [
        "http://127.0.0.1.example.org",
        "http://localhost.example.org:80",
        "http://127.0.0.1@example.org",
        "http://[::1].example.org",
        "http://localhost:8080@example.org/",
    ] {
        assert!(parse("test", fake, "").is_err(), "{fake} taken as loopback");
        assert!(
            parse("test", "https://apitest.vipps.no", &hook(fake)).is_err(),
            "{fake} taken as loopback for the webhook"
        );
    }
    for local in [
        "http://127.0.0.1:9",
        "http://localhost:9/x",
        "http://[::1]:9",
    ] {
        assert!(parse("test", local, "").is_ok(), "{local}");
        assert!(parse("test", https, &hook(local)).is_ok(), "{local}");
    }
}

/// The PIN is stored only as an Argon2id hash, and wrong PINs lock the
/// organizer out for 30 s after three, doubling with each further wrong PIN
/// up to 15 minutes; the right PIN ends it.
#[test]
fn pin_is_argon2_and_the_lockout_doubles() {
    let h = PinHash::create(PIN).unwrap();
    assert!(h.as_str().starts_with("$argon2id$"), "{}", h.as_str());
    assert!(!h.as_str().contains(PIN));
    assert!(h.verify(PIN) && !h.verify("903172648050"));
    assert_eq!(format!("{h:?}"), "PinHash(***)");
    assert_ne!(PinHash::create(PIN).unwrap(), h, "a fresh salt each time");

    let t0 = Instant::now();
    let mut l = Lockout::default();
    assert_eq!(l.failed(t0), None);
    assert_eq!(l.check(t0), Attempt::Allowed);
    assert_eq!(l.failed(t0), None);
    let mut now = t0;
    let mut want = FIRST_LOCKOUT;
    for _ in 0..8 {
        assert_eq!(l.failed(now), Some(want));
        assert_eq!(l.check(now), Attempt::Locked(want));
        let almost = now + want - Duration::from_millis(1);
        assert_eq!(l.check(almost), Attempt::Locked(Duration::from_millis(1)));
        now += want;
        assert_eq!(l.check(now), Attempt::Allowed);
        want = (want * 2).min(MAX_LOCKOUT);
    }
    assert_eq!(want, MAX_LOCKOUT, "the doubling reaches the ceiling");
    l.succeeded();
    assert_eq!((l.failures(), l.check(now)), (0, Attempt::Allowed));
    assert_eq!(l.failed(now), None, "the count starts over");
}

/// The organizer's refund, receipt copy, backlog retry and X/Z reports are
/// journaled with the operator logged in (and with none when nobody is).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organizer_actions_are_journaled_with_the_operator() {
    let printed = tempfile::tempdir().unwrap();
    let mut settings = support::fast_settings();
    settings.receipts.printer = Some(Connection::File {
        path: printed.path().join("printer.bin"),
    });
    let rig = support::rig_with(SimConfig::training(), settings).await;
    let store = rig.store.clone();
    let sale = rig
        .kiosk
        .start_vipps_sale(&support::tickets(1, 0), "")
        .unwrap();
    support::wait_created(&rig.sim, &sale.reference).await;
    rig.sim.approve(&sale.reference).unwrap();
    let paid = rig
        .kiosk
        .wait_final(sale.id, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(paid.status, SaleStatus::Paid);
    assert!(
        rig.kiosk
            .wait_settled(Duration::from_secs(20))
            .await
            .unwrap()
    );

    let now = time::OffsetDateTime::now_utc();
    store
        .write(|w| {
            w.journal(
                luka::domain::journal::JournalKind::OperatorLogin,
                None,
                json!({"operator": "organizer"}),
                now,
            )
        })
        .unwrap();
    rig.kiosk
        .refund(sale.id, Money::nok(5_000), "Feil vare")
        .unwrap();
    rig.kiosk.print_copy(sale.id).unwrap();
    rig.kiosk.retry_backlog().unwrap();
    luka::reports::x_report(&store, "test-till", now).unwrap();
    luka::reports::close_day(&store, "test-till", Some(Money::nok(0)), now).unwrap();
    store
        .write(|w| {
            w.journal(
                luka::domain::journal::JournalKind::OperatorLogout,
                None,
                json!({"operator": "organizer"}),
                now,
            )
        })
        .unwrap();
    luka::reports::x_report(&store, "test-till", now).unwrap();

    let entries = store.read(|r| r.journal_entries(None)).unwrap();
    let operator_of = |kind: &str| -> Vec<serde_json::Value> {
        entries
            .iter()
            .filter(|e| e.kind == kind)
            .map(|e| {
                e.data
                    .get("operator")
                    .cloned()
                    .unwrap_or_else(|| json!("<missing>"))
            })
            .collect()
    };
    assert_eq!(operator_of("refund.requested"), vec![json!("organizer")]);
    assert_eq!(
        operator_of("receipt.copy_requested"),
        vec![json!("organizer")]
    );
    assert_eq!(
        operator_of("outbox.retry_requested"),
        vec![json!("organizer")]
    );
    assert_eq!(operator_of("report.z"), vec![json!("organizer")]);
    assert_eq!(
        operator_of("report.x"),
        vec![json!("organizer"), serde_json::Value::Null],
        "after the log-out nobody is the operator"
    );
    rig.stop().await;
}

/// Training: the simulator (phone page and `/sim` admin) listens where
/// `[training] listen` says and the till's other listener (the training
/// PowerOffice simulator) only on loopback; the phone page plays the
/// customer. Outside training nothing listens: see
/// `secrets_never_leak_and_a_real_till_listens_nowhere`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_training_simulator_listens_and_where_configured() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let config = dir.join("luka.toml");
    fs::write(
        &config,
        "[training]\nlisten = \"127.0.0.1:0\"\n[vipps]\npoll_initial_delay_ms = 200\npoll_interval_ms = 500\n",
    )
    .unwrap();
    let charge = luka(
        dir,
        "training",
        &config,
        &["charge", "50", "--timeout", "60"],
    );
    let pid = charge.id();
    let started = Instant::now();
    let link = loop {
        let (_, err) = output_of(dir, "training");
        if let Some(l) = err
            .lines()
            .find_map(|l| l.split("play the customer: ").nth(1))
        {
            break l.trim().to_string();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no phone link: {err}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let listening = listening_sockets(pid);
    assert!(!listening.is_empty(), "the training simulator must listen");
    for entry in &listening {
        let local = entry.split(' ').nth(1).unwrap();
        let loopback = local.starts_with("0100007F:")
            || local.starts_with("00000000000000000000000001000000:");
        assert!(loopback, "{entry} is not on loopback");
    }
    let url = reqwest::Url::parse(&link).unwrap();
    assert_eq!(url.host_str(), Some("127.0.0.1"));
    assert!(
        listening.iter().any(|e| port_of(e) == url.port().unwrap()),
        "the phone page is not on the configured listener: {listening:?}"
    );
    let http = reqwest::Client::new();
    let page = http.get(url.clone()).send().await.unwrap();
    assert!(page.status().is_success());
    let approve = http.post(format!("{link}/approve")).send().await.unwrap();
    assert!(approve.status().is_success() || approve.status().is_redirection());
    let status = finish(charge, Duration::from_secs(60)).await;
    let (out, err) = output_of(dir, "training");
    assert!(status.success(), "{out}\n{err}");
    assert!(out.contains("\"training\":true"), "{out}");
}

/// This machine's address on its network, if it has one besides loopback.
fn lan_ip() -> Option<std::net::IpAddr> {
    let s = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    s.connect("192.0.2.1:9").ok()?; // TEST-NET-1: picks the route, sends nothing
    let ip = s.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

/// The training simulator listens on the LAN by default (`0.0.0.0`), so a
/// phone can open its own payment's page; its `/sim` remote control (list
/// every payment with its phone link, answer for the customer, faults,
/// ledger edits) answers this machine only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulators_remote_control_answers_this_machine_only() {
    let config = Config::parse("", Path::new("(built-in defaults)"), &|_| None).unwrap();
    assert_eq!(
        config.training.listen,
        "0.0.0.0:0".parse::<SocketAddr>().unwrap(),
        "the documented default: phones on the LAN reach the phone page"
    );
    let sim = luka::sim::start(config.training.listen, SimConfig::training())
        .await
        .unwrap();
    let port = sim.local_addr().port();
    let http = reqwest::Client::new();
    let local = http
        .get(format!("http://127.0.0.1:{port}/sim/payments"))
        .send()
        .await
        .unwrap();
    assert_eq!(local.status(), 200);
    let Some(ip) = lan_ip() else {
        eprintln!("no LAN address on this machine: only the loopback half is checked");
        return;
    };
    let host = SocketAddr::new(ip, port);
    for (method, path) in [
        ("GET", "/sim/payments"),
        ("POST", "/sim/payments/any-reference-1/approve"),
        ("POST", "/sim/faults"),
        ("POST", "/sim/report/entries"),
    ] {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = http
            .request(m, format!("http://{host}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{method} {path} from {ip}");
    }
    let phone = http
        .get(format!("http://{host}/phone/no-such-token"))
        .send()
        .await
        .unwrap();
    assert_ne!(
        phone.status(),
        403,
        "the phone page stays reachable on the LAN"
    );
    sim.shutdown().await;
}
