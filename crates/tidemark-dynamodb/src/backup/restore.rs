//! RestoreTableFromBackup (reference §2.10) and the `dynamodb.backup.restore` job shared
//! with RestoreTableToPointInTime: the target is created CREATING in the request; the job
//! streams the items back in bounded batches, one store transaction each, then makes the
//! table ACTIVE and releases the source backup.
//!
//! The records are the stored item JSON `storage::apply_write` wrote in the source, so they
//! go into the fresh target verbatim (no decode/encode, no per-item counter update, no
//! change log: a restored table starts with PITR off). Only what the target needs beyond
//! them is computed: each item's key; its entries in the target's indexes (after the
//! overrides) and its size, when the target has indexes or the source has no counters.
//! The counters are written once, with the last batch. The result is byte for byte what
//! writing the items through `apply_write` would store (tested below).
//!
//! In-progress restores are recorded in `dynamodb.restores` (key: account ‖ region ‖ target
//! name) for TableInUseException and the 50-concurrent-restores limit. Restart policy:
//! Resume — the job drops whatever the target already holds and starts over.

use std::ops::Bound;
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
    let record = TableRecord {
        restore: Some(crate::table::RestoreInfo {
            source_backup_arn: summary.source_backup_arn,
            source_table_arn: summary.source_table_arn,
            restore_ms: summary
                .restore_date_time
                .map_or(0, |t| t.0.as_millisecond()),
        }),
        ..record.clone()
    };
    table::save(txn, ctx, &record)?;
    Ok(crate::describe::describe(txn, &record)?)
}

/// A fresh table id (a version-4 UUID, as CreateTable's) that sorts after every table id
/// holding items or index entries, so the restore's keys, which it writes in key order,
/// are the last in the store's trees. redb appends such keys to packed pages; keys landing
/// between other tables' keys split pages in half instead, leaving the restored table in
/// twice the pages (measured on the store: 100k sorted 300-byte values put in front of
/// another table's keys took ~1.3× the time and twice the file of the same put at the end).
/// The id is the largest stored id plus a random step below 2^64, out of 2^122 ids; when
/// no larger id is left (or the largest id is not a v4 UUID), a random one.
/// `snapshot` is a read snapshot (whose ranges read lazily); one taken just before the
/// request's write transaction serves, as the id only steers placement.
pub(super) fn appending_table_id(snapshot: &dyn Reads) -> BkResult<String> {
    let random = tidemark_core::ids::uuid_request_id();
    let mut largest: Option<Vec<u8>> = None;
    for t in [storage::ITEMS_TABLE, storage::INDEX_TABLE] {
        let last = snapshot
            .range(t, Bound::Unbounded, Bound::Unbounded, true)?
            .next()
            .transpose()?;
        if let Some((k, _)) = last {
            // A key starts with the escaped table id and its `0 0` terminator; ids hold no 0.
            let id = k.split(|&b| b == 0).next().unwrap_or_default().to_vec();
            if largest.as_ref().is_none_or(|l| &id > l) {
                largest = Some(id);
            }
        }
    }
    let Some(largest) = largest else {
        return Ok(random);
    };
    let next = std::str::from_utf8(&largest)
        .ok()
        .and_then(uuid_v4_payload)
        .zip(uuid_v4_payload(&random))
        .and_then(|(top, r)| top.checked_add(1 + (r & u64::MAX as u128)))
        .filter(|p| *p < 1 << 122)
        .map(uuid_v4_text);
    Ok(next.unwrap_or(random))
}

/// The 122 free bits of a hyphenated lowercase version-4 UUID, or `None` if `s` is not one.
/// The other 6 bits are fixed, so payload order is the texts' byte order.
fn uuid_v4_payload(s: &str) -> Option<u128> {
    let dashes = [8, 13, 18, 23];
    let well_formed = s.len() == 36
        && s.char_indices().all(|(i, c)| {
            if dashes.contains(&i) {
                c == '-'
            } else {
                matches!(c, '0'..='9' | 'a'..='f')
            }
        });
    if !well_formed {
        return None;
    }
    let x = u128::from_str_radix(&s.replace('-', ""), 16).ok()?;
    if (x >> 76) & 0xF != 4 || (x >> 62) & 0b11 != 0b10 {
        return None;
    }
    Some((x >> 80) << 74 | ((x >> 64) & 0xFFF) << 62 | (x & ((1 << 62) - 1)))
}

