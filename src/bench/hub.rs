//! `luka bench --hub`: the club's hub at scale (issue 15), on a real
//! PostgreSQL cluster of its own (fsync on, as a club's hub runs) and the
//! hub as its own `luka hub serve` process, so its memory is its own.
//!
//! 1. Offline backlog: N tills each with S sales in their journals (the
//!    same writer as `--records`, real signatures) pair at once and drain
//!    their `sync.hub` lanes together; every entry checked by the hub.
//! 2. Steady state: one sale at a time on one till, from its commit to the
//!    moment the takings page (over HTTP, logged in) shows it.
//! 3. A price changed on the hub, until every till has it: each till asks
//!    every `REFRESH_EVERY` at its own moment (as running tills do), so this
//!    is the wait a treasurer sees, bounded by that interval.
//! 4. Queries: the takings page with a million more sales stored (written
//!    straight into the hub's tables in the shape ingest gives them):
//!    today, a month and a year, all tills and one.
//! 5. The hub's peak RSS through all of it.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use crate::bookkeeping::SyncWorker;
use crate::clock::SystemClock;
use crate::hub::Hub;
use crate::hub::cluster::PgCluster;
use crate::hub::link::{HubSink, Link};
use crate::hub::users::Role;
use crate::store::Store;

pub struct HubBenchOptions {
    pub tills: usize,
    pub sales: usize,
    /// Sales stored besides the backlog for the query measures.
    pub stored_sales: usize,
}

const PASSWORD: &str = "bench-kasserer-1";

