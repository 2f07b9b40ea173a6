//! Raw SigV4 requests for the strict matrix: signed by `aws-sigv4` exactly as the SDKs sign
//! them, then tampered with by the attack under test, and sent over a plain socket so that
//! nothing (no SDK retry, no clock correction) stands between the attack and the server.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;

/// One access key and its secret.
#[derive(Clone, Copy, Debug)]
pub struct Key {
    pub akid: &'static str,
    pub secret: &'static str,
}

/// A request as its caller means it, before signing.
#[derive(Clone, Debug)]
pub struct Plain {
    pub method: &'static str,
    /// Already percent-encoded, without `?`.
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// How to sign a [`Plain`] request.
#[derive(Clone, Debug)]
pub struct Signing {
    pub key: Key,
    pub region: &'static str,
    pub service: &'static str,
    pub at: SystemTime,
    /// Presigned (query-string) with this `X-Amz-Expires`; `None` signs the headers.
    pub presign: Option<Duration>,
    /// Also sign `x-amz-content-sha256` (as S3-style signers do).
    pub hash_header: bool,
}

/// What goes on the wire.
#[derive(Clone, Debug)]
pub struct Wire {
    pub method: &'static str,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Wire {
    /// `plain` as sent with no signature at all.
    pub fn unsigned(addr: &str, plain: &Plain) -> Self {
        let mut headers = vec![("host".to_owned(), addr.to_owned())];
        headers.extend(plain.headers.iter().cloned());
        Self {
            method: plain.method,
            query: plain.query.clone(),
            headers,
            body: plain.body.clone(),
        }
    }

    /// The first header called `name` (case-insensitive).
    pub fn header_mut(&mut self, name: &str) -> Option<&mut String> {
        self.headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    pub fn remove_header(&mut self, name: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }
}

/// AWS's unreserved characters stay, everything else is `%XX` (what every signer sends).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `name=value&…`, each side encoded.
pub fn form(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(n, v)| format!("{}={}", encode(n), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Signs `plain` for the server at `addr` as `s` says.
pub fn sign_request(addr: &str, plain: &Plain, s: &Signing) -> Wire {
    let mut wire = Wire::unsigned(addr, plain);
    let identity = Credentials::new(s.key.akid, s.key.secret, None, None, "matrix").into();
    let mut settings = SigningSettings::default();
    if let Some(expires) = s.presign {
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(expires);
    }
    if s.hash_header {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(s.region)
        .name(s.service)
        .time(s.at)
        .settings(settings)
        .build()
        .expect("every signing parameter is set")
        .into();
    let uri = if plain.query.is_empty() {
        format!("http://{addr}/")
    } else {
        format!("http://{addr}/?{}", plain.query)
    };
    let signable = SignableRequest::new(
        plain.method,
        &uri,
        wire.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        SignableBody::Bytes(&plain.body),
    )
    .expect("the request is signable");
    let (instructions, _signature) = sign(signable, &params)
        .expect("signing succeeds")
        .into_parts();
    let (headers, params) = instructions.into_parts();
    for h in headers {
        wire.headers
            .push((h.name().to_owned(), h.value().to_owned()));
    }
    for (name, value) in params {
        if !wire.query.is_empty() {
            wire.query.push('&');
        }
        wire.query
            .push_str(&format!("{}={}", encode(name), encode(&value)));
    }
    wire
}

/// Status code and body of one exchange over a fresh connection.
pub fn send(addr: &str, wire: &Wire) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let target = if wire.query.is_empty() {
        "/".to_owned()
    } else {
        format!("/?{}", wire.query)
    };
    let mut head = format!("{} {target} HTTP/1.1\r\n", wire.method);
    for (n, v) in &wire.headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        wire.body.len()
    ));
    s.write_all(head.as_bytes()).expect("write head");
    s.write_all(&wire.body).expect("write body");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read response");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}
