//! The lines and VAT of a cash transaction: a sale's lines with VAT spread
//! per line so they add up to the receipt's per-code totals, and a return's
//! lines (full, or a partial amount spread in proportion).
//!
//! Pure arithmetic in øre; it never rounds twice and never uses floats.

use super::journal::{TransLine, TransVat};
use super::{SaleLine, VatCode};

/// Lines of a sale with VAT per line. The VAT of each code is computed once
/// on the code's total (as on the receipt) and spread over its lines, the
/// last line of a code taking the rounding, so lines add up to the totals.
pub fn sale_lines(lines: &[SaleLine]) -> (Vec<TransLine>, Vec<TransVat>) {
    let mut out: Vec<TransLine> = lines
        .iter()
        .map(|l| {
            let amount = l.unit_price.minor() * l.quantity as i64;
            TransLine {
                product_id: l.product_id.clone(),
                name: l.name.clone(),
                group: l.group.clone(),
                quantity: Some(l.quantity as i64),
                amount_in: amount,
                amount_ex: amount,
                vat: l.vat,
                vat_amount: 0,
            }
        })
        .collect();
    let vat = spread_vat(&mut out);
    (out, vat)
}

/// Lines of a return of `amount` (øre, positive) from a sale with `lines`:
/// the full sale negated, or for a partial refund the amount spread over
/// the sale's lines in proportion to their amounts (largest remainder).
pub fn return_lines(sale: &[SaleLine], amount: i64) -> (Vec<TransLine>, Vec<TransVat>) {
    let (sold, _) = sale_lines(sale);
    let shares = return_shares(sale, amount);
    let full = is_full_return(sale, amount);
    let mut out: Vec<TransLine> = sold
        .into_iter()
        .zip(shares)
        .filter(|(_, share)| *share != 0)
        .map(|(l, share)| TransLine {
            quantity: if full { l.quantity.map(|q| -q) } else { None },
            amount_in: -share,
            amount_ex: -share,
            vat_amount: 0,
            ..l
        })
        .collect();
    let vat = spread_vat(&mut out);
    (out, vat)
}

/// Whether a return of `amount` øre gives back all of a sale with `sale`'s lines.
pub fn is_full_return(sale: &[SaleLine], amount: i64) -> bool {
    amount == line_amounts(sale).iter().sum::<i64>()
}

/// The øre each of the sale's lines gives back on a return of `amount`:
/// the whole line on a full return, otherwise `amount` spread over the lines
/// in proportion to what each sold, largest remainder first ([`allocate`]).
///
/// The one rule for a partial refund: the signed return transaction
/// ([`return_lines`]) and the Returkvittering ([`return_per_vat`]) both take
/// their amounts from here, so what the customer is handed and what the
/// journal signs agree per VAT code to the øre (kassasystemforskriften
/// § 2-8-5: the return receipt shows the VAT that is given back).
pub fn return_shares(sale: &[SaleLine], amount: i64) -> Vec<i64> {
    let sold = line_amounts(sale);
    let total: i64 = sold.iter().sum();
    if amount == total || total == 0 {
        sold
    } else {
        allocate(amount, &sold)
    }
}

/// What a return of `amount` øre gives back per VAT code (positive øre), in
/// the order the codes first appear on the sale; codes that give back
/// nothing are left out. The sum of [`return_shares`] per code, so it equals
/// the negated gross of each code in [`return_lines`]' VAT totals.
pub fn return_per_vat(sale: &[SaleLine], amount: i64) -> Vec<(VatCode, i64)> {
    let mut out: Vec<(VatCode, i64)> = Vec::new();
    for (line, share) in sale.iter().zip(return_shares(sale, amount)) {
        match out.iter_mut().find(|(vat, _)| *vat == line.vat) {
            Some((_, sum)) => *sum += share,
            None => out.push((line.vat, share)),
        }
    }
    out.retain(|(_, sum)| *sum != 0);
    out
}

/// Each line's amount in øre (unit price × quantity), as the journal has it.
fn line_amounts(sale: &[SaleLine]) -> Vec<i64> {
    sale.iter()
        .map(|l| l.unit_price.minor() * l.quantity as i64)
        .collect()
}

/// Splits `amount` over `weights` in proportion, largest remainder first.
pub fn allocate(amount: i64, weights: &[i64]) -> Vec<i64> {
    let total: i128 = weights.iter().map(|w| *w as i128).sum();
    if total == 0 {
        return vec![0; weights.len()];
    }
    let mut shares: Vec<(usize, i64, i128)> = weights
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let num = amount as i128 * *w as i128;
            (i, (num / total) as i64, num % total)
        })
        .collect();
    let mut left = amount - shares.iter().map(|s| s.1).sum::<i64>();
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|a, b| shares[*b].2.abs().cmp(&shares[*a].2.abs()).then(a.cmp(b)));
    for i in order {
        if left == 0 {
            break;
        }
        shares[i].1 += left.signum();
        left -= left.signum();
    }
    shares.into_iter().map(|s| s.1).collect()
}

