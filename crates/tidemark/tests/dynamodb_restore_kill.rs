//! Kill during a restore: the real binary is SIGKILLed while a RestoreTableFromBackup job is
//! writing the target (its batches are committed without waiting for an fsync; only the last
//! one, which makes the table ACTIVE, is durable). After a restart on the same data
//! directory the resumed job starts over from an emptied target, which turns ACTIVE holding
//! exactly the backup's items, with the right ItemCount: never a half-full ACTIVE table.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, TableStatus};
use common::{
    Item, Server, batch_put_parallel, create_pk_sk_table, scan_count, wait_backup_available,
};

const TABLE: &str = "big";
/// Items in the backed-up table (~1 KB each): a restore of them takes long enough to hit.
const ITEMS: u64 = 30_000;

fn item(i: u64) -> Item {
    HashMap::from([
        (
            "pk".to_owned(),
            AttributeValue::S(format!("p{:04}", i % 997)),
        ),
        ("sk".to_owned(), AttributeValue::N(i.to_string())),
        (
            "body".to_owned(),
            AttributeValue::S(format!("{i:x}").repeat(200)),
        ),
    ])
}

/// The table's status, or `None` when it does not exist.
async fn status(c: &Client, name: &str) -> Option<TableStatus> {
    match c.describe_table().table_name(name).send().await {
        Ok(d) => d.table().and_then(|t| t.table_status()).cloned(),
        Err(e) => {
            let code = e.as_service_error().and_then(|s| s.meta().code());
            assert_eq!(code, Some("ResourceNotFoundException"), "{e:?}");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_a_restore_resumes_it_from_scratch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = Server::on_dir(dir.path());
    let mut c = server.dynamodb("123456789012", "x");
    create_pk_sk_table(&c, TABLE).await;
    batch_put_parallel(&c, TABLE, 0, ITEMS, 8, item).await;
    let arn = c
        .create_backup()
        .table_name(TABLE)
        .backup_name("full")
        .send()
        .await
        .expect("CreateBackup")
        .backup_details()
        .expect("BackupDetails")
        .backup_arn()
        .to_owned();
    wait_backup_available(&c, &arn, Duration::from_secs(60)).await;

    // Attempt: restore, SIGKILL the server while the target is CREATING, restart. A restore
    // that finished before the kill proves nothing, so the next attempt kills sooner.
    let mut killed_mid_restore = false;
    for (attempt, delay_ms) in [60u64, 20, 5, 0].into_iter().enumerate() {
        let target = format!("copy{attempt}");
        c.restore_table_from_backup()
            .target_table_name(&target)
            .backup_arn(&arn)
            .send()
            .await
            .expect("RestoreTableFromBackup");
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        let seen = status(&c, &target).await;
        server.kill();
        server = Server::on_dir(dir.path());
        c = server.dynamodb("123456789012", "x");

        // The resumed job makes the target ACTIVE, holding every item, and counts them.
        let deadline = Instant::now() + Duration::from_secs(120);
        while status(&c, &target).await != Some(TableStatus::Active) {
            assert!(Instant::now() < deadline, "{target} never became ACTIVE");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let described = c
            .describe_table()
            .table_name(&target)
            .send()
            .await
            .expect("DescribeTable")
            .table()
            .and_then(|t| t.item_count());
        eprintln!("attempt {attempt}: at kill {seen:?}, ItemCount after restart {described:?}");
        assert_eq!(described, Some(i64::try_from(ITEMS).expect("fits")));
        assert_eq!(
            scan_count(&c, &target).await,
            i32::try_from(ITEMS).expect("fits")
        );
        for i in (0..ITEMS).step_by(1999) {
            let mut key = item(i);
            key.remove("body");
            let got = c
                .get_item()
                .table_name(&target)
                .set_key(Some(key))
                .consistent_read(true)
                .send()
                .await
                .expect("GetItem");
            assert_eq!(got.item(), Some(&item(i)), "{target} item {i}");
        }
        if seen == Some(TableStatus::Creating) {
            killed_mid_restore = true;
            break;
        }
    }
    assert!(
        killed_mid_restore,
        "no attempt killed the server while a restore was running"
    );
    server.kill();
}
