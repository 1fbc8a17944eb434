//! `[[products]]`: the catalogue the sale page shows, with prices and VAT codes.

use std::path::Path;

use super::{ConfigError, err};
use crate::domain::{Catalog, Currency, Money, Product, VatCode};

use super::RawProduct;

pub(super) fn products(raw: Vec<RawProduct>, file: &Path) -> Result<Catalog, ConfigError> {
    let mut out = Vec::with_capacity(raw.len());
    for p in raw {
        let key = format!("[[products]] id = \"{}\"", p.id);
        let price = match &p.price {
            toml::Value::String(s) => Money::parse(s, Currency::NOK).map_err(|e| {
                err(
                    file,
                    &format!("{key}: price"),
                    e.to_string(),
                    "write the price in kroner, like \"149,50\" or 150",
                )
            })?,
            toml::Value::Integer(i) => Money::nok(i.saturating_mul(100)),
            other => {
                return Err(err(
                    file,
                    &format!("{key}: price"),
                    format!("{other} is not a price"),
                    "write the price in kroner, like \"149,50\" or 150",
                ));
            }
        };
        let suggested = crate::domain::vat_check::suggested_code(&p.group, &p.name);
        let vat = VatCode::try_from(p.vat.unwrap_or(suggested.code())).map_err(|m| {
            err(
                file,
                &format!("{key}: vat"),
                m,
                "use one of 3, 31, 32, 33, 5, 6",
            )
        })?;
        out.push(Product {
            id: p.id,
            name: p.name,
            group: p.group,
            price,
            vat,
        });
    }
    Catalog::new(out).map_err(|e| err(file, "[[products]]", e.to_string(), "fix the product list"))
}
