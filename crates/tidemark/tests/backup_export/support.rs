//! Helpers for `backup_export.rs`: DynamoDB JSON from SDK values, scans as comparable
//! sets, the source table, admin calls, and reading/writing export layouts with plain tools.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue as Av, BackupStatus, BillingMode, GlobalSecondaryIndex,
    KeySchemaElement, KeyType, LocalSecondaryIndex, Projection, ProjectionType,
    ScalarAttributeType,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use md5::{Digest, Md5};
use serde_json::{Value, json};

use crate::common::{Server, wait_table_active};

pub fn md5_b64(bytes: &[u8]) -> String {
    STANDARD.encode(Md5::digest(bytes))
}

pub fn gunzip(bytes: &[u8]) -> String {
    let mut s = String::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_string(&mut s)
        .expect("gzip");
    s
}

/// An SDK attribute value as DynamoDB JSON.
pub fn to_json(v: &Av) -> Value {
    let b64 = |b: &Blob| Value::String(STANDARD.encode(b.as_ref()));
    match v {
        Av::S(s) => json!({ "S": s }),
        Av::N(n) => json!({ "N": n }),
        Av::B(b) => json!({ "B": b64(b) }),
        Av::Ss(v) => json!({ "SS": v }),
        Av::Ns(v) => json!({ "NS": v }),
        Av::Bs(v) => json!({ "BS": v.iter().map(b64).collect::<Vec<_>>() }),
        Av::M(m) => json!({ "M": item_json(m) }),
        Av::L(l) => json!({ "L": l.iter().map(to_json).collect::<Vec<_>>() }),
        Av::Null(_) => json!({ "NULL": true }),
        Av::Bool(b) => json!({ "BOOL": b }),
        other => panic!("unexpected attribute value {other:?}"),
    }
}

/// An item as DynamoDB JSON with its attributes in name order (comparable as a string).
pub fn item_json(item: &HashMap<String, Av>) -> Value {
    let sorted: BTreeMap<&String, Value> = item.iter().map(|(k, v)| (k, to_json(v))).collect();
    serde_json::to_value(sorted).expect("json")
}

