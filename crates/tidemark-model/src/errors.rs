//! The error tiers every generated operation uses: modeled errors (one enum per operation,
//! generated), errors common to a service but absent from the model ([`CommonError`]), and the
//! dispatcher's own failures ([`DispatchError`]). Protocol crates map each to one wire code.

use crate::schema::ErrorInfo;
use crate::validate::{Violation, coral_message};

/// Errors not listed in an operation's model. Each maps to exactly one wire code per protocol
/// (mapping lives in the wire crate).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommonError {
    /// DynamoDB `com.amazon.coral.validate#ValidationException`; Redshift `ValidationError`.
    #[error("{0}")]
    Validation(String),
    /// Redshift common error `InvalidParameterValue` (400).
    #[error("{0}")]
    InvalidParameterValue(String),
    /// Redshift common error `InvalidParameterCombination` (400).
    #[error("{0}")]
    InvalidParameterCombination(String),
    /// Redshift common error `MissingParameter` (400).
    #[error("{0}")]
    MissingParameter(String),
    #[error("{0}")]
    Throttling(String),
    /// The request names a resource of another account (DynamoDB answers
    /// `com.amazon.coral.service#AccessDeniedException` 400, reference Appendix A).
    #[error("{0}")]
    AccessDenied(String),
    /// The operation (named) has no handler in this emulator.
    #[error("operation {0} is not implemented")]
    NotImplemented(&'static str),
    /// An unexpected failure: logged under the request id, rendered without detail as
    /// `InternalServerError`/`InternalFailure` 500.
    #[error("internal error: {0}")]
    Internal(String),
}

/// What a handler returns on failure: one of its modeled errors or a common one.
#[derive(Debug, Clone, PartialEq)]
pub enum OpError<E> {
    Modeled(E),
    Common(CommonError),
}

impl<E> From<CommonError> for OpError<E> {
    fn from(e: CommonError) -> Self {
        OpError::Common(e)
    }
}

/// Implemented by every generated per-operation error enum.
pub trait ModeledError {
    /// The exception shape's name in the model (e.g. `TableNotFoundException`).
    fn shape_name(&self) -> &'static str;
    /// Wire code, HTTP status and fault side, from the model.
    fn info(&self) -> ErrorInfo;
    /// The exception structure serialized to JSON (wire member names as keys).
    fn body(&self) -> serde_json::Value;
}

/// A modeled error with its static identity resolved, ready for a protocol to render.
#[derive(Debug, Clone)]
pub struct ModeledErrorValue {
    pub shape: &'static str,
    pub info: ErrorInfo,
    pub body: serde_json::Value,
}

impl ModeledErrorValue {
    pub fn from_error<E: ModeledError + ?Sized>(e: &E) -> Self {
        Self {
            shape: e.shape_name(),
            info: e.info(),
            body: e.body(),
        }
    }

    /// The human message, whichever casing the shape uses (`message` or `Message`).
    pub fn message(&self) -> Option<&str> {
        self.body
            .get("message")
            .or_else(|| self.body.get("Message"))
            .and_then(|m| m.as_str())
    }
}

/// Why a dispatched call did not produce an output.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DispatchError {
    #[error("unknown operation {0}")]
    UnknownOperation(String),
    /// The body does not fit the input shape's types (message names the member).
    #[error("{0}")]
    Serialization(String),
    /// Model constraint violations, in model order.
    #[error("{}", coral_message(.0))]
    Invalid(Vec<Violation>),
    #[error("modeled error {}", .0.shape)]
    Modeled(ModeledErrorValue),
    #[error(transparent)]
    Common(CommonError),
}

impl<E: ModeledError> From<OpError<E>> for DispatchError {
    fn from(e: OpError<E>) -> Self {
        match e {
            OpError::Modeled(m) => DispatchError::Modeled(ModeledErrorValue::from_error(&m)),
            OpError::Common(c) => DispatchError::Common(c),
        }
    }
}

/// Serializes an exception structure for [`ModeledError::body`]. Generated structures have
/// string keys only, so serialization cannot fail; an empty object is the defensive fallback.
pub fn to_body<T: serde::Serialize>(e: &T) -> serde_json::Value {
    serde_json::to_value(e).unwrap_or_else(|_| serde_json::Value::Object(serde_json::Map::new()))
}
