//! The attack side of the strict matrix: each way of getting a request past SigV4 without
//! the owner's consent, how it is built from a correctly signed request, and the answer AWS
//! gives it (reference §1.1); plus the signings that must still be accepted.

use std::time::{Duration, SystemTime};

use crate::ops::{Op, REGION, Svc};
use crate::wire::{Key, Signing, Wire, sign_request};
use crate::{MIN, OTHER_REGION, OWNER, YEAR};

/// One way of getting a request past SigV4 without the owner's consent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attack {
    /// No `Authorization` header and no presigned query.
    NoSignature,
    /// An `Authorization` header without its `Signature=` part.
    MalformedAuthorization,
    /// An access key the credentials file does not know.
    UnknownAccessKey,
    /// The owner's access key with another secret.
    WrongSecret,
    /// Dated 16 minutes before the wall clock.
    DatedPast,
    /// Dated 16 minutes after the wall clock.
    DatedFuture,
    /// Dated at the virtual clock's "now", a year ahead of the wall clock.
    DatedAtVirtualNow,
    /// Signed over one body, another sent (one byte appended that parses the same).
    TamperedBody,
    /// The same, with the signed body's hash in a signed `x-amz-content-sha256`.
    TamperedBodyHashed,
    /// A signed header (`Host`) changed after signing.
    SignedHeaderChanged,
    /// A signed header (`x-amz-content-sha256`) removed after signing.
    SignedHeaderRemoved,
    /// DynamoDB: `X-Amz-Target` signed for DescribeLimits, sent for the operation.
    OperationSwapped,
    /// The credential scope's region rewritten after signing.
    ScopeRegionRewritten,
    /// Correctly signed, but for the other service's scope.
    ScopeOtherService,
    /// Presigned 10 minutes ago with `X-Amz-Expires=60`.
    PresignedExpired,
    /// Presigned for 20 minutes from now (beyond the 15-minute skew).
    PresignedFuture,
    /// Presigned correctly, then a query parameter added.
    PresignedParameterAdded,
    /// Signed in the `Authorization` header and presigned in the query at once.
    BothAuthMechanisms,
}

pub const ATTACKS: [Attack; 18] = [
    Attack::NoSignature,
    Attack::MalformedAuthorization,
    Attack::UnknownAccessKey,
    Attack::WrongSecret,
    Attack::DatedPast,
    Attack::DatedFuture,
    Attack::DatedAtVirtualNow,
    Attack::TamperedBody,
    Attack::TamperedBodyHashed,
    Attack::SignedHeaderChanged,
    Attack::SignedHeaderRemoved,
    Attack::OperationSwapped,
    Attack::ScopeRegionRewritten,
    Attack::ScopeOtherService,
    Attack::PresignedExpired,
    Attack::PresignedFuture,
    Attack::PresignedParameterAdded,
    Attack::BothAuthMechanisms,
];

const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.";

impl Attack {
    pub fn applies(self, svc: Svc) -> bool {
        self != Attack::OperationSwapped || svc == Svc::DynamoDb
    }

    /// `(code, HTTP status, message prefix)` as AWS answers this attack (reference §1.1:
    /// every DynamoDB auth error is a 400 under `com.amazon.coral.service#`; Redshift's are
    /// 403 but for `IncompleteSignature` and `RequestExpired`, which are 400).
    pub fn refusal(self, svc: Svc) -> (&'static str, u16, &'static str) {
        let ddb = svc == Svc::DynamoDb;
        let signature = if ddb {
            ("InvalidSignatureException", 400)
        } else {
            ("SignatureDoesNotMatch", 403)
        };
        let expired = if ddb {
            ("InvalidSignatureException", 400)
        } else {
            ("RequestExpired", 400)
        };
        let ((code, status), message) = match self {
            Attack::NoSignature => (
                if ddb {
                    ("MissingAuthenticationTokenException", 400)
                } else {
                    ("MissingAuthenticationToken", 403)
                },
                "Request is missing Authentication Token",
            ),
            Attack::MalformedAuthorization => (
                if ddb {
                    ("IncompleteSignatureException", 400)
                } else {
                    ("IncompleteSignature", 400)
                },
                "Authorization header requires 'Signature' parameter.",
            ),
            Attack::UnknownAccessKey => (
                if ddb {
                    ("UnrecognizedClientException", 400)
                } else {
                    ("InvalidClientTokenId", 403)
                },
                "The security token included in the request is invalid.",
            ),
            Attack::WrongSecret
            | Attack::TamperedBody
            | Attack::SignedHeaderChanged
            | Attack::SignedHeaderRemoved
            | Attack::OperationSwapped
            | Attack::ScopeRegionRewritten
            | Attack::PresignedParameterAdded => (signature, MISMATCH),
            Attack::BothAuthMechanisms => (
                if ddb {
                    ("IncompleteSignatureException", 400)
                } else {
                    ("IncompleteSignature", 400)
                },
                "Only one auth mechanism allowed",
            ),
            Attack::TamperedBodyHashed => (
                signature,
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            ),
            Attack::ScopeOtherService => (
                signature,
                if ddb {
                    "Credential should be scoped to correct service: 'dynamodb'."
                } else {
                    "Credential should be scoped to correct service: 'redshift'."
                },
            ),
            Attack::DatedPast => (expired, "Signature expired: "),
            Attack::DatedFuture | Attack::DatedAtVirtualNow | Attack::PresignedFuture => {
                (expired, "Signature not yet current: ")
            }
            Attack::PresignedExpired => (expired, "Request has expired"),
        };
        (code, status, message)
    }
}

