#!/usr/bin/env bash
# End-to-end test: a real kube-apiserver (tests/e2e/kube.sh) calls `canarylint serve`, driven
# through kubectl, first with --no-cluster, then watching the cluster with the least-privilege
# RBAC of deploy/rbac.yaml (a real ServiceAccount token). Every behaviour is asserted; the last
# line is `e2e: N passed, N failed, N skipped`, and the exit status is 1 when anything failed.
#
#   tests/e2e/run.sh                      # CANARYLINT=target/debug/canarylint by default
#   CANARYLINT=target/release/canarylint tests/e2e/run.sh
#   CANARYLINT_E2E_KEEP=1 tests/e2e/run.sh # keep the work directory (logs, audit log) after it
#
# When the API server cannot be built here (no root, no apt, no network), the test says so on
# every line it can and is counted as skipped; with CANARYLINT_E2E_REQUIRED=1 that is a failure.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CANARYLINT=${CANARYLINT:-$REPO/target/debug/canarylint}
REF=${CANARYLINT_REFERENCE:-$REPO/../shared/reference}
KUBE="$HERE/kube.sh"
SA_USER=system:serviceaccount:canarylint:canarylint-webhook
PASS=0 FAIL=0 SKIP=0

ok() { PASS=$((PASS + 1)); echo "ok   - $1"; }
fail() {
  FAIL=$((FAIL + 1)); echo "FAIL - $1"
  [ $# -lt 2 ] || printf '%s\n' "$2" | head -40 | sed 's/^/       | /'
}
finish() {
  echo "e2e: $PASS passed, $FAIL failed, $SKIP skipped"
  [ "$FAIL" = 0 ]
}
section() { echo; echo "## $*"; }

if [ ! -x "$CANARYLINT" ]; then
  echo "no canarylint binary at $CANARYLINT: build it first (cargo build -p canarylint-cli)" >&2
  exit 2
fi
[ -f "$REF/flagger/crd.yaml" ] || { echo "Flagger's CRD not found under $REF (set CANARYLINT_REFERENCE)" >&2; exit 2; }

rc=0; "$KUBE" ensure || rc=$?
if [ "$rc" = 3 ]; then
  for i in 1 2 3; do echo "!!!!!! E2E SKIPPED: the real API server cannot be built on this machine (see above) !!!!!!"; done
  SKIP=1
  if [ "${CANARYLINT_E2E_REQUIRED:-}" = 1 ]; then fail "CANARYLINT_E2E_REQUIRED=1 but the API server cannot be built"; fi
  finish; exit
elif [ "$rc" != 0 ]; then
  fail "building the real API server failed (exit $rc)"; finish; exit
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/canarylint-e2e.XXXXXX")
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -CONT "$p" 2>/dev/null; kill "$p" 2>/dev/null; done
  "$KUBE" stop "$WORK/cluster" >/dev/null 2>&1
  if [ "${CANARYLINT_E2E_KEEP:-}" = 1 ] || [ "$FAIL" != 0 ]; then
    echo "work directory kept: $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

T0=$(date +%s)
"$KUBE" start "$WORK/cluster" || { fail "the API server did not start"; finish; exit; }
eval "$("$KUBE" env "$WORK/cluster")"
PY="$PYTHON $HERE/helpers.py"
k() { "$KUBECTL" --request-timeout=30s "$@"; }
mkdir -p "$WORK/tls"
cp "$WEBHOOK_CERT" "$WORK/tls/tls.crt"; cp "$WEBHOOK_KEY" "$WORK/tls/tls.key"

# run CMD...: runs it, output (stdout and stderr) in $OUT, status in $RC.
run() { OUT=$("$@" 2>&1); RC=$?; }
has() { grep -qF -- "$2" <<<"$1"; }

expect_ok() { # DESC
  if [ "$RC" = 0 ]; then ok "$1"; else fail "$1 (exit $RC)" "$OUT"; fi
}
expect_no_warning() { # DESC
  if has "$OUT" "Warning:"; then fail "$1" "$OUT"; else ok "$1"; fi
}
expect_denied() { # DESC: a webhook denial that kubectl prints as Forbidden
  if [ "$RC" != 0 ] && has "$OUT" 'Error from server (Forbidden)' \
    && has "$OUT" 'admission webhook "canaries.canarylint.io" denied the request'; then
    ok "$1"
  else
    fail "$1 (exit $RC)" "$OUT"
  fi
}
expect_has() { # DESC TEXT
  if has "$OUT" "$2"; then ok "$1"; else fail "$1: no \"$2\"" "$OUT"; fi
}
expect_lacks() { # DESC TEXT
  if has "$OUT" "$2"; then fail "$1: \"$2\" found" "$OUT"; else ok "$1"; fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_webhook NAME ARGS...: `canarylint serve` on free ports; waits until /readyz is 200.
# Sets PORT_<NAME>, MPORT_<NAME>, PID_<NAME>.
start_webhook() {
  local name=$1; shift
  local port mport pid i
  port=$(free_port); mport=$(free_port)
  (cd "$WORK" && exec "$CANARYLINT" serve --listen "127.0.0.1:$port" \
    --tls-cert "$WORK/tls/tls.crt" --tls-key "$WORK/tls/tls.key" \
    --metrics-listen "127.0.0.1:$mport" --no-config "$@" >>"$WORK/$name.log" 2>&1) &
  pid=$!; PIDS+=("$pid")
  printf -v "PORT_$name" %s "$port"; printf -v "MPORT_$name" %s "$mport"; printf -v "PID_$name" %s "$pid"
  for i in $(seq 1 150); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/readyz")" = 200 ] && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  fail "webhook $name ready" "$(tail -20 "$WORK/$name.log")"
  return 1
}

# stop_webhook NAME: SIGTERM; the exit status and the time to exit in $STOP_RC, $STOP_MS.
stop_webhook() {
  local pid_var=PID_$1; local pid=${!pid_var}
  local t0 i
  t0=$(date +%s%N)
  kill -CONT "$pid" 2>/dev/null; kill -TERM "$pid" 2>/dev/null
  for i in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.01; done
  STOP_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
  if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; STOP_RC=killed; else wait "$pid" 2>/dev/null; STOP_RC=$?; fi
}

metric() { # MPORT NAME_AND_LABELS: the value of a metric line that starts with it, or empty
  curl -s "http://127.0.0.1:$1/metrics" | awk -v p="$2" 'index($0, p) == 1 { print $NF; exit }'
}

# The ValidatingWebhookConfiguration of the kustomize base, pointed at 127.0.0.1:PORT.
k kustomize "$REPO/deploy" > "$WORK/base.yaml" || fail "kubectl kustomize deploy/"
register_webhook() { # PORT
  $PY webhook-config "$WORK/base.yaml" "https://127.0.0.1:$1" "$CA_CERT" > "$WORK/webhook.json"
  run k apply -f "$WORK/webhook.json"
  [ "$RC" = 0 ] || fail "register the webhook" "$OUT"
  # The API server reads webhook configurations from an informer: give it time to see it.
  sleep 1.5
}

# What `canarylint check` finds, the reference every review is compared with.
split_docs() { # FILE OUTDIR: one file per document, named after metadata.name
  python3 - "$1" "$2" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
for doc in re.split(r"(?m)^---\s*$", text):
    m = re.search(r"(?m)^metadata:\n(?:  .*\n)*?  name: (\S+)", doc)
    if m:
        open(f"{sys.argv[2]}/{m.group(1)}.yaml", "w").write(doc.lstrip("\n"))
PY
}
mkdir -p "$WORK/docs"
split_docs "$REPO/examples/shop/canaries.yaml" "$WORK/docs"

# check_review DESC NS NAME REPORT [CLI_ONLY_CODES]: the denial in $OUT lists exactly the errors
# `canarylint check` reported for the Canary (as `CODE path: message`), the CLI-only codes
# aside, and every warning comes back as a kubectl warning.
check_review() {
  local desc=$1 ns=$2 name=$3 report=$4 cli_only=${5:-}
  local sev code path msg want_codes="" got_codes missing=""
  while IFS=$'\t' read -r sev code path msg; do
    [ -n "$code" ] || continue
    if [ -n "$cli_only" ] && grep -qw "$code" <<<"$cli_only"; then continue; fi
    if [ "$sev" = error ]; then
      want_codes="$want_codes $code"
      has "$OUT" "$code $path: $msg" || missing="$missing"$'\n'"error $code $path: $msg"
    else
      grep -qF -- "Warning: $code" <<<"$OUT" && has "$OUT" "${msg:0:60}" \
        || missing="$missing"$'\n'"warning $code ${msg:0:60}"
    fi
  done < <($PY expect "$report" "$ns" "$name")
  got_codes=$(grep -oE '^CL[0-9]{3} ' <<<"$OUT" | sort -u | xargs)
  want_codes=$(xargs -n1 <<<"$want_codes" | sort -u | xargs)
  if [ -z "$missing" ] && [ "$got_codes" = "$want_codes" ]; then
    ok "$desc: errors [$want_codes] with path and message, and every warning"
  else
    fail "$desc: denied with [$got_codes], want [$want_codes]$missing" "$OUT"
  fi
}

section "the cluster: kube-apiserver $KUBE_VERSION, Flagger's and Istio's CRDs, the base's namespace and RBAC"
run k version -o json
expect_has "kubectl talks to kube-apiserver v1.20.2" '"gitVersion": "v1.20.2"'
run k apply -f "$REF/flagger/crd.yaml" -f "$REF/istio/gateways.networking.istio.io.crd.yaml"
expect_ok "Flagger's and Istio's CRDs apply"
run k wait --for condition=established --timeout=60s crd/canaries.flagger.app crd/metrictemplates.flagger.app crd/gateways.networking.istio.io
expect_ok "the CRDs are established"
for ns in test shop refs istio-system; do k create namespace "$ns" >/dev/null; done
run k apply -f "$REPO/deploy/namespace.yaml" -f "$REPO/deploy/serviceaccount.yaml" -f "$REPO/deploy/rbac.yaml"
expect_ok "deploy/'s namespace, ServiceAccount and RBAC apply"

section "Kubernetes 1.20: namespaces have no kubernetes.io/metadata.name label"
run k get namespace kube-system -o jsonpath='{.metadata.labels}'
expect_lacks "kube-system has no kubernetes.io/metadata.name label on 1.20" "kubernetes.io/metadata.name"
run k get namespace canarylint -o jsonpath='{.metadata.labels}'
expect_has "deploy/namespace.yaml labels canarylint's namespace out of the webhook" '"canarylint.io/webhook":"disabled"'

###################################################################################################
section "A. canarylint serve --no-cluster --context examples/istio"
"$CANARYLINT" check --no-config --format json --context "$REPO/examples/istio" "$REPO/examples/shop/canaries.yaml" \
  > "$WORK/report-a.json" 2>/dev/null
start_webhook A --no-cluster --context "$REPO/examples/istio"
register_webhook "$PORT_A"

run k apply -f "$REPO/examples/podinfo/canary.yaml"
expect_ok "a clean Canary is admitted"
expect_no_warning "a clean Canary brings no warning"

run k apply -f "$WORK/docs/cart.yaml"
if [ "$RC" != 0 ] && has "$OUT" 'unknown field' && has "$OUT" 'timout' && ! has "$OUT" 'admission webhook'; then
  ok "kubectl's own validation rejects the unknown field timout (CL002) before any admission"
else
  fail "kubectl rejects the unknown field before admission" "$OUT"
fi

run k apply --validate=false -f "$WORK/docs/checkout.yaml"
expect_denied "a broken Canary is denied: Error from server (Forbidden)"
check_review "checkout" shop checkout "$WORK/report-a.json"
run k apply --validate=false -f "$WORK/docs/cart.yaml"
expect_denied "cart is denied"
check_review "cart (CL002 pruned by the API server before admission)" shop cart "$WORK/report-a.json" CL002

run k apply --dry-run=server --validate=false -f "$WORK/docs/checkout.yaml"
expect_denied "--dry-run=server gives the same denial"
check_review "checkout, server dry run" shop checkout "$WORK/report-a.json"
run k get canaries -n shop -o name
if [ "$RC" = 0 ] && [ -z "$OUT" ] || has "$OUT" "No resources found"; then ok "nothing was stored in shop"; else fail "nothing stored" "$OUT"; fi
run k apply --dry-run=server -f "$REPO/examples/podinfo/canary.yaml" -f <(sed 's/threshold: 5/threshold: 7/' "$REPO/examples/podinfo/canary.yaml")
expect_ok "an admitted change in a server dry run"
run k get canary -n test podinfo -o jsonpath='{.spec.analysis.threshold}'
if [ "$OUT" = 5 ]; then ok "the server dry run changed nothing"; else fail "server dry run changed the Canary" "$OUT"; fi

stop_webhook A
start_webhook A --no-cluster --context "$REPO/examples/istio" --mode warn
register_webhook "$PORT_A"
run k apply --validate=false -f "$WORK/docs/checkout.yaml"
expect_ok "--mode warn admits a broken Canary"
expect_has "--mode warn returns the errors as warnings" "Warning: CL101 spec.service.gateways[0]: Istio Gateway istio-system/public-gatway does not exist"
# (shortened to fit 120 characters: the path goes first)
expect_has "--mode warn returns the errors as warnings (CL201)" "Warning: CL201 stepWeight 40 exceeds maxWeight 30"
expect_has "--mode warn returns the warnings" "Warning: CL202"
stop_webhook A

start_webhook A --no-cluster --context "$REPO/examples/istio"
register_webhook "$PORT_A"
lines_before=$(wc -l < "$WORK/A.log")
run k label canary -n shop checkout team=payments
expect_ok "a metadata-only change to a stored broken Canary is admitted"
expect_has "... with its errors as warnings" "Warning: CL101"
run k patch canary -n shop checkout --subresource=status --type=merge -p '{"status":{"phase":"Progressing"}}'
expect_ok "a status-subresource update of a broken Canary is never blocked"
run k patch canary -n shop checkout --type=merge -p '{"spec":{"analysis":{"threshold":6}}}'
expect_denied "a spec change to a stored broken Canary is denied"
sleep 0.2
# The API server calls the webhook twice for a denied UPDATE: the first try runs against the
# object from its watch cache; when admission fails there, the storage retries once with the
# object read from etcd (k8s.io/apiserver storage/etcd3 GuaranteedUpdate).
tail -n +"$((lines_before + 1))" "$WORK/A.log" | grep '"message":"review"' | grep '"operation":"UPDATE"' \
  | grep '"decision":"deny"' > "$WORK/update-denials.log"
n=$(wc -l < "$WORK/update-denials.log")
uids=$(grep -oE '"uid":"[^"]+"' "$WORK/update-denials.log" | sort -u | wc -l)
if [ "$n" = 2 ] && [ "$uids" = 2 ]; then
  ok "a denied UPDATE reaches the webhook twice, each call with its own uid"
else
  fail "a denied UPDATE: $n review lines, $uids uids (want 2 and 2)" "$(cat "$WORK/update-denials.log")"
fi
if [ "$(grep -c '"repeat":false' "$WORK/update-denials.log")" = 1 ] && [ "$(sed -n 2p "$WORK/update-denials.log" | grep -c '"repeat":true')" = 1 ]; then
  ok "the second call is logged as a repeat"
else
  fail "the second call is logged as a repeat" "$(cat "$WORK/update-denials.log")"
fi
repeated=$(metric "$MPORT_A" 'canarylint_webhook_repeated_reviews_total{operation="UPDATE",resource="canary",decision="deny"}')
if [ "$repeated" = 1 ]; then ok "repeated_reviews_total counts it"; else fail "repeated_reviews_total = ${repeated:-absent}"; fi
run k delete canary -n shop checkout
expect_ok "deleting a broken Canary is never blocked"
stop_webhook A
if [ "$STOP_RC" = 0 ]; then ok "SIGTERM: exit status 0"; else fail "SIGTERM: exit status $STOP_RC"; fi
if [ "$STOP_MS" -lt 1000 ]; then ok "SIGTERM: exited in $STOP_MS ms"; else fail "SIGTERM: exited in $STOP_MS ms (want < 1000)"; fi

###################################################################################################
section "B. canarylint serve watching the cluster, as the ServiceAccount of deploy/ with deploy/rbac.yaml"
run k create token canarylint-webhook -n canarylint --duration=2h
if [ "$RC" = 0 ]; then ok "a token for the ServiceAccount canarylint/canarylint-webhook"; else fail "create a ServiceAccount token" "$OUT"; fi
SA_TOKEN=$OUT
cat > "$WORK/webhook.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster: {server: "$APISERVER_URL", certificate-authority: "$CA_CERT"}
users:
- name: canarylint-webhook
  user: {token: "$SA_TOKEN"}
contexts:
- name: e2e
  context: {cluster: e2e, user: canarylint-webhook}
current-context: e2e
EOF
run k auth can-i list canaries.flagger.app --as="$SA_USER" -A
expect_has "the ServiceAccount may list Canaries" "yes"
run k auth can-i update canaries.flagger.app --as="$SA_USER" -A
expect_has "the ServiceAccount may not update Canaries" "no"

run k apply -f "$REPO/examples/istio/gateway.yaml" -f "$REPO/examples/podinfo/deployment.yaml" -f "$REPO/examples/shop/deployments.yaml"
expect_ok "the examples' Gateway and Deployments"
# The reference: the examples linted with what this cluster holds as --context. The watched
# cluster is authoritative for every kind it serves, so the webhook says "does not exist" (the
# checkout Canary's misspelt Gateway, CL101) where `check` on the folder alone, whose other
# files never make a namespace complete, only says it could not check (CL100).
"$CANARYLINT" check --no-config --format json --context "$REPO/examples/istio/gateway.yaml" \
  --context "$REPO/examples/podinfo/deployment.yaml" --context "$REPO/examples/shop/deployments.yaml" \
  "$REPO/examples" > "$WORK/report-b.json" 2>/dev/null
start_webhook B --kubeconfig "$WORK/webhook.kubeconfig"
register_webhook "$PORT_B"
run curl -s "http://127.0.0.1:$MPORT_B/metrics"
expect_lacks "every watched kind is listed (none pending)" 'sync="pending"'
expect_has "Canaries are watched" 'canarylint_webhook_inventory_objects{kind="Canary",sync="synced"}'

run k apply -f "$REPO/examples/podinfo/canary.yaml"
expect_ok "a clean Canary is admitted (its Gateway and Deployment found in the cluster)"
expect_no_warning "no warning for the clean Canary"
run k apply --validate=false -f "$WORK/docs/checkout.yaml"
expect_denied "a broken Canary is denied"
check_review "checkout, against the cluster" shop checkout "$WORK/report-b.json"
run k apply --dry-run=server --validate=false -f "$WORK/docs/cart.yaml"
expect_denied "--dry-run=server: cart denied"
check_review "cart, server dry run against the cluster" shop cart "$WORK/report-b.json" CL002
run k get canary -n shop cart
expect_has "the server dry run stored nothing" "NotFound"

section "B. references resolve from the watched cluster"
M=$HERE/manifests
# wait_admitted DESC FILE: the first server dry run of FILE that is admitted, polled for 1 s.
wait_admitted() {
  local t0 ms
  t0=$(date +%s%N)
  while :; do
    run k apply --dry-run=server -f "$2"
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    [ "$RC" = 0 ] && break
    [ "$ms" -lt 1000 ] || break
    sleep 0.05
  done
  if [ "$RC" = 0 ]; then ok "$1 (after $ms ms)"; else fail "$1: still denied after $ms ms" "$OUT"; fi
}
run k apply --dry-run=server -f "$M/canary-refs.yaml"
expect_denied "a Canary naming a missing Gateway, Deployment, HPA and MetricTemplate is denied"
expect_has "... CL101 for the Gateway" "CL101 spec.service.gateways[0]: Istio Gateway istio-system/edge does not exist"
expect_has "... CL301 for the Deployment" "CL301 spec.targetRef.name: Deployment refs/api does not exist"
expect_has "... CL307 for the HPA" "CL307 spec.autoscalerRef.name: HorizontalPodAutoscaler refs/api does not exist"
expect_has "... CL404 for the MetricTemplate" "CL404 spec.analysis.metrics[0].templateRef.name: MetricTemplate refs/latency does not exist"
k apply -f "$M/deployment-api.yaml" -f "$M/metrictemplate-latency.yaml" -f "$M/hpa-api.yaml" >/dev/null
sleep 0.3
run k apply --dry-run=server -f "$M/canary-refs.yaml"
expect_denied "with the Deployment, HPA and MetricTemplate created, still denied for the Gateway"
expect_lacks "... CL301 gone" "CL301"
expect_lacks "... CL307 gone" "CL307"
expect_lacks "... CL404 gone" "CL404"
k apply -f "$M/gateway-edge.yaml" >/dev/null
wait_admitted "admitted within a second of the Gateway's creation" "$M/canary-refs.yaml"
expect_no_warning "... without a warning"
k apply -f "$M/service-conflict.yaml" >/dev/null
sleep 0.3
run k apply --dry-run=server -f "$M/canary-refs.yaml"
expect_has "a Service named like one Flagger generates is warned about (CL306)" "Warning: CL306"
k delete -f "$M/service-conflict.yaml" >/dev/null
for what in deployment-api:CL301 hpa-api:CL307 metrictemplate-latency:CL404; do
  file=${what%%:*} code=${what##*:}
  k delete -f "$M/$file.yaml" >/dev/null
  sleep 0.3
  run k apply --dry-run=server -f "$M/canary-refs.yaml"
  expect_denied "$file deleted: denied again"
  expect_has "... $code" "$code spec."
  k apply -f "$M/$file.yaml" >/dev/null
  wait_admitted "admitted within a second of its re-creation" "$M/canary-refs.yaml"
done
run k apply -f "$M/canary-refs.yaml"
expect_ok "the refs Canary is stored"
# Later changes to the stored Canary are UPDATEs that reach the webhook (an unchanged apply
# sends nothing).
sed 's/threshold: 5/threshold: 6/' "$M/canary-refs.yaml" > "$WORK/canary-refs-changed.yaml"

section "B. Gateway protection"
run k patch gateway -n istio-system edge --type=json -p '[{"op":"replace","path":"/spec/servers/0/hosts","value":["*.example.net"]}]'
expect_ok "without --protect-gateways, a Gateway change that strands a Canary is admitted"
expect_has "... with a warning naming the Canary" "refs/api"
run k delete gateway -n istio-system edge
expect_ok "... and so is its deletion"
expect_has "... with a warning" "Warning:"
k apply -f "$M/gateway-edge.yaml" >/dev/null
# The API server keeps its connection to the webhook open for the next call: the drain waits
# for it (docs/webhook.md, "Metrics, logs and probes"), the watches and their client must not.
held=$( (ss -Htn state established "( sport = :$PORT_B )" 2>/dev/null || true) | wc -l)
stop_webhook B
if [ "$STOP_RC" = 0 ] && [ "$STOP_MS" -lt 1000 ]; then
  ok "watching the cluster, SIGTERM: exit status 0 in $STOP_MS ms ($held connection(s) from the API server open)"
else
  fail "watching the cluster, SIGTERM: exit $STOP_RC after $STOP_MS ms (want 0 in < 1000 ms)" "$(tail -5 "$WORK/B.log")"
fi
start_webhook B --kubeconfig "$WORK/webhook.kubeconfig" --protect-gateways
register_webhook "$PORT_B"
run k delete gateway -n istio-system edge
if [ "$RC" != 0 ] && has "$OUT" '(Forbidden)' && has "$OUT" 'gateways.canarylint.io' && has "$OUT" "refs/api"; then
  ok "with --protect-gateways, deleting a Gateway a Canary routes through is denied (Forbidden)"
else
  fail "--protect-gateways denies the deletion" "$OUT"
fi
run k patch gateway -n istio-system edge --type=json -p '[{"op":"replace","path":"/spec/servers/0/hosts","value":["*.example.net"]}]'
if [ "$RC" != 0 ] && has "$OUT" '(Forbidden)'; then ok "... and a host change that strands it"; else fail "--protect-gateways denies the host change" "$OUT"; fi
run k annotate gateway -n istio-system edge owner=network-team
expect_ok "... but not a change that strands nothing"

section "B. faults: the webhook stopped (failurePolicy Fail for Canaries, Ignore for Gateways)"
stop_webhook B
run k label canary -n test podinfo team=web
if [ "$RC" != 0 ] && has "$OUT" 'failed calling webhook "canaries.canarylint.io"'; then
  ok "Canary changes are rejected while the webhook is down (Fail)"
else
  fail "Canary changes rejected while down" "$OUT"
fi
run k annotate gateway -n istio-system edge down=true
expect_ok "Gateway changes go through while the webhook is down (Ignore)"

section "B. faults: the webhook slower than timeoutSeconds (5 s)"
start_webhook B --kubeconfig "$WORK/webhook.kubeconfig"
register_webhook "$PORT_B"
kill -STOP "$PID_B"
t0=$(date +%s)
run k label canary -n test podinfo team=web
took=$(( $(date +%s) - t0 ))
if [ "$RC" != 0 ] && has "$OUT" 'failed calling webhook "canaries.canarylint.io"' && [ "$took" -ge 9 ]; then
  ok "a Canary update fails after twice the timeout ($took s: the API server tries an update twice) while the webhook hangs (Fail)"
else
  fail "a hanging webhook fails Canary changes after the timeout ($took s)" "$OUT"
fi
run k annotate --overwrite gateway -n istio-system edge slow=true
expect_ok "a Gateway change goes through after the timeout (Ignore)"
kill -CONT "$PID_B"
sleep 0.5
run k label canary -n test podinfo team=web
expect_ok "once the webhook answers again, changes are admitted"

section "B. faults: the certificate rotated while the API server keeps calling"
rotate() { # a new key and certificate from the same CA, swapped in as the kubelet does
  local d=$WORK/tls/new.$1; mkdir -p "$d"
  cp "$CA_CERT" "$d/ca.crt"; cp "$CA_KEY" "$d/ca.key"
  "$KUBE" sign webhook canarylint-webhook 'IP:127.0.0.1,DNS:localhost' "$d"
  cp "$d/webhook.crt" "$WORK/tls/.tls.crt.new"; cp "$d/webhook.key" "$WORK/tls/.tls.key.new"
  mv "$WORK/tls/.tls.key.new" "$WORK/tls/tls.key"; mv "$WORK/tls/.tls.crt.new" "$WORK/tls/tls.crt"
}
serial() { openssl s_client -connect "127.0.0.1:$PORT_B" -CAfile "$CA_CERT" </dev/null 2>/dev/null | openssl x509 -noout -serial; }
# A Canary of its own workload (two Canaries of one workload would be CL005), and a broken one.
sed 's/podinfo/load/g' "$REPO/examples/podinfo/deployment.yaml" | k apply -f - >/dev/null
k get canary -n test podinfo -o json | python3 -c 'import json,sys; o=json.load(sys.stdin); o["spec"]["targetRef"]["name"]="load"; o["spec"]["service"]["hosts"]=["load.example.com"]; o["spec"]["analysis"]["webhooks"][0]["metadata"]["cmd"]="hey -z 1m -q 10 -c 2 http://load-canary.test:9898/"; print(json.dumps({"apiVersion":o["apiVersion"],"kind":o["kind"],"metadata":{"name":"load","namespace":"test"},"spec":o["spec"]}))' > "$WORK/good.json"
python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); o["spec"]["analysis"]["stepWeight"]=80; print(json.dumps(o))' "$WORK/good.json" > "$WORK/bad.json"
run k create --dry-run=server -f "$WORK/good.json"
expect_ok "the load's good Canary is admitted"
expect_no_warning "... without a warning"
run k create --dry-run=server -f "$WORK/bad.json"
expect_denied "the load's broken Canary is denied"
ADMIN_TOKEN=$(cut -d, -f1 "$CANARYLINT_KUBE_DIR/pki/tokens.csv")
before=$(serial)
$PY load 9 2 "$APISERVER_URL" "$ADMIN_TOKEN" "$CA_CERT" "$WORK/good.json" "$WORK/bad.json" "$WORK/load-rotate.json" > "$WORK/load-rotate.out" &
LOAD=$!
sleep 2; rotate 1; sleep 2.5; rotate 2; sleep 1
after=$(serial)
wait "$LOAD"
read -r good bad failures < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["good"], r["bad"], len(r["failures"]))' "$WORK/load-rotate.json")
if [ "$failures" = 0 ] && [ "$good" -gt 10 ] && [ "$bad" -gt 10 ]; then
  ok "no failed admission across two rotations ($good admitted, $bad denied)"
