//! The `luka` binary: logging to stderr, then the CLI.

use clap::Parser;

fn main() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("LUKA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
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
