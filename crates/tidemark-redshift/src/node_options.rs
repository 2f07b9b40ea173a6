//! What DR tooling reads before a restore: DescribeNodeConfigurationOptions for
//! `ActionType=restore-cluster` (the node types and counts a snapshot can restore to, from
//! its size) and DescribeClusterDbRevisions.

use tidemark_core::RequestContext;
use tidemark_model::redshift::*;
use tidemark_model::{CommonError, OpError};

use crate::RedshiftService;
use crate::catalog::{self, CLUSTERS_TABLE, ClusterRec, Scope, SnapRec, internal};
use crate::describe::{load_snapshot, parse_snapshot_arn, provisioned_mb};
use crate::rules;

/// The database revision every cluster runs (the snapshots' `EngineFullVersion` 1.0.15503).
pub const DB_REVISION: &str = "15503";
const DB_REVISION_DATE: &str = "2026-11-02T00:00:00Z";

/// The restore options of `snap`: for each node type it can restore to, the fewest nodes
/// that hold its data (and the snapshot's own count on its own node type).
pub(crate) fn restore_options(snap: &SnapRec) -> Vec<NodeConfigurationOption> {
    let size = snap
        .snap
        .total_backup_size_in_mega_bytes
        .unwrap_or(0.0)
        .max(0.0);
    let own_type = snap.snap.node_type.clone().unwrap_or_default();
    let own_nodes = snap.snap.number_of_nodes.unwrap_or(1);
    let mut out = Vec::new();
    for t in snap.snap.restorable_node_types.clone().unwrap_or_default() {
        let per_node = provisioned_mb(&t);
        let fewest = (size / per_node).ceil().max(1.0) as i32;
        if fewest > 100 {
            continue;
        }
        let mut counts = vec![fewest];
        if t == own_type && own_nodes > fewest {
            counts.push(own_nodes);
        }
        for n in counts {
            let pct = size / (per_node * f64::from(n)) * 100.0;
            out.push(NodeConfigurationOption {
                node_type: Some(t.clone()),
                number_of_nodes: Some(n),
                estimated_disk_utilization_percent: Some((pct * 100.0).round() / 100.0),
                mode: Some("standard".into()),
            });
        }
    }
    out
}

