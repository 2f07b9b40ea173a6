//! Point-in-time recovery (reference §2.8, §2.9, §2.11): settings, the change log and
//! DescribeContinuousBackups / UpdateContinuousBackups.
//!
//! Design ("base + log"): enabling PITR copies the table's items into `dynamodb.pitr.base`
//! in the same write transaction that sets the table's `change_log` flag, so the base is
//! exactly the state at the enable instant. From then on `storage::apply_write` calls
//! [`record_change`] inside every write transaction, appending `(sequence, time, key, old,
//! new)` to `dynamodb.pitr.log`. The state at time T is the base plus every log entry with
//! time ≤ T, replayed in sequence order ([`items_at`]). The recurring trim job
//! (`pitr_jobs.rs`) folds entries older than the recovery window into the base, and turns
//! the history of a deleted table into its SYSTEM backup. Disabling discards base and log.
//!
//! Log times come from the engine's virtual clock. `apply_write` has no clock, so the
//! service registers its clock per PITR table id in [`CLOCKS`] (ids are UUIDs, never
//! shared between services), at enable time and for every PITR table at startup.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tidemark_core::{Clock, RequestContext};
use tidemark_model::dynamodb as m;
use tidemark_store::{Reads, WriteTxn};

use super::arn;
use super::error::{BkError, BkResult};
pub use super::pitr_restore::restore_table_to_point_in_time;
use crate::attr::Item;
use crate::error::{DdbError, DdbResult};
use crate::service::DynamoDbService;
use crate::storage::{self, ITEMS_TABLE};
use crate::table::{self, Status, TableRecord};

pub const SETTINGS_TABLE: &str = "dynamodb.pitr";
pub const SEQ_TABLE: &str = "dynamodb.pitr.seq";
pub const BASE_TABLE: &str = "dynamodb.pitr.base";
pub const LOG_TABLE: &str = "dynamodb.pitr.log";
/// `LatestRestorableDateTime` trails now by this much (AWS: "typically 5 minutes").
pub const LATEST_LAG_SECS: i64 = 300;
pub const DEFAULT_PERIOD_DAYS: i32 = 35;
const DAY_MS: i64 = 86_400_000;

/// The clock of each PITR-enabled table id.
static CLOCKS: LazyLock<Mutex<HashMap<String, Arc<Clock>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

pub fn register_clock(table_id: &str, clock: Arc<Clock>) {
    let mut m = CLOCKS.lock().unwrap_or_else(|p| p.into_inner());
    m.insert(table_id.to_string(), clock);
}

/// Forgets a table's clock once its PITR history is discarded (committed).
pub fn unregister_clock(table_id: &str) {
    let mut m = CLOCKS.lock().unwrap_or_else(|p| p.into_inner());
    m.remove(table_id);
}

fn clock_now_ms(table_id: &str) -> Option<i64> {
    let m = CLOCKS.lock().unwrap_or_else(|p| p.into_inner());
    m.get(table_id).map(|c| c.now().as_millisecond())
}

/// PITR settings of one table incarnation (key: `table_prefix(table_id)`). Absent =
/// disabled.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PitrState {
    pub account: String,
    pub region: String,
    pub table_id: String,
    pub enabled_ms: i64,
    pub period_days: i32,
    /// The table as last seen by the trim job (for the SYSTEM backup after DeleteTable).
    pub source: TableRecord,
}

impl PitrState {
    pub fn earliest_ms(&self, now_ms: i64) -> i64 {
        self.enabled_ms
            .max(now_ms - i64::from(self.period_days) * DAY_MS)
    }

    pub fn latest_ms(&self, now_ms: i64) -> i64 {
        self.enabled_ms.max(now_ms - LATEST_LAG_SECS * 1000)
    }
}

/// One change-log entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogEntry {
    pub t: i64,
    /// The item's storage key (`storage::item_key`).
    pub key: Vec<u8>,
    pub old: Option<Item>,
    pub new: Option<Item>,
}

pub fn load_state(txn: &dyn Reads, table_id: &str) -> BkResult<Option<PitrState>> {
    txn.get(SETTINGS_TABLE, &storage::table_prefix(table_id))?
        .map(|b| serde_json::from_slice(&b).map_err(BkError::internal))
        .transpose()
}

pub fn save_state(txn: &mut dyn WriteTxn, s: &PitrState) -> BkResult<()> {
    let bytes = serde_json::to_vec(s).map_err(BkError::internal)?;
    txn.put(SETTINGS_TABLE, &storage::table_prefix(&s.table_id), &bytes)?;
    Ok(())
}

pub fn log_key(table_id: &str, seq: u64) -> Vec<u8> {
    let mut k = storage::table_prefix(table_id);
    k.extend(seq.to_be_bytes());
    k
}

