//! `luka refund` (a return of a paid sale, cash or Vipps, whichever it was
//! paid with) and `luka drawer open` (the organizer's "Åpne skuff"). Each
//! prints one JSON line, like `charge`.

use std::time::Duration;

use anyhow::Context;
use serde_json::json;

use crate::config::Config;
use crate::domain::journal::JournalKind;
use crate::domain::{Currency, Money};
use crate::shutdown::StopSignal;
use crate::store::Store;

pub(super) async fn refund(
    config: Config,
    receipt_no: i64,
    amount: Option<&str>,
    reason: &str,
    timeout: Duration,
    operator: Option<&str>,
) -> anyhow::Result<i32> {
    let stop = StopSignal::install()?;
    let app = super::start_as(config, operator).await?;
    let mut events = app.kiosk.subscribe();
    let found = app
        .store
        .read(|r| r.sale_by_receipt_no(receipt_no))
        .with_context(|| {
            format!(
                "receipt {receipt_no} is not a sale on this till: give the number of the \
                 sales receipt (a Returkvittering cannot be refunded)"
            )
        });
    let sale = match found {
        Ok(s) => s,
        Err(e) => {
            super::finish(app, operator).await;
            return Err(e);
        }
    };
    let limit = app.kiosk.refund_limit(sale.id);
    let asked = match (limit, amount) {
        (Err(e), _) => Err(anyhow::Error::from(e)),
        (Ok((_, left)), _) if left.minor() == 0 => Err(anyhow::anyhow!(
            "receipt {receipt_no} is refunded in full already: nothing is left to refund"
        )),
        (Ok((_, left)), None) => Ok(left),
        (Ok(_), Some(a)) => Money::parse(a, Currency::NOK).map_err(anyhow::Error::from),
    };
    let started = asked.and_then(|a| {
        app.kiosk
            .refund(sale.id, a, reason)
            .map(|id| (id, a))
            .map_err(anyhow::Error::from)
    });
    let (refund_id, amount) = match started {
        Ok(x) => x,
        Err(e) => {
            super::finish(app, operator).await;
            return Err(e);
        }
    };
    // A cash return is done already; a Vipps one when Vipps has applied it.
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let state = refund_state(&app.store, sale.id, refund_id)?;
        if state != "pending" {
            break;
        }
        tokio::select! {
            _ = events.recv() => {}
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            _ = tokio::time::sleep_until(deadline) => break,
            signal = stop.wait() => {
                eprintln!("Stopped by {signal}. The refund is queued; run `luka resume` to finish it.");
                break;
            }
        }
    }
    // Its Returkvittering: printed, or held with the printer's message.
    let _ = app.kiosk.wait_settled(Duration::from_secs(10)).await;
    let store = app.store.clone();
    super::finish(app, operator).await;
    let state = refund_state(&store, sale.id, refund_id)?;
    let return_receipt = store.read(|r| {
        Ok(r.journal_entries(Some(sale.id))?
            .into_iter()
            .filter(|e| {
                e.kind == JournalKind::SaleRefunded.as_str()
                    && e.data["refund_id"].as_i64() == Some(refund_id)
            })
            .find_map(|e| e.data["receipt_no"].as_i64()))
    })?;
    println!(
        "{}",
        json!({
            "refund_id": refund_id,
            "sale_id": sale.id,
            "reference": sale.reference,
            "receipt_no": receipt_no,
            "method": sale.method.as_str(),
            "amount": amount.minor(),
            "state": state,
            "return_receipt_no": return_receipt,
            "training": sale.training,
        })
    );
    Ok(if state == "done" { 0 } else { 1 })
}

/// `pending`, `done` or `failed`.
fn refund_state(store: &Store, sale_id: i64, refund_id: i64) -> anyhow::Result<String> {
    Ok(store.read(|r| {
        Ok(r.refunds(sale_id)?
            .into_iter()
            .find(|f| f.id == refund_id)
            .map(|f| f.status)
            .unwrap_or_default())
    })?)
}

pub(super) async fn open_drawer(
    config: Config,
    reason: &str,
    operator: Option<&str>,
) -> anyhow::Result<i32> {
    let app = super::start_as(config, operator).await?;
    let opened = app.kiosk.open_drawer(reason).await;
    super::finish(app, operator).await;
    let device = opened?;
    println!(
        "{}",
        json!({ "opened": true, "device": device.as_str(), "reason": reason.trim() })
    );
    Ok(0)
}
