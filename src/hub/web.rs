//! The hub's HTTP side (axum): the API the tills call and the back office
//! pages, rendered on the server from `templates/` (minijinja, escaped),
//! in bokmål, with a few lines of CSS and no JavaScript.
//!
//! | route | what |
//! |---|---|
//! | `POST /api/pair` | a one-time code → till id and device credential |
//! | `POST /api/journal` | journal entries from a paired till (`Authorization: Bearer`) |
//! | `GET/POST /logg-inn`, `POST /logg-ut` | treasurer login (CSRF double-submit) and logout |
//! | `GET /omsetning?fra=&til=` | takings per till and payment method |
//! | `GET /kasser` | tills: paired, last seen, journal head, alerts |
//! | `POST /kasser/ny`, `/kasser/koble-fra` | "Legg til kasse": a one-time code (and its QR) for a till; unpair one (`web/tills.rs`) |
//! | `GET /api/catalogue` | the catalogue snapshot for a paired till (`ETag`, `If-None-Match` → 304) |
//! | `GET /katalog`, `POST /katalog/ny`, `/katalog/endre`, `/katalog/arkiver` | products and prices |
//! | `GET /katalog/csv`, `POST /katalog/import` | the catalogue as a CSV file, and a pasted one read in (`web/catalogue_csv.rs`) |
//! | `POST /katalog/gruppe/…`, `/katalog/flytt` | groups (new, rename, archive, ↑↓) and products ↑↓ in their group (`web/groups.rs`) |
//! | `GET /menyer`, `POST /menyer/…`, `/kasser/meny` | event menus, and the menu each till sells from (`web/menus.rs`) |
//! | `POST /api/status` | a paired till's report of itself (version, unsent, printer, Vipps) |
//! | `GET/POST /utsolgt` | sold-out marks for every till (treasurer and kioskansvarlig) |
//! | `POST /vipps/webhook` | Vipps' signed payment events (`web/vipps_hook.rs`, `hub::vipps_hooks`) |
//! | `GET /api/events` | a paired till's event stream (SSE): references to read now |
//!
//! A "kioskansvarlig" ([`Role::Kiosk`]) sees takings and marks products sold
//! out; every other page answers 403 for that role.
//! | `GET /z?fra=&til=`, `/z/{till}/{seq}` | every till's Z reports, and one's figures |
//! | `GET /z/saft?fra=&til=` | the club's SAF-T Cash Register file, streamed (`hub::saft`) |
//!
//! Cookies are HttpOnly and SameSite=Strict, and Secure unless the hub is
//! served over plain http on loopback; every form carries a CSRF token.
//! Bodies above [`MAX_BODY`] are refused with 413.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::Environment;
use serde::{Deserialize, Serialize};
use time::Date;

use super::catalogue::{ProductInput, etag};
use super::ingest::Upload;
use super::users::{LoginRefused, Role, Session};
use super::{Hub, HubError};
use crate::domain::Money;

mod catalogue_csv;
mod groups;
mod menus;
mod vipps_hook;
use catalogue_csv::ImportShown;
mod tills;

/// The largest request body the hub reads (an upload of a few hundred entries).
pub const MAX_BODY: usize = 1024 * 1024;

const SESSION_COOKIE: &str = "luka_hub";
const LOGIN_CSRF_COOKIE: &str = "luka_hub_login";

struct App {
    hub: Hub,
    secure: bool,
    pages: Environment<'static>,
    /// Wrong pairing codes in the current minute (see [`WRONG_CODES_PER_MINUTE`]).
    wrong_codes: std::sync::Mutex<(std::time::Instant, u32)>,
}

/// Wrong pairing codes the hub takes in a minute, from anyone, before it
/// answers 429 until the minute is over: guessing a 50-bit code at this
/// pace is hopeless, and a treasurer who mistypes waits a minute at most.
pub const WRONG_CODES_PER_MINUTE: u32 = 10;

impl App {
    /// Whether pairing is paused after too many wrong codes this minute.
    fn pairing_paused(&self) -> bool {
        let mut w = self.wrong_codes.lock().unwrap_or_else(|e| e.into_inner());
        if w.0.elapsed() >= std::time::Duration::from_secs(60) {
            *w = (std::time::Instant::now(), 0);
        }
        w.1 >= WRONG_CODES_PER_MINUTE
    }

    fn wrong_code(&self) {
        let mut w = self.wrong_codes.lock().unwrap_or_else(|e| e.into_inner());
        w.1 = w.1.saturating_add(1);
    }
}

