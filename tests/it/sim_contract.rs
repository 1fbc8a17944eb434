//! Contract tests for the Vipps simulator: plain `reqwest` against a simulator on
//! 127.0.0.1:0, one rule per test, and at the end of every test all recorded traffic is
//! checked against the official OpenAPI files (`support::openapi::validate_all`).
//!
//! Must never send traffic anywhere but loopback (the client has proxies disabled) and
//! never sleep longer than a fraction of a second.

use crate::support;

use std::time::{Duration, Instant};

use luka::sim::{self, Faults, SimConfig, SimHandle};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use support::openapi::{Target, validate_all, validate_exchange, validate_value};

struct Till {
    sim: SimHandle,
    http: reqwest::Client,
    token: String,
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn answer(r: reqwest::Response) -> Answer {
    let status = r.status();
    let headers = r.headers().clone();
    let bytes = r.bytes().await.unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        body,
    }
}

fn quick() -> SimConfig {
    SimConfig {
        payment_lifetime: Duration::from_secs(60),
        ..SimConfig::training()
    }
}

async fn start(cfg: SimConfig) -> SimHandle {
    sim::start("127.0.0.1:0".parse().unwrap(), cfg)
        .await
        .unwrap()
}

fn token_request(http: &reqwest::Client, sim: &SimHandle, secret: &str) -> reqwest::RequestBuilder {
    let cfg = sim.config();
    http.post(format!("{}/accesstoken/get", sim.base_url()))
        .header("client_id", cfg.client_id)
        .header("client_secret", secret)
        .header("Ocp-Apim-Subscription-Key", cfg.subscription_key)
        .header("Merchant-Serial-Number", cfg.merchant_serial_number)
}

