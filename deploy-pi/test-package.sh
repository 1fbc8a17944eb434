#!/usr/bin/env bash
# A real install, upgrade, removal and purge of the amd64 package, in a throwaway
# Debian 12 root (debootstrap minbase + chroot), without touching this machine's own
# system. Run as root. Slow (a release build the first time, then about two minutes),
# so it is not in scripts/test.sh; .ci/run runs it after the tests.
#
#   ./deploy-pi/test-package.sh
#
# Checks, in order:
#   1. install: apt resolves the dependencies; the user, groups, folders and their
#      modes; the first /etc/luka/luka.toml is training; the service is enabled;
#      a headless training sale run as the `luka` user in the root is paid (so the
#      database and the journal key exist);
#   2. upgrade to a newer version: the program is replaced; config, environment,
#      secrets, database and journal key are byte for byte the same; a secret left
#      readable by others is made 0600;
#   3. remove: the program is gone; config, secrets, database and key stay;
#   4. purge: asks nothing; the database, the key, the edited config and the
#      secrets stay, and it says so; a purge with untouched templates removes them.
# The debootstrap root is cached in ~/.cache/luka (a warm cache, never required).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
cd "$REPO"
# shellcheck disable=SC1091
if [ -f "$HOME/.cargo/env" ]; then . "$HOME/.cargo/env"; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "test-package.sh: run it as root (debootstrap and chroot need it)" >&2
  exit 1
fi

t0=$(date +%s.%N)
since() { printf '%.1f' "$(echo "$(date +%s.%N) - $1" | bc)"; }
step() { printf '\n== %s\n' "$*"; }
fail() { echo "test-package.sh: FAILED: $*" >&2; exit 1; }
quiet() { # runs a command with its output in a log shown only on failure
  local log; log="$(mktemp)"
  if ! "$@" >"$log" 2>&1; then cat "$log" >&2; rm -f "$log"; fail "$*"; fi
  rm -f "$log"
}

need=()
for p in debootstrap dpkg-dev lintian binutils bc curl file; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  quiet apt-get -o DPkg::Lock::Timeout=600 update -q
  quiet env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q "${need[@]}"
fi

work="$(mktemp -d)"
root="$work/root"
mounted=()
sale=""
cleanup() {
  if [ -n "$sale" ]; then kill "$sale" 2>/dev/null || true; fi
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
  # Never delete through a mount that is still there (the root binds the host's /dev).
  if grep -q " $work/" /proc/mounts; then
    echo "test-package.sh: $work still has mounts; not deleting it" >&2
  else
    rm -rf --one-file-system "$work"
  fi
}
trap cleanup EXIT

# --- the packages -----------------------------------------------------------------
step "building the amd64 package (release)"
tb=$(date +%s.%N)
V1="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)"
V2="${V1}+upgradetest1"
"$HERE/package.sh" --arch amd64 --out "$work/debs" | tee "$work/built"
BIN="${CARGO_TARGET_DIR:-$REPO/target}/release/luka"
"$HERE/package.sh" --arch amd64 --binary "$BIN" --version "$V2" --out "$work/debs" --no-lintian >/dev/null
build_secs=$(since "$tb")
deb1="$work/debs/luka_${V1}_amd64.deb"
deb2="$work/debs/luka_${V2}_amd64.deb"
if [ ! -f "$deb1" ] || [ ! -f "$deb2" ]; then fail "the packages were not built"; fi
# The crash tests' fail points (cargo feature "failpoints") never ship.
dpkg-deb -x "$deb1" "$work/unpacked"
if grep -qa FAILPOINTS "$work/unpacked/usr/bin/luka"; then
  fail "the packaged luka has the crash tests' fail points compiled in"
fi

# --- the throwaway root -----------------------------------------------------------
step "a throwaway Debian 12 root (debootstrap --variant=minbase bookworm)"
tr0=$(date +%s.%N)
cache="$HOME/.cache/luka/bookworm-minbase.tar"
if [ -f "$cache" ] && [ -n "$(find "$cache" -mtime -30)" ]; then
  mkdir -p "$root" && tar -C "$root" -xf "$cache"
  echo "from the cache ($cache)"
