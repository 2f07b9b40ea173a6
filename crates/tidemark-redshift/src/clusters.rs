//! Cluster operations: CreateCluster (§3.5), DescribeClusters (§3.8), ModifyCluster (§3.7),
//! DeleteCluster (§3.6), PauseCluster / ResumeCluster (§3.2). Transitions finish in jobs.

use tidemark_core::RequestContext;
use tidemark_model::redshift::*;
use tidemark_model::{CommonError, OpError};

use crate::RedshiftService;
use crate::catalog::{self, CLUSTERS_TABLE, ClusterRec, SNAPSHOTS_TABLE, Scope, SnapRec, internal};
use crate::cluster_rules::{
    base_cluster, check_master_username, check_node_type, check_password, check_port_for, ipv,
    node_layout,
};
use crate::jobs::ClusterAction;
use crate::rules::{self, cluster_not_found};

impl RedshiftService {
    pub(crate) fn load_cluster(
        &self,
        scope: &Scope,
        id: &str,
    ) -> Result<Option<ClusterRec>, CommonError> {
        let txn = self.store.read().map_err(internal)?;
        catalog::get(&*txn, CLUSTERS_TABLE, &scope.key(&id.to_ascii_lowercase()))
    }

    pub(crate) fn create_cluster_impl(
        &self,
        ctx: &RequestContext,
        input: CreateClusterMessage,
    ) -> Result<CreateClusterResult, OpError<CreateClusterError>> {
        let scope = Scope::of(ctx);
        let id = rules::cluster_identifier(
            "ClusterIdentifier",
            input.cluster_identifier.as_deref().unwrap_or_default(),
        )?;
        let node_type = input.node_type.clone().unwrap_or_default();
        check_node_type(&node_type)?;
        let (_, nodes) = node_layout(input.cluster_type.as_deref(), input.number_of_nodes)?;
        let user = input.master_username.clone().unwrap_or_default();
        check_master_username(&user)?;
        match (
            &input.master_user_password,
            input.manage_master_password.unwrap_or(false),
        ) {
            (Some(_), true) => {
                return Err(CommonError::InvalidParameterCombination(
                    "You can't use MasterUserPassword and ManageMasterPassword together.".into(),
                )
                .into());
            }
            (Some(pw), false) => check_password(pw)?,
            (None, true) => {}
            (None, false) => {
                return Err(CommonError::MissingParameter(
                    "MasterUserPassword is required.".into(),
                )
                .into());
            }
        }
        let db = input.db_name.clone().unwrap_or_else(|| "dev".into());
        if db.is_empty()
            || db.len() > 64
            || !db
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(ipv(format!("The parameter DBName is not valid: {db}")).into());
        }
        let port = input.port.unwrap_or(5439);
        check_port_for(port, &node_type)?;
        let auto = rules::automated_retention(
            input.automated_snapshot_retention_period.unwrap_or(1),
            &node_type,
        )?;
        let manual = input.manual_snapshot_retention_period.unwrap_or(-1);
        if !rules::manual_retention_ok(manual) {
            return Err(CreateClusterError::invalid_retention_period_fault(
                rules::retention_message(manual),
            )
            .into());
        }
        if input.encrypted == Some(false) {
            return Err(
                ipv("Unencrypted clusters are not supported; Encrypted must be true.").into(),
            );
        }
        let tags = input.tags.clone().unwrap_or_default();
        if let Err((limit, msg)) = rules::check_tags(0, &tags) {
            return Err(if limit {
                CreateClusterError::tag_limit_exceeded_fault(msg)
            } else {
                CreateClusterError::invalid_tag_fault(msg)
            }
            .into());
        }
        let mut w = self.store.write().map_err(internal)?;
        let schedule =
            match &input.snapshot_schedule_identifier {
                Some(s) => {
                    let key = scope.key(&s.to_ascii_lowercase());
                    if w.get(catalog::SCHEDULES_TABLE, &key)
                        .map_err(internal)?
                        .is_none()
                    {
                        return Err(CreateClusterError::snapshot_schedule_not_found_fault(
                            format!("Snapshot schedule {s} not found."),
                        )
                        .into());
                    }
                    Some(s.to_ascii_lowercase())
                }
                None => None,
            };
        if w.get(CLUSTERS_TABLE, &scope.key(&id))
            .map_err(internal)?
            .is_some()
        {
            return Err(
                CreateClusterError::cluster_already_exists_fault("Cluster already exists").into(),
            );
        }
        let now = self.now();
        let mut cluster = base_cluster(&scope, &id, &now.to_string());
        cluster.node_type = Some(node_type);
        cluster.number_of_nodes = Some(nodes);
        cluster.master_username = Some(user);
        cluster.db_name = Some(db);
        cluster.automated_snapshot_retention_period = Some(auto);
        cluster.manual_snapshot_retention_period = Some(manual);
        cluster.availability_zone = Some(
            input
                .availability_zone
                .clone()
                .unwrap_or_else(|| format!("{}a", scope.region)),
        );
        cluster.preferred_maintenance_window = Some(
            input
                .preferred_maintenance_window
                .clone()
                .unwrap_or_else(|| "sat:06:30-sat:07:00".into()),
        );
        cluster.allow_version_upgrade = Some(input.allow_version_upgrade.unwrap_or(true));
        cluster.publicly_accessible = Some(input.publicly_accessible.unwrap_or(false));
        cluster.encrypted = Some(true);
        cluster.kms_key_id = input.kms_key_id.clone();
        cluster.enhanced_vpc_routing = Some(input.enhanced_vpc_routing.unwrap_or(false));
        cluster.maintenance_track_name = Some(
            input
                .maintenance_track_name
                .clone()
                .unwrap_or_else(|| "current".into()),
        );
        cluster.iam_roles = Some(
            input
                .iam_roles
                .clone()
                .unwrap_or_default()
                .into_iter()
                .map(|arn| ClusterIamRole {
                    iam_role_arn: Some(arn),
                    apply_status: Some("adding".into()),
                })
                .collect(),
        );
        cluster.default_iam_role_arn = input.default_iam_role_arn.clone();
        cluster.tags = Some(tags);
        if let Some(s) = &schedule {
            cluster.snapshot_schedule_identifier = Some(s.clone());
            cluster.snapshot_schedule_state = Some("ACTIVE".into());
        }
        let host = format!(
            "{id}.{}.{}.redshift.localhost",
            rules::alnum(rules::digest(&[&scope.account, &id, &now.to_string()]), 12),
            scope.region
        );
        let master_md5 = input.master_user_password.as_deref().map(|pw| {
            crate::database::md5_verifier(
                cluster.master_username.as_deref().unwrap_or_default(),
                pw,
            )
        });
        let rec = ClusterRec {
            cluster: cluster.clone(),
            port,
            host,
            master_md5,
            ..Default::default()
        };
        catalog::put(&mut *w, CLUSTERS_TABLE, &scope.key(&id), &rec)?;
        w.commit().map_err(internal)?;
        self.submit_cluster_job(&scope, &id, ClusterAction::Create)?;
        Ok(CreateClusterResult {
            cluster: Some(cluster),
        })
    }

    pub(crate) fn describe_clusters_impl(
        &self,
        ctx: &RequestContext,
        input: DescribeClustersMessage,
    ) -> Result<ClustersMessage, OpError<DescribeClustersError>> {
        let scope = Scope::of(ctx);
        let limit = rules::page_size(input.max_records, 20, 100)?;
        if input.marker.is_some() && input.cluster_identifier.is_some() {
            return Err(CommonError::InvalidParameterCombination(
                "A marker cannot be specified together with a cluster identifier.".into(),
            )
            .into());
        }
        if let Some(id) = &input.cluster_identifier {
            let Some(rec) = self.load_cluster(&scope, id)? else {
                return Err(
                    DescribeClustersError::cluster_not_found_fault(cluster_not_found(
                        &id.to_ascii_lowercase(),
                    ))
                    .into(),
                );
            };
            return Ok(ClustersMessage {
                clusters: Some(vec![rec.cluster]),
                marker: None,
            });
        }
        let after = input
            .marker
            .as_deref()
            .map(catalog::decode_marker)
            .transpose()?;
        let keys = input.tag_keys.unwrap_or_default();
        let values = input.tag_values.unwrap_or_default();
        let txn = self.store.read().map_err(internal)?;
        let all: Vec<ClusterRec> = catalog::scan(&*txn, CLUSTERS_TABLE, &scope.prefix())?;
        let mut clusters: Vec<Cluster> = Vec::new();
        let mut marker = None;
        for rec in all {
            let c = rec.cluster;
            let id = c.cluster_identifier.clone().unwrap_or_default();
            if after.as_ref().is_some_and(|a| &id <= a)
                || !rules::tags_match(c.tags.as_deref().unwrap_or_default(), &keys, &values)
            {
                continue;
            }
            if clusters.len() == limit {
                marker = clusters
                    .last()
                    .and_then(|c| c.cluster_identifier.as_deref())
                    .map(catalog::encode_marker);
                break;
            }
            clusters.push(c);
        }
        Ok(ClustersMessage {
            clusters: Some(clusters),
            marker,
        })
    }

    pub(crate) fn delete_cluster_impl(
        &self,
        ctx: &RequestContext,
        input: DeleteClusterMessage,
    ) -> Result<DeleteClusterResult, OpError<DeleteClusterError>> {
        let scope = Scope::of(ctx);
        let id = input
            .cluster_identifier
            .clone()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let mut w = self.store.write().map_err(internal)?;
        let Some(mut rec) = catalog::get::<ClusterRec>(&*w, CLUSTERS_TABLE, &scope.key(&id))?
        else {
            return Err(DeleteClusterError::cluster_not_found_fault(cluster_not_found(&id)).into());
        };
        let skip = input.skip_final_cluster_snapshot.unwrap_or(false);
        let final_id = match (skip, &input.final_cluster_snapshot_identifier) {
            (false, None) => {
                return Err(CommonError::InvalidParameterCombination(
                    "FinalClusterSnapshotIdentifier is required unless SkipFinalClusterSnapshot is specified.".into(),
                )
                .into());
            }
            (true, Some(_)) => {
                return Err(CommonError::InvalidParameterCombination(
                    "FinalClusterSnapshotIdentifier cannot be specified when SkipFinalClusterSnapshot is true.".into(),
                )
                .into());
            }
            (true, None) => None,
            (false, Some(f)) => Some(rules::snapshot_identifier(
                "FinalClusterSnapshotIdentifier",
                f,
            )?),
        };
        let retention = input.final_cluster_snapshot_retention_period.unwrap_or(-1);
        if let Some(f) = &final_id {
            if w.get(SNAPSHOTS_TABLE, &scope.key(f))
                .map_err(internal)?
                .is_some()
            {
                return Err(DeleteClusterError::cluster_snapshot_already_exists_fault(
                    rules::snapshot_exists(f),
                )
                .into());
            }
            if !rules::manual_retention_ok(retention) {
                return Err(DeleteClusterError::invalid_retention_period_fault(
                    rules::retention_message(retention),
                )
                .into());
            }
        }
        let status = rec.cluster.cluster_status.clone().unwrap_or_default();
        let busy = self.cluster_has_creating_snapshot(&*w, &scope, &id)?;
        // A cluster whose restore failed (`incompatible-restore`) can only be deleted.
        let deletable = matches!(
            status.as_str(),
            "available" | "paused" | "incompatible-restore"
        );
        if !deletable || busy {
            return Err(DeleteClusterError::invalid_cluster_state_fault(
                "There is an operation running on the Cluster. Please try to delete it at a later time.",
            )
            .into());
        }
        let now = self.now();
        if let Some(f) = &final_id {
            let mut snap = self.snapshot_from_cluster(&scope, &rec, f, "manual", now);
            snap.snap.status = Some("final snapshot".into());
            snap.snap.manual_snapshot_retention_period = Some(retention);
            catalog::put(&mut *w, SNAPSHOTS_TABLE, &scope.key(f), &snap)?;
            rec.cluster.cluster_status = Some("final-snapshot".into());
        } else {
            rec.cluster.cluster_status = Some("deleting".into());
        }
        rec.cluster.cluster_availability_status = Some("Modifying".into());
        rec.final_snapshot = final_id;
        rec.auto_gen += 1;
        catalog::put(&mut *w, CLUSTERS_TABLE, &scope.key(&id), &rec)?;
        w.commit().map_err(internal)?;
        self.submit_cluster_job(&scope, &id, ClusterAction::Delete)?;
        Ok(DeleteClusterResult {
            cluster: Some(rec.cluster),
        })
    }

    pub(crate) fn cluster_has_creating_snapshot(
        &self,
        txn: &(impl tidemark_store::Reads + ?Sized),
        scope: &Scope,
        id: &str,
    ) -> Result<bool, CommonError> {
        let snaps: Vec<SnapRec> = catalog::scan(txn, SNAPSHOTS_TABLE, &scope.prefix())?;
        // A copy arriving from another region is not an operation on a local cluster.
        Ok(snaps.iter().any(|s| {
            s.snap.cluster_identifier.as_deref() == Some(id)
                && s.snap.source_region.is_none()
                && matches!(s.status(), "creating" | "final snapshot")
        }))
    }

    /// Pause and resume: `from` status → transitional `via` → (job) final state.
    fn transition(
        &self,
        ctx: &RequestContext,
        id: Option<&str>,
        from: &str,
        via: &str,
        action: ClusterAction,
    ) -> Result<Cluster, TransitionError> {
        let scope = Scope::of(ctx);
        let id = id.unwrap_or_default().to_ascii_lowercase();
        let mut w = self.store.write().map_err(internal)?;
        let Some(mut rec) = catalog::get::<ClusterRec>(&*w, CLUSTERS_TABLE, &scope.key(&id))?
        else {
            return Err(TransitionError::NotFound(cluster_not_found(&id)));
        };
        let status = rec.cluster.cluster_status.clone().unwrap_or_default();
        let verb = match action {
            ClusterAction::Pause => "pause",
            ClusterAction::Resume => "resume",
            ClusterAction::Create | ClusterAction::Delete => "change",
        };
        if status != from {
            return Err(TransitionError::State(format!(
                "You can't {verb} cluster {id} while its status is {status}."
            )));
        }
        // A snapshot still being taken is an operation running on the cluster (§3.6 rule 4).
        if self.cluster_has_creating_snapshot(&*w, &scope, &id)? {
            return Err(TransitionError::State(format!(
                "You can't {verb} cluster {id} while a snapshot of it is being created."
            )));
        }
        rec.cluster.cluster_status = Some(via.to_owned());
        rec.cluster.cluster_availability_status = Some("Modifying".into());
        catalog::put(&mut *w, CLUSTERS_TABLE, &scope.key(&id), &rec)?;
        w.commit().map_err(internal)?;
        self.submit_cluster_job(&scope, &id, action)?;
        Ok(rec.cluster)
    }

    pub(crate) fn pause_cluster_impl(
        &self,
        ctx: &RequestContext,
        input: PauseClusterMessage,
    ) -> Result<PauseClusterResult, OpError<PauseClusterError>> {
        match self.transition(
            ctx,
            input.cluster_identifier.as_deref(),
            "available",
            "pausing",
            ClusterAction::Pause,
        ) {
            Ok(c) => Ok(PauseClusterResult { cluster: Some(c) }),
            Err(TransitionError::NotFound(m)) => {
                Err(PauseClusterError::cluster_not_found_fault(m).into())
            }
            Err(TransitionError::State(m)) => {
                Err(PauseClusterError::invalid_cluster_state_fault(m).into())
            }
            Err(TransitionError::Common(c)) => Err(c.into()),
        }
    }

    pub(crate) fn resume_cluster_impl(
        &self,
        ctx: &RequestContext,
        input: ResumeClusterMessage,
    ) -> Result<ResumeClusterResult, OpError<ResumeClusterError>> {
        match self.transition(
            ctx,
            input.cluster_identifier.as_deref(),
            "paused",
            "resuming",
            ClusterAction::Resume,
        ) {
            Ok(c) => Ok(ResumeClusterResult { cluster: Some(c) }),
            Err(TransitionError::NotFound(m)) => {
                Err(ResumeClusterError::cluster_not_found_fault(m).into())
            }
            Err(TransitionError::State(m)) => {
                Err(ResumeClusterError::invalid_cluster_state_fault(m).into())
            }
            Err(TransitionError::Common(c)) => Err(c.into()),
        }
    }
}

pub(crate) enum TransitionError {
    NotFound(String),
    State(String),
    Common(CommonError),
}

impl From<CommonError> for TransitionError {
    fn from(e: CommonError) -> Self {
        TransitionError::Common(e)
    }
}
