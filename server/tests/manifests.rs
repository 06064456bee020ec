//! deploy/ against the code: the webhook path and port, the RBAC rules, the admitted requests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;

use canarylint::{Budget, Node};
use canarylint_server::admission::{HANDLED, VALIDATE_PATH};
use canarylint_workspace::cluster::WATCHED;
use common::*;

/// Every document of every manifest in deploy/, with its file name.
fn manifests() -> Vec<(String, Node)> {
    let dir = repo().join("deploy");
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let stream = canarylint::yaml::parse_stream(&text, &Budget::GENEROUS);
        assert!(
            stream.errors.is_empty(),
            "{}: {:?}",
            f.display(),
            stream.errors
        );
        for d in stream.documents {
            out.push((
                f.file_name().unwrap().to_string_lossy().into_owned(),
                d.root,
            ));
        }
    }
    out
}

fn s<'a>(n: &'a Node, path: &[&str]) -> &'a str {
    n.at(path)
        .and_then(Node::as_str)
        .unwrap_or_else(|| panic!("no string at {path:?}"))
}

fn strings(n: Option<&Node>) -> BTreeSet<String> {
    n.map(Node::items)
        .unwrap_or_default()
        .iter()
        .map(|i| i.as_str().unwrap().to_string())
        .collect()
}

fn find<'a>(all: &'a [(String, Node)], kind: &str) -> Vec<&'a Node> {
    all.iter()
        .map(|(_, n)| n)
        .filter(|n| n.get("kind").and_then(Node::as_str) == Some(kind))
        .collect()
}

fn one<'a>(all: &'a [(String, Node)], kind: &str) -> &'a Node {
    let found = find(all, kind);
    assert_eq!(found.len(), 1, "expected one {kind}");
    found[0]
}

#[test]
fn kustomization_lists_every_manifest() {
    let all = manifests();
    let k = one(&all, "Kustomization");
    let listed = strings(k.get("resources"));
    let files: BTreeSet<String> = all
        .iter()
        .map(|(f, _)| f.clone())
        .filter(|f| f != "kustomization.yaml")
        .collect();
    assert_eq!(listed, files);
    let ns = one(&all, "Namespace");
    assert_eq!(s(k, &["namespace"]), s(ns, &["metadata", "name"]));
}

