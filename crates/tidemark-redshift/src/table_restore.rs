//! RestoreTableFromClusterSnapshot and DescribeTableRestoreStatus: one table of a snapshot
//! of a running cluster, brought back into that cluster under a new name. The request is
//! stored `PENDING`; its job turns it `IN_PROGRESS`, restores the snapshot's files into a
//! scratch volume (progress in MB as they land), hands them to the database layer, which
//! restores the table, and ends `SUCCEEDED` or `FAILED` with the reason.

use serde::{Deserialize, Serialize};
use serde_json::json;
use tidemark_core::{RequestContext, Timestamp};
use tidemark_model::redshift::*;
use tidemark_model::{CommonError, OpError};

use crate::RedshiftService;
use crate::catalog::{self, SNAPSHOTS_TABLE, Scope, SnapRec, internal};
use crate::database::TableSpec;
use crate::jobs::{mb, ts};
use crate::rules;

/// Table restore requests: key = scope ‖ request id; value = JSON [`TableRestoreRec`].
pub const TABLE_RESTORES_TABLE: &str = "redshift.table_restores";
pub const KIND_TABLE_RESTORE: &str = "redshift.table-restore";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct TableRestoreRec {
    pub status: TableRestoreStatus,
    pub manifest: Option<String>,
}

impl RedshiftService {
    pub(crate) fn restore_table_impl(
        &self,
        ctx: &RequestContext,
        input: RestoreTableFromClusterSnapshotMessage,
    ) -> Result<RestoreTableFromClusterSnapshotResult, OpError<RestoreTableFromClusterSnapshotError>>
    {
        type E = RestoreTableFromClusterSnapshotError;
        let scope = Scope::of(ctx);
        let id = input
            .cluster_identifier
            .clone()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let snap_id = input
            .snapshot_identifier
            .clone()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let name = |v: &Option<String>, param: &str| -> Result<String, CommonError> {
            match v.as_deref() {
                Some(s) if !s.is_empty() && s.len() <= 127 && !s.contains('\0') => Ok(s.to_owned()),
                _ => Err(CommonError::InvalidParameterValue(format!(
                    "The parameter {param} is not valid."
                ))),
            }
        };
        let source_db = name(&input.source_database_name, "SourceDatabaseName")?;
        let source_table = name(&input.source_table_name, "SourceTableName")?;
        let new_table = name(&input.new_table_name, "NewTableName")?;
        let source_schema = match &input.source_schema_name {
            Some(_) => name(&input.source_schema_name, "SourceSchemaName")?,
            None => "public".to_owned(),
        };
        let target_db = match &input.target_database_name {
            Some(_) => name(&input.target_database_name, "TargetDatabaseName")?,
            None => source_db.clone(),
        };
        let target_schema = match &input.target_schema_name {
            Some(_) => name(&input.target_schema_name, "TargetSchemaName")?,
            None => source_schema.clone(),
        };
        let Some(cluster) = self.load_cluster(&scope, &id)? else {
            return Err(E::cluster_not_found_fault(rules::cluster_not_found(&id)).into());
        };
        if cluster.cluster.cluster_status.as_deref() != Some("available") {
            return Err(E::invalid_cluster_state_fault(format!(
                "The cluster {id} is not in the available state."
            ))
            .into());
        }
        let mut w = self.store.write().map_err(internal)?;
        let Some(snap) = catalog::get::<SnapRec>(&*w, SNAPSHOTS_TABLE, &scope.key(&snap_id))?
        else {
            return Err(
                E::cluster_snapshot_not_found_fault(rules::snapshot_not_found(&snap_id)).into(),
            );
        };
        if snap.status() != "available" {
            return Err(E::invalid_cluster_snapshot_state_fault(format!(
                "Snapshot {snap_id} is not in the available state."
            ))
            .into());
        }
        if snap.snap.cluster_identifier.as_deref() != Some(id.as_str()) {
            return Err(E::invalid_table_restore_argument_fault(format!(
                "Snapshot {snap_id} was not taken from cluster {id}: a table can be restored \
                 only into the cluster the snapshot was taken from."
            ))
            .into());
        }
        let running = catalog::scan::<TableRestoreRec>(&*w, TABLE_RESTORES_TABLE, &scope.prefix())?
            .into_iter()
            .any(|r| {
                r.status.cluster_identifier.as_deref() == Some(id.as_str())
                    && matches!(r.status.status.as_deref(), Some("PENDING" | "IN_PROGRESS"))
            });
        if running {
            return Err(E::in_progress_table_restore_quota_exceeded_fault(format!(
                "Cluster {id} already has a table restore in progress."
            ))
            .into());
        }
        let request_id = tidemark_core::ids::uuid_request_id();
        let status = TableRestoreStatus {
            table_restore_request_id: Some(request_id.clone()),
            status: Some("PENDING".into()),
            message: None,
            request_time: Some(ts(self.now())),
            progress_in_mega_bytes: Some(0),
            total_data_in_mega_bytes: Some(
                snap.snap
                    .total_backup_size_in_mega_bytes
                    .unwrap_or(0.0)
                    .ceil() as i64,
            ),
            cluster_identifier: Some(id.clone()),
            snapshot_identifier: Some(snap_id.clone()),
            source_database_name: Some(source_db),
            source_schema_name: Some(source_schema),
            source_table_name: Some(source_table),
            target_database_name: Some(target_db),
            target_schema_name: Some(target_schema),
            new_table_name: Some(new_table),
        };
        let rec = TableRestoreRec {
            status: status.clone(),
            manifest: snap.manifest.clone(),
        };
        catalog::put(&mut *w, TABLE_RESTORES_TABLE, &scope.key(&request_id), &rec)?;
        w.commit().map_err(internal)?;
        self.engine
            .submit(
                KIND_TABLE_RESTORE,
                json!({"scope": scope, "snapshot": request_id}),
                None,
            )
            .map_err(internal)?;
        Ok(RestoreTableFromClusterSnapshotResult {
            table_restore_status: Some(status),
        })
    }

