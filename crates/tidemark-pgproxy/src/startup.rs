//! Parsing of the untrusted first packet a client sends (SSL/GSS/cancel requests, StartupMessage)
//! and the choice of startup parameters passed on to PostgreSQL.

use crate::wire::{CANCEL_REQUEST, GSSENC_REQUEST, SSL_REQUEST};

/// One packet of the startup phase.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Packet {
    SslRequest,
    GssEncRequest,
    Cancel { pid: i32, key: i32 },
    Startup(Startup),
}

/// A protocol 3.x `StartupMessage`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Startup {
    /// The minor version asked for; we speak 3.0 and negotiate down if higher.
    pub minor: u16,
    pub params: Vec<(String, String)>,
}

impl Startup {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why a startup packet was refused; each maps to PostgreSQL's own message.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum StartupError {
    #[error("invalid length of startup packet")]
    Length,
    #[error("unsupported frontend protocol {major}.{minor}: server supports 3.0 to 3.0")]
    Protocol { major: u16, minor: u16 },
    #[error("invalid startup packet layout: expected terminator as last byte")]
    Layout,
    #[error("too many parameters in startup packet")]
    TooManyParameters,
    #[error("invalid byte sequence in startup packet")]
    Encoding,
}

impl StartupError {
    /// PostgreSQL's SQLSTATE for this refusal.
    pub(crate) fn sqlstate(&self) -> &'static str {
        match self {
            StartupError::Protocol { .. } => "0A000",
            StartupError::Encoding => "22021",
            _ => "08P01",
        }
    }
}

/// Checks the length word of a packet: PostgreSQL accepts 8 ..= its maximum.
pub(crate) fn check_len(len: u32, max: usize) -> Result<usize, StartupError> {
    let len = usize::try_from(len).map_err(|_| StartupError::Length)?;
    if len < 8 || len > max {
        return Err(StartupError::Length);
    }
    Ok(len)
}

/// Parses a packet's body (everything after the length word). Linear in its size.
pub(crate) fn parse_packet(body: &[u8], max_params: usize) -> Result<Packet, StartupError> {
    let Some((code, rest)) = body.split_first_chunk::<4>() else {
        return Err(StartupError::Length);
    };
    let code = u32::from_be_bytes(*code);
    match code {
        SSL_REQUEST if rest.is_empty() => Ok(Packet::SslRequest),
        GSSENC_REQUEST if rest.is_empty() => Ok(Packet::GssEncRequest),
        CANCEL_REQUEST => match rest {
            [p0, p1, p2, p3, k0, k1, k2, k3] => Ok(Packet::Cancel {
                pid: i32::from_be_bytes([*p0, *p1, *p2, *p3]),
                key: i32::from_be_bytes([*k0, *k1, *k2, *k3]),
            }),
            _ => Err(StartupError::Length),
        },
        SSL_REQUEST | GSSENC_REQUEST => Err(StartupError::Length),
        _ => {
            let major = (code >> 16) as u16;
            let minor = (code & 0xffff) as u16;
            if major != 3 {
                return Err(StartupError::Protocol { major, minor });
            }
            Ok(Packet::Startup(Startup {
                minor,
                params: parse_params(rest, max_params)?,
            }))
        }
    }
}

/// Name/value C-string pairs ending with an empty name.
fn parse_params(mut rest: &[u8], max_params: usize) -> Result<Vec<(String, String)>, StartupError> {
    if rest.last() != Some(&0) {
        return Err(StartupError::Layout);
    }
    let mut params = Vec::new();
    loop {
        let name = take_cstr(&mut rest)?;
        if name.is_empty() {
            // PostgreSQL wants the terminator to be the last byte.
            return if rest.is_empty() {
                Ok(params)
            } else {
                Err(StartupError::Layout)
            };
        }
        let value = take_cstr(&mut rest)?;
        if params.len() == max_params {
            return Err(StartupError::TooManyParameters);
        }
        params.push((utf8(name)?, utf8(value)?));
    }
}

