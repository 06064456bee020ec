//! Taking one file's objects out of an inventory (`Inventory::remove_file`), as the language
//! server does for each edited file: lookups and coverage afterwards are those of an inventory
//! built without that file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use canarylint::{Budget, Bundle, Inventory, Kind, Lookup, ParsedFile, SourceFile, read};

fn gateway(name: &str, namespace: &str) -> String {
    format!(
        "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n  servers:\n    - hosts: ['*.example.com']\n"
    )
}

fn parsed(file: &str, text: &str, bundle: u32) -> ParsedFile {
    let mut p = read(Arc::new(SourceFile::new(file, text)), &Budget::GENEROUS);
    p.bundle = Bundle::Input(bundle);
    p
}

fn add(inv: &mut Inventory, file: &str, text: &str, bundle: u32) {
    inv.add_file(&parsed(file, text, bundle), "default", false);
}

fn is(l: Lookup<'_>) -> &'static str {
    match l {
        Lookup::Found(_) => "found",
        Lookup::Absent => "absent",
        Lookup::Unknown => "unknown",
    }
}

#[test]
fn a_scope_vouches_until_its_last_file_leaves() {
    let mut inv = Inventory::by_file();
    // Two files of one bundle hold gateways in `edge`; a third, of another bundle, too.
    add(&mut inv, "a.yaml", &gateway("a", "edge"), 0);
    add(&mut inv, "b.yaml", &gateway("b", "edge"), 0);
    add(&mut inv, "c.yaml", &gateway("c", "edge"), 1);
    let seen = |inv: &Inventory, name: &str| {
        is(inv
            .view_from(Bundle::Input(0), None)
            .lookup(Kind::IstioGateway, "edge", name))
    };
    assert_eq!(seen(&inv, "missing"), "absent");

    let (objects, broken) = inv.remove_file("a.yaml");
    assert_eq!(objects.len(), 1);
    assert_eq!(objects[0].name, "a");
    assert!(broken.is_empty());
    assert_eq!(seen(&inv, "a"), "absent", "b.yaml still vouches for edge");
    assert_eq!(seen(&inv, "b"), "found");

    inv.remove_file("b.yaml");
    // No file of bundle 0 holds a gateway in `edge` any more: nothing vouches.
    assert_eq!(seen(&inv, "missing"), "unknown");
    assert_eq!(seen(&inv, "c"), "found");
    assert_eq!(inv.count(Kind::IstioGateway), 1);

    // Back again: the scope vouches again.
    add(&mut inv, "a.yaml", &gateway("a", "edge"), 0);
    assert_eq!(seen(&inv, "missing"), "absent");
}

#[test]
fn removing_one_of_two_definitions_leaves_the_other() {
    let mut inv = Inventory::by_file();
    add(&mut inv, "one.yaml", &gateway("gw", "edge"), 0);
    add(&mut inv, "two.yaml", &gateway("gw", "edge"), 1);
    assert_eq!(is(inv.lookup(Kind::IstioGateway, "edge", "gw")), "unknown");
    let (objects, _) = inv.remove_file("one.yaml");
    assert_eq!(objects.len(), 1);
    let found = inv
        .lookup(Kind::IstioGateway, "edge", "gw")
        .found()
        .unwrap();
    assert_eq!(&*found.origin.as_ref().unwrap().file, "two.yaml");
    // A file that defines one identity twice leaves whole.
    let twice = format!("{}---\n{}", gateway("gw", "edge"), gateway("gw", "edge"));
    add(&mut inv, "twice.yaml", &twice, 2);
    let (objects, _) = inv.remove_file("twice.yaml");
    assert_eq!(objects.len(), 2);
    assert!(
        inv.lookup(Kind::IstioGateway, "edge", "gw")
            .found()
            .is_some()
    );
}

#[test]
fn broken_documents_leave_with_their_file() {
    let mut inv = Inventory::by_file();
    let broken = gateway("gw", "edge").replace("hosts: [", "hosts: [[");
    add(&mut inv, "broken.yaml", &broken, 0);
    add(&mut inv, "other.yaml", &gateway("other", "edge"), 0);
    let view = |inv: &Inventory| {
        is(inv
            .view_from(Bundle::Input(0), None)
            .lookup(Kind::IstioGateway, "edge", "gw"))
    };
    // The broken document may be `gw`: nothing is judged.
    assert_eq!(view(&inv), "unknown");
    let (objects, gone) = inv.remove_file("broken.yaml");
    assert!(objects.is_empty());
    assert_eq!(gone.len(), 1);
    assert_eq!(view(&inv), "absent");
}

#[test]
fn an_inventory_without_the_file_index_keeps_everything() {
    let mut inv = Inventory::new();
    add(&mut inv, "a.yaml", &gateway("a", "edge"), 0);
    let (objects, _) = inv.remove_file("a.yaml");
    assert!(objects.is_empty());
    assert!(
        inv.lookup(Kind::IstioGateway, "edge", "a")
            .found()
            .is_some()
    );
}
