//! `luka backup --to DIR`: an online, checked copy of the database.

use crate::config::Config;

pub(super) fn backup(config: &Config, to: &std::path::Path) -> anyhow::Result<i32> {
    let made = crate::store::backup::backup_database(
        &config.store_path,
        to,
        &config.till_id,
        time::OffsetDateTime::now_utc(),
    )?;
    // A copy of the journal left the till (SAF-T 13020, § 2-7-1).
    let store = super::records::open(config)?;
    super::records::journal_export(
        &store,
        serde_json::json!({
            "what": "backup", "file": made.path.display().to_string(), "bytes": made.bytes,
        }),
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
