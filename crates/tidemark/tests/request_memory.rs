//! Bounded memory per request (docs/reliability.md, "Bounded memory per request"): large
//! DynamoDB bodies arriving together share the server's decode budget, so its peak memory
//! stays near one request's instead of growing with their number, the ones that cannot get
//! budget in time are refused with a retryable 503, and small writes go on meanwhile.

mod common;

use std::time::{Duration, Instant};

use common::Server;

const TARGET: &str = "DynamoDB_20120810.";

fn call(server: &Server, op: &str, body: &[u8]) -> (u16, String) {
    let target = format!("{TARGET}{op}");
    server.http(
        "POST",
        "/",
        &[
            ("X-Amz-Target", &target),
            ("Content-Type", "application/x-amz-json-1.0"),
            ("X-Amz-Date", "20260101T000000Z"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=123456789012/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00",
            ),
        ],
        body,
    )
}

fn create_table(server: &Server, name: &str) {
    let body = format!(
        r#"{{"TableName":"{name}","KeySchema":[{{"AttributeName":"k","KeyType":"HASH"}}],"AttributeDefinitions":[{{"AttributeName":"k","AttributeType":"S"}}],"BillingMode":"PAY_PER_REQUEST"}}"#
    );
    assert_eq!(call(server, "CreateTable", body.as_bytes()).0, 200);
}

/// Peak resident memory of the server process, in MiB (Linux `VmHWM`).
fn peak_mib(server: &Server) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id()))
        .expect("the server's /proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmHWM in kB")
        / 1024
}

/// Eight 2 MB PutItems of 150,000 one-byte list elements at once (~100 MB each to decode
/// in a debug build): before the budget the server peaked ~410 MB above idle with six of
/// them; with a 64 MiB budget they decode one at a time, and with the compact attribute
/// value the peak grew 198 MiB (the bound was 320 MiB before it), so 260 MiB is the bound.
/// Every answer is the item's own (200) or the retryable 503, and a small PutItem on
/// another table never waits behind them for long.
#[test]
fn concurrent_large_bodies_share_the_decode_budget() {
    let server = Server::start(&["--in-memory", "--decode-budget-mib", "64"]);
    create_table(&server, "big");
    create_table(&server, "small");
    let elements = vec![r#"{"NULL":true}"#; 150_000].join(",");
    let big =
        format!(r#"{{"TableName":"big","Item":{{"k":{{"S":"a"}},"l":{{"L":[{elements}]}}}}}}"#);
    let idle = peak_mib(&server);

    let (answers, slowest_small) = std::thread::scope(|s| {
        let bigs: Vec<_> = (0..8)
            .map(|_| s.spawn(|| call(&server, "PutItem", big.as_bytes())))
            .collect();
        let small = s.spawn(|| {
            let mut slowest = Duration::ZERO;
            for i in 0..20 {
                let body = format!(r#"{{"TableName":"small","Item":{{"k":{{"S":"{i}"}}}}}}"#);
                let started = Instant::now();
                assert_eq!(call(&server, "PutItem", body.as_bytes()).0, 200);
                slowest = slowest.max(started.elapsed());
                std::thread::sleep(Duration::from_millis(50));
            }
            slowest
        });
        let answers: Vec<_> = bigs.into_iter().map(|h| h.join().unwrap()).collect();
        (answers, small.join().unwrap())
    });

    let grown = peak_mib(&server).saturating_sub(idle);
    assert!(grown < 260, "peak grew by {grown} MiB");
    let mut stored = 0;
    for (status, body) in &answers {
        match status {
            200 => stored += 1,
            503 => assert_eq!(
                body,
                r#"{"__type":"com.amazon.coral.availability#ThrottlingException","message":"Rate exceeded"}"#
            ),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(stored >= 1, "at least one large write got its budget");
    assert!(
        slowest_small < Duration::from_secs(2),
        "a small write waited {slowest_small:?}"
    );
}

/// Resident memory of the server process, in MiB (Linux `VmRSS`).
fn rss_mib(server: &Server) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id()))
        .expect("the server's /proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmRSS in kB")
        / 1024
}

/// Memory returns after large requests: mimalloc's default kept freed pages until it was
/// next busy, so an idle server stayed 100–500 MiB above its start after a burst; the server
/// now runs with `MIMALLOC_PURGE_DELAY=0` (tidemark-wire/src/allocator.rs) and is back
/// within a few MiB a second later.
#[test]
fn memory_returns_after_large_requests() {
    let server = Server::start(&["--in-memory"]);
    create_table(&server, "big");
    let elements = vec![r#"{"NULL":true}"#; 300_000].join(",");
    let big =
        format!(r#"{{"TableName":"big","Item":{{"k":{{"S":"a"}},"l":{{"L":[{elements}]}}}}}}"#);
    let idle = rss_mib(&server);
    for _ in 0..3 {
        let (status, body) = call(&server, "PutItem", big.as_bytes());
        assert_eq!(status, 400, "{body}");
        assert!(body.contains("Item size has exceeded"), "{body}");
    }
    let grown = peak_mib(&server).saturating_sub(idle);
    assert!(
        grown >= 15,
        "the requests cost memory: peak grew {grown} MiB"
    );
    std::thread::sleep(Duration::from_millis(1500));
    let after = rss_mib(&server);
    assert!(
        after <= idle + 12,
        "RSS {after} MiB a second after, {idle} MiB before (peak +{grown} MiB)"
    );
}
