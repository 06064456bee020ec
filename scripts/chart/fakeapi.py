"""A stand-in for the Kubernetes API server, just enough for Helm's install action to render a
chart and send its objects: version, discovery, 404 for every object it looks up, and an echo
for every object it creates (recorded). Plain HTTP on 127.0.0.1; nothing is stored.

Helm's rendering is the real thing (Helm's own Go library); this server only answers the
questions Helm asks a cluster before and after rendering, with the Kubernetes version and the
API groups each test chooses (which is what `.Capabilities` is made of)."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# group/version -> [(plural, kind, namespaced)]
CORE = {
    "v1": [
        ("namespaces", "Namespace", False),
        ("services", "Service", True),
        ("serviceaccounts", "ServiceAccount", True),
        ("secrets", "Secret", True),
        ("configmaps", "ConfigMap", True),
        ("pods", "Pod", True),
    ],
    "apps/v1": [("deployments", "Deployment", True), ("daemonsets", "DaemonSet", True)],
    "rbac.authorization.k8s.io/v1": [
        ("clusterroles", "ClusterRole", False),
        ("clusterrolebindings", "ClusterRoleBinding", False),
        ("roles", "Role", True),
        ("rolebindings", "RoleBinding", True),
    ],
    "admissionregistration.k8s.io/v1": [
        ("validatingwebhookconfigurations", "ValidatingWebhookConfiguration", False),
        ("mutatingwebhookconfigurations", "MutatingWebhookConfiguration", False),
    ],
}
POLICY_V1 = {"policy/v1": [("poddisruptionbudgets", "PodDisruptionBudget", True)]}
POLICY_V1BETA1 = {"policy/v1beta1": [("poddisruptionbudgets", "PodDisruptionBudget", True)]}
CERT_MANAGER = {
    "cert-manager.io/v1": [
        ("certificates", "Certificate", True),
        ("issuers", "Issuer", True),
        ("clusterissuers", "ClusterIssuer", False),
    ]
}
PROMETHEUS_OPERATOR = {"monitoring.coreos.com/v1": [("servicemonitors", "ServiceMonitor", True)]}


def cluster(version: str = "1.31.0", cert_manager: bool = True, prometheus_operator: bool = True):
    """The API a cluster of this version serves, with the optional CRDs installed or not."""
    minor = int(version.split(".")[1])
    api = dict(CORE)
    api.update(POLICY_V1 if minor >= 21 else {})
    api.update(POLICY_V1BETA1 if minor < 25 else {})
    if cert_manager:
        api.update(CERT_MANAGER)
    if prometheus_operator:
        api.update(PROMETHEUS_OPERATOR)
    return version, api


class FakeApi:
    def __init__(self, version: str, api: dict):
        self.version = version
        self.api = api
        self.created: list[dict] = []
        self.requests: list[str] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _send(self, code: int, body: dict):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                owner._log("GET " + self.path)
                code, body = owner.get(self.path.split("?")[0])
                self._send(code, body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                kind = self.headers.get("Content-Type", "")
                owner._log(f"{self.command} {self.path} ({kind})")
                if "json" not in kind:
                    self._send(415, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                     "message": f"unsupported media type {kind}", "code": 415})
                    return
                obj = json.loads(raw or b"{}")
                with owner._lock:
                    owner.created.append(obj)
                self._send(201, obj)

            def do_PUT(self):
                self.do_POST()

            def do_PATCH(self):
                self.do_POST()

            def do_DELETE(self):
                owner._log("DELETE " + self.path)
                self._send(200, {"kind": "Status", "apiVersion": "v1", "status": "Success"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _log(self, line: str):
        with self._lock:
            self.requests.append(line)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def kubeconfig(self) -> str:
        return (
            "apiVersion: v1\nkind: Config\n"
            f"clusters:\n- name: fake\n  cluster:\n    server: {self.url}\n"
            "users:\n- name: fake\n  user: {}\n"
            "contexts:\n- name: fake\n  context: {cluster: fake, user: fake}\n"
            "current-context: fake\n"
        )

    def get(self, path: str):
        major, minor = self.version.split(".")[:2]
        if path == "/version":
            return 200, {"major": major, "minor": minor, "gitVersion": f"v{self.version}",
                         "platform": "linux/amd64"}
        if path == "/api":
            return 200, {"kind": "APIVersions", "versions": ["v1"],
                         "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                         "serverAddress": "127.0.0.1"}]}
        if path == "/apis":
            groups: dict[str, list[str]] = {}
            for gv in self.api:
                if "/" in gv:
                    g, v = gv.split("/")
                    groups.setdefault(g, []).append(v)
            return 200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                {"name": g, "versions": [{"groupVersion": f"{g}/{v}", "version": v} for v in vs],
                 "preferredVersion": {"groupVersion": f"{g}/{vs[0]}", "version": vs[0]}}
                for g, vs in groups.items()]}
        m = re.fullmatch(r"/api/(v1)|/apis/([^/]+/[^/]+)", path)
        if m:
            gv = m.group(1) or m.group(2)
            if gv in self.api:
                return 200, {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
                             "resources": [{"name": plural, "singularName": kind.lower(),
                                            "namespaced": ns, "kind": kind,
                                            "verbs": ["create", "delete", "get", "list",
                                                      "patch", "update", "watch"]}
                                           for plural, kind, ns in self.api[gv]]}
        # Every object Helm looks up before creating it does not exist yet.
        return 404, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                     "message": f"{path} not found", "reason": "NotFound", "code": 404}
