//! The Redshift Data API (`redshift-data`): statements submitted over HTTP run
//! asynchronously on the clusters' real databases through the [`SqlBackend`] seam; their
//! status and sessions are kept in memory and their rows in files, streamed there while the
//! statement runs, for 24 hours of virtual time. The catalog operations read the cluster's
//! catalog synchronously; `SecretArn` names a secret registered with tidemark ([`Secrets`]).

mod auth;
mod backend;
mod catalog;
mod columns;
mod error;
mod execute;
mod journal;
mod params;
mod result_file;
mod results;
mod secrets;
mod state;
mod statements;
mod worker;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use tidemark_model::redshift_data::*;
use tidemark_model::{OpError, RequestContext};

pub use backend::{
    CancelHandle, Column, ConnectError, Outcome, Password, RowSink, SqlBackend, SqlFailure,
    SqlSession, Summary, Target, ValueKind,
};
pub use columns::{Origin, column};
pub use error::DataError;
pub use params::{ParamError, bind, quote_literal};
pub use result_file::{RESULT_TOO_LARGE, ROW_TOO_LARGE};
pub use results::{MAX_RESULT_BYTES, MAX_ROW_BYTES};
pub use secrets::{FILE_NAME as SECRETS_FILE, SecretError, Secrets};

use result_file::Limits;
use state::State;

/// Where results are written: a directory of the data dir, or a private temporary one.
pub(crate) struct ResultsDir {
    pub path: PathBuf,
    /// Removed (with every file in it) when the service goes, for a temporary directory.
    _temp: Option<tempfile::TempDir>,
}

impl ResultsDir {
    /// The file of part `n` of statement `id`.
    pub fn file(&self, id: &str, n: usize) -> PathBuf {
        self.path.join(format!("{id}-{n}.rows"))
    }
}

/// What the workers share with the request handlers.
pub(crate) struct Inner {
    pub backend: Arc<dyn SqlBackend>,
    /// The virtual clock's now.
    pub now: Box<dyn Fn() -> Timestamp + Send + Sync>,
    pub state: Mutex<State>,
    pub results: ResultsDir,
    pub limits: Limits,
    /// The secrets `SecretArn` may name.
    pub secrets: Secrets,
}

impl Inner {
    /// The state, after forgetting what expired.
    pub fn lock(&self) -> Result<std::sync::MutexGuard<'_, State>, DataError> {
        let mut st = self
            .state
            .lock()
            .map_err(|_| DataError::Internal("Data API state lock poisoned".into()))?;
        st.expire((self.now)());
        Ok(st)
    }
}

/// The service behind `RedshiftData.<Op>`.
pub struct RedshiftDataService {
    inner: Arc<Inner>,
}

impl RedshiftDataService {
    /// A service whose results live in a private temporary directory, removed with it (for
    /// `--in-memory` and tests). Should none be creatable, statements that return rows fail
    /// with the reason and the rest works.
    pub fn new(
        backend: Arc<dyn SqlBackend>,
        now: Box<dyn Fn() -> Timestamp + Send + Sync>,
    ) -> Arc<Self> {
        let results = match temp_results() {
            Ok(r) => r,
            Err(e) => {
                tracing::error!("no directory for Data API results: {e}");
                ResultsDir {
                    path: std::env::temp_dir().join("tidemark-redshift-data-unavailable"),
                    _temp: None,
                }
            }
        };
        Self::build(backend, now, results)
    }

    /// A service that keeps its statements' records and results under `dir` (the data
    /// directory's `redshift-data/`), so that they answer after a restart for their 24
    /// hours; statements that were running when the server stopped are FAILED.
    pub fn with_results_dir(
        backend: Arc<dyn SqlBackend>,
        now: Box<dyn Fn() -> Timestamp + Send + Sync>,
        dir: &Path,
    ) -> std::io::Result<Arc<Self>> {
        std::fs::create_dir_all(dir)?;
        let (journal, stmts) = journal::Journal::open(dir)?;
        let svc = Self::build(
            backend,
            now,
            ResultsDir {
                path: dir.to_owned(),
                _temp: None,
            },
        );
        if let Ok(mut st) = svc.inner.state.lock() {
            for s in stmts {
                st.insert(s);
            }
            st.next_query_id = st
                .stmts
                .values()
                .flat_map(|s| &s.subs)
                .map(|x| x.query_id)
                .max()
                .unwrap_or(0);
            st.journal = Some(journal);
        }
        Ok(svc)
    }

    fn build(
        backend: Arc<dyn SqlBackend>,
        now: Box<dyn Fn() -> Timestamp + Send + Sync>,
        results: ResultsDir,
    ) -> Arc<Self> {
        Arc::new(Self {
            inner: Arc::new(Inner {
                backend,
                now,
                state: Mutex::new(State::default()),
                results,
                limits: Limits::AWS,
                secrets: Secrets::default(),
            }),
        })
    }

