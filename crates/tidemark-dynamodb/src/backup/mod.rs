//! On-demand backups, restores and point-in-time recovery (reference §2).
//!
//! Design:
//! * A backup is a catalog record in `dynamodb.backups` (key: account ‖ region ‖ table name
//!   ‖ backup id, so backups belong to the table *name* and survive DeleteTable) plus, once
//!   AVAILABLE, a vault manifest holding one record per item (the stored item JSON).
//! * CreateBackup takes an MVCC snapshot (`store.read()`) at the request — the time marker —
//!   and parks it in [`Backups::snapshots`] keyed by backup ARN; the `dynamodb.backup.create`
//!   job streams the table's items from that snapshot into the vault while writes go on,
//!   then marks the backup AVAILABLE with the real size. A snapshot lives only in this
//!   process: after a restart the job (resumed per the jobs crate's default restart policy)
//!   finds no snapshot and deletes the CREATING record, so a backup never stays CREATING.
//!   The same happens on any failure (AWS has no FAILED backup status).
//! * Restores (`restore.rs`) create the target table CREATING and a `dynamodb.backup.restore`
//!   job writes the items through `storage::apply_write` (indexes and counters stay exact),
//!   then makes it ACTIVE.
//! * PITR (`pitr.rs`, `pitr_jobs.rs`, `pitr_restore.rs`): see `pitr.rs`.

mod arn;
mod create;
mod describe;
mod error;
mod export;
mod list;
mod overrides;
pub(crate) mod pitr;
mod pitr_jobs;
mod pitr_restore;
mod restore;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tidemark_core::RequestContext;
use tidemark_jobs::Engine;
use tidemark_store::keys;
use tidemark_store::{ReadTxn, Reads, Store, WriteTxn};
use tidemark_vault::Vault;

pub use create::create_backup;
pub use describe::{delete_backup, describe_backup};
pub use error::{BkError, BkResult};
pub use list::list_backups;
pub use pitr::{
    LogImage, describe_continuous_backups, record_change, restore_table_to_point_in_time,
    update_continuous_backups,
};
pub use pitr_jobs::after_table_delete;
pub use restore::restore_table_from_backup;

use crate::catalog;
use crate::table::TableRecord;

/// Backup records: key = account ‖ region ‖ table name ‖ backup id; value = JSON.
pub const BACKUPS_TABLE: &str = "dynamodb.backups";

/// The documented CreateBackup rate limit per account and second (§2.4, §2.13).
pub const CREATE_BACKUP_PER_SECOND: usize = 50;

/// One backup as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupRecord {
    pub arn: String,
    pub name: String,
    pub table_name: String,
    pub backup_id: String,
    /// `USER` or `SYSTEM`.
    pub backup_type: String,
    /// `CREATING` or `AVAILABLE` (deleted backups are removed at once, §2.2).
    pub status: String,
    pub created_ms: i64,
    pub expiry_ms: Option<i64>,
    /// Sum of the item sizes (DynamoDB's item size rules), set when AVAILABLE.
    pub size_bytes: i64,
    /// The source incarnation as of the backup (schema, indexes, throughput, settings).
    pub source: TableRecord,
    pub source_items: i64,
    pub source_bytes: i64,
    /// Vault manifest id (hex) once the items are stored.
    pub manifest: Option<String>,
    /// The table a restore from this backup is still creating (BackupInUseException).
    pub restoring: Option<String>,
}

/// Process-local backup state shared by the handlers and jobs.
pub struct Backups {
    /// The vault; `None` until first use when the service was built without one (an
    /// in-memory vault is opened then, so services that never back up start no runtime).
    vault: Mutex<Option<Arc<Vault>>>,
    /// Snapshots taken by CreateBackup, waiting for their job (keyed by backup ARN).
    snapshots: Mutex<HashMap<String, Box<dyn ReadTxn>>>,
    /// Recent CreateBackup times (virtual ms) per account, for the 50/s limit.
    recent: Mutex<HashMap<String, VecDeque<i64>>>,
}

impl Backups {
    fn build(vault: Option<Arc<Vault>>) -> Arc<Backups> {
        Arc::new(Backups {
            vault: Mutex::new(vault),
            snapshots: Mutex::new(HashMap::new()),
            recent: Mutex::new(HashMap::new()),
        })
    }