else
  fail "admissions during rotation: $good admitted, $bad denied, $failures failures" "$(head -c 2000 "$WORK/load-rotate.json")"
fi
reloads=$(metric "$MPORT_B" 'canarylint_webhook_tls_reloads_total{result="success"}')
if [ "${reloads:-0}" -ge 2 ] && [ -n "$before" ] && [ "$before" != "$after" ]; then
  ok "the new certificate is served ($before -> $after; $reloads reloads)"
else
  fail "the new certificate is served (serial $before -> $after, reloads ${reloads:-none})"
fi

section "B. faults: the API server restarted while the webhook runs"
utc_now() { date -u +%Y-%m-%dT%H:%M:%S.%6NZ; }
# From the stop until /readyz answers ok (kube.sh waits for it): the audit below tells the
# requests of that window apart.
RESTART_FROM=$(utc_now)
"$KUBE" restart-apiserver "$CANARYLINT_KUBE_DIR" >/dev/null 2>&1 || fail "restart the API server"
RESTART_READY=$(utc_now)
if kill -0 "$PID_B" 2>/dev/null; then ok "the webhook kept running"; else fail "the webhook died with the API server"; fi
run k delete gateway -n istio-system edge
expect_ok "the Gateway deleted after the restart"
t0=$(date +%s%N)
while :; do
  run k apply --dry-run=server -f "$WORK/canary-refs-changed.yaml"
  [ "$RC" != 0 ] && break
  [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 10000 ] || break
  sleep 0.1
