#!/usr/bin/env bash
# Builds the canarylint container image without any base image, and tests it by running it.
#
#   scripts/image.sh build   # static binary, build context, image (podman, else buildah, else docker)
#   scripts/image.sh test    # run the image: --version, --help, the CLI on a mounted folder,
#                            # serve --no-cluster over HTTP and TLS (/healthz, /readyz, reviews),
#                            # as UID 65532 with a read-only root filesystem and no capabilities
#   scripts/image.sh         # both
#
# The static release build takes about 10 minutes on two cores the first time; its target folder
# is kept outside the repository ($CANARYLINT_IMAGE_CACHE, default ~/.cache/canarylint-image), so
# later builds only recompile what changed. Needs root (podman as root); the webhook is
# published on free ports of 127.0.0.1 only. Installs podman, runc, ca-certificates, openssl and
# curl from Debian when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
IMAGE=${IMAGE:-ghcr.io/canarylint/canarylint:$VERSION}
CACHE=${CANARYLINT_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/canarylint-image}
TARGET=x86_64-unknown-linux-gnu
CONTEXT=$CACHE/context

say() { printf '== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

# The container engine: podman, else buildah (build only), else docker.
engine() {
  if command -v podman >/dev/null 2>&1; then echo podman
  elif command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then echo docker
  else return 1; fi
}

install_tools() {
  local need=()
  command -v podman >/dev/null 2>&1 || need+=(podman)
  command -v runc >/dev/null 2>&1 || need+=(runc)
  [ -f /etc/ssl/certs/ca-certificates.crt ] || need+=(ca-certificates)
  command -v openssl >/dev/null 2>&1 || need+=(openssl)
  command -v curl >/dev/null 2>&1 || need+=(curl)
  if [ ${#need[@]} -gt 0 ]; then
    say "installing ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
}

build() {
  install_tools
  say "static binary (--release --target $TARGET, crt-static)"
  local t0=$SECONDS
  # Only the target's code is linked statically: build scripts and proc macros stay dynamic,
  # which is why the target is named explicitly.
  RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" CARGO_TARGET_DIR=$CACHE/target \
    nice cargo build --release --locked --target $TARGET -p canarylint-cli --bin canarylint
  local bin=$CACHE/target/$TARGET/release/canarylint
  echo "built in $((SECONDS - t0)) s: $(du -h "$bin" | cut -f1), $(file -b "$bin" | cut -d, -f1-2)"
  # A dynamically linked binary would build an image that cannot start: refuse it here.
  if file -b "$bin" | grep -q 'dynamically linked'; then fail "$bin is dynamically linked"; fi
  "$bin" --version

  rm -rf "$CONTEXT" && mkdir -p "$CONTEXT"
  cp "$bin" "$CONTEXT/canarylint"
  cp deploy/Dockerfile "$CONTEXT/Dockerfile"
  # The CA bundle of the build machine (Debian's ca-certificates), followed through symlinks.
  cp -L /etc/ssl/certs/ca-certificates.crt "$CONTEXT/ca-certificates.crt"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$CONTEXT/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' >"$CONTEXT/group"

  local e; e=$(engine) || e=
  say "image $IMAGE (${e:-buildah})"
  case $e in
    podman | docker) $e build --build-arg VERSION="$VERSION" -t "$IMAGE" "$CONTEXT" ;;
    *) command -v buildah >/dev/null 2>&1 || fail "no podman, buildah or docker"
       buildah bud --build-arg VERSION="$VERSION" -t "$IMAGE" "$CONTEXT" ;;
  esac
  $e image inspect "$IMAGE" --format 'size {{.Size}} bytes, user {{.Config.User}}, entrypoint {{.Config.Entrypoint}}'
}

# `podman run` with what this machine needs to run a container at all (see run_flags).
RUN=()
run_flags() {
  local e out; e=$(engine) || fail "no podman or docker to run the image"
  RUN=($e run --rm)
  if out=$("${RUN[@]}" "$IMAGE" --version 2>&1); then return; fi
  # Some machines refuse the defaults: without CAP_SYS_RESOURCE, raising the container's
  # RLIMIT_NOFILE/NPROC to podman's defaults fails ("setrlimit `RLIMIT_NOFILE`: Operation not
  # permitted"); on cgroups v1 with a v2 hierarchy mounted beside it, crun refuses ("cgroups in
  # hybrid mode not supported"). Lower limits are always allowed, and runc accepts hybrid cgroups.
  echo "note: '${RUN[*]} $IMAGE --version' was refused: $out"
  local limits=(--ulimit nofile=4096:4096 --ulimit nproc=4096:4096)
  RUN=($e run --rm "${limits[@]}")
  if out=$("${RUN[@]}" "$IMAGE" --version 2>&1); then echo "note: runs with ${limits[*]}"; return; fi
  echo "note: with ${limits[*]}: $out"
  if [ "$e" = podman ] && command -v runc >/dev/null 2>&1; then
    RUN=(podman --runtime runc run --rm "${limits[@]}")
    if out=$("${RUN[@]}" "$IMAGE" --version 2>&1); then echo "note: runs with --runtime runc ${limits[*]}"; return; fi
    echo "note: with --runtime runc: $out"
  fi
  fail "this machine refuses to run containers (last answer: $out)"
}

# Waits for a URL to answer 200.
wait_for() {
  local i
  for i in $(seq 1 100); do
    [ "$(curl -sk -o /dev/null -w '%{http_code}' "$1")" = 200 ] && return 0
    sleep 0.1
  done
  return 1
}

# A free port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

TMP=
NAMES=()
cleanup() {
  local n
  for n in "${NAMES[@]}"; do podman rm -f "$n" >/dev/null 2>&1 || true; done
  [ -z "$TMP" ] || rm -rf "$TMP"
}

test_image() {
  install_tools
  run_flags
  TMP=$(mktemp -d)
  trap cleanup EXIT
  local tmp=$TMP HTTP_PORT TLS_PORT
  HTTP_PORT=$(free_port)
  TLS_PORT=$(free_port)
  local passed=0
  ok() { passed=$((passed + 1)); echo "ok - $*"; }

  [ "$("${RUN[@]}" "$IMAGE" --version)" = "canarylint $VERSION" ] || fail "--version"
  ok "--version: canarylint $VERSION"
  "${RUN[@]}" "$IMAGE" | grep -q '^Usage: canarylint <COMMAND>' || fail "--help by default"
  ok "no arguments: the help"

  # The CLI on a mounted folder, as a CI job would run it: exit 1 and the shop's findings.
  local rc=0 out
  out=$("${RUN[@]}" --read-only --cap-drop=ALL -e NO_COLOR=1 -v "$PWD/examples:/work:ro" -w /work \
        "$IMAGE" check --format json . 2>&1) || rc=$?
  [ $rc -eq 1 ] || fail "check examples/ exited $rc: $out"
  echo "$out" | grep -q '"code": "CL201"' || fail "check found no CL201: $out"
  ok "check on a mounted folder: exit 1, CL201 found"

  # The webhook, hardened as deploy/deployment.yaml runs it.
  local hard=(--read-only --cap-drop=ALL --security-opt no-new-privileges -e RUST_LOG=info)
  # Detached containers are removed by the trap, after their logs are read.
  local detached=()
  local a; for a in "${RUN[@]}"; do [ "$a" = --rm ] || detached+=("$a"); done
  local n=canarylint-image-test-http-$$
  NAMES+=("$n")
  "${detached[@]}" -d --name "$n" "${hard[@]}" -p "127.0.0.1:$HTTP_PORT:8443" -v "$PWD/examples:/examples:ro" \
    "$IMAGE" serve --no-cluster --insecure-http --listen 0.0.0.0:8443 --context /examples >/dev/null
  wait_for "http://127.0.0.1:$HTTP_PORT/healthz" || { podman logs "$n" | tail -20; fail "/healthz did not answer"; }
  ok "serve --no-cluster --insecure-http: /healthz answers 200"
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/readyz")" = 200 ] || fail "/readyz"
  ok "/readyz answers 200"
  local user; user=$(podman top "$n" user huser | tail -1)
  echo "$user" | grep -qE '^65532 +65532$|^nonroot +65532$' || fail "the process runs as: $user"
  ok "the process runs as UID 65532 ($user)"

  out=$(curl -s -X POST -H 'Content-Type: application/json' --data @examples/admission/review-shop-checkout.json \
        "http://127.0.0.1:$HTTP_PORT/validate")
  echo "$out" | grep -q '"allowed":false' || fail "the broken Canary was not denied: $out"
  echo "$out" | grep -q 'CL101' && echo "$out" | grep -q 'CL201' || fail "denial without CL101/CL201: $out"
  echo "$out" | grep -q '"uid":"3b8e2f7a-1c4d-4e5f-9a6b-7c8d9e0f1a2b"' || fail "uid not echoed: $out"
  ok "a review of the broken checkout Canary: denied, CL101 and CL201"
  out=$(curl -s -X POST -H 'Content-Type: application/json' --data @examples/admission/review-podinfo.json \
        "http://127.0.0.1:$HTTP_PORT/validate")
  echo "$out" | grep -q '"allowed":true' || fail "the clean Canary was not allowed: $out"
  ok "a review of the clean podinfo Canary: allowed"
  curl -s "http://127.0.0.1:$HTTP_PORT/metrics" | grep -q '^canarylint_webhook_reviews_total{' || fail "/metrics"
  ok "/metrics counts the reviews"
  podman stop -t 20 "$n" >/dev/null
  podman logs "$n" 2>&1 | grep -q '"stopped"\|stopped' || { podman logs "$n" | tail -5; fail "no clean stop in the log"; }
  ok "SIGTERM: the webhook stops cleanly"

  # Over TLS, with a certificate mounted as the Secret would be.
  # A CA and the serving certificate it signs, as cert-manager would issue them.
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=test-ca \
    -keyout "$tmp/ca.key" -out "$tmp/ca.crt" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost \
    -keyout "$tmp/tls.key" -out "$tmp/tls.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n' >"$tmp/ext"
  openssl x509 -req -in "$tmp/tls.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" -CAcreateserial -days 1 \
    -extfile "$tmp/ext" -out "$tmp/tls.crt" 2>/dev/null
  # Readable by the container's user, as a mounted Secret is.
  chmod 0755 "$tmp"
  chmod 0644 "$tmp/tls.key" "$tmp/tls.crt"
  n=canarylint-image-test-tls-$$
  NAMES+=("$n")
  "${detached[@]}" -d --name "$n" "${hard[@]}" -p "127.0.0.1:$TLS_PORT:8443" -v "$tmp:/tls:ro" \
    "$IMAGE" serve --no-cluster --listen 0.0.0.0:8443 --tls-cert /tls/tls.crt --tls-key /tls/tls.key >/dev/null
  wait_for "https://127.0.0.1:$TLS_PORT/healthz" || { podman logs "$n" | tail -20; fail "/healthz over TLS did not answer"; }
  out=$(curl -s --cacert "$tmp/ca.crt" -X POST -H 'Content-Type: application/json' \
        --data @examples/admission/review-podinfo.json "https://localhost:$TLS_PORT/validate")
  echo "$out" | grep -q '"allowed":true' || fail "review over TLS: $out"
  ok "serve over TLS with a mounted certificate: /healthz and a review"

  # A host name in a kubeconfig resolves in the static binary (glibc's built-in files and dns
  # lookups, with the /etc/hosts the runtime mounts): `check --cluster` against the TLS webhook
  # above, named `localhost` and trusted through the kubeconfig, gets through name, TCP and TLS
  # (a failure at any of them is "cannot reach the cluster") and lints with what it listed.
  printf 'apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "https://localhost:%s", certificate-authority-data: %s}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n' \
    "$TLS_PORT" "$(base64 -w0 "$tmp/ca.crt")" >"$tmp/kubeconfig"
  chmod 0644 "$tmp/kubeconfig"
  rc=0
  out=$("${RUN[@]}" --network host -v "$tmp/kubeconfig:/kubeconfig:ro" -e KUBECONFIG=/kubeconfig -e NO_COLOR=1 \
        -v "$PWD/examples:/work:ro" -w /work "$IMAGE" check --cluster . 2>&1) || rc=$?
  if echo "$out" | grep -q 'cannot reach the cluster'; then fail "no connection to localhost:$TLS_PORT: $out"; fi
  [ $rc -eq 1 ] || fail "check --cluster exited $rc: $out"
  ok "check --cluster reaches https://localhost:$TLS_PORT by name, over TLS, and lints (exit 1)"
  podman stop -t 20 "$n" >/dev/null

  echo "$passed passed, 0 failed"
}

case ${1:-all} in
  build) build ;;
  test) test_image ;;
  all) build; test_image ;;
  *) echo "usage: $0 [build|test]" >&2; exit 2 ;;
esac
