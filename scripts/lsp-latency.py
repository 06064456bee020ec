#!/usr/bin/env python3
"""Editor latency of `canarylint lsp`: open a document of a workspace, change it N times, and
time each change until the server publishes the diagnostics of that version.

    scripts/lsp-latency.py --server target/release/canarylint --root DIR --file DIR/a.yaml
        [--changes 20] [--interval 0.4] [--json results.jsonl] [--label text]

The server is started with `lsp` in DIR (the workspace root, sent as rootUri and as the one
workspace folder); the document is opened with its text from disk and every change replaces
the whole text (TextDocumentSyncKind::Full), alternating the first `stepWeight:` value (or a
trailing comment when there is none) so that every version differs. Changes are sent one at
a time, `--interval` seconds after the previous version's diagnostics, so each one is timed
alone. Times are from the didChange notification to the publishDiagnostics of that version,
and include the server's debounce (150 ms): the script prints them both whole and less the
debounce ("work"). Prints median, p90 and max; with --json appends one JSON line.

Only standard input and output of the child: nothing listens on the network.
"""
import argparse
import json
import os
import queue
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

DEBOUNCE_S = 0.150


def uri(path: Path) -> str:
    return path.resolve().as_uri()


class Client:
    def __init__(self, cmd, cwd):
        self.p = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL)
        self.next_id = 1
        self.inbox = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        out = self.p.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    self.inbox.put(None)
                    return
                line = line.strip()
                if not line:
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            msg = json.loads(out.read(length))
            self.inbox.put((time.perf_counter(), msg))

    def send(self, msg):
        body = json.dumps(msg).encode()
        self.p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.p.stdin.flush()
        return time.perf_counter()

    def request(self, method, params):
        rid = self.next_id
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        return rid

    def notify(self, method, params):
        return self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def wait(self, pred, timeout):
        """The first message for which pred holds (answering the server's requests meanwhile)."""
        deadline = time.perf_counter() + timeout
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError("no answer in time")
            item = self.inbox.get(timeout=left)
            if item is None:
                raise EOFError("the server exited")
            t, msg = item
            if "method" in msg and "id" in msg:
                # registerCapability, workspace/configuration, ...: accept with an empty result
                self.send({"jsonrpc": "2.0", "id": msg["id"], "result": None})
                continue
            if pred(msg):
                return t, msg

    def close(self):
        try:
            rid = self.request("shutdown", None)
            self.wait(lambda m: m.get("id") == rid, 10)
            self.notify("exit", None)
            self.p.wait(timeout=10)
        except Exception:
            self.p.kill()
            self.p.wait()


def variants(text):
    """Two texts that differ in one value, alternated by the changes."""
    key = "stepWeight: "
    i = text.find(key)
    if i >= 0:
        j = text.index("\n", i)
        value = text[i + len(key):j].strip()
        other = "7" if value != "7" else "9"
        return [text, text[:i + len(key)] + other + text[j:]]
    return [text, text + "# edited\n"]


def percentile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--file", required=True)
    ap.add_argument("--changes", type=int, default=20)
    ap.add_argument("--interval", type=float, default=0.4)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--label", default="")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()

    root, doc = Path(a.root).resolve(), Path(a.file).resolve()
    text = doc.read_text()
    texts = variants(text)
    c = Client([os.path.abspath(a.server), "lsp"], cwd=str(root))
    t_start = time.perf_counter()
    rid = c.request("initialize", {
        "processId": os.getpid(), "rootUri": uri(root),
        "workspaceFolders": [{"uri": uri(root), "name": root.name}],
        "capabilities": {"general": {"positionEncodings": ["utf-16"]},
                         "workspace": {"didChangeWatchedFiles": {"dynamicRegistration": True}},
                         "textDocument": {"publishDiagnostics": {"versionSupport": True}}},
    })
    c.wait(lambda m: m.get("id") == rid, a.timeout)
    c.notify("initialized", {})
    u = uri(doc)
    c.notify("textDocument/didOpen", {"textDocument": {
        "uri": u, "languageId": "yaml", "version": 1, "text": text}})

    def published(version):
        return lambda m: (m.get("method") == "textDocument/publishDiagnostics"
                          and m["params"]["uri"] == u and m["params"].get("version") == version)

    t_open, first = c.wait(published(1), a.timeout)
    open_s = t_open - t_start
    lat, counts = [], set()
    for n in range(a.changes):
        version = n + 2
        time.sleep(a.interval)
        t0 = c.notify("textDocument/didChange", {
            "textDocument": {"uri": u, "version": version},
            "contentChanges": [{"text": texts[(n + 1) % 2]}]})
        t1, msg = c.wait(published(version), a.timeout)
        lat.append(t1 - t0)
        counts.add(len(msg["params"]["diagnostics"]))
    c.close()

    work = [max(0.0, x - DEBOUNCE_S) for x in lat]
    ms = lambda x: round(x * 1000, 1)
    res = {"label": a.label, "root": str(root), "file": str(doc),
           "workspace_files": sum(1 for p in root.rglob("*") if p.suffix in (".yaml", ".yml", ".json")),
           "lines": text.count("\n"), "changes": len(lat), "open_to_first_diagnostics_ms": ms(open_s),
           "change_to_diagnostics_ms": {"median": ms(statistics.median(lat)), "p90": ms(percentile(lat, 0.9)),
                                        "min": ms(min(lat)), "max": ms(max(lat))},
           "work_after_debounce_ms": {"median": ms(statistics.median(work)), "p90": ms(percentile(work, 0.9)),
                                      "max": ms(max(work))},
           "diagnostics_per_version": sorted(counts)}
    print(f"{a.label or doc.name}: {res['workspace_files']} files, {res['lines']} lines; first diagnostics "
          f"{res['open_to_first_diagnostics_ms']} ms; change -> diagnostics median "
          f"{res['change_to_diagnostics_ms']['median']} ms (p90 {res['change_to_diagnostics_ms']['p90']}, "
          f"max {res['change_to_diagnostics_ms']['max']}); after the {int(DEBOUNCE_S * 1000)} ms debounce: "
          f"median {res['work_after_debounce_ms']['median']} ms, p90 {res['work_after_debounce_ms']['p90']} ms")
    if a.json:
        with open(a.json, "a") as f:
            f.write(json.dumps(res) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
