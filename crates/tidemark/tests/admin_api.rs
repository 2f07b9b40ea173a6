//! Who may call the admin API, and where its paths may lead (docs/reliability.md, "The admin
//! API"): on a strict server every route but `GET /_tidemark/health` needs a SigV4
//! signature by a credential marked `admin = true`; unsigned, non-admin and wrongly signed
//! calls get 403 and change nothing. Backup export/import directories stay inside
//! `--exchange-dir`, symlinks included. The
//! client's `clock` and `backup` commands sign with the configured credentials.

mod common;
#[path = "backup_export/support.rs"]
#[allow(dead_code)] // shared with backup_export.rs, which uses the rest
mod support;

use std::path::Path;
use std::process::Command;

use common::Server;
use serde_json::{Value, json};
use support::{make_source, wait_backup_available};

const CREDENTIALS: &str = r#"
[[credential]]
access_key_id = "AKIDALICE0000000001"
secret_access_key = "alice-secret"
account_id = "111111111111"
name = "alice"

[[credential]]
access_key_id = "AKIDOPS000000000003"
secret_access_key = "ops-secret"
account_id = "111111111111"
name = "ops"
admin = true
"#;

const ALICE: (&str, &str) = ("AKIDALICE0000000001", "alice-secret");
const OPS: (&str, &str) = ("AKIDOPS000000000003", "ops-secret");

#[derive(Clone, Copy, Debug)]
enum Who {
    Unsigned,
    /// A valid signature by a credential without `admin = true`.
    NotAdmin,
    /// The admin's access key with a wrong secret.
    WrongSecret,
    Admin,
}

/// The three callers that must be refused, with the code each refusal names.
const REFUSED: [(Who, &str); 3] = [
    (Who::Unsigned, "MissingAuthenticationToken"),
    (Who::NotAdmin, "AccessDenied"),
    (Who::WrongSecret, "SignatureDoesNotMatch"),
];

fn strict_server(dir: &Path, exchange: &Path) -> Server {
    let creds = dir.join("credentials.toml");
    std::fs::write(&creds, CREDENTIALS).expect("write credentials");
    Server::start(&[
        "--in-memory",
        "--auth",
        "strict",
        "--credentials",
        utf8(&creds),
        "--exchange-dir",
        utf8(exchange),
    ])
}

