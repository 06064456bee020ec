#!/usr/bin/env bash
# Builds the fuzz targets and runs each in turn, on one core.
#
#   fuzz/run.sh                 every target, 600 s each
#   fuzz/run.sh 60 lint config  those targets, 60 s each
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`) and a stable toolchain: cargo-fuzz passes
# `-Z` flags to rustc, which RUSTC_BOOTSTRAP=1 lets stable accept. No sanitizer: every crate of
# the workspace forbids unsafe code, and so does the YAML parser; what is sought is panics,
# overflows, stack exhaustion, hangs and memory blow-ups, which libFuzzer catches alone, at
# twice the speed.
#
# The corpus grows in fuzz/corpus/<target>/ (seeded by fuzz/seed.py), crashes land in
# fuzz/artifacts/<target>/, logs in fuzz/logs/. Minimise a crash with
#   RUSTC_BOOTSTRAP=1 cargo fuzz tmin --sanitizer none <target> fuzz/artifacts/<target>/crash-…
# then commit it under fuzz/regressions/<target>/: `cargo test -p canarylint-cli --test fuzz`
# replays it from then on.
set -uo pipefail
cd "$(dirname "$0")"

seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(lint admission config lsp_edit)

export RUSTC_BOOTSTRAP=1
# One core: keep rayon from starting a pool the targets do not use.
export RAYON_NUM_THREADS=1

dict_of() {
  case "$1" in
    admission) echo dict/admission.dict ;;
    config) echo dict/config.dict ;;
    *) echo dict/yaml.dict ;;
  esac
}

echo "== $(cargo fuzz --version), $(rustc --version)"
python3 seed.py || echo "seed.py failed: starting from the committed seeds only"
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" && cp -n seeds/"$t"/* "corpus/$t/" 2>/dev/null
done

start=$(date +%s)
cargo fuzz build --sanitizer none || exit 1
echo "== built in $(($(date +%s) - start)) s"

mkdir -p logs
status=0
summary=()
for t in "${targets[@]}"; do
  mkdir -p "artifacts/$t"
  log="logs/$t.log"
  echo "== $t: ${seconds} s, log in fuzz/$log"
  # -fork=1: one child process at a time (one core) that the parent restarts after a crash,
  # an out-of-memory or a timeout, so a run reports every kind of failure it meets instead
  # of stopping at the first. -timeout: an input taking 10 s is a hang worth a look;
  # -rss_limit_mb: libFuzzer's default, written out.
  cargo fuzz run --sanitizer none "$t" "corpus/$t" -- \
    -max_total_time="$seconds" -fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 \
    -dict="$(dict_of "$t")" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="artifacts/$t/" >"$log" 2>&1
  rc=$?
  [ $rc -ne 0 ] && status=1
  # The parent's status lines: `#<execs>: cov: … ft: … corp: … exec/s: … oom/timeout/crash:
  # a/b/c time: <s>s job: …`.
  last=$(grep -E '^#[0-9]+: cov' "$log" | tail -1)
  execs=$(sed -E 's/^#([0-9]+):.*/\1/' <<<"$last")
  field() { grep -oE "$1 [0-9/]+" <<<"$last" | awk '{print $2}'; }
  elapsed=$(grep -oE 'time: [0-9]+s' <<<"$last" | grep -oE '[0-9]+')
  rate=$([ -n "$execs" ] && [ "${elapsed:-0}" -gt 0 ] && echo $((execs / elapsed)))
  crashes=$(find "artifacts/$t" -type f | wc -l)
  summary+=("$(printf '%-9s exit %-2s %6ss  execs %-10s exec/s %-6s cov %-6s ft %-7s oom/timeout/crash %-7s artifacts %s' \
    "$t" "$rc" "${elapsed:-?}" "${execs:-?}" "${rate:-?}" "$(field cov:)" "$(field ft:)" \
    "$(field oom/timeout/crash:)" "$crashes")")
  grep -E 'panicked at|==ERROR|Test unit written' "$log" | sort | uniq -c | sort -rn | head -n 8
done

echo "== summary (${seconds} s per target)"
printf '%s\n' "${summary[@]}"
exit $status
