//! Vipps MobilePay ePayment as a payment provider.

use std::sync::Arc;

use serde_json::Value;

use super::{Created, PaymentProvider, PaymentView, ProviderError};
use crate::domain::payment::{Amounts, PaymentOrder};
use crate::domain::{Money, SaleLine, Signal, VippsEvent, VippsState, sale::totals};
use crate::retry::{Permanent, RetryClass};
use crate::vipps::VippsClient;
use crate::vipps::dto::{
    Aggregate, Amount, BottomLine, CreatePaymentRequest, Customer, CustomerInteraction, OrderLine,
    PaymentMethod, PaymentMethodType, QrFormat, QrFormatKind, QuantityUnit, Receipt, State,
    UnitInfo, UserFlow,
};
use crate::vipps::error::VippsError;

pub struct VippsProvider {
    client: Arc<VippsClient>,
}

impl VippsProvider {
    pub fn new(client: Arc<VippsClient>) -> VippsProvider {
        VippsProvider { client }
    }

    pub fn client(&self) -> &VippsClient {
        &self.client
    }
}

fn provider_error(e: VippsError) -> ProviderError {
    ProviderError {
        class: e.class(),
        message: e.to_string(),
    }
}

fn amount(m: Money) -> Amount {
    Amount {
        currency: m.currency(),
        value: m.minor(),
    }
}

/// The ePayment answer as signals for the state machine. A captured or
/// refunded payment still reads AUTHORIZED; the aggregate tells the rest.
fn view(state: State, aggregate: &Aggregate, psp: &str) -> PaymentView {
    let mut signals = Vec::with_capacity(3);
    match state {
        State::Created => signals.push(Signal::State(VippsState::Created)),
        State::Aborted => signals.push(Signal::State(VippsState::Aborted)),
        State::Expired => signals.push(Signal::State(VippsState::Expired)),
        State::Authorized => signals.push(Signal::State(VippsState::Authorized)),
        State::Terminated => signals.push(Signal::State(VippsState::Terminated)),
        // A state newer than this client: no signal, keep polling.
        State::Unknown => {}
    }
    if aggregate.captured_amount.value > 0 {
        signals.push(Signal::Event(VippsEvent::Captured));
    }
    if aggregate.refunded_amount.value > 0 {
        signals.push(Signal::Event(VippsEvent::Refunded));
    }
    PaymentView {
        signals,
        amounts: Amounts {
            authorized: aggregate.authorized_amount.value,
            captured: aggregate.captured_amount.value,
            cancelled: aggregate.cancelled_amount.value,
            refunded: aggregate.refunded_amount.value,
        },
        psp_reference: Some(psp.to_string()).filter(|p| !p.is_empty()),
    }
}

/// The receipt Vipps shows in the app: one order line per sale line, VAT per
/// line, and the till id and sale number in the bottom line.
fn receipt(sale: &PaymentOrder, lines: &[SaleLine]) -> Receipt {
    let order_lines = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let gross = l.amount().map(|m| m.minor()).unwrap_or(0);
            let vat = l.vat.vat_of_gross(gross);
            OrderLine {
                name: l.name.clone(),
                id: l
                    .product_id
                    .clone()
                    .unwrap_or_else(|| format!("line-{}", i + 1)),
                total_amount: gross,
                total_amount_excluding_tax: gross - vat,
                total_tax_amount: vat,
                tax_percentage: l.vat.percent_rounded(),
                unit_info: Some(UnitInfo {
                    unit_price: Some(l.unit_price.minor()),
                    quantity: l.quantity.to_string(),
                    quantity_unit: Some(QuantityUnit::Pcs),
                }),
                discount: Some(0),
                product_url: None,
                is_return: None,
                is_shipping: None,
            }
        })
        .collect();
    Receipt {
        order_lines,
        bottom_line: BottomLine {
            currency: sale.total.currency(),
            tip_amount: None,
            pos_id: Some(sale.till_id.clone()),
            payment_sources: None,
            barcode: None,
            receipt_number: Some(sale.sale_id.to_string()),
        },
    }
}

/// The spec's `Customer`: exactly one of its fields.
fn customer(c: &crate::domain::Customer) -> Customer {
    match c {
        crate::domain::Customer::Phone(n) => Customer {
            phone_number: Some(n.clone()),
            ..Customer::default()
        },
        crate::domain::Customer::PersonalQr(q) => Customer {
            personal_qr: Some(q.clone()),
            ..Customer::default()
        },
    }
}

