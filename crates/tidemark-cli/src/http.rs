//! A small blocking HTTP/1.1 client over `std::net::TcpStream` for `http://` endpoints: one
//! request per connection (`Connection: close`), Content-Length or chunked responses, connect
//! and read timeouts (`--cli-connect-timeout`, `--cli-read-timeout`). Chosen over reqwest /
//! ureq to keep a call's start-up well under a millisecond; `https://` goes through `tls.rs`.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Parsed endpoint URL.
#[derive(Debug, Clone)]
pub struct Url {
    pub scheme: String,
    /// `host[:port]` as written (the Host header and the signed host).
    pub netloc: String,
    pub host: String,
    pub port: u16,
    pub path: String,
}

pub fn parse_url(url: &str) -> Option<Url> {
    let (scheme, rest) = url.split_once("://")?;
    let (netloc, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if netloc.is_empty() {
        return None;
    }
    let default_port = if scheme == "https" { 443 } else { 80 };
    let (host, port) = match netloc.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || netloc.starts_with('[') => match p.parse() {
            Ok(port) => (h.trim_matches(['[', ']']).to_string(), port),
            Err(_) => (netloc.to_string(), default_port),
        },
        _ => (netloc.to_string(), default_port),
    };
    let netloc = if port == default_port {
        host.clone()
    } else {
        netloc.to_string()
    };
    Some(Url {
        scheme: scheme.to_string(),
        netloc,
        host,
        port,
        path: path.to_string(),
    })
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Debug)]
pub enum HttpError {
    Connect,
    ConnectTimeout,
    ReadTimeout,
    Unsupported(String),
    /// TLS setup or handshake failure (certificate verification, bad CA bundle).
    Tls(String),
    Protocol(String),
}

fn decode_chunked(mut data: &[u8]) -> Result<Vec<u8>, HttpError> {
    let mut out = Vec::new();
    loop {
        let pos = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| HttpError::Protocol("bad chunk".into()))?;
        let size_text = String::from_utf8_lossy(&data[..pos]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| HttpError::Protocol("bad chunk size".into()))?;
        data = &data[pos + 2..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size {
            return Err(HttpError::Protocol("truncated chunk".into()));
        }
        out.extend_from_slice(&data[..size]);
        data = data.get(size + 2..).unwrap_or(&[]);
    }
}

/// Per-call transport options.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub connect_timeout: Option<Duration>,
    pub read_timeout: Option<Duration>,
    pub tls: crate::tls::TlsOptions,
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// Sends one request (`method` is `GET` or `POST`) and reads the whole response.
pub fn request(
    method: &str,
    url: &Url,
    headers: &[(String, String)],
    body: &[u8],
    opts: &Options,
) -> Result<Response, HttpError> {
    if url.scheme != "http" && url.scheme != "https" {
        return Err(HttpError::Unsupported(format!(
            "unsupported URL scheme {}",
            url.scheme
        )));
    }
    let addrs: Vec<_> = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|_| HttpError::Connect)?
        .collect();
    let mut sock = None;
    for a in addrs {
        let r = match opts.connect_timeout {
            Some(t) => TcpStream::connect_timeout(&a, t),
            None => TcpStream::connect(a),
        };
        match r {
            Ok(s) => {
                sock = Some(s);
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                return Err(HttpError::ConnectTimeout);
            }
            Err(_) => {}
        }
    }
    let sock = sock.ok_or(HttpError::Connect)?;
    let _ = sock.set_nodelay(true);
    sock.set_read_timeout(opts.read_timeout)
        .map_err(|e| HttpError::Protocol(e.to_string()))?;
    let mut stream: Box<dyn ReadWrite> = if url.scheme == "https" {
        Box::new(crate::tls::wrap(&url.host, sock, &opts.tls).map_err(HttpError::Tls)?)
    } else {
        Box::new(sock)
    };
    let mut req = format!("{method} {} HTTP/1.1\r\nHost: {}\r\n", url.path, url.netloc);
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let mut buf = req.into_bytes();
    buf.extend_from_slice(body);
    let tls = url.scheme == "https";
    stream.write_all(&buf).map_err(|e| {
        if tls {
            HttpError::Tls(e.to_string())
        } else {
            HttpError::Connect
        }
    })?;
    let mut raw = Vec::new();
    if let Err(e) = stream.read_to_end(&mut raw) {
        if matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ) {
            return Err(HttpError::ReadTimeout);
        }
        if tls && e.kind() == std::io::ErrorKind::InvalidData {
            return Err(HttpError::Tls(e.to_string()));
        }
        // A peer that closes without TLS close_notify still delivered the full response.
        if raw.is_empty() {
            return Err(HttpError::Protocol(e.to_string()));
        }
    }
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| HttpError::Protocol("no header end".into()))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| HttpError::Protocol(status_line.to_string()))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.to_ascii_lowercase().contains("chunked")
    });
    if chunked {
        body = decode_chunked(&body)?;
    } else if let Some(len) = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
    {
        body.truncate(len);
    }
    Ok(Response {
        status,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = parse_url("http://127.0.0.1:8787").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.netloc.as_str(), u.path.as_str()),
            ("127.0.0.1", 8787, "127.0.0.1:8787", "/")
        );
        let u = parse_url("https://dynamodb.us-east-1.amazonaws.com/").unwrap();
        assert_eq!(
            (u.port, u.netloc.as_str()),
            (443, "dynamodb.us-east-1.amazonaws.com")
        );
        assert!(parse_url("nope").is_none());
    }

    #[test]
    fn chunked_bodies() {
        assert_eq!(
            decode_chunked(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").unwrap(),
            b"abcde"
        );
    }
}
