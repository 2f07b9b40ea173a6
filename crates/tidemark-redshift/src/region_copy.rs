//! The copies made by cross-region snapshot copy. When a snapshot of a cluster with copy
//! enabled becomes available, a persisted job copies it into the destination region of the
//! same account: first the copy appears there as `creating` (same identifier, its own create
//! time, `SourceRegion` set), then, [`COPY_SECS`] later on the virtual clock, its data moves
//! through the volume backend (restored from the source's capture into a staging volume of
//! the destination and captured there, so the backend's deduplication applies) and it turns
//! `available`. A job interrupted by a crash resumes on restart, so no copy stays `creating`.

use serde::{Deserialize, Serialize};
use serde_json::json;
use tidemark_core::Timestamp;
use tidemark_jobs::Outcome;
use tidemark_model::CommonError;

use crate::RedshiftService;
use crate::catalog::{self, SNAPSHOTS_TABLE, Scope, SnapRec, internal};
use crate::jobs::{mb, ts};
use crate::rules;
use crate::snapshot_copy::is_copy_of;

pub const KIND_REGION_COPY: &str = "redshift.region-copy";
/// How long a copy stays `creating` on the virtual clock before its data moves.
pub const COPY_SECS: i64 = 300;

/// What a copy job needs, fixed when the source snapshot became available.
#[derive(Serialize, Deserialize)]
pub(crate) struct CopyJob {
    /// The destination scope (where the copy is stored).
    pub scope: Scope,
    /// The snapshot identifier (the copy keeps its source's).
    pub snapshot: String,
    pub source: Scope,
    /// Copy retention for an automated source, in days.
    pub retention: i32,
    /// Copy retention for a manual source (`-1`: kept until deleted).
    pub manual_retention: i32,
}

impl RedshiftService {
    /// Queues the copy of snapshot `rec` of `scope` (just available) when its cluster copies
    /// snapshots to another region. Copies are never copied again.
    pub(crate) fn start_region_copy(
        &self,
        scope: &Scope,
        rec: &SnapRec,
    ) -> Result<(), CommonError> {
        if rec.snap.source_region.is_some() {
            return Ok(());
        }
        let cluster = rec.snap.cluster_identifier.clone().unwrap_or_default();
        let Some(c) = self.load_cluster(scope, &cluster)? else {
            return Ok(());
        };
        let Some(status) = c.cluster.cluster_snapshot_copy_status else {
            return Ok(());
        };
        let job = CopyJob {
            scope: Scope {
                account: scope.account.clone(),
                region: status.destination_region.unwrap_or_default(),
            },
            snapshot: rec.id().to_owned(),
            source: scope.clone(),
            retention: status
                .retention_period
                .and_then(|d| i32::try_from(d).ok())
                .unwrap_or(crate::snapshot_copy::DEFAULT_COPY_RETENTION),
            manual_retention: status.manual_snapshot_retention_period.unwrap_or(-1),
        };
        self.engine
            .submit(KIND_REGION_COPY, json!(job), None)
            .map(|_| ())
            .map_err(internal)
    }

    /// One step of a copy job: create the `creating` copy, or move its data.
    pub(crate) fn run_region_copy(
        &self,
        payload: &serde_json::Value,
        now: Timestamp,
    ) -> Result<Outcome, CommonError> {
        let job: CopyJob = serde_json::from_value(payload.clone()).map_err(internal)?;
        let key = job.scope.key(&job.snapshot);
        let src_key = job.source.key(&job.snapshot);
        let mut w = self.store.write().map_err(internal)?;
        let source: Option<SnapRec> = catalog::get(&*w, SNAPSHOTS_TABLE, &src_key)?;
        let existing: Option<SnapRec> = catalog::get(&*w, SNAPSHOTS_TABLE, &key)?;
        let Some(mut copy) = existing else {
            let Some(source) = source.filter(|s| s.status() == "available") else {
                return Ok(Outcome::Done);
            };
            let copy = copy_record(&job, &source, now);
            catalog::put(&mut *w, SNAPSHOTS_TABLE, &key, &copy)?;
            w.commit().map_err(internal)?;
            return Ok(Outcome::Reschedule(rules::plus_secs(now, COPY_SECS)));
        };
        let cluster = copy.snap.cluster_identifier.clone().unwrap_or_default();
        // Already copied (a repeated job), or the name belongs to another snapshot there.
        if copy.status() != "creating" || !is_copy_of(&copy, &job.source, &cluster) {
            return Ok(Outcome::Done);
        }
        drop(w);
        let started = std::time::Instant::now();
        let moved = match source.and_then(|s| s.manifest) {
            Some(m) => self.transfer(&job, &m),
            None => Err(format!(
                "the source snapshot {} is gone from {}",
                job.snapshot, job.source.region
            )),
        };
        let mut w = self.store.write().map_err(internal)?;
        let Some(fresh) = catalog::get::<SnapRec>(&*w, SNAPSHOTS_TABLE, &key)? else {
            return Ok(Outcome::Done);
        };
        copy = fresh;
        let s = &mut copy.snap;
        match moved {
            Ok(result) => {
                let secs = started.elapsed().as_secs_f64();
                s.status = Some("available".into());
                s.total_backup_size_in_mega_bytes = Some(mb(result.total_bytes));
                s.actual_incremental_backup_size_in_mega_bytes = Some(mb(result.new_bytes));
                s.backup_progress_in_mega_bytes = Some(mb(result.total_bytes));
                s.current_backup_rate_in_mega_bytes_per_second = Some(if secs > 0.0 {
                    mb(result.total_bytes) / secs
                } else {
                    0.0
                });
                s.elapsed_time_in_seconds = Some(COPY_SECS);
                s.estimated_seconds_to_completion = Some(0);
                s.snapshot_retention_start_time = Some(ts(now));
                copy.manifest = Some(result.manifest_id);
            }
            // A copy that cannot be made fails visibly rather than stay `creating`.
            Err(e) => {
                tracing::warn!(snapshot = %job.snapshot, error = %e, "cross-region copy failed");
                s.status = Some("failed".into());
                s.estimated_seconds_to_completion = Some(0);
            }
        }
        catalog::put(&mut *w, SNAPSHOTS_TABLE, &key, &copy)?;
        w.commit().map_err(internal)?;
        if copy.status() == "available" {
            self.submit_expiry(&job.scope, &copy, now)?;
        }
        Ok(Outcome::Done)
    }

