//! BatchDeleteClusterSnapshots / BatchModifyClusterSnapshots (§3.12): at most 100 entries,
//! each handled by the single-snapshot rules, failures reported per item with HTTP 200.

use tidemark_core::RequestContext;
use tidemark_model::redshift::*;
use tidemark_model::{CommonError, OpError};

use crate::RedshiftService;
use crate::catalog::Scope;
use crate::rules;
use crate::snapshots::SnapErr;

impl RedshiftService {
    pub(crate) fn batch_delete_impl(
        &self,
        ctx: &RequestContext,
        input: BatchDeleteClusterSnapshotsRequest,
    ) -> Result<BatchDeleteClusterSnapshotsResult, OpError<BatchDeleteClusterSnapshotsError>> {
        let items = input.identifiers.unwrap_or_default();
        if items.len() > rules::MAX_BATCH {
            return Err(
                BatchDeleteClusterSnapshotsError::batch_delete_request_size_exceeded_fault(
                    format!(
                        "The maximum number of snapshots in one batch delete request is {}.",
                        rules::MAX_BATCH
                    ),
                )
                .into(),
            );
        }
        let scope = Scope::of(ctx);
        let (mut resources, mut errors) = (Vec::new(), Vec::new());
        for item in items {
            let id = item.snapshot_identifier.clone().unwrap_or_default();
            match self.delete_one(&scope, &id, item.snapshot_cluster_identifier.as_deref()) {
                Ok(_) => resources.push(id),
                Err(SnapErr::Common(CommonError::Internal(m))) => {
                    return Err(CommonError::Internal(m).into());
                }
                Err(e) => {
                    let (code, reason) = e.code_and_message();
                    errors.push(SnapshotErrorMessage {
                        snapshot_identifier: Some(id),
                        snapshot_cluster_identifier: item.snapshot_cluster_identifier,
                        failure_code: Some(code),
                        failure_reason: Some(reason),
                    });
                }
            }
        }
        Ok(BatchDeleteClusterSnapshotsResult {
            resources: Some(resources),
            errors: Some(errors),
        })
    }

    pub(crate) fn batch_modify_impl(
        &self,
        ctx: &RequestContext,
        input: BatchModifyClusterSnapshotsMessage,
    ) -> Result<BatchModifyClusterSnapshotsOutputMessage, OpError<BatchModifyClusterSnapshotsError>>
    {
        type E = BatchModifyClusterSnapshotsError;
        let ids = input.snapshot_identifier_list.unwrap_or_default();
        if ids.len() > rules::MAX_BATCH {
            return Err(
                E::batch_modify_cluster_snapshots_limit_exceeded_fault(format!(
                    "The maximum number of snapshots in one batch modify request is {}.",
                    rules::MAX_BATCH
                ))
                .into(),
            );
        }
        if let Some(p) = input.manual_snapshot_retention_period
            && !rules::manual_retention_ok(p)
        {
            return Err(E::invalid_retention_period_fault(rules::retention_message(p)).into());
        }
        let scope = Scope::of(ctx);
        let (mut resources, mut errors) = (Vec::new(), Vec::new());
        for id in ids {
            match self.modify_one(
                &scope,
                &id,
                input.manual_snapshot_retention_period,
                input.force.unwrap_or(false),
            ) {
                Ok(_) => resources.push(id),
                Err(SnapErr::Common(CommonError::Internal(m))) => {
                    return Err(CommonError::Internal(m).into());
                }
                Err(e) => {
                    let (code, reason) = e.code_and_message();
                    errors.push(SnapshotErrorMessage {
                        snapshot_identifier: Some(id),
                        snapshot_cluster_identifier: None,
                        failure_code: Some(code),
                        failure_reason: Some(reason),
                    });
                }
            }
        }
        Ok(BatchModifyClusterSnapshotsOutputMessage {
            resources: Some(resources),
            errors: Some(errors),
        })
    }
}
