//! `luka hub demo` (and `scripts/hub.sh`): the hub as a club would see it,
//! on one machine with nothing to configure. In a folder of its own it
//! makes (or reopens) a PostgreSQL cluster (`cluster.rs`), starts the hub
//! on loopback, gives it a catalogue, a treasurer and a kioskansvarlig
//! with fresh passwords, pairs two training tills (`kiosk-1`, `kiosk-2`,
//! each with its own SQLite file and Vipps simulator) and lets them sell
//! now and then by Vipps, cash and card, so the pages move. Ctrl-C stops
//! it all; run it again with the same folder to go on where it stopped.
//!
//! Everything here is the real thing (the hub, the `sync.hub` lane, the
//! catalogue coming down, the tills' journals), except that the tills'
//! customers and Vipps are simulated. Nothing listens beyond loopback.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rand::Rng;

use crate::app::App;
use crate::config::Config;
use crate::domain::{Cart, Money};
use crate::hub::Hub;
use crate::hub::catalogue::ProductInput;
use crate::hub::cluster::PgCluster;
use crate::hub::users::Role;
use crate::kiosk::Kiosk;
use crate::store::Store;

/// What `luka hub demo` runs with.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Holds the cluster (`pg/`), the tills (`kiosk-1/`, `kiosk-2/`).
    pub dir: PathBuf,
    pub listen: SocketAddr,
    /// About how often each till sells.
    pub sell_every: Duration,
}

const TILLS: [(&str, &str, &str); 2] = [("kiosk-1", "1001", "Kari"), ("kiosk-2", "1002", "Ola")];

/// The demo's catalogue: (id, name, group, kroner, VAT code).
const PRODUCTS: [(&str, &str, &str, &str, &str); 6] = [
    ("kaffe", "Kaffe", "Kiosk", "30", "31"),
    ("vaffel", "Vaffel", "Kiosk", "40", "31"),
    ("brus", "Brus", "Kiosk", "35", "31"),
    ("polse", "Pølse i brød", "Grill", "45", "31"),
    ("billett", "Billett voksen", "Inngang", "150", "6"),
    ("skjerf", "Klubbskjerf", "Effekter", "250", "3"),
];

/// The code both demo volunteers log in with.
const OPERATOR_CODE: &str = "1234";

/// A random password a person can type (no look-alike characters).
fn password() -> String {
    const CHARS: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..14)
        .map(|i| {
            if i > 0 && i % 5 == 4 {
                '-'
            } else {
                CHARS[rng.random_range(0..CHARS.len())] as char
            }
        })
        .collect()
}

fn till_config(dir: &Path, till: &str, operator: &str, name: &str) -> anyhow::Result<PathBuf> {
    let folder = dir.join(till);
    std::fs::create_dir_all(&folder)?;
    let path = folder.join("luka.toml");
    let code = crate::pin::PinHash::create(OPERATOR_CODE).map_err(anyhow::Error::msg)?;
    std::fs::write(
        &path,
        format!(
            "# A training till of `luka hub demo`: its Vipps is a simulator in the demo's process.\n\
             [till]\nid = \"{till}\"\ncard_terminal = true\norder_numbers = true\n\n\
             [printer]\ndriver = \"none\"\n\n\
             [store]\npath = \"{db}\"\n\n\
             [vipps]\nenvironment = \"training\"\n\n\
             [training]\nlisten = \"127.0.0.1:0\"\n\n\
             [[operators]]\nid = \"{operator}\"\nname = \"{name}\"\ncode_hash = \"{code}\"\n",
            db = folder.join("luka.db").display(),
            code = code.as_str(),
        ),
    )?;
    Ok(path)
}

