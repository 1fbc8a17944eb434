//! The `[gpio]` pin assignment as typed, checked values: which BCM GPIO
//! number drives which LED, buzzer or relay, which reads which button, and
//! how long pulses last.
//!
//! Pure data and rules; it must never touch a pin. `config` parses the TOML
//! and calls [`GpioConfig::check`]; the drivers only ever see checked values.

use std::time::Duration;

/// The highest BCM GPIO number on the 40-pin header of every Pi since the B+.
pub const MAX_PIN: u8 = 27;

/// A physical button on the till.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Button {
    /// Clear the screen for the next customer.
    NewSale,
    /// Cancel the sale on screen.
    Cancel,
}

/// Pins from `[gpio]`; every pin is optional. BCM numbering (GPIO17 = 17,
/// physical header pin 11).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpioConfig {
    /// Lights for `pulse` on each completed payment.
    pub paid_led: Option<u8>,
    /// On while Vipps cannot be reached.
    pub error_led: Option<u8>,
    /// Sounds for `pulse` on each completed payment (active buzzer, high = on).
    pub buzzer: Option<u8>,
    /// Relay for a cash drawer's solenoid, pulsed for `drawer_pulse`.
    pub drawer_relay: Option<u8>,
    /// Button to ground (internal pull-up), pressed = low.
    pub button_new_sale: Option<u8>,
    pub button_cancel: Option<u8>,
    pub pulse: Duration,
    pub drawer_pulse: Duration,
}

impl Default for GpioConfig {
    fn default() -> Self {
        GpioConfig {
            paid_led: None,
            error_led: None,
            buzzer: None,
            drawer_relay: None,
            button_new_sale: None,
            button_cancel: None,
            pulse: Duration::from_millis(400),
            drawer_pulse: Duration::from_millis(200),
        }
    }
}

/// A problem with `[gpio]`, in the shape `config` reports every problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinProblem {
    pub key: String,
    pub problem: String,
    pub fix: String,
}

impl GpioConfig {
    /// Every pin with the key that names it, in a fixed order.
    pub fn assigned(&self) -> Vec<(&'static str, u8)> {
        [
            ("paid_led", self.paid_led),
            ("error_led", self.error_led),
            ("buzzer", self.buzzer),
            ("drawer_relay", self.drawer_relay),
            ("button_new_sale", self.button_new_sale),
            ("button_cancel", self.button_cancel),
        ]
        .into_iter()
        .filter_map(|(k, p)| p.map(|p| (k, p)))
        .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.assigned().is_empty()
    }

    /// Output pins (LEDs, buzzer, relay).
    pub fn outputs(&self) -> Vec<u8> {
        [
            self.paid_led,
            self.error_led,
            self.buzzer,
            self.drawer_relay,
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// Input pins and the button each one is.
    pub fn buttons(&self) -> Vec<(u8, Button)> {
        [
            (self.button_new_sale, Button::NewSale),
            (self.button_cancel, Button::Cancel),
        ]
        .into_iter()
        .filter_map(|(p, b)| p.map(|p| (p, b)))
        .collect()
    }

    /// Which button a pin is, if any.
    pub fn button_for(&self, pin: u8) -> Option<Button> {
        self.buttons()
            .into_iter()
            .find(|(p, _)| *p == pin)
            .map(|(_, b)| b)
    }

    /// Pins 0–27 only, no pin used twice, pulses of sane length.
    pub fn check(&self) -> Result<(), PinProblem> {
        let assigned = self.assigned();
        for (i, (key, pin)) in assigned.iter().enumerate() {
            if *pin > MAX_PIN {
                return Err(PinProblem {
                    key: format!("[gpio] {key}"),
                    problem: format!("GPIO {pin} does not exist on the Pi's header"),
                    fix: format!(
                        "use a BCM GPIO number from 0 to {MAX_PIN} (e.g. 17 for header pin 11)"
                    ),
                });
            }
            if let Some((other, _)) = assigned[..i].iter().find(|(_, p)| p == pin) {
                return Err(PinProblem {
                    key: format!("[gpio] {key}"),
                    problem: format!("GPIO {pin} is already used by {other}"),
                    fix: "give every LED, buzzer, relay and button its own pin".into(),
                });
            }
        }
        let ms = |d: Duration| d.as_millis();
        if !(10..=5_000).contains(&ms(self.pulse)) {
            return Err(PinProblem {
                key: "[gpio] pulse_ms".into(),
                problem: format!("{} ms is not a useful pulse", ms(self.pulse)),
                fix: "use 10 to 5000 (400 is a clear blink and beep)".into(),
            });
        }
        if !(10..=2_000).contains(&ms(self.drawer_pulse)) {
            return Err(PinProblem {
                key: "[gpio] drawer_pulse_ms".into(),
                problem: format!(
                    "{} ms could burn out the drawer's solenoid or never open it",
                    ms(self.drawer_pulse)
                ),
                fix: "use 10 to 2000 (most drawers want 100 to 200)".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(f: impl FnOnce(&mut GpioConfig)) -> GpioConfig {
        let mut c = GpioConfig::default();
        f(&mut c);
        c
    }

    #[test]
    fn rules_table() {
        let cases: Vec<(GpioConfig, Option<&str>)> = vec![
            (GpioConfig::default(), None),
            (with(|c| c.paid_led = Some(0)), None),
            (with(|c| c.paid_led = Some(27)), None),
            (with(|c| c.buzzer = Some(28)), Some("[gpio] buzzer")),
            (
                with(|c| {
                    c.paid_led = Some(17);
                    c.button_cancel = Some(17);
                }),
                Some("[gpio] button_cancel"),
            ),
            (
                with(|c| c.pulse = Duration::from_millis(5)),
                Some("[gpio] pulse_ms"),
            ),
            (
                with(|c| c.drawer_pulse = Duration::from_secs(10)),
                Some("[gpio] drawer_pulse_ms"),
            ),
        ];
        for (cfg, want) in cases {
            let got = cfg.check().err().map(|p| p.key);
            assert_eq!(got.as_deref(), want, "{cfg:?}");
        }
    }

    #[test]
    fn a_pin_used_twice_names_both_uses() {
        let c = with(|c| {
            c.error_led = Some(22);
            c.drawer_relay = Some(22);
        });
        let p = c.check().unwrap_err();
        assert!(p.problem.contains("error_led"), "{p:?}");
    }

    #[test]
    fn buttons_map_pins_to_roles() {
        let c = with(|c| {
            c.button_new_sale = Some(5);
            c.button_cancel = Some(6);
            c.paid_led = Some(17);
        });
        assert_eq!(c.button_for(5), Some(Button::NewSale));
        assert_eq!(c.button_for(6), Some(Button::Cancel));
        assert_eq!(c.button_for(17), None);
        assert_eq!(c.outputs(), vec![17]);
        assert!(!c.is_empty());
        assert!(GpioConfig::default().is_empty());
    }
}
