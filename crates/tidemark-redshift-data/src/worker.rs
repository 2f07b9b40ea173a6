//! Runs statements: each cluster has a queue and at most [`WORKERS_PER_CLUSTER`] threads
//! that take statements from it (SUBMITTED → PICKED), log in (STARTED) and run the SQL
//! (FINISHED | FAILED | ABORTED). Threads exist only while their queue has work.

use std::sync::Arc;
use std::time::Instant;

use crate::Inner;
use crate::backend::{ConnectError, SqlSession};
use crate::result_file::{Format, ResultFile, ResultWriter};
use crate::state::{ClusterKey, Status};

/// Statements of one cluster that run at once; the others wait in SUBMITTED. Each holds a
/// database connection, and a cluster's PostgreSQL takes few.
pub const WORKERS_PER_CLUSTER: usize = 4;

/// PostgreSQL's SQLSTATE for a cancelled query.
const QUERY_CANCELED: &str = "57014";

/// Queues statement `id` on its cluster and starts a worker if the cluster has fewer than
/// its share. Call with the state unlocked.
pub fn submit(inner: &Arc<Inner>, key: ClusterKey, id: String) {
    let spawn = {
        let Ok(mut st) = inner.state.lock() else {
            return;
        };
        let q = st.queues.entry(key.clone()).or_default();
        q.jobs.push_back(id);
        if q.workers < WORKERS_PER_CLUSTER {
            q.workers += 1;
            true
        } else {
            false
        }
    };
    if spawn {
        let inner2 = Arc::clone(inner);
        let key2 = key.clone();
        let started = std::thread::Builder::new()
            .name("redshift-data".into())
            .spawn(move || work(&inner2, &key2));
        if let Err(e) = started {
            tracing::error!("cannot start a Data API worker: {e}");
            if let Ok(mut st) = inner.state.lock()
                && let Some(q) = st.queues.get_mut(&key)
            {
                q.workers -= 1;
            }
        }
    }
}

fn work(inner: &Arc<Inner>, key: &ClusterKey) {
    loop {
        let next = {
            let Ok(mut st) = inner.state.lock() else {
                return;
            };
            let Some(q) = st.queues.get_mut(key) else {
                return;
            };
            match q.jobs.pop_front() {
                Some(id) => id,
                None => {
                    q.workers -= 1;
                    if q.workers == 0 {
                        st.queues.remove(key);
                    }
                    return;
                }
            }
        };
        run(inner, &next);
    }
}

/// Sets the fields every status change sets.
fn set_status(inner: &Inner, id: &str, status: Status) -> bool {
    let now = (inner.now)();
    let Ok(mut st) = inner.state.lock() else {
        return false;
    };
    match st.stmts.get_mut(id) {
        Some(s) if !s.status.is_done() => {
            s.status = status;
            s.updated = now;
            true
        }
        _ => false,
    }
}

fn run(inner: &Arc<Inner>, id: &str) {
    let begun = Instant::now();
    let (target, session_id, sqls, transaction, format) = {
        let Ok(mut st) = inner.state.lock() else {
            return;
        };
        let now = (inner.now)();
        let Some(s) = st.stmts.get_mut(id) else {
            return;
        };
        if s.status != Status::Submitted {
            return; // cancelled while it waited
        }
        s.status = Status::Picked;
        s.updated = now;
        let sqls: Vec<String> = s.subs.iter().map(|x| x.bound.clone()).collect();
        let format = match s.result_format.as_deref() {
            Some("CSV") => Format::Csv,
            _ => Format::Json,
        };
        (
            s.target.clone(),
            s.session_id.clone(),
            sqls,
            s.batch && s.transaction,
            format,
        )
    };
    // The session's connection if it has one, else a new login.
    let held = session_id.as_ref().and_then(|sid| {
        inner
            .state
            .lock()
            .ok()?
            .sessions
            .get_mut(sid)
            .and_then(|s| s.conn.take())
    });
    let mut conn: Box<dyn SqlSession> = match held {
        Some(c) => c,
        None => match inner.backend.connect(&target) {
            Ok(c) => c,
            Err(e) => {
                let message = match e {
                    ConnectError::Refused(m) => m,
                    other => other.to_string(),
                };
                finish_failed_login(inner, id, session_id.as_deref(), message, begun);
                return;
            }
        },
    };
    {
        let Ok(mut st) = inner.state.lock() else {
            return;
        };
        let now = (inner.now)();
        if let Some(s) = st.stmts.get_mut(id) {
            s.pid = Some(conn.pid());
            s.cancel = Some(Arc::new(conn.cancel_handle()));
            if s.cancel_requested {
                s.status = Status::Aborted;
                s.updated = now;
                for sub in &mut s.subs {
                    sub.status = Status::Aborted;
                }
            }
        }
    }
    if set_status(inner, id, Status::Started) {
        run_subs(inner, id, conn.as_mut(), &sqls, transaction, format);
    }
    let now = (inner.now)();
    let Ok(mut st) = inner.state.lock() else {
        return;
    };
    if let Some(s) = st.stmts.get_mut(id) {
        s.cancel = None;
        s.duration_ns = i64::try_from(begun.elapsed().as_nanos()).unwrap_or(i64::MAX);
        s.updated = now;
        if !s.status.is_done() {
            s.status = overall(s.subs.iter().map(|x| x.status));
        }
        s.error = s.subs.iter().find_map(|x| x.error.clone());
        st.persist(id);
    }
    match session_id.and_then(|sid| st.sessions.get_mut(&sid)) {
        Some(sess) => {
            sess.conn = Some(conn);
            sess.current = None;
            sess.updated = now;
        }
        None => drop(conn),
    }
}

