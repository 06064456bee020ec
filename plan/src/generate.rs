//! The objects Flagger creates for a Canary: the Services (kubernetes_default.go), the primary
//! workload and autoscaler (copies we only name), and the routing objects of the Istio router
//! (istio.go) and the Gateway API router (gateway_api.go), with the weights of one step.

use serde_json::{Map, Value as J, json};

use super::resolve::{Effective, Router, ServiceEff};
use super::{GeneratedObject, Manifest, Note, NoteLevel, Step};

/// The random part of a session-affinity cookie (Flagger draws ten letters per run).
const COOKIE_VALUE: &str = "<random>";

pub(crate) fn generate(
    e: &Effective,
    at: Option<&Step>,
    notes: &mut Vec<Note>,
) -> Vec<GeneratedObject> {
    let mut out = Vec::new();
    let knative =
        e.router == Router::Knative || e.target_api_version.starts_with("serving.knative.dev");
    if knative {
        notes.push(note(
            NoteLevel::Info,
            "Knative target: Flagger shifts traffic between revisions of the Knative Service; no Services or routes are generated",
        ));
        return out;
    }
    let workload = matches!(e.target_kind.as_str(), "Deployment" | "DaemonSet");
    if let (true, Some(s)) = (workload, e.service.as_ref()) {
        let (_, value) = &e.selector;
        let primary_value = format!("{value}-primary");
        out.push(service(e, s, &e.apex, &primary_value, s.apex_meta.as_ref()));
        out.push(service(
            e,
            s,
            &e.primary_name(),
            &primary_value,
            s.primary_meta.as_ref(),
        ));
        out.push(service(
            e,
            s,
            &e.canary_name(),
            value,
            s.canary_meta.as_ref(),
        ));
    } else if !workload {
        notes.push(note(
            NoteLevel::Info,
            format!(
                "target kind {}: the Services Flagger derives for it are not shown",
                e.target_kind
            ),
        ));
    }
    if workload {
        let (label, value) = &e.selector;
        out.push(GeneratedObject {
            api_version: e.target_api_version.clone(),
            kind: e.target_kind.clone(),
            namespace: e.namespace.clone(),
            name: format!("{}-primary", e.target_name),
            summary: format!(
                "a copy of {} {} with matchLabels {label}: {value}-primary (other matchLabels are not copied)",
                e.target_kind, e.target_name
            ),
            manifest: None,
        });
    }
    if let Some((kind, name, api)) = &e.autoscaler {
        out.push(GeneratedObject {
            api_version: api.clone(),
            kind: kind.clone(),
            namespace: e.namespace.clone(),
            name: format!("{name}-primary"),
            summary: format!(
                "a copy of {kind} {name} that scales {}-primary",
                e.target_name
            ),
            manifest: None,
        });
    }
    let Some(s) = e.service.as_ref() else {
        return out;
    };
    let weights = at.map_or((100, 0, false), |st| {
        (
            i64::from(st.primary_weight),
            i64::from(st.weight),
            st.mirrored,
        )
    });
    let step_label = at.map_or_else(String::new, |st| format!(" (as at step {})", st.index));
    match e.router {
        Router::Istio => {
            for name in [e.primary_name(), e.canary_name()] {
                out.push(destination_rule(e, s, &name));
            }
            if s.delegation && (!s.hosts.is_empty() || !s.gateways.is_empty()) {
                // istio.go `reconcileVirtualService` returns before it writes anything.
                notes.push(note(
                    NoteLevel::Blocker,
                    format!(
                        "no VirtualService: Flagger fails with \"VirtualService {}.{} cannot have hosts and gateways when delegation enabled\"",
                        e.apex, e.namespace
                    ),
                ));
            } else {
                out.push(virtual_service(e, s, weights, &step_label, notes));
            }
        }
        Router::GatewayApi => out.push(http_route(e, s, weights, &step_label, notes)),
        Router::Kubernetes => {}
        Router::Knative | Router::Other => notes.push(note(
            NoteLevel::Info,
            "the routing objects of this provider are not shown; the plan lists the Services only",
        )),
    }
    out
}

fn note(level: NoteLevel, text: impl Into<String>) -> Note {
    Note {
        level,
        text: text.into(),
    }
}

