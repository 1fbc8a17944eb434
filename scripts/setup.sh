#!/usr/bin/env bash
# Installs what Luka needs to build and test on a fresh Debian 12 / Raspberry Pi OS
# (Bookworm) machine. Safe to rerun. Run as root (or it uses sudo).
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# C libraries for -sys crates (udev/input/xkbcommon are for the touchscreen UI
# backends), xmllint for the SAF-T schema checks, pkg-config to find them;
# and for the deploy-pi/ checks: shellcheck, systemd (systemd-analyze).
PACKAGES=(build-essential pkg-config libudev-dev libinput-dev libxkbcommon-dev
          libfontconfig1-dev libxml2-utils openssl ca-certificates curl shellcheck systemd)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: Rust is missing; installing rustup (stable)"
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
  # shellcheck disable=SC1091
  . "$HOME/.cargo/env"
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true
echo "setup: ok ($(cargo --version))"