type Shared = Arc<App>;

fn pages() -> Environment<'static> {
    let mut env = Environment::new();
    for (name, text) in [
        ("base.html", include_str!("templates/base.html")),
        ("login.html", include_str!("templates/login.html")),
        ("takings.html", include_str!("templates/takings.html")),
        ("tills.html", include_str!("templates/tills.html")),
        ("till_code.html", include_str!("templates/till_code.html")),
        ("catalogue.html", include_str!("templates/catalogue.html")),
        ("sold_out.html", include_str!("templates/sold_out.html")),
        ("forbidden.html", include_str!("templates/forbidden.html")),
        ("z.html", include_str!("templates/z.html")),
        ("z_report.html", include_str!("templates/z_report.html")),
        ("menus.html", include_str!("templates/menus.html")),
    ] {
        env.add_template(name, text)
            .expect("the hub's templates are part of the program and parse");
    }
    env
}

/// The hub's app: the router with its state.
pub fn app(hub: Hub, secure_cookies: bool) -> Router {
    let state = Arc::new(App {
        hub,
        secure: secure_cookies,
        pages: pages(),
        wrong_codes: std::sync::Mutex::new((std::time::Instant::now(), 0)),
    });
    Router::new()
        .route("/", get(|| async { Redirect::to("/omsetning") }))
        .route("/api/pair", post(api_pair))
        .route("/api/journal", post(api_journal))
        .route("/logg-inn", get(login_page).post(login))
        .route("/logg-ut", post(logout))
        .route("/omsetning", get(takings_page))
        .route("/kasser", get(tills_page))
        .route("/kasser/ny", post(tills::add))
        .route("/kasser/koble-fra", post(tills::remove))
        .route("/api/catalogue", get(api_catalogue))
        .route("/katalog", get(catalogue_page))
        .route("/katalog/ny", post(add_product))
        .route("/katalog/endre", post(edit_product))
        .route("/katalog/arkiver", post(archive_product))
        .route("/katalog/csv", get(catalogue_csv::export))
        .route("/katalog/import", post(catalogue_csv::import))
        .route("/api/status", post(api_status))
        .route("/utsolgt", get(sold_out_page).post(set_sold_out))
        .route("/z", get(z_page))
        .route("/z/saft", get(z_saft))
        .route("/z/{till}/{seq}", get(z_report_page))
        .merge(groups::routes())
        .merge(menus::routes())
        .route(super::vipps_hooks::WEBHOOK_PATH, post(vipps_hook::webhook))
        .route("/api/events", get(vipps_hook::events))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// A running hub server.
pub struct Serving {
    pub addr: SocketAddr,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Serving {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Listens on `addr` (port 0: any free port) and serves until shut down.
pub async fn serve(hub: Hub, addr: SocketAddr, secure_cookies: bool) -> std::io::Result<Serving> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let streams = hub.streams.clone();
    let router = app(hub, secure_cookies);
    let task = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stopped.wait_for(|s| *s).await;
                // The tills' event streams end, so their connections can.
                streams.close_all();
            })
            .await
    });
    Ok(Serving { addr, stop, task })
}

// ---- the API ----

fn api_error(status: u16, message: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
}

fn hub_error(e: HubError) -> Response {
    match e {
        HubError::Refused { status, message } => api_error(status, &message),
        other => {
            tracing::error!(error = %other, "the hub could not answer");
            api_error(503, "the hub cannot use its database now; try again later")
        }
    }
}

fn body_error(r: BytesRejection) -> Response {
    if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
        api_error(413, &format!("the request is larger than {MAX_BODY} bytes"))
    } else {
        api_error(r.status().as_u16(), "the request body could not be read")
    }
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body)
        .map_err(|e| format!("the request is not what the hub expects: {e}"))
}

#[derive(Deserialize)]
struct PairRequest {
    code: String,
}

async fn api_pair(State(app): State<Shared>, body: Result<Bytes, BytesRejection>) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(r) => return body_error(r),
    };
    let req: PairRequest = match parse_json(&body) {
        Ok(r) => r,
        Err(e) => return api_error(400, &e),
    };
    if app.pairing_paused() {
        return api_error(
            429,
            "too many wrong pairing codes in the last minute: wait a minute and try again",
        );
    }
    match app.hub.pair(&req.code).await {
        Ok(paired) => axum::Json(paired).into_response(),
        Err(e) => {
            if matches!(e, HubError::Refused { status: 404, .. }) {
                app.wrong_code();
            }
            hub_error(e)
        }
    }
}

