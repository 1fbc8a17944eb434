//! The config parser: every key, every error names the key and the fix.

use std::time::Duration;

use super::*;
use crate::domain::Money;
use crate::vipps::TEST_BASE_URL;

/// A valid seller, organizer PIN and printer choice, needed by every non-training config.
const M: &str = "[printer]\ndriver = \"none\"\n[ui]\npin_hash = \"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$uFtn+OAWSJx8dNvqZxnBOhQ0QlqtCDAN4MDMvVjJqGs\"\n\n[merchant]\nname = \"Luka IL\"\norg_number = \"974 760 673\"\n";

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("luka.toml"), &|_| None)
}

#[test]
fn merchant_is_required_outside_training_and_checked() {
    let creds = "[vipps]\nenvironment = \"test\"\nclient_id = \"a\"\nclient_secret = \"s\"\nsubscription_key = \"k\"\nmerchant_serial_number = \"1234\"\n";
    let e = parse(creds).unwrap_err();
    assert_eq!(e.key, "[merchant]");
    let e = parse(&format!(
        "{creds}[merchant]\nname = \"IL\"\norg_number = \"974760674\"\n"
    ))
    .unwrap_err();
    assert_eq!(e.key, "[merchant] org_number");
    assert!(e.problem.contains("check digit"), "{e}");
    let c = parse(&format!(
        "{M}vat_registered = true\naddress = [\"Banegata 1\"]\n{creds}"
    ))
    .unwrap();
    assert_eq!(c.merchant.org_digits(), "974760673");
    assert!(c.merchant.vat_registered);
    assert_eq!(parse("").unwrap().merchant, Merchant::training());
}

#[test]
fn organizer_pin_is_required_outside_training_and_language_is_checked() {
    let creds = "[vipps]\nenvironment = \"test\"\nclient_id = \"a\"\nclient_secret = \"s\"\nsubscription_key = \"k\"\nmerchant_serial_number = \"1234\"\n";
    let no_pin =
        "[printer]\ndriver = \"none\"\n[merchant]\nname = \"IL\"\norg_number = \"974760673\"\n";
    let e = parse(&format!("{no_pin}{creds}")).unwrap_err();
    assert_eq!(e.key, "[ui] pin_hash");
    assert!(e.fix.contains("luka pin-hash"), "{e}");
    let e = parse("[ui]\npin_hash = \"1234\"").unwrap_err();
    assert_eq!(e.key, "[ui] pin_hash");
    let c = parse(&format!("{M}{creds}")).unwrap();
    assert!(c.ui.pin_hash.is_some());
    assert_eq!(parse("").unwrap().ui.language, Language::Nb);
    assert!(
        parse("").unwrap().ui.pin_hash.is_none(),
        "training uses the training PIN"
    );
    assert_eq!(
        parse("[ui]\nlanguage = \"en\"").unwrap().ui.language,
        Language::En
    );
    assert_eq!(
        parse("[ui]\nlanguage = \"de\"").unwrap_err().key,
        "[ui] language"
    );
    assert_eq!(
        parse("[ui]\nresult_seconds = 0").unwrap_err().key,
        "[ui] result_seconds"
    );
    let t = parse("[training]\nlisten = \"127.0.0.1:0\"\nphone_host = \"192.168.1.20\"").unwrap();
    assert_eq!(t.training.phone_host.as_deref(), Some("192.168.1.20"));
    assert_eq!(
        parse("[training]\nlisten = \"nowhere\"").unwrap_err().key,
        "[training] listen"
    );
}

#[test]
fn no_config_means_training_with_the_club_catalog() {
    let c = parse("").unwrap();
    assert!(c.is_training());
    assert!(c.vipps.credentials.is_none());
    assert_eq!(c.store_path, PathBuf::from("luka-training.db"));
    assert_eq!(
        c.catalog.products().len(),
        Catalog::club_default().products().len()
    );
}