impl Till {
    async fn new(cfg: SimConfig) -> Till {
        let sim = start(cfg).await;
        let http = client();
        let secret = sim.config().client_secret;
        let a = answer(token_request(&http, &sim, &secret).send().await.unwrap()).await;
        assert_eq!(a.status, StatusCode::OK);
        let token = a.body["access_token"].as_str().unwrap().to_string();
        Till { sim, http, token }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.base_url())
    }

    fn with_auth(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let cfg = self.sim.config();
        rb.bearer_auth(&self.token)
            .header("Ocp-Apim-Subscription-Key", cfg.subscription_key)
            .header("Merchant-Serial-Number", cfg.merchant_serial_number)
            .header("Vipps-System-Name", "luka")
            .header("Vipps-System-Version", "0.1.0")
    }

    async fn post(&self, path: &str, key: Option<&str>, body: Option<&Value>) -> Answer {
        answer(self.try_post(path, key, body).await.unwrap()).await
    }

    async fn try_post(
        &self,
        path: &str,
        key: Option<&str>,
        body: Option<&Value>,
    ) -> reqwest::Result<reqwest::Response> {
        let mut rb = self.with_auth(self.http.post(self.url(path)));
        if let Some(k) = key {
            rb = rb.header("Idempotency-Key", k);
        }
        if let Some(b) = body {
            rb = rb.json(b);
        }
        rb.send().await
    }

    async fn get(&self, path: &str) -> Answer {
        answer(
            self.with_auth(self.http.get(self.url(path)))
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    async fn create(&self, reference: &str, value: i64) -> Answer {
        self.post(
            "/epayment/v1/payments",
            Some(&format!("create-{reference}")),
            Some(&create_body(reference, value)),
        )
        .await
    }

    async fn authorized(&self, reference: &str, value: i64) {
        assert_eq!(
            self.create(reference, value).await.status,
            StatusCode::CREATED
        );
        self.sim.approve(reference).unwrap();
    }

    async fn modify(&self, reference: &str, op: &str, key: &str, value: Option<i64>) -> Answer {
        let body = value.map(|v| json!({"modificationAmount": {"currency": "NOK", "value": v}}));
        self.post(
            &format!("/epayment/v1/payments/{reference}/{op}"),
            Some(key),
            body.as_ref(),
        )
        .await
    }

    fn done(&self) {
        validate_all(&self.sim.exchanges());
    }
}

/// What the till sends: QR with TEXT/TARGETURL, customer present, a receipt that adds up.
fn create_body(reference: &str, value: i64) -> Value {
    json!({
        "amount": {"currency": "NOK", "value": value},
        "customerInteraction": "CUSTOMER_PRESENT",
        "paymentMethod": {"type": "WALLET"},
        "reference": reference,
        "userFlow": "QR",
        "qrFormat": {"format": "TEXT/TARGETURL"},
        "paymentDescription": "Kiosk: kaffe og vaffel",
        "receipt": {
            "orderLines": [{
                "name": "Kaffe og vaffel", "id": "1", "totalAmount": value,
                "totalAmountExcludingTax": value * 100 / 115, "totalTaxAmount": value - value * 100 / 115,
                "taxPercentage": 15, "unitInfo": {"unitPrice": value, "quantity": "1", "quantityUnit": "PCS"}
            }],
            "bottomLine": {"currency": "NOK", "posId": "kiosk-1", "receiptNumber": "42"}
        }
    })
}

fn events(body: &Value) -> Vec<String> {
    body.as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn access_token_has_string_numbers_and_refuses_wrong_credentials() {
    let sim = start(SimConfig::training()).await;
    let http = client();
    let ok = answer(
        token_request(&http, &sim, "luka-training-secret")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK);
    for field in ["expires_in", "ext_expires_in", "expires_on", "not_before"] {
        let text = ok.body[field]
            .as_str()
            .unwrap_or_else(|| panic!("{field} is not a string"));
        assert!(text.parse::<u64>().is_ok(), "{field} = {text}");
    }
    assert_eq!(ok.body["expires_in"], "3600");
    assert_eq!(ok.body["token_type"], "Bearer");
    let parsed: luka::vipps::dto::AccessTokenResponse =
        serde_json::from_value(ok.body.clone()).unwrap();
    assert!(parsed.access_token.len() >= 40);

    let bad = answer(token_request(&http, &sim, "wrong").send().await.unwrap()).await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    let missing = answer(
        http.post(format!("{}/accesstoken/get", sim.base_url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);

    // The issued token and the secret never reach the record.
    let recorded = format!("{:?}", sim.exchanges());
    assert!(!recorded.contains(&parsed.access_token) && !recorded.contains("luka-training-secret"));
    validate_all(&sim.exchanges());
}

#[tokio::test]
async fn epayment_needs_token_subscription_key_and_merchant() {
    let t = Till::new(SimConfig {
        token_lifetime: Duration::from_millis(300),
        ..quick()
    })
    .await;
    let path = "/epayment/v1/payments/unknown-ref-1";
    assert_eq!(
        t.get(path).await.status,
        StatusCode::NOT_FOUND,
        "a valid token gets through"
    );
    let cfg = t.sim.config();
    let no_token = t
        .http
        .get(t.url(path))
        .header("Ocp-Apim-Subscription-Key", &cfg.subscription_key)
        .header("Merchant-Serial-Number", &cfg.merchant_serial_number)
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), StatusCode::UNAUTHORIZED);
    let wrong_key = t
        .http
        .get(t.url(path))
        .bearer_auth(&t.token)
        .header("Ocp-Apim-Subscription-Key", "nope");
    assert_eq!(
        wrong_key.send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let wrong_msn = t
        .http
        .get(t.url(path))
        .bearer_auth(&t.token)
        .header("Ocp-Apim-Subscription-Key", &cfg.subscription_key)
        .header("Merchant-Serial-Number", "999999");
    assert_eq!(
        wrong_msn.send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    // The scenario: the token's lifetime runs out (no state to wait on but the clock).
    tokio::time::sleep(Duration::from_millis(350)).await;
    let expired = t.get(path).await;
    assert_eq!(
        expired.status,
        StatusCode::UNAUTHORIZED,
        "token outlived token_lifetime"
    );
    assert_eq!(expired.headers["content-type"], "application/problem+json");
    t.done();
}

#[tokio::test]
async fn create_returns_201_with_a_phone_page_redirect() {
    let t = Till::new(quick()).await;
    let a = t.create("kiosk1-sale-0001", 14950).await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(a.body["reference"], "kiosk1-sale-0001");
    let redirect = a.body["redirectUrl"].as_str().unwrap();
    assert!(redirect.starts_with(&format!("{}/phone/", t.sim.base_url())));
    assert!(
        redirect.len() > t.sim.base_url().len() + 40,
        "unguessable token"
    );
    assert_eq!(
        t.sim.phone_url("kiosk1-sale-0001").as_deref(),
        Some(redirect)
    );
    let got = t.get("/epayment/v1/payments/kiosk1-sale-0001").await;
    assert_eq!(got.body["state"], "CREATED");
    assert_eq!(got.body["aggregate"]["authorizedAmount"]["value"], 0);
    let p = t.sim.payment("kiosk1-sale-0001").unwrap();
    assert_eq!(
        (p.amount.value, p.description.as_deref()),
        (14950, Some("Kiosk: kaffe og vaffel"))
    );
    t.done();
}

#[tokio::test]
async fn create_validation_problems() {
    let t = Till::new(quick()).await;
    let path = "/epayment/v1/payments";
    let mut cases: Vec<(&str, Option<String>, Value)> = vec![
        (
            "amount below 100 øre",
            Some("k1".into()),
            create_body("kiosk1-low-0001", 99),
        ),
        (
            "bad reference",
            Some("k2".into()),
            create_body("bad ref!", 1000),
        ),
        (
            "no Idempotency-Key",
            None,
            create_body("kiosk1-nokey-01", 1000),
        ),
        (
            "key over 50 chars",
            Some("k".repeat(51)),
            create_body("kiosk1-longkey1", 1000),
        ),
    ];
    let mut sums_wrong = create_body("kiosk1-sum-0001", 1000);
    sums_wrong["receipt"]["orderLines"][0]["totalAmount"] = json!(900);
    cases.push(("receipt does not add up", Some("k3".into()), sums_wrong));
    let mut short = create_body("kiosk1-desc-001", 1000);
    short["paymentDescription"] = json!("ab");
    cases.push(("description too short", Some("k4".into()), short));
    let mut no_flow = create_body("kiosk1-flow-001", 1000);
    no_flow.as_object_mut().unwrap().remove("userFlow");
    cases.push(("userFlow missing", Some("k5".into()), no_flow));
    let mut no_method = create_body("kiosk1-meth-001", 1000);
    no_method.as_object_mut().unwrap().remove("paymentMethod");
    cases.push(("paymentMethod missing", Some("k6".into()), no_method));
    for (why, key, body) in cases {
        let a = t.post(path, key.as_deref(), Some(&body)).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{why}: {}", a.body);
        assert_eq!(
            a.headers["content-type"], "application/problem+json",
            "{why}"
        );
        assert_eq!(a.body["status"], 400, "{why}");
        assert!(
            a.body["traceId"].is_string() && a.body["detail"].is_string(),
            "{why}"
        );
    }
    assert!(t.sim.payments().is_empty(), "nothing invalid was created");
    t.done();
}

#[tokio::test]
async fn a_reference_is_used_once() {
    let t = Till::new(quick()).await;
    assert_eq!(
        t.create("kiosk1-dup-0001", 5000).await.status,
        StatusCode::CREATED
    );
    let again = t
        .post(
            "/epayment/v1/payments",
            Some("another-key"),
            Some(&create_body("kiosk1-dup-0001", 5000)),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(
        again.body["detail"]
            .as_str()
            .unwrap()
            .contains("already used")
    );
    t.done();
}

#[tokio::test]
async fn idempotent_replay_and_key_reuse_with_another_body() {
    let t = Till::new(quick()).await;
    let first = t.create("kiosk1-idem-001", 5000).await;
    let replay = t.create("kiosk1-idem-001", 5000).await;
    assert_eq!(
        (replay.status, &replay.body),
        (first.status, &first.body),
        "replayed exactly"
    );
    let changed = t
        .post(
            "/epayment/v1/payments",
            Some("create-kiosk1-idem-001"),
            Some(&create_body("kiosk1-idem-001", 6000)),
        )
        .await;
    assert_eq!(changed.status, StatusCode::CONFLICT);
    assert!(
        changed.body["detail"]
            .as_str()
            .unwrap()
            .contains("Idempotency-Key")
    );
    assert_eq!(t.sim.payments().len(), 1);

    t.sim.approve("kiosk1-idem-001").unwrap();
    let cap = t
        .modify("kiosk1-idem-001", "capture", "cap-1", Some(2000))
        .await;
    let cap_again = t
        .modify("kiosk1-idem-001", "capture", "cap-1", Some(2000))
        .await;
    assert_eq!((cap.status, &cap.body), (cap_again.status, &cap_again.body));
    let reused = t
        .modify("kiosk1-idem-001", "capture", "cap-1", Some(3000))
        .await;
    assert_eq!(reused.status, StatusCode::CONFLICT);
    let p = t.sim.payment("kiosk1-idem-001").unwrap();
    assert_eq!(
        (p.captures, p.aggregate.captured_amount.value),
        (1, 2000),
        "applied once"
    );
    // The same key on another operation is another scope.
    let refund = t
        .modify("kiosk1-idem-001", "refund", "cap-1", Some(500))
        .await;
    assert_eq!(refund.status, StatusCode::OK);
    t.done();
}

#[tokio::test]
async fn approve_reject_and_expire() {
    let t = Till::new(SimConfig {
        payment_lifetime: Duration::from_millis(300),
        ..quick()
    })
    .await;
    for r in ["kiosk1-appr-001", "kiosk1-rej-0001", "kiosk1-exp-0001"] {
        assert_eq!(t.create(r, 1000).await.status, StatusCode::CREATED);
    }
    t.sim.approve("kiosk1-appr-001").unwrap();
    t.sim.reject("kiosk1-rej-0001").unwrap();
    assert!(
        t.sim.approve("kiosk1-rej-0001").is_err(),
        "only from CREATED"
    );
    assert!(matches!(
        t.sim.approve("nope-nope-1"),
        Err(sim::SimError::NotFound(_))
    ));
    let a = t.get("/epayment/v1/payments/kiosk1-appr-001").await;
    assert_eq!(a.body["state"], "AUTHORIZED");
    assert_eq!(a.body["aggregate"]["authorizedAmount"]["value"], 1000);
    assert_eq!(
        t.get("/epayment/v1/payments/kiosk1-rej-0001").await.body["state"],
        "ABORTED"
    );

    // The scenario: nobody answers until the payment's lifetime has run out.
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(
        t.get("/epayment/v1/payments/kiosk1-exp-0001").await.body["state"],
        "EXPIRED"
    );
    assert!(
        t.sim.approve("kiosk1-exp-0001").is_err(),
        "too late to approve"
    );
    let log = t.get("/epayment/v1/payments/kiosk1-exp-0001/events").await;
    assert_eq!(events(&log.body), ["CREATED", "EXPIRED"]);
    assert_eq!(log.body[1]["idempotencyKey"], Value::Null);
    assert_eq!(
        t.get("/epayment/v1/payments/kiosk1-appr-001").await.body["state"],
        "AUTHORIZED",
        "final states stay"
    );
    t.done();
}

#[tokio::test]
async fn capture_keeps_authorized_and_only_moves_the_aggregate() {
    let t = Till::new(quick()).await;
    t.authorized("kiosk1-cap-0001", 10000).await;
    let part = t
        .modify("kiosk1-cap-0001", "capture", "c1", Some(4000))
        .await;
    assert_eq!(part.status, StatusCode::OK);
    assert_eq!(part.body["state"], "AUTHORIZED");
    assert_eq!(part.body["aggregate"]["capturedAmount"]["value"], 4000);
    let over = t
        .modify("kiosk1-cap-0001", "capture", "c2", Some(6001))
        .await;
    assert_eq!(
        over.status,
        StatusCode::BAD_REQUEST,
        "above authorized − captured"
    );
    let rest = t
        .modify("kiosk1-cap-0001", "capture", "c3", Some(6000))
        .await;
    assert_eq!(rest.body["aggregate"]["capturedAmount"]["value"], 10000);
    let got = t.get("/epayment/v1/payments/kiosk1-cap-0001").await;
    assert_eq!(got.body["state"], "AUTHORIZED");
    assert_eq!(got.body["aggregate"]["capturedAmount"]["value"], 10000);
    assert_eq!(got.body["aggregate"]["authorizedAmount"]["value"], 10000);

    assert_eq!(
        t.create("kiosk1-cap-0002", 1000).await.status,
        StatusCode::CREATED
    );
    let early = t
        .modify("kiosk1-cap-0002", "capture", "c4", Some(1000))
        .await;
    assert_eq!(
        early.status,
        StatusCode::CONFLICT,
        "capture before AUTHORIZED"
    );
    let missing = t
        .modify("kiosk1-none-0001", "capture", "c5", Some(1000))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    t.done();
}

#[tokio::test]
async fn partial_and_full_refund() {
    let t = Till::new(quick()).await;
    t.authorized("kiosk1-ref-0001", 10000).await;
    t.modify("kiosk1-ref-0001", "capture", "c1", Some(10000))
        .await;
    let part = t
        .modify("kiosk1-ref-0001", "refund", "r1", Some(2500))
        .await;
    assert_eq!(part.status, StatusCode::OK);
    assert_eq!(part.body["aggregate"]["refundedAmount"]["value"], 2500);
    let over = t
        .modify("kiosk1-ref-0001", "refund", "r2", Some(7501))
        .await;
    assert_eq!(
        over.status,
        StatusCode::BAD_REQUEST,
        "above captured − refunded"
    );
    let rest = t
        .modify("kiosk1-ref-0001", "refund", "r3", Some(7500))
        .await;
    assert_eq!(rest.body["aggregate"]["refundedAmount"]["value"], 10000);
    assert_eq!(
        rest.body["state"], "AUTHORIZED",
        "a refunded payment stays AUTHORIZED"
    );
    let p = t.sim.payment("kiosk1-ref-0001").unwrap();
    assert_eq!((p.captures, p.refunds), (1, 2));
    t.done();
}

#[tokio::test]
async fn cancel_rules() {
    let t = Till::new(quick()).await;
    t.authorized("kiosk1-can-0001", 5000).await;
    let c = t.modify("kiosk1-can-0001", "cancel", "x1", None).await;
    assert_eq!(c.status, StatusCode::OK);
    assert_eq!(c.body["state"], "TERMINATED");
    assert_eq!(c.body["aggregate"]["cancelledAmount"]["value"], 5000);
    let again = t.modify("kiosk1-can-0001", "cancel", "x2", None).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "already final");

    t.authorized("kiosk1-can-0002", 5000).await;
    t.modify("kiosk1-can-0002", "capture", "c1", Some(1000))
        .await;
    let after = t.modify("kiosk1-can-0002", "cancel", "x3", None).await;
    assert_eq!(after.status, StatusCode::CONFLICT);
    assert!(
        after.body["detail"]
            .as_str()
            .unwrap()
            .contains("cannot cancel a captured payment")
    );

    assert_eq!(
        t.create("kiosk1-can-0003", 5000).await.status,
        StatusCode::CREATED
    );
    let created = t.modify("kiosk1-can-0003", "cancel", "x4", None).await;
    assert_eq!(created.body["state"], "TERMINATED");
    assert!(
        t.sim.approve("kiosk1-can-0003").is_err(),
        "customer cannot approve a cancelled payment"
    );
    let no_key = t
        .post("/epayment/v1/payments/kiosk1-can-0002/cancel", None, None)
        .await;
    assert_eq!(no_key.status, StatusCode::BAD_REQUEST);
    t.done();
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after() {
    let t = Till::new(SimConfig {
        reads_per_minute: 3,
        modifications_per_minute: 2,
        ..quick()
    })
    .await;
    t.authorized("kiosk1-rate-001", 5000).await;
    let path = "/epayment/v1/payments/kiosk1-rate-001";
    for _ in 0..3 {
        assert_eq!(t.get(path).await.status, StatusCode::OK);
    }
    let limited = t.get(&format!("{path}/events")).await;
    assert_eq!(
        limited.status,
        StatusCode::TOO_MANY_REQUESTS,
        "events count as reads"
    );
    let wait: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait));
    assert_eq!(
        t.create("kiosk1-rate-002", 5000).await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        t.get("/epayment/v1/payments/kiosk1-rate-002").await.status,
        StatusCode::OK,
        "per reference"
    );

    t.modify("kiosk1-rate-001", "capture", "c1", Some(100))
        .await;
    t.modify("kiosk1-rate-001", "capture", "c2", Some(100))
        .await;
    let third = t
        .modify("kiosk1-rate-001", "capture", "c3", Some(100))
        .await;
    assert_eq!(third.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(third.headers.contains_key("retry-after"));
    assert_eq!(t.sim.payment("kiosk1-rate-001").unwrap().captures, 2);
    t.done();
}

#[tokio::test]
async fn dropped_response_was_applied_and_a_retry_replays_it() {
    let t = Till::new(quick()).await;
    t.sim.set_faults(Faults {
        drop_response_rate: 1.0,
        ..Faults::default()
    });
    let lost = t
        .try_post(
            "/epayment/v1/payments",
            Some("k-drop"),
            Some(&create_body("kiosk1-drop-001", 5000)),
        )
        .await;
    assert!(lost.is_err(), "the client saw a connection error: {lost:?}");
    assert!(
        format!("{lost:?}").contains("IncompleteMessage"),
        "closed before any response: {lost:?}"
    );
    assert!(
        t.sim.payment("kiosk1-drop-001").is_some(),
        "but the payment exists"
    );
    t.sim.set_faults(Faults::default());
    let retry = t
        .post(
            "/epayment/v1/payments",
            Some("k-drop"),
            Some(&create_body("kiosk1-drop-001", 5000)),
        )
        .await;
    assert_eq!(
        retry.status,
        StatusCode::CREATED,
        "same key, same body: the lost answer"
    );
    assert_eq!(t.sim.payments().len(), 1);
    let dropped = t
        .sim
        .exchanges()
        .into_iter()
        .find(|e| e.fault.as_deref() == Some("drop_response"))
        .unwrap();
    assert_eq!(
        (dropped.status, dropped.operation.as_str()),
        (None, "createPayment")
    );
    t.done();
}

#[tokio::test]
async fn server_errors_throttling_and_resets_do_not_apply() {
    let t = Till::new(quick()).await;
    t.sim.set_faults(Faults {
        error_5xx_rate: 1.0,
        ..Faults::default()
    });
    let e = t.create("kiosk1-5xx-0001", 5000).await;
    assert!([500, 502, 503].contains(&e.status.as_u16()), "{}", e.status);
    assert_eq!(e.headers["content-type"], "application/problem+json");

    t.sim.set_faults(Faults {
        rate_429: 1.0,
        retry_after: Duration::from_millis(1500),
        ..Faults::default()
    });
    let th = t.create("kiosk1-5xx-0001", 5000).await;
    assert_eq!(th.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        th.headers["retry-after"], "2",
        "rounded up to whole seconds"
    );

    t.sim.set_faults(Faults {
        connection_reset_rate: 1.0,
        ..Faults::default()
    });
    let reset = t
        .try_post(
            "/epayment/v1/payments",
            Some("create-kiosk1-5xx-0001"),
            Some(&create_body("kiosk1-5xx-0001", 5000)),
        )
        .await;
    assert!(reset.is_err(), "connection reset: {reset:?}");
    assert!(
        format!("{reset:?}").contains("ConnectionReset"),
        "an RST, not a clean close: {reset:?}"
    );
    assert!(t.sim.payments().is_empty(), "none of the three applied");

    t.sim.set_faults(Faults::default());
    assert_eq!(
        t.create("kiosk1-5xx-0001", 5000).await.status,
        StatusCode::CREATED
    );
    let faults: Vec<_> = t
        .sim
        .exchanges()
        .into_iter()
        .filter_map(|e| e.fault)
        .collect();
    assert_eq!(faults, ["error_5xx", "rate_429", "connection_reset"]);
    t.done();
}

#[tokio::test]
async fn latency_delays_api_calls_but_not_the_phone() {
    let t = Till::new(quick()).await;
    t.sim.set_faults(Faults {
        latency: Duration::from_millis(200),
        ..Faults::default()
    });
    let started = Instant::now();
    assert_eq!(
        t.create("kiosk1-slow-001", 5000).await.status,
        StatusCode::CREATED
    );
    assert!(started.elapsed() >= Duration::from_millis(200));
    let started = Instant::now();
    let page = t
        .http
        .get(t.sim.phone_url("kiosk1-slow-001").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "faults never touch the phone page"
    );
    t.done();
}

async fn phone_page(t: &Till, reference: &str) -> (String, String) {
    let url = t.sim.phone_url(reference).unwrap();
    let html = t.http.get(&url).send().await.unwrap().text().await.unwrap();
    (url, html)
}

fn form_action(html: &str, verb: &str) -> String {
    let needle = format!("/{verb}\"");
    let end = html
        .find(&needle)
        .unwrap_or_else(|| panic!("no {verb} form in {html}"))
        + needle.len()
        - 1;
    let start = html[..end].rfind("action=\"").unwrap() + "action=\"".len();
    html[start..end].to_string()
}

#[tokio::test]
async fn phone_page_approves_through_its_form() {
    let t = Till::new(quick()).await;
    assert_eq!(
        t.create("kiosk1-phone-01", 14950).await.status,
        StatusCode::CREATED
    );
    let (url, html) = phone_page(&t, "kiosk1-phone-01").await;
    assert!(html.contains("kr 149,50"), "{html}");
    assert!(html.contains("Kiosk: kaffe og vaffel"));
    assert!(html.contains("training simulator") && html.contains("not real Vipps"));
    assert!(html.contains("width=device-width"));
    let action = reqwest::Url::parse(&url)
        .unwrap()
        .join(&form_action(&html, "approve"))
        .unwrap();
    let outcome = t.http.post(action).send().await.unwrap();
    assert_eq!(
        outcome.status(),
        StatusCode::OK,
        "followed the redirect to the outcome"
    );
    let html = outcome.text().await.unwrap();
    assert!(
        html.contains("Approved") && !html.contains("<form"),
        "{html}"
    );
    assert_eq!(
        t.get("/epayment/v1/payments/kiosk1-phone-01").await.body["state"],
        "AUTHORIZED"
    );
    t.done();
}

#[tokio::test]
async fn phone_page_rejects_and_escapes_the_description() {
    let t = Till::new(quick()).await;
    let mut body = create_body("kiosk1-phone-02", 1000);
    body["paymentDescription"] = json!("<script>alert(1)</script>");
    assert_eq!(
        t.post("/epayment/v1/payments", Some("k"), Some(&body))
            .await
            .status,
        StatusCode::CREATED
    );
    let (url, html) = phone_page(&t, "kiosk1-phone-02").await;
    assert!(!html.contains("<script>") && html.contains("&lt;script&gt;"));
    let action = reqwest::Url::parse(&url)
        .unwrap()
        .join(&form_action(&html, "reject"))
        .unwrap();
    let html = t
        .http
        .post(action)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Rejected"));
    assert_eq!(
        t.sim.payment("kiosk1-phone-02").unwrap().state,
        luka::vipps::dto::State::Aborted
    );
    let unknown = t
        .http
        .get(format!("{}/phone/not-a-token", t.sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    t.done();
}

#[tokio::test]
async fn event_log_lists_every_event_and_can_be_disordered() {
    let t = Till::new(quick()).await;
    t.authorized("kiosk1-evt-0001", 10000).await;
    t.modify("kiosk1-evt-0001", "capture", "cap-key", Some(10000))
        .await;
    t.modify("kiosk1-evt-0001", "refund", "ref-key", Some(3000))
        .await;
    let log = t.get("/epayment/v1/payments/kiosk1-evt-0001/events").await;
    assert_eq!(
        events(&log.body),
        ["CREATED", "AUTHORIZED", "CAPTURED", "REFUNDED"]
    );
    let ev = &log.body[2];
    assert_eq!(ev["idempotencyKey"], "cap-key");
    assert_eq!(ev["amount"]["value"], 10000);
    assert_eq!(ev["success"], true);
    assert_eq!(log.body[0]["idempotencyKey"], "create-kiosk1-evt-0001");
    assert!(ev["pspReference"].is_string() && ev["timestamp"].as_str().unwrap().ends_with('Z'));

    t.sim.set_events_disorder(true);
    let messy = t.get("/epayment/v1/payments/kiosk1-evt-0001/events").await;
    let names = events(&messy.body);
    assert_eq!(names.len(), 5, "one duplicate");
    assert_ne!(
        names,
        [
            "CREATED",
            "AUTHORIZED",
            "CAPTURED",
            "REFUNDED",
            names[4].as_str()
        ]
    );
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 4, "same events, one repeated");
    t.done();
}

#[tokio::test]
async fn force_approve_endpoint() {
    let t = Till::new(quick()).await;
    let created = t.create("kiosk1-force-01", 1000).await;
    let token = created.body["redirectUrl"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let path = "/epayment/v1/test/payments/kiosk1-force-01/approve";
    let wrong = t.post(path, None, Some(&json!({"token": "not-it"}))).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    let ok = t.post(path, None, Some(&json!({"token": token}))).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(
        t.get("/epayment/v1/payments/kiosk1-force-01").await.body["state"],
        "AUTHORIZED"
    );
    assert_eq!(
        t.post(path, None, None).await.status,
        StatusCode::BAD_REQUEST,
        "already approved"
    );
    assert_eq!(
        t.create("kiosk1-force-02", 1000).await.status,
        StatusCode::CREATED
    );
    let bare = t
        .post(
            "/epayment/v1/test/payments/kiosk1-force-02/approve",
            None,
            None,
        )
        .await;
    assert_eq!(bare.status, StatusCode::OK, "the body is optional");
    t.done();
}

#[tokio::test]
async fn admin_endpoints_drive_the_simulator() {
    let t = Till::new(quick()).await;
    assert_eq!(
        t.create("kiosk1-admin-01", 2000).await.status,
        StatusCode::CREATED
    );
    let base = t.sim.base_url();
    let list: Value = t
        .http
        .get(format!("{base}/sim/payments"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["reference"], "kiosk1-admin-01");
    assert_eq!(list[0]["state"], "CREATED");
    let approved = t
        .http
        .post(format!("{base}/sim/payments/kiosk1-admin-01/approve"))
        .send()
        .await
        .unwrap();
    assert_eq!(approved.status(), StatusCode::OK);
    let again = t
        .http
        .post(format!("{base}/sim/payments/kiosk1-admin-01/reject"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let set = t
        .http
        .post(format!("{base}/sim/faults"))
        .json(&json!({"latency_ms": 5, "rate_429": 0.5, "retry_after_ms": 1000}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), StatusCode::OK);
    let f = t.sim.faults();
    assert_eq!(
        (f.latency, f.rate_429, f.retry_after),
        (Duration::from_millis(5), 0.5, Duration::from_secs(1))
    );
    t.http
        .post(format!("{base}/sim/faults"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(t.sim.faults(), Faults::default());
    t.done();
}

#[tokio::test]
async fn stats_count_operations_reads_and_bytes() {
    let t = Till::new(quick()).await;
    assert_eq!(
        t.create("kiosk1-stat-001", 2000).await.status,
        StatusCode::CREATED
    );
    for _ in 0..3 {
        t.get("/epayment/v1/payments/kiosk1-stat-001").await;
    }
    let s = t.sim.stats();
    assert_eq!(s.per_operation["createPayment"], 1);
    assert_eq!(s.per_operation["getPayment"], 3);
    assert_eq!(s.per_operation["fetchAuthorizationTokenUsingPost"], 1);
    assert_eq!(s.reads_per_reference["kiosk1-stat-001"], 3);
    assert!(s.bytes_in > 500 && s.bytes_out > 500, "{s:?}");
    let create = t
        .sim
        .exchanges()
        .into_iter()
        .find(|e| e.operation == "createPayment")
        .unwrap();
    assert_eq!(create.reference.as_deref(), Some("kiosk1-stat-001"));
    assert!(
        create
            .request_headers
            .iter()
            .any(|(n, v)| n == "authorization" && v == "Bearer ***")
    );
    t.done();
    t.sim.clone().shutdown().await;
    assert!(
        client()
            .get(format!("{}/sim/payments", t.sim.base_url()))
            .send()
            .await
            .is_err(),
        "stopped"
    );
}

/// Negative control: the validator must be able to fail, or every check above is empty.
#[tokio::test]
async fn validator_rejects_bodies_that_break_the_spec() {
    let t = Till::new(quick()).await;
    t.authorized("kiosk1-neg-0001", 2000).await;
    t.get("/epayment/v1/payments/kiosk1-neg-0001").await;
    let good = t
        .sim
        .exchanges()
        .into_iter()
        .find(|e| e.operation == "getPayment")
        .unwrap();
    validate_exchange(&good).unwrap();

    let mut no_aggregate = good.clone();
    no_aggregate
        .response_body
        .as_mut()
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove("aggregate");
    let err = validate_exchange(&no_aggregate).unwrap_err();
    assert!(err.contains("aggregate"), "{err}");

    let mut bad_state = good.clone();
    bad_state.response_body.as_mut().unwrap()["state"] = json!("CAPTURED");
    assert!(
        validate_exchange(&bad_state).is_err(),
        "CAPTURED is an event, not a state"
    );

    let problem = json!({"type": "https://example.com/e", "title": "Bad", "status": 400});
    assert!(
        validate_value("createPayment", Target::Response(400), Some(&problem)).is_err(),
        "traceId required"
    );
    let mut as_json = good.clone();
    as_json.status = Some(404);
    as_json.response_body =
        Some(json!({"type": "https://example.com/e", "title": "x", "status": 404, "traceId": "t"}));
    as_json.response_content_type = Some("application/json".into());
    assert!(
        validate_exchange(&as_json).is_err(),
        "a Problem must be application/problem+json"
    );

    let mut missing_header = t
        .sim
        .exchanges()
        .into_iter()
        .find(|e| e.operation == "createPayment")
        .unwrap();
    missing_header
        .request_headers
        .retain(|(n, _)| n != "idempotency-key");
    assert!(
        validate_exchange(&missing_header).is_err(),
        "a 2xx needs the required headers"
    );

    let event = json!([{"reference": "kiosk1-neg-0001", "pspReference": "1", "amount": {"currency": "NOK", "value": 1},
                        "timestamp": "2022-12-31T00:00:00Z", "success": true}]);
    assert!(
        validate_value("getPaymentEventLog", Target::Response(200), Some(&event)).is_err(),
        "name is required"
    );
    t.done();
}