/// The answer to a till's request without a device credential.
fn no_credential() -> Response {
    api_error(
        401,
        "no device credential: pair the till with `luka pair URL CODE`",
    )
}

/// The till a device credential is paired as, or the answer (401 when it
/// is no till's).
async fn device_till(app: &App, credential: &str) -> Result<String, Response> {
    match app.hub.till_of_credential(credential).await {
        Ok(Some(till)) => Ok(till),
        Ok(None) => Err(api_error(
            401,
            "the device credential is not valid (unpaired, or never paired): \
             pair the till again with `luka pair URL CODE`",
        )),
        Err(e) => Err(hub_error(e)),
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

async fn api_journal(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Some(credential) = bearer(&headers) else {
        return no_credential();
    };
    let body = match body {
        Ok(b) => b,
        Err(r) => return body_error(r),
    };
    let upload: Upload = match parse_json(&body) {
        Ok(u) => u,
        Err(e) => return api_error(400, &e),
    };
    // Read: the body (up to MAX_BODY) is not held through the ingest.
    drop(body);
    // The credential decides which till this device is; the upload names
    // the till its entries are of, and must name the same.
    let device = match app.hub.authenticate(&upload.till_id, credential).await {
        Ok(()) => upload.till_id.clone(),
        // A real device naming another till: say what it is paired as
        // (ingest refuses it, 403); anything else is simply not a device.
        Err(e) => match app.hub.till_of_credential(credential).await {
            Ok(Some(till)) => till,
            Ok(None) => return hub_error(e),
            Err(e) => return hub_error(e),
        },
    };
    match app.hub.ingest(&device, &upload).await {
        Ok(done) => axum::Json(done).into_response(),
        Err(e) => hub_error(e),
    }
}

// ---- the pages ----

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn set_cookie(app: &App, name: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if app.secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn render(app: &App, page: &str, ctx: minijinja::Value) -> Response {
    match app.pages.get_template(page).and_then(|t| t.render(ctx)) {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, page, "cannot render a page");
            (StatusCode::INTERNAL_SERVER_ERROR, "Siden kunne ikke vises.").into_response()
        }
    }
}

fn page_error(e: HubError) -> Response {
    tracing::error!(error = %e, "a back office page could not be made");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Html("<p>Huben får ikke kontakt med databasen sin akkurat nå. Prøv igjen om litt.</p>"),
    )
        .into_response()
}

/// The logged-in session, or the redirect to the login page.
async fn session(app: &App, headers: &HeaderMap) -> Result<(String, Session), Response> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return Err(Redirect::to("/logg-inn").into_response());
    };
    match app.hub.session(&token).await {
        Ok(Some(s)) => Ok((token, s)),
        Ok(None) => Err(Redirect::to("/logg-inn").into_response()),
        Err(e) => Err(page_error(e)),
    }
}

/// The session of a treasurer, or the answer: the login page, or 403 for
/// a kioskansvarlig (who may see takings and mark sold out only).
async fn treasurer(app: &App, headers: &HeaderMap) -> Result<(String, Session), Response> {
    let (token, s) = session(app, headers).await?;
    if s.role != Role::Treasurer {
        let mut resp = render(
            app,
            "forbidden.html",
            minijinja::context! { user => s.user, csrf => s.csrf, role => s.role },
        );
        *resp.status_mut() = StatusCode::FORBIDDEN;
        return Err(resp);
    }
    Ok((token, s))
}

fn login_form(app: &App, error: Option<&str>, name: &str, status: StatusCode) -> Response {
    let csrf = super::token::random_token();
    let mut resp = render(
        app,
        "login.html",
        minijinja::context! { csrf => csrf, error => error, name => name, user => None::<String> },
    );
    *resp.status_mut() = status;
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(app, LOGIN_CSRF_COOKIE, &csrf, 3600),
    );
    resp
}

async fn login_page(State(app): State<Shared>) -> Response {
    login_form(&app, None, "", StatusCode::OK)
}

#[derive(Deserialize)]
struct LoginForm {
    csrf: String,
    name: String,
    password: String,
}

