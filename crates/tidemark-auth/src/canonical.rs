//! SigV4 canonical request, string to sign and signature, rebuilt from a request as received.
//!
//! The rules are the generic (non-S3) ones that DynamoDB and Redshift use:
//! * the URI path is normalised (`.`/`..` resolved, empty segments dropped) and every segment is
//!   percent-encoded *as received*, so an already-encoded `%20` becomes `%2520` ("double
//!   encoding", which is what botocore and `aws-sigv4` sign for non-S3 services);
//! * the query is decoded and re-encoded pair by pair with AWS's unreserved set, then sorted;
//! * only the signed headers take part, their values trimmed with inner space runs collapsed.

use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode, percent_encode};
use sha2::{Digest, Sha256};

/// Everything except AWS's unreserved characters `A-Z a-z 0-9 - _ . ~` is percent-encoded.
const AWS_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The only signing algorithm tidemark accepts.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// Lower-case hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The canonical URI for a raw (still percent-encoded) request path.
pub fn canonical_uri(raw_path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    let mut trailing_slash = false;
    for segment in raw_path.split('/') {
        match segment {
            "" => {}
            "." => trailing_slash = true,
            ".." => {
                segments.pop();
                trailing_slash = true;
            }
            other => {
                segments.push(other);
                trailing_slash = false;
            }
        }
    }
    // A path that ends in a separator (or in a dot segment, which RFC 3986 resolves to a
    // directory) keeps its trailing slash; the root is always exactly "/".
    trailing_slash |= raw_path.ends_with('/');
    let mut out = String::with_capacity(raw_path.len() + 8);
    for segment in &segments {
        out.push('/');
        out.extend(percent_encode(segment.as_bytes(), AWS_ENCODE));
    }
    if segments.is_empty() || trailing_slash {
        out.push('/');
    }
    out
}

/// Decodes one query-string component the way `aws-sigv4` (via `form_urlencoded`) does: `+` is
/// a space and `%XX` escapes are resolved. Signers never send a raw `+` for a literal plus (they
/// send `%2B`), and the server decodes its query parameters with the same form rules, so the
/// canonical form always describes the values the server will act on.
pub fn decode_query_component(raw: &str) -> Vec<u8> {
    let spaced = raw.replace('+', " ");
    percent_decode(spaced.as_bytes()).collect()
}

/// Splits a raw query string into decoded `(name, value)` pairs, skipping empty pieces.
pub fn query_pairs(raw_query: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    raw_query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            (decode_query_component(name), decode_query_component(value))
        })
        .collect()
}

/// The canonical query string. `exclude_signature` drops `X-Amz-Signature` (presigned form).
pub fn canonical_query(raw_query: &str, exclude_signature: bool) -> String {
    let mut pairs: Vec<(String, String)> = query_pairs(raw_query)
        .into_iter()
        .filter(|(name, _)| !(exclude_signature && name.as_slice() == b"X-Amz-Signature"))
        .map(|(name, value)| {
            (
                percent_encode(&name, AWS_ENCODE).to_string(),
                percent_encode(&value, AWS_ENCODE).to_string(),
            )
        })
        .collect();
    pairs.sort();
    let mut out = String::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// Trims a header value and collapses each run of inner spaces to one space. Inner tabs are
/// kept, as the SDK signers keep them; edge tabs are optional whitespace HTTP already drops.
fn trim_header_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for word in value
        .trim_matches([' ', '\t'])
        .split(' ')
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The canonical header block (each line ending in `\n`) for the given lower-case signed
/// header names, in the order the signer listed them. Repeated headers are joined with `,`
/// in the order received; a signed header that is absent contributes an empty value, which
/// then fails the signature comparison rather than being silently dropped.
pub fn canonical_headers(headers: &[(String, String)], signed: &[String]) -> String {
    let mut out = String::new();
    for name in signed {
        let values: Vec<String> = headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| trim_header_value(v))
            .collect();
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out
}

/// Inputs of one canonical request, already extracted from the request.
pub struct CanonicalInput<'a> {
    pub method: &'a str,
    pub raw_path: &'a str,
    pub raw_query: &'a str,
    pub headers: &'a [(String, String)],
    pub signed_headers: &'a [String],
    pub payload_hash: &'a str,
    pub presigned: bool,
}

