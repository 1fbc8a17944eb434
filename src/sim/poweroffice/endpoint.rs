//! The PowerOffice endpoints the simulator serves, by name: how requests
//! are counted and recorded, and what the tests' fault knobs aim at.

use axum::http::Method;

/// The simulated endpoints, as counted and recorded (`Exchange::operation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Token,
    GeneralLedgerAccounts,
    VatCodes,
    Departments,
    PostCashJournal,
    PostBankJournal,
    GetCashJournal,
    GetBankJournal,
    AccountTransactions,
    Unknown,
}

impl Endpoint {
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Token => "Token",
            Endpoint::GeneralLedgerAccounts => "GeneralLedgerAccounts",
            Endpoint::VatCodes => "VatCodes",
            Endpoint::Departments => "Departments",
            Endpoint::PostCashJournal => "PostCashJournal",
            Endpoint::PostBankJournal => "PostBankJournal",
            Endpoint::GetCashJournal => "GetCashJournal",
            Endpoint::GetBankJournal => "GetBankJournal",
            Endpoint::AccountTransactions => "AccountTransactions",
            Endpoint::Unknown => "unknown",
        }
    }

    pub(crate) fn of(method: &Method, path: &str) -> Endpoint {
        let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
        let get = method == Method::GET;
        let post = method == Method::POST;
        match segs.as_slice() {
            ["OAuth", "Token"] if post => Endpoint::Token,
            ["v2", "GeneralLedgerAccounts"] if get => Endpoint::GeneralLedgerAccounts,
            ["v2", "VatCodes"] if get => Endpoint::VatCodes,
            ["v2", "Departments"] if get => Endpoint::Departments,
            ["v2", "Vouchers", "CashJournals"] if post => Endpoint::PostCashJournal,
            ["v2", "Vouchers", "BankJournals"] if post => Endpoint::PostBankJournal,
            ["v2", "Vouchers", "CashJournals", _] if get => Endpoint::GetCashJournal,
            ["v2", "Vouchers", "BankJournals", _] if get => Endpoint::GetBankJournal,
            ["v2", "AccountTransactions"] if get => Endpoint::AccountTransactions,
            _ => Endpoint::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_from_paths() {
        let (g, p) = (Method::GET, Method::POST);
        assert_eq!(Endpoint::of(&p, "/OAuth/Token"), Endpoint::Token);
        assert_eq!(
            Endpoint::of(&p, "/v2/Vouchers/BankJournals"),
            Endpoint::PostBankJournal
        );
        assert_eq!(
            Endpoint::of(&g, "/v2/Vouchers/CashJournals/abc"),
            Endpoint::GetCashJournal
        );
        assert_eq!(
            Endpoint::of(&g, "/v2/Vouchers/CashJournals"),
            Endpoint::Unknown
        );
    }
}
