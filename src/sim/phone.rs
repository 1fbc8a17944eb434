//! The "phone": the page a QR code from the simulator opens, where a trainee (or a test)
//! approves or rejects the payment as the customer would in the Vipps app.
//!
//! Plain server-rendered HTML, no scripts and no external assets, so it works on any phone
//! on the kiosk's network without internet. It is always labelled as the Luka training
//! simulator; it must never look like, or claim to be, the real Vipps app.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::{Shared, SimPayment};
use crate::domain::Money;
use crate::vipps::dto::State as PayState;

pub(crate) async fn page(State(sh): State<Arc<Shared>>, Path(token): Path<String>) -> Response {
    match payment_for(&sh, &token) {
        Some(p) => Html(render(&p, &token)).into_response(),
        None => not_found(),
    }
}

pub(crate) async fn approve(State(sh): State<Arc<Shared>>, Path(token): Path<String>) -> Response {
    answer(&sh, &token, true)
}

pub(crate) async fn reject(State(sh): State<Arc<Shared>>, Path(token): Path<String>) -> Response {
    answer(&sh, &token, false)
}

/// Post/redirect/get: a reload of the outcome page must not send the answer again.
/// A late tap (payment already settled or expired) just shows the current outcome.
fn answer(sh: &Shared, token: &str, approve: bool) -> Response {
    let Some(reference) = sh.lock().reference_for_phone_token(token) else {
        return not_found();
    };
    if let Err(e) = sh.answer(&reference, approve) {
        tracing::info!(reference = %reference, error = %e, "sim phone answer came too late");
    }
    Redirect::to(&format!("../{token}")).into_response()
}

/// The QR image the spec's default `IMAGE/SVG+XML` format points at: it encodes the phone
/// page, so scanning it with any camera app opens the approve screen.
pub(crate) async fn qr_svg(State(sh): State<Arc<Shared>>, Path(token): Path<String>) -> Response {
    if payment_for(&sh, &token).is_none() {
        return not_found();
    }
    let url = format!("{}/phone/{token}", sh.public_base);
    match qr_svg_text(&url) {
        Some(svg) => {
            let mut r = svg.into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("image/svg+xml"),
            );
            r
        }
        None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// PNG rendering is left out (it would need an image encoder); say so plainly.
pub(crate) async fn qr_png() -> Response {
    (
        StatusCode::NOT_IMPLEMENTED,
        "The Luka simulator renders QR codes as SVG or TEXT/TARGETURL only.",
    )
        .into_response()
}

fn payment_for(sh: &Shared, token: &str) -> Option<SimPayment> {
    let reference = sh.lock().reference_for_phone_token(token)?;
    sh.payment(&reference)
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(wrap("Ukjent betaling", "<p>Denne lenka høyrer ikkje til nokon betaling. / This link does not belong to any payment.</p>")),
    )
        .into_response()
}

pub(crate) fn qr_svg_text(data: &str) -> Option<String> {
    let code = qrcode::QrCode::new(data.as_bytes()).ok()?;
    let width = code.width();
    let colors = code.to_colors();
    let quiet = 4;
    let size = width + 2 * quiet;
    let mut path = String::new();
    for (i, c) in colors.iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (x, y) = (i % width + quiet, i / width + quiet);
            path.push_str(&format!("M{x} {y}h1v1h-1z"));
        }
    }
    Some(format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" shape-rendering="crispEdges"><rect width="100%" height="100%" fill="#fff"/><path fill="#000" d="{path}"/></svg>"##
    ))
}

fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '&' => "&amp;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&#39;".to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// "kr 149,50", the way the Vipps app shows an amount.
pub(crate) fn kroner(p: &SimPayment) -> String {
    Money::new(p.amount.value, p.amount.currency).to_string()
}

fn render(p: &SimPayment, token: &str) -> String {
    let description = p
        .description
        .as_deref()
        .map(|d| format!("<p class=desc>{}</p>", escape(d)))
        .unwrap_or_default();
    let outcome = match p.state {
        PayState::Created => format!(
            r#"<form method=post action="{t}/approve"><button class=ok type=submit>Godkjenn / Approve</button></form>
<form method=post action="{t}/reject"><button class=no type=submit>Avvis / Reject</button></form>"#,
            t = escape(token)
        ),
        PayState::Authorized => "<p class=result id=outcome>Betalt ✓ / Approved</p>".into(),
        PayState::Aborted => "<p class=result id=outcome>Avvist / Rejected</p>".into(),
        PayState::Expired => "<p class=result id=outcome>Utløpt / Expired</p>".into(),
        PayState::Terminated => {
            "<p class=result id=outcome>Avbrote av butikken / Cancelled by the shop</p>".into()
        }
        PayState::Unknown => "<p class=result id=outcome>Ukjent / Unknown</p>".into(),
    };
    let body = format!(
        "<p class=amount>{amount}</p>\n{description}\n<p class=ref>Ref. {reference}</p>\n{outcome}",
        amount = escape(&kroner(p)),
        reference = escape(&p.reference),
    );
    wrap("Betal", &body)
}

fn wrap(title: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="nn"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} – Luka treningssimulator</title>
<style>
body{{font-family:system-ui,sans-serif;margin:0;padding:1.5rem;max-width:28rem;margin:auto;text-align:center;background:#f6f4f1}}
.banner{{background:#ffd34d;color:#222;padding:.6rem;border-radius:.5rem;font-weight:600}}
.amount{{font-size:2.6rem;font-weight:700;margin:1.5rem 0 .5rem}}
.desc{{font-size:1.2rem}} .ref{{color:#666;font-size:.9rem}}
button{{width:100%;min-height:3.5rem;font-size:1.3rem;border:0;border-radius:.6rem;margin:.5rem 0;color:#fff}}
.ok{{background:#1b7f3b}} .no{{background:#b3261e}} .result{{font-size:1.6rem;font-weight:700}}
</style></head><body>
<p class=banner>Luka treningssimulator – ikkje ekte Vipps.<br>Luka training simulator – not real Vipps. No money moves.</p>
{body}
</body></html>
"#
    )
}
