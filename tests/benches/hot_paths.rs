//! Micro-benchmarks of the hot paths of a lint run (`cargo bench -p canarylint-tests`).
//!
//! Whole-run figures against the parse floor and the peers are in docs/benchmarks.md; these
//! isolate one stage each, on the bundled examples, so a regression can be traced to it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use canarylint::{Budget, Inventory, Kind, Linter, SourceFile};
use divan::{Bencher, black_box};

const CANARIES: &str = include_str!("../../examples/shop/canaries.yaml");
const DEPLOYMENTS: &str = include_str!("../../examples/shop/deployments.yaml");
const GATEWAY: &str = include_str!("../../examples/istio/gateway.yaml");
const PODINFO: &str = include_str!("../../examples/podinfo/canary.yaml");

fn main() {
    divan::main();
}

fn source(name: &str, text: &str) -> Arc<SourceFile> {
    Arc::new(SourceFile::new(name, text))
}

/// The manifests of a larger repository: the shop's Canaries and Deployments, `copies` times.
fn repository(copies: usize) -> String {
    let mut text = String::new();
    for _ in 0..copies {
        text.push_str(CANARIES);
        text.push_str("\n---\n");
        text.push_str(DEPLOYMENTS);
        text.push_str("\n---\n");
    }
    text
}

/// YAML text to the tree of values with spans (the reader every door uses).
#[divan::bench(args = [1, 16])]
fn yaml_parse(bencher: Bencher, copies: usize) {
    let text = repository(copies);
    bencher
        .counter(divan::counter::BytesCount::of_str(&text))
        .bench(|| canarylint::yaml::parse_stream(black_box(&text), &Budget::GENEROUS));
}

/// The same, plus classification into objects and the suppression scan.
#[divan::bench]
fn document_read(bencher: Bencher) {
    let src = source("canaries.yaml", CANARIES);
    bencher.bench(|| canarylint::read(black_box(src.clone()), &Budget::GENEROUS));
}

/// The line index of a file, then a position for every tenth byte (what findings need).
#[divan::bench]
fn span_index(bencher: Bencher) {
    let text = repository(16);
    bencher.bench(|| {
        let src = SourceFile::new("r.yaml", black_box(text.as_str()));
        let mut sum = 0u32;
        for offset in (0..text.len() as u32).step_by(10) {
            sum = sum.wrapping_add(src.line_col(offset).column);
        }
        sum
    });
}

/// The embedded Flagger CRD schema, on a valid and on a broken Canary.
#[divan::bench(args = ["valid", "broken"])]
fn schema_validation(bencher: Bencher, which: &str) {
    let text = if which == "valid" {
        PODINFO.to_string()
    } else {
        PODINFO.replace("threshold: 5", "threshold: five")
    };
    let file = canarylint::read(source("c.yaml", &text), &Budget::GENEROUS);
    let root = &file.documents[0].root;
    // Compiles the schema once, outside the measured loop.
    canarylint::schema::validate(Kind::Canary, root);
    bencher.bench(|| canarylint::schema::validate(Kind::Canary, black_box(root)).len());
}

/// Istio's host matching, as the gateway rules use it, on exact and wildcard hosts.
#[divan::bench]
fn host_matching(bencher: Bencher) {
    let hosts = [
        "cart.example.com",
        "*.example.com",
        "*.shop.example.com",
        "checkout.example.org",
        "*",
    ];
    bencher.bench(|| {
        let mut n = 0;
        for a in &hosts {
            for b in &hosts {
                n += usize::from(canarylint_rules::helpers::hosts_overlap(
                    black_box(a),
                    black_box(b),
                ));
            }
        }
        n
    });
}

/// The whole driver (every rule, the inventory, the severity policy) on one Canary file.
#[divan::bench(args = ["podinfo", "shop"])]
fn lint_one_file(bencher: Bencher, which: &str) {
    let linter = Linter::new(canarylint_rules::ALL);
    let (text, context) = match which {
        "podinfo" => (PODINFO, vec![]),
        _ => (
            CANARIES,
            vec![source("d.yaml", DEPLOYMENTS), source("g.yaml", GATEWAY)],
        ),
    };
    let src = source("c.yaml", text);
    bencher.bench(|| {
        linter
            .lint_sources(vec![src.clone()], context.clone(), &Budget::GENEROUS)
            .findings
            .len()
    });
}

/// Linting a parsed file against a ready inventory: the rules alone, without reading.
#[divan::bench]
fn rules_only(bencher: Bencher) {
    let linter = Linter::new(canarylint_rules::ALL);
    let mut inventory = Inventory::new();
    for (name, text) in [("d.yaml", DEPLOYMENTS), ("g.yaml", GATEWAY)] {
        inventory.add_file(
            &canarylint::read(source(name, text), &Budget::GENEROUS),
            "default",
            false,
        );
    }
    let file = canarylint::read(source("c.yaml", CANARIES), &Budget::GENEROUS);
    bencher.bench(|| linter.lint_file(black_box(&file), &inventory).len());
}
