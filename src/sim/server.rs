//! The simulator's HTTP side: its own accept loop (so a fault can close a
//! connection without any answer, as a lost response looks on the wire),
//! routing, fault injection and exchange recording.

use std::sync::Arc;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response};
use serde_json::Value;

use super::Faults;
use super::state::{Exchange, Reply, Shared, problem};

type Resp = Response<Full<Bytes>>;

/// Returned instead of a response to make hyper close the connection.
#[derive(Debug)]
struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on purpose (fault knob)")
    }
}
impl std::error::Error for DropConnection {}

pub async fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    loop {
        let (stream, _) = tokio::select! {
            r = listener.accept() => match r { Ok(s) => s, Err(_) => continue },
            _ = &mut stop => return,
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let io = hyper_util::rt::TokioIo::new(stream);
            let svc = hyper::service::service_fn(move |req| handle(shared.clone(), req));
            // An Err here is a dropped connection or a client that went away.
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(io, svc)
                .await;
        });
    }
}

fn json_response(status: u16, body: &Value, problem_json: bool) -> Resp {
    let ctype = if problem_json && status >= 400 {
        "application/problem+json"
    } else {
        "application/json"
    };
    Response::builder()
        .status(status)
        .header("content-type", ctype)
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

fn html(status: u16, body: String) -> Resp {
    Response::builder()
        .status(status)
        .header("content-type", "text/html; charset=utf-8")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Resp, DropConnection> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let headers = req.headers().clone();
    let header_bytes: u64 = headers
        .iter()
        .map(|(k, v)| (k.as_str().len() + v.len() + 4) as u64)
        .sum();
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Err(DropConnection),
    };
    let h = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();

    // The customer's phone page and the admin endpoints: no auth, no faults.
    match (method.clone(), segs.as_slice()) {
        (Method::GET, ["phone", token]) => return Ok(super_phone(&shared, token, None)),
        (Method::POST, ["phone", token, action]) => {
            let outcome = match shared.reference_by_token(token) {
                Some(r) if *action == "approve" => {
                    shared.customer(&r, crate::vipps::dto::State::Authorized)
                }
                Some(r) if *action == "reject" => {
                    shared.customer(&r, crate::vipps::dto::State::Aborted)
                }
                _ => Err(super::SimError("unknown payment or action".into())),
            };
            return Ok(super_phone(&shared, token, Some(outcome.map_err(|e| e.0))));
        }
        (Method::GET, ["sim", "payments"]) => {
            let list: Vec<Value> = shared
                .payments()
                .into_iter()
                .map(|p| serde_json::json!({"reference": p.reference, "state": p.state, "aggregate": p.aggregate, "captures": p.captures}))
                .collect();
            return Ok(json_response(200, &Value::Array(list), false));
        }
        (Method::POST, ["sim", "faults"]) => {
            return Ok(match serde_json::from_slice::<Faults>(&body) {
                Ok(f) => {
                    *shared.faults.lock().unwrap_or_else(|e| e.into_inner()) = f;
                    json_response(200, &Value::Null, false)
                }
                Err(e) => json_response(400, &serde_json::json!({"error": e.to_string()}), false),
            });
        }
        (Method::POST, ["sim", "payments", reference, action]) => {
            let r = if *action == "approve" {
                shared.customer(reference, crate::vipps::dto::State::Authorized)
            } else {
                shared.customer(reference, crate::vipps::dto::State::Aborted)
            };
            return Ok(match r {
                Ok(()) => json_response(200, &Value::Null, false),
                Err(e) => json_response(400, &serde_json::json!({"error": e.0}), false),
            });
        }
        _ => {}
    }

    let faults = shared
        .faults
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    if !faults.latency.is_zero() {
        tokio::time::sleep(faults.latency).await;
    }
    if shared.roll(faults.connection_reset_rate) {
        return Err(DropConnection);
    }
    let request_json: Option<Value> = serde_json::from_slice(&body).ok();
    let (operation, reply, applied) = if shared.roll(faults.error_5xx_rate) {
        (
            "fault",
            problem(503, "Service Unavailable", "simulated outage"),
            false,
        )
    } else if shared.roll(faults.rate_429) {
        (
            "fault",
            problem(429, "Too Many Requests", "simulated rate limit"),
            false,
        )
    } else {
        let (op, reply) = route(&shared, &method, &segs, &h, request_json.as_ref());
        (op, reply, true)
    };
    let retry_after = (reply.0 == 429).then(|| faults.retry_after.as_secs().max(1));
    let mut resp = json_response(reply.0, &reply.1, true);
    if let Some(secs) = retry_after
        && let Ok(v) = secs.to_string().parse()
    {
        resp.headers_mut().insert("retry-after", v);
    }
    let out_len = reply.1.to_string().len() as u64 + 100;
    shared.record(Exchange {
        method: method.to_string(),
        path: path.clone(),
        operation: operation.to_string(),
        status: reply.0,
        request: request_json,
        response: Some(reply.1.clone()),
        bytes_in: header_bytes + body.len() as u64 + path.len() as u64 + 20,
        bytes_out: out_len,
    });
    if applied && shared.roll(faults.drop_response_rate) {
        return Err(DropConnection);
    }
    Ok(resp)
}

