//! Kill during a backup (issue: DynamoDB backups, "Nothing lost"): the real binary is
//! SIGKILLed while a CreateBackup job is copying a table into the vault. After a restart on
//! the same data directory the interrupted backup is gone (never left CREATING), the
//! completed one is still AVAILABLE, every item of the table is intact, `tidemark vault
//! verify` finds no damage, and a new backup restores to an identical table.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, BackupStatus, TableStatus};
use common::{Item, Server, batch_put_parallel, create_pk_sk_table, scan_count};

const TABLE: &str = "big";
/// Bytes of poorly compressible payload per item: the copy must do real zstd/BLAKE3 work.
const PAYLOAD: usize = 900;
/// Items loaded per attempt; the test adds this many more when a backup is too quick to hit.
const STEP: u64 = 12_000;

/// A deterministic, poorly compressible payload for item `i` (xorshift, hex-encoded).
fn payload(i: u64) -> String {
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut s = String::with_capacity(PAYLOAD);
    while s.len() < PAYLOAD {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.push_str(&format!("{x:016x}"));
    }
    s.truncate(PAYLOAD);
    s
}

fn item(i: u64) -> Item {
    HashMap::from([
        (
            "pk".to_owned(),
            AttributeValue::S(format!("p{:04}", i % 997)),
        ),
        ("sk".to_owned(), AttributeValue::N(i.to_string())),
        ("body".to_owned(), AttributeValue::S(payload(i))),
        ("n".to_owned(), AttributeValue::N((i * 7).to_string())),
    ])
}

fn key_of(i: u64) -> Item {
    let mut k = item(i);
    k.retain(|name, _| name == "pk" || name == "sk");
    k
}

/// The backup's status, or `None` once it no longer exists.
async fn backup_status(c: &Client, arn: &str) -> Option<BackupStatus> {
    match c.describe_backup().backup_arn(arn).send().await {
        Ok(d) => Some(
            d.backup_description()
                .and_then(|b| b.backup_details())
                .map(|b| b.backup_status().clone())
                .expect("BackupDetails"),
        ),
        Err(e) => {
            let code = e.as_service_error().and_then(|s| s.meta().code());
            assert_eq!(code, Some("BackupNotFoundException"), "{e:?}");
            None
        }
    }
}

async fn create_backup(c: &Client, name: &str) -> String {
    let out = c
        .create_backup()
        .table_name(TABLE)
        .backup_name(name)
        .send()
        .await
        .expect("CreateBackup");
    let details = out.backup_details().expect("BackupDetails");
    assert_eq!(details.backup_status(), &BackupStatus::Creating);
    details.backup_arn().to_owned()
}

/// Polls until the backup leaves CREATING; returns its final status (None: discarded).
async fn settle_backup(c: &Client, arn: &str) -> Option<BackupStatus> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s = backup_status(c, arn).await;
        if s != Some(BackupStatus::Creating) {
            return s;
        }
        assert!(Instant::now() < deadline, "backup {arn} stuck in CREATING");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Every item of a table keyed by its `sk`.
async fn scan_all(c: &Client, table: &str) -> HashMap<String, Item> {
    let mut out = HashMap::new();
    let mut start = None;
    loop {
        let page = c
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("Scan");
        for it in page.items() {
            let AttributeValue::N(sk) = &it["sk"] else {
                panic!("sk is a number")
            };
            out.insert(sk.clone(), it.clone());
        }
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return out;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_a_backup_loses_nothing_and_never_leaves_it_creating() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = Server::on_dir(dir.path());
    let mut c = server.dynamodb("123456789012", "x");
    create_pk_sk_table(&c, TABLE).await;

    let mut items = 0;
    let mut killed_mid_copy = false;
    // Attempt: load more (never backed up, so nothing deduplicates) data, start a backup and
    // SIGKILL the server while DescribeBackup still says CREATING. A backup that completes
    // before the kill lands (it is AVAILABLE after the restart) proves nothing, so the next
    // attempt adds more data.
    for attempt in 0..3u64 {
        batch_put_parallel(&c, TABLE, items, items + STEP * (attempt + 1), 8, item).await;
        items += STEP * (attempt + 1);
        let arn = create_backup(&c, &format!("interrupted{attempt}")).await;
        tokio::time::sleep(Duration::from_millis(40)).await;
        let seen = backup_status(&c, &arn).await;
        server.kill();

        server = Server::on_dir(dir.path());
        c = server.dynamodb("123456789012", "x");
        // The resumed job runs at startup: never CREATING for long, and AVAILABLE only if
        // the copy had really finished before the kill.
        let after = settle_backup(&c, &arn).await;
        eprintln!("attempt {attempt}: {items} items, at kill {seen:?}, after restart {after:?}");
        assert!(
            after.is_none() || after == Some(BackupStatus::Available),
            "{after:?}"
        );
        if seen == Some(BackupStatus::Creating) && after.is_none() {
            killed_mid_copy = true;
            break;
        }
    }
    assert!(
        killed_mid_copy,
        "no attempt killed the server while a backup was copying"
    );

    // A backup completed after the restart survives another SIGKILL, with its real size.
    let complete = create_backup(&c, "complete").await;
    assert_eq!(
        settle_backup(&c, &complete).await,
        Some(BackupStatus::Available)
    );
    server.kill();
    server = Server::on_dir(dir.path());
    c = server.dynamodb("123456789012", "x");
    let d = c
        .describe_backup()
        .backup_arn(&complete)
        .send()
        .await
        .expect("DescribeBackup");
    let details = d
        .backup_description()
        .and_then(|b| b.backup_details())
        .expect("details");
    assert_eq!(details.backup_status(), &BackupStatus::Available);
    assert!(details.backup_size_bytes().unwrap_or(0) > i64::try_from(items).expect("fits") * 900);

    // No table data lost: count and a sample of items by key.
    assert_eq!(
        scan_count(&c, TABLE).await,
        i32::try_from(items).expect("fits")
    );
    for i in (0..items).step_by(997) {
        let got = c
            .get_item()
            .table_name(TABLE)
            .set_key(Some(key_of(i)))
            .consistent_read(true)
            .send()
            .await
            .expect("GetItem");
        assert_eq!(got.item(), Some(&item(i)), "item {i}");
    }

    // The vault the killed copy was writing into verifies (the server is running: verify
    // reads without taking the vault's locks; a killed writer leaves only unreferenced
    // packs, which gc reclaims and verify reports without failing).
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tidemark"))
        .args(["vault", "verify", "--vault"])
        .arg(format!("file://{}", dir.path().join("vault").display()))
        .output()
        .expect("tidemark vault verify runs");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "vault verify failed: {report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("no errors found"), "{report}");

    // The backup taken after the interrupted one restores to a table equal to the source.
    c.restore_table_from_backup()
        .target_table_name("copy")
        .backup_arn(&complete)
        .send()
        .await
        .expect("RestoreTableFromBackup");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let d = c
            .describe_table()
            .table_name("copy")
            .send()
            .await
            .expect("DescribeTable");
        if d.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
            break;
        }
        assert!(Instant::now() < deadline, "restore never became ACTIVE");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (source, copy) = (scan_all(&c, TABLE).await, scan_all(&c, "copy").await);
    assert_eq!(source.len() as u64, items);
    assert!(source == copy, "the restored table differs from its source");
    server.kill();
}
