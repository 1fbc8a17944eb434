//! `luka receipt`: the last sale's receipt again (`--last`: a held one now,
//! `--last --copy`: the one allowed copy) and a PNG preview of any sale's
//! receipt (`--preview REF --out file.png`).
//!
//! Printing goes through the kiosk and its outbox like at the till, so the
//! copy-once rule and the journal hold here too; the preview only reads the
//! store and must never print or write to it.
//!
//! Like `luka resume`, `--last` starts the till's service: it refuses while the
//! till runs on the same database (`Store::claim_workers`); stop it first.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::json;

use crate::app::{App, receipt_settings};
use crate::config::Config;
use crate::kiosk::printing;
use crate::kiosk::receipt_input::sale_receipt;
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
    let input = store.read(|r| {
        let sale = match reference.parse::<i64>() {
            Ok(n) => r.sale_by_receipt_no(n)?,
            Err(_) => r.sale_by_reference(reference)?,
        };
        sale_receipt(r, sale.id, false, &settings)
    })?;
    let png = preview::render_png(&layout(&input, &settings.layout))?;
    std::fs::write(out, png).with_context(|| format!("cannot write {}", out.display()))?;
    eprintln!(
        "Receipt {} written to {}",
        input.receipt_number,
        out.display()
    );
    Ok(0)
}