/// A change-log image: an item, or its JSON already encoded (by `storage::Encoded`, which
/// encodes exactly as the item would be here).
#[derive(Clone, Copy, Serialize)]
#[serde(untagged)]
pub enum LogImage<'a> {
    Item(&'a Item),
    Json(&'a RawValue),
}

/// [`LogEntry`] as written: borrowed images, so that nothing is cloned and an encoded new
/// image is not encoded again. Same fields in the same order, so the same JSON.
#[derive(Serialize)]
struct LogEntryRef<'a> {
    t: i64,
    key: &'a [u8],
    old: Option<&'a Item>,
    new: Option<LogImage<'a>>,
}

/// The change-log hook `storage::apply_write` calls for tables with `change_log` set.
pub fn record_change(
    txn: &mut dyn WriteTxn,
    table: &TableRecord,
    key: &[u8],
    old: Option<&Item>,
    new: Option<LogImage<'_>>,
) -> DdbResult<()> {
    let t = clock_now_ms(&table.table_id).ok_or_else(|| {
        DdbError::internal("point-in-time recovery clock not registered for this table")
    })?;
    let seq_key = storage::table_prefix(&table.table_id);
    let seq = match txn.get(SEQ_TABLE, &seq_key)? {
        Some(v) => u64::from_be_bytes(
            v.as_slice()
                .try_into()
                .map_err(|_| DdbError::internal("bad PITR sequence"))?,
        ),
        None => 0,
    };
    txn.put(SEQ_TABLE, &seq_key, &(seq + 1).to_be_bytes())?;
    let entry = LogEntryRef { t, key, old, new };
    let bytes = serde_json::to_vec(&entry).map_err(DdbError::internal)?;
    txn.put(LOG_TABLE, &log_key(&table.table_id, seq), &bytes)?;
    Ok(())
}

/// The table's items (stored item JSON, in key order) as of `at_ms`: base + log ≤ `at_ms`.
pub fn items_at(txn: &dyn Reads, table_id: &str, at_ms: i64) -> BkResult<Vec<Vec<u8>>> {
    items_at_stream(txn, table_id, at_ms)?.collect()
}

/// Base entries [`ItemsAt`] reads per range scan.
const BASE_PAGE: usize = 1024;

/// [`items_at`] as a stream over a read transaction it holds (`&dyn Reads` or an owned
/// `Box<dyn ReadTxn>`): only the log's net changes up to `at_ms` are held in memory (one
/// entry per changed key); the base is merged in key order, a page at a time.
pub fn items_at_stream<T>(txn: T, table_id: &str, at_ms: i64) -> BkResult<ItemsAt<T>>
where
    T: std::ops::Deref,
    T::Target: Reads,
{
    let prefix = storage::table_prefix(table_id);
    let mut changes = std::collections::BTreeMap::new();
    for e in txn.scan_prefix(LOG_TABLE, &prefix)? {
        let (_, v) = e?;
        let entry: LogEntry = serde_json::from_slice(&v).map_err(BkError::internal)?;
        // Times never decrease along the sequence (both are taken in the single writer).
        if entry.t > at_ms {
            break;
        }
        let new = entry.new.as_ref().map(storage::encode_item).transpose()?;
        changes.insert(entry.key, new);
    }
    Ok(ItemsAt {
        txn,
        end: tidemark_store::keys::prefix_end(&prefix),
        after: None,
        start: prefix,
        page: std::collections::VecDeque::new(),
        base_done: false,
        changes: changes.into_iter().peekable(),
        failed: false,
    })
}

/// The merge of a PITR base (read a page at a time) with the log's net changes, both in
/// key order. Yields `Err` once and then ends.
pub struct ItemsAt<T> {
    txn: T,
    start: Vec<u8>,
    end: Option<Vec<u8>>,
    /// The last base key read.
    after: Option<Vec<u8>>,
    page: std::collections::VecDeque<(Vec<u8>, Vec<u8>)>,
    base_done: bool,
    changes: std::iter::Peekable<std::collections::btree_map::IntoIter<Vec<u8>, Option<Vec<u8>>>>,
    failed: bool,
}