async fn login(
    State(app): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !super::token::same(expected.as_bytes(), f.csrf.as_bytes()) {
        return login_form(
            &app,
            Some("Skjemaet var utløpt. Prøv igjen."),
            &f.name,
            StatusCode::FORBIDDEN,
        );
    }
    match app.hub.login(&f.name, &f.password).await {
        Ok(Ok(token)) => {
            let mut resp = Redirect::to("/omsetning").into_response();
            let h = resp.headers_mut();
            h.append(
                header::SET_COOKIE,
                set_cookie(&app, SESSION_COOKIE, &token, 12 * 3600),
            );
            h.append(
                header::SET_COOKIE,
                set_cookie(&app, LOGIN_CSRF_COOKIE, "", 0),
            );
            resp
        }
        Ok(Err(LoginRefused::Wrong)) => login_form(
            &app,
            Some("Feil brukernavn eller passord."),
            &f.name,
            StatusCode::UNAUTHORIZED,
        ),
        Ok(Err(LoginRefused::Locked)) => login_form(
            &app,
            Some("For mange feil forsøk: kontoen er låst i 15 minutter."),
            &f.name,
            StatusCode::TOO_MANY_REQUESTS,
        ),
        Err(e) => page_error(e),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(
    State(app): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    let (token, s) = match session(&app, &headers).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    if !s.csrf_ok(&f.csrf) {
        return (StatusCode::FORBIDDEN, "Ugyldig skjema.").into_response();
    }
    if let Err(e) = app.hub.logout(&token).await {
        return page_error(e);
    }
    let mut resp = Redirect::to("/logg-inn").into_response();
    resp.headers_mut()
        .append(header::SET_COOKIE, set_cookie(&app, SESSION_COOKIE, "", 0));
    resp
}

#[derive(Deserialize)]
struct Range {
    fra: Option<String>,
    til: Option<String>,
    /// One till only (empty: every till).
    kasse: Option<String>,
    /// `1`: training sales too.
    trening: Option<String>,
}

fn parse_date(s: Option<&str>) -> Option<Date> {
    Date::parse(
        s?.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

fn kr(ore: i64) -> String {
    Money::nok(ore).to_string()
}

fn method_name(m: &str) -> &str {
    match m {
        "cash" => "Kontant",
        "vipps" => "Vipps",
        "card" => "Kort",
        other => other,
    }
}

/// Today's business date in Norway.
fn today() -> Date {
    crate::domain::local_time::to_oslo(time::OffsetDateTime::now_utc()).date()
}

/// The hourly bars of the chart: height in per cent of the highest hour;
/// the hours up to the last with sales, at least 8 of them.
fn hour_bars(by_hour: &[(i16, i64)]) -> Vec<minijinja::Value> {
    let (Some(first), Some(last)) = (by_hour.first(), by_hour.last()) else {
        return Vec::new();
    };
    let top = by_hour.iter().map(|h| h.1.max(0)).max().unwrap_or(0).max(1);
    let to = last.0.max(7);
    let from = first.0.min(to - 7);
    (from..=to)
        .enumerate()
        .map(|(i, h)| {
            let net = by_hour.iter().find(|x| x.0 == h).map_or(0, |x| x.1);
            let pct = (net.max(0) * 100 / top) as i32;
            // Whole kroner over the bar.
            let short = if net == 0 {
                String::new()
            } else {
                Money::nok(net / 100 * 100)
                    .format_plain()
                    .trim_end_matches(",00")
                    .to_string()
            };
            minijinja::context! {
                x => i * 40, hour => format!("{h:02}"), kr => kr(net), short => short,
                height => pct, y => 100 - pct,
            }
        })
        .collect()
}

fn sold_rows(sold: &[super::takings::Sold], blank: &str) -> Vec<minijinja::Value> {
    sold.iter()
        .map(|s| {
            let label = if s.label.is_empty() { blank } else { &s.label };
            minijinja::context! { key => s.key, label => label, quantity => s.quantity, amount => kr(s.amount) }
        })
        .collect()
}

async fn takings_page(
    State(app): State<Shared>,
    headers: HeaderMap,
    Query(range): Query<Range>,
) -> Response {
    let (_, s) = match session(&app, &headers).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let today = today();
    let from = parse_date(range.fra.as_deref()).unwrap_or(today);
    let to = parse_date(range.til.as_deref()).unwrap_or(from).max(from);
    let till = range
        .kasse
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let training = range.trening.as_deref() == Some("1");
    let (t, tills) = match tokio::try_join!(
        app.hub.takings(from, to, till, training),
        app.hub.till_ids()
    ) {
        Ok(x) => x,
        Err(e) => return page_error(e),
    };
    let rows: Vec<_> = t
        .rows
        .iter()
        .map(|r| {
            minijinja::context! {
                till_id => r.till_id, method => method_name(&r.method), sales => kr(r.sales),
                returns => kr(r.returns), net => kr(r.net), count => r.count,
            }
        })
        .collect();
    let by_method: Vec<_> = t
        .by_method
        .iter()
        .map(|(m, n)| minijinja::context! { method => method_name(m), net => kr(*n) })
        .collect();
    let bars = hour_bars(&t.by_hour);
    render(
        &app,
        "takings.html",
        minijinja::context! {
            user => s.user, csrf => s.csrf, role => s.role, from => from.to_string(),
            to => to.to_string(), total => kr(t.total), sales => t.sales, rows => rows,
            by_method => by_method, till => t.till, tills => tills,
            chart_width => bars.len() * 40, bars => bars,
            products => sold_rows(&t.by_product, "(beløp uten vare)"),
            groups => sold_rows(&t.by_group, "(uten gruppe)"),
            operators => sold_rows(&t.by_operator, "(ukjent)"),
            departments => t.by_department.iter().map(|d| minijinja::context! {
                name => if d.department.is_empty() {
                    "Uten avdeling".to_string()
                } else {
                    format!("Avdeling {}", d.department)
                },
                net => kr(d.net),
                methods => d.by_method.iter()
                    .map(|(m, n)| format!("{} {}", method_name(m), kr(*n)))
                    .collect::<Vec<_>>()
                    .join(" · "),
            }).collect::<Vec<_>>(),
            // Today in the range: the page follows new sales on its own.
            live => to >= today, training => training,
        },
    )
}

async fn tills_page(State(app): State<Shared>, headers: HeaderMap) -> Response {
    let (_, s) = match treasurer(&app, &headers).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    tills::view(&app, &s, StatusCode::OK, None).await
}

// ---- the catalogue ----

/// Whether an `If-None-Match` header names `tag` (or is `*`).
fn none_match(headers: &HeaderMap, tag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == tag || t == "*")
}

async fn api_catalogue(State(app): State<Shared>, headers: HeaderMap) -> Response {
    let Some(credential) = bearer(&headers) else {
        return no_credential();
    };
    let till = match device_till(&app, credential).await {
        Ok(till) => till,
        Err(resp) => return resp,
    };
    if let Err(e) = app.hub.seen(&till).await {
        return hub_error(e);
    }
    let version = match app.hub.catalogue_version().await {
        Ok(v) => v,
        Err(e) => return hub_error(e),
    };
    if none_match(&headers, &etag(version)) {
        let mut resp = StatusCode::NOT_MODIFIED.into_response();
        if let Ok(v) = HeaderValue::from_str(&etag(version)) {
            resp.headers_mut().insert(header::ETAG, v);
        }
        return resp;
    }
    // The till's own menu, or the whole catalogue.
    match app.hub.snapshot_for(Some(&till)).await {
        Ok(snap) => {
            let tag = snap.etag();
            let mut resp = axum::Json(snap).into_response();
            let h = resp.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&tag) {
                h.insert(header::ETAG, v);
            }
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            resp
        }
        Err(e) => hub_error(e),
    }
}

fn vat_codes() -> Vec<minijinja::Value> {
    crate::domain::VatCode::ALL
        .iter()
        .map(|v| minijinja::context! { code => v.code(), label => v.to_string() })
        .collect()
}

/// What the "Ny vare" form held, to show it again after a refusal.
#[derive(Default, Deserialize, Serialize)]
struct NewProduct {
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    price: String,
    #[serde(default)]
    vat_code: String,
    #[serde(default)]
    position: String,
}

async fn catalogue_view(
    app: &App,
    s: &Session,
    status: StatusCode,
    error: Option<&str>,
    saved: Option<&str>,
    new: &NewProduct,
    import: &ImportShown,
) -> Response {
    let ((version, products), groups) = match tokio::try_join!(app.hub.products(), app.hub.groups())
    {
        Ok(p) => p,
        Err(e) => return page_error(e),
    };
    let sections = groups::sections(&groups, &products);
    let mut resp = render(
        app,
        "catalogue.html",
        minijinja::context! {
            user => s.user, csrf => s.csrf, role => s.role, version => version,
            sections => sections, groups => groups, empty => products.is_empty(),
            vat_codes => vat_codes(), error => error, saved => saved, new => new,
            import => import,
        },
    );
    *resp.status_mut() = status;
    resp
}

async fn catalogue_page(State(app): State<Shared>, headers: HeaderMap) -> Response {
    let (_, s) = match treasurer(&app, &headers).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    catalogue_view(
        &app,
        &s,
        StatusCode::OK,
        None,
        None,
        &NewProduct::default(),
        &ImportShown::default(),
    )
    .await
}

/// The session of a form post whose CSRF token is right, or the answer;
/// a treasurer's unless `anyone` (a kioskansvarlig may post too).
async fn form_session(
    app: &App,
    headers: &HeaderMap,
    csrf: &str,
    anyone: bool,
) -> Result<Session, Response> {
    let (_, s) = if anyone {
        session(app, headers).await?
    } else {
        treasurer(app, headers).await?
    };
    if !s.csrf_ok(csrf) {
        return Err((
            StatusCode::FORBIDDEN,
            Html("<p>Skjemaet var utløpt eller ugyldig: ingenting er endret. Last siden på nytt.</p>"),
        )
            .into_response());
    }
    Ok(s)
}

/// After a change: back to the list (303, so a reload does not post again),
/// or the list again with the refusal and nothing changed.
async fn after_change(
    app: &App,
    s: &Session,
    done: Result<i64, HubError>,
    new: &NewProduct,
) -> Response {
    match done {
        Ok(_) => Redirect::to("/katalog").into_response(),
        Err(HubError::Refused { status, message }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            catalogue_view(
                app,
                s,
                status,
                Some(&message),
                None,
                new,
                &ImportShown::default(),
            )
            .await
        }
        Err(e) => page_error(e),
    }
}

#[derive(Deserialize)]
struct ProductForm {
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(flatten)]
    input: ProductInput,
}

async fn add_product(
    State(app): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<ProductForm>,
) -> Response {
    let s = match form_session(&app, &headers, &f.csrf, false).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let done = app.hub.add_product(&f.id, &f.input).await;
    let typed = NewProduct {
        id: f.id,
        name: f.input.name,
        group: f.input.group,
        price: f.input.price,
        vat_code: f.input.vat_code,
        position: f.input.position,
    };
    after_change(&app, &s, done, &typed).await
}

async fn edit_product(
    State(app): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<ProductForm>,
) -> Response {
    let s = match form_session(&app, &headers, &f.csrf, false).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    // A refusal names the product, as the page lists several.
    let done = app
        .hub
        .update_product(&f.id, &f.input)
        .await
        .map_err(|e| match e {
            HubError::Refused { status, message } if status != 404 => HubError::Refused {
                status,
                message: format!("{}: {message}", f.id),
            },
            other => other,
        });
    after_change(&app, &s, done, &NewProduct::default()).await
}

#[derive(Deserialize)]
struct ArchiveForm {
    csrf: String,
    id: String,
    archived: String,
}

async fn archive_product(
    State(app): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<ArchiveForm>,
) -> Response {
    let s = match form_session(&app, &headers, &f.csrf, false).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let done = app.hub.set_archived(&f.id, f.archived == "1").await;
    after_change(&app, &s, done, &NewProduct::default()).await
}

// ---- till status and sold out ----

async fn api_status(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Some(credential) = bearer(&headers) else {
        return no_credential();
    };
    let body = match body {
        Ok(b) => b,
        Err(r) => return body_error(r),
    };
    let status: super::status::TillStatus = match parse_json(&body) {
        Ok(s) => s,
        Err(e) => return api_error(400, &e),
    };
    let till = match device_till(&app, credential).await {
        Ok(till) => till,
        Err(resp) => return resp,
    };
    match app.hub.set_status(&till, &status).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => hub_error(e),
    }
}

