//! Contract tests between Luka's PowerOffice Go client and the PowerOffice Go
//! simulator: real HTTP over 127.0.0.1, one rule per test. At the end of each
//! test every recorded exchange is checked against the spec's schemas
//! (`specs/bookkeeping/poweroffice-go-v2.*`): the voucher bodies the
//! simulator accepted against `CashVoucherPostDto` / `BankVoucherPostDto`, and
//! the simulator's answers against their response DTOs.
//!
//! `tests/it/support/openapi.rs` is tied to the Vipps spec files, so the small
//! schema loader here does the same job (inline `$ref`s, `nullable` → `null`)
//! for these two files. Must never send traffic anywhere but loopback.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use luka::bookkeeping::poweroffice::{Posted, PowerOfficeClient, PowerOfficeSettings};
use luka::domain::voucher::{Accounts, Voucher, VoucherKind, VoucherLine, transfer};
use luka::retry::{Permanent, RetryClass, RetryPolicy, Verdict, decide};
use luka::secret::Secret;
use luka::sim::Exchange;
use luka::sim::poweroffice::{
    self as po_sim, Endpoint, PowerOfficeFaults, PowerOfficeSimConfig, PowerOfficeSimHandle,
};
use serde_json::{Value, json};

const DATE: &str = "2026-11-30";

async fn start(cfg: PowerOfficeSimConfig) -> PowerOfficeSimHandle {
    po_sim::start("127.0.0.1:0".parse().unwrap(), cfg)
        .await
        .unwrap()
}

fn settings(sim: &PowerOfficeSimHandle) -> PowerOfficeSettings {
    let k = sim.credentials();
    PowerOfficeSettings {
        api_base_url: sim.api_base_url(),
        token_url: sim.token_url(),
        application_key: k.application_key,
        client_key: k.client_key,
        subscription_key: k.subscription_key,
        timeout: Duration::from_secs(5),
    }
}

fn client(sim: &PowerOfficeSimHandle) -> PowerOfficeClient {
    PowerOfficeClient::new(settings(sim)).unwrap()
}

fn hint() -> Vec<u32> {
    Accounts::default().all()
}

/// Z1: Vipps 450.50 and cash 120.00 in; sales at 25 %, 15 % and outside VAT.
fn daily_sales(z: u32) -> Voucher {
    let line = |account, vat_code, amount, text: &str| VoucherLine {
        account,
        vat_code,
        amount,
        text: text.to_string(),
        department: None,
    };
    Voucher {
        kind: VoucherKind::DailySales,
        date: DATE.into(),
        number: format!("Z{z}"),
        external_ref: format!("luka-till1-{DATE}-z{z}"),
        description: format!("Dagsoppgjør {DATE} kasse till1 Z{z}"),
        currency: "NOK".into(),
        lines: vec![
            line(1903, None, 45_050, "Vipps"),
            line(1900, None, 12_000, "Kontant"),
            line(3000, Some(3), -25_000, "salg mva-kode 3"),
            line(3030, Some(31), -20_050, "salg mva-kode 31"),
            line(3200, Some(6), -12_000, "salg mva-kode 6"),
        ],
    }
}

fn fees() -> Voucher {
    transfer(
        VoucherKind::VippsFees,
        DATE,
        "VIPPS-FEES".into(),
        format!("luka-vipps-{DATE}-fees"),
        "Vipps-gebyrer".into(),
        "NOK",
        (7770, 1903),
        1_234,
    )
}

fn payout() -> Voucher {
    transfer(
        VoucherKind::VippsPayout,
        DATE,
        "VIPPS-PAYOUT".into(),
        format!("luka-vipps-{DATE}-payout"),
        "Vipps-utbetaling".into(),
        "NOK",
        (1920, 1903),
        43_816,
    )
}

fn refused(status: Option<u16>) -> RetryClass {
    RetryClass::Permanent(Permanent::Refused { status })
}

/// Refused here at the till, before PowerOffice was asked.
const LOCAL: RetryClass = RetryClass::Permanent(Permanent::Local);

fn verdict(class: RetryClass, jitter: f64) -> Verdict {
    decide("PowerOffice Go", class, 1, &RetryPolicy::default(), jitter)
}

