#!/usr/bin/env bash
# A/B of two engine trees on the peer-bench workload, interleaved in one sitting (issue 14): for each round,
# each tree's `npm run dev` runs 50 executions one at a time and N with C in flight; prints completed/s,
# p50s and CPU ms per execution of its process tree. Uses the kit in ../shared/peer-bench.
# usage: bench/ab-engine.sh <tree A> <tree B> [rounds=3] [N=500] [C=20]   (trees: checkouts with node_modules)
# A tree given as `floor` runs bench/floor instead: the same durable I/O per execution as the engine's
# two-action run (new object, watchdog alarm, a commit around each call, the D1 read and finish) without
# the engine, so `bench/ab-engine.sh . floor` shows how far the engine is above its design's floor.
set -uo pipefail
A=$1; B=$2; R=${3:-3}; N=${4:-500}; C=${5:-20}
KIT="$(cd "$(dirname "$0")/../../shared/peer-bench" && pwd)"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export WRANGLER_SEND_METRICS=false
W=$(mktemp -d)
port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
SINKP=$(port); SINK=http://127.0.0.1:$SINKP
setsid node "$KIT/sink.mjs" $SINKP > "$W/sink.log" 2>&1 < /dev/null & SINKPID=$!
trap 'kill $SINKPID 2>/dev/null; rm -rf "$W"' EXIT
one() { # one TREE LABEL
  local dir=$1 label=$2 P AP KEY S AD= bin
  P=$(port); AP=$(port); KEY=ab-$RANDOM$RANDOM
  local cmd='exec npm run dev -- --ip 127.0.0.1 --port '$P' --log-level warn --persist-to '"$W/state-$label-$RANDOM"' --var ADMIN_API_KEY:'$KEY' --var ALLOWED_OUTBOUND_HOSTS:127.0.0.1'
  if [ "$dir" = floor ]; then
    dir="$ROOT/bench/floor"; bin="$ROOT/node_modules/.bin"
    cmd='exec wrangler dev --ip 127.0.0.1 --port '$P' --log-level warn --persist-to '"$W/state-$label-$RANDOM"
  else
    bin="$dir/node_modules/.bin"
  fi
  (cd "$dir" && PATH="$bin:$PATH" setsid bash -c 'echo $$ > .ab.pid; '"$cmd" > "$W/$label.log" 2>&1 < /dev/null &)
  for i in $(seq 1 50); do [ -s "$dir/.ab.pid" ] && break; sleep 0.1; done
  S=$(cat "$dir/.ab.pid"); rm -f "$dir/.ab.pid"
  for i in $(seq 1 150); do curl -s -o /dev/null "http://127.0.0.1:$P/" && break; sleep 1; done
  if [ "$dir" = "$ROOT/bench/floor" ]; then
    curl -s -o /dev/null "http://127.0.0.1:$P/setup"; AP=$P # the floor Worker answers wf-bench's /create itself
  else
    setsid node "$KIT/adapter.mjs" http://127.0.0.1:$P $KEY $SINK $AP > "$W/adapter.log" 2>&1 < /dev/null & AD=$!
    for i in $(seq 1 40); do grep -q "adapter on" "$W/adapter.log" && break; sleep 0.5; done
  fi
  node "$KIT/wf-bench.mjs" --sink $SINK --create "http://127.0.0.1:$AP/create" --n 20 --c 5 > /dev/null
  local c1 cN c0 c9
  c1=$(node "$KIT/wf-bench.mjs" --sink $SINK --create "http://127.0.0.1:$AP/create" --n 50 --c 1)
  c0=$("$KIT/cpu.sh" "$S")
  cN=$(node "$KIT/wf-bench.mjs" --sink $SINK --create "http://127.0.0.1:$AP/create" --n $N --c $C --timeout 120)
  c9=$("$KIT/cpu.sh" "$S")
  node -e 'const [l,a,b,c0,c9]=process.argv.slice(1);const x=JSON.parse(a),y=JSON.parse(b);console.log(JSON.stringify({tree:l,c1_p50_ms:x.e2e_ms.p50,completed_per_s:y.completed_per_s,cN_p50_ms:y.e2e_ms.p50,completed:y.completed,cpu_ms_per_execution:Math.round(1000*(c9-c0)/y.completed)}))' "$label" "$c1" "$cN" "$c0" "$c9"
  [ -n "$AD" ] && kill $AD 2>/dev/null; kill -- -"$S" 2>/dev/null; sleep 1; kill -9 -- -"$S" 2>/dev/null; true
}
for r in $(seq 1 "$R"); do one "$A" A; one "$B" B; done