async fn sold_out_view(
    app: &App,
    s: &Session,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let (version, products) = match app.hub.products().await {
        Ok(p) => p,
        Err(e) => return page_error(e),
    };
    let products: Vec<_> = products
        .iter()
        .filter(|p| !p.archived && !p.group_archived)
        .map(|p| {
            minijinja::context! {
                id => p.id, name => p.name, group => p.group, sold_out => p.sold_out,
                price => kr(p.price),
            }
        })
        .collect();
    let mut resp = render(
        app,
        "sold_out.html",
        minijinja::context! {
            user => s.user, csrf => s.csrf, role => s.role, version => version,
            products => products, error => error,
        },
    );
    *resp.status_mut() = status;
    resp
}

async fn sold_out_page(State(app): State<Shared>, headers: HeaderMap) -> Response {
    let (_, s) = match session(&app, &headers).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    sold_out_view(&app, &s, StatusCode::OK, None).await
}

#[derive(Deserialize)]
struct SoldOutForm {
    csrf: String,
    id: String,
    sold_out: String,
}

async fn set_sold_out(
    State(app): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<SoldOutForm>,
) -> Response {
    let s = match form_session(&app, &headers, &f.csrf, true).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    match app.hub.set_sold_out(&f.id, f.sold_out == "1").await {
        Ok(_) => Redirect::to("/utsolgt").into_response(),
        Err(HubError::Refused { status, message }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            sold_out_view(&app, &s, status, Some(&message)).await
        }
        Err(e) => page_error(e),
    }
}

