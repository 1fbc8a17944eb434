use std::path::{Path, PathBuf};

use crate::config::{Config, ConfigError};
use crate::printer::{Connection, PaperWidth};

/// Everything a non-training config needs besides `[printer]`.
const LIVE: &str = "[ui]\npin_hash = \"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$uFtn+OAWSJx8dNvqZxnBOhQ0QlqtCDAN4MDMvVjJqGs\"\n[merchant]\nname = \"Luka IL\"\norg_number = \"974760673\"\n\
    [vipps]\nenvironment = \"test\"\nclient_id = \"a\"\nclient_secret = \"s\"\n\
    subscription_key = \"k\"\nmerchant_serial_number = \"1234\"\n";

fn parse_in(dir: &Path, text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, &dir.join("luka.toml"), &|_| None)
}

fn parse(text: &str) -> Result<Config, ConfigError> {
    parse_in(Path::new("/etc/luka"), text)
}

#[test]
fn training_without_printer_previews_next_to_the_database() {
    let c = parse("[store]\npath = \"/var/lib/luka/luka.db\"\n").unwrap();
    assert_eq!(
        c.printer.connection,
        Some(Connection::Preview {
            folder: PathBuf::from("/var/lib/luka/luka-training-receipts"),
            width: PaperWidth::Mm80,
        })
    );
    assert_eq!(c.printer.footer, ["Takk for handelen!"]);
    assert!(!c.printer.drawer_kick);
}

#[test]
fn outside_training_printer_is_required_and_none_is_a_choice() {
    let e = parse(LIVE).unwrap_err();
    assert_eq!(e.key, "[printer]");
    assert!(e.fix.contains("driver = \"none\""), "{e}");
    let c = parse(&format!("{LIVE}[printer]\ndriver = \"none\"\n")).unwrap();
    assert_eq!(c.printer.connection, None);
}

/// Everything a production config needs besides `[printer]`.
fn production() -> String {
    LIVE.replace("environment = \"test\"", "environment = \"production\"")
}

/// Kassasystemforskriften § 2-6 (4): in production no driver that leaves
/// the customer without a receipt is taken, and the error says why and how
/// to fix it.
#[test]
fn production_refuses_drivers_that_give_no_receipt() {
    let live = production();
    assert!(live.contains("environment = \"production\""));
    for (driver, extra) in [
        ("none", ""),
        ("file", "path = \"/tmp/receipts.bin\"\n"),
        ("preview", "path = \"/tmp/receipts\"\n"),
        ("preview", ""),
    ] {
        let e = parse(&format!("{live}[printer]\ndriver = \"{driver}\"\n{extra}")).unwrap_err();
        assert_eq!(e.key, "[printer] driver", "{driver}: {e}");
        assert!(e.problem.contains(&format!("\"{driver}\"")), "{e}");
        assert!(e.problem.contains("no receipt"), "{e}");
        assert!(e.problem.contains("§ 2-6 (4)"), "{e}");
        assert!(e.fix.contains("\"usb\""), "{e}");
        assert!(e.fix.contains("environment = \"test\""), "{e}");
        // The credentials never show in the message.
        let shown = e.to_string();
        assert!(
            !shown.contains("client_secret") && !shown.contains("= \"s\""),
            "{shown}"
        );
    }
    // Missing [printer] in production does not suggest "none".
    let e = parse(&live).unwrap_err();
    assert_eq!(e.key, "[printer]");
    assert!(!e.fix.contains("none"), "{e}");
    // Paper printers are fine.
    for ok in [
        "driver = \"network\"\naddress = \"192.168.1.50\"",
        "driver = \"usb\"\nusb_vendor_id = 0x0416\nusb_product_id = 0x5011",
        "driver = \"serial\"\npath = \"/dev/ttyUSB0\"",
        "driver = \"device\"\npath = \"/dev/usb/lp0\"",
    ] {
        let c = parse(&format!("{live}[printer]\n{ok}\n"));
        assert!(c.is_ok(), "{ok}: {:?}", c.err());
    }
}

/// The same drivers stay allowed against Vipps' test environment and in
/// training, where no real sale is made.
#[test]
fn test_environment_and_training_keep_receiptless_drivers() {
    for (driver, extra) in [
        ("none", ""),
        ("file", "path = \"/tmp/receipts.bin\"\n"),
        ("preview", ""),
    ] {
        let printer = format!("[printer]\ndriver = \"{driver}\"\n{extra}");
        let test = parse(&format!("{LIVE}{printer}"));
        assert!(test.is_ok(), "test, {driver}: {:?}", test.err());
        let training = parse(&printer).unwrap();
        assert!(training.is_training(), "{driver}");
    }
}

