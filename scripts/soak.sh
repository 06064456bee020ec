#!/usr/bin/env bash
# Load and soak test of the admission webhook, on LOOPBACK ONLY.
#
# Starts `canarylint serve` over TLS on 127.0.0.1 with an inventory from a corpus, then has
# wrk post a mix of AdmissionReviews as fast as the machine allows, for a bounded time and a
# bounded number of requests: Canaries that are allowed, warned and denied (CREATEs, and
# UPDATEs that leave the spec alone) and a few malformed bodies that must get HTTP 400.
# The server's RSS is sampled every few seconds. Passes when every answer had the expected
# shape, no request failed or got a 5xx, the server stopped cleanly and its RSS stayed flat.
#
#   scripts/soak.sh                       # 10 minutes
#   DURATION=60 scripts/soak.sh           # a quick run
#
# Needs wrk, curl, openssl and python3 (with PyYAML). Environment:
#   CANARYLINT   the binary (default: target/release/canarylint of this repository)
#   CORPUS       manifests for the inventory and the Canaries to send (default: the bench
#                kit's /tmp/canarylint-bench/corpus/100/multi, else examples/)
#   CONTEXT      more manifests for the inventory only (paths, space-separated)
#   WORK         scratch directory (default /tmp/canarylint-soak); results in $WORK/results
#   DURATION=600 seconds of load      MAX_REQUESTS=20000000 requests per wrk thread
#   CONNECTIONS=32  THREADS=1         keep-alive connections and wrk threads
#   RSS_EVERY=5  seconds between RSS samples       PORT=18543
#   FLAT_MIB=4   allowed RSS growth from the second minute to the last one (MiB)
#   LOG_LEVEL=warn  the server's RUST_LOG (info logs a line per review: gigabytes in 10 min)
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
CANARYLINT="${CANARYLINT:-$REPO/target/release/canarylint}"
WORK="${WORK:-/tmp/canarylint-soak}"
DURATION="${DURATION:-600}"
MAX_REQUESTS="${MAX_REQUESTS:-20000000}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-1}"
RSS_EVERY="${RSS_EVERY:-5}"
PORT="${PORT:-18543}"
FLAT_MIB="${FLAT_MIB:-4}"
LOG_LEVEL="${LOG_LEVEL:-warn}"
if [ -z "${CORPUS:-}" ]; then
  CORPUS=/tmp/canarylint-bench/corpus/100/multi
  [ -d "$CORPUS" ] || CORPUS="$REPO/examples"
fi

for tool in wrk curl openssl python3; do
  command -v "$tool" >/dev/null || { echo "soak: $tool is needed" >&2; exit 2; }
done
[ -x "$CANARYLINT" ] || { echo "soak: no binary at $CANARYLINT (cargo build --release)" >&2; exit 2; }

STAMP="$(date -u +%Y%m%d-%H%M%S)"
OUT="$WORK/results/$STAMP"
BODIES="$WORK/bodies"
mkdir -p "$OUT" "$BODIES"
ADDR="127.0.0.1:$PORT"
URL="https://$ADDR"

if [ ! -s "$WORK/cert.pem" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" \
    -days 30 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
fi

# Candidate bodies: every Canary of the corpus as a CREATE, as the API server sends it (with
# managedFields and the last applied configuration), some as an UPDATE that only relabels,
# and the malformed bodies.
python3 - "$CORPUS" "$BODIES" <<'EOF'
import copy, json, os, sys, yaml
corpus, out = sys.argv[1], sys.argv[2]
for f in os.listdir(out):
    os.remove(os.path.join(out, f))
canaries = []
for root, dirs, files in os.walk(corpus):
    dirs.sort()
    for name in sorted(files):
        if name.endswith((".yaml", ".yml")):
            with open(os.path.join(root, name)) as fh:
                for doc in yaml.safe_load_all(fh):
                    if isinstance(doc, dict) and doc.get("kind") == "Canary":
                        canaries.append(doc)
canaries = canaries[:200]

def review(op, obj, old=None, uid="0"):
    meta = obj["metadata"]
    return {
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": "flagger.app", "version": "v1beta1", "kind": "Canary"},
            "resource": {"group": "flagger.app", "version": "v1beta1", "resource": "canaries"},
            "requestKind": {"group": "flagger.app", "version": "v1beta1", "kind": "Canary"},
            "requestResource": {"group": "flagger.app", "version": "v1beta1", "resource": "canaries"},
            "name": meta["name"], "namespace": meta.get("namespace", "default"), "operation": op,
            "userInfo": {"username": "system:serviceaccount:ci:deployer", "groups": ["system:authenticated"]},
            "object": obj, "oldObject": old, "dryRun": False,
        },
    }

