//! The automated snapshot engine (§3.3) and retention expiry (§3.3, §3.4): captures, ticks on
//! the default cadence or a schedule, purges of automated snapshots past their window, and
//! deletion of expired manual snapshots. Every step re-reads its records first.

use tidemark_core::Timestamp;
use tidemark_jobs::Outcome;
use tidemark_model::CommonError;

use crate::RedshiftService;
use crate::catalog::{self, CLUSTERS_TABLE, ClusterRec, SNAPSHOTS_TABLE, Scope, SnapRec, internal};
use crate::jobs::{Payload, mb, ts};
use crate::rules::{self, DAY_SECS};

impl RedshiftService {
    /// Captures the cluster volume behind snapshot `id` and makes it available; the size
    /// and progress fields are the capture's own figures (§3.19).
    pub(crate) fn capture(
        &self,
        scope: &Scope,
        id: &str,
        now: Timestamp,
    ) -> Result<(), CommonError> {
        let key = scope.key(id);
        let Some(rec) = catalog::get::<SnapRec>(
            &*self.store.read().map_err(internal)?,
            SNAPSHOTS_TABLE,
            &key,
        )?
        else {
            return Ok(());
        };
        if !matches!(rec.status(), "creating" | "final snapshot") {
            return Ok(());
        }
        let cluster = rec.snap.cluster_identifier.clone().unwrap_or_default();
        // The job's time includes the database dump, not only the volume capture.
        let started = std::time::Instant::now();
        if self.db.holds_data() {
            // A manual snapshot was marked when requested; automated and final ones are
            // taken now, as their job runs.
            let marked = if rec.snap.snapshot_type.as_deref() == Some("manual")
                && rec.status() == "creating"
            {
                Ok(())
            } else {
                self.db.mark(scope, &cluster, id)
            };
            if let Err(e) =
                marked.and_then(|()| self.db.dump(scope, &cluster, id, self.volumes.as_ref()))
            {
                self.db.unmark(scope, &cluster, id);
                return self.fail_snapshot(scope, id, &e);
            }
        }
        let mut last = None;
        let mut throttle = crate::progress::Throttle::start();
        let result = self
            .volumes
            .capture(scope, &cluster, id, &mut |p| {
                last = Some(p);
                if throttle.due() {
                    // Best effort: a failed progress write only delays what pollers see;
                    // the final figures below are written (and checked) regardless.
                    let secs = throttle.started.elapsed().as_secs_f64();
                    let _ = self.save_capture_progress(scope, id, p, secs);
                }
            })
            .map_err(CommonError::Internal)?;
        let mut w = self.store.write().map_err(internal)?;
        let Some(mut rec) = catalog::get::<SnapRec>(&*w, SNAPSHOTS_TABLE, &key)? else {
            return Ok(());
        };
        let secs = started.elapsed().as_secs_f64();
        let s = &mut rec.snap;
        s.status = Some("available".into());
        s.total_backup_size_in_mega_bytes = Some(mb(result.total_bytes));
        s.actual_incremental_backup_size_in_mega_bytes = Some(mb(result.new_bytes));
        s.backup_progress_in_mega_bytes = Some(mb(last
            .map_or(result.total_bytes, |p| p.done_bytes)
            .min(result.new_bytes)));
        s.current_backup_rate_in_mega_bytes_per_second = Some(if secs > 0.0 {
            mb(result.new_bytes) / secs
        } else {
            0.0
        });
        s.elapsed_time_in_seconds = Some(secs.round() as i64);
        s.estimated_seconds_to_completion = Some(0);
        s.snapshot_retention_start_time = Some(ts(now));
        rec.manifest = Some(result.manifest_id);
        catalog::put(&mut *w, SNAPSHOTS_TABLE, &key, &rec)?;
        w.commit().map_err(internal)?;
        self.submit_expiry(scope, &rec, now)?;
        self.start_region_copy(scope, &rec)
    }

