#!/usr/bin/env python3
"""Builds the seed corpora of the fuzz targets, fuzz/corpus/<target>/, from the fixtures.

Usage: fuzz/seed.py            (idempotent: files are named by their content's hash)

Sources: rules/fixtures, cli/tests/fixtures, examples/, the YAML blocks of docs/rules/*.md and
README.md, Flagger's examples (../shared/reference/flagger/examples, or $CANARYLINT_SHARED),
the committed seeds and regressions (fuzz/seeds/<target>/, fuzz/regressions/<target>/), and a
few hostile inputs written here (alias bombs, deep nesting, long scalars, many documents,
BOMs, tabs, CRLF).

- lint, lsp_edit: every manifest as is; lsp_edit also gets a few edit sequences appended.
- admission: every Canary and Istio Gateway of those manifests wrapped in an AdmissionReview
  (CREATE, UPDATE, DELETE), plus examples/admission/*.json.
- config: the configuration blocks of README.md and docs/, plus fuzz/seeds/config/.

Needs python3 with PyYAML (for the admission reviews only; without it they are skipped).
"""
import copy
import hashlib
import json
import os
import re
import struct
import sys
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
REPO = FUZZ.parent
CORPUS = FUZZ / "corpus"
TARGETS = ["lint", "admission", "config", "lsp_edit"]

try:
    import yaml  # noqa: E402
except ImportError:  # pragma: no cover
    yaml = None


def shared():
    p = os.environ.get("CANARYLINT_SHARED")
    p = Path(p) if p else REPO.parent / "shared"
    return p if p.is_dir() else None


def put(target, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def manifests():
    """(name, text) of every manifest-like file and YAML block."""
    roots = [REPO / "rules/fixtures", REPO / "cli/tests/fixtures", REPO / "examples"]
    sh = shared()
    if sh:
        roots.append(sh / "reference/flagger/examples")
    for root in roots:
        for p in sorted(root.rglob("*")):
            if p.is_file() and p.suffix in (".yaml", ".yml", ".json"):
                yield str(p), p.read_text(encoding="utf-8", errors="replace")
    docs = sorted((REPO / "docs/rules").glob("*.md")) + [REPO / "README.md"]
    for p in docs:
        for i, block in enumerate(re.findall(r"```ya?ml\n(.*?)```", p.read_text(), re.S)):
            yield f"{p}#{i}", block


def hostile():
    """Inputs that try the reader's budgets."""
    canary = (REPO / "examples/podinfo/canary.yaml").read_text()
    # Small alias bombs; the one that reached the generous budget is in fuzz/regressions/lint/.
    for width, depth in ((9, 4), (3, 9)):
        laughs = "a0: &a0 [" + ", ".join(["x"] * width) + "]\n"
        for i in range(1, depth):
            laughs += f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]\n"
        yield laughs
    yield "[" * 300 + "]" * 300
    yield "{a: " * 200 + "1" + "}" * 200
    yield "".join("  " * i + "- \n" for i in range(150))
    yield "a: " + "x" * 200_000 + "\n"
    yield "a: '" + "\u00e9\U0001f600" * 5_000 + "'\n"
    yield "---\n" * 2_000
    yield "".join(f"---\napiVersion: v1\nkind: Service\nmetadata: {{name: s{i}}}\n" for i in range(40))
    yield "\ufeff" + canary
    yield canary.replace("  ", "\t")
    yield canary.replace("\n", "\r\n")
    yield canary + "\n---\n" + canary
    yield "<<: *nope\n"
    yield "a: &x\n  <<: *x\n"
    yield "? [a, b]\n: c\n"
    yield "%YAML 1.1\n%TAG ! tag:example.com,2000:\n--- !foo\nkind: Canary\n"
    yield '{"apiVersion": "flagger.app/v1beta1", "kind": "Canary", "spec": {"analysis": {"stepWeight": 1e400}}}'


def edits(text):
    """A few edit sequences for lsp_edit: `text (0xFF edit)*` (see fuzz/src/lib.rs)."""
    def edit(flags, sl, sc, el, ec, new):
        return b"\xff" + struct.pack("<BHHHH", flags, sl, sc, el, ec) + new.encode()

    base = text.encode()
    lines = text.count("\n")
    yield base + edit(0, 0, 0, 0, 0, "# edited\n")
    yield base + edit(0, lines // 2, 2, lines // 2, 9, "x\u00e9\U0001f600")
    yield base + edit(2, 1, 0, 3, 0, "") + edit(0, 0, 0, 0, 0, "---\n")
    yield base + edit(1, 0, 0, 0, 0, text.replace("stepWeight", "maxWeight"))
    yield base + edit(0, 9, 4, 2, 1, "reversed\n")


def review(obj, operation, old=None):
    api = obj.get("apiVersion", "")
    group, _, version = api.rpartition("/")
    kind = obj.get("kind", "")
    plural = {"Canary": "canaries", "Gateway": "gateways"}.get(kind, kind.lower() + "s")
    meta = obj.get("metadata") or {}
    req = {
        "uid": "00000000-0000-0000-0000-000000000001",
        "kind": {"group": group, "version": version, "kind": kind},
        "resource": {"group": group, "version": version, "resource": plural},
        "name": meta.get("name", ""),
        "namespace": meta.get("namespace", "default"),
        "operation": operation,
        "userInfo": {"username": "fuzz"},
        "object": None if operation == "DELETE" else obj,
        "oldObject": old,
        "dryRun": False,
    }
    return json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": req})


def objects(text):
    if yaml is None:
        return
    try:
        for doc in yaml.safe_load_all(text):
            if isinstance(doc, dict) and doc.get("kind") in ("Canary", "Gateway"):
                yield json.loads(json.dumps(doc, default=str))
    except Exception:  # noqa: BLE001 - broken fixtures are the point; skip what PyYAML cannot read
        return


def main():
    texts = [t for _, t in manifests()] + list(hostile())
    reviews = 0
    for t in texts:
        put("lint", t)
        put("lsp_edit", t)
        for obj in objects(t):
            put("admission", review(obj, "CREATE"))
            changed = copy.deepcopy(obj)
            changed.setdefault("metadata", {})["labels"] = {"edited": "yes"}
            put("admission", review(changed, "UPDATE", obj))
            if obj["kind"] == "Gateway":
                put("admission", review(obj, "DELETE", obj))
            reviews += 1
    for t in [x for x in texts if "flagger.app" in x][:40]:
        for e in edits(t):
            put("lsp_edit", e)
    for p in sorted((REPO / "examples/admission").glob("*.json")):
        put("admission", p.read_bytes())
    for p in [REPO / "README.md"] + sorted((REPO / "docs").rglob("*.md")):
        for block in re.findall(r"```ya?ml\n(.*?)```", p.read_text(), re.S):
            if re.search(r"^(rules|ignore|defaultProvider|selectorLabels|failOn):", block, re.M):
                put("config", block)
    for target in TARGETS:
        for committed in (FUZZ / "seeds" / target, FUZZ / "regressions" / target):
            if committed.is_dir():
                for p in sorted(committed.iterdir()):
                    put(target, p.read_bytes())
    for target in TARGETS:
        n = len(list((CORPUS / target).iterdir())) if (CORPUS / target).is_dir() else 0
        print(f"{target}: {n} seeds", file=sys.stderr)
    if yaml is None:
        print("PyYAML missing: no AdmissionReview made from the manifests", file=sys.stderr)


if __name__ == "__main__":
    main()
