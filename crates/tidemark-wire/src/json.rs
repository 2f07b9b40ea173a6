//! The awsJson1_0 protocol (DynamoDB): routing on `X-Amz-Target`, body decoding, response
//! encoding with `x-amz-crc32`, and the `{"__type": …, "message": …}` error form.

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Map, Value};
use tidemark_core::RequestContext;
use tidemark_model::dispatch::{Document, with_document};
use tidemark_model::json_tree::Refusal;
use tidemark_model::{CommonError, DispatchError, Encoded, coral_message};

use crate::server::{Services, body_response};

const CONTENT_TYPE: &str = "application/x-amz-json-1.0";
const MODELED_NS: &str = "com.amazonaws.dynamodb.v20120810";

/// A DynamoDB error as it goes on the wire.
pub struct JsonError {
    pub status: StatusCode,
    /// `namespace#Name`.
    pub type_name: String,
    pub message: Option<String>,
    /// Extra members of a modelled exception (e.g. `CancellationReasons`).
    /// Boxed to keep `Result<_, JsonError>` small on the hot path.
    pub extra: Box<Map<String, Value>>,
}

impl JsonError {
    pub fn new(status: StatusCode, type_name: impl Into<String>, message: Option<String>) -> Self {
        Self {
            status,
            type_name: type_name.into(),
            message,
            extra: Box::default(),
        }
    }

    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "com.amazon.coral.service#SerializationException",
            Some(message.into()),
        )
    }

    pub fn unknown_operation(message: Option<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "com.amazon.coral.service#UnknownOperationException",
            message,
        )
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "com.amazon.coral.validate#ValidationException",
            Some(message.into()),
        )
    }

    /// The decode budget stayed spent (see [`budget`]): HTTP 503, which every AWS SDK
    /// retries with backoff. The code is DynamoDB's throttling error with its message
    /// (reference §1.2), so SDKs that classify by code back off too.
    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "com.amazon.coral.availability#ThrottlingException",
            Some("Rate exceeded".into()),
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{MODELED_NS}#InternalServerError"),
            Some("Internal server error".into()),
        )
    }

    pub(crate) fn body(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("__type".into(), Value::String(self.type_name.clone()));
        let has_message = self.extra.contains_key("message") || self.extra.contains_key("Message");
        // The coral framework writes SerializationException's text as `Message` (dynalite's
        // recorded bodies; reference §1.2 "framework errors … seen with `Message`"); every
        // other error here uses `message`. SDKs read either.
        let key = if self.type_name.ends_with("#SerializationException") {
            "Message"
        } else {
            "message"
        };
        if let (Some(m), false) = (&self.message, has_message) {
            obj.insert(key.into(), Value::String(m.clone()));
        }
        obj.extend(self.extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        Value::Object(obj)
    }
}

/// Maps a dispatch failure to its DynamoDB wire form.
pub fn from_dispatch(err: DispatchError, request_id: &str) -> JsonError {
    match err {
        DispatchError::UnknownOperation(_) => JsonError::unknown_operation(None),
        DispatchError::Serialization(m) => JsonError::serialization(m),
        DispatchError::Invalid(v) => JsonError::validation(coral_message(&v)),
        DispatchError::Modeled(m) => {
            let status =
                StatusCode::from_u16(m.info.http_status).unwrap_or(StatusCode::BAD_REQUEST);
            let extra = match m.body {
                Value::Object(o) => o,
                _ => Map::new(),
            };
            JsonError {
                status,
                type_name: format!("{MODELED_NS}#{}", m.shape),
                message: None,
                extra: Box::new(extra),
            }
        }
        DispatchError::Common(c) => from_common(c, request_id),
    }
}

fn from_common(c: CommonError, request_id: &str) -> JsonError {
    match c {
        CommonError::Validation(m)
        | CommonError::InvalidParameterValue(m)
        | CommonError::InvalidParameterCombination(m)
        | CommonError::MissingParameter(m) => JsonError::validation(m),
        CommonError::Throttling(m) => JsonError::new(
            StatusCode::BAD_REQUEST,
            "com.amazon.coral.availability#ThrottlingException",
            Some(m),
        ),
        // Written as `Message`, the casing of AWS's own AccessDeniedException bodies (the
        // coral framework's, reference §1.2); through `extra` so `body` keeps it as is.
        CommonError::AccessDenied(m) => JsonError {
            status: StatusCode::BAD_REQUEST,
            type_name: "com.amazon.coral.service#AccessDeniedException".into(),
            message: None,
            extra: Box::new(Map::from_iter([("Message".into(), Value::String(m))])),
        },
        CommonError::NotImplemented(op) => JsonError::unknown_operation(Some(format!(
            "tidemark does not implement the DynamoDB operation {op} yet"
        ))),
        CommonError::Internal(detail) => {
            tracing::error!(request_id, %detail, "internal error");
            JsonError::internal()
        }
    }
}

