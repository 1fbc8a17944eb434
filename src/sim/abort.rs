//! Ending a connection without an answer, in test builds only (`--features
//! testing`): the fault injectors of both simulators use it to lose a
//! response (FIN, no bytes) or reset a connection (RST) mid-request.
//!
//! The accept loop (`server.rs`) puts a [`ConnControl`] into every request;
//! a fault sends an [`AbortKind`] on it and the connection task drops the
//! hyper future, so no byte of an answer is ever written. It must never
//! panic to do that.

use std::future::Future;
use std::os::fd::RawFd;

use tokio::sync::mpsc;

/// How to end a connection without answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AbortKind {
    /// Close normally (FIN): the client sees the connection end before a response.
    Drop,
    /// Close with RST (SO_LINGER 0): the client sees "connection reset by peer".
    Reset,
}

/// Put into every request's extensions so a fault can end its own connection.
#[derive(Debug, Clone)]
pub(crate) struct ConnControl(mpsc::UnboundedSender<AbortKind>);

/// The control for the connection on `fd`, and a future that completes when
/// a fault asks to end it (after setting up a reset, if that was asked).
pub(crate) fn channel(fd: RawFd) -> (ConnControl, impl Future<Output = ()>) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let asked = async move {
        match rx.recv().await {
            Some(AbortKind::Reset) => set_linger_zero(fd),
            Some(AbortKind::Drop) => {}
            // Every control is gone with its requests: nobody can ask any more.
            None => std::future::pending().await,
        }
    };
    (ConnControl(tx), asked)
}

/// Asks the connection task to close the socket (`kind`), then waits
/// forever: the task drops this future together with the connection, so no
/// byte of an answer is ever written. `fallback` is answered only when the
/// router runs without the simulator's accept loop (there is no socket).
pub(crate) async fn abort(
    conn: Option<ConnControl>,
    kind: AbortKind,
    fallback: impl FnOnce() -> axum::response::Response,
) -> axum::response::Response {
    match conn {
        Some(c) if c.0.send(kind).is_ok() => std::future::pending().await,
        _ => fallback(),
    }
}

/// SO_LINGER with a zero timeout makes close() send RST instead of FIN.
fn set_linger_zero(fd: RawFd) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: `fd` belongs to the TcpStream owned by the connection future, which is still
    // alive here (it is dropped right after); the option value is a valid `linger`.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        tracing::debug!("sim could not set SO_LINGER; the reset becomes a plain close");
    }
}