fn route(
    shared: &Shared,
    method: &Method,
    segs: &[&str],
    h: &dyn Fn(&str) -> Option<String>,
    body: Option<&Value>,
) -> (&'static str, Reply) {
    if let (&Method::POST, ["accesstoken", "get"]) = (method, segs) {
        let g = |n| h(n).unwrap_or_default();
        return (
            "fetchAuthorizationTokenUsingPost",
            shared.issue_token(
                &g("client_id"),
                &g("client_secret"),
                &g("ocp-apim-subscription-key"),
                &g("merchant-serial-number"),
            ),
        );
    }
    let bearer = h("authorization").and_then(|a| a.strip_prefix("Bearer ").map(str::to_string));
    if !shared.token_ok(bearer.as_deref()) {
        return (
            "unauthorized",
            problem(
                401,
                "Unauthorized",
                "missing, unknown or expired access token",
            ),
        );
    }
    if h("ocp-apim-subscription-key").as_deref() != Some(shared.cfg.subscription_key.as_str())
        || h("merchant-serial-number").as_deref()
            != Some(shared.cfg.merchant_serial_number.as_str())
    {
        return (
            "forbidden",
            problem(
                403,
                "Forbidden",
                "subscription key or Merchant-Serial-Number does not match",
            ),
        );
    }
    let key = h("idempotency-key");
    let needs_key = |op: &'static str| -> Option<(&'static str, Reply)> {
        match &key {
            None => Some((
                op,
                problem(400, "Bad Request", "the Idempotency-Key header is required"),
            )),
            Some(k) if k.len() > 50 => Some((
                op,
                problem(
                    400,
                    "Bad Request",
                    "Idempotency-Key is longer than 50 characters",
                ),
            )),
            _ => None,
        }
    };
    let empty = Value::Null;
    let body = body.unwrap_or(&empty);
    let amount = body["modificationAmount"]["value"].as_i64().unwrap_or(0);
    match (method, segs) {
        (&Method::POST, ["epayment", "v1", "payments"]) => {
            if let Some(e) = needs_key("createPayment") {
                return e;
            }
            let reference = body["reference"].as_str().unwrap_or_default().to_string();
            let k = key.unwrap_or_default();
            (
                "createPayment",
                shared.idempotent("create", &reference, &k, body, |s| s.create(body)),
            )
        }
        (&Method::GET, ["epayment", "v1", "payments", r]) => {
            if shared.rate_limited(r, false) {
                return (
                    "getPayment",
                    problem(
                        429,
                        "Too Many Requests",
                        "more than the allowed reads per minute",
                    ),
                );
            }
            ("getPayment", shared.get(r))
        }
        (&Method::GET, ["epayment", "v1", "payments", r, "events"]) => {
            if shared.rate_limited(r, false) {
                return (
                    "getPaymentEventLog",
                    problem(
                        429,
                        "Too Many Requests",
                        "more than the allowed reads per minute",
                    ),
                );
            }
            ("getPaymentEventLog", shared.events(r))
        }
        (
            &Method::POST,
            [
                "epayment",
                "v1",
                "payments",
                r,
                op @ ("capture" | "cancel" | "refund"),
            ],
        ) => {
            let name = match *op {
                "capture" => "capturePayment",
                "cancel" => "cancelPayment",
                _ => "refundPayment",
            };
            if let Some(e) = needs_key(name) {
                return e;
            }
            let k = key.unwrap_or_default();
            // A replay is not a new modification; only count fresh ones.
            let reply = shared.idempotent(op, r, &k, body, |s| {
                if s.rate_limited(r, true) {
                    return problem(
                        429,
                        "Too Many Requests",
                        "more than the allowed modifications per minute",
                    );
                }
                match *op {
                    "capture" => s.capture(r, amount, &k),
                    "cancel" => s.cancel(r, &k),
                    _ => s.refund(r, amount, &k),
                }
            });
            (name, reply)
        }
        (&Method::POST, ["epayment", "v1", "test", "payments", r, "approve"]) => {
            match shared.customer(r, crate::vipps::dto::State::Authorized) {
                Ok(()) => ("forceApprove", (200, Value::Null)),
                Err(e) => ("forceApprove", problem(400, "Bad Request", &e.0)),
            }
        }
        _ => (
            "unknown",
            problem(404, "Not Found", "no such endpoint in the ePayment API"),
        ),
    }
}