    pub(crate) fn describe_table_restore_impl(
        &self,
        ctx: &RequestContext,
        input: DescribeTableRestoreStatusMessage,
    ) -> Result<TableRestoreStatusMessage, OpError<DescribeTableRestoreStatusError>> {
        type E = DescribeTableRestoreStatusError;
        let scope = Scope::of(ctx);
        let limit = rules::page_size(input.max_records, 20, 100)?;
        let cluster = input
            .cluster_identifier
            .as_deref()
            .map(str::to_ascii_lowercase);
        let txn = self.store.read().map_err(internal)?;
        if let Some(c) = &cluster
            && txn
                .get(catalog::CLUSTERS_TABLE, &scope.key(c))
                .map_err(internal)?
                .is_none()
        {
            return Err(E::cluster_not_found_fault(rules::cluster_not_found(c)).into());
        }
        let mut all: Vec<TableRestoreStatus> =
            catalog::scan::<TableRestoreRec>(&*txn, TABLE_RESTORES_TABLE, &scope.prefix())?
                .into_iter()
                .map(|r| r.status)
                .filter(|s| cluster.is_none() || s.cluster_identifier == cluster)
                .filter(|s| {
                    input.table_restore_request_id.is_none()
                        || s.table_restore_request_id == input.table_restore_request_id
                })
                .collect();
        if let Some(req) = &input.table_restore_request_id
            && all.is_empty()
        {
            return Err(E::table_restore_not_found_fault(format!(
                "Table restore request {req} not found."
            ))
            .into());
        }
        // Newest first, then by id, so pages are stable.
        all.sort_by(|a, b| {
            b.request_time
                .cmp(&a.request_time)
                .then_with(|| a.table_restore_request_id.cmp(&b.table_restore_request_id))
        });
        let start = match &input.marker {
            Some(m) => all
                .iter()
                .position(|s| s.table_restore_request_id.as_deref() == Some(m.as_str()))
                .ok_or_else(|| {
                    CommonError::InvalidParameterValue(format!("Invalid marker: {m}"))
                })?,
            None => 0,
        };
        let page: Vec<TableRestoreStatus> = all.iter().skip(start).take(limit).cloned().collect();
        let marker = all
            .get(start + limit)
            .and_then(|s| s.table_restore_request_id.clone());
        Ok(TableRestoreStatusMessage {
            table_restore_status_details: Some(page),
            marker,
        })
    }

