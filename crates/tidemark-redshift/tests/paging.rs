//! DescribeClusterSnapshots paging (§3.17): markers resume at a position, so snapshots
//! created or deleted between pages neither shift nor repeat the rest; shared snapshots merge
//! into the order; custom sorts page too; bad or foreign markers are `InvalidParameterValue`;
//! stores written before the order index existed still list everything.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::*;
use serde_json::{Value, json};
use tidemark_jobs::Engine;
use tidemark_model::redshift::dispatch_redshift;
use tidemark_redshift::RedshiftService;
use tidemark_store::{MemStore, Store};

fn snap(h: &H, id: &str) {
    h.ok(
        "CreateClusterSnapshot",
        json!({"ClusterIdentifier": "c1", "SnapshotIdentifier": id}),
    );
}

fn ids(page: &Value) -> Vec<String> {
    page["Snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["SnapshotIdentifier"].as_str().unwrap().to_owned())
        .collect()
}

/// Every page of a listing as `account` with `input` (MaxRecords 20 unless given).
fn all_pages(h: &H, account: &str, input: Value) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut req = input.clone();
        if req.get("MaxRecords").is_none() {
            req["MaxRecords"] = json!(20);
        }
        if let Some(m) = &marker {
            req["Marker"] = json!(m);
        }
        let page = h.call_as(account, "DescribeClusterSnapshots", req).unwrap();
        pages.push(ids(&page));
        match page.get("Marker") {
            Some(m) => marker = Some(m.as_str().unwrap().to_owned()),
            None => return pages,
        }
        assert!(pages.len() < 100, "listing does not end");
    }
}

fn manual(h: &H, account: &str) -> Vec<String> {
    all_pages(h, account, json!({"SnapshotType": "manual"})).concat()
}

#[test]
fn pages_follow_create_time_then_identifier() {
    let h = H::new();
    h.create_cluster("c1", json!({"AutomatedSnapshotRetentionPeriod": 0}));
    // Later snapshots get lower identifiers: the order must be by time, not id.
    for i in 0..30 {
        snap(&h, &format!("s{:02}", 29 - i));
        h.advance_hours(1);
    }
    let pages = all_pages(&h, OWNER, json!({"SnapshotType": "manual"}));
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), vec![20, 10]);
    let want: Vec<String> = (0..30).rev().map(|i| format!("s{i:02}")).collect();
    assert_eq!(pages.concat(), want);
    // An exactly full last page carries no marker.
    let pages = all_pages(
        &h,
        OWNER,
        json!({"SnapshotType": "manual", "EndTime": t0().as_second() + 19 * 3600}),
    );
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), vec![20]);
}

#[test]
fn writes_between_pages_neither_repeat_nor_shift_the_rest() {
    let h = H::new();
    h.create_cluster("c1", json!({"AutomatedSnapshotRetentionPeriod": 0}));
    // The clock is frozen: every snapshot has the same create time, so ids decide.
    for i in 0..45 {
        snap(&h, &format!("s{:03}", i * 10));
    }
    let first = h.ok(
        "DescribeClusterSnapshots",
        json!({"SnapshotType": "manual", "MaxRecords": 20}),
    );
    let first_ids = ids(&first);
    assert_eq!(first_ids.first().unwrap(), "s000");
    assert_eq!(first_ids.last().unwrap(), "s190");
    let marker = first["Marker"].as_str().unwrap().to_owned();
    // Between pages: delete two already listed and one not yet listed, add one before the
    // marker and one after it (an offset marker would now skip s200).
    for gone in ["s050", "s060"] {
        h.ok("DeleteClusterSnapshot", json!({"SnapshotIdentifier": gone}));
    }
    h.ok(
        "DeleteClusterSnapshot",
        json!({"SnapshotIdentifier": "s250"}),
    );
    snap(&h, "s055");
    snap(&h, "s255");
    let mut rest = Vec::new();
    let mut next = Some(marker);
    while let Some(m) = next {
        let page = h.ok(
            "DescribeClusterSnapshots",
            json!({"SnapshotType": "manual", "MaxRecords": 20, "Marker": m}),
        );
        rest.extend(ids(&page));
        next = page.get("Marker").map(|m| m.as_str().unwrap().to_owned());
    }
    let mut want: Vec<String> = (20..45).map(|i| format!("s{:03}", i * 10)).collect();
    want.retain(|s| s != "s250");
    want.push("s255".into());
    want.sort();
    assert_eq!(
        rest, want,
        "the rest resumes after s190 and sees later writes"
    );
    let seen: BTreeSet<&String> = first_ids.iter().chain(&rest).collect();
    assert_eq!(
        seen.len(),
        first_ids.len() + rest.len(),
        "no snapshot twice"
    );
}