    /// The registered secrets (the admin route's way in).
    pub fn secrets(&self) -> &Secrets {
        &self.inner.secrets
    }

    /// Keeps the secrets in `path` (in the data directory), loading those it holds.
    pub fn open_secrets(&self, path: &std::path::Path) -> Result<(), SecretError> {
        self.inner.secrets.open(path)
    }

    /// Forgets every statement, session and secret (admin reset); running statements finish
    /// into nothing. Result files go with their statements.
    pub fn reset(&self) {
        let old = match self.inner.state.lock() {
            Ok(mut st) => {
                let mut old = std::mem::take(&mut *st);
                st.journal = old.journal.take();
                if let Some(j) = &mut st.journal
                    && let Err(e) = j.rewrite(std::iter::empty())
                {
                    tracing::warn!("emptying the Data API journal: {e}");
                }
                old
            }
            Err(_) => return,
        };
        // Files are removed and connections closed outside the lock.
        for s in old.stmts.values() {
            s.discard_results();
        }
        if let Err(e) = self.inner.secrets.clear() {
            tracing::error!("resetting the Data API's secrets: {e}");
        }
        drop(old);
    }
}

fn temp_results() -> std::io::Result<ResultsDir> {
    let t = tempfile::Builder::new()
        .prefix("tidemark-redshift-data-")
        .tempdir_in(std::env::temp_dir())?;
    Ok(ResultsDir {
        path: t.path().to_owned(),
        _temp: Some(t),
    })
}

fn ts(t: Timestamp) -> Option<tidemark_model::Timestamp> {
    Some(tidemark_model::Timestamp(t))
}

impl RedshiftDataApi for RedshiftDataService {
    fn execute_statement(
        &self,
        ctx: &RequestContext,
        input: ExecuteStatementInput,
    ) -> Result<ExecuteStatementOutput, OpError<ExecuteStatementError>> {
        Ok(execute::execute(&self.inner, ctx, input)?)
    }

    fn batch_execute_statement(
        &self,
        ctx: &RequestContext,
        input: BatchExecuteStatementInput,
    ) -> Result<BatchExecuteStatementOutput, OpError<BatchExecuteStatementError>> {
        Ok(execute::batch(&self.inner, ctx, input)?)
    }

    fn describe_statement(
        &self,
        ctx: &RequestContext,
        input: DescribeStatementRequest,
    ) -> Result<DescribeStatementResponse, OpError<DescribeStatementError>> {
        Ok(statements::describe(&self.inner, ctx, input)?)
    }

    fn get_statement_result(
        &self,
        ctx: &RequestContext,
        input: GetStatementResultRequest,
    ) -> Result<GetStatementResultResponse, OpError<GetStatementResultError>> {
        Ok(statements::result(&self.inner, ctx, input)?)
    }

    fn get_statement_result_v2(
        &self,
        ctx: &RequestContext,
        input: GetStatementResultV2Request,
    ) -> Result<GetStatementResultV2Response, OpError<GetStatementResultV2Error>> {
        Ok(statements::result_v2(&self.inner, ctx, input)?)
    }

    fn list_statements(
        &self,
        ctx: &RequestContext,
        input: ListStatementsRequest,
    ) -> Result<ListStatementsResponse, OpError<ListStatementsError>> {
        Ok(statements::list(&self.inner, ctx, input)?)
    }

    fn cancel_statement(
        &self,
        ctx: &RequestContext,
        input: CancelStatementRequest,
    ) -> Result<CancelStatementResponse, OpError<CancelStatementError>> {
        Ok(statements::cancel(&self.inner, ctx, input)?)
    }

    fn list_databases(
        &self,
        ctx: &RequestContext,
        input: ListDatabasesRequest,
    ) -> Result<ListDatabasesResponse, OpError<ListDatabasesError>> {
        Ok(catalog::databases(&self.inner, ctx, input)?)
    }

    fn list_schemas(
        &self,
        ctx: &RequestContext,
        input: ListSchemasRequest,
    ) -> Result<ListSchemasResponse, OpError<ListSchemasError>> {
        Ok(catalog::schemas(&self.inner, ctx, input)?)
    }

    fn list_tables(
        &self,
        ctx: &RequestContext,
        input: ListTablesRequest,
    ) -> Result<ListTablesResponse, OpError<ListTablesError>> {
        Ok(catalog::tables(&self.inner, ctx, input)?)
    }

    fn describe_table(
        &self,
        ctx: &RequestContext,
        input: DescribeTableRequest,
    ) -> Result<DescribeTableResponse, OpError<DescribeTableError>> {
        Ok(catalog::describe(&self.inner, ctx, input)?)
    }

    fn list_sessions(
        &self,
        ctx: &RequestContext,
        input: ListSessionsRequest,
    ) -> Result<ListSessionsResponse, OpError<ListSessionsError>> {
        Ok(statements::list_sessions(&self.inner, ctx, input)?)
    }
}
