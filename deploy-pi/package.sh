#!/usr/bin/env bash
# Builds Luka's Debian packages: luka_<version>_amd64.deb and luka_<version>_arm64.deb
# (Raspberry Pi OS 64-bit / Debian 12), each checked with lintian.
#
#   ./deploy-pi/package.sh                       both architectures (arm64 is cross-built
#                                                with deploy-pi/build.sh: ~12-25 min cold)
#   ./deploy-pi/package.sh --arch amd64          one architecture
#   ./deploy-pi/package.sh --arch amd64 --binary PATH
#                                                package a program built elsewhere (any
#                                                profile: it is stripped here)
#   --version V   package version (default: Cargo.toml's)
#   --out DIR     where the .deb files go (default: ${CARGO_TARGET_DIR:-target}/debian)
#   --no-lintian  skip the lintian check
#
# What goes in: the stripped program (/usr/bin/luka; its debug info is kept beside the
# .deb as luka_<version>_<arch>.debug), the systemd unit, the printer udev rules, the
# example config (also the first /etc/luka/luka.toml: training, no credentials), the
# docs, and the maintainer scripts in deploy-pi/debian/. Prints one line per package:
# its path and size.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
cd "$REPO"
# shellcheck disable=SC1091
if [ -f "$HOME/.cargo/env" ]; then . "$HOME/.cargo/env"; fi

ARCHES=()
VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)"
BINARY=""
TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"
OUT=""
LINTIAN=1
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) ARCHES+=("${2:?--arch needs amd64 or arm64}"); shift 2 ;;
    --version) VERSION="${2:?--version needs a version}"; shift 2 ;;
    --binary) BINARY="${2:?--binary needs a path}"; shift 2 ;;
    --out) OUT="${2:?--out needs a folder}"; shift 2 ;;
    --no-lintian) LINTIAN=0; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "package.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ ${#ARCHES[@]} -gt 0 ] || ARCHES=(amd64 arm64)
OUT="${OUT:-$TARGET_DIR/debian}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
if [ -n "$BINARY" ] && [ ${#ARCHES[@]} -ne 1 ]; then
  echo "package.sh: --binary packages one architecture: give exactly one --arch" >&2
  exit 2
fi
if ! [[ "$VERSION" =~ ^[0-9][A-Za-z0-9.+~-]*$ ]]; then
  echo "package.sh: '$VERSION' is not a Debian version (digits first, then [A-Za-z0-9.+~-])" >&2
  exit 2
fi
for tool in dpkg-deb dpkg-shlibdeps objcopy file; do
  command -v "$tool" >/dev/null || {
    echo "package.sh: $tool is missing: run ./scripts/setup.sh (it installs dpkg-dev, binutils, file, lintian)" >&2
    exit 1
  }
done

# Reproducible: every date in the package is the last commit's.
SOURCE_DATE_EPOCH="$(git log -1 --format=%ct 2>/dev/null || date +%s)"
export SOURCE_DATE_EPOCH
COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"

build() { # ARCH -> path of the release program
  case "$1" in
    amd64)
      cargo build --release --locked >&2
      echo "$TARGET_DIR/release/luka" ;;
    arm64)
      "$HERE/build.sh" --no-smoke >&2
      echo "$TARGET_DIR/aarch64-unknown-linux-gnu/release/luka" ;;
    *) echo "package.sh: unknown architecture '$1' (amd64 or arm64)" >&2; exit 2 ;;
  esac
}

objcopy_for() {
  case "$1" in
    amd64) echo objcopy ;;
    arm64) echo aarch64-linux-gnu-objcopy ;;
  esac
}