/// Renders a success or error body with DynamoDB's headers. A success body is a JSON value,
/// or JSON text the service wrote itself (a Scan or Query page, see `Reply`), sent as is.
pub fn respond(result: Result<Encoded, JsonError>, request_id: &str) -> Response {
    let to_vec = |v: &Value| serde_json::to_vec(v).unwrap_or_else(|_| b"{}".to_vec());
    let (status, bytes) = match result {
        Ok(Encoded::Value(v)) => (StatusCode::OK, to_vec(&v)),
        Ok(Encoded::Json(text)) => (StatusCode::OK, text),
        Err(e) => (e.status, to_vec(&e.body())),
    };
    let bytes = Bytes::from(bytes);
    let crc = crc32fast::hash(&bytes);
    let mut resp = body_response(status, CONTENT_TYPE, bytes, request_id);
    if let Ok(v) = HeaderValue::from_str(&crc.to_string()) {
        resp.headers_mut().insert("x-amz-crc32", v);
    }
    resp
}

/// Checks method, path, content type and target; returns the operation name.
pub fn route<'a>(
    method: &Method,
    path: &str,
    headers: &'a HeaderMap,
    target_prefix: &str,
) -> Result<&'a str, JsonError> {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if method != Method::POST || path != "/" {
        return Err(JsonError::unknown_operation(Some(format!(
            "DynamoDB accepts only POST to /, not {method} {path}"
        ))));
    }
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let base = ctype
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if !matches!(
        base.as_str(),
        "application/x-amz-json-1.0" | "application/x-amz-json-1.1" | "application/json"
    ) {
        return Err(JsonError::serialization(format!(
            "Unsupported Content-Type '{ctype}': expected application/x-amz-json-1.0"
        )));
    }
    match target.split_once('.') {
        Some((prefix, op)) if prefix == target_prefix && !op.is_empty() => Ok(op),
        _ => Err(JsonError::unknown_operation(None)),
    }
}

/// Parses a Redshift Data API request body (DynamoDB's go through [`parse_document`]): one
/// JSON object, built with exact capacities ([`decode::LeanValue`]). Anything the lean builder rejects is parsed again by
/// serde_json's own `Value`, so malformed bodies get exactly serde_json's messages.
pub fn parse_body(body: &[u8]) -> Result<Value, JsonError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(JsonError::serialization(
            "Request body is empty: expected a JSON object",
        ));
    }
    if let Ok(decode::LeanValue(v @ Value::Object(_))) = serde_json::from_slice(body) {
        return Ok(v);
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(JsonError::serialization(
            "Request body must be a JSON object",
        )),
        Err(e) => Err(JsonError::serialization(format!(
            "Malformed JSON body: {e}"
        ))),
    }
}

/// Parses a DynamoDB request body into its compact checked tree
/// ([`tidemark_model::json_tree`]); no `serde_json::Value` of the body is built. A body the
/// tree refuses is read again by serde_json only for its exact message (the tree accepts
/// exactly what serde_json accepts).
pub fn parse_document(body: Bytes) -> Result<Document, JsonError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(JsonError::serialization(
            "Request body is empty: expected a JSON object",
        ));
    }
    let not_object = || JsonError::serialization("Request body must be a JSON object");
    match Document::parse(body.clone()) {
        Ok(doc) => Ok(doc),
        Err(Refusal::NotObject) => Err(not_object()),
        Err(Refusal::Malformed) => match serde_json::from_slice::<Value>(&body) {
            Err(e) => Err(JsonError::serialization(format!(
                "Malformed JSON body: {e}"
            ))),
            Ok(Value::Object(_)) => {
                tracing::error!(bytes = body.len(), "checked tree refused a JSON object");
                Err(JsonError::internal())
            }
            Ok(_) => Err(not_object()),
        },
    }
}

/// Operations that only read an MVCC snapshot: they never wait for the write slot or an
/// fsync, and their work is bounded (one item, or one page of at most 1 MB), so they run on
/// the async worker itself. Handing each to the blocking pool costs two thread wake-ups,
/// more than a GetItem's whole work.
const INLINE_READS: &[&str] = &["GetItem", "Query", "Scan"];

/// Bodies at least this large are parsed and decoded on a blocking thread: decoding 16 MB
/// takes a core for a second or more, and on an async worker that would stall every small
/// request queued on it.
pub const LARGE_BODY: usize = 256 * 1024;

/// The item writes: short, and serialized by the store's single write transaction anyway,
/// so they run one after another on one writer thread (see [`writer`]).
const ITEM_WRITES: &[&str] = &[
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
];