/// Canonical text of a DynamoDB JSON item: attribute (and nested map) names in order.
pub fn canonical(v: &Value) -> String {
    fn sort(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let s: BTreeMap<&String, Value> = m.iter().map(|(k, v)| (k, sort(v))).collect();
                serde_json::to_value(s).expect("json")
            }
            Value::Array(a) => Value::Array(a.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    sort(v).to_string()
}

pub async fn scan_all(c: &Client, table: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut start = None;
    loop {
        let r = c
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("Scan");
        for item in r.items() {
            out.insert(canonical(&item_json(item)));
        }
        start = r.last_evaluated_key().cloned();
        if start.is_none() {
            return out;
        }
    }
}

pub async fn wait_backup_available(c: &Client, arn: &str) {
    for _ in 0..500 {
        let d = c
            .describe_backup()
            .backup_arn(arn)
            .send()
            .await
            .expect("DescribeBackup");
        let status = d
            .backup_description()
            .and_then(|d| d.backup_details())
            .map(|d| d.backup_status().clone());
        if status == Some(BackupStatus::Available) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("backup {arn} never became AVAILABLE");
}

pub fn key(name: &str, t: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(t)
        .build()
        .expect("key")
}

pub fn def(name: &str, t: ScalarAttributeType) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(t)
        .build()
        .expect("def")
}

pub fn all() -> Projection {
    Projection::builder()
        .projection_type(ProjectionType::All)
        .build()
}

/// `Src`: hash pk (S) + range sk (N), a GSI on g and an LSI on l; 300 items, one of them
/// holding every attribute type.
pub async fn make_source(c: &Client) {
    c.create_table()
        .table_name("Src")
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(def("pk", ScalarAttributeType::S))
        .attribute_definitions(def("sk", ScalarAttributeType::N))
        .attribute_definitions(def("g", ScalarAttributeType::S))
        .attribute_definitions(def("l", ScalarAttributeType::N))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("byG")
                .key_schema(key("g", KeyType::Hash))
                .projection(all())
                .build()
                .expect("gsi"),
        )
        .local_secondary_indexes(
            LocalSecondaryIndex::builder()
                .index_name("byL")
                .key_schema(key("pk", KeyType::Hash))
                .key_schema(key("l", KeyType::Range))
                .projection(all())
                .build()
                .expect("lsi"),
        )
        .send()
        .await
        .expect("CreateTable");
    wait_table_active(c, "Src").await;
    let every = HashMap::from([
        ("pk".to_string(), Av::S("every".into())),
        ("sk".to_string(), Av::N("-1.5".into())),
        ("s".to_string(), Av::S("text ✓ \"quoted\"\n".into())),
        ("n".to_string(), Av::N("12345678901234567890.123".into())),
        ("b".to_string(), Av::B(Blob::new(vec![0, 1, 2, 255]))),
        ("ss".to_string(), Av::Ss(vec!["a".into(), "b".into()])),
        ("ns".to_string(), Av::Ns(vec!["1".into(), "2.5".into()])),
        (
            "bs".to_string(),
            Av::Bs(vec![Blob::new(vec![1]), Blob::new(vec![2, 3])]),
        ),
        (
            "m".to_string(),
            Av::M(HashMap::from([
                ("inner".to_string(), Av::S("x".into())),
                (
                    "deep".to_string(),
                    Av::L(vec![Av::N("1".into()), Av::Null(true)]),
                ),
            ])),
        ),
        ("l".to_string(), Av::N("7".into())),
        (
            "list".to_string(),
            Av::L(vec![Av::Bool(true), Av::S("y".into())]),
        ),
        ("null".to_string(), Av::Null(true)),
        ("bool".to_string(), Av::Bool(false)),
        ("g".to_string(), Av::S("G-every".into())),
    ]);
    c.put_item()
        .table_name("Src")
        .set_item(Some(every))
        .send()
        .await
        .expect("PutItem");
    for i in 0..299 {
        let mut item = HashMap::from([
            ("pk".to_string(), Av::S(format!("p{}", i % 17))),
            ("sk".to_string(), Av::N(i.to_string())),
            ("payload".to_string(), Av::S("v".repeat(i % 50))),
        ]);
        if i % 3 == 0 {
            item.insert("g".into(), Av::S(format!("G{}", i % 5)));
        }
        c.put_item()
            .table_name("Src")
            .set_item(Some(item))
            .send()
            .await
            .expect("PutItem");
    }
}

pub fn post(server: &Server, path: &str, body: &Value) -> (u16, Value) {
    let (status, text) = server.http(
        "POST",
        path,
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    );
    let v = serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON answer: {text}"));
    (status, v)
}

pub fn file_names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
}

