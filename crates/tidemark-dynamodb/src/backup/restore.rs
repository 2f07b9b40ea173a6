//! RestoreTableFromBackup (reference §2.10) and the `dynamodb.backup.restore` job shared
//! with RestoreTableToPointInTime: the target is created CREATING in the request; the job
//! writes the items through `storage::apply_write` (so indexes and counters are rebuilt
//! exactly), then makes the table ACTIVE and releases the source backup.
//!
//! In-progress restores are recorded in `dynamodb.restores` (key: account ‖ region ‖ target
//! name) for TableInUseException and the 50-concurrent-restores limit. Restart policy:
//! Resume — the job drops whatever the target already holds and starts over.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tidemark_core::RequestContext;
use tidemark_jobs::{Engine, Job, JobContext, JobHandler, Outcome};
use tidemark_model::dynamodb as m;
use tidemark_store::{Reads, Store, WriteTxn};

use super::create::BackupRef;
use super::error::{BkError, BkResult};
use super::overrides::{Overrides, target_record};
use super::{Backups, describe};
use crate::catalog::{self, TABLES_TABLE};
use crate::jobs::TableRef;
use crate::service::DynamoDbService;
use crate::storage;
use crate::table::{self, Status, TableRecord};

pub const RESTORE_KIND: &str = "dynamodb.backup.restore";
pub const RESTORES_TABLE: &str = "dynamodb.restores";
/// Concurrent restores per account (§2.10, §2.13).
pub const MAX_CONCURRENT_RESTORES: usize = 50;

