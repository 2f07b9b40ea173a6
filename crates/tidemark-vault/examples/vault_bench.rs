//! Benchmarks the vault on N MiB of table-like JSON records in a local-directory vault and
//! prints one JSON line: store, re-store, read and 1%-changed-store figures (stored with the
//! first backup as parent, and once without, for comparison) next to the machine limits
//! measured in the same run (disk write+fsync and read, and single-core FastCDC, BLAKE3,
//! zstd compression and decompression), MB = 10^6 bytes.
//!
//! `cargo run --release -p tidemark-vault --example vault_bench -- --mib 1024 --dir /tmp/x`

use std::io::{Read, Write};
use std::path::Path;
use std::time::Instant;
use tidemark_vault::{ChunkerParams, ManifestId, StoreStats, Vault, VaultOptions};

const POOL: usize = 50_000;
const ACCT: &str = "123456789012";

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

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Which records a changed table rewrites.
#[derive(Clone, Copy)]
enum Change {
    None,
    /// 1% of records, each chosen independently (updates spread over the whole key space).
    Uniform,
    /// 1% of records as runs of 100 consecutive records at random places (batch updates).
    Runs,
}

impl Change {
    fn hits(self, i: u64) -> bool {
        match self {
            Change::None => false,
            Change::Uniform => splitmix(i ^ 0xC0FFEE).is_multiple_of(100),
            Change::Runs => splitmix((i / 100) ^ 0xBEEF).is_multiple_of(100),
        }
    }
}

/// Calls `f` on records 0.. until `total` framed bytes (or exactly `count` records). A
/// changed record keeps its key but takes another template: new values, new length.
fn records(pool: &[(Vec<u8>, usize)], total: u64, count: Option<u64>, ch: Change) -> Gen<'_> {
    Gen {
        pool,
        total,
        count,
        ch,
    }
}

struct Gen<'a> {
    pool: &'a [(Vec<u8>, usize)],
    total: u64,
    count: Option<u64>,
    ch: Change,
}

impl Gen<'_> {
    fn each(&self, mut f: impl FnMut(&[u8])) -> u64 {
        let mut buf = Vec::with_capacity(512);
        let (mut done, mut i) = (0u64, 0u64);
        while self.count.map_or(done < self.total, |c| i < c) {
            let t = if self.ch.hits(i) {
                i.wrapping_mul(7919) + 13
            } else {
                i
            };
            let (t, at) = &self.pool[(t % POOL as u64) as usize];
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
        i
    }
}

/// CPU seconds (user + system) this process has used, from /proc (Linux; 100 Hz ticks).
fn cpu_secs() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return f64::NAN;
    };
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(f64::NAN))
        .collect();
    (f.get(11).copied().unwrap_or(f64::NAN) + f.get(12).copied().unwrap_or(f64::NAN)) / 100.0
}

fn mb_s(bytes: u64, secs: f64) -> f64 {
    r1(bytes as f64 / 1e6 / secs.max(1e-9))
}

fn r1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Wall and CPU seconds of `f`.
fn timed<T>(f: impl FnOnce() -> T) -> (T, f64, f64) {
    let (t, c) = (Instant::now(), cpu_secs());
    let v = f();
    (
        v,
        t.elapsed().as_secs_f64(),
        ((cpu_secs() - c) * 100.0).round() / 100.0,
    )
}

type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

fn store(
    vault: &Vault,
    g: &Gen,
    meta: u32,
    parent: Option<&ManifestId>,
) -> BenchResult<(ManifestId, StoreStats)> {
    let meta = serde_json::json!({ "bench": meta });
    let mut w = vault.writer_with_parent(ACCT, parent, meta, Some(g.total))?;
    let mut err = None;
    g.each(|r| {
        if err.is_none() {
            err = w.write_record(r).err();
        }
    });
    if let Some(e) = err {
        return Err(e.into());
    }
    Ok(w.finish()?)
}

/// Drops a file's clean pages from the page cache, so the next read comes from the device.
fn evict(path: &Path) -> std::io::Result<()> {
    let f = std::fs::File::open(path)?;
    rustix::fs::fadvise(&f, 0, None, rustix::fs::Advice::DontNeed)?;
    Ok(())
}

fn evict_dir(dir: &Path) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            evict_dir(&p)?;
        } else {
            evict(&p)?;
        }
    }
    Ok(())
}