/// The version-4 UUID text with the free bits `p` (< 2^122).
fn uuid_v4_text(p: u128) -> String {
    let x =
        (p >> 74) << 80 | 4 << 76 | ((p >> 62) & 0xFFF) << 64 | 0b10 << 62 | (p & ((1 << 62) - 1));
    let h = format!("{x:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
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
    let mut record = target_record(
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
    record.table_id = appending_table_id(&*s.store.read()?)?;
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

/// A restore writes its items in transactions of about this many record bytes (or
/// [`BATCH_ITEMS`] items, whichever comes first). Bounded batches keep the restore's memory
/// independent of the table's size and let other writers in between (the store has a
/// single writer); the target is CREATING, so the item APIs never see a partial table.
/// Large enough that a file store's fsync per commit is a small share of the time (~20
/// commits per 100k items of ~200 bytes), small enough that the few batches in flight
/// stay in the allocator's reuse.
const BATCH_BYTES: usize = 2 << 20;
/// The item bound of a batch (tiny items: the per-item entries dominate then).
const BATCH_ITEMS: usize = 16_384;

/// Batches a restore may have in flight between its reader and its writer.
const BATCHES_IN_FLIGHT: usize = 2;

/// The records a restore reads: stored item JSON, one at a time.
type ItemStream = Box<dyn Iterator<Item = BkResult<Vec<u8>>> + Send>;

/// What the reader prepares for each record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prep {
    /// Only the item's storage key, parsed from its key attributes: the target maintains no
    /// index and the source's counters give the table's item count and size.
    KeyOnly,
    /// Decode the item: its key, its size and its entries in the target's indexes.
    Full,
}

/// One batch, ready to write: stored item JSON under its key in the target, verbatim (it is
/// what `storage::apply_write` wrote in the source), and the target's index entries.
#[derive(Default)]
struct Batch {
    items: Vec<(Vec<u8>, Vec<u8>)>,
    index: Vec<storage::IndexEntry>,
    /// Item bytes (DynamoDB item sizes) of `items`; [`Prep::Full`] only.
    item_bytes: i64,
    /// The stream ended with this batch (it may be empty).
    last: bool,
}

impl Restorer {
    /// The items to restore, streamed from the vault (the reader verifies every chunk's
    /// hash and the manifest's) or, for PITR, from the change log; with the source's
    /// counters (item count and bytes) when it has them.
    fn items(&self, job: &RestoreJob) -> BkResult<(ItemStream, Option<storage::Stats>)> {
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
                let reader = self.backups.vault()?.reader(&r.account, &id)?;
                // Every producer of a backup (CreateBackup's snapshot, the PITR SYSTEM
                // backup, ImportBackup) records the exact count and size of its records.
                let counts = storage::Stats {
                    items: b.source_items,
                    bytes: b.source_bytes,
                };
                Ok((
                    Box::new(reader.map(|rec| rec.map_err(BkError::from))),
                    Some(counts),
                ))
            }
            Source::PointInTime { table_id, at_ms } => {
                let items = super::pitr::items_at_stream(self.store.read()?, table_id, *at_ms)?;
                Ok((Box::new(items), None))
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
        // In memory, a periodic durable commit falling inside the restore would stall it
        // (~25 ms at 100k items); held off, it lands on a later commit.
        let result = self.items(&job).and_then(|(items, counts)| {
            tidemark_store::hold_durable_commits(|| self.fill(key, &job, items, counts))
        });
        if let Err(e) = result {
            self.abandon(key, &job)?;
            return Err(e);
        }
        Ok(true)
    }

    /// The restore target, still CREATING and still this job's incarnation.
    fn target(txn: &dyn Reads, key: &[u8], job: &RestoreJob) -> BkResult<TableRecord> {
        let Some(t) = table::load_key(txn, key)? else {
            return Err(BkError::internal("the restore target disappeared"));
        };
        if t.table_id != job.target.table_id || t.status != Status::Creating {
            return Err(BkError::internal("the restore target was replaced"));
        }
        Ok(t)
    }

    /// Writes the items in bounded batches, one transaction each; the first also drops
    /// whatever the target holds (a resumed job starts over), the last sets the counters,
    /// makes the target ACTIVE and releases the backup. A reader thread fetches, verifies
    /// and prepares the next batches (at most [`BATCHES_IN_FLIGHT`] wait) while this one
    /// writes. The items go in verbatim: no decode/encode round trip, no per-item counter
    /// update, and no change log (a restored table starts with PITR off).
    fn fill(
        &self,
        key: &[u8],
        job: &RestoreJob,
        items: ItemStream,
        counts: Option<storage::Stats>,
    ) -> BkResult<()> {
        let t = Self::target(&*self.store.read()?, key, job)?;
        let prep = match counts {
            Some(_) if storage::maintained_indexes(&t).next().is_none() => Prep::KeyOnly,
            _ => Prep::Full,
        };
        let (tx, rx) = std::sync::mpsc::sync_channel::<BkResult<Batch>>(BATCHES_IN_FLIGHT);
        std::thread::scope(|scope| {
            let reader_table = &t;
            std::thread::Builder::new()
                .name("tidemark-restore-read".into())
                .spawn_scoped(scope, move || read_batches(items, reader_table, prep, &tx))
                .map_err(BkError::internal)?;
            // An early return drops the receiver, which stops the reader at its next send.
            let mut written = storage::Stats::default();
            let mut index_counts = vec![storage::Stats::default(); t.lsis.len() + t.gsis.len()];
            let mut first = true;
            for batch in rx {
                let batch = batch?;
                let mut txn = self.store.write()?;
                let mut target = Self::target(&*txn, key, job)?;
                if std::mem::take(&mut first) {
                    storage::drop_table_data(&mut *txn, &target.table_id)?;
                }
                txn.put_many(
                    storage::ITEMS_TABLE,
                    &mut batch.items.iter().map(|(k, v)| (&k[..], &v[..])),
                )?;
                txn.put_many(
                    storage::INDEX_TABLE,
                    &mut batch.index.iter().map(|e| (&e.key[..], &e.value[..])),
                )?;
                for e in &batch.index {
                    let c = &mut index_counts[e.index];
                    c.items += 1;
                    c.bytes += e.bytes;
                }
                written.items += batch.items.len() as i64;
                written.bytes += batch.item_bytes;
                if batch.last {
                    if let Some(c) = counts
                        && c.items != written.items
                    {
                        return Err(BkError::internal(format!(
                            "the backup holds {} items but its record says {}",
                            written.items, c.items
                        )));
                    }
                    let table_counts = match counts {
                        Some(c) if prep == Prep::KeyOnly => c,
                        _ => written,
                    };
                    let id = &target.table_id;
                    storage::add_counts(
                        &mut *txn,
                        id,
                        None,
                        table_counts.items,
                        table_counts.bytes,
                    )?;
                    for (i, index) in storage::maintained_indexes(&t) {
                        let c = index_counts[i];
                        storage::add_counts(&mut *txn, id, Some(&index.name), c.items, c.bytes)?;
                    }
                    target.status = Status::Active;
                    target.restore = None;
                    table::save_key(&mut *txn, key, &target)?;
                    release(&mut *txn, key, job)?;
                    txn.commit()?;
                    return Ok(());
                }
                // Visible at once, durable with the last batch's commit (a durable commit
                // covers every earlier one): a restore that stops before that commit starts
                // over from an emptied table anyway, so waiting for an fsync per batch
                // would protect nothing.
                let (committed, _not_awaited) = tidemark_store::defer_durability(|| txn.commit());
                committed?;
            }
            Err(BkError::internal("the restore's reader stopped early"))
        })
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

/// The restore's reader: batches of at most [`BATCH_ITEMS`] items or about [`BATCH_BYTES`]
/// record bytes, prepared for the target `t` as `prep` says, sent until the stream ends
/// (that batch marked `last`), an error (sent, then stop) or the writer hangs up.
fn read_batches(
    items: ItemStream,
    t: &TableRecord,
    prep: Prep,
    tx: &std::sync::mpsc::SyncSender<BkResult<Batch>>,
) {
    let mut items = items.peekable();
    // Sized like the previous batch: growing the vector item by item reallocates it often.
    let mut capacity = 1024;
    loop {
        let mut batch = Batch {
            items: Vec::with_capacity(capacity),
            ..Batch::default()
        };
        let mut fill = || -> BkResult<()> {
            let mut bytes = 0;
            while bytes < BATCH_BYTES && batch.items.len() < BATCH_ITEMS {
                let Some(rec) = items.next() else { break };
                let rec = rec?;
                bytes += rec.len();
                let k = match prep {
                    Prep::KeyOnly => storage::stored_item_key(t, &rec)?,
                    Prep::Full => {
                        let item = storage::decode_item(&rec)?;
                        batch.item_bytes += crate::attr::item_size(&item) as i64;
                        batch.index.extend(storage::index_entries(t, &item)?);
                        storage::item_key(t, &item)?
                    }
                };
                batch.items.push((k, rec));
            }
            Ok(())
        };
        let result = fill();
        capacity = batch.items.len().clamp(1024, BATCH_ITEMS);
        let sent = match result {
            Ok(()) => {
                batch.last = items.peek().is_none();
                let last = batch.last;
                tx.send(Ok(batch)).map(|()| last)
            }
            Err(e) => tx.send(Err(e)).map(|()| true),
        };
        if sent.unwrap_or(true) {
            return;
        }
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

#[cfg(test)]
mod tests {
    //! The bulk restore writes what `storage::apply_write` would have: the same items, index
    //! entries and counters as the source, with and without secondary indexes (the key-only
    //! and the decoding reader), and honours an index override.

    use serde_json::{Value, json};
    use tidemark_core::AccountId;
    use tidemark_model::dynamodb::dispatch_dynamodb;
    use tidemark_store::MemStore;

    use super::*;

    struct Env {
        svc: Arc<DynamoDbService>,
        engine: Arc<Engine>,
        store: Arc<dyn Store>,
        ctx: RequestContext,
    }

    impl Env {
        fn new() -> Env {
            let store: Arc<dyn Store> = Arc::new(MemStore::new());
            let engine = Arc::new(Engine::open(store.clone()).unwrap());
            let svc = DynamoDbService::new(store.clone(), engine.clone());
            engine.recover().unwrap();
            let ctx = RequestContext::new(AccountId::default_account(), "us-east-1", "test");
            Env {
                svc,
                engine,
                store,
                ctx,
            }
        }

        fn ok(&self, op: &str, input: Value) -> Value {
            let out = dispatch_dynamodb(&*self.svc, &self.ctx, op, input);
            out.unwrap_or_else(|e| panic!("{op} failed: {e:?}"))
        }

        /// Everything stored for a table: items, index entries, counters (keys without the
        /// incarnation's table id).
        fn contents(&self, name: &str) -> Vec<(&'static str, Vec<u8>, Vec<u8>)> {
            let read = self.store.read().unwrap();
            let t = table::load(&*read, &self.ctx, name).unwrap().unwrap();
            let prefix = storage::table_prefix(&t.table_id);
            let mut out = Vec::new();
            for tbl in [
                storage::ITEMS_TABLE,
                storage::INDEX_TABLE,
                storage::STATS_TABLE,
            ] {
                for e in read.scan_prefix(tbl, &prefix).unwrap() {
                    let (k, v) = e.unwrap();
                    out.push((tbl, k[prefix.len()..].to_vec(), v));
                }
            }
            out
        }

        fn restore(&self, arn: &str, target: &str, extra: Value) {
            let mut input = json!({"TargetTableName": target, "BackupArn": arn});
            input
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            self.ok("RestoreTableFromBackup", input);
            self.engine.run_due().unwrap();
            let d = self.ok("DescribeTable", json!({"TableName": target}));
            assert_eq!(d["Table"]["TableStatus"], "ACTIVE");
        }
    }

    fn table_input(name: &str, indexes: bool) -> Value {
        let mut t = json!({
            "TableName": name,
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"},
                {"AttributeName": "g", "AttributeType": "S"},
                {"AttributeName": "l", "AttributeType": "B"},
            ],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            "BillingMode": "PAY_PER_REQUEST",
        });
        if indexes {
            t["GlobalSecondaryIndexes"] = json!([{"IndexName": "byG",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["v"]}}]);
            t["LocalSecondaryIndexes"] = json!([{"IndexName": "byL",
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "l", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"}}]);
        } else {
            t["AttributeDefinitions"] = json!([
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"},
            ]);
        }
        t
    }

    fn fill(env: &Env, name: &str) {
        for i in 0..300u32 {
            let mut item = json!({
                "v": {"N": format!("{i}.50")},
                "pk": {"S": format!("p{}\u{e9}", i % 7)},
                "sk": {"N": format!("{}", i as i64 - 150)},
                "m": {"M": {"pk": {"S": "inner"}, "x": {"L": [{"NULL": true}, {"BOOL": i % 2 == 0}]}}},
            });
            if i % 3 == 0 {
                item["g"] = json!({"S": format!("g{}", i % 4)});
            }
            if i % 5 == 0 {
                item["l"] = json!({"B": "AAEC"});
            }
            env.ok("PutItem", json!({"TableName": name, "Item": item}));
        }
        // Deleted and overwritten items leave no trace in the counters.
        env.ok(
            "DeleteItem",
            json!({"TableName": name, "Key": {"pk": {"S": "p0\u{e9}"}, "sk": {"N": "-150"}}}),
        );
    }

    fn backup(env: &Env, name: &str) -> String {
        let out = env.ok(
            "CreateBackup",
            json!({"TableName": name, "BackupName": "bench"}),
        );
        env.engine.run_due().unwrap();
        out["BackupDetails"]["BackupArn"]
            .as_str()
            .unwrap()
            .to_string()
    }

    #[test]
    fn restored_tables_hold_exactly_what_writes_would() {
        let env = Env::new();
        for (name, indexes) in [("plain", false), ("indexed", true)] {
            env.ok("CreateTable", table_input(name, indexes));
            env.engine.run_due().unwrap();
            fill(&env, name);
            let arn = backup(&env, name);
            let target = format!("{name}-restored");
            env.restore(&arn, &target, json!({}));
            assert_eq!(env.contents(&target), env.contents(name), "{name}");
        }
        // Without the GSI (override), the LSI and the counters still match the source's.
        let arn = backup(&env, "indexed");
        env.restore(&arn, "no-gsi", json!({"GlobalSecondaryIndexOverride": []}));
        let want: Vec<_> = env
            .contents("indexed")
            .into_iter()
            .filter(|(_, k, _)| !k.starts_with(&storage::table_prefix("byG")))
            .collect();
        assert_eq!(env.contents("no-gsi"), want);
        // Each restore target's id sorts after every table id holding data (so its keys
        // append), and is a version-4 UUID like CreateTable's.
        let id = |name: &str| {
            let read = env.store.read().unwrap();
            table::load(&*read, &env.ctx, name)
                .unwrap()
                .unwrap()
                .table_id
        };
        let restored = ["plain-restored", "indexed-restored", "no-gsi"].map(id);
        assert!(restored.iter().all(|t| uuid_v4_payload(t).is_some()));
        assert!(id("plain") < restored[0]);
        let before_second = [id("plain"), restored[0].clone(), id("indexed")];
        assert!(before_second.iter().all(|t| *t < restored[1]));
        assert!(restored[1] < restored[2]);
    }

    #[test]
    fn uuid_payloads_round_trip_in_text_order() {
        let mut pairs: Vec<(String, u128)> = (0..200)
            .map(|_| {
                let t = tidemark_core::ids::uuid_request_id();
                let p = uuid_v4_payload(&t).expect("CreateTable's ids are v4 UUIDs");
                assert_eq!(uuid_v4_text(p), t);
                (t, p)
            })
            .collect();
        pairs.sort();
        assert!(pairs.windows(2).all(|w| w[0].1 < w[1].1));
        assert_eq!(
            uuid_v4_text((1 << 122) - 1),
            "ffffffff-ffff-4fff-bfff-ffffffffffff"
        );
        assert_eq!(uuid_v4_text(0), "00000000-0000-4000-8000-000000000000");
        for not_v4 in [
            "ffffffff-ffff-1fff-bfff-ffffffffffff",
            "ffffffff-ffff-4fff-7fff-ffffffffffff",
            "FFFFFFFF-FFFF-4FFF-BFFF-FFFFFFFFFFFF",
            "ffffffffffff4fffbfffffffffffffffffff",
            "table-1",
        ] {
            assert_eq!(uuid_v4_payload(not_v4), None, "{not_v4}");
        }
    }

    /// With the largest possible id taken, or a largest id that is not a UUID, a restore
    /// target gets a random id.
    #[test]
    fn appending_ids_fall_back_to_random() {
        let store = MemStore::new();
        assert!(uuid_v4_payload(&appending_table_id(&*store.read().unwrap()).unwrap()).is_some());
        for top in ["ffffffff-ffff-4fff-bfff-ffffffffffff", "~not-a-uuid"] {
            let mut w = store.write().unwrap();
            w.put(storage::ITEMS_TABLE, &storage::table_prefix(top), b"{}")
                .unwrap();
            w.commit().unwrap();
            let id = appending_table_id(&*store.read().unwrap()).unwrap();
            assert!(uuid_v4_payload(&id).is_some() && id.as_str() < top);
        }
    }
}