/// Where a restore's items come from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Source {
    Backup(BackupRef),
    /// The PITR state of a source incarnation at `at_ms` (see `pitr.rs`).
    PointInTime {
        table_id: String,
        at_ms: i64,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RestoreJob {
    target: TableRef,
    source: Source,
    /// The ARN a TableInUseException names.
    source_arn: String,
}

/// The target name must be free: TableInUseException while another restore is creating
/// it, TableAlreadyExistsException for any other table (also one in DELETING).
pub(super) fn check_target(txn: &dyn Reads, ctx: &RequestContext, name: &str) -> BkResult<()> {
    if table::load(txn, ctx, name)?.is_none() {
        return Ok(());
    }
    if let Some(v) = txn.get(RESTORES_TABLE, &catalog::key(ctx, name))? {
        let job: RestoreJob = serde_json::from_slice(&v).map_err(BkError::internal)?;
        return Err(BkError::TableInUse(format!(
            "Table: {name} is already being restored from backup: {}",
            job.source_arn
        )));
    }
    Err(BkError::TableAlreadyExists(format!(
        "Table already exists: {name}"
    )))
}

/// Checks the target name and the concurrency limit, creates the CREATING target and
/// records the restore. Returns the description with its RestoreSummary.
pub(super) fn begin(
    ctx: &RequestContext,
    txn: &mut dyn WriteTxn,
    record: &TableRecord,
    source: Source,
    summary: m::RestoreSummary,
) -> BkResult<m::TableDescription> {
    let key = catalog::key(ctx, &record.name);
    check_target(txn, ctx, &record.name)?;
    let running = txn
        .scan_prefix(RESTORES_TABLE, &catalog::scope(ctx))?
        .count();
    if running >= MAX_CONCURRENT_RESTORES {
        return Err(BkError::LimitExceeded(format!(
            "Only {MAX_CONCURRENT_RESTORES} restore operations can be in progress at a time for an account"
        )));
    }
    let job = RestoreJob {
        target: TableRef::new(ctx, &record.name, &record.table_id),
        source,
        source_arn: summary
            .source_backup_arn
            .clone()
            .or_else(|| summary.source_table_arn.clone())
            .unwrap_or_default(),
    };
    let bytes = serde_json::to_vec(&job).map_err(BkError::internal)?;
    txn.put(RESTORES_TABLE, &key, &bytes)?;
    table::save(txn, ctx, record)?;
    let mut d = crate::describe::describe(txn, record)?;
    d.restore_summary = Some(summary);
    Ok(d)
}

pub(super) fn submit(s: &DynamoDbService, ctx: &RequestContext, target: &str) -> BkResult<()> {
    let payload = serde_json::json!({
        "account": ctx.account.as_str(),
        "region": ctx.region,
        "name": target,
    });
    s.engine
        .submit(RESTORE_KIND, payload, None)
        .map_err(BkError::internal)?;
    Ok(())
}

pub fn restore_table_from_backup(
    s: &DynamoDbService,
    ctx: &RequestContext,
    input: m::RestoreTableFromBackupInput,
) -> BkResult<m::RestoreTableFromBackupOutput> {
    let target = input.target_table_name.clone().unwrap_or_default();
    let arn = input.backup_arn.clone().unwrap_or_default();
    let now_ms = s.engine.now().as_millisecond();
    let mut txn = s.store.write()?;
    let (bkey, mut b) = describe::require(&*txn, ctx, &arn)?;
    let record = target_record(
        ctx,
        &b.source,
        &target,
        now_ms,
        &Overrides {
            billing_mode: input.billing_mode_override.as_deref(),
            gsis: input.global_secondary_index_override.as_ref(),
            lsis: input.local_secondary_index_override.as_ref(),
            throughput: input.provisioned_throughput_override.as_ref(),
            on_demand: input.on_demand_throughput_override.as_ref(),
            sse: input.sse_specification_override.as_ref(),
        },
    )?;
    // Target checks come before the backup-in-use check (§2.10 error table order). A
    // backup still CREATING is refused the same way (the reference's conservative choice).
    check_target(&*txn, ctx, &target)?;
    if b.restoring.is_some() || b.status != "AVAILABLE" {
        return Err(BkError::BackupInUse(format!(
            "Backup is being used to restore another table: {}",
            b.arn
        )));
    }
    let summary = m::RestoreSummary {
        source_backup_arn: Some(b.arn.clone()),
        source_table_arn: Some(b.source.arn.clone()),
        restore_date_time: Some(crate::describe::timestamp(b.created_ms)?),
        restore_in_progress: Some(true),
    };
    let r = BackupRef {
        account: ctx.account.as_str().to_string(),
        region: ctx.region.clone(),
        table: b.table_name.clone(),
        backup_id: b.backup_id.clone(),
    };
    let d = begin(ctx, &mut *txn, &record, Source::Backup(r), summary)?;
    b.restoring = Some(target.clone());
    super::save(&mut *txn, &bkey, &b)?;
    txn.commit()?;
    submit(s, ctx, &target)?;
    Ok(m::RestoreTableFromBackupOutput {
        table_description: Some(d),
    })
}

struct Restorer {
    store: Arc<dyn Store>,
    backups: Arc<Backups>,
}

impl Restorer {
    /// The items to restore, as stored item JSON.
    fn items(&self, job: &RestoreJob) -> BkResult<Vec<Vec<u8>>> {
        match &job.source {
            Source::Backup(r) => {
                let b = super::load(&*self.store.read()?, &r.key())?
                    .ok_or_else(|| BkError::internal("the source backup disappeared"))?;
                let id = b
                    .manifest
                    .as_deref()
                    .ok_or_else(|| BkError::internal("the source backup holds no data"))?
                    .parse()
                    .map_err(|_| BkError::internal("bad manifest id"))?;
                // The reader verifies every chunk's hash and the manifest's.
                let mut out = Vec::new();
                for rec in self.backups.vault()?.reader(&r.account, &id)? {
                    out.push(rec?);
                }
                Ok(out)
            }
            Source::PointInTime { table_id, at_ms } => {
                super::pitr::items_at(&*self.store.read()?, table_id, *at_ms)
            }
        }
    }

    /// Fills the target and makes it ACTIVE; `Ok(false)` when there is nothing to do.
    fn run(&self, account: &str, region: &str, name: &str) -> BkResult<bool> {
        let key = &super::catalog_key_for(account, region, name);
        let Some(v) = self.store.read()?.get(RESTORES_TABLE, key)? else {
            return Ok(false);
        };
        let job: RestoreJob = serde_json::from_slice(&v).map_err(BkError::internal)?;
        let result = self
            .items(&job)
            .and_then(|items| self.fill(key, &job, &items));
        if let Err(e) = result {
            self.abandon(key, &job)?;
            return Err(e);
        }
        Ok(true)
    }

    fn fill(&self, key: &[u8], job: &RestoreJob, items: &[Vec<u8>]) -> BkResult<()> {
        let mut txn = self.store.write()?;
        let Some(mut t) = table::load_key(&*txn, key)? else {
            return Err(BkError::internal("the restore target disappeared"));
        };
        if t.table_id != job.target.table_id || t.status != Status::Creating {
            return Err(BkError::internal("the restore target was replaced"));
        }
        storage::drop_table_data(&mut *txn, &t.table_id)?;
        for bytes in items {
            let item = storage::decode_item(bytes)?;
            let k = storage::item_key(&t, &item)?;
            storage::apply_write(&mut *txn, &t, &k, None, Some(&item))?;
        }
        t.status = Status::Active;
        table::save_key(&mut *txn, key, &t)?;
        release(&mut *txn, key, job)?;
        txn.commit()?;
        Ok(())
    }

    /// A failed restore removes its target (it must not stay CREATING) and frees the backup.
    fn abandon(&self, key: &[u8], job: &RestoreJob) -> BkResult<()> {
        let mut txn = self.store.write()?;
        if let Some(t) = table::load_key(&*txn, key)?
            && t.table_id == job.target.table_id
        {
            storage::drop_table_data(&mut *txn, &t.table_id)?;
            txn.delete(TABLES_TABLE, key)?;
        }
        release(&mut *txn, key, job)?;
        txn.commit()?;
        Ok(())
    }
}

/// Forgets the in-progress marker and the backup's `restoring` mark.
fn release(txn: &mut dyn WriteTxn, key: &[u8], job: &RestoreJob) -> BkResult<()> {
    txn.delete(RESTORES_TABLE, key)?;
    if let Source::Backup(r) = &job.source
        && let Some(mut b) = super::load(txn, &r.key())?
    {
        b.restoring = None;
        super::save(txn, &r.key(), &b)?;
    }
    Ok(())
}

impl JobHandler for Restorer {
    fn run(&self, job: &Job, _ctx: &JobContext<'_>) -> Outcome {
        let field = |f: &str| job.payload[f].as_str().unwrap_or_default().to_string();
        match Restorer::run(self, &field("account"), &field("region"), &field("name")) {
            Ok(_) => Outcome::Done,
            Err(e) => Outcome::Failed(format!("restore of {} failed: {e}", field("name"))),
        }
    }
}

pub fn register(engine: &Engine, store: Arc<dyn Store>, backups: Arc<Backups>) {
    engine.register(RESTORE_KIND, Arc::new(Restorer { store, backups }));
}
