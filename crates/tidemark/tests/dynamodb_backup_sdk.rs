//! DynamoDB on-demand backups, restores and point-in-time recovery through the AWS SDK for
//! Rust against the real binary (issue #5: "SDK tests for every operation, filter and
//! error"). Each test starts its own in-memory server with the virtual clock set to
//! 2031-01-01T00:00:00Z and frozen, so times are exact; the clock is moved through the admin
//! API (`POST /_tidemark/clock`), which runs every job that falls due before answering.
//! Messages and orders are the ones the dispatcher tests pin
//! (crates/tidemark-dynamodb/tests/backup_{create,restore,pitr}.rs, reference §2).

mod common;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::primitives::DateTime;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BackupStatus, BackupSummary, BackupType, BackupTypeFilter,
    BillingMode, ContinuousBackupsStatus, GlobalSecondaryIndex, KeySchemaElement, KeyType,
    LocalSecondaryIndex, PointInTimeRecoveryDescription, PointInTimeRecoverySpecification,
    PointInTimeRecoveryStatus, Projection, ProjectionType, ProvisionedThroughput,
    ScalarAttributeType, TableDescription, TableStatus,
};
use common::{Server, describe_backup, wait_backup_available};

const ACCOUNT: &str = "123456789012";
/// 2031-01-01T00:00:00Z, where every test's frozen clock starts.
const T0: i64 = 1_924_992_000;
const TABLE_ARN_PREFIX: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/";
const DEADLINE: Duration = Duration::from_secs(20);

type Item = HashMap<String, AttributeValue>;

// ---------------------------------------------------------------------------------------
// Harness

/// The call must fail with HTTP 400; returns the typed service error.
macro_rules! service_error {
    ($call:expr) => {{
        let err = $call.await.expect_err("the call must fail");
        assert_eq!(
            err.raw_response().map(|r| r.status().as_u16()),
            Some(400),
            "{err:?}"
        );
        err.into_service_error()
    }};
}

fn clock(server: &Server, body: &str) {
    let (status, answer) = server.http(
        "POST",
        "/_tidemark/clock",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    );
    assert_eq!(status, 200, "clock {body}: {answer}");
}

