//! A cart being built and the lines and totals of a sale.
//!
//! Totals are computed here and nowhere else: the gross per VAT code is the
//! sum of its lines, the VAT is computed once per code on that sum, and the
//! net is gross minus VAT, so the per-code totals always add up to the sale
//! total to the øre.

use serde::{Deserialize, Serialize};

use super::catalog::Product;
use super::{Currency, Money, VatCode, money::MAX_SALE_MINOR};

/// One line of a sale: a product or a free amount, with a quantity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleLine {
    /// The catalog id, or `None` for a free amount typed on the keypad.
    pub product_id: Option<String>,
    pub name: String,
    pub group: String,
    pub quantity: u32,
    pub unit_price: Money,
    pub vat: VatCode,
}

impl SaleLine {
    pub fn from_product(p: &Product, quantity: u32) -> SaleLine {
        SaleLine {
            product_id: Some(p.id.clone()),
            name: p.name.clone(),
            group: p.group.clone(),
            quantity,
            unit_price: p.price,
            vat: p.vat,
        }
    }

    /// A free amount ("Beløp") typed by a cashier.
    pub fn free_amount(amount: Money, vat: VatCode, name: &str) -> SaleLine {
        SaleLine {
            product_id: None,
            name: name.to_string(),
            group: "Beløp".to_string(),
            quantity: 1,
            unit_price: amount,
            vat,
        }
    }

    pub fn amount(&self) -> Option<Money> {
        self.unit_price.checked_mul(self.quantity as i64)
    }
}

/// Gross, VAT and net for one VAT code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VatTotal {
    pub vat: VatCode,
    pub gross: Money,
    pub vat_amount: Money,
    pub net: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub gross: Money,
    /// One entry per VAT code present, ordered by code.
    pub per_vat: Vec<VatTotal>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CartError {
    #[error("the cart is empty: add a product or an amount first")]
    Empty,
    #[error("line {0} does not exist")]
    NoSuchLine(usize),
    #[error("the total is too large: the most one sale can carry is kr 650 000")]
    TooLarge,
    #[error("an amount of {0} is too small: the smallest Vipps payment is kr 1,00")]
    BelowMinimum(String),
    #[error("all lines must be in the same currency")]
    MixedCurrency,
}

/// What the volunteer is putting together before pressing "Betal".
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Cart {
    lines: Vec<SaleLine>,
}

impl Cart {
    pub fn new() -> Cart {
        Cart::default()
    }

    pub fn from_lines(lines: Vec<SaleLine>) -> Cart {
        Cart { lines }
    }

