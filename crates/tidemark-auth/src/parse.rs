//! Extracts the SigV4 parameters from a request: `Authorization` header or presigned query.
//!
//! Everything here is a well-formedness check, so it applies in permissive mode as well;
//! secrets, signatures and clocks are judged later, in strict mode only.

use jiff::Timestamp;

use crate::RequestParts;
use crate::amz_date::{format_iso_basic, parse_http_date, parse_iso_basic};
use crate::canonical::{ALGORITHM, query_pairs};
use crate::error::AuthError;

/// Longest presign lifetime AWS accepts (one week, in seconds).
const MAX_EXPIRES_SECS: i64 = 604_800;

/// Where the signature travelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Location {
    Header,
    Query,
}

/// The SigV4 parameters of one request, syntactically valid.
#[derive(Clone, Debug)]
pub(crate) struct SigV4 {
    pub location: Location,
    pub access_key_id: String,
    pub scope_date: String,
    pub region: String,
    pub service: String,
    /// Lower-case names, in the order the signer listed them.
    pub signed_headers: Vec<String>,
    pub signature: String,
    /// The request time in ISO-8601 basic form, exactly as it enters the string to sign.
    pub amz_date: String,
    pub time: Timestamp,
    /// Presigned lifetime in seconds (`X-Amz-Expires`), if given.
    pub expires: Option<i64>,
}

impl SigV4 {
    /// `yyyymmdd/region/service/aws4_request`.
    pub fn scope(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.scope_date, self.region, self.service
        )
    }
}

/// First value of header `name` (case-insensitive).
pub(crate) fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn incomplete(msg: impl Into<String>) -> AuthError {
    AuthError::IncompleteSignature(msg.into())
}

/// Parses the request's SigV4 parameters, or says why they are missing or malformed.
pub(crate) fn parse(req: &RequestParts<'_>) -> Result<SigV4, AuthError> {
    let query: Vec<(String, String)> = query_pairs(req.query)
        .into_iter()
        .map(|(n, v)| {
            (
                String::from_utf8_lossy(&n).into_owned(),
                String::from_utf8_lossy(&v).into_owned(),
            )
        })
        .collect();
    let q = |name: &str| {
        query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let presigned = ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature"]
        .iter()
        .any(|p| q(p).is_some());
    match (header(req.headers, "authorization"), presigned) {
        (None, false) => Err(AuthError::MissingAuthentication),
        (Some(_), true) => Err(incomplete(
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified",
        )),
        (Some(auth), false) => parse_header(req, auth),
        (None, true) => parse_query(&q),
    }
}

fn parse_header(req: &RequestParts<'_>, auth: &str) -> Result<SigV4, AuthError> {
    let auth_trimmed = auth.trim();
    let (algorithm, rest) = auth_trimmed
        .split_once([' ', '\t'])
        .unwrap_or((auth_trimmed, ""));
    if algorithm != ALGORITHM {
        return Err(incomplete(format!(
            "Unsupported AWS 'algorithm': '{algorithm}'. Authorization={auth}"
        )));
    }
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((key, value)) = part.split_once('=') else {
            return Err(incomplete(format!(
                "Authorization header requires each component to be of the form key=value: '{part}'. Authorization={auth}"
            )));
        };
        match key.trim() {
            "Credential" => credential = Some(value.trim()),
            "SignedHeaders" => signed_headers = Some(value.trim()),
            "Signature" => signature = Some(value.trim()),
            _ => {}
        }
    }
    let date_header = header(req.headers, "x-amz-date")
        .map(|d| (d.trim(), true))
        .or_else(|| header(req.headers, "date").map(|d| (d.trim(), false)));
    let mut missing = String::new();
    for (name, value) in [
        ("Credential", credential),
        ("Signature", signature),
        ("SignedHeaders", signed_headers),
    ] {
        if value.is_none_or(str::is_empty) {
            missing.push_str(&format!(
                "Authorization header requires '{name}' parameter. "
            ));
        }
    }
    if date_header.is_none() {
        missing.push_str(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ",
        );
    }
    let (Some(credential), Some(signed_headers), Some(signature), Some((date, is_amz))) =
        (credential, signed_headers, signature, date_header)
    else {
        return Err(incomplete(format!("{missing}Authorization={auth}")));
    };
    if !missing.is_empty() {
        return Err(incomplete(format!("{missing}Authorization={auth}")));
    }
    let (amz_date, time) = if is_amz {
        (date.to_string(), parse_iso_basic(date)?)
    } else {
        let time = parse_http_date(date)?;
        (format_iso_basic(time), time)
    };
    finish(
        Location::Header,
        credential,
        signed_headers,
        signature,
        amz_date,
        time,
        None,
    )
}

