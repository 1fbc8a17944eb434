//! A USB printer found by vendor and product id, driven with `nusb` (pure
//! Rust, no libusb), with real-time status over its bulk IN endpoint.
//!
//! It claims the printer-class interface, detaching the kernel's `usblp`
//! driver if bound, and gives it back when the job is done. It must never
//! hold the device between jobs, so a re-plugged printer is found again.
//! Not exercised by the test suite: no USB device exists on CI machines.

use std::{
    io::{Read, Write},
    time::Duration,
};

use nusb::{
    Interface, MaybeFuture,
    descriptors::TransferType,
    io::{EndpointRead, EndpointWrite},
    transfer::{Bulk, Direction, In, Out},
};

use super::driver::{PrinterDriver, query_status};
use super::error::PrintError;
use super::status::PrinterStatus;

/// USB interface class of printers.
const CLASS_PRINTER: u8 = 7;

pub struct UsbDriver {
    vendor_id: u16,
    product_id: u16,
    timeout: Duration,
}

/// The two bulk endpoints of one claimed interface, as one two-way line.
struct Line {
    out: EndpointWrite<Bulk>,
    input: Option<EndpointRead<Bulk>>,
}

impl Write for Line {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.out.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

impl Read for Line {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match &mut self.input {
            Some(r) => r.read(buf),
            None => Err(std::io::ErrorKind::Unsupported.into()),
        }
    }
}

impl UsbDriver {
    pub fn new(vendor_id: u16, product_id: u16) -> UsbDriver {
        UsbDriver {
            vendor_id,
            product_id,
            timeout: Duration::from_secs(3),
        }
    }

    fn target(&self) -> String {
        format!("USB {:04x}:{:04x}", self.vendor_id, self.product_id)
    }

    fn open(&self) -> Result<Line, PrintError> {
        let target = self.target();
        let io = |e: nusb::Error| PrintError::from_io(&target, e.into());
        let info = nusb::list_devices()
            .wait()
            .map_err(io)?
            .find(|d| d.vendor_id() == self.vendor_id && d.product_id() == self.product_id)
            .ok_or_else(|| PrintError::NotFound {
                target: target.clone(),
            })?;
        let number = info
            .interfaces()
            .find(|i| i.class() == CLASS_PRINTER)
            .or_else(|| info.interfaces().next())
            .map(|i| i.interface_number())
            .unwrap_or(0);
        let device = info.open().wait().map_err(io)?;
        let interface = device
            .detach_and_claim_interface(number)
            .wait()
            .map_err(io)?;
        let (out_addr, in_addr) = bulk_endpoints(&interface);
        let out_addr = out_addr
            .ok_or_else(|| PrintError::Config(format!("{target} has no bulk OUT endpoint")))?;
        let out = interface
            .endpoint::<Bulk, Out>(out_addr)
            .map_err(io)?
            .writer(4096)
            .with_write_timeout(self.timeout);
        let input = match in_addr {
            Some(a) => Some(
                interface
                    .endpoint::<Bulk, In>(a)
                    .map_err(io)?
                    .reader(64)
                    .with_read_timeout(self.timeout),
            ),
            None => None,
        };
        Ok(Line { out, input })
    }
}

fn bulk_endpoints(interface: &Interface) -> (Option<u8>, Option<u8>) {
    let Some(desc) = interface.descriptor() else {
        return (None, None);
    };
    let bulk = |dir: Direction| {
        desc.endpoints()
            .find(|e| e.transfer_type() == TransferType::Bulk && e.direction() == dir)
            .map(|e| e.address())
    };
    (bulk(Direction::Out), bulk(Direction::In))
}

impl PrinterDriver for UsbDriver {
    fn describe(&self) -> String {
        self.target()
    }

    fn send(&mut self, bytes: &[u8]) -> Result<(), PrintError> {
        let target = self.target();
        let mut line = self.open()?;
        line.write_all(bytes)
            .and_then(|_| line.flush())
            .map_err(|e| PrintError::from_io(&target, e))
    }

    fn status(&mut self) -> Result<Option<PrinterStatus>, PrintError> {
        let target = self.target();
        let mut line = self.open()?;
        if line.input.is_none() {
            return Ok(None);
        }
        query_status(&mut line, &target).map(Some)
    }
}
