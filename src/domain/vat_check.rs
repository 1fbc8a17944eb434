//! VAT advice for a club's catalog: the code a product should default to,
//! and the conflicts between the seller's VAT registration and a product's
//! code that config validation warns about.
//!
//! Norwegian defaults: tickets to amateur sports events are outside the VAT
//! act (code 6), kiosk food and drink 15 % (31), merchandise 25 % (3).
//! Pure; it only advises, the organizer decides.

use super::{Product, VatCode};

fn is_ticket(text: &str) -> bool {
    let t = text.to_lowercase();
    ["billett", "inngang", "ticket", "entré", "entre"]
        .iter()
        .any(|w| t.contains(w))
}

fn is_food(text: &str) -> bool {
    let t = text.to_lowercase();
    [
        "kiosk", "mat", "kaffe", "brus", "vaffel", "pølse", "polse", "drikke", "snacks", "food",
        "godteri", "is",
    ]
    .iter()
    .any(|w| {
        t.split(|c: char| !c.is_alphanumeric())
            .any(|word| word.starts_with(w))
    })
}

/// The code a product in `group` named `name` most likely has.
pub fn suggested_code(group: &str, name: &str) -> VatCode {
    if is_ticket(group) || is_ticket(name) {
        VatCode::OutsideScope
    } else if is_food(group) || is_food(name) {
        VatCode::ReducedMiddle
    } else {
        VatCode::Regular
    }
}

/// What looks wrong about `p` for a seller that is (or is not) VAT-registered.
pub fn conflict(vat_registered: bool, p: &Product) -> Option<String> {
    let charges_vat = p.vat.rate_bp() > 0;
    if !vat_registered && charges_vat {
        return Some(format!(
            "product '{}' has VAT code {} but [merchant] vat_registered = false: a seller \
             that is not VAT-registered must not charge VAT; use vat = 6 (outside the VAT act) \
             or register for VAT",
            p.id, p.vat
        ));
    }
    if vat_registered && !charges_vat && !is_ticket(&p.group) && !is_ticket(&p.name) {
        let suggested = suggested_code(&p.group, &p.name);
        if suggested != VatCode::OutsideScope {
            return Some(format!(
                "product '{}' ({}) is sold without VAT (code {}) although the club is \
                 VAT-registered; kiosk food is usually 31 (15 %), merchandise 3 (25 %): \
                 check it with your accountant",
                p.id,
                p.group,
                p.vat.code()
            ));
        }
    }
    if vat_registered && charges_vat && (is_ticket(&p.group) || is_ticket(&p.name)) {
        return Some(format!(
            "product '{}' looks like a ticket but has VAT code {}: tickets to amateur sports \
             events are outside the VAT act (vat = 6)",
            p.id, p.vat
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Catalog, Money};

    #[test]
    fn suggestions_follow_the_club_defaults() {
        assert_eq!(suggested_code("Billetter", "Voksen"), VatCode::OutsideScope);
        assert_eq!(suggested_code("Kiosk", "Kaffe"), VatCode::ReducedMiddle);
        assert_eq!(suggested_code("Klær", "Klubbskjerf"), VatCode::Regular);
    }

    #[test]
    fn default_catalog_is_fine_for_a_registered_club_and_conflicts_are_named() {
        for p in Catalog::club_default().products() {
            assert_eq!(conflict(true, p), None, "{}", p.id);
        }
        let kaffe = Catalog::club_default().get("kaffe").unwrap().clone();
        assert!(
            conflict(false, &kaffe)
                .unwrap()
                .contains("not VAT-registered")
        );
        let mut free_coffee = kaffe.clone();
        free_coffee.vat = VatCode::OutsideScope;
        assert!(conflict(true, &free_coffee).unwrap().contains("31"));
        let ticket = Product {
            id: "t".into(),
            name: "Billett".into(),
            group: "Billetter".into(),
            price: Money::nok(100),
            vat: VatCode::Regular,
        };
        assert!(conflict(true, &ticket).unwrap().contains("vat = 6"));
        assert_eq!(
            conflict(false, Catalog::club_default().get("voksen").unwrap()),
            None
        );
    }
}