fn obj(pairs: Vec<(&str, J)>) -> J {
    let mut m = Map::new();
    for (k, v) in pairs {
        if !v.is_null() {
            m.insert(k.to_string(), v);
        }
    }
    J::Object(m)
}

fn opt(v: Option<&J>) -> J {
    v.cloned().unwrap_or(J::Null)
}

/// What Flagger writes into the metadata of an object it generates.
#[derive(Clone, Copy)]
struct Meta<'a> {
    /// `service.apex`, `service.primary` or `service.canary`.
    custom: Option<&'a J>,
    /// A label Flagger sets on top of the custom ones.
    extra_label: Option<(&'a str, &'a str)>,
    /// pkg/router/util.go `filterMetadata`: the annotations that keep Flux from reverting
    /// the object (Services and the VirtualService get them).
    flux_annotations: bool,
}

/// The annotations `filterMetadata` adds to every Flagger-managed Service and VirtualService.
const FLUX_ANNOTATIONS: [(&str, &str); 2] = [
    ("kustomize.toolkit.fluxcd.io/reconcile", "disabled"),
    ("helm.toolkit.fluxcd.io/driftDetection", "disabled"),
];

fn metadata(e: &Effective, name: &str, meta: Meta<'_>) -> J {
    let mut labels = meta
        .custom
        .and_then(|m| m.get("labels"))
        .and_then(J::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some((k, v)) = meta.extra_label {
        labels.insert(k.to_string(), J::from(v));
    }
    let mut annotations = meta
        .custom
        .and_then(|m| m.get("annotations"))
        .and_then(J::as_object)
        .cloned()
        .unwrap_or_default();
    if meta.flux_annotations {
        for (k, v) in FLUX_ANNOTATIONS {
            annotations.insert(k.to_string(), J::from(v));
        }
    }
    // metav1.NewControllerRef(canary, …): Flagger owns what it generates (the routers do so
    // unless Flagger runs with owner references turned off).
    let owner = json!([{
        "apiVersion": "flagger.app/v1beta1",
        "kind": "Canary",
        "name": e.name,
        "uid": "<uid of the Canary>",
        "controller": true,
        "blockOwnerDeletion": true,
    }]);
    obj(vec![
        ("name", J::from(name)),
        ("namespace", J::from(e.namespace.as_str())),
        (
            "labels",
            if labels.is_empty() {
                J::Null
            } else {
                J::Object(labels)
            },
        ),
        (
            "annotations",
            if annotations.is_empty() {
                J::Null
            } else {
                J::Object(annotations)
            },
        ),
        ("ownerReferences", owner),
    ])
}

fn port_text(v: &J) -> String {
    match v {
        J::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn service(
    e: &Effective,
    s: &ServiceEff,
    name: &str,
    select: &str,
    meta: Option<&J>,
) -> GeneratedObject {
    let (label, _) = &e.selector;
    let mut ports = vec![obj(vec![
        ("name", J::from(s.port_name.as_str())),
        ("protocol", J::from("TCP")),
        ("port", J::from(s.port)),
        ("targetPort", s.target_port.clone()),
        (
            "appProtocol",
            s.app_protocol.as_deref().map_or(J::Null, J::from),
        ),
    ])];
    for (pname, p) in &e.discovered_ports {
        ports.push(obj(vec![
            ("name", J::from(pname.as_str())),
            ("protocol", J::from("TCP")),
            ("port", J::from(*p)),
            ("targetPort", J::from(*p)),
        ]));
    }
    let manifest = obj(vec![
        ("apiVersion", J::from("v1")),
        ("kind", J::from("Service")),
        // Flagger labels each Service `<selector label>: <its own name>`.
        (
            "metadata",
            metadata(
                e,
                name,
                Meta {
                    custom: meta,
                    extra_label: Some((label, name)),
                    flux_annotations: true,
                },
            ),
        ),
        (
            "spec",
            obj(vec![
                ("type", J::from("ClusterIP")),
                (
                    "clusterIP",
                    if s.headless { J::from("None") } else { J::Null },
                ),
                ("selector", json!({ label.as_str(): select })),
                ("ports", J::Array(ports)),
                (
                    "trafficDistribution",
                    s.traffic_distribution.as_deref().map_or(J::Null, J::from),
                ),
            ]),
        ),
    ]);
    let extra = if e.discovered_ports.is_empty() {
        String::new()
    } else {
        format!(", +{} discovered port(s)", e.discovered_ports.len())
    };
    GeneratedObject {
        api_version: "v1".into(),
        kind: "Service".into(),
        namespace: e.namespace.clone(),
        name: name.to_string(),
        summary: format!(
            "{}port {} {} → {}{extra}; selects {label}: {select}",
            if s.headless {
                "headless, "
            } else {
                "ClusterIP, "
            },
            s.port_name,
            s.port,
            port_text(&s.target_port)
        ),
        manifest: Some(Manifest(manifest)),
    }
}

// ----- Istio -----

const ISTIO_API: &str = "networking.istio.io/v1beta1";

fn destination_rule(e: &Effective, s: &ServiceEff, name: &str) -> GeneratedObject {
    let manifest = obj(vec![
        ("apiVersion", J::from(ISTIO_API)),
        ("kind", J::from("DestinationRule")),
        (
            "metadata",
            metadata(
                e,
                name,
                Meta {
                    custom: None,
                    extra_label: None,
                    flux_annotations: false,
                },
            ),
        ),
        (
            "spec",
            obj(vec![
                ("host", J::from(name)),
                ("trafficPolicy", opt(s.traffic_policy.as_ref())),
            ]),
        ),
    ]);
    GeneratedObject {
        api_version: ISTIO_API.into(),
        kind: "DestinationRule".into(),
        namespace: e.namespace.clone(),
        name: name.to_string(),
        summary: format!(
            "host {name}; {}",
            if s.traffic_policy.is_some() {
                "trafficPolicy from service.trafficPolicy"
            } else {
                "no trafficPolicy"
            }
        ),
        manifest: Some(Manifest(manifest)),
    }
}

/// Istio's `mergeMatchConditions`: every analysis condition crossed with every service
/// condition, the analysis headers and sourceLabels taking precedence.
fn merge_istio(analysis: &[J], service: &[J]) -> Vec<J> {
    if service.is_empty() {
        return analysis.to_vec();
    }
    let mut out = Vec::new();
    for a in analysis {
        for d in service {
            let mut m = d.clone();
            if let (Some(mm), Some(am)) = (m.as_object_mut(), a.as_object()) {
                for key in ["headers", "sourceLabels"] {
                    if let Some(v) = am.get(key) {
                        mm.insert(key.to_string(), v.clone());
                    }
                }
            }
            out.push(m);
        }
    }
    out
}

fn items(v: Option<&J>) -> Vec<J> {
    v.and_then(J::as_array).cloned().unwrap_or_default()
}

fn istio_destination(s: &ServiceEff, host: &str, weight: Option<i64>) -> J {
    // makeDestination: an explicit port when ports are discovered and the route serves a
    // gateway (or is a delegate).
    let with_port =
        s.port_discovery && ((!s.gateways.is_empty() && s.gateways[0] != "mesh") || s.delegation);
    obj(vec![
        (
            "destination",
            obj(vec![
                ("host", J::from(host)),
                (
                    "port",
                    if with_port {
                        json!({ "number": s.port })
                    } else {
                        J::Null
                    },
                ),
            ]),
        ),
        ("weight", weight.map_or(J::Null, J::from)),
    ])
}

fn istio_http(s: &ServiceEff, matches: Vec<J>, route: Vec<J>) -> J {
    // GetIstioRewrite: `type` belongs to Gateway API and is left out.
    let rewrite = s.rewrite.as_ref().map(|r| {
        let mut r = r.clone();
        if let Some(m) = r.as_object_mut() {
            m.remove("type");
        }
        r
    });
    obj(vec![
        (
            "match",
            if matches.is_empty() {
                J::Null
            } else {
                J::Array(matches)
            },
        ),
        ("rewrite", rewrite.unwrap_or(J::Null)),
        ("timeout", s.timeout.as_deref().map_or(J::Null, J::from)),
        ("retries", opt(s.retries.as_ref())),
        ("corsPolicy", opt(s.cors_policy.as_ref())),
        ("headers", opt(s.headers.as_ref())),
        ("route", J::Array(route)),
    ])
}

fn set_cookie(name: &str, max_age: i64) -> String {
    format!("{name}={COOKIE_VALUE}; Max-Age={max_age}")
}

fn cookie_regex(name: &str) -> String {
    format!(".*{name}.*{COOKIE_VALUE}.*")
}

fn virtual_service(
    e: &Effective,
    s: &ServiceEff,
    (p, c, mirrored): (i64, i64, bool),
    step_label: &str,
    notes: &mut Vec<Note>,
) -> GeneratedObject {
    let (primary, canary) = (e.primary_name(), e.canary_name());
    let (hosts, gateways) = if s.delegation {
        (Vec::new(), Vec::new())
    } else {
        let mut hosts = s.hosts.clone();
        if !hosts.iter().any(|h| h == &e.apex || h == "*") {
            hosts.push(e.apex.clone());
        }
        let mut gateways = s.gateways.clone();
        if gateways.is_empty() {
            gateways.push("mesh".into());
        }
        (hosts, gateways)
    };
    let svc_match = items(s.match_.as_ref());
    let mut summary_extra = Vec::new();
    // istio.go builds `spec.tcp` instead of `spec.http` for `appProtocol: tcp` (any case):
    // L4 matches keep only the port, and the HTTP-only fields (retries, timeout, headers,
    // corsPolicy, rewrite, mirror, cookies, A/B matches) have no place there.
    let tcp = s
        .app_protocol
        .as_deref()
        .is_some_and(|p| p.eq_ignore_ascii_case("tcp"));
    let (routes_key, routes): (&str, Vec<J>) = if tcp {
        let ports: Vec<J> = svc_match
            .iter()
            .filter_map(|m| m.get("port").cloned())
            .map(|port| json!({ "port": port }))
            .collect();
        summary_extra.push("TCP routes".to_string());
        if e.analysis_match.is_some() || e.session_affinity.is_some() || mirrored {
            notes.push(note(
                NoteLevel::Info,
                "appProtocol tcp: the VirtualService has TCP routes only, so analysis.match, sessionAffinity and mirroring do not apply",
            ));
        }
        (
            "tcp",
            vec![obj(vec![
                (
                    "match",
                    if ports.is_empty() {
                        J::Null
                    } else {
                        J::Array(ports)
                    },
                ),
                (
                    "route",
                    json!([
                        istio_destination(s, &primary, Some(p)),
                        istio_destination(s, &canary, Some(c))
                    ]),
                ),
            ])],
        )
    } else {
        (
            "http",
            http_routes(
                e,
                s,
                (p, c, mirrored),
                &svc_match,
                &mut summary_extra,
                notes,
            ),
        )
    };
    let manifest = obj(vec![
        ("apiVersion", J::from(ISTIO_API)),
        ("kind", J::from("VirtualService")),
        (
            "metadata",
            metadata(
                e,
                &e.apex,
                Meta {
                    custom: s.apex_meta.as_ref(),
                    // kubernetes_default.go adds the selector label to the apex metadata it
                    // shares with the Canary's spec, so the route built from the same
                    // `service.apex` after it carries the label too.
                    extra_label: s
                        .apex_meta
                        .as_ref()
                        .map(|_| (e.selector.0.as_str(), e.apex.as_str())),
                    flux_annotations: true,
                },
            ),
        ),
        (
            "spec",
            obj(vec![
                (
                    "hosts",
                    if hosts.is_empty() {
                        J::Null
                    } else {
                        J::from(hosts.clone())
                    },
                ),
                (
                    "gateways",
                    if gateways.is_empty() {
                        J::Null
                    } else {
                        J::from(gateways.clone())
                    },
                ),
                (routes_key, J::Array(routes)),
            ]),
        ),
    ]);
    let mut summary = if s.delegation {
        "delegate (no hosts, no gateways)".to_string()
    } else {
        format!(
            "hosts {}; gateways {}",
            hosts.join(", "),
            gateways.join(", ")
        )
    };
    summary.push_str(&format!("; primary {p} / canary {c}{step_label}"));
    for x in summary_extra {
        summary.push_str("; ");
        summary.push_str(&x);
    }
    GeneratedObject {
        api_version: ISTIO_API.into(),
        kind: "VirtualService".into(),
        namespace: e.namespace.clone(),
        name: e.apex.clone(),
        summary,
        manifest: Some(Manifest(manifest)),
    }
}

/// The `http` routes of the VirtualService at one step.
fn http_routes(
    e: &Effective,
    s: &ServiceEff,
    (p, c, mirrored): (i64, i64, bool),
    svc_match: &[J],
    summary_extra: &mut Vec<String>,
    notes: &mut Vec<Note>,
) -> Vec<J> {
    let (primary, canary) = (e.primary_name(), e.canary_name());
    if let Some(am) = e.analysis_match.as_ref() {
        // A/B routing: matching requests get the weights, the rest stay on the primary. Istio
        // sends all of a route's traffic to a lone destination, so its weight is left out.
        summary_extra.push("matching requests only".to_string());
        vec![
            istio_http(
                s,
                merge_istio(&items(Some(am)), svc_match),
                vec![
                    istio_destination(s, &primary, Some(p)),
                    istio_destination(s, &canary, Some(c)),
                ],
            ),
            istio_http(
                s,
                svc_match.to_vec(),
                vec![istio_destination(s, &primary, None)],
            ),
        ]
    } else {
        let mut weighted = istio_http(
            s,
            svc_match.to_vec(),
            vec![
                istio_destination(s, &primary, Some(p)),
                istio_destination(s, &canary, Some(c)),
            ],
        );
        let mut routes = Vec::new();
        match &e.session_affinity {
            Some(sa) if c > 0 => {
                let mut sticky = weighted.clone();
                add_response_header(&mut weighted, 1, &set_cookie(&sa.cookie_name, sa.max_age));
                let mut primary_sticky = None;
                if let Some(pc) = &sa.primary_cookie_name {
                    let max_age = e.interval_raw.map_or(0, super::duration::whole_seconds) as i64;
                    add_response_header(&mut weighted, 0, &set_cookie(pc, max_age));
                    let mut ps = sticky.clone();
                    set_http(
                        &mut ps,
                        "match",
                        J::Array(merge_istio(&[cookie_match_istio(pc)], svc_match)),
                    );
                    set_http(
                        &mut ps,
                        "route",
                        json!([
                            istio_destination(s, &primary, Some(100)),
                            istio_destination(s, &canary, Some(0))
                        ]),
                    );
                    primary_sticky = Some(ps);
                }
                set_http(
                    &mut sticky,
                    "match",
                    J::Array(merge_istio(
                        &[cookie_match_istio(&sa.cookie_name)],
                        svc_match,
                    )),
                );
                set_http(
                    &mut sticky,
                    "route",
                    json!([
                        istio_destination(s, &primary, Some(0)),
                        istio_destination(s, &canary, Some(100))
                    ]),
                );
                routes.push(sticky);
                routes.extend(primary_sticky);
                summary_extra.push(format!(
                    "cookie {} pins users to the canary",
                    sa.cookie_name
                ));
            }
            Some(_) => {
                summary_extra.push("no sticky route while the canary weight is 0".to_string())
            }
            None => {}
        }
        routes.push(weighted);
        if mirrored {
            if let Some(first) = routes.first_mut() {
                set_http(first, "mirror", json!({ "host": canary }));
                if e.mirror_weight > 0 {
                    set_http(
                        first,
                        "mirrorPercentage",
                        json!({ "value": e.mirror_weight }),
                    );
                }
            }
            summary_extra.push(format!(
                "mirror {}% to {canary}",
                if e.mirror_weight > 0 {
                    e.mirror_weight
                } else {
                    100
                }
            ));
            if e.session_affinity.is_some() {
                notes.push(note(
                    NoteLevel::Warning,
                    "mirror with sessionAffinity on Istio: the mirror goes on the first http route (the sticky route), which is not the route Flagger reads the weights and the mirror back from; the mirrored step may repeat",
                ));
            }
        }
        routes
    }
}

fn cookie_match_istio(cookie: &str) -> J {
    json!({ "headers": { "Cookie": { "regex": cookie_regex(cookie) } } })
}

fn set_http(route: &mut J, key: &str, value: J) {
    if let Some(m) = route.as_object_mut() {
        m.insert(key.to_string(), value);
    }
}

/// Adds `Set-Cookie` to the response headers of one destination of an Istio http route.
fn add_response_header(route: &mut J, dest: usize, value: &str) {
    if let Some(d) = route
        .get_mut("route")
        .and_then(J::as_array_mut)
        .and_then(|r| r.get_mut(dest))
        .and_then(J::as_object_mut)
    {
        d.insert(
            "headers".into(),
            json!({ "response": { "add": { "Set-Cookie": value } } }),
        );
    }
}

// ----- Gateway API -----

fn gw_backend(name: &str, port: i64, weight: i64) -> J {
    json!({ "group": "", "kind": "Service", "name": name, "port": port, "weight": weight })
}

/// `mapRouteMatches`: Istio match conditions as Gateway API matches. The kinds Gateway API
/// cannot express stop the router (`Invalid request matching selectors`).
fn gw_matches(list: &[J], notes: &mut Vec<Note>) -> Vec<J> {
    let mut out = Vec::new();
    for m in list {
        let mut g = Map::new();
        if let Some(uri) = m.get("uri") {
            let kind = [
                ("regex", "RegularExpression"),
                ("exact", "Exact"),
                ("prefix", "PathPrefix"),
            ]
            .into_iter()
            .find_map(|(k, t)| {
                uri.get(k)
                    .and_then(J::as_str)
                    .filter(|v| !v.is_empty())
                    .map(|v| (t, v))
            });
            match kind {
                Some((t, v)) => {
                    g.insert("path".into(), json!({ "type": t, "value": v }));
                }
                None => unsupported(notes, "path"),
            }
        }
        if let Some(method) = m.get("method") {
            match method.get("exact").and_then(J::as_str) {
                Some(v) if !v.is_empty() => {
                    g.insert("method".into(), J::from(v));
                }
                _ => unsupported(notes, "method"),
            }
        }
        for (key, out_key, what) in [
            ("headers", "headers", "header"),
            ("queryParams", "queryParams", "query"),
        ] {
            let Some(map) = m.get(key).and_then(J::as_object) else {
                continue;
            };
            // A Go map: Flagger lists these in no fixed order; sorted here.
            let mut names: Vec<&String> = map.keys().collect();
            names.sort();
            let mut list = Vec::new();
            for n in names {
                let v = &map[n];
                let exact = v.get("exact").and_then(J::as_str).filter(|s| !s.is_empty());
                let regex = v.get("regex").and_then(J::as_str).filter(|s| !s.is_empty());
                match (exact, regex) {
                    (Some(x), _) => list.push(json!({ "name": n, "type": "Exact", "value": x })),
                    (None, Some(x)) => {
                        list.push(json!({ "name": n, "type": "RegularExpression", "value": x }))
                    }
                    _ => unsupported(notes, what),
                }
            }
            if !list.is_empty() {
                g.insert(out_key.into(), J::Array(list));
            }
        }
        if !g.is_empty() {
            out.push(J::Object(g));
        }
    }
    out
}

fn unsupported(notes: &mut Vec<Note>, what: &str) {
    let text = format!(
        "Invalid request matching selectors: Gateway API doesn't support the specified {what} matching selector"
    );
    if !notes.iter().any(|n| n.text == text) {
        notes.push(note(NoteLevel::Blocker, text));
    }
}

/// The Gateway API `mergeMatchConditions`.
fn merge_gw(analysis: &[J], service: &[J]) -> Vec<J> {
    if analysis.is_empty() {
        return service.to_vec();
    }
    if service.is_empty() {
        return analysis.to_vec();
    }
    let mut out = Vec::new();
    for a in analysis {
        for sm in service {
            let mut m = sm.clone();
            if let (Some(mm), Some(am)) = (m.as_object_mut(), a.as_object()) {
                for key in ["headers", "queryParams"] {
                    if let Some(v) = am.get(key) {
                        mm.insert(key.to_string(), v.clone());
                    }
                }
            }
            out.push(m);
        }
    }
    out
}

fn header_filter(kind: &str, ops: &J) -> Option<J> {
    let mut f = Map::new();
    for op in ["add", "set"] {
        if let Some(map) = ops.get(op).and_then(J::as_object) {
            let mut names: Vec<&String> = map.keys().collect();
            names.sort();
            let list: Vec<J> = names
                .into_iter()
                .map(|n| json!({ "name": n, "value": map[n] }))
                .collect();
            if !list.is_empty() {
                f.insert(op.into(), J::Array(list));
            }
        }
    }
    if let Some(remove) = ops.get("remove").filter(|r| r.is_array()) {
        f.insert("remove".into(), remove.clone());
    }
    let key = if kind == "RequestHeaderModifier" {
        "requestHeaderModifier"
    } else {
        "responseHeaderModifier"
    };
    Some(json!({ "type": kind, key: J::Object(f) }))
}

/// `makeFilters`: header modifiers, the rewrite, and `service.mirror` backends.
fn gw_filters(s: &ServiceEff) -> Vec<J> {
    let mut out = Vec::new();
    if let Some(h) = &s.headers {
        if let Some(req) = h.get("request") {
            out.extend(header_filter("RequestHeaderModifier", req));
        }
        if let Some(resp) = h.get("response") {
            out.extend(header_filter("ResponseHeaderModifier", resp));
        }
    }
    if let Some(r) = &s.rewrite {
        let mut rw = Map::new();
        if let Some(a) = r
            .get("authority")
            .and_then(J::as_str)
            .filter(|a| !a.is_empty())
        {
            rw.insert("hostname".into(), J::from(a));
        }
        if let Some(uri) = r.get("uri").and_then(J::as_str).filter(|u| !u.is_empty()) {
            let t = r
                .get("type")
                .and_then(J::as_str)
                .unwrap_or("ReplacePrefixMatch");
            let key = if t == "ReplaceFullPath" {
                "replaceFullPath"
            } else {
                "replacePrefixMatch"
            };
            rw.insert("path".into(), json!({ "type": t, key: uri }));
        }
        out.push(json!({ "type": "URLRewrite", "urlRewrite": J::Object(rw) }));
    }
    for m in &s.mirrors {
        let backend = m.get("backendRef").cloned().unwrap_or(J::Null);
        out.push(json!({ "type": "RequestMirror", "requestMirror": { "backendRef": backend } }));
    }
    out
}

fn gw_rule(s: &ServiceEff, matches: Vec<J>, filters: &[J], backends: Vec<J>) -> J {
    obj(vec![
        ("matches", J::Array(matches)),
        (
            "filters",
            if filters.is_empty() {
                J::Null
            } else {
                J::Array(filters.to_vec())
            },
        ),
        ("backendRefs", J::Array(backends)),
        (
            "timeouts",
            s.timeout
                .as_deref()
                .map_or(J::Null, |t| json!({ "request": t })),
        ),
    ])
}

fn gw_cookie_match(cookie: &str) -> J {
    json!({ "headers": [ { "name": "Cookie", "type": "RegularExpression", "value": cookie_regex(cookie) } ] })
}

fn add_backend_cookie(backend: &mut J, value: &str) {
    if let Some(b) = backend.as_object_mut() {
        b.insert(
            "filters".into(),
            json!([ { "type": "ResponseHeaderModifier", "responseHeaderModifier": { "add": [ { "name": "Set-Cookie", "value": value } ] } } ]),
        );
    }
}

fn http_route(
    e: &Effective,
    s: &ServiceEff,
    (p, c, mirrored): (i64, i64, bool),
    step_label: &str,
    notes: &mut Vec<Note>,
) -> GeneratedObject {
    let (primary, canary) = (e.primary_name(), e.canary_name());
    let api = format!("gateway.networking.k8s.io/{}", e.gateway_api_version);
    let svc_matches = gw_matches(&items(s.match_.as_ref()), notes);
    let matches = if svc_matches.is_empty() {
        vec![json!({ "path": { "type": "PathPrefix", "value": "/" } })]
    } else {
        svc_matches.clone()
    };
    let mut filters = gw_filters(s);
    let mut summary_extra = Vec::new();
    if mirrored {
        filters.push(json!({
            "type": "RequestMirror",
            "requestMirror": { "backendRef": { "group": "", "kind": "Service", "name": canary, "port": s.port } }
        }));
        summary_extra.push(format!("mirror to {canary}"));
    }
    let mut primary_backend = gw_backend(&primary, s.port, p);
    let mut canary_backend = gw_backend(&canary, s.port, c);
    let mut rules = Vec::new();
    match &e.session_affinity {
        Some(sa) if c > 0 => {
            add_backend_cookie(
                &mut canary_backend,
                &set_cookie(&sa.cookie_name, sa.max_age),
            );
            let base = gw_rule(s, matches.clone(), &filters, Vec::new());
            let mut sticky = base.clone();
            set_http(
                &mut sticky,
                "matches",
                J::Array(merge_gw(&[gw_cookie_match(&sa.cookie_name)], &svc_matches)),
            );
            set_http(
                &mut sticky,
                "backendRefs",
                json!([
                    gw_backend(&primary, s.port, 0),
                    gw_backend(&canary, s.port, 100)
                ]),
            );
            rules.push(sticky);
            if let Some(pc) = &sa.primary_cookie_name {
                let max_age = e.interval_raw.map_or(0, super::duration::whole_seconds) as i64;
                add_backend_cookie(&mut primary_backend, &set_cookie(pc, max_age));
                let mut ps = base;
                set_http(
                    &mut ps,
                    "matches",
                    J::Array(merge_gw(&[gw_cookie_match(pc)], &svc_matches)),
                );
                set_http(
                    &mut ps,
                    "backendRefs",
                    json!([
                        gw_backend(&primary, s.port, 100),
                        gw_backend(&canary, s.port, 0)
                    ]),
                );
                rules.push(ps);
            }
            summary_extra.push(format!(
                "cookie {} pins users to the canary",
                sa.cookie_name
            ));
        }
        Some(_) => summary_extra.push("no sticky rule while the canary weight is 0".to_string()),
        None => {}
    }
    rules.push(gw_rule(
        s,
        matches.clone(),
        &filters,
        vec![primary_backend, canary_backend],
    ));
    if let Some(am) = e.analysis_match.as_ref() {
        let analysis_matches = gw_matches(&items(Some(am)), notes);
        if let Some(first) = rules.first_mut() {
            set_http(
                first,
                "matches",
                J::Array(merge_gw(&analysis_matches, &matches)),
            );
        }
        rules.push(gw_rule(
            s,
            matches,
            &gw_filters(s),
            vec![gw_backend(&primary, s.port, 100)],
        ));
        summary_extra.push("matching requests only".to_string());
    }
    let parents: Vec<J> = s
        .gateway_refs
        .iter()
        .map(|r| {
            let mut r = r.clone();
            if let Some(m) = r.as_object_mut() {
                m.retain(|k, _| {
                    matches!(
                        k.as_str(),
                        "group" | "kind" | "name" | "namespace" | "sectionName" | "port"
                    )
                });
            }
            r
        })
        .collect();
    let manifest = obj(vec![
        ("apiVersion", J::from(api.as_str())),
        ("kind", J::from("HTTPRoute")),
        (
            "metadata",
            metadata(
                e,
                &e.apex,
                Meta {
                    custom: s.apex_meta.as_ref(),
                    // kubernetes_default.go adds the selector label to the apex metadata it
                    // shares with the Canary's spec, so the route built from the same
                    // `service.apex` after it carries the label too.
                    extra_label: s
                        .apex_meta
                        .as_ref()
                        .map(|_| (e.selector.0.as_str(), e.apex.as_str())),
                    flux_annotations: true,
                },
            ),
        ),
        (
            "spec",
            obj(vec![
                ("parentRefs", J::Array(parents)),
                (
                    "hostnames",
                    if s.hosts.is_empty() {
                        J::Null
                    } else {
                        J::from(s.hosts.clone())
                    },
                ),
                ("rules", J::Array(rules)),
            ]),
        ),
    ]);
    let parent_names: Vec<String> = s
        .gateway_refs
        .iter()
        .map(|r| {
            let n = r.get("name").and_then(J::as_str).unwrap_or("");
            match r.get("namespace").and_then(J::as_str) {
                Some(ns) => format!("{ns}/{n}"),
                None => n.to_string(),
            }
        })
        .collect();
    let mut summary = format!(
        "parents {}",
        if parent_names.is_empty() {
            "(none)".to_string()
        } else {
            parent_names.join(", ")
        }
    );
    if !s.hosts.is_empty() {
        summary.push_str(&format!("; hostnames {}", s.hosts.join(", ")));
    }
    summary.push_str(&format!("; primary {p} / canary {c}{step_label}"));
    for x in summary_extra {
        summary.push_str("; ");
        summary.push_str(&x);
    }
    GeneratedObject {
        api_version: api,
        kind: "HTTPRoute".into(),
        namespace: e.namespace.clone(),
        name: e.apex.clone(),
        summary,
        manifest: Some(Manifest(manifest)),
    }
}