/// Ways of signing that must be accepted: the wall-clock window in both directions, and
/// Redshift's presigned GET (reference §1.1: query-string signing MUST be accepted).
#[derive(Clone, Copy, Debug)]
pub enum Accepted {
    Now,
    Dated14MinutesAgo,
    Dated14MinutesAhead,
    Presigned,
}

pub fn wall() -> SystemTime {
    let now = tidemark_core::wall_now();
    SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(now.as_millisecond()).unwrap_or(0))
}

pub fn signing(key: Key, svc: Svc, region: &'static str, at: SystemTime) -> Signing {
    Signing {
        key,
        region,
        service: svc.signing_name(),
        at,
        presign: None,
        hash_header: false,
    }
}

pub fn attack_wire(addr: &str, op: &Op, attack: Attack) -> Wire {
    let now = wall();
    let plain = op.plain(false);
    let base = signing(OWNER, op.svc, REGION, now);
    let signed = |s: &Signing| sign_request(addr, &plain, s);
    let tamper_byte = if op.svc == Svc::DynamoDb { b' ' } else { b'&' };
    match attack {
        Attack::NoSignature => Wire::unsigned(addr, &plain),
        Attack::MalformedAuthorization => {
            let mut w = signed(&base);
            if let Some(auth) = w.header_mut("authorization") {
                let cut = auth.find(", Signature=").unwrap_or(auth.len());
                auth.truncate(cut);
            }
            w
        }
        Attack::UnknownAccessKey => signed(&Signing {
            key: Key {
                akid: "AKIDNOBODY000000009",
                secret: "owner-secret",
            },
            ..base
        }),
        Attack::WrongSecret => signed(&Signing {
            key: Key {
                akid: OWNER.akid,
                secret: "not-the-owner-secret",
            },
            ..base
        }),
        Attack::DatedPast => signed(&Signing {
            at: now - 16 * MIN,
            ..base
        }),
        Attack::DatedFuture => signed(&Signing {
            at: now + 16 * MIN,
            ..base
        }),
        Attack::DatedAtVirtualNow => signed(&Signing {
            at: now + YEAR,
            ..base
        }),
        Attack::TamperedBody => {
            let mut w = signed(&base);
            w.body.push(tamper_byte);
            w
        }
        Attack::TamperedBodyHashed => {
            let mut w = signed(&Signing {
                hash_header: true,
                ..base
            });
            w.body.push(tamper_byte);
            w
        }
        Attack::SignedHeaderChanged => {
            let mut w = signed(&base);
            if let Some(host) = w.header_mut("host") {
                *host = host.replace("127.0.0.1", "localhost");
            }
            w
        }
        Attack::SignedHeaderRemoved => {
            let mut w = signed(&Signing {
                hash_header: true,
                ..base
            });
            w.remove_header("x-amz-content-sha256");
            w
        }
        Attack::OperationSwapped => {
            let mut harmless = plain.clone();
            for (n, v) in &mut harmless.headers {
                if n == "x-amz-target" {
                    *v = "DynamoDB_20120810.DescribeLimits".to_owned();
                }
            }
            let mut w = sign_request(addr, &harmless, &base);
            let target = format!("DynamoDB_20120810.{}", op.action);
            if let Some(v) = w.header_mut("x-amz-target") {
                *v = target;
            }
            w
        }
        Attack::ScopeRegionRewritten => {
            let mut w = signed(&base);
            if let Some(auth) = w.header_mut("authorization") {
                *auth = auth.replace(&format!("/{REGION}/"), &format!("/{OTHER_REGION}/"));
            }
            w
        }
        Attack::ScopeOtherService => signed(&Signing {
            service: op.svc.other().signing_name(),
            ..base
        }),
        Attack::PresignedExpired => sign_request(
            addr,
            &op.plain(true),
            &Signing {
                at: now - 10 * MIN,
                presign: Some(MIN),
                ..base
            },
        ),
        Attack::PresignedParameterAdded => {
            let mut w = sign_request(
                addr,
                &op.plain(true),
                &Signing {
                    presign: Some(5 * MIN),
                    ..base
                },
            );
            w.query.push_str("&Marker=tampered");
            w
        }
        Attack::BothAuthMechanisms => {
            let presigned = sign_request(
                addr,
                &op.plain(false),
                &Signing {
                    presign: Some(5 * MIN),
                    ..base.clone()
                },
            );
            let mut w = signed(&base);
            w.query = presigned.query;
            w
        }
        Attack::PresignedFuture => sign_request(
            addr,
            &op.plain(true),
            &Signing {
                at: now + 20 * MIN,
                presign: Some(60 * MIN),
                ..base
            },
        ),
    }
}

pub fn accepted_wire(addr: &str, op: &Op, how: Accepted) -> Wire {
    let now = wall();
    let base = signing(OWNER, op.svc, REGION, now);
    match how {
        Accepted::Now => sign_request(addr, &op.plain(false), &base),
        Accepted::Dated14MinutesAgo => sign_request(
            addr,
            &op.plain(false),
            &Signing {
                at: now - 14 * MIN,
                ..base
            },
        ),
        Accepted::Dated14MinutesAhead => sign_request(
            addr,
            &op.plain(false),
            &Signing {
                at: now + 14 * MIN,
                ..base
            },
        ),
        Accepted::Presigned => sign_request(
            addr,
            &op.plain(true),
            &Signing {
                presign: Some(5 * MIN),
                ..base
            },
        ),
    }
}
