//! DescribeClusterSnapshots with every filter, sorting and paging (§3.17), the set of
//! snapshots a caller can see (own + shared with it, §3.14), and DescribeStorage (§4.2).

use std::cmp::Ordering;
use std::collections::BTreeSet;

use tidemark_core::RequestContext;
use tidemark_model::redshift::*;
use tidemark_model::{CommonError, OpError};
use tidemark_store::{Reads, keys};

use crate::RedshiftService;
use crate::catalog::{
    self, CLUSTERS_TABLE, ClusterRec, GRANTS_TABLE, SNAPSHOTS_TABLE, Scope, SnapRec, internal,
};
use crate::rules;

/// A snapshot visible to the caller, with the scope that owns it.
pub(crate) struct Visible {
    pub owner: Scope,
    pub rec: SnapRec,
}

/// `(account, region, cluster, snapshot id)` of a snapshot ARN.
pub(crate) fn parse_snapshot_arn(arn: &str) -> Option<(String, String, String, String)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" || parts[2] != "redshift" {
        return None;
    }
    let rest = parts[5].strip_prefix("snapshot:")?;
    // Automated snapshot ids contain ':', so split the cluster off at the first '/'.
    let (cluster, snap) = rest.split_once('/')?;
    Some((
        parts[4].to_owned(),
        parts[3].to_owned(),
        cluster.to_owned(),
        snap.to_owned(),
    ))
}

fn provisioned_mb(node_type: &str) -> f64 {
    let gb = match node_type {
        "dc2.large" => 160.0,
        "dc2.8xlarge" => 2560.0,
        "ra3.large" | "rg.large" => 8192.0,
        "ra3.xlplus" | "rg.xlarge" => 32768.0,
        _ => 131072.0,
    };
    gb * 1024.0
}

impl RedshiftService {
    /// Every snapshot the caller owns plus every snapshot shared with it.
    pub(crate) fn visible_snapshots(&self, scope: &Scope) -> Result<Vec<Visible>, CommonError> {
        let txn = self.store.read().map_err(internal)?;
        let mut out: Vec<Visible> =
            catalog::scan::<SnapRec>(&*txn, SNAPSHOTS_TABLE, &scope.prefix())?
                .into_iter()
                .map(|rec| Visible {
                    owner: scope.clone(),
                    rec,
                })
                .collect();
        let prefix = scope.prefix();
        for entry in txn.scan_prefix(GRANTS_TABLE, &prefix).map_err(internal)? {
            let (k, _) = entry.map_err(internal)?;
            let mut r = keys::KeyReader::new(&k[prefix.len()..]);
            let (Ok(owner), Ok(snap)) = (r.str(), r.str()) else {
                continue;
            };
            let owner = Scope {
                account: owner,
                region: scope.region.clone(),
            };
            if let Some(rec) = catalog::get::<SnapRec>(&*txn, SNAPSHOTS_TABLE, &owner.key(&snap))?
                && rec.grants.contains(&scope.account)
            {
                out.push(Visible { owner, rec });
            }
        }
        Ok(out)
    }

