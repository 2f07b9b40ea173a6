//! Manual snapshot operations: CreateClusterSnapshot (§3.9), CopyClusterSnapshot (§3.10 and
//! the seed page), DeleteClusterSnapshot (§3.11), ModifyClusterSnapshot (§3.13) and the batch
//! forms (§3.12); plus how a Snapshot view is built from a cluster and rendered (§3.19).

use tidemark_core::{RequestContext, Timestamp};
use tidemark_model::redshift::*;
use tidemark_model::{CommonError, OpError};

use crate::RedshiftService;
use crate::catalog::{self, CLUSTERS_TABLE, ClusterRec, SNAPSHOTS_TABLE, Scope, SnapRec, internal};
use crate::rules::{self, snapshot_not_found};

/// A snapshot-level failure, shared by the single and batch operations.
#[derive(Debug)]
pub(crate) enum SnapErr {
    NotFound(String),
    State(String),
    Retention(String),
    Common(CommonError),
}

impl From<CommonError> for SnapErr {
    fn from(e: CommonError) -> Self {
        SnapErr::Common(e)
    }
}

impl SnapErr {
    /// The wire code and message, for batch `Errors` entries.
    pub(crate) fn code_and_message(self) -> (String, String) {
        match self {
            SnapErr::NotFound(m) => ("ClusterSnapshotNotFound".into(), m),
            SnapErr::State(m) => ("InvalidClusterSnapshotState".into(), m),
            SnapErr::Retention(m) => ("InvalidRetentionPeriodFault".into(), m),
            SnapErr::Common(CommonError::InvalidParameterValue(m)) => {
                ("InvalidParameterValue".into(), m)
            }
            SnapErr::Common(e) => ("InternalFailure".into(), e.to_string()),
        }
    }
}

/// Node types a snapshot of `node_type` can be restored into (§3.19 [E]): its family.
pub(crate) fn restorable(node_type: &str) -> Vec<String> {
    let family = node_type.split('.').next().unwrap_or_default();
    rules::NODE_TYPES
        .iter()
        .filter(|t| t.starts_with(&format!("{family}.")))
        .map(|t| (*t).to_owned())
        .collect()
}

fn to_ts(t: Timestamp) -> tidemark_model::Timestamp {
    tidemark_model::Timestamp(t)
}

impl RedshiftService {
    /// A new snapshot record of `rec`'s current configuration, status `creating`, sizes
    /// unknown until the capture job runs (§3.9 response shape).
    pub(crate) fn snapshot_from_cluster(
        &self,
        scope: &Scope,
        rec: &ClusterRec,
        id: &str,
        kind: &str,
        now: Timestamp,
    ) -> SnapRec {
        let c = &rec.cluster;
        let cluster_id = c.cluster_identifier.clone().unwrap_or_default();
        let node_type = c.node_type.clone().unwrap_or_default();
        let snap = Snapshot {
            snapshot_identifier: Some(id.to_owned()),
            cluster_identifier: Some(cluster_id.clone()),
            snapshot_create_time: Some(to_ts(now)),
            status: Some("creating".into()),
            port: Some(rec.port),
            availability_zone: c.availability_zone.clone(),
            cluster_create_time: c.cluster_create_time,
            master_username: c.master_username.clone(),
            cluster_version: c.cluster_version.clone(),
            engine_full_version: Some("1.0.15503".into()),
            snapshot_type: Some(kind.to_owned()),
            restorable_node_types: Some(restorable(&node_type)),
            node_type: Some(node_type),
            number_of_nodes: c.number_of_nodes,
            db_name: c.db_name.clone(),
            vpc_id: c.vpc_id.clone(),
            encrypted: c.encrypted,
            kms_key_id: c.kms_key_id.clone(),
            encrypted_with_hsm: Some(false),
            owner_account: Some(scope.account.clone()),
            total_backup_size_in_mega_bytes: Some(-1.0),
            actual_incremental_backup_size_in_mega_bytes: Some(-1.0),
            backup_progress_in_mega_bytes: Some(0.0),
            current_backup_rate_in_mega_bytes_per_second: Some(0.0),
            estimated_seconds_to_completion: Some(-1),
            elapsed_time_in_seconds: Some(0),
            tags: Some(Vec::new()),
            enhanced_vpc_routing: c.enhanced_vpc_routing,
            maintenance_track_name: c.maintenance_track_name.clone(),
            manual_snapshot_retention_period: (kind == "manual")
                .then_some(c.manual_snapshot_retention_period.unwrap_or(-1)),
            snapshot_arn: Some(scope.arn(&format!("snapshot:{cluster_id}/{id}"))),
            ..Default::default()
        };
        SnapRec {
            snap,
            grants: Vec::new(),
            manifest: None,
            src_automated_retention: c.automated_snapshot_retention_period.unwrap_or(1),
            src_maintenance_window: c.preferred_maintenance_window.clone(),
            src_cluster_type: None,
            src_master_md5: rec.master_md5.clone(),
            copy_retention: None,
        }
    }