#[test]
fn training_never_shares_the_real_database() {
    let c = parse("[store]\npath = \"/var/lib/luka/luka.db\"").unwrap();
    assert_eq!(
        c.store_path,
        PathBuf::from("/var/lib/luka/luka-training.db")
    );
}

#[test]
fn test_environment_needs_every_credential_and_names_the_missing_one() {
    let e = parse(&format!(
        "{M}[vipps]\nenvironment = \"test\"\nclient_id = \"abc\""
    ))
    .unwrap_err();
    assert_eq!(e.key, "[vipps] client_secret");
    assert!(e.to_string().contains("fix: set client_secret_file"), "{e}");
    let ok = parse(&format!(
        "{M}[vipps]\nenvironment = \"test\"\nclient_id = \"abc\"\nclient_secret = \"s\"\n\
         subscription_key = \"k\"\nmerchant_serial_number = \"123456\""
    ))
    .unwrap();
    assert_eq!(ok.vipps.base_url.as_deref(), Some(TEST_BASE_URL));
    assert_eq!(ok.store_path, PathBuf::from("luka.db"));
}

#[test]
fn typos_and_bad_values_are_named() {
    let e = parse("[vipps]\nenviroment = \"test\"").unwrap_err();
    assert!(e.problem.contains("enviroment"), "{e}");
    let e = parse("[vipps]\nenvironment = \"prod\"").unwrap_err();
    assert!(e.problem.contains("prod"), "{e}");
    let e = parse("[till]\nid = \"døra 1\"").unwrap_err();
    assert_eq!(e.key, "[till] id");
    let e = parse("[vipps]\npoll_interval_ms = 100").unwrap_err();
    assert!(e.problem.contains("120 reads"), "{e}");
}

#[test]
fn production_refuses_plain_http_and_test_allows_only_loopback() {
    let creds = "client_id = \"a\"\nclient_secret = \"s\"\nsubscription_key = \"k\"\nmerchant_serial_number = \"1234\"\n";
    let e = parse(&format!(
        "{M}[vipps]\nenvironment = \"production\"\nbase_url = \"http://127.0.0.1:9\"\n{creds}"
    ))
    .unwrap_err();
    assert!(e.fix.contains("https://api.vipps.no"), "{e}");
    assert!(
        parse(&format!(
            "{M}[vipps]\nenvironment = \"test\"\nbase_url = \"http://127.0.0.1:9\"\n{creds}"
        ))
        .is_ok()
    );
    assert!(
        parse(&format!(
            "{M}[vipps]\nenvironment = \"test\"\nbase_url = \"http://10.0.0.2\"\n{creds}"
        ))
        .is_err()
    );
}

#[test]
fn secrets_come_from_0600_files_or_the_environment_and_never_print() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("secret");
    std::fs::write(&f, "top-secret-value\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    let text = format!(
        "{M}[vipps]\nclient_id = \"a\"\nclient_secret_file = \"{}\"\nsubscription_key = \"k\"\nmerchant_serial_number = \"1234\"",
        f.display()
    );
    let e = parse(&text).unwrap_err();
    assert!(e.fix.contains("chmod 600"), "{e}");
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
    let c = parse(&text).unwrap();
    let creds = c.vipps.credentials.unwrap();
    assert_eq!(creds.client_secret.expose(), "top-secret-value");
    assert!(!format!("{creds:?}").contains("top-secret-value"));
    let from_env = Config::parse(
        &format!("{M}[vipps]\nclient_id = \"a\"\nsubscription_key = \"k\"\nmerchant_serial_number = \"1234\""),
        Path::new("luka.toml"),
        &|k| (k == "LUKA_VIPPS_CLIENT_SECRET").then(|| "from-env".to_string()),
    )
    .unwrap();
    assert_eq!(
        from_env.vipps.credentials.unwrap().client_secret.expose(),
        "from-env"
    );
}

