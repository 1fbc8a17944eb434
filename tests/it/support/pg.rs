//! A real, throwaway PostgreSQL cluster for the hub's tests: the hub's own
//! (`luka::hub::cluster`, which `luka hub demo` runs too) in a temporary
//! folder, on a unix socket only, fsync off, stopped and removed on drop.

pub struct PgCluster(luka::hub::cluster::PgCluster);

impl PgCluster {
    /// Makes and starts a new cluster; panics with the server's log if it cannot.
    pub fn start() -> PgCluster {
        PgCluster(luka::hub::cluster::PgCluster::temporary().unwrap_or_else(|e| panic!("{e}")))
    }

    /// A connection string for the cluster's `postgres` database.
    pub fn url(&self) -> String {
        self.0.url()
    }
}
