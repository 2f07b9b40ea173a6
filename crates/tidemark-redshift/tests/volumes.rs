//! Cluster volumes as directories with snapshots in the vault: multi-part files stream
//! through capture and restore byte for byte, and while the jobs run the snapshot's backup
//! figures and the restored cluster's RestoreStatus (`starting` → `restoring` → `completed`)
//! come from the running job (§3.18, §3.19).

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use common::*;
use serde_json::{Value, json};
use tidemark_jobs::Engine;
use tidemark_model::redshift::dispatch_redshift;
use tidemark_redshift::{
    CaptureResult, FileInfo, FileSink, Progress, RedshiftService, Scope, VaultVolumes,
    VolumeBackup, VolumeFiles,
};
use tidemark_store::MemStore;
use tidemark_vault::{Vault, VaultOptions, backend_from_url};

fn scope() -> Scope {
    Scope {
        account: OWNER.into(),
        region: "us-east-1".into(),
    }
}

/// Incompressible, deterministic bytes.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn vault() -> Vault {
    Vault::open(
        backend_from_url("memory://").unwrap(),
        VaultOptions::default(),
    )
    .unwrap()
}

fn on_disk(dir: &Path) -> (Arc<dyn tidemark_store::Store>, VaultVolumes) {
    let store: Arc<dyn tidemark_store::Store> = Arc::new(MemStore::new());
    let v = VaultVolumes::on_disk(Arc::clone(&store), vault(), dir);
    (store, v)
}

fn all_files(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(root).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            out.extend(all_files(&e.path()));
        } else {
            out.push(e.path().display().to_string());
        }
    }
    out
}

#[test]
fn multi_part_files_stream_through_capture_and_restore() {
    let tmp = tempfile::tempdir().unwrap();
    let (_store, v) = on_disk(tmp.path());
    let s = scope();
    v.create_volume(&s, "src").unwrap();
    let dir = tmp
        .path()
        .join("redshift/volumes/111111111111/us-east-1/src");
    assert_eq!(v.volume_path(&s, "src").as_deref(), Some(dir.as_path()));
    assert!(dir.is_dir(), "a real directory");
    assert!(
        v.list_files(&s, "src").unwrap().is_empty(),
        "a new volume is empty"
    );
    let big = noise(7, 3 * (1 << 20) + 12_345); // four 1 MiB parts
    v.write_file(&s, "src", "dump/db-646576/3001.dat", &big)
        .unwrap();
    v.write_file(&s, "src", "dump/globals.sql", b"CREATE ROLE admin;\n")
        .unwrap();
    v.write_file(&s, "src", "tidemark-db.json", b"{}").unwrap();
    let files = v.list_files(&s, "src").unwrap();
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "dump/db-646576/3001.dat",
            "dump/globals.sql",
            "tidemark-db.json"
        ]
    );
    let total: u64 = files.iter().map(|f| f.bytes).sum();

    let mut seen = Vec::new();
    let r = v
        .capture(&s, "src", "snap-1", &mut |p| seen.push(p))
        .unwrap();
    assert_eq!(r.total_bytes, total);
    assert!(r.new_bytes > big.len() as u64 / 2, "noise is stored");
    assert!(seen.len() >= 5, "progress per part, got {}", seen.len());
    assert!(seen.windows(2).all(|w| w[0].done_bytes <= w[1].done_bytes));
    assert!(seen.iter().all(|p| p.total_bytes == total));
    assert_eq!(seen.last().unwrap().done_bytes, total);

    // The live volume changes after the capture; the restore brings back the captured one
    // and nothing else (a stale file in the target directory disappears).
    v.write_file(&s, "src", "dump/db-646576/3001.dat", b"later")
        .unwrap();
    v.write_file(&s, "dst", "stale", b"old").unwrap();
    let mut restored = Vec::new();
    let n = v
        .restore(&s, "snap-1", &s, "dst", &mut |p| restored.push(p))
        .unwrap();
    assert_eq!(n, total);
    assert!(restored.len() >= 4);
    assert_eq!(restored.last().unwrap().done_bytes, total);
    let dst = tmp
        .path()
        .join("redshift/volumes/111111111111/us-east-1/dst");
    assert_eq!(
        std::fs::read(dst.join("dump/db-646576/3001.dat")).unwrap(),
        big
    );
    assert!(!dst.join("stale").exists());
    assert!(
        all_files(&dst)
            .iter()
            .all(|f| !f.contains(".tidemark-tmp-")),
        "no temp files left"
    );
    let back: Vec<FileInfo> = v.list_files(&s, "dst").unwrap();
    assert_eq!(back, files);

    v.rename_volume(&s, "dst", "moved").unwrap();
    assert!(!dst.exists());
    assert_eq!(v.list_files(&s, "moved").unwrap().len(), 3);
    v.drop_volume(&s, "moved").unwrap();
    assert!(v.list_files(&s, "moved").unwrap().is_empty());
    assert!(v.write_file(&s, "src", "../escape", b"x").is_err());
}