def as_sent(doc):
    obj = copy.deepcopy(doc)
    meta = obj["metadata"]
    meta.setdefault("namespace", "default")
    meta.update({
        "uid": "00000000-0000-0000-0000-000000001234", "generation": 1,
        "creationTimestamp": "2025-01-01T00:00:00Z",
        "annotations": {"kubectl.kubernetes.io/last-applied-configuration": json.dumps(doc, separators=(",", ":")) + "\n"},
        "managedFields": [{"manager": "kubectl-client-side-apply", "operation": "Update",
                           "apiVersion": "flagger.app/v1beta1", "time": "2025-01-01T00:00:00Z",
                           "fieldsType": "FieldsV1",
                           "fieldsV1": {"f:metadata": {"f:annotations": {".": {}}},
                                        "f:spec": {".": {}, "f:analysis": {".": {}}, "f:service": {".": {}}}}}],
    })
    return obj

def write(name, data):
    with open(os.path.join(out, name), "w") as fh:
        fh.write(data if isinstance(data, str) else json.dumps(data, separators=(",", ":")))

for i, doc in enumerate(canaries):
    obj = as_sent(doc)
    write(f"create-{i:03}.json", review("CREATE", obj, uid=f"c-{i}"))
    if i % 3 == 0:
        new = copy.deepcopy(obj)
        new["metadata"].setdefault("labels", {})["soak"] = "relabelled"
        write(f"relabel-{i:03}.json", review("UPDATE", new, obj, uid=f"u-{i}"))
