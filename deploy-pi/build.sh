#!/usr/bin/env bash
# Builds Luka for the Raspberry Pi (64-bit Raspberry Pi OS, aarch64) on an
# x86-64 Debian 12 machine, and proves the result runs: `file`, the glibc it
# needs, and under qemu-aarch64-static `luka --version`, `luka --help` and a
# whole headless training sale (`luka charge`, approved on the simulator's
# phone page). One command; too slow for CI (a clean build takes ~12 minutes
# on 2 cores), so it is not part of scripts/test.sh.
#
#   ./deploy-pi/build.sh              install what is missing, build, prove
#   ./deploy-pi/build.sh --no-smoke   build only
#
# The route: rustup's aarch64-unknown-linux-gnu target,
# Debian's gcc-aarch64-linux-gnu as linker and C compiler, the arm64 `-dev`
# packages the -sys crates need (multiarch), qemu-user-static to run it.
# The binary lands in ${CARGO_TARGET_DIR:-target}/aarch64-unknown-linux-gnu/release/luka.
# 32-bit armv7 is not built: every Pi that runs the touchscreen UI well
# (Pi 4, Pi 5) runs the 64-bit OS.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=aarch64-unknown-linux-gnu
SMOKE=1
for arg in "$@"; do
  case "$arg" in
    --no-smoke) SMOKE=0 ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build.sh: unknown option '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
# shellcheck disable=SC1091
if [ -f "$HOME/.cargo/env" ]; then . "$HOME/.cargo/env"; fi

# --- tools and arm64 libraries ----------------------------------------------
# The -sys crates of the UI stack link libudev, libinput, xkbcommon and
# fontconfig/freetype; the arm64 builds of their -dev packages install beside
# the host's (multiarch). libc6:arm64 is also what qemu runs the result on.
ARM_DEV=(libc6:arm64 libudev-dev:arm64 libinput-dev:arm64 libxkbcommon-dev:arm64
         libfontconfig1-dev:arm64)
HOST=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static file binutils-aarch64-linux-gnu curl)
# apt's own output goes to a log, shown only if it fails.
aptlog="$(mktemp)"
apt_quiet() {
  if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -q "$@" >"$aptlog" 2>&1; then
    echo "build: apt-get $1 failed:" >&2
    tail -n 40 "$aptlog" >&2
    exit 1
  fi
}
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  echo "build: adding the arm64 architecture to dpkg"
  $SUDO dpkg --add-architecture arm64
  apt_quiet update
fi
missing=()
for p in "${HOST[@]}" "${ARM_DEV[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "build: installing ${missing[*]}"
  apt_quiet update
  apt_quiet install -y "${missing[@]}"
fi
rm -f "$aptlog"
rustup target add "$TARGET" >/dev/null

# --- build ----------------------------------------------------------------------
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
export AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar
export PKG_CONFIG_ALLOW_CROSS=1
export PKG_CONFIG_LIBDIR_aarch64_unknown_linux_gnu=/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig
# No `-L /usr/aarch64-linux-gnu`: with the cross toolchain's copy of glibc
# the first pthread_create hangs under qemu on some hosts; the multiarch
# libc6:arm64 in / works.
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER=qemu-aarch64-static

start=$(date +%s)
cargo build --release --locked --target "$TARGET"
secs=$(( $(date +%s) - start ))
BIN="${CARGO_TARGET_DIR:-target}/$TARGET/release/luka"
echo "build: $BIN built in ${secs} s"

# --- prove it ---------------------------------------------------------------------
kind="$(file -b "$BIN")"
echo "build: file: $kind"
case "$kind" in
  *"ARM aarch64"*) ;;
  *) echo "build: $BIN is not an aarch64 program" >&2; exit 1 ;;
esac
glibc="$(aarch64-linux-gnu-objdump -T "$BIN" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)"
echo "build: needs ${glibc/_/ } or newer on the Pi (Raspberry Pi OS Bookworm has 2.36)"
echo "build: size $(du -h "$BIN" | cut -f1)"

if [ "$SMOKE" -eq 0 ]; then exit 0; fi
QEMU=(qemu-aarch64-static)
"${QEMU[@]}" "$BIN" --version
"${QEMU[@]}" "$BIN" --help >/dev/null && echo "build: --help runs under qemu"

# A whole training sale: in-process simulator, real SQLite, QR, approval on
# the simulator's phone page, capture, one JSON line.
work="$(mktemp -d)"
sale=""
cleanup() {
  if [ -n "$sale" ]; then kill "$sale" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
BIN_ABS="$(cd "$(dirname "$BIN")" && pwd)/luka"
printf '[till]\nid = "qemu-smoke"\n\n[store]\npath = "%s/luka.db"\n' "$work" >"$work/luka.toml"
(
  cd "$work"
  rc=0
  env -u LUKA_VIPPS_CLIENT_ID -u LUKA_VIPPS_CLIENT_SECRET -u LUKA_VIPPS_SUBSCRIPTION_KEY \
    -u LUKA_VIPPS_MERCHANT_SERIAL_NUMBER \
    timeout 300 "${QEMU[@]}" "$BIN_ABS" --config "$work/luka.toml" charge 150 --timeout 120 \
    >"$work/out.json" 2>"$work/err.txt" || rc=$?
  echo "$rc" >"$work/rc"
) &
sale=$!
deploy-pi/approve-training-sale.sh "$work/err.txt" 120
wait "$sale"
sale=""
rc="$(cat "$work/rc")"
echo "build: charge under qemu: $(cat "$work/out.json")"
if [ "$rc" -ne 0 ] || ! grep -q '"state":"paid"' "$work/out.json"; then
  echo "build: the training sale did not end paid (exit $rc):" >&2
  cat "$work/err.txt" >&2
  exit 1
fi
echo "build: ok: aarch64 binary built, runs under qemu, and sold a training sale"
