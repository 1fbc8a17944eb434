//! Vipps sales units and bookkeeping departments (issue 16, part 4).
//!
//! A club often gives each group its own Vipps number: the football
//! section's kiosk and the handball section's kiosk are two *sales units*
//! (merchant serial numbers, MSN), each with its own API keys and its own
//! bank account. A till (or the event menu it sells from) sells under one
//! unit, and every sale is booked under that unit's *department* (avdeling)
//! in the club's accounts. The sale keeps both, so the Z report, the
//! vouchers and the settlement reconciliation can be split by them long
//! after the till was moved to another unit.

use serde::{Deserialize, Serialize};

/// One sales unit as `luka.toml` names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesUnit {
    /// What volunteers and treasurers call it ("Håndball"); unique per till.
    pub name: String,
    /// The Vipps merchant serial number; `None` for a training till's
    /// default unit, which has no Vipps account of its own.
    pub msn: Option<String>,
    /// The department code in the club's accounts (PowerOffice's
    /// "avdeling"), if the club books by department.
    pub department: Option<String>,
}

impl SalesUnit {
    /// The unit of a till that configures none: `[vipps]` alone.
    pub fn single(msn: Option<String>) -> SalesUnit {
        SalesUnit {
            name: DEFAULT_NAME.into(),
            msn,
            department: None,
        }
    }
}

/// The name of `[vipps]`'s own unit when it is not given one.
pub const DEFAULT_NAME: &str = "Vipps";

/// Why a department code is not one: it goes into voucher lines and CSV
/// columns, so it must be short and plain.
pub fn check_department(code: &str) -> Result<(), String> {
    if code.is_empty() || code.len() > 20 {
        return Err(format!("'{code}' must be 1–20 characters"));
    }
    if !code
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(format!(
            "'{code}' may only hold letters a–z, digits, '-' and '_'"
        ));
    }
    Ok(())
}

/// Whether `msn` looks like a Vipps merchant serial number (4–7 digits).
pub fn check_msn(msn: &str) -> Result<(), String> {
    if (4..=7).contains(&msn.len()) && msn.chars().all(|c| c.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!("'{msn}' is not 4–7 digits"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn departments_and_msns_are_short_plain_codes() {
        assert!(check_department("20").is_ok());
        assert!(check_department("Avdeling-10_a").is_ok());
        assert!(check_department("").is_err());
        assert!(check_department("fotball; drop").is_err());
        assert!(check_department(&"x".repeat(21)).is_err());
        assert!(check_msn("123456").is_ok());
        assert!(check_msn("1234567").is_ok());
        assert!(check_msn("123").is_err());
        assert!(check_msn("12345a").is_err());
    }
}
