//! A real, throwaway PostgreSQL cluster for the hub's tests: `initdb` and
//! `pg_ctl` in a temp folder, listening only on a unix socket in that
//! folder (no TCP at all), trust authentication for the one local user,
//! stopped (and the folder removed) on drop.
//!
//! The server binaries come from PATH, else from Debian's
//! `/usr/lib/postgresql/<version>/bin` (the `postgresql` package; see
//! scripts/setup.sh). PostgreSQL refuses to run as root: as root the
//! cluster is made and run as the `postgres` user (made by that package),
//! else `nobody`, with the folder handed to that user.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct PgCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    run_as: Option<String>,
}

const USER: &str = "luka";

fn server_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("initdb").is_file() && dir.join("pg_ctl").is_file() {
                return dir;
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
    versions.pop().map(|(_, b)| b).expect(
        "PostgreSQL's initdb is neither on PATH nor in /usr/lib/postgresql/*/bin: \
         install Debian's postgresql package (scripts/setup.sh does)",
    )
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
    /// Makes and starts a new cluster; panics with the server's log if it cannot.
    pub fn start() -> PgCluster {
        let bin = server_bin();
        let dir = tempfile::Builder::new()
            .prefix("luka-pg-")
            .tempdir()
            .unwrap();
        let run_as = is_root().then(|| {
            let user = if user_exists("postgres") {
                "postgres"
            } else {
                "nobody"
            };
            let out = Command::new("chown")
                .arg(user)
                .arg(dir.path())
                .output()
                .unwrap();
            assert!(out.status.success(), "chown: {out:?}");
            user.to_string()
        });
        let pg = PgCluster { dir, bin, run_as };
        let data = pg.data();
        pg.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                USER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "-N",
            ],
        );
        let socket = pg.dir.path().to_str().unwrap().to_string();
        let log = pg.dir.path().join("server.log");
        let opts = format!(
            "-c listen_addresses='' -k {socket} -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=40"
        );
        pg.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-w",
                "-o",
                &opts,
                "start",
            ],
        );
        pg
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
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

    fn run(&self, tool: &str, args: &[&str]) {
        let out = self
            .command(tool)
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap();
        if !out.status.success() {
            let log =
                std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
            panic!(
                "{tool} failed: {}\n{}\nserver log:\n{log}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    /// The folder holding the socket.
    pub fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    /// A connection string for the cluster's `postgres` database (key=value
    /// words, as `[hub] database_url` takes them).
    pub fn url(&self) -> String {
        format!(
            "host={} user={USER} dbname=postgres",
            self.dir.path().display()
        )
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self
            .command("pg_ctl")
            .args([
                "-D",
                data.to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ])
            .output();
    }
}
