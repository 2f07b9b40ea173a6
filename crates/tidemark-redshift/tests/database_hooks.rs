//! The service drives the database behind each cluster through `ClusterDatabase`: started
//! fresh on create, loaded from the volume on restore (with the snapshot's master password
//! verifier), stopped on pause, started again on resume, removed on delete, told about a new
//! port or password; a manual snapshot is marked at the request and dumped before the
//! capture, and a snapshot whose dump fails turns `failed` instead of staying `creating`.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use common::*;
use serde_json::json;
use tidemark_jobs::Engine;
use tidemark_redshift::{
    ClusterDatabase, DbCluster, DbEndpoint, DbStart, RedshiftService, Scope, TableSpec, TempLogin,
    VolumeFiles, md5_verifier,
};
use tidemark_store::MemStore;

#[derive(Default)]
struct Recorder {
    calls: Mutex<Vec<String>>,
    fail_dump: AtomicBool,
}

impl Recorder {
    fn log(&self, s: String) {
        self.calls.lock().unwrap().push(s);
    }
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.calls.lock().unwrap())
    }
}

impl ClusterDatabase for Recorder {
    fn start(
        &self,
        c: &DbCluster<'_>,
        how: DbStart,
        volumes: &dyn VolumeFiles,
    ) -> Result<Option<DbEndpoint>, String> {
        let files = volumes.list_files(c.scope, c.id)?.len();
        self.log(format!(
            "start {} {how:?} user={} md5={} db={} port={} files={files}",
            c.id, c.master_username, c.master_password_md5, c.db_name, c.port
        ));
        Ok(Some(DbEndpoint {
            address: "127.0.0.1".into(),
            port: c.port + 1,
        }))
    }
    fn stop(&self, _scope: &Scope, id: &str) -> Result<(), String> {
        self.log(format!("stop {id}"));
        Ok(())
    }
    fn remove(&self, _scope: &Scope, id: &str) -> Result<(), String> {
        self.log(format!("remove {id}"));
        Ok(())
    }
    fn mark(&self, _scope: &Scope, id: &str, snapshot: &str) -> Result<(), String> {
        self.log(format!("mark {id} {snapshot}"));
        Ok(())
    }
    fn dump(
        &self,
        scope: &Scope,
        id: &str,
        snapshot: &str,
        volumes: &dyn VolumeFiles,
    ) -> Result<(), String> {
        self.log(format!("dump {id} {snapshot}"));
        if self.fail_dump.load(Ordering::SeqCst) {
            return Err("the dump failed".into());
        }
        volumes.write_file(scope, id, "dump/toc.dat", snapshot.as_bytes())
    }
    fn unmark(&self, _scope: &Scope, id: &str, snapshot: &str) {
        self.log(format!("unmark {id} {snapshot}"));
    }
    fn rename(&self, _scope: &Scope, from: &str, to: &str) -> Result<(), String> {
        self.log(format!("rename {from} {to}"));
        Ok(())
    }
    fn update(&self, c: &DbCluster<'_>) -> Result<Option<DbEndpoint>, String> {
        self.log(format!(
            "update {} md5={} port={}",
            c.id, c.master_password_md5, c.port
        ));
        Ok(Some(DbEndpoint {
            address: "127.0.0.1".into(),
            port: c.port,
        }))
    }
    fn holds_data(&self) -> bool {
        true
    }
    fn grant_temporary(&self, _scope: &Scope, id: &str, login: TempLogin) -> Result<(), String> {
        self.log(format!("temp {id} {}", login.login_user));
        Ok(())
    }
    fn restore_table(
        &self,
        _scope: &Scope,
        id: &str,
        files: &str,
        table: &TableSpec,
        _volumes: &dyn VolumeFiles,
    ) -> Result<(), String> {
        self.log(format!("table {id} {files} {}", table.new_table));
        Ok(())
    }
}

fn harness() -> (H, Arc<Recorder>) {
    let store: Arc<dyn tidemark_store::Store> = Arc::new(MemStore::new());
    let engine = Arc::new(Engine::open(Arc::clone(&store)).unwrap());
    engine.set_frozen(true).unwrap();
    engine.set_time(t0()).unwrap();
    let rec = Arc::new(Recorder::default());
    let volumes: Arc<dyn tidemark_redshift::VolumeBackup> =
        Arc::new(tidemark_redshift::StoreVolumes::new(Arc::clone(&store)));
    let svc = RedshiftService::with_database(store, Arc::clone(&engine), volumes, rec.clone());
    engine.recover().unwrap();
    (H { engine, svc }, rec)
}

