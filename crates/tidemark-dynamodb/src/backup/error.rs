//! The backup/PITR family's error type and its mapping onto each operation's generated error
//! enum. This family answers `TableNotFoundException` (not `ResourceNotFoundException`) for
//! a missing table (reference §2.3, Appendix A), so it has its own variants.

use tidemark_model::dynamodb::*;
use tidemark_model::{CommonError, OpError};

use crate::error::DdbError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BkError {
    #[error("{0}")]
    Validation(String),
    /// `AccessDeniedException`: another account's ARN (`DdbError::access_denied`).
    #[error("{0}")]
    AccessDenied(String),
    #[error("{0}")]
    TableNotFound(String),
    #[error("{0}")]
    BackupNotFound(String),
    #[error("{0}")]
    BackupInUse(String),
    #[error("{0}")]
    TableAlreadyExists(String),
    #[error("{0}")]
    TableInUse(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    PitrUnavailable(String),
    #[error("{0}")]
    InvalidRestoreTime(String),
    #[error("{0}")]
    Internal(String),
}

pub type BkResult<T> = Result<T, BkError>;

impl BkError {
    pub fn validation(m: impl Into<String>) -> BkError {
        BkError::Validation(m.into())
    }

    pub fn internal(e: impl std::fmt::Display) -> BkError {
        BkError::Internal(e.to_string())
    }

    /// `Table not found: <name>` (the family's message for a missing or CREATING table).
    pub fn table_not_found(name: &str) -> BkError {
        BkError::TableNotFound(format!("Table not found: {name}"))
    }

    pub fn backup_not_found(arn: &str) -> BkError {
        BkError::BackupNotFound(format!("Backup not found: {arn}"))
    }
}

impl From<DdbError> for BkError {
    fn from(e: DdbError) -> Self {
        match e {
            DdbError::Validation(m) => BkError::Validation(m),
            DdbError::AccessDenied(m) => BkError::AccessDenied(m),
            DdbError::LimitExceeded(m) => BkError::LimitExceeded(m),
            other => BkError::Internal(other.to_string()),
        }
    }
}

impl From<tidemark_store::StoreError> for BkError {
    fn from(e: tidemark_store::StoreError) -> Self {
        BkError::internal(e)
    }
}

impl From<tidemark_vault::VaultError> for BkError {
    fn from(e: tidemark_vault::VaultError) -> Self {
        BkError::internal(format!("vault: {e}"))
    }
}

/// Like `error.rs`'s `op_error!`: listed variants map to the operation's modeled error,
/// anything the model does not declare for the operation becomes InternalServerError.
macro_rules! bk_error {
    ($ty:ident { $($variant:ident => $ctor:ident),* $(,)? }) => {
        impl From<BkError> for OpError<$ty> {
            fn from(e: BkError) -> Self {
                match e {
                    BkError::Validation(m) => OpError::Common(CommonError::Validation(m)),
                    BkError::AccessDenied(m) => OpError::Common(CommonError::AccessDenied(m)),
                    $(BkError::$variant(m) => OpError::Modeled($ty::$ctor(m)),)*
                    other => OpError::Common(CommonError::Internal(other.to_string())),
                }
            }
        }
    };
}

bk_error!(CreateBackupError {
    TableNotFound => table_not_found_exception,
    BackupInUse => backup_in_use_exception,
    LimitExceeded => limit_exceeded_exception,
});
bk_error!(DescribeBackupError { BackupNotFound => backup_not_found_exception });
bk_error!(DeleteBackupError {
    BackupNotFound => backup_not_found_exception,
    BackupInUse => backup_in_use_exception,
    LimitExceeded => limit_exceeded_exception,
});
bk_error!(ListBackupsError {});
bk_error!(DescribeContinuousBackupsError { TableNotFound => table_not_found_exception });
bk_error!(UpdateContinuousBackupsError { TableNotFound => table_not_found_exception });
bk_error!(RestoreTableFromBackupError {
    TableAlreadyExists => table_already_exists_exception,
    TableInUse => table_in_use_exception,
    BackupNotFound => backup_not_found_exception,
    BackupInUse => backup_in_use_exception,
    LimitExceeded => limit_exceeded_exception,
});
bk_error!(RestoreTableToPointInTimeError {
    TableAlreadyExists => table_already_exists_exception,
    TableNotFound => table_not_found_exception,
    TableInUse => table_in_use_exception,
    LimitExceeded => limit_exceeded_exception,
    InvalidRestoreTime => invalid_restore_time_exception,
    PitrUnavailable => point_in_time_recovery_unavailable_exception,
});
