//! Cross-region snapshot copy settings: EnableSnapshotCopy, DisableSnapshotCopy and
//! ModifySnapshotCopyRetentionPeriod. The settings live in the cluster's
//! `ClusterSnapshotCopyStatus`, so every operation that returns the Cluster shows them.
//! The copies themselves are made by [`crate::region_copy`].

use tidemark_core::{RequestContext, Timestamp};
use tidemark_model::redshift::*;
use tidemark_model::{CommonError, OpError};

use crate::RedshiftService;
use crate::catalog::{self, CLUSTERS_TABLE, ClusterRec, SNAPSHOTS_TABLE, Scope, SnapRec, internal};
use crate::rules::{self, DAY_SECS};

/// Default `RetentionPeriod` of automated copies (AWS: 7 days).
pub const DEFAULT_COPY_RETENTION: i32 = 7;
/// Bounds of `RetentionPeriod` for automated copies (AWS: 1 to 35 days).
pub const MAX_COPY_RETENTION: i32 = 35;

/// The regions a snapshot can be copied to, by partition. A copy never leaves its
/// partition (`aws`, `aws-cn`, `aws-us-gov`).
const REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-south-1",
    "eu-south-2",
    "eu-north-1",
    "il-central-1",
    "me-south-1",
    "me-central-1",
    "mx-central-1",
    "sa-east-1",
    "cn-north-1",
    "cn-northwest-1",
    "us-gov-west-1",
    "us-gov-east-1",
];

/// Why a destination region is refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RegionErr {
    /// Not a region, or the source region itself (`UnknownSnapshotCopyRegionFault`).
    Unknown(String),
    /// In another partition (`CopyToRegionDisabledFault`).
    Disabled(String),
}

/// Checks a copy destination as seen from `source`.
pub(crate) fn check_destination(source: &str, dest: &str) -> Result<(), RegionErr> {
    if !REGIONS.contains(&dest) || dest == source {
        return Err(RegionErr::Unknown(format!("Invalid region {dest}")));
    }
    let (from, to) = (
        tidemark_core::ids::partition_of(source),
        tidemark_core::ids::partition_of(dest),
    );
    if from != to {
        return Err(RegionErr::Disabled(format!(
            "Cross-region snapshot copy from {source} ({from}) to {dest} ({to}) is disabled: \
             the regions are in different partitions."
        )));
    }
    Ok(())
}

/// `InvalidRetentionPeriodFault` text for a bad automated copy retention.
pub(crate) fn copy_retention_message(days: i32) -> String {
    format!(
        "Invalid retention period {days}. The retention period for automated snapshots copied to \
         another region must be between 1 and {MAX_COPY_RETENTION} days."
    )
}

fn copy_retention_ok(days: i32) -> bool {
    (1..=MAX_COPY_RETENTION).contains(&days)
}

/// Whether snapshot `s` (stored in a destination region) is a copy of `cluster` of `source`.
pub(crate) fn is_copy_of(s: &SnapRec, source: &Scope, cluster: &str) -> bool {
    s.snap.source_region.as_deref() == Some(source.region.as_str())
        && s.snap.owner_account.as_deref() == Some(source.account.as_str())
        && s.snap.cluster_identifier.as_deref() == Some(cluster)
}

/// When an automated copy expires: its own create time plus its copy retention.
pub(crate) fn automated_copy_expiry(s: &SnapRec, now: Timestamp) -> Timestamp {
    let created = s.snap.snapshot_create_time.map_or(now, |t| t.0);
    let days = s.copy_retention.unwrap_or(DEFAULT_COPY_RETENTION);
    rules::plus_secs(created, i64::from(days) * DAY_SECS)
}

fn not_available(id: &str, rec: &ClusterRec) -> String {
    format!(
        "The cluster {id} is not in the available state (it is {}).",
        rec.cluster.cluster_status.as_deref().unwrap_or_default()
    )
}