    /// The Snapshot as `viewer` sees it: the share list only for the owner; remaining days
    /// from the clock (§3.4, §3.19).
    pub(crate) fn render(&self, rec: &SnapRec, viewer: &Scope) -> Snapshot {
        let mut s = rec.snap.clone();
        let owner = s.owner_account.as_deref() == Some(viewer.account.as_str());
        if owner && !rec.grants.is_empty() {
            s.accounts_with_restore_access = Some(
                rec.grants
                    .iter()
                    .map(|a| {
                        if a == "amazon-redshift-support" {
                            AccountWithRestoreAccess {
                                account_id: None,
                                account_alias: Some(a.clone()),
                            }
                        } else {
                            AccountWithRestoreAccess {
                                account_id: Some(a.clone()),
                                account_alias: None,
                            }
                        }
                    })
                    .collect(),
            );
        }
        if let (Some(p), Some(start)) = (
            s.manual_snapshot_retention_period,
            s.snapshot_retention_start_time,
        ) && p != -1
            && !rec.is_automated()
        {
            s.manual_snapshot_remaining_days = Some(rules::remaining_days(start.0, p, self.now()));
        }
        s
    }

    pub(crate) fn create_cluster_snapshot_impl(
        &self,
        ctx: &RequestContext,
        input: CreateClusterSnapshotMessage,
    ) -> Result<CreateClusterSnapshotResult, OpError<CreateClusterSnapshotError>> {
        type E = CreateClusterSnapshotError;
        let scope = Scope::of(ctx);
        let id = rules::snapshot_identifier(
            "SnapshotIdentifier",
            input.snapshot_identifier.as_deref().unwrap_or_default(),
        )?;
        if let Some(p) = input.manual_snapshot_retention_period
            && !rules::manual_retention_ok(p)
        {
            return Err(E::invalid_retention_period_fault(rules::retention_message(p)).into());
        }
        let tags = input.tags.clone().unwrap_or_default();
        if let Err((limit, msg)) = rules::check_tags(0, &tags) {
            return Err(if limit {
                E::tag_limit_exceeded_fault(msg)
            } else {
                E::invalid_tag_fault(msg)
            }
            .into());
        }
        let cluster_id = input
            .cluster_identifier
            .clone()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let mut w = self.store.write().map_err(internal)?;
        let Some(rec) = catalog::get::<ClusterRec>(&*w, CLUSTERS_TABLE, &scope.key(&cluster_id))?
        else {
            return Err(E::cluster_not_found_fault(rules::cluster_not_found(&cluster_id)).into());
        };
        if w.get(SNAPSHOTS_TABLE, &scope.key(&id))
            .map_err(internal)?
            .is_some()
        {
            return Err(
                E::cluster_snapshot_already_exists_fault(rules::snapshot_exists(&id)).into(),
            );
        }
        if rec.cluster.cluster_status.as_deref() != Some("available") {
            return Err(E::invalid_cluster_state_fault(format!(
                "Cluster {cluster_id} is in state {}; a snapshot needs an available cluster.",
                rec.cluster.cluster_status.as_deref().unwrap_or_default()
            ))
            .into());
        }
        let mut snap = self.snapshot_from_cluster(&scope, &rec, &id, "manual", self.now());
        if let Some(p) = input.manual_snapshot_retention_period {
            snap.snap.manual_snapshot_retention_period = Some(p);
        }
        snap.snap.tags = Some(tags);
        catalog::put(&mut *w, SNAPSHOTS_TABLE, &scope.key(&id), &snap)?;
        w.commit().map_err(internal)?;
        // The snapshot's point in time is now, while the request is answered: the capture
        // job dumps the database as of this mark however long it waits to run.
        if let Err(e) = self.db.mark(&scope, &cluster_id, &id) {
            self.fail_snapshot(&scope, &id, &e)?;
        }
        self.submit_capture(&scope, &id)?;
        Ok(CreateClusterSnapshotResult {
            snapshot: Some(self.render(&snap, &scope)),
        })
    }

