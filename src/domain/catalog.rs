//! The products a till sells: tickets, kiosk items, merchandise.
//!
//! Loaded from `[[products]]` in the config; the default catalog is what a
//! club kiosk would start with in training mode.

use serde::{Deserialize, Serialize};

use super::{Money, VatCode};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    /// Stable id, used on receipts, reports and in SAF-T as the article id.
    pub id: String,
    pub name: String,
    /// Product group for reports, e.g. "Billetter", "Kiosk", "Klær".
    pub group: String,
    /// VAT-inclusive unit price.
    pub price: Money,
    pub vat: VatCode,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Catalog {
    products: Vec<Product>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("product id '{0}' is used twice in [[products]]: give each product its own id")]
    DuplicateId(String),
    #[error("product '{0}' has an empty name: give it the name the customer sees")]
    EmptyName(String),
    #[error("product '{id}' costs {price}: prices must be above zero")]
    NonPositivePrice { id: String, price: String },
}

impl Catalog {
    pub fn new(products: Vec<Product>) -> Result<Catalog, CatalogError> {
        let mut seen = std::collections::HashSet::new();
        for p in &products {
            if !seen.insert(p.id.as_str()) {
                return Err(CatalogError::DuplicateId(p.id.clone()));
            }
            if p.name.trim().is_empty() {
                return Err(CatalogError::EmptyName(p.id.clone()));
            }
            if p.price.minor() <= 0 {
                return Err(CatalogError::NonPositivePrice {
                    id: p.id.clone(),
                    price: p.price.to_string(),
                });
            }
        }
        Ok(Catalog { products })
    }

    /// What a club kiosk starts with: two tickets (outside VAT, amateur
    /// sport), food and drink at 15 %, and a scarf at 25 %.
    pub fn club_default() -> Catalog {
        let p = |id: &str, name: &str, group: &str, kroner: i64, vat| Product {
            id: id.into(),
            name: name.into(),
            group: group.into(),
            price: Money::nok(kroner * 100),
            vat,
        };
        Catalog {
            products: vec![
                p("voksen", "Voksen", "Billetter", 150, VatCode::OutsideScope),
                p("barn", "Barn", "Billetter", 50, VatCode::OutsideScope),
                p("kaffe", "Kaffe", "Kiosk", 30, VatCode::ReducedMiddle),
                p("vaffel", "Vaffel", "Kiosk", 25, VatCode::ReducedMiddle),
                p("brus", "Brus", "Kiosk", 35, VatCode::ReducedMiddle),
                p("polse", "Pølse i brød", "Kiosk", 40, VatCode::ReducedMiddle),
                p("skjerf", "Klubbskjerf", "Klær", 250, VatCode::Regular),
            ],
        }
    }

    pub fn products(&self) -> &[Product] {
        &self.products
    }

    pub fn get(&self, id: &str) -> Option<&Product> {
        self.products.iter().find(|p| p.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_catalog_is_valid_and_has_tickets_outside_vat() {
        let c = Catalog::club_default();
        assert!(Catalog::new(c.products().to_vec()).is_ok());
        assert_eq!(c.get("voksen").unwrap().vat, VatCode::OutsideScope);
        assert_eq!(c.get("kaffe").unwrap().vat, VatCode::ReducedMiddle);
    }

    #[test]
    fn rejects_duplicates_empty_names_and_free_products() {
        let mut ps = Catalog::club_default().products().to_vec();
        ps.push(ps[0].clone());
        assert_eq!(
            Catalog::new(ps),
            Err(CatalogError::DuplicateId("voksen".into()))
        );
        let mut ps = Catalog::club_default().products().to_vec();
        ps[1].name = " ".into();
        assert_eq!(
            Catalog::new(ps),
            Err(CatalogError::EmptyName("barn".into()))
        );
        let mut ps = Catalog::club_default().products().to_vec();
        ps[2].price = Money::nok(0);
        assert!(matches!(
            Catalog::new(ps),
            Err(CatalogError::NonPositivePrice { .. })
        ));
    }
}
