//! The PowerOffice Go lane: each queued voucher posted once through
//! [`PowerOfficeClient`] (whose `ExternalImportReference` check makes a
//! repeat after a lost answer a no-op).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::PowerOfficeClient;
use crate::bookkeeping::{Sink, kind};
use crate::domain::voucher::Accounts;
use crate::retry::Failure;
use crate::store::OutboxItem;

pub struct PowerOfficeSink {
    client: PowerOfficeClient,
    accounts: Vec<u32>,
    /// HTTP requests made, for `luka bench --books` (requests per voucher).
    requests: Arc<AtomicU64>,
}

impl PowerOfficeSink {
    pub fn new(client: PowerOfficeClient, accounts: &Accounts) -> PowerOfficeSink {
        PowerOfficeSink {
            client,
            accounts: accounts.all(),
            requests: Arc::default(),
        }
    }

    pub fn requests(&self) -> Arc<AtomicU64> {
        self.requests.clone()
    }
}

#[async_trait::async_trait]
impl Sink for PowerOfficeSink {
    fn kind(&self) -> &'static str {
        kind::POWEROFFICE
    }

    fn service(&self) -> &'static str {
        "PowerOffice Go"
    }

    async fn deliver(&self, item: &OutboxItem) -> Result<(), Failure> {
        let v = crate::bookkeeping::sink::voucher_of(item)?;
        let posted = self.client.post_voucher(&v, &self.accounts).await?;
        self.requests
            .fetch_add(u64::from(posted.requests), Ordering::Relaxed);
        if posted.already_posted {
            tracing::info!(voucher = %v.number, id = %posted.id, "already in PowerOffice: not posted again");
        }
        Ok(())
    }
}