#[test]
fn a_config_with_secrets_in_it_must_not_be_readable_by_everyone() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("luka.toml");
    let chmod =
        |mode| std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
    let secret = dir.path().join("vipps-client-secret");
    std::fs::write(&secret, "top-secret-value\n").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let db = dir.path().join("luka.db");
    let inline = format!(
        "{M}[store]\npath = \"{}\"\n[vipps]\nenvironment = \"test\"\nclient_id = \"a\"\n\
         client_secret = \"top-secret-value\"\nsubscription_key = \"k\"\n\
         merchant_serial_number = \"1234\"\n\
         [bookkeeping.webhook]\nurl = \"https://books.example.org/hook\"\nsecret = \"whsec_c2VjcmV0\"\n",
        db.display()
    );
    std::fs::write(&file, &inline).unwrap();
    chmod(0o644);
    let e = Config::load(Some(&file)).unwrap_err();
    assert_eq!(e.key, "[vipps] client_secret", "{e}");
    let shown = e.to_string();
    assert!(
        shown.contains("[vipps] subscription_key")
            && shown.contains("[bookkeeping.webhook] secret")
            && shown.contains("mode 644")
            && e.fix.contains(&format!("chmod 600 {}", file.display())),
        "{shown}"
    );
    assert!(!shown.contains("top-secret-value"), "{shown}");
    // Owner-only, or the till's group as install.sh sets it, is fine.
    for mode in [0o600, 0o640] {
        chmod(mode);
        Config::load(Some(&file)).unwrap();
    }
    // Secrets in 0600 files: the config itself may be world-readable.
    let by_file = format!(
        "{M}[store]\npath = \"{}\"\n[vipps]\nenvironment = \"test\"\nclient_id = \"a\"\n\
         client_secret_file = \"{}\"\nsubscription_key_file = \"{}\"\nmerchant_serial_number = \"1234\"\n",
        db.display(),
        secret.display(),
        secret.display()
    );
    std::fs::write(&file, &by_file).unwrap();
    chmod(0o644);
    Config::load(Some(&file)).unwrap();
    assert!(inline_secrets(&by_file).is_empty());
}

#[test]
fn gpio_pins_are_checked_and_named() {
    assert!(parse("").unwrap().gpio.is_empty());
    let c =
        parse("[gpio]\npaid_led = 17\nbuzzer = 27\nbutton_new_sale = 5\npulse_ms = 250\n").unwrap();
    assert_eq!((c.gpio.paid_led, c.gpio.buzzer), (Some(17), Some(27)));
    assert_eq!(c.gpio.pulse, Duration::from_millis(250));
    let e = parse("[gpio]\npaid_led = 300\n").unwrap_err();
    assert_eq!(e.key, "[gpio] paid_led");
    let e = parse("[gpio]\nerror_led = 28\n").unwrap_err();
    assert!(e.fix.contains("0 to 27"), "{e}");
    let e = parse("[gpio]\npaid_led = 17\nbutton_cancel = 17\n").unwrap_err();
    assert_eq!(e.key, "[gpio] button_cancel");
    assert!(e.problem.contains("paid_led"), "{e}");
    let e = parse("[gpio]\nled = 17\n").unwrap_err();
    assert!(e.problem.contains("led"), "{e}");
}

#[test]
fn vat_defaults_and_warnings() {
    let c = parse(&format!(
        "{M}vat_registered = true\n[[products]]\nid = \"kaffe\"\nname = \"Kaffe\"\ngroup = \"Kiosk\"\nprice = 30\n\
         [[products]]\nid = \"voksen\"\nname = \"Voksen\"\ngroup = \"Billetter\"\nprice = 150\n\
         [[products]]\nid = \"lue\"\nname = \"Lue\"\ngroup = \"Klær\"\nprice = 200\nvat = 6\n"
    ))
    .unwrap();
    assert_eq!(c.catalog.get("kaffe").unwrap().vat, VatCode::ReducedMiddle);
    assert_eq!(c.catalog.get("voksen").unwrap().vat, VatCode::OutsideScope);
    let w = c.vat_warnings();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("'lue'"), "{w:?}");
}

