//! Vipps webhooks through the club's hub (issue 16 part 6): the hub on a
//! throwaway PostgreSQL cluster registers its webhook at the Vipps
//! simulator, a paired till keeps the hub's event stream open, and the
//! customer's approval reaches "Betalt" by the hint, long before the till's
//! first poll. Forged, changed, old and replayed deliveries change nothing;
//! a hub that is down leaves the till selling by polling. All on 127.0.0.1.
//!
//! No timed assertions: the till's first poll is minutes away, so a sale
//! paid with exactly one read of its payment was paid by the hint.

use crate::support::{self, eventually, tickets};

use std::sync::Arc;
use std::time::Duration;

use luka::app::training_credentials;
use luka::config::HubVipps;
use luka::hub::Hub;
use luka::hub::web::{Serving, serve};
use luka::kiosk::{Kiosk, KioskEvent, Running};
use luka::secret::Secret;
use luka::sim::{SimConfig, SimHandle};
use luka::store::Store;
use luka::vipps::webhooks::{WebhooksClient, host_and_path, sign};
use support::pg::PgCluster;

const TILL: &str = "wh-1";
const WAIT: Duration = Duration::from_secs(30);

struct Rig {
    hub: Hub,
    serving: Option<Serving>,
    hub_url: String,
    sim: SimHandle,
    kiosk: Kiosk,
    running: Option<Running>,
    stop_events: tokio::sync::watch::Sender<bool>,
    events: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
    _pg: PgCluster,
}

fn unit(sim: &SimHandle) -> HubVipps {
    HubVipps {
        base_url: sim.base_url(),
        credentials: training_credentials(&SimConfig::training()),
    }
}

impl Rig {
    /// The hub registered at the simulator, and a till paired with it whose
    /// first poll of a payment is `first_poll` after its create.
    async fn start(first_poll: Duration) -> Rig {
        let pg = PgCluster::start();
        let hub = Hub::connect(&pg.url())
            .await
            .unwrap()
            .with_stream_recheck(Duration::from_millis(200));
        let serving = serve(hub.clone(), ([127, 0, 0, 1], 0).into(), false)
            .await
            .unwrap();
        let hub_url = serving.url();
        let sim = luka::sim::start(([127, 0, 0, 1], 0).into(), SimConfig::training())
            .await
            .unwrap();
        let done = hub
            .register_vipps_webhooks(&hub_url, &[unit(&sim)])
            .await
            .unwrap();
        assert_eq!(done[0].outcome, "registered");

        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("luka.db");
        let store = Arc::new(Store::open(&db).unwrap());
        let code = hub.add_till(TILL).await.unwrap();
        luka::hub::link::pair(&store, TILL, &hub_url, &code)
            .await
            .unwrap();
        let settings = luka::kiosk::KioskSettings {
            till_id: TILL.into(),
            poll_initial_delay: first_poll,
            ..support::fast_settings()
        };
        let (kiosk, running) = luka::app::start_vipps_kiosk(
            store,
            &sim.base_url(),
            training_credentials(&SimConfig::training()),
            Duration::from_secs(5),
            settings,
        )
        .unwrap();
        let (stop_events, stopped) = tokio::sync::watch::channel(false);
        let k = kiosk.clone();
        let events = luka::hub::till_events::spawn(
            db,
            move |r| {
                k.hint(r);
            },
            false,
            stopped,
        );
        assert!(
            eventually(WAIT, || hub.event_stream_open(TILL)).await,
            "the till never opened its event stream"
        );
        Rig {
            hub,
            serving: Some(serving),
            hub_url,
            sim,
            kiosk,
            running: Some(running),
            stop_events,
            events: Some(events),
            _dir: dir,
            _pg: pg,
        }
    }

    /// Starts a Vipps sale and waits until its QR is up; its reference.
    async fn sale_shown(&self) -> (i64, String) {
        let mut events = self.kiosk.subscribe();
        let sale = self.kiosk.start_vipps_sale(&tickets(1, 0), "").unwrap();
        loop {
            match tokio::time::timeout(WAIT, events.recv()).await {
                Ok(Ok(KioskEvent::QrReady { sale_id, .. })) if sale_id == sale.id => break,
                Ok(_) => {}
                Err(_) => panic!("the sale's QR never came"),
            }
        }
        (sale.id, sale.reference)
    }

    fn reads(&self, reference: &str) -> u64 {
        self.sim
            .stats()
            .reads_per_reference
            .get(reference)
            .copied()
            .unwrap_or(0)
    }