fn utf8(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// One admin call as `who`, signed the way the tidemark client signs (service `tidemark`).
fn call(server: &Server, who: Who, method: &str, path: &str, body: &[u8]) -> (u16, Value) {
    let mut headers = vec![("Content-Type".to_string(), "application/json".to_string())];
    let key = match who {
        Who::Unsigned => None,
        Who::NotAdmin => Some(ALICE),
        Who::WrongSecret => Some((OPS.0, "not-the-ops-secret")),
        Who::Admin => Some(OPS),
    };
    if let Some((access_key, secret_key)) = key {
        let added = tidemark_cli::sigv4::sign_method(
            method,
            &tidemark_cli::sigv4::SignInput {
                access_key,
                secret_key,
                session_token: None,
                region: "us-east-1",
                service: "tidemark",
                time: tidemark_core::wall_now(),
                scheme: "http",
                host: &server.addr,
                path,
                body,
            },
            &headers,
        )
        .expect("sign");
        headers.extend(added);
    }
    let refs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (status, text) = server.http(method, path, &refs, body);
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Every refused caller gets 403 naming why; then the admin gets `expect`.
fn route(server: &Server, method: &str, path: &str, body: &[u8], expect: u16) -> Value {
    for (who, code) in REFUSED {
        let (status, v) = call(server, who, method, path, body);
        assert_eq!(
            (status, v["code"].as_str()),
            (403, Some(code)),
            "{who:?} {method} {path}: {v}"
        );
        assert!(v["error"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    }
    let (status, v) = call(server, Who::Admin, method, path, body);
    assert_eq!(status, expect, "admin {method} {path}: {v}");
    v
}

#[tokio::test(flavor = "multi_thread")]
async fn strict_admin_routes_answer_only_the_admin_credential() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let exchange = std::fs::canonicalize(tmp.path())
        .expect("canonical")
        .join("exchange");
    let server = strict_server(tmp.path(), &exchange);

    let (status, v) = call(&server, Who::Unsigned, "GET", "/_tidemark/health", b"");
    assert_eq!(
        (status, v),
        (200, json!({"status": "ok"})),
        "health is open"
    );

    // Something to export, import and wipe, owned by alice's account.
    let ddb = server.dynamodb(ALICE.0, ALICE.1);
    let arn = source_backup(&ddb).await;
    let rs = server.redshift(ALICE.0, ALICE.1);
    rs.create_cluster()
        .cluster_identifier("c1")
        .node_type("dc2.large")
        .master_username("admin")
        .master_user_password("Passw0rd1")
        .send()
        .await
        .expect("CreateCluster");

    let v = route(&server, "GET", "/_tidemark/clock", b"", 200);
    assert_eq!(v["frozen"], false);
    route(
        &server,
        "POST",
        "/_tidemark/clock",
        br#"{"freeze":true}"#,
        200,
    );
    route(
        &server,
        "POST",
        "/_tidemark/clock",
        br#"{"freeze":false}"#,
        200,
    );
    // The refused freezes changed nothing: only the admin's two calls did.
    let (_, v) = call(&server, Who::Admin, "GET", "/_tidemark/clock", b"");
    assert_eq!(v["frozen"], false);

    let export = json!({"BackupArn": arn, "Directory": "out"}).to_string();
    let v = route(
        &server,
        "POST",
        "/_tidemark/backup/export",
        export.as_bytes(),
        200,
    );
    let export_dir = v["ExportDirectory"].as_str().expect("dir").to_string();
    assert!(
        export_dir.starts_with(utf8(&exchange.join("out/AWSDynamoDB"))),
        "{export_dir}"
    );
    assert_eq!(
        std::fs::read_dir(exchange.join("out/AWSDynamoDB"))
            .expect("export")
            .count(),
        1,
        "the refused exports wrote nothing"
    );
    let import = json!({"Directory": export_dir, "Account": "111111111111"}).to_string();
    let v = route(
        &server,
        "POST",
        "/_tidemark/backup/import",
        import.as_bytes(),
        200,
    );
    assert_eq!(v["ItemCount"], 300, "{v}");
    let listed = ddb.list_backups().send().await.expect("ListBackups");
    assert_eq!(
        listed.backup_summaries().len(),
        2,
        "one import, by the admin"
    );

    // The Data API's secrets (SecretArn) hold passwords: only the admin registers or lists
    // them.
    let secret = json!({
        "Name": "rs/admin",
        "SecretString": r#"{"username":"admin","password":"Passw0rd1"}"#,
        "Account": "111111111111",
    })
    .to_string();
    let v = route(
        &server,
        "POST",
        "/_tidemark/redshift-data/secrets",
        secret.as_bytes(),
        200,
    );
    let secret_arn = v["ARN"].as_str().expect("ARN").to_owned();
    assert!(
        secret_arn.starts_with("arn:aws:secretsmanager:us-east-1:111111111111:secret:rs/admin-"),
        "{secret_arn}"
    );
    let v = route(
        &server,
        "GET",
        "/_tidemark/redshift-data/secrets?account=111111111111",
        b"",
        200,
    );
    assert_eq!(
        v,
        json!({"Secrets": [{"Name": "rs/admin", "ARN": secret_arn}]})
    );

    route(&server, "POST", "/_tidemark/reset", b"", 200);
    let tables = ddb.list_tables().send().await.expect("ListTables");
    assert!(tables.table_names().is_empty(), "the admin's reset wiped");
    let clusters = rs
        .describe_clusters()
        .send()
        .await
        .expect("DescribeClusters");
    assert!(
        clusters.clusters().is_empty(),
        "the reset took the cluster too"
    );
    make_source(&ddb).await;
    // Refused resets leave the new table alone; moto's path is guarded the same way.
    for (who, _) in REFUSED {
        assert_eq!(call(&server, who, "POST", "/moto-api/reset", b"").0, 403);
    }
    let tables = ddb.list_tables().send().await.expect("ListTables");
    assert_eq!(tables.table_names(), ["Src"]);
    route(&server, "POST", "/moto-api/reset", b"", 200);
    let tables = ddb.list_tables().send().await.expect("ListTables");
    assert!(tables.table_names().is_empty());
}

/// The client commands, with credentials only from the environment given here.
fn client(server: &Server, home: &Path, key: Option<(&str, &str)>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tidemark"));
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ENDPOINT_URL",
        "TIDEMARK_ENDPOINT",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("HOME", home)
        .env("AWS_CONFIG_FILE", home.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("no-credentials"))
        .env("AWS_ENDPOINT_URL", &server.endpoint);
    if let Some((ak, sk)) = key {
        cmd.env("AWS_ACCESS_KEY_ID", ak)
            .env("AWS_SECRET_ACCESS_KEY", sk);
    }
    cmd
}

#[tokio::test(flavor = "multi_thread")]
async fn client_admin_commands_sign_with_the_configured_credential() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let exchange = std::fs::canonicalize(tmp.path())
        .expect("canonical")
        .join("exchange");
    let server = strict_server(tmp.path(), &exchange);

    let before = client(&server, tmp.path(), Some(OPS))
        .args(["clock", "show"])
        .output()
        .expect("tidemark clock runs");
    assert!(before.status.success(), "{before:?}");
    let before: tidemark_core::Timestamp = String::from_utf8_lossy(&before.stdout)
        .trim()
        .parse()
        .expect("RFC 3339 on stdout");
    let out = client(&server, tmp.path(), Some(OPS))
        .args(["clock", "advance", "36d"])
        .output()
        .expect("tidemark clock runs");
    assert!(out.status.success(), "{out:?}");
    let after: tidemark_core::Timestamp = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("RFC 3339 on stdout");
    assert!(
        after.as_second() - before.as_second() >= 36 * 86_400,
        "{before} → {after}"
    );

    for (key, needle) in [
        (None, "not signed"),
        (Some(ALICE), "not an admin credential"),
    ] {
        let out = client(&server, tmp.path(), key)
            .args(["clock", "advance", "1d"])
            .output()
            .expect("tidemark clock runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{key:?}: {stderr}");
        assert!(
            stderr.contains("403") && stderr.contains(needle),
            "{stderr}"
        );
    }

    // `tidemark backup export` signs too, and a relative directory lands in the exchange dir.
    let ddb = server.dynamodb(ALICE.0, ALICE.1);
    let arn = source_backup(&ddb).await;
    let out = client(&server, tmp.path(), Some(OPS))
        .args([
            "backup",
            "export",
            "--backup-arn",
            &arn,
            "--output-dir",
            "cli",
        ])
        .output()
        .expect("tidemark backup runs");
    assert!(out.status.success(), "{out:?}");
    assert!(exchange.join("cli/AWSDynamoDB").is_dir());
    let out = client(&server, tmp.path(), Some(ALICE))
        .args([
            "backup",
            "export",
            "--backup-arn",
            &arn,
            "--output-dir",
            "alice",
        ])
        .output()
        .expect("tidemark backup runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("AccessDenied (403)"),
        "{stderr}"
    );
    assert!(!exchange.join("alice").exists());
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn admin_paths_cannot_leave_their_root() {
    use std::os::unix::fs::symlink;

    let tmp = tempfile::tempdir().expect("tempdir");
    let base = std::fs::canonicalize(tmp.path()).expect("canonical");
    let (data, exchange, outside) = (
        base.join("data"),
        base.join("exchange"),
        base.join("outside"),
    );
    for d in [&exchange, &outside, &exchange.join("d")] {
        std::fs::create_dir_all(d).expect("mkdir");
    }
    symlink(&outside, exchange.join("link")).expect("symlink");
    symlink(&outside, exchange.join("d/AWSDynamoDB")).expect("symlink");
    let server = Server::start(&["--data-dir", utf8(&data), "--exchange-dir", utf8(&exchange)]);
    let root = utf8(&exchange).to_string();

    // Refused before the backup is even looked up, so any ARN shows it.
    let arn = "arn:aws:dynamodb:us-east-1:123456789012:table/T/backup/01700000000000-deadbeef";
    let outside_abs = utf8(&outside).to_string();
    for (route, dir, needle) in [
        ("export", "../outside", "`..`"),
        ("export", "sub/../../outside", "`..`"),
        ("export", outside_abs.as_str(), "is outside"),
        ("export", "/etc/tidemark-test", "is outside"),
        ("export", "link", "leads through"),
        ("export", "link/new/deeper", "leads through"),
        ("export", "d", "leads through"),
        ("import", "/etc", "is outside"),
        ("import", "link", "leads through"),
        ("import", "../outside", "`..`"),
        ("import", "d", "leads through"),
    ] {
        let body = json!({"BackupArn": arn, "Directory": dir}).to_string();
        let (status, v) = server.http(
            "POST",
            &format!("/_tidemark/backup/{route}"),
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        );
        let v: Value = serde_json::from_str(&v).expect("JSON");
        assert_eq!(
            (status, v["code"].as_str()),
            (403, Some("PathOutsideRoot")),
            "{route} {dir}: {v}"
        );
        let msg = v["error"].as_str().expect("message");
        assert!(
            msg.contains(needle) && msg.contains(&root),
            "{route} {dir}: {msg}"
        );
    }
    // A path inside is still fine: the answer is about the (unknown) backup.
    let body = json!({"BackupArn": arn, "Directory": "inside"}).to_string();
    let (status, _) = server.http(
        "POST",
        "/_tidemark/backup/export",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    );
    assert_eq!(status, 404);

    assert_eq!(
        std::fs::read_dir(&outside).expect("outside").count(),
        0,
        "nothing was written outside the roots"
    );
}

/// The export fixture's source table and an AVAILABLE backup of it; returns the backup ARN.
async fn source_backup(ddb: &aws_sdk_dynamodb::Client) -> String {
    make_source(ddb).await;
    let arn = ddb
        .create_backup()
        .table_name("Src")
        .backup_name("before-admin")
        .send()
        .await
        .expect("CreateBackup")
        .backup_details()
        .expect("details")
        .backup_arn()
        .to_string();
    wait_backup_available(ddb, &arn).await;
    arn
}
