//! Cash: settled on the spot, so no provider and no outbox item for the
//! payment itself; only the change is computed here.

use crate::domain::Money;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CashError {
    #[error("{given} is less than the total {total}: take at least the total")]
    NotEnough { given: String, total: String },
    #[error("cash must be in the sale's currency")]
    Currency,
}

/// Change due when `given` is handed over for `total`.
pub fn change_due(total: Money, given: Money) -> Result<Money, CashError> {
    let change = given.checked_sub(total).ok_or(CashError::Currency)?;
    if change.minor() < 0 {
        return Err(CashError::NotEnough {
            given: given.to_string(),
            total: total.to_string(),
        });
    }
    Ok(change)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_is_given_minus_total_and_never_negative() {
        assert_eq!(
            change_due(Money::nok(14_950), Money::nok(20_000)),
            Ok(Money::nok(5_050))
        );
        assert_eq!(
            change_due(Money::nok(5_000), Money::nok(5_000)),
            Ok(Money::nok(0))
        );
        let err = change_due(Money::nok(5_000), Money::nok(4_000)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "kr 40,00 is less than the total kr 50,00: take at least the total"
        );
    }
}
