//! Live progress of capture and restore jobs: while a job streams data, its figures are
//! written (at most every [`SAVE_EVERY`]) into the snapshot's `BackupProgressInMegaBytes`,
//! `CurrentBackupRateInMegaBytesPerSecond`, `ElapsedTimeInSeconds`,
//! `EstimatedSecondsToCompletion` (§3.19), or the restored cluster's `RestoreStatus`
//! (§3.18), so a Describe call during the job sees the real job's state.

use std::time::{Duration, Instant};

use tidemark_model::CommonError;
use tidemark_model::redshift::RestoreStatus;

use crate::RedshiftService;
use crate::catalog::{self, CLUSTERS_TABLE, ClusterRec, SNAPSHOTS_TABLE, Scope, SnapRec, internal};
use crate::jobs::mb;
use crate::volume::Progress;

/// How often a running job's figures reach its record: often enough for pollers, rare
/// enough that store commits stay a small share of the job.
pub const SAVE_EVERY: Duration = Duration::from_millis(500);

/// Says when a job's progress is due to be saved again.
pub(crate) struct Throttle {
    pub started: Instant,
    last: Option<Instant>,
}

impl Throttle {
    pub fn start() -> Self {
        Self {
            started: Instant::now(),
            last: None,
        }
    }

    /// True on the first call and then once per [`SAVE_EVERY`].
    pub fn due(&mut self) -> bool {
        if self.last.is_some_and(|t| t.elapsed() < SAVE_EVERY) {
            return false;
        }
        self.last = Some(Instant::now());
        true
    }
}

/// MB per second over `secs` (0 before any time has passed).
pub(crate) fn rate(bytes: u64, secs: f64) -> f64 {
    if secs > 0.0 { mb(bytes) / secs } else { 0.0 }
}

/// Seconds left at the current rate; -1 while the rate is unknown (as AWS shows).
fn eta(done: u64, total: u64, secs: f64) -> i64 {
    let r = rate(done, secs);
    if r > 0.0 && total >= done {
        (mb(total - done) / r).ceil() as i64
    } else {
        -1
    }
}

/// The RestoreStatus of a restore job: `size_mb` from the snapshot, `done` bytes so far.
pub(crate) fn restore_status(status: &str, size_mb: f64, done: u64, secs: f64) -> RestoreStatus {
    let finished = status == "completed";
    let total = (size_mb * 1024.0 * 1024.0) as u64;
    RestoreStatus {
        status: Some(status.into()),
        current_restore_rate_in_mega_bytes_per_second: Some(rate(done, secs)),
        snapshot_size_in_mega_bytes: Some(size_mb.ceil() as i64),
        progress_in_mega_bytes: Some(if finished {
            size_mb.ceil() as i64
        } else {
            mb(done).floor() as i64
        }),
        elapsed_time_in_seconds: Some(secs.round() as i64),
        estimated_time_to_completion_in_seconds: Some(if finished {
            0
        } else {
            eta(done, total.max(done), secs)
        }),
    }
}

impl RedshiftService {
    /// Writes a running capture's figures into snapshot `id` while it is still being taken.
    pub(crate) fn save_capture_progress(
        &self,
        scope: &Scope,
        id: &str,
        p: Progress,
        secs: f64,
    ) -> Result<(), CommonError> {
        let key = scope.key(id);
        let mut w = self.store.write().map_err(internal)?;
        let Some(mut rec) = catalog::get::<SnapRec>(&*w, SNAPSHOTS_TABLE, &key)? else {
            return Ok(());
        };
        if !matches!(rec.status(), "creating" | "final snapshot") {
            return Ok(());
        }
        let s = &mut rec.snap;
        s.backup_progress_in_mega_bytes = Some(mb(p.done_bytes));
        s.current_backup_rate_in_mega_bytes_per_second = Some(rate(p.done_bytes, secs));
        s.elapsed_time_in_seconds = Some(secs.round() as i64);
        s.estimated_seconds_to_completion = Some(eta(p.done_bytes, p.total_bytes, secs));
        catalog::put(&mut *w, SNAPSHOTS_TABLE, &key, &rec)?;
        w.commit().map_err(internal)
    }

    /// A restore whose data could not be brought back (a damaged vault, a full disk): as in
    /// AWS, the cluster turns `incompatible-restore` (it can only be deleted) and its
    /// RestoreStatus `failed`, keeping the progress it had reached.
    pub(crate) fn fail_restore(&self, scope: &Scope, id: &str) -> Result<(), CommonError> {
        let key = scope.key(id);
        let mut w = self.store.write().map_err(internal)?;
        let Some(mut rec) = catalog::get::<ClusterRec>(&*w, CLUSTERS_TABLE, &key)? else {
            return Ok(());
        };
        if rec.cluster.cluster_status.as_deref() != Some("creating") {
            return Ok(());
        }
        let c = &mut rec.cluster;
        c.cluster_status = Some("incompatible-restore".into());
        c.cluster_availability_status = Some("Failed".into());
        if let Some(st) = c.restore_status.as_mut() {
            st.status = Some("failed".into());
            st.estimated_time_to_completion_in_seconds = Some(0);
        }
        catalog::put(&mut *w, CLUSTERS_TABLE, &key, &rec)?;
        w.commit().map_err(internal)
    }

    /// Sets the RestoreStatus of cluster `id` while it is still being created.
    pub(crate) fn save_restore_status(
        &self,
        scope: &Scope,
        id: &str,
        status: RestoreStatus,
    ) -> Result<(), CommonError> {
        let key = scope.key(id);
        let mut w = self.store.write().map_err(internal)?;
        let Some(mut rec) = catalog::get::<ClusterRec>(&*w, CLUSTERS_TABLE, &key)? else {
            return Ok(());
        };
        if rec.cluster.cluster_status.as_deref() != Some("creating") {
            return Ok(());
        }
        rec.cluster.restore_status = Some(status);
        catalog::put(&mut *w, CLUSTERS_TABLE, &key, &rec)?;
        w.commit().map_err(internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restore_figures() {
        let s = restore_status("restoring", 100.0, 25 << 20, 5.0);
        assert_eq!(s.progress_in_mega_bytes, Some(25));
        assert_eq!(s.current_restore_rate_in_mega_bytes_per_second, Some(5.0));
        assert_eq!(s.estimated_time_to_completion_in_seconds, Some(15));
        assert_eq!(s.snapshot_size_in_mega_bytes, Some(100));
        let s = restore_status("restoring", 100.0, 0, 0.0);
        assert_eq!(s.estimated_time_to_completion_in_seconds, Some(-1));
        let s = restore_status("completed", 99.5, 99 << 20, 2.0);
        assert_eq!(s.progress_in_mega_bytes, Some(100));
        assert_eq!(s.estimated_time_to_completion_in_seconds, Some(0));
    }
}
