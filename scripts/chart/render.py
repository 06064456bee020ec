"""Prints the objects the chart renders, as one JSON `List`, with Helm's own Go library
(helm-sdkpy), for a cluster of a given Kubernetes version: what `helm template` would print if
helm-sdkpy had it. Used by the end-to-end test to dry-run the chart against a real API server.

    scripts/test-chart.sh render [--values FILE]... [--kube-version 1.20.2]
                                 [--release canarylint] [--namespace canarylint]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))
from test_chart import merge, render  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", action="append", default=[], type=Path,
                        help="a values file (repeatable; later files win)")
    parser.add_argument("--kube-version", default="1.31.0",
                        help="the cluster's Kubernetes version (.Capabilities.KubeVersion)")
    parser.add_argument("--release", default="canarylint")
    parser.add_argument("--namespace", default="canarylint")
    args = parser.parse_args()
    values: dict = {}
    for path in args.values:
        values = merge(values, yaml.safe_load(path.read_text()) or {})
    objects = render(values, release=args.release, namespace=args.namespace,
                     version=args.kube_version.lstrip("v"))
    json.dump({"apiVersion": "v1", "kind": "List", "items": objects}, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