done
expect_denied "the watches resumed: the deletion is seen $(( ($(date +%s%N) - t0) / 1000000 )) ms after it, the Canary is denied"
expect_has "... with CL101" "CL101 spec.service.gateways[0]: Istio Gateway istio-system/edge does not exist"
k apply -f "$M/gateway-edge.yaml" >/dev/null
wait_admitted "and admitted again within a second of the Gateway's re-creation" "$WORK/canary-refs-changed.yaml"
run curl -s "http://127.0.0.1:$MPORT_B/readyz"
expect_has "the webhook stayed ready" "ready"

section "B. faults: two replicas, one stopped mid-load"
stop_webhook B
start_webhook B1 --kubeconfig "$WORK/webhook.kubeconfig"
start_webhook B2 --kubeconfig "$WORK/webhook.kubeconfig"
LB=$(free_port)
printf '%s %s\n%s %s\n' "$PORT_B1" "$MPORT_B1" "$PORT_B2" "$MPORT_B2" > "$WORK/endpoints"
$PY proxy "$LB" "$WORK/endpoints" 2>"$WORK/proxy.log" &
PIDS+=("$!")
sleep 0.5
register_webhook "$LB"
$PY load 10 3 "$APISERVER_URL" "$ADMIN_TOKEN" "$CA_CERT" "$WORK/good.json" "$WORK/bad.json" "$WORK/load-replicas.json" > "$WORK/load-replicas.out" &
LOAD=$!
sleep 3
b1_before=$(grep -c '"message":"review"' "$WORK/B1.log")
# As a Pod's deletion does: the endpoint goes, then the preStop pause, then SIGTERM.
printf '%s %s\n' "$PORT_B2" "$MPORT_B2" > "$WORK/endpoints"
sleep 1
stop_webhook B1
b2_before=$(grep -c '"message":"review"' "$WORK/B2.log")
wait "$LOAD"
b2_after=$(grep -c '"message":"review"' "$WORK/B2.log")
read -r good bad failures < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["good"], r["bad"], len(r["failures"]))' "$WORK/load-replicas.json")
if [ "$failures" = 0 ] && [ "$b1_before" -gt 0 ] && [ "$b2_after" -gt "$b2_before" ]; then
  ok "no failed admission: $good admitted, $bad denied; replica 1 answered $b1_before before it stopped, replica 2 went on"
