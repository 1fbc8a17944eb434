//! `luka pin-hash` (the organizer PIN's Argon2 line for luka.toml) and
//! `luka simulate` (the Vipps simulator on its own, for trying a client).

use std::io::Write;

use crate::shutdown::StopSignal;

pub(super) fn pin_hash() -> anyhow::Result<i32> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        eprint!("Organizer PIN (4–12 digits): ");
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let hash = crate::pin::PinHash::create(line.trim())
        .map_err(|e| anyhow::anyhow!("{e}; nothing was written"))?;
    println!("pin_hash = \"{}\"", hash.as_str());
    eprintln!("Put that line under [ui] in luka.toml. The PIN itself is not stored anywhere.");
    Ok(0)
}

pub(super) async fn simulate(host: std::net::IpAddr, port: u16) -> anyhow::Result<i32> {
    let stop = StopSignal::install()?;
    let cfg = crate::sim::SimConfig::training();
    let sim = crate::sim::start((host, port).into(), cfg.clone()).await?;
    println!("{}", sim.base_url());
    eprintln!(
        "Vipps simulator running (training credentials: client_id={}, merchant_serial_number={}). Ctrl-C stops it.",
        cfg.client_id, cfg.merchant_serial_number
    );
    let _ = std::io::stdout().flush();
    stop.wait().await;
    sim.shutdown().await;
    Ok(0)
}
