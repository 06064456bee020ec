#!/usr/bin/env bash
# Every row of the performance table of docs/benchmarks.md in one run, on LOOPBACK ONLY:
#
#   1. `check --format json` / the YAML-parse floor (2 threads), 10k Canaries   (paired runs)
#   2. `check` human report (the default) / the floor, 10k                       (paired runs)
#   3. peak RSS at 10k / the floor's peak RSS
#   4. peak RSS at 100k (336 MB of YAML; skipped with QUICK=1)
#   5. LSP: change -> diagnostics, a 3,138-line file alone in its workspace
#   6. LSP: the same edit in the 501-file workspace of the 10k corpus
#   7. webhook HTTPS c=64 throughput / the bare axum+rustls echo (alternating runs)
#   8. webhook p99 / echo p99 at c=64 (the same runs)
#   9. webhook RSS with 10k Gateways + 10k Deployments watched (--context), after c=64
#
#   scripts/bench-all.sh              # full: 5 pairs, 10 s wrk runs, 100k corpus   (~25 min)
#   QUICK=1 scripts/bench-all.sh      # 3 pairs, 3 s wrk runs, no 100k corpus       (~5 min)
#
# Needs a release build (cargo build --release -p canarylint-cli), and the benchmark kit
# ($KIT, default ../shared/bench) set up by its setup.sh (yamlfloor, webhook-echo, cert, the
# AdmissionReview body), wrk, curl and python3. Every load is bounded in time (wrk -d, and a
# `timeout` around every command) and in requests (MAX_REQUESTS per wrk thread). Servers
# listen on 127.0.0.1 only. Results: JSON lines in $WORK/results/bench-all.jsonl and a
# markdown table on stdout (also in $WORK/results/bench-all-<time>.md).
#
# Environment: CL (the binary), WORK (default /tmp/canarylint-bench), KIT, PAIRS, WRK_SECONDS,
# MAX_REQUESTS (per wrk thread, default 2,000,000), LSP_CHANGES, PORT (default 18643).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
KIT="${KIT:-$(cd ../shared/bench 2>/dev/null && pwd || echo /work/shared/bench)}"
WORK="${WORK:-/tmp/canarylint-bench}"
CL="${CL:-$REPO/target/release/canarylint}"
QUICK="${QUICK:-}"
if [ -n "$QUICK" ]; then
  PAIRS="${PAIRS:-3}" WRK_SECONDS="${WRK_SECONDS:-3}" LSP_CHANGES="${LSP_CHANGES:-10}"
else
  PAIRS="${PAIRS:-5}" WRK_SECONDS="${WRK_SECONDS:-10}" LSP_CHANGES="${LSP_CHANGES:-30}"
fi
export MAX_REQUESTS="${MAX_REQUESTS:-2000000}"
PORT="${PORT:-18643}"
F="$WORK/target/release/yamlfloor"
ECHO="$WORK/target/release/webhook-echo"
RES="$WORK/results"
OUT="$RES/bench-all.jsonl"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
MD="$RES/bench-all-$STAMP.md"
mkdir -p "$RES"

for tool in wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "bench-all: $tool is needed" >&2; exit 2; }
done
[ -x "$CL" ] || { echo "bench-all: build first: cargo build --release -p canarylint-cli" >&2; exit 2; }
[ -x "$F" ] && [ -x "$ECHO" ] && [ -f "$WORK/admission.json" ] || WORK="$WORK" bash "$KIT/setup.sh"

D10="$WORK/corpus/10000"
[ -d "$D10/multi" ] || python3 "$KIT/gen_corpus.py" --size 10000 --seed 42 --out "$D10" >/dev/null

