//! `[merchant]`: the seller printed on every receipt (name, org. number, address).

use std::path::Path;

use super::{ConfigError, Environment, err};
use crate::domain::Merchant;
use crate::domain::merchant::validate_org_number;

use super::RawMerchant;

pub(super) fn merchant(
    raw: Option<RawMerchant>,
    environment: Environment,
    file: &Path,
) -> Result<Merchant, ConfigError> {
    let Some(raw) = raw else {
        if environment == Environment::Training {
            return Ok(Merchant::training());
        }
        return Err(err(
            file,
            "[merchant]",
            "missing: receipts must name the seller",
            "add [merchant] with name = \"…\", org_number = \"…\", vat_registered = true|false, address = [\"…\"]",
        ));
    };
    checked("[merchant]", raw, file)
}

/// A seller's name and organisation number checked, for `section`
/// (`[merchant]` on a till, `[hub.club]` on the hub).
pub(super) fn checked(
    section: &str,
    raw: RawMerchant,
    file: &Path,
) -> Result<Merchant, ConfigError> {
    if raw.name.trim().is_empty() {
        return Err(err(
            file,
            &format!("{section} name"),
            "is empty",
            "set the club's or shop's name as registered",
        ));
    }
    validate_org_number(&raw.org_number).map_err(|p| {
        err(
            file,
            &format!("{section} org_number"),
            format!(
                "\"{}\" is not a valid organisation number: {p}",
                raw.org_number
            ),
            "copy the 9-digit number from brreg.no (spaces are fine)",
        )
    })?;
    Ok(Merchant {
        name: raw.name,
        org_number: raw.org_number,
        vat_registered: raw.vat_registered,
        address: raw.address,
    })
}