fn take_cstr<'a>(rest: &mut &'a [u8]) -> Result<&'a [u8], StartupError> {
    let end = rest
        .iter()
        .position(|&b| b == 0)
        .ok_or(StartupError::Layout)?;
    let (s, tail) = rest.split_at(end);
    *rest = &tail[1..];
    Ok(s)
}

fn utf8(bytes: &[u8]) -> Result<String, StartupError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| StartupError::Encoding)
}

/// The settings PostgreSQL accepts in a StartupMessage that a client may set for itself. Anything
/// else is dropped: Redshift drivers send their own (`client_protocol_version`, `driver_version`,
/// `os_version`, `plugin_name`…), which PostgreSQL would refuse (reference redshift-sql.md §3),
/// and `replication` or `_pq_.` options must never reach the backend.
const FORWARDED: &[&str] = &[
    "application_name",
    "client_encoding",
    "datestyle",
    "timezone",
    "intervalstyle",
    "options",
    "extra_float_digits",
    "search_path",
    "bytea_output",
    "lc_messages",
    "lc_monetary",
    "lc_numeric",
    "lc_time",
    "statement_timeout",
    "lock_timeout",
    "idle_in_transaction_session_timeout",
    "default_transaction_isolation",
    "default_transaction_read_only",
    "geqo",
    "standard_conforming_strings",
];

/// The parameters sent to the backend: the client's allowed settings plus the resolved role and
/// database.
pub(crate) fn backend_params(
    startup: &Startup,
    user: &str,
    database: &str,
) -> Vec<(String, String)> {
    let mut out = vec![
        ("user".to_owned(), user.to_owned()),
        ("database".to_owned(), database.to_owned()),
    ];
    for (name, value) in &startup.params {
        if FORWARDED.iter().any(|f| f.eq_ignore_ascii_case(name)) {
            out.push((name.clone(), value.clone()));
        }
    }
    out
}

/// The `_pq_.` protocol options a client asked for; we support none and say so.
pub(crate) fn protocol_options(startup: &Startup) -> Vec<String> {
    startup
        .params
        .iter()
        .filter(|(n, _)| n.starts_with("_pq_."))
        .map(|(n, _)| n.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn body(code: u32, rest: &[u8]) -> Vec<u8> {
        let mut b = code.to_be_bytes().to_vec();
        b.extend_from_slice(rest);
        b
    }

    #[test]
    fn startup_params() {
        let b = body(
            196_608,
            b"user\0bob\0database\0dev\0client_protocol_version\x002\0\0",
        );
        let Ok(Packet::Startup(s)) = parse_packet(&b, 64) else {
            panic!("not a startup")
        };
        assert_eq!(s.get("user"), Some("bob"));
        let fwd = backend_params(&s, "pg_bob", "dev");
        assert_eq!(
            fwd,
            vec![
                ("user".into(), "pg_bob".into()),
                ("database".into(), "dev".into())
            ]
        );
    }

    #[test]
    fn refusals() {
        assert_eq!(
            parse_packet(&body(0x0002_0000, b"\0"), 64),
            Err(StartupError::Protocol { major: 2, minor: 0 })
        );
        assert_eq!(
            parse_packet(&body(196_608, b"user\0bob"), 64),
            Err(StartupError::Layout)
        );
        assert_eq!(
            parse_packet(&body(196_608, b"user\0bob\0\0x"), 64),
            Err(StartupError::Layout)
        );
        assert_eq!(
            parse_packet(&body(196_608, b"a\0b\0c\0d\0\0"), 1),
            Err(StartupError::TooManyParameters)
        );
        assert_eq!(
            parse_packet(&body(CANCEL_REQUEST, b"1234"), 64),
            Err(StartupError::Length)
        );
        assert_eq!(
            parse_packet(&body(SSL_REQUEST, b""), 64),
            Ok(Packet::SslRequest)
        );
        assert_eq!(check_len(7, 10_000), Err(StartupError::Length));
        assert_eq!(check_len(10_001, 10_000), Err(StartupError::Length));
    }

    proptest! {
        // Garbage never panics the parser, whatever its shape.
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = parse_packet(&bytes, 8);
        }

        #[test]
        fn random_params_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = parse_packet(&body(196_608, &bytes), 8);
        }
    }
}