#[test]
fn each_driver_reads_its_keys() {
    let cases: Vec<(&str, Connection)> = vec![
        (
            "driver = \"usb\"\nusb_vendor_id = 0x0416\nusb_product_id = \"5011\"",
            Connection::Usb {
                vendor_id: 0x0416,
                product_id: 0x5011,
            },
        ),
        (
            "driver = \"network\"\naddress = \"192.168.1.50\"",
            Connection::Network {
                address: "192.168.1.50".into(),
            },
        ),
        (
            "driver = \"serial\"\npath = \"/dev/ttyUSB0\"\nbaud = 19200",
            Connection::Serial {
                path: "/dev/ttyUSB0".into(),
                baud: 19200,
            },
        ),
        (
            "driver = \"device\"\npath = \"/dev/usb/lp0\"",
            Connection::Device {
                path: "/dev/usb/lp0".into(),
            },
        ),
        (
            "driver = \"file\"\npath = \"/tmp/receipts.bin\"",
            Connection::File {
                path: "/tmp/receipts.bin".into(),
            },
        ),
        (
            "driver = \"preview\"\npath = \"/tmp/kv\"\nwidth_mm = 58",
            Connection::Preview {
                folder: "/tmp/kv".into(),
                width: PaperWidth::Mm58,
            },
        ),
    ];
    for (keys, want) in cases {
        let c = parse(&format!("{LIVE}[printer]\n{keys}\ndrawer_kick = true\n"))
            .unwrap_or_else(|e| panic!("{keys}: {e}"));
        assert_eq!(c.printer.connection, Some(want), "{keys}");
        assert!(c.printer.drawer_kick);
    }
}

#[test]
fn mistakes_name_the_key_and_the_fix() {
    let cases = [
        ("driver = \"lpt\"", "[printer] driver", "use one of"),
        ("path = \"/dev/usb/lp0\"", "[printer] driver", "set driver"),
        ("driver = \"network\"", "[printer] address", "printer's IP"),
        (
            "driver = \"network\"\naddress = \"10.0.0.5:abc\"",
            "[printer] address",
            "192.168.1.50:9100",
        ),
        (
            "driver = \"usb\"\nusb_vendor_id = 0x0416",
            "[printer] usb_product_id",
            "lsusb",
        ),
        (
            "driver = \"usb\"\nusb_vendor_id = 70000\nusb_product_id = 1",
            "[printer] usb_vendor_id",
            "lsusb",
        ),
        (
            "driver = \"usb\"\nusb_vendor_id = 1\nusb_product_id = 1\naddress = \"10.0.0.5\"",
            "[printer] address",
            "remove address",
        ),
        ("driver = \"device\"", "[printer] path", "/dev/usb/lp0"),
        (
            "driver = \"none\"\nwidth_mm = 60",
            "[printer] width_mm",
            "58 or width_mm = 80",
        ),
        (
            "driver = \"none\"\nlogo = \"nope.png\"",
            "[printer] logo",
            "relative to luka.toml",
        ),
    ];
    for (keys, key, fix) in cases {
        let e = parse(&format!("{LIVE}[printer]\n{keys}\n")).unwrap_err();
        assert_eq!(e.key, key, "{keys}: {e}");
        assert!(e.fix.contains(fix), "{keys}: {e}");
    }
    let e = parse(&format!("{LIVE}[printer]\ndriver = \"none\"\ncolour = 1\n")).unwrap_err();
    assert!(e.problem.contains("colour"), "{e}");
}

#[test]
fn the_logo_is_read_from_beside_luka_toml_and_must_fit_the_paper() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("assets")).unwrap();
    let png = |w: u32, h: u32| {
        let img = image::GrayImage::from_pixel(w, h, image::Luma([0]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    };
    std::fs::write(dir.path().join("assets/logo.png"), png(160, 120)).unwrap();
    std::fs::write(dir.path().join("assets/wide.png"), png(500, 50)).unwrap();
    let with = |logo: &str, mm: u32| {
        parse_in(
            dir.path(),
            &format!("{LIVE}[printer]\ndriver = \"none\"\nwidth_mm = {mm}\nlogo = \"{logo}\"\n"),
        )
    };
    let c = with("assets/logo.png", 58).unwrap();
    let logo = c.printer.logo.as_ref().unwrap();
    assert_eq!((logo.width, logo.height), (160, 120));
    assert!(logo.is_black(0, 0));
    assert!(!format!("{:?}", c.printer).contains("bits"));
    assert!(with("assets/wide.png", 80).is_ok());
    let e = with("assets/wide.png", 58).unwrap_err();
    assert!(e.problem.contains("500x50") && e.fix.contains("384"), "{e}");
}