    async fn post(&self, headers: &[(&str, &str)], body: &str) -> (u16, serde_json::Value) {
        let mut req = reqwest::Client::new()
            .post(format!("{}/vipps/webhook", self.hub_url))
            .body(body.to_string());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or_default())
    }

    async fn stop(mut self) {
        let _ = self.stop_events.send(true);
        if let Some(t) = self.events.take() {
            t.await.unwrap();
        }
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
        if let Some(s) = self.serving.take() {
            s.shutdown().await;
        }
    }
}

/// An AUTHORIZED event for `reference`, as the simulator sends it.
fn event(reference: &str) -> String {
    serde_json::json!({
        "msn": "123456",
        "reference": reference,
        "pspReference": "1234567890",
        "name": "AUTHORIZED",
        "amount": { "currency": "NOK", "value": 15000 },
        "timestamp": "2026-12-07T08:00:00Z",
        "idempotencyKey": null,
        "success": true,
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn approval_reaches_betalt_through_the_hub_before_the_first_poll() {
    // The first poll would come five minutes after the create.
    let rig = Rig::start(Duration::from_secs(300)).await;
    let (sale_id, reference) = rig.sale_shown().await;
    assert_eq!(rig.reads(&reference), 0);
    rig.sim.approve(&reference).unwrap();
    let sale = rig.kiosk.wait_final(sale_id, WAIT).await.unwrap();
    assert_eq!(
        sale.status,
        luka::domain::SaleStatus::Paid,
        "the hint never made the till read the payment"
    );
    // Paid on the one read the hint caused: no poll came.
    assert_eq!(rig.reads(&reference), 1);
    // The hub answered the delivery (its answer may reach the simulator
    // after the till was paid: the hint goes first).
    assert!(
        eventually(WAIT, || rig.sim.webhook_deliveries().iter().any(|d| {
            d.reference == reference && d.name == "AUTHORIZED" && d.status == Some(200)
        }))
        .await
    );
    assert_eq!(rig.hub.vipps_events_taken().await.unwrap(), 1);
    // A hint for a payment the till does not poll (any more) does nothing.
    assert!(!rig.kiosk.hint(&reference));
    assert!(!rig.kiosk.hint("wh-1-000999-deadbeef"));
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forged_changed_old_and_replayed_webhooks_change_nothing() {
    let rig = Rig::start(Duration::from_secs(300)).await;
    // A real delivery to replay: the first sale's approval.
    let (first_id, first) = rig.sale_shown().await;
    rig.sim.approve(&first).unwrap();
    rig.kiosk.wait_final(first_id, WAIT).await.unwrap();
    let real = rig
        .sim
        .webhook_deliveries()
        .into_iter()
        .find(|d| d.reference == first && d.name == "AUTHORIZED")
        .unwrap();
    let taken = rig.hub.vipps_events_taken().await.unwrap();

    // The second sale waits for its customer; forged approvals name it.
    let (sale_id, reference) = rig.sale_shown().await;
    let body = event(&reference);
    let (host, path) = host_and_path(&format!("{}/vipps/webhook", rig.hub_url)).unwrap();
    let now = time::OffsetDateTime::now_utc();
    let h = |s: &luka::vipps::webhooks::Signed| {
        [
            ("x-ms-date", s.date.clone()),
            ("x-ms-content-sha256", s.content_sha256.clone()),
            ("authorization", s.authorization.clone()),
            ("content-type", "application/json".to_string()),
        ]
    };
    let post = |headers: [(&'static str, String); 4], body: String| {
        let rig = &rig;
        async move {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            rig.post(&headers, &body).await
        }
    };

    // 1. Signed with a secret that is not the hub's.
    let forged = sign(
        &Secret::new("not the secret"),
        &host,
        &path,
        now,
        body.as_bytes(),
    );
    let (status, said) = post(h(&forged), body.clone()).await;
    assert_eq!(status, 401, "{said}");

    // 2. The real secret, but the body changed after signing.
    let secret = rig
        .hub
        .vipps_webhook_secret("123456")
        .await
        .unwrap()
        .unwrap();
    let signed = sign(&secret, &host, &path, now, event(&first).as_bytes());
    let (status, said) = post(h(&signed), body.clone()).await;
    assert_eq!(status, 401, "{said}");
    assert!(said["error"].as_str().unwrap().contains("sha256"), "{said}");

    // 3. Properly signed, ten minutes old.
    let old = sign(
        &secret,
        &host,
        &path,
        now - time::Duration::minutes(10),
        body.as_bytes(),
    );
    let (status, said) = post(h(&old), body.clone()).await;
    assert_eq!(status, 401, "{said}");
    assert!(
        said["error"].as_str().unwrap().contains("too old"),
        "{said}"
    );

    // 4. No signature at all.
    let (status, _) = rig
        .post(&[("content-type", "application/json")], &body)
        .await;
    assert_eq!(status, 400);

    // 5. The real delivery, replayed as it was: answered like a repeat
    // from Vipps (200, so Vipps would not hold later events behind it),
    // and taken no second time.
    let replay = [
        ("x-ms-date", real.date.clone()),
        ("x-ms-content-sha256", real.content_sha256.clone()),
        ("authorization", real.authorization.clone()),
        ("content-type", "application/json".to_string()),
    ];
    let (status, said) = post(replay, real.body.clone()).await;
    assert_eq!(status, 200, "{said}");
    assert_eq!(said["taken"], false, "{said}");
    assert_eq!(said["forwarded"], false, "{said}");

    // Nothing was taken, and the waiting sale was not read: the till was
    // never woken.
    assert_eq!(rig.hub.vipps_events_taken().await.unwrap(), taken);
    assert_eq!(rig.reads(&reference), 0);
    let sale = rig.kiosk.sale(sale_id).unwrap();
    assert_eq!(sale.status, luka::domain::SaleStatus::Awaiting);

    // The real approval still goes through, on one read: had a forged hint
    // reached the till, it would have read the payment before.
    rig.sim.approve(&reference).unwrap();
    let sale = rig.kiosk.wait_final(sale_id, WAIT).await.unwrap();
    assert_eq!(sale.status, luka::domain::SaleStatus::Paid);
    assert_eq!(rig.reads(&reference), 1);
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hub_that_is_down_leaves_the_till_selling_by_polling() {
    // Polling as usual: the first read half a second after the create.
    let mut rig = Rig::start(Duration::from_millis(500)).await;
    if let Some(s) = rig.serving.take() {
        s.shutdown().await;
    }
    assert!(
        eventually(WAIT, || !rig.hub.event_stream_open(TILL)).await,
        "the till's stream outlived the hub"
    );
    let (sale_id, reference) = rig.sale_shown().await;
    rig.sim.approve(&reference).unwrap();
    let sale = rig.kiosk.wait_final(sale_id, WAIT).await.unwrap();
    assert_eq!(sale.status, luka::domain::SaleStatus::Paid);
    // The simulator tried the hub and did not reach it; the payment is
    // captured all the same.
    assert!(
        eventually(WAIT, || rig
            .sim
            .webhook_deliveries()
            .iter()
            .any(|d| d.reference == reference && d.status.is_none()))
        .await
    );
    assert_eq!(support::sim_view(&rig.sim, &reference).captures, 1);
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_reuses_its_own_cleans_up_and_keeps_to_the_limit() {
    let pg = PgCluster::start();
    let hub = Hub::connect(&pg.url()).await.unwrap();
    let sim = luka::sim::start(([127, 0, 0, 1], 0).into(), SimConfig::training())
        .await
        .unwrap();
    let public = "http://127.0.0.1:9/hub";
    let first = hub
        .register_vipps_webhooks(public, &[unit(&sim)])
        .await
        .unwrap();
    assert_eq!(first[0].outcome, "registered");
    assert_eq!(first[0].url, "http://127.0.0.1:9/hub/vipps/webhook");
    // A restart: the same registration is kept.
    let again = hub
        .register_vipps_webhooks(public, &[unit(&sim)])
        .await
        .unwrap();
    assert_eq!((again[0].outcome, again[0].removed), ("kept", 0));
    assert_eq!(again[0].id, first[0].id);

    // Someone else's webhook and a stale one of the hub's (its URL).
    let api = WebhooksClient::new(
        &sim.base_url(),
        training_credentials(&SimConfig::training()),
        Default::default(),
        Duration::from_secs(5),
    )
    .unwrap();
    let events = ["epayments.payment.authorized.v1"];
    let (theirs, _) = api
        .register("https://shop.example/hook", &events)
        .await
        .unwrap();
    api.register(&first[0].url, &events).await.unwrap();
    let third = hub
        .register_vipps_webhooks(public, &[unit(&sim)])
        .await
        .unwrap();
    assert_eq!((third[0].outcome, third[0].removed), ("kept", 1));
    let ids: Vec<String> = api
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.id)
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&theirs) && ids.contains(&first[0].id));

    // The hub's address moved: a new registration, the old one deleted.
    let moved = hub
        .register_vipps_webhooks("http://127.0.0.1:9/other", &[unit(&sim)])
        .await
        .unwrap();
    assert_eq!((moved[0].outcome, moved[0].removed), ("registered", 1));
    assert_eq!(api.list().await.unwrap().len(), 2);

    // Vipps' limit: 5 per event.
    for i in 0..3 {
        api.register(&format!("https://shop.example/{i}"), &events)
            .await
            .unwrap();
    }
    let e = api
        .register("https://shop.example/6", &events)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("at most 5"), "{e}");
    // Plain http to another machine is refused by the hub before Vipps is asked.
    let e = hub
        .register_vipps_webhooks("http://hub.klubben.no", &[unit(&sim)])
        .await
        .unwrap_err();
    assert!(e.to_string().contains("TLS reverse proxy"), "{e}");
    sim.shutdown().await;
}

/// `luka hub vipps-webhooks` with `[[hub.vipps]]` keys in 0600 files: the
/// real binary registers once, keeps it the second time, and prints no secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_registers_once_and_keeps_it_and_prints_no_secret() {
    use std::os::unix::fs::PermissionsExt;
    let pg = PgCluster::start();
    let sim = luka::sim::start(([127, 0, 0, 1], 0).into(), SimConfig::training())
        .await
        .unwrap();
    let c = SimConfig::training();
    let dir = tempfile::tempdir().unwrap();
    let secret_file = |name: &str, value: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, value).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        p
    };
    let cs = secret_file("cs", &c.client_secret);
    let sk = secret_file("sk", &c.subscription_key);
    let config = dir.path().join("hub.toml");
    std::fs::write(
        &config,
        format!(
            "[hub]\ndatabase_url = \"{}\"\npublic_url = \"http://127.0.0.1:9\"\n\n\
             [[hub.vipps]]\nmerchant_serial_number = \"{}\"\nbase_url = \"{}\"\nclient_id = \"{}\"\n\
             client_secret_file = \"{}\"\nsubscription_key_file = \"{}\"\n",
            pg.url(),
            c.merchant_serial_number,
            sim.base_url(),
            c.client_id,
            cs.display(),
            sk.display(),
        ),
    )
    .unwrap();
    let run = || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_luka"))
            .arg("--config")
            .arg(&config)
            .args(["hub", "vipps-webhooks"])
            .env("LUKA_LOG", "debug")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{text}");
        text
    };
    let first = run();
    assert!(first.contains("\"outcome\":\"registered\""), "{first}");
    let second = run();
    assert!(second.contains("\"outcome\":\"kept\""), "{second}");
    let hub = Hub::connect(&pg.url()).await.unwrap();
    let kept = hub.vipps_webhook_secret("123456").await.unwrap().unwrap();
    for text in [&first, &second] {
        let secrets = [
            ("the webhook's secret", kept.expose()),
            ("client_secret", c.client_secret.as_str()),
            ("subscription_key", c.subscription_key.as_str()),
        ];
        for (what, s) in secrets {
            // What came before it on its line, never the secret itself.
            let at = text
                .find(s)
                .map(|i| &text[text[..i].rfind('\n').unwrap_or(0)..i]);
            assert!(at.is_none(), "{what} was printed after: {at:?}");
        }
    }
    sim.shutdown().await;
}

/// `luka hub remove-till` runs in a process of its own, so it cannot end
/// the serving hub's stream to that till itself; the serving hub checks
/// each open stream's credential again and ends the stream of a till that
/// was unpaired. The till goes on selling by polling.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_till_unpaired_from_another_process_loses_its_event_stream() {
    let rig = Rig::start(Duration::from_millis(500)).await;
    assert!(rig.hub.event_stream_open(TILL));
    // Another process's hub: the command line's.
    let cli = Hub::connect(&rig._pg.url()).await.unwrap();
    cli.remove_till(TILL).await.unwrap();
    assert!(
        eventually(WAIT, || !rig.hub.event_stream_open(TILL)).await,
        "the serving hub kept the stream of an unpaired till"
    );
    // Its reconnects are refused; the sale is paid by polling all the same.
    let (sale_id, reference) = rig.sale_shown().await;
    rig.sim.approve(&reference).unwrap();
    let sale = rig.kiosk.wait_final(sale_id, WAIT).await.unwrap();
    assert_eq!(sale.status, luka::domain::SaleStatus::Paid);
    assert!(!rig.hub.event_stream_open(TILL));
    rig.stop().await;
}
