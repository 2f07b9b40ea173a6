//! CreateBackup (reference §2.4) and the `dynamodb.backup.create` job that copies the
//! request-time snapshot of the table's items into the vault.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tidemark_core::RequestContext;
use tidemark_jobs::{Engine, Job, JobContext, JobHandler, Outcome};
use tidemark_model::dynamodb as m;
use tidemark_store::{Reads, Store};

use super::arn;
use super::describe::details;
use super::error::{BkError, BkResult};
use super::{BackupRecord, Backups};
use crate::service::DynamoDbService;
use crate::storage;
use crate::table::{self, Status};

pub const CREATE_KIND: &str = "dynamodb.backup.create";

/// Which backup a job fills.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BackupRef {
    pub account: String,
    pub region: String,
    pub table: String,
    pub backup_id: String,
}

impl BackupRef {
    pub fn key(&self) -> Vec<u8> {
        super::backup_key_for(&self.account, &self.region, &self.table, &self.backup_id)
    }
}

pub fn create_backup(
    s: &DynamoDbService,
    ctx: &RequestContext,
    input: m::CreateBackupInput,
) -> BkResult<m::CreateBackupOutput> {
    let name = arn::table_name(ctx, input.table_name.as_deref().unwrap_or_default())?;
    // The time marker: everything committed before this snapshot is in the backup, nothing
    // committed after it is.
    let snap = s.store.read()?;
    let t = match table::load(&*snap, ctx, &name)? {
        Some(t) if t.status != Status::Creating => t,
        _ => return Err(BkError::table_not_found(&name)),
    };
    let now_ms = s.engine.now().as_millisecond();
    if !s.backups.admit_create(ctx.account.as_str(), now_ms) {
        return Err(BkError::LimitExceeded(format!(
            "Too many CreateBackup requests: at most {} per second per account",
            super::CREATE_BACKUP_PER_SECOND
        )));
    }
    let stats = storage::stats(&*snap, &t.table_id, None)?;
    let backup_id = arn::new_backup_id(now_ms, false);
    let record = BackupRecord {
        arn: arn::backup_arn(ctx, &name, &backup_id),
        name: input.backup_name.unwrap_or_default(),
        table_name: name.clone(),
        backup_id: backup_id.clone(),
        backup_type: "USER".into(),
        status: "CREATING".into(),
        created_ms: now_ms,
        expiry_ms: None,
        // The real size at the marker (reference §2.3 item 6, [E] default), known now.
        size_bytes: stats.bytes,
        source: t,
        source_items: stats.items,
        source_bytes: stats.bytes,
        manifest: None,
        restoring: None,
    };
    let r = BackupRef {
        account: ctx.account.as_str().to_string(),
        region: ctx.region.clone(),
        table: name,
        backup_id,
    };
    let mut txn = s.store.write()?;
    super::save(&mut *txn, &r.key(), &record)?;
    txn.commit()?;
    s.backups.park_snapshot(&record.arn, snap);
    let payload = serde_json::to_value(&r).map_err(BkError::internal)?;
    if let Err(e) = s.engine.submit(CREATE_KIND, payload, None) {
        s.backups.take_snapshot(&record.arn);
        discard(&*s.store, &r)?;
        return Err(BkError::internal(e));
    }
    Ok(m::CreateBackupOutput {
        backup_details: Some(details(&record)?),
    })
}

/// Removes a backup that could not be completed (never leave it CREATING).
fn discard(store: &dyn Store, r: &BackupRef) -> BkResult<()> {
    let mut txn = store.write()?;
    txn.delete(super::BACKUPS_TABLE, &r.key())?;
    txn.commit()?;
    Ok(())
}

/// The vault manifest a new backup of `table_id` is stored against: the latest AVAILABLE
/// backup (USER or SYSTEM) of the same table incarnation under `table`'s name, taken at or
/// before `before_ms`. Items unchanged since that backup are then not stored again (record
/// by record: vault-format.md, parent-delta stores); the new backup does not depend on it
/// afterwards, so deleting the parent later is fine.
pub(super) fn parent_manifest(
    txn: &dyn Reads,
    r: &BackupRef,
    table_id: &str,
    before_ms: i64,
) -> BkResult<Option<tidemark_vault::ManifestId>> {
    let prefix = super::catalog_key_for(&r.account, &r.region, &r.table);
    let mut best: Option<(i64, String)> = None;
    for e in txn.scan_prefix(super::BACKUPS_TABLE, &prefix)? {
        let (_, v) = e?;
        let b: BackupRecord = serde_json::from_slice(&v).map_err(BkError::internal)?;
        let Some(manifest) = b.manifest else { continue };
        if b.status != "AVAILABLE" || b.source.table_id != table_id || b.created_ms > before_ms {
            continue;
        }
        if best.as_ref().is_none_or(|(t, _)| b.created_ms >= *t) {
            best = Some((b.created_ms, manifest));
        }
    }
    // An unparsable id just means no parent: the store is then a full one.
    Ok(best.and_then(|(_, m)| m.parse().ok()))
}

