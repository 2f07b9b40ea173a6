//! PITR background work: the recurring `dynamodb.pitr.trim` job (one per enabled table)
//! folds log entries older than the recovery window into the base and, once the table is
//! gone (DeleteTable), makes its SYSTEM backup `<table>$DeletedTableBackup` from base + log
//! (reference §2.12) — deterministic, since a deleting table takes no writes. The
//! `dynamodb.backup.expire` job removes a SYSTEM backup 35 days later.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tidemark_jobs::{Engine, Job, JobContext, JobHandler, Outcome};
use tidemark_store::Store;

use super::create::BackupRef;
use super::error::{BkError, BkResult};
use super::pitr::{self, BASE_TABLE, LOG_TABLE, LogEntry, PitrState};
use super::{BackupRecord, Backups};
use crate::attr::item_size;
use crate::storage;
use crate::table;

pub const TRIM_KIND: &str = "dynamodb.pitr.trim";
pub const EXPIRE_KIND: &str = "dynamodb.backup.expire";
/// How often (virtual seconds) the trim job runs.
pub const TRIM_EVERY_SECS: i64 = 60;
/// How long (virtual seconds) after DeleteTable a PITR-enabled table's SYSTEM backup appears
/// (AWS: ~5–10 s).
pub const SYSTEM_BACKUP_DELAY_SECS: i64 = 5;
pub const SYSTEM_BACKUP_DAYS: i64 = 35;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TrimRef {
    table_id: String,
    /// The enablement this job serves; a job of an earlier enablement stops.
    enabled_ms: i64,
}

pub fn submit_trim(engine: &Engine, st: &PitrState) -> BkResult<()> {
    submit_trim_in(engine, st, TRIM_EVERY_SECS)
}

/// DeleteTable of a table with PITR: one more trim run [`SYSTEM_BACKUP_DELAY_SECS`] later,
/// which finds the table gone and makes its SYSTEM backup. (The periodic run, up to
/// [`TRIM_EVERY_SECS`] later, then finds no PITR state and stops.)
pub fn after_table_delete(engine: &Engine, store: &dyn Store, table_id: &str) -> BkResult<()> {
    let st = pitr::load_state(&*store.read()?, table_id)?;
    match st {
        Some(st) => submit_trim_in(engine, &st, SYSTEM_BACKUP_DELAY_SECS),
        None => Ok(()),
    }
}

fn submit_trim_in(engine: &Engine, st: &PitrState, secs: i64) -> BkResult<()> {
    let r = TrimRef {
        table_id: st.table_id.clone(),
        enabled_ms: st.enabled_ms,
    };
    let due = engine
        .now()
        .checked_add(jiff::SignedDuration::from_secs(secs))
        .map_err(BkError::internal)?;
    let payload = serde_json::to_value(&r).map_err(BkError::internal)?;
    engine
        .submit(TRIM_KIND, payload, Some(due))
        .map_err(BkError::internal)?;
    Ok(())
}

struct Trim {
    store: Arc<dyn Store>,
    backups: Arc<Backups>,
}

enum Next {
    Stop,
    Again,
}

impl Trim {
    fn run_once(&self, r: &TrimRef, now_ms: i64, engine: &Engine) -> BkResult<Next> {
        let mut txn = self.store.write()?;
        let Some(mut st) = pitr::load_state(&*txn, &r.table_id)? else {
            return Ok(Next::Stop);
        };
        if st.enabled_ms != r.enabled_ms {
            return Ok(Next::Stop);
        }
        let key = super::catalog_key_for(&st.account, &st.region, &st.source.name);
        let live = table::load_key(&*txn, &key)?.filter(|t| t.table_id == r.table_id);
        let Some(t) = live else {
            drop(txn);
            self.system_backup(&st, now_ms, engine)?;
            return Ok(Next::Stop);
        };
        st.source = t;
        pitr::save_state(&mut *txn, &st)?;
        // Fold entries before the window into the base.
        let cutoff = st.earliest_ms(now_ms);
        let prefix = storage::table_prefix(&r.table_id);
        let mut folded = Vec::new();
        for e in txn.scan_prefix(LOG_TABLE, &prefix)? {
            let (k, v) = e?;
            let entry: LogEntry = serde_json::from_slice(&v).map_err(BkError::internal)?;
            if entry.t >= cutoff {
                break;
            }
            folded.push((k, entry));
        }
        for (k, entry) in folded {
            match &entry.new {
                Some(item) => txn.put(BASE_TABLE, &entry.key, &storage::encode_item(item)?)?,
                None => {
                    txn.delete(BASE_TABLE, &entry.key)?;
                }
            }
            txn.delete(LOG_TABLE, &k)?;
        }
        txn.commit()?;
        Ok(Next::Again)
    }

