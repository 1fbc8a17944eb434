#!/usr/bin/env bash
# The one command that runs all of Luka's tests: setup, format, lint, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# shellcheck disable=SC1091
if [ -f "$HOME/.cargo/env" ]; then . "$HOME/.cargo/env"; fi
cargo fmt --check
# Tests build the package with its test features (see Cargo.toml's
# dev-dependencies); the second lint is the product as shipped, without them.
cargo clippy --all-targets --locked -- -D warnings
cargo clippy --locked -- -D warnings
cargo test --locked --all-targets
# The 60-kill SIGKILL campaign (about a minute), skipped by a bare `cargo test`.
cargo test --locked --test it campaign:: -- --ignored
