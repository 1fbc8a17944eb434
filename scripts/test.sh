#!/usr/bin/env bash
# The one command that runs all of Luka's tests: setup, format, lint, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# shellcheck disable=SC1091
if [ -f "$HOME/.cargo/env" ]; then . "$HOME/.cargo/env"; fi
cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
cargo clippy --all-targets --locked --features failpoints -- -D warnings
# The crash points (`fail` crate) exist only with --features failpoints.
cargo test --locked --all-targets --features failpoints
# The 60-kill SIGKILL campaign (about a minute), skipped by a bare `cargo test`.
cargo test --locked --features failpoints --test it campaign:: -- --ignored