    pub(crate) fn copy_cluster_snapshot_impl(
        &self,
        ctx: &RequestContext,
        input: CopyClusterSnapshotMessage,
    ) -> Result<CopyClusterSnapshotResult, OpError<CopyClusterSnapshotError>> {
        type E = CopyClusterSnapshotError;
        let scope = Scope::of(ctx);
        let target = rules::snapshot_identifier(
            "TargetSnapshotIdentifier",
            input
                .target_snapshot_identifier
                .as_deref()
                .unwrap_or_default(),
        )?;
        let retention = input.manual_snapshot_retention_period.unwrap_or(-1);
        if !rules::manual_retention_ok(retention) {
            return Err(
                E::invalid_retention_period_fault(rules::retention_message(retention)).into(),
            );
        }
        let source_id = input.source_snapshot_identifier.clone().unwrap_or_default();
        let mut w = self.store.write().map_err(internal)?;
        let Some(source) = catalog::get::<SnapRec>(
            &*w,
            SNAPSHOTS_TABLE,
            &scope.key(&source_id.to_ascii_lowercase()),
        )?
        else {
            return Err(E::cluster_snapshot_not_found_fault(snapshot_not_found(&source_id)).into());
        };
        if let Some(c) = &input.source_snapshot_cluster_identifier {
            let c = c.to_ascii_lowercase();
            if source.snap.cluster_identifier.as_deref() != Some(c.as_str()) {
                if w.get(CLUSTERS_TABLE, &scope.key(&c))
                    .map_err(internal)?
                    .is_none()
                {
                    return Err(E::cluster_not_found_fault(rules::cluster_not_found(&c)).into());
                }
                return Err(
                    E::cluster_snapshot_not_found_fault(snapshot_not_found(&source_id)).into(),
                );
            }
        }
        if !source.is_automated() || source.status() != "available" {
            return Err(E::invalid_cluster_snapshot_state_fault(format!(
                "Cannot copy snapshot {source_id}: the source must be an automated snapshot in the available state."
            ))
            .into());
        }
        if w.get(SNAPSHOTS_TABLE, &scope.key(&target))
            .map_err(internal)?
            .is_some()
        {
            return Err(
                E::cluster_snapshot_already_exists_fault(rules::snapshot_exists(&target)).into(),
            );
        }
        let now = self.now();
        let mut copy = source.clone();
        let cluster_id = copy.snap.cluster_identifier.clone().unwrap_or_default();
        copy.grants.clear();
        copy.snap.snapshot_identifier = Some(target.clone());
        copy.snap.snapshot_type = Some("manual".into());
        copy.snap.status = Some("available".into());
        copy.snap.owner_account = Some(scope.account.clone());
        copy.snap.manual_snapshot_retention_period = Some(retention);
        copy.snap.snapshot_retention_start_time = Some(to_ts(now));
        copy.snap.tags = Some(Vec::new());
        copy.snap.snapshot_arn = Some(scope.arn(&format!("snapshot:{cluster_id}/{target}")));
        catalog::put(&mut *w, SNAPSHOTS_TABLE, &scope.key(&target), &copy)?;
        w.commit().map_err(internal)?;
        self.submit_expiry(&scope, &copy, now)?;
        Ok(CopyClusterSnapshotResult {
            snapshot: Some(self.render(&copy, &scope)),
        })
    }

    /// DeleteClusterSnapshot's rules for one entry; returns the snapshot as `deleted`.
    pub(crate) fn delete_one(
        &self,
        scope: &Scope,
        id: &str,
        cluster: Option<&str>,
    ) -> Result<Snapshot, SnapErr> {
        let key = scope.key(&id.to_ascii_lowercase());
        let mut w = self.store.write().map_err(internal)?;
        let Some(rec) = catalog::get::<SnapRec>(&*w, SNAPSHOTS_TABLE, &key)? else {
            return Err(SnapErr::NotFound(snapshot_not_found(id)));
        };
        if cluster.is_some_and(|c| {
            rec.snap.cluster_identifier.as_deref() != Some(c.to_ascii_lowercase().as_str())
        }) {
            return Err(SnapErr::NotFound(snapshot_not_found(id)));
        }
        if rec.is_automated() {
            return Err(SnapErr::State(format!(
                "Cannot delete the snapshot {id} because only manual snapshots may be deleted"
            )));
        }
        if !matches!(rec.status(), "available" | "failed" | "cancelled") {
            return Err(SnapErr::State(format!(
                "Cannot delete snapshot {id} while its status is {}.",
                rec.status()
            )));
        }
        if !rec.grants.is_empty() {
            return Err(SnapErr::State(format!(
                "Cannot delete snapshot {id} because it is shared with other accounts. Revoke access first."
            )));
        }
        catalog::delete_snapshot(&mut *w, &key, &rec)?;
        w.commit().map_err(internal)?;
        self.release_manifest(scope, rec.manifest.as_deref())?;
        let mut out = self.render(&rec, scope);
        out.status = Some("deleted".into());
        out.estimated_seconds_to_completion = Some(0);
        Ok(out)
    }

