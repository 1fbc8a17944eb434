//! `[[operators]]`: the volunteers who take turns at the till, each with an
//! id (SAF-T's empID), a name and a short code hashed like the organizer
//! PIN (`luka pin-hash`). Kassasystemforskriften § 2-8-2 h: sales per
//! operator in the X and Z, so every sale must know who made it.

use std::path::Path;

use serde::Deserialize;

use super::{ConfigError, err};
use crate::pin::PinHash;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOperator {
    id: String,
    name: String,
    /// Argon2 hash of the operator's code, from `luka pin-hash`.
    code_hash: String,
    /// The kioskansvarlig: may mark products sold out (or back on sale)
    /// from the sale page in two taps, without the organizer PIN.
    #[serde(default)]
    stock: bool,
}

/// One volunteer who can log in at the till.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorConfig {
    /// Stable id, journaled with every sale (SAF-T empID, at most 35 characters).
    pub id: String,
    /// The name on the shift picker and the reports.
    pub name: String,
    pub code: PinHash,
    /// `stock = true`: the "Utsolgt" button on the sale page (issue 16, part 1).
    pub marks_stock: bool,
}

pub(super) fn operators(
    raw: Vec<RawOperator>,
    file: &Path,
) -> Result<Vec<OperatorConfig>, ConfigError> {
    let mut out: Vec<OperatorConfig> = Vec::with_capacity(raw.len());
    for o in raw {
        let key = format!("[[operators]] id = \"{}\"", o.id);
        let id = o.id.trim().to_string();
        if id.is_empty() || id.chars().count() > 35 || id.chars().any(char::is_whitespace) {
            return Err(err(
                file,
                &key,
                "an operator id is 1 to 35 characters without spaces",
                "give each volunteer a short id such as \"1001\" or \"kari\"",
            ));
        }
        if out.iter().any(|p| p.id == id) {
            return Err(err(
                file,
                &key,
                "this id is used twice",
                "give each volunteer an id of their own",
            ));
        }
        if id == "organizer" {
            return Err(err(
                file,
                &key,
                "\"organizer\" is the organizer PIN's own id",
                "give the volunteer another id",
            ));
        }
        if o.name.trim().is_empty() {
            return Err(err(
                file,
                &format!("{key}: name"),
                "the name is empty",
                "write the name the volunteer picks on the till",
            ));
        }
        let code = PinHash::parse(&o.code_hash).map_err(|m| {
            err(
                file,
                &format!("{key}: code_hash"),
                m,
                "run `luka pin-hash`, type the volunteer's code, and paste the line it prints",
            )
        })?;
        out.push(OperatorConfig {
            id,
            name: o.name.trim().to_string(),
            code,
            marks_stock: o.stock,
        });
    }
    Ok(out)
}