// ---- Z reports and the club's SAF-T file ----

/// The Z page's range: the dates asked for, else the last 31 days.
fn z_range(range: &Range) -> (Date, Date) {
    let today = crate::domain::local_time::to_oslo(time::OffsetDateTime::now_utc()).date();
    let to = parse_date(range.til.as_deref()).unwrap_or(today);
    let from = parse_date(range.fra.as_deref())
        .unwrap_or_else(|| to - time::Duration::days(30))
        .min(to);
    (from, to)
}

async fn z_page(
    State(app): State<Shared>,
    headers: HeaderMap,
    Query(range): Query<Range>,
) -> Response {
    let (_, s) = match treasurer(&app, &headers).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let (from, to) = z_range(&range);
    let lines = match app.hub.z_reports(from, to).await {
        Ok(l) => l,
        Err(e) => return page_error(e),
    };
    let total: i64 = lines.iter().map(|z| z.net).sum();
    let rows: Vec<_> = lines
        .iter()
        .map(|z| {
            minijinja::context! {
                till_id => z.till_id, seq => z.seq, number => z.number,
                date => z.business_date, made => format!("{} {}", z.made_date, z.made_time),
                count => z.sales_count, sales => kr(z.sales), returns => kr(z.returns),
                net => kr(z.net), difference => z.cash_difference.map(kr),
                short => z.cash_difference.is_some_and(|d| d != 0),
            }
        })
        .collect();
    render(
        &app,
        "z.html",
        minijinja::context! {
            user => s.user, csrf => s.csrf, role => s.role, from => from.to_string(), to => to.to_string(),
            rows => rows, total => kr(total), club => app.hub.club().is_some(),
        },
    )
}