fn super_phone(shared: &Shared, token: &str, outcome: Option<Result<(), String>>) -> Resp {
    let Some(reference) = shared.reference_by_token(token) else {
        return html(
            404,
            page("Ukjent betaling", "<p>Denne betalingen finnes ikke.</p>"),
        );
    };
    let Some(p) = shared.payment(&reference) else {
        return html(
            404,
            page("Ukjent betaling", "<p>Denne betalingen finnes ikke.</p>"),
        );
    };
    let amount = crate::domain::Money::new(p.amount.value, p.amount.currency);
    let desc = p.description.clone().unwrap_or_default();
    let note = match outcome {
        Some(Ok(())) => "<p class=ok>Registrert.</p>".to_string(),
        Some(Err(e)) => format!("<p class=err>{}</p>", escape(&e)),
        None => String::new(),
    };
    let body = if p.state == crate::vipps::dto::State::Created {
        format!(
            "<p class=amount>{amount}</p><p>{}</p>{note}\
             <form method=post action=\"/phone/{token}/approve\"><button class=yes>Godkjenn</button></form>\
             <form method=post action=\"/phone/{token}/reject\"><button class=no>Avvis</button></form>",
            escape(&desc)
        )
    } else {
        format!(
            "<p class=amount>{amount}</p>{note}<p>Status: <b>{:?}</b></p>",
            p.state
        )
    };
    html(200, page("Betal", &body))
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=nb><meta charset=utf-8><meta name=viewport content=\"width=device-width,initial-scale=1\">\
         <title>{title} – Luka treningssimulator</title><style>body{{font-family:sans-serif;max-width:26em;margin:1em auto;padding:0 1em;text-align:center}}\
         .banner{{background:#c00;color:#fff;padding:.5em;font-weight:bold}}.amount{{font-size:2.5em;margin:.5em 0}}\
         button{{font-size:1.4em;width:100%;padding:.8em;margin:.3em 0;border:0;border-radius:.4em;color:#fff}}\
         .yes{{background:#ff5b24}}.no{{background:#555}}.ok{{color:#070}}.err{{color:#c00}}</style>\
         <div class=banner>TRENING – Luka-simulator, ikke ekte Vipps</div><h1>{title}</h1>{body}</html>"
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
