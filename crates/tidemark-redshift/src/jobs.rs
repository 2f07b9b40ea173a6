//! Background work on the virtual clock: cluster transitions (§3.2), snapshot captures, the
//! automated snapshot engine (§3.3) and retention expiry (§3.3, §3.4). Every job re-reads
//! its records and does nothing when they moved on, so a stale or repeated job is harmless.

use std::sync::{Arc, Weak};

use serde::{Deserialize, Serialize};
use serde_json::json;
use tidemark_core::Timestamp;
use tidemark_jobs::{Engine, Job, JobContext, JobHandler, Outcome};
use tidemark_model::CommonError;
use tidemark_model::redshift::{ClusterIamRole, ClusterNode, Endpoint, PendingModifiedValues};

use crate::RedshiftService;
use crate::catalog::{
    self, CLUSTERS_TABLE, ClusterRec, SCHEDULES_TABLE, SNAPSHOTS_TABLE, ScheduleRec, Scope,
    SnapRec, internal,
};
use crate::database::DbStart;
use crate::rules::{self, DAY_SECS};

pub const KIND_CLUSTER: &str = "redshift.cluster";
pub const KIND_CAPTURE: &str = "redshift.capture";
pub const KIND_AUTO: &str = "redshift.automated-snapshot";
pub const KIND_EXPIRE: &str = "redshift.expire";

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusterAction {
    Create,
    Delete,
    Pause,
    Resume,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct Payload {
    pub scope: Scope,
    #[serde(default)]
    pub cluster: Option<String>,
    #[serde(default)]
    pub snapshot: Option<String>,
    #[serde(default)]
    pub action: Option<ClusterAction>,
    #[serde(default)]
    pub generation: u64,
}

struct Handler {
    svc: Weak<RedshiftService>,
    kind: &'static str,
}

impl JobHandler for Handler {
    fn run(&self, job: &Job, ctx: &JobContext<'_>) -> Outcome {
        let Some(svc) = self.svc.upgrade() else {
            return Outcome::Failed("the Redshift service is gone".into());
        };
        let p: Payload = match serde_json::from_value(job.payload.clone()) {
            Ok(p) => p,
            Err(e) => return Outcome::Failed(format!("bad payload: {e}")),
        };
        let now = ctx.now();
        let result = match self.kind {
            KIND_CLUSTER => svc.run_cluster_job(&p, now).map(|()| Outcome::Done),
            KIND_CAPTURE => svc
                .capture(&p.scope, p.snapshot.as_deref().unwrap_or_default(), now)
                .map(|()| Outcome::Done),
            KIND_AUTO => svc.automated_tick(&p, now),
            crate::region_copy::KIND_REGION_COPY => svc.run_region_copy(&job.payload, now),
            crate::table_restore::KIND_TABLE_RESTORE => svc
                .run_table_restore(&p.scope, p.snapshot.as_deref().unwrap_or_default(), now)
                .map(|()| Outcome::Done),
            _ => svc.expire(&p, now).map(|()| Outcome::Done),
        };
        result.unwrap_or_else(|e| Outcome::Failed(e.to_string()))
    }
}

pub(crate) fn register(svc: &Arc<RedshiftService>, engine: &Engine) {
    for kind in [
        KIND_CLUSTER,
        KIND_CAPTURE,
        KIND_AUTO,
        KIND_EXPIRE,
        crate::table_restore::KIND_TABLE_RESTORE,
        crate::region_copy::KIND_REGION_COPY,
    ] {
        engine.register(
            kind,
            Arc::new(Handler {
                svc: Arc::downgrade(svc),
                kind,
            }),
        );
    }
}

pub(crate) fn ts(t: Timestamp) -> tidemark_model::Timestamp {
    tidemark_model::Timestamp(t)
}

pub(crate) fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

impl RedshiftService {
    fn submit(
        &self,
        kind: &str,
        payload: serde_json::Value,
        due: Option<Timestamp>,
    ) -> Result<(), CommonError> {
        self.engine
            .submit(kind, payload, due)
            .map(|_| ())
            .map_err(internal)
    }

    pub(crate) fn submit_cluster_job(
        &self,
        scope: &Scope,
        cluster: &str,
        action: ClusterAction,
    ) -> Result<(), CommonError> {
        self.submit(
            KIND_CLUSTER,
            json!({"scope": scope, "cluster": cluster, "action": action}),
            None,
        )
    }

    pub(crate) fn submit_capture(&self, scope: &Scope, snapshot: &str) -> Result<(), CommonError> {
        self.submit(
            KIND_CAPTURE,
            json!({"scope": scope, "snapshot": snapshot}),
            None,
        )
    }

    /// Schedules the retention check of one snapshot at its expiry, if it has one.
    pub(crate) fn submit_expiry(
        &self,
        scope: &Scope,
        rec: &SnapRec,
        now: Timestamp,
    ) -> Result<(), CommonError> {
        let due = if rec.is_automated() && rec.snap.source_region.is_some() {
            crate::snapshot_copy::automated_copy_expiry(rec, now)
        } else if rec.is_automated() {
            let cluster = rec.snap.cluster_identifier.clone().unwrap_or_default();
            let days = self
                .load_cluster(scope, &cluster)?
                .and_then(|c| c.cluster.automated_snapshot_retention_period)
                .unwrap_or(0);
            let created = rec.snap.snapshot_create_time.map_or(now, |t| t.0);
            rules::plus_secs(created, i64::from(days) * DAY_SECS)
        } else {
            match (
                rec.snap.manual_snapshot_retention_period,
                rec.snap.snapshot_retention_start_time,
            ) {
                (Some(p), Some(start)) if p > 0 => {
                    rules::plus_secs(start.0, i64::from(p) * DAY_SECS)
                }
                _ => return Ok(()),
            }
        };
        self.submit(
            KIND_EXPIRE,
            json!({"scope": scope, "snapshot": rec.id()}),
            Some(due.max(now)),
        )
    }

    /// Starts (or restarts, under a new generation) a cluster's automated-snapshot cadence;
    /// the first tick is due now (§3.3 [E]: first snapshot as the cluster becomes available).
    pub(crate) fn start_automation(
        &self,
        scope: &Scope,
        cluster: &str,
        first: Timestamp,
    ) -> Result<(), CommonError> {
        let mut w = self.store.write().map_err(internal)?;
        let Some(mut rec) = catalog::get::<ClusterRec>(&*w, CLUSTERS_TABLE, &scope.key(cluster))?
        else {
            return Ok(());
        };
        rec.auto_gen += 1;
        rec.cluster.expected_next_snapshot_schedule_time = Some(ts(first));
        rec.cluster.expected_next_snapshot_schedule_time_status = Some("OnTrack".into());
        let generation = rec.auto_gen;
        catalog::put(&mut *w, CLUSTERS_TABLE, &scope.key(cluster), &rec)?;
        w.commit().map_err(internal)?;
        self.submit(
            KIND_AUTO,
            json!({"scope": scope, "cluster": cluster, "generation": generation}),
            Some(first),
        )
    }

    /// When the cluster's next automated snapshot is due after `now`.
    pub(crate) fn next_tick(
        &self,
        scope: &Scope,
        rec: &ClusterRec,
        now: Timestamp,
    ) -> Result<Timestamp, CommonError> {
        if let Some(s) = &rec.cluster.snapshot_schedule_identifier {
            let txn = self.store.read().map_err(internal)?;
            if let Some(sched) = catalog::get::<ScheduleRec>(&*txn, SCHEDULES_TABLE, &scope.key(s))?
                && let Some(t) = crate::schedule_expr::next_of(&sched.definitions, now)
            {
                return Ok(t);
            }
        }
        Ok(rules::plus_secs(now, rules::DEFAULT_CADENCE_SECS))
    }

    fn run_cluster_job(&self, p: &Payload, now: Timestamp) -> Result<(), CommonError> {
        let id = p.cluster.clone().unwrap_or_default();
        let key = p.scope.key(&id);
        let Some(mut rec) = catalog::get::<ClusterRec>(
            &*self.store.read().map_err(internal)?,
            CLUSTERS_TABLE,
            &key,
        )?
        else {
            return Ok(());
        };
        let status = rec.cluster.cluster_status.clone().unwrap_or_default();
        match p.action {
            Some(ClusterAction::Create) if status == "creating" => {
                let restored = match &rec.restore_from {
                    Some(src) => match self.restore_volume(&p.scope, &id, src) {
                        Ok(status) => Some(status),
                        Err(e) => {
                            self.fail_restore(&p.scope, &id)?;
                            return Err(e);
                        }
                    },
                    None => {
                        self.volumes
                            .create_volume(&p.scope, &id)
                            .map_err(CommonError::Internal)?;
                        None
                    }
                };
                // Re-read: the record moved on while data streamed (restore progress, tags).
                let Some(mut rec) = self.load_cluster(&p.scope, &id)? else {
                    return self
                        .volumes
                        .drop_volume(&p.scope, &id)
                        .map_err(CommonError::Internal);
                };
                if rec.cluster.cluster_status.as_deref() != Some("creating") {
                    return Ok(());
                }
                let how = if restored.is_some() {
                    DbStart::FromVolume
                } else {
                    DbStart::Fresh
                };
                if let Err(e) = self.start_database(&p.scope, &mut rec, how) {
                    if restored.is_some() {
                        // The snapshot's database could not be loaded: as a damaged vault.
                        self.fail_restore(&p.scope, &id)?;
                    }
                    return Err(CommonError::Internal(format!(
                        "the cluster's database did not start: {e}"
                    )));
                }
                rec.restore_from = None;
                let c = &mut rec.cluster;
                c.cluster_status = Some("available".into());
                c.cluster_availability_status = Some("Available".into());
                c.cluster_create_time = Some(ts(now));
                c.endpoint = Some(Endpoint {
                    address: Some(rec.host.clone()),
                    port: Some(rec.port),
                    ..c.endpoint.take().unwrap_or_default()
                });
                c.pending_modified_values = Some(PendingModifiedValues::default());
                let nodes = c.number_of_nodes.unwrap_or(1);
                let node = |role: String, i: i32| ClusterNode {
                    node_role: Some(role),
                    private_ip_address: Some(format!("10.0.0.{}", 10 + i)),
                    public_ip_address: Some(format!("127.0.0.{}", 10 + i)),
                };
                c.cluster_nodes = Some(if nodes == 1 {
                    vec![node("SHARED".into(), 0)]
                } else {
                    std::iter::once(node("LEADER".into(), 0))
                        .chain((0..nodes).map(|i| node(format!("COMPUTE-{i}"), i + 1)))
                        .collect()
                });
                c.iam_roles = Some(
                    c.iam_roles
                        .take()
                        .unwrap_or_default()
                        .into_iter()
                        .map(|r| ClusterIamRole {
                            apply_status: Some("in-sync".into()),
                            ..r
                        })
                        .collect(),
                );
                if restored.is_some() {
                    c.restore_status = restored;
                }
                self.save_cluster(&p.scope, &rec)?;
                self.start_automation(&p.scope, &id, now)
            }
            Some(ClusterAction::Pause) if status == "pausing" => {
                self.db.stop(&p.scope, &id).map_err(CommonError::Internal)?;
                rec.cluster.cluster_status = Some("paused".into());
                rec.cluster.cluster_availability_status = Some("Paused".into());
                self.save_cluster(&p.scope, &rec)
            }
            Some(ClusterAction::Resume) if status == "resuming" => {
                self.start_database(&p.scope, &mut rec, DbStart::Existing)
                    .map_err(CommonError::Internal)?;
                rec.cluster.cluster_status = Some("available".into());
                rec.cluster.cluster_availability_status = Some("Available".into());
                self.save_cluster(&p.scope, &rec)
            }
            Some(ClusterAction::Delete) if status == "final-snapshot" || status == "deleting" => {
                if let Some(f) = rec.final_snapshot.take() {
                    self.capture(&p.scope, &f, now)?;
                }
                self.remove_cluster(&p.scope, &id)
            }
            _ => Ok(()),
        }
    }

    fn save_cluster(&self, scope: &Scope, rec: &ClusterRec) -> Result<(), CommonError> {
        let id = rec.cluster.cluster_identifier.clone().unwrap_or_default();
        let mut w = self.store.write().map_err(internal)?;
        catalog::put(&mut *w, CLUSTERS_TABLE, &scope.key(&id), rec)?;
        w.commit().map_err(internal)
    }

    /// The cluster disappears: its automated snapshots and volume go with it (§3.6 step 6).
    fn remove_cluster(&self, scope: &Scope, id: &str) -> Result<(), CommonError> {
        let mut w = self.store.write().map_err(internal)?;
        let snaps: Vec<SnapRec> = catalog::scan(&*w, SNAPSHOTS_TABLE, &scope.prefix())?;
        let autos: Vec<SnapRec> = snaps
            .into_iter()
            .filter(|s| {
                s.is_automated()
                    && s.snap.source_region.is_none()
                    && s.snap.cluster_identifier.as_deref() == Some(id)
            })
            .collect();
        for s in &autos {
            w.delete(SNAPSHOTS_TABLE, &scope.key(s.id()))
                .map_err(internal)?;
        }
        w.delete(CLUSTERS_TABLE, &scope.key(id)).map_err(internal)?;
        w.commit().map_err(internal)?;
        for s in &autos {
            self.release_manifest(scope, s.manifest.as_deref())?;
        }
        self.db.remove(scope, id).map_err(CommonError::Internal)?;
        self.volumes
            .drop_volume(scope, id)
            .map_err(CommonError::Internal)
    }
}
