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