fn read_file(path: &Path) -> std::io::Result<(u64, f64)> {
    let t = Instant::now();
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 8 << 20];
    let mut got = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok((got, t.elapsed().as_secs_f64()));
        }
        got += n as u64;
    }
}

/// Single-core limits on `sample` cut as the vault cuts it; each is the best of three runs
/// (the machine is shared, and the best run is the least disturbed, i.e. the strictest limit).
fn cpu_limits(sample: &[u8], ch: &ChunkerParams, level: i32) -> BenchResult<serde_json::Value> {
    use fastcdc::v2020::{FastCDC, Normalization};
    let n = sample.len() as u64;
    let norm = match ch.normalization {
        0 => Normalization::Level0,
        1 => Normalization::Level1,
        2 => Normalization::Level2,
        _ => Normalization::Level3,
    };
    let (min, avg, max) = (
        ch.min_size as usize,
        ch.avg_size as usize,
        ch.max_size as usize,
    );
    let cut = || FastCDC::with_level(sample, min, avg, max, norm).map(|c| (c.offset, c.length));
    let pieces: Vec<(usize, usize)> = cut().collect();
    let mut z = zstd::bulk::Compressor::new(level)?;
    let mut d = zstd::bulk::Decompressor::new()?;
    let (mut best, mut packed) = ([0f64; 4], Vec::new());
    for _ in 0..3 {
        let t = Instant::now();
        let count = cut().count();
        best[0] = best[0].max(mb_s(n, t.elapsed().as_secs_f64()));
        assert_eq!(count, pieces.len());
        let t = Instant::now();
        let mut h = 0u8;
        for &(o, l) in &pieces {
            h ^= blake3::keyed_hash(&[7; 32], &sample[o..o + l]).as_bytes()[0];
        }
        best[1] = best[1].max(mb_s(n, t.elapsed().as_secs_f64()));
        std::hint::black_box(h);
        let t = Instant::now();
        packed = pieces
            .iter()
            .map(|&(o, l)| z.compress(&sample[o..o + l]))
            .collect::<Result<Vec<_>, _>>()?;
        best[2] = best[2].max(mb_s(n, t.elapsed().as_secs_f64()));
        let mut out = Vec::with_capacity(max);
        let t = Instant::now();
        for (c, &(_, l)) in packed.iter().zip(&pieces) {
            out.clear();
            d.decompress_to_buffer(c, &mut out)?;
            assert_eq!(out.len(), l);
        }
        best[3] = best[3].max(mb_s(n, t.elapsed().as_secs_f64()));
    }
    let stored: usize = packed.iter().map(Vec::len).sum();
    // The same stages on every core at once: what this machine, as loaded as it is during
    // the run, can do at best. Store = cut, hash, compress; read = decompress, hash.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (mut store_all, mut read_all) = (0f64, 0f64);
    for _ in 0..3 {
        let t = Instant::now();
        std::thread::scope(|s| {
            for _ in 0..cores {
                s.spawn(|| {
                    let mut z = zstd::bulk::Compressor::new(level).ok();
                    let mut h = 0usize;
                    for (o, l) in cut() {
                        let c = &sample[o..o + l];
                        h ^= blake3::keyed_hash(&[7; 32], c).as_bytes()[0] as usize;
                        h ^= z
                            .as_mut()
                            .and_then(|z| z.compress(c).ok())
                            .map_or(0, |v| v.len());
                    }
                    std::hint::black_box(h);
                });
            }
        });
        store_all = store_all.max(mb_s(n * cores as u64, t.elapsed().as_secs_f64()));
        let t = Instant::now();
        std::thread::scope(|s| {
            for _ in 0..cores {
                s.spawn(|| {
                    let mut d = zstd::bulk::Decompressor::new().ok();
                    let mut out = Vec::with_capacity(max);
                    let mut h = 0u8;
                    for c in &packed {
                        out.clear();
                        let ok = d.as_mut().map(|d| d.decompress_to_buffer(c, &mut out));
                        std::hint::black_box(ok.is_some());
                        h ^= blake3::keyed_hash(&[7; 32], &out).as_bytes()[0];
                    }
                    std::hint::black_box(h);
                });
            }
        });
        read_all = read_all.max(mb_s(n * cores as u64, t.elapsed().as_secs_f64()));
    }
    Ok(serde_json::json!({
        "limit_store_stages_all_cores_mb_s": store_all,
        "limit_read_stages_all_cores_mb_s": read_all,
        "limit_fastcdc_1core_mb_s": best[0],
        "limit_blake3_1core_mb_s": best[1],
        "limit_zstd_1core_mb_s": best[2],
        "limit_unzstd_1core_mb_s": best[3],
        "limit_zstd_ratio": (n as f64 / stored.max(1) as f64 * 100.0).round() / 100.0,
    }))
}

