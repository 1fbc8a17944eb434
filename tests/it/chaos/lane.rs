//! One till's part of the campaign: sell with `luka charge`, SIGKILL it at a
//! random instant (or let it kill itself at a crash point), look at what the
//! kill left on disk, restart with `luka resume` (killed too, sometimes),
//! drain the books with `luka sync` (likewise), and check the database after
//! every restart. Every process's stdout and stderr is scanned for secrets
//! as soon as it ends.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use luka::printer::sim::PrinterSim;
use luka::sim::SimHandle;
use luka::vipps::dto::State;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::needles::Needles;
use super::proxy::Proxy;
use super::till::{Kill, Run, Secrets, Till, run};
use super::wal;

/// The crash points the kiosk has (`FAILPOINTS=<point>=return`; every test
/// build has the `failpoints` feature).
pub const CRASH_POINTS: [&str; 3] = ["after_sale_commit", "after_create", "after_authorized"];

/// A hung process is killed after this; it counts as a violation.
const LIMIT: Duration = Duration::from_secs(40);

/// What the campaign counted, over all lanes.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub kills: usize,
    pub kills_by_command: BTreeMap<String, usize>,
    /// What each kill interrupted, as read from the disk afterwards.
    pub interrupted: BTreeMap<String, usize>,
    pub restarts: usize,
    pub integrity_checks: usize,
    pub processes: usize,
    pub log_bytes: usize,
    pub violations: Vec<String>,
}

/// Shared by every lane: the kill budget and the tallies.
pub struct Shared {
    pub target_kills: usize,
    kills: AtomicUsize,
    pub stats: Mutex<Stats>,
    pub secrets: Secrets,
    /// The secrets plus every access token issued so far.
    pub needles: Mutex<Needles>,
    pub proxy: Proxy,
    pub sim: SimHandle,
}

impl Shared {
    pub fn new(target_kills: usize, secrets: Secrets, proxy: Proxy, sim: SimHandle) -> Shared {
        Shared {
            target_kills,
            kills: AtomicUsize::new(0),
            stats: Mutex::default(),
            needles: Mutex::new(secrets.needle_set()),
            secrets,
            proxy,
            sim,
        }
    }

    fn done(&self) -> bool {
        self.kills.load(Ordering::Relaxed) >= self.target_kills
    }

    fn tally(&self, f: impl FnOnce(&mut Stats)) {
        f(&mut self.stats.lock().unwrap());
    }

    fn violation(&self, v: String) {
        eprintln!("VIOLATION: {v}");
        self.tally(|s| s.violations.push(v));
    }
}

/// One till and what its processes told us.
pub struct Lane {
    pub till: Till,
    pub printer: PrinterSim,
    /// References a `luka charge` announced as started (the sale is committed
    /// before it says so): each must end paid or unpaid.
    pub announced: BTreeSet<String>,
    /// The JSON outcome lines `luka charge` printed.
    pub outcomes: Vec<serde_json::Value>,
    /// Log lines that name each reference, to prove the logs were real.
    pub logs_naming_sales: usize,
    rng: StdRng,
}

impl Lane {
    pub fn new(till: Till, printer: PrinterSim, seed: u64) -> Lane {
        Lane {
            till,
            printer,
            announced: BTreeSet::new(),
            outcomes: Vec::new(),
            logs_naming_sales: 0,
            rng: StdRng::seed_from_u64(seed),
        }
    }

    fn random_amount(&mut self) -> String {
        let kr = self.rng.random_range(10..=500);
        match self.rng.random_range(0..4) {
            0 => format!("{kr},50"),
            _ => kr.to_string(),
        }
    }

    /// Runs one process and takes in what it printed.
    async fn launch(
        &mut self,
        sh: &Shared,
        args: &[&str],
        crash_at: Option<&str>,
        kill: Kill,
    ) -> Run {
        let r = run(self.till.command(args, crash_at), kill, LIMIT).await;
        let name = args[0];
        if r.hung {
            sh.violation(format!(
                "{}: `luka {name}` still running after {LIMIT:?}",
                self.till.id
            ));
        }
        // A token is issued to this process and used only by it, so the
        // proxy knows it by the time the process has ended.
        let leaked = {
            let mut needles = sh.needles.lock().unwrap();
            for t in sh.proxy.tokens() {
                needles.add(&t);
            }
            needles.found_in(r.stdout.as_bytes()) || needles.found_in(r.stderr.as_bytes())
        };
        if leaked {
            sh.violation(format!("{}: `luka {name}` printed a secret", self.till.id));
        }
        for line in r.stderr.lines() {
            if let Some(rest) = line.strip_prefix("Sale ")
                && let Some((reference, _)) = rest.split_once(' ')
            {
                self.announced.insert(reference.to_string());
                // The debug log follows the sale by its reference too.
                if r.stderr.contains(&format!("reference={reference}")) {
                    self.logs_naming_sales += 1;
                }
            }
        }
        if name == "charge" {
            self.outcomes.extend(r.json_lines());
        }
        sh.tally(|s| {
            s.processes += 1;
            s.log_bytes += r.stdout.len() + r.stderr.len();
        });
        if r.killed && !r.hung {
            self.observe_kill(sh, name, crash_at);
        }
        if !r.killed && !r.status.success() && r.status.code() == Some(2) {
            sh.violation(format!(
                "{}: `luka {name}` failed: {}",
                self.till.id,
                r.stderr.lines().last().unwrap_or_default()
            ));
        }
        r
    }

