//! The `luka` binary: logging to stderr, then the CLI.

use clap::Parser;

fn main() {
    // tokio-postgres logs every statement's parameters at debug: the hub's
    // Vipps webhook secret, password and credential hashes would reach the
    // log with `LUKA_LOG=debug`. Capped whatever is asked: a directive added
    // later replaces the user's for the same target.
    let mut filter = tracing_subscriber::EnvFilter::try_from_env("LUKA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    for quiet in ["tokio_postgres=info", "tokio_postgres::query=info"] {
        filter = filter.add_directive(quiet.parse().expect("a fixed, valid log directive"));
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    // The crash tests' fail points, read from FAILPOINTS (test builds only).
    #[cfg(feature = "failpoints")]
    let _failpoints = fail::FailScenario::setup();
    let cli = luka::cli::Cli::parse();
    match luka::cli::run(cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("luka: {}", luka::cli::error_text(&e));
            std::process::exit(2);
        }
    }
}
