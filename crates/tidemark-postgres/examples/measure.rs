//! Measures what docs/benchmarks.md reports for tidemark-postgres: template build, instance
//! start (copy + ready), idle memory, and (with `--dump-mb N`) dump and restore of N MB.
//!
//! `cargo run -p tidemark-postgres --example measure -- [--dump-mb 100]` (as root or not).

use std::os::unix::fs::PermissionsExt;
use std::time::Instant;

use tidemark_postgres::{Instance, InstanceConfig, PgBinaries, Template};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let dump_mb: u64 = args
        .iter()
        .position(|a| a == "--dump-mb")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let root = tempfile::Builder::new()
        .prefix("tmpg-measure-")
        .tempdir_in("/tmp")?;
    std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755))?;
    let bins = PgBinaries::discover(None)?;
    println!("binaries: {} ({})", bins.dir().display(), bins.version());

    let t = Instant::now();
    let template = Template::ensure(&bins, &root.path().join("templates"), "SELECT 1;")?;
    println!("template build: {:?}", t.elapsed());

    for i in 0..3 {
        let t = Instant::now();
        let d = root.path().join(format!("c{i}"));
        let inst = Instance::start(
            &bins,
            InstanceConfig::new(d.join("data"), d.join("sock"), &template),
        )?;
        let started = t.elapsed();
        inst.query("postgres", "SELECT 1")?;
        println!(
            "instance {i}: start (copy + ready) {started:?}, first answer {:?}",
            t.elapsed()
        );
        drop(inst);
    }
    let t = Instant::now();
    let d = root.path().join("c0");
    let mut inst = Instance::start(
        &bins,
        InstanceConfig::new(d.join("data"), d.join("sock"), &template),
    )?;
    println!("restart on an existing data dir: {:?}", t.elapsed());
    std::thread::sleep(std::time::Duration::from_secs(2));
    let pid = inst.pid().ok_or("not running")?;
    let (rss, pss, n) = memory(pid)?;
    println!(
        "idle: {n} processes, RSS sum {} MB, PSS sum {} MB",
        rss / 1024,
        pss / 1024
    );
    let t = Instant::now();
    inst.stop()?;
    println!("stop: {:?}", t.elapsed());
    if dump_mb > 0 {
        dump_restore(&bins, &template, root.path(), dump_mb)?;
    }
    Ok(())
}

/// Loads about `mb` MB into `dev`, then times `dump_cluster` and `restore_cluster`.
fn dump_restore(
    bins: &PgBinaries,
    template: &std::path::Path,
    root: &std::path::Path,
    mb: u64,
) -> Result<(), Box<dyn std::error::Error>> {
    let d = root.join("src");
    let src = Instance::start(
        bins,
        InstanceConfig::new(d.join("data"), d.join("sock"), template),
    )?;
    src.ensure_database("dev", "rdsdb")?;
    // About 105 bytes per row on disk (tuple header included).
    let rows = mb * 1_000_000 / 105;
    let t = Instant::now();
    src.execute(
        "dev",
        &format!(
            "CREATE TABLE big AS SELECT g AS id, md5(g::text) AS h, (g * 1.5)::numeric(14,2) AS amount, \
             timestamp '2024-01-01' + g * interval '1 second' AS ts, repeat('x', 20) AS pad \
             FROM generate_series(1, {rows}) g"
        ),
    )?;
    let size: u64 = src.query("dev", "SELECT pg_database_size('dev')")?[0][0]
        .as_deref()
        .ok_or("no size")?
        .parse()?;
    println!(
        "loaded {rows} rows in {:?}; database size {} MB",
        t.elapsed(),
        size / 1_000_000
    );
    let out = root.join("dump");
    let t = Instant::now();
    let bytes = src.dump_cluster(&out)?.bytes;
    let took = t.elapsed();
    println!(
        "dump_cluster: {took:?}, {} MB written ({:.0} MB/s of database)",
        bytes / 1_000_000,
        size as f64 / 1e6 / took.as_secs_f64()
    );
    let d = root.join("dst");
    let dst = Instance::start(
        bins,
        InstanceConfig::new(d.join("data"), d.join("sock"), template),
    )?;
    let t = Instant::now();
    dst.restore_cluster(&out)?;
    let took = t.elapsed();
    println!(
        "restore_cluster: {took:?} ({:.0} MB/s of database)",
        size as f64 / 1e6 / took.as_secs_f64()
    );
    let q = "SELECT count(*) || ' ' || sum(amount) FROM big";
    assert_eq!(src.query("dev", q)?, dst.query("dev", q)?);
    Ok(())
}

/// RSS and PSS (kB) summed over `pid` and its children, from /proc.
fn memory(pid: u32) -> Result<(u64, u64, usize), Box<dyn std::error::Error>> {
    let mut pids = vec![pid];
    for e in std::fs::read_dir("/proc")?.flatten() {
        let Some(p) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, r)| r.split_whitespace().nth(1))
            .and_then(|s| s.parse::<u32>().ok());
        if ppid == Some(pid) {
            pids.push(p);
        }
    }
    let (mut rss, mut pss) = (0, 0);
    for p in &pids {
        let text = std::fs::read_to_string(format!("/proc/{p}/smaps_rollup")).unwrap_or_default();
        for line in text.lines() {
            let mut w = line.split_whitespace();
            let (k, v) = (
                w.next(),
                w.next().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0),
            );
            match k {
                Some("Rss:") => rss += v,
                Some("Pss:") => pss += v,
                _ => {}
            }
        }
    }
    Ok((rss, pss, pids.len()))
}
