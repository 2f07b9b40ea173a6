//! How jobs and the clock are laid out in the store, and the index upkeep that keeps
//! them consistent. Every change to a job goes through [`save_job`].

use std::ops::Bound;

use tidemark_core::{ClockState, Timestamp};
use tidemark_store::{Reads, WriteTxn, keys};

use crate::{Job, JobError, JobId, JobState};

/// `id (u64 BE)` → the job as JSON.
pub(crate) const JOBS: &str = "jobs";
/// `due_at ++ id` → empty. Invariant: exactly the `Pending` jobs.
pub(crate) const DUE: &str = "jobs_due";
/// `finished_at ++ id` → empty. Invariant: exactly the finished jobs, oldest first.
pub(crate) const FINISHED: &str = "jobs_finished";
/// Counters: `next_id`, `finished_count` (u64 BE).
pub(crate) const META: &str = "jobs_meta";
/// `state` → the [`ClockState`] as JSON.
pub(crate) const CLOCK: &str = "clock";

const NEXT_ID: &[u8] = b"next_id";
const FINISHED_COUNT: &[u8] = b"finished_count";
const CLOCK_STATE: &[u8] = b"state";

/// Every table this crate owns (wiped by a reset).
pub(crate) const TABLES: [&str; 5] = [JOBS, DUE, FINISHED, META, CLOCK];

/// A timestamp as 16 order-preserving bytes (nanoseconds, sign bit flipped, big-endian).
fn ts_key(t: Timestamp) -> [u8; 16] {
    ((t.as_nanosecond() as u128) ^ (1 << 127)).to_be_bytes()
}

fn time_id_key(t: Timestamp, id: JobId) -> Vec<u8> {
    keys::KeyBuilder::new().raw(&ts_key(t)).u64(id.0).finish()
}

fn corrupt(what: impl Into<String>, detail: impl ToString) -> JobError {
    JobError::Corrupt {
        what: what.into(),
        detail: detail.to_string(),
    }
}

fn decode_job(bytes: &[u8]) -> Result<Job, JobError> {
    serde_json::from_slice(bytes).map_err(|e| corrupt("job record", e))
}

fn id_from_time_id_key(key: &[u8]) -> Result<JobId, JobError> {
    let mut r = keys::KeyReader::new(
        key.get(16..)
            .ok_or_else(|| corrupt("job index key", "too short"))?,
    );
    Ok(JobId(r.u64().map_err(|e| corrupt("job index key", e))?))
}

fn get_u64(r: &dyn Reads, key: &[u8]) -> Result<u64, JobError> {
    match r.get(META, key)? {
        None => Ok(0),
        Some(b) => Ok(u64::from_be_bytes(
            b.as_slice()
                .try_into()
                .map_err(|_| corrupt("job counter", "not 8 bytes"))?,
        )),
    }
}

pub(crate) fn load_job(r: &dyn Reads, id: JobId) -> Result<Option<Job>, JobError> {
    r.get(JOBS, &id.0.to_be_bytes())?
        .map(|b| decode_job(&b))
        .transpose()
}

pub(crate) fn all_jobs(r: &dyn Reads) -> Result<Vec<Job>, JobError> {
    r.range(JOBS, Bound::Unbounded, Bound::Unbounded, false)?
        .map(|e| decode_job(&e?.1))
        .collect()
}

/// An entry of the due index: the job and the index key that names it.
pub(crate) struct DueEntry {
    pub id: JobId,
    pub key: Vec<u8>,
}

/// The first pending job in `(due_at, id)` order, if it is due at or before `limit`.
pub(crate) fn first_due(r: &dyn Reads, limit: Timestamp) -> Result<Option<DueEntry>, JobError> {
    let end = time_id_key(limit, JobId(u64::MAX));
    let mut iter = r.range(DUE, Bound::Unbounded, Bound::Included(&end), false)?;
    let Some((key, _)) = iter.next().transpose()? else {
        return Ok(None);
    };
    Ok(Some(DueEntry {
        id: id_from_time_id_key(&key)?,
        key,
    }))
}

/// The due time of the earliest pending job.
pub(crate) fn next_due_at(r: &dyn Reads) -> Result<Option<Timestamp>, JobError> {
    let Some(entry) = first_due(r, Timestamp::MAX)? else {
        return Ok(None);
    };
    Ok(load_job(r, entry.id)?.map(|j| j.due_at))
}

pub(crate) fn allocate_id(w: &mut dyn WriteTxn) -> Result<JobId, JobError> {
    let next = get_u64(w, NEXT_ID)?.max(1);
    w.put(META, NEXT_ID, &(next + 1).to_be_bytes())?;
    Ok(JobId(next))
}

/// Writes `job`, whose stored version was `previous`, keeping the indexes exact and the
/// finished history within `history_limit`.
pub(crate) fn save_job(
    w: &mut dyn WriteTxn,
    job: &Job,
    previous: Option<&Job>,
    history_limit: u64,
) -> Result<(), JobError> {
    if let Some(prev) = previous {
        if prev.state == JobState::Pending {
            w.delete(DUE, &time_id_key(prev.due_at, prev.id))?;
        }
        if prev.state.is_finished() {
            // Finished jobs are never changed again; keep the history exact regardless.
            if let Some(at) = prev.finished_at {
                w.delete(FINISHED, &time_id_key(at, prev.id))?;
            }
        }
    }
    let bytes = serde_json::to_vec(job).map_err(|e| corrupt("job record", e))?;
    w.put(JOBS, &job.id.0.to_be_bytes(), &bytes)?;
    if job.state == JobState::Pending {
        w.put(DUE, &time_id_key(job.due_at, job.id), b"")?;
    }
    let was_finished = previous.is_some_and(|p| p.state.is_finished());
    if job.state.is_finished() && !was_finished {
        let at = job.finished_at.unwrap_or(job.due_at);
        w.put(FINISHED, &time_id_key(at, job.id), b"")?;
        let count = get_u64(w, FINISHED_COUNT)? + 1;
        let count = prune_history(w, count, history_limit)?;
        w.put(META, FINISHED_COUNT, &count.to_be_bytes())?;
    }
    Ok(())
}

/// Deletes the oldest finished jobs until at most `limit` remain; returns the new count.
fn prune_history(w: &mut dyn WriteTxn, mut count: u64, limit: u64) -> Result<u64, JobError> {
    if count <= limit {
        return Ok(count);
    }
    let excess = usize::try_from(count - limit).unwrap_or(usize::MAX);
    let doomed: Vec<Vec<u8>> = w
        .range(FINISHED, Bound::Unbounded, Bound::Unbounded, false)?
        .take(excess)
        .map(|e| e.map(|(k, _)| k))
        .collect::<Result<_, _>>()?;
    for key in doomed {
        let id = id_from_time_id_key(&key)?;
        w.delete(FINISHED, &key)?;
        w.delete(JOBS, &id.0.to_be_bytes())?;
        count -= 1;
    }
    Ok(count)
}

pub(crate) fn load_clock(r: &dyn Reads) -> Result<Option<ClockState>, JobError> {
    r.get(CLOCK, CLOCK_STATE)?
        .map(|b| serde_json::from_slice(&b).map_err(|e| corrupt("clock state", e)))
        .transpose()
}

pub(crate) fn save_clock(w: &mut dyn WriteTxn, state: &ClockState) -> Result<(), JobError> {
    let bytes = serde_json::to_vec(state).map_err(|e| corrupt("clock state", e))?;
    w.put(CLOCK, CLOCK_STATE, &bytes)?;
    Ok(())
}
