//! Backup portability end to end: a backup exported in DynamoDB's S3 export layout (checked
//! with plain serde_json, flate2 and md-5, as any tool would), imported back as a new backup
//! and restored with RestoreTableFromBackup; a hand-made AWS-style export imported and
//! restored; and the error answers (missing ARN, unknown backup, bad directory, corrupt
//! checksums, bad data lines).

mod common;
#[path = "backup_export/support.rs"]
mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use aws_sdk_dynamodb::types::AttributeValue as Av;
use common::{Server, wait_table_active};
use serde_json::{Value, json};
use support::*;

const FIXTURE: &str = "tests/fixtures/aws-export/exports";

fn utf8(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

#[tokio::test(flavor = "multi_thread")]
async fn backup_round_trips_through_the_s3_export_layout() {
    // The exchange directory is the only place admin calls may name; the server answers
    // paths resolved (symlinks followed), so compare against the canonical temp dir.
    let tmp = tempfile::tempdir().expect("tempdir");
    let exchange = std::fs::canonicalize(tmp.path()).expect("canonical tempdir");
    let server = Server::start(&["--in-memory", "--exchange-dir", utf8(&exchange)]);
    let c = server.dynamodb("AKIDEXAMPLE", "secret");
    make_source(&c).await;
    let arn = c
        .create_backup()
        .table_name("Src")
        .backup_name("before-export")
        .send()
        .await
        .expect("CreateBackup")
        .backup_details()
        .expect("details")
        .backup_arn()
        .to_string();
    wait_backup_available(&c, &arn).await;
    let source_items = scan_all(&c, "Src").await;
    assert_eq!(source_items.len(), 300);

    // Through the admin route, with an absolute directory inside the exchange directory.
    let out = exchange.join("route");
    let (status, answer) = post(
        &server,
        "/_tidemark/backup/export",
        &json!({"BackupArn": arn, "Directory": out}),
    );
    assert_eq!(status, 200, "{answer}");
    let export_id = answer["ExportId"].as_str().expect("id").to_string();
    let export_dir = PathBuf::from(answer["ExportDirectory"].as_str().expect("dir"));
    assert_eq!(export_dir, out.join("AWSDynamoDB").join(&export_id));
    assert_eq!(answer["ManifestSummary"]["itemCount"], 300);
    assert_eq!(check_layout(&export_dir, &export_id), source_items);

    // Through the binary, with a relative output directory: relative to the server's
    // exchange directory, whatever the client's working directory.
    let cli = Command::new(env!("CARGO_BIN_EXE_tidemark"))
        .args(["backup", "export", "--backup-arn", &arn])
        .args([
            "--output-dir",
            "cli-out",
            "--endpoint-url",
            &server.endpoint,
        ])
        .output()
        .expect("tidemark backup export runs");
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    let printed: Value = serde_json::from_slice(&cli.stdout).expect("JSON on stdout");
    let cli_id = printed["ExportId"].as_str().expect("id");
    let cli_dir = exchange.join("cli-out/AWSDynamoDB").join(cli_id);
    assert_eq!(printed["ExportDirectory"], utf8(&cli_dir));
    assert_eq!(check_layout(&cli_dir, cli_id), source_items);

    // Import the CLI's export (no TableCreationParameters: tidemark-table.json) and restore.
    let cli = Command::new(env!("CARGO_BIN_EXE_tidemark"))
        .args(["backup", "import", "--input-dir"])
        .arg(&cli_dir)
        .args([
            "--backup-name",
            "reimported",
            "--endpoint-url",
            &server.endpoint,
        ])
        .output()
        .expect("tidemark backup import runs");
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    let imported: Value = serde_json::from_slice(&cli.stdout).expect("JSON on stdout");
    let details = &imported["BackupDetails"];
    assert_eq!(details["BackupStatus"], "AVAILABLE");
    assert_eq!(details["BackupType"], "USER");
    assert_eq!(details["BackupName"], "reimported");
    assert_eq!(imported["ItemCount"], 300);
    let new_arn = details["BackupArn"].as_str().expect("arn").to_string();
    assert!(new_arn.contains(":table/Src/backup/"), "{new_arn}");
    let listed = c
        .list_backups()
        .table_name("Src")
        .send()
        .await
        .expect("ListBackups");
    assert!(
        listed
            .backup_summaries()
            .iter()
            .any(|b| b.backup_arn() == Some(new_arn.as_str()))
    );
    c.restore_table_from_backup()
        .backup_arn(&new_arn)
        .target_table_name("Dst")
        .send()
        .await
        .expect("RestoreTableFromBackup");
    wait_table_active(&c, "Dst").await;
    assert_eq!(scan_all(&c, "Dst").await, source_items);
    let dst = c
        .describe_table()
        .table_name("Dst")
        .send()
        .await
        .expect("DescribeTable");
    let t = dst.table().expect("table");
    assert_eq!(t.global_secondary_indexes().len(), 1, "the GSI comes back");
    assert_eq!(t.local_secondary_indexes().len(), 1, "the LSI comes back");
    let by_g = c
        .query()
        .table_name("Dst")
        .index_name("byG")
        .key_condition_expression("g = :g")
        .expression_attribute_values(":g", Av::S("G-every".into()))
        .send()
        .await
        .expect("Query");
    assert_eq!(by_g.count(), 1, "the restored GSI holds the imported items");

    // Import the route's export under new TableCreationParameters (a renamed table).
    let (status, imported) = post(
        &server,
        "/_tidemark/backup/import",
        &json!({
            "Directory": out,
            "TableCreationParameters": {
                "TableName": "Renamed",
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "N"}
                ],
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"}
                ]
            }
        }),
    );
    assert_eq!(status, 200, "{imported}");
    assert_eq!(
        imported["BackupDetails"]["BackupName"],
        format!("import-{export_id}")
    );
    let renamed_arn = imported["BackupDetails"]["BackupArn"]
        .as_str()
        .expect("arn");
    assert!(
        renamed_arn.contains(":table/Renamed/backup/"),
        "{renamed_arn}"
    );
    c.restore_table_from_backup()
        .backup_arn(renamed_arn)
        .target_table_name("Dst2")
        .send()
        .await
        .expect("RestoreTableFromBackup");
    wait_table_active(&c, "Dst2").await;
    assert_eq!(scan_all(&c, "Dst2").await, source_items);
}

