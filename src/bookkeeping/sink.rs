//! The one trait every bookkeeping adapter implements. A sink delivers one
//! outbox item of its lane; the sync worker owns order, retries and
//! bookkeeping of the outbox rows.

use crate::domain::voucher::Voucher;
use crate::retry::Failure;
use crate::store::OutboxItem;

#[async_trait::async_trait]
pub trait Sink: Send + Sync + 'static {
    /// The outbox kind of this sink's lane, e.g. `sync.webhook`.
    fn kind(&self) -> &'static str;

    /// The service's name in messages a person reads ("the webhook",
    /// "PowerOffice Go").
    fn service(&self) -> &'static str;

    /// Delivers one item. Must be safe to repeat: an item delivered but not
    /// yet marked done when the power went is delivered again.
    async fn deliver(&self, item: &OutboxItem) -> Result<(), Failure>;

    /// How many consecutive items the lane hands over at once: above one,
    /// the worker calls [`Sink::deliver_all`] with the whole claimed batch
    /// instead of `deliver` per item.
    fn batch(&self) -> usize {
        1
    }

    /// Delivers consecutive items of the lane together, all or none (a
    /// failure is the head item's). Same repeat rule as `deliver`.
    async fn deliver_all(&self, items: &[OutboxItem]) -> Result<(), Failure> {
        for item in items {
            self.deliver(item).await?;
        }
        Ok(())
    }
}

/// The voucher a voucher lane's item carries; an unreadable one is stopped
/// for a person (retrying cannot make it readable).
pub fn voucher_of(item: &OutboxItem) -> Result<Voucher, Failure> {
    serde_json::from_value(item.payload["voucher"].clone()).map_err(|e| {
        Failure::local(format!(
            "outbox item {} holds no readable voucher: {e}",
            item.id
        ))
    })
}