    pub(crate) fn describe_cluster_snapshots_impl(
        &self,
        ctx: &RequestContext,
        input: DescribeClusterSnapshotsMessage,
    ) -> Result<SnapshotMessage, OpError<DescribeClusterSnapshotsError>> {
        type E = DescribeClusterSnapshotsError;
        let scope = Scope::of(ctx);
        let limit = rules::page_size(input.max_records, 20, 100)?;
        if input.snapshot_identifier.is_some() && input.snapshot_arn.is_some() {
            return Err(CommonError::InvalidParameterCombination(
                "Specify either SnapshotIdentifier or SnapshotArn, not both.".into(),
            )
            .into());
        }
        if input.cluster_exists == Some(true) && input.cluster_identifier.is_none() {
            return Err(CommonError::InvalidParameterCombination(
                "ClusterExists=true requires ClusterIdentifier.".into(),
            )
            .into());
        }
        if let Some(t) = &input.snapshot_type
            && t != "automated"
            && t != "manual"
        {
            return Err(CommonError::InvalidParameterValue(format!(
                "Invalid snapshot type {t}: it must be automated or manual."
            ))
            .into());
        }
        let offset = match &input.marker {
            Some(m) => catalog::decode_marker(m)?
                .parse::<usize>()
                .map_err(|_| CommonError::InvalidParameterValue(format!("Invalid marker: {m}")))?,
            None => 0,
        };
        let keys = input.tag_keys.clone().unwrap_or_default();
        let values = input.tag_values.clone().unwrap_or_default();
        let tag_filter = !keys.is_empty() || !values.is_empty();
        let mut all = self.visible_snapshots(&scope)?;
        if let Some(id) = &input.snapshot_identifier {
            let id = id.to_ascii_lowercase();
            all.retain(|v| v.rec.id() == id);
            if all.is_empty() {
                return Err(
                    E::cluster_snapshot_not_found_fault(rules::snapshot_not_found(&id)).into(),
                );
            }
        }
        if let Some(arn) = &input.snapshot_arn {
            all.retain(|v| v.rec.snap.snapshot_arn.as_deref() == Some(arn.as_str()));
            if all.is_empty() {
                let id = parse_snapshot_arn(arn).map_or(arn.clone(), |p| p.3);
                return Err(
                    E::cluster_snapshot_not_found_fault(rules::snapshot_not_found(&id)).into(),
                );
            }
        }
        let cluster = input
            .cluster_identifier
            .as_ref()
            .map(|c| c.to_ascii_lowercase());
        let txn = self.store.read().map_err(internal)?;
        let live = |owner: &Scope, c: &str| -> Result<bool, CommonError> {
            Ok(catalog::get::<ClusterRec>(&*txn, CLUSTERS_TABLE, &owner.key(c))?.is_some())
        };
        let mut kept = Vec::new();
        for v in all {
            let s = &v.rec.snap;
            let snap_cluster = s.cluster_identifier.clone().unwrap_or_default();
            let created = s.snapshot_create_time;
            let ok = cluster.as_ref().is_none_or(|c| *c == snap_cluster)
                && input
                    .snapshot_type
                    .as_ref()
                    .is_none_or(|t| s.snapshot_type.as_ref() == Some(t))
                && input
                    .start_time
                    .is_none_or(|t| created.is_some_and(|c| c >= t))
                && input
                    .end_time
                    .is_none_or(|t| created.is_some_and(|c| c <= t))
                && input
                    .owner_account
                    .as_ref()
                    .is_none_or(|o| s.owner_account.as_ref() == Some(o))
                && (!tag_filter
                    || (v.owner == scope
                        && rules::tags_match(
                            s.tags.as_deref().unwrap_or_default(),
                            &keys,
                            &values,
                        )));
            if !ok {
                continue;
            }
            if let Some(exists) = input.cluster_exists
                && live(&v.owner, &snap_cluster)? != exists
            {
                continue;
            }
            kept.push(v);
        }
        kept.sort_by(|a, b| {
            (
                a.rec.snap.snapshot_create_time,
                a.rec.id(),
                &a.owner.account,
            )
                .cmp(&(
                    b.rec.snap.snapshot_create_time,
                    b.rec.id(),
                    &b.owner.account,
                ))
        });
        for entity in input.sorting_entities.unwrap_or_default().iter().rev() {
            let desc = entity.sort_order.as_deref() == Some("DESC");
            let attr = entity.attribute.clone().unwrap_or_default();
            if !matches!(attr.as_str(), "SOURCE_TYPE" | "TOTAL_SIZE" | "CREATE_TIME") {
                return Err(CommonError::InvalidParameterValue(format!(
                    "Invalid sorting attribute {attr}."
                ))
                .into());
            }
            kept.sort_by(|a, b| {
                let (x, y) = (&a.rec.snap, &b.rec.snap);
                let o = match attr.as_str() {
                    "SOURCE_TYPE" => x.snapshot_type.cmp(&y.snapshot_type),
                    "TOTAL_SIZE" => x
                        .total_backup_size_in_mega_bytes
                        .partial_cmp(&y.total_backup_size_in_mega_bytes)
                        .unwrap_or(Ordering::Equal),
                    _ => x.snapshot_create_time.cmp(&y.snapshot_create_time),
                };
                if desc { o.reverse() } else { o }
            });
        }
        let total = kept.len();
        let snapshots: Vec<Snapshot> = kept
            .iter()
            .skip(offset)
            .take(limit)
            .map(|v| self.render(&v.rec, &scope))
            .collect();
        let marker =
            (offset + limit < total).then(|| catalog::encode_marker(&(offset + limit).to_string()));
        Ok(SnapshotMessage {
            snapshots: Some(snapshots),
            marker,
        })
    }

    pub(crate) fn describe_storage_impl(
        &self,
        ctx: &RequestContext,
    ) -> Result<CustomerStorageMessage, OpError<DescribeStorageError>> {
        let scope = Scope::of(ctx);
        let txn = self.store.read().map_err(internal)?;
        let snaps: Vec<SnapRec> = catalog::scan(&*txn, SNAPSHOTS_TABLE, &scope.prefix())?;
        // Copies share their source's captured data, so each manifest counts once.
        let mut seen = BTreeSet::new();
        let backup: f64 = snaps
            .iter()
            .filter(|s| s.manifest.as_ref().is_some_and(|m| seen.insert(m.clone())))
            .filter_map(|s| s.snap.total_backup_size_in_mega_bytes)
            .sum();
        let clusters: Vec<ClusterRec> = catalog::scan(&*txn, CLUSTERS_TABLE, &scope.prefix())?;
        let provisioned: f64 = clusters
            .iter()
            .map(|c| {
                provisioned_mb(c.cluster.node_type.as_deref().unwrap_or_default())
                    * f64::from(c.cluster.number_of_nodes.unwrap_or(1))
            })
            .sum();
        Ok(CustomerStorageMessage {
            total_backup_size_in_mega_bytes: Some(backup),
            total_provisioned_storage_in_mega_bytes: Some(provisioned),
        })
    }
}

/// Reads helper used by sharing and restore: one snapshot of `owner`.
pub(crate) fn load_snapshot(
    txn: &(impl Reads + ?Sized),
    owner: &Scope,
    id: &str,
) -> Result<Option<SnapRec>, CommonError> {
    catalog::get(txn, SNAPSHOTS_TABLE, &owner.key(&id.to_ascii_lowercase()))
}
