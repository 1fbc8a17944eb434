//! A loopback TCP proxy in front of the Vipps simulator. It passes bytes
//! through unchanged and does two things a test needs:
//!
//! - it notes every access token the simulator issues (read from the
//!   `access_token` field of the answers), because the simulator keeps them
//!   to itself and the secret scan must look for them;
//! - it can take the network away: `set_down(true)` cuts every open
//!   connection and closes the port (connections are refused, as when the
//!   4G router has no signal); `set_down(false)` listens on the same port again.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

#[derive(Default)]
struct Tasks {
    accept: Option<AbortHandle>,
    conns: Vec<AbortHandle>,
}

struct Inner {
    addr: SocketAddr,
    upstream: SocketAddr,
    tokens: Mutex<BTreeSet<String>>,
    tasks: Mutex<Tasks>,
    connections: AtomicU64,
}

#[derive(Clone)]
pub struct Proxy {
    inner: Arc<Inner>,
}

const NEEDLE: &[u8] = b"\"access_token\":\"";

/// Finds complete tokens in `window`, records them, and keeps only the tail
/// that may hold the start of the next one.
fn scan(window: &mut Vec<u8>, tokens: &Mutex<BTreeSet<String>>) {
    let mut keep_from = window.len().saturating_sub(NEEDLE.len());
    let mut at = 0;
    while let Some(pos) = find(&window[at..], NEEDLE).map(|p| p + at) {
        let start = pos + NEEDLE.len();
        match window[start..].iter().position(|b| *b == b'"') {
            Some(len) => {
                let token = String::from_utf8_lossy(&window[start..start + len]).into_owned();
                tokens.lock().unwrap().insert(token);
                at = start + len;
            }
            None => {
                keep_from = pos;
                break;
            }
        }
    }
    window.drain(..keep_from.min(window.len()));
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

async fn pipe(client: TcpStream, upstream: SocketAddr, inner: Arc<Inner>) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let up = async move {
        let _ = tokio::io::copy(&mut cr, &mut sw).await;
        let _ = sw.shutdown().await;
    };
    let down = async move {
        let mut buf = vec![0u8; 16 * 1024];
        let mut window = Vec::new();
        loop {
            let n = match sr.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            window.extend_from_slice(&buf[..n]);
            scan(&mut window, &inner.tokens);
            if cw.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = cw.shutdown().await;
    };
    tokio::join!(up, down);
}

impl Proxy {
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = Proxy {
            inner: Arc::new(Inner {
                addr: listener.local_addr().unwrap(),
                upstream,
                tokens: Mutex::default(),
                tasks: Mutex::default(),
                connections: AtomicU64::new(0),
            }),
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&self, listener: TcpListener) {
        let inner = self.inner.clone();
        let task = tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                inner.connections.fetch_add(1, Ordering::Relaxed);
                let conn = tokio::spawn(pipe(sock, inner.upstream, inner.clone()));
                let mut t = inner.tasks.lock().unwrap();
                t.conns.retain(|c| !c.is_finished());
                t.conns.push(conn.abort_handle());
            }
        });
        self.inner.tasks.lock().unwrap().accept = Some(task.abort_handle());
    }

    /// `http://127.0.0.1:PORT`, for the till's `[vipps] base_url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    /// Every access token seen in an answer so far.
    pub fn tokens(&self) -> Vec<String> {
        self.inner.tokens.lock().unwrap().iter().cloned().collect()
    }

    pub fn connections(&self) -> u64 {
        self.inner.connections.load(Ordering::Relaxed)
    }

    /// Down: every open connection is cut and new ones are refused. Up:
    /// the same port listens again.
    pub async fn set_down(&self, down: bool) {
        if down {
            let mut t = self.inner.tasks.lock().unwrap();
            if let Some(a) = t.accept.take() {
                a.abort();
            }
            for c in t.conns.drain(..) {
                c.abort();
            }
            return;
        }
        if self.inner.tasks.lock().unwrap().accept.is_some() {
            return;
        }
        // The aborted accept task drops its listener a moment later.
        for _ in 0..100 {
            if let Ok(l) = TcpListener::bind(self.inner.addr).await {
                self.serve(l);
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("could not listen on {} again", self.inner.addr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_split_across_reads_are_found() {
        let tokens = Mutex::default();
        let mut w = b"HTTP/1.1 200 OK\r\n\r\n{\"access_token\":\"abc".to_vec();
        scan(&mut w, &tokens);
        assert!(tokens.lock().unwrap().is_empty());
        w.extend_from_slice(b"def\",\"x\":1}{\"access_token\":\"ghi\"}");
        scan(&mut w, &tokens);
        let got: Vec<String> = tokens.lock().unwrap().iter().cloned().collect();
        assert_eq!(got, ["abcdef", "ghi"]);
    }
}