fn endpoint(h: &H, id: &str) -> (String, i64) {
    let out = h.ok("DescribeClusters", json!({"ClusterIdentifier": id}));
    let e = &out["Clusters"][0]["Endpoint"];
    (
        e["Address"].as_str().unwrap().to_owned(),
        e["Port"].as_i64().unwrap(),
    )
}

#[test]
fn cluster_lifecycle_drives_the_database() {
    let (h, db) = harness();
    let md5 = md5_verifier("admin", "Passw0rd1");
    // PostgreSQL's verifier: "md5" + hex(md5(password + user)).
    assert_eq!(md5, "md56bd6d1fca7171d0c2931a7b4669e724a");
    h.create_cluster(
        "c1",
        json!({"DBName": "sales", "AutomatedSnapshotRetentionPeriod": 0}),
    );
    let calls = db.take();
    assert_eq!(
        calls,
        [format!(
            "start c1 Fresh user=admin md5={md5} db=sales port=5439 files=0"
        )]
    );
    assert_eq!(endpoint(&h, "c1"), ("127.0.0.1".into(), 5440));

    // A manual snapshot is marked at the request, dumped by its job, then captured.
    h.ok(
        "CreateClusterSnapshot",
        json!({"ClusterIdentifier": "c1", "SnapshotIdentifier": "s1"}),
    );
    assert_eq!(db.take(), ["mark c1 s1", "dump c1 s1"]);
    let snap = &h.snapshots(OWNER, json!({"SnapshotIdentifier": "s1"}))[0];
    assert_eq!(snap["Status"], "available");

    // The restored cluster loads its database from the restored volume, with the source's
    // master user and password verifier.
    h.ok(
        "RestoreFromClusterSnapshot",
        json!({"ClusterIdentifier": "r1", "SnapshotIdentifier": "s1", "AutomatedSnapshotRetentionPeriod": 0}),
    );
    let calls = db.take();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(
        calls[0].starts_with(&format!(
            "start r1 FromVolume user=admin md5={md5} db=sales port=5440 files="
        )),
        "{calls:?}"
    );
    let restored = h.svc.volumes().read_volume(
        &Scope {
            account: OWNER.into(),
            region: "us-east-1".into(),
        },
        "r1",
    );
    assert!(
        restored
            .unwrap()
            .iter()
            .any(|(n, b)| n == "dump/toc.dat" && b == b"s1")
    );

    // ModifyCluster: a new password and port reach the database; the Endpoint follows.
    h.ok(
        "ModifyCluster",
        json!({"ClusterIdentifier": "c1", "MasterUserPassword": "NewPassw0rd", "Port": 5500}),
    );
    let new_md5 = md5_verifier("admin", "NewPassw0rd");
    assert_ne!(new_md5, md5);
    assert_eq!(db.take(), [format!("update c1 md5={new_md5} port=5500")]);
    assert_eq!(endpoint(&h, "c1"), ("127.0.0.1".into(), 5500));
    h.ok(
        "ModifyCluster",
        json!({"ClusterIdentifier": "c1", "NewClusterIdentifier": "c2"}),
    );
    // The database moves, then the Endpoint is asked for under the new identifier.
    assert_eq!(
        db.take(),
        [
            "rename c1 c2".to_owned(),
            format!("update c2 md5={new_md5} port=5500")
        ]
    );

    // Pause stops it, resume starts it as it was, delete takes the final snapshot first.
    h.ok("PauseCluster", json!({"ClusterIdentifier": "c2"}));
    assert_eq!(db.take(), ["stop c2"]);
    h.ok("ResumeCluster", json!({"ClusterIdentifier": "c2"}));
    let calls = db.take();
    assert!(calls[0].starts_with("start c2 Existing"), "{calls:?}");
    h.ok(
        "DeleteCluster",
        json!({"ClusterIdentifier": "c2", "FinalClusterSnapshotIdentifier": "final"}),
    );
    assert_eq!(db.take(), ["mark c2 final", "dump c2 final", "remove c2"]);
}