else
  quiet debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian
  mkdir -p "$(dirname "$cache")" && tar -C "$root" -cf "$cache" .
fi
root_secs=$(since "$tr0")
cp /etc/resolv.conf "$root/etc/resolv.conf"
for m in proc dev; do
  mount --bind "/$m" "$root/$m"
  mounted+=("$root/$m")
done
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
apt_in_root() {
  quiet in_root env DEBIAN_FRONTEND=noninteractive apt-get -o Dpkg::Options::=--force-confold -y -q "$@"
}
apt_in_root update
cp "$deb1" "$deb2" "$root/tmp/"

check_mode() { # PATH MODE OWNER:GROUP
  local got
  # stat inside the root: user and group names are the root's, not this machine's
  got="$(in_root stat -c '%a %U:%G' "$1" 2>/dev/null)" || fail "$1 is missing"
  [ "$got" = "$2 $3" ] || fail "$1 is $got, expected $2 $3"
}
sum() { sha256sum "$root$1" | cut -d' ' -f1; }

# --- 1. install ---------------------------------------------------------------
step "1. apt install ./luka_${V1}_amd64.deb"
ti=$(date +%s.%N)
apt_in_root install "/tmp/$(basename "$deb1")"
install_secs=$(since "$ti")
[ "$(in_root dpkg-query -W -f="\${Status} \${Version}" luka)" = "install ok installed $V1" ] ||
  fail "dpkg does not list luka $V1 as installed"
in_root luka --version | grep -q "luka $V1" || fail "luka --version does not say $V1"
groups="$(in_root id -nG luka)"
for g in luka video render input gpio lp dialout; do
  grep -qw "$g" <<<"$groups" || fail "the luka user is not in $g (it is in: $groups)"
done
[ "$(in_root getent passwd luka | cut -d: -f6,7)" = "/var/lib/luka:/usr/sbin/nologin" ] ||
  fail "the luka user's home or shell is wrong: $(in_root getent passwd luka)"
check_mode /etc/luka 750 root:luka
check_mode /etc/luka/secrets 700 luka:luka
check_mode /var/lib/luka 750 luka:luka
check_mode /etc/luka/luka.toml 640 root:luka
check_mode /etc/luka/environment 640 root:luka
check_mode /usr/bin/luka 755 root:root
cmp -s "$root/etc/luka/luka.toml" "$HERE/luka.toml.example" || fail "the first luka.toml is not the example"
[ -L "$root/etc/systemd/system/multi-user.target.wants/luka.service" ] ||
  fail "luka.service is not enabled (no multi-user.target.wants link)"
echo "installed in ${install_secs} s; user, groups, folders and service ok"

step "1b. a headless training sale as the luka user, inside the root"
printf '' >"$work/err.txt"
(
  rc=0
  chroot "$root" env -i PATH=/usr/bin:/bin HOME=/var/lib/luka \
    setpriv --reuid=luka --regid=luka --init-groups \
    sh -c 'cd /var/lib/luka && exec luka --config /etc/luka/luka.toml charge 150 --timeout 120' \
    >"$work/out.json" 2>"$work/err.txt" || rc=$?
  echo "$rc" >"$work/rc"
) &
sale=$!
"$HERE/approve-training-sale.sh" "$work/err.txt" 60 || fail "the training sale never showed its QR"
wait "$sale"
sale=""
if ! grep -q '"state":"paid"' "$work/out.json" || [ "$(cat "$work/rc")" != 0 ]; then
  cat "$work/err.txt" >&2
  fail "the training sale did not end paid: $(cat "$work/out.json")"
fi
echo "paid: $(cat "$work/out.json")"
db=/var/lib/luka/luka-training.db
key=/var/lib/luka/luka-training.journal-key.pem
check_mode "$key" 600 luka:luka
[ -f "$root$db" ] || fail "no training database at $db"

