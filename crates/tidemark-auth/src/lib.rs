//! SigV4 request authentication for the tidemark server, free of HTTP types.
//!
//! [`authenticate`] takes the request as received ([`RequestParts`]) and an [`AuthMode`]:
//! * `Strict` rebuilds the canonical request from the signed headers only, derives the signing
//!   key from the secret in the [`CredentialsFile`], compares signatures in constant time and
//!   refuses requests whose time is more than 15 minutes from the *real* wall clock (never the
//!   virtual clock: the skew check is about the caller's clock, not the emulator's).
//! * `Permissive` only requires well-formed SigV4; a 12-digit access key selects that account,
//!   any other key the default account `123456789012`.
//!
//! In both modes an unsigned request fails with [`AuthError::MissingAuthentication`].
//! [`AuthError::wire`] gives each failure's code, status and message per [`Service`]
//! (reference §1.1).

mod admin;
mod amz_date;
pub mod canonical;
mod credentials;
mod error;
mod parse;

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use subtle::ConstantTimeEq;
use tidemark_core::AccountId;

pub use admin::{AdminDenied, authorize_admin};
pub use credentials::{Credential, CredentialsFile, LoadError};
pub use error::{AuthError, Service};

use amz_date::format_iso_basic;
use canonical::{CanonicalInput, sha256_hex};
use parse::{Location, SigV4, header};

/// Largest clock difference accepted between the request time and the wall clock.
pub const MAX_SKEW: SignedDuration = SignedDuration::from_mins(15);

/// The parts of an HTTP request that SigV4 covers, exactly as received.
#[derive(Clone, Copy, Debug)]
pub struct RequestParts<'a> {
    pub method: &'a str,
    /// Raw path as received, still percent-encoded.
    pub path: &'a str,
    /// Raw query string without the leading `?`.
    pub query: &'a str,
    /// Header names as received (any case); a name may repeat.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// How requests are authenticated.
#[derive(Clone, Debug)]
pub enum AuthMode {
    /// Verify every signature against the credentials file.
    Strict(Arc<CredentialsFile>),
    /// Accept any well-formed SigV4 request without checking its signature.
    Permissive,
}

/// Who a successfully authenticated request comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub access_key_id: String,
    pub account: AccountId,
    /// Region from the credential scope.
    pub region: String,
    /// Service from the credential scope (`dynamodb`, `redshift`, ...); the caller decides
    /// whether it matches the endpoint.
    pub service: String,
    /// Credential name from the file (strict) or the access key id (permissive).
    pub principal: String,
}

impl Identity {
    /// Refuses a credential scoped to another service than the endpoint that received it,
    /// as AWS does. Call it in strict mode; permissive mode tolerates any scope service.
    pub fn check_service(&self, service: Service) -> Result<(), AuthError> {
        if self.service == service.signing_name() {
            Ok(())
        } else {
            Err(AuthError::WrongScopeService {
                expected: service.signing_name(),
                got: self.service.clone(),
            })
        }
    }
}

/// What the server computed for a request: useful in tests and when debugging a client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CanonicalForm {
    pub canonical_request: String,
    pub string_to_sign: String,
}

/// Authenticates `req` under `mode`, judging time against `wall_now` (pass
/// `tidemark_core::wall_now()`).
pub fn authenticate(
    mode: &AuthMode,
    req: &RequestParts<'_>,
    wall_now: Timestamp,
) -> Result<Identity, AuthError> {
    let sig = parse::parse(req)?;
    match mode {
        AuthMode::Permissive => Ok(Identity {
            account: AccountId::parse(&sig.access_key_id)
                .unwrap_or_else(AccountId::default_account),
            principal: sig.access_key_id.clone(),
            access_key_id: sig.access_key_id,
            region: sig.region,
            service: sig.service,
        }),
        AuthMode::Strict(file) => verify(file, req, sig, wall_now).map(|(identity, _)| identity),
    }
}

