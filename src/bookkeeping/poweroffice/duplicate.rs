//! Recognising a voucher PowerOffice already has, so a retry can never post
//! twice.
//!
//! The spec says of `ExternalImportReference`: "ensure a duplicate check
//! (only one instance of the reference can exist on the client)", and shows
//! the refusal a reused reference gets (400 ProblemDetails, e.g. on
//! `/Suppliers/{id}`): "ExternalImportReference is already in use. 'ABC123'
//! is used on (contact) Id = 123456789." The spec offers no voucher search by
//! reference, but `AccountTransactionDto` carries both `ExternalImportReference`
//! and `VoucherId`, so the voucher is found among the transactions of its
//! date. Pure: the request is made by `client.rs`.

use super::dto::TransactionRef;
use super::error::PowerOfficeError;
use super::lookup::{account_filter, query_value};
use super::map;
use crate::domain::voucher::Voucher;

/// Whether a refusal says the reference is already used. A 409 is read the
/// same, in case PowerOffice answers a voucher conflict that way.
pub fn is_duplicate_reference(e: &PowerOfficeError) -> bool {
    let PowerOfficeError::Http {
        status: 400 | 409,
        text,
        ..
    } = e
    else {
        return false;
    };
    let text = text.to_ascii_lowercase();
    text.contains("externalimportreference")
        && ["already in use", "already exists", "duplicate"]
            .iter()
            .any(|w| text.contains(w))
}

/// `GET /AccountTransactions` for the voucher's date and accounts.
pub fn transactions_path(v: &Voucher) -> String {
    format!(
        "/AccountTransactions?fromDate={d}&toDate={d}&accountNos={a}",
        d = query_value(&v.date),
        a = query_value(&account_filter(&map::accounts_of(v))),
    )
}

/// The voucher carrying `v.external_ref`: from the transactions, else from
/// the refusal's own words. Neither is an answer Luka can use: a retry later
/// may find it (`InvalidResponse` is retried a few times, then stopped).
pub fn voucher_id(
    v: &Voucher,
    rows: &[TransactionRef],
    refusal: &PowerOfficeError,
) -> Result<String, PowerOfficeError> {
    rows.iter()
        .find(|r| r.external_import_reference.as_deref() == Some(v.external_ref.as_str()))
        .map(|r| r.voucher_id.clone())
        .or_else(|| refusal.detail().and_then(id_in_detail))
        .ok_or_else(|| {
            PowerOfficeError::Decode(format!(
                "PowerOffice Go says reference {} is already in use, but no transaction on {} \
                 carries it; look the voucher up in PowerOffice Go",
                v.external_ref, v.date
            ))
        })
}

/// The id after "Id = " in a duplicate refusal, if it names one.
fn id_in_detail(detail: &str) -> Option<String> {
    let tail = detail
        .rsplit("Id = ")
        .next()
        .filter(|t| t.len() < detail.len())?;
    let id = tail.trim().trim_end_matches('.').trim();
    (!id.is_empty() && !id.contains(' ')).then(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::voucher::{VoucherKind, transfer};

    fn http(status: u16, text: &str) -> PowerOfficeError {
        PowerOfficeError::Http {
            status,
            text: text.into(),
            retry_after: None,
        }
    }

    const REFUSAL: &str = "Voucher validation error(s): ExternalImportReference is already in \
         use. 'luka-1' is used on (voucher) Id = 0b3c5f0e-1d2a-4c1e-9a7b-5f6e7d8c9b0a.";

    #[test]
    fn recognises_a_reused_reference() {
        assert!(is_duplicate_reference(&http(400, REFUSAL)));
        assert!(is_duplicate_reference(&http(
            409,
            "Duplicate ExternalImportReference"
        )));
        assert!(!is_duplicate_reference(&http(
            400,
            "The voucher is not balanced"
        )));
        assert!(!is_duplicate_reference(&http(500, REFUSAL)));
        assert!(!is_duplicate_reference(&PowerOfficeError::Timeout));
    }

    #[test]
    fn finds_the_voucher_by_its_reference() {
        let v = transfer(
            VoucherKind::VippsFees,
            "2026-11-30",
            "F".into(),
            "luka-1".into(),
            "fees".into(),
            "NOK",
            (7770, 1903),
            100,
        );
        assert_eq!(
            transactions_path(&v),
            "/AccountTransactions?fromDate=2026-11-30&toDate=2026-11-30&accountNos=7770,1903"
        );
        let row = |id: &str, r: Option<&str>| TransactionRef {
            voucher_id: id.into(),
            external_import_reference: r.map(str::to_string),
        };
        let rows = [
            row("other", Some("luka-0")),
            row("none", None),
            row("mine", Some("luka-1")),
        ];
        assert_eq!(voucher_id(&v, &rows, &http(400, REFUSAL)).unwrap(), "mine");
        assert_eq!(
            voucher_id(&v, &[], &http(400, REFUSAL)).unwrap(),
            "0b3c5f0e-1d2a-4c1e-9a7b-5f6e7d8c9b0a",
            "falls back to the id the refusal names"
        );
        let none = voucher_id(
            &v,
            &[],
            &http(400, "ExternalImportReference already exists"),
        );
        assert!(matches!(none, Err(PowerOfficeError::Decode(_))));
    }
}
