#!/usr/bin/env python3
"""Helpers of the end-to-end test (tests/e2e/run.sh); standard library only.

  (run with the Python of tests/e2e/kube.sh env: PyYAML)
  expect REPORT.json NAMESPACE NAME      the errors and warnings `canarylint check` found for a
                                         Canary, one per line: `error<TAB>CODE path: message`
  webhook-config RENDERED.yaml URL CA    the ValidatingWebhookConfiguration of the rendered
                                         kustomize base, calling URL with CA instead of the
                                         cert-manager-injected Service
  load SECONDS THREADS APISERVER TOKEN CA GOOD.json BAD.json OUT.json
                                         bounded load: dry-run creates of a good and a broken
                                         Canary through the API server; every answer classified
  proxy LISTEN_PORT BACKENDS_FILE        a TCP balancer in front of webhook replicas, as a
                                         Service: new connections go to the ready endpoints
                                         listed in BACKENDS_FILE (`port metrics_port` lines)
  audit AUDIT.log USER                   what USER asked the API server (verb, resource, code)
  base RENDERED.yaml OUT_DIR             the objects of the rendered base but cert-manager's, as
                                         OUT_DIR/base-k8s.json, and their kinds
"""
import json
import socket
import ssl
import sys
import threading
import time
import urllib.request


def expect(report, namespace, name):
    data = json.load(open(report))
    for f in data["findings"]:
        r = f.get("resource") or {}
        if r.get("kind") != "Canary" or r.get("namespace") != namespace or r.get("name") != name:
            continue
        if f["severity"] in ("error", "warning"):
            print(f"{f['severity']}\t{f['code']}\t{f['path']}\t{f['message']}")


def read_objects(path):
    """The objects of a YAML stream (PyYAML, in the harness's Python)."""
    import yaml

    items = []
    for obj in yaml.safe_load_all(open(path)):
        if obj:
            items.extend(obj["items"] if obj.get("kind") == "List" else [obj])
    return items


def webhook_config(rendered, url, ca_file):
    import base64

    items = read_objects(rendered)
    (config,) = [i for i in items if i["kind"] == "ValidatingWebhookConfiguration"]
    config["metadata"].pop("annotations", None)
    ca = base64.b64encode(open(ca_file, "rb").read()).decode()
    for w in config["webhooks"]:
        path = w["clientConfig"]["service"].get("path", "/")
        w["clientConfig"] = {"url": url.rstrip("/") + path, "caBundle": ca}
    json.dump(config, sys.stdout)


