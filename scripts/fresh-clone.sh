#!/usr/bin/env bash
# Proves the repository is the whole project: clones this repo's HEAD into an empty
# temporary folder with nothing beside it (none of the folders around this checkout) and runs the
# README's test command there. .ci/run does the same, so it cannot regress.
#
#   ./scripts/fresh-clone.sh
#
# Uncommitted changes are not in the clone. A warm build cache outside the clone
# (CARGO_TARGET_DIR) only makes it faster; without one it builds from scratch.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "$(git status --porcelain)" ]; then
  echo "fresh-clone: note: uncommitted changes are not part of the clone" >&2
fi
# Always the same emptied folder, not a new random one: cargo keys a package's build
# artifacts by its path, so a new path each run would leave another ~10 GB of test
# binaries in a shared CARGO_TARGET_DIR every time (it filled this machine's disk).
work="${TMPDIR:-/tmp}/luka-fresh-clone"
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
git clone -q --no-hardlinks "$(pwd)" "$work/luka"
if [ "$(ls -A "$work")" != "luka" ]; then
  echo "fresh-clone: $work should hold the clone alone" >&2
  exit 1
fi
echo "fresh-clone: testing $(git -C "$work/luka" rev-parse --short HEAD) in $work/luka (nothing beside it)"
cd "$work/luka"
./scripts/test.sh
