//! The simulated client's master data: a small Norwegian chart of accounts
//! (NS 4102) and the SAF-T standard VAT codes, as a fresh PowerOffice Go
//! client has them.
//!
//! Ids are deliberately unlike account numbers and VAT codes, so a client that
//! sends a number where PowerOffice wants an id is caught. Data only; it must
//! never decide anything.

/// A general ledger account of the simulated client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimAccount {
    pub id: i64,
    pub no: u32,
    pub name: String,
    pub active: bool,
    /// The default VAT code shown in Go (not enforced).
    pub vat_code: Option<String>,
    /// `Asset`, `Liability`, `Equity`, `Income` or `Expense`.
    pub kind: &'static str,
}

/// A VAT code of the simulated client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimVatCode {
    pub id: i64,
    /// SAF-T standard code, e.g. `"3"`.
    pub code: String,
    pub name: String,
    /// Basis points: 2500 = 25 %.
    pub rate_bp: i64,
    pub active: bool,
}

/// A department (avdeling) of the simulated client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimDepartment {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub active: bool,
}

impl SimDepartment {
    /// An active department; its id is unlike its code (`16_100 + n` for a
    /// numeric code), so a client that sends the code is caught.
    pub fn new(code: &str, name: &str) -> SimDepartment {
        let n: i64 = code.bytes().fold(0, |a, b| a * 31 + i64::from(b)) % 100_000;
        SimDepartment {
            id: 1_600_000 + n,
            code: code.to_string(),
            name: name.to_string(),
            active: true,
        }
    }
}

const ACCOUNTS: [(u32, &str, Option<&str>, &str); 20] = [
    (1500, "Kundefordringer", None, "Asset"),
    (1580, "Mellomregning kortterminal", None, "Asset"),
    (1900, "Kontanter", None, "Asset"),
    (1903, "Mellomregning Vipps", None, "Asset"),
    (1920, "Bankinnskudd", None, "Asset"),
    // A second bank account: a club whose groups each have their own Vipps
    // number is paid out to one bank account per group.
    (1921, "Bankinnskudd 2", None, "Asset"),
    (2050, "Annen egenkapital", None, "Equity"),
    (2400, "Leverandørgjeld", None, "Liability"),
    (
        2700,
        "Utgående merverdiavgift, alminnelig sats",
        None,
        "Liability",
    ),
    (
        2701,
        "Utgående merverdiavgift, middels sats",
        None,
        "Liability",
    ),
    (2702, "Utgående merverdiavgift, lav sats", None, "Liability"),
    (2740, "Oppgjørskonto merverdiavgift", None, "Liability"),
    (3000, "Salgsinntekt, avgiftspliktig", Some("3"), "Income"),
    (
        3030,
        "Salgsinntekt, avgiftspliktig middels sats",
        Some("31"),
        "Income",
    ),
    (
        3033,
        "Salgsinntekt, avgiftspliktig lav sats",
        Some("33"),
        "Income",
    ),
    (3100, "Salgsinntekt, avgiftsfri", Some("5"), "Income"),
    (
        3200,
        "Salgsinntekt, utenfor avgiftsområdet",
        Some("6"),
        "Income",
    ),
    (
        4000,
        "Innkjøp av varer for videresalg",
        Some("1"),
        "Expense",
    ),
    (7770, "Bank- og kortgebyrer", None, "Expense"),
    (7799, "Kassedifferanse", None, "Expense"),
];

const VAT_CODES: [(&str, &str, i64); 11] = [
    ("0", "Ingen mva-behandling (anskaffelser)", 0),
    ("1", "Fradrag for inngående mva, alminnelig sats", 2500),
    ("11", "Fradrag for inngående mva, middels sats", 1500),
    ("13", "Fradrag for inngående mva, lav sats", 1200),
    ("3", "Utgående mva, alminnelig sats", 2500),
    ("31", "Utgående mva, middels sats", 1500),
    ("32", "Utgående mva, råfisk", 1111),
    ("33", "Utgående mva, lav sats", 1200),
    ("5", "Innenlands omsetning fritatt for mva (nullsats)", 0),
    ("6", "Omsetning utenfor merverdiavgiftsloven", 0),
    ("7", "Ingen mva-behandling (inntekter)", 0),
];

pub fn chart_of_accounts() -> Vec<SimAccount> {
    ACCOUNTS
        .iter()
        .map(|(no, name, vat, kind)| SimAccount {
            id: 5_550_000 + i64::from(*no),
            no: *no,
            name: name.to_string(),
            active: true,
            vat_code: vat.map(str::to_string),
            kind,
        })
        .collect()
}

pub fn vat_codes() -> Vec<SimVatCode> {
    VAT_CODES
        .iter()
        .map(|(code, name, rate_bp)| SimVatCode {
            id: 880_000 + code.parse::<i64>().unwrap_or_default(),
            code: code.to_string(),
            name: name.to_string(),
            rate_bp: *rate_bp,
            active: true,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_what_the_till_posts_to() {
        let accounts = chart_of_accounts();
        for no in [1900, 1903, 1920, 3000, 3030, 3033, 3100, 3200, 7770, 7799] {
            let a = accounts.iter().find(|a| a.no == no).unwrap();
            assert_ne!(a.id, i64::from(no), "ids must differ from numbers");
        }
        for a in crate::domain::voucher::Accounts::default().all() {
            assert!(accounts.iter().any(|s| s.no == a), "{a}");
        }
        let codes = vat_codes();
        for code in ["3", "31", "32", "33", "5", "6"] {
            let v = codes.iter().find(|v| v.code == code).unwrap();
            assert_ne!(v.id.to_string(), code);
        }
    }
}
