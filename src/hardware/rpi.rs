//! The Raspberry Pi's GPIO through rppal: output pins for [`PinHardware`]
//! and buttons as interrupts (falling edge, internal pull-up, debounced).
//!
//! The only file that imports rppal. It must never decide what a pulse or a
//! press means; it only maps pins to levels and edges to [`Button`]s.

use std::collections::HashMap;
use std::time::Duration;

use rppal::gpio::{Gpio, InputPin, Level, OutputPin, Trigger};
use tokio::sync::mpsc;

use super::HardwareError;
use super::outputs::{OutputPins, PinHardware};
use super::pins::{Button, GpioConfig};

/// Contact bounce of a typical arcade or tactile button stays under this.
const DEBOUNCE: Duration = Duration::from_millis(50);

/// Why opening the GPIO failed.
pub(super) enum OpenError {
    /// Not a Raspberry Pi (a PC, CI, a container): not an error for the till.
    NotAPi(String),
    Failed(HardwareError),
}

struct RppalOutputs {
    pins: HashMap<u8, OutputPin>,
}

impl OutputPins for RppalOutputs {
    fn set(&mut self, pin: u8, high: bool) {
        if let Some(p) = self.pins.get_mut(&pin) {
            p.write(if high { Level::High } else { Level::Low });
        }
    }
}

pub(super) fn open(
    cfg: &GpioConfig,
    buttons: mpsc::Sender<Button>,
) -> Result<PinHardware, OpenError> {
    let gpio = Gpio::new().map_err(|e| match e {
        rppal::gpio::Error::UnknownModel => OpenError::NotAPi(e.to_string()),
        e => OpenError::Failed(map_err(e, None)),
    })?;
    let mut outputs = HashMap::new();
    for pin in cfg.outputs() {
        let mut out = gpio
            .get(pin)
            .map_err(|e| OpenError::Failed(map_err(e, Some(pin))))?
            .into_output_low();
        // Leave LEDs and the relay off when Luka stops, whatever happens.
        out.set_reset_on_drop(true);
        outputs.insert(pin, out);
    }
    let mut inputs: Vec<InputPin> = Vec::new();
    for (pin, button) in cfg.buttons() {
        let mut input = gpio
            .get(pin)
            .map_err(|e| OpenError::Failed(map_err(e, Some(pin))))?
            .into_input_pullup();
        let tx = buttons.clone();
        input
            .set_async_interrupt(Trigger::FallingEdge, Some(DEBOUNCE), move |_| {
                // A full queue means nobody is reading presses; dropping one
                // is better than blocking rppal's interrupt thread.
                if tx.try_send(button).is_err() {
                    tracing::debug!(?button, "button press dropped: nobody is listening");
                }
            })
            .map_err(|e| OpenError::Failed(map_err(e, Some(pin))))?;
        inputs.push(input);
    }
    Ok(PinHardware::start(
        cfg.clone(),
        RppalOutputs { pins: outputs },
        Some(Box::new(inputs)),
        "Raspberry Pi GPIO",
    ))
}

fn map_err(e: rppal::gpio::Error, pin: Option<u8>) -> HardwareError {
    use rppal::gpio::Error as E;
    match e {
        E::PermissionDenied(path) => HardwareError::Permission(path),
        E::PinUsed(p) | E::PinNotAvailable(p) => HardwareError::PinUnavailable(p),
        e => HardwareError::Gpio {
            pin,
            detail: e.to_string(),
        },
    }
}
