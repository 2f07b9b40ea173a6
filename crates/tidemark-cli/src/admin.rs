//! Requests to a tidemark server's admin API (`/_tidemark/…`), signed with SigV4 like every
//! other call of this client: a strict server only lets a credential marked `admin = true`
//! in its credentials file through, and a permissive one ignores the signature.
//!
//! Credentials come from the usual places (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`,
//! `AWS_PROFILE`, `~/.aws`), resolved by [`config::resolve`]; with none configured the
//! request goes unsigned, which a permissive server accepts from this machine. The scope's
//! service is `tidemark` (the server accepts any: it names no AWS service).

use std::time::Duration;

use crate::config;
use crate::error::CliError;
use crate::globals::Globals;
use crate::http;
use crate::sigv4;

/// The service name in the credential scope of admin requests.
pub const SIGNING_NAME: &str = "tidemark";

/// One admin request.
pub struct AdminRequest<'a> {
    /// The server's base URL (`http://127.0.0.1:8787`).
    pub endpoint: &'a str,
    pub method: &'a str,
    /// Path and query, e.g. `/_tidemark/clock`.
    pub path: &'a str,
    pub body: &'a [u8],
    /// `None` waits as long as the server works (backup export and import).
    pub read_timeout: Option<Duration>,
}

/// Sends `req`, signed when credentials are configured, and returns the server's answer
/// whatever its status.
pub fn send(req: &AdminRequest<'_>) -> Result<http::Response, CliError> {
    let base = http::parse_url(req.endpoint)
        .ok_or_else(|| CliError::Failure(format!("Invalid endpoint: {}", req.endpoint)))?;
    let url = http::Url {
        path: req.path.to_string(),
        ..base
    };
    let globals = Globals {
        endpoint_url: Some(req.endpoint.to_string()),
        ..Globals::default()
    };
    let cfg = config::resolve(&globals, SIGNING_NAME)?;
    let mut headers = vec![("Content-Type".to_string(), "application/json".to_string())];
    if let (Some(ak), Some(sk)) = (&cfg.access_key, &cfg.secret_key) {
        let added = sigv4::sign_method(
            req.method,
            &sigv4::SignInput {
                access_key: ak,
                secret_key: sk,
                session_token: cfg.session_token.as_deref(),
                region: &cfg.region,
                service: SIGNING_NAME,
                time: tidemark_core::wall_now(),
                scheme: &url.scheme,
                host: &url.netloc,
                path: &url.path,
                body: req.body,
            },
            &headers,
        )
        .map_err(|e| CliError::Failure(e.to_string()))?;
        headers.extend(added);
    }
    let opts = http::Options {
        connect_timeout: Some(Duration::from_secs(10)),
        read_timeout: req.read_timeout,
        tls: crate::tls::TlsOptions {
            verify: true,
            ca_bundle: None,
        },
    };
    http::request(req.method, &url, &headers, req.body, &opts).map_err(|_| {
        CliError::Failure(format!(
            "Could not connect to the tidemark server at \"{}\"",
            req.endpoint
        ))
    })
}