    /// What the kill interrupted, read from the disk before any restart.
    fn observe_kill(&mut self, sh: &Shared, command: &str, crash_at: Option<&str>) {
        let mut what = Vec::new();
        if let Some(point) = crash_at {
            what.push(format!("crash point {point}"));
        }
        if wal::inspect(&self.till.db).mid_write() {
            what.push("a SQLite transaction being written".to_string());
        }
        for kind in self.till.in_flight_kinds() {
            let lane = match kind.split('.').next() {
                Some("vipps") => "an HTTP call to Vipps",
                Some("print") => "a receipt being printed",
                Some("sync") => "a webhook delivery",
                _ => "other outbox work",
            };
            what.push(format!("{lane} ({kind})"));
        }
        if what.is_empty() {
            what.push(format!(
                "`luka {command}` between steps (starting, polling, stopping)"
            ));
        }
        what.dedup();
        let integrity = self.till.integrity();
        if integrity != "ok" {
            sh.violation(format!(
                "{}: integrity_check after a kill: {integrity}",
                self.till.id
            ));
        }
        sh.kills.fetch_add(1, Ordering::Relaxed);
        sh.tally(|s| {
            s.kills += 1;
            s.integrity_checks += 1;
            *s.kills_by_command.entry(command.to_string()).or_default() += 1;
            for w in what {
                *s.interrupted.entry(w).or_default() += 1;
            }
        });
    }

    /// After a process ended (or was killed): the database must be sound.
    fn check_after_restart(&self, sh: &Shared) {
        let integrity = self.till.integrity();
        if integrity != "ok" {
            sh.violation(format!(
                "{}: integrity_check after a restart: {integrity}",
                self.till.id
            ));
        }
        sh.tally(|s| {
            s.restarts += 1;
            s.integrity_checks += 1;
        });
    }

    /// A kill with probability `p`, uniformly within `ms` of the start.
    fn maybe_at(&mut self, p: f64, ms: u64) -> Kill {
        if self.rng.random_bool(p) {
            Kill::At(Duration::from_millis(self.rng.random_range(0..ms)))
        } else {
            Kill::Never
        }
    }

    /// How a `luka charge` dies: at one of its crash points, at a uniformly
    /// random instant, or aimed at a phase of its sale (just after Vipps
    /// captured: recording, printing, syncing; or after the approval:
    /// polling and the capture call), or not at all.
    fn pick_kill(&mut self, sh: &Shared) -> (Option<&'static str>, Kill) {
        let ms = |rng: &mut StdRng, max: u64| Duration::from_millis(rng.random_range(0..max));
        let sim = sh.sim.clone();
        match self.rng.random_range(0..100) {
            0..10 => {
                let point = CRASH_POINTS[self.rng.random_range(0..CRASH_POINTS.len())];
                (Some(point), Kill::Never)
            }
            10..55 => (None, Kill::At(ms(&mut self.rng, 1500))),
            55..80 => {
                let captured = move |r: &str| sim.payment(r).is_some_and(|p| p.captures > 0);
                (None, Kill::When(Arc::new(captured), ms(&mut self.rng, 60)))
            }
            80..90 => {
                let approved =
                    move |r: &str| sim.payment(r).is_some_and(|p| p.state == State::Authorized);
                (None, Kill::When(Arc::new(approved), ms(&mut self.rng, 700)))
            }
            _ => (None, Kill::Never),
        }
    }

    /// Sells until the campaign has its kills.
    pub async fn run(&mut self, sh: &Shared) {
        while !sh.done() {
            let amount = self.random_amount();
            let (crash_at, kill) = self.pick_kill(sh);
            let r = self
                .launch(sh, &["charge", &amount, "--timeout", "6"], crash_at, kill)
                .await;
            if r.killed {
                self.restart(sh).await;
            } else {
                self.check_after_restart(sh);
            }
            if self.rng.random_bool(0.25) {
                let kill = self.maybe_at(0.5, 600);
                self.launch(sh, &["sync", "--patience", "2"], None, kill)
                    .await;
                self.check_after_restart(sh);
            }
        }
    }

    /// `luka resume` after a kill, itself killed now and then.
    async fn restart(&mut self, sh: &Shared) {
        for _ in 0..4 {
            let kill = self.maybe_at(0.3, 800);
            let r = self
                .launch(sh, &["resume", "--timeout", "6"], None, kill)
                .await;
            self.check_after_restart(sh);
            if !r.killed {
                return;
            }
        }
    }

    /// The end of the day: settle everything, deliver the books, verify the
    /// journal. Nothing is killed any more.
    pub async fn finish(&mut self, sh: &Shared) {
        let mut settled = false;
        for _ in 0..4 {
            let r = self
                .launch(sh, &["resume", "--timeout", "30"], None, Kill::Never)
                .await;
            self.check_after_restart(sh);
            if r.status.success() {
                settled = true;
                break;
            }
        }
        if !settled {
            sh.violation(format!(
                "{}: `luka resume` never settled every sale",
                self.till.id
            ));
        }
        let mut drained = false;
        for _ in 0..3 {
            let r = self
                .launch(sh, &["sync", "--patience", "5"], None, Kill::Never)
                .await;
            self.check_after_restart(sh);
            if r.status.success() {
                drained = true;
                break;
            }
        }
        if !drained {
            sh.violation(format!("{}: `luka sync` left items waiting", self.till.id));
        }
        let r = self
            .launch(sh, &["journal", "verify"], None, Kill::Never)
            .await;
        if !r.status.success() {
            sh.violation(format!(
                "{}: `luka journal verify` failed: {}{}",
                self.till.id, r.stdout, r.stderr
            ));
        }
    }
}