impl<T> ItemsAt<T>
where
    T: std::ops::Deref,
    T::Target: Reads,
{
    /// The next base entry, reading the next page when the current one is used up.
    fn peek_base(&mut self) -> BkResult<Option<&(Vec<u8>, Vec<u8>)>> {
        use std::ops::Bound;
        if self.page.is_empty() && !self.base_done {
            let lower = match &self.after {
                Some(k) => Bound::Excluded(k.as_slice()),
                None => Bound::Included(self.start.as_slice()),
            };
            let upper = self
                .end
                .as_deref()
                .map_or(Bound::Unbounded, Bound::Excluded);
            for e in self
                .txn
                .range(BASE_TABLE, lower, upper, false)?
                .take(BASE_PAGE)
            {
                self.page.push_back(e?);
            }
            self.base_done = self.page.len() < BASE_PAGE;
            self.after = self.page.back().map(|(k, _)| k.clone());
        }
        Ok(self.page.front())
    }

    fn next_item(&mut self) -> BkResult<Option<Vec<u8>>> {
        loop {
            let base_key = self.peek_base()?.map(|(k, _)| k.clone());
            let change_key = self.changes.peek().map(|(k, _)| k.clone());
            let (from_base, from_log) = match (&base_key, &change_key) {
                (None, None) => return Ok(None),
                (Some(b), Some(c)) => (b <= c, c <= b),
                (Some(_), None) => (true, false),
                (None, Some(_)) => (false, true),
            };
            let base = if from_base {
                self.page.pop_front().map(|(_, v)| v)
            } else {
                None
            };
            // A changed key's latest image replaces its base entry (or deletes it).
            let item = if from_log {
                self.changes.next().and_then(|(_, new)| new)
            } else {
                base
            };
            if item.is_some() {
                return Ok(item);
            }
        }
    }
}

impl<T> Iterator for ItemsAt<T>
where
    T: std::ops::Deref,
    T::Target: Reads,
{
    type Item = BkResult<Vec<u8>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let r = self.next_item();
        self.failed = r.is_err();
        r.transpose()
    }
}

/// Drops every PITR record of a table incarnation.
pub fn discard(txn: &mut dyn WriteTxn, table_id: &str) -> BkResult<()> {
    let prefix = storage::table_prefix(table_id);
    let end = tidemark_store::keys::prefix_end(&prefix);
    let end = end
        .as_deref()
        .map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
    for t in [BASE_TABLE, LOG_TABLE] {
        txn.delete_range(t, std::ops::Bound::Included(&prefix[..]), end)?;
    }
    txn.delete(SETTINGS_TABLE, &prefix)?;
    txn.delete(SEQ_TABLE, &prefix)?;
    Ok(())
}

/// The §2.3 admission of this family: a missing or CREATING table is "not found".
pub fn admit(txn: &dyn Reads, ctx: &RequestContext, name: &str) -> BkResult<TableRecord> {
    match table::load(txn, ctx, name)? {
        Some(t) if t.status != Status::Creating => Ok(t),
        _ => Err(BkError::table_not_found(name)),
    }
}

fn description(
    state: Option<&PitrState>,
    now_ms: i64,
) -> BkResult<m::ContinuousBackupsDescription> {
    let ts = |ms: i64| -> BkResult<_> { Ok(crate::describe::timestamp(ms)?) };
    let pitr = match state {
        None => m::PointInTimeRecoveryDescription {
            point_in_time_recovery_status: Some("DISABLED".into()),
            ..Default::default()
        },
        Some(s) => m::PointInTimeRecoveryDescription {
            point_in_time_recovery_status: Some("ENABLED".into()),
            recovery_period_in_days: Some(s.period_days),
            earliest_restorable_date_time: Some(ts(s.earliest_ms(now_ms))?),
            latest_restorable_date_time: Some(ts(s.latest_ms(now_ms))?),
        },
    };
    Ok(m::ContinuousBackupsDescription {
        continuous_backups_status: Some("ENABLED".into()),
        point_in_time_recovery_description: Some(pitr),
    })
}

pub fn describe_continuous_backups(
    s: &DynamoDbService,
    ctx: &RequestContext,
    input: m::DescribeContinuousBackupsInput,
) -> BkResult<m::DescribeContinuousBackupsOutput> {
    let name = arn::table_name(ctx, input.table_name.as_deref().unwrap_or_default())?;
    let txn = s.store.read()?;
    let t = admit(&*txn, ctx, &name)?;
    let state = load_state(&*txn, &t.table_id)?;
    Ok(m::DescribeContinuousBackupsOutput {
        continuous_backups_description: Some(description(
            state.as_ref(),
            s.engine.now().as_millisecond(),
        )?),
    })
}