#[tokio::test]
async fn balanced_vouchers_post_and_the_ledger_shows_them() {
    let sim = start(PowerOfficeSimConfig::default()).await;
    let po = client(&sim);
    let posted = po.post_voucher(&daily_sales(1), &hint()).await.unwrap();
    assert!(!posted.already_posted);
    assert_eq!(posted.requests, 4, "token + accounts + VAT codes + post");
    let booked = sim.vouchers();
    assert_eq!(booked.len(), 1);
    let z = &booked[0];
    assert_eq!(z.id, posted.id);
    assert_eq!(
        z.journal,
        luka::bookkeeping::poweroffice::map::Journal::Cash
    );
    assert_eq!(z.external_ref.as_deref(), Some("luka-till1-2026-11-30-z1"));
    let lines: Vec<(u32, Option<&str>, i64)> = z
        .lines
        .iter()
        .map(|l| (l.account, l.vat_code.as_deref(), l.amount))
        .collect();
    assert_eq!(
        lines,
        [
            (1903, None, 45_050),
            (1900, None, 12_000),
            (3000, Some("3"), -25_000),
            (3030, Some("31"), -20_050),
            (3200, Some("6"), -12_000),
        ]
    );
    assert!(z.lines.iter().all(|l| l.posting_date == DATE));

    for v in [fees(), payout()] {
        let p = po.post_voucher(&v, &hint()).await.unwrap();
        assert_eq!(p.requests, 1, "ids are cached: only the post");
    }
    let booked = sim.vouchers();
    assert_eq!(
        booked[1].journal,
        luka::bookkeeping::poweroffice::map::Journal::Bank
    );
    assert_eq!(
        booked[2].journal,
        luka::bookkeeping::poweroffice::map::Journal::Bank
    );
    assert_eq!(sim.balance(1903), 0, "Vipps clearing is settled");
    assert_eq!(sim.balance(1920), 43_816);
    assert_eq!(sim.balance(7770), 1_234);
    assert_eq!(sim.balance(3030), -20_050);
    check_against_spec(&sim);
    sim.shutdown().await;
}

#[tokio::test]
async fn lookups_are_cached_across_a_day_of_vouchers() {
    let sim = start(PowerOfficeSimConfig::default()).await;
    let po = client(&sim);
    let mut total = 0;
    for v in [daily_sales(1), fees(), payout()] {
        total += po.post_voucher(&v, &hint()).await.unwrap().requests;
    }
    // 1 token + 1 account look-up + 1 VAT code look-up + 3 posts.
    println!("posting 3 vouchers took {} HTTP requests", sim.requests());
    assert_eq!(sim.requests(), 6);
    assert_eq!(total, 6);
    for (endpoint, n) in [
        (Endpoint::Token, 1),
        (Endpoint::GeneralLedgerAccounts, 1),
        (Endpoint::VatCodes, 1),
        (Endpoint::PostCashJournal, 1),
        (Endpoint::PostBankJournal, 2),
    ] {
        assert_eq!(sim.requests_to(endpoint), n, "{endpoint:?}");
    }
    check_against_spec(&sim);
}

#[tokio::test]
async fn an_unbalanced_voucher_is_refused_locally() {
    let sim = start(PowerOfficeSimConfig::default()).await;
    let po = client(&sim);
    let mut v = daily_sales(7);
    v.lines[0].amount += 1;
    let f = po.post_voucher(&v, &hint()).await.unwrap_err();
    assert_eq!(f.class, LOCAL);
    assert!(
        f.message.contains("Z7") && f.message.contains("does not balance"),
        "{}",
        f.message
    );
    assert!(matches!(verdict(f.class, 0.5), Verdict::Stop(_)));
    assert_eq!(sim.requests(), 0, "nothing was sent");
}