/// Runs the demo until `stop` resolves.
pub async fn run(
    opts: DemoOptions,
    stop: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(&opts.dir)?;
    let dir = opts.dir.canonicalize()?;
    eprintln!("hub demo: PostgreSQL in {}", dir.join("pg").display());
    let pg = PgCluster::in_folder(&dir.join("pg"), false).map_err(anyhow::Error::msg)?;
    let hub = Hub::connect(&pg.url()).await?;

    let treasurer = password();
    let kiosk = password();
    hub.set_user("kasserer", &treasurer, Role::Treasurer)
        .await?;
    hub.set_user("kiosk", &kiosk, Role::Kiosk).await?;
    let (_, products) = hub.products().await?;
    if products.is_empty() {
        for (i, (id, name, group, price, vat)) in PRODUCTS.iter().enumerate() {
            let input = ProductInput {
                name: name.to_string(),
                group: group.to_string(),
                price: price.to_string(),
                vat_code: vat.to_string(),
                position: (i * 10).to_string(),
            };
            hub.add_product(id, &input).await?;
        }
    }
    // An event menu to look at on *Menyer*, given to no till: the demo's
    // tills sell the whole catalogue until the treasurer picks it on *Kasser*.
    if hub.menus().await?.is_empty() {
        hub.add_menu("Kamp A-lag").await?;
        if let Some(menu) = hub.menus().await?.first() {
            let ids = ["billett", "kaffe", "brus", "polse"].map(String::from);
            hub.set_menu_products(menu.id, &ids).await?;
        }
    }
    let serving = crate::hub::web::serve(hub.clone(), opts.listen, false).await?;
    let url = serving.url();

    let mut apps = Vec::new();
    for (till, operator, name) in TILLS {
        let config_path = till_config(&dir, till, operator, name)?;
        let config = Config::load(Some(&config_path))?;
        {
            let store = Store::open(&config.store_path)?;
            if crate::hub::link::Link::load(&config.store_path)
                .map_err(anyhow::Error::msg)?
                .is_none()
            {
                let code = hub.add_till(till).await?;
                crate::hub::link::pair(&store, till, &url, &code).await?;
            }
        }
        // Fetch the catalogue before the till starts, so it sells from it.
        let _ = crate::hub::till_catalogue::pull(&config.store_path).await;
        let config = Config::load(Some(&config_path))?;
        let mut app = App::start(config).await?;
        app.refresh_catalogue(Duration::from_secs(5));
        if let Err(e) = app.kiosk.operator_login(operator, OPERATOR_CODE) {
            tracing::warn!("demo: {name} could not log in on {till}: {e}");
        }
        apps.push(app);
    }

    println!();
    println!("Luka Hub demo");
    println!("  Open      {url}/omsetning?trening=1");
    println!("  Kasserer        kasserer / {treasurer}");
    println!("  Kioskansvarlig  kiosk / {kiosk}");
    println!(
        "  Two training tills (kiosk-1, kiosk-2) sell about every {} s; their Vipps is a simulator.",
        opts.sell_every.as_secs()
    );
    println!(
        "  Data is kept in {} (run again to go on). Ctrl-C stops it all.",
        dir.display()
    );
    println!();

    let sellers: Vec<_> = apps
        .iter()
        .map(|app| {
            let kiosk = app.kiosk.clone();
            let sim = app.sim.clone();
            let every = opts.sell_every;
            tokio::spawn(async move {
                loop {
                    let jitter = rand::rng().random_range(0.5..1.5);
                    tokio::time::sleep(every.mul_f64(jitter)).await;
                    sell_once(&kiosk, sim.as_ref()).await;
                }
            })
        })
        .collect();
    stop.await;
    eprintln!("hub demo: stopping");
    for s in sellers {
        s.abort();
    }
    for app in apps {
        app.shutdown().await;
    }
    serving.shutdown().await;
    drop(hub);
    drop(pg);
    Ok(())
}

/// One customer: one to three things, paid by Vipps (the simulator's
/// customer approves after a moment), cash or card. A product sold out is
/// simply not sold.
async fn sell_once(kiosk: &Kiosk, sim: Option<&crate::sim::SimHandle>) {
    let catalog = kiosk.catalog();
    let products = catalog.products();
    if products.is_empty() {
        return;
    }
    let (picks, method) = {
        let mut rng = rand::rng();
        let n = rng.random_range(1..=3);
        let picks: Vec<usize> = (0..n)
            .map(|_| rng.random_range(0..products.len().min(4)))
            .collect();
        (picks, rng.random_range(0..20))
    };
    let mut cart = Cart::new();
    for i in picks {
        cart.add_product(&products[i]);
    }
    let Ok(totals) = cart.totals() else { return };
    let done = match (method, sim) {
        (0..=9, Some(sim)) => match kiosk.start_vipps_sale(&cart, "") {
            Ok(sale) => {
                tokio::time::sleep(Duration::from_millis(1500)).await;
                sim.approve(&sale.reference)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
            Err(e) => Err(e.to_string()),
        },
        (10..=16, _) => kiosk
            .cash_sale(&cart, round_up(totals.gross), "")
            .map(|_| ())
            .map_err(|e| e.to_string()),
        _ => kiosk
            .card_sale(&cart, None, "")
            .map(|_| ())
            .map_err(|e| e.to_string()),
    };
    if let Err(e) = done {
        tracing::info!("demo: a customer could not buy: {e}");
    }
}

/// What a customer hands over: the next 50 kr.
fn round_up(amount: Money) -> Money {
    let minor = amount.minor();
    Money::nok((minor + 4_999) / 5_000 * 5_000)
}
