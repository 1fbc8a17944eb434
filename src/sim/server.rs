//! The simulator's own accept loop: one hyper HTTP/1 connection task per socket.
//!
//! It exists (instead of `axum::serve`) so that, in test builds, a fault can make the
//! connection vanish mid-request (`abort.rs`), and so every request knows its peer. It
//! must never hold a connection open after shutdown beyond a short grace period.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt;

/// The address a request came from, put into every request's extensions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer(pub std::net::SocketAddr);

const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

pub(crate) async fn serve(listener: TcpListener, app: Router, mut stop: watch::Receiver<bool>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    conns.spawn(serve_connection(stream, peer, app.clone(), stop.clone()));
                }
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "sim accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        conns.abort_all();
    }
}

async fn serve_connection(
    stream: TcpStream,
    peer: std::net::SocketAddr,
    app: Router,
    mut stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    // Test builds: a fault can end this connection without an answer.
    #[cfg(feature = "testing")]
    let (control, aborted) = super::abort::channel(std::os::fd::AsRawFd::as_raw_fd(&stream));
    #[cfg(not(feature = "testing"))]
    let aborted = std::future::pending::<()>();
    tokio::pin!(aborted);
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        #[cfg(feature = "testing")]
        req.extensions_mut().insert(control.clone());
        req.extensions_mut().insert(Peer(peer));
        let app = app.clone();
        async move {
            Ok::<_, Infallible>(
                app.oneshot(req.map(axum::body::Body::new))
                    .await
                    .unwrap_or_else(|e| match e {}),
            )
        }
    });
    let conn =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let mut stopping = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "sim connection ended with an error");
                }
                return;
            }
            () = &mut aborted => {
                // Returning drops `conn`, and with it the socket, before any response.
                return;
            }
            changed = stop.changed(), if !stopping => {
                stopping = true;
                if changed.is_ok() {
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// A simulator bound and serving: where it listens, the base URL a client
/// on this machine uses, and the stop switch. Both simulators hold one.
pub(crate) struct Listening {
    pub(crate) addr: std::net::SocketAddr,
    /// `http://addr`, with a wildcard bind (`0.0.0.0`) replaced by loopback,
    /// which is reachable while "http://0.0.0.0" is not a usable URL.
    pub(crate) base_url: String,
    stop: watch::Sender<bool>,
    task: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Listening {
    /// Binds `listen`; the caller builds its router knowing the address.
    pub(crate) async fn bind(
        listen: std::net::SocketAddr,
    ) -> std::io::Result<(TcpListener, std::net::SocketAddr, String)> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let host = if addr.ip().is_unspecified() {
            std::net::SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), addr.port())
        } else {
            addr
        };
        Ok((listener, addr, format!("http://{host}")))
    }

    /// Serves `router` on the bound listener until [`Listening::stop`].
    pub(crate) fn serve(
        listener: TcpListener,
        router: Router,
        addr: std::net::SocketAddr,
        base_url: String,
    ) -> Listening {
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(serve(listener, router, stop_rx));
        Listening {
            addr,
            base_url,
            stop,
            task: std::sync::Mutex::new(Some(task)),
        }
    }

    /// Stops accepting, lets the connections finish, and waits for that.
    pub(crate) async fn stop(&self) {
        let _ = self.stop.send(true);
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}