def load(seconds, threads, apiserver, token, ca, good, bad, out):
    """Dry-run creates until `seconds` pass (at most 2,000 per thread), alternately good and
    broken. The expected answers: 201 for the good one, 403 with the webhook's denial for the
    broken one. Anything else (a failed call to the webhook, a timeout) is a failure."""
    ctx = ssl.create_default_context(cafile=ca)
    bodies = {"good": open(good, "rb").read(), "bad": open(bad, "rb").read()}
    ns = {k: json.loads(v)["metadata"]["namespace"] for k, v in bodies.items()}
    deadline = time.monotonic() + float(seconds)
    lock = threading.Lock()
    result = {"good": 0, "bad": 0, "failures": []}

    def worker(i):
        n = 0
        while time.monotonic() < deadline and n < 2000:
            which = "good" if (n + i) % 2 == 0 else "bad"
            n += 1
            req = urllib.request.Request(
                f"{apiserver}/apis/flagger.app/v1beta1/namespaces/{ns[which]}/canaries?dryRun=All",
                data=bodies[which],
                method="POST",
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(req, context=ctx, timeout=30) as resp:
                    code, body = resp.status, resp.read().decode()
            except urllib.error.HTTPError as e:
                code, body = e.code, e.read().decode()
            except Exception as e:  # connection errors: a failure like any other
                code, body = 0, repr(e)
            good_answer = (which == "good" and code == 201) or (
                which == "bad"
                and code == 403
                and '"reason":"Forbidden"' in body
                and 'admission webhook \\"canaries.canarylint.io\\" denied the request' in body
            )
            with lock:
                if good_answer:
                    result[which] += 1
                else:
                    result["failures"].append({"sent": which, "code": code, "body": body[:400]})

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(int(threads))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    json.dump(result, open(out, "w"))
    print(f"load: {result['good']} admitted, {result['bad']} denied, {len(result['failures'])} failures")


def proxy(listen_port, backends_file):
    """Each new connection goes to the next backend, round robin, among those listed in the file
    (the endpoints) whose /readyz answers 200 (the readiness probe), checked every 100 ms, as a
    Service does with its ready endpoints. Connections already open stay where they are."""
    ready = []
    stop = threading.Event()

    def probe():
        while not stop.is_set():
            now = []
            try:
                lines = open(backends_file).read().split("\n")
            except OSError:
                lines = []
            for line in lines:
                if not line.strip():
                    continue
                port, metrics = line.split()
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{metrics}/readyz", timeout=1) as r:
                        if r.status == 200:
                            now.append(int(port))
                except Exception:
                    pass
            ready[:] = now
            time.sleep(0.1)

    threading.Thread(target=probe, daemon=True).start()

    def pipe(a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", int(listen_port)))
    server.listen(128)
    turn = 0
    while True:
        client, _ = server.accept()
        choices = list(ready)
        if not choices:
            client.close()
            continue
        port = choices[turn % len(choices)]
        turn += 1
        try:
            upstream = socket.create_connection(("127.0.0.1", port), timeout=5)
            upstream.settimeout(None)
        except OSError:
            client.close()
            continue
        threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
        threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()


def audit(log, user, not_ready_from=None, not_ready_to=None):
    """USER's requests, one a line: `verb resource code`, and `not-ready` after those received
    between NOT_READY_FROM and NOT_READY_TO (RFC 3339 UTC, microseconds): while a restarted API
    server is not ready yet, it already serves requests but its RBAC authorizer's informers have
    not synced, and it forbids everything (decision forbid, empty reason) whatever the grants."""
    for line in open(log):
        e = json.loads(line)
        if e.get("user", {}).get("username") != user or e.get("stage") != "ResponseComplete":
            continue
        ref = e.get("objectRef") or {}
        what = "/".join(x for x in (ref.get("apiGroup", ""), ref.get("resource", "")) if x) or e["requestURI"].split("?")[0]
        fields = [e["verb"], what, e.get("responseStatus", {}).get("code", 0)]
        if not_ready_from and not_ready_from <= e["requestReceivedTimestamp"] <= not_ready_to:
            fields.append("not-ready")
        print(*fields)


def base(rendered, out_dir):
    """OUT_DIR/base-k8s.json as it is, and OUT_DIR/base-k8s-1.20.json changed as
    docs/webhook.md says for Kubernetes 1.20: policy/v1beta1 PodDisruptionBudget, no preStop
    sleep."""
    import copy

    keep = [i for i in read_objects(rendered) if not i["apiVersion"].startswith("cert-manager.io/")]
    json.dump({"apiVersion": "v1", "kind": "List", "items": keep}, open(out_dir + "/base-k8s.json", "w"))
    old = copy.deepcopy(keep)
    for i in old:
        if i["kind"] == "PodDisruptionBudget":
            i["apiVersion"] = "policy/v1beta1"
        if i["kind"] == "Deployment":
            for c in i["spec"]["template"]["spec"]["containers"]:
                c.pop("lifecycle", None)
    json.dump({"apiVersion": "v1", "kind": "List", "items": old}, open(out_dir + "/base-k8s-1.20.json", "w"))
    print(" ".join(sorted(i["kind"] for i in keep)))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"expect": expect, "webhook-config": webhook_config, "load": load, "proxy": proxy, "audit": audit, "base": base}[cmd](*args)
