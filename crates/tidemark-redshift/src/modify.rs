//! ModifyCluster (§3.7): retention fields (applied at once, purging automated snapshots that
//! fall outside a shorter window), rename, and the simple settings. Node type/count changes
//! apply immediately (no resize phase is modelled).

use tidemark_core::RequestContext;
use tidemark_model::redshift::*;
use tidemark_model::{CommonError, OpError};

use crate::RedshiftService;
use crate::catalog::{self, CLUSTERS_TABLE, ClusterRec, SNAPSHOTS_TABLE, Scope, SnapRec, internal};
use crate::rules;

impl RedshiftService {
    pub(crate) fn modify_cluster_impl(
        &self,
        ctx: &RequestContext,
        input: ModifyClusterMessage,
    ) -> Result<ModifyClusterResult, OpError<ModifyClusterError>> {
        type E = ModifyClusterError;
        let scope = Scope::of(ctx);
        let id = input
            .cluster_identifier
            .clone()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if let Some(p) = input.manual_snapshot_retention_period
            && !rules::manual_retention_ok(p)
        {
            return Err(E::invalid_retention_period_fault(rules::retention_message(p)).into());
        }
        if let Some(pw) = &input.master_user_password {
            crate::cluster_rules::check_password(pw)?;
        }
        let new_id = input
            .new_cluster_identifier
            .as_deref()
            .map(|n| rules::cluster_identifier("NewClusterIdentifier", n))
            .transpose()?;
        let mut w = self.store.write().map_err(internal)?;
        let Some(mut rec) = catalog::get::<ClusterRec>(&*w, CLUSTERS_TABLE, &scope.key(&id))?
        else {
            return Err(E::cluster_not_found_fault(rules::cluster_not_found(&id)).into());
        };
        if rec.cluster.cluster_status.as_deref() != Some("available") {
            return Err(E::invalid_cluster_state_fault(format!(
                "The cluster {id} is not in the available state (it is {}).",
                rec.cluster.cluster_status.as_deref().unwrap_or_default()
            ))
            .into());
        }
        let c = &mut rec.cluster;
        if let Some(t) = &input.node_type {
            crate::cluster_rules::check_node_type(t)?;
            c.node_type = Some(t.clone());
        }
        if input.number_of_nodes.is_some() || input.cluster_type.is_some() {
            let (_, n) = crate::cluster_rules::node_layout(
                input.cluster_type.as_deref(),
                input.number_of_nodes.or(c.number_of_nodes),
            )?;
            c.number_of_nodes = Some(n);
        }
        let node_type = c.node_type.clone().unwrap_or_default();
        let auto_before = c.automated_snapshot_retention_period.unwrap_or(1);
        if let Some(days) = input.automated_snapshot_retention_period {
            c.automated_snapshot_retention_period =
                Some(rules::automated_retention(days, &node_type)?);
        }
        if let Some(p) = input.manual_snapshot_retention_period {
            c.manual_snapshot_retention_period = Some(p);
        }
        if let Some(v) = &input.preferred_maintenance_window {
            c.preferred_maintenance_window = Some(v.clone());
        }
        if let Some(v) = input.allow_version_upgrade {
            c.allow_version_upgrade = Some(v);
        }
        if let Some(v) = input.publicly_accessible {
            c.publicly_accessible = Some(v);
        }
        if let Some(v) = input.enhanced_vpc_routing {
            c.enhanced_vpc_routing = Some(v);
        }
        if let Some(v) = &input.maintenance_track_name {
            c.maintenance_track_name = Some(v.clone());
        }
        if let Some(pw) = &input.master_user_password {
            let user = rec.cluster.master_username.clone().unwrap_or_default();
            rec.master_md5 = Some(crate::database::md5_verifier(&user, pw));
        }
        if let Some(port) = input.port {
            rec.port = port;
            if let Some(e) = rec.cluster.endpoint.as_mut() {
                e.port = Some(port);
            }
        }
        let auto_after = rec.cluster.automated_snapshot_retention_period.unwrap_or(1);
        let mut final_id = id.clone();
        if let Some(n) = new_id.filter(|n| *n != id) {
            if w.get(CLUSTERS_TABLE, &scope.key(&n))
                .map_err(internal)?
                .is_some()
            {
                return Err(E::cluster_already_exists_fault("Cluster already exists").into());
            }
            w.delete(CLUSTERS_TABLE, &scope.key(&id))
                .map_err(internal)?;
            rec.cluster.cluster_identifier = Some(n.clone());
            rec.host = rec.host.replacen(&id, &n, 1);
            if let Some(e) = rec.cluster.endpoint.as_mut() {
                e.address = Some(rec.host.clone());
            }
            catalog::put(&mut *w, CLUSTERS_TABLE, &scope.key(&n), &rec)?;
            w.commit().map_err(internal)?;
            // The volume moves with the cluster; existing snapshots keep the old id (history).
            self.volumes
                .rename_volume(&scope, &id, &n)
                .map_err(CommonError::Internal)?;
            self.db
                .rename(&scope, &id, &n)
                .map_err(CommonError::Internal)?;
            final_id = n;
            self.start_automation(
                &scope,
                &final_id,
                crate::rules::plus_secs(self.now(), rules::DEFAULT_CADENCE_SECS),
            )?;
        } else {
            catalog::put(&mut *w, CLUSTERS_TABLE, &scope.key(&id), &rec)?;
            w.commit().map_err(internal)?;
        }
        if auto_after != auto_before {
            let now = self.now();
            self.purge_automated(&scope, &final_id, now)?;
            // Remaining automated snapshots expire on the new window.
            let txn = self.store.read().map_err(internal)?;
            let snaps: Vec<SnapRec> = catalog::scan(&*txn, SNAPSHOTS_TABLE, &scope.prefix())?;
            drop(txn);
            for s in snaps.iter().filter(|s| {
                s.is_automated()
                    && s.snap.source_region.is_none()
                    && s.snap.cluster_identifier.as_deref() == Some(final_id.as_str())
            }) {
                self.submit_expiry(&scope, s, now)?;
            }
            if auto_before == 0 {
                // Re-enabled: take the first automated snapshot now (§3.3 [E]).
                self.start_automation(&scope, &final_id, now)?;
            }
        }
        if input.master_user_password.is_some() || input.port.is_some() || final_id != id {
            self.refresh_endpoint(&scope, &final_id)?;
        }
        let cluster = self.load_cluster(&scope, &final_id)?.map(|r| r.cluster);
        Ok(ModifyClusterResult { cluster })
    }
}