fn rss_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// CPU seconds (user + system) a process has used so far.
fn cpu_secs(pid: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            // Fields after the command name, which is in parentheses.
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
            // SAFETY: sysconf has no preconditions.
            let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
            Some(ticks / hz.max(1.0))
        })
        .unwrap_or(0.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// p50 and p95 of `samples` in ms.
fn p50_95(mut samples: Vec<f64>) -> String {
    samples.sort_by(f64::total_cmp);
    format!(
        "p50 {:.0} ms, p95 {:.0} ms ({} runs)",
        percentile(&samples, 0.5),
        percentile(&samples, 0.95),
        samples.len()
    )
}

/// The hub as its own process: `luka hub serve` on a free loopback port.
struct HubProcess {
    child: std::process::Child,
    url: String,
}

impl HubProcess {
    async fn start(dir: &Path, database_url: &str) -> anyhow::Result<HubProcess> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let config = dir.join("hub.toml");
        std::fs::write(
            &config,
            format!("[hub]\ndatabase_url = \"{database_url}\"\nlisten = \"127.0.0.1:{port}\"\n"),
        )?;
        let child = std::process::Command::new(std::env::current_exe()?)
            .arg("--config")
            .arg(&config)
            .args(["hub", "serve"])
            .env("LUKA_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()?;
        let url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        for _ in 0..200 {
            if http.get(format!("{url}/logg-inn")).send().await.is_ok() {
                return Ok(HubProcess { child, url });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!("the hub process did not answer on {url}")
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A form value as a browser sends it (percent-encoded).
fn form_value(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A logged-in browser: the session cookie.
async fn log_in(http: &reqwest::Client, url: &str) -> anyhow::Result<String> {
    let page = http.get(format!("{url}/logg-inn")).send().await?;
    let cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.split(';').next().map(str::to_string))
        .unwrap_or_default();
    let html = page.text().await?;
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_default()
        .to_string();
    let resp = http
        .post(format!("{url}/logg-inn"))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "csrf={}&name=kasserer&password={PASSWORD}",
            form_value(&csrf)
        ))
        .send()
        .await?;
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("luka_hub="))
        .and_then(|c| c.split(';').next())
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("the bench could not log in to the hub"))
}

/// The takings page's total for `query`, and how long the page took.
async fn takings_page(
    http: &reqwest::Client,
    url: &str,
    cookie: &str,
    query: &str,
) -> anyhow::Result<(String, f64)> {
    let t = Instant::now();
    let resp = http
        .get(format!("{url}/omsetning{query}"))
        .header("cookie", cookie)
        .send()
        .await?;
    anyhow::ensure!(
        resp.status().is_success(),
        "the takings page answered {}",
        resp.status()
    );
    let html = resp.text().await?;
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    let total = html
        .split("id=\"total\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap_or_default()
        .to_string();
    Ok((total, ms))
}

async fn drain(store: Arc<Store>, link: Link) -> anyhow::Result<()> {
    let sink = HubSink::new(link, Duration::from_secs(30)).map_err(anyhow::Error::msg)?;
    let worker = SyncWorker {
        store,
        clock: Arc::new(SystemClock),
        policy: crate::retry::RetryPolicy::default(),
        sinks: vec![Arc::new(sink)],
        batch: 100,
        handle: Default::default(),
    };
    let lanes = worker.drain(Duration::from_secs(30)).await?;
    if lanes
        .iter()
        .any(|l| l.status.pending > 0 || l.status.failed > 0)
    {
        anyhow::bail!("the drain left items: {lanes:?}");
    }
    Ok(())
}

/// A million sales (or `n`) in the shape ingest stores them, over the last
/// year, on ten archive tills: a journal entry, a payment and two lines each.
async fn store_archive(hub: &Hub, n: usize) -> anyhow::Result<()> {
    let client = hub.client().await?;
    let n = n as i64;
    client
        .batch_execute(
            "INSERT INTO tills (id) SELECT 'archive-' || t FROM generate_series(0, 9) t \
             ON CONFLICT DO NOTHING",
        )
        .await?;
    client
        .execute(
            "INSERT INTO journal (till_id, seq, at, kind, data) \
             SELECT 'archive-' || (g % 10), g, '2025-01-01T00:00:00Z', 'sale.paid', '{}' \
             FROM generate_series(1, $1::BIGINT) g",
            &[&n],
        )
        .await?;
    client
        .execute(
            "INSERT INTO payments (till_id, seq, business_date, hour, kind, method, amount, training) \
             SELECT 'archive-' || (g % 10), g, current_date - (g % 365)::INT, (8 + g % 14)::SMALLINT, \
                    'sale.paid', CASE WHEN g % 3 = 0 THEN 'cash' ELSE 'vipps' END, \
                    3000 + (g % 7) * 500, false \
             FROM generate_series(1, $1::BIGINT) g",
            &[&n],
        )
        .await?;
    client
        .execute(
            "INSERT INTO sale_lines (till_id, seq, business_date, hour, kind, operator, product_id, \
                                     name, grp, quantity, amount, training) \
             SELECT 'archive-' || (g % 10), g, current_date - (g % 365)::INT, (8 + g % 14)::SMALLINT, \
                    'sale.paid', '10' || (g % 20), 'vare-' || ((g + l) % 12), 'Vare ' || ((g + l) % 12), \
                    'Gruppe ' || ((g + l) % 4), 1, 1500 + (g % 7) * 250, false \
             FROM generate_series(1, $1::BIGINT) g, generate_series(0, 1) l",
            &[&n],
        )
        .await?;
    // What ingest keeps in step, summed once for the rows written here.
    crate::hub::ingest::rebuild_daily(&client).await?;
    client.batch_execute("ANALYZE;").await?;
    Ok(())
}

/// Runs the scenario and returns a markdown table.
/// Changes a price on the hub three times and measures, each time, until
/// every till's kept catalogue has the new version. Each till runs the
/// running till's look (`till_catalogue::pull`) every `REFRESH_EVERY`,
/// starting at a random moment within it, so the tills are out of step as
/// on a real club's network.
async fn catalogue_reach(
    hub: &Hub,
    tills: &[(String, Arc<Store>, Link)],
) -> anyhow::Result<String> {
    use crate::hub::catalogue::ProductInput;
    use crate::hub::till_catalogue::{load_kept, pull};
    use rand::Rng;
    let every = crate::app::REFRESH_EVERY;
    let input = |price: u32| ProductInput {
        name: "Kaffe".into(),
        group: "Kiosk".into(),
        price: price.to_string(),
        vat_code: "31".into(),
        position: "1".into(),
    };
    hub.add_product("bench-kaffe", &input(30)).await?;
    let lookers: Vec<_> = tills
        .iter()
        .map(|(_, store, _)| {
            let db = store.path().to_path_buf();
            let phase = every.mul_f64(rand::rng().random_range(0.0..1.0));
            tokio::spawn(async move {
                tokio::time::sleep(phase).await;
                loop {
                    let _ = pull(&db).await;
                    tokio::time::sleep(every).await;
                }
            })
        })
        .collect();
    let mut samples = Vec::new();
    for round in 0..3u32 {
        let version = hub
            .update_product("bench-kaffe", &input(31 + round))
            .await?;
        let t = Instant::now();
        loop {
            let behind = tills.iter().any(|(_, store, _)| {
                load_kept(store.path())
                    .ok()
                    .flatten()
                    .is_none_or(|k| k.version < version)
            });
            if !behind {
                break;
            }
            anyhow::ensure!(
                t.elapsed() < every * 4,
                "a till never got catalogue version {version}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        samples.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    for l in lookers {
        l.abort();
    }
    samples.sort_by(f64::total_cmp);
    Ok(format!(
        "{:.1} s, {:.1} s, {:.1} s (3 changes; the bound is the interval, {} s)",
        samples[0] / 1000.0,
        samples[1] / 1000.0,
        samples[2] / 1000.0,
        every.as_secs()
    ))
}

pub async fn run(opts: &HubBenchOptions) -> anyhow::Result<String> {
    let mut out = String::from("| measure | value |\n|---|---|\n");
    let mut row = |k: &str, v: String| out.push_str(&format!("| {k} | {v} |\n"));
    let dir = tempfile::tempdir()?;
    let pg = PgCluster::temporary_with(false).map_err(anyhow::Error::msg)?;
    let hub = Hub::connect(&pg.url()).await?;
    hub.set_user("kasserer", PASSWORD, Role::Treasurer).await?;
    let server = HubProcess::start(dir.path(), &pg.url()).await?;
    let peak = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (pid, peak) = (server.pid(), peak.clone());
        tokio::spawn(async move {
            loop {
                peak.fetch_max(rss_kb(pid, "VmRSS:"), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };

    // 1. The offline backlog.
    let t = Instant::now();
    let start = OffsetDateTime::now_utc() - time::Duration::hours(2);
    let mut tills = Vec::new();
    let mut entries = 0u64;
    for i in 0..opts.tills {
        let id = format!("bench-{}", i + 1);
        let store = Arc::new(Store::open(&dir.path().join(format!("{id}.db")))?);
        crate::bench::records::fill_for_books(
            &store,
            &id,
            opts.sales,
            start,
            time::Duration::hours(1),
            &Default::default(),
        )?;
        let code = hub.add_till(&id).await?;
        crate::hub::link::pair(&store, &id, &server.url, &code).await?;
        entries += store.read(|r| r.sync_lane(crate::store::HUB_LANE))?.pending as u64;
        let link = Link::load(store.path())
            .map_err(anyhow::Error::msg)?
            .ok_or_else(|| anyhow::anyhow!("{id} is not paired"))?;
        tills.push((id, store, link));
    }
    row(
        &format!(
            "write {} tills × {} sales and pair them (the backlog)",
            opts.tills, opts.sales
        ),
        format!(
            "{:.1} s, {entries} journal entries queued",
            t.elapsed().as_secs_f64()
        ),
    );
    let t = Instant::now();
    let (hub_cpu, own_cpu) = (cpu_secs(&server.pid().to_string()), cpu_secs("self"));
    let drains: Vec<_> = tills
        .iter()
        .map(|(_, store, link)| tokio::spawn(drain(store.clone(), link.clone())))
        .collect();
    for d in drains {
        d.await??;
    }
    let secs = t.elapsed().as_secs_f64();
    row(
        &format!(
            "drain all {} backlogs at once into the hub (chain and signatures checked)",
            opts.tills
        ),
        format!("{secs:.1} s ({:.0} entries/s)", entries as f64 / secs),
    );
    row(
        "CPU during the drain: the hub process / the tills' side (this process)",
        format!(
            "{:.1} s / {:.1} s (PostgreSQL's own not counted; 2 cores shared by all three)",
            cpu_secs(&server.pid().to_string()) - hub_cpu,
            cpu_secs("self") - own_cpu
        ),
    );
    let mut alerts = 0;
    for (id, store, _) in &tills {
        let on_till = store.read(|r| {
            let mut n = 0u64;
            r.chain_rows(|_| {
                n += 1;
                true
            })?;
            Ok(n)
        })?;
        let on_hub = hub.journal_of(id).await?.len() as u64;
        anyhow::ensure!(
            on_hub == on_till,
            "{id}: the hub holds {on_hub} entries, the till {on_till}"
        );
    }
    for t in hub.tills().await? {
        alerts += t.alerts.len();
    }
    row(
        "entries on the hub = entries on the tills; alerts",
        format!("yes; {alerts}"),
    );
    row(
        "hub RSS after the drain (peak so far)",
        format!("{:.0} MB", peak.load(Ordering::Relaxed) as f64 / 1024.0),
    );

    // 2. Steady state: one sale, commit → on the takings page.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let cookie = log_in(&http, &server.url).await?;
    let (store, link) = (tills[0].1.clone(), tills[0].2.clone());
    let mut samples = Vec::new();
    for _ in 0..30 {
        let (before, _) = takings_page(&http, &server.url, &cookie, "").await?;
        let t = Instant::now();
        crate::bench::records::fill_for_books(
            &store,
            &tills[0].0,
            1,
            OffsetDateTime::now_utc(),
            time::Duration::seconds(1),
            &Default::default(),
        )?;
        drain(store.clone(), link.clone()).await?;
        loop {
            let (now, _) = takings_page(&http, &server.url, &cookie, "").await?;
            if now != before {
                break;
            }
            anyhow::ensure!(
                t.elapsed() < Duration::from_secs(30),
                "the sale never showed"
            );
        }
        samples.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    row(
        "one sale: till commit → sent → on the takings page (HTTP, logged in)",
        p50_95(samples),
    );

    // 2b. A price change on the hub, until every till has it.
    row(
        &format!(
            "a price change on the hub → on all {} tills (each asks every {} s, as a running till does)",
            opts.tills,
            crate::app::REFRESH_EVERY.as_secs()
        ),
        catalogue_reach(&hub, &tills).await?,
    );

    // 3. Queries with a million more sales stored.
    let t = Instant::now();
    store_archive(&hub, opts.stored_sales).await?;
    row(
        &format!(
            "store {} more sales (journal, payments, 2 lines each) over a year",
            opts.stored_sales
        ),
        format!("{:.1} s", t.elapsed().as_secs_f64()),
    );
    let today = crate::domain::local_time::to_oslo(OffsetDateTime::now_utc()).date();
    let month = today - time::Duration::days(30);
    let year = today - time::Duration::days(364);
    for (what, query) in [
        ("takings page: today, all tills", String::new()),
        ("takings page: today, one till", "?kasse=archive-3".into()),
        (
            "takings page: the last 31 days, all tills",
            format!("?fra={month}&til={today}"),
        ),
        (
            "takings page: the last year, all tills",
            format!("?fra={year}&til={today}"),
        ),
    ] {
        let mut samples = Vec::new();
        for _ in 0..20 {
            samples.push(takings_page(&http, &server.url, &cookie, &query).await?.1);
        }
        row(what, p50_95(samples));
    }
    sampler.abort();
    row(
        "hub RSS: peak over the whole run (VmHWM)",
        format!(
            "{:.0} MB",
            rss_kb(server.pid(), "VmHWM:").max(peak.load(Ordering::Relaxed)) as f64 / 1024.0
        ),
    );
    drop(server);
    drop(pg);
    Ok(out)
}