#[test]
fn the_webhook_configuration_reaches_the_server() {
    let all = manifests();
    let ns = s(one(&all, "Namespace"), &["metadata", "name"]);
    let vwc = one(&all, "ValidatingWebhookConfiguration");
    let svc = one(&all, "Service");
    let deploy = one(&all, "Deployment");
    let container = &deploy
        .at(&["spec", "template", "spec", "containers"])
        .unwrap()
        .items()[0];
    let argv: Vec<&str> = container
        .get("args")
        .unwrap()
        .items()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(argv[0], "serve");
    let serve = args(&argv[1..]);
    let port_named = |name: &str| -> i64 {
        container
            .get("ports")
            .unwrap()
            .items()
            .iter()
            .find(|p| p.get("name").and_then(Node::as_str) == Some(name))
            .and_then(|p| p.get("containerPort"))
            .and_then(Node::as_i64)
            .unwrap_or_else(|| panic!("no container port {name}"))
    };
    assert_eq!(port_named("https"), i64::from(serve.listen.port()));
    assert_eq!(
        port_named("metrics"),
        i64::from(serve.metrics_listen.unwrap().port())
    );
    // What one request may cost stays well inside the memory limit (docs/security.md).
    assert!(serve.body_limit <= 1 << 20, "{}", serve.body_limit);

    let webhooks = vwc.get("webhooks").unwrap().items();
    assert!(!webhooks.is_empty());
    let mut routed = BTreeSet::new();
    for w in webhooks {
        let name = s(w, &["name"]);
        assert_eq!(
            s(w, &["clientConfig", "service", "path"]),
            VALIDATE_PATH,
            "{name}"
        );
        assert_eq!(
            s(w, &["clientConfig", "service", "name"]),
            s(svc, &["metadata", "name"]),
            "{name}"
        );
        assert_eq!(
            s(w, &["clientConfig", "service", "namespace"]),
            ns,
            "{name}"
        );
        let port = w
            .at(&["clientConfig", "service", "port"])
            .and_then(Node::as_i64)
            .unwrap();
        let svc_port = svc
            .at(&["spec", "ports"])
            .unwrap()
            .items()
            .iter()
            .find(|p| p.get("port").and_then(Node::as_i64) == Some(port))
            .unwrap_or_else(|| panic!("{name}: the Service has no port {port}"));
        assert_eq!(s(svc_port, &["targetPort"]), "https", "{name}");
        assert_eq!(
            strings(w.get("admissionReviewVersions")),
            BTreeSet::from(["v1".to_string()]),
            "{name}"
        );
        assert_eq!(s(w, &["sideEffects"]), "None", "{name}");
        assert_eq!(
            w.get("timeoutSeconds").and_then(Node::as_i64),
            Some(5),
            "{name}"
        );
        assert!(
            matches!(s(w, &["failurePolicy"]), "Fail" | "Ignore"),
            "{name}"
        );
        let skipped: BTreeSet<String> = w
            .at(&["namespaceSelector", "matchExpressions"])
            .unwrap()
            .items()
            .iter()
            .filter(|e| {
                s(e, &["key"]) == "kubernetes.io/metadata.name" && s(e, &["operator"]) == "NotIn"
            })
            .flat_map(|e| strings(e.get("values")))
            .collect();
        assert!(
            skipped.contains("kube-system") && skipped.contains(ns),
            "{name}: {skipped:?}"
        );
        // Kubernetes 1.20 has no kubernetes.io/metadata.name label: the opt-out label is the
        // exclusion that works there, and the webhook's own namespace carries it.
        let opted_out: BTreeSet<String> = w
            .at(&["namespaceSelector", "matchExpressions"])
            .unwrap()
            .items()
            .iter()
            .filter(|e| s(e, &["key"]) == "canarylint.io/webhook" && s(e, &["operator"]) == "NotIn")
            .flat_map(|e| strings(e.get("values")))
            .collect();
        assert_eq!(
            opted_out,
            BTreeSet::from(["disabled".to_string()]),
            "{name}"
        );
        assert_eq!(
            s(
                one(&all, "Namespace"),
                &["metadata", "labels", "canarylint.io/webhook"]
            ),
            "disabled"
        );
        for r in w.get("rules").unwrap().items() {
            for group in strings(r.get("apiGroups")) {
                for resource in strings(r.get("resources")) {
                    for op in strings(r.get("operations")) {
                        routed.insert((group.clone(), resource.clone(), op));
                    }
                }
            }
        }
    }
    let handled: BTreeSet<(String, String, String)> = HANDLED
        .iter()
        .flat_map(|h| {
            h.operations
                .iter()
                .map(|op| (h.group.to_string(), h.resource.to_string(), op.to_string()))
        })
        .collect();
    assert_eq!(
        routed, handled,
        "the webhook rules must send exactly what the server acts on"
    );

    // The CA comes from the serving Certificate, whose Secret the pod mounts.
    let inject = vwc
        .at(&["metadata", "annotations", "cert-manager.io/inject-ca-from"])
        .and_then(Node::as_str)
        .unwrap();
    let cert = find(&all, "Certificate")
        .into_iter()
        .find(|c| format!("{ns}/{}", s(c, &["metadata", "name"])) == inject)
        .expect("the injected Certificate exists");
    let dns = strings(cert.at(&["spec", "dnsNames"]));
    assert!(
        dns.contains(&format!("{}.{ns}.svc", s(svc, &["metadata", "name"]))),
        "{dns:?}"
    );
    let secret = s(cert, &["spec", "secretName"]);
    let volumes = deploy
        .at(&["spec", "template", "spec", "volumes"])
        .unwrap()
        .items();
    let tls = volumes
        .iter()
        .find(|v| v.at(&["secret", "secretName"]).and_then(Node::as_str) == Some(secret))
        .unwrap();
    let mount = container
        .get("volumeMounts")
        .unwrap()
        .items()
        .iter()
        .find(|m| s(m, &["name"]) == s(tls, &["name"]))
        .unwrap();
    let dir = s(mount, &["mountPath"]);
    assert_eq!(
        serve.tls_cert.unwrap(),
        std::path::Path::new(dir).join("tls.crt")
    );
    assert_eq!(
        serve.tls_key.unwrap(),
        std::path::Path::new(dir).join("tls.key")
    );
}