    fn save_table_restore(
        &self,
        scope: &Scope,
        id: &str,
        f: impl FnOnce(&mut TableRestoreStatus),
    ) -> Result<Option<TableRestoreRec>, CommonError> {
        let mut w = self.store.write().map_err(internal)?;
        let Some(mut rec) =
            catalog::get::<TableRestoreRec>(&*w, TABLE_RESTORES_TABLE, &scope.key(id))?
        else {
            return Ok(None);
        };
        f(&mut rec.status);
        catalog::put(&mut *w, TABLE_RESTORES_TABLE, &scope.key(id), &rec)?;
        w.commit().map_err(internal)?;
        Ok(Some(rec))
    }

    /// The job of one table restore request.
    pub(crate) fn run_table_restore(
        &self,
        scope: &Scope,
        id: &str,
        _now: Timestamp,
    ) -> Result<(), CommonError> {
        let Some(rec) = self.save_table_restore(scope, id, |s| {
            if s.status.as_deref() == Some("PENDING") {
                s.status = Some("IN_PROGRESS".into());
            }
        })?
        else {
            return Ok(());
        };
        if rec.status.status.as_deref() != Some("IN_PROGRESS") {
            return Ok(());
        }
        let outcome = self.restore_one_table(scope, id, &rec);
        self.save_table_restore(scope, id, |s| match &outcome {
            Ok(()) => {
                s.status = Some("SUCCEEDED".into());
                s.progress_in_mega_bytes = s.total_data_in_mega_bytes;
                s.message = Some("Table restored.".into());
            }
            Err(e) => {
                s.status = Some("FAILED".into());
                s.message = Some(e.clone());
            }
        })?;
        Ok(())
    }

    fn restore_one_table(
        &self,
        scope: &Scope,
        id: &str,
        rec: &TableRestoreRec,
    ) -> Result<(), String> {
        let s = &rec.status;
        let manifest = rec
            .manifest
            .as_deref()
            .ok_or("the snapshot holds no data")?;
        let cluster = s.cluster_identifier.clone().unwrap_or_default();
        // The snapshot's files go to a scratch volume of their own, then to the database.
        let scratch = format!("table-restore-{id}");
        let mut throttle = crate::progress::Throttle::start();
        let restored = self
            .volumes
            .restore(scope, manifest, scope, &scratch, &mut |p| {
                if throttle.due() {
                    let done = mb(p.done_bytes).floor() as i64;
                    // Best effort: a failed progress write only delays what pollers see.
                    let _ = self.save_table_restore(scope, id, |s| {
                        s.progress_in_mega_bytes = Some(done);
                    });
                }
            });
        let result = restored.and_then(|_| {
            let spec = TableSpec {
                source_database: s.source_database_name.clone().unwrap_or_default(),
                source_schema: s.source_schema_name.clone().unwrap_or_default(),
                source_table: s.source_table_name.clone().unwrap_or_default(),
                target_database: s.target_database_name.clone().unwrap_or_default(),
                target_schema: s.target_schema_name.clone().unwrap_or_default(),
                new_table: s.new_table_name.clone().unwrap_or_default(),
            };
            self.db
                .restore_table(scope, &cluster, &scratch, &spec, self.volumes.as_ref())
        });
        let dropped = self.volumes.drop_volume(scope, &scratch);
        result.and(dropped)
    }
}