    /// Drops a captured manifest once no snapshot of `scope` refers to it (copies share it).
    pub(crate) fn release_manifest(
        &self,
        scope: &Scope,
        manifest: Option<&str>,
    ) -> Result<(), CommonError> {
        let Some(m) = manifest else { return Ok(()) };
        let txn = self.store.read().map_err(internal)?;
        let snaps: Vec<SnapRec> = catalog::scan(&*txn, SNAPSHOTS_TABLE, &scope.prefix())?;
        drop(txn);
        if !snaps.iter().any(|s| s.manifest.as_deref() == Some(m)) {
            self.volumes
                .delete(scope, m)
                .map_err(CommonError::Internal)?;
        }
        Ok(())
    }

    pub(crate) fn delete_cluster_snapshot_impl(
        &self,
        ctx: &RequestContext,
        input: DeleteClusterSnapshotMessage,
    ) -> Result<DeleteClusterSnapshotResult, OpError<DeleteClusterSnapshotError>> {
        type E = DeleteClusterSnapshotError;
        let id = input.snapshot_identifier.clone().unwrap_or_default();
        match self.delete_one(
            &Scope::of(ctx),
            &id,
            input.snapshot_cluster_identifier.as_deref(),
        ) {
            Ok(s) => Ok(DeleteClusterSnapshotResult { snapshot: Some(s) }),
            Err(SnapErr::NotFound(m)) => Err(E::cluster_snapshot_not_found_fault(m).into()),
            Err(SnapErr::State(m)) => Err(E::invalid_cluster_snapshot_state_fault(m).into()),
            Err(SnapErr::Retention(m)) => Err(CommonError::InvalidParameterValue(m).into()),
            Err(SnapErr::Common(c)) => Err(c.into()),
        }
    }

    /// ModifyClusterSnapshot's rules for one snapshot (§3.13).
    pub(crate) fn modify_one(
        &self,
        scope: &Scope,
        id: &str,
        period: Option<i32>,
        force: bool,
    ) -> Result<Snapshot, SnapErr> {
        let key = scope.key(&id.to_ascii_lowercase());
        let now = self.now();
        let mut w = self.store.write().map_err(internal)?;
        let Some(mut rec) = catalog::get::<SnapRec>(&*w, SNAPSHOTS_TABLE, &key)? else {
            return Err(SnapErr::NotFound(snapshot_not_found(id)));
        };
        if rec.is_automated() {
            return Err(SnapErr::State(format!(
                "Cannot modify the retention period of automated snapshot {id}."
            )));
        }
        if rec.status() != "available" {
            return Err(SnapErr::State(format!(
                "Cannot modify snapshot {id} while its status is {}.",
                rec.status()
            )));
        }
        let Some(p) = period else {
            return Ok(self.render(&rec, scope));
        };
        if !rules::manual_retention_ok(p) {
            return Err(SnapErr::Retention(rules::retention_message(p)));
        }
        let start = rec.snap.snapshot_retention_start_time.map_or(now, |t| t.0);
        let expired = p != -1 && rules::plus_secs(start, i64::from(p) * rules::DAY_SECS) <= now;
        if expired && !force {
            return Err(SnapErr::Retention(format!(
                "The retention period {p} would put the expiry of snapshot {id} in the past. Use Force to delete it."
            )));
        }
        rec.snap.manual_snapshot_retention_period = Some(p);
        if expired {
            if !rec.grants.is_empty() {
                return Err(SnapErr::State(format!(
                    "Cannot delete snapshot {id} because it is shared with other accounts."
                )));
            }
            catalog::delete_snapshot(&mut *w, &key, &rec)?;
            w.commit().map_err(internal)?;
            self.release_manifest(scope, rec.manifest.as_deref())?;
            let mut out = self.render(&rec, scope);
            out.status = Some("deleted".into());
            return Ok(out);
        }
        catalog::put(&mut *w, SNAPSHOTS_TABLE, &key, &rec)?;
        w.commit().map_err(internal)?;
        self.submit_expiry(scope, &rec, now)?;
        Ok(self.render(&rec, scope))
    }

    pub(crate) fn modify_cluster_snapshot_impl(
        &self,
        ctx: &RequestContext,
        input: ModifyClusterSnapshotMessage,
    ) -> Result<ModifyClusterSnapshotResult, OpError<ModifyClusterSnapshotError>> {
        type E = ModifyClusterSnapshotError;
        let id = input.snapshot_identifier.clone().unwrap_or_default();
        match self.modify_one(
            &Scope::of(ctx),
            &id,
            input.manual_snapshot_retention_period,
            input.force.unwrap_or(false),
        ) {
            Ok(s) => Ok(ModifyClusterSnapshotResult { snapshot: Some(s) }),
            Err(SnapErr::NotFound(m)) => Err(E::cluster_snapshot_not_found_fault(m).into()),
            Err(SnapErr::State(m)) => Err(E::invalid_cluster_snapshot_state_fault(m).into()),
            Err(SnapErr::Retention(m)) => Err(E::invalid_retention_period_fault(m).into()),
            Err(SnapErr::Common(c)) => Err(c.into()),
        }
    }
}