impl RedshiftService {
    pub(crate) fn enable_snapshot_copy_impl(
        &self,
        ctx: &RequestContext,
        input: EnableSnapshotCopyMessage,
    ) -> Result<EnableSnapshotCopyResult, OpError<EnableSnapshotCopyError>> {
        type E = EnableSnapshotCopyError;
        let scope = Scope::of(ctx);
        let id = input
            .cluster_identifier
            .clone()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let dest = input.destination_region.clone().unwrap_or_default();
        let retention = input.retention_period.unwrap_or(DEFAULT_COPY_RETENTION);
        if !copy_retention_ok(retention) {
            return Err(
                E::invalid_retention_period_fault(copy_retention_message(retention)).into(),
            );
        }
        let manual = input.manual_snapshot_retention_period.unwrap_or(-1);
        if !rules::manual_retention_ok(manual) {
            return Err(E::invalid_retention_period_fault(rules::retention_message(manual)).into());
        }
        let mut w = self.store.write().map_err(internal)?;
        let Some(mut rec) = catalog::get::<ClusterRec>(&*w, CLUSTERS_TABLE, &scope.key(&id))?
        else {
            return Err(E::cluster_not_found_fault(rules::cluster_not_found(&id)).into());
        };
        if rec.cluster.cluster_snapshot_copy_status.is_some() {
            return Err(E::snapshot_copy_already_enabled_fault(format!(
                "Snapshot Copy is already enabled on Cluster {id}."
            ))
            .into());
        }
        if rec.cluster.cluster_status.as_deref() != Some("available") {
            return Err(E::invalid_cluster_state_fault(not_available(&id, &rec)).into());
        }
        match check_destination(&scope.region, &dest) {
            Ok(()) => {}
            Err(RegionErr::Unknown(m)) => {
                return Err(E::unknown_snapshot_copy_region_fault(m).into());
            }
            Err(RegionErr::Disabled(m)) => return Err(E::copy_to_region_disabled_fault(m).into()),
        }
        let grant = match &input.snapshot_copy_grant_name {
            Some(name) => {
                let dest_scope = Scope {
                    account: scope.account.clone(),
                    region: dest.clone(),
                };
                let Some(g) = crate::copy_grants::load_grant(&*w, &dest_scope, name)? else {
                    return Err(E::snapshot_copy_grant_not_found_fault(
                        crate::copy_grants::grant_not_found(name),
                    )
                    .into());
                };
                Some(g.name)
            }
            // A cluster encrypted with a KMS key of its own needs a grant in the destination
            // to re-encrypt the copies there.
            None if rec.cluster.kms_key_id.is_some() => {
                return Err(CommonError::InvalidParameterValue(
                    "SnapshotCopyGrantName is required for Snapshot Copy on KMS encrypted clusters."
                        .into(),
                )
                .into());
            }
            None => None,
        };
        rec.cluster.cluster_snapshot_copy_status = Some(ClusterSnapshotCopyStatus {
            destination_region: Some(dest),
            retention_period: Some(i64::from(retention)),
            manual_snapshot_retention_period: Some(manual),
            snapshot_copy_grant_name: grant,
        });
        catalog::put(&mut *w, CLUSTERS_TABLE, &scope.key(&id), &rec)?;
        w.commit().map_err(internal)?;
        Ok(EnableSnapshotCopyResult {
            cluster: Some(rec.cluster),
        })
    }

    pub(crate) fn disable_snapshot_copy_impl(
        &self,
        ctx: &RequestContext,
        input: DisableSnapshotCopyMessage,
    ) -> Result<DisableSnapshotCopyResult, OpError<DisableSnapshotCopyError>> {
        type E = DisableSnapshotCopyError;
        let scope = Scope::of(ctx);
        let id = input
            .cluster_identifier
            .clone()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let mut w = self.store.write().map_err(internal)?;
        let Some(mut rec) = catalog::get::<ClusterRec>(&*w, CLUSTERS_TABLE, &scope.key(&id))?
        else {
            return Err(E::cluster_not_found_fault(rules::cluster_not_found(&id)).into());
        };
        if rec.cluster.cluster_snapshot_copy_status.is_none() {
            return Err(E::snapshot_copy_already_disabled_fault(format!(
                "Snapshot Copy is already disabled on Cluster {id}."
            ))
            .into());
        }
        if rec.cluster.cluster_status.as_deref() != Some("available") {
            return Err(E::invalid_cluster_state_fault(not_available(&id, &rec)).into());
        }
        // Copies already in the destination stay there, each with its own retention.
        rec.cluster.cluster_snapshot_copy_status = None;
        catalog::put(&mut *w, CLUSTERS_TABLE, &scope.key(&id), &rec)?;
        w.commit().map_err(internal)?;
        Ok(DisableSnapshotCopyResult {
            cluster: Some(rec.cluster),
        })
    }

