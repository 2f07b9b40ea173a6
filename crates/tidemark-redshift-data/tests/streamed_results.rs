//! A statement's result goes to disk while it is produced and is paged from there: a 200 MB
//! result leaves the process's peak memory (VmHWM) almost where it was, its file is the
//! size of its rows, pages come back in order, and the file goes with its statement (reset,
//! expiry). The rows come from a test backend that makes them one at a time, as the
//! PostgreSQL backend streams them.
//!
//! The memory check reads this process's VmHWM, so this file holds one test per concern and
//! the memory test runs alone in its binary's first (and only heavy) test.

use std::path::Path;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tidemark_core::{AccountId, RequestContext};
use tidemark_model::OpError;
use tidemark_model::redshift_data::*;
use tidemark_redshift_data::{
    CancelHandle, Column, ConnectError, Outcome, RedshiftDataService, RowSink, SqlBackend,
    SqlFailure, SqlSession, Summary, Target, ValueKind,
};

/// Makes `rows` rows of one `width`-byte text column for `SELECT <rows> <width>`.
struct Generator {
    /// Rows the sink took, over all statements.
    delivered: Arc<AtomicU64>,
}

struct GenSession {
    delivered: Arc<AtomicU64>,
}

impl SqlBackend for Generator {
    fn check(&self, _: &str, _: &str, _: &str) -> Result<(), ConnectError> {
        Ok(())
    }
    fn connect(&self, _: &Target) -> Result<Box<dyn SqlSession>, ConnectError> {
        Ok(Box::new(GenSession {
            delivered: self.delivered.clone(),
        }))
    }
}

impl SqlSession for GenSession {
    fn pid(&self) -> i64 {
        42
    }
    fn run(&mut self, _: &str) -> Result<Outcome, SqlFailure> {
        Ok(Outcome::default())
    }
    fn run_into(&mut self, sql: &str, sink: &mut dyn RowSink) -> Result<Summary, SqlFailure> {
        let mut words = sql.split_whitespace().skip(1);
        let mut num = || -> usize { words.next().and_then(|w| w.parse().ok()).unwrap_or(0) };
        let (rows, width) = (num(), num());
        let columns = vec![Column {
            name: "v".into(),
            type_name: "varchar".into(),
            kind: Some(ValueKind::String),
            ..Column::default()
        }];
        sink.columns(&columns)?;
        let mut value = String::with_capacity(width);
        for i in 0..rows {
            value.clear();
            value.push_str(&format!("{i:010}"));
            while value.len() < width {
                value.push('x');
            }
            // A refusal stops the statement here, as the PostgreSQL backend cancels it.
            sink.row(&[Some(&value)])?;
            self.delivered.fetch_add(1, Ordering::Relaxed);
        }
        Ok(Summary {
            columns: Some(columns),
            affected: None,
        })
    }
    fn cancel_handle(&self) -> CancelHandle {
        Box::new(|| {})
    }
}

struct Fixture {
    svc: Arc<RedshiftDataService>,
    dir: tempfile::TempDir,
    clock: Arc<AtomicI64>,
    ctx: RequestContext,
}

fn fixture() -> Fixture {
    reopen(tempfile::tempdir().expect("temporary directory"))
}

/// A service over `dir`, as a server restarted on the same data directory makes it.
fn reopen(dir: tempfile::TempDir) -> Fixture {
    let clock = Arc::new(AtomicI64::new(1_800_000_000));
    let now = clock.clone();
    let svc = RedshiftDataService::with_results_dir(
        Arc::new(Generator {
            delivered: Arc::new(AtomicU64::new(0)),
        }),
        Box::new(move || {
            jiff::Timestamp::from_second(now.load(Ordering::Relaxed)).expect("valid time")
        }),
        dir.path(),
    )
    .expect("results directory");
    Fixture {
        svc,
        dir,
        clock,
        ctx: RequestContext::new(AccountId::default_account(), "us-east-1", "test"),
    }
}