#[test]
fn probes_hit_the_health_routes() {
    let all = manifests();
    let deploy = one(&all, "Deployment");
    let spec = deploy.at(&["spec", "template", "spec"]).unwrap();
    let c = &spec.get("containers").unwrap().items()[0];
    assert_eq!(s(c, &["readinessProbe", "httpGet", "path"]), "/readyz");
    assert_eq!(s(c, &["livenessProbe", "httpGet", "path"]), "/healthz");
    assert_eq!(s(c, &["readinessProbe", "httpGet", "port"]), "metrics");
    assert!(
        deploy
            .at(&["spec", "replicas"])
            .and_then(Node::as_i64)
            .unwrap()
            >= 2
    );
    assert_eq!(
        c.at(&["securityContext", "readOnlyRootFilesystem"])
            .and_then(Node::as_bool),
        Some(true)
    );
    assert_eq!(
        c.at(&["securityContext", "allowPrivilegeEscalation"])
            .and_then(Node::as_bool),
        Some(false)
    );
    assert_eq!(
        spec.at(&["securityContext", "runAsNonRoot"])
            .and_then(Node::as_bool),
        Some(true)
    );
    assert_eq!(
        s(spec, &["securityContext", "seccompProfile", "type"]),
        "RuntimeDefault"
    );
    assert_eq!(
        strings(c.at(&["securityContext", "capabilities", "drop"])),
        BTreeSet::from(["ALL".to_string()])
    );
    assert!(c.at(&["securityContext", "capabilities", "add"]).is_none());
    assert_ne!(
        c.at(&["securityContext", "privileged"])
            .and_then(Node::as_bool),
        Some(true)
    );
    for host in ["hostNetwork", "hostPID", "hostIPC"] {
        assert_ne!(spec.get(host).and_then(Node::as_bool), Some(true), "{host}");
    }
    // The only volume is the serving certificate, mounted read-only.
    for m in c.get("volumeMounts").unwrap().items() {
        assert_eq!(m.get("readOnly").and_then(Node::as_bool), Some(true));
    }
    assert!(
        c.at(&["resources", "requests", "memory"]).is_some()
            && c.at(&["resources", "limits", "memory"]).is_some()
    );
    assert!(
        !spec
            .get("topologySpreadConstraints")
            .unwrap()
            .items()
            .is_empty()
    );
    let pdb = one(&all, "PodDisruptionBudget");
    let labels = |n: Option<&Node>| -> BTreeSet<(String, String)> {
        n.unwrap()
            .entries()
            .iter()
            .map(|e| (e.key.to_string(), e.value.as_str().unwrap().to_string()))
            .collect()
    };
    let pods = labels(deploy.at(&["spec", "template", "metadata", "labels"]));
    for sel in [
        pdb.at(&["spec", "selector", "matchLabels"]),
        one(&all, "Service").at(&["spec", "selector"]),
        deploy.at(&["spec", "selector", "matchLabels"]),
    ] {
        assert!(labels(sel).is_subset(&pods));
    }
}

#[test]
fn the_cluster_role_covers_every_watched_kind_read_only() {
    let all = manifests();
    let role = one(&all, "ClusterRole");
    let mut granted = BTreeSet::new();
    for r in role.get("rules").unwrap().items() {
        let verbs = strings(r.get("verbs"));
        // The watches list and watch; nothing reads single objects, so not even `get`.
        let read = BTreeSet::from(["list".to_string(), "watch".to_string()]);
        assert_eq!(verbs, read, "only list and watch");
        for g in strings(r.get("apiGroups")) {
            for res in strings(r.get("resources")) {
                granted.insert((g.clone(), res));
            }
        }
    }
    let watched: BTreeSet<(String, String)> = WATCHED
        .iter()
        .map(|w| (w.group.to_string(), w.resource.to_string()))
        .collect();
    assert_eq!(granted, watched);
    let binding = one(&all, "ClusterRoleBinding");
    let sa = one(&all, "ServiceAccount");
    assert_eq!(
        s(binding, &["roleRef", "name"]),
        s(role, &["metadata", "name"])
    );
    assert_eq!(
        s(&binding.get("subjects").unwrap().items()[0], &["name"]),
        s(sa, &["metadata", "name"])
    );
    let deploy = one(&all, "Deployment");
    assert_eq!(
        s(deploy, &["spec", "template", "spec", "serviceAccountName"]),
        s(sa, &["metadata", "name"])
    );
}