else
  fail "two replicas: $good admitted, $bad denied, $failures failures; replica 1 $b1_before reviews, replica 2 $b2_before then $b2_after" \
    "$(head -c 2000 "$WORK/load-replicas.json")"
fi
if [ "$STOP_RC" = 0 ] && [ "$STOP_MS" -lt 1000 ]; then
  ok "the stopped replica exited 0 in $STOP_MS ms"
else
  fail "the stopped replica: exit $STOP_RC after $STOP_MS ms"
fi
if grep -q '"level":"ERROR"' "$WORK/B1.log" "$WORK/B2.log"; then
  fail "no error in the replicas' logs" "$(grep -h '"level":"ERROR"' "$WORK/B1.log" "$WORK/B2.log")"
else
  ok "no error in the replicas' logs"
fi

section "B. the webhook's RBAC is enough and no more"
$PY audit "$CANARYLINT_KUBE_DIR/audit.log" "$SA_USER" "$RESTART_FROM" "$RESTART_READY" > "$WORK/sa-requests.txt"
total=$(wc -l < "$WORK/sa-requests.txt")
writes=$(grep -vE '^(list|watch|get) ' "$WORK/sa-requests.txt" || true)
gets=$(grep -E '^get ' "$WORK/sa-requests.txt" | grep -vE '^get /(api|apis)(/[^ ]*)? ' || true)
# The restarted API server serves before its RBAC authorizer's informers have synced (its
# /readyz says informer-sync is not ok yet) and forbids every request then: a watch resumed in
# that window is refused whatever the grants, and retried. Outside it, a 403 is our RBAC.
denied=$(awk '$3 == 403 && $4 != "not-ready"' "$WORK/sa-requests.txt")
not_ready=$(awk '$3 == 403 && $4 == "not-ready"' "$WORK/sa-requests.txt" | wc -l)
if [ "$total" -gt 0 ] && [ -z "$writes" ]; then ok "the webhook only listed and watched ($total requests, no write)"; else fail "requests other than list and watch" "$writes"; fi
if [ -z "$gets" ]; then ok "no get of an object (only discovery)"; else fail "get of objects" "$gets"; fi
if [ -z "$denied" ]; then
  ok "no request of the webhook was forbidden while the API server was ready: the RBAC is enough ($not_ready refused by the restarted API server before its authorizer synced)"
