//! The connection layer of the real binary (issue #21, "no request can stall the server"):
//! slow headers, idle keep-alive connections and trickled bodies are closed after the
//! timeouts set by flags, connections over the cap get 503 and the cap lifts, accept
//! failures for lack of descriptors neither spin nor kill the listener, and HTTPS works
//! with a generated certificate for the AWS SDK and refuses plain HTTP cleanly.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use aws_sdk_dynamodb::config::{BehaviorVersion, Region};
use aws_smithy_http_client::tls;

/// The binary, started by `command`, and what its first lines said.
struct Server {
    child: Child,
    addr: String,
    /// The CA certificate path it printed, with `--tls self-signed`.
    ca: Option<String>,
}

impl Server {
    fn start(extra: &[&str]) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tidemark"));
        cmd.args(["serve", "--listen", "127.0.0.1:0"]).args(extra);
        Self::spawn(cmd)
    }

    fn spawn(mut cmd: Command) -> Self {
        let mut child = cmd
            .env_remove("TIDEMARK_AUTH")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the tidemark binary starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let mut lines = BufReader::new(stderr).lines();
        let mut ca = None;
        let addr = loop {
            let line = lines
                .next()
                .expect("server printed its address before exiting")
                .expect("utf-8 stderr");
            if let Some(rest) = line.strip_prefix("tidemark TLS certificate authority: ") {
                ca = rest.split(' ').next().map(str::to_owned);
            }
            if let Some(rest) = line.strip_prefix("tidemark listening on ") {
                let addr = rest.split("://").nth(1).expect("scheme://addr");
                break addr.trim().to_owned();
            }
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self { child, addr, ca }
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(&self.addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        s
    }

    /// One health request on a fresh connection; its status.
    fn health(&self) -> u16 {
        let mut s = self.connect();
        request(&mut s, "GET", "", true);
        status_of(&read_response(&mut s))
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn request(s: &mut TcpStream, method: &str, body: &str, close: bool) {
    let connection = if close { "close" } else { "keep-alive" };
    let head = format!(
        "{method} /_tidemark/health HTTP/1.1\r\nHost: x\r\nConnection: {connection}\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(head.as_bytes()).expect("write request");
}

/// Reads one response whose body is small and delimited by Content-Length.
fn read_response(s: &mut TcpStream) -> String {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&raw).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")?
                        .trim()
                        .parse()
                        .ok()
                })
                .unwrap_or(0usize);
            if body.len() >= len {
                return text;
            }
        }
        let n = s.read(&mut buf).expect("read response");
        assert!(n > 0, "connection closed mid-response: {text:?}");
        raw.extend_from_slice(&buf[..n]);
    }
}

fn status_of(response: &str) -> u16 {
    response
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {response:?}"))
}

/// How long until the server closes `s` (reading and discarding anything it sends).
fn time_to_close(s: &mut TcpStream, start: Instant) -> Duration {
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return start.elapsed(),
            Ok(_) => {}
        }
    }
}

#[test]
fn a_slow_header_is_closed_after_the_header_timeout() {
    let server = Server::start(&["--in-memory", "--header-timeout", "1"]);
    let mut s = server.connect();
    let start = Instant::now();
    s.write_all(b"GET /_tidemark/health HTTP/1.1\r\nHost: x\r\n")
        .expect("part of a header");
    let waited = time_to_close(&mut s, start);
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(4),
        "closed after {waited:?}, header timeout 1 s"
    );
    // A connection that sends nothing at all is held to the same deadline.
    let mut silent = server.connect();
    let waited = time_to_close(&mut silent, Instant::now());
    assert!(waited < Duration::from_secs(4), "silent: {waited:?}");
    assert_eq!(server.health(), 200);
}

#[test]
fn an_idle_keep_alive_connection_lives_for_the_idle_timeout_only() {
    let server = Server::start(&[
        "--in-memory",
        "--header-timeout",
        "1",
        "--idle-timeout",
        "3",
    ]);
    let mut s = server.connect();
    request(&mut s, "GET", "", false);
    assert_eq!(status_of(&read_response(&mut s)), 200);
    // Idle longer than the header timeout, within the idle timeout: still kept alive.
    std::thread::sleep(Duration::from_millis(1600));
    request(&mut s, "GET", "", false);
    assert_eq!(status_of(&read_response(&mut s)), 200);
    let start = Instant::now();
    let waited = time_to_close(&mut s, start);
    assert!(
        waited >= Duration::from_millis(2700) && waited < Duration::from_secs(6),
        "closed after {waited:?}, idle timeout 3 s"
    );
}

