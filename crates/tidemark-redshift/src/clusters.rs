//! Cluster operations: `DescribeClusters` (reference §3.8).

use tidemark_core::RequestContext;
use tidemark_model::redshift::{Cluster, ClustersMessage, DescribeClustersError, DescribeClustersMessage};
use tidemark_model::{CommonError, OpError};
use tidemark_store::Reads;

use crate::RedshiftService;
use crate::catalog::{self, CLUSTERS_TABLE};

/// `MaxRecords` bounds for the Describe operations (reference §1.5).
const MIN_RECORDS: i32 = 20;
const MAX_RECORDS: i32 = 100;

fn internal(e: impl std::fmt::Display) -> CommonError {
    CommonError::Internal(e.to_string())
}

/// Checks `MaxRecords` and returns the page size.
pub(crate) fn page_size(max_records: Option<i32>) -> Result<usize, CommonError> {
    match max_records {
        None => Ok(MAX_RECORDS as usize),
        Some(n) if (MIN_RECORDS..=MAX_RECORDS).contains(&n) => Ok(n as usize),
        Some(_) => Err(CommonError::InvalidParameterValue(format!(
            "MaxRecords must be between {MIN_RECORDS} and {MAX_RECORDS}."
        ))),
    }
}

/// Tag filters: a record matches when it has any of the keys and any of the values given.
fn tags_match(cluster: &Cluster, keys: &[String], values: &[String]) -> bool {
    let tags = cluster.tags.as_deref().unwrap_or_default();
    let key_ok = keys.is_empty() || tags.iter().any(|t| t.key.as_ref().is_some_and(|k| keys.contains(k)));
    let value_ok = values.is_empty() || tags.iter().any(|t| t.value.as_ref().is_some_and(|v| values.contains(v)));
    key_ok && value_ok
}

impl RedshiftService {
    pub(crate) fn describe_clusters_impl(
        &self,
        ctx: &RequestContext,
        input: DescribeClustersMessage,
    ) -> Result<ClustersMessage, OpError<DescribeClustersError>> {
        let limit = page_size(input.max_records)?;
        if input.marker.is_some() && input.cluster_identifier.is_some() {
            return Err(CommonError::InvalidParameterCombination(
                "A marker cannot be specified together with a cluster identifier.".into(),
            )
            .into());
        }
        let txn = self.store.read().map_err(internal)?;
        if let Some(id) = &input.cluster_identifier {
            let id = id.to_ascii_lowercase();
            let Some(raw) = txn.get(CLUSTERS_TABLE, &catalog::key(ctx, &id)).map_err(internal)? else {
                return Err(DescribeClustersError::cluster_not_found_fault(format!("Cluster {id} not found.")).into());
            };
            let cluster: Cluster = serde_json::from_slice(&raw).map_err(internal)?;
            return Ok(ClustersMessage { clusters: Some(vec![cluster]), marker: None });
        }
        let after = match &input.marker {
            Some(m) => Some(crate::catalog::decode_marker(m)?),
            None => None,
        };
        let keys = input.tag_keys.unwrap_or_default();
        let values = input.tag_values.unwrap_or_default();
        let mut clusters = Vec::new();
        let mut marker = None;
        for entry in txn.scan_prefix(CLUSTERS_TABLE, &catalog::scope(ctx)).map_err(internal)? {
            let (_, raw) = entry.map_err(internal)?;
            let cluster: Cluster = serde_json::from_slice(&raw).map_err(internal)?;
            let id = cluster.cluster_identifier.clone().unwrap_or_default();
            if after.as_ref().is_some_and(|a| &id <= a) || !tags_match(&cluster, &keys, &values) {
                continue;
            }
            if clusters.len() == limit {
                marker = clusters.last().and_then(|c: &Cluster| c.cluster_identifier.as_deref()).map(catalog::encode_marker);
                break;
            }
            clusters.push(cluster);
        }
        Ok(ClustersMessage { clusters: Some(clusters), marker })
    }
}
