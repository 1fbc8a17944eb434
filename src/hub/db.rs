//! The hub's PostgreSQL: a deadpool pool of tokio-postgres connections, and
//! the numbered migrations (`migrations/NNN_name.sql`), applied in order in
//! one transaction under an advisory lock and recorded in `hub_migrations`.

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use tokio_postgres::NoTls;
use tokio_postgres::config::SslMode;

use std::path::Path;

use crate::domain::Merchant;

/// Numbered migrations: (version, name, SQL). Append only.
const MIGRATIONS: &[(i32, &str, &str)] = &[
    (1, "001_init", include_str!("migrations/001_init.sql")),
    (
        2,
        "002_catalogue",
        include_str!("migrations/002_catalogue.sql"),
    ),
    (
        3,
        "003_backoffice",
        include_str!("migrations/003_backoffice.sql"),
    ),
    (
        4,
        "004_webhooks",
        include_str!("migrations/004_webhooks.sql"),
    ),
    (5, "005_menus", include_str!("migrations/005_menus.sql")),
    (
        6,
        "006_sales_units",
        include_str!("migrations/006_sales_units.sql"),
    ),
    (
        7,
        "007_department_day",
        include_str!("migrations/007_department_day.sql"),
    ),
];

/// The migration that added `sale_lines`: when it is applied, the lines of
/// the entries stored before it are derived in the same transaction.
const SALE_LINES_MIGRATION: i32 = 3;

/// Taken while migrating, so two hubs starting at once do not both migrate.
const MIGRATION_LOCK: i64 = 0x6c75_6b61_6875_6201;

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("the hub's database: {0}")]
    Db(String),
    #[error("{0}")]
    Config(String),
    /// Bad input from a till or a person: answered 4xx, nothing changed.
    #[error("{message}")]
    Refused { status: u16, message: String },
}

impl HubError {
    pub fn refused(status: u16, message: impl Into<String>) -> HubError {
        HubError::Refused {
            status,
            message: message.into(),
        }
    }
}

impl From<tokio_postgres::Error> for HubError {
    fn from(e: tokio_postgres::Error) -> HubError {
        // The database's own words (a constraint, a lost connection); the
        // connection string is never part of them.
        HubError::Db(match e.as_db_error() {
            Some(db) => db.message().to_string(),
            None => e.to_string(),
        })
    }
}

impl From<deadpool_postgres::PoolError> for HubError {
    fn from(e: deadpool_postgres::PoolError) -> HubError {
        // The causes too: "error performing TLS handshake" alone does not
        // say that the server's certificate was not trusted.
        let mut text = format!("no connection: {e}");
        let mut cause = std::error::Error::source(&e);
        while let Some(c) = cause {
            text.push_str(&format!(": {c}"));
            cause = c.source();
        }
        HubError::Db(text)
    }
}

