//! The payment-provider adapter trait and its implementations.
//!
//! A provider is anything that reserves and moves money remotely (Vipps
//! today; a card terminal or ePayment v2 would be one new file). Cash is not
//! a provider: it is settled on the spot, see [`cash`].

pub mod cash;
pub mod vipps;

use crate::domain::payment::{Amounts, PaymentOrder};
use crate::domain::{Money, PaymentPhase, SaleLine, Signal};
use crate::retry::{Permanent, RetryClass};

/// A payment as the provider reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentView {
    /// What the report says, in the order to apply it.
    pub signals: Vec<Signal>,
    pub amounts: Amounts,
    pub psp_reference: Option<String>,
}

impl PaymentView {
    /// The phase this view leads to from `from`, through the state machine.
    pub fn phase_from(&self, from: PaymentPhase) -> PaymentPhase {
        crate::domain::payment::fold(from, self.signals.iter().copied())
    }
}

/// The answer to "create a payment".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// What to show as a QR code.
    pub qr_target: Option<String>,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ProviderError {
    pub class: RetryClass,
    pub message: String,
}

impl ProviderError {
    /// The provider does not know this payment (it answered 404).
    pub fn is_not_found(&self) -> bool {
        self.class == RetryClass::Permanent(Permanent::Refused { status: Some(404) })
    }
}

/// What the till asks of a remote payment provider. Every modification
/// takes the idempotency key stored with its outbox item.
#[async_trait::async_trait]
pub trait PaymentProvider: Send + Sync + 'static {
    fn name(&self) -> &'static str;

    /// The exact create request for a sale, stored in the outbox so every
    /// retry sends the same body with the same key.
    fn create_request(&self, sale: &PaymentOrder, lines: &[SaleLine]) -> serde_json::Value;

    /// Makes sure calls can be made (e.g. a simulator that starts on first
    /// use); a provider that is always ready says so at once.
    async fn ready(&self) -> Result<(), ProviderError> {
        Ok(())
    }

    async fn create(
        &self,
        request: &serde_json::Value,
        key: &str,
    ) -> Result<Created, ProviderError>;

    async fn read(&self, reference: &str) -> Result<PaymentView, ProviderError>;

    async fn capture(
        &self,
        reference: &str,
        amount: Money,
        key: &str,
    ) -> Result<PaymentView, ProviderError>;

    async fn cancel(&self, reference: &str, key: &str) -> Result<PaymentView, ProviderError>;

    async fn refund(
        &self,
        reference: &str,
        amount: Money,
        key: &str,
    ) -> Result<PaymentView, ProviderError>;
}
