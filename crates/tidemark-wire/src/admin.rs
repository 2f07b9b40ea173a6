//! The admin API under `/_tidemark/` (health, virtual clock, reset) and moto's reset alias.
//! It is plain JSON. Who may call it ([`refusal`]): anyone may ask `GET /_tidemark/health`;
//! every other route needs, on a strict server, a SigV4 signature by a credential marked
//! `admin = true`, and on a permissive server a client on a loopback address.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use tidemark_auth::AuthMode;

use crate::server::{header_list, json_response, request_parts};

/// The 403 that refuses the admin call `parts`, or `None` to let it through. `peer` is the
/// client's address (`None` when unknown, which counts as remote).
pub(crate) fn refusal(
    auth: &AuthMode,
    parts: &Parts,
    body: &[u8],
    peer: Option<SocketAddr>,
) -> Option<Response> {
    // Health tells a load balancer or a test harness that the server is up, nothing more.
    if parts.method == Method::GET && parts.uri.path() == "/_tidemark/health" {
        return None;
    }
    let (code, message) = match auth {
        AuthMode::Strict(file) => {
            let headers = header_list(parts);
            match tidemark_auth::authorize_admin(
                file,
                &request_parts(parts, &headers, body),
                tidemark_core::wall_now(),
            ) {
                Ok(_) => return None,
                Err(denied) => (denied.code(), denied.to_string()),
            }
        }
        AuthMode::Permissive => {
            // A permissive server checks no signatures, so only the machine itself may
            // reset it, move its clock or name its directories. `to_canonical` makes an
            // IPv4-mapped IPv6 loopback (`::ffff:127.0.0.1`) count as loopback.
            if peer.is_some_and(|p| p.ip().to_canonical().is_loopback()) {
                return None;
            }
            let from = peer.map_or_else(|| "an unknown address".to_owned(), |p| p.ip().to_string());
            (
                "AccessDenied",
                format!(
                    "the admin API of a permissive server answers only clients on a loopback address, not {from}; run the server with --auth strict and an admin credential to administer it remotely"
                ),
            )
        }
    };
    Some(json_response(
        StatusCode::FORBIDDEN,
        &json!({"error": message, "code": code}),
    ))
}

/// The clock as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockView {
    pub now: tidemark_core::Timestamp,
    pub frozen: bool,
}

/// One change to the clock; the request body names exactly one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClockChange {
    Advance(i64),
    Set(tidemark_core::Timestamp),
    Freeze(bool),
}

/// What the binary provides behind the admin API.
pub trait Admin: Send + Sync {
    fn clock(&self) -> ClockView;
    /// Applies a change, running every job that falls due on the way; an error is a
    /// refusal (e.g. moving backwards) and changes nothing.
    fn change_clock(&self, change: ClockChange) -> Result<ClockView, String>;
    /// Wipes all state.
    fn reset(&self) -> Result<(), String>;
    /// Why the server cannot serve every request right now (e.g. "store: No space left on
    /// device (os error 28); retrying"), or `None` when it can. `GET /_tidemark/health`
    /// answers 503 with this reason while it is `Some`. Must not block: it is asked on an
    /// async worker, and a health check has to answer while the store is failing.
    fn unhealthy(&self) -> Option<String> {
        None
    }
    /// Routes beyond health, clock and reset (service-specific admin calls such as backup
    /// export). `None` means "no such route"; `Some(Err)` is a 400 with the message. Runs on
    /// a blocking thread, so it may do I/O.
    fn extension(&self, call: &AdminCall) -> Option<Result<(StatusCode, Value), String>> {
        let _ = call;
        None
    }
}

/// One request to an admin route, as [`Admin::extension`] sees it.
#[derive(Debug, Clone)]
pub struct AdminCall {
    pub method: Method,
    /// The path, e.g. `/_tidemark/backup/export`.
    pub path: String,
    /// The raw query string (without `?`), empty when absent.
    pub query: String,
    pub body: bytes::Bytes,
}

fn view(v: &ClockView) -> Value {
    json!({"now": v.now.to_string(), "frozen": v.frozen})
}

fn bad_request(message: impl Into<String>) -> Response {
    json_response(StatusCode::BAD_REQUEST, &json!({"error": message.into()}))
}

/// Parses a `POST /_tidemark/clock` body: exactly one of the three keys.
pub fn parse_clock_change(body: &[u8]) -> Result<ClockChange, String> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("body must be a JSON object: {e}"))?;
    let obj = v.as_object().ok_or("body must be a JSON object")?;
    if obj.len() != 1 {
        return Err("give exactly one of advance_seconds, set, freeze".into());
    }
    let (k, v) = obj.iter().next().ok_or("empty body")?;
    match k.as_str() {
        "advance_seconds" => v
            .as_i64()
            .map(ClockChange::Advance)
            .ok_or_else(|| "advance_seconds must be an integer".into()),
        "set" => v
            .as_str()
            .ok_or("set must be an RFC 3339 string")?
            .parse()
            .map(ClockChange::Set)
            .map_err(|e| format!("set must be an RFC 3339 timestamp: {e}")),
        "freeze" => v
            .as_bool()
            .map(ClockChange::Freeze)
            .ok_or_else(|| "freeze must be true or false".into()),
        other => Err(format!(
            "unknown key {other}: give exactly one of advance_seconds, set, freeze"
        )),
    }
}