#[test]
fn products_from_config() {
    let c = parse(
        "[[products]]\nid = \"kaffe\"\nname = \"Kaffe\"\ngroup = \"Kiosk\"\nprice = \"25,50\"\nvat = 31\n\
         [[products]]\nid = \"voksen\"\nname = \"Voksen\"\nprice = 150\nvat = 6\n",
    )
    .unwrap();
    assert_eq!(c.catalog.get("kaffe").unwrap().price, Money::nok(2_550));
    assert_eq!(c.catalog.get("voksen").unwrap().vat, VatCode::OutsideScope);
    let e = parse("[[products]]\nid = \"x\"\nname = \"X\"\nprice = 10\nvat = 25\n").unwrap_err();
    assert!(e.key.contains("vat"), "{e}");
}

#[test]
fn operators_need_an_id_a_name_and_a_hashed_code() {
    const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$uFtn+OAWSJx8dNvqZxnBOhQ0QlqtCDAN4MDMvVjJqGs";
    let op = |id: &str, name: &str, hash: &str| {
        format!("[[operators]]\nid = \"{id}\"\nname = \"{name}\"\ncode_hash = \"{hash}\"\n")
    };
    let c = parse(&format!(
        "{}{}",
        op("1001", "Kari", HASH),
        op("1002", " Ola ", HASH)
    ))
    .unwrap();
    let names: Vec<&str> = c.operators.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["Kari", "Ola"]);
    assert!(c.operators.iter().all(|o| !o.marks_stock));
    let kiosk = parse(&format!("{}stock = true\n", op("1001", "Kari", HASH))).unwrap();
    assert!(
        kiosk.operators[0].marks_stock,
        "stock = true: the kioskansvarlig"
    );
    assert!(parse("").unwrap().operators.is_empty());
    let twice = parse(&format!(
        "{}{}",
        op("1001", "Kari", HASH),
        op("1001", "Ola", HASH)
    ))
    .unwrap_err();
    assert!(twice.problem.contains("twice"), "{twice}");
    let plain = parse(&op("1001", "Kari", "1234")).unwrap_err();
    assert_eq!(plain.key, "[[operators]] id = \"1001\": code_hash");
    assert!(plain.fix.contains("luka pin-hash"), "{plain}");
    assert!(
        !plain.to_string().contains("= \"1234\""),
        "the code is never echoed: {plain}"
    );
    let organizer = parse(&op("organizer", "Kari", HASH)).unwrap_err();
    assert!(organizer.problem.contains("organizer"), "{organizer}");
    let nameless = parse(&op("1001", "  ", HASH)).unwrap_err();
    assert_eq!(nameless.key, "[[operators]] id = \"1001\": name");
    let spaced = parse(&op("10 01", "Kari", HASH)).unwrap_err();
    assert!(spaced.problem.contains("without spaces"), "{spaced}");
}

