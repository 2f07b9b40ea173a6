//! A damaged vault: two backups (the second stored against the first) are written to an
//! in-memory object store, then the input damages its objects — the config, manifests,
//! indexes and packs — byte by byte (flip, set, truncate, extend). `verify --read-data` and
//! reading every backup must report the damage, never panic, hang or allocate without bound.
#![no_main]

use std::sync::Arc;

use futures::StreamExt;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use object_store::memory::InMemory;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use tidemark_vault::{ChunkerParams, Vault, VaultOptions};

const ACCT: &str = "210987654321";

#[derive(Arbitrary, Debug)]
enum Damage {
    Flip { offset: u32, bit: u8 },
    Set { offset: u32, value: u8 },
    Truncate { len: u32 },
    Extend { bytes: Vec<u8> },
}

#[derive(Arbitrary, Debug)]
struct Input {
    damage: Vec<(u8, Damage)>,
}

fn record(i: u64) -> Vec<u8> {
    format!(
        r#"{{"pk":{{"S":"user#{i:06}"}},"v":{{"N":"{}"}}}}"#,
        i * 7919 % 1000
    )
    .into_bytes()
}

fn opts() -> VaultOptions {
    VaultOptions {
        chunker: ChunkerParams {
            min_size: 256,
            avg_size: 1024,
            max_size: 4096,
            ..ChunkerParams::default()
        },
        pack_target_size: 8 * 1024,
        retries: 0,
        lock_stale_after: std::time::Duration::ZERO,
        ..VaultOptions::default()
    }
}

fn damaged(bytes: &[u8], d: &Damage) -> Vec<u8> {
    let mut b = bytes.to_vec();
    match d {
        Damage::Flip { offset, bit } if !b.is_empty() => {
            let i = *offset as usize % b.len();
            b[i] ^= 1 << (bit % 8);
        }
        Damage::Set { offset, value } if !b.is_empty() => {
            let i = *offset as usize % b.len();
            b[i] = *value;
        }
        Damage::Truncate { len } => b.truncate(*len as usize % (b.len() + 1)),
        Damage::Extend { bytes } => b.extend_from_slice(bytes),
        _ => {}
    }
    b
}

fuzz_target!(|input: Input| {
    let mem = Arc::new(InMemory::new());
    let vault = Vault::open(mem.clone(), opts()).expect("a fresh in-memory vault opens");
    let mut w = vault
        .writer(ACCT, serde_json::json!({"n": 1}), None)
        .expect("writer");
    for i in 0..300 {
        w.write_record(&record(i)).expect("write");
    }
    let (a, _) = w.finish().expect("finish");
    let mut w = vault
        .writer_with_parent(ACCT, Some(&a), serde_json::json!({"n": 2}), None)
        .expect("writer");
    for i in 0..300 {
        w.write_record(&record(if i % 50 == 0 { i + 1000 } else { i }))
            .expect("write");
    }
    let (b, _) = w.finish().expect("finish");

    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut keys: Vec<_> = mem
            .list(None)
            .map(|m| m.expect("in-memory list").location)
            .collect()
            .await;
        keys.sort();
        for (which, d) in input.damage.iter().take(8) {
            let key = &keys[*which as usize % keys.len()];
            let bytes = mem
                .get(key)
                .await
                .expect("get")
                .bytes()
                .await
                .expect("bytes");
            let new = damaged(&bytes, d);
            mem.put(key, PutPayload::from(new)).await.expect("put");
        }
    });
    drop(rt);

    let _ = vault.verify(true);
    for id in [&a, &b] {
        if let Ok(mut r) = vault.reader(ACCT, id) {
            while let Some(rec) = r.next_ref() {
                if rec.is_err() {
                    break;
                }
            }
        }
    }
    // A vault reopened over damaged objects (its config among them) refuses or opens.
    if let Ok(v) = Vault::open(mem, opts()) {
        let _ = v.list(ACCT);
    }
});
