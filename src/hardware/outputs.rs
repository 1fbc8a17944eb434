//! [`PinHardware`]: the [`Hardware`] behaviour (pulse the paid LED and
//! buzzer, hold the error LED, pulse the drawer relay) on top of any set of
//! output pins — rppal's on a Pi, `fake::FakePins` in tests.
//!
//! Owns the timing of pulses, on one small thread of its own so a pulse never
//! blocks the caller (the UI thread or a tokio worker). It must never decide
//! *when* to pulse: that is [`super::drive`]'s or the UI's job.

use std::sync::Mutex;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::Hardware;
use super::pins::GpioConfig;

/// Something that can drive output pins high or low.
pub trait OutputPins: Send + 'static {
    fn set(&mut self, pin: u8, high: bool);
}

enum Cmd {
    Pulse(Vec<u8>, Duration),
    Set(u8, bool),
}

/// [`Hardware`] on real (or fake) pins, from a checked [`GpioConfig`].
pub struct PinHardware {
    cfg: GpioConfig,
    tx: Option<mpsc::Sender<Cmd>>,
    thread: Option<JoinHandle<()>>,
    /// Whatever must stay alive for button presses to arrive (rppal's input
    /// pins and their interrupt threads). Dropped with the hardware.
    _inputs: Mutex<Option<Box<dyn Send>>>,
    label: &'static str,
}

impl PinHardware {
    /// Starts the pulse thread. Every output starts low.
    pub fn start(
        cfg: GpioConfig,
        mut pins: impl OutputPins,
        inputs: Option<Box<dyn Send>>,
        label: &'static str,
    ) -> PinHardware {
        let outputs = cfg.outputs();
        for &p in &outputs {
            pins.set(p, false);
        }
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("luka-gpio".into())
            .spawn(move || run(pins, rx, outputs))
            .ok();
        if thread.is_none() {
            tracing::error!("GPIO: cannot start the pulse thread; LEDs and relay stay off");
        }
        PinHardware {
            cfg,
            tx: Some(tx),
            thread,
            _inputs: Mutex::new(inputs),
            label,
        }
    }

    fn send(&self, cmd: Cmd) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(cmd);
        }
    }
}

impl Hardware for PinHardware {
    fn paid(&self) {
        let pins: Vec<u8> = [self.cfg.paid_led, self.cfg.buzzer]
            .into_iter()
            .flatten()
            .collect();
        if !pins.is_empty() {
            self.send(Cmd::Pulse(pins, self.cfg.pulse));
        }
    }

    fn set_error(&self, on: bool) {
        if let Some(p) = self.cfg.error_led {
            self.send(Cmd::Set(p, on));
        }
    }

    fn open_drawer(&self) {
        if let Some(p) = self.cfg.drawer_relay {
            self.send(Cmd::Pulse(vec![p], self.cfg.drawer_pulse));
        }
    }

    fn describe(&self) -> String {
        let pins: Vec<String> = self
            .cfg
            .assigned()
            .iter()
            .map(|(k, p)| format!("{k}=GPIO{p}"))
            .collect();
        format!("{}: {}", self.label, pins.join(", "))
    }
}

impl Drop for PinHardware {
    fn drop(&mut self) {
        // Closing the channel ends the thread, which turns every output off.
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The pulse thread: waits for a command or the next pulse end, whichever
/// comes first, so overlapping pulses (a buzzer and a drawer) each keep
/// their own length.
fn run(mut pins: impl OutputPins, rx: mpsc::Receiver<Cmd>, outputs: Vec<u8>) {
    let mut off_at: Vec<(u8, Instant)> = Vec::new();
    loop {
        let next = off_at.iter().map(|(_, t)| *t).min();
        let msg = match next {
            Some(t) => rx.recv_timeout(t.saturating_duration_since(Instant::now())),
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match msg {
            Ok(Cmd::Pulse(ps, length)) => {
                let until = Instant::now() + length;
                for p in ps {
                    off_at.retain(|(q, _)| *q != p);
                    pins.set(p, true);
                    off_at.push((p, until));
                }
            }
            Ok(Cmd::Set(p, high)) => {
                off_at.retain(|(q, _)| *q != p);
                pins.set(p, high);
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        let now = Instant::now();
        off_at.retain(|&(p, t)| {
            if t <= now {
                pins.set(p, false);
                false
            } else {
                true
            }
        });
    }
    for p in outputs {
        pins.set(p, false);
    }
}
