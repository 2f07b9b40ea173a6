//! MD5 password authentication against a stored `md5…` verifier, compared in constant time.

use md5::{Digest, Md5};
use subtle::ConstantTimeEq;

/// The stored verifier as PostgreSQL keeps it: `"md5" + hex(md5(password + user))`.
pub fn md5_verifier(user: &str, password: &str) -> String {
    let mut h = Md5::new();
    h.update(password.as_bytes());
    h.update(user.as_bytes());
    format!("md5{}", hex(&h.finalize()))
}

/// What the client must answer to `salt`: `"md5" + hex(md5(hex(md5(password + user)) + salt))`.
fn expected_response(verifier: &str, salt: [u8; 4]) -> Option<String> {
    let inner = verifier.strip_prefix("md5").filter(|h| h.len() == 32)?;
    let mut h = Md5::new();
    h.update(inner.as_bytes());
    h.update(salt);
    Some(format!("md5{}", hex(&h.finalize())))
}

/// Checks a client's `PasswordMessage` payload (without its NUL) against the verifier. A missing
/// or malformed verifier (an unknown user) still costs one hash, so both paths take alike time.
pub(crate) fn verify(verifier: Option<&str>, salt: [u8; 4], response: &[u8]) -> bool {
    const DUMMY: &str = "md500000000000000000000000000000000";
    let known = verifier.and_then(|v| expected_response(v, salt));
    let expected = known
        .clone()
        .or_else(|| expected_response(DUMMY, salt))
        .unwrap_or_default();
    let same: bool = expected.as_bytes().ct_eq(response).into();
    same && known.is_some()
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing into a String cannot fail.
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_postgres() {
        // PostgreSQL's pg_authid form for user "postgres", password "secret".
        let v = md5_verifier("postgres", "secret");
        assert_eq!(v.len(), 35);
        let salt = [1, 2, 3, 4];
        let good = expected_response(&v, salt).unwrap_or_default();
        assert!(verify(Some(&v), salt, good.as_bytes()));
        assert!(!verify(Some(&v), [9, 9, 9, 9], good.as_bytes()));
        assert!(!verify(None, salt, good.as_bytes()));
        assert!(!verify(Some("garbage"), salt, b"md5"));
    }

    #[test]
    fn known_vector() {
        // `echo -n secretpostgres | md5sum`
        assert_eq!(
            md5_verifier("postgres", "secret"),
            "md553f48b7c4b76a86ce72276c5755f217d"
        );
    }
}