fn parse_query<'a>(q: &impl Fn(&str) -> Option<&'a str>) -> Result<SigV4, AuthError> {
    let required = [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Signature",
        "X-Amz-Date",
        "X-Amz-SignedHeaders",
    ];
    let values: Vec<&str> = required.iter().filter_map(|p| q(p)).collect();
    let [algorithm, credential, signature, date, signed_headers] = values[..] else {
        return Err(incomplete(
            "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders'. Re-examine the query-string parameters.",
        ));
    };
    if algorithm != ALGORITHM {
        return Err(incomplete(format!(
            "X-Amz-Algorithm only supports \"{ALGORITHM}\", not \"{algorithm}\""
        )));
    }
    let expires = match q("X-Amz-Expires") {
        None => None,
        Some(raw) => {
            let secs: i64 = raw.parse().map_err(|_| {
                incomplete(format!("X-Amz-Expires should be a number, not '{raw}'"))
            })?;
            if secs < 0 {
                return Err(incomplete("X-Amz-Expires must be non-negative"));
            }
            if secs > MAX_EXPIRES_SECS {
                return Err(incomplete(format!(
                    "X-Amz-Expires must be less than a week (in seconds) that is {MAX_EXPIRES_SECS}"
                )));
            }
            Some(secs)
        }
    };
    let time = parse_iso_basic(date)?;
    finish(
        Location::Query,
        credential,
        signed_headers,
        signature,
        date.to_string(),
        time,
        expires,
    )
}

