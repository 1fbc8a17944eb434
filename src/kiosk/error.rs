//! Why a kiosk command was refused, in words a volunteer can act on.

use super::ReceiptError;
use crate::domain::SaleStatus;
use crate::domain::sale::CartError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum KioskError {
    #[error("{0}")]
    Cart(#[from] CartError),
    #[error(
        "the till cannot save sales right now ({0}); no money was taken. \
         Check the SD card or disk (full or read-only?) and restart Luka"
    )]
    StorageUnavailable(String),
    #[error("{0}")]
    Store(StoreError),
    #[error("the customer has already approved: the payment is being completed")]
    AlreadyApproved,
    #[error("the sale is already closed ({0})")]
    AlreadyClosed(SaleStatus),
    #[error("{0}")]
    Cash(#[from] crate::payments::cash::CashError),
    #[error("give a reason for the refund")]
    NoRefundReason,
    #[error("give a reason for opening the drawer")]
    NoDrawerReason,
    #[error(
        "this till has no drawer to open: set [printer] drawer_kick = true \
         (a drawer on the printer's kick port) or [gpio] drawer_relay"
    )]
    NoDrawer,
    #[error("the drawer did not open: {0}")]
    DrawerNotOpened(String),
    #[error(
        "this is the training till (no [vipps] credentials): every sale is a \
         training sale, so there is no training mode to switch"
    )]
    TrainingTill,
    #[error(
        "training mode needs the training simulator, which did not start on this \
         till: see the log for why (e.g. [training] listen)"
    )]
    NoTrainingSimulator,
    #[error("{0} is sold out: take it out of the cart")]
    SoldOut(String),
    #[error("only {left} {name} left: lower the number in the cart")]
    NotEnoughLeft { name: String, left: i64 },
    #[error("wrong code for {0}: try again, or ask the organizer")]
    WrongCode(String),
    #[error("{0}")]
    Rejected(String),
    #[error(
        "this till has no Vipps sales unit named '{name}' (it has: {known}): add it \
         to [[vipps.units]] in luka.toml with its keys, or pick one of those"
    )]
    UnknownSalesUnit { name: String, known: String },
    #[error("{0}")]
    Customer(#[from] crate::domain::CustomerError),
    /// Pairing with the club's hub from the organizer screen was refused.
    #[error("{0}")]
    Pairing(#[from] crate::hub::link::PairError),
    #[error("{0}")]
    Receipt(#[from] ReceiptError),
}

impl From<StoreError> for KioskError {
    fn from(e: StoreError) -> Self {
        if e.is_storage_unavailable() {
            KioskError::StorageUnavailable(e.to_string())
        } else {
            match e {
                StoreError::Rejected(m) => KioskError::Rejected(m),
                e => KioskError::Store(e),
            }
        }
    }
}
