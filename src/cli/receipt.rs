//! `luka receipt`: the last sale's receipt again (`--last`: a held one now,
//! `--last --copy`: the one allowed copy) and a PNG preview of any sale's
//! receipt (`--preview REF --out file.png`).
//!
//! Printing goes through the kiosk and its outbox like at the till, so the
//! copy-once rule and the journal hold here too. The preview never prints;
//! of a real sale it draws the one copy (KOPI) and journals it, so the
//! copy-once rule holds for pictures too (kassasystemforskriften § 2-8-6).
//!
//! Like `luka resume`, `--last` starts the till's service: it refuses while the
//! till runs on the same database (`Store::claim_workers`); stop it first.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::json;

use crate::app::{App, receipt_settings};
use crate::config::Config;
use crate::domain::journal::JournalKind;
use crate::kiosk::receipt_input::sale_receipt;
use crate::kiosk::{ReceiptSettings, printing};
use crate::printer::{layout, preview};
use crate::store::{OutboxStatus, SaleRecord, Store};

/// `--last [--copy]`: prints, waits for the printer's answer, exit 0 when on paper.
pub async fn last(config: Config, copy: bool, timeout: Duration) -> anyhow::Result<i32> {
    if config.printer.connection.is_none() {
        bail!("no receipt printer is set up ([printer] driver = \"none\"): set one in luka.toml");
    }
    let app = App::start(config).await?;
    let result = print_last(&app, copy, timeout).await;
    app.shutdown().await;
    result
}

async fn print_last(app: &App, copy: bool, timeout: Duration) -> anyhow::Result<i32> {
    let k = &app.kiosk;
    let sale = app
        .store
        .read(|r| r.last_paid_sale())?
        .context("no paid sale yet: there is no receipt to print")?;
    let key = if copy {
        printing::copy_key(sale.id)
    } else {
        printing::original_key(sale.id)
    };
    let before = app.store.read(|r| r.outbox_by_key(&key))?;
    if copy {
        k.print_copy(sale.id)?;
    } else {
        match before.as_ref().map(|i| i.status) {
            Some(OutboxStatus::Pending | OutboxStatus::Failed) => {
                k.retry_print()?;
            }
            Some(OutboxStatus::InFlight) => {}
            _ => bail!(
                "receipt {} is not waiting to print (printed, or concluded without one); \
                 `luka receipt --last --copy` prints its one allowed copy",
                sale.receipt_no.unwrap_or_default()
            ),
        }
    }
    let tried_before = before.map(|i| i.attempts).unwrap_or(0);
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let item = app.store.read(|r| r.outbox_by_key(&key))?;
        let settled = item
            .as_ref()
            .filter(|i| i.attempts > tried_before && i.status != OutboxStatus::InFlight);
        if let Some(i) = settled {
            let printed = i.status == OutboxStatus::Done;
            let message = (!printed).then(|| k.printer_status().state.message());
            println!("{}", outcome(&sale, copy, printed, message.as_deref()));
            return Ok(if printed { 0 } else { 1 });
        }
        if tokio::time::Instant::now() >= deadline {
            println!(
                "{}",
                outcome(
                    &sale,
                    copy,
                    false,
                    Some("no answer from the printer in time")
                )
            );
            return Ok(1);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn outcome(sale: &SaleRecord, copy: bool, printed: bool, message: Option<&str>) -> String {
    if let Some(m) = message {
        eprintln!("{m}");
    }
    json!({
        "sale_id": sale.id,
        "receipt_no": sale.receipt_no,
        "copy": copy,
        "printed": printed,
        "message": message,
    })
    .to_string()
}

/// `--preview REF --out file.png`: REF is a receipt number or a payment reference.
pub fn preview_png(config: &Config, reference: &str, out: &Path) -> anyhow::Result<i32> {
    let store = Store::open(&config.store_path)?;
    let settings = receipt_settings(config);
    let drawn = preview_to(
        &store,
        &settings,
        reference,
        out,
        time::OffsetDateTime::now_utc(),
    )?;
    let what = if drawn.copy {
        " (its one copy, marked KOPI)"
    } else {
        " (training)"
    };
    eprintln!(
        "Receipt {}{what} written to {}",
        drawn.receipt_no,
        out.display()
    );
    Ok(0)
}

/// What `--preview` drew.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Drawn {
    pub receipt_no: i64,
    /// The sale's one copy (a real sale); `false`: a training receipt.
    pub copy: bool,
}

/// Draws a sale's receipt into `out` as a PNG.
///
/// A picture of a real sale's receipt can be handed over like paper, so it
/// is what the till's printed copy is: the one copy of the receipt
/// (kassasystemforskriften § 2-8-6: at most one copy, marked "KOPI"). It is
/// drawn with "KOPI", journaled as `receipt.copy_printed` (SAF-T 13014,
/// counted with the copies on the X/Z report) in the same write that checks
/// the copy is still to be given, and refused like a second printed copy
/// once the sale's copy exists, printed or drawn (and before the original
/// has printed). A training sale's receipt is drawn as it is, marked as
/// training, and journals nothing.
pub fn preview_to(
    store: &Store,
    settings: &ReceiptSettings,
    reference: &str,
    out: &Path,
    now: time::OffsetDateTime,
) -> anyhow::Result<Drawn> {
    let sale = store.read(|r| match reference.parse::<i64>() {
        Ok(n) => r.sale_by_receipt_no(n),
        Err(_) => r.sale_by_reference(reference),
    })?;
    if sale.training {
        let input = store.read(|r| sale_receipt(r, sale.id, false, settings))?;
        let png = preview::render_png(&layout(&input, &settings.layout))?;
        std::fs::write(out, png).with_context(|| format!("cannot write {}", out.display()))?;
        return Ok(Drawn {
            receipt_no: input.receipt_number as i64,
            copy: false,
        });
    }
    let drawn: Result<i64, String> = store.write(|w| {
        let no = match printing::copy_allowed(&w.reader(), sale.id)? {
            Ok(no) => no,
            Err(refused) => {
                return Ok(Err(format!(
                    "{refused} (luka receipt --preview of a real sale draws its one copy)"
                )));
            }
        };
        let input = sale_receipt(&w.reader(), sale.id, true, settings)?;
        let png = match preview::render_png(&layout(&input, &settings.layout)) {
            Ok(png) => png,
            Err(e) => return Ok(Err(format!("cannot draw receipt {no}: {e}"))),
        };
        if let Err(e) = std::fs::write(out, png) {
            return Ok(Err(format!("cannot write {}: {e}", out.display())));
        }
        let data = json!({ "receipt_no": no, "receipt": "copy", "medium": "png" });
        if let Err(e) = w.journal(JournalKind::CopyPrinted, Some(sale.id), data, now) {
            // Not journaled, so not given: take the picture back.
            let _ = std::fs::remove_file(out);
            return Err(e);
        }
        Ok(Ok(no))
    })?;
    match drawn {
        Ok(receipt_no) => Ok(Drawn {
            receipt_no,
            copy: true,
        }),
        Err(message) => bail!(message),
    }
}