/// The roots a TLS connection to PostgreSQL trusts: `ca_file`'s
/// certificates, or else the system's.
fn tls_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, HubError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .and_then(|i| i.collect::<Result<_, _>>())
                .map_err(|e| {
                    HubError::Config(format!(
                        "[hub] database_ca_file {}: cannot read PEM certificates ({e}); \
                         give the CA certificate your PostgreSQL provider publishes",
                        path.display()
                    ))
                })?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(HubError::Config(format!(
                    "[hub] database_ca_file {} holds no usable certificate",
                    path.display()
                )));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
        }
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| HubError::Config(format!("TLS to PostgreSQL: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The hub's handle on its database.
#[derive(Clone)]
pub struct Hub {
    pool: Pool,
    /// `[hub.club]`: who the club's SAF-T file is for; `None` until set.
    club: Option<Merchant>,
    /// Each paired till's open event stream (`vipps_hooks.rs`).
    pub(crate) streams: std::sync::Arc<super::vipps_hooks::Streams>,
    /// How often an open event stream's credential is checked again, so a
    /// till unpaired from another process (`luka hub remove-till`) loses
    /// its stream too.
    stream_recheck: std::time::Duration,
}

impl Hub {
    /// Connects to `url` (a `postgresql://` URL or `key=value` words) and
    /// applies the migrations not yet applied.
    pub async fn connect(url: &str) -> Result<Hub, HubError> {
        Hub::connect_with(url, None).await
    }

    /// [`Hub::connect`] with TLS when the URL asks for it (`sslmode=require`,
    /// as a managed PostgreSQL does): the server's certificate is checked
    /// against the system's roots, or against `ca_file` (PEM) when given
    /// (`[hub] database_ca_file`). Without `sslmode=require` the hub talks
    /// plainly, as to a cluster on this machine's socket.
    pub async fn connect_with(url: &str, ca_file: Option<&Path>) -> Result<Hub, HubError> {
        let config: tokio_postgres::Config = url.parse().map_err(|e| {
            HubError::Config(format!(
                "[hub] database_url is not a PostgreSQL connection string ({e}); \
                 write e.g. \"postgresql://luka@localhost/luka_hub\""
            ))
        })?;
        let settings = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = if config.get_ssl_mode() == SslMode::Require {
            let tls = tokio_postgres_rustls::MakeRustlsConnect::new(tls_config(ca_file)?);
            Manager::from_config(config, tls, settings)
        } else {
            if ca_file.is_some() {
                return Err(HubError::Config(
                    "[hub] database_ca_file is set, but database_url does not ask for TLS: \
                     add sslmode=require to it (…?sslmode=require)"
                        .into(),
                ));
            }
            Manager::from_config(config, NoTls, settings)
        };
        let pool = Pool::builder(manager)
            .max_size(8)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| HubError::Config(format!("cannot make the connection pool: {e}")))?;
        let hub = Hub {
            pool,
            club: None,
            streams: Default::default(),
            stream_recheck: std::time::Duration::from_secs(30),
        };
        hub.migrate().await?;
        Ok(hub)
    }

    /// The hub checking open event streams' credentials every `every`
    /// (30 s unless set; tests shorten it).
    pub fn with_stream_recheck(mut self, every: std::time::Duration) -> Hub {
        self.stream_recheck = every;
        self
    }

    pub(crate) fn stream_recheck(&self) -> std::time::Duration {
        self.stream_recheck
    }

    /// The hub with the club from `[hub.club]` (what the SAF-T file names
    /// as the company).
    pub fn with_club(mut self, club: Option<Merchant>) -> Hub {
        self.club = club;
        self
    }

    pub fn club(&self) -> Option<&Merchant> {
        self.club.as_ref()
    }

    pub async fn client(&self) -> Result<Object, HubError> {
        Ok(self.pool.get().await?)
    }

    /// Applies every migration not yet recorded, in order; refuses a
    /// database migrated by a newer hub.
    async fn migrate(&self) -> Result<(), HubError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS hub_migrations (\
                 version INTEGER PRIMARY KEY, name TEXT NOT NULL, \
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        )
        .await?;
        let applied: Vec<i32> = tx
            .query("SELECT version FROM hub_migrations ORDER BY version", &[])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let known = MIGRATIONS.last().map(|m| m.0).unwrap_or(0);
        if let Some(newer) = applied.iter().find(|v| **v > known) {
            return Err(HubError::Config(format!(
                "the hub's database has migration {newer}, newer than this Luka knows ({known}); \
                 run the newer Luka"
            )));
        }
        for (version, name, sql) in MIGRATIONS {
            if applied.contains(version) {
                continue;
            }
            tx.batch_execute(sql)
                .await
                .map_err(|e| HubError::Db(format!("migration {name} failed: {e}")))?;
            if *version == SALE_LINES_MIGRATION {
                let n = super::ingest::derive_stored_lines(&tx).await?;
                tracing::info!(
                    entries = n,
                    "derived the lines of the stored sales and returns"
                );
            }
            tx.execute(
                "INSERT INTO hub_migrations (version, name) VALUES ($1, $2)",
                &[version, name],
            )
            .await?;
            tracing::info!(migration = name, "applied hub database migration");
        }
        tx.commit().await?;
        Ok(())
    }

    /// The migrations recorded as applied, in order.
    pub async fn migrations(&self) -> Result<Vec<String>, HubError> {
        let client = self.client().await?;
        Ok(client
            .query("SELECT name FROM hub_migrations ORDER BY version", &[])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }
}