    pub(crate) fn automated_tick(
        &self,
        p: &Payload,
        now: Timestamp,
    ) -> Result<Outcome, CommonError> {
        let id = p.cluster.clone().unwrap_or_default();
        let Some(rec) = self.load_cluster(&p.scope, &id)? else {
            return Ok(Outcome::Done);
        };
        if rec.auto_gen != p.generation {
            return Ok(Outcome::Done);
        }
        let retention = rec.cluster.automated_snapshot_retention_period.unwrap_or(0);
        // Paused clusters take no automated snapshots (§3.3 [?]); the cadence continues.
        if rec.cluster.cluster_status.as_deref() == Some("available") && retention > 0 {
            let snap_id = format!("rs:{id}-{}", now.strftime("%Y-%m-%d-%H-%M-%S"));
            let mut w = self.store.write().map_err(internal)?;
            if w.get(SNAPSHOTS_TABLE, &p.scope.key(&snap_id))
                .map_err(internal)?
                .is_none()
            {
                let snap = self.snapshot_from_cluster(&p.scope, &rec, &snap_id, "automated", now);
                catalog::put(&mut *w, SNAPSHOTS_TABLE, &p.scope.key(&snap_id), &snap)?;
                w.commit().map_err(internal)?;
                self.capture(&p.scope, &snap_id, now)?;
            }
        }
        self.purge_automated(&p.scope, &id, now)?;
        let next = self.next_tick(&p.scope, &rec, now)?;
        let mut w = self.store.write().map_err(internal)?;
        if let Some(mut fresh) = catalog::get::<ClusterRec>(&*w, CLUSTERS_TABLE, &p.scope.key(&id))?
        {
            fresh.cluster.expected_next_snapshot_schedule_time = Some(ts(next));
            catalog::put(&mut *w, CLUSTERS_TABLE, &p.scope.key(&id), &fresh)?;
            w.commit().map_err(internal)?;
        }
        Ok(Outcome::Reschedule(next))
    }

    /// Deletes the cluster's automated snapshots that are past its retention period, keeping
    /// the newest unless retention is 0 (which purges all) (§3.3).
    pub(crate) fn purge_automated(
        &self,
        scope: &Scope,
        cluster: &str,
        now: Timestamp,
    ) -> Result<(), CommonError> {
        let Some(rec) = self.load_cluster(scope, cluster)? else {
            return Ok(());
        };
        let days = rec.cluster.automated_snapshot_retention_period.unwrap_or(0);
        let mut w = self.store.write().map_err(internal)?;
        let mut autos: Vec<SnapRec> =
            catalog::scan::<SnapRec>(&*w, SNAPSHOTS_TABLE, &scope.prefix())?
                .into_iter()
                .filter(|s| {
                    // Copies from another region expire by their own retention.
                    s.is_automated()
                        && s.snap.source_region.is_none()
                        && s.snap.cluster_identifier.as_deref() == Some(cluster)
                        && s.status() == "available"
                })
                .collect();
        autos.sort_by_key(|s| s.snap.snapshot_create_time);
        let newest = if days > 0 { autos.pop() } else { None };
        let mut gone = Vec::new();
        for s in autos {
            let created = s.snap.snapshot_create_time.map_or(now, |t| t.0);
            if days == 0 || rules::plus_secs(created, i64::from(days) * DAY_SECS) <= now {
                w.delete(SNAPSHOTS_TABLE, &scope.key(s.id()))
                    .map_err(internal)?;
                gone.push(s);
            }
        }
        drop(newest);
        w.commit().map_err(internal)?;
        for s in gone {
            self.release_manifest(scope, s.manifest.as_deref())?;
        }
        Ok(())
    }

    pub(crate) fn expire(&self, p: &Payload, now: Timestamp) -> Result<(), CommonError> {
        let id = p.snapshot.clone().unwrap_or_default();
        let key = p.scope.key(&id);
        let Some(rec) = catalog::get::<SnapRec>(
            &*self.store.read().map_err(internal)?,
            SNAPSHOTS_TABLE,
            &key,
        )?
        else {
            return Ok(());
        };
        if rec.is_automated() && rec.snap.source_region.is_some() {
            return self.expire_automated_copy(&p.scope, &rec, now);
        }
        if rec.is_automated() {
            return self.purge_automated(
                &p.scope,
                rec.snap.cluster_identifier.as_deref().unwrap_or_default(),
                now,
            );
        }
        let (Some(period), Some(start)) = (
            rec.snap.manual_snapshot_retention_period,
            rec.snap.snapshot_retention_start_time,
        ) else {
            return Ok(());
        };
        if period == -1 || rules::plus_secs(start.0, i64::from(period) * DAY_SECS) > now {
            return Ok(());
        }
        // Expired manual snapshot: the service deletes it, grants included (§3.4).
        let mut w = self.store.write().map_err(internal)?;
        w.delete(SNAPSHOTS_TABLE, &key).map_err(internal)?;
        for grantee in &rec.grants {
            let g = Scope {
                account: grantee.clone(),
                region: p.scope.region.clone(),
            };
            w.delete(catalog::GRANTS_TABLE, &g.grant_key(&p.scope.account, &id))
                .map_err(internal)?;
        }
        w.commit().map_err(internal)?;
        self.release_manifest(&p.scope, rec.manifest.as_deref())
    }
}
