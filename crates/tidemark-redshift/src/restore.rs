//! RestoreFromClusterSnapshot (§3.18): a new cluster from an own or shared snapshot, its
//! configuration copied from the snapshot unless overridden; the volume is restored from the
//! snapshot's captured manifest by the cluster's create job. RestoreStatus goes `starting`
//! (request accepted) → `restoring` (the job streams data; progress, rate, elapsed and
//! estimate from the real job) → `completed` at the moment the cluster becomes `available`
//! with its data in place (the ClusterRestored waiter needs `completed`, §1.6).

use tidemark_core::RequestContext;
use tidemark_model::redshift::*;
use tidemark_model::{CommonError, OpError};

use crate::RedshiftService;
use crate::catalog::{
    self, CLUSTERS_TABLE, ClusterRec, RestoreSource, SCHEDULES_TABLE, Scope, internal,
};
use crate::describe::{load_snapshot, parse_snapshot_arn};
use crate::jobs::ClusterAction;
use crate::progress::{Throttle, restore_status};
use crate::rules;

impl RedshiftService {
    pub(crate) fn restore_impl(
        &self,
        ctx: &RequestContext,
        input: RestoreFromClusterSnapshotMessage,
    ) -> Result<RestoreFromClusterSnapshotResult, OpError<RestoreFromClusterSnapshotError>> {
        type E = RestoreFromClusterSnapshotError;
        let scope = Scope::of(ctx);
        let id = rules::cluster_identifier(
            "ClusterIdentifier",
            input.cluster_identifier.as_deref().unwrap_or_default(),
        )?;
        let (snap_id, owner_account) = match (&input.snapshot_identifier, &input.snapshot_arn) {
            (Some(_), Some(_)) => {
                return Err(CommonError::InvalidParameterCombination(
                    "Specify either SnapshotIdentifier or SnapshotArn, not both.".into(),
                )
                .into());
            }
            (None, None) => {
                return Err(CommonError::MissingParameter(
                    "SnapshotIdentifier or SnapshotArn is required.".into(),
                )
                .into());
            }
            (Some(s), None) => (
                s.clone(),
                input
                    .owner_account
                    .clone()
                    .unwrap_or_else(|| scope.account.clone()),
            ),
            (None, Some(arn)) => match parse_snapshot_arn(arn) {
                Some((account, _, _, snap)) => (snap, account),
                None => {
                    return Err(CommonError::InvalidParameterValue(format!(
                        "Invalid snapshot ARN: {arn}"
                    ))
                    .into());
                }
            },
        };
        let owner = Scope {
            account: owner_account,
            region: scope.region.clone(),
        };
        let mut w = self.store.write().map_err(internal)?;
        let Some(snap) = load_snapshot(&*w, &owner, &snap_id)? else {
            return Err(
                E::cluster_snapshot_not_found_fault(rules::snapshot_not_found(&snap_id)).into(),
            );
        };
        if owner != scope && !snap.grants.contains(&scope.account) {
            return Err(E::access_to_snapshot_denied_fault(format!(
                "You are not authorized to restore snapshot {snap_id}."
            ))
            .into());
        }
        if let Some(c) = &input.snapshot_cluster_identifier
            && snap.snap.cluster_identifier.as_deref() != Some(c.to_ascii_lowercase().as_str())
        {
            return Err(
                E::cluster_snapshot_not_found_fault(rules::snapshot_not_found(&snap_id)).into(),
            );
        }
        if snap.status() != "available" {
            return Err(E::invalid_cluster_snapshot_state_fault(format!(
                "Snapshot {snap_id} is in state {}; only available snapshots can be restored.",
                snap.status()
            ))
            .into());
        }
        if w.get(CLUSTERS_TABLE, &scope.key(&id))
            .map_err(internal)?
            .is_some()
        {
            return Err(E::cluster_already_exists_fault("Cluster already exists").into());
        }
        let s = &snap.snap;
        let node_type = input
            .node_type
            .clone()
            .or_else(|| s.node_type.clone())
            .unwrap_or_default();
        if !s
            .restorable_node_types
            .as_deref()
            .unwrap_or_default()
            .contains(&node_type)
        {
            return Err(E::invalid_restore_fault(format!(
                "Snapshot {snap_id} of node type {} cannot be restored to node type {node_type}.",
                s.node_type.as_deref().unwrap_or_default()
            ))
            .into());
        }
        let (_, nodes) =
            crate::cluster_rules::node_layout(None, input.number_of_nodes.or(s.number_of_nodes))?;
        let port = input.port.or(s.port).unwrap_or(5439);
        crate::cluster_rules::check_port_for(port, &node_type)?;
        let auto = rules::automated_retention(
            input
                .automated_snapshot_retention_period
                .unwrap_or(snap.src_automated_retention),
            &node_type,
        )?;
        let manual = input.manual_snapshot_retention_period.unwrap_or(-1);
        if !rules::manual_retention_ok(manual) {
            return Err(
                CommonError::InvalidParameterValue(rules::retention_message(manual)).into(),
            );
        }
        let schedule = match &input.snapshot_schedule_identifier {
            Some(sid) => {
                let sid = sid.to_ascii_lowercase();
                if w.get(SCHEDULES_TABLE, &scope.key(&sid))
                    .map_err(internal)?
                    .is_none()
                {
                    return Err(E::snapshot_schedule_not_found_fault(format!(
                        "Snapshot schedule {sid} not found."
                    ))
                    .into());
                }
                Some(sid)
            }
            None => None,
        };
        let now = self.now();
        let mut c = crate::cluster_rules::base_cluster(&scope, &id, &now.to_string());
        c.node_type = Some(node_type);
        c.number_of_nodes = Some(nodes);
        c.master_username = s.master_username.clone();
        c.db_name = s.db_name.clone();
        c.automated_snapshot_retention_period = Some(auto);
        c.manual_snapshot_retention_period = Some(manual);
        c.availability_zone = input
            .availability_zone
            .clone()
            .or_else(|| s.availability_zone.clone());
        c.preferred_maintenance_window = input
            .preferred_maintenance_window
            .clone()
            .or_else(|| snap.src_maintenance_window.clone());
        c.allow_version_upgrade = Some(input.allow_version_upgrade.unwrap_or(true));
        c.publicly_accessible = Some(input.publicly_accessible.unwrap_or(false));
        c.encrypted = Some(input.encrypted.or(s.encrypted).unwrap_or(true));
        c.kms_key_id = input.kms_key_id.clone().or_else(|| s.kms_key_id.clone());
        c.enhanced_vpc_routing = input.enhanced_vpc_routing.or(s.enhanced_vpc_routing);
        c.maintenance_track_name = input
            .maintenance_track_name
            .clone()
            .or_else(|| s.maintenance_track_name.clone());
        c.tags = Some(Vec::new());
        if let Some(sid) = schedule {
            c.snapshot_schedule_identifier = Some(sid);
            c.snapshot_schedule_state = Some("ACTIVE".into());
        }
        let host = format!(
            "{id}.{}.{}.redshift.localhost",
            rules::alnum(rules::digest(&[&scope.account, &id, &now.to_string()]), 12),
            scope.region
        );
        let size_mb = s.total_backup_size_in_mega_bytes.unwrap_or(0.0).max(0.0);
        let mut stored = c.clone();
        // The response carries no RestoreStatus yet (§3.18 [S]); Describe shows `starting`.
        stored.restore_status = Some(restore_status("starting", size_mb, 0, 0.0));
        let rec = ClusterRec {
            cluster: stored,
            restore_from: Some(RestoreSource {
                owner,
                manifest: snap.manifest.clone(),
                size_mb,
            }),
            port,
            host,
            master_md5: snap.src_master_md5.clone(),
            ..Default::default()
        };
        catalog::put(&mut *w, CLUSTERS_TABLE, &scope.key(&id), &rec)?;
        w.commit().map_err(internal)?;
        self.submit_cluster_job(&scope, &id, ClusterAction::Create)?;
        Ok(RestoreFromClusterSnapshotResult { cluster: Some(c) })
    }
}

