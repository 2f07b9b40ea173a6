//! psql through the proxy: login like Redshift (md5), PostgreSQL's errors, Redshift's version.

mod common;

use common::{PASSWORD, Pg, Proxy, USER};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_logs_in_and_queries() {
    let pg = Pg::start();
    let proxy = Proxy::plain(&pg).await;
    let (ok, out, err) = proxy.psql(USER, PASSWORD, "dev", "SELECT 1 + 1").await;
    assert!(ok, "{err}");
    assert_eq!(out, "2\n", "stderr: {err}");
    // psql's SERVER_VERSION_NAME is the server_version ParameterStatus: Redshift's (reference
    // redshift-sql.md §3), while PostgreSQL 15 still answers underneath.
    let (ok, out, err) = proxy
        .psql(USER, PASSWORD, "dev", "\\echo :SERVER_VERSION_NAME")
        .await;
    assert!(ok, "{err}");
    assert_eq!(out, "8.0.2\n", "stderr: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_and_unknown_user_get_postgres_error() {
    let pg = Pg::start();
    let proxy = Proxy::plain(&pg).await;
    let (ok, _, err) = proxy.psql(USER, "wrong", "dev", "SELECT 1").await;
    assert!(!ok);
    assert!(
        err.contains(&format!(
            "FATAL:  password authentication failed for user \"{USER}\""
        )),
        "{err}"
    );
    let (ok, _, err) = proxy.psql("nobody", PASSWORD, "dev", "SELECT 1").await;
    assert!(!ok);
    assert!(
        err.contains("FATAL:  password authentication failed for user \"nobody\""),
        "{err}"
    );
    let (ok, _, err) = proxy.psql(USER, PASSWORD, "nodb", "SELECT 1").await;
    assert!(!ok);
    assert!(
        err.contains("FATAL:  database \"nodb\" does not exist"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_when_offered_and_plain_text_otherwise() {
    let pg = Pg::start();
    let proxy = Proxy::tls(&pg).await;
    let (ok, out, err) = proxy
        .psql_ssl(USER, PASSWORD, "dev", "SELECT 'over tls'", "require")
        .await;
    assert!(ok, "{err}");
    assert_eq!(out, "over tls\n");
    // psql's \conninfo names the TLS protocol when the session is encrypted.
    let (ok, out, err) = proxy
        .psql_ssl(USER, PASSWORD, "dev", "\\conninfo", "require")
        .await;
    assert!(
        ok && out.contains("SSL connection (protocol: TLSv1.3"),
        "{out}{err}"
    );
    let (ok, out, err) = proxy
        .psql_ssl(USER, PASSWORD, "dev", "SELECT 'plain'", "disable")
        .await;
    assert!(ok, "{err}");
    assert_eq!(out, "plain\n");
    // Without TLS configured, sslmode=require is refused by the client after our 'N'.
    let plain = Proxy::plain(&pg).await;
    let (ok, _, err) = plain
        .psql_ssl(USER, PASSWORD, "dev", "SELECT 1", "require")
        .await;
    assert!(!ok && err.contains("server does not support SSL"), "{err}");
}

// Over TLS the relay decrypts and encrypts on its threads: statements and results of many
// records each way (a statement past the 64 KiB read buffer, a result of ~300 KB), several
// statements in one session, and a long stream of results.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_carries_large_statements_and_results() {
    let pg = Pg::start();
    let proxy = Proxy::tls(&pg).await;
    let big = format!(
        "SELECT length('{}'); SELECT length(repeat('x', 300000) || g::text) FROM generate_series(1, 3) g; SELECT md5(repeat('ab', 150000))",
        "y".repeat(100_000)
    );
    let (ok, out, err) = proxy.psql_ssl(USER, PASSWORD, "dev", &big, "require").await;
    assert!(ok, "{err}");
    let expected_md5 = pg.psql_direct("SELECT md5(repeat('ab', 150000))");
    let expected_md5 = expected_md5.trim();
    assert_eq!(expected_md5.len(), 32);
    assert_eq!(
        out,
        format!("100000\n300001\n300001\n300001\n{expected_md5}\n")
    );
    // A result of ~30 MB streams through whole, and the proxy takes new sessions after it.
    let (ok, out, err) = proxy
        .psql_ssl(
            USER,
            PASSWORD,
            "dev",
            "SELECT repeat('z', 1000) FROM generate_series(1, 30000)",
            "require",
        )
        .await;
    assert!(ok, "{err}");
    assert_eq!(out.len(), 30_000 * 1001);
    let (ok, out, err) = proxy
        .psql_ssl(USER, PASSWORD, "dev", "SELECT 'still there'", "require")
        .await;
    assert!(ok, "{err}");
    assert_eq!(out, "still there\n");
}