    /// The deleted table's SYSTEM backup: its last state, stored like any backup.
    fn system_backup(&self, st: &PitrState, now_ms: i64, engine: &Engine) -> BkResult<()> {
        let snap = self.store.read()?;
        let items = pitr::items_at(&*snap, &st.table_id, i64::MAX)?;
        let name = st.source.name.clone();
        let backup_id = super::arn::new_backup_id(now_ms, true);
        let arn = format!("{}/backup/{backup_id}", st.source.arn);
        let r = BackupRef {
            account: st.account.clone(),
            region: st.region.clone(),
            table: name.clone(),
            backup_id: backup_id.clone(),
        };
        let parent = super::create::parent_manifest(&*snap, &r, &st.table_id, now_ms)?;
        drop(snap);
        let meta = serde_json::json!({"kind": "dynamodb-system-backup", "backup_arn": arn});
        let mut w =
            self.backups
                .vault()?
                .writer_with_parent(&st.account, parent.as_ref(), meta, None)?;
        let mut size = 0i64;
        for bytes in &items {
            size += item_size(&storage::decode_item(bytes)?) as i64;
            w.write_record(bytes)?;
        }
        let (manifest, _) = w.finish()?;
        let expiry_ms = now_ms + SYSTEM_BACKUP_DAYS * 86_400_000;
        let record = BackupRecord {
            arn,
            name: format!("{name}$DeletedTableBackup"),
            table_name: name,
            backup_id,
            backup_type: "SYSTEM".into(),
            status: "AVAILABLE".into(),
            created_ms: now_ms,
            expiry_ms: Some(expiry_ms),
            size_bytes: size,
            source: st.source.clone(),
            source_items: items.len() as i64,
            source_bytes: size,
            manifest: Some(manifest.to_string()),
            restoring: None,
        };
        let mut txn = self.store.write()?;
        super::save(&mut *txn, &r.key(), &record)?;
        pitr::discard(&mut *txn, &st.table_id)?;
        txn.commit()?;
        pitr::unregister_clock(&st.table_id);
        let due =
            tidemark_core::Timestamp::from_millisecond(expiry_ms).map_err(BkError::internal)?;
        let payload = serde_json::to_value(&r).map_err(BkError::internal)?;
        engine
            .submit(EXPIRE_KIND, payload, Some(due))
            .map_err(BkError::internal)?;
        Ok(())
    }
}

impl JobHandler for Trim {
    fn run(&self, job: &Job, ctx: &JobContext<'_>) -> Outcome {
        let r: TrimRef = match serde_json::from_value(job.payload.clone()) {
            Ok(r) => r,
            Err(e) => return Outcome::Failed(format!("bad payload: {e}")),
        };
        let now = ctx.now();
        match self.run_once(&r, now.as_millisecond(), ctx.engine()) {
            Ok(Next::Stop) => Outcome::Done,
            Ok(Next::Again) => {
                match now.checked_add(jiff::SignedDuration::from_secs(TRIM_EVERY_SECS)) {
                    Ok(t) => Outcome::Reschedule(t),
                    Err(e) => Outcome::Failed(e.to_string()),
                }
            }
            Err(e) => Outcome::Failed(format!("PITR trim of {} failed: {e}", r.table_id)),
        }
    }
}

struct Expire {
    store: Arc<dyn Store>,
    backups: Arc<Backups>,
}

impl JobHandler for Expire {
    fn run(&self, job: &Job, _ctx: &JobContext<'_>) -> Outcome {
        let r: BackupRef = match serde_json::from_value(job.payload.clone()) {
            Ok(r) => r,
            Err(e) => return Outcome::Failed(format!("bad payload: {e}")),
        };
        let result = (|| -> BkResult<Option<String>> {
            let mut txn = self.store.write()?;
            let Some(b) = super::load(&*txn, &r.key())? else {
                return Ok(None);
            };
            txn.delete(super::BACKUPS_TABLE, &r.key())?;
            txn.commit()?;
            Ok(b.manifest)
        })();
        match result {
            Ok(manifest) => {
                if let (Some(id), Ok(vault)) =
                    (manifest.and_then(|m| m.parse().ok()), self.backups.vault())
                {
                    // Only an unreferenced manifest remains if this fails; gc reclaims it.
                    let _ = vault.delete(&r.account, &id);
                }
                Outcome::Done
            }
            Err(e) => Outcome::Failed(e.to_string()),
        }
    }
}

/// Registers the PITR jobs and the clock of every table that has PITR on (after a restart).
pub fn register(engine: &Engine, store: Arc<dyn Store>, backups: Arc<Backups>) {
    if let Ok(txn) = store.read()
        && let Ok(entries) = txn.scan_prefix(pitr::SETTINGS_TABLE, &[])
    {
        for (_, v) in entries.flatten() {
            if let Ok(st) = serde_json::from_slice::<PitrState>(&v) {
                pitr::register_clock(&st.table_id, engine.clock());
            }
        }
    }
    engine.register(
        TRIM_KIND,
        Arc::new(Trim {
            store: store.clone(),
            backups: backups.clone(),
        }),
    );
    engine.register(EXPIRE_KIND, Arc::new(Expire { store, backups }));
}
