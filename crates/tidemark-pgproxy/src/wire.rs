//! Encoders for the few protocol v3 messages the proxy itself sends (everything else is relayed).

/// `SSLRequest` code (PostgreSQL's `NEGOTIATE_SSL_CODE`).
pub(crate) const SSL_REQUEST: u32 = 80_877_103;
/// `GSSENCRequest` code.
pub(crate) const GSSENC_REQUEST: u32 = 80_877_104;
/// `CancelRequest` code.
pub(crate) const CANCEL_REQUEST: u32 = 80_877_102;
/// Protocol 3.0 as sent in a `StartupMessage`.
pub(crate) const PROTOCOL_3_0: u32 = 196_608;

/// Appends a message: type byte, then a length covering itself and `body`.
fn message(out: &mut Vec<u8>, ty: u8, body: impl FnOnce(&mut Vec<u8>)) {
    out.push(ty);
    let len_at = out.len();
    out.extend_from_slice(&[0; 4]);
    body(out);
    patch_len(out, len_at);
}

/// Writes the big-endian length of `out[at..]` at `at`. Our own messages are small (the SQL we
/// send is bounded by `Limits::max_statement_bytes`, far below 2 GiB), so the length fits.
fn patch_len(out: &mut [u8], at: usize) {
    let len = u32::try_from(out.len() - at).unwrap_or(u32::MAX);
    out[at..at + 4].copy_from_slice(&len.to_be_bytes());
}

/// Appends `s` as a C string; an interior NUL would end the field early, so NULs are dropped.
pub(crate) fn cstr(out: &mut Vec<u8>, s: &[u8]) {
    out.extend(s.iter().copied().filter(|&b| b != 0));
    out.push(0);
}

/// `ErrorResponse` with PostgreSQL's fields S, V, C, M.
pub(crate) fn error_response(out: &mut Vec<u8>, severity: &str, code: &str, msg: &str) {
    message(out, b'E', |out| {
        for (field, value) in [
            (b'S', severity),
            (b'V', severity),
            (b'C', code),
            (b'M', msg),
        ] {
            out.push(field);
            cstr(out, value.as_bytes());
        }
        out.push(0);
    });
}

/// A `FATAL` error, as PostgreSQL sends before closing a connection.
pub(crate) fn fatal(code: &str, msg: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + msg.len());
    error_response(&mut out, "FATAL", code, msg);
    out
}

/// `ParameterStatus`.
pub(crate) fn parameter_status(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    message(out, b'S', |out| {
        cstr(out, name);
        cstr(out, value);
    });
}

/// `BackendKeyData`.
pub(crate) fn backend_key_data(out: &mut Vec<u8>, pid: i32, key: i32) {
    message(out, b'K', |out| {
        out.extend_from_slice(&pid.to_be_bytes());
        out.extend_from_slice(&key.to_be_bytes());
    });
}

/// `AuthenticationMD5Password` with its salt.
pub(crate) fn auth_md5(out: &mut Vec<u8>, salt: [u8; 4]) {
    message(out, b'R', |out| {
        out.extend_from_slice(&5_i32.to_be_bytes());
        out.extend_from_slice(&salt);
    });
}

/// `NegotiateProtocolVersion`: we speak 3.0 and none of the `_pq_.` options.
pub(crate) fn negotiate_protocol_version(out: &mut Vec<u8>, unrecognized: &[String]) {
    message(out, b'v', |out| {
        out.extend_from_slice(&0_i32.to_be_bytes());
        let n = i32::try_from(unrecognized.len()).unwrap_or(i32::MAX);
        out.extend_from_slice(&n.to_be_bytes());
        for name in unrecognized {
            cstr(out, name.as_bytes());
        }
    });
}

/// A protocol 3.0 `StartupMessage` (no type byte).
pub(crate) fn startup_message(out: &mut Vec<u8>, params: &[(String, String)]) {
    let len_at = out.len();
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&PROTOCOL_3_0.to_be_bytes());
    for (name, value) in params {
        cstr(out, name.as_bytes());
        cstr(out, value.as_bytes());
    }
    out.push(0);
    patch_len(out, len_at);
}

/// A `CancelRequest` (no type byte).
pub(crate) fn cancel_request(pid: i32, key: i32) -> [u8; 16] {
    let mut out = [0; 16];
    out[0..4].copy_from_slice(&16_u32.to_be_bytes());
    out[4..8].copy_from_slice(&CANCEL_REQUEST.to_be_bytes());
    out[8..12].copy_from_slice(&pid.to_be_bytes());
    out[12..16].copy_from_slice(&key.to_be_bytes());
    out
}

/// A simple `Query`.
pub(crate) fn query(out: &mut Vec<u8>, sql: &str) {
    message(out, b'Q', |out| cstr(out, sql.as_bytes()));
}

/// A `Parse` with the given statement name and parameter type OIDs.
pub(crate) fn parse(out: &mut Vec<u8>, name: &[u8], sql: &str, types: &[u32]) {
    message(out, b'P', |out| {
        cstr(out, name);
        cstr(out, sql.as_bytes());
        // Callers pass at most the 65,535 types a Parse can carry.
        let n = u16::try_from(types.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&n.to_be_bytes());
        for t in types.iter().take(usize::from(n)) {
            out.extend_from_slice(&t.to_be_bytes());
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_response_layout() {
        let mut out = Vec::new();
        error_response(&mut out, "FATAL", "28P01", "no\0pe");
        assert_eq!(out[0], b'E');
        let len = u32::from_be_bytes([out[1], out[2], out[3], out[4]]) as usize;
        assert_eq!(len + 1, out.len());
        assert_eq!(&out[5..], b"SFATAL\0VFATAL\0C28P01\0Mnope\0\0");
    }

    #[test]
    fn startup_layout() {
        let mut out = Vec::new();
        startup_message(&mut out, &[("user".into(), "u".into())]);
        assert_eq!(out, b"\0\0\0\x10\0\x03\0\0user\0u\0\0");
    }
}
