//! The seller: who the receipts, reports and the SAF-T export name.

/// The seller, as `[merchant]` in `luka.toml` names it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Merchant {
    pub name: String,
    /// Nine digits ("999999999"); spaces are allowed and ignored.
    pub org_number: String,
    /// Adds "MVA" after the org. number, as the rules require of a VAT-registered seller.
    pub vat_registered: bool,
    /// Printed one element per line, centred.
    pub address: Vec<String>,
}

impl Merchant {
    /// The organisation number with spaces removed.
    pub fn org_digits(&self) -> String {
        self.org_number
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect()
    }

    /// The seller used in training mode and when `[merchant]` is missing:
    /// obviously not a real company.
    pub fn training() -> Merchant {
        Merchant {
            name: "Luka Idrettslag (trening)".into(),
            org_number: "999999999".into(),
            vat_registered: false,
            address: vec!["Idrettsveien 1".into(), "0001 Oslo".into()],
        }
    }
}

/// Checks a Norwegian organisation number: nine digits with a valid
/// modulus-11 check digit (weights 3 2 7 6 5 4 3 2).
pub fn validate_org_number(text: &str) -> Result<(), String> {
    let digits: Vec<u32> = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| {
            c.to_digit(10)
                .ok_or_else(|| format!("'{c}' is not a digit"))
        })
        .collect::<Result<_, _>>()?;
    if digits.len() != 9 {
        return Err(format!("{} digits, expected 9", digits.len()));
    }
    let weights = [3, 2, 7, 6, 5, 4, 3, 2];
    let sum: u32 = digits.iter().zip(weights).map(|(d, w)| d * w).sum();
    let check = match 11 - sum % 11 {
        11 => 0,
        10 => return Err("no valid organisation number has this check digit".into()),
        c => c,
    };
    if digits[8] != check {
        return Err(format!(
            "the check digit is {} but should be {check}",
            digits[8]
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_numbers() {
        // Brønnøysundregistrene's own number, and the training placeholder.
        assert_eq!(validate_org_number("974 760 673"), Ok(()));
        assert_eq!(validate_org_number("999999999"), Ok(()));
        assert!(
            validate_org_number("974760674")
                .unwrap_err()
                .contains("check digit")
        );
        assert!(
            validate_org_number("97476067")
                .unwrap_err()
                .contains("8 digits")
        );
        assert!(
            validate_org_number("97476067x")
                .unwrap_err()
                .contains("not a digit")
        );
    }
}
