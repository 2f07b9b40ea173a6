//! The statements' records on disk, so that DescribeStatement, ListStatements and
//! GetStatementResult answer after a restart as AWS's do for 24 hours: an append-only file
//! of JSON lines, one written whenever a statement is submitted or reaches its final
//! status, the last line of an id winning. It is rewritten with only the live records when
//! the server starts and whenever it holds more than twice as many lines as there are
//! statements (amortized O(1) per write). Rows are not in it: they are in the result files
//! its records name. Sessions are not either: their connections end with the server.
//!
//! A line is written (not synced) while the state lock is held, so the file's order is the
//! order of the changes; a crash of the machine (not of the server) may lose the last
//! lines, and with them statements that are then simply unknown.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use tidemark_model::redshift_data::SqlParameter;

use crate::backend::{Column, Target};
use crate::result_file::{Format, PageStart, ResultFile};
use crate::state::{Status, Stmt, Sub};

const FILE: &str = "statements.jsonl";
/// A statement's error once the server restarted while it waited or ran.
pub const INTERRUPTED: &str =
    "The statement was interrupted: tidemark stopped while it was running. Run it again.";
/// Lines beyond twice the live records before a rewrite.
const SLACK: usize = 1024;

#[derive(Serialize, Deserialize)]
struct Record {
    id: String,
    account: String,
    region: String,
    target: Target,
    secret_arn: Option<String>,
    name: Option<String>,
    batch: bool,
    transaction: bool,
    params: Option<Vec<SqlParameter>>,
    result_format: Option<String>,
    session_id: Option<String>,
    client_token: Option<String>,
    created: i64,
    updated: i64,
    status: String,
    error: Option<String>,
    pid: Option<i64>,
    duration_ns: i64,
    subs: Vec<SubRecord>,
}

#[derive(Serialize, Deserialize)]
struct SubRecord {
    query: String,
    status: String,
    error: Option<String>,
    created: i64,
    updated: i64,
    duration_ns: i64,
    result_rows: i64,
    result_size: i64,
    query_id: i64,
    result: Option<FileRecord>,
}

/// A result: its file's name in the results directory (none without rows), its columns
/// and its page index.
#[derive(Serialize, Deserialize)]
pub struct FileRecord {
    pub file: Option<String>,
    pub columns: Vec<Column>,
    pub csv: bool,
    pub rows: u64,
    pub size: u64,
    pub end: u64,
    /// `(first row, offset)` of each page.
    pub pages: Vec<(u64, u64)>,
}

fn nanos(t: Timestamp) -> i64 {
    i64::try_from(t.as_nanosecond()).unwrap_or(i64::MAX)
}

