//! GPIO on the till: a "paid" LED and buzzer pulse per completed payment,
//! an "error" LED while Vipps cannot be reached, a cash-drawer relay, and
//! physical buttons (new sale, cancel). All optional, pins from `[gpio]`.
//!
//! Owns the [`Hardware`] trait and picks its implementation: rppal on a Pi
//! with pins configured, a no-op (that says so once in the log) otherwise,
//! fakes in tests. It must never block its caller (pulses run on their own
//! thread) and never stop the till from selling: GPIO is a convenience.
//!
//! | file        | holds                                                       |
//! |-------------|-------------------------------------------------------------|
//! | [`pins`]    | `[gpio]` pin assignment, checked (pure)                      |
//! | [`outputs`] | pulse timing over any output pins (`PinHardware`)            |
//! | `rpi`       | rppal: real pins and button interrupts                       |
//! | `fake`      | recording pins and hardware for tests (feature `testing`)   |
//! | [`drive`]   | kiosk events → LED, buzzer, relay                            |

mod drive;
#[cfg(feature = "testing")]
pub mod fake;
pub mod outputs;
pub mod pins;
mod rpi;

use std::sync::Arc;

use tokio::sync::mpsc;

pub use drive::drive;
pub use pins::{Button, GpioConfig};

/// How many presses may wait unread before new ones are dropped.
pub const BUTTON_QUEUE: usize = 16;

/// The till's outputs. Every method returns at once.
pub trait Hardware: Send + Sync {
    /// A payment completed: pulse the paid LED and the buzzer.
    fn paid(&self);
    /// The error LED on (Vipps unreachable) or off.
    fn set_error(&self, on: bool);
    /// Pulse the cash drawer's relay.
    fn open_drawer(&self);
    /// One line for the log and the organizer screen.
    fn describe(&self) -> String;
}

/// Hardware that does nothing: off the Pi, or with no `[gpio]` pins.
pub struct NoHardware {
    pub reason: String,
}

impl Hardware for NoHardware {
    fn paid(&self) {}
    fn set_error(&self, _on: bool) {}
    fn open_drawer(&self) {}
    fn describe(&self) -> String {
        format!("no GPIO ({})", self.reason)
    }
}

/// What [`open`] hands the till: the outputs, and the button presses.
pub struct Devices {
    pub hardware: Arc<dyn Hardware>,
    /// Presses of the configured buttons; closed (yields `None`) when there
    /// are no buttons. The UI maps `NewSale` / `Cancel` to its own actions.
    pub buttons: mpsc::Receiver<Button>,
}

#[derive(Debug, thiserror::Error)]
pub enum HardwareError {
    #[error(
        "no permission to use GPIO ({0}); the luka user must be in the gpio group: \
         run deploy-pi/install.sh again, then restart Luka"
    )]
    Permission(String),
    #[error(
        "GPIO {0} is in use by something else or does not exist on this Pi; \
         pick another pin in [gpio] of luka.toml (or free it: check /boot/firmware/config.txt overlays)"
    )]
    PinUnavailable(u8),
    #[error("GPIO{}: {detail}; check the wiring and [gpio] in luka.toml", .pin.map(|p| format!(" {p}")).unwrap_or_default())]
    Gpio { pin: Option<u8>, detail: String },
}

/// Opens the GPIO for `cfg` (already checked by `config`). No pins, or not
/// a Raspberry Pi: a [`NoHardware`], logged once. On a Pi, a pin that cannot
/// be had is an error the caller shows (and may choose to sell on without).
pub fn open(cfg: &GpioConfig) -> Result<Devices, HardwareError> {
    if cfg.is_empty() {
        return Ok(disabled("no pins set in [gpio]"));
    }
    let (tx, rx) = mpsc::channel(BUTTON_QUEUE);
    match rpi::open(cfg, tx) {
        Ok(hw) => {
            tracing::info!(gpio = %hw.describe(), "GPIO ready");
            Ok(Devices {
                hardware: Arc::new(hw),
                buttons: rx,
            })
        }
        Err(rpi::OpenError::NotAPi(detail)) => Ok(disabled(&format!(
            "not a Raspberry Pi: {detail}; the [gpio] pins are ignored"
        ))),
        Err(rpi::OpenError::Failed(e)) => Err(e),
    }
}

/// A [`NoHardware`] and a closed button stream; says why once in the log.
pub fn disabled(reason: &str) -> Devices {
    let (_, rx) = mpsc::channel(1);
    tracing::info!("GPIO off: {reason}. LEDs, buzzer, drawer relay and buttons do nothing");
    Devices {
        hardware: Arc::new(NoHardware {
            reason: reason.to_string(),
        }),
        buttons: rx,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn no_pins_means_no_hardware_and_a_closed_button_stream() {
        let mut d = open(&GpioConfig::default()).unwrap();
        assert!(
            d.hardware.describe().contains("no pins"),
            "{}",
            d.hardware.describe()
        );
        d.hardware.paid();
        assert_eq!(d.buttons.recv().await, None);
    }

    #[tokio::test]
    async fn off_the_pi_configured_pins_fall_back_to_no_hardware() {
        // This test machine is not a Pi (CI, a PC): rppal reports an unknown
        // model and the till runs on without GPIO instead of refusing to start.
        let on_a_pi = std::fs::read_to_string("/proc/device-tree/model")
            .is_ok_and(|m| m.contains("Raspberry Pi"));
        if on_a_pi {
            eprintln!("running on a Raspberry Pi: the off-Pi fallback is not testable here");
            return;
        }
        let cfg = GpioConfig {
            paid_led: Some(17),
            ..GpioConfig::default()
        };
        let d = open(&cfg).unwrap();
        assert!(
            d.hardware.describe().contains("not a Raspberry Pi"),
            "{}",
            d.hardware.describe()
        );
    }
}
