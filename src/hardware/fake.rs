//! Test doubles: [`FakePins`] records every pin write (so a test sees the
//! real pulse logic drive a pin high and low), [`FakePresser`] presses
//! buttons by pin number, and [`FakeHardware`] records the high-level calls
//! for UI tests that do not care about pins.
//!
//! Never used by the till itself; it must never touch real GPIO.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

use super::outputs::{OutputPins, PinHardware};
use super::pins::{Button, GpioConfig};
use super::{Devices, Hardware};

/// One write to an output pin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinWrite {
    pub pin: u8,
    pub high: bool,
}

/// The shared record of pin writes, with a way to wait for one.
#[derive(Clone, Default)]
pub struct PinLog {
    inner: Arc<(Mutex<Vec<PinWrite>>, Condvar)>,
}

impl PinLog {
    pub fn writes(&self) -> Vec<PinWrite> {
        self.inner
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Writes to one pin, in order.
    pub fn levels(&self, pin: u8) -> Vec<bool> {
        self.writes()
            .into_iter()
            .filter(|w| w.pin == pin)
            .map(|w| w.high)
            .collect()
    }

    /// Blocks until `pred` holds for the log or `limit` passes (a guard
    /// against hanging, not a timing assertion); returns whether it held.
    pub fn wait_until(&self, limit: Duration, pred: impl Fn(&[PinWrite]) -> bool) -> bool {
        let (lock, cv) = &*self.inner;
        let guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        let (guard, _) = cv
            .wait_timeout_while(guard, limit, |w| !pred(w))
            .unwrap_or_else(|e| e.into_inner());
        pred(&guard)
    }

    fn push(&self, w: PinWrite) {
        let (lock, cv) = &*self.inner;
        lock.lock().unwrap_or_else(|e| e.into_inner()).push(w);
        cv.notify_all();
    }
}

/// Output pins that only record.
pub struct FakePins {
    log: PinLog,
}

impl FakePins {
    pub fn new() -> (FakePins, PinLog) {
        let log = PinLog::default();
        (FakePins { log: log.clone() }, log)
    }
}

impl OutputPins for FakePins {
    fn set(&mut self, pin: u8, high: bool) {
        self.log.push(PinWrite { pin, high });
    }
}

/// Presses buttons by pin number, as a falling edge on that pin would.
#[derive(Clone)]
pub struct FakePresser {
    cfg: GpioConfig,
    tx: mpsc::Sender<Button>,
}

impl FakePresser {
    /// Returns the button the pin is wired to, if any (unwired pins do nothing).
    pub fn press(&self, pin: u8) -> Option<Button> {
        let b = self.cfg.button_for(pin)?;
        self.tx.try_send(b).ok().map(|_| b)
    }
}

/// The full GPIO stack of the till (pulse thread, button channel) on fake
/// pins: what a Pi would do, observable in a test.
pub fn fake_devices(cfg: &GpioConfig) -> (Devices, PinLog, FakePresser) {
    let (pins, log) = FakePins::new();
    let (tx, rx) = mpsc::channel(super::BUTTON_QUEUE);
    let hw = PinHardware::start(cfg.clone(), pins, None, "fake GPIO");
    let presser = FakePresser {
        cfg: cfg.clone(),
        tx,
    };
    (
        Devices {
            hardware: Arc::new(hw),
            buttons: rx,
        },
        log,
        presser,
    )
}

/// What [`FakeHardware`] was asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    Paid,
    Error(bool),
    Drawer,
}

/// Records calls; for tests of whoever drives the hardware.
#[derive(Clone, Default)]
pub struct FakeHardware {
    calls: Arc<Mutex<Vec<Call>>>,
}

impl FakeHardware {
    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn record(&self, c: Call) {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).push(c);
    }
}

impl Hardware for FakeHardware {
    fn paid(&self) {
        self.record(Call::Paid);
    }
    fn set_error(&self, on: bool) {
        self.record(Call::Error(on));
    }
    fn open_drawer(&self) {
        self.record(Call::Drawer);
    }
    fn describe(&self) -> String {
        "fake hardware (records calls)".into()
    }
}