/// Strict verification of a parsed signature against `file`: the credential exists, the
/// time is within the skew, the body matches its claimed hash and the signature is the one
/// the secret gives. Returns the identity and the credential it came from.
fn verify<'f>(
    file: &'f CredentialsFile,
    req: &RequestParts<'_>,
    sig: SigV4,
    wall_now: Timestamp,
) -> Result<(Identity, &'f Credential), AuthError> {
    let cred = file
        .lookup(&sig.access_key_id)
        .ok_or_else(|| AuthError::UnknownAccessKey {
            access_key_id: sig.access_key_id.clone(),
        })?;
    check_time(&sig, wall_now)?;
    let payload_hash = payload_hash(req, true)?;
    let form = build(req, &sig, &payload_hash);
    let expected = canonical::signature(
        &cred.secret_access_key,
        &sig.scope_date,
        &sig.region,
        &sig.service,
        &form.string_to_sign,
    );
    if !bool::from(expected.as_bytes().ct_eq(sig.signature.as_bytes())) {
        return Err(AuthError::SignatureMismatch {
            canonical_request: form.canonical_request,
            string_to_sign: form.string_to_sign,
        });
    }
    let identity = Identity {
        access_key_id: sig.access_key_id,
        account: cred.account_id.clone(),
        region: sig.region,
        service: sig.service,
        principal: cred.name.clone(),
    };
    Ok((identity, cred))
}

/// The canonical request and string to sign the server derives from `req`, without checking
/// anything but well-formedness.
pub fn canonical_form(req: &RequestParts<'_>) -> Result<CanonicalForm, AuthError> {
    let sig = parse::parse(req)?;
    let payload_hash = payload_hash(req, false)?;
    Ok(build(req, &sig, &payload_hash))
}

fn build(req: &RequestParts<'_>, sig: &SigV4, payload_hash: &str) -> CanonicalForm {
    let canonical_request = canonical::canonical_request(&CanonicalInput {
        method: req.method,
        raw_path: req.path,
        raw_query: req.query,
        headers: req.headers,
        signed_headers: &sig.signed_headers,
        payload_hash,
        presigned: sig.location == Location::Query,
    });
    let string_to_sign = canonical::string_to_sign(&sig.amz_date, &sig.scope(), &canonical_request);
    CanonicalForm {
        canonical_request,
        string_to_sign,
    }
}

/// The payload hash that enters the canonical request. A client-supplied
/// `X-Amz-Content-Sha256` is used as sent (it is what the client signed); with `verify` a
/// value other than `UNSIGNED-PAYLOAD` must also be the SHA-256 of the body received, or a
/// client could sign a hash and send a different body.
fn payload_hash(req: &RequestParts<'_>, verify: bool) -> Result<String, AuthError> {
    match header(req.headers, "x-amz-content-sha256").map(str::trim) {
        Some("UNSIGNED-PAYLOAD") => Ok("UNSIGNED-PAYLOAD".to_string()),
        Some(claimed) => {
            if verify && !claimed.eq_ignore_ascii_case(&sha256_hex(req.body)) {
                return Err(AuthError::PayloadHashMismatch);
            }
            Ok(claimed.to_string())
        }
        None => Ok(sha256_hex(req.body)),
    }
}

/// Rejects requests signed more than [`MAX_SKEW`] away from `now`; a presigned request with
/// `X-Amz-Expires` may be older, up to its expiry, but never from the future beyond the skew.
fn check_time(sig: &SigV4, now: Timestamp) -> Result<(), AuthError> {
    let ahead = sig.time.duration_since(now);
    if ahead > MAX_SKEW {
        return Err(AuthError::NotYetCurrent {
            signed: sig.amz_date.clone(),
            limit: format_iso_basic(now.saturating_add(MAX_SKEW).unwrap_or(now)),
            now: format_iso_basic(now),
        });
    }
    match (sig.location, sig.expires) {
        (Location::Query, Some(expires)) => {
            if -ahead > SignedDuration::from_secs(expires) {
                return Err(AuthError::PresignExpired);
            }
        }
        _ => {
            if -ahead > MAX_SKEW {
                return Err(AuthError::Expired {
                    signed: sig.amz_date.clone(),
                    limit: format_iso_basic(now.saturating_sub(MAX_SKEW).unwrap_or(now)),
                    now: format_iso_basic(now),
                });
            }
        }
    }
    Ok(())
}
