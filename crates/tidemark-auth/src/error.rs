//! Authentication failures and their one wire code per service (reference §1.1).

use thiserror::Error;

/// Which service's error vocabulary a failure is rendered in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    DynamoDb,
    Redshift,
    /// The Redshift Data API (`redshift-data`), an awsJson1_1 service.
    RedshiftData,
}

impl Service {
    /// The service name a SigV4 credential scope must carry for this service.
    pub fn signing_name(self) -> &'static str {
        match self {
            Self::DynamoDb => "dynamodb",
            Self::Redshift => "redshift",
            Self::RedshiftData => "redshift-data",
        }
    }
}

/// Why a request was not authenticated. Each variant maps to exactly one code per service in
/// [`AuthError::wire`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AuthError {
    /// Neither an `Authorization` header nor presigned query parameters.
    #[error("Request is missing Authentication Token")]
    MissingAuthentication,
    /// SigV4 is present but not well-formed; the message says what is wrong, in AWS's words.
    #[error("{0}")]
    IncompleteSignature(String),
    /// Strict mode: the access key is not in the credentials file.
    #[error("The security token included in the request is invalid.")]
    UnknownAccessKey { access_key_id: String },
    /// Strict mode: the signature we computed differs from the one sent.
    #[error(
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
    )]
    SignatureMismatch {
        canonical_request: String,
        string_to_sign: String,
    },
    /// Strict mode: `X-Amz-Content-Sha256` is not the SHA-256 of the body received.
    #[error("The provided 'x-amz-content-sha256' header does not match what was computed.")]
    PayloadHashMismatch,
    /// Strict mode: the request time is more than 15 minutes before the wall clock.
    #[error("Signature expired: {signed} is now earlier than {limit} ({now} - 15 min.)")]
    Expired {
        signed: String,
        limit: String,
        now: String,
    },
    /// Strict mode: the request time is more than 15 minutes after the wall clock.
    #[error("Signature not yet current: {signed} is still later than {limit} ({now} + 15 min.)")]
    NotYetCurrent {
        signed: String,
        limit: String,
        now: String,
    },
    /// Strict mode: a presigned request used after `X-Amz-Date + X-Amz-Expires`.
    #[error("Request has expired")]
    PresignExpired,
    /// The credential scope names another service (see [`crate::Identity::check_service`]).
    #[error("Credential should be scoped to correct service: '{expected}'. ")]
    WrongScopeService { expected: &'static str, got: String },
}

impl AuthError {
    /// `(code, HTTP status, message)` as `service` reports this failure. DynamoDB codes are
    /// the full `namespace#Name` used in its `__type` field; every DynamoDB auth error is 400.
    /// The Data API is an awsJson service behind the same front end and answers with the same
    /// codes and statuses (SDKs drop the namespace before `#`).
    pub fn wire(&self, service: Service) -> (&'static str, u16, String) {
        match service {
            Service::DynamoDb | Service::RedshiftData => {
                let code = match self {
                    Self::MissingAuthentication => {
                        "com.amazon.coral.service#MissingAuthenticationTokenException"
                    }
                    Self::IncompleteSignature(_) => {
                        "com.amazon.coral.service#IncompleteSignatureException"
                    }
                    Self::UnknownAccessKey { .. } => {
                        "com.amazon.coral.service#UnrecognizedClientException"
                    }
                    Self::SignatureMismatch { .. }
                    | Self::PayloadHashMismatch
                    | Self::Expired { .. }
                    | Self::NotYetCurrent { .. }
                    | Self::PresignExpired
                    | Self::WrongScopeService { .. } => {
                        "com.amazon.coral.service#InvalidSignatureException"
                    }
                };
                (code, 400, self.to_string())
            }
            Service::Redshift => match self {
                Self::MissingAuthentication => {
                    ("MissingAuthenticationToken", 403, self.to_string())
                }
                Self::IncompleteSignature(_) => ("IncompleteSignature", 400, self.to_string()),
                Self::UnknownAccessKey { .. } => ("InvalidClientTokenId", 403, self.to_string()),
                Self::SignatureMismatch {
                    canonical_request,
                    string_to_sign,
                } => (
                    "SignatureDoesNotMatch",
                    403,
                    // Query-protocol services append what they computed, which is what makes
                    // a client-side signing bug diagnosable; none of it is secret.
                    format!(
                        "{self}\n\nThe Canonical String for this request should have been\n'{canonical_request}'\n\nThe String-to-Sign should have been\n'{string_to_sign}'\n"
                    ),
                ),
                Self::PayloadHashMismatch | Self::WrongScopeService { .. } => {
                    ("SignatureDoesNotMatch", 403, self.to_string())
                }
                Self::Expired { .. } | Self::NotYetCurrent { .. } | Self::PresignExpired => {
                    ("RequestExpired", 400, self.to_string())
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_the_reference_codes() {
        let mismatch = AuthError::SignatureMismatch {
            canonical_request: "CR".into(),
            string_to_sign: "STS".into(),
        };
        let expired = AuthError::Expired {
            signed: "20240101T000000Z".into(),
            limit: "20240101T001500Z".into(),
            now: "20240101T003000Z".into(),
        };
        let cases: Vec<(AuthError, &str, u16, &str, u16)> = vec![
            (
                AuthError::MissingAuthentication,
                "com.amazon.coral.service#MissingAuthenticationTokenException",
                400,
                "MissingAuthenticationToken",
                403,
            ),
            (
                AuthError::IncompleteSignature("x".into()),
                "com.amazon.coral.service#IncompleteSignatureException",
                400,
                "IncompleteSignature",
                400,
            ),
            (
                AuthError::UnknownAccessKey {
                    access_key_id: "AK".into(),
                },
                "com.amazon.coral.service#UnrecognizedClientException",
                400,
                "InvalidClientTokenId",
                403,
            ),
            (
                mismatch.clone(),
                "com.amazon.coral.service#InvalidSignatureException",
                400,
                "SignatureDoesNotMatch",
                403,
            ),
            (
                expired.clone(),
                "com.amazon.coral.service#InvalidSignatureException",
                400,
                "RequestExpired",
                400,
            ),
        ];
        for (err, ddb_code, ddb_status, rs_code, rs_status) in cases {
            let (c, s, _) = err.wire(Service::DynamoDb);
            assert_eq!((c, s), (ddb_code, ddb_status), "{err:?}");
            let (c, s, _) = err.wire(Service::Redshift);
            assert_eq!((c, s), (rs_code, rs_status), "{err:?}");
        }
        assert_eq!(
            expired.wire(Service::DynamoDb).2,
            "Signature expired: 20240101T000000Z is now earlier than 20240101T001500Z (20240101T003000Z - 15 min.)"
        );
        let rs_msg = mismatch.wire(Service::Redshift).2;
        assert!(rs_msg.starts_with("The request signature we calculated does not match"));
        assert!(rs_msg.contains("should have been\n'CR'"));
        assert!(!mismatch.wire(Service::DynamoDb).2.contains("CR"));
    }
}
