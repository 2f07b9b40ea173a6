//! Untrusted bytes before authentication: every refusal is PostgreSQL's error or a close, within
//! the startup timeout, and never takes the listener down.

mod common;

use std::time::{Duration, Instant};

use common::{PASSWORD, Pg, Proxy, USER};
use tidemark_pgproxy::Limits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends `bytes`, then reads until the proxy closes (bounded), returning what it answered.
async fn exchange(port: u16, bytes: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let _ = s.write_all(bytes).await;
    let mut got = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut got)).await;
    assert!(
        read.is_ok(),
        "the proxy neither answered nor closed within 5 s after {bytes:?}"
    );
    got
}

fn error_fields(reply: &[u8]) -> (String, String) {
    assert_eq!(reply.first(), Some(&b'E'), "{reply:?}");
    let mut code = String::new();
    let mut msg = String::new();
    for field in reply[5..].split(|&b| b == 0) {
        match field.split_first() {
            Some((b'C', v)) => code = String::from_utf8_lossy(v).into(),
            Some((b'M', v)) => msg = String::from_utf8_lossy(v).into(),
            _ => {}
        }
    }
    (code, msg)
}

fn startup(code: u32, params: &[u8]) -> Vec<u8> {
    let mut b = ((8 + params.len()) as u32).to_be_bytes().to_vec();
    b.extend_from_slice(&code.to_be_bytes());
    b.extend_from_slice(params);
    b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_startup_packets_get_postgres_errors() {
    let pg = Pg::start();
    let limits = Limits {
        startup_timeout: Duration::from_secs(1),
        ..Limits::default()
    };
    let proxy = Proxy::start(&pg, limits, Box::new(|_| Ok(None))).await;
    let cases: &[(Vec<u8>, &str, &str)] = &[
        (
            vec![0xff, 0xff, 0xff, 0xff],
            "08P01",
            "invalid length of startup packet",
        ),
        (
            vec![0, 0, 0, 3],
            "08P01",
            "invalid length of startup packet",
        ),
        (
            startup(0x0002_0000, b"user\0x\0\0"),
            "0A000",
            "unsupported frontend protocol 2.0: server supports 3.0 to 3.0",
        ),
        (
            startup(196_608, b"user\0x"),
            "08P01",
            "invalid startup packet layout: expected terminator as last byte",
        ),
        (
            startup(196_608, b"database\0dev\0\0"),
            "28000",
            "no PostgreSQL user name specified in startup packet",
        ),
    ];
    for (bytes, code, msg) in cases {
        let reply = exchange(proxy.port, bytes).await;
        assert_eq!(error_fields(&reply), ((*code).into(), (*msg).into()));
    }
    // An oversize packet is refused from its length word, before any of it is read.
    let mut big = startup(196_608, &vec![b'a'; 20_000]);
    big.truncate(100);
    assert_eq!(error_fields(&exchange(proxy.port, &big).await).0, "08P01");
    // SSLRequest and GSSENCRequest: 'N', then the startup goes on in plain text.
    let mut s = TcpStream::connect(("127.0.0.1", proxy.port))
        .await
        .expect("connect");
    s.write_all(&[0, 0, 0, 8, 4, 210, 22, 47])
        .await
        .expect("ssl request");
    s.write_all(&[0, 0, 0, 8, 4, 210, 22, 48])
        .await
        .expect("gss request");
    let mut nn = [0; 2];
    s.read_exact(&mut nn).await.expect("answers");
    assert_eq!(&nn, b"NN");
    // A truncated packet is dropped when the startup timeout (1 s here) expires.
    let started = Instant::now();
    let reply = exchange(proxy.port, &[0, 0, 0, 100, 0, 3]).await;
    assert!(
        reply.is_empty() && started.elapsed() >= Duration::from_millis(900),
        "{reply:?}"
    );
    // A client that answers the md5 challenge with something else is refused.
    let reply = exchange(
        proxy.port,
        &[
            startup(196_608, format!("user\0{USER}\0\0").as_bytes()),
            b"Q\0\0\0\x05\0".to_vec(),
        ]
        .concat(),
    )
    .await;
    assert_eq!(&reply[..4], b"R\0\0\0");
    assert_eq!(error_fields(&reply[13..]).0, "08P01");
    // Random garbage: an error or a close, quickly; the listener still serves afterwards.
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    for round in 0..40 {
        let len = (round * 37) % 300 + 1;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed >> 24) as u8
            })
            .collect();
        let _ = exchange(proxy.port, &bytes).await;
    }
    let (ok, out, err) = proxy
        .psql(USER, PASSWORD, "dev", "SELECT 'still serving'")
        .await;
    assert!(ok, "{err}");
    assert_eq!(out, "still serving\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_cap_are_refused_like_postgres() {
    let pg = Pg::start();
    let limits = Limits {
        max_connections: 1,
        ..Limits::default()
    };
    let proxy = Proxy::start(&pg, limits, Box::new(|_| Ok(None))).await;
    let (first, conn) =
        tokio_postgres::connect(&proxy.conn_string(PASSWORD), tokio_postgres::NoTls)
            .await
            .expect("first session");
    let conn = tokio::spawn(conn);
    let (ok, _, err) = proxy.psql(USER, PASSWORD, "dev", "SELECT 1").await;
    assert!(!ok);
    assert!(err.contains("sorry, too many clients already"), "{err}");
    drop(first);
    conn.await.expect("join").expect("clean close");
    // The slot frees when the session ends.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (ok, out, err) = proxy.psql(USER, PASSWORD, "dev", "SELECT 2").await;
        if ok {
            assert_eq!(out, "2\n");
            break;
        }
        assert!(Instant::now() < deadline, "{err}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_sessions_and_the_listener() {
    let pg = Pg::start();
    let proxy = Proxy::plain(&pg).await;
    let port = proxy.port;
    let (client, conn) =
        tokio_postgres::connect(&proxy.conn_string(PASSWORD), tokio_postgres::NoTls)
            .await
            .expect("session");
    let conn = tokio::spawn(conn);
    client
        .simple_query("SELECT 1")
        .await
        .expect("works before shutdown");
    drop(proxy);
    // The session's connection ends (the client sees the server close) and nobody listens.
    let ended = tokio::time::timeout(Duration::from_secs(5), conn).await;
    assert!(matches!(ended, Ok(Ok(_))), "session not closed by shutdown");
    assert!(client.simple_query("SELECT 1").await.is_err());
    let deadline = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "listener still accepting after shutdown"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // PostgreSQL itself sees its session end (its backend exits on the closed socket).
    let deadline = Instant::now() + Duration::from_secs(5);
    while pg
        .psql_direct("SELECT count(*) FROM pg_stat_activity WHERE usename = 'awsuser'")
        .trim()
        != "0"
    {
        assert!(
            Instant::now() < deadline,
            "backend session outlived the proxy's shutdown"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