/// Sets each line's VAT and net from its code's total; returns the totals.
fn spread_vat(lines: &mut [TransLine]) -> Vec<TransVat> {
    let mut per_code: std::collections::BTreeMap<u16, TransVat> = Default::default();
    for l in lines.iter() {
        let e = per_code.entry(l.vat.code()).or_insert(TransVat {
            vat: l.vat,
            gross: 0,
            vat_amount: 0,
            net: 0,
        });
        e.gross += l.amount_in;
    }
    for t in per_code.values_mut() {
        t.vat_amount = t.vat.vat_of_gross(t.gross);
        t.net = t.gross - t.vat_amount;
        let idx: Vec<usize> = (0..lines.len())
            .filter(|i| lines[*i].vat == t.vat)
            .collect();
        let weights: Vec<i64> = idx.iter().map(|i| lines[*i].amount_in).collect();
        let vats = allocate(t.vat_amount, &weights);
        for (i, v) in idx.into_iter().zip(vats) {
            lines[i].vat_amount = v;
            lines[i].amount_ex = lines[i].amount_in - v;
        }
    }
    per_code.into_values().collect()
}

/// Sums the VAT totals into (gross, net).
pub fn totals_of(vat: &[TransVat]) -> (i64, i64) {
    vat.iter()
        .fold((0, 0), |(g, n), v| (g + v.gross, n + v.net))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Catalog, Money, VatCode};

    #[test]
    fn line_vat_adds_up_to_the_code_totals() {
        let c = Catalog::club_default();
        let kaffe = SaleLine::from_product(c.get("kaffe").unwrap(), 1);
        let vaffel = SaleLine::from_product(c.get("vaffel").unwrap(), 1);
        let voksen = SaleLine::from_product(c.get("voksen").unwrap(), 2);
        let (lines, vat) = sale_lines(&[kaffe, vaffel, voksen]);
        // 55,00 at 15 %: 7,17 VAT; split 30:25 -> 3,91 + 3,26
        assert_eq!(vat.len(), 2);
        let food = vat
            .iter()
            .find(|v| v.vat == VatCode::ReducedMiddle)
            .unwrap();
        assert_eq!((food.gross, food.vat_amount, food.net), (5_500, 717, 4_783));
        assert_eq!(lines[0].vat_amount + lines[1].vat_amount, 717);
        assert_eq!(lines[2].vat_amount, 0);
        assert_eq!(lines[2].amount_ex, 30_000);
        assert_eq!(totals_of(&vat), (35_500, 34_783));
    }

    #[test]
    fn returns_full_and_partial() {
        let c = Catalog::club_default();
        let sale = vec![
            SaleLine::from_product(c.get("kaffe").unwrap(), 2),
            SaleLine::free_amount(Money::nok(4_000), VatCode::Regular, "Beløp"),
        ];
        let (full, vat) = return_lines(&sale, 10_000);
        assert_eq!(full[0].quantity, Some(-2));
        assert_eq!(totals_of(&vat).0, -10_000);
        let (part, vat) = return_lines(&sale, 5_001);
        assert_eq!(part.iter().map(|l| l.amount_in).sum::<i64>(), -5_001);
        assert_eq!(part[0].quantity, None);
        assert_eq!(totals_of(&vat).0, -5_001);
        assert_eq!(allocate(10, &[1, 1, 1]), vec![4, 3, 3]);
        assert_eq!(allocate(-10, &[1, 1, 1]), vec![-4, -3, -3]);
    }

    /// The example from issue 14: 50,00 back from 33,33 (A) + 33,33 + 33,34
    /// (B). Truncating per code gave A 16,66 / B 33,34 on the receipt while
    /// the journal signed A 16,67 / B 33,33; both now take the latter.
    #[test]
    fn a_partial_return_splits_per_code_as_the_journal_signs_it() {
        let a = VatCode::Regular;
        let b = VatCode::ReducedMiddle;
        let sale = vec![
            SaleLine::free_amount(Money::nok(3_333), a, "A"),
            SaleLine::free_amount(Money::nok(3_333), b, "B1"),
            SaleLine::free_amount(Money::nok(3_334), b, "B2"),
        ];
        assert_eq!(return_shares(&sale, 5_000), vec![1_667, 1_666, 1_667]);
        assert_eq!(return_per_vat(&sale, 5_000), vec![(a, 1_667), (b, 3_333)]);
        let (_, vat) = return_lines(&sale, 5_000);
        let signed: Vec<(VatCode, i64)> = vat.iter().map(|v| (v.vat, -v.gross)).collect();
        let mut printed = return_per_vat(&sale, 5_000);
        printed.sort_by_key(|(v, _)| v.code());
        assert_eq!(signed, printed);
        assert!(!is_full_return(&sale, 5_000));
        assert!(is_full_return(&sale, 10_000));
        assert_eq!(return_per_vat(&sale, 10_000), vec![(a, 3_333), (b, 6_667)]);
    }
}