/// The statement's status from its parts': the first failure or abort wins.
fn overall(subs: impl Iterator<Item = Status>) -> Status {
    let mut out = Status::Finished;
    for s in subs {
        match s {
            Status::Failed => return Status::Failed,
            Status::Aborted => out = Status::Aborted,
            _ => {}
        }
    }
    out
}

fn finish_failed_login(
    inner: &Inner,
    id: &str,
    session: Option<&str>,
    message: String,
    begun: Instant,
) {
    let now = (inner.now)();
    let Ok(mut st) = inner.state.lock() else {
        return;
    };
    if let Some(s) = st.stmts.get_mut(id) {
        s.status = Status::Failed;
        s.error = Some(message.clone());
        s.updated = now;
        s.duration_ns = i64::try_from(begun.elapsed().as_nanos()).unwrap_or(i64::MAX);
        for sub in &mut s.subs {
            sub.status = Status::Failed;
            sub.error = Some(message.clone());
            sub.updated = now;
        }
        st.persist(id);
    }
    // A session whose login failed has nothing to keep.
    if let Some(sid) = session {
        st.sessions.remove(sid);
    }
}

fn run_subs(
    inner: &Inner,
    id: &str,
    conn: &mut dyn SqlSession,
    sqls: &[String],
    transaction: bool,
    format: Format,
) {
    if transaction && let Err(e) = conn.run("BEGIN") {
        mark_rest(inner, id, 0, Status::Failed, Some(e.message));
        return;
    }
    for (n, sql) in sqls.iter().enumerate() {
        {
            let Ok(mut st) = inner.state.lock() else {
                return;
            };
            let qid = st.next_query_id();
            let now = (inner.now)();
            match st.stmts.get_mut(id) {
                Some(s) if s.cancel_requested => {
                    drop(st);
                    abort_rest(inner, id, n, conn, transaction);
                    return;
                }
                Some(s) => {
                    let sub = &mut s.subs[n];
                    sub.status = Status::Started;
                    sub.query_id = qid;
                    sub.created = now;
                    sub.updated = now;
                }
                None => return,
            }
        }
        let t0 = Instant::now();
        // The rows go to disk as they arrive; the writer stops the statement at AWS's
        // limits, and a failed statement's partial file goes with the writer.
        let mut writer = ResultWriter::new(inner.results.file(id, n), format, inner.limits);
        let result = conn.run_into(sql, &mut writer).and_then(|summary| {
            let file = match summary.columns {
                Some(columns) => Some(writer.finish(columns)?),
                None => None,
            };
            Ok((file, summary.affected))
        });
        let elapsed = i64::try_from(t0.elapsed().as_nanos()).unwrap_or(i64::MAX);
        let failed = match result {
            Ok((file, affected)) => {
                record(inner, id, n, elapsed, file, affected);
                None
            }
            Err(e) => Some(e),
        };
        if let Some(e) = failed {
            let cancelled = e.sqlstate == QUERY_CANCELED
                && inner
                    .state
                    .lock()
                    .ok()
                    .and_then(|st| st.stmts.get(id).map(|s| s.cancel_requested))
                    .unwrap_or(false);
            let status = if cancelled {
                Status::Aborted
            } else {
                Status::Failed
            };
            set_sub(inner, id, n, status, Some(e.message), elapsed);
            if transaction {
                let _ = conn.run("ROLLBACK");
            }
            mark_rest(inner, id, n + 1, Status::Aborted, None);
            return;
        }
    }
    if transaction && let Err(e) = conn.run("COMMIT") {
        let last = sqls.len().saturating_sub(1);
        set_sub(inner, id, last, Status::Failed, Some(e.message), 0);
    }
}

fn abort_rest(inner: &Inner, id: &str, from: usize, conn: &mut dyn SqlSession, tx: bool) {
    if tx {
        let _ = conn.run("ROLLBACK");
    }
    mark_rest(inner, id, from, Status::Aborted, None);
}

fn record(
    inner: &Inner,
    id: &str,
    n: usize,
    elapsed: i64,
    file: Option<ResultFile>,
    affected: Option<u64>,
) {
    let now = (inner.now)();
    let Ok(mut st) = inner.state.lock() else {
        return;
    };
    // A statement forgotten meanwhile (reset): its file goes now.
    let Some(s) = st.stmts.get_mut(id) else {
        if let Some(f) = file {
            f.discard();
        }
        return;
    };
    let sub = &mut s.subs[n];
    sub.status = Status::Finished;
    sub.updated = now;
    sub.duration_ns = elapsed;
    match file {
        Some(f) => {
            sub.result_rows = i64::try_from(f.rows()).unwrap_or(i64::MAX);
            sub.result_size = i64::try_from(f.size()).unwrap_or(i64::MAX);
            sub.result = Some(Arc::new(f));
        }
        None => {
            sub.result_rows = affected.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
            sub.result_size = 0;
        }
    }
}

fn set_sub(inner: &Inner, id: &str, n: usize, status: Status, error: Option<String>, d: i64) {
    let now = (inner.now)();
    let Ok(mut st) = inner.state.lock() else {
        return;
    };
    if let Some(sub) = st.stmts.get_mut(id).and_then(|s| s.subs.get_mut(n)) {
        sub.status = status;
        sub.error = error;
        sub.updated = now;
        sub.duration_ns = d;
    }
}

fn mark_rest(inner: &Inner, id: &str, from: usize, status: Status, error: Option<String>) {
    let now = (inner.now)();
    let Ok(mut st) = inner.state.lock() else {
        return;
    };
    if let Some(s) = st.stmts.get_mut(id) {
        for sub in s.subs.iter_mut().skip(from) {
            sub.status = status;
            sub.error.clone_from(&error);
            sub.updated = now;
        }
    }
}