/// Delegates to a [`VaultVolumes`] and, from inside the jobs' progress callbacks, looks at
/// what a client would see, pausing once so the next progress save is due. With
/// `fail_restore` set, a restore fails after its first progress report (a damaged vault).
struct Observed {
    inner: VaultVolumes,
    svc: OnceLock<Weak<RedshiftService>>,
    seen: Mutex<Vec<Value>>,
    fail_restore: AtomicBool,
}

impl Observed {
    fn look(&self, op: &str, input: Value, pick: &str) {
        let svc = self.svc.get().and_then(Weak::upgrade).unwrap();
        let out = dispatch_redshift(&*svc, &ctx(OWNER), op, input).unwrap();
        self.seen.lock().unwrap().push(out[pick][0].clone());
    }
}

impl VolumeFiles for Observed {
    fn create_volume(&self, s: &Scope, c: &str) -> Result<(), String> {
        self.inner.create_volume(s, c)
    }
    fn create_file(&self, s: &Scope, c: &str, n: &str) -> Result<Box<dyn FileSink>, String> {
        self.inner.create_file(s, c, n)
    }
    fn list_files(&self, s: &Scope, c: &str) -> Result<Vec<FileInfo>, String> {
        self.inner.list_files(s, c)
    }
    fn open_file(
        &self,
        s: &Scope,
        c: &str,
        n: &str,
    ) -> Result<Box<dyn std::io::Read + Send>, String> {
        self.inner.open_file(s, c, n)
    }
    fn remove_file(&self, s: &Scope, c: &str, n: &str) -> Result<(), String> {
        self.inner.remove_file(s, c, n)
    }
    fn drop_volume(&self, s: &Scope, c: &str) -> Result<(), String> {
        self.inner.drop_volume(s, c)
    }
    fn rename_volume(&self, s: &Scope, from: &str, to: &str) -> Result<(), String> {
        self.inner.rename_volume(s, from, to)
    }
    fn volume_path(&self, s: &Scope, c: &str) -> Option<std::path::PathBuf> {
        self.inner.volume_path(s, c)
    }
}

