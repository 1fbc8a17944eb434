#!/usr/bin/env bash
# The till's memory through a long day, measured on the real window the way a volunteer
# uses it (issue 18).
#
#   scripts/bench-memory.sh [path/to/luka]      (default: $CARGO_TARGET_DIR/release/luka)
#
#   SALES=2000          sales tapped through the window (0: skip the sales run)
#   CASH_EVERY=3        every Nth sale is cash (the rest Vipps, approved as the customer)
#   ORGANIZER_EVERY=100 an organizer visit (PIN, overview, sales list scrolled) every N sales
#   SAMPLE_EVERY=100    RSS and PSS recorded every N sales
#   IDLE_MINUTES=60     a second, fresh `luka` left on the sale page this long (0: skip)
#   IDLE_SAMPLE_MINUTES=5
#   PORT=18111          the sales run's simulator port (the idle run uses PORT+1)
#
# Training mode under Xvfb at 800x480, like scripts/bench-ui.sh: taps are xdotool clicks;
# a Vipps sale is approved on the simulator's admin endpoint (what the customer's phone
# does), by the reference the till wrote to its database (read with sqlite3, which reads
# beside the till). Nothing polls the simulator's payment list, so the benchmark itself
# adds nothing to the simulator but the sales. Each sale is waited for in the database
# ("paid") before the next tap, so a stuck screen fails the run instead of skewing it.
#
# RSS is VmRSS; PSS is smaps_rollup's Pss (shared pages divided by their users), both in
# MiB. Prints Markdown tables; growth is measured from the first sample after warm-up
# (after SAMPLE_EVERY sales; after the first idle minute).
set -euo pipefail
cd "$(dirname "$0")/.."
luka=${1:-${CARGO_TARGET_DIR:-target}/release/luka}
[ -x "$luka" ] || { echo "build it first: cargo build --release" >&2; exit 2; }
sales=${SALES:-2000}
cash_every=${CASH_EVERY:-3}
organizer_every=${ORGANIZER_EVERY:-100}
sample_every=${SAMPLE_EVERY:-100}
idle_minutes=${IDLE_MINUTES:-60}
idle_sample=${IDLE_SAMPLE_MINUTES:-5}
port=${PORT:-18111}
need=()
command -v Xvfb >/dev/null || need+=(xvfb)
command -v xdotool >/dev/null || need+=(xdotool)
command -v xwd >/dev/null || need+=(x11-apps)
command -v sqlite3 >/dev/null || need+=(sqlite3)
command -v convert-im6.q16 >/dev/null || need+=(imagemagick)
if [ ${#need[@]} -gt 0 ]; then apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null; fi

work=$(mktemp -d)
pids=()
# shellcheck disable=SC2317  # called by the trap
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

rss_mib() { awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
pss_mib() { awk '/^Pss:/ {printf "%.1f", $2 / 1024}' "/proc/$1/smaps_rollup"; }
minus() { echo "$1 - $2" | bc | sed 's/^\./0./; s/^-\./-0./'; }

# start_till NAME PORT: a fresh training till on its own Xvfb screen; sets $disp, $lp, $db.
start_till() {
  local name=$1 port=$2
  mkdir -p "$work/$name"
  db="$work/$name/luka-training.db"
  disp=":$(( (RANDOM % 400) + 500 ))"
  Xvfb "$disp" -screen 0 800x480x24 -nolisten tcp >/dev/null 2>&1 & pids+=("$!")
  sleep 1
  cat > "$work/$name/luka.toml" <<TOML
[store]
path = "$db"
[training]
listen = "127.0.0.1:$port"
[vipps]
poll_initial_delay_ms = 500
poll_interval_ms = 500
TOML
  DISPLAY=$disp SLINT_BACKEND=winit-software "$luka" --config "$work/$name/luka.toml" \
    >/dev/null 2>"$work/$name/luka.log" & lp=$!; pids+=("$lp")
  # Until the window is drawn (a blank X root is one colour), then a moment to settle.
  for _ in $(seq 1 300); do
    [ "$(DISPLAY=$disp xwd -root -silent | convert-im6.q16 xwd:- -format '%k' info: 2>/dev/null || echo 1)" -gt 16 ] && break
    sleep 0.2
  done
  sleep 3
}

# --- a day of sales -----------------------------------------------------------
sales_run() {
  start_till day "$port"
  local sim=http://127.0.0.1:$port
  export DISPLAY=$disp
  tap() { xdotool mousemove "$1" "$2" click 1; sleep "${3:-0.15}"; }
  q() { sqlite3 -cmd ".timeout 2000" "$db" "$1"; }
  last_id() { q "SELECT coalesce(max(id), 0) FROM sales"; }
  fail() {
    xwd -root -silent | convert-im6.q16 xwd:- "$work/stuck.png" 2>/dev/null || true
    KEEP=1; echo "sale $1: $2 (screen in $work/stuck.png, log in $work/day/luka.log)" >&2; exit 1
  }
  # wait_paid ID N: waits until sale ID is paid (N tenths of a second at most).
  wait_paid() {
    for _ in $(seq 1 "$2"); do
      [ "$(q "SELECT status FROM sales WHERE id = $1")" = paid ] && return 0; sleep 0.1
    done
    return 1
  }
  # new_sale BEFORE: the id of the sale written after BEFORE.
  new_sale() {
    local id
    for _ in $(seq 1 100); do
      id=$(last_id); [ "$id" -gt "$1" ] && { echo "$id"; return; }; sleep 0.05
    done
    echo 0
  }
  vipps_sale() {
    local before id ref code
    before=$(last_id)
    tap 78 153                       # "Voksen"
    tap 624 366 0                    # "Betal med Vipps"
    id=$(new_sale "$before"); [ "$id" -gt 0 ] || fail "$1" "no sale was written"
    ref=$(q "SELECT reference FROM sales WHERE id = $id")
    for _ in $(seq 1 100); do        # until the outbox has created the payment
      code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$sim/sim/payments/$ref/approve")
      [ "${code:0:1}" = 2 ] && break; sleep 0.1
    done
    [ "${code:0:1}" = 2 ] || fail "$1" "could not approve $ref ($code)"
    wait_paid "$id" 150 || fail "$1" "$ref was never paid"
    sleep 0.3; tap 400 300 0.3       # "Betalt": tap back to the sale
  }
  cash_sale() {
    local before id
    before=$(last_id)
    tap 78 153                       # "Voksen"
    tap 624 434 0.4                  # "Kontant"
    tap 400 167 0.2                  # "Gitt akkurat"
    tap 569 365 0                    # "Fullfør kontantsalg"
    id=$(new_sale "$before"); [ "$id" -gt 0 ] || fail "$1" "no cash sale was written"
    wait_paid "$id" 100 || fail "$1" "cash sale $id was never paid"
    sleep 0.3; tap 400 300 0.3
  }
  organizer_visit() {
    tap 738 23 0.5                   # "Arrangør"
    tap 512 111; tap 622 111; tap 732 111; tap 512 213   # 1 2 3 4
    tap 512 416 2                    # OK: PIN check, then the overview
    tap 241 84 1.5                   # "Salg": today's sales
    for _ in 1 2 3 4 5 6 7 8; do xdotool mousemove 400 300 click 5; sleep 0.05; done
    sleep 0.5
    tap 83 84 0.5                    # "Oversikt"
    tap 716 84 0.5                   # "Lukk"
  }
  local rows=() base_rss="" base_pss="" t0 n rss pss
  t0=$(date +%s)
  rows+=("| 0 | $(rss_mib "$lp") | $(pss_mib "$lp") | – | – | 0 s |")
  for n in $(seq 1 "$sales"); do
    if [ $((n % cash_every)) -eq 0 ]; then cash_sale "$n"; else vipps_sale "$n"; fi
    if [ $((n % organizer_every)) -eq 0 ]; then organizer_visit; fi
    if [ $((n % sample_every)) -eq 0 ] || [ "$n" -eq "$sales" ]; then
      sleep 1
      rss=$(rss_mib "$lp"); pss=$(pss_mib "$lp")
      if [ -z "$base_rss" ]; then base_rss=$rss; base_pss=$pss; fi
      rows+=("| $n | $rss | $pss | $(minus "$rss" "$base_rss") | $(minus "$pss" "$base_pss") | $(( $(date +%s) - t0 )) s |")
      echo "${rows[-1]}" >&2
    fi
  done
  local paid vipps cash
  paid=$(q "SELECT count(*) FROM sales WHERE status = 'paid'")
  vipps=$(q "SELECT count(*) FROM sales WHERE status = 'paid' AND method = 'vipps'")
  cash=$(q "SELECT count(*) FROM sales WHERE status = 'paid' AND method = 'cash'")
  echo
  echo "Sales run: $sales sales ($paid paid: $vipps Vipps, $cash cash), an organizer visit every $organizer_every"
  echo
  echo "| sales | RSS MiB | PSS MiB | RSS since $sample_every | PSS since $sample_every | elapsed |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  kill -TERM "$lp"; wait "$lp" || true
}

# --- left idle on the sale page -------------------------------------------------
idle_run() {
  start_till idle $((port + 1))
  local rows=() base_rss base_pss m rss pss
  rows+=("| 0 | $(rss_mib "$lp") | $(pss_mib "$lp") | – | – |")
  sleep 60
  base_rss=$(rss_mib "$lp"); base_pss=$(pss_mib "$lp")
  rows+=("| 1 | $base_rss | $base_pss | 0 | 0 |")
  for m in $(seq 2 "$idle_minutes"); do
    sleep 60
    if [ $((m % idle_sample)) -eq 0 ] || [ "$m" -eq "$idle_minutes" ]; then
      rss=$(rss_mib "$lp"); pss=$(pss_mib "$lp")
      rows+=("| $m | $rss | $pss | $(minus "$rss" "$base_rss") | $(minus "$pss" "$base_pss") |")
      echo "${rows[-1]}" >&2
    fi
  done
  echo
  echo "Idle run: $idle_minutes minutes on the sale page"
  echo
  echo "| minutes | RSS MiB | PSS MiB | RSS since 1 min | PSS since 1 min |"
  echo "|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  kill -TERM "$lp"; wait "$lp" || true
}

echo "luka $("$luka" --version 2>/dev/null | head -1 || echo "?"), $(nproc) cores, $(uname -m)"
[ "$sales" -gt 0 ] && sales_run
[ "$idle_minutes" -gt 0 ] && idle_run
exit 0