package() {
  local arch="$1" bin="$2"
  local stage deb objcopy
  objcopy="$(objcopy_for "$arch")"
  command -v "$objcopy" >/dev/null || {
    echo "package.sh: $objcopy is missing (arm64: deploy-pi/build.sh installs binutils-aarch64-linux-gnu)" >&2
    exit 1
  }
  case "$(file -b "$bin")" in
    *x86-64*) [ "$arch" = amd64 ] ;;
    *aarch64*) [ "$arch" = arm64 ] ;;
    *) false ;;
  esac || { echo "package.sh: $bin is not an $arch program ($(file -b "$bin" | cut -d, -f1-2))" >&2; exit 1; }

  stage="$(mktemp -d)"
  # shellcheck disable=SC2064
  trap "rm -rf '$stage'" RETURN
  local root="$stage/root"
  install -d "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" "$root/lib/udev/rules.d" \
    "$root/usr/share/luka" "$root/usr/share/doc/luka/examples"

  # The program, without debug info; the debug info beside the .deb.
  local debug="$OUT/luka_${VERSION}_${arch}.debug"
  "$objcopy" --only-keep-debug "$bin" "$debug"
  "$objcopy" --strip-all --remove-section=.comment --remove-section=.note "$bin" "$root/usr/bin/luka"
  (cd "$OUT" && "$objcopy" --add-gnu-debuglink="$(basename "$debug")" "$root/usr/bin/luka")
  chmod 0755 "$root/usr/bin/luka"

  # The unit and rules of the source route, with the package's paths.
  sed -e 's|/usr/local/bin/luka|/usr/bin/luka|g' \
      -e 's|/usr/local/share/doc/luka|/usr/share/doc/luka|g' \
      -e 's|Installed by deploy-pi/install.sh; see deploy-pi/README.md.|Installed by the luka Debian package; see /usr/share/doc/luka/README.md.|' \
      -e 's|install.sh overwrites this file on upgrade.|an upgrade of the package overwrites this file.|' \
      "$HERE/luka.service" >"$root/lib/systemd/system/luka.service"
  sed -e 's|Installed to /etc/udev/rules.d/ by install.sh.|Installed to /lib/udev/rules.d/ by the luka package.|' \
      "$HERE/99-luka-printers.rules" >"$root/lib/udev/rules.d/99-luka-printers.rules"
  install -m 0644 "$HERE/luka.toml.example" "$root/usr/share/luka/luka.toml.example"
  install -m 0644 "$HERE/environment" "$root/usr/share/luka/environment"
  install -m 0644 "$HERE/README.md" "$root/usr/share/doc/luka/README.md"
  install -m 0644 "$HERE/debian/README.Debian" "$root/usr/share/doc/luka/README.Debian"
  install -m 0644 "$HERE/luka.toml.example" "$root/usr/share/doc/luka/examples/luka.toml.example"
  install -m 0644 "$HERE/debian/copyright" "$root/usr/share/doc/luka/copyright"
  {
    echo "luka ($VERSION) stable; urgency=medium"
    echo
    echo "  * Built from commit $COMMIT of the Luka repository; its git log says"
    echo "    what changed."
    echo
    echo " -- The Luka developers <luka@example.org>  $(date -u -R -d "@$SOURCE_DATE_EPOCH")"
  } | gzip -9n >"$root/usr/share/doc/luka/changelog.gz"
  chmod 0644 "$root/usr/share/doc/luka/changelog.gz"

  # Maintainer scripts; postrm learns the templates' checksums so a purge removes
  # only a config nobody changed.
  install -m 0755 "$HERE/debian/postinst" "$HERE/debian/prerm" "$root/DEBIAN/"
  sed -e "s|@CONFIG_SHA256@|$(sha256sum "$HERE/luka.toml.example" | cut -d' ' -f1)|" \
      -e "s|@ENVIRONMENT_SHA256@|$(sha256sum "$HERE/environment" | cut -d' ' -f1)|" \
      "$HERE/debian/postrm" >"$root/DEBIAN/postrm"
  chmod 0755 "$root/DEBIAN/postrm"

  # ca-certificates: the Vipps and PowerOffice clients verify TLS against the system's
  # roots (rustls-platform-verifier); without them the client cannot even be built
  # ("Vipps client setup: builder error", seen in a minbase root).
  # Shared libraries from the program itself (dpkg-shlibdeps reads the ELF and the
  # installed libraries' symbols files; arm64 needs the :arm64 -dev packages that
  # deploy-pi/build.sh installs).
  local depends
  mkdir -p "$stage/src/debian"
  printf 'Source: luka\n\nPackage: luka\nArchitecture: any\n' >"$stage/src/debian/control"
  depends="$(cd "$stage/src" && dpkg-shlibdeps -O --ignore-missing-info "$root/usr/bin/luka" 2>/dev/null \
    | sed -n 's/^shlibs:Depends=//p')"
  [ -n "$depends" ] || { echo "package.sh: dpkg-shlibdeps found no libraries for $bin" >&2; exit 1; }

  find "$root" -path "$root/DEBIAN" -prune -o -type d -exec chmod 0755 {} +
  find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
  local size
  size="$(du -sk --exclude=DEBIAN "$root" | cut -f1)"
  cat >"$root/DEBIAN/control" <<CONTROL
Package: luka
Version: $VERSION
Architecture: $arch
Maintainer: The Luka developers <luka@example.org>
Installed-Size: $size
Depends: $depends, ca-certificates, passwd, init-system-helpers (>= 1.54~)
Section: misc
Priority: optional
Description: till for sports clubs, kiosks and small shops (Vipps, receipts)
 Luka is a point-of-sale till for a Raspberry Pi with a touchscreen and a
 thermal receipt printer. A volunteer taps a ticket or an amount; Luka
 creates a Vipps MobilePay payment, shows its QR code, captures it when the
 customer approves, prints the receipt and keeps every sale in a crash-safe
 SQLite journal until it has reached the club's books.
 .
 The package starts the till on boot straight onto the touchscreen, in
 training mode until /etc/luka/luka.toml is given Vipps credentials. Its
 records (/var/lib/luka) are kept when the package is removed or purged.
CONTROL
  (cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) \
    >"$root/DEBIAN/md5sums"
  chmod 0644 "$root/DEBIAN/md5sums" "$root/DEBIAN/control"

  deb="$OUT/luka_${VERSION}_${arch}.deb"
  dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
  if [ "$LINTIAN" -eq 1 ]; then
    command -v lintian >/dev/null || { echo "package.sh: lintian is missing: run ./scripts/setup.sh" >&2; exit 1; }
    # Errors fail the build; warnings are printed (each is explained in debian/README.Debian).
    lintian --fail-on error "$deb" >&2
  fi
  printf '%s\t%s\n' "$deb" "$(du -h "$deb" | cut -f1)"
}

for arch in "${ARCHES[@]}"; do
  if [ -n "$BINARY" ]; then bin="$BINARY"; else bin="$(build "$arch")"; fi
  [ -x "$bin" ] || { echo "package.sh: no program at $bin" >&2; exit 1; }
  package "$arch" "$bin"
done
