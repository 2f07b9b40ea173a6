//! AWS Signature Version 4 for the CLI's POST requests (hmac + sha2; the same algorithm
//! `botocore/auth.py` `SigV4Auth` implements). Written by hand rather than with `aws-sigv4`
//! to keep start-up and the dependency tree small; verified against the tidemark server.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    // new_from_slice accepts keys of any length for HMAC.
    let mut mac = HmacSha256::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

pub struct SignInput<'a> {
    pub access_key: &'a str,
    pub secret_key: &'a str,
    pub session_token: Option<&'a str>,
    pub region: &'a str,
    pub service: &'a str,
    /// `YYYYMMDDTHHMMSSZ`.
    pub amz_date: &'a str,
    pub host: &'a str,
    pub path: &'a str,
    pub body: &'a [u8],
}

/// Returns the headers to add (`X-Amz-Date`, optional `X-Amz-Security-Token`, `Authorization`)
/// given the request's other headers (which are all signed, as botocore does).
pub fn sign(input: &SignInput<'_>, headers: &[(String, String)]) -> Vec<(String, String)> {
    let mut added = vec![("X-Amz-Date".to_string(), input.amz_date.to_string())];
    if let Some(t) = input.session_token {
        added.push(("X-Amz-Security-Token".to_string(), t.to_string()));
    }
    let mut canon: Vec<(String, String)> = headers
        .iter()
        .chain(added.iter())
        .map(|(k, v)| {
            (
                k.to_ascii_lowercase(),
                v.split_whitespace().collect::<Vec<_>>().join(" "),
            )
        })
        .filter(|(k, _)| k != "user-agent" && k != "expect" && k != "x-amzn-trace-id")
        .collect();
    canon.push(("host".into(), input.host.to_string()));
    canon.sort();
    let signed: Vec<&str> = canon.iter().map(|(k, _)| k.as_str()).collect();
    let signed = signed.join(";");
    let canonical_headers: String = canon.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let payload_hash = hex::encode(Sha256::digest(input.body));
    let canonical = format!(
        "POST\n{}\n\n{canonical_headers}\n{signed}\n{payload_hash}",
        input.path
    );
    let date = &input.amz_date[..8];
    let scope = format!("{date}/{}/{}/aws4_request", input.region, input.service);
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{}\n{scope}\n{}",
        input.amz_date,
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let k = hmac(format!("AWS4{}", input.secret_key).as_bytes(), date);
    let k = hmac(&k, input.region);
    let k = hmac(&k, input.service);
    let k = hmac(&k, "aws4_request");
    let sig = hex::encode(hmac(&k, &to_sign));
    added.push((
        "Authorization".to_string(),
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed}, Signature={sig}",
            input.access_key
        ),
    ));
    added
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_key_chain_matches_aws_example() {
        // AWS documentation example: derived key for 20120215/us-east-1/iam.
        let k = hmac(b"AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215");
        let k = hmac(&k, "us-east-1");
        let k = hmac(&k, "iam");
        let k = hmac(&k, "aws4_request");
        assert_eq!(
            hex::encode(k),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    #[test]
    fn authorization_header_shape() {
        let h = sign(
            &SignInput {
                access_key: "AK",
                secret_key: "SK",
                session_token: None,
                region: "us-east-1",
                service: "dynamodb",
                amz_date: "20250101T000000Z",
                host: "127.0.0.1:8787",
                path: "/",
                body: b"{}",
            },
            &[
                ("Content-Type".into(), "application/x-amz-json-1.0".into()),
                ("X-Amz-Target".into(), "DynamoDB_20120810.ListTables".into()),
            ],
        );
        let auth = &h.iter().find(|(k, _)| k == "Authorization").unwrap().1;
        assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AK/20250101/us-east-1/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature="));
    }
}