#[test]
fn deleted_marker_snapshot_still_resumes_after_its_position() {
    let h = H::new();
    h.create_cluster("c1", json!({"AutomatedSnapshotRetentionPeriod": 0}));
    for i in 0..25 {
        snap(&h, &format!("s{i:02}"));
    }
    let first = h.ok(
        "DescribeClusterSnapshots",
        json!({"SnapshotType": "manual", "MaxRecords": 20}),
    );
    h.ok(
        "DeleteClusterSnapshot",
        json!({"SnapshotIdentifier": "s19"}),
    );
    let second = h.ok(
        "DescribeClusterSnapshots",
        json!({"SnapshotType": "manual", "MaxRecords": 20, "Marker": first["Marker"]}),
    );
    assert_eq!(ids(&second), vec!["s20", "s21", "s22", "s23", "s24"]);
}

#[test]
fn shared_snapshots_merge_into_the_order() {
    let h = H::new();
    h.create_cluster("c1", json!({"AutomatedSnapshotRetentionPeriod": 0}));
    let other_cluster = json!({"ClusterIdentifier": "c1", "NodeType": "dc2.large",
        "MasterUsername": "admin", "MasterUserPassword": "Passw0rd1",
        "AutomatedSnapshotRetentionPeriod": 0});
    h.call_as(OTHER, "CreateCluster", other_cluster).unwrap();
    h.advance_hours(1);
    for i in 0..30 {
        let (account, id) = if i % 3 == 0 {
            (OTHER, format!("x{i:02}"))
        } else {
            (OWNER, format!("o{i:02}"))
        };
        h.call_as(
            account,
            "CreateClusterSnapshot",
            json!({"ClusterIdentifier": "c1", "SnapshotIdentifier": id}),
        )
        .unwrap();
        h.advance_hours(1);
    }
    for i in (0..30).step_by(3) {
        h.call_as(
            OTHER,
            "AuthorizeSnapshotAccess",
            json!({"SnapshotIdentifier": format!("x{i:02}"), "AccountWithRestoreAccess": OWNER}),
        )
        .unwrap();
    }
    let listed = manual(&h, OWNER);
    let want: Vec<String> = (0..30)
        .map(|i| {
            if i % 3 == 0 {
                format!("x{i:02}")
            } else {
                format!("o{i:02}")
            }
        })
        .collect();
    assert_eq!(
        listed, want,
        "own and shared snapshots in create-time order"
    );
    // OwnerAccount keeps the caller's own snapshots only, still paged in order.
    let own_only = all_pages(&h, OWNER, json!({"OwnerAccount": OWNER})).concat();
    assert_eq!(own_only.len(), 20);
    assert!(own_only.iter().all(|s| s.starts_with('o')));
    assert!(own_only.is_sorted());
}

#[test]
fn custom_sorting_pages_like_one_big_page() {
    let h = H::new();
    h.create_cluster("c1", json!({}));
    h.advance_hours(1);
    for i in 0..45 {
        snap(&h, &format!("s{i:02}"));
    }
    h.advance_hours(1);
    for sort in [
        json!([{"Attribute": "SOURCE_TYPE", "SortOrder": "DESC"}, {"Attribute": "CREATE_TIME", "SortOrder": "DESC"}]),
        json!([{"Attribute": "TOTAL_SIZE"}]),
        json!([{"Attribute": "CREATE_TIME", "SortOrder": "DESC"}]),
    ] {
        let whole = h.ok(
            "DescribeClusterSnapshots",
            json!({"SortingEntities": sort, "MaxRecords": 100}),
        );
        let paged = all_pages(&h, OWNER, json!({"SortingEntities": sort})).concat();
        assert_eq!(paged, ids(&whole), "sorting {sort}");
        assert!(paged.len() > 45, "automated snapshots are listed too");
    }
}