/// Runs the operation: short snapshot reads inline, item writes on the writer thread,
/// everything else on a blocking thread. Query and Scan pages may come back as JSON text
/// (`dispatch_dynamodb_reply`). The input is checked on `doc`'s compact tree, then decoded
/// from its text (`tidemark_model::dispatch::with_document`).
pub async fn call(
    services: &Services,
    ctx: RequestContext,
    op: &str,
    doc: Document,
) -> Result<Encoded, JsonError> {
    let api = services.dynamodb.clone();
    let rid = ctx.request_id.clone();
    if INLINE_READS.contains(&op) && doc.text().len() < LARGE_BODY {
        return with_document(doc, || {
            tidemark_model::dynamodb::dispatch_dynamodb_reply(&*api, &ctx, op, Value::Null)
        })
        .map_err(|e| from_dispatch(e, &rid));
    }
    if ITEM_WRITES.contains(&op) {
        return match writer::submit(api, ctx, op, doc).await {
            Some(r) => r.map(Encoded::Value).map_err(|e| from_dispatch(e, &rid)),
            None => {
                tracing::error!(request_id = %rid, "write failed: panic or lost durability");
                Err(JsonError::internal())
            }
        };
    }
    // `dispatch_dynamodb_reply` is `dispatch_dynamodb` for every operation but Query and
    // Scan, which come here when their body is large and answer as they do inline.
    let op = op.to_owned();
    match tokio::task::spawn_blocking(move || {
        with_document(doc, || {
            tidemark_model::dynamodb::dispatch_dynamodb_reply(&*api, &ctx, &op, Value::Null)
        })
    })
    .await
    {
        Ok(r) => r.map_err(|e| from_dispatch(e, &rid)),
        Err(join) => {
            tracing::error!(request_id = %rid, error = %join, "handler panicked");
            Err(JsonError::internal())
        }
    }
}

pub mod budget;
pub mod decode;
mod writer;

pub use budget::DecodeBudget;
pub use decode::estimated_cost;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_puts_type_first_and_message_lowercase() {
        let e = JsonError::validation("bad");
        assert_eq!(
            serde_json::to_string(&e.body()).unwrap(),
            r#"{"__type":"com.amazon.coral.validate#ValidationException","message":"bad"}"#
        );
    }

    #[test]
    fn serialization_errors_write_message_capitalized() {
        let e = JsonError::serialization("Expected null");
        assert_eq!(
            serde_json::to_string(&e.body()).unwrap(),
            r#"{"__type":"com.amazon.coral.service#SerializationException","Message":"Expected null"}"#
        );
    }

    #[test]
    fn routing_checks_target_method_and_content_type() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-amz-target",
            HeaderValue::from_static("DynamoDB_20120810.ListTables"),
        );
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-amz-json-1.0"),
        );
        assert_eq!(
            route(&Method::POST, "/", &h, "DynamoDB_20120810").ok(),
            Some("ListTables")
        );
        assert!(route(&Method::GET, "/", &h, "DynamoDB_20120810").is_err());
        h.insert(
            "x-amz-target",
            HeaderValue::from_static("DynamoDB_20111205.ListTables"),
        );
        let e = route(&Method::POST, "/", &h, "DynamoDB_20120810")
            .err()
            .unwrap();
        assert!(e.type_name.ends_with("#UnknownOperationException"));
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        h.insert(
            "x-amz-target",
            HeaderValue::from_static("DynamoDB_20120810.ListTables"),
        );
        let e = route(&Method::POST, "/", &h, "DynamoDB_20120810")
            .err()
            .unwrap();
        assert!(e.type_name.ends_with("#SerializationException"));
    }

    /// DynamoDB bodies: the same messages as `parse_body` (serde_json's for malformed
    /// text), and a document for every JSON object.
    #[test]
    fn documents_answer_like_parse_body() {
        let message = |body: &'static [u8]| {
            parse_document(Bytes::from_static(body))
                .err()
                .and_then(|e| e.message)
        };
        for body in [
            &b"{not json"[..],
            b"",
            b"  ",
            b"[1]",
            b"\"s\"",
            b"{\"a\":1}x",
            b"{\"a\":1e400}",
        ] {
            let want = parse_body(body).err().and_then(|e| e.message);
            assert!(want.is_some(), "{body:?}");
            assert_eq!(message(body), want, "{body:?}");
        }
        assert_eq!(
            message(b"{\"a\":}").as_deref(),
            Some("Malformed JSON body: expected value at line 1 column 6")
        );
        let Ok(doc) = parse_document(Bytes::from_static(b" {\"TableName\":\"t\"} ")) else {
            panic!("a JSON object is a document");
        };
        assert_eq!(doc.text(), b" {\"TableName\":\"t\"} ");
    }

    #[test]
    fn bodies_must_be_json_objects() {
        assert!(parse_body(b"{not json").is_err());
        assert!(parse_body(b"").is_err());
        assert!(parse_body(b"[1]").is_err());
        assert!(parse_body(b"{}").is_ok());
    }
}