    pub fn new(vault: Arc<Vault>) -> Arc<Backups> {
        Backups::build(Some(vault))
    }

    /// Backups into an in-memory vault opened on first use (`DynamoDbService::new`).
    pub fn in_memory() -> Arc<Backups> {
        Backups::build(None)
    }

    /// The vault (blocking API: call from jobs or blocking request threads only).
    pub fn vault(&self) -> BkResult<Arc<Vault>> {
        let mut v = self.vault.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(v) = &*v {
            return Ok(v.clone());
        }
        let backend = tidemark_vault::backend_from_url("memory://")?;
        let opened = Arc::new(Vault::open(
            backend,
            tidemark_vault::VaultOptions::default(),
        )?);
        *v = Some(opened.clone());
        Ok(opened)
    }

    fn park_snapshot(&self, arn: &str, snap: Box<dyn ReadTxn>) {
        let mut m = self.snapshots.lock().unwrap_or_else(|p| p.into_inner());
        m.insert(arn.to_string(), snap);
    }

    fn take_snapshot(&self, arn: &str) -> Option<Box<dyn ReadTxn>> {
        let mut m = self.snapshots.lock().unwrap_or_else(|p| p.into_inner());
        m.remove(arn)
    }

    /// Records one CreateBackup at `now_ms`; false when the account already made
    /// [`CREATE_BACKUP_PER_SECOND`] calls in the preceding second (virtual clock).
    fn admit_create(&self, account: &str, now_ms: i64) -> bool {
        let mut m = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        let q = m.entry(account.to_string()).or_default();
        while q.front().is_some_and(|t| *t <= now_ms - 1000) {
            q.pop_front();
        }
        if q.len() >= CREATE_BACKUP_PER_SECOND {
            return false;
        }
        q.push_back(now_ms);
        true
    }
}

/// Registers the backup job kinds.
pub fn register(engine: &Engine, store: Arc<dyn Store>, backups: Arc<Backups>) {
    create::register(engine, store.clone(), backups.clone());
    restore::register(engine, store.clone(), backups.clone());
    pitr_jobs::register(engine, store, backups);
}

/// Key of a backup record in the caller's scope.
pub fn backup_key(ctx: &RequestContext, table: &str, backup_id: &str) -> Vec<u8> {
    let mut k = catalog::key(ctx, table);
    keys::push_bytes(&mut k, backup_id.as_bytes());
    k
}

/// Key of a backup record from its owner (account, region) — for jobs.
pub fn backup_key_for(account: &str, region: &str, table: &str, backup_id: &str) -> Vec<u8> {
    let mut k = catalog_key_for(account, region, table);
    keys::push_bytes(&mut k, backup_id.as_bytes());
    k
}

/// `catalog::key` from the owner's account and region (jobs have no request context).
pub fn catalog_key_for(account: &str, region: &str, name: &str) -> Vec<u8> {
    let mut k = Vec::new();
    for part in [account, region, name] {
        keys::push_bytes(&mut k, part.as_bytes());
    }
    k
}

pub fn load(txn: &dyn Reads, key: &[u8]) -> BkResult<Option<BackupRecord>> {
    txn.get(BACKUPS_TABLE, key)?
        .map(|b| serde_json::from_slice(&b).map_err(BkError::internal))
        .transpose()
}

pub fn save(txn: &mut dyn WriteTxn, key: &[u8], b: &BackupRecord) -> BkResult<()> {
    let bytes = serde_json::to_vec(b).map_err(BkError::internal)?;
    txn.put(BACKUPS_TABLE, key, &bytes)?;
    Ok(())
}

/// Every backup record of the caller (all tables), in key order.
pub fn all(txn: &dyn Reads, ctx: &RequestContext) -> BkResult<Vec<BackupRecord>> {
    let mut out = Vec::new();
    for e in txn.scan_prefix(BACKUPS_TABLE, &catalog::scope(ctx))? {
        let (_, v) = e?;
        out.push(serde_json::from_slice(&v).map_err(BkError::internal)?);
    }
    Ok(out)
}
