//! The awsQuery protocol (Redshift): `Action=` routing over a form body or query string,
//! model-driven decoding, XML responses and `<ErrorResponse>` errors with the model's codes.

use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use serde_json::Value;
use tidemark_core::RequestContext;
use tidemark_model::schema::ServiceModel;
use tidemark_model::{CommonError, DispatchError, Rule, coral_message};

use crate::query::QueryParams;
use crate::server::{Services, body_response};
use crate::xml;

/// A Redshift error as it goes on the wire.
#[derive(Debug)]
pub struct QueryError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub sender: bool,
}

impl QueryError {
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            code: code.into(),
            message: message.into(),
            sender: status < 500,
        }
    }

    pub fn internal() -> Self {
        Self::new(
            500,
            "InternalFailure",
            "The request processing has failed because of an unknown error, exception or failure.",
        )
    }
}

/// Maps a dispatch failure to its awsQuery wire form.
pub fn from_dispatch(err: DispatchError, request_id: &str) -> QueryError {
    match err {
        DispatchError::UnknownOperation(op) => QueryError::new(
            400,
            "InvalidAction",
            format!("Could not find operation {op} for version 2012-12-01"),
        ),
        DispatchError::Serialization(m) => QueryError::new(400, "InvalidParameterValue", m),
        DispatchError::Invalid(v) => match v.iter().find(|x| matches!(x.rule, Rule::Required)) {
            Some(missing) => QueryError::new(
                400,
                "MissingParameter",
                format!(
                    "The request must contain the parameter {}",
                    missing.wire_path
                ),
            ),
            None => QueryError::new(400, "InvalidParameterValue", coral_message(&v)),
        },
        DispatchError::Modeled(m) => {
            let message = m
                .body
                .get("message")
                .or_else(|| m.body.get("Message"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            QueryError {
                status: StatusCode::from_u16(m.info.http_status).unwrap_or(StatusCode::BAD_REQUEST),
                code: m.info.code.to_owned(),
                message,
                sender: m.info.sender_fault,
            }
        }
        DispatchError::Common(c) => match c {
            CommonError::Validation(m) => QueryError::new(400, "ValidationError", m),
            CommonError::InvalidParameterValue(m) => {
                QueryError::new(400, "InvalidParameterValue", m)
            }
            CommonError::InvalidParameterCombination(m) => {
                QueryError::new(400, "InvalidParameterCombination", m)
            }
            CommonError::MissingParameter(m) => QueryError::new(400, "MissingParameter", m),
            CommonError::Throttling(m) => QueryError::new(400, "Throttling", m),
            // Redshift raises nothing of the kind today (another account's snapshot answers
            // the modeled AccessToSnapshotDenied); should a handler ever raise it, this is
            // the query services' common `AccessDeniedException` 400 (reference §1.3).
            CommonError::AccessDenied(m) => QueryError::new(400, "AccessDeniedException", m),
            CommonError::NotImplemented(op) => QueryError::new(
                400,
                "InvalidAction",
                format!("tidemark does not implement the Redshift action {op} yet"),
            ),
            CommonError::Internal(detail) => {
                tracing::error!(request_id, %detail, "internal error");
                QueryError::internal()
            }
        },
    }
}

pub fn respond_error(model: &ServiceModel, e: &QueryError, request_id: &str) -> Response {
    let body = xml::error(model, e.sender, &e.code, &e.message, request_id);
    body_response(e.status, "text/xml", Bytes::from(body), request_id)
}

/// Decodes, dispatches and encodes one awsQuery request whose parameters are `params`.
pub async fn handle(services: &Services, ctx: RequestContext, params: QueryParams) -> Response {
    let model: &'static ServiceModel = &tidemark_model::redshift::REDSHIFT;
    let rid = ctx.request_id.clone();
    let action = match params.get("Action") {
        Some(a) if !a.is_empty() => a.to_owned(),
        _ => {
            let e = QueryError::new(
                400,
                "MissingAction",
                "The request must contain the parameter Action.",
            );
            return respond_error(model, &e, &rid);
        }
    };
    let Some(op) = model.operation(&action) else {
        let e = from_dispatch(DispatchError::UnknownOperation(action), &rid);
        return respond_error(model, &e, &rid);
    };
    let input = match op.input {
        Some(shape) => match params.decode(model, shape) {
            Ok(v) => v,
            Err(e) => {
                return respond_error(
                    model,
                    &QueryError::new(400, "InvalidParameterValue", e.0),
                    &rid,
                );
            }
        },
        None => Value::Object(Default::default()),
    };
    let api = services.redshift.clone();
    let result = tokio::task::spawn_blocking(move || {
        tidemark_model::redshift::dispatch_redshift(&*api, &ctx, &action, input)
    })
    .await;
    match result {
        Ok(Ok(output)) => {
            let body = xml::success(model, op, &output, &rid);
            body_response(StatusCode::OK, "text/xml", Bytes::from(body), &rid)
        }
        Ok(Err(e)) => respond_error(model, &from_dispatch(e, &rid), &rid),
        Err(join) => {
            tracing::error!(request_id = %rid, error = %join, "handler panicked");
            respond_error(model, &QueryError::internal(), &rid)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_denied_is_the_query_services_common_code() {
        let e = from_dispatch(
            DispatchError::Common(CommonError::AccessDenied("Access is denied".into())),
            "r",
        );
        assert_eq!(
            (e.status, e.code.as_str(), e.message.as_str(), e.sender),
            (
                StatusCode::BAD_REQUEST,
                "AccessDeniedException",
                "Access is denied",
                true
            )
        );
    }
}
