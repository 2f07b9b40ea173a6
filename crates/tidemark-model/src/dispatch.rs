//! Decode/encode steps shared by the generated dispatchers: JSON → typed input (type check,
//! then constraint validation, then serde), typed output → JSON.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::errors::{CommonError, DispatchError};
use crate::schema::{ServiceModel, ShapeId};
use crate::typecheck::type_error;
use crate::validate::validate;

/// Turns a request body into the operation's typed input. A missing body (`null`) is `{}`.
pub fn decode_input<I: DeserializeOwned>(
    model: &ServiceModel,
    shape: ShapeId,
    input: Value,
) -> Result<I, DispatchError> {
    let input = if input.is_null() {
        Value::Object(serde_json::Map::new())
    } else {
        input
    };
    if let Some(msg) = type_error(model, shape, &input) {
        return Err(DispatchError::Serialization(msg));
    }
    let violations = validate(model, shape, &input);
    if !violations.is_empty() {
        return Err(DispatchError::Invalid(violations));
    }
    serde_json::from_value(input).map_err(|e| DispatchError::Serialization(e.to_string()))
}

/// Serializes a typed output. Generated structures always serialize (string keys only), so a
/// failure is an internal error rather than a client one.
pub fn encode_output<O: Serialize>(out: &O) -> Result<Value, DispatchError> {
    serde_json::to_value(out)
        .map_err(|e| DispatchError::Common(CommonError::Internal(format!("encoding output: {e}"))))
}

/// What an operation with a JSON-text escape hatch (see the `*_reply` methods of the service
/// traits) answers: its typed output, or the exact JSON text that output would serialize to,
/// written by the service itself (e.g. a Scan page that copies stored item JSON verbatim
/// instead of building, converting and re-serializing every attribute).
#[derive(Debug)]
pub enum Reply<O> {
    Typed(O),
    Json(Vec<u8>),
}

/// A response body from [`Reply`]-aware dispatch: a JSON value, or JSON text ready to send.
#[derive(Debug)]
pub enum Encoded {
    Value(Value),
    Json(Vec<u8>),
}

impl Encoded {
    /// The body as a JSON value (parses `Json`); for callers that inspect responses.
    pub fn into_value(self) -> Result<Value, DispatchError> {
        match self {
            Encoded::Value(v) => Ok(v),
            Encoded::Json(b) => serde_json::from_slice(&b).map_err(|e| {
                DispatchError::Common(CommonError::Internal(format!("encoded output: {e}")))
            }),
        }
    }
}

/// Encodes a [`Reply`]: typed outputs through [`encode_output`], JSON text as is.
pub fn encode_reply<O: Serialize>(reply: Reply<O>) -> Result<Encoded, DispatchError> {
    match reply {
        Reply::Typed(out) => encode_output(&out).map(Encoded::Value),
        Reply::Json(bytes) => Ok(Encoded::Json(bytes)),
    }
}