/// Sales units (issue 16, part 4): lines booked under a department go with
/// its id, looked up once by code; a department PowerOffice does not have
/// stops the voucher before anything is posted, naming the code and the
/// fix, and it is never posted without the dimension.
#[tokio::test]
async fn department_lines_go_with_their_ids_and_an_unknown_department_stops_the_voucher() {
    let sim = start(
        PowerOfficeSimConfig::default().with_departments(&[("10", "Fotball"), ("20", "Håndball")]),
    )
    .await;
    let po = client(&sim);
    let mut z = daily_sales(3);
    for (i, l) in z.lines.iter_mut().enumerate() {
        l.department = Some(if i % 2 == 0 { "10" } else { "20" }.into());
    }
    let fees = fees().in_department(Some("20"));
    let p = po.post_voucher(&z, &hint()).await.unwrap();
    // Token, accounts, VAT codes, departments, post.
    assert_eq!(p.requests, 5);
    assert_eq!(po.post_voucher(&fees, &hint()).await.unwrap().requests, 1);
    assert_eq!(sim.requests_to(Endpoint::Departments), 1, "looked up once");
    let booked = sim.vouchers();
    let (ten, twenty) = (sim.department_id("10"), sim.department_id("20"));
    assert!(ten.is_some() && ten != Some(10));
    let posted: Vec<_> = booked[0].lines.iter().map(|l| l.department_id).collect();
    let sent: Vec<_> = z
        .lines
        .iter()
        .filter(|l| l.amount != 0)
        .map(|l| {
            if l.department.as_deref() == Some("10") {
                ten
            } else {
                twenty
            }
        })
        .collect();
    assert_eq!(posted, sent);
    assert!(
        booked[1]
            .lines
            .iter()
            .all(|l| l.department.as_deref() == Some("20"))
    );

    // Department 30 is not in the client: refused here, nothing posted.
    let before = sim.requests_to(Endpoint::PostCashJournal);
    let mut unknown = daily_sales(4);
    unknown.lines[0].department = Some("30".into());
    let f = po.post_voucher(&unknown, &hint()).await.unwrap_err();
    assert_eq!(f.class, LOCAL);
    assert!(
        f.message
            .contains("voucher Z4: department 30 does not exist in PowerOffice Go")
            && f.message.contains("create it there")
            && f.message.contains("`department`")
            && f.message.contains("luka.toml"),
        "{}",
        f.message
    );
    assert!(matches!(verdict(f.class, 0.5), Verdict::Stop(_)));
    assert_eq!(sim.requests_to(Endpoint::PostCashJournal), before);
    assert_eq!(sim.vouchers().len(), 2);
    // Made inactive after the look-up: PowerOffice itself refuses the line
    // (the simulator checks every DepartmentId), and nothing is booked.
    sim.set_department_active("20", false);
    let mut inactive = daily_sales(5);
    inactive.lines[0].department = Some("20".into());
    let f = po.post_voucher(&inactive, &hint()).await.unwrap_err();
    assert!(
        f.message.contains("Department 20 is not active"),
        "{}",
        f.message
    );
    assert_eq!(sim.vouchers().len(), 2);
    check_against_spec(&sim);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_lost_answer_and_a_retry_post_exactly_once() {
    let sim = start(PowerOfficeSimConfig::default()).await;
    let po = client(&sim);
    sim.set_faults(PowerOfficeFaults {
        endpoints: vec![Endpoint::PostCashJournal],
        drop_response_next: 1,
        ..Default::default()
    });
    let f = po.post_voucher(&daily_sales(1), &hint()).await.unwrap_err();
    assert!(f.class == RetryClass::NoAnswer, "{f:?}");
    assert_eq!(
        sim.vouchers().len(),
        1,
        "applied before the answer was lost"
    );

    let retry = po.post_voucher(&daily_sales(1), &hint()).await.unwrap();
    let booked = sim.vouchers();
    assert_eq!(booked.len(), 1, "exactly one voucher upstream");
    assert_eq!(
        retry,
        Posted {
            id: booked[0].id.clone(),
            already_posted: true,
            requests: 2,
        },
        "refused as a duplicate, then recognised via AccountTransactions"
    );
    assert_eq!(sim.balance(1903), 45_050, "not doubled");
    // A third try (a second `luka sync`) ends the same way.
    let again = po.post_voucher(&daily_sales(1), &hint()).await.unwrap();
    assert!(again.already_posted && again.id == booked[0].id);
    assert_eq!(sim.vouchers().len(), 1);
    check_against_spec(&sim);
}

#[tokio::test]
async fn a_server_error_is_retried_and_then_posts() {
    let sim = start(PowerOfficeSimConfig::default()).await;
    let po = client(&sim);
    sim.set_faults(PowerOfficeFaults {
        endpoints: vec![Endpoint::PostBankJournal],
        error_5xx_next: 1,
        ..Default::default()
    });
    let f = po.post_voucher(&fees(), &hint()).await.unwrap_err();
    assert_eq!(f.class, RetryClass::Transient);
    assert!(matches!(verdict(f.class, 0.5), Verdict::RetryAfter(_)));
    let p = po.post_voucher(&fees(), &hint()).await.unwrap();
    assert!(!p.already_posted, "the 503 applied nothing");
    assert_eq!(sim.vouchers().len(), 1);
    check_against_spec(&sim);
}

#[tokio::test]
async fn throttling_surfaces_retry_after() {
    let sim = start(PowerOfficeSimConfig::default()).await;
    let po = client(&sim);
    sim.set_faults(PowerOfficeFaults {
        endpoints: vec![Endpoint::PostCashJournal],
        throttle_next: 1,
        retry_after: Duration::from_secs(2),
        ..Default::default()
    });
    let f = po.post_voucher(&daily_sales(1), &hint()).await.unwrap_err();
    assert_eq!(
        f.class,
        RetryClass::Throttled {
            after: Some(Duration::from_secs(2))
        }
    );
    match verdict(f.class, 0.0) {
        Verdict::RetryAfter(d) => assert!(d >= Duration::from_secs(2), "{d:?}"),
        v => panic!("{v:?}"),
    }
    assert!(sim.vouchers().is_empty(), "a 429 applies nothing");
    assert!(
        !po.post_voucher(&daily_sales(1), &hint())
            .await
            .unwrap()
            .already_posted
    );
    check_against_spec(&sim);
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once() {
    let sim = start(PowerOfficeSimConfig::default()).await;
    let po = client(&sim);
    po.post_voucher(&daily_sales(1), &hint()).await.unwrap();
    sim.expire_tokens();
    let p = po.post_voucher(&fees(), &hint()).await.unwrap();
    assert_eq!(p.requests, 3, "refused post + token + post");
    assert_eq!(po.token_fetches(), 2);
    assert_eq!(sim.requests_to(Endpoint::Token), 2);
    let refused: Vec<Exchange> = sim
        .exchanges()
        .into_iter()
        .filter(|e| e.status == Some(401))
        .collect();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].operation, "PostBankJournal");
    assert_eq!(sim.vouchers().len(), 2);
    check_against_spec(&sim);
}

