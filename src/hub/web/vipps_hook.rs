//! The hub's two webhook routes: `POST /vipps/webhook`, where Vipps posts
//! its signed payment events (checked and taken in `hub::vipps_hooks`),
//! and `GET /api/events`, the stream a paired till keeps open to hear of
//! them (server-sent events: `event: payment`, `data: <reference>`, a
//! comment every [`KEEP_ALIVE`] so proxies and the till see it alive).

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use tokio::sync::{mpsc, oneshot};

use super::{Shared, api_error, bearer, body_error, device_till, hub_error, no_credential};
use crate::hub::vipps_hooks::Taken;
use crate::vipps::webhooks::Delivery;

/// How often an idle stream says it is alive.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

fn text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

pub(super) async fn webhook(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(r) => return body_error(r),
    };
    let d = Delivery {
        date: text(&headers, "x-ms-date"),
        content_sha256: text(&headers, "x-ms-content-sha256"),
        authorization: text(&headers, "authorization"),
        body: &body,
    };
    match app
        .hub
        .take_vipps_webhook(&d, time::OffsetDateTime::now_utc())
        .await
    {
        // A repeat is answered 200 like the first: Vipps tries again on any
        // other answer, and holds the webhook's later events behind it.
        Ok(taken) => axum::Json(serde_json::json!({
            "taken": taken != Taken::Again,
            "forwarded": taken == Taken::Forwarded,
        }))
        .into_response(),
        Err(e) => {
            if let crate::hub::HubError::Refused { status, message } = &e {
                tracing::warn!(status, "a Vipps webhook was refused: {message}");
                return api_error(*status, message);
            }
            hub_error(e)
        }
    }
}

/// The hints of one till's stream, as server-sent events. Dropping it
/// (the connection ended) ends its credential check too.
struct Hints {
    rx: mpsc::Receiver<String>,
    _alive: oneshot::Sender<()>,
}

impl futures_core::Stream for Hints {
    type Item = Result<Event, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx
            .poll_recv(cx)
            .map(|r| r.map(|reference| Ok(Event::default().event("payment").data(reference))))
    }
}

pub(super) async fn events(State(app): State<Shared>, headers: HeaderMap) -> Response {
    let Some(credential) = bearer(&headers) else {
        return no_credential();
    };
    let till = match device_till(&app, credential).await {
        Ok(till) => till,
        Err(resp) => return resp,
    };
    let rx = app.hub.open_event_stream(&till);
    tracing::info!(till = %till, "a till opened its event stream");
    let (alive, ended) = oneshot::channel();
    tokio::spawn(recheck(app.clone(), credential.to_string(), till, ended));
    let mut resp = Sse::new(Hints { rx, _alive: alive })
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response();
    // nginx would otherwise hold the events back in its buffer.
    resp.headers_mut().insert(
        "x-accel-buffering",
        axum::http::HeaderValue::from_static("no"),
    );
    resp
}

/// Checks an open stream's credential again every `Hub::stream_recheck`:
/// a till unpaired while its stream is open (from another process, such as
/// `luka hub remove-till`, whose unpairing cannot reach this one's streams)
/// loses the stream. A database that does not answer keeps the stream and
/// is asked again. Ends with the stream.
async fn recheck(app: Shared, credential: String, till: String, mut ended: oneshot::Receiver<()>) {
    let every = app.hub.stream_recheck();
    loop {
        tokio::select! {
            _ = &mut ended => return,
            _ = tokio::time::sleep(every) => {}
        }
        match app.hub.till_of_credential(&credential).await {
            Ok(Some(t)) if t == till => {}
            Ok(_) => {
                tracing::info!(till = %till, "the till was unpaired: its event stream ends");
                app.hub.close_event_stream(&till);
                return;
            }
            Err(e) => {
                tracing::debug!(till = %till, "cannot check the stream's credential now: {e}")
            }
        }
    }
}
