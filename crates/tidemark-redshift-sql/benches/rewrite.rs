//! Micro-benchmark of `rewrite`: the cost the Endpoint adds to every query.
//!
//! `cargo bench -p tidemark-redshift-sql` (release) or `cargo bench --profile dev …` (quick).
//! Prints the median of several timed batches, in nanoseconds per call.

use std::hint::black_box;
use std::time::Instant;

use tidemark_redshift_sql::rewrite;

const CASES: &[(&str, &str)] = &[
    (
        "pass-through SELECT (typical ORM query, 230 bytes)",
        "SELECT o.id, o.customer_id, o.total, o.created_at, c.name FROM orders o \
         JOIN customers c ON c.id = o.customer_id WHERE o.created_at >= $1 AND o.status = $2 \
         AND c.region IN ('eu', 'us') ORDER BY o.created_at DESC LIMIT 100",
    ),
    (
        "pass-through INSERT (3 rows)",
        "INSERT INTO events (id, kind, payload, at) VALUES (1, 'click', 'a', '2024-01-01'), \
         (2, 'view', 'b', '2024-01-02'), (3, 'buy', 'c', '2024-01-03')",
    ),
    (
        "rewritten SELECT (DATEADD, NVL, TOP)",
        "SELECT TOP 10 id, NVL(name, 'n/a'), DATEADD(day, 7, created_at) FROM users \
         WHERE DATEDIFF(week, created_at, GETDATE()) < 4 ORDER BY id",
    ),
    (
        "rewritten CREATE TABLE (Redshift DDL)",
        "CREATE TABLE sales (id BIGINT IDENTITY(1,1) ENCODE az64, region VARCHAR(MAX) ENCODE \
         zstd, amount DECIMAL(12,2) NOT NULL, sold DATE) DISTSTYLE KEY DISTKEY(region) \
         COMPOUND SORTKEY(sold, region)",
    ),
];

fn main() {
    for (name, sql) in CASES {
        // Calibrate a batch to ~20 ms, then take the median of 15 batches.
        let mut batch = 1u32;
        loop {
            let t = Instant::now();
            for _ in 0..batch {
                let _ = black_box(rewrite(black_box(sql)));
            }
            if t.elapsed().as_millis() >= 20 || batch >= 1 << 24 {
                break;
            }
            batch *= 2;
        }
        let mut per_call: Vec<f64> = (0..15)
            .map(|_| {
                let t = Instant::now();
                for _ in 0..batch {
                    let _ = black_box(rewrite(black_box(sql)));
                }
                t.elapsed().as_nanos() as f64 / f64::from(batch)
            })
            .collect();
        per_call.sort_by(f64::total_cmp);
        let changed = matches!(rewrite(sql), Ok(Some(_)));
        println!(
            "{name:<55} {:>9.0} ns/call  (rewritten: {changed})",
            per_call[per_call.len() / 2]
        );
    }
}