fn row_list(rows: &[crate::domain::report::Row]) -> Vec<minijinja::Value> {
    rows.iter()
        .map(|r| minijinja::context! { label => r.label, count => r.count, amount => kr(r.amount.minor()) })
        .collect()
}

async fn z_report_page(
    State(app): State<Shared>,
    headers: HeaderMap,
    axum::extract::Path((till, seq)): axum::extract::Path<(String, i64)>,
) -> Response {
    let (_, s) = match treasurer(&app, &headers).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let r = match app.hub.z_report(&till, seq).await {
        Ok(Some(r)) => r,
        Ok(None) => {
            return (
                StatusCode::NOT_FOUND,
                Html("<p>Fant ingen Z-rapport der. <a href=\"/z\">Tilbake til Z-rapporter</a></p>"),
            )
                .into_response();
        }
        Err(e) => return page_error(e),
    };
    let m = |money: Money| kr(money.minor());
    let vat: Vec<_> = r
        .per_vat
        .iter()
        .map(|v| {
            minijinja::context! {
                code => v.code, rate => format!("{},{:02} %", v.rate_bp / 100, v.rate_bp % 100),
                gross => m(v.gross), vat => m(v.vat), net => m(v.net),
            }
        })
        .collect();
    let h = &r.header;
    let payments: Vec<_> = r
        .per_payment
        .iter()
        .map(|p| minijinja::context! { label => method_name(&p.key), count => p.count, amount => m(p.amount) })
        .collect();
    let counts = [
        ("Kvitteringer skrevet ut", r.receipts_printed.to_string()),
        ("Returkvitteringer", r.return_receipts_printed.to_string()),
        (
            "Kopier",
            format!("{} ({})", r.copies.count, m(r.copies.amount)),
        ),
        (
            "Treningssalg",
            format!("{} ({})", r.training.count, m(r.training.amount)),
        ),
        (
            "Avbrutte salg",
            format!("{} ({})", r.voids.count, m(r.voids.amount)),
        ),
        (
            "Linjekorrigeringer",
            format!("{} ({})", r.corrections.count, m(r.corrections.amount)),
        ),
        (
            "Skuff åpnet uten salg",
            r.drawer_openings_without_sale.to_string(),
        ),
        ("Prisendringer", r.price_changes.to_string()),
    ];
    let counts: Vec<_> = counts
        .iter()
        .map(|(l, v)| minijinja::context! { label => l, value => v })
        .collect();
    render(
        &app,
        "z_report.html",
        minijinja::context! {
            user => s.user, csrf => s.csrf, role => s.role, till_id => h.till_id, seq => seq,
            number => h.number, date => h.business_date, made_date => h.made_date,
            made_time => h.made_time, from_seq => h.from_seq, to_seq => h.to_seq,
            journal_head => h.journal_head, system => h.system, installation => h.installation,
            sales_count => r.sales.count, sales => m(r.sales.amount),
            sales_ex => m(r.sales_net_of_vat), returns_count => r.returns.count,
            returns => m(r.returns.amount), net => m(r.net),
            payments => payments, vat => vat, groups => row_list(&r.per_group),
            products => row_list(&r.per_product), operators => row_list(&r.per_operator),
            float => m(r.cash.float), cash_in => m(r.cash.cash_in), expected => m(r.cash.expected),
            counted => r.cash.counted.map(m), difference => r.cash.difference.map(m),
            counts => counts, grand_sales => kr(r.grand_totals.sales),
            grand_returns => kr(r.grand_totals.returns), grand_net => kr(r.grand_totals.net),
        },
    )
}

