//! Stores and reads N MiB of table-like JSON records on a local-directory vault and prints,
//! as one JSON line, the vault's MB/s next to the machine limits measured in the same run
//! (sequential disk write+read, single-core zstd at the level used, BLAKE3), MB = 10^6 bytes.
//!
//! `cargo run --release -p tidemark-vault --example vault_bench -- --mib 1024 --dir /tmp/x`

use std::io::{Read, Write};
use std::time::Instant;
use tidemark_vault::{Vault, VaultOptions, backend_from_url};

const POOL: usize = 50_000;

/// Record templates; record i is template i % POOL with its 10-digit key set to i, so the
/// stream never repeats (no accidental deduplication) yet compresses like real items.
fn pool() -> Vec<(Vec<u8>, usize)> {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let words = [
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
    ];
    (0..POOL)
        .map(|_| {
            let n = 4 + (next() % 40) as usize;
            let bio: Vec<&str> = (0..n).map(|_| words[(next() % 8) as usize]).collect();
            let rec = format!(
                r#"{{"pk":{{"S":"item#0000000000"}},"sk":{{"N":"{}"}},"price":{{"N":"{}.{:02}"}},"active":{{"BOOL":{}}},"bio":{{"S":"{}"}}}}"#,
                next() % 100_000,
                next() % 10_000,
                next() % 100,
                next() % 2 == 0,
                bio.join(" ")
            );
            let at = rec.find("item#").map(|p| p + 5).unwrap_or(0);
            (rec.into_bytes(), at)
        })
        .collect()
}

fn records(pool: &[(Vec<u8>, usize)], total: u64, mut f: impl FnMut(&[u8])) {
    let mut buf = Vec::with_capacity(512);
    let mut done = 0u64;
    let mut i = 0u64;
    while done < total {
        let (t, at) = &pool[(i % POOL as u64) as usize];
        buf.clear();
        buf.extend_from_slice(t);
        let mut k = i;
        for d in buf[*at..*at + 10].iter_mut().rev() {
            *d = b'0' + (k % 10) as u8;
            k /= 10;
        }
        f(&buf);
        done += buf.len() as u64 + 4;
        i += 1;
    }
}