/// Streams the snapshot's items into the vault; returns the manifest id.
///
/// Records are the stored item JSON, copied verbatim without decoding: the backup's size is
/// the snapshot's item-bytes counter (`source_bytes`, DynamoDB item sizes), which every
/// write maintains in the same transaction as the item, so it is exact for this snapshot.
fn copy_items(
    backups: &Backups,
    snap: &dyn Reads,
    b: &BackupRecord,
    account: &str,
    parent: Option<&tidemark_vault::ManifestId>,
) -> BkResult<String> {
    let meta = serde_json::json!({
        "kind": "dynamodb-backup",
        "backup_arn": b.arn,
        "table_id": b.source.table_id,
    });
    let mut w = backups.vault()?.writer_with_parent(
        account,
        parent,
        meta,
        Some(b.source_bytes.max(0) as u64),
    )?;
    let prefix = storage::table_prefix(&b.source.table_id);
    let mut items = 0i64;
    for e in snap.scan_prefix(storage::ITEMS_TABLE, &prefix)? {
        let (_, v) = e?;
        w.write_record(&v)?;
        items += 1;
    }
    // The counters and the items come from the same snapshot: a mismatch is a bug in the
    // counters, and the backup would then report a wrong size.
    if items != b.source_items {
        return Err(BkError::internal(format!(
            "the snapshot holds {items} items but its counter says {}",
            b.source_items
        )));
    }
    let (id, _) = w.finish()?;
    Ok(id.to_string())
}

struct CreateJob {
    store: Arc<dyn Store>,
    backups: Arc<Backups>,
}

impl CreateJob {
    fn fill(&self, r: &BackupRef) -> BkResult<()> {
        let Some(b) = super::load(&*self.store.read()?, &r.key())? else {
            return Ok(());
        };
        if b.status != "CREATING" {
            return Ok(());
        }
        let Some(snap) = self.backups.take_snapshot(&b.arn) else {
            return Err(BkError::internal(
                "the backup's snapshot is gone (the server restarted before the copy ran)",
            ));
        };
        let parent = parent_manifest(&*self.store.read()?, r, &b.source.table_id, b.created_ms)?;
        let manifest = copy_items(&self.backups, &*snap, &b, &r.account, parent.as_ref())?;
        drop(snap);
        let mut txn = self.store.write()?;
        let Some(mut b) = super::load(&*txn, &r.key())? else {
            return Ok(());
        };
        b.status = "AVAILABLE".into();
        b.size_bytes = b.source_bytes;
        b.manifest = Some(manifest);
        super::save(&mut *txn, &r.key(), &b)?;
        txn.commit()?;
        Ok(())
    }
}

impl JobHandler for CreateJob {
    fn run(&self, job: &Job, _ctx: &JobContext<'_>) -> Outcome {
        let r: BackupRef = match serde_json::from_value(job.payload.clone()) {
            Ok(r) => r,
            Err(e) => return Outcome::Failed(format!("bad payload: {e}")),
        };
        match self.fill(&r) {
            Ok(()) => Outcome::Done,
            Err(e) => {
                // No FAILED status exists: the backup disappears rather than stay CREATING.
                let cleanup = discard(&*self.store, &r)
                    .err()
                    .map(|c| format!("; removing the record failed too: {c}"))
                    .unwrap_or_default();
                Outcome::Failed(format!("backup {} failed: {e}{cleanup}", r.backup_id))
            }
        }
    }
    // Default restart policy (Resume): the resumed run finds no snapshot and discards the
    // backup, which is the honest outcome of a copy interrupted by a restart.
}

pub fn register(engine: &Engine, store: Arc<dyn Store>, backups: Arc<Backups>) {
    engine.register(CREATE_KIND, Arc::new(CreateJob { store, backups }));
}