note() { printf '%s\n' "$*" | tee -a "$MD"; }
rb() { timeout 1800 python3 "$KIT/run_bench.py" --warmup 1 --out "$OUT" "$@"; }
# The last JSON line of $OUT, one field.
last() { tail -1 "$OUT" | python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

note "# bench-all $STAMP ($(git rev-parse --short HEAD 2>/dev/null || echo '?'), load $(cut -d' ' -f1-3 /proc/loadavg))"
note ""
note "| row | measured | goal |"
note "|---|---|---|"

# --- 1-3: the CLI on 10k --------------------------------------------------------------
rb --runs "$PAIRS" --size 10000 --label "bench-all: json / floor t2" \
   --vs "$F saphyr-marked 2 $D10/multi" -- "$CL" check --format json --output /dev/null "$D10/multi"
json_ratio=$(last '["ratio_median"]') json_range="$(last '["ratio_min"]')–$(last '["ratio_max"]')"
json_rss=$(last '["peak_rss_mb"]') json_wall=$(last '["wall_median_s"]')
rb --runs "$PAIRS" --size 10000 --label "bench-all: human / floor t2" \
   --vs "$F saphyr-marked 2 $D10/multi" -- "$CL" check "$D10/multi"
human_ratio=$(last '["ratio_median"]') human_range="$(last '["ratio_min"]')–$(last '["ratio_max"]')"
human_wall=$(last '["wall_median_s"]') human_rss=$(last '["peak_rss_mb"]')
rb --runs 1 --warmup 0 --size 10000 --label "bench-all: floor t2 alone (RSS)" -- "$F" saphyr-marked 2 "$D10/multi"
floor_rss=$(last '["peak_rss_mb"]')
lines=$("$CL" check "$D10/multi" 2>/dev/null | wc -l || true)
note "| \`check --format json\` / floor, 10k | **${json_ratio}×** ($json_range, $PAIRS pairs; ${json_wall} s) | ≤ 1.2× |"
note "| \`check\` human / floor, 10k | **${human_ratio}×** ($human_range, $PAIRS pairs; ${human_wall} s, $lines lines) | ≤ 1.5× |"
note "| peak RSS at 10k / floor's $floor_rss MB | **$(python3 -c "print(f'{max($json_rss,$human_rss)/$floor_rss:.1f}')")×** (json $json_rss MB, human $human_rss MB) | ≤ 2× |"

# --- 4: 100k ------------------------------------------------------------------------------
if [ -z "$QUICK" ]; then
  D100="$WORK/corpus/100000"
  [ -d "$D100/multi" ] || python3 "$KIT/gen_corpus.py" --size 100000 --seed 42 --out "$D100" >/dev/null
  rb --runs 1 --size 100000 --label "bench-all: json 100k (RSS)" -- \
     "$CL" check --format json --output /dev/null "$D100/multi"
  note "| peak RSS at 100k | **$(last '["peak_rss_mb"]') MB** ($(last '["wall_median_s"]') s) | ≤ 400 MB |"
else
  note "| peak RSS at 100k | not run (QUICK) | ≤ 400 MB |"
fi

# --- 5-6: the language server ------------------------------------------------------------
ONE="$WORK/lsp-one"
mkdir -p "$ONE" && cp "$D10/multi/apps-00002.yaml" "$ONE/"
for ws in one all; do
  if [ "$ws" = one ]; then root="$ONE"; else root="$D10/multi"; fi
  timeout 900 python3 scripts/lsp-latency.py --server "$CL" --root "$root" \
    --file "$root/apps-00002.yaml" --changes "$LSP_CHANGES" --label "lsp $ws" --json "$RES/lsp.jsonl" \
    || echo '{"work_after_debounce_ms":{"median":"failed","p90":"-"},"change_to_diagnostics_ms":{"median":"-"},"workspace_files":"?"}' >>"$RES/lsp.jsonl"
  read -r med p90 whole files < <(tail -1 "$RES/lsp.jsonl" | python3 -c "import json,sys; d=json.load(sys.stdin); print(d['work_after_debounce_ms']['median'], d['work_after_debounce_ms']['p90'], d['change_to_diagnostics_ms']['median'], d['workspace_files'])")
  note "| LSP change → diagnostics after the 150 ms debounce, 3,138-line file, workspace of $files files | **$med ms** (p90 $p90; $whole ms whole; $LSP_CHANGES changes) | ≤ 10 ms |"
done

# --- 7-9: the webhook -----------------------------------------------------------------------
ADDR="127.0.0.1:$PORT"
SPID=""
stop() {
  if [ -n "$SPID" ]; then kill "$SPID" 2>/dev/null || true; wait "$SPID" 2>/dev/null || true; fi
  SPID=""
}
trap stop EXIT
start() { # start <name> <command...>: in the background, until /readyz says ready (the echo: 404)
  "${@:2}" >"$RES/server-$1.log" 2>&1 &
  SPID=$!
  for _ in $(seq 1 600); do
    case "$(curl -sk -o /dev/null -w '%{http_code}' "https://$ADDR/readyz" || true)" in
      200 | 404 | 405) return 0 ;;
    esac
    kill -0 "$SPID" 2>/dev/null || { echo "bench-all: $1 exited" >&2; cat "$RES/server-$1.log" >&2; return 1; }
    sleep 0.1
  done
  echo "bench-all: $1 not ready" >&2; return 1
}
load() { # load <c> <seconds>: one wrk run, its JSON line
  BODY_FILE="$WORK/admission.json" WRK_PATH=/validate timeout $(($2 + 30)) \
    wrk -t1 -c"$1" -d"$2"s --timeout 5s -s scripts/bench-post.lua "https://$ADDR" | sed -n 's/^WRKJSON //p'
}
hwm() { grep -E '^VmHWM' "/proc/$SPID/status" | awk '{printf "%.1f", $2/1024}'; }
rss() { grep -E '^VmRSS' "/proc/$SPID/status" | awk '{printf "%.1f", $2/1024}'; }

