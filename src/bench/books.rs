//! `luka bench --books`: how long an offline day's backlog takes to reach
//! the books once the receivers are back: `--sales` paid sales queued for
//! the signed webhook, and the day's Z voucher for PowerOffice Go (the
//! in-repo simulator) and CSV. Real SQLite file (fsync on), real HTTP on
//! 127.0.0.1, the real sync worker; the receiver checks every signature.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use time::macros::datetime;

use crate::bookkeeping::webhook::{WebhookKey, WebhookSink};
use crate::bookkeeping::{Sink, SyncTargets, SyncWorker, kind};
use crate::clock::SystemClock;
use crate::domain::Money;
use crate::secret::Secret;
use crate::store::Store;

pub struct BooksBenchOptions {
    pub sales: usize,
}

#[derive(Clone)]
struct Counter {
    key: WebhookKey,
    ok: Arc<AtomicU64>,
    bad: Arc<AtomicU64>,
}

async fn receive(State(c): State<Counter>, h: HeaderMap, body: Bytes) -> StatusCode {
    let get = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).unwrap_or("");
    let ts: i64 = get("webhook-timestamp").parse().unwrap_or(0);
    if c.key.sign(get("webhook-id"), ts, &body) == get("webhook-signature") {
        c.ok.fetch_add(1, Ordering::Relaxed);
        StatusCode::NO_CONTENT
    } else {
        c.bad.fetch_add(1, Ordering::Relaxed);
        StatusCode::UNAUTHORIZED
    }
}

async fn drain(store: &Arc<Store>, sink: Arc<dyn Sink>) -> anyhow::Result<f64> {
    let lane = sink.kind();
    let worker = SyncWorker {
        store: store.clone(),
        clock: Arc::new(SystemClock),
        policy: crate::retry::RetryPolicy::default(),
        sinks: vec![sink],
        batch: 16,
        handle: Default::default(),
    };
    let t = Instant::now();
    let lanes = worker.drain(Duration::from_secs(10)).await?;
    let secs = t.elapsed().as_secs_f64();
    if lanes
        .iter()
        .any(|l| l.status.kind == lane && (l.status.pending > 0 || l.status.failed > 0))
    {
        anyhow::bail!("the drain left items: {lanes:?}");
    }
    Ok(secs)
}

/// Runs the scenario and returns a markdown table.
pub async fn run(opts: &BooksBenchOptions) -> anyhow::Result<String> {
    let mut out = String::from("| measure | value |\n|---|---|\n");
    let mut row = |k: &str, v: String| out.push_str(&format!("| {k} | {v} |\n"));
    let dir = tempfile::tempdir()?;
    let store = Arc::new(Store::open(&dir.path().join("books.db"))?);
    let targets = SyncTargets {
        webhook: true,
        voucher_kinds: vec![kind::POWEROFFICE, kind::CSV],
        accounts: Default::default(),
        training_till: false,
    };
    let start = datetime!(2024-06-01 06:00 UTC);
    let t = Instant::now();
    crate::bench::records::fill_for_books(
        &store,
        crate::bench::records::TILL,
        opts.sales,
        start,
        time::Duration::hours(14),
        &targets,
    )?;
    row(
        &format!(
            "write {} paid sales, each queued for the webhook",
            opts.sales
        ),
        format!("{:.1} s", t.elapsed().as_secs_f64()),
    );
    crate::reports::close_day_and_book(
        &store,
        crate::bench::records::TILL,
        Some(Money::nok(0)),
        &targets,
        start + time::Duration::hours(15),
    )?;

    let secret = Secret::new("whsec_YmVuY2gtd2ViaG9vay1zZWNyZXQ=");
    let key = WebhookKey::parse(&secret).map_err(anyhow::Error::msg)?;
    let counter = Counter {
        key: key.clone(),
        ok: Arc::default(),
        bad: Arc::default(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(counter.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let sink = WebhookSink::new(&url, key, Duration::from_secs(10), Arc::new(SystemClock))
        .map_err(anyhow::Error::msg)?;
    let secs = drain(&store, Arc::new(sink)).await?;
    let n = counter.ok.load(Ordering::Relaxed);
    row(
        &format!("webhook: drain {n} sale events after an offline day (batches of 16)"),
        format!("{secs:.1} s ({:.0} events/s)", n as f64 / secs),
    );
    row(
        "webhook: requests per event (signatures refused)",
        format!(
            "{:.2} ({})",
            n as f64 / opts.sales.max(1) as f64,
            counter.bad.load(Ordering::Relaxed)
        ),
    );
    server.abort();

    // PowerOffice Go: the offline day's Z voucher plus a month of earlier
    // days' vouchers that waited too (30 vouchers in all).
    for day in 1..30 {
        let v = crate::domain::voucher::transfer(
            crate::domain::voucher::VoucherKind::VippsFees,
            &format!("2024-05-{day:02}"),
            format!("VIPPS-2024-05-{day:02}-FEES"),
            format!("luka-bench-2024-05-{day:02}-fees"),
            "Vipps-gebyrer".into(),
            "NOK",
            (7770, 1903),
            1_000 + day,
        );
        store.write(|w| targets.queue_vouchers(w, &[v], start))?;
    }
    let po = crate::sim::poweroffice::start(
        ([127, 0, 0, 1], 0).into(),
        crate::sim::poweroffice::PowerOfficeSimConfig::training(),
    )
    .await?;
    let keys = po.credentials();
    let client = crate::bookkeeping::poweroffice::PowerOfficeClient::new(
        crate::bookkeeping::poweroffice::PowerOfficeSettings {
            api_base_url: po.api_base_url(),
            token_url: po.token_url(),
            application_key: keys.application_key.clone(),
            client_key: keys.client_key.clone(),
            subscription_key: keys.subscription_key.clone(),
            timeout: Duration::from_secs(10),
        },
    )?;
    let sink =
        crate::bookkeeping::poweroffice::sink::PowerOfficeSink::new(client, &Default::default());
    let secs = drain(&store, Arc::new(sink)).await?;
    let vouchers = po.vouchers().len();
    row(
        &format!("PowerOffice Go: drain {vouchers} vouchers (the day's Z + 29 waiting days)"),
        format!(
            "{:.0} ms ({:.1} ms per voucher)",
            secs * 1000.0,
            secs * 1000.0 / vouchers.max(1) as f64
        ),
    );
    row(
        "PowerOffice Go: HTTP requests per voucher (token and look-ups once)",
        format!(
            "{:.2} ({} requests for {vouchers})",
            po.requests() as f64 / vouchers.max(1) as f64,
            po.requests()
        ),
    );
    po.shutdown().await;

    let csv_dir = dir.path().join("vouchers");
    let secs = drain(
        &store,
        Arc::new(crate::bookkeeping::csv::CsvSink::new(&csv_dir)),
    )
    .await?;
    row(
        "CSV: the day's Z voucher appended",
        format!("{:.1} ms", secs * 1000.0),
    );
    Ok(out)
}