else
  fail "forbidden requests" "$denied"
fi
for r in canaries metrictemplates alertproviders gateways deployments daemonsets services horizontalpodautoscalers; do
  grep -qE "^watch [^ ]*$r " "$WORK/sa-requests.txt" || fail "the webhook watches $r"
done
ok "every watched kind that the cluster serves was watched"

###################################################################################################
section "the kustomize base, server-side dry run (cert-manager kinds aside)"
$PY base "$WORK/base.yaml" "$WORK" > "$WORK/base-kinds.txt"
k delete validatingwebhookconfiguration canarylint >/dev/null
run k apply --dry-run=server -f "$WORK/base-k8s.json"
if [ "$RC" != 0 ] && has "$OUT" 'unknown field "sleep"'; then
  ok "on 1.20, kubectl refuses the preStop sleep (Kubernetes 1.30) as docs/webhook.md says"
else
  fail "on 1.20, the preStop sleep is refused" "$OUT"
fi
run k apply --dry-run=server --validate=false -f "$WORK/base-k8s.json"
if [ "$RC" != 0 ] && has "$OUT" 'lifecycle.preStop: Required value: must specify a handler type'; then
  ok "on 1.20, the API server drops the unknown sleep action and refuses the empty preStop"
else
  fail "on 1.20, the empty preStop is refused" "$OUT"
