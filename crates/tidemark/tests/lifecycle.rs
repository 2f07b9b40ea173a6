//! Admin API, virtual clock persistence and crash safety of the server process.

mod common;

use common::Server;

fn clock(server: &Server) -> serde_json::Value {
    let (status, body) = server.http("GET", "/_tidemark/clock", &[], b"");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("clock JSON")
}

fn post_clock(server: &Server, body: &str) -> (u16, serde_json::Value) {
    let (status, text) = server.http(
        "POST",
        "/_tidemark/clock",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    );
    (status, serde_json::from_str(&text).expect("JSON answer"))
}

#[test]
fn health_and_reset_answer() {
    let server = Server::in_memory();
    assert_eq!(server.http("GET", "/_tidemark/health", &[], b"").0, 200);
    assert_eq!(server.http("POST", "/_tidemark/reset", &[], b"").0, 200);
    assert_eq!(server.http("POST", "/moto-api/reset", &[], b"").0, 200);
}

#[test]
fn clock_freezes_advances_and_refuses_to_go_back() {
    let server = Server::in_memory();
    let (_, v) = post_clock(&server, r#"{"freeze": true}"#);
    assert_eq!(v["frozen"], true);
    let (status, v) = post_clock(&server, r#"{"set": "2030-01-01T00:00:00Z"}"#);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["now"], "2030-01-01T00:00:00Z");
    let (_, v) = post_clock(&server, r#"{"advance_seconds": 3600}"#);
    assert_eq!(v["now"], "2030-01-01T01:00:00Z");
    let (status, v) = post_clock(&server, r#"{"set": "2029-01-01T00:00:00Z"}"#);
    assert_eq!(status, 400, "{v}");
    assert_eq!(
        clock(&server)["now"],
        "2030-01-01T01:00:00Z",
        "a refused change changes nothing"
    );
    let (status, _) = post_clock(&server, r#"{"advance_seconds": 1, "freeze": false}"#);
    assert_eq!(status, 400);
}

/// The clock's state survives `kill -9` and a restart on the same data directory.
#[test]
fn clock_state_survives_sigkill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::on_dir(dir.path());
    post_clock(&server, r#"{"freeze": true}"#);
    post_clock(&server, r#"{"set": "2031-05-05T05:05:05Z"}"#);
    server.kill();
    let server = Server::on_dir(dir.path());
    let v = clock(&server);
    assert_eq!(v["now"], "2031-05-05T05:05:05Z");
    assert_eq!(v["frozen"], true);
}

/// SIGTERM shuts the server down gracefully: it exits on its own with status 0.
#[test]
fn sigterm_exits_cleanly() {
    let mut server = Server::in_memory();
    assert_eq!(server.http("GET", "/_tidemark/health", &[], b"").0, 200);
    let pid = server.child.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    for _ in 0..100 {
        if let Some(status) = server.child.try_wait().expect("wait") {
            assert!(status.success(), "exit status {status}");
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("server did not exit within 5 s of SIGTERM");
}
