#!/usr/bin/env bash
# Runs every fuzz target in tests/fuzz for N seconds each (default 300), one
# after the other, at the lowest CPU priority, and prints a line per target:
# executions, coverage, corpus size and whether it found anything.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# libFuzzer needs unstable compiler flags; the stable toolchain allows them
# with RUSTC_BOOTSTRAP=1. The fuzz crate builds into its own target dir
# (FUZZ_TARGET_DIR; FUZZ_NO_BUILD=1 runs what is built). Crashes do not
# stop a run (fork mode); each leaves its input in tests/fuzz/artifacts/TARGET/:
# keep it as tests/fuzz/regressions/TARGET/<name> so `cargo test
# --test it fuzz_regressions::` replays it from then on.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-300}"
shift || true
all=(config vipps_dto report_wire poweroffice_dto money_parse printer_status journal_verify)
targets=("${@:-${all[@]}}")
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")
export RUSTC_BOOTSTRAP=1
target_dir="${FUZZ_TARGET_DIR:-$HOME/.cache/luka-fuzz-crate-target}"
if ! command -v cargo-fuzz >/dev/null; then
    cargo install cargo-fuzz --locked
fi
build=(--fuzz-dir tests/fuzz -O -a -s none --codegen-units 16 --target-dir "$target_dir")
[ -n "${FUZZ_NO_BUILD:-}" ] || nice -n 19 cargo fuzz build "${build[@]}"
bin="$target_dir/x86_64-unknown-linux-gnu/release"
logs="$target_dir/logs"
mkdir -p "$logs"
status=0
for t in "${targets[@]}"; do
    corpus="tests/fuzz/corpus/$t"
    artifacts="tests/fuzz/artifacts/$t"
    mkdir -p "$corpus" "$artifacts"
    dict=()
    [ -f "tests/fuzz/dict/$t.dict" ] && dict=("-dict=tests/fuzz/dict/$t.dict")
    set +e
    nice -n 19 "$bin/$t" "$corpus" "tests/fuzz/seeds/$t" "${dict[@]}" \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
        -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
        -artifact_prefix="$artifacts/" >"$logs/$t.log" 2>&1
    rc=$?
    set -e
    # Fork mode: the last "#N: cov: C ..." line has the totals.
    last=$(grep -E '^#[0-9]+' "$logs/$t.log" | tail -1)
    execs=$(echo "$last" | grep -oE '^#[0-9]+' | tr -d '#')
    cov=$(echo "$last" | grep -oE 'cov: [0-9]+' | grep -oE '[0-9]+')
    corp=$(find "$corpus" -type f | wc -l)
    found=$(find "$artifacts" -type f | wc -l)
    printf '%-16s %6ss  execs %-12s cov %-6s corpus %-6s findings %s%s\n' \
        "$t" "$secs" "$execs" "$cov" "$corp" "$found" "$([ $rc -ne 0 ] && echo "  (exit $rc, see $logs/$t.log)")"
    [ $rc -ne 0 ] && status=1
done
exit $status