    pub(crate) fn modify_snapshot_copy_retention_impl(
        &self,
        ctx: &RequestContext,
        input: ModifySnapshotCopyRetentionPeriodMessage,
    ) -> Result<
        ModifySnapshotCopyRetentionPeriodResult,
        OpError<ModifySnapshotCopyRetentionPeriodError>,
    > {
        type E = ModifySnapshotCopyRetentionPeriodError;
        let scope = Scope::of(ctx);
        let id = input
            .cluster_identifier
            .clone()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let days = input.retention_period.unwrap_or_default();
        let manual = input.manual.unwrap_or(false);
        if manual && !rules::manual_retention_ok(days) {
            return Err(E::invalid_retention_period_fault(rules::retention_message(days)).into());
        }
        if !manual && !copy_retention_ok(days) {
            return Err(E::invalid_retention_period_fault(copy_retention_message(days)).into());
        }
        let now = self.now();
        let mut w = self.store.write().map_err(internal)?;
        let Some(mut rec) = catalog::get::<ClusterRec>(&*w, CLUSTERS_TABLE, &scope.key(&id))?
        else {
            return Err(E::cluster_not_found_fault(rules::cluster_not_found(&id)).into());
        };
        if rec.cluster.cluster_status.as_deref() != Some("available") {
            return Err(E::invalid_cluster_state_fault(not_available(&id, &rec)).into());
        }
        let Some(status) = rec.cluster.cluster_snapshot_copy_status.as_mut() else {
            return Err(E::snapshot_copy_disabled_fault(format!(
                "Cannot modify retention period because snapshot copy is disabled on Cluster {id}."
            ))
            .into());
        };
        let dest = Scope {
            account: scope.account.clone(),
            region: status.destination_region.clone().unwrap_or_default(),
        };
        if manual {
            // Only manual snapshots copied from now on get the new period.
            status.manual_snapshot_retention_period = Some(days);
        } else {
            status.retention_period = Some(i64::from(days));
        }
        catalog::put(&mut *w, CLUSTERS_TABLE, &scope.key(&id), &rec)?;
        let mut expired = Vec::new();
        let mut kept = Vec::new();
        if !manual {
            // New and existing automated copies take the new period; those already outside
            // it are deleted now.
            let copies: Vec<(Vec<u8>, SnapRec)> = scan_with_keys(&*w, &dest)?
                .into_iter()
                .filter(|(_, s)| s.is_automated() && is_copy_of(s, &scope, &id))
                .collect();
            for (key, mut s) in copies {
                s.copy_retention = Some(days);
                if s.status() == "available" && automated_copy_expiry(&s, now) <= now {
                    catalog::delete_snapshot(&mut *w, &key, &s)?;
                    expired.push(s);
                } else {
                    catalog::put(&mut *w, SNAPSHOTS_TABLE, &key, &s)?;
                    kept.push(s);
                }
            }
        }
        w.commit().map_err(internal)?;
        for s in expired {
            self.release_manifest(&dest, s.manifest.as_deref())?;
        }
        for s in kept.iter().filter(|s| s.status() == "available") {
            self.submit_expiry(&dest, s, now)?;
        }
        Ok(ModifySnapshotCopyRetentionPeriodResult {
            cluster: Some(rec.cluster),
        })
    }
}

/// Every snapshot of `scope` with its record key.
pub(crate) fn scan_with_keys(
    txn: &(impl tidemark_store::Reads + ?Sized),
    scope: &Scope,
) -> Result<Vec<(Vec<u8>, SnapRec)>, CommonError> {
    let mut out = Vec::new();
    for entry in txn
        .scan_prefix(SNAPSHOTS_TABLE, &scope.prefix())
        .map_err(internal)?
    {
        let (key, raw) = entry.map_err(internal)?;
        out.push((key, serde_json::from_slice(&raw).map_err(internal)?));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_must_be_other_regions_of_the_same_partition() {
        assert_eq!(check_destination("us-east-1", "us-west-2"), Ok(()));
        assert_eq!(
            check_destination("us-east-1", "us-east-1"),
            Err(RegionErr::Unknown("Invalid region us-east-1".into()))
        );
        assert_eq!(
            check_destination("us-east-1", "mars-north-1"),
            Err(RegionErr::Unknown("Invalid region mars-north-1".into()))
        );
        assert!(matches!(
            check_destination("us-east-1", "cn-north-1"),
            Err(RegionErr::Disabled(_))
        ));
        assert_eq!(check_destination("cn-north-1", "cn-northwest-1"), Ok(()));
    }
}