#[test]
fn a_trickled_body_is_cut_off_and_a_steady_one_is_not() {
    let server = Server::start(&[
        "--in-memory",
        "--body-timeout",
        "1",
        "--body-min-rate",
        "2000",
    ]);
    // 1 byte every 100 ms of a declared 10,000: far below 2,000 bytes/s.
    let mut s = server.connect();
    s.write_all(b"POST /_tidemark/health HTTP/1.1\r\nHost: x\r\nContent-Length: 10000\r\n\r\n")
        .expect("head");
    let (done_tx, done_rx) = mpsc::channel();
    let mut writer = s.try_clone().expect("clone");
    let trickle = std::thread::spawn(move || {
        for _ in 0..100 {
            if writer.write_all(b"a").is_err() || done_rx.try_recv().is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let start = Instant::now();
    let waited = time_to_close(&mut s, start);
    let _ = done_tx.send(());
    let _ = trickle.join();
    assert!(
        waited < Duration::from_secs(4),
        "a trickled body held the connection {waited:?}"
    );

    // 6,000 bytes at ~3,000 bytes/s: 2 s, more than the 1 s base, within its allowance.
    // (A clock request padded with JSON whitespace: an admin route that reads its body.)
    let mut s = server.connect();
    let body = format!("{:<6000}", r#"{"freeze":false}"#);
    s.write_all(
        b"POST /_tidemark/clock HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 6000\r\n\r\n",
    )
    .expect("head");
    for chunk in body.as_bytes().chunks(300) {
        s.write_all(chunk).expect("steady body");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(status_of(&read_response(&mut s)), 200);
}

#[test]
fn connections_over_the_cap_get_503_until_the_others_close() {
    let server = Server::start(&["--in-memory", "--max-connections", "2"]);
    let mut held: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut s = server.connect();
            request(&mut s, "GET", "", false);
            assert_eq!(status_of(&read_response(&mut s)), 200);
            s
        })
        .collect();
    let mut third = server.connect();
    let refused = read_response(&mut third);
    assert_eq!(status_of(&refused), 503, "{refused}");
    assert!(
        refused.to_ascii_lowercase().contains("connection: close"),
        "{refused}"
    );
    assert!(time_to_close(&mut third, Instant::now()) < Duration::from_secs(3));
    // The held connections still work; then they close and the cap lifts.
    request(&mut held[0], "GET", "", false);
    assert_eq!(status_of(&read_response(&mut held[0])), 200);
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut s = server.connect();
        request(&mut s, "GET", "", true);
        match status_of(&read_response(&mut s)) {
            200 => break,
            503 if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            other => panic!("after the cap lifted: {other}"),
        }
    }
}

/// CPU time (user + system, clock ticks) the process has used so far.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("proc stat");
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').expect("comm").1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
}

#[test]
#[cfg(target_os = "linux")]
fn running_out_of_descriptors_backs_off_and_recovers() {
    // A hard limit of 64 descriptors that the server cannot raise, and a cap above it, so
    // accepting fails with EMFILE while the connections below are held open.
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        "ulimit -n 64 && exec \"$0\" serve --listen 127.0.0.1:0 --in-memory --max-connections 1000",
        env!("CARGO_BIN_EXE_tidemark"),
    ]);
    let mut server = Server::spawn(cmd);
    let held: Vec<TcpStream> = (0..100).map(|_| server.connect()).collect();
    std::thread::sleep(Duration::from_millis(500));
    let before = cpu_ticks(server.child.id());
    std::thread::sleep(Duration::from_secs(2));
    let spent = cpu_ticks(server.child.id()) - before;
    // Spinning on accept would burn ~200 ticks (2 s of one core); backing off, a few.
    assert!(
        spent < 40,
        "{spent} ticks of CPU in 2 s while out of descriptors"
    );
    assert!(server.alive(), "the server died on EMFILE");
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut s = server.connect();
        request(&mut s, "GET", "", true);
        let mut raw = String::new();
        if s.read_to_string(&mut raw).is_ok() && raw.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(Instant::now() < deadline, "not serving again: {raw:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn https_client(server: &Server, ca_pem: Vec<u8>) -> aws_sdk_dynamodb::Client {
    let port = server.addr.rsplit(':').next().expect("port");
    let trust = tls::TrustStore::empty().with_pem_certificate(ca_pem);
    let context = tls::TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .expect("tls context");
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::AwsLc,
        ))
        .tls_context(context)
        .build_https();
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(format!("https://localhost:{port}"))
        .credentials_provider(Credentials::new("123456789012", "x", None, None, "test"))
        .http_client(http)
        .build();
    aws_sdk_dynamodb::Client::from_conf(conf)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_a_generated_certificate_and_with_pem_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().to_str().expect("utf-8");
    let mut server = Server::start(&["--data-dir", data, "--tls", "self-signed"]);
    let ca = server.ca.clone().expect("the CA path is printed");
    assert!(ca.starts_with(data), "{ca} is under the data directory");
    let ca_pem = std::fs::read(&ca).expect("CA file");
    let client = https_client(&server, ca_pem.clone());
    let tables = client
        .list_tables()
        .send()
        .await
        .expect("ListTables over HTTPS");
    assert!(tables.table_names().is_empty());

    // Plain HTTP on the TLS port: the connection is closed, the server carries on.
    let mut plain = server.connect();
    plain
        .write_all(b"GET /_tidemark/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("write");
    let mut raw = Vec::new();
    let _ = plain.read_to_end(&mut raw);
    assert!(
        !String::from_utf8_lossy(&raw).contains("200 OK"),
        "plain HTTP was served on the TLS port"
    );
    assert!(server.alive());
    client
        .list_tables()
        .send()
        .await
        .expect("still serving HTTPS");
    drop(server);

    // The same files as --tls-cert/--tls-key; the CA clients already trust still verifies.
    let cert = dir.path().join("tls/server.pem");
    let key = dir.path().join("tls/server.key");
    let server = Server::start(&[
        "--data-dir",
        data,
        "--tls-cert",
        cert.to_str().expect("utf-8"),
        "--tls-key",
        key.to_str().expect("utf-8"),
    ]);
    let client = https_client(&server, ca_pem);
    client
        .list_tables()
        .send()
        .await
        .expect("ListTables with PEM files");
}