impl VolumeBackup for Observed {
    fn capture(
        &self,
        s: &Scope,
        c: &str,
        m: &str,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<CaptureResult, String> {
        let mut calls = 0;
        self.inner.capture(s, c, m, &mut |p| {
            progress(p);
            calls += 1;
            self.look(
                "DescribeClusterSnapshots",
                json!({"SnapshotIdentifier": m}),
                "Snapshots",
            );
            if calls == 2 {
                std::thread::sleep(Duration::from_millis(600));
            }
        })
    }
    fn restore(
        &self,
        owner: &Scope,
        m: &str,
        target: &Scope,
        c: &str,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<u64, String> {
        if self.fail_restore.load(Ordering::SeqCst) {
            progress(Progress {
                done_bytes: 1 << 20,
                total_bytes: 4 << 20,
            });
            return Err("chunk 1f2e… failed verification".into());
        }
        let mut calls = 0;
        self.inner.restore(owner, m, target, c, &mut |p| {
            progress(p);
            calls += 1;
            self.look(
                "DescribeClusters",
                json!({"ClusterIdentifier": c}),
                "Clusters",
            );
            if calls == 1 {
                std::thread::sleep(Duration::from_millis(600));
            }
        })
    }
    fn delete(&self, s: &Scope, m: &str) -> Result<(), String> {
        self.inner.delete(s, m)
    }
}

/// A service over on-disk volumes wrapped in [`Observed`], with a frozen clock.
fn observed_harness(fail_restore: bool) -> (H, Arc<Observed>, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let store: Arc<dyn tidemark_store::Store> = Arc::new(MemStore::new());
    let engine = Arc::new(Engine::open(Arc::clone(&store)).unwrap());
    engine.set_frozen(true).unwrap();
    engine.set_time(t0()).unwrap();
    let observed = Arc::new(Observed {
        inner: VaultVolumes::on_disk(Arc::clone(&store), vault(), tmp.path()),
        svc: OnceLock::new(),
        seen: Mutex::new(Vec::new()),
        fail_restore: AtomicBool::new(fail_restore),
    });
    let svc = RedshiftService::with_volumes(store, Arc::clone(&engine), observed.clone());
    observed.svc.set(Arc::downgrade(&svc)).unwrap();
    engine.recover().unwrap();
    (H { engine, svc }, observed, tmp)
}

#[test]
fn snapshot_and_restore_jobs_report_live_progress() {
    let (h, observed, tmp) = observed_harness(false);
    h.create_cluster("src", json!({"DBName": "sales"}));
    let big = noise(11, 4 << 20);
    h.svc
        .volumes()
        .write_file(&scope(), "src", "base/sales/orders", &big)
        .unwrap();
    observed.seen.lock().unwrap().clear();

    h.ok(
        "CreateClusterSnapshot",
        json!({"ClusterIdentifier": "src", "SnapshotIdentifier": "s1"}),
    );
    let during: Vec<Value> = std::mem::take(&mut *observed.seen.lock().unwrap());
    assert!(during.len() >= 5);
    assert!(during.iter().all(|s| s["Status"] == "creating"));
    assert_eq!(during[0]["BackupProgressInMegaBytes"], 0.0);
    assert_eq!(during[0]["EstimatedSecondsToCompletion"], -1);
    let later = &during[2];
    // The first part was reported before the pause, and the save after it is due: 2 MiB
    // (a new volume is empty, so the table's parts are all there is).
    let done = later["BackupProgressInMegaBytes"].as_f64().unwrap();
    assert_eq!(done, 2.0, "{later}");
    assert!(
        later["CurrentBackupRateInMegaBytesPerSecond"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    assert!(later["ElapsedTimeInSeconds"].as_i64().unwrap() >= 1);
    assert!(later["EstimatedSecondsToCompletion"].as_i64().unwrap() >= 0);
    let snap = &h.snapshots(OWNER, json!({"SnapshotIdentifier": "s1"}))[0];
    assert_eq!(snap["Status"], "available");
    assert_eq!(snap["EstimatedSecondsToCompletion"], 0);
    let total = snap["TotalBackupSizeInMegaBytes"].as_f64().unwrap();
    assert_eq!(total, 4.0, "the 4 MiB file is all a new volume holds");

    let out = h.dispatch_only(
        "RestoreFromClusterSnapshot",
        json!({"ClusterIdentifier": "dst", "SnapshotIdentifier": "s1"}),
    );
    assert!(out["Cluster"].get("RestoreStatus").is_none());
    h.engine.run_due().unwrap();
    let c = &h.ok("DescribeClusters", json!({"ClusterIdentifier": "dst"}))["Clusters"][0];
    // The restored cluster's views (its first automated snapshot's capture follows).
    let during: Vec<Value> = std::mem::take(&mut *observed.seen.lock().unwrap())
        .into_iter()
        .filter(|v| v.get("ClusterStatus").is_some())
        .collect();
    assert!(during.len() >= 4, "{}", during.len());
    assert_eq!(during[0]["ClusterStatus"], "creating");
    assert_eq!(during[0]["RestoreStatus"]["Status"], "restoring");
    assert_eq!(during[0]["RestoreStatus"]["ProgressInMegaBytes"], 0);
    assert_eq!(during[0]["RestoreStatus"]["SnapshotSizeInMegaBytes"], 4);
    let later = &during[1]["RestoreStatus"];
    assert_eq!(later["Status"], "restoring");
    assert_eq!(later["ProgressInMegaBytes"], 2, "{later}");
    assert!(
        later["CurrentRestoreRateInMegaBytesPerSecond"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    assert!(later["ElapsedTimeInSeconds"].as_i64().unwrap() >= 1);
    assert!(
        later["EstimatedTimeToCompletionInSeconds"]
            .as_i64()
            .unwrap()
            >= 0
    );
    assert!(during.iter().all(|c| c["ClusterStatus"] == "creating"));
    assert_eq!(c["ClusterStatus"], "available");
    assert_eq!(c["RestoreStatus"]["Status"], "completed");
    assert_eq!(c["RestoreStatus"]["EstimatedTimeToCompletionInSeconds"], 0);
    assert_eq!(c["RestoreStatus"]["ProgressInMegaBytes"], 4);
    let restored = tmp
        .path()
        .join("redshift/volumes/111111111111/us-east-1/dst/base/sales/orders");
    assert_eq!(std::fs::read(restored).unwrap(), big);
}

#[test]
fn restore_shows_starting_before_the_job_runs() {
    let h = H::new();
    h.create_cluster("src", json!({}));
    h.ok(
        "CreateClusterSnapshot",
        json!({"ClusterIdentifier": "src", "SnapshotIdentifier": "s"}),
    );
    h.dispatch_only(
        "RestoreFromClusterSnapshot",
        json!({"ClusterIdentifier": "dst", "SnapshotIdentifier": "s"}),
    );
    let out = dispatch_redshift(
        &*h.svc,
        &ctx(OWNER),
        "DescribeClusters",
        json!({"ClusterIdentifier": "dst"}),
    )
    .unwrap();
    let c = &out["Clusters"][0];
    assert_eq!(c["ClusterStatus"], "creating");
    assert_eq!(c["RestoreStatus"]["Status"], "starting");
    assert_eq!(c["RestoreStatus"]["EstimatedTimeToCompletionInSeconds"], -1);
    h.engine.run_due().unwrap();
    let c = &h.ok("DescribeClusters", json!({"ClusterIdentifier": "dst"}))["Clusters"][0];
    assert_eq!(c["RestoreStatus"]["Status"], "completed");
}

#[test]
fn a_failed_restore_leaves_an_incompatible_restore_cluster_that_can_be_deleted() {
    let (h, _observed, _tmp) = observed_harness(true);
    h.create_cluster("src", json!({}));
    h.ok(
        "CreateClusterSnapshot",
        json!({"ClusterIdentifier": "src", "SnapshotIdentifier": "s"}),
    );
    h.ok(
        "RestoreFromClusterSnapshot",
        json!({"ClusterIdentifier": "dst", "SnapshotIdentifier": "s"}),
    );
    let c = &h.ok("DescribeClusters", json!({"ClusterIdentifier": "dst"}))["Clusters"][0];
    assert_eq!(c["ClusterStatus"], "incompatible-restore", "{c}");
    assert_eq!(c["ClusterAvailabilityStatus"], "Failed");
    assert_eq!(c["RestoreStatus"]["Status"], "failed");
    assert_eq!(c["RestoreStatus"]["EstimatedTimeToCompletionInSeconds"], 0);
    // It can only be deleted; the snapshot it came from is untouched.
    h.ok(
        "DeleteCluster",
        json!({"ClusterIdentifier": "dst", "SkipFinalClusterSnapshot": true}),
    );
    let err = h.dispatch_only_err("DescribeClusters", json!({"ClusterIdentifier": "dst"}));
    assert!(format!("{err:?}").contains("ClusterNotFound"), "{err:?}");
    assert_eq!(
        h.snapshots(OWNER, json!({"SnapshotIdentifier": "s"}))[0]["Status"],
        "available"
    );
}
