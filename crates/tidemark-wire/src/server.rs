//! The one HTTP shell: reads a request, authenticates it, hands it to the protocol of its
//! service (awsJson for DynamoDB and the Redshift Data API, awsQuery for Redshift) or to the
//! admin API, and never
//! panics or answers HTML.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use axum::response::Response;
use bytes::Bytes;
use serde_json::Value;
use tidemark_auth::{AuthMode, RequestParts, Service};
use tidemark_core::{RequestContext, wall_now};
use tidemark_model::dynamodb::DynamoDbApi;
use tidemark_model::redshift::RedshiftApi;
use tidemark_model::redshift_data::RedshiftDataApi;

use crate::admin::{self, Admin};
use crate::aws_query::{self, QueryError};
use crate::json::{self, JsonError};
use crate::query::QueryParams;

/// The process allocator. Request handling allocates and frees many small objects (JSON
/// trees, attribute maps) across threads; glibc's malloc spent over half of a Scan's CPU in
/// `malloc_consolidate`/`unlink_chunk` and a third of a PutItem's. Declared here, in the crate
/// every tidemark server links, so the binary, its tests and the benchmarks all use it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// DynamoDB's largest request (BatchWriteItem) is 16 MB; leave room for JSON overhead.
pub const DEFAULT_MAX_BODY: usize = 17 * 1024 * 1024;

/// Everything a request can reach.
pub struct Services {
    pub dynamodb: Arc<dyn DynamoDbApi>,
    pub redshift: Arc<dyn RedshiftApi>,
    /// The Redshift Data API (`crate::redshift_data::NoRedshiftData` when not served).
    pub redshift_data: Arc<dyn RedshiftDataApi>,
    pub admin: Arc<dyn Admin>,
    pub auth: AuthMode,
    pub max_body: usize,
    /// Decode memory shared by concurrent large DynamoDB requests.
    pub decode_budget: json::DecodeBudget,
}

/// Builds a response with a body, content type and `x-amzn-RequestId`.
pub fn body_response(
    status: StatusCode,
    content_type: &'static str,
    body: Bytes,
    request_id: &str,
) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", v);
    }
    resp
}

/// The axum application: one catch-all handler keeps full control of the wire.
pub fn app(services: Arc<Services>) -> axum::Router {
    axum::Router::new().fallback(handle).with_state(services)
}

async fn handle(State(services): State<Arc<Services>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    // An `X-Amz-Target` means awsJson: the Data API's prefix, else DynamoDB.
    let is_data_api = crate::redshift_data::is_target(&parts);
    let is_dynamodb = parts.headers.contains_key("x-amz-target") && !is_data_api;
    let request_id = if is_dynamodb {
        tidemark_core::ids::dynamodb_request_id()
    } else {
        tidemark_core::ids::uuid_request_id()
    };
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    let body = match to_bytes(body, services.max_body).await {
        Ok(b) => b,
        Err(_) => {
            let too_large = declared.is_none_or(|n| n > services.max_body);
            return body_error(
                is_dynamodb || is_data_api,
                too_large,
                &request_id,
                services.max_body,
            );
        }
    };
    if path.starts_with("/_tidemark/") || path == "/moto-api/reset" {
        // Absent only if the app is served without connect info: then the peer is unknown
        // and treated as remote, so the admin API fails closed.
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        if let Some(refusal) = admin::refusal(&services.auth, &parts, &body, peer) {
            return refusal;
        }
        let call = admin::AdminCall {
            method: parts.method.clone(),
            path,
            query: parts.uri.query().unwrap_or_default().to_owned(),
            body,
        };
        return admin::handle(services.admin.clone(), call).await;
    }
    if is_data_api {
        crate::redshift_data::handle(&services, &parts, body, request_id).await
    } else if is_dynamodb {
        dynamodb(&services, &parts, body, request_id).await
    } else {
        redshift(&services, &parts, body, request_id).await
    }
}

