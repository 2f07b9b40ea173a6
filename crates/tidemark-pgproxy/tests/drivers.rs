//! What Redshift drivers see at startup, byte by byte: `redshift_connector`'s extra startup
//! parameters are accepted (PostgreSQL alone refuses them, reference redshift-sql.md §3), it is
//! told `server_protocol_version` 0 (plain PostgreSQL row descriptions), and the cancel key it
//! gets is the proxy's, not the backend's.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{PASSWORD, Pg, Proxy, USER};
use md5::{Digest, Md5};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

async fn read_message(s: &mut TcpStream) -> (u8, Vec<u8>) {
    let read = async {
        let ty = s.read_u8().await?;
        let len = s.read_u32().await? as usize;
        let mut body = vec![0; len - 4];
        s.read_exact(&mut body).await?;
        Ok::<_, std::io::Error>((ty, body))
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("message within 10 s")
        .expect("message")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redshift_connector_startup_is_accepted_with_redshift_parameters() {
    let pg = Pg::start();
    let proxy = Proxy::plain(&pg).await;
    let mut s = TcpStream::connect(("127.0.0.1", proxy.port))
        .await
        .expect("connect");
    // The parameters redshift_connector 2.2.0 sends (core.py), plus a protocol option.
    let params = [
        ("user", USER),
        ("database", "dev"),
        ("application_name", "redshift_connector"),
        ("replication", "database"),
        ("client_protocol_version", "2"),
        ("driver_version", "2.2.0"),
        ("os_version", "Linux"),
        ("plugin_name", ""),
        ("driver_discovery_version", "1"),
    ];
    let mut body = 196_608_u32.to_be_bytes().to_vec();
    for (n, v) in params {
        body.extend_from_slice(format!("{n}\0{v}\0").as_bytes());
    }
    body.push(0);
    let mut packet = ((body.len() + 4) as u32).to_be_bytes().to_vec();
    packet.extend_from_slice(&body);
    s.write_all(&packet).await.expect("startup");

    let (ty, auth) = read_message(&mut s).await;
    assert_eq!(
        (ty, &auth[..4]),
        (b'R', &5_i32.to_be_bytes()[..]),
        "md5 requested"
    );
    let inner = hex(&Md5::digest(format!("{PASSWORD}{USER}").as_bytes()));
    let mut h = Md5::new();
    h.update(inner.as_bytes());
    h.update(&auth[4..8]);
    let answer = format!("md5{}\0", hex(&h.finalize()));
    let mut msg = vec![b'p'];
    msg.extend_from_slice(&((answer.len() + 4) as u32).to_be_bytes());
    msg.extend_from_slice(answer.as_bytes());
    s.write_all(&msg).await.expect("password");

    let mut status = HashMap::new();
    let mut key_pid = None;
    loop {
        let (ty, body) = read_message(&mut s).await;
        match ty {
            b'R' => assert_eq!(body, [0, 0, 0, 0], "AuthenticationOk"),
            b'S' => {
                let mut parts = body.split(|&b| b == 0);
                let name = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
                let value = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
                status.insert(name, value);
            }
            b'K' => key_pid = Some(i32::from_be_bytes([body[0], body[1], body[2], body[3]])),
            b'Z' => break,
            other => panic!(
                "unexpected message {:?}: {}",
                other as char,
                String::from_utf8_lossy(&body)
            ),
        }
    }
    assert_eq!(
        status.get("server_version").map(String::as_str),
        Some("8.0.2")
    );
    assert_eq!(
        status.get("server_protocol_version").map(String::as_str),
        Some("0")
    );
    assert_eq!(
        status.get("application_name").map(String::as_str),
        Some("redshift_connector")
    );
    assert_eq!(status.get("is_superuser").map(String::as_str), Some("on"));

    // A plain (non-replication) session: a query works, and its backend pid is not the key's.
    let sql = b"SELECT pg_backend_pid()\0";
    let mut q = vec![b'Q'];
    q.extend_from_slice(&((sql.len() + 4) as u32).to_be_bytes());
    q.extend_from_slice(sql);
    s.write_all(&q).await.expect("query");
    let mut backend_pid = None;
    loop {
        let (ty, body) = read_message(&mut s).await;
        match ty {
            b'D' => {
                backend_pid = Some(
                    String::from_utf8_lossy(&body[6..])
                        .parse::<i32>()
                        .expect("pid"),
                )
            }
            b'Z' => break,
            b'T' | b'C' => {}
            other => panic!(
                "unexpected message {:?}: {}",
                other as char,
                String::from_utf8_lossy(&body)
            ),
        }
    }
    assert!(backend_pid.is_some() && key_pid.is_some());
    assert_ne!(
        backend_pid, key_pid,
        "the client gets the proxy's cancel key, not the backend's"
    );
    s.write_all(b"X\0\0\0\x04").await.expect("terminate");
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut rest)).await;
    assert!(matches!(closed, Ok(Ok(0))), "closed after Terminate");
}
