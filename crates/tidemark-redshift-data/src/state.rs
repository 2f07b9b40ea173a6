//! What the service remembers: statements (their results are files, see `result_file.rs`)
//! for 24 hours of virtual time, client tokens, sessions, and each cluster's queue of statements waiting for a
//! worker. Everything sits behind one mutex that is never held while SQL runs.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use jiff::Timestamp;
use tidemark_model::redshift_data::SqlParameter;

use crate::backend::{CancelHandle, SqlSession, Target};
use crate::journal::Journal;
use crate::result_file::ResultFile;

/// Results and statements are kept this long (AWS: "the result is kept for 24 hours").
pub const RETENTION_SECONDS: i64 = 24 * 3600;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Submitted,
    Picked,
    Started,
    Finished,
    Failed,
    Aborted,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Submitted => "SUBMITTED",
            Status::Picked => "PICKED",
            Status::Started => "STARTED",
            Status::Finished => "FINISHED",
            Status::Failed => "FAILED",
            Status::Aborted => "ABORTED",
        }
    }

    pub fn is_done(self) -> bool {
        matches!(self, Status::Finished | Status::Failed | Status::Aborted)
    }
}

/// One SQL statement of a request (a single statement has exactly one).
pub struct Sub {
    /// The SQL as the client sent it (`QueryString`).
    pub query: String,
    /// With parameters bound: what runs.
    pub bound: String,
    pub status: Status,
    pub error: Option<String>,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub duration_ns: i64,
    /// Rows returned or affected; -1 when the statement reports neither.
    pub result_rows: i64,
    pub result_size: i64,
    pub query_id: i64,
    /// The rows on disk; the file goes when the last `Arc` does (expiry, reset).
    pub result: Option<Arc<ResultFile>>,
}

pub struct Stmt {
    pub id: String,
    pub account: String,
    pub region: String,
    pub target: Target,
    pub secret_arn: Option<String>,
    pub name: Option<String>,
    pub batch: bool,
    /// A batch in one transaction (`ExecutionMode` TRANSACTION, the default).
    pub transaction: bool,
    pub params: Option<Vec<SqlParameter>>,
    pub result_format: Option<String>,
    pub session_id: Option<String>,
    pub client_token: Option<String>,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub status: Status,
    pub error: Option<String>,
    pub pid: Option<i64>,
    pub duration_ns: i64,
    pub subs: Vec<Sub>,
    pub cancel: Option<Arc<CancelHandle>>,
    pub cancel_requested: bool,
}

impl Stmt {
    /// Marks the statement's result files for removal (it is being forgotten).
    pub fn discard_results(&self) {
        for f in self.subs.iter().filter_map(|x| x.result.as_ref()) {
            f.discard();
        }
    }
}

/// A connection kept between statements (`SessionKeepAliveSeconds`).
pub struct Session {
    pub id: String,
    pub account: String,
    pub region: String,
    pub target: Target,
    pub keep_alive: i64,
    pub created: Timestamp,
    pub updated: Timestamp,
    /// `None` while a statement holds it, or before the first statement connected.
    pub conn: Option<Box<dyn SqlSession>>,
    /// The statement running on it, if any.
    pub current: Option<String>,
}

impl Session {
    /// Until when it lives: its keep-alive after its last use (never while busy).
    pub fn ttl(&self) -> Timestamp {
        self.updated
            .checked_add(jiff::SignedDuration::from_secs(self.keep_alive))
            .unwrap_or(Timestamp::MAX)
    }
}

/// Key of a cluster's queue.
pub type ClusterKey = (String, String, String);

#[derive(Default)]
pub struct Queue {
    pub jobs: VecDeque<String>,
    pub workers: usize,
}

fn nanos(t: Timestamp) -> i128 {
    t.as_nanosecond()
}

#[derive(Default)]
pub struct State {
    pub stmts: HashMap<String, Stmt>,
    /// `(created, id)`: expiry order.
    by_time: BTreeSet<(i128, String)>,
    /// `(account, region, created, id)`: ListStatements order (newest last).
    pub by_owner: BTreeSet<(String, String, i128, String)>,
    /// `(account, region, token)` → statement id.
    pub tokens: HashMap<(String, String, String), String>,
    pub sessions: HashMap<String, Session>,
    pub queues: HashMap<ClusterKey, Queue>,
    pub next_query_id: i64,
    /// The records on disk (`None` with `--in-memory`).
    pub journal: Option<Journal>,
}

impl State {
    pub fn insert(&mut self, s: Stmt) {
        let t = nanos(s.created);
        self.by_time.insert((t, s.id.clone()));
        self.by_owner
            .insert((s.account.clone(), s.region.clone(), t, s.id.clone()));
        if let Some(tok) = &s.client_token {
            self.tokens.insert(
                (s.account.clone(), s.region.clone(), tok.clone()),
                s.id.clone(),
            );
        }
        self.stmts.insert(s.id.clone(), s);
    }

    /// The statement `id` if `account`/`region` own it (others' are invisible).
    pub fn owned(&self, account: &str, region: &str, id: &str) -> Option<&Stmt> {
        self.stmts
            .get(id)
            .filter(|s| s.account == account && s.region == region)
    }

    pub fn owned_mut(&mut self, account: &str, region: &str, id: &str) -> Option<&mut Stmt> {
        self.stmts
            .get_mut(id)
            .filter(|s| s.account == account && s.region == region)
    }

    /// Forgets statements older than the retention and sessions past their keep-alive.
    /// Amortized O(log n) per forgotten statement: the expiry index is in time order.
    pub fn expire(&mut self, now: Timestamp) {
        let limit = nanos(now) - i128::from(RETENTION_SECONDS) * 1_000_000_000;
        while let Some((t, id)) = self.by_time.first().cloned() {
            if t > limit {
                break;
            }
            // A statement still running (a long query) is kept until it ends.
            if self.stmts.get(&id).is_some_and(|s| !s.status.is_done()) {
                break;
            }
            self.by_time.pop_first();
            if let Some(s) = self.stmts.remove(&id) {
                s.discard_results();
                self.by_owner
                    .remove(&(s.account.clone(), s.region.clone(), t, id.clone()));
                if let Some(tok) = s.client_token {
                    self.tokens.remove(&(s.account, s.region, tok));
                }
            }
        }
        self.sessions
            .retain(|_, s| s.current.is_some() || s.ttl() > now);
    }

    /// Writes statement `id`'s record to the journal (at submission and final status).
    pub fn persist(&mut self, id: &str) {
        let State { stmts, journal, .. } = self;
        if let (Some(j), Some(s)) = (journal.as_mut(), stmts.get(id)) {
            j.write(s, stmts.values(), stmts.len());
        }
    }

    pub fn next_query_id(&mut self) -> i64 {
        self.next_query_id += 1;
        self.next_query_id
    }
}
