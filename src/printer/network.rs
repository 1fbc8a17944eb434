//! A network printer on TCP port 9100 (raw/JetDirect), with real-time status.
//!
//! A short connection for the status query, another for the job, each closed
//! at once. It must never keep a socket open: printers serve one client at a
//! time, and an idle socket would make the printer look dead to the next job.

use std::{
    io::{ErrorKind, Write},
    net::{SocketAddr, TcpStream, ToSocketAddrs},
    time::Duration,
};

use super::driver::{PrinterDriver, query_status};
use super::error::PrintError;
use super::status::PrinterStatus;

pub const DEFAULT_PORT: u16 = 9100;

pub struct NetworkDriver {
    address: String,
    timeout: Duration,
}

impl NetworkDriver {
    /// `"192.168.1.50"` or `"192.168.1.50:9100"`; a host name works too.
    pub fn new(address: &str) -> NetworkDriver {
        let address = if address.contains(':') {
            address.to_string()
        } else {
            format!("{address}:{DEFAULT_PORT}")
        };
        NetworkDriver {
            address,
            timeout: Duration::from_secs(3),
        }
    }

    pub fn with_timeout(mut self, timeout: Duration) -> NetworkDriver {
        self.timeout = timeout;
        self
    }

    fn connect(&self) -> Result<TcpStream, PrintError> {
        let io = |e| PrintError::from_io(&self.address, e);
        let addr: SocketAddr = self
            .address
            .to_socket_addrs()
            .map_err(io)?
            .next()
            .ok_or_else(|| PrintError::Config(format!("address {} names no host", self.address)))?;
        let s = TcpStream::connect_timeout(&addr, self.timeout).map_err(io)?;
        s.set_read_timeout(Some(self.timeout)).map_err(io)?;
        s.set_write_timeout(Some(self.timeout)).map_err(io)?;
        s.set_nodelay(true).map_err(io)?;
        Ok(s)
    }
}

impl PrinterDriver for NetworkDriver {
    fn describe(&self) -> String {
        format!("network {}", self.address)
    }

    fn send(&mut self, bytes: &[u8]) -> Result<(), PrintError> {
        let mut s = self.connect()?;
        s.write_all(bytes)
            .and_then(|_| s.flush())
            .map_err(|e| PrintError::from_io(&self.address, e))
        // Dropping the socket closes it: the job is done and the printer free.
    }

    /// Some cheap network printers never answer `DLE EOT`. A printer that
    /// accepted the connection but stayed silent is "status unknown", not
    /// "unreachable": holding every sale for it would make it useless.
    fn status(&mut self) -> Result<Option<PrinterStatus>, PrintError> {
        let mut s = self.connect()?;
        match query_status(&mut s, &self.address) {
            Ok(status) => Ok(Some(status)),
            Err(PrintError::Unreachable { source, .. })
                if matches!(source.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
            {
                tracing::warn!(printer = %self.address, "no reply to the status query; printing without it");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}
