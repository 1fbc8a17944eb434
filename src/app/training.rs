//! Where a production till's training sales are paid: a Vipps simulator in
//! the till's own process, started the first time training needs it (the
//! switch, or a training sale left open at a restart). Until then a real
//! till listens on nothing; while it runs, it listens on `[training]
//! listen`, so a phone on the LAN can play the customer.

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::OnceCell;

use crate::config::Config;
use crate::domain::payment::PaymentOrder;
use crate::domain::{Money, SaleLine};
use crate::payments::{Created, PaymentProvider, PaymentView, ProviderError};
use crate::retry::{Permanent, RetryClass};
use crate::sim::SimHandle;

pub struct TrainingProvider {
    config: Config,
    started: OnceCell<(SimHandle, Arc<dyn PaymentProvider>)>,
}

impl TrainingProvider {
    pub fn new(config: Config) -> TrainingProvider {
        TrainingProvider {
            config,
            started: OnceCell::new(),
        }
    }

    async fn get(&self) -> Result<&Arc<dyn PaymentProvider>, ProviderError> {
        let (_, provider) = self
            .started
            .get_or_try_init(|| async {
                let (sim, creds) = super::start_training_sim(&self.config).await?;
                tracing::info!(url = %sim.base_url(), "training mode: Vipps simulator started in-process");
                let provider =
                    super::vipps_provider(&sim.base_url(), creds, self.config.vipps.request_timeout)?;
                Ok::<_, super::AppError>((sim, provider))
            })
            .await
            .map_err(|e| ProviderError {
                class: RetryClass::Permanent(Permanent::Local),
                message: format!("the training simulator cannot start: {e}"),
            })?;
        Ok(provider)
    }

    /// Stops the simulator, if it was started.
    pub async fn shutdown(&self) {
        if let Some((sim, _)) = self.started.get() {
            sim.clone().shutdown().await;
        }
    }
}

#[async_trait::async_trait]
impl PaymentProvider for TrainingProvider {
    fn name(&self) -> &'static str {
        "vipps"
    }

    fn create_request(&self, sale: &PaymentOrder, lines: &[SaleLine]) -> Value {
        crate::payments::vipps::create_request(sale, lines)
    }

    async fn ready(&self) -> Result<(), ProviderError> {
        self.get().await.map(|_| ())
    }

    async fn create(&self, request: &Value, key: &str) -> Result<Created, ProviderError> {
        self.get().await?.create(request, key).await
    }

    async fn read(&self, reference: &str) -> Result<PaymentView, ProviderError> {
        self.get().await?.read(reference).await
    }

    async fn capture(
        &self,
        reference: &str,
        amount: Money,
        key: &str,
    ) -> Result<PaymentView, ProviderError> {
        self.get().await?.capture(reference, amount, key).await
    }

    async fn cancel(&self, reference: &str, key: &str) -> Result<PaymentView, ProviderError> {
        self.get().await?.cancel(reference, key).await
    }

    async fn refund(
        &self,
        reference: &str,
        amount: Money,
        key: &str,
    ) -> Result<PaymentView, ProviderError> {
        self.get().await?.refund(reference, amount, key).await
    }
}