fn time(n: i64) -> Timestamp {
    Timestamp::from_nanosecond(i128::from(n)).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn status(s: &str) -> Status {
    match s {
        "SUBMITTED" => Status::Submitted,
        "PICKED" => Status::Picked,
        "STARTED" => Status::Started,
        "FINISHED" => Status::Finished,
        "ABORTED" => Status::Aborted,
        _ => Status::Failed,
    }
}

fn record(s: &Stmt) -> Record {
    Record {
        id: s.id.clone(),
        account: s.account.clone(),
        region: s.region.clone(),
        target: s.target.clone(),
        secret_arn: s.secret_arn.clone(),
        name: s.name.clone(),
        batch: s.batch,
        transaction: s.transaction,
        params: s.params.clone(),
        result_format: s.result_format.clone(),
        session_id: s.session_id.clone(),
        client_token: s.client_token.clone(),
        created: nanos(s.created),
        updated: nanos(s.updated),
        status: s.status.as_str().into(),
        error: s.error.clone(),
        pid: s.pid,
        duration_ns: s.duration_ns,
        subs: s
            .subs
            .iter()
            .map(|x| SubRecord {
                query: x.query.clone(),
                status: x.status.as_str().into(),
                error: x.error.clone(),
                created: nanos(x.created),
                updated: nanos(x.updated),
                duration_ns: x.duration_ns,
                result_rows: x.result_rows,
                result_size: x.result_size,
                query_id: x.query_id,
                result: x.result.as_ref().map(|f| f.record()),
            })
            .collect(),
    }
}

/// A statement from its record; one that had not ended when the server stopped ends now,
/// FAILED, as the query it ran is gone.
fn statement(r: Record, dir: &Path) -> Stmt {
    let interrupted = !status(&r.status).is_done();
    let subs = r
        .subs
        .into_iter()
        .map(|x| {
            let mut st = status(&x.status);
            let mut error = x.error;
            if !st.is_done() {
                st = Status::Failed;
                error = Some(INTERRUPTED.into());
            }
            let result = x.result.and_then(|f| {
                let path = f.file.as_ref().map(|name| dir.join(name));
                // A file gone from the disk leaves the statement without its rows.
                path.as_ref().is_none_or(|p| p.is_file()).then(|| {
                    Arc::new(ResultFile::restore(
                        path,
                        f.columns,
                        if f.csv { Format::Csv } else { Format::Json },
                        f.rows,
                        f.size,
                        f.end,
                        f.pages
                            .into_iter()
                            .map(|(row, offset)| PageStart { row, offset })
                            .collect(),
                    ))
                })
            });
            Sub {
                query: x.query,
                bound: String::new(),
                status: st,
                error,
                created: time(x.created),
                updated: time(x.updated),
                duration_ns: x.duration_ns,
                result_rows: x.result_rows,
                result_size: x.result_size,
                query_id: x.query_id,
                result,
            }
        })
        .collect();
    Stmt {
        id: r.id,
        account: r.account,
        region: r.region,
        target: r.target,
        secret_arn: r.secret_arn,
        name: r.name,
        batch: r.batch,
        transaction: r.transaction,
        params: r.params,
        result_format: r.result_format,
        session_id: r.session_id,
        client_token: r.client_token,
        created: time(r.created),
        updated: time(r.updated),
        status: if interrupted {
            Status::Failed
        } else {
            status(&r.status)
        },
        error: if interrupted {
            Some(INTERRUPTED.into())
        } else {
            r.error
        },
        pid: r.pid,
        duration_ns: r.duration_ns,
        subs,
        cancel: None,
        cancel_requested: false,
    }
}

/// The open journal.
pub struct Journal {
    path: PathBuf,
    out: BufWriter<File>,
    lines: usize,
}

fn create(path: &Path, truncate: bool) -> std::io::Result<File> {
    File::options()
        .create(true)
        .append(!truncate)
        .write(true)
        .truncate(truncate)
        .mode(0o600)
        .open(path)
}

impl Journal {
    /// Opens the journal in `dir`, returning the statements it holds (their result files
    /// kept, every other file of the directory removed) and rewriting it with them alone.
    pub fn open(dir: &Path) -> std::io::Result<(Journal, Vec<Stmt>)> {
        let path = dir.join(FILE);
        let mut latest: HashMap<String, Record> = HashMap::new();
        match File::open(&path) {
            Ok(f) => {
                for line in BufReader::new(f).lines() {
                    let line = line?;
                    // A torn last line (the server died writing it) is skipped.
                    match serde_json::from_str::<Record>(&line) {
                        Ok(r) => {
                            latest.insert(r.id.clone(), r);
                        }
                        Err(e) => tracing::warn!("skipping a Data API journal line: {e}"),
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let stmts: Vec<Stmt> = latest.into_values().map(|r| statement(r, dir)).collect();
        let mut kept: std::collections::HashSet<std::ffi::OsString> = stmts
            .iter()
            .flat_map(|s| &s.subs)
            .filter_map(|x| x.result.as_ref()?.file_name())
            .collect();
        kept.insert(FILE.into());
        // Result files of statements no record names (expired, reset, never finished).
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let stale = entry.file_type()?.is_file() && !kept.contains(&entry.file_name());
            if stale && let Err(e) = std::fs::remove_file(entry.path()) {
                tracing::warn!("removing {}: {e}", entry.path().display());
            }
        }
        let mut j = Journal {
            out: BufWriter::new(create(&path, false)?),
            path,
            lines: 0,
        };
        j.rewrite(stmts.iter())?;
        Ok((j, stmts))
    }

    /// Appends `s`'s record; a failure is logged (the statement still runs, it would only
    /// be forgotten by a restart).
    pub fn write<'a>(&mut self, s: &Stmt, live: impl Iterator<Item = &'a Stmt>, count: usize) {
        let written = serde_json::to_writer(&mut self.out, &record(s))
            .map_err(std::io::Error::from)
            .and_then(|()| self.out.write_all(b"\n"))
            .and_then(|()| self.out.flush());
        if let Err(e) = written {
            tracing::warn!("writing the Data API journal: {e}");
        }
        self.lines += 1;
        if self.lines > 2 * count + SLACK
            && let Err(e) = self.rewrite(live)
        {
            tracing::warn!("rewriting the Data API journal: {e}");
        }
    }

    /// Replaces the file with one line per statement of `live`, atomically.
    pub fn rewrite<'a>(&mut self, live: impl Iterator<Item = &'a Stmt>) -> std::io::Result<()> {
        let tmp = self.path.with_extension("tmp");
        let mut out = BufWriter::new(create(&tmp, true)?);
        let mut n = 0;
        for s in live {
            serde_json::to_writer(&mut out, &record(s))?;
            out.write_all(b"\n")?;
            n += 1;
        }
        out.flush()?;
        std::fs::rename(&tmp, &self.path)?;
        self.out = BufWriter::new(create(&self.path, false)?);
        self.lines = n;
        Ok(())
    }
}
