//! A till on disk for the campaign: `luka.toml` (test environment, network
//! printer, signed webhook), its secrets in 0600 files, and the real `luka`
//! binary run with `LUKA_LOG=debug`, killable with SIGKILL at any instant.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use luka::sim::SimConfig;
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncReadExt};

/// The secrets of a campaign, fresh random strings so a scan for them in
/// logs and files cannot match anything by accident.
#[derive(Debug, Clone)]
pub struct Secrets {
    pub client_secret: String,
    pub subscription_key: String,
    /// `whsec_` + base64 of the key bytes.
    pub webhook_secret: String,
}

fn random_hex(bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

impl Secrets {
    pub fn random() -> Secrets {
        let key: [u8; 24] = rand::random();
        Secrets {
            client_secret: format!("cs-{}", random_hex(16)),
            subscription_key: format!("sk-{}", random_hex(16)),
            webhook_secret: format!(
                "whsec_{}",
                base64::engine::general_purpose::STANDARD.encode(key)
            ),
        }
    }

    /// Every string that must never appear in a log or the database.
    pub fn needles(&self) -> Vec<String> {
        let b64 = self.webhook_secret.trim_start_matches("whsec_").to_string();
        vec![
            self.client_secret.clone(),
            self.subscription_key.clone(),
            self.webhook_secret.clone(),
            b64,
        ]
    }

    pub fn needle_set(&self) -> super::needles::Needles {
        let mut n = super::needles::Needles::default();
        for s in self.needles() {
            n.add(&s);
        }
        n
    }

    /// The simulator's merchant with these secrets and a short payment life.
    pub fn sim_config(&self, payment_lifetime: Duration, seed: u64) -> SimConfig {
        SimConfig {
            client_secret: self.client_secret.clone(),
            subscription_key: self.subscription_key.clone(),
            payment_lifetime,
            seed,
            ..SimConfig::training()
        }
    }
}

/// The argon2 hash of PIN 1234 (outside training a PIN is required).
const PIN_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$uFtn+OAWSJx8dNvqZxnBOhQ0QlqtCDAN4MDMvVjJqGs";

/// What a till is pointed at.
pub struct Wiring<'a> {
    pub vipps_url: &'a str,
    pub printer: Option<std::net::SocketAddr>,
    pub webhook_url: Option<&'a str>,
    /// Seconds: the payment lifetime the till assumes, and its margin.
    pub payment_lifetime_secs: u64,
    pub expiry_margin_secs: u64,
}

pub struct Till {
    pub dir: tempfile::TempDir,
    pub id: String,
    pub config: PathBuf,
    pub db: PathBuf,
}

fn secret_file(dir: &Path, name: &str, value: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, value).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

impl Till {
    pub fn new(id: &str, secrets: &Secrets, w: &Wiring<'_>) -> Till {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("luka.db");
        let cs = secret_file(dir.path(), "client-secret", &secrets.client_secret);
        let sk = secret_file(dir.path(), "subscription-key", &secrets.subscription_key);
        let ws = secret_file(dir.path(), "webhook-secret", &secrets.webhook_secret);
        let c = SimConfig::training();
        let printer = match w.printer {
            Some(addr) => format!("driver = \"network\"\naddress = \"{addr}\"\nwidth_mm = 80\n"),
            None => "driver = \"none\"\n".into(),
        };
        let webhook = w
            .webhook_url
            .map(|url| {
                format!(
                    "\n[bookkeeping.webhook]\nurl = \"{url}\"\nsecret_file = \"{}\"\ntimeout_ms = 2000\n",
                    ws.display()
                )
            })
            .unwrap_or_default();
        let text = format!(
            "[till]\nid = \"{id}\"\n\n[ui]\npin_hash = \"{PIN_HASH}\"\n\n\
             [merchant]\nname = \"Campaign IL\"\norg_number = \"974760673\"\n\n\
             [printer]\n{printer}\n[store]\npath = \"{db}\"\n\n\
             [vipps]\nenvironment = \"test\"\nbase_url = \"{url}\"\nclient_id = \"{cid}\"\n\
             client_secret_file = \"{cs}\"\nsubscription_key_file = \"{sk}\"\n\
             merchant_serial_number = \"{msn}\"\npoll_initial_delay_ms = 50\n\
             poll_interval_ms = 500\npayment_lifetime_secs = {life}\n\
             expiry_margin_secs = {margin}\nrequest_timeout_ms = 2000\n{webhook}",
            db = db.display(),
            url = w.vipps_url,
            cid = c.client_id,
            cs = cs.display(),
            sk = sk.display(),
            msn = c.merchant_serial_number,
            life = w.payment_lifetime_secs,
            margin = w.expiry_margin_secs,
        );
        let config = dir.path().join("luka.toml");
        std::fs::write(&config, text).unwrap();
        Till {
            dir,
            id: id.to_string(),
            config,
            db,
        }
    }

