//! Where Redshift records live in the store, their stored shapes, and how keys are built.
//! Every key starts with the owner's account and region ([`Scope`]), so one account can
//! never reach another's records except through the grant index ([`GRANTS_TABLE`]).
//! Snapshots also have an order index ([`SNAPSHOT_ORDER_TABLE`]) that [`put`] keeps in the
//! same transaction as the record, so DescribeClusterSnapshots pages are range scans.

use std::any::Any;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tidemark_core::RequestContext;
use tidemark_model::CommonError;
use tidemark_model::redshift::{Cluster, Snapshot, Tag};
use tidemark_store::{Reads, Store, WriteTxn, keys};

/// Clusters: key = scope ‖ cluster identifier (lower-case); value = JSON [`ClusterRec`].
pub const CLUSTERS_TABLE: &str = "redshift.clusters";
/// Snapshots: key = owner scope ‖ snapshot identifier (lower-case); value = JSON [`SnapRec`].
pub const SNAPSHOTS_TABLE: &str = "redshift.snapshots";
/// Sharing index: key = grantee scope ‖ owner account ‖ snapshot id; value = empty.
pub const GRANTS_TABLE: &str = "redshift.grants";
/// Snapshot order index: key = owner scope ‖ [`time_key`] of the create time ‖ snapshot id
/// (lower-case, as in [`SNAPSHOTS_TABLE`]); value = JSON [`SnapSummary`] (what listing
/// filters and sorts by). Invariant: every snapshot record has its entry, written by [`put`]
/// in the record's own transaction, so the summary always matches the record. An entry may outlive
/// its record (a delete that bypassed [`delete_snapshot`]); readers check each entry
/// against the record ([`order_entry_live`]) and drop such stale entries.
pub const SNAPSHOT_ORDER_TABLE: &str = "redshift.snapshot_order";
/// Catalog metadata: key = name; value = version. [`ORDER_INDEX_META`] records that the
/// order index was built over the snapshots written before it existed.
pub const META_TABLE: &str = "redshift.meta";
const ORDER_INDEX_META: &[u8] = b"snapshot_order";
const ORDER_INDEX_VERSION: &[u8] = b"1";
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

    /// The scope a record key ([`Scope::key`]) was made in.
    pub fn from_key(key: &[u8]) -> Option<Self> {
        let mut r = keys::KeyReader::new(key);
        let account = r.str().ok()?;
        let region = r.str().ok()?;
        Some(Self { account, region })
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

    /// The order-index key of snapshot `id` (lower-case) created at `created`.
    pub fn order_key(&self, created: Option<i64>, id: &str) -> Vec<u8> {
        let mut k = self.prefix();
        k.extend_from_slice(&time_key(created));
        keys::push_bytes(&mut k, id.as_bytes());
        k
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
    /// The master user's md5 password verifier (`md5…`, never the password); `None` when
    /// the password is managed elsewhere (ManageMasterPassword).
    #[serde(default)]
    pub master_md5: Option<String>,
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
    /// The source cluster's master password verifier: a restore keeps the master user's
    /// password, as the snapshot holds the database's users.
    #[serde(default)]
    pub src_master_md5: Option<String>,
    /// For an automated snapshot copied from another region: its copy retention in days
    /// (the source cluster's `ClusterSnapshotCopyStatus.RetentionPeriod`).
    #[serde(default)]
    pub copy_retention: Option<i32>,
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

/// The fields of a snapshot that DescribeClusterSnapshots filters and sorts by: the value of
/// its order-index entry, so a listing reads full records only for the snapshots it returns.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SnapSummary {
    pub kind: Option<String>,
    pub size: Option<f64>,
    pub cluster: Option<String>,
    pub owner_account: Option<String>,
    pub created: Option<tidemark_model::Timestamp>,
    pub tags: Vec<Tag>,
}

impl SnapSummary {
    pub fn of(rec: &SnapRec) -> Self {
        let s = &rec.snap;
        Self {
            kind: s.snapshot_type.clone(),
            size: s.total_backup_size_in_mega_bytes,
            cluster: s.cluster_identifier.clone(),
            owner_account: s.owner_account.clone(),
            created: s.snapshot_create_time,
            tags: s.tags.clone().unwrap_or_default(),
        }
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

/// Writes one JSON record. A snapshot record (`table` = [`SNAPSHOTS_TABLE`], `value` a
/// [`SnapRec`]) also gets its order-index entry in the same transaction; create times never
/// change after creation, so a rewrite replaces the same entry (with a fresh summary).
pub fn put<T: Serialize + Any>(
    txn: &mut (impl WriteTxn + ?Sized),
    table: &str,
    key: &[u8],
    value: &T,
) -> Result<(), CommonError> {
    if table == SNAPSHOTS_TABLE {
        let rec = (value as &dyn Any)
            .downcast_ref::<SnapRec>()
            .ok_or_else(|| internal("a snapshot record must be a SnapRec (the order index)"))?;
        let (scope, id) = split_key(key)?;
        let entry = scope.order_key(created_millis(rec), &id);
        let summary = serde_json::to_vec(&SnapSummary::of(rec)).map_err(internal)?;
        txn.put(SNAPSHOT_ORDER_TABLE, &entry, &summary)
            .map_err(internal)?;
    }
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
    encode_marker_bytes(last_id.as_bytes())
}

/// Reads a marker made by [`encode_marker`]; anything else is `InvalidParameterValue`.
pub fn decode_marker(marker: &str) -> Result<String, CommonError> {
    let bytes = decode_marker_bytes(marker)?;
    String::from_utf8(bytes).map_err(|_| bad_marker(marker))
}

/// `tm1.` and the hex of `payload`.
pub fn encode_marker_bytes(payload: &[u8]) -> String {
    let hex: String = payload.iter().map(|b| format!("{b:02x}")).collect();
    format!("tm1.{hex}")
}

/// The payload of a marker made by [`encode_marker_bytes`].
pub fn decode_marker_bytes(marker: &str) -> Result<Vec<u8>, CommonError> {
    let hex = marker
        .strip_prefix("tm1.")
        .ok_or_else(|| bad_marker(marker))?;
    if hex.len() % 2 != 0 {
        return Err(bad_marker(marker));
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| bad_marker(marker))
}

/// `InvalidParameterValue` for a marker this server did not make (or not for this call).
pub fn bad_marker(marker: &str) -> CommonError {
    CommonError::InvalidParameterValue(format!("Invalid marker: {marker}"))
}

/// The order-index encoding of a create time (epoch milliseconds, the stored precision):
/// `None` sorts first, then times in order.
pub fn time_key(created: Option<i64>) -> [u8; 16] {
    let mut out = [0u8; 16];
    if let Some(ms) = created {
        out[..8].copy_from_slice(&keys::encode_u64(1));
        out[8..].copy_from_slice(&keys::encode_i64(ms));
    }
    out
}

/// A snapshot's create time in epoch milliseconds (what its JSON record keeps).
pub fn created_millis(rec: &SnapRec) -> Option<i64> {
    rec.snap.snapshot_create_time.map(|t| t.as_millis())
}

/// `(owner scope, snapshot id)` of a [`SNAPSHOTS_TABLE`] key.
pub fn split_key(key: &[u8]) -> Result<(Scope, String), CommonError> {
    let mut r = keys::KeyReader::new(key);
    let (account, region, id) = (
        r.str().map_err(internal)?,
        r.str().map_err(internal)?,
        r.str().map_err(internal)?,
    );
    Ok((Scope { account, region }, id))
}

/// `(create time, snapshot id)` of an order-index key under `prefix` (its owner scope).
pub fn split_order_key(prefix: &[u8], key: &[u8]) -> Result<(Option<i64>, String), CommonError> {
    let mut r = keys::KeyReader::new(key.get(prefix.len()..).unwrap_or_default());
    let created = match r.u64().map_err(internal)? {
        0 => {
            r.i64().map_err(internal)?;
            None
        }
        _ => Some(r.i64().map_err(internal)?),
    };
    Ok((created, r.str().map_err(internal)?))
}

/// Whether order-index entry `(created, id)` of `owner` still describes a stored snapshot;
/// returns that snapshot when it does.
pub fn order_entry_live(
    txn: &(impl Reads + ?Sized),
    owner: &Scope,
    created: Option<i64>,
    id: &str,
) -> Result<Option<SnapRec>, CommonError> {
    Ok(get::<SnapRec>(txn, SNAPSHOTS_TABLE, &owner.key(id))?
        .filter(|rec| created_millis(rec) == created))
}

/// Deletes snapshot `rec` stored under `key` together with its order-index entry.
pub fn delete_snapshot(
    txn: &mut (impl WriteTxn + ?Sized),
    key: &[u8],
    rec: &SnapRec,
) -> Result<(), CommonError> {
    let (scope, id) = split_key(key)?;
    txn.delete(
        SNAPSHOT_ORDER_TABLE,
        &scope.order_key(created_millis(rec), &id),
    )
    .map_err(internal)?;
    txn.delete(SNAPSHOTS_TABLE, key).map_err(internal)?;
    Ok(())
}

/// Builds the order index over snapshots written before it existed (data directories of
/// older builds), once per store: a no-op once [`ORDER_INDEX_META`] is recorded. Runs in
/// one write transaction, so it sees every snapshot and later writes index themselves.
pub fn ensure_order_index(store: &dyn Store) -> Result<(), CommonError> {
    let built = |txn: &dyn Reads| -> Result<bool, CommonError> {
        Ok(txn
            .get(META_TABLE, ORDER_INDEX_META)
            .map_err(internal)?
            .as_deref()
            == Some(ORDER_INDEX_VERSION))
    };
    if built(&*store.read().map_err(internal)?)? {
        return Ok(());
    }
    let mut w = store.write().map_err(internal)?;
    if built(&*w)? {
        return Ok(());
    }
    let mut entries = Vec::new();
    for entry in w.scan_prefix(SNAPSHOTS_TABLE, &[]).map_err(internal)? {
        let (key, raw) = entry.map_err(internal)?;
        let rec: SnapRec = serde_json::from_slice(&raw).map_err(internal)?;
        let (scope, id) = split_key(&key)?;
        let summary = serde_json::to_vec(&SnapSummary::of(&rec)).map_err(internal)?;
        entries.push((scope.order_key(created_millis(&rec), &id), summary));
    }
    for (e, summary) in entries {
        w.put(SNAPSHOT_ORDER_TABLE, &e, &summary)
            .map_err(internal)?;
    }
    w.put(META_TABLE, ORDER_INDEX_META, ORDER_INDEX_VERSION)
        .map_err(internal)?;
    w.commit().map_err(internal)
}