#[allow(clippy::too_many_arguments)]
fn finish(
    location: Location,
    credential: &str,
    signed_headers: &str,
    signature: &str,
    amz_date: String,
    time: Timestamp,
    expires: Option<i64>,
) -> Result<SigV4, AuthError> {
    let parts: Vec<&str> = credential.split('/').collect();
    let [akid, scope_date, region, service, terminator] = parts[..] else {
        return Err(incomplete(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{credential}'"
        )));
    };
    if terminator != "aws4_request" {
        return Err(incomplete(format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'."
        )));
    }
    if akid.is_empty() || region.is_empty() || service.is_empty() {
        return Err(incomplete(format!(
            "Credential has an empty access key, region or service: '{credential}'"
        )));
    }
    if scope_date.len() != 8 || !scope_date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(incomplete(format!(
            "Credential should be scoped to a valid date (yyyymmdd), not '{scope_date}'."
        )));
    }
    // Invariant: amz_date is ISO basic (it parsed, or was formatted as such), so it is ASCII
    // and its first 8 bytes are the date.
    if !amz_date.starts_with(scope_date) {
        return Err(incomplete(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{scope_date}' != '{}', from '{amz_date}'.",
            &amz_date[..8]
        )));
    }
    let signed: Vec<String> = signed_headers
        .split(';')
        .map(str::to_ascii_lowercase)
        .collect();
    if signed.iter().any(String::is_empty) {
        return Err(incomplete(format!(
            "SignedHeaders is not a ';'-separated list of header names: '{signed_headers}'"
        )));
    }
    if !signed.iter().any(|h| h == "host") {
        return Err(incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    if signature.is_empty() {
        return Err(incomplete("Signature is empty."));
    }
    Ok(SigV4 {
        location,
        access_key_id: akid.to_string(),
        scope_date: scope_date.to_string(),
        region: region.to_string(),
        service: service.to_string(),
        signed_headers: signed,
        signature: signature.to_string(),
        amz_date,
        time,
        expires,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req<'a>(headers: &'a [(String, String)], query: &'a str) -> RequestParts<'a> {
        RequestParts {
            method: "POST",
            path: "/",
            query,
            headers,
            body: b"",
        }
    }

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    const GOOD: &str = "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcd";

    fn err_of(headers: &[(String, String)], query: &str) -> String {
        match parse(&req(headers, query)) {
            Err(AuthError::IncompleteSignature(m)) => m,
            other => panic!("expected IncompleteSignature, got {other:?}"),
        }
    }

    #[test]
    fn header_form_parses() {
        let headers = h(&[("Authorization", GOOD), ("X-Amz-Date", "20150830T123600Z")]);
        let sig = parse(&req(&headers, "")).unwrap();
        assert_eq!(sig.location, Location::Header);
        assert_eq!(sig.access_key_id, "AKID");
        assert_eq!(sig.scope(), "20150830/us-east-1/dynamodb/aws4_request");
        assert_eq!(sig.signed_headers, vec!["host", "x-amz-date"]);
        assert_eq!(sig.signature, "abcd");
        assert_eq!(sig.time.to_string(), "2015-08-30T12:36:00Z");
    }

    #[test]
    fn http_date_header_is_a_fallback() {
        let headers = h(&[
            ("Authorization", GOOD),
            ("Date", "Sun, 30 Aug 2015 12:36:00 GMT"),
        ]);
        let sig = parse(&req(&headers, "")).unwrap();
        assert_eq!(sig.amz_date, "20150830T123600Z");
    }

    #[test]
    fn unsigned_requests_are_missing_authentication() {
        assert_eq!(
            parse(&req(&h(&[("Host", "x")]), "Action=DescribeClusters")).unwrap_err(),
            AuthError::MissingAuthentication
        );
    }

    #[test]
    fn malformed_headers_are_incomplete() {
        let date = ("X-Amz-Date", "20150830T123600Z");
        let m = err_of(
            &h(&[
                (
                    "Authorization",
                    "AWS4-HMAC-SHA256 Credential=A/20150830/r/s/aws4_request",
                ),
                date,
            ]),
            "",
        );
        assert!(m.starts_with("Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization="), "{m}");
        let m = err_of(&h(&[("Authorization", GOOD)]), "");
        assert!(
            m.contains("requires existence of either a 'X-Amz-Date' or a 'Date' header"),
            "{m}"
        );
        let m = err_of(&h(&[("Authorization", "Basic dXNlcjpwYXNz"), date]), "");
        assert!(m.starts_with("Unsupported AWS 'algorithm': 'Basic'"), "{m}");
        let m = err_of(
            &h(&[
                ("Authorization", &GOOD.replace("aws4_request", "aws5")),
                date,
            ]),
            "",
        );
        assert!(m.contains("valid terminator"), "{m}");
        let m = err_of(
            &h(&[("Authorization", &GOOD.replace("host;", "")), date]),
            "",
        );
        assert!(
            m.contains("'Host' or ':authority' must be a 'SignedHeader'"),
            "{m}"
        );
        let m = err_of(
            &h(&[("Authorization", GOOD), ("X-Amz-Date", "20150831T123600Z")]),
            "",
        );
        assert!(
            m.starts_with("Date in Credential scope does not match"),
            "{m}"
        );
        let m = err_of(
            &h(&[
                ("Authorization", GOOD),
                ("X-Amz-Date", "2015-08-30T12:36:00Z"),
            ]),
            "",
        );
        assert!(
            m.starts_with("Date must be in ISO-8601 'basic format'"),
            "{m}"
        );
        let m = err_of(
            &h(&[("Authorization", GOOD), ("X-Amz-Date", "20151330T123600Z")]),
            "",
        );
        assert!(
            m.starts_with("Date must be in ISO-8601 'basic format'"),
            "{m}"
        );
        let m = err_of(
            &h(&[("Authorization", &GOOD.replace("AKID/", "")), date]),
            "",
        );
        assert!(m.starts_with("Credential must have exactly 5"), "{m}");
    }

    #[test]
    fn query_form_parses_and_validates() {
        let q = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fredshift%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=ab";
        let sig = parse(&req(&h(&[("Host", "x")]), q)).unwrap();
        assert_eq!(sig.location, Location::Query);
        assert_eq!(sig.expires, Some(60));
        assert_eq!(sig.service, "redshift");
        let m = err_of(&h(&[]), &q.replace("&X-Amz-Date=20150830T123600Z", ""));
        assert!(
            m.starts_with("AWS query-string parameters must include"),
            "{m}"
        );
        let m = err_of(&h(&[]), &q.replace("Expires=60", "Expires=604801"));
        assert!(m.contains("less than a week"), "{m}");
        let m = err_of(&h(&[("Authorization", GOOD)]), q);
        assert!(m.starts_with("Only one auth mechanism"), "{m}");
    }
}
