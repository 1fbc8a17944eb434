//! Training mode inside a production till (kassasystemforskriften § 2-8-2 w;
//! SAF-T 13023 "training mode on" / 13024 "off").
//!
//! The credential-free demo is a training till of its own (its own database,
//! `KioskSettings::training`). A production till switches training on and off
//! behind the organizer's PIN (`luka training on|off` headless); both switches
//! are journaled in the production journal, and the journal is the one record
//! of the mode, so a switch made beside a running till holds for its next
//! sale. While it is on, each new sale is a training sale, marked so in its
//! own row for the rest of its life:
//! - its payment goes to the in-process Vipps simulator, never to Vipps;
//! - its receipt is a "Treningskvittering" (no "Salgskvittering" title);
//! - it never opens the drawer, by printer kick or relay;
//! - it never reaches the books (webhook, PowerOffice, settlement matching);
//! - X and Z count it (number and amount) under training, and nowhere else.

use std::sync::Arc;

use serde_json::json;

use super::{Kiosk, KioskError, KioskEvent};
use crate::domain::journal::JournalKind;
use crate::payments::PaymentProvider;
use crate::retry::Failure;
use crate::store::Reader;

impl Kiosk {
    /// Whether the next sale is a training sale: always in the demo, and in
    /// a production till while training mode is switched on.
    pub fn is_training(&self) -> Result<bool, KioskError> {
        if self.inner.settings.training {
            return Ok(true);
        }
        Ok(self.inner.store.read(|r| r.training_switched_on())?)
    }

    /// The same question inside a transaction that is about to record a sale.
    pub(super) fn training_now(&self, r: &Reader<'_>) -> crate::store::Result<bool> {
        Ok(self.inner.settings.training || r.training_switched_on()?)
    }

    /// Whether this till can switch training mode: a production till that
    /// has a training simulator to send training payments to.
    pub fn can_switch_training(&self) -> bool {
        !self.inner.settings.training && self.inner.training_provider.is_some()
    }

    /// Switches training mode on or off, journaled with the operator at the
    /// till. Returns false when it already was so (nothing journaled). "On"
    /// first makes sure the training simulator runs: a till that cannot
    /// start it stays out of training, rather than fail its next sale.
    pub async fn set_training(&self, on: bool) -> Result<bool, KioskError> {
        if self.inner.settings.training {
            return Err(KioskError::TrainingTill);
        }
        if on {
            let Some(provider) = &self.inner.training_provider else {
                return Err(KioskError::NoTrainingSimulator);
            };
            if let Err(e) = provider.ready().await {
                tracing::error!(error = %e.message, "training mode cannot be switched on");
                return Err(KioskError::NoTrainingSimulator);
            }
        }
        let now = self.inner.clock.now();
        let till = self.inner.settings.till_id.clone();
        let changed = self.inner.store.write(|w| {
            if w.reader().training_switched_on()? == on {
                return Ok(false);
            }
            let kind = if on {
                JournalKind::TrainingOn
            } else {
                JournalKind::TrainingOff
            };
            w.journal_action(kind, None, json!({ "till": till }), now)?;
            Ok(true)
        })?;
        if changed {
            tracing::info!(on, "training mode switched");
            self.emit(KioskEvent::Training { on });
        }
        Ok(changed)
    }

    /// Where a sale's payment calls go: a training sale of a production till
    /// to its training simulator, never to Vipps; in a training till (the
    /// demo) everything to its simulator; else to the sales unit (MSN) the
    /// sale was made under. A sale under an MSN this till has no keys for
    /// stops with its reason: it is never sent with another unit's keys,
    /// which would put the money in the wrong bank account.
    pub(super) fn provider_for(
        &self,
        sale: &crate::store::SaleRecord,
    ) -> Result<Arc<dyn PaymentProvider>, Failure> {
        if self.inner.settings.training {
            return Ok(self.inner.provider.clone());
        }
        if sale.training {
            return self.inner.training_provider.clone().ok_or_else(|| {
                Failure::local(
                    "a training sale, but this till has no training simulator: \
                     it is never sent to Vipps"
                        .to_string(),
                )
            });
        }
        let Some(msn) = &sale.msn else {
            return Ok(self.inner.provider.clone());
        };
        self.inner.units.provider(msn).ok_or_else(|| {
            Failure::local(format!(
                "sale {} was made under Vipps sales unit {msn}, which this till has no \
                 keys for now; put that unit back in [[vipps.units]] and restart",
                sale.reference
            ))
        })
    }

    /// Whether a sale's drawer and books effects are left out: a training
    /// sale of a production till (the demo keeps its drawer for trying the
    /// hardware, and its books are simulators).
    pub(super) fn practice_only(&self, sale_training: bool) -> bool {
        sale_training && !self.inner.settings.training
    }
}
