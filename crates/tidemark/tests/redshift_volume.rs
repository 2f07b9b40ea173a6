//! The Redshift volume admin route over the wire: with a data directory a cluster's volume
//! is a real directory (`<data-dir>/redshift/volumes/<account>/<region>/<cluster>`), files
//! written there are captured by a snapshot and come back, byte for byte, in a restored
//! cluster; with `--in-memory` the route's PUT fills the in-store volume.

mod common;

use std::time::Duration;

use common::Server;
use serde_json::Value;

const ACCOUNT: &str = "123456789012";

async fn wait(
    rs: &aws_sdk_redshift::Client,
    id: &str,
    done: impl Fn(&aws_sdk_redshift::types::Cluster) -> bool,
) {
    for _ in 0..200 {
        let out = rs
            .describe_clusters()
            .cluster_identifier(id)
            .send()
            .await
            .expect("describe");
        if done(&out.clusters()[0]) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("cluster {id} did not settle");
}

async fn wait_snapshot(rs: &aws_sdk_redshift::Client, id: &str) {
    for _ in 0..200 {
        let out = rs
            .describe_cluster_snapshots()
            .snapshot_identifier(id)
            .send()
            .await
            .expect("describe");
        if out.snapshots()[0].status() == Some("available") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("snapshot {id} did not become available");
}

fn volume(server: &Server, query: &str) -> (u16, Value) {
    let (status, body) = server.http(
        "GET",
        &format!("/_tidemark/redshift/volume?{query}"),
        &[],
        b"",
    );
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

async fn create(rs: &aws_sdk_redshift::Client, id: &str) {
    rs.create_cluster()
        .cluster_identifier(id)
        .node_type("dc2.large")
        .master_username("admin")
        .master_user_password("Passw0rd1")
        .db_name("sales")
        .send()
        .await
        .expect("create cluster");
    wait(rs, id, |c| c.cluster_status() == Some("available")).await;
}

#[tokio::test]
async fn volumes_are_directories_that_snapshots_capture_and_restores_bring_back() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::on_dir(dir.path());
    let rs = server.redshift("AKIDEXAMPLE", "secret");
    create(&rs, "vol1").await;

    let (status, v) = volume(&server, "cluster=VOL1");
    assert_eq!(status, 200, "{v}");
    let path = std::path::PathBuf::from(v["path"].as_str().unwrap());
    assert_eq!(
        path,
        dir.path()
            .join(format!("redshift/volumes/{ACCOUNT}/us-east-1/vol1"))
    );
    assert!(path.join("base/sales/user_tables").is_file());
    let names: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "PG_VERSION",
            "base/sales/pg_catalog",
            "base/sales/user_tables",
            // The first automated snapshot wrote the database's file: nobody has connected,
            // so the cluster's database is a new cluster's pristine one.
            "tidemark-db.json"
        ]
    );

    // Users fill the directory directly; the next snapshot captures what is there.
    let table: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(path.join("base/sales/orders"), &table).unwrap();
    let (_, v) = volume(&server, "cluster=vol1");
    let total = v["total_bytes"].as_u64().unwrap();
    assert!(total > 3_000_000);
    rs.create_cluster_snapshot()
        .cluster_identifier("vol1")
        .snapshot_identifier("s1")
        .send()
        .await
        .expect("snapshot");
    wait_snapshot(&rs, "s1").await;
    let snap = rs
        .describe_cluster_snapshots()
        .snapshot_identifier("s1")
        .send()
        .await
        .unwrap()
        .snapshots()[0]
        .clone();
    let mb = snap.total_backup_size_in_mega_bytes().unwrap();
    assert!((mb - total as f64 / 1048576.0).abs() < 1e-6, "{mb}");
    rs.restore_from_cluster_snapshot()
        .cluster_identifier("vol2")
        .snapshot_identifier("s1")
        .send()
        .await
        .expect("restore");
    wait(&rs, "vol2", |c| {
        c.cluster_status() == Some("available")
            && c.restore_status().and_then(|r| r.status()) == Some("completed")
    })
    .await;
    let (_, v2) = volume(&server, "cluster=vol2");
    assert_eq!(v2["files"], v["files"]);
    let restored = std::path::PathBuf::from(v2["path"].as_str().unwrap());
    assert_eq!(
        std::fs::read(restored.join("base/sales/orders")).unwrap(),
        table
    );

    let (status, v) = volume(&server, "cluster=nope");
    assert_eq!(status, 404, "{v}");
    let (status, _) = volume(&server, "cluster=vol1&account=12");
    assert_eq!(status, 400);

    // A reset takes the volume directories with the clusters.
    let (status, body) = server.http("POST", "/_tidemark/reset", &[], b"");
    assert_eq!(status, 200, "{body}");
    assert!(!path.exists(), "{} survived a reset", path.display());
    assert!(!restored.exists());
    server.kill();
}

#[tokio::test]
async fn in_memory_volumes_are_filled_through_the_route() {
    let server = Server::in_memory();
    let rs = server.redshift("AKIDEXAMPLE", "secret");
    create(&rs, "mem1").await;
    let (status, v) = volume(&server, "cluster=mem1&region=us-east-1");
    assert_eq!(status, 200, "{v}");
    assert!(v["path"].is_null());
    let body = vec![42u8; 100_000];
    let (status, out) = server.http(
        "PUT",
        "/_tidemark/redshift/volume?cluster=mem1&name=base%2Fsales%2Ft1",
        &[],
        &body,
    );
    assert_eq!(status, 200, "{out}");
    let (_, v) = volume(&server, "cluster=mem1");
    let t1 = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "base/sales/t1")
        .cloned();
    assert_eq!(t1.map(|f| f["bytes"].clone()), Some(Value::from(100_000)));
    let (status, out) = server.http(
        "PUT",
        "/_tidemark/redshift/volume?cluster=mem1&name=..%2Fx",
        &[],
        b"x",
    );
    assert_eq!(status, 400, "{out}");
    server.kill();
}
