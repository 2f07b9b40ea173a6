//! The TTL sweeper: a recurring job that deletes items whose TTL attribute (a Number of epoch
//! seconds) has passed on the virtual clock, for every table with TTL enabled.
//!
//! Cadence: each sweep reschedules itself at the earliest future expiry it saw, but at most
//! an hour ahead (items written after a sweep are caught within the hour), while any table
//! has TTL enabled. DynamoDB itself deletes expired items "within a few days"; tidemark is
//! prompter so tests see expiry right after advancing the clock past it. As in DynamoDB, values more than five years in the past are ignored
//! (they are taken for a mistaken unit), and non-Number attributes never expire. The job
//! ends when no table has TTL enabled; UpdateTimeToLive starts it again.

use std::sync::Arc;

use tidemark_jobs::{Engine, Job, JobContext, JobFilter, JobHandler, JobState, Outcome};
use tidemark_store::Store;

use crate::attr::AttributeValue;
use crate::catalog::TABLES_TABLE;
use crate::error::{DdbError, DdbResult};
use crate::storage::{self, ITEMS_TABLE};
use crate::table::{self, TableRecord};

pub const SWEEP_KIND: &str = "dynamodb.ttl.sweep";
/// Seconds between sweeps.
pub const SWEEP_INTERVAL_SECS: i64 = 3600;
/// Expiry times further back than this are ignored (DynamoDB: five years).
const MAX_PAST_SECS: f64 = 5.0 * 365.0 * 86_400.0;

/// Whether an item with this TTL attribute value is expired at `now` (epoch seconds).
pub fn expired(v: Option<&AttributeValue>, now: f64) -> bool {
    let Some(AttributeValue::N(n)) = v else {
        return false;
    };
    let Ok(t) = n.to_string().parse::<f64>() else {
        return false;
    };
    t <= now && now - t <= MAX_PAST_SECS
}

/// Seconds of a TTL attribute value, if it is a Number.
fn ttl_secs(v: Option<&AttributeValue>) -> Option<f64> {
    let Some(AttributeValue::N(n)) = v else {
        return None;
    };
    n.to_string().parse::<f64>().ok()
}

/// What a sweep found.
pub struct Swept {
    /// Whether any table has TTL enabled (the sweeper keeps running).
    pub enabled: bool,
    /// The earliest TTL value still in the future, in epoch seconds.
    pub next_expiry: Option<f64>,
}

/// Deletes the expired items of every TTL-enabled table.
pub fn sweep(store: &dyn Store, now_secs: f64) -> DdbResult<Swept> {
    let mut next_expiry: Option<f64> = None;
    let tables: Vec<(Vec<u8>, TableRecord)> = {
        let txn = store.read()?;
        let mut out = Vec::new();
        for e in txn.scan_prefix(TABLES_TABLE, &[])? {
            let (k, v) = e?;
            let t: TableRecord = serde_json::from_slice(&v).map_err(DdbError::internal)?;
            if t.ttl.as_ref().is_some_and(|d| d.enabled) {
                out.push((k, t));
            }
        }
        out
    };
    for (key, t) in &tables {
        let mut txn = store.write()?;
        // Re-read inside the write transaction: the table may have changed since.
        let Some(t) =
            table::load_key(&*txn, key)?.filter(|x| x.table_id == t.table_id && x.usable())
        else {
            continue;
        };
        let Some(attr) = t
            .ttl
            .as_ref()
            .filter(|d| d.enabled)
            .map(|d| d.attribute.clone())
        else {
            continue;
        };
        let mut doomed = Vec::new();
        for e in txn.scan_prefix(ITEMS_TABLE, &storage::table_prefix(&t.table_id))? {
            let (k, v) = e?;
            let item = storage::decode_item(&v)?;
            if expired(item.get(&attr), now_secs) {
                doomed.push((k, item));
            } else if let Some(t) = ttl_secs(item.get(&attr)).filter(|t| *t > now_secs) {
                next_expiry = Some(next_expiry.map_or(t, |n| n.min(t)));
            }
        }
        for (k, item) in &doomed {
            storage::apply_write(&mut *txn, &t, k, Some(item), None)?;
        }
        txn.commit()?;
    }
    Ok(Swept {
        enabled: !tables.is_empty(),
        next_expiry,
    })
}

struct Sweeper {
    store: Arc<dyn Store>,
}

impl JobHandler for Sweeper {
    fn run(&self, _job: &Job, ctx: &JobContext<'_>) -> Outcome {
        let now = ctx.now();
        let secs = now.as_millisecond() as f64 / 1000.0;
        match sweep(&*self.store, secs) {
            Ok(Swept {
                enabled: true,
                next_expiry,
            }) => {
                // Whole seconds, strictly after now (the engine refuses a reschedule at `now`).
                let hour = now.as_second() + SWEEP_INTERVAL_SECS;
                let next = next_expiry
                    .map_or(hour, |t| (t.ceil() as i64).clamp(now.as_second() + 1, hour));
                match tidemark_core::Timestamp::from_second(next) {
                    Ok(t) => Outcome::Reschedule(t),
                    Err(e) => Outcome::Failed(e.to_string()),
                }
            }
            Ok(Swept { enabled: false, .. }) => Outcome::Done,
            Err(e) => Outcome::Failed(e.to_string()),
        }
    }
}

pub fn register(engine: &Engine, store: Arc<dyn Store>) {
    engine.register(SWEEP_KIND, Arc::new(Sweeper { store }));
}

/// Starts the sweeper unless one is pending or running.
pub fn ensure_sweeper(engine: &Engine) -> DdbResult<()> {
    let active = |state| -> DdbResult<bool> {
        let f = JobFilter {
            kind: Some(SWEEP_KIND.to_string()),
            state: Some(state),
        };
        Ok(!engine.list(&f).map_err(DdbError::internal)?.is_empty())
    };
    if active(JobState::Pending)? || active(JobState::Running)? {
        return Ok(());
    }
    engine
        .submit(SWEEP_KIND, serde_json::Value::Null, None)
        .map_err(DdbError::internal)?;
    Ok(())
}
