#!/usr/bin/env bash
# Installs (or upgrades) Luka on a Raspberry Pi running Raspberry Pi OS Lite
# (Bookworm, 64-bit). Run as root from a copy of the repository:
#
#   sudo ./deploy-pi/install.sh [--binary PATH | PATH]
#
# Safe to run again: it changes only what differs, never overwrites
# /etc/luka/luka.toml or the secrets, and restarts the till only when the
# program or its service file changed. See deploy-pi/README.md.
#
# Options:
#   --binary PATH  the luka program to install (default: the one next to this
#                  script, then target/release/luka, else it is built here
#                  with cargo)
#   --root DIR     install into DIR instead of / (an image, a test): creates
#                  files and modes only; no users, ownership, udev or systemctl
#   --no-start     enable the service but do not (re)start it now
#   -h, --help     this text
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
ROOT=""
BINARY=""
START=1
# The groups the till needs, and why:
#   video, render  the display (DRM/KMS) for Slint's linuxkms backend
#   input          the touchscreen (libinput reads /dev/input/event*)
#   gpio           LEDs, buzzer, buttons, drawer relay (/dev/gpiomem*, /dev/gpiochip*)
#   lp             USB receipt printers (99-luka-printers.rules)
#   dialout        serial and USB-serial printers (/dev/ttyUSB*, /dev/ttyACM*)
GROUPS_NEEDED=(video render input gpio lp dialout)

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --binary) BINARY="${2:?--binary needs a path}"; shift 2 ;;
    --root) ROOT="${2:?--root needs a folder}"; shift 2 ;;
    --no-start) START=0; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "install.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) BINARY="$1"; shift ;;
  esac
done

SYSTEM=1 # touch users, ownership, udev and systemd
if [ -n "$ROOT" ]; then
  SYSTEM=0
  mkdir -p "$ROOT"
  ROOT="$(cd "$ROOT" && pwd)"