/// The ePayment create request for a sale (customer present, with its
/// receipt): the same body for Vipps and the training simulator. Without a
/// customer it is the QR flow (the QR's text comes back); with one it is
/// `PUSH_MESSAGE` to that customer's app, and nothing comes back to show.
pub fn create_request(sale: &PaymentOrder, lines: &[SaleLine]) -> Value {
    // Per-line VAT is rounded per line for Vipps' receipt; the sale's
    // own VAT totals (per rate) come from `domain::sale::totals`.
    debug_assert_eq!(totals(lines).map(|t| t.gross).ok(), Some(sale.total));
    let description: String = sale.description.chars().take(100).collect();
    let (user_flow, customer, qr_format) = match &sale.customer {
        None => (
            UserFlow::Qr,
            None,
            Some(QrFormat {
                format: QrFormatKind::TextTargetUrl,
                size: None,
            }),
        ),
        Some(c) => (UserFlow::PushMessage, Some(customer(c)), None),
    };
    let req = CreatePaymentRequest {
        amount: amount(sale.total),
        customer,
        customer_interaction: Some(CustomerInteraction::CustomerPresent),
        industry_data: None,
        payment_method: PaymentMethod {
            kind: PaymentMethodType::Wallet,
        },
        profile: None,
        reference: sale.reference.clone(),
        return_url: None,
        user_flow,
        expires_at: None,
        qr_format,
        payment_description: Some(if description.chars().count() >= 3 {
            description
        } else {
            format!("Salg {}", sale.reference)
        }),
        receipt: Some(receipt(sale, lines)),
        metadata: None,
        receipt_url: None,
    };
    serde_json::to_value(req).unwrap_or(Value::Null)
}

#[async_trait::async_trait]
impl PaymentProvider for VippsProvider {
    fn name(&self) -> &'static str {
        "vipps"
    }

    fn create_request(&self, sale: &PaymentOrder, lines: &[SaleLine]) -> Value {
        create_request(sale, lines)
    }

    async fn create(&self, request: &Value, key: &str) -> Result<Created, ProviderError> {
        let body: CreatePaymentRequest =
            serde_json::from_value(request.clone()).map_err(|e| ProviderError {
                class: RetryClass::Permanent(Permanent::Local),
                message: format!("stored create request is not valid: {e}"),
            })?;
        let resp = self
            .client
            .create_payment(&body, key)
            .await
            .map_err(provider_error)?;
        Ok(Created {
            qr_target: resp.redirect_url,
        })
    }

    async fn read(&self, reference: &str) -> Result<PaymentView, ProviderError> {
        let p = self
            .client
            .get_payment(reference)
            .await
            .map_err(provider_error)?;
        Ok(view(p.state, &p.aggregate, &p.psp_reference))
    }

    async fn capture(
        &self,
        reference: &str,
        amt: Money,
        key: &str,
    ) -> Result<PaymentView, ProviderError> {
        let r = self
            .client
            .capture(reference, amount(amt), key)
            .await
            .map_err(provider_error)?;
        Ok(view(r.state, &r.aggregate, &r.psp_reference))
    }

    async fn cancel(&self, reference: &str, key: &str) -> Result<PaymentView, ProviderError> {
        let r = self
            .client
            .cancel(reference, key)
            .await
            .map_err(provider_error)?;
        Ok(view(r.state, &r.aggregate, &r.psp_reference))
    }

    async fn refund(
        &self,
        reference: &str,
        amt: Money,
        key: &str,
    ) -> Result<PaymentView, ProviderError> {
        let r = self
            .client
            .refund(reference, amount(amt), key)
            .await
            .map_err(provider_error)?;
        Ok(view(r.state, &r.aggregate, &r.psp_reference))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PaymentPhase;

    fn agg(auth: i64, capt: i64, refd: i64) -> Aggregate {
        Aggregate {
            authorized_amount: Amount::nok(auth),
            cancelled_amount: Amount::nok(0),
            captured_amount: Amount::nok(capt),
            refunded_amount: Amount::nok(refd),
        }
    }

    #[test]
    fn authorized_with_a_capture_reads_as_captured() {
        let v = view(State::Authorized, &agg(100, 100, 0), "psp");
        assert_eq!(v.phase_from(PaymentPhase::Created), PaymentPhase::Captured);
        let v = view(State::Authorized, &agg(100, 100, 50), "psp");
        assert_eq!(v.phase_from(PaymentPhase::Captured), PaymentPhase::Refunded);
        let v = view(State::Authorized, &agg(100, 0, 0), "");
        assert_eq!(
            v.phase_from(PaymentPhase::Created),
            PaymentPhase::Authorized
        );
        assert_eq!(v.psp_reference, None);
        // A stale CREATED after we know of the approval changes nothing.
        let v = view(State::Created, &agg(0, 0, 0), "psp");
        assert_eq!(
            v.phase_from(PaymentPhase::Authorized),
            PaymentPhase::Authorized
        );
    }
}