/// The canonical request text (SigV4 task 1).
pub fn canonical_request(input: &CanonicalInput<'_>) -> String {
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        input.method,
        canonical_uri(input.raw_path),
        canonical_query(input.raw_query, input.presigned),
        canonical_headers(input.headers, input.signed_headers),
        input.signed_headers.join(";"),
        input.payload_hash,
    )
}

/// The string to sign (SigV4 task 2). `scope` is `yyyymmdd/region/service/aws4_request`.
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // Invariant: HMAC accepts keys of any length, so `new_from_slice` cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC-SHA256 takes keys of any size");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// The hex signature (SigV4 tasks 3–4) of `string_to_sign` under the derived signing key.
pub fn signature(
    secret: &str,
    date: &str,
    region: &str,
    service: &str,
    string_to_sign: &str,
) -> String {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    let k_signing = hmac(&k_service, b"aws4_request");
    hex::encode(hmac(&k_signing, string_to_sign.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_normalisation_follows_the_generic_rule() {
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(canonical_uri("//"), "/");
        assert_eq!(canonical_uri("/./"), "/");
        assert_eq!(canonical_uri("/./example"), "/example");
        assert_eq!(canonical_uri("/example/.."), "/");
        assert_eq!(canonical_uri("/example1/example2/../.."), "/");
        assert_eq!(canonical_uri("//example//"), "/example/");
        assert_eq!(canonical_uri("/a/b/.."), "/a/");
        assert_eq!(canonical_uri("/a/./b"), "/a/b");
        assert_eq!(canonical_uri("/../a"), "/a");
    }

    #[test]
    fn uri_segments_are_encoded_as_received() {
        assert_eq!(canonical_uri("/example space/"), "/example%20space/");
        // Already-encoded input is encoded again: the non-S3 double encoding.
        assert_eq!(canonical_uri("/example%20space/"), "/example%2520space/");
        assert_eq!(canonical_uri("/ሴ"), "/%E1%88%B4");
        assert_eq!(
            canonical_uri("/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"),
            "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        );
    }

    #[test]
    fn query_is_decoded_reencoded_and_sorted() {
        assert_eq!(canonical_query("", false), "");
        assert_eq!(
            canonical_query("Param2=value2&Param1=value1", false),
            "Param1=value1&Param2=value2"
        );
        assert_eq!(canonical_query("a=2&a=1&b", false), "a=1&a=2&b=");
        assert_eq!(canonical_query("%E1%88%B4=bar", false), "%E1%88%B4=bar");
        assert_eq!(canonical_query("q=a%20b", false), "q=a%20b");
        assert_eq!(canonical_query("q=a+b", false), "q=a%20b");
        assert_eq!(canonical_query("q=a%2Bb", false), "q=a%2Bb");
        assert_eq!(canonical_query("p=a/b:c", false), "p=a%2Fb%3Ac");
        assert_eq!(
            canonical_query("X-Amz-Signature=abc&A=1", true),
            "A=1".to_string()
        );
        assert_eq!(
            canonical_query("X-Amz-Signature=abc&A=1", false),
            "A=1&X-Amz-Signature=abc"
        );
    }

    #[test]
    fn headers_are_trimmed_joined_and_only_signed_ones_used() {
        let headers = vec![
            ("Host".to_string(), "example.com".to_string()),
            ("My-Header".to_string(), "  a   b  ".to_string()),
            ("my-header".to_string(), "c".to_string()),
            ("Unsigned".to_string(), "x".to_string()),
        ];
        let signed = vec!["host".to_string(), "my-header".to_string()];
        assert_eq!(
            canonical_headers(&headers, &signed),
            "host:example.com\nmy-header:a b,c\n"
        );
    }
}
