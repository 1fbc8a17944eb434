//! A PostgreSQL cluster of Luka's own in a folder (`initdb` + `pg_ctl`),
//! for `luka hub demo` and the hub's tests: it listens only on a unix
//! socket in that folder (no TCP at all), with trust authentication for
//! the one local user, and is stopped when dropped.
//!
//! The server binaries come from PATH, else from Debian's
//! `/usr/lib/postgresql/<version>/bin` (the `postgresql` package; see
//! scripts/setup.sh). PostgreSQL refuses to run as root: as root the
//! cluster is made and run as the `postgres` user (made by that package),
//! else `nobody`, with the folder handed to that user.
//!
//! Not for production: a club's hub runs on the system's PostgreSQL (or a
//! managed one) named by `[hub] database_url` (deploy-pi/README.md).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The one user the cluster knows (trust authentication, socket only).
pub const USER: &str = "luka";

pub struct PgCluster {
    dir: PathBuf,
    bin: PathBuf,
    run_as: Option<String>,
    /// Kept for [`PgCluster::temporary`]: removed after the server stops.
    _temp: Option<tempfile::TempDir>,
}

/// Where Debian's (or PATH's) PostgreSQL server binaries are.
pub fn server_bin() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("initdb").is_file() && dir.join("pg_ctl").is_file() {
                return Ok(dir);
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| {
                    let v = e.file_name().to_str()?.parse::<u32>().ok()?;
                    let bin = e.path().join("bin");
                    bin.join("initdb").is_file().then_some((v, bin))
                })
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    versions.pop().map(|(_, b)| b).ok_or_else(|| {
        "PostgreSQL's initdb is neither on PATH nor in /usr/lib/postgresql/*/bin: \
         install Debian's postgresql package (sudo apt-get install postgresql; \
         scripts/setup.sh does)"
            .to_string()
    })
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn user_exists(name: &str) -> bool {
    Command::new("id")
        .arg("-u")
        .arg(name)
        .output()
        .is_ok_and(|o| o.status.success())
}

impl PgCluster {
    /// A new cluster in a temporary folder, removed with it, without
    /// fsync (the tests').
    pub fn temporary() -> Result<PgCluster, String> {
        PgCluster::temporary_with(true)
    }

    /// A new cluster in a temporary folder; `fast`: without fsync (a
    /// benchmark wants it durable, as a club's hub is).
    pub fn temporary_with(fast: bool) -> Result<PgCluster, String> {
        let temp = tempfile::Builder::new()
            .prefix("luka-pg-")
            .tempdir()
            .map_err(|e| format!("cannot make a temporary folder: {e}"))?;
        let mut pg = PgCluster::in_folder(temp.path(), fast)?;
        pg._temp = Some(temp);
        Ok(pg)
    }

    /// The cluster in `dir`: made there when it is not yet, then started.
    /// `fast`: without fsync (tests; never for data anyone keeps).
    pub fn in_folder(dir: &Path, fast: bool) -> Result<PgCluster, String> {
        let bin = server_bin()?;
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot make the folder {}: {e}", dir.display()))?;
        let dir = dir
            .canonicalize()
            .map_err(|e| format!("cannot use the folder {}: {e}", dir.display()))?;
        // A unix socket path has room for about 100 bytes.
        if dir.as_os_str().len() > 80 {
            return Err(format!(
                "the folder {} is too deep for PostgreSQL's socket: give a shorter one",
                dir.display()
            ));
        }
        let run_as = if is_root() {
            let user = if user_exists("postgres") {
                "postgres"
            } else {
                "nobody"
            };
            let out = Command::new("chown")
                .arg("-R")
                .arg(user)
                .arg(&dir)
                .output()
                .map_err(|e| format!("chown: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "cannot hand {} to the {user} user: {}",
                    dir.display(),
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
            Some(user.to_string())
        } else {
            None
        };
        let pg = PgCluster {
            dir,
            bin,
            run_as,
            _temp: None,
        };
        let data = pg.data();
        if !data.join("PG_VERSION").is_file() {
            pg.run(
                "initdb",
                &[
                    "-D",
                    &data.to_string_lossy(),
                    "-U",
                    USER,
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                    "-N",
                ],
            )?;
        }
        let socket = pg.dir.to_string_lossy().to_string();
        let log = pg.dir.join("server.log");
        let speed = if fast {
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        } else {
            ""
        };
        let opts = format!("-c listen_addresses='' -k {socket} -c max_connections=40{speed}");
        pg.run(
            "pg_ctl",
            &[
                "-D",
                &data.to_string_lossy(),
                "-l",
                &log.to_string_lossy(),
                "-w",
                "-o",
                &opts,
                "start",
            ],
        )?;
        Ok(pg)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn command(&self, tool: &str) -> Command {
        let exe = self.bin.join(tool);
        match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.arg("-u").arg(user).arg("--").arg(exe);
                c
            }
            None => Command::new(exe),
        }
    }

    fn run(&self, tool: &str, args: &[&str]) -> Result<(), String> {
        let out = self
            .command(tool)
            .args(args)
            .current_dir(&self.dir)
            .output()
            .map_err(|e| format!("cannot run {tool}: {e}"))?;
        if out.status.success() {
            return Ok(());
        }
        let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        Err(format!(
            "{tool} failed: {}{}\nserver log ({}):\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.dir.join("server.log").display(),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        ))
    }

    /// Restarts the cluster listening on 127.0.0.1:`port` as well, with TLS
    /// from the server certificate and key given (PEM), so the hub's TLS
    /// to a PostgreSQL elsewhere can be tested. For tests: the key is
    /// written into the cluster's folder, readable by its server only.
    pub fn serve_tls(&self, cert_pem: &str, key_pem: &str, port: u16) -> Result<(), String> {
        use std::os::unix::fs::PermissionsExt;
        let cert = self.dir.join("server.crt");
        let key = self.dir.join("server.key");
        for (path, text) in [(&cert, cert_pem), (&key, key_pem)] {
            std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| format!("{}: {e}", path.display()))?;
            if let Some(user) = &self.run_as {
                let out = Command::new("chown")
                    .arg(user)
                    .arg(path)
                    .output()
                    .map_err(|e| format!("chown: {e}"))?;
                if !out.status.success() {
                    return Err(format!("cannot hand {} to {user}", path.display()));
                }
            }
        }
        let opts = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {} -c max_connections=40 -c fsync=off \
             -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
            self.dir.display(),
            cert.display(),
            key.display()
        );
        let data = self.data();
        let log = self.dir.join("server.log");
        self.run(
            "pg_ctl",
            &[
                "-D",
                &data.to_string_lossy(),
                "-l",
                &log.to_string_lossy(),
                "-w",
                "-m",
                "fast",
                "-o",
                &opts,
                "restart",
            ],
        )
    }

    /// The folder holding the socket.
    pub fn socket_dir(&self) -> &Path {
        &self.dir
    }

    /// A connection string for the cluster's `postgres` database (key=value
    /// words, as `[hub] database_url` takes them).
    pub fn url(&self) -> String {
        format!("host={} user={USER} dbname=postgres", self.dir.display())
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.data();
        let mode = if self._temp.is_some() {
            "immediate"
        } else {
            "fast"
        };
        let _ = self
            .command("pg_ctl")
            .args(["-D", &data.to_string_lossy(), "-m", mode, "-w", "stop"])
            .output();
    }
}
