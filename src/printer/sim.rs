//! A thermal printer on loopback TCP: records what it would print and answers
//! real-time status queries, and can run out of paper or have its cover open.
//!
//! Stands in for a network printer on port 9100 in tests, in training mode
//! and in the fault campaign. It listens on 127.0.0.1 only and must never
//! bind any other address. Like a real printer it serves one client at a time
//! and answers `DLE EOT n` at once, even while out of paper.

use std::{
    io::{ErrorKind, Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    thread::JoinHandle,
    time::Duration,
};

use super::document::{Document, PaperWidth};
use super::interpret::{Command, interpret, next_command};

#[derive(Debug, Default)]
struct State {
    paper_out: bool,
    paper_near_end: bool,
    cover_open: bool,
    /// Like printers that ignore `DLE EOT`: queries get no reply.
    silent: bool,
    /// What came out on paper.
    printed: Vec<u8>,
    /// Received while it could not print; comes out when paper is loaded.
    pending: Vec<u8>,
    status_queries: usize,
    /// Real-time drawer pulses (`DLE DC4 1`), done at once like a printer.
    drawer_pulses: usize,
}

impl State {
    fn reply(&self, n: u8) -> u8 {
        let bit = |on: bool, mask: u8| if on { mask } else { 0 };
        0x12 | match n {
            1 => bit(self.paper_out || self.cover_open, 0x08),
            2 => bit(self.cover_open, 0x04) | bit(self.paper_out, 0x20),
            4 => bit(self.paper_out, 0x60) | bit(self.paper_near_end, 0x0C),
            _ => 0,
        }
    }
}

pub struct PrinterSim {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl PrinterSim {
    /// Starts on 127.0.0.1 with a free port (stand-in for 9100).
    pub fn start() -> std::io::Result<PrinterSim> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("printer-sim".into())
            .spawn(move || serve(listener, st, sp))?;
        Ok(PrinterSim {
            addr,
            state,
            stop,
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().expect("sim state"))
    }

    pub fn set_paper_out(&self, out: bool) {
        self.with(|s| s.paper_out = out);
    }

    /// A new roll: whatever waited in the buffer prints now.
    pub fn load_paper(&self) {
        self.with(|s| {
            s.paper_out = false;
            s.paper_near_end = false;
            flush_pending(s);
        });
    }

    pub fn set_paper_near_end(&self, near: bool) {
        self.with(|s| s.paper_near_end = near);
    }

    pub fn set_cover_open(&self, open: bool) {
        self.with(|s| {
            s.cover_open = open;
            flush_pending(s);
        });
    }

    /// Stops answering status queries, as some cheap printers never do.
    pub fn set_silent(&self, silent: bool) {
        self.with(|s| s.silent = silent);
    }

    /// The bytes that reached paper, status queries left out.
    pub fn printed(&self) -> Vec<u8> {
        self.with(|s| s.printed.clone())
    }

    /// Waits (up to 5 s) until at least `len` bytes came out: a job is on paper
    /// a moment after the driver's write returns, as with a real printer.
    pub fn wait_printed(&self, len: usize) -> Vec<u8> {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let printed = self.printed();
            if printed.len() >= len || std::time::Instant::now() > deadline {
                return printed;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The bytes waiting for paper or a closed cover.
    pub fn pending(&self) -> Vec<u8> {
        self.with(|s| s.pending.clone())
    }

    /// How many times the drawer was opened with the real-time pulse.
    pub fn drawer_pulses(&self) -> usize {
        self.with(|s| s.drawer_pulses)
    }

    pub fn status_queries(&self) -> usize {
        self.with(|s| s.status_queries)
    }

    /// What came out, one document per cut.
    pub fn receipts(&self, width: PaperWidth) -> Vec<Document> {
        interpret(&self.printed(), width)
    }
}

fn flush_pending(s: &mut State) {
    if !s.paper_out && !s.cover_open {
        let pending = std::mem::take(&mut s.pending);
        s.printed.extend_from_slice(&pending);
    }
}

impl Drop for PrinterSim {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept so the thread sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(listener: TcpListener, state: Arc<Mutex<State>>, stop: Arc<AtomicBool>) {
    for conn in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        if let Ok(conn) = conn {
            client(conn, &state, &stop);
        }
    }
}

/// One client until it hangs up. Bytes are parsed as commands so image data
/// that happens to contain `DLE EOT` is not mistaken for a status query.
fn client(mut conn: TcpStream, state: &Mutex<State>, stop: &AtomicBool) {
    let _ = conn.set_read_timeout(Some(Duration::from_millis(100)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !stop.load(Ordering::SeqCst) {
        match conn.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(_) => break,
        }
        let mut used = 0;
        while let Some((cmd, len)) = next_command(&buf[used..]) {
            let bytes = &buf[used..used + len];
            let mut s = state.lock().expect("sim state");
            if let Command::StatusQuery(n) = cmd {
                s.status_queries += 1;
                let reply = (!s.silent).then(|| s.reply(n));
                drop(s);
                if let Some(reply) = reply
                    && conn.write_all(&[reply]).is_err()
                {
                    return;
                }
            } else if matches!(cmd, Command::RealtimePulse) {
                s.drawer_pulses += 1;
            } else if s.paper_out || s.cover_open {
                s.pending.extend_from_slice(bytes);
            } else {
                s.printed.extend_from_slice(bytes);
            }
            used += len;
        }
        buf.drain(..used);
    }
}
