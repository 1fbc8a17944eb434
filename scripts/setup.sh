#!/usr/bin/env bash
# Installs what Luka needs to build and test on a fresh Debian 12 / Raspberry Pi OS
# (Bookworm) machine that has nothing but git. Safe to rerun. Run as root (or it uses
# sudo). Prints a few lines; apt's own output goes to a log that is shown if it fails.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# C libraries for -sys crates (udev/input/xkbcommon are for the touchscreen UI
# backends), xmllint for the SAF-T schema checks, pkg-config to find them;
# for the deploy-pi/ checks: shellcheck, systemd (systemd-analyze), and for the
# Debian package: dpkg-dev (dpkg-shlibdeps), lintian, binutils (objcopy), file;
# postgresql for the hub's tests, which make a throwaway cluster per test with
# its initdb and pg_ctl (tests/it/support/pg.rs; /usr/lib/postgresql/*/bin);
# chromium and chromium-driver for the hub's pages in a real headless browser
# (tests/it/support/webdriver.rs).
PACKAGES=(build-essential pkg-config libudev-dev libinput-dev libxkbcommon-dev
          libfontconfig1-dev libxml2-utils openssl ca-certificates curl shellcheck systemd
          dpkg-dev lintian binutils file postgresql chromium chromium-driver)

log="$(mktemp -t luka-setup.XXXXXX.log)"
trap 'rm -f "$log" "$log.rustup"' EXIT
# run WHAT CMD...: runs CMD with its output in the log; on failure shows the log's tail.
run() {
  local what="$1"; shift
  if ! "$@" >"$log" 2>&1; then
    echo "setup: $what failed; the last lines of its output:" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
}

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ] && [ -n "$SUDO" ] && ! command -v sudo >/dev/null 2>&1; then
  echo "setup: ${missing[*]} must be installed, which needs root, and sudo is not installed:" >&2
  echo "  run it as root (su -c ./scripts/setup.sh), or install sudo and add yourself to the sudo group" >&2
  exit 1
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
  run "apt-get update" $SUDO apt-get -o DPkg::Lock::Timeout=600 update -q
  run "apt-get install" $SUDO env DEBIAN_FRONTEND=noninteractive \
    apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"
fi

# shellcheck disable=SC1091
if [ -f "$HOME/.cargo/env" ]; then . "$HOME/.cargo/env"; fi
# The floor is Cargo.toml's rust-version; Debian's own rustc is older, so rustup.
need="$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)"
have="$(rustc --version 2>/dev/null | awk '{print $2}' || true)"
if [ -z "$have" ] || [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -n1)" != "$need" ]; then
  if command -v rustup >/dev/null 2>&1; then
    echo "setup: Rust ${have:-missing} is older than $need; updating stable with rustup"
    run "rustup update" rustup update stable
  else
    echo "setup: installing Rust (rustup, stable) into ~/.cargo"
    run "downloading rustup" curl --proto '=https' --tlsv1.2 -sSf -o "$log.rustup" https://sh.rustup.rs
    run "rustup" sh "$log.rustup" -y --profile minimal
    rm -f "$log.rustup"
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
  fi
fi
if command -v rustup >/dev/null 2>&1; then
  run "rustup component add" rustup component add rustfmt clippy
fi
echo "setup: ok ($(cargo --version))"
