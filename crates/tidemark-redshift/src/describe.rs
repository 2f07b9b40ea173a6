//! DescribeClusterSnapshots with every filter, sorting and paging (§3.17), the set of
//! snapshots a caller can see (own + shared with it, §3.14), and DescribeStorage (§4.2).
//! Paging itself (order, markers, page builders) is in [`page`].

mod page;

use std::collections::BTreeSet;

use tidemark_core::RequestContext;
use tidemark_model::redshift::*;
use tidemark_model::{CommonError, OpError};
use tidemark_store::{Reads, keys};

use crate::RedshiftService;
use crate::catalog::{
    self, CLUSTERS_TABLE, ClusterRec, GRANTS_TABLE, SNAPSHOT_ORDER_TABLE, SNAPSHOTS_TABLE, Scope,
    SnapRec, internal,
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

/// Storage per node of `node_type`, in MB.
pub(crate) fn provisioned_mb(node_type: &str) -> f64 {
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
        out.extend(shared_with(&*txn, scope, None)?);
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
        let after = match &input.marker {
            Some(m) => Some(page::decode_marker(&input, m)?),
            None => None,
        };
        catalog::ensure_order_index(&*self.store)?;
        let txn = self.store.read().map_err(internal)?;
        let mut filters = page::Filters::new(&input, &scope);
        let sorting = input.sorting_entities.as_deref().unwrap_or_default();
        let lookup = match (&input.snapshot_identifier, &input.snapshot_arn) {
            (Some(id), _) => Some(id.to_ascii_lowercase()),
            (None, Some(arn)) => Some(parse_snapshot_arn(arn).map_or(arn.clone(), |p| p.3)),
            (None, None) => None,
        };
        let result = if let Some(id) = lookup {
            // One identifier: the caller's snapshot of that id and those shared under it.
            let mut found: Vec<Visible> = load_snapshot(&*txn, &scope, &id)?
                .map(|rec| Visible {
                    owner: scope.clone(),
                    rec,
                })
                .into_iter()
                .chain(shared_with(&*txn, &scope, Some(&id))?)
                .collect();
            if let Some(arn) = &input.snapshot_arn {
                found.retain(|v| v.rec.snap.snapshot_arn.as_deref() == Some(arn.as_str()));
            } else {
                found.retain(|v| v.rec.id() == id);
            }
            if found.is_empty() {
                return Err(
                    E::cluster_snapshot_not_found_fault(rules::snapshot_not_found(&id)).into(),
                );
            }
            let entities = page::sort_entities(sorting)?;
            let found = found.into_iter().map(page::Cand::of).collect();
            page::page_in_memory(&*txn, &mut filters, found, &entities, after.as_ref(), limit)?
        } else if !sorting.is_empty() {
            // Sorting reads every summary in the order index; records only for the page.
            let entities = page::sort_entities(sorting)?;
            let mut all = page::own_candidates(&*txn, &scope)?;
            all.extend(
                shared_with(&*txn, &scope, None)?
                    .into_iter()
                    .map(page::Cand::of),
            );
            page::page_in_memory(&*txn, &mut filters, all, &entities, after.as_ref(), limit)?
        } else {
            let shared = shared_with(&*txn, &scope, None)?;
            page::page_by_index(&*txn, &mut filters, &scope, shared, after.as_ref(), limit)?
        };
        if !result.stale.is_empty() {
            self.drop_stale_order_entries(&scope, &result.stale)?;
        }
        let marker = result
            .more
            .then(|| result.items.last())
            .flatten()
            .map(|(k, _)| page::encode_marker(&input, k));
        Ok(SnapshotMessage {
            snapshots: Some(
                result
                    .items
                    .iter()
                    .map(|(_, v)| self.render(&v.rec, &scope))
                    .collect(),
            ),
            marker,
        })
    }

    /// Removes order-index entries of `scope` whose snapshot is gone (deleted by a path that
    /// did not go through `catalog::delete_snapshot`), re-checked inside the write.
    fn drop_stale_order_entries(
        &self,
        scope: &Scope,
        stale: &[Vec<u8>],
    ) -> Result<(), CommonError> {
        let prefix = scope.prefix();
        let mut w = self.store.write().map_err(internal)?;
        for ikey in stale {
            let (created, id) = catalog::split_order_key(&prefix, ikey)?;
            if catalog::order_entry_live(&*w, scope, created, &id)?.is_none() {
                w.delete(SNAPSHOT_ORDER_TABLE, ikey).map_err(internal)?;
            }
        }
        w.commit().map_err(internal)
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

/// The snapshots other accounts shared with `scope` (only those named `only_id` when given),
/// found through the grant index and checked against each snapshot's grant list.
fn shared_with(
    txn: &(impl Reads + ?Sized),
    scope: &Scope,
    only_id: Option<&str>,
) -> Result<Vec<Visible>, CommonError> {
    let prefix = scope.prefix();
    let mut out = Vec::new();
    for entry in txn.scan_prefix(GRANTS_TABLE, &prefix).map_err(internal)? {
        let (k, _) = entry.map_err(internal)?;
        let mut r = keys::KeyReader::new(&k[prefix.len()..]);
        let (Ok(owner), Ok(snap)) = (r.str(), r.str()) else {
            continue;
        };
        if only_id.is_some_and(|id| id != snap) {
            continue;
        }
        let owner = Scope {
            account: owner,
            region: scope.region.clone(),
        };
        if let Some(rec) = catalog::get::<SnapRec>(txn, SNAPSHOTS_TABLE, &owner.key(&snap))?
            && rec.grants.contains(&scope.account)
        {
            out.push(Visible { owner, rec });
        }
    }
    Ok(out)
}

/// Reads helper used by sharing and restore: one snapshot of `owner`.
pub(crate) fn load_snapshot(
    txn: &(impl Reads + ?Sized),
    owner: &Scope,
    id: &str,
) -> Result<Option<SnapRec>, CommonError> {
    catalog::get(txn, SNAPSHOTS_TABLE, &owner.key(&id.to_ascii_lowercase()))
}
