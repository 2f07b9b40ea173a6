//! Backups of the same table are stored against the previous one (vault parent-delta
//! stores): items unchanged since the last backup are not stored again, each backup still
//! restores exactly its own state, and deleting the older backup leaves the newer intact.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::Env;
use serde_json::{Value, json};
use tidemark_vault::{Vault, VaultOptions, backend_from_url};

const ITEMS: i64 = 3000;

fn item(sk: i64, version: u32) -> Value {
    // ~300 bytes that differ per item, so chunks do not compress to nothing.
    let noise: String = (0..12)
        .map(|i| {
            format!(
                "{:08x}",
                (sk as u64 * 2_654_435_761 + i * 97 + u64::from(version)) % 4_294_967_291
            )
        })
        .collect();
    json!({"pk": {"S": format!("p{}", sk % 37)}, "sk": {"N": sk.to_string()},
           "v": {"N": version.to_string()}, "noise": {"S": noise}})
}

fn put(env: &Env, sk: i64, version: u32) {
    env.ok(
        "PutItem",
        json!({"TableName": "inc", "Item": item(sk, version)}),
    );
}

fn backup(env: &Env, name: &str) -> String {
    let arn = env.ok(
        "CreateBackup",
        json!({"TableName": "inc", "BackupName": name}),
    )["BackupDetails"]["BackupArn"]
        .as_str()
        .unwrap()
        .to_string();
    env.settle();
    arn
}

fn scan_all(env: &Env, table: &str) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let mut start: Option<Value> = None;
    loop {
        let mut req = json!({"TableName": table});
        if let Some(s) = &start {
            req["ExclusiveStartKey"] = s.clone();
        }
        let page = env.ok("Scan", req);
        for it in page["Items"].as_array().unwrap() {
            out.insert(it["sk"]["N"].as_str().unwrap().to_string(), it.clone());
        }
        match page.get("LastEvaluatedKey") {
            Some(k) => start = Some(k.clone()),
            None => return out,
        }
    }
}

fn restore(env: &Env, arn: &str, target: &str) -> BTreeMap<String, Value> {
    env.ok(
        "RestoreTableFromBackup",
        json!({"TargetTableName": target, "BackupArn": arn}),
    );
    env.settle();
    assert_eq!(env.status(target), "ACTIVE");
    scan_all(env, target)
}

#[test]
fn a_second_backup_stores_only_the_changed_items_and_both_restore_exactly() {
    let vault = Arc::new(
        Vault::open(
            backend_from_url("memory://").unwrap(),
            VaultOptions::default(),
        )
        .unwrap(),
    );
    let env = Env::with_vault(vault.clone());
    env.simple_table("inc");
    for sk in 0..ITEMS {
        put(&env, sk, 0);
    }
    let first_state = scan_all(&env, "inc");
    let first = backup(&env, "first");
    let after_first = vault.stats().unwrap().unique_raw_bytes;

    // 1% of the items, one at a time, spread over the whole table: without record-level
    // reuse nearly every 16 KiB chunk would hold one of them.
    for sk in (0..ITEMS).step_by(100) {
        put(&env, sk, 1);
    }
    let second_state = scan_all(&env, "inc");
    assert_ne!(first_state, second_state);
    let second = backup(&env, "second");
    let added = vault.stats().unwrap().unique_raw_bytes - after_first;
    assert!(
        added * 100 <= after_first * 5,
        "the second backup added {added} raw bytes to {after_first}: more than 5%"
    );

    assert_eq!(restore(&env, &first, "r_first"), first_state);
    assert_eq!(restore(&env, &second, "r_second"), second_state);

    // The newer backup does not depend on the older one once stored.
    env.ok("DeleteBackup", json!({"BackupArn": first}));
    vault.gc().unwrap();
    assert_eq!(restore(&env, &second, "r_second_again"), second_state);
    assert!(vault.verify(true).unwrap().problems.is_empty());
}
