//! Where Redshift records live in the store, their stored shapes, and how keys are built.
//! Every key starts with the owner's account and region ([`Scope`]), so one account can
//! never reach another's records except through the grant index ([`GRANTS_TABLE`]).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tidemark_core::RequestContext;
use tidemark_model::CommonError;
use tidemark_model::redshift::{Cluster, Snapshot, Tag};
use tidemark_store::{Reads, WriteTxn, keys};

/// Clusters: key = scope ‖ cluster identifier (lower-case); value = JSON [`ClusterRec`].
pub const CLUSTERS_TABLE: &str = "redshift.clusters";
/// Snapshots: key = owner scope ‖ snapshot identifier (lower-case); value = JSON [`SnapRec`].
pub const SNAPSHOTS_TABLE: &str = "redshift.snapshots";
/// Sharing index: key = grantee scope ‖ owner account ‖ snapshot id; value = empty.
pub const GRANTS_TABLE: &str = "redshift.grants";
/// Snapshot schedules: key = scope ‖ schedule id (lower-case); value = JSON [`ScheduleRec`].
pub const SCHEDULES_TABLE: &str = "redshift.schedules";

/// An account and region: the owner of a record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    pub account: String,
    pub region: String,
}

impl Scope {
    pub fn of(ctx: &RequestContext) -> Self {
        Self {
            account: ctx.account.as_str().to_owned(),
            region: ctx.region.clone(),
        }
    }

    /// The key prefix of everything this scope owns.
    pub fn prefix(&self) -> Vec<u8> {
        let mut k = Vec::with_capacity(32);
        keys::push_bytes(&mut k, self.account.as_bytes());
        keys::push_bytes(&mut k, self.region.as_bytes());
        k
    }

    /// The key of one named record in this scope.
    pub fn key(&self, id: &str) -> Vec<u8> {
        let mut k = self.prefix();
        keys::push_bytes(&mut k, id.as_bytes());
        k
    }

    /// `arn:<partition>:redshift:<region>:<account>:<resource>`.
    pub fn arn(&self, resource: &str) -> String {
        let partition = tidemark_core::ids::partition_of(&self.region);
        format!(
            "arn:{partition}:redshift:{}:{}:{resource}",
            self.region, self.account
        )
    }

    /// The grant index key of `(owner, snapshot)` under this (grantee) scope.
    pub fn grant_key(&self, owner: &str, snapshot_id: &str) -> Vec<u8> {
        let mut k = self.prefix();
        keys::push_bytes(&mut k, owner.as_bytes());
        keys::push_bytes(&mut k, snapshot_id.as_bytes());
        k
    }
}

/// A stored cluster: the model view plus engine bookkeeping.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ClusterRec {
    pub cluster: Cluster,
    /// Bumped whenever the automated-snapshot cadence changes; a tick carrying an older
    /// generation is stale and ends itself.
    pub auto_gen: u64,
    /// Set while a restore is pending: `(owner scope, snapshot id, manifest id, size MB)`.
    pub restore_from: Option<RestoreSource>,
    /// The final snapshot DeleteCluster asked for, taken by the delete job.
    pub final_snapshot: Option<String>,
    /// The endpoint, shown once the cluster is available.
    pub port: i32,
    pub host: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RestoreSource {
    pub owner: Scope,
    pub manifest: Option<String>,
    pub size_mb: f64,
}

/// A stored snapshot: the model view (without `AccountsWithRestoreAccess`, which is
/// rendered per caller from `grants`) plus what a restore needs.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SnapRec {
    pub snap: Snapshot,
    /// Accounts (12 digits or `amazon-redshift-support`) allowed to restore it.
    pub grants: Vec<String>,
    /// The captured volume backing this snapshot (shared by copies).
    pub manifest: Option<String>,
    pub src_automated_retention: i32,
    pub src_maintenance_window: Option<String>,
    pub src_cluster_type: Option<String>,
}

impl SnapRec {
    pub fn id(&self) -> &str {
        self.snap.snapshot_identifier.as_deref().unwrap_or_default()
    }
    pub fn is_automated(&self) -> bool {
        self.snap.snapshot_type.as_deref() == Some("automated")
    }
    pub fn status(&self) -> &str {
        self.snap.status.as_deref().unwrap_or_default()
    }
}

/// A stored snapshot schedule.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ScheduleRec {
    pub id: String,
    pub definitions: Vec<String>,
    pub description: Option<String>,
    pub tags: Vec<Tag>,
}

pub fn internal(e: impl std::fmt::Display) -> CommonError {
    CommonError::Internal(e.to_string())
}

/// Reads one JSON record.
pub fn get<T: DeserializeOwned>(
    txn: &(impl Reads + ?Sized),
    table: &str,
    key: &[u8],
) -> Result<Option<T>, CommonError> {
    match txn.get(table, key).map_err(internal)? {
        Some(raw) => serde_json::from_slice(&raw).map(Some).map_err(internal),
        None => Ok(None),
    }
}

/// Writes one JSON record.
pub fn put<T: Serialize>(
    txn: &mut (impl WriteTxn + ?Sized),
    table: &str,
    key: &[u8],
    value: &T,
) -> Result<(), CommonError> {
    let raw = serde_json::to_vec(value).map_err(internal)?;
    txn.put(table, key, &raw).map_err(internal)
}

/// Every JSON record under `prefix`, in key order.
pub fn scan<T: DeserializeOwned>(
    txn: &(impl Reads + ?Sized),
    table: &str,
    prefix: &[u8],
) -> Result<Vec<T>, CommonError> {
    let mut out = Vec::new();
    for entry in txn.scan_prefix(table, prefix).map_err(internal)? {
        let (_, raw) = entry.map_err(internal)?;
        out.push(serde_json::from_slice(&raw).map_err(internal)?);
    }
    Ok(out)
}

/// Markers are opaque to clients: the last identifier returned, hex-encoded with a tag.
pub fn encode_marker(last_id: &str) -> String {
    let hex: String = last_id.bytes().map(|b| format!("{b:02x}")).collect();
    format!("tm1.{hex}")
}

/// Reads a marker made by [`encode_marker`]; anything else is `InvalidParameterValue`.
pub fn decode_marker(marker: &str) -> Result<String, CommonError> {
    let bad = || CommonError::InvalidParameterValue(format!("Invalid marker: {marker}"));
    let hex = marker.strip_prefix("tm1.").ok_or_else(bad)?;
    if hex.len() % 2 != 0 {
        return Err(bad());
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| bad())?;
    String::from_utf8(bytes).map_err(|_| bad())
}