#[tokio::test]
async fn a_token_is_renewed_before_it_expires() {
    // Luka renews at 90 % of a short lifetime, so no call meets a lapsed token.
    let sim = start(PowerOfficeSimConfig {
        token_lifetime: Duration::from_secs(1),
        ..PowerOfficeSimConfig::default()
    })
    .await;
    let po = client(&sim);
    po.post_voucher(&daily_sales(1), &hint()).await.unwrap();
    // The scenario: 95 % of the token's life passes before the next post.
    tokio::time::sleep(Duration::from_millis(950)).await;
    let p = po.post_voucher(&fees(), &hint()).await.unwrap();
    assert_eq!(p.requests, 2, "token + post, no 401");
    assert_eq!(po.token_fetches(), 2);
    assert!(sim.exchanges().iter().all(|e| e.status != Some(401)));
    check_against_spec(&sim);
}

#[tokio::test]
async fn bad_credentials_stop_with_a_clear_message_and_no_secret() {
    let sim = start(PowerOfficeSimConfig::default()).await;
    let real = sim.credentials();
    let wrong_client_key = "wrong-client-key-5e1f";
    let po = PowerOfficeClient::new(PowerOfficeSettings {
        client_key: Secret::new(wrong_client_key),
        ..settings(&sim)
    })
    .unwrap();
    let f = po.post_voucher(&daily_sales(1), &hint()).await.unwrap_err();
    assert_eq!(f.class, RetryClass::Permanent(Permanent::Credentials));
    assert!(
        f.message.contains("invalid_client")
            && f.message
                .contains("application_key, client_key and subscription_key")
            && f.message.contains("luka.toml"),
        "{}",
        f.message
    );
    assert!(matches!(verdict(f.class, 0.5), Verdict::Stop(_)));
    let debug = format!("{po:?} {f:?}");
    for secret in [
        wrong_client_key,
        real.application_key.expose(),
        real.subscription_key.expose(),
    ] {
        assert!(
            !f.message.contains(secret),
            "secret in message: {}",
            f.message
        );
        assert!(!debug.contains(secret), "secret in Debug: {debug}");
    }

    // A wrong subscription key is refused by the gateway (401), same stop.
    let po = PowerOfficeClient::new(PowerOfficeSettings {
        subscription_key: Secret::new("wrong-subscription-9c2d"),
        ..settings(&sim)
    })
    .unwrap();
    let f = po.post_voucher(&daily_sales(1), &hint()).await.unwrap_err();
    assert_eq!(f.class, RetryClass::Permanent(Permanent::Credentials));
    assert!(
        f.message.contains("subscription key") && !f.message.contains("9c2d"),
        "{}",
        f.message
    );
    assert!(sim.vouchers().is_empty());
    let recorded = format!("{:?}", sim.exchanges());
    for secret in [
        real.application_key.expose(),
        real.client_key.expose(),
        real.subscription_key.expose(),
        "9c2d",
    ] {
        assert!(!recorded.contains(secret), "the recorder kept a secret");
    }
    check_against_spec(&sim);
}