bad = {
    "not-json": "{not json",
    "array": "[]",
    "no-request": {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"},
    "v1beta1": {"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview", "request": None},
    "no-uid": review("CREATE", as_sent(canaries[0]), uid=""),
    "object-not-object": {**review("CREATE", as_sent(canaries[0])), "request": {**review("CREATE", as_sent(canaries[0]))["request"], "object": 5}},
}
for name, data in bad.items():
    write(f"bad-{name}.json", data)
print(f"soak: {len(canaries)} Canaries from {corpus}; {len(os.listdir(out))} candidate bodies")
EOF

RUST_LOG="$LOG_LEVEL" "$CANARYLINT" serve --listen "$ADDR" --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem" \
  --no-cluster --no-config --context "$CORPUS" $(for c in ${CONTEXT:-}; do printf -- '--context %s ' "$c"; done) \
  >"$OUT/server.log" 2>&1 &
SPID=$!
SAMPLER=
cleanup() {
  [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null || true
  kill "$SPID" 2>/dev/null || true
  wait "$SPID" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 300); do
  curl -sfk -o /dev/null "$URL/readyz" && break
  kill -0 "$SPID" 2>/dev/null || { echo "soak: the server exited" >&2; cat "$OUT/server.log" >&2; exit 1; }
  sleep 0.1
done
curl -sfk -o /dev/null "$URL/readyz" || { echo "soak: the server is not ready" >&2; exit 1; }

# Each candidate once, to learn its class; the plan takes up to 6 of each valid class, each
# three times, and every malformed body once (about 10 % of the requests).
PLAN="$OUT/plan.txt"
: >"$PLAN.classes"
for f in "$BODIES"/*.json; do
  code=$(curl -sk -o "$OUT/answer.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary @"$f" "$URL/validate")
  python3 - "$code" "$f" "$OUT/answer.json" >>"$PLAN.classes" <<'EOF'
import json, sys
code, body, answer = sys.argv[1], sys.argv[2], sys.argv[3]
if "/bad-" in body:
    print(("bad" if code == "400" else "WRONG") + " " + body)
elif code != "200":
    print("WRONG " + body)
else:
    r = json.load(open(answer))["response"]
    print(("deny" if not r["allowed"] else "warn" if r.get("warnings") else "allow") + " " + body)
EOF
done
if grep -q '^WRONG' "$PLAN.classes"; then
  echo "soak: unexpected answers before the load:" >&2
  grep '^WRONG' "$PLAN.classes" >&2
  exit 1
fi
python3 - "$PLAN.classes" "$PLAN" <<'EOF'
import random, sys
by = {}
for line in open(sys.argv[1]):
    c, f = line.split()
    by.setdefault(c, []).append(f)
for c in ("allow", "warn", "deny", "bad"):
    if not by.get(c):
        sys.exit(f"soak: no body of class {c} in the corpus")
plan = [(c, f) for c in ("allow", "warn", "deny") for f in by[c][:6] for _ in range(3)]
plan += [("bad", f) for f in by["bad"]]
random.Random(1).shuffle(plan)
with open(sys.argv[2], "w") as out:
    for c, f in plan:
        out.write(f"{c} {f}\n")
counts = {c: sum(1 for p in plan if p[0] == c) for c in ("allow", "warn", "deny", "bad")}
print(f"soak: plan of {len(plan)} requests per round: {counts}")
EOF

# RSS and threads of the server, every RSS_EVERY seconds.
(
  t0=$(date +%s)
  while kill -0 "$SPID" 2>/dev/null; do
    awk -v t=$(( $(date +%s) - t0 )) '$1=="VmRSS:"{r=$2} $1=="VmHWM:"{h=$2} $1=="Threads:"{n=$2} END{print t, r, h, n}' \
      "/proc/$SPID/status" >>"$OUT/rss.tsv" 2>/dev/null || break
    sleep "$RSS_EVERY"
  done
) &
SAMPLER=$!

echo "soak: $DURATION s, $CONNECTIONS connections, $THREADS wrk thread(s), at most $MAX_REQUESTS requests per thread, against $URL"
SOAK_PLAN="$PLAN" SOAK_MAX_REQUESTS="$MAX_REQUESTS" timeout $((DURATION + 60)) \
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 5s -s "$HERE/soak.lua" "$URL" \
  | tee "$OUT/wrk.txt"
sleep "$RSS_EVERY"
curl -sfk "$URL/metrics" >"$OUT/metrics.txt" || true
kill "$SAMPLER" 2>/dev/null || true
SAMPLER=
kill -TERM "$SPID"
status=0
wait "$SPID" || status=$?
trap - EXIT

python3 - "$OUT" "$CONNECTIONS" "$THREADS" "$status" "$FLAT_MIB" "$RSS_EVERY" <<'EOF'
import json, re, statistics, sys
out, conns, threads, status, flat_mib, every = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
w = None
for line in open(f"{out}/wrk.txt"):
    if line.startswith("SOAKJSON "):
        w = json.loads(line[len("SOAKJSON "):])
if w is None:
    sys.exit("soak: wrk printed no summary")
rss = [tuple(map(int, l.split())) for l in open(f"{out}/rss.tsv") if len(l.split()) == 4]
secs = [r[0] for r in rss]
mib = [r[1] / 1024 for r in rss]
def window(lo, hi):
    v = [m for t, m in zip(secs, mib) if lo <= t < hi]
    return statistics.median(v) if v else None
end = secs[-1] if secs else 0
second_minute = window(60, 120) or window(0, end + 1)
last_minute = window(max(0, end - 60), end + 1)
growth = (last_minute - second_minute) if second_minute is not None and last_minute is not None else 0.0
decisions = {}
for line in open(f"{out}/metrics.txt"):
    m = re.match(r'canarylint_webhook_reviews_total\{(.*)\} (\d+)', line)
    if m:
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        decisions[labels["decision"]] = decisions.get(labels["decision"], 0) + int(m.group(2))
log_errors = sum(1 for l in open(f"{out}/server.log") if '"level":"ERROR"' in l)
checks = {
    "no socket errors": w["socket_errors"] == 0,
    "no timeouts": w["timeouts"] == 0,
    "no 5xx": w["status_5xx"] == 0 and decisions.get("error", 0) == 0,
    "every answer of an expected shape": w["unexpected"] == 0,
    "answers match what was sent, by class": all(
        0 <= w[f"sent_{c}"] - w[f"got_{c}"] <= conns for c in ("allow", "warn", "deny", "bad")),
    "no error in the server log": log_errors == 0,
    "clean shutdown (exit 0)": status == 0,
    f"RSS flat (second minute to last, within {flat_mib} MiB)": growth <= flat_mib,
}
summary = {
    "requests": w["requests"], "seconds": w["seconds"], "rps": w["rps"],
    "p50_ms": w["p50_ms"], "p99_ms": w["p99_ms"], "p999_ms": w["p999_ms"], "max_ms": w["max_ms"],
    "by_class": {c: {"sent": w[f"sent_{c}"], "answered": w[f"got_{c}"]} for c in ("allow", "warn", "deny", "bad")},
    "socket_errors": w["socket_errors"], "timeouts": w["timeouts"], "status_5xx": w["status_5xx"],
    "unexpected": w["unexpected"], "first_unexpected": w["first_unexpected"],
    "server_reviews_by_decision": decisions, "server_log_errors": log_errors, "exit_status": status,
    "rss_mib": {"samples": len(mib), "every_s": every, "first": round(mib[0], 1) if mib else None,
                "min": round(min(mib), 1) if mib else None, "max": round(max(mib), 1) if mib else None,
                "second_minute_median": round(second_minute, 1) if second_minute else None,
                "last_minute_median": round(last_minute, 1) if last_minute else None,
                "growth": round(growth, 2),
                "peak_hwm": round(max(r[2] for r in rss) / 1024, 1) if rss else None,
                "threads_max": max(r[3] for r in rss) if rss else None},
    "checks": checks,
}
json.dump(summary, open(f"{out}/summary.json", "w"), indent=1)
print(json.dumps(summary, indent=1))
failed = [k for k, ok in checks.items() if not ok]
print("soak: " + ("PASS" if not failed else "FAIL: " + "; ".join(failed)) + f" ({out})")
sys.exit(1 if failed else 0)
EOF