/// CPU seconds (user + system) this process has used, from /proc (Linux; 100 Hz ticks).
fn cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn mb_s(bytes: u64, secs: f64) -> f64 {
    (bytes as f64 / 1e6 / secs.max(1e-9) * 10.0).round() / 10.0
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
    };
    let mib: u64 = arg("--mib").map(|s| s.parse()).transpose()?.unwrap_or(256);
    let dir = std::path::PathBuf::from(
        arg("--dir")
            .map(String::as_str)
            .unwrap_or("/tmp/vault-bench"),
    );
    let level: i32 = arg("--level").map(|s| s.parse()).transpose()?.unwrap_or(3);
    let total = mib << 20;
    let pool = pool();
    let vault_dir = dir.join(format!("vault-{}", std::process::id()));
    let opts = VaultOptions {
        zstd_level: level,
        ..VaultOptions::default()
    };
    let vault = Vault::open(
        backend_from_url(&format!("file://{}", vault_dir.display()))?,
        opts,
    )?;

    let t = Instant::now();
    let cpu0 = cpu_secs();
    let mut w = vault.writer(
        "123456789012",
        serde_json::json!({"bench": true}),
        Some(total),
    )?;
    let mut err = None;
    records(&pool, total, |r| {
        if err.is_none() {
            err = w.write_record(r).err();
        }
    });
    if let Some(e) = err {
        return Err(e.into());
    }
    let (id, stats) = w.finish()?;
    let store_secs = t.elapsed().as_secs_f64();
    let store_cpu = cpu_secs()
        .zip(cpu0)
        .map(|(b, a)| ((b - a) * 100.0).round() / 100.0);

    // The same stream again: everything deduplicates, so this times chunking and hashing.
    let t = Instant::now();
    let mut w = vault.writer("123456789012", serde_json::json!({"bench": 2}), Some(total))?;
    let mut err = None;
    records(&pool, total, |r| {
        if err.is_none() {
            err = w.write_record(r).err();
        }
    });
    if let Some(e) = err {
        return Err(e.into());
    }
    let (_, again) = w.finish()?;
    let dedup_secs = t.elapsed().as_secs_f64();
    assert_eq!(
        again.new_bytes, 0,
        "an identical stream must deduplicate fully"
    );

    let t = Instant::now();
    let mut read = 0u64;
    for r in vault.reader("123456789012", &id)? {
        read += r?.len() as u64 + 4;
    }
    let read_secs = t.elapsed().as_secs_f64();
    assert_eq!(read, stats.logical_bytes, "read back a different amount");

    // Machine limits on the same data and size.
    let file = dir.join(format!("disk-{}", std::process::id()));
    let block = vec![0x5au8; 8 << 20];
    let t = Instant::now();
    let mut f = std::fs::File::create(&file)?;
    let mut written = 0u64;
    while written < stats.logical_bytes {
        f.write_all(&block)?;
        written += block.len() as u64;
    }
    f.sync_all()?;
    let disk_write = mb_s(written, t.elapsed().as_secs_f64());
    let t = Instant::now();
    let mut f = std::fs::File::open(&file)?;
    let mut buf = vec![0u8; 8 << 20];
    let mut got = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        got += n as u64;
    }
    let disk_read = mb_s(got, t.elapsed().as_secs_f64());
    std::fs::remove_file(&file)?;

    let mut sample = Vec::with_capacity(64 << 20);
    records(&pool, total.min(64 << 20), |r| {
        sample.extend_from_slice(&(r.len() as u32).to_le_bytes());
        sample.extend_from_slice(r);
    });
    let mut z = zstd::bulk::Compressor::new(level)?;
    let t = Instant::now();
    let mut compressed = 0u64;
    for c in sample.chunks(16 << 10) {
        compressed += z.compress(c)?.len() as u64;
    }
    let zstd_mb_s = mb_s(sample.len() as u64, t.elapsed().as_secs_f64());
    let t = Instant::now();
    let mut h = 0u8;
    for c in sample.chunks(16 << 10) {
        h ^= blake3::keyed_hash(&[7; 32], c).as_bytes()[0];
    }
    let blake3_mb_s = mb_s(sample.len() as u64, t.elapsed().as_secs_f64());
    let stored = std::fs::read_dir(vault_dir.join("accounts/123456789012/packs"))?
        .map(|e| e.and_then(|e| e.metadata()).map(|m| m.len()).unwrap_or(0))
        .sum::<u64>();
    std::fs::remove_dir_all(&vault_dir)?;

    let out = serde_json::json!({
        "mib": mib,
        "zstd_level": level,
        "logical_bytes": stats.logical_bytes,
        "records": stats.records,
        "chunks": stats.chunks,
        "pack_bytes": stored,
        "compression_ratio": (stats.logical_bytes as f64 / stored.max(1) as f64 * 100.0).round() / 100.0,
        "store_mb_s": mb_s(stats.logical_bytes, store_secs),
        "store_secs": (store_secs * 100.0).round() / 100.0,
        "store_cpu_secs": store_cpu,
        "store_unchanged_mb_s": mb_s(again.logical_bytes, dedup_secs),
        "read_mb_s": mb_s(read, read_secs),
        "limit_disk_write_mb_s": disk_write,
        "limit_disk_read_mb_s": disk_read,
        "limit_zstd_1core_mb_s": zstd_mb_s,
        "limit_zstd_ratio": (sample.len() as f64 / compressed.max(1) as f64 * 100.0).round() / 100.0,
        "limit_blake3_1core_mb_s": blake3_mb_s,
        "blake3_check": h,
    });
    println!("{out}");
    Ok(())
}
