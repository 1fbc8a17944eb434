//! The SAF-T file's opening: header, company, VAT codes, employees,
//! articles, the basics (code lists) used, and the location with a cash
//! register per journal, which the events and transactions belong to.

use std::io::{self, Write};

use super::xml::{Xml, clean};
use super::{FileScope, Meta, NAMESPACE, Register};
use crate::domain::local_time::{local_date, local_time};

/// Ids are at most 35 characters in SAF-T.
pub fn id35(id: &str) -> String {
    id.chars().take(35).collect()
}

/// The basic id of a product group: prefixed, so it can never collide with
/// the ids of payment, transaction or event basics.
pub fn group_id(group: &str) -> String {
    id35(&format!("GRP-{group}"))
}

/// Skatteetaten's predefined article group (code list 04) for a group name.
fn group_predefined(group: &str) -> &'static str {
    let g = group.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| g.contains(w));
    if has(&["billett", "inngang", "entré", "ticket"]) {
        "04015"
    } else if has(&["brus", "vann", "mineral"]) {
        "04011"
    } else if has(&["kaffe", "te", "drikke"]) {
        "04012"
    } else if has(&["kiosk", "mat", "food", "pølse", "vaffel"]) {
        "04006"
    } else if has(&["klær", "merch", "utstyr", "suvenir"]) {
        "04003"
    } else {
        "04999"
    }
}

