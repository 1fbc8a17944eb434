#!/usr/bin/env bash
# Shows the club's hub on a fresh Debian 12 / Raspberry Pi OS machine with nothing
# set up: installs what is missing (scripts/setup.sh: Debian's postgresql among the
# packages, and Rust), builds Luka, then runs `luka hub demo`: a PostgreSQL cluster
# of its own in ./luka-hub-demo (kept between runs), the hub on 127.0.0.1:8470, and
# two training tills that sell now and then. It prints the address and two logins
# (a treasurer and a kioskansvarlig). Ctrl-C stops everything.
#
#   ./scripts/hub.sh                          the demo, data in ./luka-hub-demo
#   ./scripts/hub.sh --dir /tmp/d --sell-every 5
#
# Nothing listens beyond this machine; the tills' Vipps is a simulator.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# shellcheck disable=SC1091
if [ -f "$HOME/.cargo/env" ]; then . "$HOME/.cargo/env"; fi
echo "hub: building (release; the first build takes about 9 minutes on a 2-core PC, longer on a Pi)"
exec cargo run --release --locked --quiet -- hub demo "$@"