/// Whether `o` passes every filter; an unknown name or operator is `InvalidParameterValue`.
fn keep(
    o: &NodeConfigurationOption,
    filters: &[NodeConfigurationOptionsFilter],
) -> Result<bool, CommonError> {
    for f in filters {
        let name = f.name.as_deref().unwrap_or_default();
        let op = f.operator.as_deref().unwrap_or("eq");
        let values = f.values.clone().unwrap_or_default();
        let bad = |what: &str| {
            CommonError::InvalidParameterValue(format!("Invalid filter {what} for {name}."))
        };
        let ok = match name {
            "NodeType" | "Mode" => {
                let v = if name == "NodeType" {
                    &o.node_type
                } else {
                    &o.mode
                };
                let v = v.clone().unwrap_or_default();
                match op {
                    "eq" | "in" => values.contains(&v),
                    other => return Err(bad(other)),
                }
            }
            "NumberOfNodes" | "EstimatedDiskUtilizationPercent" => {
                let v = if name == "NumberOfNodes" {
                    f64::from(o.number_of_nodes.unwrap_or_default())
                } else {
                    o.estimated_disk_utilization_percent.unwrap_or_default()
                };
                let nums = values
                    .iter()
                    .map(|x| x.parse::<f64>().map_err(|_| bad(x)))
                    .collect::<Result<Vec<f64>, _>>()?;
                let first = nums.first().copied().ok_or_else(|| bad("without values"))?;
                match op {
                    "eq" => v == first,
                    "lt" => v < first,
                    "gt" => v > first,
                    "le" => v <= first,
                    "ge" => v >= first,
                    "in" => nums.contains(&v),
                    "between" => match nums.as_slice() {
                        [lo, hi] => *lo <= v && v <= *hi,
                        _ => return Err(bad("between without two values")),
                    },
                    other => return Err(bad(other)),
                }
            }
            other => return Err(bad(other)),
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

impl RedshiftService {
    pub(crate) fn describe_node_options_impl(
        &self,
        ctx: &RequestContext,
        input: DescribeNodeConfigurationOptionsMessage,
    ) -> Result<NodeConfigurationOptionsMessage, OpError<DescribeNodeConfigurationOptionsError>>
    {
        type E = DescribeNodeConfigurationOptionsError;
        let scope = Scope::of(ctx);
        let action = input.action_type.clone().unwrap_or_default();
        if action != "restore-cluster" {
            return Err(E::unsupported_operation_fault(format!(
                "DescribeNodeConfigurationOptions with ActionType {action} is not supported by tidemark; only restore-cluster is."
            ))
            .into());
        }
        let limit = rules::page_size(input.max_records, 100, 500)?;
        let offset = match &input.marker {
            Some(m) => catalog::decode_marker(m)?
                .parse::<usize>()
                .map_err(|_| catalog::bad_marker(m))?,
            None => 0,
        };
        let (snap_id, owner_account) = match (&input.snapshot_identifier, &input.snapshot_arn) {
            (Some(s), _) => (
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
            (None, None) => {
                return Err(CommonError::InvalidParameterCombination(
                    "SnapshotIdentifier or SnapshotArn is required for ActionType restore-cluster."
                        .into(),
                )
                .into());
            }
        };
        let owner = Scope {
            account: owner_account,
            region: scope.region.clone(),
        };
        let txn = self.store.read().map_err(internal)?;
        let Some(snap) = load_snapshot(&*txn, &owner, &snap_id)? else {
            return Err(
                E::cluster_snapshot_not_found_fault(rules::snapshot_not_found(&snap_id)).into(),
            );
        };
        drop(txn);
        if owner != scope && !snap.grants.contains(&scope.account) {
            return Err(E::access_to_snapshot_denied_fault(format!(
                "You are not authorized to access snapshot {snap_id}."
            ))
            .into());
        }
        if let Some(c) = &input.cluster_identifier
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
        let filters = input.filters.unwrap_or_default();
        let mut all = Vec::new();
        for o in restore_options(&snap) {
            if keep(&o, &filters)? {
                all.push(o);
            }
        }
        let total = all.len();
        let page: Vec<NodeConfigurationOption> = all.into_iter().skip(offset).take(limit).collect();
        let marker =
            (offset + limit < total).then(|| catalog::encode_marker(&(offset + limit).to_string()));
        Ok(NodeConfigurationOptionsMessage {
            node_configuration_option_list: Some(page),
            marker,
        })
    }

    pub(crate) fn describe_db_revisions_impl(
        &self,
        ctx: &RequestContext,
        input: DescribeClusterDbRevisionsMessage,
    ) -> Result<ClusterDbRevisionsMessage, OpError<DescribeClusterDbRevisionsError>> {
        type E = DescribeClusterDbRevisionsError;
        let scope = Scope::of(ctx);
        let limit = rules::page_size(input.max_records, 20, 100)?;
        let after = input
            .marker
            .as_deref()
            .map(catalog::decode_marker)
            .transpose()?;
        let released = DB_REVISION_DATE
            .parse()
            .map(tidemark_model::Timestamp)
            .map_err(internal)?;
        let revision = |c: &ClusterRec| ClusterDbRevision {
            cluster_identifier: c.cluster.cluster_identifier.clone(),
            current_database_revision: Some(DB_REVISION.into()),
            database_revision_release_date: Some(released),
            // Every cluster already runs the only revision there is.
            revision_targets: Some(Vec::new()),
        };
        if let Some(id) = &input.cluster_identifier {
            let id = id.to_ascii_lowercase();
            let Some(c) = self.load_cluster(&scope, &id)? else {
                return Err(E::cluster_not_found_fault(rules::cluster_not_found(&id)).into());
            };
            return Ok(ClusterDbRevisionsMessage {
                marker: None,
                cluster_db_revisions: Some(vec![revision(&c)]),
            });
        }
        let txn = self.store.read().map_err(internal)?;
        let all: Vec<ClusterRec> = catalog::scan(&*txn, CLUSTERS_TABLE, &scope.prefix())?;
        drop(txn);
        let mut page = Vec::new();
        let mut marker = None;
        for c in all {
            let id = c.cluster.cluster_identifier.clone().unwrap_or_default();
            if after.as_ref().is_some_and(|a| &id <= a) {
                continue;
            }
            if page.len() == limit {
                marker = page
                    .last()
                    .and_then(|r: &ClusterDbRevision| r.cluster_identifier.as_deref())
                    .map(catalog::encode_marker);
                break;
            }
            page.push(revision(&c));
        }
        Ok(ClusterDbRevisionsMessage {
            marker,
            cluster_db_revisions: Some(page),
        })
    }
}
