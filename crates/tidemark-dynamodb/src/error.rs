//! The service's internal error type and its mapping onto each operation's generated error
//! enum: one variant per DynamoDB error family, so handlers use `?` everywhere and the wire
//! code is decided in exactly one place (the `op_error!` table below).

use tidemark_model::dynamodb::*;
use tidemark_model::{CommonError, OpError};

use crate::attr::{AttrError, Item, KeyError};
use crate::expr::ExprError;

/// DynamoDB's ConditionalCheckFailedException message.
pub const CONDITION_FAILED: &str = "The conditional request failed";

/// The AccessDeniedException message AWS gives another account's ARN (reference Appendix A).
pub const ACCESS_DENIED: &str = "Access is denied";

/// Why a DynamoDB request failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DdbError {
    /// `com.amazon.coral.validate#ValidationException`.
    #[error("{0}")]
    Validation(String),
    /// `com.amazon.coral.service#AccessDeniedException`: a well-formed ARN of another
    /// account (see [`DdbError::access_denied`]).
    #[error("{0}")]
    AccessDenied(String),
    /// `ResourceNotFoundException`.
    #[error("{0}")]
    NotFound(String),
    /// `ResourceInUseException`.
    #[error("{0}")]
    InUse(String),
    /// `LimitExceededException`.
    #[error("{0}")]
    LimitExceeded(String),
    /// `ConditionalCheckFailedException`, with the old item when
    /// `ReturnValuesOnConditionCheckFailure=ALL_OLD` asked for it.
    #[error("{CONDITION_FAILED}")]
    ConditionFailed(Option<Item>),
    /// `TransactionCanceledException` (built by the transaction handlers themselves).
    #[error("{0}")]
    Canceled(String),
    /// Anything unexpected (store failures, corrupt records): InternalServerError.
    #[error("{0}")]
    Internal(String),
}

pub type DdbResult<T> = Result<T, DdbError>;

impl DdbError {
    pub fn validation(msg: impl Into<String>) -> DdbError {
        DdbError::Validation(msg.into())
    }

    pub fn internal(e: impl std::fmt::Display) -> DdbError {
        DdbError::Internal(e.to_string())
    }

    /// AWS's answer to an ARN naming another account's resource: observed for backup ARNs
    /// (reference §2.5, §2.6, §2.10, Appendix A), and given here for every other ARN of
    /// another account whose answer the reference does not record.
    pub fn access_denied() -> DdbError {
        DdbError::AccessDenied(ACCESS_DENIED.into())
    }

    /// The item APIs' message for a missing (or not yet ACTIVE) table (reference Appendix A).
    pub fn item_table_not_found() -> DdbError {
        DdbError::NotFound("Requested resource not found".into())
    }

    /// DescribeTable/TTL/tags family message.
    pub fn table_not_found(name: &str) -> DdbError {
        DdbError::NotFound(format!(
            "Requested resource not found: Table: {name} not found"
        ))
    }
}

impl From<tidemark_store::StoreError> for DdbError {
    fn from(e: tidemark_store::StoreError) -> Self {
        DdbError::internal(e)
    }
}

impl From<ExprError> for DdbError {
    fn from(e: ExprError) -> Self {
        DdbError::Validation(e.to_string())
    }
}

impl From<AttrError> for DdbError {
    fn from(e: AttrError) -> Self {
        DdbError::Validation(e.to_string())
    }
}

impl From<KeyError> for DdbError {
    fn from(e: KeyError) -> Self {
        DdbError::Validation(e.to_string())
    }
}

/// The ConditionalCheckFailedException body, with the old item in the model's form.
fn ccf(message: String, item: Option<Item>) -> ConditionalCheckFailedException {
    ConditionalCheckFailedException {
        message: Some(message),
        item: item.map(crate::convert::item_to_model),
    }
}

/// `impl From<DdbError> for OpError<XError>`: each listed family maps to the operation's
/// modeled constructor; families the operation's model lacks become InternalServerError
/// (they cannot happen for that operation by construction).
macro_rules! op_error {
    ($ty:ident { $($variant:ident => $ctor:ident),* $(,)? } $(ccf $ccf:ident)?) => {
        impl From<DdbError> for OpError<$ty> {
            fn from(e: DdbError) -> Self {
                match e {
                    DdbError::Validation(m) => OpError::Common(CommonError::Validation(m)),
                    DdbError::AccessDenied(m) => OpError::Common(CommonError::AccessDenied(m)),
                    $(DdbError::$variant(m) => OpError::Modeled($ty::$ctor(m)),)*
                    $(DdbError::ConditionFailed(item) => OpError::Modeled($ty::$ccf(ccf(
                        CONDITION_FAILED.to_string(),
                        item,
                    ))),)?
                    other => OpError::Common(CommonError::Internal(other.to_string())),
                }
            }
        }
    };
}

op_error!(CreateTableError { InUse => resource_in_use_exception, LimitExceeded => limit_exceeded_exception });
op_error!(DescribeTableError { NotFound => resource_not_found_exception });
op_error!(UpdateTableError {
    InUse => resource_in_use_exception,
    NotFound => resource_not_found_exception,
    LimitExceeded => limit_exceeded_exception,
});
op_error!(DeleteTableError {
    InUse => resource_in_use_exception,
    NotFound => resource_not_found_exception,
    LimitExceeded => limit_exceeded_exception,
});
op_error!(ListTablesError {});
op_error!(PutItemError { NotFound => resource_not_found_exception } ccf ConditionalCheckFailedException);
op_error!(UpdateItemError { NotFound => resource_not_found_exception } ccf ConditionalCheckFailedException);
op_error!(DeleteItemError { NotFound => resource_not_found_exception } ccf ConditionalCheckFailedException);
op_error!(GetItemError { NotFound => resource_not_found_exception });
op_error!(QueryError { NotFound => resource_not_found_exception });
op_error!(ScanError { NotFound => resource_not_found_exception });
op_error!(BatchGetItemError { NotFound => resource_not_found_exception });
op_error!(BatchWriteItemError { NotFound => resource_not_found_exception });
op_error!(TransactWriteItemsError { NotFound => resource_not_found_exception });
op_error!(TransactGetItemsError { NotFound => resource_not_found_exception });
op_error!(TagResourceError {
    LimitExceeded => limit_exceeded_exception,
    NotFound => resource_not_found_exception,
    InUse => resource_in_use_exception,
});
op_error!(UntagResourceError {
    LimitExceeded => limit_exceeded_exception,
    NotFound => resource_not_found_exception,
    InUse => resource_in_use_exception,
});
op_error!(ListTagsOfResourceError { NotFound => resource_not_found_exception });
op_error!(UpdateTimeToLiveError {
    InUse => resource_in_use_exception,
    NotFound => resource_not_found_exception,
    LimitExceeded => limit_exceeded_exception,
});
op_error!(DescribeTimeToLiveError { NotFound => resource_not_found_exception });
op_error!(DescribeLimitsError {});
