//! A printer on a serial port (RS-232 or a USB serial adapter), with
//! real-time status over the same line.
//!
//! Built on `serialport` without its `libudev` feature: we open a known path
//! and never enumerate ports, so the till needs no libudev. It must never
//! keep the port open between jobs, so a re-plugged adapter is picked up.

use std::{io::Write, path::PathBuf, time::Duration};

use super::driver::{PrinterDriver, query_status};
use super::error::PrintError;
use super::status::PrinterStatus;

pub struct SerialDriver {
    path: PathBuf,
    baud: u32,
    timeout: Duration,
}

impl SerialDriver {
    pub fn new(path: PathBuf, baud: u32) -> SerialDriver {
        SerialDriver {
            path,
            baud,
            timeout: Duration::from_secs(2),
        }
    }

    fn open(&self) -> Result<Box<dyn serialport::SerialPort>, PrintError> {
        let target = self.path.display().to_string();
        serialport::new(target.clone(), self.baud)
            .timeout(self.timeout)
            .open()
            .map_err(|e| PrintError::from_io(&target, e.into()))
    }
}

impl PrinterDriver for SerialDriver {
    fn describe(&self) -> String {
        format!("serial {} at {} baud", self.path.display(), self.baud)
    }

    fn send(&mut self, bytes: &[u8]) -> Result<(), PrintError> {
        let target = self.path.display().to_string();
        let mut port = self.open()?;
        port.write_all(bytes)
            .and_then(|_| port.flush())
            .map_err(|e| PrintError::from_io(&target, e))
    }

    fn status(&mut self) -> Result<Option<PrinterStatus>, PrintError> {
        let target = self.path.display().to_string();
        let mut port = self.open()?;
        query_status(&mut port, &target).map(Some)
    }
}
