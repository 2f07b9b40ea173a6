//! Plain-TCP sessions relay on two threads of their own: those threads end with their session,
//! whichever side ends it (the client, PostgreSQL, or the listener's shutdown). Its own test
//! binary, so the threads counted are this file's alone.

mod common;

use std::time::{Duration, Instant};

use common::{Pg, Proxy};

/// Live relay threads of this process (thread names as `threads.rs` sets them).
fn relay_threads() -> usize {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        panic!("/proc/self/task unreadable");
    };
    tasks
        .filter_map(Result::ok)
        .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
        .filter(|name| name.starts_with("pg-relay-"))
        .count()
}

async fn wait_for_threads(want: usize, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let n = relay_threads();
        if n == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: {n} relay threads, expected {want}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The first column of the first row `sql` returns.
async fn value(client: &tokio_postgres::Client, sql: &str) -> String {
    let rows = client.simple_query(sql).await.expect("query");
    rows.iter()
        .find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{sql}: no row"))
}

async fn connect(proxy: &Proxy) -> (tokio_postgres::Client, tokio::task::JoinHandle<()>) {
    let (client, conn) =
        tokio_postgres::connect(&proxy.conn_string(common::PASSWORD), tokio_postgres::NoTls)
            .await
            .expect("session");
    let conn = tokio::spawn(async move {
        let _ = conn.await;
    });
    (client, conn)
}

// One test: the thread counts would race with another test's sessions in this process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_threads_end_with_their_session_and_are_capped() {
    let pg = Pg::start();
    threads_end_with_their_session(&pg).await;
    sessions_past_the_thread_cap_relay_on_the_runtime(&pg).await;
    tls_sessions_run_on_threads_too(&pg).await;
}

async fn tls_sessions_run_on_threads_too(pg: &Pg) {
    let proxy = Proxy::tls(pg).await;
    let ((ok, out, err), ()) = tokio::join!(
        proxy.psql_ssl(
            common::USER,
            common::PASSWORD,
            "dev",
            "SELECT pg_sleep(1.5), 'over tls'",
            "require"
        ),
        wait_for_threads(2, "a TLS session")
    );
    assert!(ok, "{err}");
    assert_eq!(out, "|over tls\n");
    wait_for_threads(0, "after the TLS session").await;
}

async fn threads_end_with_their_session(pg: &Pg) {
    let proxy = Proxy::plain(pg).await;
    assert_eq!(relay_threads(), 0);

    // The client closes.
    let (client, conn) = connect(&proxy).await;
    assert_eq!(value(&client, "SELECT 41 + 1").await, "42");
    wait_for_threads(2, "a live session").await;
    drop(client);
    let _ = conn.await;
    wait_for_threads(0, "after the client closed").await;

    // PostgreSQL ends the session: the client sees the close, the threads end.
    let (client, conn) = connect(&proxy).await;
    client.simple_query("SELECT 1").await.expect("query");
    let killed = pg.psql_direct(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = 'awsuser'",
    );
    assert_eq!(killed.trim(), "1");
    let ended = tokio::time::timeout(Duration::from_secs(5), conn).await;
    assert!(ended.is_ok(), "client not told of the backend's end");
    assert!(client.simple_query("SELECT 1").await.is_err());
    wait_for_threads(0, "after the backend ended").await;

    // The listener shuts down with sessions open.
    let (a, conn_a) = connect(&proxy).await;
    let (b, conn_b) = connect(&proxy).await;
    a.simple_query("SELECT 1").await.expect("query");
    b.simple_query("SELECT 1").await.expect("query");
    wait_for_threads(4, "two live sessions").await;
    drop(proxy);
    for conn in [conn_a, conn_b] {
        let ended = tokio::time::timeout(Duration::from_secs(5), conn).await;
        assert!(ended.is_ok(), "session not closed by shutdown");
    }
    wait_for_threads(0, "after shutdown").await;
}

async fn sessions_past_the_thread_cap_relay_on_the_runtime(pg: &Pg) {
    let limits = tidemark_pgproxy::Limits {
        max_threaded_sessions: 1,
        ..tidemark_pgproxy::Limits::default()
    };
    let proxy = Proxy::start(pg, limits, Box::new(|_| Ok(None))).await;
    let (a, _conn_a) = connect(&proxy).await;
    let (b, conn_b) = connect(&proxy).await;
    assert_eq!(value(&a, "SELECT 1").await, "1");
    assert_eq!(value(&b, "SELECT 2").await, "2");
    // One session on threads, the other on the runtime.
    wait_for_threads(2, "one threaded session").await;
    drop(b);
    let _ = conn_b.await;
    // While the first holds the only permit, new sessions still go async, and work.
    let (c, _conn_c) = connect(&proxy).await;
    assert_eq!(value(&c, "SELECT 3").await, "3");
    wait_for_threads(2, "still one threaded session").await;
    // Once the threaded session ends, the next one gets its threads.
    drop(a);
    wait_for_threads(0, "after the threaded session closed").await;
    let (d, _conn_d) = connect(&proxy).await;
    assert_eq!(value(&d, "SELECT 4").await, "4");
    wait_for_threads(2, "a new threaded session").await;
}