: >"$RES/webhook-pairs.jsonl"
for i in $(seq 1 "$PAIRS"); do
  start canarylint env RUST_LOG=info "$CL" serve --listen "$ADDR" --tls-cert "$WORK/cert.pem" \
    --tls-key "$WORK/key.pem" --no-cluster
  load 64 1 >/dev/null
  a=$(load 64 "$WRK_SECONDS"); a_rss=$(hwm); stop
  start echo "$ECHO" --https "$ADDR" --cert "$WORK/cert.pem" --key "$WORK/key.pem"
  load 64 1 >/dev/null
  b=$(load 64 "$WRK_SECONDS"); b_rss=$(hwm); stop
  echo "{\"pair\":$i,\"canarylint\":$a,\"canarylint_hwm_mb\":$a_rss,\"echo\":$b,\"echo_hwm_mb\":$b_rss}" >>"$RES/webhook-pairs.jsonl"
done
read -r tput tput_range p99 p99_range errs < <(python3 - "$RES/webhook-pairs.jsonl" <<'PY'
import json, statistics, sys
ps = [json.loads(l) for l in open(sys.argv[1])]
t = [p["canarylint"]["rps"] / p["echo"]["rps"] for p in ps]
q = [p["canarylint"]["p99_ms"] / p["echo"]["p99_ms"] for p in ps]
e = sum(p[s]["errors"] + p[s]["non2xx"] for p in ps for s in ("canarylint", "echo"))
print(f"{statistics.median(t):.2f} {min(t):.2f}–{max(t):.2f} {statistics.median(q):.2f} {min(q):.2f}–{max(q):.2f} {e}")
PY
)
note "| webhook HTTPS c=64 throughput / echo | **$tput** ($tput_range, $PAIRS alternating ${WRK_SECONDS} s pairs; $errs errors) | ≥ 0.8 |"
note "| webhook p99 / echo p99, c=64 | **$p99** ($p99_range) | ≤ 1.2× |"

CTX="$WORK/ctx10k"
if [ ! -f "$CTX/gateways.yaml" ]; then
  mkdir -p "$CTX"
  python3 - "$D10/multi" "$CTX" <<'PY'
import glob, sys
src, out = sys.argv[1], sys.argv[2]
with open(f"{out}/deployments.yaml", "w") as deps:
    for f in sorted(glob.glob(f"{src}/apps-*.yaml")):
        for doc in open(f).read().split("\n---\n"):
            if "\nkind: Deployment\n" in "\n" + doc:
                deps.write(doc.strip("-\n") + "\n---\n")
gws = open(f"{src}/gateways.yaml").read()
with open(f"{out}/gateways.yaml", "w") as o:
    o.write(gws.rstrip("\n") + "\n---\n")
    for i in range(10000 - gws.count("kind: Gateway")):
        ns = f"edge-{i // 20:04d}"
        o.write(f"""apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: gw-{i:05d}
  namespace: {ns}
spec:
  selector:
    istio: ingressgateway
  servers:
  - port:
      number: 80
      name: http
      protocol: HTTP
    hosts:
    - "*.gw-{i:05d}.{ns}.example.com"
    - "api.gw-{i:05d}.example.com"
  - port:
      number: 443
      name: https
      protocol: HTTPS
    tls:
      mode: SIMPLE
      credentialName: gw-{i:05d}-cert
    hosts:
    - "*.gw-{i:05d}.{ns}.example.com"
---
""")
PY
fi
start context env RUST_LOG=warn "$CL" serve --listen "$ADDR" --tls-cert "$WORK/cert.pem" \
  --tls-key "$WORK/key.pem" --no-cluster --context "$CTX"
idle=$(rss)
load 64 "$WRK_SECONDS" >/dev/null
after=$(rss) peak=$(hwm)
stop
note "| webhook RSS, 10k Gateways + 10k Deployments | **$after MiB after c=64** ($idle idle, peak $peak) | ≤ 40 MiB |"
note ""
note "JSON lines: $OUT, $RES/lsp.jsonl, $RES/webhook-pairs.jsonl; load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
