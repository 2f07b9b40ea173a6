//! The Data API's failures, one variant per wire code, and their conversion into every
//! operation's modelled error enum.

use thiserror::Error;
use tidemark_model::redshift_data::*;
use tidemark_model::{CommonError, OpError};

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DataError {
    /// `ValidationException` (400).
    #[error("{0}")]
    Validation(String),
    /// `ResourceNotFoundException` (400) naming the resource.
    #[error("{message}")]
    NotFound { message: String, resource: String },
    /// `ActiveStatementsExceededException` (400).
    #[error("{0}")]
    ActiveStatements(String),
    /// `ActiveSessionsExceededException` (400).
    #[error("{0}")]
    ActiveSessions(String),
    /// `DatabaseConnectionException` (500) where the operation models it; otherwise an
    /// internal error.
    #[error("{0}")]
    Connection(String),
    /// `QueryTimeoutException` (400) where the operation models it (the catalog reads);
    /// otherwise an internal error.
    #[error("{0}")]
    QueryTimeout(String),
    /// Logged, answered as `InternalServerException` without detail.
    #[error("{0}")]
    Internal(String),
}

impl DataError {
    pub fn statement_not_found(id: &str) -> Self {
        DataError::NotFound {
            message: "Query does not exist.".into(),
            resource: id.to_owned(),
        }
    }
}

/// Implements `From<DataError>` for an operation's `OpError`; `$conn` says whether the
/// operation models `DatabaseConnectionException` and `QueryTimeoutException`, `$active`
/// whether it models the two "exceeded" exceptions.
macro_rules! convert {
    ($err:ident, conn: $conn:tt, active: $active:tt) => {
        impl From<DataError> for OpError<$err> {
            fn from(e: DataError) -> Self {
                match e {
                    DataError::Validation(m) => OpError::Modeled($err::validation_exception(m)),
                    DataError::NotFound { message, resource } => {
                        OpError::Modeled($err::ResourceNotFoundException(
                            ResourceNotFoundException {
                                message: Some(message),
                                resource_id: Some(resource),
                            },
                        ))
                    }
                    DataError::ActiveStatements(m) => convert!(@active $active, $err, m, active_statements_exceeded_exception),
                    DataError::ActiveSessions(m) => convert!(@active $active, $err, m, active_sessions_exceeded_exception),
                    DataError::Connection(m) => convert!(@conn $conn, $err, m),
                    DataError::QueryTimeout(m) => convert!(@timeout $conn, $err, m),
                    DataError::Internal(m) => OpError::Common(CommonError::Internal(m)),
                }
            }
        }
    };
    (@active true, $err:ident, $m:ident, $ctor:ident) => {
        OpError::Modeled($err::$ctor($m))
    };
    (@active false, $err:ident, $m:ident, $ctor:ident) => {
        OpError::Common(CommonError::Validation($m))
    };
    (@conn true, $err:ident, $m:ident) => {
        OpError::Modeled($err::database_connection_exception($m))
    };
    (@conn false, $err:ident, $m:ident) => {
        OpError::Common(CommonError::Internal($m))
    };
    (@timeout true, $err:ident, $m:ident) => {
        OpError::Modeled($err::query_timeout_exception($m))
    };
    (@timeout false, $err:ident, $m:ident) => {
        OpError::Common(CommonError::Internal($m))
    };
}

convert!(ExecuteStatementError, conn: false, active: true);
convert!(BatchExecuteStatementError, conn: false, active: true);
convert!(DescribeStatementError, conn: false, active: false);
convert!(GetStatementResultError, conn: false, active: false);
convert!(GetStatementResultV2Error, conn: false, active: false);
convert!(CancelStatementError, conn: true, active: false);
convert!(ListStatementsError, conn: false, active: false);
convert!(ListDatabasesError, conn: true, active: false);
convert!(ListSchemasError, conn: true, active: false);
convert!(ListTablesError, conn: true, active: false);
convert!(DescribeTableError, conn: true, active: false);
convert!(ListSessionsError, conn: false, active: false);
