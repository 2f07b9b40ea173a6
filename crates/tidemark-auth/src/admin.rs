//! Who may call the admin API (`/_tidemark/*`, `/moto-api/reset`) of a strict server: a
//! request SigV4-signed by a credential marked `admin = true` in the credentials file.
//!
//! The signature is verified exactly as for AWS calls (same canonical request, body hash,
//! skew check), so a signed admin call cannot be replayed with another method, path, query
//! or body. Any service name in the credential scope is accepted (the tidemark client signs
//! with `tidemark`): the scope only selects the signing key, and an admin route is no AWS
//! service whose name a client could know.

use jiff::Timestamp;
use thiserror::Error;

use crate::{AuthError, CredentialsFile, Identity, RequestParts, parse, verify};

/// Why an admin call was refused; every variant is answered with HTTP 403.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AdminDenied {
    /// Neither an `Authorization` header nor presigned query parameters.
    #[error(
        "the admin API of a strict server needs a SigV4 signature by an admin credential; this request is not signed"
    )]
    NoSignature,
    /// Signed, but not verifiably by a known credential (unknown key, wrong secret, stale
    /// time, altered body, malformed header).
    #[error("the admin API refused the request's signature: {0}")]
    BadSignature(AuthError),
    /// A valid signature by a credential without `admin = true`.
    #[error(
        "the credential {principal:?} (access key {access_key_id}) is not an admin credential: the admin API needs one marked admin = true in the credentials file"
    )]
    NotAdmin {
        principal: String,
        access_key_id: String,
    },
}

impl AdminDenied {
    /// A short, stable code for the JSON error body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoSignature => "MissingAuthenticationToken",
            Self::BadSignature(AuthError::UnknownAccessKey { .. }) => "InvalidClientTokenId",
            Self::BadSignature(_) => "SignatureDoesNotMatch",
            Self::NotAdmin { .. } => "AccessDenied",
        }
    }
}

/// Accepts `req` as an admin call if it is signed by an admin credential of `file`, judging
/// time against `wall_now` (pass `tidemark_core::wall_now()`).
pub fn authorize_admin(
    file: &CredentialsFile,
    req: &RequestParts<'_>,
    wall_now: Timestamp,
) -> Result<Identity, AdminDenied> {
    let sig = parse::parse(req).map_err(|e| match e {
        AuthError::MissingAuthentication => AdminDenied::NoSignature,
        other => AdminDenied::BadSignature(other),
    })?;
    let (identity, cred) = verify(file, req, sig, wall_now).map_err(AdminDenied::BadSignature)?;
    if !cred.admin {
        return Err(AdminDenied::NotAdmin {
            principal: identity.principal,
            access_key_id: identity.access_key_id,
        });
    }
    Ok(identity)
}
