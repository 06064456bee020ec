//! The embedded schema is generated from Flagger's CRD; this fails when it is stale.
//! Regenerate with `CANARYLINT_UPDATE=1 cargo test -p canarylint --test schema_fresh`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

fn shared() -> PathBuf {
    if let Ok(p) = std::env::var("CANARYLINT_SHARED") {
        return PathBuf::from(p);
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    assert!(
        p.is_dir(),
        "the shared reference data is expected at {} (or set CANARYLINT_SHARED)",
        p.display()
    );
    p
}

#[test]
fn embedded_schema_matches_the_crd() {
    let crd = std::fs::read_to_string(shared().join("reference/flagger/crd.yaml")).unwrap();
    let generated = canarylint::schema::generate(&crd).unwrap();
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schema/flagger.schema.json");
    if std::env::var_os("CANARYLINT_UPDATE").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let embedded = std::fs::read_to_string(&path).unwrap();
    assert!(
        embedded == generated,
        "lib/schema/flagger.schema.json is stale: run CANARYLINT_UPDATE=1 cargo test -p canarylint --test schema_fresh"
    );
}
