//! The drivers against real byte streams: the loopback printer simulator for
//! the network driver (paper out holds the receipt, paper loaded prints it),
//! and temp files for the file, device and preview drivers.
//! Nothing here talks to anything but 127.0.0.1.

use luka::printer::{
    Bitmap, Block, Connection, Document, LayoutConfig, PaperWidth, PrintError, PrinterStatus,
    Style, connect, escpos::render, layout, network::NetworkDriver, print, samples,
    sim::PrinterSim,
};

fn receipt_bytes() -> Vec<u8> {
    render(&layout(
        &samples::ticket(),
        &LayoutConfig::new(PaperWidth::Mm58),
    ))
    .unwrap()
}

fn driver(sim: &PrinterSim) -> NetworkDriver {
    NetworkDriver::new(&sim.addr().to_string()).with_timeout(std::time::Duration::from_secs(2))
}

#[test]
fn paper_out_holds_the_receipt_and_it_prints_after_paper_is_loaded() {
    let sim = PrinterSim::start().unwrap();
    let bytes = receipt_bytes();
    sim.set_paper_out(true);

    let err = print(&mut driver(&sim), &bytes).unwrap_err();
    assert!(matches!(err, PrintError::PaperOut), "{err:?}");
    assert!(err.is_held() && err.retry_can_help());
    assert_eq!(
        err.to_string(),
        "Tom for papir – legg i ny rull og trykk Prøv igjen"
    );
    assert!(
        sim.printed().is_empty() && sim.pending().is_empty(),
        "nothing sent while out of paper"
    );

    sim.load_paper();
    print(&mut driver(&sim), &bytes).unwrap();
    assert_eq!(sim.wait_printed(bytes.len()), bytes);
    let receipts = sim.receipts(PaperWidth::Mm58);
    assert_eq!(receipts.len(), 1);
    assert!(
        receipts[0]
            .plain_lines()
            .contains(&"Salgskvittering".to_string())
    );
    assert_eq!(sim.status_queries(), 6, "three queries per attempt");
}

#[test]
fn status_reads_cover_open_and_near_end() {
    let sim = PrinterSim::start().unwrap();
    let mut d = driver(&sim);
    use luka::printer::PrinterDriver;
    assert_eq!(d.status().unwrap(), Some(PrinterStatus::READY));

    sim.set_paper_near_end(true);
    let near = d.status().unwrap().unwrap();
    assert!(near.paper_near_end && near.online && !near.paper_out);
    print(&mut driver(&sim), &receipt_bytes()).expect("near end still prints");

    sim.set_cover_open(true);
    let err = print(&mut driver(&sim), &receipt_bytes()).unwrap_err();
    assert!(
        matches!(err, PrintError::CoverOpen) && err.is_held(),
        "{err:?}"
    );
}

#[test]
fn a_printer_that_is_off_is_a_retryable_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    // The listener is gone: connecting is refused, as with a printer switched off.
    let err = print(&mut NetworkDriver::new(&port.to_string()), &receipt_bytes()).unwrap_err();
    assert!(matches!(err, PrintError::Unreachable { .. }), "{err:?}");
    assert!(err.retry_can_help());
    assert!(err.to_string().contains("Prøv igjen"));
}

#[test]
fn a_printer_that_never_answers_status_still_prints() {
    let sim = PrinterSim::start().unwrap();
    sim.set_silent(true);
    let bytes = receipt_bytes();
    let mut d = NetworkDriver::new(&sim.addr().to_string())
        .with_timeout(std::time::Duration::from_millis(300));
    print(&mut d, &bytes).expect("status unknown is not a reason to hold the sale");
    assert_eq!(sim.wait_printed(bytes.len()), bytes);
}

#[test]
fn status_bytes_inside_a_logo_are_not_taken_for_queries() {
    let sim = PrinterSim::start().unwrap();
    // A 16-dot-wide image whose rows are DLE EOT 1 patterns.
    let bits = [0x10, 0x04, 0x01, 0x10, 0x04, 0x02, 0x10, 0x04];
    let logo = Bitmap {
        width: 16,
        height: 4,
        bits: bits.to_vec(),
    };
    let doc = Document {
        width: PaperWidth::Mm58,
        blocks: vec![Block::Image(logo), Block::Cut],
    };
    let bytes = render(&doc).unwrap();
    print(&mut driver(&sim), &bytes).unwrap();
    assert_eq!(sim.wait_printed(bytes.len()), bytes);
    assert_eq!(sim.status_queries(), 3);
}

#[test]
fn file_driver_appends_and_device_driver_reports_an_unplugged_printer() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("receipts.bin");
    let mut d = connect(&Connection::File { path: file.clone() });
    let bytes = receipt_bytes();
    print(d.as_mut(), &bytes).unwrap();
    print(d.as_mut(), &bytes).unwrap();
    assert_eq!(
        std::fs::read(&file).unwrap(),
        [bytes.clone(), bytes.clone()].concat()
    );

    let mut lp = connect(&Connection::Device {
        path: dir.path().join("lp0"),
    });
    let err = print(lp.as_mut(), &bytes).unwrap_err();
    assert!(
        matches!(err, PrintError::NotFound { .. }) && err.is_held(),
        "{err:?}"
    );
    assert!(
        !dir.path().join("lp0").exists(),
        "a missing device is never created as a file"
    );
}

#[test]
fn preview_driver_saves_one_png_per_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = connect(&Connection::Preview {
        folder: dir.path().to_path_buf(),
        width: PaperWidth::Mm80,
    });
    let doc = |text: &str| Document {
        width: PaperWidth::Mm80,
        blocks: vec![
            Block::Text {
                text: text.into(),
                style: Style::default(),
            },
            Block::Cut,
        ],
    };
    let bytes = [render(&doc("én")).unwrap(), render(&doc("to")).unwrap()].concat();
    print(d.as_mut(), &bytes).unwrap();
    for name in ["receipt-0001.png", "receipt-0002.png"] {
        let png = std::fs::read(dir.path().join(name)).unwrap();
        let img = image::load_from_memory(&png).unwrap();
        assert_eq!(
            img.width(),
            576 + 32,
            "{name}: 80 mm is 576 dots plus margins"
        );
    }
}

#[test]
fn usb_and_serial_printers_that_are_not_there_are_retryable() {
    let mut usb = connect(&Connection::Usb {
        vendor_id: 0xffff,
        product_id: 0xfffe,
    });
    let err = print(usb.as_mut(), b"x").unwrap_err();
    assert!(err.retry_can_help(), "{err:?}");
    assert!(err.to_string().contains("ffff:fffe"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let mut serial = connect(&Connection::Serial {
        path: dir.path().join("ttyUSB9"),
        baud: 19_200,
    });
    let err = print(serial.as_mut(), b"x").unwrap_err();
    assert!(matches!(err, PrintError::NotFound { .. }), "{err:?}");
}