pub fn update_continuous_backups(
    s: &DynamoDbService,
    ctx: &RequestContext,
    input: m::UpdateContinuousBackupsInput,
) -> BkResult<m::UpdateContinuousBackupsOutput> {
    let spec = input
        .point_in_time_recovery_specification
        .unwrap_or_default();
    let enable = spec.point_in_time_recovery_enabled.unwrap_or(false);
    if let Some(days) = spec.recovery_period_in_days {
        if !enable {
            return Err(BkError::validation(
                "Invalid Request: Cannot specify RecoveryPeriodInDays when disabling point-in-time recovery.",
            ));
        }
        if !(1..=35).contains(&days) {
            let (rel, bound) = if days < 1 {
                ("greater", 1)
            } else {
                ("less", 35)
            };
            return Err(BkError::validation(format!(
                "1 validation error detected: Value '{days}' at 'pointInTimeRecoverySpecification.recoveryPeriodInDays' failed to satisfy constraint: Member must have value {rel} than or equal to {bound}"
            )));
        }
    }
    let name = arn::table_name(ctx, input.table_name.as_deref().unwrap_or_default())?;
    let now_ms = s.engine.now().as_millisecond();
    let mut txn = s.store.write()?;
    let mut t = admit(&*txn, ctx, &name)?;
    let existing = load_state(&*txn, &t.table_id)?;
    let mut new_trim = false;
    let state = match (enable, existing) {
        (false, None) => None,
        (false, Some(_)) => {
            discard(&mut *txn, &t.table_id)?;
            t.change_log = false;
            table::save(&mut *txn, ctx, &t)?;
            None
        }
        (true, Some(mut st)) => {
            st.period_days = spec.recovery_period_in_days.unwrap_or(st.period_days);
            save_state(&mut *txn, &st)?;
            Some(st)
        }
        (true, None) => {
            // The base: the items as of this transaction, i.e. the enable instant.
            let prefix = storage::table_prefix(&t.table_id);
            let mut base = Vec::new();
            for e in txn.scan_prefix(ITEMS_TABLE, &prefix)? {
                base.push(e?);
            }
            for (k, v) in &base {
                txn.put(BASE_TABLE, k, v)?;
            }
            t.change_log = true;
            table::save(&mut *txn, ctx, &t)?;
            let st = PitrState {
                account: ctx.account.as_str().to_string(),
                region: ctx.region.clone(),
                table_id: t.table_id.clone(),
                enabled_ms: now_ms,
                period_days: spec.recovery_period_in_days.unwrap_or(DEFAULT_PERIOD_DAYS),
                source: t.clone(),
            };
            save_state(&mut *txn, &st)?;
            register_clock(&t.table_id, s.engine.clock());
            new_trim = true;
            Some(st)
        }
    };
    txn.commit()?;
    if !enable {
        unregister_clock(&t.table_id);
    }
    if let (true, Some(st)) = (new_trim, &state) {
        super::pitr_jobs::submit_trim(&s.engine, st)?;
    }
    Ok(m::UpdateContinuousBackupsOutput {
        continuous_backups_description: Some(description(state.as_ref(), now_ms)?),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use tidemark_store::{MemStore, Store};

    use super::*;

    fn item(n: u64) -> Item {
        crate::attr::parse_item_json(&format!(r#"{{"pk":{{"S":"k"}},"v":{{"N":"{n}"}}}}"#)).unwrap()
    }

    /// The streaming merge equals replaying the log over the whole base in a map, at every
    /// cut-off time, across base pages (more than `BASE_PAGE` base entries).
    #[test]
    fn streamed_items_equal_the_replayed_log() {
        let store = MemStore::new();
        let id = "table-id";
        let key = |i: u64| {
            let mut k = storage::table_prefix(id);
            k.extend(i.to_be_bytes());
            k
        };
        let mut base = BTreeMap::new();
        let mut txn = store.write().unwrap();
        // A neighbour table's entries must not leak in.
        txn.put(BASE_TABLE, &storage::table_prefix("other"), b"{}")
            .unwrap();
        for i in (0..3000).step_by(2) {
            let v = storage::encode_item(&item(i)).unwrap();
            txn.put(BASE_TABLE, &key(i), &v).unwrap();
            base.insert(key(i), v);
        }
        let mut log = Vec::new();
        let mut x = 7u64;
        for seq in 0..2000u64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let k = key((x >> 33) % 3100);
            let entry = LogEntry {
                t: seq as i64 / 10,
                key: k,
                old: None,
                new: (!x.is_multiple_of(3)).then(|| item(seq)),
            };
            txn.put(
                LOG_TABLE,
                &log_key(id, seq),
                &serde_json::to_vec(&entry).unwrap(),
            )
            .unwrap();
            log.push(entry);
        }
        txn.commit().unwrap();
        for at in [-1, 0, 57, 150, 199, i64::MAX] {
            let mut want = base.clone();
            for e in log.iter().filter(|e| e.t <= at) {
                match &e.new {
                    Some(i) => want.insert(e.key.clone(), storage::encode_item(i).unwrap()),
                    None => want.remove(&e.key),
                };
            }
            let want: Vec<Vec<u8>> = want.into_values().collect();
            let got: Vec<Vec<u8>> = items_at_stream(store.read().unwrap(), id, at)
                .unwrap()
                .collect::<BkResult<_>>()
                .unwrap();
            assert_eq!(got, want, "at {at}");
            let read = store.read().unwrap();
            assert_eq!(items_at(&*read, id, at).unwrap(), want, "at {at}");
        }
    }
}