    pub fn lines(&self) -> &[SaleLine] {
        &self.lines
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Adds one of a product; tapping the same tile again raises the quantity.
    pub fn add_product(&mut self, p: &Product) {
        if let Some(line) = self
            .lines
            .iter_mut()
            .find(|l| l.product_id.as_deref() == Some(p.id.as_str()) && l.unit_price == p.price)
        {
            line.quantity += 1;
        } else {
            self.lines.push(SaleLine::from_product(p, 1));
        }
    }

    pub fn add_line(&mut self, line: SaleLine) {
        self.lines.push(line);
    }

    /// Sets a line's quantity; zero removes the line.
    pub fn set_quantity(&mut self, index: usize, quantity: u32) -> Result<(), CartError> {
        if index >= self.lines.len() {
            return Err(CartError::NoSuchLine(index));
        }
        if quantity == 0 {
            self.lines.remove(index);
        } else {
            self.lines[index].quantity = quantity;
        }
        Ok(())
    }

    pub fn remove(&mut self, index: usize) -> Result<SaleLine, CartError> {
        if index >= self.lines.len() {
            return Err(CartError::NoSuchLine(index));
        }
        Ok(self.lines.remove(index))
    }

    pub fn clear(&mut self) {
        self.lines.clear();
    }

    pub fn totals(&self) -> Result<Totals, CartError> {
        totals(&self.lines)
    }
}

/// Totals for any set of lines: a cart, a stored sale, a refund.
pub fn totals(lines: &[SaleLine]) -> Result<Totals, CartError> {
    let first = lines.first().ok_or(CartError::Empty)?;
    let currency: Currency = first.unit_price.currency();
    let mut per_code: std::collections::BTreeMap<u16, (VatCode, i64)> = Default::default();
    let mut gross: i64 = 0;
    for line in lines {
        if line.unit_price.currency() != currency {
            return Err(CartError::MixedCurrency);
        }
        let amount = line.amount().ok_or(CartError::TooLarge)?.minor();
        gross = gross.checked_add(amount).ok_or(CartError::TooLarge)?;
        let entry = per_code.entry(line.vat.code()).or_insert((line.vat, 0));
        entry.1 = entry.1.checked_add(amount).ok_or(CartError::TooLarge)?;
    }
    if gross > MAX_SALE_MINOR {
        return Err(CartError::TooLarge);
    }
    let per_vat = per_code
        .into_values()
        .map(|(vat, g)| {
            let v = vat.vat_of_gross(g);
            VatTotal {
                vat,
                gross: Money::new(g, currency),
                vat_amount: Money::new(v, currency),
                net: Money::new(g - v, currency),
            }
        })
        .collect();
    Ok(Totals {
        gross: Money::new(gross, currency),
        per_vat,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::catalog::Catalog;

    #[test]
    fn tapping_a_tile_twice_raises_the_quantity() {
        let c = Catalog::club_default();
        let mut cart = Cart::new();
        cart.add_product(c.get("voksen").unwrap());
        cart.add_product(c.get("voksen").unwrap());
        cart.add_product(c.get("barn").unwrap());
        assert_eq!(cart.lines().len(), 2);
        assert_eq!(cart.lines()[0].quantity, 2);
        assert_eq!(cart.totals().unwrap().gross, Money::nok(35_000));
    }

    #[test]
    fn mixed_vat_totals_add_up_to_the_sale_total() {
        let c = Catalog::club_default();
        let mut cart = Cart::new();
        for id in ["voksen", "kaffe", "kaffe", "vaffel", "skjerf"] {
            cart.add_product(c.get(id).unwrap());
        }
        let t = cart.totals().unwrap();
        assert_eq!(t.gross, Money::nok(15_000 + 6_000 + 2_500 + 25_000));
        let codes: Vec<u16> = t.per_vat.iter().map(|v| v.vat.code()).collect();
        assert_eq!(codes, vec![3, 6, 31]);
        // 85,00 at 15 %: 11,086.. -> 11,09
        let food = t
            .per_vat
            .iter()
            .find(|v| v.vat == VatCode::ReducedMiddle)
            .unwrap();
        assert_eq!((food.vat_amount.minor(), food.net.minor()), (1_109, 7_391));
        let sum: i64 = t
            .per_vat
            .iter()
            .map(|v| v.net.minor() + v.vat_amount.minor())
            .sum();
        assert_eq!(sum, t.gross.minor());
    }

    #[test]
    fn quantity_zero_removes_and_bad_indexes_are_errors() {
        let c = Catalog::club_default();
        let mut cart = Cart::new();
        cart.add_product(c.get("brus").unwrap());
        assert_eq!(cart.set_quantity(3, 1), Err(CartError::NoSuchLine(3)));
        cart.set_quantity(0, 0).unwrap();
        assert!(cart.is_empty());
        assert_eq!(cart.totals(), Err(CartError::Empty));
    }

    #[test]
    fn refuses_totals_above_the_vipps_ceiling() {
        let line = SaleLine::free_amount(Money::nok(MAX_SALE_MINOR), VatCode::Regular, "Beløp");
        let mut cart = Cart::from_lines(vec![line.clone()]);
        assert!(cart.totals().is_ok());
        cart.add_line(SaleLine::free_amount(
            Money::nok(1),
            VatCode::Regular,
            "Beløp",
        ));
        assert_eq!(cart.totals(), Err(CartError::TooLarge));
    }
}

/// How a sale is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    Vipps,
    Cash,
    /// Paid on the club's own standalone card terminal (BankAxept, or a
    /// card or Vipps tapped there); the till only records it.
    Card,
}

impl PaymentMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::Vipps => "vipps",
            PaymentMethod::Cash => "cash",
            PaymentMethod::Card => "card",
        }
    }

    pub fn parse(s: &str) -> Option<PaymentMethod> {
        match s {
            "vipps" => Some(PaymentMethod::Vipps),
            "cash" => Some(PaymentMethod::Cash),
            "card" => Some(PaymentMethod::Card),
            _ => None,
        }
    }
}