/// Runs `f` on a blocking thread: clock changes run due jobs and reset touches the store.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(format!("admin task failed: {e}")))
}

pub async fn handle(admin: Arc<dyn Admin>, call: AdminCall) -> Response {
    let (method, path, body) = (&call.method, call.path.as_str(), &call.body[..]);
    match (method, path) {
        (&Method::GET, "/_tidemark/health") => match admin.unhealthy() {
            None => json_response(StatusCode::OK, &json!({"status": "ok"})),
            Some(reason) => json_response(
                StatusCode::SERVICE_UNAVAILABLE,
                &json!({"status": "unavailable", "reason": reason}),
            ),
        },
        (&Method::GET, "/_tidemark/clock") => json_response(StatusCode::OK, &view(&admin.clock())),
        (&Method::POST, "/_tidemark/clock") => match parse_clock_change(body) {
            // Jobs that fall due run inside; keep them off the async workers.
            Ok(change) => match blocking(move || admin.change_clock(change)).await {
                Ok(v) => json_response(StatusCode::OK, &view(&v)),
                Err(e) => bad_request(e),
            },
            Err(e) => bad_request(e),
        },
        (&Method::POST, "/_tidemark/reset" | "/moto-api/reset") => {
            match blocking(move || admin.reset()).await {
                Ok(()) => json_response(StatusCode::OK, &json!({"reset": true})),
                Err(e) => json_response(StatusCode::INTERNAL_SERVER_ERROR, &json!({"error": e})),
            }
        }
        _ => {
            let missing = format!("no admin route {method} {path}");
            let call = call.clone();
            match blocking(move || Ok(admin.extension(&call))).await {
                Ok(Some(Ok((status, value)))) => json_response(status, &value),
                Ok(Some(Err(e))) | Err(e) => bad_request(e),
                Ok(None) => json_response(StatusCode::NOT_FOUND, &json!({"error": missing})),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(method: &str, path: &str) -> Parts {
        axum::http::Request::builder()
            .method(method)
            .uri(path)
            .body(())
            .map(|r| r.into_parts().0)
            .unwrap()
    }

    fn peer(ip: &str) -> Option<SocketAddr> {
        Some(SocketAddr::new(ip.parse().unwrap(), 40000))
    }

    #[test]
    fn permissive_admin_calls_come_from_loopback_only() {
        let auth = AuthMode::Permissive;
        let clock = parts("POST", "/_tidemark/clock");
        for ok in ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"] {
            assert!(refusal(&auth, &clock, b"", peer(ok)).is_none(), "{ok}");
        }
        for refused in ["192.0.2.2", "10.0.0.1", "fd00::2", "::ffff:192.0.2.2"] {
            let resp = refusal(&auth, &clock, b"", peer(refused)).unwrap();
            assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{refused}");
        }
        let reset = parts("POST", "/moto-api/reset");
        let resp = refusal(&auth, &reset, b"", None).unwrap();
        assert_eq!(
            resp.status(),
            StatusCode::FORBIDDEN,
            "an unknown peer is remote"
        );
        let health = parts("GET", "/_tidemark/health");
        assert!(refusal(&auth, &health, b"", peer("192.0.2.2")).is_none());
        let health_post = parts("POST", "/_tidemark/health");
        assert!(refusal(&auth, &health_post, b"", peer("192.0.2.2")).is_some());
    }

    #[test]
    fn strict_admin_calls_need_a_signature_even_from_loopback() {
        let file = tidemark_auth::CredentialsFile::parse(
            "[[credential]]\naccess_key_id = \"AK\"\nsecret_access_key = \"s\"\naccount_id = \"111111111111\"\nname = \"ops\"\nadmin = true\n",
        )
        .unwrap();
        let auth = AuthMode::Strict(Arc::new(file));
        let resp = refusal(
            &auth,
            &parts("GET", "/_tidemark/clock"),
            b"",
            peer("127.0.0.1"),
        )
        .unwrap();
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        let health = parts("GET", "/_tidemark/health");
        assert!(refusal(&auth, &health, b"", peer("192.0.2.2")).is_none());
    }

    #[test]
    fn clock_bodies_name_exactly_one_change() {
        assert_eq!(
            parse_clock_change(br#"{"advance_seconds": 60}"#),
            Ok(ClockChange::Advance(60))
        );
        assert_eq!(
            parse_clock_change(br#"{"freeze": true}"#),
            Ok(ClockChange::Freeze(true))
        );
        assert!(matches!(
            parse_clock_change(br#"{"set": "2030-01-01T00:00:00Z"}"#),
            Ok(ClockChange::Set(_))
        ));
        assert!(parse_clock_change(br#"{"freeze": true, "advance_seconds": 1}"#).is_err());
        assert!(parse_clock_change(br#"{}"#).is_err());
        assert!(parse_clock_change(br#"{"set": "yesterday"}"#).is_err());
        assert!(parse_clock_change(br#"{"advance_seconds": "1"}"#).is_err());
        assert!(parse_clock_change(b"nope").is_err());
    }
}
