//! Runs a rule's inline cases and snapshots its rendered fail cases.
//!
//! For a rule that offers fixes, the fail cases' full texts are snapshotted as well
//! (`<CODE>_<slug>.fix-cases.snap`, each case after a `=== fail case N ===` line): the
//! command line's tests read them to check that `check --fix` fixes every case exactly as
//! the language server's quick fixes do.

use canarylint::{FixAvailability, Rule};

pub fn check(rule: &'static dyn Rule, pass: &[&str], fail: &[&str]) {
    let snapshot = canarylint::testing::run_cases(rule, crate::ALL, pass, fail);
    let meta = rule.meta();
    insta::with_settings!({
        snapshot_path => "snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(format!("{}_{}", meta.code, meta.slug), snapshot);
        if meta.fix != FixAvailability::None {
            let cases: String = fail
                .iter()
                .enumerate()
                .map(|(i, case)| {
                    let text = canarylint::testing::prepare(case).text;
                    format!("=== fail case {i} ===\n{text}")
                })
                .collect();
            insta::assert_snapshot!(format!("{}_{}.fix-cases", meta.code, meta.slug), cases);
        }
    });
}

/// A Deployment for the base Canary's target, with ports `http` 9898 and `grpc` 9999.
pub const DEPLOYMENT: &str = "---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
  namespace: test
spec:
  selector:
    matchLabels:
      app: podinfo
  template:
    metadata:
      labels:
        app: podinfo
    spec:
      containers:
        - name: podinfod
          image: ghcr.io/stefanprodan/podinfo:6.0.0
          ports:
            - name: http
              containerPort: 9898
            - name: grpc
              containerPort: 9999
";
