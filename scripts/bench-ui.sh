#!/usr/bin/env bash
# The touchscreen's cost, measured the way a person would see it, next to Chromium showing a
# comparable static page at the same size (what a web-based till would run on the Pi).
#
#   scripts/bench-ui.sh [path/to/luka]      (default: target/release/luka)
#
# Both programs run under the same Xvfb screen (800x480) and are measured the same way:
#   first frame  - from exec to the first screenshot of the screen that is not blank
#                  (polled every ~30 ms with xwd: resolution is the poll interval)
#   memory       - PSS summed over the program's processes (smaps_rollup), in MiB
#   idle CPU     - CPU seconds used by the processes over 60 s doing nothing, as % of one core
# Luka is also measured after 10 sales (SALES=N for more) driven through the real UI with xdotool (approved on
# the simulator's admin endpoint, as a customer's phone would). Installs xvfb, x11-apps,
# xdotool and chromium when missing (not when `luka bench --all --ui` runs it: then it
# names them and stops). Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
luka=${1:-${CARGO_TARGET_DIR:-target}/release/luka}
[ -x "$luka" ] || { echo "build it first: cargo build --release" >&2; exit 2; }
need=()
command -v Xvfb >/dev/null || need+=(xvfb)
command -v xwd >/dev/null || need+=(x11-apps)
command -v xdotool >/dev/null || need+=(xdotool)
command -v chromium >/dev/null || need+=(chromium)
# ImageMagick by its Debian name: a `convert` earlier on PATH may be something else.
command -v convert-im6.q16 >/dev/null || need+=(imagemagick)
if [ ${#need[@]} -gt 0 ]; then
  # `luka bench --all --ui` runs this script and must not install software itself.
  if [ -n "${LUKA_BENCH_NO_INSTALL:-}" ]; then
    echo "bench-ui: missing ${need[*]}: install them (sudo apt-get install ${need[*]}) or run scripts/bench-ui.sh once" >&2
    exit 2
  fi
  apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi

work=$(mktemp -d)
disp=":$(( (RANDOM % 400) + 500 ))"
Xvfb "$disp" -screen 0 800x480x24 -nolisten tcp >/dev/null 2>&1 & xv=$!
cleanup() { pkill -P $$ 2>/dev/null || true; kill "$xv" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
export DISPLAY=$disp
sleep 1

now() { date +%s.%N; }
# Colours on screen: a blank X root is 1.
colours() { xwd -root -silent | convert-im6.q16 xwd:- -format '%k' info: 2>/dev/null || echo 1; }
first_frame() { # $1 = start time; waits until the screen shows more than 16 colours
  local t0=$1
  for _ in $(seq 1 600); do
    if [ "$(colours)" -gt 16 ]; then printf "%.2f\n" "$(echo "$(now) - $t0" | bc)"; return; fi
    sleep 0.03
  done
  echo "timeout"
}
tree() { # pid and all its descendants
  local p=$1; echo "$p"; for c in $(pgrep -P "$p" || true); do tree "$c"; done
}
pss_mib() {
  local total=0
  for p in $(tree "$1"); do
    v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
    total=$(( total + ${v:-0} ))
  done
  echo "scale=1; $total / 1024" | bc
}
cpu_ticks() {
  local total=0
  for p in $(tree "$1"); do
    v=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)
    total=$(( total + ${v:-0} ))
  done
  echo "$total"
}
idle_cpu() { # % of one core over 60 s
  local a b hz; hz=$(getconf CLK_TCK)
  a=$(cpu_ticks "$1"); sleep 60; b=$(cpu_ticks "$1")
  echo "scale=2; ($b - $a) * 100 / ($hz * 60)" | bc
}

# --- Luka -------------------------------------------------------------------
cat > "$work/luka.toml" <<TOML
[store]
path = "$work/luka-training.db"
[training]
listen = "127.0.0.1:18099"
[vipps]
poll_initial_delay_ms = 500
poll_interval_ms = 500
TOML
t0=$(now)
SLINT_BACKEND=winit-software "$luka" --config "$work/luka.toml" >/dev/null 2>"$work/luka.log" & lp=$!
luka_first=$(first_frame "$t0")
sleep 1
luka_pss_start=$(pss_mib $lp)
sale() {
  xdotool mousemove 78 153 click 1; sleep 0.3          # "Voksen"
  xdotool mousemove 624 366 click 1                    # "Betal med Vipps"
  local ref=""
  for _ in $(seq 1 50); do
    ref=$(curl -s http://127.0.0.1:18099/sim/payments \
      | python3 -c 'import sys,json; p=[x for x in json.load(sys.stdin) if x.get("state")=="CREATED"]; print(p[-1]["reference"] if p else "")')
    [ -n "$ref" ] && break; sleep 0.1
  done
  [ -n "$ref" ] || { echo "no payment was created" >&2; exit 1; }
  curl -s -X POST "http://127.0.0.1:18099/sim/payments/$ref/approve" >/dev/null
  sleep 2.5                                            # poll, capture, "Betalt"
  xdotool mousemove 400 300 click 1; sleep 0.5         # back to the sale
}
sales=${SALES:-10}
for _ in $(seq 1 "$sales"); do sale; done
paid=$(sqlite3 "$work/luka-training.db" "SELECT count(*) FROM sales WHERE status='paid'" 2>/dev/null \
  || python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT count(*) FROM sales WHERE status='paid'\").fetchone()[0])" "$work/luka-training.db")
luka_pss=$(pss_mib $lp)
luka_idle=$(idle_cpu $lp)
kill -TERM $lp; wait $lp || true

# --- Chromium with a comparable static page ------------------------------------
cat > "$work/sale.html" <<'HTML'
<!doctype html><meta charset="utf-8"><title>Luka</title>
<style>
body{margin:0;font:19px "DejaVu Sans",sans-serif;background:#eceef2;width:800px;height:480px;overflow:hidden}
.bar{height:48px;background:#111827;display:flex;gap:8px;padding:6px;box-sizing:border-box;align-items:center}
.bar span{border:2px solid #0b7a34;background:#e7f6ec;color:#0b7a34;border-radius:6px;padding:2px 8px;font-weight:700;font-size:15px}
.bar .t{background:#ffcc00;color:#000;border:0;padding:6px 12px}.bar .c{color:#fff;border:0;background:none;margin-left:auto;font-size:26px}
main{display:flex;gap:8px;padding:8px}.l{flex:1}.tabs{display:flex;gap:8px}.tabs b{flex:1;height:56px;border-radius:10px;background:#d9dde4;display:flex;align-items:center;justify-content:center}
.tabs b:first-child{background:#1d4ed8;color:#fff}.grid{display:grid;grid-template-columns:repeat(3,1fr);gap:8px;margin-top:8px}
.grid div{height:80px;border:2px solid #b9bec8;border-radius:10px;background:#fff;display:flex;flex-direction:column;align-items:center;justify-content:center;font-weight:700}
.grid small{font-weight:400;color:#3f4652;font-size:15px}.r{width:336px;background:#fff;border:1px solid #b9bec8;border-radius:10px;padding:10px;box-sizing:border-box;height:416px;display:flex;flex-direction:column;gap:8px}
.r h2{margin:0;font-size:26px}.tot{display:flex;justify-content:space-between;font-size:34px;font-weight:800;margin-top:auto}
.pay{height:64px;border-radius:10px;background:#ff5b24;color:#fff;font-size:26px;font-weight:700;display:flex;align-items:center;justify-content:center}
.cash{height:56px;border-radius:10px;background:#d9dde4;display:flex;align-items:center;justify-content:center;font-weight:700}
</style>
<div class="bar"><span class="t">TRENING</span><span>Vipps OK</span><span>Skriver klar</span><span>Alt sendt</span><span class="c">14:05</span></div>
<main><div class="l"><div class="tabs"><b>Varer</b><b>Beløp</b></div><div class="grid">
<div>Voksen<small>kr 150,00</small></div><div>Barn<small>kr 50,00</small></div><div>Kaffe<small>kr 30,00</small></div>
<div>Vaffel<small>kr 25,00</small></div><div>Brus<small>kr 35,00</small></div><div>Pølse i brød<small>kr 40,00</small></div>
<div>Klubbskjerf<small>kr 250,00</small></div></div></div>
<div class="r"><h2>Handlekurv</h2><p style="color:#3f4652;text-align:center">Trykk på en vare eller tast et beløp</p>
<div class="tot"><span style="font-size:26px">Totalt</span><span>kr 0,00</span></div><div class="pay">Betal med Vipps</div><div class="cash">Kontant</div></div></main>
HTML
sleep 1
t0=$(now)
chromium --no-sandbox --kiosk --window-size=800,480 --window-position=0,0 --no-first-run \
  --disable-gpu --user-data-dir="$work/chromium" "file://$work/sale.html" >/dev/null 2>&1 & cp=$!
chrome_first=$(first_frame "$t0")
sleep 3
chrome_pss=$(pss_mib $cp)
chrome_idle=$(idle_cpu $cp)
kill $cp; wait $cp 2>/dev/null || true

ratio() { echo "scale=1; $1 / $2" | bc 2>/dev/null || echo "-"; }
echo "| 800×480 under Xvfb | Luka (Slint, software renderer) | Chromium, static page | Chromium / Luka |"
echo "|---|---|---|---|"
echo "| start to first frame | ${luka_first} s | ${chrome_first} s | $(ratio "$chrome_first" "$luka_first")× |"
echo "| memory (PSS) at start | ${luka_pss_start} MiB | ${chrome_pss} MiB | $(ratio "$chrome_pss" "$luka_pss_start")× |"
echo "| memory (PSS) after $sales sales ($paid paid) | ${luka_pss} MiB | – | – |"
echo "| idle CPU over 60 s | ${luka_idle} % of a core | ${chrome_idle} % of a core | $(ratio "$chrome_idle" "$luka_idle")× |"