/// Issue 16, part 4: several Vipps sales units, each with its own MSN,
/// keys and department, and the one the till sells under.
#[test]
fn sales_units_have_their_own_msn_keys_and_department_and_the_till_picks_one() {
    let creds = "[vipps]\nenvironment = \"test\"\nclient_id = \"a\"\nclient_secret = \"s\"\nsubscription_key = \"k\"\nmerchant_serial_number = \"1234\"\nname = \"Fotball\"\ndepartment = \"10\"\n";
    let unit = "[[vipps.units]]\nname = \"Håndball\"\nmerchant_serial_number = \"234567\"\nclient_id = \"b\"\nclient_secret = \"s2\"\nsubscription_key = \"k2\"\ndepartment = \"20\"\nbank_account = 1921\n";
    let c = parse(&format!("{M}{creds}{unit}")).unwrap();
    let units = c.vipps.sales_units();
    assert_eq!(units.len(), 2);
    assert_eq!(
        (
            units[0].name.as_str(),
            units[0].msn.as_deref(),
            units[0].department.as_deref()
        ),
        ("Fotball", Some("1234"), Some("10"))
    );
    assert_eq!(
        (
            units[1].name.as_str(),
            units[1].msn.as_deref(),
            units[1].department.as_deref()
        ),
        ("Håndball", Some("234567"), Some("20"))
    );
    assert_eq!(c.sales_unit.name, "Fotball", "the till's own by default");
    assert_eq!(
        (c.vipps.units[0].bank_account, c.vipps.units[1].bank_account),
        (None, Some(1921))
    );
    let creds2 = c.vipps.units[1].credentials.as_ref().unwrap();
    assert_eq!(creds2.client_id, "b");
    assert_eq!(creds2.merchant_serial_number, "234567");
    let c = parse(&format!(
        "{M}[till]\nsales_unit = \"Håndball\"\n{creds}{unit}"
    ))
    .unwrap();
    assert_eq!(c.sales_unit.msn.as_deref(), Some("234567"));

    // Each mistake names the key and the fix.
    let e = parse(&format!("{M}[till]\nsales_unit = \"Ski\"\n{creds}{unit}")).unwrap_err();
    assert_eq!(e.key, "[till] sales_unit");
    assert!(e.fix.contains("Fotball, Håndball"), "{e}");
    let e = parse(&format!("{M}{creds}{}", unit.replace("234567", "1234"))).unwrap_err();
    assert_eq!(e.key, "[[vipps.units]] #1 merchant_serial_number");
    assert!(e.problem.contains("already"), "{e}");
    let e = parse(&format!(
        "{M}{creds}{}",
        unit.replace("Håndball", "Fotball")
    ))
    .unwrap_err();
    assert_eq!(e.key, "[[vipps.units]] #1 name");
    let e = parse(&format!(
        "{M}{creds}{}",
        unit.replace("\"20\"", "\"20; drop\"")
    ))
    .unwrap_err();
    assert_eq!(e.key, "[[vipps.units]] #1 department");
    let e = parse(&format!(
        "{M}{creds}{}",
        unit.replace("client_id = \"b\"\n", "")
    ))
    .unwrap_err();
    assert_eq!(e.key, "[[vipps.units]] #1 client_id");
    let e = parse(&format!(
        "{M}{creds}{}",
        unit.replace("client_secret = \"s2\"\n", "")
    ))
    .unwrap_err();
    assert_eq!(e.key, "[[vipps.units]] #1 client_secret");
    assert!(e.fix.contains("LUKA_VIPPS_234567_CLIENT_SECRET"), "{e}");
    let e = parse(&format!(
        "{M}{creds}{}",
        unit.replace("merchant_serial_number = \"234567\"\n", "")
    ))
    .unwrap_err();
    assert_eq!(e.key, "[[vipps.units]] #1 merchant_serial_number");
    let e = parse(&format!(
        "{M}{creds}[[vipps.units]]\nname = \"X\"\nmerchant_serial_number = \"12\"\n"
    ))
    .unwrap_err();
    assert!(e.problem.contains("4–7 digits"), "{e}");
    let e = parse(&format!("{M}{creds}{}", unit.replace("1921", "12"))).unwrap_err();
    assert_eq!(e.key, "[[vipps.units]] #1 bank_account");
    let e = parse(&format!("{M}{}", creds.replace("\"10\"", "\"\""))).unwrap_err();
    assert_eq!(e.key, "[vipps] department");

    // A training till needs no keys for its units: the simulator takes them.
    let c = parse("[[vipps.units]]\nname = \"Håndball\"\nmerchant_serial_number = \"234567\"\n[till]\nsales_unit = \"Håndball\"\n").unwrap();
    assert!(c.vipps.units.iter().all(|u| u.credentials.is_none()));
    assert_eq!(c.sales_unit.name, "Håndball");
    assert_eq!(c.vipps.sales_units()[0].name, "Vipps");
}
