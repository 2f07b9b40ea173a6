//! The relay through a real client library (tokio-postgres): extended protocol, binary results,
//! COPY both ways, cancel requests, rewriting, and errors raised for failed rewrites.

mod common;

use std::time::{Duration, Instant};

use common::{PASSWORD, Pg, Proxy};
use futures_util::{SinkExt, StreamExt};
use tidemark_pgproxy::{Limits, SqlError};
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

async fn connect(proxy: &Proxy) -> Client {
    let (client, conn) = tokio_postgres::connect(&proxy.conn_string(PASSWORD), NoTls)
        .await
        .expect("connects through the proxy");
    tokio::spawn(conn);
    client
}

fn first_value(msgs: &[SimpleQueryMessage]) -> Option<String> {
    msgs.iter().find_map(|m| match m {
        SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
        _ => None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extended_protocol_with_parameters_and_binary_results() {
    let pg = Pg::start();
    let proxy = Proxy::plain(&pg).await;
    let client = connect(&proxy).await;
    client
        .batch_execute(
            "CREATE TABLE t (id int PRIMARY KEY, amount numeric(12,2), note text, at date)",
        )
        .await
        .expect("ddl");
    let stmt = client
        .prepare("INSERT INTO t VALUES ($1, $2::text::numeric, $3, DATE '2026-01-01' + $1::int)")
        .await
        .expect("prepare");
    for i in 0..50_i32 {
        client
            .execute(&stmt, &[&i, &format!("{i}.25"), &format!("row {i}")])
            .await
            .expect("insert");
    }
    // tokio-postgres asks for binary results: int8, text and int4 arrive in binary format.
    let row = client
        .query_one(
            "SELECT count(*), sum(amount)::text, max(note), max(id) FROM t WHERE id >= $1",
            &[&10_i32],
        )
        .await
        .expect("query");
    assert_eq!(row.get::<_, i64>(0), 40);
    assert_eq!(row.get::<_, String>(1), "1190.00");
    assert_eq!(row.get::<_, String>(2), "row 49");
    assert_eq!(row.get::<_, i32>(3), 49);
    // A server error keeps its SQLSTATE through the relay.
    let err = client
        .execute(&stmt, &[&1_i32, &"1", &"dup"])
        .await
        .expect_err("duplicate key");
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
    );
    assert_eq!(
        client
            .query_one("SELECT 1::int4", &[])
            .await
            .expect("still usable")
            .get::<_, i32>(0),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_from_stdin_and_to_stdout() {
    let pg = Pg::start();
    let proxy = Proxy::plain(&pg).await;
    let client = connect(&proxy).await;
    client
        .batch_execute("CREATE TABLE c (id int, payload text)")
        .await
        .expect("ddl");
    // ~6 MB in 64 KiB CopyData messages: far more than one read buffer, streamed through.
    let sink = client.copy_in("COPY c FROM STDIN").await.expect("copy in");
    futures_util::pin_mut!(sink);
    let pad = "x".repeat(100);
    let mut chunk = String::new();
    for i in 0..50_000 {
        chunk.push_str(&format!("{i}\t{pad}\n"));
        if chunk.len() > 60_000 {
            sink.send(bytes_of(&mut chunk)).await.expect("copy data");
        }
    }
    sink.send(bytes_of(&mut chunk)).await.expect("copy data");
    assert_eq!(sink.finish().await.expect("copy done"), 50_000);
    let stream = client
        .copy_out("COPY (SELECT id, payload FROM c ORDER BY id) TO STDOUT")
        .await
        .expect("copy out");
    futures_util::pin_mut!(stream);
    let mut total = 0;
    let mut lines = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.expect("copy out data");
        total += chunk.len();
        lines += chunk.iter().filter(|&&b| b == b'\n').count();
    }
    assert_eq!(lines, 50_000);
    assert_eq!(
        total,
        (0..50_000)
            .map(|i: i32| i.to_string().len() + 102)
            .sum::<usize>()
    );
}

fn bytes_of(s: &mut String) -> std::io::Cursor<Vec<u8>> {
    std::io::Cursor::new(std::mem::take(s).into_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_request_stops_a_running_query() {
    let pg = Pg::start();
    let proxy = Proxy::plain(&pg).await;
    let client = connect(&proxy).await;
    let token = client.cancel_token();
    let started = Instant::now();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        token.cancel_query(NoTls).await
    });
    let err = client
        .batch_execute("SELECT pg_sleep(30)")
        .await
        .expect_err("cancelled");
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::QUERY_CANCELED)
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    canceller.await.expect("join").expect("cancel sent");
    // A wrong key cancels nothing (and the session goes on).
    assert_eq!(
        first_value(&client.simple_query("SELECT 'alive'").await.expect("usable")).as_deref(),
        Some("alive")
    );
}

fn test_rewriter(sql: &str) -> Result<Option<String>, SqlError> {
    if sql.contains("FAILME") {
        return Err(SqlError {
            sqlstate: "0A000".into(),
            message: "FAILME is not supported by tidemark ($$ 'quoted')".into(),
        });
    }
    Ok(sql
        .contains("GETDATE()")
        .then(|| sql.replace("GETDATE()", "'2026-12-07'::date")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rewrite_takes_effect_in_simple_and_extended_queries() {
    let pg = Pg::start();
    let proxy = Proxy::start(&pg, Limits::default(), Box::new(test_rewriter)).await;
    let client = connect(&proxy).await;
    let simple = client
        .simple_query("SELECT GETDATE()")
        .await
        .expect("simple");
    assert_eq!(first_value(&simple).as_deref(), Some("2026-12-07"));
    let row = client
        .query_one("SELECT GETDATE()::text || $1", &[&"!"])
        .await
        .expect("extended");
    assert_eq!(row.get::<_, String>(0), "2026-12-07!");
    let log = proxy
        .route
        .executed
        .lock()
        .map(|l| l.clone())
        .unwrap_or_default();
    assert!(
        log.iter().any(|s| s == "SELECT '2026-12-07'::date"),
        "{log:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_rewrite_raises_its_sqlstate_and_the_session_goes_on() {
    let pg = Pg::start();
    let proxy = Proxy::start(&pg, Limits::default(), Box::new(test_rewriter)).await;
    let client = connect(&proxy).await;
    let want = "FAILME is not supported by tidemark ($$ 'quoted')";
    for _ in 0..2 {
        // Simple protocol, outside a transaction.
        let err = client
            .simple_query("SELECT FAILME")
            .await
            .expect_err("raised");
        assert_eq!(
            err.code(),
            Some(&tokio_postgres::error::SqlState::FEATURE_NOT_SUPPORTED)
        );
        assert_eq!(err.as_db_error().map(|e| e.message()), Some(want));
        // Extended protocol with parameters: Bind must reach the error, not a count mismatch.
        // Parameters the client left untyped are declared text (the statement never runs).
        let err = client
            .query("SELECT FAILME, $1, $2", &[&"a", &"b"])
            .await
            .expect_err("raised");
        assert_eq!(
            err.code(),
            Some(&tokio_postgres::error::SqlState::FEATURE_NOT_SUPPORTED),
            "{err:?}"
        );
        let typed = client
            .prepare_typed("SELECT FAILME, $1", &[tokio_postgres::types::Type::INT4])
            .await
            .expect("parse");
        let err = client.query(&typed, &[&7_i32]).await.expect_err("raised");
        assert_eq!(err.as_db_error().map(|e| e.message()), Some(want));
        assert_eq!(
            client
                .query_one("SELECT $1::int + 1", &[&1_i32])
                .await
                .expect("usable")
                .get::<_, i32>(0),
            2
        );
    }
    // Inside a transaction the error aborts it, as any PostgreSQL error would.
    client
        .batch_execute("CREATE TABLE r (x int)")
        .await
        .expect("ddl");
    client
        .batch_execute("BEGIN; INSERT INTO r VALUES (1)")
        .await
        .expect("begin");
    let err = client
        .simple_query("SELECT FAILME")
        .await
        .expect_err("raised");
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::FEATURE_NOT_SUPPORTED)
    );
    let err = client
        .simple_query("SELECT 1")
        .await
        .expect_err("aborted transaction");
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::IN_FAILED_SQL_TRANSACTION)
    );
    client.batch_execute("ROLLBACK").await.expect("rollback");
    let n = client
        .query_one("SELECT count(*) FROM r", &[])
        .await
        .expect("usable")
        .get::<_, i64>(0);
    assert_eq!(n, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_past_the_limit_are_refused_and_large_ones_under_it_run() {
    let pg = Pg::start();
    let limits = Limits {
        max_statement_bytes: 300_000,
        ..Limits::default()
    };
    let proxy = Proxy::start(&pg, limits, Box::new(test_rewriter)).await;
    let client = connect(&proxy).await;
    // 200 KB: assembled beyond the 64 KiB read buffer, then rewritten.
    let big = format!(
        "SELECT GETDATE()::text || length('{}')",
        "y".repeat(200_000)
    );
    assert_eq!(
        first_value(&client.simple_query(&big).await.expect("big query")).as_deref(),
        Some("2026-12-07200000")
    );
    let huge = format!("SELECT length('{}')", "z".repeat(400_000));
    let err = client.simple_query(&huge).await.expect_err("too large");
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::PROGRAM_LIMIT_EXCEEDED)
    );
    let err = client.query(&huge, &[]).await.expect_err("too large");
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::PROGRAM_LIMIT_EXCEEDED),
        "{err:?}"
    );
    assert_eq!(
        first_value(&client.simple_query("SELECT 'ok'").await.expect("usable")).as_deref(),
        Some("ok")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_statements_past_the_listener_budget_get_out_of_memory() {
    let pg = Pg::start();
    let limits = Limits {
        max_statement_bytes: 300_000,
        max_buffered_statement_bytes: 150_000,
        ..Limits::default()
    };
    let proxy = Proxy::start(&pg, limits, Box::new(test_rewriter)).await;
    let client = connect(&proxy).await;
    let big = format!("SELECT length('{}')", "y".repeat(200_000));
    let err = client
        .simple_query(&big)
        .await
        .expect_err("over the budget");
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::OUT_OF_MEMORY)
    );
    // Within the budget (and beyond the read buffer) it runs, and the budget comes back.
    for _ in 0..3 {
        let ok = format!("SELECT length('{}')", "y".repeat(100_000));
        assert_eq!(
            first_value(&client.simple_query(&ok).await.expect("fits")).as_deref(),
            Some("100000")
        );
    }
}