#[tokio::test(flavor = "multi_thread")]
async fn aws_style_export_imports_and_restores() {
    // The fixture directory is the exchange directory: the import only reads it.
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    let server = Server::start(&["--in-memory", "--exchange-dir", utf8(&fixture)]);
    let c = server.dynamodb("AKIDEXAMPLE", "secret");
    let mut expected = BTreeSet::new();
    let data = fixture.join("AWSDynamoDB/01700000000000-a1b2c3d4/data");
    for e in std::fs::read_dir(&data).expect("fixture data") {
        let text = gunzip(&std::fs::read(e.expect("entry").path()).expect("read"));
        for l in text.lines() {
            let v: Value = serde_json::from_str(l).expect("line");
            expected.insert(canonical(&v["Item"]));
        }
    }
    assert_eq!(expected.len(), 4);

    // An AWS export carries no table description: TableCreationParameters is required.
    let (status, err) = post(
        &server,
        "/_tidemark/backup/import",
        &json!({"Directory": fixture}),
    );
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["code"], "ValidationException");
    assert!(
        err["error"]
            .as_str()
            .expect("msg")
            .contains("TableCreationParameters")
    );

    let tmp = tempfile::tempdir().expect("tempdir");
    let params = tmp.path().join("params.json");
    std::fs::write(
        &params,
        r#"{"TableName": "ProductCatalog", "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "Id", "AttributeType": "N"}],
            "KeySchema": [{"AttributeName": "Id", "KeyType": "HASH"}]}"#,
    )
    .expect("write params");
    let cli = Command::new(env!("CARGO_BIN_EXE_tidemark"))
        .args(["backup", "import", "--input-dir"])
        .arg(&fixture)
        .arg("--table-creation-parameters")
        .arg(format!("file://{}", params.display()))
        .args(["--endpoint-url", &server.endpoint])
        .output()
        .expect("tidemark backup import runs");
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    let imported: Value = serde_json::from_slice(&cli.stdout).expect("JSON on stdout");
    assert_eq!(imported["ItemCount"], 4);
    assert_eq!(imported["TableName"], "ProductCatalog");
    assert_eq!(
        imported["SourceExportArn"],
        "arn:aws:dynamodb:us-east-1:111122223333:table/ProductCatalog/export/01700000000000-a1b2c3d4"
    );
    let arn = imported["BackupDetails"]["BackupArn"]
        .as_str()
        .expect("arn");
    assert!(
        arn.starts_with("arn:aws:dynamodb:us-east-1:123456789012:table/ProductCatalog/backup/")
    );
    let d = c
        .describe_backup()
        .backup_arn(arn)
        .send()
        .await
        .expect("DescribeBackup");
    let src = d
        .backup_description()
        .and_then(|d| d.source_table_details())
        .expect("source details");
    assert_eq!(src.item_count(), Some(4));
    c.restore_table_from_backup()
        .backup_arn(arn)
        .target_table_name("Products")
        .send()
        .await
        .expect("RestoreTableFromBackup");
    wait_table_active(&c, "Products").await;
    assert_eq!(scan_all(&c, "Products").await, expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn export_and_import_errors_are_clear() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().to_str().expect("utf-8");
    let server = Server::start(&["--in-memory", "--exchange-dir", dir]);
    let export = "/_tidemark/backup/export";
    let import = "/_tidemark/backup/import";
    let expect_err = |path: &str, body: Value, status: u16, code: &str, needle: &str| {
        let (s, v) = post(&server, path, &body);
        assert_eq!(
            (s, v["code"].as_str()),
            (status, Some(code)),
            "{body} → {v}"
        );
        let msg = v["error"].as_str().expect("message");
        assert!(msg.contains(needle), "{msg:?} should mention {needle:?}");
    };

    expect_err(
        export,
        json!({"Directory": dir}),
        400,
        "ValidationException",
        "BackupArn is required",
    );
    let unknown = "arn:aws:dynamodb:us-east-1:123456789012:table/T/backup/01700000000000-deadbeef";
    expect_err(
        export,
        json!({"BackupArn": unknown, "Directory": dir}),
        404,
        "BackupNotFoundException",
        &format!("Backup not found: {unknown}"),
    );
    expect_err(
        export,
        json!({"BackupArn": unknown, "Directory": "relative/../../dir"}),
        403,
        "PathOutsideRoot",
        "`..`",
    );
    expect_err(
        import,
        json!({"Directory": format!("{dir}/missing")}),
        400,
        "InvalidDirectory",
        "not a directory",
    );
    expect_err(
        import,
        json!({"Directory": dir}),
        400,
        "InvalidDirectory",
        "no manifest-summary.json",
    );
    expect_err(
        import,
        json!({"Directory": dir, "Account": "12345"}),
        400,
        "ValidationException",
        "12-digit",
    );
    let (s, v) = server.http("GET", export, &[], b"");
    assert_eq!(s, 405, "{v}");

    // The CLI reports the server's error and fails.
    let cli = Command::new(env!("CARGO_BIN_EXE_tidemark"))
        .args([
            "backup",
            "export",
            "--backup-arn",
            unknown,
            "--output-dir",
            dir,
        ])
        .args(["--endpoint-url", &server.endpoint])
        .output()
        .expect("tidemark backup export runs");
    assert!(!cli.status.success());
    let stderr = String::from_utf8_lossy(&cli.stderr);
    assert!(stderr.contains("BackupNotFoundException"), "{stderr}");

    // Corrupt checksums: a manifest's .md5, then a data file's md5Checksum.
    let params = json!({"TableName": "Imp", "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]});
    let good = "{\"Item\":{\"pk\":{\"S\":\"a\"}}}\n{\"Item\":{\"pk\":{\"S\":\"b\"}}}\n";
    let case = |name: &str, lines: &str, items: usize| {
        let root = write_export(&tmp.path().join(name), lines, items);
        let body = json!({"Directory": root, "TableCreationParameters": params});
        (root, body)
    };
    let (root, body) = case("md5", good, 2);
    std::fs::write(
        root.join("manifest-summary.md5"),
        "AAAAAAAAAAAAAAAAAAAAAA==",
    )
    .expect("corrupt");
    expect_err(
        import,
        body,
        400,
        "InvalidExport",
        "manifest-summary.json does not match manifest-summary.md5",
    );
    let (root, body) = case("data-md5", good, 2);
    std::fs::write(
        root.join("data/aaaaaaaaaaaaaaaaaaaaaaaaaa.json.gz"),
        b"not gzip",
    )
    .expect("corrupt");
    expect_err(
        import,
        body,
        400,
        "InvalidExport",
        "data/aaaaaaaaaaaaaaaaaaaaaaaaaa.json.gz: MD5",
    );

    // Bad lines name the file and the line.
    let (_, body) = case("json", "{\"Item\":{\"pk\":{\"S\":\"a\"}}}\n{\"Item\":\n", 2);
    expect_err(
        import,
        body,
        400,
        "InvalidExport",
        "data/aaaaaaaaaaaaaaaaaaaaaaaaaa.json.gz line 2:",
    );
    let (_, body) = case(
        "key",
        "{\"Item\":{\"pk\":{\"S\":\"a\"}}}\n{\"Item\":{\"other\":{\"S\":\"b\"}}}\n",
        2,
    );
    expect_err(
        import,
        body,
        400,
        "InvalidExport",
        "line 2: One or more parameter values were invalid: Missing the key pk in the item",
    );
    let (_, body) = case(
        "dup",
        "{\"Item\":{\"pk\":{\"S\":\"a\"}}}\n{\"Item\":{\"pk\":{\"S\":\"a\"}}}\n",
        2,
    );
    expect_err(
        import,
        body,
        400,
        "InvalidExport",
        "line 2: duplicate primary key",
    );
    let (_, body) = case("count", good, 3);
    expect_err(
        import,
        body,
        400,
        "InvalidExport",
        "holds 2 items but manifest-files.json says 3",
    );

    // None of the failed imports left a backup behind.
    let c = server.dynamodb("AKIDEXAMPLE", "secret");
    let listed = c.list_backups().send().await.expect("ListBackups");
    assert!(listed.backup_summaries().is_empty(), "{listed:?}");
}