elif [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run it as root: sudo $0 $*" >&2
  exit 1
fi

CHANGED=0      # files written this run
RESTART=0      # the running till must restart to pick up a change
say() { printf '  %-10s %s\n' "$1" "$2"; }

# --- the program ------------------------------------------------------------
if [ -z "$BINARY" ]; then
  for candidate in "$HERE/luka" "$REPO/target/release/luka" \
                   "$REPO/target/aarch64-unknown-linux-gnu/release/luka"; do
    if [ -x "$candidate" ] && "$candidate" --version >/dev/null 2>&1; then
      BINARY="$candidate"; break
    fi
  done
fi
if [ -z "$BINARY" ]; then
  if ! command -v cargo >/dev/null 2>&1; then
    echo "install.sh: no luka program found and no Rust toolchain to build one." >&2
    echo "  Either build it on a PC (deploy-pi/build.sh), copy it here and run" >&2
    echo "  sudo $0 --binary ./luka, or install Rust (scripts/setup.sh) and rerun." >&2
    exit 1
  fi
  echo "Building Luka (release; 15-30 minutes on a Pi 4)…"
  (cd "$REPO" && cargo build --release --locked)
  BINARY="$REPO/target/release/luka"
fi
if ! VERSION="$("$BINARY" --version 2>/dev/null)"; then
  echo "install.sh: $BINARY does not run on this machine (built for another CPU?)." >&2
  echo "  A Pi needs the aarch64 build: deploy-pi/build.sh." >&2
  exit 1
fi

echo "Installing $VERSION into ${ROOT:-/}"

# --- users and groups (not in --root mode) ----------------------------------
if [ "$SYSTEM" -eq 1 ]; then
  for g in "${GROUPS_NEEDED[@]}"; do
    if ! getent group "$g" >/dev/null; then
      groupadd --system "$g"
      say "group" "$g created (it did not exist on this system)"
    fi
  done
  if ! getent passwd luka >/dev/null; then
    useradd --system --user-group --home-dir /var/lib/luka --no-create-home \
      --shell /usr/sbin/nologin --comment "Luka till" luka
    say "user" "luka created"
  fi
  want="$(IFS=,; echo "${GROUPS_NEEDED[*]}")"
  # (`|| true`: a new user has no other group, and grep then "fails")
  have="$(id -nG luka | tr ' ' '\n' | { grep -vx luka || true; } | sort | paste -sd, -)"
  if [ "$have" != "$(echo "$want" | tr ',' '\n' | sort | paste -sd, -)" ]; then
    usermod -G "$want" luka
    say "user" "luka is in exactly: $want"
    RESTART=1
  fi
fi

# --- helpers ------------------------------------------------------------------
# sysdir PATH: a system folder; created if missing, its owner and mode left alone.
sysdir() {
  if [ ! -d "$ROOT$1" ]; then
    mkdir -p "$ROOT$1"
    say "created" "$1/"
    CHANGED=$((CHANGED + 1))
  fi
}

# dir PATH MODE OWNER:GROUP: one of Luka's folders, mode and owner enforced.
dir() {
  local path="$ROOT$1" mode="$2" owner="$3"
  if [ ! -d "$path" ]; then
    mkdir -p "$(dirname "$path")"
    mkdir -m "$mode" "$path"
    say "created" "$1/"
    CHANGED=$((CHANGED + 1))
  fi
  fix_mode "$1" "$mode"
  own "$1" "$owner"
}

fix_mode() {
  local path="$ROOT$1" want="$2" have
  have="$(stat -c '%a' "$path")"
  if [ "$have" != "${want#0}" ]; then
    chmod "$want" "$path"
    say "mode" "$1 $have -> ${want#0}"
    CHANGED=$((CHANGED + 1))
  fi
}

own() {
  [ "$SYSTEM" -eq 1 ] || return 0
  local path="$ROOT$1" want="$2"
  if [ "$(stat -c '%U:%G' "$path")" != "$want" ]; then
    chown "$want" "$path"
    say "owner" "$1 -> $want"
  fi
}

# put SRC DEST MODE OWNER:GROUP: write DEST only when its content differs;
# returns 0 when it wrote. The new file is renamed into place, so a running
# till keeps its old program until it restarts.
put() {
  local src="$1" dest="$ROOT$2" mode="$3" owner="$4"
  if [ -f "$dest" ] && cmp -s "$src" "$dest"; then
    fix_mode "$2" "$mode"
    own "$2" "$owner"
    return 1
  fi
  local existed=0
  [ -f "$dest" ] && existed=1
  cp "$src" "$dest.luka-new"
  chmod "$mode" "$dest.luka-new"
  if [ "$SYSTEM" -eq 1 ]; then chown "$owner" "$dest.luka-new"; fi
  mv -f "$dest.luka-new" "$dest"
  if [ "$existed" -eq 1 ]; then say "updated" "$2"; else say "installed" "$2"; fi
  CHANGED=$((CHANGED + 1))
  return 0
}

# first SRC DEST MODE OWNER:GROUP: only if DEST does not exist yet.
first() {
  local dest="$ROOT$2"
  if [ -e "$dest" ]; then
    say "kept" "$2 (yours; never overwritten)"
    fix_mode "$2" "$3"
    own "$2" "$4"
  else
    put "$1" "$2" "$3" "$4" || true
  fi
}

# --- files --------------------------------------------------------------------
sysdir /usr/local/bin
sysdir /usr/local/share/doc
sysdir /etc/systemd/system
sysdir /etc/udev/rules.d
sysdir /var/lib
dir /usr/local/share/doc/luka 0755 root:root
dir /etc/luka 0750 root:luka
dir /etc/luka/secrets 0700 luka:luka
dir /var/lib/luka 0750 luka:luka

if put "$BINARY" /usr/local/bin/luka 0755 root:root; then RESTART=1; fi
if put "$HERE/luka.service" /etc/systemd/system/luka.service 0644 root:root; then RESTART=1; fi
UDEV_CHANGED=0
if put "$HERE/99-luka-printers.rules" /etc/udev/rules.d/99-luka-printers.rules 0644 root:root; then
  UDEV_CHANGED=1
fi
put "$HERE/README.md" /usr/local/share/doc/luka/README.md 0644 root:root || true
put "$HERE/luka.toml.example" /usr/local/share/doc/luka/luka.toml.example 0644 root:root || true
first "$HERE/luka.toml.example" /etc/luka/luka.toml 0640 root:luka

first "$HERE/environment" /etc/luka/environment 0640 root:luka

# Secrets: whatever is in the folder is the till's alone.
for f in "$ROOT"/etc/luka/secrets/*; do
  [ -f "$f" ] || continue
  rel="${f#"$ROOT"}"
  fix_mode "$rel" 0600
  own "$rel" luka:luka
done

# --- udev and systemd (not in --root mode) ----------------------------------
if [ "$SYSTEM" -eq 1 ]; then
  if [ "$UDEV_CHANGED" -eq 1 ]; then
    udevadm control --reload-rules
    udevadm trigger --subsystem-match=usb --action=change
    say "udev" "printer rules loaded (replug the printer if it was connected)"
  fi
  systemctl daemon-reload
  if ! systemctl is-enabled --quiet luka.service; then
    systemctl enable luka.service >/dev/null
    say "enabled" "luka.service (starts on boot)"
    RESTART=1
  fi
  if [ "$START" -eq 1 ] && { [ "$RESTART" -eq 1 ] || ! systemctl is-active --quiet luka.service; }; then
    systemctl restart luka.service
    say "started" "luka.service"
  fi
else
  say "skipped" "users, ownership, udev reload and systemctl (--root mode)"
fi

echo
if [ "$CHANGED" -eq 0 ] && [ "$RESTART" -eq 0 ]; then
  echo "Nothing to change: Luka is installed and up to date."
else
  echo "Done."
fi
cat <<NEXT

Next:
  1. Edit the till's settings (name, products, printer, GPIO, Vipps):
       sudo nano /etc/luka/luka.toml
  2. For Vipps test or production, put the keys in files only luka can read:
       sudo install -m 600 -o luka -g luka /dev/stdin /etc/luka/secrets/vipps-client-secret
       (paste the client secret, press Enter, then Ctrl-D; the same for
        /etc/luka/secrets/vipps-subscription-key)
  3. Apply and watch:
       sudo systemctl restart luka
       journalctl -u luka -f
  Backups:  sudo luka --config /etc/luka/luka.toml backup --to /media/usb
  More:     /usr/local/share/doc/luka/README.md
NEXT