#[test]
fn sigterm_finishes_the_request_in_flight_and_closes_idle_connections() {
    let mut server = Server::start(&["--in-memory"]);
    let mut idle = server.connect();
    request(&mut idle, "GET", "", false);
    assert_eq!(status_of(&read_response(&mut idle)), 200);
    // A request whose body is half sent when the signal comes.
    let mut busy = server.connect();
    let body = format!("{:<2000}", r#"{"freeze":false}"#);
    busy.write_all(b"POST /_tidemark/clock HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n")
        .expect("head");
    busy.write_all(&body.as_bytes()[..1000])
        .expect("half the body");
    std::thread::sleep(Duration::from_millis(300));
    let sent = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let waited = time_to_close(&mut idle, Instant::now());
    assert!(
        waited < Duration::from_secs(3),
        "idle connection kept {waited:?}"
    );
    std::thread::sleep(Duration::from_millis(300));
    busy.write_all(&body.as_bytes()[1000..]).expect("the rest");
    let answer = read_response(&mut busy);
    assert_eq!(status_of(&answer), 200, "{answer}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Some(status) = server.child.try_wait().expect("try_wait") {
            assert!(status.success(), "exit status {status}");
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("server did not exit after its last request");
}

/// axum::serve answered HTTP/2 with prior knowledge (h2c); the new accept loop still does,
/// under the same header deadline.
#[test]
fn http2_with_prior_knowledge_is_still_spoken_and_bounded() {
    let server = Server::start(&["--in-memory", "--header-timeout", "1"]);
    let mut s = server.connect();
    s.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .expect("preface and an empty SETTINGS frame");
    let mut frame = [0u8; 9];
    s.read_exact(&mut frame).expect("the server's first frame");
    assert_eq!(frame[3], 4, "the server answers with its SETTINGS frame");
    let waited = time_to_close(&mut s, Instant::now());
    assert!(
        waited < Duration::from_secs(4),
        "no request, kept {waited:?}"
    );
}