    /// `luka --config <this till> args…`, logging at debug level.
    pub fn command(&self, args: &[&str], crash_at: Option<&str>) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_luka"));
        cmd.arg("--config").arg(&self.config).args(args);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env("LUKA_LOG", "debug")
            .env_remove("FAILPOINTS")
            .env_remove("LUKA_VIPPS_CLIENT_SECRET")
            .env_remove("LUKA_VIPPS_SUBSCRIPTION_KEY")
            .kill_on_drop(true);
        if let Some(point) = crash_at {
            cmd.env("FAILPOINTS", format!("{point}=return"));
        }
        cmd
    }

    /// A read-only look at the database file, as it is on disk now. Being
    /// read-only it never checkpoints or deletes the WAL, so the next start
    /// of the till finds exactly what the kill left.
    pub fn peek(&self) -> rusqlite::Connection {
        let c = rusqlite::Connection::open_with_flags(
            &self.db,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .unwrap();
        c.busy_timeout(Duration::from_secs(5)).unwrap();
        c
    }

    /// `PRAGMA integrity_check` on the file as it is.
    pub fn integrity(&self) -> String {
        if !self.db.exists() {
            return "ok".into();
        }
        self.peek()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap_or_else(|e| format!("cannot check: {e}"))
    }

    /// The kinds of outbox items a kill left in flight.
    pub fn in_flight_kinds(&self) -> Vec<String> {
        if !self.db.exists() {
            return Vec::new();
        }
        let c = self.peek();
        let Ok(mut stmt) = c.prepare("SELECT kind FROM outbox WHERE status = 'in_flight'") else {
            return Vec::new();
        };
        stmt.query_map([], |r| r.get(0))
            .map(|rows| rows.filter_map(Result::ok).collect())
            .unwrap_or_default()
    }

    pub fn sale_count(&self) -> i64 {
        if !self.db.exists() {
            return 0;
        }
        self.peek()
            .query_row("SELECT COUNT(*) FROM sales", [], |r| r.get(0))
            .unwrap_or(0)
    }
}

/// The log without its colour codes (tracing colours field names even
/// into a pipe), so a test can read `reference=…`.
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// How one process ended and what it said (stderr without colour codes).
#[derive(Debug)]
pub struct Run {
    pub status: ExitStatus,
    /// Killed by SIGKILL (from us or from its own crash point).
    pub killed: bool,
    /// Still running at `limit`, so killed: a hung till.
    pub hung: bool,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

/// When to SIGKILL a process.
#[derive(Clone)]
pub enum Kill {
    Never,
    /// This long after the start.
    At(Duration),
    /// Once the sale it announced (`Sale <reference> started.`) makes the
    /// predicate true (checked every few milliseconds), plus a delay: a kill
    /// aimed at a phase of the sale (after the capture: printing, syncing).
    When(Arc<dyn Fn(&str) -> bool + Send + Sync>, Duration),
}

/// Runs `cmd` and SIGKILLs it as `kill` says, and after `limit` in any
/// case (a hung till: `Run::hung`).
pub async fn run(mut cmd: tokio::process::Command, kill: Kill, limit: Duration) -> Run {
    let started = Instant::now();
    let mut child = cmd.spawn().expect("luka starts");
    let mut out = child.stdout.take().unwrap();
    let err = child.stderr.take().unwrap();
    let out_task = tokio::spawn(async move {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s).await;
        s
    });
    let (sale_tx, sale_rx) = tokio::sync::watch::channel(None::<String>);
    let err_task = tokio::spawn(async move {
        let mut reader = tokio::io::BufReader::new(err);
        let mut s = String::new();
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let line = String::from_utf8_lossy(&buf);
            let line = line.trim_end_matches('\n');
            if let Some(rest) = line.strip_prefix("Sale ")
                && let Some((reference, _)) = rest.split_once(' ')
            {
                let _ = sale_tx.send(Some(reference.to_string()));
            }
            s.push_str(line);
            s.push('\n');
        }
        s
    });
    let deadline = tokio::time::Instant::now() + limit;
    let mut hung = false;
    let status = loop {
        let (wake_at, predicate) = match &kill {
            Kill::Never => (deadline, None),
            Kill::At(d) => (
                (tokio::time::Instant::from_std(started) + *d).min(deadline),
                None,
            ),
            Kill::When(p, _) => (
                (tokio::time::Instant::now() + Duration::from_millis(3)).min(deadline),
                Some(p),
            ),
        };
        tokio::select! {
            s = child.wait() => break s.unwrap(),
            _ = tokio::time::sleep_until(wake_at) => {}
        }
        let fire = match (&kill, predicate) {
            (Kill::When(_, delay), Some(p)) => {
                let reference = sale_rx.borrow().clone();
                if reference.is_some_and(|r| p(&r)) {
                    tokio::time::sleep(*delay).await;
                    true
                } else {
                    false
                }
            }
            _ => true,
        };
        if tokio::time::Instant::now() >= deadline {
            hung = true;
        }
        if fire || hung {
            let _ = child.start_kill();
            break child.wait().await.unwrap();
        }
    };
    let stdout = String::from_utf8_lossy(&out_task.await.unwrap()).into_owned();
    let stderr = strip_ansi(&err_task.await.unwrap());
    Run {
        killed: status.signal() == Some(libc::SIGKILL),
        hung,
        status,
        stdout,
        stderr,
        elapsed: started.elapsed(),
    }
}
