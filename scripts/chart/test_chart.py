"""The Helm chart (charts/canarylint), tested with Helm's own Go library (PyPI helm-sdkpy):
lint, install-rendering with the default values and with every file of charts/canarylint/ci/,
refusal of values the schema forbids, and the same objects as the kustomize base (deploy/,
rendered by the real `kubectl kustomize`).

Run it with scripts/test-chart.sh, which prepares the environment Helm's library reads when it
is loaded (HELM_DRIVER=memory, private HELM_*_HOME folders)."""

from __future__ import annotations

import asyncio
import copy
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import helm_sdkpy
import yaml

sys.path.insert(0, str(Path(__file__).parent))
import fakeapi  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "canarylint"
CI_VALUES = sorted((CHART / "ci").glob("*-values.yaml"))
KUBECTL = os.environ.get("CANARYLINT_KUBECTL", "kubectl")

# Labels only the chart sets (Helm's recommended labels): "chart labels aside".
CHART_ONLY_LABELS = {
    "helm.sh/chart",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/version",
}

# A certificate and key in PEM, to give the chart its certificate (no cert-manager). Their
# content is never parsed by the chart; only their shape is checked by the schema.
PEM_CERT = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
PEM_KEY = "-----BEGIN PRIVATE KEY-----\nMIGHfake\n-----END PRIVATE KEY-----\n"


def render(values: dict | None = None, *, release: str = "canarylint",
           namespace: str = "canarylint", **cluster) -> list[dict]:
    """The objects `helm install` sends for these values, in a cluster of the given shape."""
    version, api = fakeapi.cluster(**cluster)
    with fakeapi.FakeApi(version, api) as server:
        config = helm_sdkpy.Configuration(namespace=namespace, kubeconfig=server.kubeconfig())
        result = asyncio.run(helm_sdkpy.Install(config).run(
            release, str(CHART), values=values or None, wait=False, timeout=60))
        manifest = result["manifest"]
        objects = [o for o in yaml.safe_load_all(manifest) if o]
        # What Helm sent the API server is what it rendered.
        sent = {(o["kind"], o["metadata"]["name"]) for o in server.created}
        assert sent == {(o["kind"], o["metadata"]["name"]) for o in objects}, (sent, manifest)
        return objects


def render_error(values: dict, **cluster) -> str:
    try:
        render(values, **cluster)
    except helm_sdkpy.HelmError as e:
        return str(e)
    raise AssertionError(f"values were accepted: {values}")


def by_kind(objects: list[dict]) -> dict[str, list[dict]]:
    kinds: dict[str, list[dict]] = {}
    for o in objects:
        kinds.setdefault(o["kind"], []).append(o)
    return kinds


def one(objects: list[dict], kind: str, name: str | None = None) -> dict:
    found = [o for o in objects if o["kind"] == kind
             and (name is None or o["metadata"]["name"] == name)]
    assert len(found) == 1, f"{len(found)} {kind} {name or ''} in {[o['kind'] for o in objects]}"
    return found[0]


def container(objects: list[dict]) -> dict:
    return one(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]


def merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in override.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def kustomize() -> list[dict]:
    out = subprocess.run([KUBECTL, "kustomize", str(REPO / "deploy")], check=True,
                         capture_output=True, text=True).stdout
    return [o for o in yaml.safe_load_all(out) if o]