fi
if has "$OUT" 'PodDisruptionBudget' && ! has "$OUT" 'poddisruptionbudget.policy/canarylint-webhook created'; then
  ok "on 1.20, the policy/v1 PodDisruptionBudget is not served, as docs/webhook.md says"
else
  fail "on 1.20, policy/v1 PodDisruptionBudget is not served" "$OUT"
fi
run k apply --dry-run=server -f "$WORK/base-k8s-1.20.json"
echo "$OUT" > "$WORK/base-dry-run.txt"
n_items=$(wc -w < "$WORK/base-kinds.txt")
if [ "$RC" = 0 ] && [ "$(grep -c 'server dry run' <<<"$OUT")" = "$n_items" ]; then
  ok "every object of the base ($(cat "$WORK/base-kinds.txt")), changed for 1.20 as docs/webhook.md says, passes a server-side dry run"
else
  fail "the base's server-side dry run" "$OUT"
fi

###################################################################################################
section "the Helm chart, server-side dry run (cert-manager and Prometheus Operator kinds aside)"
# Rendered by Helm's own Go library (scripts/test-chart.sh render) for this cluster's version:
# unlike the base, the chart needs no change for 1.20 (policy/v1beta1, no preStop sleep). The
# kinds of cert-manager and of the Prometheus Operator are not served here and are left out.
chart_dry_run() { # DESC [VALUES_FILE]
  local desc=$1 args=(--kube-version "$KUBE_VERSION") n
  [ $# -lt 2 ] || args+=(--values "$2")
  if ! "$REPO/scripts/test-chart.sh" render "${args[@]}" >"$WORK/chart.json" 2>"$WORK/chart-render.txt"; then
    fail "$desc: the chart does not render" "$(tail -20 "$WORK/chart-render.txt")"
    return
  fi
  n=$(python3 - "$WORK/chart.json" "$WORK/chart-k8s.json" <<'PY'
import json, sys
items = json.load(open(sys.argv[1]))["items"]
served = [o for o in items if o["apiVersion"].split("/")[0] not in ("cert-manager.io", "monitoring.coreos.com")]
json.dump({"apiVersion": "v1", "kind": "List", "items": served}, open(sys.argv[2], "w"))
aside = sorted({o["kind"] for o in items if o not in served})
print(len(served), " ".join(sorted({o["kind"] for o in served})), "|", " ".join(aside) or "nothing")
PY
)
  local count=${n%% *} rest=${n#* }
  run k apply --dry-run=server -f "$WORK/chart-k8s.json"
  if [ "$RC" = 0 ] && [ "$(grep -c 'server dry run' <<<"$OUT")" = "$count" ]; then
    ok "$desc: all $count objects (${rest%% |*}) pass a server-side dry run unchanged; left out: ${rest##*| }"
  else
    fail "$desc: the chart's server-side dry run" "$OUT"
  fi
}
chart_dry_run "the chart, default values"
for values in "$REPO"/charts/canarylint/ci/*-values.yaml; do
  chart_dry_run "the chart with ${values#"$REPO"/}" "$values"
done

echo
echo "e2e took $(( $(date +%s) - T0 )) s"
finish
