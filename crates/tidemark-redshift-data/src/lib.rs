//! The Redshift Data API (`redshift-data`): statements submitted over HTTP run
//! asynchronously on the clusters' real databases through the [`SqlBackend`] seam; their
//! status, results and sessions are kept in memory for 24 hours of virtual time. The
//! catalog operations read the cluster's catalog synchronously; `SecretArn` names a secret
//! registered with tidemark ([`Secrets`]).

mod auth;
mod backend;
mod catalog;
mod columns;
mod error;
mod execute;
mod params;
mod results;
mod secrets;
mod state;
mod statements;
mod worker;

use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use tidemark_model::redshift_data::*;
use tidemark_model::{OpError, RequestContext};

pub use backend::{
    CancelHandle, Column, ConnectError, Outcome, Password, SqlBackend, SqlFailure, SqlSession,
    Target, ValueKind,
};
pub use columns::{Origin, column};
pub use error::DataError;
pub use params::{ParamError, bind, quote_literal};
pub use secrets::{FILE_NAME as SECRETS_FILE, SecretError, Secrets};

use state::State;

/// What the workers share with the request handlers.
pub(crate) struct Inner {
    pub backend: Arc<dyn SqlBackend>,
    /// The virtual clock's now.
    pub now: Box<dyn Fn() -> Timestamp + Send + Sync>,
    pub state: Mutex<State>,
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
    pub fn new(
        backend: Arc<dyn SqlBackend>,
        now: Box<dyn Fn() -> Timestamp + Send + Sync>,
    ) -> Arc<Self> {
        Arc::new(Self {
            inner: Arc::new(Inner {
                backend,
                now,
                state: Mutex::new(State::default()),
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
    /// into nothing.
    pub fn reset(&self) {
        if let Ok(mut st) = self.inner.state.lock() {
            *st = State::default();
        }
        if let Err(e) = self.inner.secrets.clear() {
            tracing::error!("resetting the Data API's secrets: {e}");
        }
    }
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