fn advance(server: &Server, secs: i64) {
    clock(server, &format!(r#"{{"advance_seconds": {secs}}}"#));
}

/// A fresh in-memory server, clock frozen at T0, and a client for account 123456789012.
fn start() -> (Server, Client) {
    let server = Server::in_memory();
    // Freeze first: setting a running clock and then freezing it would stop a few
    // microseconds past T0.
    clock(&server, r#"{"freeze": true}"#);
    clock(&server, r#"{"set": "2031-01-01T00:00:00Z"}"#);
    let client = server.dynamodb(ACCOUNT, "x");
    (server, client)
}

fn secs(t: i64) -> DateTime {
    DateTime::from_secs(t)
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn attr(name: &str, t: ScalarAttributeType) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(t)
        .build()
        .unwrap()
}

fn key_el(name: &str, t: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(t)
        .build()
        .unwrap()
}

fn pk_sk() -> Vec<KeySchemaElement> {
    vec![key_el("pk", KeyType::Hash), key_el("sk", KeyType::Range)]
}

fn projection(t: ProjectionType) -> Projection {
    Projection::builder().projection_type(t).build()
}

fn throughput(r: i64, w: i64) -> ProvisionedThroughput {
    ProvisionedThroughput::builder()
        .read_capacity_units(r)
        .write_capacity_units(w)
        .build()
        .unwrap()
}

fn gsi_by_g() -> GlobalSecondaryIndex {
    GlobalSecondaryIndex::builder()
        .index_name("byG")
        .key_schema(key_el("g", KeyType::Hash))
        .projection(projection(ProjectionType::All))
        .build()
        .unwrap()
}

/// (pk S, sk N), on demand; waits for ACTIVE.
async fn simple_table(c: &Client, name: &str) {
    c.create_table()
        .table_name(name)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .attribute_definitions(attr("sk", ScalarAttributeType::N))
        .set_key_schema(Some(pk_sk()))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("CreateTable");
    common::wait_table_active(c, name).await;
}

/// (pk S, sk N), on demand, GSI byG (g, ALL) and LSI byL (pk, l; KEYS_ONLY); waits for ACTIVE.
async fn indexed_table(c: &Client, name: &str) {
    c.create_table()
        .table_name(name)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .attribute_definitions(attr("sk", ScalarAttributeType::N))
        .attribute_definitions(attr("g", ScalarAttributeType::S))
        .attribute_definitions(attr("l", ScalarAttributeType::S))
        .set_key_schema(Some(pk_sk()))
        .billing_mode(BillingMode::PayPerRequest)
        .global_secondary_indexes(gsi_by_g())
        .local_secondary_indexes(
            LocalSecondaryIndex::builder()
                .index_name("byL")
                .key_schema(key_el("pk", KeyType::Hash))
                .key_schema(key_el("l", KeyType::Range))
                .projection(projection(ProjectionType::KeysOnly))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("CreateTable");
    common::wait_table_active(c, name).await;
}

async fn put(c: &Client, table: &str, item: Item) {
    c.put_item()
        .table_name(table)
        .set_item(Some(item))
        .send()
        .await
        .expect("PutItem");
}

/// `{pk: <pk>, sk: 0, v: <v>}` — the PITR tests' item.
async fn put_v(c: &Client, table: &str, pk: &str, v: i64) {
    put(
        c,
        table,
        HashMap::from([
            ("pk".to_owned(), s(pk)),
            ("sk".to_owned(), n(0)),
            ("v".to_owned(), n(v)),
        ]),
    )
    .await;
}

async fn del_v(c: &Client, table: &str, pk: &str) {
    c.delete_item()
        .table_name(table)
        .key("pk", s(pk))
        .key("sk", n(0))
        .send()
        .await
        .expect("DeleteItem");
}

/// Items `lo..hi` of `{pk: p<i%7>, sk: i, g: g<i%2>, l: l<i>, body}` by BatchWriteItem.
async fn load(c: &Client, table: &str, lo: i64, hi: i64) {
    let items = (lo..hi)
        .map(|k| {
            HashMap::from([
                ("pk".to_owned(), s(&format!("p{}", k % 7))),
                ("sk".to_owned(), n(k)),
                ("g".to_owned(), s(&format!("g{}", k % 2))),
                ("l".to_owned(), s(&format!("l{k:05}"))),
                ("body".to_owned(), s(&"x".repeat(64 + (k % 13) as usize))),
            ])
        })
        .collect();
    common::batch_put(c, table, items).await;
}

/// Every item keyed by (pk, sk), via paged Scans.
async fn scan_all(c: &Client, table: &str) -> BTreeMap<(String, String), Item> {
    let mut out = BTreeMap::new();
    let mut start = None;
    loop {
        let page = c
            .scan()
            .table_name(table)
            .limit(50)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("Scan");
        for it in page.items() {
            let (Some(AttributeValue::S(pk)), Some(AttributeValue::N(sk))) =
                (it.get("pk"), it.get("sk"))
            else {
                panic!("item without key: {it:?}")
            };
            out.insert((pk.clone(), sk.clone()), it.clone());
        }
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return out;
        }
    }
}

/// A PITR test table's contents as pk → v.
async fn contents(c: &Client, table: &str) -> BTreeMap<String, i64> {
    scan_all(c, table)
        .await
        .into_values()
        .map(|it| {
            let (Some(AttributeValue::S(pk)), Some(AttributeValue::N(v))) =
                (it.get("pk"), it.get("v"))
            else {
                panic!("unexpected item {it:?}")
            };
            (pk.clone(), v.parse().unwrap())
        })
        .collect()
}

async fn describe_table(c: &Client, name: &str) -> TableDescription {
    c.describe_table()
        .table_name(name)
        .send()
        .await
        .expect("DescribeTable")
        .table()
        .cloned()
        .expect("Table")
}

async fn create_backup(c: &Client, table: &str, name: &str) -> String {
    let out = c
        .create_backup()
        .table_name(table)
        .backup_name(name)
        .send()
        .await
        .expect("CreateBackup");
    let d = out.backup_details().expect("BackupDetails");
    assert_eq!(d.backup_status(), &BackupStatus::Creating);
    d.backup_arn().to_owned()
}

/// Polls DescribeTable until ACTIVE (restores may take longer than the settle job).
async fn wait_active(c: &Client, name: &str) -> TableDescription {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let t = describe_table(c, name).await;
        if t.table_status() == Some(&TableStatus::Active) {
            return t;
        }
        assert_eq!(t.table_status(), Some(&TableStatus::Creating));
        assert!(
            Instant::now() < deadline,
            "table {name} never became ACTIVE"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn wait_table_gone(c: &Client, name: &str) {
    let deadline = Instant::now() + DEADLINE;
    loop {
        match c.describe_table().table_name(name).send().await {
            Err(e) if e.code() == Some("ResourceNotFoundException") => return,
            Err(e) => panic!("DescribeTable {name}: {e:?}"),
            Ok(_) => {}
        }
        assert!(Instant::now() < deadline, "table {name} never went away");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn names(list: &[BackupSummary]) -> Vec<&str> {
    list.iter().map(|b| b.backup_name().unwrap()).collect()
}

async fn enable_pitr(c: &Client, table: &str, days: Option<i32>) -> PointInTimeRecoveryDescription {
    let out = c
        .update_continuous_backups()
        .table_name(table)
        .point_in_time_recovery_specification(
            PointInTimeRecoverySpecification::builder()
                .point_in_time_recovery_enabled(true)
                .set_recovery_period_in_days(days)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("UpdateContinuousBackups");
    let d = out.continuous_backups_description().expect("description");
    assert_eq!(
        d.continuous_backups_status(),
        &ContinuousBackupsStatus::Enabled
    );
    d.point_in_time_recovery_description()
        .cloned()
        .expect("PointInTimeRecoveryDescription")
}

async fn describe_pitr(c: &Client, table: &str) -> PointInTimeRecoveryDescription {
    c.describe_continuous_backups()
        .table_name(table)
        .send()
        .await
        .expect("DescribeContinuousBackups")
        .continuous_backups_description()
        .and_then(|d| d.point_in_time_recovery_description())
        .cloned()
        .expect("PointInTimeRecoveryDescription")
}

// ---------------------------------------------------------------------------------------
// CreateBackup / DescribeBackup

#[tokio::test]
async fn create_backup_by_name_and_arn_answers_creating_then_available() {
    let (_server, c) = start();
    simple_table(&c, "Music").await;
    put(
        &c,
        "Music",
        HashMap::from([
            ("pk".to_owned(), s("a")),
            ("sk".to_owned(), n(1)),
            ("v".to_owned(), s("xyz")),
        ]),
    )
    .await;
    put_v(&c, "Music", "b", 2).await;
    let table = describe_table(&c, "Music").await;
    let size = table.table_size_bytes().expect("TableSizeBytes");
    assert!(size > 0);

    let out = c
        .create_backup()
        .table_name("Music")
        .backup_name("MusicBackup")
        .send()
        .await
        .expect("CreateBackup");
    let d = out.backup_details().expect("BackupDetails");
    let arn = d.backup_arn().to_owned();
    // table/<T>/backup/<creation ms, 14 digits>-<8 lowercase hex>
    let prefix = format!("{TABLE_ARN_PREFIX}Music/backup/0{T0}000-");
    assert!(arn.starts_with(&prefix), "{arn}");
    let suffix = &arn[prefix.len()..];
    assert_eq!(suffix.len(), 8, "{arn}");
    assert!(
        suffix
            .chars()
            .all(|ch| ch.is_ascii_digit() || ('a'..='f').contains(&ch)),
        "{arn}"
    );
    assert_eq!(d.backup_name(), "MusicBackup");
    assert_eq!(d.backup_status(), &BackupStatus::Creating);
    assert_eq!(d.backup_type(), &BackupType::User);
    // Present; the exact size is computed by the copy (DescribeBackup below).
    assert!(d.backup_size_bytes().is_some());
    assert_eq!(d.backup_creation_date_time(), &secs(T0));
    assert_eq!(d.backup_expiry_date_time(), None);

    // Written after the request: not in the backup.
    put_v(&c, "Music", "late", 3).await;
    let desc = wait_backup_available(&c, &arn, DEADLINE).await;
    let details = desc.backup_details().unwrap();
    assert_eq!(details.backup_arn(), arn);
    assert_eq!(details.backup_creation_date_time(), &secs(T0));
    assert_eq!(details.backup_size_bytes(), Some(size));
    let src = desc.source_table_details().expect("SourceTableDetails");
    assert_eq!(src.item_count(), Some(2));
    assert_eq!(src.table_size_bytes(), Some(size));

    // By table ARN; names are not unique, so a second call makes a second backup.
    let table_arn = table.table_arn().expect("TableArn").to_owned();
    assert_eq!(table_arn, format!("{TABLE_ARN_PREFIX}Music"));
    let a = create_backup(&c, &table_arn, "same").await;
    let b = create_backup(&c, &table_arn, "same").await;
    assert_ne!(a, b);
    for x in [&a, &b] {
        assert!(x.starts_with(&prefix), "{x}");
        let d = wait_backup_available(&c, x, DEADLINE).await;
        assert_eq!(d.backup_details().unwrap().backup_name(), "same");
        assert_eq!(d.source_table_details().unwrap().table_name(), "Music");
        assert_eq!(d.source_table_details().unwrap().item_count(), Some(3));
    }
}

#[tokio::test]
async fn create_backup_errors() {
    let (_server, c) = start();
    let e = service_error!(
        c.create_backup()
            .table_name("nope")
            .backup_name("bkp")
            .send()
    );
    assert!(e.is_table_not_found_exception(), "{e:?}");
    assert_eq!(e.message(), Some("Table not found: nope"));
    simple_table(&c, "tbl").await;
    // Name constraints (3–255, [a-zA-Z0-9_.-]+) are not checked by the Rust SDK: the server's
    // ValidationException reaches the caller as an unhandled (generic) error with its code.
    for bad in ["ab", "a b c"] {
        let e = service_error!(c.create_backup().table_name("tbl").backup_name(bad).send());
        assert_eq!(e.code(), Some("ValidationException"), "{bad}: {e:?}");
        assert!(
            e.message().is_some_and(|m| m.contains("backupName")),
            "{e:?}"
        );
    }
    // A table ARN from another region.
    let e = service_error!(
        c.create_backup()
            .table_name("arn:aws:dynamodb:eu-west-1:123456789012:table/tbl")
            .backup_name("x12")
            .send()
    );
    assert_eq!(e.code(), Some("ValidationException"), "{e:?}");
    // None of the failures made a backup.
    let list = c
        .list_backups()
        .backup_type(BackupTypeFilter::All)
        .send()
        .await
        .expect("ListBackups");
    assert_eq!(list.backup_summaries().len(), 0);
}

#[tokio::test]
async fn describe_backup_reports_source_table_and_feature_details() {
    let (_server, c) = start();
    indexed_table(&c, "rich").await;
    load(&c, "rich", 0, 10).await;
    simple_table(&c, "plain").await;
    let table = describe_table(&c, "rich").await;
    let rich = create_backup(&c, "rich", "full").await;
    let plain = create_backup(&c, "plain", "bare").await;

    let d = wait_backup_available(&c, &rich, DEADLINE).await;
    let src = d.source_table_details().expect("SourceTableDetails");
    assert_eq!(src.table_name(), "rich");
    assert_eq!(Some(src.table_id()), table.table_id());
    assert_eq!(src.table_arn(), table.table_arn());
    assert_eq!(src.key_schema(), pk_sk().as_slice());
    assert_eq!(src.billing_mode(), Some(&BillingMode::PayPerRequest));
    assert_eq!(src.provisioned_throughput(), Some(&throughput(0, 0)));
    assert_eq!(src.item_count(), Some(10));
    assert_eq!(src.table_size_bytes(), table.table_size_bytes());
    assert!(src.table_size_bytes().unwrap() > 10 * 64);
    assert_eq!(
        Some(src.table_creation_date_time()),
        table.creation_date_time()
    );
    let f = d
        .source_table_feature_details()
        .expect("SourceTableFeatureDetails");
    let g = f.global_secondary_indexes();
    assert_eq!(g.len(), 1, "{f:?}");
    assert_eq!(g[0].index_name(), Some("byG"));
    assert_eq!(g[0].key_schema(), [key_el("g", KeyType::Hash)]);
    assert_eq!(
        g[0].projection().and_then(|p| p.projection_type()),
        Some(&ProjectionType::All)
    );
    let l = f.local_secondary_indexes();
    assert_eq!(l.len(), 1, "{f:?}");
    assert_eq!(l[0].index_name(), Some("byL"));
    assert_eq!(
        l[0].key_schema(),
        [key_el("pk", KeyType::Hash), key_el("l", KeyType::Range)]
    );
    assert_eq!(
        l[0].projection().and_then(|p| p.projection_type()),
        Some(&ProjectionType::KeysOnly)
    );
    assert!(f.stream_description().is_none());

    // A plain table: an empty SourceTableFeatureDetails object.
    let d = wait_backup_available(&c, &plain, DEADLINE).await;
    let f = d
        .source_table_feature_details()
        .expect("SourceTableFeatureDetails");
    assert!(f.global_secondary_indexes.is_none(), "{f:?}");
    assert!(f.local_secondary_indexes.is_none(), "{f:?}");
    assert!(f.sse_description().is_none() && f.time_to_live_description().is_none());
    assert_eq!(d.source_table_details().unwrap().item_count(), Some(0));

    // A well-formed ARN of no backup; a table ARN is not a backup ARN.
    let missing = format!("{TABLE_ARN_PREFIX}rich/backup/01924992000000-00abcdef");
    assert_ne!(missing, rich);
    let e = service_error!(c.describe_backup().backup_arn(&missing).send());
    assert!(e.is_backup_not_found_exception(), "{e:?}");
    assert_eq!(
        e.message(),
        Some(format!("Backup not found: {missing}").as_str())
    );
    let e = service_error!(
        c.describe_backup()
            .backup_arn(format!(
                "{TABLE_ARN_PREFIX}rich/stream/2031-01-01T00:00:00.000"
            ))
            .send()
    );
    assert_eq!(e.code(), Some("ValidationException"), "{e:?}");
    assert_eq!(e.message(), Some("Invalid Backup ARN"));
}

// ---------------------------------------------------------------------------------------
// ListBackups

#[tokio::test]
async fn list_backups_filters_orders_and_pages() {
    let (server, c) = start();
    simple_table(&c, "tbl1").await;
    simple_table(&c, "tbl2").await;
    // nm<i> is made at T0 + 10 i.
    let mut arns = Vec::new();
    for (i, table) in ["tbl1", "tbl2", "tbl1", "tbl2", "tbl1"].iter().enumerate() {
        arns.push(create_backup(&c, table, &format!("nm{i}")).await);
        advance(&server, 10);
    }
    for arn in &arns {
        wait_backup_available(&c, arn, DEADLINE).await;
    }
    let list = |c: &Client| c.list_backups();

    let all = list(&c).send().await.expect("ListBackups");
    assert_eq!(
        names(all.backup_summaries()),
        ["nm0", "nm1", "nm2", "nm3", "nm4"]
    );
    assert!(all.last_evaluated_backup_arn().is_none());
    for (i, b) in all.backup_summaries().iter().enumerate() {
        assert_eq!(b.backup_arn(), Some(arns[i].as_str()));
        assert_eq!(
            b.backup_creation_date_time(),
            Some(&secs(T0 + 10 * i as i64))
        );
        assert_eq!(b.backup_type(), Some(&BackupType::User));
        assert_eq!(b.backup_status(), Some(&BackupStatus::Available));
        assert_eq!(b.backup_size_bytes(), Some(0));
        assert!(b.backup_expiry_date_time().is_none());
    }
    let s1 = &all.backup_summaries()[1];
    assert_eq!(s1.table_name(), Some("tbl2"));
    assert_eq!(
        s1.table_arn(),
        Some(format!("{TABLE_ARN_PREFIX}tbl2").as_str())
    );
    assert_eq!(s1.table_id(), describe_table(&c, "tbl2").await.table_id());

    // TableName filter, by name and by ARN; a table that never existed lists nothing.
    let by_name = list(&c).table_name("tbl1").send().await.unwrap();
    assert_eq!(names(by_name.backup_summaries()), ["nm0", "nm2", "nm4"]);
    let by_arn = list(&c)
        .table_name(format!("{TABLE_ARN_PREFIX}tbl2"))
        .send()
        .await
        .unwrap();
    assert_eq!(names(by_arn.backup_summaries()), ["nm1", "nm3"]);
    let never = list(&c).table_name("never").send().await.unwrap();
    assert_eq!(never.backup_summaries().len(), 0);

    // Lower bound inclusive, upper bound exclusive.
    let r = list(&c)
        .time_range_lower_bound(secs(T0 + 10))
        .time_range_upper_bound(secs(T0 + 30))
        .send()
        .await
        .unwrap();
    assert_eq!(names(r.backup_summaries()), ["nm1", "nm2"]);
    let r = list(&c)
        .time_range_lower_bound(secs(T0 + 10))
        .time_range_upper_bound(DateTime::from_millis((T0 + 30) * 1000 + 1))
        .send()
        .await
        .unwrap();
    assert_eq!(names(r.backup_summaries()), ["nm1", "nm2", "nm3"]);
    let r = list(&c)
        .time_range_lower_bound(DateTime::from_millis((T0 + 10) * 1000 + 1))
        .send()
        .await
        .unwrap();
    assert_eq!(names(r.backup_summaries()), ["nm2", "nm3", "nm4"]);
    let r = list(&c)
        .table_name("tbl1")
        .time_range_upper_bound(secs(T0 + 40))
        .send()
        .await
        .unwrap();
    assert_eq!(names(r.backup_summaries()), ["nm0", "nm2"]);
    let e = service_error!(
        list(&c)
            .time_range_lower_bound(secs(T0 + 10))
            .time_range_upper_bound(secs(T0))
            .send()
    );
    assert_eq!(e.code(), Some("ValidationException"), "{e:?}");
    assert_eq!(
        e.message(),
        Some("Time range lower bound must be less than or equal to upper bound")
    );

    // Pages of two, ascending; LastEvaluatedBackupArn only while more remain.
    let p1 = list(&c).limit(2).send().await.unwrap();
    assert_eq!(names(p1.backup_summaries()), ["nm0", "nm1"]);
    assert_eq!(p1.last_evaluated_backup_arn(), Some(arns[1].as_str()));
    let p2 = list(&c)
        .limit(2)
        .exclusive_start_backup_arn(p1.last_evaluated_backup_arn().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(names(p2.backup_summaries()), ["nm2", "nm3"]);
    assert_eq!(p2.last_evaluated_backup_arn(), Some(arns[3].as_str()));
    let p3 = list(&c)
        .limit(2)
        .exclusive_start_backup_arn(p2.last_evaluated_backup_arn().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(names(p3.backup_summaries()), ["nm4"]);
    assert!(p3.last_evaluated_backup_arn().is_none());
    let exact = list(&c).limit(5).send().await.unwrap();
    assert_eq!(exact.backup_summaries().len(), 5);
    assert!(exact.last_evaluated_backup_arn().is_none());
    // Paging combines with the table filter.
    let f1 = list(&c).table_name("tbl1").limit(2).send().await.unwrap();
    assert_eq!(names(f1.backup_summaries()), ["nm0", "nm2"]);
    assert_eq!(f1.last_evaluated_backup_arn(), Some(arns[2].as_str()));
    let f2 = list(&c)
        .table_name("tbl1")
        .limit(2)
        .exclusive_start_backup_arn(&arns[2])
        .send()
        .await
        .unwrap();
    assert_eq!(names(f2.backup_summaries()), ["nm4"]);
    assert!(f2.last_evaluated_backup_arn().is_none());

    // USER is the default; no SYSTEM backups here; ALL is USER + SYSTEM.
    let user = list(&c)
        .backup_type(BackupTypeFilter::User)
        .send()
        .await
        .unwrap();
    assert_eq!(user.backup_summaries().len(), 5);
    let system = list(&c)
        .backup_type(BackupTypeFilter::System)
        .send()
        .await
        .unwrap();
    assert_eq!(system.backup_summaries().len(), 0);
    let every = list(&c)
        .backup_type(BackupTypeFilter::All)
        .send()
        .await
        .unwrap();
    assert_eq!(every.backup_summaries().len(), 5);
    let e = service_error!(list(&c).backup_type(BackupTypeFilter::from("user")).send());
    assert_eq!(e.code(), Some("ValidationException"), "{e:?}");
}

// ---------------------------------------------------------------------------------------
// DeleteBackup and SYSTEM backups

#[tokio::test]
async fn delete_backup_answers_deleted_then_the_backup_is_gone() {
    let (_server, c) = start();
    simple_table(&c, "tbl").await;
    put_v(&c, "tbl", "a", 1).await;
    let arn = create_backup(&c, "tbl", "doomed").await;
    let keep = create_backup(&c, "tbl", "kept").await;
    wait_backup_available(&c, &arn, DEADLINE).await;
    wait_backup_available(&c, &keep, DEADLINE).await;

    let out = c
        .delete_backup()
        .backup_arn(&arn)
        .send()
        .await
        .expect("DeleteBackup");
    let d = out.backup_description().expect("BackupDescription");
    let details = d.backup_details().unwrap();
    assert_eq!(details.backup_status(), &BackupStatus::Deleted);
    assert_eq!(details.backup_arn(), arn);
    assert_eq!(details.backup_name(), "doomed");
    assert_eq!(d.source_table_details().unwrap().table_name(), "tbl");
    assert_eq!(d.source_table_details().unwrap().item_count(), Some(1));

    let gone = format!("Backup not found: {arn}");
    let e = service_error!(c.describe_backup().backup_arn(&arn).send());
    assert!(e.is_backup_not_found_exception(), "{e:?}");
    assert_eq!(e.message(), Some(gone.as_str()));
    let e = service_error!(c.delete_backup().backup_arn(&arn).send());
    assert!(e.is_backup_not_found_exception(), "{e:?}");
    assert_eq!(e.message(), Some(gone.as_str()));
    let e = service_error!(
        c.restore_table_from_backup()
            .target_table_name("back")
            .backup_arn(&arn)
            .send()
    );
    assert!(e.is_backup_not_found_exception(), "{e:?}");
    let list = c.list_backups().send().await.unwrap();
    assert_eq!(names(list.backup_summaries()), ["kept"]);
}

#[tokio::test]
async fn deleting_a_pitr_table_leaves_a_system_backup() {
    let (server, c) = start();
    simple_table(&c, "tbl").await;
    simple_table(&c, "plain").await;
    enable_pitr(&c, "tbl", None).await;
    put_v(&c, "tbl", "a", 1).await;
    put_v(&c, "tbl", "b", 2).await;
    let user = create_backup(&c, "plain", "userbk").await;
    wait_backup_available(&c, &user, DEADLINE).await;
    c.delete_table().table_name("tbl").send().await.unwrap();
    c.delete_table().table_name("plain").send().await.unwrap();
    wait_table_gone(&c, "tbl").await;
    wait_table_gone(&c, "plain").await;
    let system = || {
        c.list_backups()
            .backup_type(BackupTypeFilter::System)
            .send()
    };
    // It appears 5 virtual seconds after the delete (AWS: ~5–10 s), not before.
    assert_eq!(system().await.unwrap().backup_summaries().len(), 0);
    advance(&server, 5);

    // Hidden from the default (USER) listing.
    let default = c.list_backups().send().await.unwrap();
    assert_eq!(names(default.backup_summaries()), ["userbk"]);
    let sys = system().await.unwrap();
    let s = sys.backup_summaries();
    assert_eq!(
        names(s),
        ["tbl$DeletedTableBackup"],
        "only the PITR table gets one"
    );
    let b = &s[0];
    assert_eq!(b.backup_type(), Some(&BackupType::System));
    assert_eq!(b.backup_status(), Some(&BackupStatus::Available));
    assert_eq!(b.table_name(), Some("tbl"));
    let arn = b.backup_arn().unwrap().to_owned();
    assert!(
        arn.starts_with(&format!("{TABLE_ARN_PREFIX}tbl/backup/")),
        "{arn}"
    );
    assert!(arn.ends_with("-00000000"), "{arn}");
    // Made 5 s after the delete (the frozen clock still reads T0 then).
    let created = b.backup_creation_date_time().unwrap().secs();
    assert_eq!(b.backup_creation_date_time(), Some(&secs(T0 + 5)));
    assert_eq!(
        b.backup_expiry_date_time(),
        Some(&secs(created + 35 * 86_400))
    );
    let every = c
        .list_backups()
        .backup_type(BackupTypeFilter::All)
        .send()
        .await
        .unwrap();
    let mut all = names(every.backup_summaries());
    all.sort_unstable();
    assert_eq!(all, ["tbl$DeletedTableBackup", "userbk"]);

    // Not deletable by the user.
    let e = service_error!(c.delete_backup().backup_arn(&arn).send());
    assert_eq!(e.code(), Some("ValidationException"), "{e:?}");
    let msg = e.message().unwrap_or_default();
    assert!(
        msg.starts_with(&format!(
            "User is not allowed to delete the system backup with arn {arn}. It will automatically expire on "
        )),
        "{msg}"
    );
    let d = describe_backup(&c, &arn).await;
    assert_eq!(
        d.backup_details().unwrap().backup_type(),
        &BackupType::System
    );
    let f = d.source_table_feature_details().expect("feature details");
    assert!(f.global_secondary_indexes.is_none() && f.stream_description().is_none());

    // It restores the table as it was when deleted.
    c.restore_table_from_backup()
        .target_table_name("back")
        .backup_arn(&arn)
        .send()
        .await
        .expect("RestoreTableFromBackup");
    wait_active(&c, "back").await;
    assert_eq!(
        contents(&c, "back").await,
        BTreeMap::from([("a".into(), 1), ("b".into(), 2)])
    );
}

// ---------------------------------------------------------------------------------------
// RestoreTableFromBackup

#[tokio::test]
async fn restore_from_backup_creates_the_table_with_items_and_indexes() {
    let (_server, c) = start();
    indexed_table(&c, "src").await;
    load(&c, "src", 0, 30).await;
    let arn = create_backup(&c, "src", "bkp").await;
    wait_backup_available(&c, &arn, DEADLINE).await;
    // Changes after the backup are not restored.
    load(&c, "src", 30, 35).await;
    let mut expected = scan_all(&c, "src").await;
    expected.retain(|(_, sk), _| sk.parse::<i64>().unwrap() < 30);
    assert_eq!(expected.len(), 30);

    let out = c
        .restore_table_from_backup()
        .target_table_name("dst")
        .backup_arn(&arn)
        .send()
        .await
        .expect("RestoreTableFromBackup");
    let d = out.table_description().expect("TableDescription");
    assert_eq!(d.table_name(), Some("dst"));
    assert_eq!(d.table_status(), Some(&TableStatus::Creating));
    assert_eq!(
        d.table_arn(),
        Some(format!("{TABLE_ARN_PREFIX}dst").as_str())
    );
    let r = d.restore_summary().expect("RestoreSummary");
    assert_eq!(r.source_backup_arn(), Some(arn.as_str()));
    assert_eq!(
        r.source_table_arn(),
        Some(format!("{TABLE_ARN_PREFIX}src").as_str())
    );
    assert!(r.restore_in_progress());
    assert_eq!(r.restore_date_time(), &secs(T0));

    let t = wait_active(&c, "dst").await;
    assert!(t.restore_summary().is_none(), "{t:?}");
    assert_eq!(t.item_count(), Some(30));
    assert_ne!(t.table_id(), describe_table(&c, "src").await.table_id());
    assert_eq!(t.key_schema(), pk_sk().as_slice());
    assert_eq!(
        t.billing_mode_summary().and_then(|b| b.billing_mode()),
        Some(&BillingMode::PayPerRequest)
    );
    let gsis: Vec<_> = t
        .global_secondary_indexes()
        .iter()
        .map(|g| g.index_name())
        .collect();
    assert_eq!(gsis, [Some("byG")]);
    let lsis: Vec<_> = t
        .local_secondary_indexes()
        .iter()
        .map(|l| l.index_name())
        .collect();
    assert_eq!(lsis, [Some("byL")]);
    assert_eq!(scan_all(&c, "dst").await, expected);
    // The indexes are populated.
    let q = c
        .query()
        .table_name("dst")
        .index_name("byG")
        .key_condition_expression("g = :g")
        .expression_attribute_values(":g", s("g0"))
        .send()
        .await
        .expect("Query GSI");
    assert_eq!(q.count(), 15);
    let q = c
        .query()
        .table_name("dst")
        .index_name("byL")
        .key_condition_expression("pk = :p AND l >= :l")
        .expression_attribute_values(":p", s("p0"))
        .expression_attribute_values(":l", s("l00014"))
        .send()
        .await
        .expect("Query LSI");
    // pk p0 holds sk 0, 7, 14, 21, 28 (below 30).
    assert_eq!(q.count(), 3);
    // The restored table has PITR off.
    let p = describe_pitr(&c, "dst").await;
    assert_eq!(
        p.point_in_time_recovery_status(),
        Some(&PointInTimeRecoveryStatus::Disabled)
    );
}

#[tokio::test]
async fn restore_from_backup_overrides() {
    let (_server, c) = start();
    indexed_table(&c, "src").await;
    load(&c, "src", 0, 6).await;
    let arn = create_backup(&c, "src", "bkp").await;
    wait_backup_available(&c, &arn, DEADLINE).await;

    // An empty GSI list drops every GSI (absent keeps them; LSIs untouched).
    let out = c
        .restore_table_from_backup()
        .target_table_name("nogsi")
        .backup_arn(&arn)
        .set_global_secondary_index_override(Some(vec![]))
        .send()
        .await
        .expect("RestoreTableFromBackup nogsi");
    assert_eq!(
        out.table_description().unwrap().table_status(),
        Some(&TableStatus::Creating)
    );
    let t = wait_active(&c, "nogsi").await;
    assert!(t.global_secondary_indexes.is_none(), "{t:?}");
    assert_eq!(t.local_secondary_indexes().len(), 1);
    assert_eq!(t.item_count(), Some(6));
    assert_eq!(scan_all(&c, "nogsi").await, scan_all(&c, "src").await);

    // Billing switched to PROVISIONED with a throughput; a matching GSI entry renames.
    c.restore_table_from_backup()
        .target_table_name("rebilled")
        .backup_arn(&arn)
        .billing_mode_override(BillingMode::Provisioned)
        .provisioned_throughput_override(throughput(3, 4))
        .global_secondary_index_override(
            GlobalSecondaryIndex::builder()
                .index_name("byG2")
                .key_schema(key_el("g", KeyType::Hash))
                .projection(projection(ProjectionType::All))
                .provisioned_throughput(throughput(1, 2))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("RestoreTableFromBackup rebilled");
    let t = wait_active(&c, "rebilled").await;
    // (DescribeTable may omit BillingModeSummary for PROVISIONED, as AWS does.)
    assert_ne!(
        t.billing_mode_summary().and_then(|b| b.billing_mode()),
        Some(&BillingMode::PayPerRequest)
    );
    let p = t.provisioned_throughput().expect("ProvisionedThroughput");
    assert_eq!(
        (p.read_capacity_units(), p.write_capacity_units()),
        (Some(3), Some(4))
    );
    let g = t.global_secondary_indexes();
    assert_eq!(g.len(), 1);
    assert_eq!(g[0].index_name(), Some("byG2"));
    let gp = g[0].provisioned_throughput().unwrap();
    assert_eq!(
        (gp.read_capacity_units(), gp.write_capacity_units()),
        (Some(1), Some(2))
    );
    let q = c
        .query()
        .table_name("rebilled")
        .index_name("byG2")
        .key_condition_expression("g = :g")
        .expression_attribute_values(":g", s("g1"))
        .send()
        .await
        .expect("Query renamed GSI");
    assert_eq!(q.count(), 3);
}

#[tokio::test]
async fn restore_from_backup_errors() {
    let (_server, c) = start();
    indexed_table(&c, "src").await;
    let arn = create_backup(&c, "src", "bkp").await;
    wait_backup_available(&c, &arn, DEADLINE).await;
    let restore = |target: &str| {
        c.restore_table_from_backup()
            .target_table_name(target)
            .backup_arn(&arn)
    };

    let e = service_error!(restore("src").send());
    assert!(e.is_table_already_exists_exception(), "{e:?}");
    assert_eq!(e.message(), Some("Table already exists: src"));

    let last = if arn.ends_with('0') { '1' } else { '0' };
    let missing = format!("{}{last}", &arn[..arn.len() - 1]);
    let e = service_error!(
        c.restore_table_from_backup()
            .target_table_name("new")
            .backup_arn(&missing)
            .send()
    );
    assert!(e.is_backup_not_found_exception(), "{e:?}");
    assert_eq!(
        e.message(),
        Some(format!("Backup not found: {missing}").as_str())
    );

    let e = service_error!(
        c.restore_table_from_backup()
            .target_table_name("new")
            .backup_arn(format!("{TABLE_ARN_PREFIX}src"))
            .send()
    );
    assert_eq!(e.code(), Some("ValidationException"), "{e:?}");
    assert_eq!(e.message(), Some("Invalid Backup ARN"));

    // Override rules.
    let e = service_error!(
        restore("new")
            .provisioned_throughput_override(throughput(1, 1))
            .send()
    );
    assert_eq!(e.code(), Some("ValidationException"), "{e:?}");
    assert_eq!(
        e.message(),
        Some("Cannot override ProvisionedThroughput unless BillingMode is PROVISIONED")
    );
    let e = service_error!(
        restore("new")
            .billing_mode_override(BillingMode::Provisioned)
            .send()
    );
    assert_eq!(e.code(), Some("ValidationException"), "{e:?}");
    assert_eq!(
        e.message(),
        Some("Must override ProvisionedThroughput if BillingMode is overridden to PROVISIONED")
    );
    let e = service_error!(
        restore("new")
            .global_secondary_index_override(
                GlobalSecondaryIndex::builder()
                    .index_name("other")
                    .key_schema(key_el("g", KeyType::Hash))
                    .projection(projection(ProjectionType::KeysOnly))
                    .build()
                    .unwrap(),
            )
            .send()
    );
    assert_eq!(e.code(), Some("ValidationException"), "{e:?}");
    assert_eq!(
        e.message(),
        Some(
            "Index other does not match a secondary index that existed in the source table and \
             cannot be created during the restore operation"
        )
    );
    // Nothing was created by the failures.
    let e = service_error!(c.describe_table().table_name("new").send());
    assert!(e.is_resource_not_found_exception(), "{e:?}");
    let tables = c.list_tables().send().await.unwrap();
    assert_eq!(tables.table_names(), ["src"]);
}

/// A backup feeds one restore at a time: while the target is CREATING, a second restore from
/// it and DeleteBackup are BackupInUseException. The window is the real restore's copy time,
/// so each attempt uses a larger table until the probes land inside it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_in_use_while_its_restore_is_creating() {
    let (_server, c) = start();
    simple_table(&c, "src").await;
    let (mut seen_restore, mut seen_delete) = (false, false);
    let mut loaded = 0;
    for attempt in 0..4i64 {
        let more = 1500 * (attempt + 1);
        load(&c, "src", loaded, loaded + more).await;
        loaded += more;
        let arn = create_backup(&c, "src", &format!("big{attempt}")).await;
        wait_backup_available(&c, &arn, DEADLINE).await;
        let target = format!("dst{attempt}");
        c.restore_table_from_backup()
            .target_table_name(&target)
            .backup_arn(&arn)
            .send()
            .await
            .expect("RestoreTableFromBackup");
        let second = c
            .restore_table_from_backup()
            .target_table_name(format!("other{attempt}"))
            .backup_arn(&arn)
            .send()
            .await;
        let delete = c.delete_backup().backup_arn(&arn).send().await;
        match second {
            Err(e) => {
                let e = e.into_service_error();
                assert!(e.is_backup_in_use_exception(), "{e:?}");
                assert_eq!(
                    e.message(),
                    Some(format!("Backup is being used to restore another table: {arn}").as_str())
                );
                seen_restore = true;
            }
            // Too late: the first restore had finished; the second one is a normal restore.
            Ok(out) => assert_eq!(
                out.table_description().unwrap().table_status(),
                Some(&TableStatus::Creating)
            ),
        }
        match delete {
            Err(e) => {
                let e = e.into_service_error();
                assert!(e.is_backup_in_use_exception(), "{e:?}");
                assert_eq!(
                    e.message(),
                    Some(format!("Backup is being used to restore table: {arn}").as_str())
                );
                seen_delete = true;
            }
            Ok(out) => assert_eq!(
                out.backup_description()
                    .and_then(|d| d.backup_details())
                    .map(|d| d.backup_status()),
                Some(&BackupStatus::Deleted)
            ),
        }
        let t = wait_active(&c, &target).await;
        assert_eq!(t.item_count(), Some(loaded));
        eprintln!(
            "attempt {attempt}: {loaded} items, BackupInUse on restore {seen_restore}, on delete {seen_delete}"
        );
        if seen_restore && seen_delete {
            break;
        }
    }
    assert!(
        seen_restore && seen_delete,
        "no probe landed while a restore was CREATING ({seen_restore}, {seen_delete})"
    );
}

// ---------------------------------------------------------------------------------------
// DescribeContinuousBackups / UpdateContinuousBackups

#[tokio::test]
async fn continuous_backups_describe_and_update() {
    let (server, c) = start();
    let e = service_error!(c.describe_continuous_backups().table_name("nope").send());
    assert!(e.is_table_not_found_exception(), "{e:?}");
    assert_eq!(e.message(), Some("Table not found: nope"));
    let on = PointInTimeRecoverySpecification::builder()
        .point_in_time_recovery_enabled(true)
        .build()
        .unwrap();
    let e = service_error!(
        c.update_continuous_backups()
            .table_name("nope")
            .point_in_time_recovery_specification(on.clone())
            .send()
    );
    assert!(e.is_table_not_found_exception(), "{e:?}");
    assert_eq!(e.message(), Some("Table not found: nope"));

    simple_table(&c, "tbl").await;
    let d = c
        .describe_continuous_backups()
        .table_name("tbl")
        .send()
        .await
        .unwrap();
    let d = d.continuous_backups_description().unwrap();
    assert_eq!(
        d.continuous_backups_status(),
        &ContinuousBackupsStatus::Enabled
    );
    let p = d.point_in_time_recovery_description().unwrap();
    assert_eq!(
        p.point_in_time_recovery_status(),
        Some(&PointInTimeRecoveryStatus::Disabled)
    );
    assert_eq!(p.recovery_period_in_days(), None);
    assert_eq!(p.earliest_restorable_date_time(), None);
    assert_eq!(p.latest_restorable_date_time(), None);

    // Enabled at T0: default period 35, both bounds at the enable instant.
    let p = enable_pitr(&c, "tbl", None).await;
    assert_eq!(
        p.point_in_time_recovery_status(),
        Some(&PointInTimeRecoveryStatus::Enabled)
    );
    assert_eq!(p.recovery_period_in_days(), Some(35));
    assert_eq!(p.earliest_restorable_date_time(), Some(&secs(T0)));
    assert_eq!(p.latest_restorable_date_time(), Some(&secs(T0)));
    // Latest stays pinned for 300 s, then trails the clock by 300 s; by ARN as well.
    advance(&server, 200);
    let p = describe_pitr(&c, "tbl").await;
    assert_eq!(p.latest_restorable_date_time(), Some(&secs(T0)));
    advance(&server, 800);
    let p = describe_pitr(&c, &format!("{TABLE_ARN_PREFIX}tbl")).await;
    assert_eq!(p.earliest_restorable_date_time(), Some(&secs(T0)));
    assert_eq!(p.latest_restorable_date_time(), Some(&secs(T0 + 700)));

    // The period changes in place.
    let p = enable_pitr(&c, "tbl", Some(1)).await;
    assert_eq!(p.recovery_period_in_days(), Some(1));
    assert_eq!(p.earliest_restorable_date_time(), Some(&secs(T0)));
    // Two days later the window is the last day.
    advance(&server, 2 * 86_400);
    let p = describe_pitr(&c, "tbl").await;
    let now = T0 + 1000 + 2 * 86_400;
    assert_eq!(p.earliest_restorable_date_time(), Some(&secs(now - 86_400)));
    assert_eq!(p.latest_restorable_date_time(), Some(&secs(now - 300)));

    // Disabling with a period is refused; out-of-range periods too.
    let spec = |enabled: bool, days: i32| {
        PointInTimeRecoverySpecification::builder()
            .point_in_time_recovery_enabled(enabled)
            .recovery_period_in_days(days)
            .build()
            .unwrap()
    };
    let e = service_error!(
        c.update_continuous_backups()
            .table_name("tbl")
            .point_in_time_recovery_specification(spec(false, 35))
            .send()
    );
    assert_eq!(e.code(), Some("ValidationException"), "{e:?}");
    assert_eq!(
        e.message(),
        Some(
            "Invalid Request: Cannot specify RecoveryPeriodInDays when disabling \
             point-in-time recovery."
        )
    );
    for days in [0, 36] {
        let e = service_error!(
            c.update_continuous_backups()
                .table_name("tbl")
                .point_in_time_recovery_specification(spec(true, days))
                .send()
        );
        assert_eq!(e.code(), Some("ValidationException"), "{days}: {e:?}");
    }
    assert_eq!(
        describe_pitr(&c, "tbl").await.recovery_period_in_days(),
        Some(1)
    );

    // Disable: only the status remains; re-enabling starts a fresh window with 35 days.
    let off = c
        .update_continuous_backups()
        .table_name("tbl")
        .point_in_time_recovery_specification(
            PointInTimeRecoverySpecification::builder()
                .point_in_time_recovery_enabled(false)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let d = off.continuous_backups_description().unwrap();
    assert_eq!(
        d.continuous_backups_status(),
        &ContinuousBackupsStatus::Enabled
    );
    let p = d.point_in_time_recovery_description().unwrap();
    assert_eq!(
        p.point_in_time_recovery_status(),
        Some(&PointInTimeRecoveryStatus::Disabled)
    );
    assert_eq!(p.recovery_period_in_days(), None);
    assert_eq!(p.earliest_restorable_date_time(), None);
    advance(&server, 50);
    let p = enable_pitr(&c, "tbl", None).await;
    assert_eq!(p.recovery_period_in_days(), Some(35));
    assert_eq!(p.earliest_restorable_date_time(), Some(&secs(now + 50)));
    assert_eq!(p.latest_restorable_date_time(), Some(&secs(now + 50)));
}

// ---------------------------------------------------------------------------------------
// RestoreTableToPointInTime

/// Restores `source` (a name, or a table ARN) to `at` and returns the target's contents.
async fn restore_at(c: &Client, source: &str, target: &str, at: i64) -> BTreeMap<String, i64> {
    let req = c
        .restore_table_to_point_in_time()
        .target_table_name(target)
        .restore_date_time(secs(at));
    let req = if source.starts_with("arn:") {
        req.source_table_arn(source)
    } else {
        req.source_table_name(source)
    };
    let out = req.send().await.expect("RestoreTableToPointInTime");
    let d = out.table_description().expect("TableDescription");
    assert_eq!(d.table_status(), Some(&TableStatus::Creating));
    let r = d.restore_summary().expect("RestoreSummary");
    assert_eq!(r.restore_date_time(), &secs(at));
    assert_eq!(r.source_backup_arn(), None);
    assert!(r.restore_in_progress());
    assert_eq!(
        r.source_table_arn(),
        Some(format!("{TABLE_ARN_PREFIX}tbl").as_str())
    );
    wait_active(c, target).await;
    contents(c, target).await
}

#[tokio::test]
async fn restore_to_point_in_time_between_writes() {
    let (server, c) = start();
    simple_table(&c, "tbl").await;
    put_v(&c, "tbl", "base", 1).await;
    enable_pitr(&c, "tbl", None).await;
    // T0: {base}; T0+10: a=1; T0+20: a=2, b=1; T0+30: base deleted; T0+40: a deleted.
    advance(&server, 10);
    put_v(&c, "tbl", "a", 1).await;
    advance(&server, 10);
    put_v(&c, "tbl", "a", 2).await;
    put_v(&c, "tbl", "b", 1).await;
    advance(&server, 10);
    del_v(&c, "tbl", "base").await;
    advance(&server, 10);
    del_v(&c, "tbl", "a").await;
    advance(&server, 400); // now T0+440: Latest = T0+140
    let map = |kv: &[(&str, i64)]| -> BTreeMap<String, i64> {
        kv.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    };
    let arn = format!("{TABLE_ARN_PREFIX}tbl");
    assert_eq!(restore_at(&c, "tbl", "r00", T0).await, map(&[("base", 1)]));
    assert_eq!(
        restore_at(&c, "tbl", "r05", T0 + 5).await,
        map(&[("base", 1)])
    );
    assert_eq!(
        restore_at(&c, &arn, "r10", T0 + 10).await,
        map(&[("a", 1), ("base", 1)])
    );
    assert_eq!(
        restore_at(&c, "tbl", "r15", T0 + 15).await,
        map(&[("a", 1), ("base", 1)])
    );
    assert_eq!(
        restore_at(&c, &arn, "r25", T0 + 25).await,
        map(&[("a", 2), ("b", 1), ("base", 1)])
    );
    assert_eq!(
        restore_at(&c, "tbl", "r35", T0 + 35).await,
        map(&[("a", 2), ("b", 1)])
    );
    // Just before the last write, and at Latest.
    let before = DateTime::from_millis((T0 + 40) * 1000 - 1);
    c.restore_table_to_point_in_time()
        .source_table_name("tbl")
        .target_table_name("r39")
        .restore_date_time(before)
        .send()
        .await
        .expect("RestoreTableToPointInTime r39");
    wait_active(&c, "r39").await;
    assert_eq!(contents(&c, "r39").await, map(&[("a", 2), ("b", 1)]));
    assert_eq!(
        restore_at(&c, "tbl", "r140", T0 + 140).await,
        map(&[("b", 1)])
    );

    // UseLatestRestorableTime resolves to Latest (now - 300 s).
    let out = c
        .restore_table_to_point_in_time()
        .source_table_arn(&arn)
        .target_table_name("latest")
        .use_latest_restorable_time(true)
        .send()
        .await
        .expect("RestoreTableToPointInTime latest");
    let r = out
        .table_description()
        .and_then(|d| d.restore_summary())
        .expect("RestoreSummary");
    assert_eq!(r.restore_date_time(), &secs(T0 + 140));
    assert_eq!(r.source_table_arn(), Some(arn.as_str()));
    let t = wait_active(&c, "latest").await;
    assert!(t.restore_summary().is_none());
    assert_eq!(contents(&c, "latest").await, map(&[("b", 1)]));
    let p = describe_pitr(&c, "latest").await;
    assert_eq!(
        p.point_in_time_recovery_status(),
        Some(&PointInTimeRecoveryStatus::Disabled)
    );
    // The source is untouched.
    assert_eq!(contents(&c, "tbl").await, map(&[("b", 1)]));
}

#[tokio::test]
async fn restore_to_point_in_time_errors_in_order() {
    let (server, c) = start();
    simple_table(&c, "tbl").await;
    simple_table(&c, "other").await;
    let req = || c.restore_table_to_point_in_time();

    // 1. Shape.
    let e = service_error!(
        req()
            .source_table_name("tbl")
            .source_table_arn(format!("{TABLE_ARN_PREFIX}tbl"))
            .target_table_name("dst")
            .use_latest_restorable_time(true)
            .send()
    );
    assert_eq!(e.code(), Some("ValidationException"), "{e:?}");
    assert_eq!(
        e.message(),
        Some("Invalid Request: Exactly one of: sourceTableArn, sourceTableName must be specified")
    );
    let e = service_error!(
        req()
            .target_table_name("dst")
            .use_latest_restorable_time(true)
            .send()
    );
    assert_eq!(e.code(), Some("ValidationException"), "{e:?}");
    assert_eq!(e.message(), Some("The parameter 'TableName' is required"));
    let e = service_error!(
        req()
            .source_table_arn("not-an-arn")
            .target_table_name("dst")
            .use_latest_restorable_time(true)
            .send()
    );
    assert_eq!(e.message(), Some("sourceTableArn is not a valid ARN"));
    // Shape errors come before the source lookup (nope does not exist).
    let e = service_error!(
        req()
            .source_table_name("nope")
            .target_table_name("dst")
            .use_latest_restorable_time(true)
            .restore_date_time(secs(T0))
            .send()
    );
    assert_eq!(e.code(), Some("ValidationException"), "{e:?}");
    assert_eq!(
        e.message(),
        Some(
            "Invalid Request: Both RestoreDateTime and UseLatestRestorableTime cannot be set \
             for point-in-time restore request."
        )
    );
    let e = service_error!(
        req()
            .source_table_name("nope")
            .target_table_name("dst")
            .use_latest_restorable_time(false)
            .send()
    );
    assert_eq!(
        e.message(),
        Some(
            "Invalid Request: Either one of RestoreDateTime or UseLatestRestorableTime must be \
             specified, but not both"
        )
    );

    // 2. Source missing (before the target check: "other" exists).
    let e = service_error!(
        req()
            .source_table_name("nope")
            .target_table_name("other")
            .restore_date_time(secs(0))
            .send()
    );
    assert!(e.is_table_not_found_exception(), "{e:?}");
    assert_eq!(e.message(), Some("Table not found: nope"));

    // 3. PITR off (before the time and target checks).
    let e = service_error!(
        req()
            .source_table_name("tbl")
            .target_table_name("other")
            .restore_date_time(secs(0))
            .send()
    );
    assert!(e.is_point_in_time_recovery_unavailable_exception(), "{e:?}");
    assert_eq!(
        e.message(),
        Some("Point in time recovery is not enabled for table 'tbl'")
    );

    // 4. Time outside [Earliest, Latest] (before the target check).
    enable_pitr(&c, "tbl", None).await;
    let e = service_error!(
        req()
            .source_table_name("tbl")
            .target_table_name("other")
            .restore_date_time(secs(0))
            .send()
    );
    assert!(e.is_invalid_restore_time_exception(), "{e:?}");
    assert_eq!(
        e.message(),
        Some(
            "RestoreDateTime '1970-01-01T00:00:00Z' must be within EarliestRestorableDateTime \
             '2031-01-01T00:00:00Z' and LatestRestorableDateTime '2031-01-01T00:00:00Z'"
        )
    );
    advance(&server, 400);
    let e = service_error!(
        req()
            .source_table_arn(format!("{TABLE_ARN_PREFIX}tbl"))
            .target_table_name("dst")
            .restore_date_time(secs(T0 + 101))
            .send()
    );
    assert!(e.is_invalid_restore_time_exception(), "{e:?}");
    assert_eq!(
        e.message(),
        Some(
            "RestoreDateTime '2031-01-01T00:01:41Z' must be within EarliestRestorableDateTime \
             '2031-01-01T00:00:00Z' and LatestRestorableDateTime '2031-01-01T00:01:40Z'"
        )
    );

    // 5. Target exists (another table, or the source itself).
    for target in ["other", "tbl"] {
        let e = service_error!(
            req()
                .source_table_name("tbl")
                .target_table_name(target)
                .use_latest_restorable_time(true)
                .send()
        );
        assert!(e.is_table_already_exists_exception(), "{e:?}");
        assert_eq!(
            e.message(),
            Some(format!("Table already exists: {target}").as_str())
        );
    }
    // No failure created a table; a correct request now works.
    let tables = c.list_tables().send().await.unwrap();
    assert_eq!(tables.table_names(), ["other", "tbl"]);
    c.restore_table_to_point_in_time()
        .source_table_name("tbl")
        .target_table_name("dst")
        .restore_date_time(secs(T0 + 100))
        .send()
        .await
        .expect("RestoreTableToPointInTime");
    wait_active(&c, "dst").await;
}