#[test]
fn bad_and_foreign_markers_are_invalid_parameter_values() {
    let h = H::new();
    h.create_cluster("c1", json!({"AutomatedSnapshotRetentionPeriod": 0}));
    for i in 0..25 {
        snap(&h, &format!("s{i:02}"));
    }
    let first = h.ok(
        "DescribeClusterSnapshots",
        json!({"SnapshotType": "manual", "MaxRecords": 20}),
    );
    let marker = first["Marker"].as_str().unwrap().to_owned();
    // The page size may change between pages; the filters may not.
    let smaller = h.ok(
        "DescribeClusterSnapshots",
        json!({"SnapshotType": "manual", "MaxRecords": 100, "Marker": marker}),
    );
    assert_eq!(ids(&smaller).len(), 5);
    let bad = [
        json!({"SnapshotType": "automated", "Marker": marker}),
        json!({"Marker": marker}),
        json!({"SnapshotType": "manual", "Marker": &marker[..marker.len() - 2]}),
        json!({"SnapshotType": "manual", "Marker": format!("{marker}00")}),
        json!({"SnapshotType": "manual", "Marker": "garbage"}),
        json!({"SnapshotType": "manual", "Marker": "tm1.3230"}),
        json!({"SnapshotType": "manual", "Marker": "tm1.zz"}),
    ];
    for input in bad {
        let e = h
            .call("DescribeClusterSnapshots", input.clone())
            .unwrap_err();
        assert_eq!(common(&e), "InvalidParameterValue", "{input}");
        assert!(message(&e).starts_with("Invalid marker"), "{input}");
    }
    // A DescribeClusters marker is not a snapshot marker.
    for i in 0..21 {
        h.create_cluster(&format!("k{i:02}"), json!({}));
    }
    let clusters = h.ok("DescribeClusters", json!({"MaxRecords": 20}));
    let e = h
        .call(
            "DescribeClusterSnapshots",
            json!({"Marker": clusters["Marker"]}),
        )
        .unwrap_err();
    assert_eq!(common(&e), "InvalidParameterValue");
}

#[test]
fn snapshots_removed_behind_the_index_are_not_listed() {
    let h = H::new();
    // Cluster deletion removes automated snapshots in the job, outside DeleteClusterSnapshot.
    h.create_cluster("c1", json!({}));
    h.create_cluster("c2", json!({}));
    h.advance_hours(1);
    snap(&h, "keep");
    let before = all_pages(&h, OWNER, json!({})).concat();
    assert_eq!(
        before.len(),
        3,
        "two automated snapshots and one manual: {before:?}"
    );
    h.ok(
        "DeleteCluster",
        json!({"ClusterIdentifier": "c2", "SkipFinalClusterSnapshot": true}),
    );
    h.advance_hours(1);
    let sorted = json!({"SortingEntities": [{"Attribute": "CREATE_TIME", "SortOrder": "DESC"}]});
    for input in [sorted.clone(), json!({}), json!({}), sorted] {
        let after = all_pages(&h, OWNER, input).concat();
        assert_eq!(after.len(), 2, "{after:?}");
        assert!(after.contains(&"keep".to_owned()));
    }
}

#[test]
fn stores_from_before_the_order_index_list_everything() {
    let store: Arc<dyn Store> = Arc::new(MemStore::new());
    let engine = Arc::new(Engine::open(Arc::clone(&store)).unwrap());
    engine.set_frozen(true).unwrap();
    engine.set_time(t0()).unwrap();
    let svc = RedshiftService::new(Arc::clone(&store), Arc::clone(&engine));
    engine.recover().unwrap();
    let call = |op: &str, input: Value| {
        let out = dispatch_redshift(&*svc, &ctx(OWNER), op, input).unwrap();
        engine.run_due().unwrap();
        out
    };
    call(
        "CreateCluster",
        json!({"ClusterIdentifier": "c1", "NodeType": "dc2.large", "MasterUsername": "admin",
            "MasterUserPassword": "Passw0rd1", "AutomatedSnapshotRetentionPeriod": 0}),
    );
    for i in 0..25 {
        call(
            "CreateClusterSnapshot",
            json!({"ClusterIdentifier": "c1", "SnapshotIdentifier": format!("s{i:02}")}),
        );
    }
    // What an older build left behind: snapshot records, no order index, no build record.
    let mut w = store.write().unwrap();
    assert!(w.delete_table("redshift.snapshot_order").unwrap());
    w.delete_table("redshift.meta").unwrap();
    w.commit().unwrap();
    let mut listed = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut req = json!({"MaxRecords": 20});
        if let Some(m) = &marker {
            req["Marker"] = json!(m);
        }
        let page = call("DescribeClusterSnapshots", req);
        listed.extend(ids(&page));
        match page.get("Marker") {
            Some(m) => marker = Some(m.as_str().unwrap().to_owned()),
            None => break,
        }
    }
    let want: Vec<String> = (0..25).map(|i| format!("s{i:02}")).collect();
    assert_eq!(listed, want);
    let txn = store.read().unwrap();
    assert_eq!(
        txn.scan_prefix("redshift.snapshot_order", &[])
            .unwrap()
            .count(),
        25,
        "the index was rebuilt"
    );
}
