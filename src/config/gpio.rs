//! `[gpio]`: which pins drive the LEDs, buzzer and drawer relay, and read the buttons.

use std::path::Path;
use std::time::Duration;

use super::{ConfigError, err};
use crate::hardware::GpioConfig;

use super::RawGpio;

pub(super) fn gpio(raw: &RawGpio, file: &Path) -> Result<GpioConfig, ConfigError> {
    let pin = |key: &str, v: Option<i64>| -> Result<Option<u8>, ConfigError> {
        v.map(|n| {
            u8::try_from(n).map_err(|_| {
                err(
                    file,
                    &format!("[gpio] {key}"),
                    format!("{n} is not a GPIO number"),
                    "use a BCM GPIO number from 0 to 27 (e.g. 17 for header pin 11)",
                )
            })
        })
        .transpose()
    };
    let d = GpioConfig::default();
    let cfg = GpioConfig {
        paid_led: pin("paid_led", raw.paid_led)?,
        error_led: pin("error_led", raw.error_led)?,
        buzzer: pin("buzzer", raw.buzzer)?,
        drawer_relay: pin("drawer_relay", raw.drawer_relay)?,
        button_new_sale: pin("button_new_sale", raw.button_new_sale)?,
        button_cancel: pin("button_cancel", raw.button_cancel)?,
        pulse: raw.pulse_ms.map(Duration::from_millis).unwrap_or(d.pulse),
        drawer_pulse: raw
            .drawer_pulse_ms
            .map(Duration::from_millis)
            .unwrap_or(d.drawer_pulse),
    };
    cfg.check()
        .map_err(|p| err(file, &p.key, p.problem, p.fix))?;
    Ok(cfg)
}
