#!/usr/bin/env bash
# `canarylint check` side by side with the parse floor and ajv-cli, on the benchmark kit's
# generated corpus, in one run: paired wall ratios, peak memory, start-up, and precision /
# recall against the corpus' ground truth. Writes JSON lines to $WORK/results/ and prints a
# summary; docs/benchmarks.md records what it printed.
#
#   scripts/bench-cli.sh                 # 100, 1k and 10k Canaries
#   SIZES="10000 100000" scripts/bench-cli.sh
#
# Needs the kit of the shared performance anchors ($KIT, default ../shared/bench) set up
# with its setup.sh, and a release build (cargo build --release -p canarylint-cli).
set -euo pipefail
cd "$(dirname "$0")/.."
KIT="${KIT:-$(cd ../shared/bench && pwd)}"
WORK="${WORK:-/tmp/canarylint-bench}"
SIZES="${SIZES:-100 1000 10000}"
RUNS="${RUNS:-5}"
CL="${CL:-$PWD/target/release/canarylint}"
F="$WORK/target/release/yamlfloor"
AJV="$WORK/npm/node_modules/.bin/ajv"
S="$WORK/canary.schema.json"
OUT="$WORK/results/canarylint-cli.jsonl"
mkdir -p "$WORK/results"
[ -x "$CL" ] || { echo "build first: cargo build --release -p canarylint-cli" >&2; exit 2; }
[ -x "$F" ] || WORK="$WORK" bash "$KIT/setup.sh"

rb() { python3 "$KIT/run_bench.py" --warmup 1 --out "$OUT" "$@"; }

for n in $SIZES; do
  D="$WORK/corpus/$n"
  [ -d "$D/multi" ] || python3 "$KIT/gen_corpus.py" --size "$n" --seed 42 --out "$D" >/dev/null
  runs=$RUNS; [ "$n" -ge 100000 ] && runs=1
  echo "== $n Canaries"
  rb --runs "$runs" --size "$n" --label "canarylint / floor t2 (multi)" \
     --vs "$F saphyr-marked 2 $D/multi" -- "$CL" check --format json --output /dev/null "$D/multi"
  rb --runs "$runs" --size "$n" --label "canarylint --threads 1 / floor t1 (multi)" \
     --vs "$F saphyr-marked 1 $D/multi" -- "$CL" check --threads 1 --format json --output /dev/null "$D/multi"
  if [ "$n" -le 10000 ]; then
    rb --runs "$runs" --size "$n" --label "canarylint / ajv-cli (Canary files)" \
       --vs "$AJV validate --spec=draft7 --strict=false -s $S -d $D/single/*/*/canary.yaml" -- \
       "$CL" check --format json --output /dev/null "$D/multi"
  fi
  # The one-document-per-file layout, its tree read once so that both sides find it cached.
  find "$D/single" -type f -exec cat {} + >/dev/null
  rb --runs "$runs" --size "$n" --label "canarylint / floor t2 (single)" \
     --vs "$F saphyr-marked 2 $D/single" -- "$CL" check --format json --output /dev/null "$D/single"
  # Precision and recall of the five planted mistakes, both layouts. The corpus is one set of
  # manifests applied together (`--bundle directory`); file by file, a Gateway that another
  # file of the corpus would define is only "could not be checked" (CL100 info), so the 200
  # missing gateways would not count.
  for layout in multi single; do
    "$CL" check --bundle directory --format json --output "$WORK/cl-$n-$layout.json" "$D/$layout" >/dev/null || true
    python3 - "$WORK/cl-$n-$layout.json" "$WORK/cl-$n-$layout.jsonl" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
with open(sys.argv[2], "w") as o:
    for f in d["findings"]:
        r = f.get("resource") or {}
        it = {"rule": f["code"], "file": f["file"], "line": f["line"]}
        if r.get("kind") == "Canary":
            it["canary"] = f"{r.get('namespace')}/{r.get('name')}"
        o.write(json.dumps(it) + "\n")
PY
    echo "-- precision/recall $n $layout"
    python3 "$KIT/score.py" "$D/truth.json" "$WORK/cl-$n-$layout.jsonl" --map \
      CL201=step-weight-exceeds-max CL202=mirror-with-step-weight CL101=missing-gateway \
      CL102=host-not-in-gateway CL302=port-mismatch | tail -3
  done
done

echo "== start-up"
if command -v hyperfine >/dev/null; then
  hyperfine -N --warmup 5 --runs 50 --ignore-failure \
    "$CL check examples/podinfo/canary.yaml" "$CL --version" \
    "$F saphyr-marked 1 examples/podinfo"
fi

python3 "$KIT/summarize.py" "$OUT" 2>/dev/null | tail -40 || true
