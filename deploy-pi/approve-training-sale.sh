#!/usr/bin/env bash
# Plays the customer's phone for a headless training sale (`luka charge` in training
# prints the phone page's link on standard error): waits for the link to appear in
# ERRFILE, then approves the payment, over loopback only (the simulator listens on
# every address; no traffic leaves this machine). Used by build.sh's qemu proof and
# test-package.sh.
#
#   deploy-pi/approve-training-sale.sh ERRFILE [SECONDS]
#
# Exits 1, showing ERRFILE, if no link appears within SECONDS (default 120).
set -euo pipefail
err="${1:?usage: approve-training-sale.sh ERRFILE [SECONDS]}"
limit="${2:-120}"
phone=""
for _ in $(seq 1 $((limit * 5))); do
  phone="$(grep -o 'http://[^ ]*/phone/[^ ]*' "$err" 2>/dev/null | head -1 || true)"
  [ -n "$phone" ] && break
  sleep 0.2
done
if [ -z "$phone" ]; then
  echo "approve-training-sale: the training sale never showed its QR:" >&2
  cat "$err" >&2
  exit 1
fi
curl -fsS -o /dev/null -X POST "$(sed -E 's#^http://[^/]+:([0-9]+)/#http://127.0.0.1:\1/#' <<<"$phone")/approve"