fn main() -> BenchResult<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
    };
    let mib: u64 = arg("--mib").map(|s| s.parse()).transpose()?.unwrap_or(256);
    let dir = std::path::PathBuf::from(arg("--dir").map_or("/tmp/vault-bench", String::as_str));
    let level: i32 = arg("--level").map(|s| s.parse()).transpose()?.unwrap_or(3);
    let total = mib << 20;
    let pool = pool();
    let vault_dir = dir.join(format!("vault-{}", std::process::id()));
    let packs_dir = vault_dir.join(format!("accounts/{ACCT}/packs"));
    let opts = VaultOptions {
        zstd_level: level,
        ..VaultOptions::default()
    };
    let url = format!("file://{}", vault_dir.display());
    let vault = Vault::open(tidemark_vault::backend_from_url(&url)?, opts)?;
    let chunker = vault.config().chunker.clone();
    let base = records(&pool, total, None, Change::None);
    let mut sample = Vec::with_capacity(64 << 20);
    records(&pool, total.min(64 << 20), None, Change::None).each(|r| {
        sample.extend_from_slice(&(r.len() as u32).to_le_bytes());
        sample.extend_from_slice(r);
    });
    // CPU limits are measured right before and again after the vault runs; each figure is
    // the higher of the two, so a quieter moment on the shared machine counts against us.
    let limits_before = cpu_limits(&sample, &chunker, level)?;

    let (r, store_secs, store_cpu) = timed(|| store(&vault, &base, 1, None));
    let (id, stats) = r?;
    let count = Some(stats.records);
    let base = records(&pool, total, count, Change::None);
    let pack_bytes = |d: &Path| -> u64 {
        std::fs::read_dir(d)
            .map(|it| {
                it.filter_map(|e| e.ok()?.metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0)
    };
    let stored1 = pack_bytes(&packs_dir);

    // The same stream again: everything deduplicates, so this times chunking and hashing.
    let (r, again_secs, _) = timed(|| store(&vault, &base, 2, None));
    let (_, again) = r?;
    assert_eq!(again.new_bytes, 0, "an identical stream must deduplicate");

    // Reads start from the device: the packs were fsynced, and their pages are dropped.
    evict_dir(&vault_dir)?;
    let (r, read_secs, read_cpu) = timed(|| -> BenchResult<u64> {
        let mut read = 0u64;
        for r in vault.reader(ACCT, &id)? {
            read += r?.len() as u64 + 4;
        }
        Ok(read)
    });
    assert_eq!(r?, stats.logical_bytes, "read back a different amount");
    evict_dir(&vault_dir)?;
    let (r, read_ref_secs, _) = timed(|| -> BenchResult<u64> {
        let (mut read, mut rd) = (0u64, vault.reader(ACCT, &id)?);
        while let Some(r) = rd.next_ref() {
            read += r?.len() as u64 + 4;
        }
        Ok(read)
    });
    assert_eq!(r?, stats.logical_bytes, "read back a different amount");

    // 1% of the records changed, two ways, stored with the first backup as parent (and the
    // random pattern once more without it); each compared with the vault as it then is.
    let mut changed = serde_json::Map::new();
    let mut delta_id = None;
    for (name, ch, meta, parent) in [
        ("runs", Change::Runs, 3, Some(&id)),
        ("uniform", Change::Uniform, 4, Some(&id)),
        ("uniform_no_parent", Change::Uniform, 5, None),
    ] {
        let before = pack_bytes(&packs_dir);
        let g = records(&pool, total, count, ch);
        let mut n = 0u64;
        (0..stats.records).for_each(|i| n += u64::from(ch.hits(i)));
        let (r, secs, cpu) = timed(|| store(&vault, &g, meta, parent));
        let (cid, s) = r?;
        assert_eq!(s.parent.as_ref(), parent, "the parent must be used");
        if name == "uniform" {
            delta_id = Some((cid, s.logical_bytes));
        }
        let stored = pack_bytes(&packs_dir) - before;
        let pct = |x: u64| (x as f64 * 1e4 / s.logical_bytes as f64).round() / 1e2;
        let both = (stats.logical_bytes + s.logical_bytes) as f64;
        changed.insert(
            name.into(),
            serde_json::json!({
                "records_changed_pct": (n as f64 * 1e4 / stats.records as f64).round() / 100.0,
                "new_raw_pct": pct(s.new_bytes),
                "manifest_bytes": s.manifest_bytes,
                "manifest_extents": s.manifest_extents,
                "manifest_pct": (s.manifest_bytes as f64 * 1e5 / s.logical_bytes as f64).round() / 1e3,
                // chunks and the manifest: everything this backup added
                "new_raw_incl_manifest_pct": pct(s.new_bytes + s.manifest_bytes),
                "new_stored_pct": pct(stored),
                "parent_pct": pct(s.parent_bytes),
                "store_mb_s": mb_s(s.logical_bytes, secs),
                "store_secs": (secs * 100.0).round() / 100.0,
                "store_cpu_secs": cpu,
                // logical bytes of both backups ÷ pack bytes both needed
                "dedup_ratio": (both / (stored1 + stored) as f64 * 100.0).round() / 100.0,
                // the same without compression: logical ÷ unique raw chunk bytes
                "dedup_ratio_raw": (both / (stats.new_bytes + s.new_bytes) as f64 * 100.0).round() / 100.0,
            }),
        );
    }

    // Read of the delta backup (version 2 manifest: extents over the parent's chunks and
    // the new ones), from the device.
    let (delta_id, delta_len) = delta_id.ok_or("no delta backup")?;
    evict_dir(&vault_dir)?;
    let (r, read_delta_secs, _) = timed(|| -> BenchResult<u64> {
        let mut read = 0u64;
        for r in vault.reader(ACCT, &delta_id)? {
            read += r?.len() as u64 + 4;
        }
        Ok(read)
    });
    assert_eq!(r?, delta_len, "read back a different amount");

    // Machine limits in the same process, on the same data and size.
    let file = dir.join(format!("disk-{}", std::process::id()));
    let block: Vec<u8> = (0..8u32 << 20)
        .map(|i| splitmix(u64::from(i)) as u8)
        .collect();
    let t = Instant::now();
    let mut f = std::fs::File::create(&file)?;
    let mut written = 0u64;
    while written < stats.logical_bytes {
        f.write_all(&block)?;
        written += block.len() as u64;
    }
    f.sync_all()?;
    drop(f);
    let disk_write = mb_s(written, t.elapsed().as_secs_f64());
    evict(&file)?;
    let (got, secs) = read_file(&file)?;
    let disk_read = mb_s(got, secs);
    let (got, secs) = read_file(&file)?;
    let cache_read = mb_s(got, secs);
    std::fs::remove_file(&file)?;
    let mut limits = cpu_limits(&sample, &chunker, level)?;
    if let (Some(after), Some(before)) = (limits.as_object_mut(), limits_before.as_object()) {
        for (k, v) in after.iter_mut() {
            let b = before.get(k).and_then(serde_json::Value::as_f64);
            if let (Some(a), Some(b), true) = (v.as_f64(), b, k.ends_with("_mb_s")) {
                *v = serde_json::json!(a.max(b));
            }
        }
    }
    std::fs::remove_dir_all(&vault_dir)?;

    let mut out = serde_json::json!({
        "mib": mib,
        "zstd_level": level,
        "cores": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "logical_bytes": stats.logical_bytes,
        "records": stats.records,
        "chunks": stats.chunks,
        "pack_bytes": stored1,
        "compression_ratio": (stats.logical_bytes as f64 / stored1.max(1) as f64 * 100.0).round() / 100.0,
        "store_mb_s": mb_s(stats.logical_bytes, store_secs),
        "store_secs": (store_secs * 100.0).round() / 100.0,
        "store_cpu_secs": store_cpu,
        "store_unchanged_mb_s": mb_s(again.logical_bytes, again_secs),
        "read_mb_s": mb_s(stats.logical_bytes, read_secs),
        "read_secs": (read_secs * 100.0).round() / 100.0,
        "read_cpu_secs": read_cpu,
        "read_ref_mb_s": mb_s(stats.logical_bytes, read_ref_secs),
        "read_delta_mb_s": mb_s(delta_len, read_delta_secs),
        "changed": changed,
        "limit_disk_write_mb_s": disk_write,
        "limit_disk_read_mb_s": disk_read,
        "limit_cache_read_mb_s": cache_read,
    });
    if let (Some(o), serde_json::Value::Object(l)) = (out.as_object_mut(), limits) {
        o.extend(l);
    }
    println!("{out}");
    Ok(())
}
