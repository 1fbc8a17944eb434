//! `luka backup --to DIR`: an online, checked copy of the database.

use crate::config::Config;

pub(super) fn backup(config: &Config, to: &std::path::Path) -> anyhow::Result<i32> {
    let made = crate::store::backup::backup_database(
        &config.store_path,
        to,
        &config.till_id,
        time::OffsetDateTime::now_utc(),
    )?;
    println!("{}", made.path.display());
    eprintln!(
        "Backup of {} written and checked ({} bytes, {} pages). Restore: see deploy-pi/README.md.",
        config.store_path.display(),
        made.bytes,
        made.pages
    );
    Ok(0)
}
