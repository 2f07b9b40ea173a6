//! The awsJson1_1 protocol of the Redshift Data API (`X-Amz-Target: RedshiftData.<Op>`):
//! routing, decoding, calling [`RedshiftDataApi`] on a blocking thread, and errors as
//! `{"__type": "<Shape>", "message": …}` with the model's codes and statuses.

use std::sync::Arc;

use axum::http::{StatusCode, request::Parts};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Map, Value};
use tidemark_auth::Service;
use tidemark_model::redshift_data::{REDSHIFT_DATA, RedshiftDataApi};
use tidemark_model::{CommonError, DispatchError, coral_message};

use crate::json::{JsonError, parse_body, route};
use crate::server::{Services, authenticate, body_response};

const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// Whether a request's target names the Data API (`RedshiftData.<Op>`) rather than DynamoDB.
pub fn is_target(parts: &Parts) -> bool {
    let prefix = REDSHIFT_DATA.target_prefix.unwrap_or_default();
    parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.split_once('.'))
        .is_some_and(|(p, _)| p == prefix)
}

/// A Data API without a backend: every operation answers that tidemark does not implement
/// it (for embedders and harnesses that serve only DynamoDB and Redshift).
pub struct NoRedshiftData;

impl RedshiftDataApi for NoRedshiftData {}

/// One request: route, authenticate, parse, run on a blocking thread, render.
pub async fn handle(services: &Services, parts: &Parts, body: Bytes, rid: String) -> Response {
    let prefix = REDSHIFT_DATA.target_prefix.unwrap_or_default();
    let op = match route(&parts.method, parts.uri.path(), &parts.headers, prefix) {
        Ok(op) => op.to_owned(),
        Err(e) => return respond(Err(reshape(e)), &rid),
    };
    let ctx = match authenticate(services, parts, &body, Service::RedshiftData, &rid) {
        Ok(ctx) => ctx,
        Err((code, status, message)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            return respond(
                Err(reshape(JsonError::new(status, code, Some(message)))),
                &rid,
            );
        }
    };
    let input = match parse_body(&body) {
        Ok(v) => v,
        Err(e) => return respond(Err(reshape(e)), &rid),
    };
    let api: Arc<dyn RedshiftDataApi> = services.redshift_data.clone();
    // Handlers may talk to a cluster's database (catalog listings, sessions): never on an
    // async worker.
    let result = tokio::task::spawn_blocking(move || {
        tidemark_model::redshift_data::dispatch_redshift_data(&*api, &ctx, &op, input)
    })
    .await;
    let result = match result {
        Ok(r) => r.map_err(|e| from_dispatch(e, &rid)),
        Err(join) => {
            tracing::error!(request_id = %rid, error = %join, "handler panicked");
            Err(internal())
        }
    };
    respond(result, &rid)
}

/// The Data API's framework errors name the bare shape (no coral namespace).
fn reshape(mut e: JsonError) -> JsonError {
    if let Some((_, name)) = e.type_name.rsplit_once('#') {
        e.type_name = name.to_owned();
    }
    e
}

fn internal() -> JsonError {
    JsonError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalServerException",
        Some("Internal server error".into()),
    )
}

fn from_dispatch(err: DispatchError, request_id: &str) -> JsonError {
    match err {
        DispatchError::UnknownOperation(_) => {
            JsonError::new(StatusCode::BAD_REQUEST, "UnknownOperationException", None)
        }
        DispatchError::Serialization(m) => reshape(JsonError::serialization(m)),
        DispatchError::Invalid(v) => validation(coral_message(&v)),
        DispatchError::Modeled(m) => {
            let status =
                StatusCode::from_u16(m.info.http_status).unwrap_or(StatusCode::BAD_REQUEST);
            let extra = match m.body {
                Value::Object(o) => o,
                _ => Map::new(),
            };
            let mut e = JsonError::new(status, m.shape, None);
            e.extra = Box::new(extra);
            e
        }
        DispatchError::Common(c) => match c {
            CommonError::Validation(m)
            | CommonError::InvalidParameterValue(m)
            | CommonError::InvalidParameterCombination(m)
            | CommonError::MissingParameter(m) => validation(m),
            CommonError::Throttling(m) => {
                JsonError::new(StatusCode::BAD_REQUEST, "ThrottlingException", Some(m))
            }
            CommonError::AccessDenied(m) => {
                JsonError::new(StatusCode::BAD_REQUEST, "AccessDeniedException", Some(m))
            }
            CommonError::NotImplemented(op) => JsonError::new(
                StatusCode::BAD_REQUEST,
                "UnknownOperationException",
                Some(format!(
                    "tidemark does not implement the Redshift Data API operation {op} yet"
                )),
            ),
            CommonError::Internal(detail) => {
                tracing::error!(request_id, %detail, "internal error");
                internal()
            }
        },
    }
}

/// The model's `ValidationException` (400), whose member is `Message`.
fn validation(message: String) -> JsonError {
    let mut e = JsonError::new(StatusCode::BAD_REQUEST, "ValidationException", None);
    e.extra = Box::new(Map::from_iter([("Message".into(), Value::String(message))]));
    e
}

/// Renders a success or error body with the awsJson1_1 content type.
pub fn respond(result: Result<Value, JsonError>, request_id: &str) -> Response {
    let (status, v) = match result {
        Ok(v) => (StatusCode::OK, v),
        Err(e) => (e.status, e.body()),
    };
    let bytes = Bytes::from(serde_json::to_vec(&v).unwrap_or_else(|_| b"{}".to_vec()));
    body_response(status, CONTENT_TYPE, bytes, request_id)
}