impl Fixture {
    /// Runs `sql` and waits for its final status; returns (id, DescribeStatement).
    fn run(&self, sql: &str) -> (String, DescribeStatementResponse) {
        let id = self
            .svc
            .execute_statement(
                &self.ctx,
                ExecuteStatementInput {
                    sql: Some(sql.into()),
                    cluster_identifier: Some("c1".into()),
                    database: Some("dev".into()),
                    db_user: Some("u".into()),
                    ..Default::default()
                },
            )
            .map_err(|_| "ExecuteStatement failed")
            .unwrap()
            .id
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let d = self.describe(&id).expect("the statement exists");
            let status = d.status.clone().unwrap_or_default();
            if ["FINISHED", "FAILED", "ABORTED"].contains(&status.as_str()) {
                return (id, d);
            }
            assert!(Instant::now() < deadline, "still {status}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn describe(&self, id: &str) -> Option<DescribeStatementResponse> {
        match self.svc.describe_statement(
            &self.ctx,
            DescribeStatementRequest {
                id: Some(id.into()),
                ..Default::default()
            },
        ) {
            Ok(d) => Some(d),
            Err(OpError::Modeled(DescribeStatementError::ResourceNotFoundException(_))) => None,
            Err(_) => panic!("DescribeStatement failed"),
        }
    }

    fn page(&self, id: &str, token: Option<String>) -> GetStatementResultResponse {
        self.svc
            .get_statement_result(
                &self.ctx,
                GetStatementResultRequest {
                    id: Some(id.into()),
                    next_token: token,
                    ..Default::default()
                },
            )
            .map_err(|_| "GetStatementResult failed")
            .unwrap()
    }

    fn files(&self) -> Vec<u64> {
        files(self.dir.path())
    }
}

/// Sizes of the result files (the journal beside them is not one).
fn files(dir: &Path) -> Vec<u64> {
    std::fs::read_dir(dir)
        .expect("readable directory")
        .map(|e| e.expect("entry"))
        .filter(|e| e.path().extension().is_some_and(|x| x == "rows"))
        .map(|e| e.metadata().expect("metadata").len())
        .collect()
}

/// This process's peak resident memory, in KiB.
fn vm_hwm_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

/// A lock so that the memory test measures no other test's allocations.
static ALONE: Mutex<()> = Mutex::new(());

#[test]
fn a_200_mb_result_goes_to_disk_not_to_memory() {
    let _alone = ALONE.lock();
    let f = fixture();
    // Warm up the threads and allocator before the baseline.
    f.run("SELECT 10 100");
    let before = vm_hwm_kib();
    // 25,600 rows of 8 KiB: 200 MiB of text.
    let (id, d) = f.run("SELECT 25600 8192");
    let grown_mib = (vm_hwm_kib().saturating_sub(before)) / 1024;
    assert_eq!(d.status.as_deref(), Some("FINISHED"), "{:?}", d.error);
    assert_eq!(d.result_rows, Some(25_600));
    assert_eq!(d.result_size, Some(25_600 * 8192));
    // Held in memory, the result alone would add 200 MiB; streamed, a page or two.
    assert!(grown_mib < 32, "peak memory grew by {grown_mib} MiB");
    // The file holds the text and a 4-byte length per value (beside the warm-up's).
    let sizes = f.files();
    assert!(sizes.contains(&(25_600 * (8192 + 4))), "{sizes:?}");
    // The first page, then a page from the middle by its token, read from the file.
    let first = f.page(&id, None);
    assert_eq!(first.total_num_rows, Some(25_600));
    let recs = first.records.as_deref().unwrap_or_default();
    let n = recs.len();
    assert!((100..=128).contains(&n), "{n} records on a 1 MiB page");
    assert!(
        recs[0][0]
            .string_value
            .as_deref()
            .is_some_and(|v| v.starts_with("0000000000x"))
    );
    let mut token = first.next_token;
    let mut seen = n;
    for _ in 0..50 {
        let p = f.page(&id, token.take());
        let recs = p.records.unwrap_or_default();
        let want = format!("{seen:010}x");
        assert!(
            recs[0][0]
                .string_value
                .as_deref()
                .is_some_and(|v| v.starts_with(&want))
        );
        seen += recs.len();
        token = p.next_token;
    }
    // Reading pages does not grow memory by the result either.
    let grown_mib = (vm_hwm_kib().saturating_sub(before)) / 1024;
    assert!(grown_mib < 32, "peak memory grew by {grown_mib} MiB");
    // The admin reset removes the file with the statement.
    f.svc.reset();
    assert!(f.files().is_empty());
}

#[test]
fn the_limits_fail_the_statement_with_awss_message_and_keep_no_rows() {
    let _alone = ALONE.lock();
    let f = fixture();
    let (id, d) = f.run("SELECT 10 70000");
    assert_eq!(d.status.as_deref(), Some("FAILED"));
    assert_eq!(
        d.error.as_deref(),
        Some("Packet for query is too large: a row exceeds 64 KB")
    );
    assert_eq!(d.has_result_set, Some(false));
    assert!(f.files().is_empty());
    let e = f.svc.get_statement_result(
        &f.ctx,
        GetStatementResultRequest {
            id: Some(id),
            ..Default::default()
        },
    );
    assert!(e.is_err());
}

#[test]
fn results_expire_with_their_statement_after_24_hours() {
    let _alone = ALONE.lock();
    let f = fixture();
    let (id, d) = f.run("SELECT 1000 100");
    assert_eq!(d.result_rows, Some(1000));
    assert_eq!(f.files().len(), 1);
    f.clock.fetch_add(24 * 3600 - 1, Ordering::Relaxed);
    assert!(f.describe(&id).is_some());
    assert_eq!(f.files().len(), 1);
    f.clock.fetch_add(1, Ordering::Relaxed);
    assert!(f.describe(&id).is_none());
    assert!(f.files().is_empty());
}

#[test]
fn a_token_that_is_not_a_page_start_is_refused() {
    let _alone = ALONE.lock();
    let f = fixture();
    let (id, _) = f.run("SELECT 5000 1000");
    let first = f.page(&id, None);
    assert!(first.next_token.is_some());
    let e = f.svc.get_statement_result(
        &f.ctx,
        GetStatementResultRequest {
            id: Some(id.clone()),
            next_token: Some(format!("{id}/1")),
            ..Default::default()
        },
    );
    assert!(matches!(
        e,
        Err(OpError::Modeled(
            GetStatementResultError::ValidationException(_)
        ))
    ));
}

#[test]
fn records_and_results_answer_after_a_restart() {
    let _alone = ALONE.lock();
    let f = fixture();
    let (id, d) = f.run("SELECT 5000 1000");
    let (failed, _) = f.run("SELECT 1 70000");
    let mut pages = Vec::new();
    let mut token = None;
    loop {
        let p = f.page(&id, token.take());
        token = p.next_token.clone();
        pages.push(p);
        if token.is_none() {
            break;
        }
    }
    // A stray file (a statement that never finished) goes at the restart.
    std::fs::write(f.dir.path().join("stray-0.rows"), b"x").expect("write");
    let Fixture { svc, dir, .. } = f;
    drop(svc);
    let f = reopen(dir);
    assert_eq!(f.files().len(), 1);
    let again = f.describe(&id).expect("kept");
    assert_eq!(
        (
            again.status,
            again.result_rows,
            again.result_size,
            again.redshift_query_id
        ),
        (d.status, d.result_rows, d.result_size, d.redshift_query_id)
    );
    let mut token = None;
    for want in &pages {
        let p = f.page(&id, token.take());
        assert_eq!(p.records, want.records);
        assert_eq!(p.column_metadata, want.column_metadata);
        token = p.next_token;
    }
    assert!(token.is_none());
    let e = f.describe(&failed).expect("kept");
    assert_eq!(
        e.error.as_deref(),
        Some("Packet for query is too large: a row exceeds 64 KB")
    );
    // New statements number their queries after the restored ones.
    let (_, next) = f.run("SELECT 1 1");
    assert!(next.redshift_query_id > d.redshift_query_id);
    // The reset forgets them for the next restart too.
    f.svc.reset();
    let Fixture { svc, dir, .. } = f;
    drop(svc);
    let f = reopen(dir);
    assert!(f.describe(&id).is_none());
    assert!(f.files().is_empty());
}
