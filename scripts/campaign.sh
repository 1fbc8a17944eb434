#!/usr/bin/env bash
# The long crash campaign of issue 8, in one command: the same test as the
# short one in scripts/test.sh (tests/it/campaign.rs), with 1,000 SIGKILLs by
# default, run at low priority. Its result table replaces the "Last long
# run" section of RELIABILITY.md (between the campaign markers), pass or fail.
#
#   scripts/campaign.sh                       # 1,000 kills over 3 tills
#   LUKA_CAMPAIGN_KILLS=5000 scripts/campaign.sh
#   LUKA_CAMPAIGN_SEED=42 LUKA_CAMPAIGN_TILLS=2 scripts/campaign.sh
#
# Everything runs on 127.0.0.1: the Vipps simulator, the printer simulators
# and the webhook receiver live in the test process.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC1091
if [ -f "$HOME/.cargo/env" ]; then . "$HOME/.cargo/env"; fi

export LUKA_CAMPAIGN_KILLS="${LUKA_CAMPAIGN_KILLS:-1000}"
target="${CARGO_TARGET_DIR:-target}"
mkdir -p "$target"
report="$target/campaign-report.md"
log="$target/campaign.log"
rm -f "$report"
export LUKA_CAMPAIGN_REPORT="$report"

echo "campaign: $LUKA_CAMPAIGN_KILLS kills; output in $log" >&2
started=$(date -u +"%Y-%m-%d %H:%M UTC")
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain -- src tests 2>/dev/null)" ]; then commit="$commit+changes"; fi
# Build first, then run the test binary itself: cargo's lock is not held for
# the whole run, and a rebuild cannot swap the binary under a running campaign
# unnoticed (the path is printed in the log).
exe=$(cargo test --test it --no-run --message-format=json 2>/dev/null |
    grep -o '"executable":"[^"]*"' | cut -d'"' -f4 | grep '/it-' | tail -n 1)
if [ -z "$exe" ]; then
    echo "campaign: the test did not build; run: cargo test --test it --no-run" >&2
    exit 2
fi
status=0
{
    echo "test binary: $exe"
    nice -n 10 "$exe" --exact campaign::random_sigkill_campaign --ignored --nocapture
} >"$log" 2>&1 || status=$?

if [ "$status" -eq 0 ]; then verdict="PASS"; else verdict="FAIL (exit $status, see $log)"; fi
cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)
section=$(mktemp)
{
    echo "<!-- campaign:begin -->"
    echo "Last long run: started $started, \`LUKA_CAMPAIGN_KILLS=$LUKA_CAMPAIGN_KILLS scripts/campaign.sh\`"
    echo "at commit $commit on $(uname -sm),"
    echo "$(nproc) cores${cpu:+ ($cpu)}, debug build: **$verdict**."
    echo
    if [ -s "$report" ]; then
        cat "$report"
    else
        echo "The test stopped before it could write its table; the end of $log:"
        echo
        echo '```'
        tail -n 30 "$log"
        echo '```'
    fi
    echo "<!-- campaign:end -->"
} >"$section"
if grep -q '<!-- campaign:begin -->' RELIABILITY.md; then
    awk -v f="$section" '
        /<!-- campaign:begin -->/ { while ((getline l < f) > 0) print l; skip = 1; next }
        /<!-- campaign:end -->/   { skip = 0; next }
        !skip { print }' RELIABILITY.md >RELIABILITY.md.new
    mv RELIABILITY.md.new RELIABILITY.md
else
    { echo; cat "$section"; } >>RELIABILITY.md
fi
rm -f "$section"
echo "campaign: $verdict (RELIABILITY.md updated)" >&2
exit "$status"
