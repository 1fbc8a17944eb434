//! `luka backup --to DIR`, the real binary, while another process-like
//! writer keeps committing to the same database: the copy is named after the
//! till and the time, passes `integrity_check`, and holds every sale that
//! was committed before the backup started.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use luka::domain::Money;
use luka::store::Store;

fn sales_in(path: &Path) -> i64 {
    let store = Store::open(path).unwrap();
    store.read(|r| r.open_sales()).unwrap(); // the schema is the till's
    drop(store);
    let c = rusqlite::Connection::open(path).unwrap();
    c.query_row("SELECT count(*) FROM sales", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_while_the_till_sells() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("luka.db");
    let cfg = dir.path().join("luka.toml");
    std::fs::write(
        &cfg,
        format!(
            "[till]\nid = \"door-2\"\n\n[store]\npath = \"{}\"\n",
            // Training mode renames the file; the backup must follow it.
            db.display()
        ),
    )
    .unwrap();
    let training_db = dir.path().join("luka-training.db");

    // The till: cash sales committed as fast as the disk allows.
    let store = Arc::new(Store::open(&training_db).unwrap());
    // Cash sales never reach Vipps, so the client points nowhere.
    let (kiosk, running) = luka::app::start_vipps_kiosk(
        store.clone(),
        "http://127.0.0.1:9",
        luka::app::training_credentials(&luka::sim::SimConfig::training()),
        std::time::Duration::from_secs(1),
        luka::kiosk::KioskSettings::default(),
    )
    .unwrap();
    let sell = |k: &luka::kiosk::Kiosk| {
        let mut cart = luka::domain::Cart::new();
        cart.add_product(luka::domain::Catalog::club_default().get("barn").unwrap());
        k.cash_sale(&cart, Money::nok(5_000), "").unwrap();
    };
    for _ in 0..20 {
        sell(&kiosk);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let seller = {
        let (kiosk, stop) = (kiosk.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                sell(&kiosk);
                n += 1;
            }
            n
        })
    };

    let usb = dir.path().join("usb stick");
    let out = Command::new(env!("CARGO_BIN_EXE_luka"))
        .arg("--config")
        .arg(&cfg)
        .arg("backup")
        .arg("--to")
        .arg(&usb)
        .output()
        .unwrap();
    stop.store(true, Ordering::Relaxed);
    let sold_meanwhile = seller.join().unwrap();
    running.shutdown().await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(sold_meanwhile > 0, "the till never sold during the backup");
    let made = std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert_eq!(made.parent(), Some(usb.as_path()));
    let name = made.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("door-2-") && name.ends_with("Z.db"),
        "{name}"
    );
    let copy = Store::open(&made).unwrap();
    assert_eq!(copy.integrity_check().unwrap(), "ok");
    drop(copy);
    assert!(sales_in(&made) >= 20);
    assert!(sales_in(&training_db) >= sales_in(&made));
    // The copy that left the till is in its journal (SAF-T 13020).
    let exported: Vec<_> = Store::open(&training_db)
        .unwrap()
        .read(|r| r.journal_entries(None))
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "journal.exported")
        .collect();
    assert_eq!(exported.len(), 1);
    assert_eq!(exported[0].data["what"], "backup");
    assert_eq!(exported[0].data["file"], made.display().to_string());
}
