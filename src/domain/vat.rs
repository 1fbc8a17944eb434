//! VAT (merverdiavgift) as SAF-T standard tax codes, with the rate each carries.
//!
//! Prices in the till are VAT-inclusive (what the customer pays). The VAT part
//! of a gross amount is computed once per rate over the sum of the lines at
//! that rate, rounded half away from zero, and the net is the gross minus the
//! VAT, so net + VAT always equals the gross to the øre.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The SAF-T standard VAT codes a till uses for sales (output VAT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub enum VatCode {
    /// 3: output VAT, regular rate (25 %): merchandise.
    Regular,
    /// 31: output VAT, reduced rate middle (15 %): food and drink.
    ReducedMiddle,
    /// 32: output VAT, reduced rate raw fish (11.11 %).
    RawFish,
    /// 33: output VAT, reduced rate low (12 %): e.g. passenger transport, cinema.
    ReducedLow,
    /// 5: domestic turnover exempt from VAT (zero rate).
    ZeroRate,
    /// 6: turnover outside the scope of the VAT act, e.g. tickets to amateur sports events.
    OutsideScope,
}

impl VatCode {
    pub const ALL: [VatCode; 6] = [
        VatCode::Regular,
        VatCode::ReducedMiddle,
        VatCode::RawFish,
        VatCode::ReducedLow,
        VatCode::ZeroRate,
        VatCode::OutsideScope,
    ];

    /// The standard code number as in Skatteetaten's `Standard_Tax_Codes.csv`.
    pub fn code(self) -> u16 {
        match self {
            VatCode::Regular => 3,
            VatCode::ReducedMiddle => 31,
            VatCode::RawFish => 32,
            VatCode::ReducedLow => 33,
            VatCode::ZeroRate => 5,
            VatCode::OutsideScope => 6,
        }
    }

    pub fn from_code(code: u16) -> Option<VatCode> {
        VatCode::ALL.into_iter().find(|v| v.code() == code)
    }

    /// The rate in basis points (hundredths of a percent): 2500 = 25 %.
    pub fn rate_bp(self) -> i64 {
        match self {
            VatCode::Regular => 2500,
            VatCode::ReducedMiddle => 1500,
            VatCode::RawFish => 1111,
            VatCode::ReducedLow => 1200,
            VatCode::ZeroRate | VatCode::OutsideScope => 0,
        }
    }

    /// Whole percent as Vipps' receipt `taxPercentage` wants it (0–100).
    pub fn percent_rounded(self) -> i64 {
        (self.rate_bp() + 50) / 100
    }

    /// The VAT contained in a VAT-inclusive amount, rounded half away from zero.
    pub fn vat_of_gross(self, gross_minor: i64) -> i64 {
        let rate = self.rate_bp() as i128;
        if rate == 0 {
            return 0;
        }
        let num = gross_minor as i128 * rate;
        let den = 10_000 + rate;
        let q = num / den;
        let r = num % den;
        let rounded = if 2 * r.abs() >= den {
            q + num.signum()
        } else {
            q
        };
        rounded as i64
    }

    pub fn description(self) -> &'static str {
        match self {
            VatCode::Regular => "MVA 25 %",
            VatCode::ReducedMiddle => "MVA 15 %",
            VatCode::RawFish => "MVA 11,11 %",
            VatCode::ReducedLow => "MVA 12 %",
            VatCode::ZeroRate => "Fritatt (0 %)",
            VatCode::OutsideScope => "Utenfor mva-loven",
        }
    }
}

impl TryFrom<u16> for VatCode {
    type Error = String;
    fn try_from(code: u16) -> Result<Self, Self::Error> {
        VatCode::from_code(code).ok_or_else(|| {
            format!(
                "{code} is not a SAF-T standard VAT code for sales; use 3 (25 %), 31 (15 %), \
                 32 (11,11 %), 33 (12 %), 5 (zero rate) or 6 (outside the VAT act)"
            )
        })
    }
}

impl From<VatCode> for u16 {
    fn from(v: VatCode) -> u16 {
        v.code()
    }
}

impl fmt::Display for VatCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code(), self.description())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_codes_are_named() {
        for v in VatCode::ALL {
            assert_eq!(VatCode::from_code(v.code()), Some(v));
        }
        let err = VatCode::try_from(25).unwrap_err();
        assert!(err.contains("25 is not a SAF-T standard VAT code"), "{err}");
    }

    #[test]
    fn vat_of_gross_rounds_half_away_from_zero() {
        // 125,00 at 25 % holds exactly 25,00.
        assert_eq!(VatCode::Regular.vat_of_gross(12_500), 2_500);
        // 150,00 at 15 %: 19,565.. -> 19,57
        assert_eq!(VatCode::ReducedMiddle.vat_of_gross(15_000), 1_957);
        // 1,00 at 25 %: 0,20 exactly
        assert_eq!(VatCode::Regular.vat_of_gross(100), 20);
        // 0,05 at 25 %: 0,01
        assert_eq!(VatCode::Regular.vat_of_gross(5), 1);
        // refunds are negative and round symmetrically
        assert_eq!(VatCode::ReducedMiddle.vat_of_gross(-15_000), -1_957);
        assert_eq!(VatCode::OutsideScope.vat_of_gross(15_000), 0);
        assert_eq!(VatCode::ZeroRate.vat_of_gross(15_000), 0);
    }

    #[test]
    fn percent_for_vipps_receipt() {
        assert_eq!(VatCode::Regular.percent_rounded(), 25);
        assert_eq!(VatCode::RawFish.percent_rounded(), 11);
        assert_eq!(VatCode::OutsideScope.percent_rounded(), 0);
    }
}