/// A `Write` that hands its bytes, 64 KiB at a time, to the response body.
struct BodyWriter {
    tx: tokio::sync::mpsc::Sender<std::io::Result<Bytes>>,
    buf: Vec<u8>,
}

const CHUNK: usize = 64 * 1024;

impl BodyWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the download was cancelled")
        })
    }
}

impl std::io::Write for BodyWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// The chunks as the body's stream; a few in flight at most, so a slow
/// download slows the writer instead of filling memory.
struct Chunks(tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>);

impl futures_core::Stream for Chunks {
    type Item = std::io::Result<Bytes>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

/// `GET /z/saft?fra=&til=`: the club's SAF-T file for the range, streamed
/// as it is written. What can be refused is refused before the first byte;
/// a failure later cuts the download short (and is logged), so a partial
/// file never looks complete.
async fn z_saft(
    State(app): State<Shared>,
    headers: HeaderMap,
    Query(range): Query<Range>,
) -> Response {
    if let Err(resp) = treasurer(&app, &headers).await {
        return resp;
    }
    let (from, to) = z_range(&range);
    let club = match app.hub.club_for_saft() {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "SAF-T download refused");
            return (
                StatusCode::CONFLICT,
                Html(
                    "<p>Klubben er ikke satt opp, så SAF-T-filen ville ikke navngi noe firma. \
                     Legg inn <code>[hub.club]</code> med navn, organisasjonsnummer og adresse i \
                     hubens luka.toml, og start huben på nytt.</p><p><a href=\"/z\">Tilbake</a></p>",
                ),
            )
                .into_response();
        }
    };
    let now = time::OffsetDateTime::now_utc();
    let stamp = crate::domain::local_time::to_oslo(now);
    let name = format!(
        "SAF-T Cash Register_{}_{:04}{:02}{:02}{:02}{:02}{:02}.xml",
        club.org_digits(),
        stamp.year(),
        stamp.month() as u8,
        stamp.day(),
        stamp.hour(),
        stamp.minute(),
        stamp.second()
    );
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let hub = app.hub.clone();
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let mut out = BodyWriter {
            tx: tx.clone(),
            buf: Vec::with_capacity(CHUNK),
        };
        let done = hub.write_saft_blocking(&handle, from, to, now, &mut out);
        let done = done.and_then(|s| {
            std::io::Write::flush(&mut out)
                .map(|_| s)
                .map_err(|source| crate::bookkeeping::saft::SaftError::Io {
                    path: "(download)".into(),
                    source,
                })
        });
        match done {
            Ok(s) => tracing::info!(%from, %to, registers = s.registers,
                transactions = s.transactions, bytes = s.bytes, "club SAF-T downloaded"),
            Err(e) => {
                tracing::error!(error = %e, %from, %to, "club SAF-T download cut short");
                let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
            }
        }
    });
    let mut resp = axum::body::Body::from_stream(Chunks(rx)).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}