#[tokio::test]
async fn an_unknown_account_stops_with_a_clear_message() {
    let sim = start(PowerOfficeSimConfig::default().without_account(3030)).await;
    let po = client(&sim);
    let f = po.post_voucher(&daily_sales(1), &hint()).await.unwrap_err();
    assert_eq!(f.class, LOCAL);
    assert_eq!(
        f.message,
        "voucher Z1: account 3030 does not exist in PowerOffice Go: create it or change \
         [bookkeeping.accounts] in luka.toml"
    );
    assert_eq!(
        sim.requests_to(Endpoint::PostCashJournal),
        0,
        "refused before posting"
    );
    // Vouchers that do not need the account still post.
    assert!(po.post_voucher(&fees(), &hint()).await.is_ok());

    // An account deleted after Luka looked it up: PowerOffice itself refuses.
    let sim2 = start(PowerOfficeSimConfig::default()).await;
    let po2 = client(&sim2);
    po2.post_voucher(&fees(), &hint()).await.unwrap();
    sim2.remove_account(1903);
    let f = po2.post_voucher(&payout(), &hint()).await.unwrap_err();
    assert_eq!(f.class, refused(Some(400)));
    assert!(
        f.message.contains("General ledger account with id ="),
        "{}",
        f.message
    );
    check_against_spec(&sim);
    check_against_spec(&sim2);
}

/// The simulator on its own, driven with plain reqwest: it refuses what
/// PowerOffice refuses and books nothing when it does.
#[tokio::test]
async fn the_simulator_refuses_like_poweroffice() {
    let sim = start(PowerOfficeSimConfig::default()).await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let keys = sim.credentials();
    let token: Value = http
        .post(sim.token_url())
        .basic_auth(
            keys.application_key.expose(),
            Some(keys.client_key.expose()),
        )
        .header("Ocp-Apim-Subscription-Key", keys.subscription_key.expose())
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(token["expires_in"], 1200);
    let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
    let api = |method: reqwest::Method, path: &str| {
        http.request(method, format!("{}{path}", sim.api_base_url()))
            .header("Authorization", &bearer)
            .header("Ocp-Apim-Subscription-Key", keys.subscription_key.expose())
    };
    let accounts: Vec<Value> = api(
        reqwest::Method::GET,
        "/GeneralLedgerAccounts?accountNos=1903,3000-3000",
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let ids: HashMap<i64, i64> = accounts
        .iter()
        .map(|a| (a["AccountNo"].as_i64().unwrap(), a["Id"].as_i64().unwrap()))
        .collect();
    assert_eq!(ids.len(), 2);
    let body = |amount: &str, reference: &str| {
        let text = format!(
            r#"{{"CurrencyCode":"NOK","VoucherDate":"{DATE}","ExternalImportReference":"{reference}",
            "VoucherLines":[
             {{"AccountId":{},"CurrencyAmount":{amount},"PostingDate":"{DATE}","VatId":null}},
             {{"AccountId":{},"CurrencyAmount":-100.00,"PostingDate":"{DATE}","VatId":null}}]}}"#,
            ids[&1903], ids[&3000]
        );
        serde_json::from_str::<Value>(&text).unwrap()
    };
    let post = |b: Value| {
        api(reqwest::Method::POST, "/Vouchers/CashJournals")
            .json(&b)
            .send()
    };

    let r = post(body("100.01", "direct-1")).await.unwrap();
    assert_eq!(r.status(), 400);
    let p: Value = r.json().await.unwrap();
    assert_eq!(
        p["Detail"],
        "The voucher is not balanced: the sum of the lines is 0.01."
    );
    assert!(sim.vouchers().is_empty());

    assert_eq!(
        post(body("100.00", "direct-1")).await.unwrap().status(),
        201
    );
    let dup = post(body("100.00", "direct-1")).await.unwrap();
    assert_eq!(dup.status(), 400);
    let p: Value = dup.json().await.unwrap();
    assert!(
        p["Detail"].as_str().unwrap().starts_with(
            "ExternalImportReference is already in use. 'direct-1' is used on (voucher) Id = "
        ),
        "{p}"
    );
    assert_eq!(sim.vouchers().len(), 1);
    assert_eq!(sim.balance(1903), 10_000);

    let mut wrong_id = body("100.00", "direct-2");
    wrong_id["VoucherLines"][0]["AccountId"] = json!(1903);
    assert_eq!(
        post(wrong_id).await.unwrap().status(),
        400,
        "an account number is not an id"
    );
    let no_token = http
        .post(format!("{}/Vouchers/CashJournals", sim.api_base_url()))
        .header("Ocp-Apim-Subscription-Key", keys.subscription_key.expose())
        .json(&body("100.00", "direct-3"))
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), 401);
    assert_eq!(sim.vouchers().len(), 1);
    check_against_spec(&sim);
}

