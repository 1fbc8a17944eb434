#!/usr/bin/env bash
# Runs Luka from this clone on a fresh Debian 12 / Raspberry Pi OS machine: installs
# what is missing (scripts/setup.sh: Debian packages and Rust), then builds and starts
# the till. With no luka.toml it starts in training mode (no credentials needed).
#
#   ./scripts/run.sh                 the touchscreen till in a window
#   ./scripts/run.sh charge 150      any luka command (here: one sale in the terminal)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# setup.sh may just have installed Rust into ~/.cargo: this shell does not know yet.
# shellcheck disable=SC1091
if [ -f "$HOME/.cargo/env" ]; then . "$HOME/.cargo/env"; fi
echo "run: building (release; the first build takes about 9 minutes on a 2-core PC, longer on a Pi)"
exec cargo run --release --locked --quiet -- "$@"