def drop_chart_labels(node):
    """The object without the chart's own labels, wherever labels are (metadata, selectors,
    pod templates, spread constraints)."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            # A Service's selector is a plain map of labels too.
            plain = isinstance(v, dict) and all(isinstance(x, str) for x in v.values())
            if k in ("labels", "matchLabels") or (k == "selector" and plain):
                v = {lk: lv for lk, lv in v.items() if lk not in CHART_ONLY_LABELS}
            out[k] = drop_chart_labels(v)
        return out
    if isinstance(node, list):
        return [drop_chart_labels(v) for v in node]
    return node


def normalized(o: dict) -> dict:
    o = drop_chart_labels(o)
    # Metadata labels: each object carries canarylint's name and part-of labels in both;
    # the chart also labels its workload objects with their component.
    labels = o["metadata"].pop("labels", {})
    o["metadata"]["labels"] = {k: v for k, v in labels.items()
                               if k != "app.kubernetes.io/component"}
    return o


def selects(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


class Lint(unittest.TestCase):
    def lint(self, values_file: Path | None) -> dict:
        with tempfile.TemporaryDirectory() as tmp:
            chart = Path(tmp) / "canarylint"
            shutil.copytree(CHART, chart)
            if values_file:
                # `helm lint --values FILE`: the chart's values, overridden by the file.
                base = yaml.safe_load((CHART / "values.yaml").read_text())
                override = yaml.safe_load(values_file.read_text())
                (chart / "values.yaml").write_text(yaml.safe_dump(merge(base, override)))
            config = helm_sdkpy.Configuration(namespace="canarylint")
            return asyncio.run(helm_sdkpy.Lint(config).run(str(chart)))

    def assert_clean(self, result: dict):
        # Helm's support.Message: Severity 1 info, 2 warning, 3 error. (Its error text does not
        # survive the trip through JSON; the path says where.)
        self.assertEqual(result["TotalChartsLinted"], 1, result)
        problems = [m["Path"] for m in result["Messages"] if m["Severity"] >= 2]
        self.assertEqual(problems, [], result)
        self.assertFalse(result.get("Errors"), result)

    def test_default_values(self):
        result = self.lint(None)
        self.assert_clean(result)

    def test_every_ci_values_file(self):
        self.assertGreaterEqual(len(CI_VALUES), 3, "charts/canarylint/ci/*-values.yaml")
        for path in CI_VALUES:
            with self.subTest(values=path.name):
                self.assert_clean(self.lint(path))

    def test_lint_finds_a_broken_template(self):
        with tempfile.TemporaryDirectory() as tmp:
            chart = Path(tmp) / "canarylint"
            shutil.copytree(CHART, chart)
            (chart / "templates" / "broken.yaml").write_text("kind: [\n{{ .Values.nope.nope }}\n")
            config = helm_sdkpy.Configuration(namespace="canarylint")
            result = asyncio.run(helm_sdkpy.Lint(config).run(str(chart)))
        errors = [m["Path"] for m in result["Messages"] if m["Severity"] == 3]
        self.assertEqual(errors, ["templates/"], result)
        self.assertTrue(result["Errors"], result)


class Versions(unittest.TestCase):
    def test_the_chart_ships_the_version_it_is_built_with(self):
        cargo = (REPO / "Cargo.toml").read_text()
        version = cargo.split("[workspace.package]", 1)[1].split('version = "', 1)[1].split('"')[0]
        chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
        self.assertEqual(chart["appVersion"], version)
        self.assertEqual(container(render())["image"], f"ghcr.io/canarylint/canarylint:{version}")


class SameAsKustomize(unittest.TestCase):
    maxDiff = None

    def test_default_values_render_the_objects_of_deploy(self):
        chart = {(o["kind"], o["metadata"]["name"]): normalized(o) for o in render()}
        base = {(o["kind"], o["metadata"]["name"]): normalized(o) for o in kustomize()}
        # The namespace is Helm's to create (`--create-namespace`), never a chart's.
        self.assertEqual(base.pop(("Namespace", "canarylint"))["metadata"]["labels"]
                         .get("pod-security.kubernetes.io/enforce"), "restricted")
        self.assertEqual(sorted(chart), sorted(base))
        for key in sorted(base):
            with self.subTest(object=key):
                self.assertEqual(chart[key], base[key])


class DefaultValues(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.objects = render()

    def test_the_pieces_fit_together(self):
        objects = self.objects
        deployment = one(objects, "Deployment")
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        self.assertTrue(selects(deployment["spec"]["selector"]["matchLabels"], pod_labels))
        service = one(objects, "Service")
        self.assertTrue(selects(service["spec"]["selector"], pod_labels))
        self.assertTrue(selects(one(objects, "PodDisruptionBudget")["spec"]["selector"]
                                ["matchLabels"], pod_labels))
        for constraint in deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]:
            self.assertTrue(selects(constraint["labelSelector"]["matchLabels"], pod_labels))
        pod = deployment["spec"]["template"]["spec"]
        sa = one(objects, "ServiceAccount")["metadata"]["name"]
        self.assertEqual(pod["serviceAccountName"], sa)
        self.assertEqual(one(objects, "ClusterRoleBinding")["subjects"][0]["name"], sa)
        serving = one(objects, "Certificate", "canarylint-webhook")
        self.assertEqual(pod["volumes"][0]["secret"]["secretName"], serving["spec"]["secretName"])
        self.assertIn(f"{service['metadata']['name']}.canarylint.svc", serving["spec"]["dnsNames"])
        vwc = one(objects, "ValidatingWebhookConfiguration")
        self.assertEqual(vwc["metadata"]["annotations"]["cert-manager.io/inject-ca-from"],
                         "canarylint/canarylint-webhook")
        for hook in vwc["webhooks"]:
            self.assertEqual(hook["clientConfig"]["service"]["name"], service["metadata"]["name"])
            self.assertEqual(hook["clientConfig"]["service"]["namespace"], "canarylint")
            self.assertEqual(hook["namespaceSelector"]["matchExpressions"], [
                {"key": "kubernetes.io/metadata.name", "operator": "NotIn",
                 "values": ["kube-system", "canarylint"]},
                {"key": "canarylint.io/webhook", "operator": "NotIn", "values": ["disabled"]},
            ])

    def test_deny_mode_fail_for_canaries_ignore_for_gateways(self):
        self.assertIn("--mode=deny", container(self.objects)["args"])
        hooks = {h["name"]: h for h in one(self.objects, "ValidatingWebhookConfiguration")
                 ["webhooks"]}
        self.assertEqual(hooks["canaries.canarylint.io"]["failurePolicy"], "Fail")
        self.assertEqual(hooks["gateways.canarylint.io"]["failurePolicy"], "Ignore")
        self.assertEqual(hooks["canaries.canarylint.io"]["timeoutSeconds"], 5)

    def test_no_service_monitor_no_secret_no_config(self):
        kinds = by_kind(self.objects)
        for kind in ("ServiceMonitor", "Secret", "ConfigMap"):
            self.assertNotIn(kind, kinds)


class NonDefaultValues(unittest.TestCase):
    def test_warn_mode_and_failure_policies(self):
        objects = render({"webhook": {"mode": "warn", "canaries": {"failurePolicy": "Ignore"},
                                      "gateways": {"protect": True}, "timeoutSeconds": 10}})
        args = container(objects)["args"]
        self.assertIn("--mode=warn", args)
        self.assertNotIn("--mode=deny", args)
        self.assertIn("--protect-gateways", args)
        hooks = one(objects, "ValidatingWebhookConfiguration")["webhooks"]
        self.assertEqual([h["failurePolicy"] for h in hooks], ["Ignore", "Ignore"])
        self.assertEqual({h["timeoutSeconds"] for h in hooks}, {10})

    def test_without_the_gateway_webhook(self):
        objects = render({"webhook": {"gateways": {"enabled": False}}})
        hooks = one(objects, "ValidatingWebhookConfiguration")["webhooks"]
        self.assertEqual([h["name"] for h in hooks], ["canaries.canarylint.io"])

    def test_service_monitor_selects_the_service(self):
        objects = render({"metrics": {"serviceMonitor": {"enabled": True,
                                                          "labels": {"release": "prom"}}}})
        monitor = one(objects, "ServiceMonitor")
        service = one(objects, "Service")
        self.assertEqual(monitor["metadata"]["labels"]["release"], "prom")
        self.assertTrue(selects(monitor["spec"]["selector"]["matchLabels"],
                                service["metadata"]["labels"]))
        self.assertEqual(monitor["spec"]["namespaceSelector"]["matchNames"], ["canarylint"])
        port = monitor["spec"]["endpoints"][0]["port"]
        self.assertIn(port, [p["name"] for p in service["spec"]["ports"]])

    def test_service_monitor_needs_the_prometheus_operator(self):
        error = render_error({"metrics": {"serviceMonitor": {"enabled": True}}},
                             prometheus_operator=False)
        self.assertIn("ServiceMonitor", error)

    def test_certificate_given_in_values(self):
        objects = render({"tls": {"certManager": {"enabled": False}, "certificate": PEM_CERT,
                                  "key": PEM_KEY, "caBundle": PEM_CERT}},
                         cert_manager=False)
        kinds = by_kind(objects)
        self.assertNotIn("Certificate", kinds)
        self.assertNotIn("Issuer", kinds)
        secret = one(objects, "Secret")
        self.assertEqual(secret["type"], "kubernetes.io/tls")
        import base64
        self.assertEqual(base64.b64decode(secret["data"]["tls.crt"]).decode(), PEM_CERT)
        self.assertEqual(base64.b64decode(secret["data"]["tls.key"]).decode(), PEM_KEY)
        pod = one(objects, "Deployment")["spec"]["template"]["spec"]
        self.assertEqual(pod["volumes"][0]["secret"]["secretName"], secret["metadata"]["name"])
        vwc = one(objects, "ValidatingWebhookConfiguration")
        self.assertNotIn("annotations", vwc["metadata"])
        for hook in vwc["webhooks"]:
            self.assertEqual(base64.b64decode(hook["clientConfig"]["caBundle"]).decode(), PEM_CERT)

    def test_existing_secret(self):
        objects = render({"tls": {"certManager": {"enabled": False}, "existingSecret": "my-tls",
                                  "caBundle": PEM_CERT}}, cert_manager=False)
        self.assertNotIn("Secret", by_kind(objects))
        pod = one(objects, "Deployment")["spec"]["template"]["spec"]
        self.assertEqual(pod["volumes"][0]["secret"]["secretName"], "my-tls")

    def test_an_issuer_of_ones_own(self):
        objects = render({"tls": {"certManager": {"issuerRef": {"kind": "ClusterIssuer",
                                                                "name": "internal-ca"}}}})
        certificates = by_kind(objects)["Certificate"]
        self.assertEqual(len(certificates), 1)
        self.assertNotIn("Issuer", by_kind(objects))
        self.assertEqual(certificates[0]["spec"]["issuerRef"],
                         {"kind": "ClusterIssuer", "name": "internal-ca"})

    def test_configuration_file(self):
        config = {"rules": {"CL103": "off"}, "defaultProvider": "istio"}
        objects = render({"config": config})
        configmap = one(objects, "ConfigMap")
        self.assertEqual(yaml.safe_load(configmap["data"]["canarylint.yaml"]), config)
        c = container(objects)
        self.assertIn("--config=/etc/canarylint/canarylint.yaml", c["args"])
        self.assertIn({"name": "config", "mountPath": "/etc/canarylint", "readOnly": True},
                      c["volumeMounts"])
        annotations = one(objects, "Deployment")["spec"]["template"]["metadata"]["annotations"]
        self.assertIn("checksum/config", annotations)

    def test_another_release_and_namespace(self):
        objects = render({"webhook": {"excludeNamespaces": ["istio-system"]}},
                         release="lint", namespace="platform")
        service = one(objects, "Service")
        self.assertEqual(service["metadata"]["name"], "lint-canarylint-webhook")
        for o in objects:
            if o["kind"] not in ("ClusterRole", "ClusterRoleBinding",
                                 "ValidatingWebhookConfiguration"):
                self.assertEqual(o["metadata"]["namespace"], "platform", o["kind"])
        serving = one(objects, "Certificate", "lint-canarylint-webhook")
        self.assertEqual(serving["spec"]["dnsNames"][0], "lint-canarylint-webhook.platform.svc")
        vwc = one(objects, "ValidatingWebhookConfiguration")
        self.assertEqual(vwc["metadata"]["name"], "lint-canarylint")
        self.assertEqual(vwc["metadata"]["annotations"]["cert-manager.io/inject-ca-from"],
                         "platform/lint-canarylint-webhook")
        for hook in vwc["webhooks"]:
            self.assertEqual(hook["namespaceSelector"]["matchExpressions"][0]["values"],
                             ["kube-system", "platform", "istio-system"])
            self.assertEqual(hook["clientConfig"]["service"]["namespace"], "platform")

    def test_server_flags(self):
        args = container(render({"provider": "gatewayapi:v1", "watchNamespaces": ["a", "b"],
                                 "webhook": {"failClosedReferences": True},
                                 "bodyLimit": 2097152, "extraArgs": ["--request-timeout=5"],
                                 "logLevel": "debug"}))["args"]
        for arg in ("--provider=gatewayapi:v1", "--watch-namespaces=a,b",
                    "--fail-closed-references", "--body-limit=2097152", "--request-timeout=5"):
            self.assertIn(arg, args)

    def test_image_digest_wins_over_the_tag(self):
        digest = "sha256:" + "a" * 64
        c = container(render({"image": {"tag": "9.9.9", "digest": digest}}))
        self.assertEqual(c["image"], f"ghcr.io/canarylint/canarylint@{digest}")
        c = container(render({"image": {"tag": "9.9.9"}}))
        self.assertEqual(c["image"], "ghcr.io/canarylint/canarylint:9.9.9")

    def test_older_clusters(self):
        # Before 1.30 there is no sleep action; before 1.21 no policy/v1.
        objects = render(version="1.20.2")
        self.assertNotIn("lifecycle", container(objects))
        self.assertEqual(one(objects, "PodDisruptionBudget")["apiVersion"], "policy/v1beta1")
        objects = render(version="1.30.0")
        self.assertEqual(container(objects)["lifecycle"]["preStop"]["sleep"]["seconds"], 5)
        self.assertEqual(one(objects, "PodDisruptionBudget")["apiVersion"], "policy/v1")

    def test_every_ci_values_file_renders(self):
        for path in CI_VALUES:
            with self.subTest(values=path.name):
                objects = render(yaml.safe_load(path.read_text()),
                                 cert_manager=True, prometheus_operator=True)
                self.assertTrue(by_kind(objects)["Deployment"])


class SchemaRefuses(unittest.TestCase):
    def test_an_unknown_mode(self):
        error = render_error({"webhook": {"mode": "block"}})
        self.assertIn("mode", error)

    def test_an_unknown_failure_policy(self):
        self.assertIn("failurePolicy",
                      render_error({"webhook": {"canaries": {"failurePolicy": "fail"}}}))

    def test_a_misspelt_value(self):
        self.assertIn("replicas", render_error({"replicas": 3}))

    def test_no_certificate_without_cert_manager(self):
        error = render_error({"tls": {"certManager": {"enabled": False}}}, cert_manager=False)
        self.assertIn("caBundle", error)

    def test_a_key_that_is_not_pem(self):
        error = render_error({"tls": {"certManager": {"enabled": False}, "certificate": PEM_CERT,
                                      "key": "not a key", "caBundle": PEM_CERT}},
                             cert_manager=False)
        self.assertIn("key", error)


if __name__ == "__main__":
    unittest.main(verbosity=2)