// ---- the spec check ----------------------------------------------------------

struct Spec {
    api: Value,
    auth: Value,
}

fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("specs/bookkeeping");
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
        Spec {
            api: serde_yaml::from_str(&read("poweroffice-go-v2.openapi.yaml")).unwrap(),
            auth: serde_json::from_str(&read("poweroffice-go-v2.auth-endpoint.json")).unwrap(),
        }
    })
}

/// Inlines `$ref`s and turns OpenAPI 3.0 `nullable` into a `null` type.
fn to_json_schema(doc: &Value, node: &Value, depth: usize) -> Value {
    assert!(depth < 40, "recursive schema");
    match node {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                let target = doc
                    .pointer(r.trim_start_matches('#'))
                    .expect("dangling $ref");
                return to_json_schema(doc, target, depth + 1);
            }
            let mut out: serde_json::Map<String, Value> = map
                .iter()
                .filter(|(k, _)| {
                    !matches!(
                        k.as_str(),
                        "example" | "nullable" | "readOnly" | "description"
                    )
                })
                .map(|(k, v)| {
                    let v = if k == "properties" {
                        Value::Object(
                            v.as_object()
                                .unwrap()
                                .iter()
                                .map(|(n, s)| (n.clone(), to_json_schema(doc, s, depth + 1)))
                                .collect(),
                        )
                    } else {
                        to_json_schema(doc, v, depth + 1)
                    };
                    (k.clone(), v)
                })
                .collect();
            if map.get("nullable") == Some(&Value::Bool(true))
                && let Some(Value::String(t)) = out.get("type").cloned()
            {
                out.insert("type".into(), json!([t, "null"]));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| to_json_schema(doc, v, depth + 1))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn validate(doc: &Value, schema_name: &str, array: bool, value: &Value) -> Result<(), String> {
    let schema = to_json_schema(
        doc,
        &json!({"$ref": format!("#/components/schemas/{schema_name}")}),
        0,
    );
    let schema = if array {
        json!({"type": "array", "items": schema})
    } else {
        schema
    };
    let v = jsonschema::draft4::options()
        .should_validate_formats(true)
        .should_ignore_unknown_formats(true)
        .build(&schema)
        .map_err(|e| format!("{schema_name} does not compile: {e}"))?;
    let errors: Vec<String> = v
        .iter_errors(value)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("{schema_name}: {}", errors.join("; ")))
    }
}

/// Which spec file an answer's schema is in.
#[derive(Clone, Copy)]
enum Doc {
    Api,
    Auth,
}