pub fn write_head<W: Write>(
    x: &mut Xml<W>,
    o: &FileScope,
    m: &Meta,
    registers: &[Register],
) -> io::Result<()> {
    x.raw_line(r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    x.raw_line(&format!(r#"<auditfile xmlns="{NAMESPACE}">"#))?;
    x.open("header")?;
    x.val("fiscalYear", o.from.year())?;
    x.val("startDate", o.from)?;
    x.val("endDate", o.to)?;
    x.val("curCode", "NOK")?;
    x.val("dateCreated", local_date(o.now))?;
    x.val("timeCreated", local_time(o.now))?;
    x.val("softwareDesc", "Luka")?;
    x.leaf("softwareVersion", env!("CARGO_PKG_VERSION"), 20)?;
    x.val("softwareCompanyName", "Luka contributors")?;
    x.val("auditfileVersion", "1.00")?;
    x.leaf("headerComment", &key_comment(registers), 999)?;
    x.close("header")?;

    x.open("company")?;
    let org = o.merchant.org_digits();
    x.leaf("companyIdent", &org, 35)?;
    x.leaf("companyName", &o.merchant.name, 100)?;
    x.val("taxRegistrationCountry", "NO")?;
    if o.merchant.vat_registered {
        x.leaf("taxRegIdent", &format!("{org}MVA"), 50)?;
    }
    write_address(x, "streetAddress", &o.merchant.address)?;

    if !m.vat.is_empty() {
        x.open("vatCodeDetails")?;
        for v in m.vat.values() {
            x.open("vatCodeDetail")?;
            x.val("vatCode", v.code())?;
            x.val("dateOfEntry", o.from)?;
            x.leaf("vatDesc", v.description(), 100)?;
            x.val("standardVatCode", v.code())?;
            x.close("vatCodeDetail")?;
        }
        x.close("vatCodeDetails")?;
    }
    if !m.employees.is_empty() {
        x.open("employees")?;
        for (id, e) in &m.employees {
            x.open("employee")?;
            x.leaf("empID", id, 35)?;
            x.val("dateOfEntry", &e.date)?;
            x.val("timeOfEntry", &e.time)?;
            x.leaf("surName", &e.name, 100)?;
            x.close("employee")?;
        }
        x.close("employees")?;
    }
    if !m.articles.is_empty() {
        x.open("articles")?;
        for (id, (name, group, date)) in &m.articles {
            x.open("article")?;
            x.leaf("artID", id, 35)?;
            x.val("dateOfEntry", date)?;
            x.leaf("artGroupID", &group_id(group), 35)?;
            x.leaf("artDesc", name, 999)?;
            x.close("article")?;
        }
        x.close("articles")?;
    }
    write_basics(x, m)?;

    x.open("location")?;
    x.leaf("name", &o.merchant.name, 100)?;
    Ok(())
}

pub fn open_register<W: Write>(x: &mut Xml<W>, reg: &Register) -> io::Result<()> {
    x.open("cashregister")?;
    x.leaf("registerID", &reg.id, 100)?;
    let desc = format!(
        "Luka {} till {}, installation {}",
        env!("CARGO_PKG_VERSION"),
        reg.id,
        reg.installation
    );
    x.leaf("regDesc", &desc, 999)
}

pub fn close_register<W: Write>(x: &mut Xml<W>) -> io::Result<()> {
    x.close("cashregister")
}

pub fn write_tail<W: Write>(x: &mut Xml<W>) -> io::Result<()> {
    x.close("location")?;
    x.close("company")?;
    x.raw_line("</auditfile>")
}

/// How to check the signatures, and the public key(s) that check them.
/// With several registers each key names its register (a key version is
/// only unique within one till).
fn key_comment(registers: &[Register]) -> String {
    let mut s = String::from(
        "Signatures: RSA-SHA1 1024-bit, PKCS#1 v1.5, base64, over \
         previous signature;transDate;transTime;nr;transAmntIn;transAmntEx (first previous: 0).",
    );
    let several = registers.len() > 1;
    for reg in registers {
        for (version, pem) in &reg.public_keys {
            let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
            let whose = if several {
                format!(" registerID {}", reg.id)
            } else {
                String::new()
            };
            s.push_str(&format!(
                "{whose} keyVersion {version}: public key (DER, base64) {body}."
            ));
        }
    }
    s
}

fn write_basic<W: Write>(
    x: &mut Xml<W>,
    basic_type: &str,
    id: &str,
    predefined: Option<&str>,
    desc: &str,
) -> io::Result<()> {
    x.open("basic")?;
    x.val("basicType", basic_type)?;
    x.leaf("basicID", id, 35)?;
    if let Some(p) = predefined {
        x.val("predefinedBasicID", p)?;
    }
    x.leaf("basicDesc", desc, 999)?;
    x.close("basic")
}

fn write_basics<W: Write>(x: &mut Xml<W>, m: &Meta) -> io::Result<()> {
    x.open("basics")?;
    for (id, name) in &m.groups {
        write_basic(x, "04", id, Some(group_predefined(name)), name)?;
    }
    write_basic(x, "05", "SAL", None, "Sale line")?;
    write_basic(x, "05", "RET", None, "Return line")?;
    for (id, code, desc) in [
        ("CASHSAL", "11001", "Cash sale"),
        ("RETURNSAL", "11006", "Return payment"),
        ("FLOAT", "11007", "Cash declaration (opening float)"),
        ("CASHDIFF", "11008", "Cash difference at count"),
        ("CASH", "12001", "Cash"),
        ("VIPPS", "12011", "Vipps MobilePay"),
        // A standalone terminal does not tell the till debit from credit;
        // BankAxept, the common club card, is debit (12002).
        ("CARD", "12002", "Bankkort (kortterminal)"),
    ] {
        write_basic(x, &code[..2], id, Some(code), desc)?;
    }
    for c in m.events.values() {
        write_basic(
            x,
            "13",
            c.basic_id,
            Some(&c.predefined.to_string()),
            c.description,
        )?;
    }
    x.close("basics")
}

/// Free address lines as SAF-T fields: "0001 Oslo" is postal code and
/// city, the first other line the street.
fn write_address<W: Write>(x: &mut Xml<W>, tag: &str, lines: &[String]) -> io::Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let postal = lines.iter().find_map(|l| {
        let (code, city) = l.trim().split_once(' ')?;
        (code.len() == 4 && code.chars().all(|c| c.is_ascii_digit()))
            .then(|| (code.to_string(), city.trim().to_string()))
    });
    let street = lines.iter().find(|l| {
        postal
            .as_ref()
            .is_none_or(|(c, _)| !l.trim().starts_with(c.as_str()))
    });
    x.open(tag)?;
    if let Some(s) = street {
        x.leaf("streetname", s, 100)?;
    }
    if let Some((code, city)) = postal {
        x.leaf("city", &city, 50)?;
        x.val("postalCode", clean(&code, 20))?;
    }
    x.val("country", "NO")?;
    x.close(tag)
}
