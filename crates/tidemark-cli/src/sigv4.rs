//! AWS Signature Version 4 for the CLI's POST requests, done by the `aws-sigv4` crate (the
//! signer the AWS SDKs use; same canonical form as botocore's `SigV4Auth`). This module only
//! adapts the CLI's string headers to it and names the added headers as botocore does.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign as sdk_sign};
use aws_sigv4::sign::v4;
use tidemark_core::Timestamp;

pub struct SignInput<'a> {
    pub access_key: &'a str,
    pub secret_key: &'a str,
    pub session_token: Option<&'a str>,
    pub region: &'a str,
    pub service: &'a str,
    /// Signing time (`X-Amz-Date`).
    pub time: Timestamp,
    /// `http` or `https`.
    pub scheme: &'a str,
    /// `host[:port]` as sent in the Host header (default port already dropped, as the signer
    /// also drops it).
    pub host: &'a str,
    pub path: &'a str,
    pub body: &'a [u8],
}

#[derive(Debug, thiserror::Error)]
#[error("Unable to sign the request: {0}")]
pub struct SignError(String);

/// Returns the headers to add (`X-Amz-Date`, optional `X-Amz-Security-Token`, `Authorization`,
/// in that order) given the request's other headers, which are all signed except the ones
/// the signer always leaves out (`User-Agent`, `X-Amzn-Trace-Id`, ...), as botocore does.
pub fn sign(
    input: &SignInput<'_>,
    headers: &[(String, String)],
) -> Result<Vec<(String, String)>, SignError> {
    sign_method("POST", input, headers)
}

/// [`sign`] for a request of any method (the admin API's `GET`s and `PUT`s too).
pub fn sign_method(
    method: &str,
    input: &SignInput<'_>,
    headers: &[(String, String)],
) -> Result<Vec<(String, String)>, SignError> {
    let identity = Credentials::new(
        input.access_key,
        input.secret_key,
        input.session_token.map(str::to_string),
        None,
        "tidemark-cli",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(input.region)
        .name(input.service)
        .time(SystemTime::from(input.time))
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| SignError(e.to_string()))?
        .into();
    let uri = format!("{}://{}{}", input.scheme, input.host, input.path);
    let signable = SignableRequest::new(
        method,
        &uri,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(input.body),
    )
    .map_err(|e| SignError(e.to_string()))?;
    let (instructions, _signature) = sdk_sign(signable, &params)
        .map_err(|e| SignError(e.to_string()))?
        .into_parts();
    let mut added = Vec::with_capacity(3);
    for want in ["X-Amz-Date", "X-Amz-Security-Token", "Authorization"] {
        if let Some((_, v)) = instructions
            .headers()
            .find(|(k, _)| k.eq_ignore_ascii_case(want))
        {
            added.push((want.to_string(), v.to_string()));
        }
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tidemark_auth::{AuthMode, CredentialsFile, RequestParts, authenticate};
    use tidemark_core::wall_now;

    use super::*;

    fn strict() -> AuthMode {
        AuthMode::Strict(Arc::new(
            CredentialsFile::parse(
                r#"
[[credential]]
access_key_id = "AKIDALICE0000000001"
secret_access_key = "alice-secret"
account_id = "111111111111"
name = "alice"
"#,
            )
            .unwrap(),
        ))
    }

    fn input<'a>(host: &'a str, body: &'a [u8], token: Option<&'a str>) -> SignInput<'a> {
        SignInput {
            access_key: "AKIDALICE0000000001",
            secret_key: "alice-secret",
            session_token: token,
            region: "us-east-1",
            service: "dynamodb",
            time: wall_now(),
            scheme: "http",
            host,
            path: "/",
            body,
        }
    }

    /// Signs a DynamoDB call and returns the full header list as the HTTP client sends it.
    fn signed(inp: &SignInput<'_>) -> Vec<(String, String)> {
        let mut headers = vec![
            (
                "Content-Type".to_string(),
                "application/x-amz-json-1.0".to_string(),
            ),
            (
                "X-Amz-Target".to_string(),
                "DynamoDB_20120810.ListTables".to_string(),
            ),
        ];
        let added = sign(inp, &headers).unwrap();
        headers.extend(added);
        // The CLI's HTTP client adds these two unsigned/derived headers itself.
        headers.push(("Host".to_string(), inp.host.to_string()));
        headers.push((
            "User-Agent".to_string(),
            "aws-cli/1.46.3 tidemark/x".to_string(),
        ));
        headers
    }

    fn parts<'a>(headers: &'a [(String, String)], body: &'a [u8]) -> RequestParts<'a> {
        RequestParts {
            method: "POST",
            path: "/",
            query: "",
            headers,
            body,
        }
    }

    fn names(headers: &[(String, String)]) -> Vec<&str> {
        headers.iter().map(|(k, _)| k.as_str()).collect()
    }

    #[test]
    fn strict_server_accepts_the_signature() {
        let body = br#"{"Limit":3}"#;
        let inp = input("127.0.0.1:8787", body, None);
        let headers = signed(&inp);
        assert_eq!(
            names(&headers)[2..4],
            ["X-Amz-Date", "Authorization"],
            "no session token header without a token"
        );
        let id = authenticate(&strict(), &parts(&headers, body), wall_now()).unwrap();
        assert_eq!(id.principal, "alice");
        assert_eq!(id.account.to_string(), "111111111111");
        assert_eq!(id.service, "dynamodb");
        assert_eq!(id.region, "us-east-1");
    }

    #[test]
    fn session_token_is_sent_and_signed() {
        let body = b"{}";
        let inp = input("localhost:4566", body, Some("the-token"));
        let headers = signed(&inp);
        assert_eq!(
            names(&headers)[2..5],
            ["X-Amz-Date", "X-Amz-Security-Token", "Authorization"]
        );
        assert_eq!(headers[3].1, "the-token");
        let auth = &headers[4].1;
        let date = &headers[2].1;
        assert_eq!(date.len(), 16, "YYYYMMDDTHHMMSSZ: {date}");
        assert!(
            auth.starts_with(&format!(
                "AWS4-HMAC-SHA256 Credential=AKIDALICE0000000001/{}/us-east-1/dynamodb/aws4_request, \
                 SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature=",
                &date[..8]
            )),
            "{auth}"
        );
        authenticate(&strict(), &parts(&headers, body), wall_now()).unwrap();
    }

    #[test]
    fn tampering_or_a_wrong_secret_is_refused() {
        let body = b"{}";
        let mut inp = input("127.0.0.1:8787", body, None);
        let headers = signed(&inp);
        assert!(authenticate(&strict(), &parts(&headers, b"{ }"), wall_now()).is_err());
        inp.secret_key = "not-alice-secret";
        let headers = signed(&inp);
        assert!(authenticate(&strict(), &parts(&headers, body), wall_now()).is_err());
    }

    #[test]
    fn signing_time_is_the_given_time() {
        let t: Timestamp = "2025-01-02T03:04:05Z".parse().unwrap();
        let mut inp = input("127.0.0.1:8787", b"{}", None);
        inp.time = t;
        let headers = signed(&inp);
        assert_eq!(
            headers[2],
            ("X-Amz-Date".to_string(), "20250102T030405Z".to_string())
        );
        assert!(
            headers[3]
                .1
                .contains("/20250102/us-east-1/dynamodb/aws4_request")
        );
    }
}