/// (spec file, schema, is it a list) for an exchange's answer.
fn response_schema(e: &Exchange, status: u16) -> Option<(Doc, &'static str, bool)> {
    Some(match (e.operation.as_str(), status) {
        ("Token", 200) => (Doc::Auth, "TokenResponseDto", false),
        ("Token", 400) => (Doc::Auth, "ErrorResponseDto", false),
        // The API spec lists 429 without content; the gateway's body is the
        // auth spec's RateLimitResponseDto.
        (_, 429) => (Doc::Auth, "RateLimitResponseDto", false),
        ("GeneralLedgerAccounts", 200) => (Doc::Api, "GeneralLedgerAccountDto", true),
        ("VatCodes", 200) => (Doc::Api, "VatCodeDto", true),
        ("Departments", 200) => (Doc::Api, "DepartmentDto", true),
        ("AccountTransactions", 200) => (Doc::Api, "AccountTransactionDto", true),
        ("PostCashJournal", 201) | ("GetCashJournal", 200) => (Doc::Api, "CashVoucherDto", false),
        ("PostBankJournal", 201) | ("GetBankJournal", 200) => (Doc::Api, "BankVoucherDto", false),
        (_, 400 | 404 | 503) => (Doc::Api, "ProblemDetails", false),
        _ => return None,
    })
}

fn check_exchange(e: &Exchange) -> Result<(), String> {
    let Some(status) = e.status else {
        return Ok(());
    };
    let s = spec();
    if (200..300).contains(&status) {
        let request = match e.operation.as_str() {
            "PostCashJournal" => Some("CashVoucherPostDto"),
            "PostBankJournal" => Some("BankVoucherPostDto"),
            _ => None,
        };
        if let Some(name) = request {
            validate(
                &s.api,
                name,
                false,
                e.request_body.as_ref().ok_or("no request body")?,
            )?;
        }
        let header = |n: &str| {
            e.request_headers
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.as_str())
        };
        if header("ocp-apim-subscription-key") != Some("***") {
            return Err("no Ocp-Apim-Subscription-Key".into());
        }
        let scheme = if e.operation == "Token" {
            "Basic ***"
        } else {
            "Bearer ***"
        };
        if header("authorization") != Some(scheme) {
            return Err(format!("authorization is not {scheme}"));
        }
    }
    if let Some((doc, name, array)) = response_schema(e, status)
        && let Some(body) = &e.response_body
    {
        let doc = match doc {
            Doc::Api => &s.api,
            Doc::Auth => &s.auth,
        };
        validate(doc, name, array, body)?;
    }
    Ok(())
}

fn check_against_spec(sim: &PowerOfficeSimHandle) {
    let failures: Vec<String> = sim
        .exchanges()
        .iter()
        .filter_map(|e| {
            check_exchange(e)
                .err()
                .map(|err| format!("{} {} -> {:?}: {err}", e.method, e.path, e.status))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "exchanges break the spec:\n{}",
        failures.join("\n")
    );
}

/// The check above must be able to fail: known-bad bodies are refused.
#[test]
fn the_spec_check_catches_bad_bodies() {
    let s = spec();
    let line = json!({"AccountId": 1, "CurrencyAmount": 1.5, "PostingDate": DATE, "VatId": null});
    let good = json!({"CurrencyCode": "NOK", "VoucherDate": DATE, "VoucherLines": [line]});
    assert_eq!(validate(&s.api, "CashVoucherPostDto", false, &good), Ok(()));
    let mut no_vat = good.clone();
    no_vat["VoucherLines"][0]
        .as_object_mut()
        .unwrap()
        .remove("VatId");
    let mut extra = good.clone();
    extra["AccountNo"] = json!(1900);
    let mut text_amount = good.clone();
    text_amount["VoucherLines"][0]["CurrencyAmount"] = json!("1.50");
    let mut bad_date = good.clone();
    bad_date["VoucherDate"] = json!("30.11.2026");
    for bad in [no_vat, extra, text_amount, bad_date] {
        assert!(
            validate(&s.api, "CashVoucherPostDto", false, &bad).is_err(),
            "{bad}"
        );
    }
    let cid = json!({"CurrencyCode": "NOK", "VoucherDate": DATE,
        "VoucherLines": [{"AccountId": 1, "Cid": "1", "PostingDate": DATE, "VatId": null}]});
    assert!(validate(&s.api, "CashVoucherPostDto", false, &cid).is_err());
    assert_eq!(validate(&s.api, "BankVoucherPostDto", false, &cid), Ok(()));
    let token = json!({"access_token": "***", "token_type": "bearer", "expires_in": "1200"});
    assert!(validate(&s.auth, "TokenResponseDto", false, &token).is_err());
}
