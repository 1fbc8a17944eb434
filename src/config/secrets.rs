//! Secrets in the config: read from 0600 files or the environment, and a
//! `luka.toml` with a secret written in it refused while others can read it.
//! Never puts a secret's value in an error or a log.

use std::path::{Path, PathBuf};

use super::{ConfigError, err};
use crate::secret::Secret;

/// The keys that hold a secret when written inline, as `(table, key)`.
const INLINE_SECRET_KEYS: &[(&str, &str)] = &[
    ("vipps", "client_secret"),
    ("vipps", "subscription_key"),
    ("bookkeeping.webhook", "secret"),
    ("bookkeeping.poweroffice", "application_key"),
    ("bookkeeping.poweroffice", "client_key"),
    ("bookkeeping.poweroffice", "subscription_key"),
];

/// The secrets written inline in config `text`, named as `[table] key`.
pub fn inline_secrets(text: &str) -> Vec<String> {
    let Ok(root) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    INLINE_SECRET_KEYS
        .iter()
        .filter(|(table, key)| {
            let mut node = Some(&root);
            for part in table.split('.') {
                node = node.and_then(|t| t.get(part)).and_then(|v| v.as_table());
            }
            node.is_some_and(|t| t.contains_key(*key))
        })
        .map(|(table, key)| format!("[{table}] {key}"))
        .collect()
}

/// A config file with secrets written in it is a secret file: every user of
/// the machine must not be able to read it. Group read stays allowed, since
/// `deploy-pi/install.sh` makes `/etc/luka/luka.toml` 0640 root:luka so the
/// till's user reads it without owning it.
pub(super) fn refuse_readable_inline_secrets(file: &Path, text: &str) -> Result<(), ConfigError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let inline = inline_secrets(text);
        let Some(first) = inline.first() else {
            return Ok(());
        };
        let mode = std::fs::metadata(file)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0);
        if mode & 0o007 != 0 {
            return Err(err(
                file,
                first,
                format!(
                    "{} holds {} in clear and every user of this machine can read it (mode {mode:o})",
                    file.display(),
                    inline.join(", ")
                ),
                format!(
                    "run: chmod 600 {} (or 640 with the till's group), or move each secret \
                     to a *_file entry with mode 0600 (see deploy-pi/luka.toml.example)",
                    file.display()
                ),
            ));
        }
    }
    let _ = (file, text);
    Ok(())
}

/// A secret given inline, in a file or in the environment (in that order).
/// `key` is the full key name, e.g. `[vipps] client_secret`.
pub(super) fn read_secret(
    file: &Path,
    key: &str,
    inline: &Option<String>,
    path: &Option<PathBuf>,
    env_key: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Secret>, ConfigError> {
    if let Some(v) = inline {
        return Ok(Some(Secret::new(v.trim())));
    }
    if let Some(p) = path {
        let file_key = format!("{key}_file");
        let meta = std::fs::metadata(p).map_err(|e| {
            err(
                file,
                &file_key,
                format!("cannot read {}: {e}", p.display()),
                "create the file with the secret in it, mode 0600",
            )
        })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(err(
                    file,
                    &file_key,
                    format!("{} can be read by others (mode {mode:o})", p.display()),
                    format!("run: chmod 600 {}", p.display()),
                ));
            }
        }
        let _ = meta;
        let text = std::fs::read_to_string(p).map_err(|e| {
            err(
                file,
                &file_key,
                format!("cannot read {}: {e}", p.display()),
                "check the file's owner and permissions",
            )
        })?;
        let v = text.trim();
        if v.is_empty() {
            return Err(err(
                file,
                &file_key,
                format!("{} is empty", p.display()),
                "put the secret in the file",
            ));
        }
        return Ok(Some(Secret::new(v)));
    }
    Ok(env(env_key).map(Secret::new))
}