    /// Moves the source capture into the destination: restore into a staging volume there,
    /// capture it under the copy's identifier, drop the staging volume.
    fn transfer(&self, job: &CopyJob, manifest: &str) -> Result<crate::CaptureResult, String> {
        let staging = format!(
            "region-copy-{}",
            rules::alnum(rules::digest(&[&job.source.region, &job.snapshot]), 16)
        );
        self.volumes
            .restore(&job.source, manifest, &job.scope, &staging, &mut |_| {})?;
        let captured = self
            .volumes
            .capture(&job.scope, &staging, &job.snapshot, &mut |_| {});
        let dropped = self.volumes.drop_volume(&job.scope, &staging);
        let result = captured?;
        dropped?;
        Ok(result)
    }
}

impl RedshiftService {
    /// Deletes automated copy `rec` of `scope` once its copy retention has run out.
    pub(crate) fn expire_automated_copy(
        &self,
        scope: &Scope,
        rec: &SnapRec,
        now: Timestamp,
    ) -> Result<(), CommonError> {
        if rec.status() != "available"
            || crate::snapshot_copy::automated_copy_expiry(rec, now) > now
        {
            return Ok(());
        }
        let key = scope.key(rec.id());
        let mut w = self.store.write().map_err(internal)?;
        // Re-read: a retention change may have rescheduled it meanwhile.
        let Some(fresh) = catalog::get::<SnapRec>(&*w, SNAPSHOTS_TABLE, &key)? else {
            return Ok(());
        };
        if crate::snapshot_copy::automated_copy_expiry(&fresh, now) > now {
            return Ok(());
        }
        catalog::delete_snapshot(&mut *w, &key, &fresh)?;
        w.commit().map_err(internal)?;
        self.release_manifest(scope, fresh.manifest.as_deref())
    }
}

/// The destination record of a copy as it starts: the source's configuration, its own create
/// time and ARN, no shares or tags, and the copy retention of its kind.
fn copy_record(job: &CopyJob, source: &SnapRec, now: Timestamp) -> SnapRec {
    let mut copy = source.clone();
    let cluster = copy.snap.cluster_identifier.clone().unwrap_or_default();
    copy.grants.clear();
    copy.manifest = None;
    let s = &mut copy.snap;
    s.status = Some("creating".into());
    s.snapshot_create_time = Some(ts(now));
    s.source_region = Some(job.source.region.clone());
    s.snapshot_arn = Some(
        job.scope
            .arn(&format!("snapshot:{cluster}/{}", job.snapshot)),
    );
    s.tags = Some(Vec::new());
    s.accounts_with_restore_access = None;
    s.backup_progress_in_mega_bytes = Some(0.0);
    s.actual_incremental_backup_size_in_mega_bytes = Some(-1.0);
    s.current_backup_rate_in_mega_bytes_per_second = Some(0.0);
    s.elapsed_time_in_seconds = Some(0);
    s.estimated_seconds_to_completion = Some(COPY_SECS);
    s.snapshot_retention_start_time = None;
    if copy.is_automated() {
        copy.copy_retention = Some(job.retention);
        copy.snap.manual_snapshot_retention_period = None;
    } else {
        copy.copy_retention = None;
        copy.snap.manual_snapshot_retention_period = Some(job.manual_retention);
    }
    copy
}
