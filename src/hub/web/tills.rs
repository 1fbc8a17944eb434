//! `POST /kasser/ny` and `POST /kasser/koble-fra`: the treasurer adds a
//! till (or asks a new code for one not paired) and unpairs one, from the
//! *Kasser* page (issue 15, "Pairing without SSH"). The code is shown once,
//! on the answer to the post (never in a URL, never stored unhashed, not
//! cached), with a QR of "ADDRESS CODE" that a till's USB scanner types
//! into its *Klubbens hub* dialog. Treasurers only.

use super::*;

#[derive(Deserialize)]
pub(super) struct TillForm {
    csrf: String,
    #[serde(default)]
    id: String,
}

/// The *Kasser* page, with a refusal when there is one.
pub(super) async fn view(
    app: &App,
    s: &Session,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    // With each till's event menu to choose (`web/menus.rs`).
    super::menus::tills_view(app, s, status, error).await
}

/// The refusal in the back office's words (the hub's own are English).
fn refusal(id: &str, status: u16) -> String {
    match status {
        400 => format!(
            "«{id}» kan ikke være en kasse-id: bruk bokstaver, sifre og bindestrek, f.eks. kiosk-2. \
             Ingenting er endret."
        ),
        409 => format!(
            "Kassen {id} er allerede koblet til en enhet. Er enheten borte, koble kassen fra \
             først og legg den til på nytt."
        ),
        404 => format!("Huben har ingen kasse {id}."),
        _ => "Huben avviste dette. Ingenting er endret.".into(),
    }
}

/// The *Kasser* page again with the refusal, under the hub's status.
async fn refused(app: &App, s: &Session, id: &str, status: u16) -> Response {
    let http = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    view(app, s, http, Some(&refusal(id, status))).await
}

/// The address a till types: the one this page was reached at (behind a
/// TLS proxy, the proxy passes the host on and the hub knows it is https).
fn hub_address(app: &App, headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    ok.then(|| {
        let scheme = if app.secure { "https" } else { "http" };
        format!("{scheme}://{host}")
    })
}

/// "ADDRESS CODE" as an SVG QR code, for a till's USB scanner.
fn qr_svg(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
    )
}

pub(super) async fn add(
    State(app): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<TillForm>,
) -> Response {
    let s = match form_session(&app, &headers, &f.csrf, false).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let id = f.id.trim().to_string();
    let code = match app.hub.add_till(&id).await {
        Ok(code) => code,
        Err(HubError::Refused { status, .. }) => return refused(&app, &s, &id, status).await,
        Err(e) => return page_error(e),
    };
    let address = hub_address(&app, &headers);
    let qr = address
        .as_deref()
        .and_then(|a| qr_svg(&format!("{a} {code}")));
    let mut resp = render(
        &app,
        "till_code.html",
        minijinja::context! {
            user => s.user, csrf => s.csrf, role => s.role, till => id, code => code,
            address => address, qr => qr.map(minijinja::Value::from_safe_string),
            minutes => crate::hub::pairing::CODE_LIFETIME.as_secs() / 60,
        },
    );
    // The code is shown once: never kept by a browser or a proxy.
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

pub(super) async fn remove(
    State(app): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<TillForm>,
) -> Response {
    let s = match form_session(&app, &headers, &f.csrf, false).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let id = f.id.trim().to_string();
    match app.hub.remove_till(&id).await {
        Ok(()) => Redirect::to("/kasser").into_response(),
        Err(HubError::Refused { status, .. }) => refused(&app, &s, &id, status).await,
        Err(e) => page_error(e),
    }
}