# The admin's changes, which every later step must keep.
printf '\n# the admin was here\n' >>"$root/etc/luka/luka.toml"
printf 'not-a-real-secret' >"$root/etc/luka/secrets/vipps-client-secret"
chmod 0644 "$root/etc/luka/secrets/vipps-client-secret"
in_root chown luka:luka /etc/luka/secrets/vipps-client-secret
before_db="$(sum "$db")"; before_key="$(sum "$key")"
before_conf="$(sum /etc/luka/luka.toml)"; before_env="$(sum /etc/luka/environment)"
before_secret="$(sum /etc/luka/secrets/vipps-client-secret)"
kept() { # what every step after install must leave as it was
  [ "$(sum "$db")" = "$before_db" ] || fail "$1 changed the database"
  [ "$(sum "$key")" = "$before_key" ] || fail "$1 changed the journal key"
  [ "$(sum /etc/luka/luka.toml)" = "$before_conf" ] || fail "$1 changed /etc/luka/luka.toml"
  [ "$(sum /etc/luka/secrets/vipps-client-secret)" = "$before_secret" ] || fail "$1 changed the secret"
}

# --- 2. upgrade -------------------------------------------------------------------
step "2. upgrade to $V2"
tu=$(date +%s.%N)
apt_in_root install "/tmp/$(basename "$deb2")"
upgrade_secs=$(since "$tu")
[ "$(in_root dpkg-query -W -f="\${Version}" luka)" = "$V2" ] || fail "the upgrade did not install $V2"
kept "the upgrade"
[ "$(sum /etc/luka/environment)" = "$before_env" ] || fail "the upgrade changed /etc/luka/environment"
check_mode /etc/luka/secrets/vipps-client-secret 600 luka:luka
[ -L "$root/etc/systemd/system/multi-user.target.wants/luka.service" ] || fail "the upgrade disabled the service"
echo "upgraded in ${upgrade_secs} s; config, environment, secrets, database and key unchanged"

# --- 3. remove --------------------------------------------------------------------
step "3. apt remove luka"
apt_in_root remove luka
[ ! -e "$root/usr/bin/luka" ] || fail "remove left /usr/bin/luka"
kept "remove"
[ -f "$root/etc/luka/environment" ] || fail "remove deleted /etc/luka/environment"
echo "removed; config, secrets, database and key kept"

# --- 4. purge ---------------------------------------------------------------------
step "4. dpkg --purge luka (edited config)"
in_root dpkg --purge luka >"$work/purge.txt" 2>&1 </dev/null || { cat "$work/purge.txt"; fail "purge failed"; }
kept "purge"
[ ! -e "$root/etc/luka/environment" ] || fail "purge kept the untouched /etc/luka/environment"
grep -q "kept /var/lib/luka" "$work/purge.txt" || fail "purge did not say it kept /var/lib/luka: $(cat "$work/purge.txt")"
grep -q "kept /etc/luka" "$work/purge.txt" || fail "purge did not say it kept /etc/luka"
echo "purged; database, key, edited config and secret kept, untouched environment removed"

step "4b. install again, then purge with untouched templates"
apt_in_root install "/tmp/$(basename "$deb2")"
kept "a reinstall"
cp "$HERE/luka.toml.example" "$root/etc/luka/luka.toml"
rm -f "$root/etc/luka/secrets/vipps-client-secret"
in_root dpkg --purge luka >"$work/purge.txt" 2>&1 </dev/null || { cat "$work/purge.txt"; fail "purge failed"; }
[ ! -e "$root/etc/luka" ] || fail "purge left /etc/luka although nothing in it was changed: $(ls -la "$root/etc/luka")"
if [ "$(sum "$db")" != "$before_db" ] || [ "$(sum "$key")" != "$before_key" ]; then
  fail "the second purge touched the database or the key"
fi
echo "purged; untouched config removed, /var/lib/luka kept"

echo
echo "test-package.sh: ok. package build ${build_secs} s, Debian root ${root_secs} s," \
  "install ${install_secs} s, upgrade ${upgrade_secs} s, all $(since "$t0") s"
cat "$work/built"