impl RedshiftService {
    /// The restore job's data step: streams `src`'s captured volume into cluster `id`,
    /// keeping its RestoreStatus `restoring` with the job's live figures; returns the
    /// `completed` status to show once the cluster is available.
    pub(crate) fn restore_volume(
        &self,
        scope: &Scope,
        id: &str,
        src: &RestoreSource,
    ) -> Result<RestoreStatus, CommonError> {
        let manifest = src
            .manifest
            .as_deref()
            .ok_or_else(|| CommonError::Internal("the snapshot has no captured data".to_owned()))?;
        let mut throttle = Throttle::start();
        throttle.due();
        self.save_restore_status(scope, id, restore_status("restoring", src.size_mb, 0, 0.0))?;
        let bytes = self
            .volumes
            .restore(&src.owner, manifest, scope, id, &mut |p| {
                if throttle.due() {
                    let secs = throttle.started.elapsed().as_secs_f64();
                    let st = restore_status("restoring", src.size_mb, p.done_bytes, secs);
                    // Best effort: a failed progress write only delays what pollers see.
                    let _ = self.save_restore_status(scope, id, st);
                }
            })
            .map_err(CommonError::Internal)?;
        let secs = throttle.started.elapsed().as_secs_f64();
        Ok(restore_status("completed", src.size_mb, bytes, secs))
    }
}