/// Checks an export directory the way any tool would and returns its items (canonical).
pub fn check_layout(export_dir: &Path, export_id: &str) -> BTreeSet<String> {
    assert_eq!(
        file_names(export_dir),
        [
            "_started",
            "data",
            "manifest-files.json",
            "manifest-files.md5",
            "manifest-summary.json",
            "manifest-summary.md5",
            "tidemark-table.json",
        ]
        .map(String::from)
        .into(),
    );
    assert!(
        std::fs::read(export_dir.join("_started"))
            .expect("_started")
            .is_empty()
    );
    for name in ["manifest-files", "manifest-summary"] {
        let content = std::fs::read(export_dir.join(format!("{name}.json"))).expect("manifest");
        let md5 = std::fs::read_to_string(export_dir.join(format!("{name}.md5"))).expect("md5");
        assert_eq!(md5, md5_b64(&content), "{name}.md5");
    }
    let summary: Value = serde_json::from_slice(
        &std::fs::read(export_dir.join("manifest-summary.json")).expect("summary"),
    )
    .expect("summary JSON");
    let keys: Vec<&str> = summary
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "version",
            "exportArn",
            "startTime",
            "endTime",
            "tableArn",
            "tableId",
            "exportTime",
            "s3Bucket",
            "s3Prefix",
            "s3SseAlgorithm",
            "s3SseKmsKeyId",
            "manifestFilesS3Key",
            "billedSizeBytes",
            "itemCount",
            "outputFormat",
            "exportType",
        ]
    );
    assert_eq!(summary["version"], "2020-06-30");
    assert_eq!(summary["outputFormat"], "DYNAMODB_JSON");
    assert_eq!(summary["exportType"], "FULL_EXPORT");
    assert_eq!(
        summary["manifestFilesS3Key"],
        format!("AWSDynamoDB/{export_id}/manifest-files.json")
    );
    assert!(
        summary["exportArn"]
            .as_str()
            .expect("arn")
            .ends_with(&format!(":table/Src/export/{export_id}"))
    );
    assert!(summary["billedSizeBytes"].as_i64().expect("size") > 0);
    let files = std::fs::read_to_string(export_dir.join("manifest-files.json")).expect("files");
    let mut items = BTreeSet::new();
    let mut data_files = BTreeSet::new();
    for line in files.lines() {
        let e: Value = serde_json::from_str(line).expect("manifest-files line");
        let key = e["dataFileS3Key"].as_str().expect("key");
        let name = key
            .strip_prefix(&format!("AWSDynamoDB/{export_id}/data/"))
            .expect("bucket-relative key under data/");
        assert!(name.ends_with(".json.gz") && name.len() == 26 + 8, "{name}");
        data_files.insert(name.to_string());
        let bytes = std::fs::read(export_dir.join("data").join(name)).expect("data file");
        assert_eq!(e["md5Checksum"], md5_b64(&bytes));
        let hex: String = Md5::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(e["etag"], hex);
        let text = gunzip(&bytes);
        assert_eq!(e["itemCount"], text.lines().count());
        for l in text.lines() {
            let v: Value = serde_json::from_str(l).expect("data line");
            assert_eq!(v.as_object().expect("object").len(), 1, "{l}");
            items.insert(canonical(&v["Item"]));
        }
    }
    assert_eq!(file_names(&export_dir.join("data")), data_files);
    assert_eq!(summary["itemCount"], items.len());
    items
}

/// A one-file export of `lines` (raw text, gzip'd) with correct checksums throughout.
pub fn write_export(dir: &Path, lines: &str, items: usize) -> PathBuf {
    let root = dir.join("AWSDynamoDB/01700000000001-0000beef");
    std::fs::create_dir_all(root.join("data")).expect("mkdir");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(lines.as_bytes()).expect("gzip");
    let data = gz.finish().expect("gzip");
    std::fs::write(root.join("data/aaaaaaaaaaaaaaaaaaaaaaaaaa.json.gz"), &data).expect("data");
    let files = format!(
        "{}\n",
        json!({"itemCount": items, "md5Checksum": md5_b64(&data), "etag": "x",
               "dataFileS3Key": "AWSDynamoDB/01700000000001-0000beef/data/aaaaaaaaaaaaaaaaaaaaaaaaaa.json.gz"})
    );
    std::fs::write(root.join("manifest-files.json"), &files).expect("files");
    std::fs::write(root.join("manifest-files.md5"), md5_b64(files.as_bytes())).expect("md5");
    let summary = json!({"version": "2020-06-30", "itemCount": items,
                         "outputFormat": "DYNAMODB_JSON", "exportType": "FULL_EXPORT"})
    .to_string();
    std::fs::write(root.join("manifest-summary.json"), &summary).expect("summary");
    std::fs::write(
        root.join("manifest-summary.md5"),
        md5_b64(summary.as_bytes()),
    )
    .expect("md5");
    root
}