fn body_error(is_dynamodb: bool, too_large: bool, rid: &str, limit: usize) -> Response {
    let (status, message) = if too_large {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Request body exceeds the limit of {limit} bytes"),
        )
    } else {
        (
            StatusCode::BAD_REQUEST,
            "Request body could not be read".to_owned(),
        )
    };
    if is_dynamodb {
        let mut e = JsonError::serialization(message);
        e.status = status;
        json::respond(Err(e), rid)
    } else {
        let e = QueryError::new(status.as_u16(), "InvalidQueryParameter", message);
        aws_query::respond_error(&tidemark_model::redshift::REDSHIFT, &e, rid)
    }
}

pub(crate) fn request_parts<'a>(
    parts: &'a Parts,
    headers: &'a [(String, String)],
    body: &'a [u8],
) -> RequestParts<'a> {
    RequestParts {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or_default(),
        headers,
        body,
    }
}

pub(crate) fn header_list(parts: &Parts) -> Vec<(String, String)> {
    parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// Authenticates; the error is `(code, http status, message)` for the given service.
pub(crate) fn authenticate(
    services: &Services,
    parts: &Parts,
    body: &[u8],
    service: Service,
    request_id: &str,
) -> Result<RequestContext, (&'static str, u16, String)> {
    let headers = header_list(parts);
    let identity = tidemark_auth::authenticate(
        &services.auth,
        &request_parts(parts, &headers, body),
        wall_now(),
    )
    .map_err(|e| e.wire(service))?;
    if matches!(services.auth, AuthMode::Strict(_)) {
        identity
            .check_service(service)
            .map_err(|e| e.wire(service))?;
    }
    let mut ctx = RequestContext::new(identity.account, identity.region, request_id);
    ctx.principal = identity.principal;
    Ok(ctx)
}

async fn dynamodb(services: &Services, parts: &Parts, body: Bytes, rid: String) -> Response {
    let prefix = tidemark_model::dynamodb::DYNAMODB
        .target_prefix
        .unwrap_or_default();
    let op = match json::route(&parts.method, parts.uri.path(), &parts.headers, prefix) {
        Ok(op) => op.to_owned(),
        Err(e) => return json::respond(Err(e), &rid),
    };
    let ctx = match authenticate(services, parts, &body, Service::DynamoDb, &rid) {
        Ok(ctx) => ctx,
        Err((code, status, message)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            return json::respond(Err(JsonError::new(status, code, Some(message))), &rid);
        }
    };
    // Held until the response is rendered: the typed input and output live that long.
    let Some(_reserved) = services
        .decode_budget
        .reserve(json::decode::reservation_cost(&body))
        .await
    else {
        tracing::warn!(request_id = %rid, bytes = body.len(), "decode budget spent: 503");
        return json::respond(Err(JsonError::unavailable()), &rid);
    };
    let parsed = if body.len() < json::LARGE_BODY {
        json::parse_document(body)
    } else {
        tokio::task::spawn_blocking(move || json::parse_document(body))
            .await
            .unwrap_or_else(|_| Err(JsonError::internal()))
    };
    let result = match parsed {
        Ok(doc) => json::call(services, ctx, &op, doc).await,
        Err(e) => Err(e),
    };
    json::respond(result, &rid)
}

async fn redshift(services: &Services, parts: &Parts, body: Bytes, rid: String) -> Response {
    let model = &tidemark_model::redshift::REDSHIFT;
    let raw: &[u8] = if parts.method == axum::http::Method::GET || body.is_empty() {
        parts.uri.query().unwrap_or_default().as_bytes()
    } else {
        &body
    };
    let params = QueryParams::parse(raw);
    let ctx = match authenticate(services, parts, &body, Service::Redshift, &rid) {
        Ok(ctx) => ctx,
        Err((code, status, message)) => {
            return aws_query::respond_error(model, &QueryError::new(status, code, message), &rid);
        }
    };
    if parts.uri.path() != "/" {
        let e = QueryError::new(
            404,
            "MalformedQueryString",
            format!("No such path: {}", parts.uri.path()),
        );
        return aws_query::respond_error(model, &e, &rid);
    }
    aws_query::handle(services, ctx, params).await
}

/// A JSON body for the admin API.
pub(crate) fn json_response(status: StatusCode, v: &Value) -> Response {
    let bytes = Bytes::from(serde_json::to_vec(v).unwrap_or_default());
    let mut resp = Response::new(Body::from(bytes));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}