#[test]
fn a_failed_dump_fails_the_snapshot() {
    let (h, db) = harness();
    h.create_cluster("c1", json!({"AutomatedSnapshotRetentionPeriod": 0}));
    db.fail_dump.store(true, Ordering::SeqCst);
    h.ok(
        "CreateClusterSnapshot",
        json!({"ClusterIdentifier": "c1", "SnapshotIdentifier": "s1"}),
    );
    let snap = &h.snapshots(OWNER, json!({"SnapshotIdentifier": "s1"}))[0];
    assert_eq!(snap["Status"], "failed");
    assert!(db.take().contains(&"unmark c1 s1".to_owned()));
    // The cluster is still usable: the next snapshot works once dumps do.
    db.fail_dump.store(false, Ordering::SeqCst);
    h.ok(
        "CreateClusterSnapshot",
        json!({"ClusterIdentifier": "c1", "SnapshotIdentifier": "s2"}),
    );
    let snap = &h.snapshots(OWNER, json!({"SnapshotIdentifier": "s2"}))[0];
    assert_eq!(snap["Status"], "available");
}

#[test]
fn server_start_brings_up_available_clusters_only() {
    let (h, db) = harness();
    h.create_cluster("a1", json!({"AutomatedSnapshotRetentionPeriod": 0}));
    h.create_cluster("p1", json!({"AutomatedSnapshotRetentionPeriod": 0}));
    h.ok("PauseCluster", json!({"ClusterIdentifier": "p1"}));
    db.take();
    h.svc.start_databases().unwrap();
    let calls = db.take();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(calls[0].starts_with("start a1 Existing"), "{calls:?}");
}

#[test]
fn temporary_credentials_and_table_restores_reach_the_database() {
    let (h, db) = harness();
    h.create_cluster("c1", json!({"AutomatedSnapshotRetentionPeriod": 0}));
    db.take();
    let creds = h.ok(
        "GetClusterCredentials",
        json!({"ClusterIdentifier": "c1", "DbUser": "alice", "AutoCreate": true, "DurationSeconds": 3600}),
    );
    assert_eq!(creds["DbUser"], "IAMA:alice");
    assert_eq!(creds["DbPassword"].as_str().unwrap().len(), 64);
    assert_eq!(db.take(), ["temp c1 IAMA:alice"]);
    let err = h
        .call(
            "GetClusterCredentials",
            json!({"ClusterIdentifier": "c1", "DbUser": "alice", "DurationSeconds": 60}),
        )
        .unwrap_err();
    assert!(format!("{err:?}").contains("DurationSeconds"), "{err:?}");
    let err = h
        .call(
            "GetClusterCredentials",
            json!({"ClusterIdentifier": "nope", "DbUser": "alice"}),
        )
        .unwrap_err();
    assert!(format!("{err:?}").contains("ClusterNotFound"), "{err:?}");
    assert!(db.take().is_empty(), "refused requests change nothing");

    h.ok(
        "CreateClusterSnapshot",
        json!({"ClusterIdentifier": "c1", "SnapshotIdentifier": "s1"}),
    );
    db.take();
    let req = h.ok(
        "RestoreTableFromClusterSnapshot",
        json!({"ClusterIdentifier": "c1", "SnapshotIdentifier": "s1", "SourceDatabaseName": "dev",
               "SourceTableName": "t", "NewTableName": "t_back"}),
    );
    let st = &req["TableRestoreStatus"];
    assert_eq!(st["Status"], "PENDING");
    assert_eq!(st["SourceSchemaName"], "public");
    assert_eq!(st["TargetDatabaseName"], "dev");
    let calls = db.take();
    let id = st["TableRestoreRequestId"].as_str().unwrap();
    assert_eq!(calls, [format!("table c1 table-restore-{id} t_back")]);
    let done = h.ok(
        "DescribeTableRestoreStatus",
        json!({"ClusterIdentifier": "c1", "TableRestoreRequestId": id}),
    );
    assert_eq!(done["TableRestoreStatusDetails"][0]["Status"], "SUCCEEDED");
    // The scratch volume the snapshot's files went through is gone.
    let scope = Scope {
        account: OWNER.into(),
        region: "us-east-1".into(),
    };
    assert!(
        h.svc
            .volumes()
            .list_files(&scope, &format!("table-restore-{id}"))
            .unwrap()
            .is_empty()
    );
}
