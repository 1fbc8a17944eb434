//! Payment references: `^[a-zA-Z0-9-]{8,50}$`, unique per merchant, and
//! carrying the till id so a treasurer can see where a sale came from.

/// Builds the reference for a sale: `{till}-{sale number}-{random}`. The
/// random part keeps references unique when a till's database is replaced
/// (a new SD card, a wiped training database) and sale numbers restart.
pub fn payment_reference(till_id: &str, sale_id: i64, random: u32) -> String {
    let till: String = till_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(20)
        .collect();
    let till = if till.is_empty() {
        "till".to_string()
    } else {
        till
    };
    format!("{till}-{sale_id:06}-{random:08x}")
}

/// Checks the Vipps reference rule.
pub fn is_valid_reference(r: &str) -> bool {
    (8..=50).contains(&r.len()) && r.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// Checks a till id for use in references and receipts.
pub fn validate_till_id(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > 20 {
        return Err(format!(
            "till id '{id}' must be 1–20 characters; use something like \"kiosk-1\""
        ));
    }
    if !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(format!(
            "till id '{id}' may only hold letters a–z, digits and '-'; use something like \"kiosk-1\""
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_follow_the_vipps_pattern() {
        let r = payment_reference("kiosk-1", 42, 0xdead_beef);
        assert_eq!(r, "kiosk-1-000042-deadbeef");
        assert!(is_valid_reference(&r));
        let long = payment_reference(&"x".repeat(40), i64::MAX, u32::MAX);
        assert!(is_valid_reference(&long), "{long}");
        let odd = payment_reference("Døra å", 1, 1);
        assert!(is_valid_reference(&odd), "{odd}");
        assert!(!is_valid_reference("short"));
        assert!(!is_valid_reference("has space in it"));
    }

    #[test]
    fn till_ids_are_checked() {
        assert!(validate_till_id("kiosk-1").is_ok());
        assert!(validate_till_id("").is_err());
        assert!(
            validate_till_id("døra")
                .unwrap_err()
                .contains("letters a–z")
        );
        assert!(validate_till_id(&"a".repeat(21)).is_err());
    }
}
