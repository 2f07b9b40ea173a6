//! Starts the real `tidemark` binary on a free loopback port and builds AWS SDK clients for
//! it. Shared by the black-box integration tests.
#![allow(dead_code)] // each test file uses a different part

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_dynamodb::config::{BehaviorVersion, Region};

pub struct Server {
    pub child: Child,
    pub endpoint: String,
    pub addr: String,
}

impl Server {
    /// `tidemark serve --listen 127.0.0.1:0 <extra>`; waits for the listening line.
    pub fn start(extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tidemark"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .env_remove("TIDEMARK_AUTH")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the tidemark binary starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let mut lines = BufReader::new(stderr).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("server printed its address before exiting")
                .expect("utf-8 stderr");
            if let Some(rest) = line.strip_prefix("tidemark listening on http://") {
                break rest.trim().to_owned();
            }
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self {
            child,
            endpoint: format!("http://{addr}"),
            addr,
        }
    }

    pub fn in_memory() -> Self {
        Self::start(&["--in-memory"])
    }

    pub fn on_dir(dir: &Path) -> Self {
        Self::start(&["--data-dir", dir.to_str().expect("utf-8 temp path")])
    }

    /// SIGKILL: no chance to flush anything.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn dynamodb(&self, akid: &str, secret: &str) -> aws_sdk_dynamodb::Client {
        let conf = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(Credentials::new(akid, secret, None, None, "test"))
            .build();
        aws_sdk_dynamodb::Client::from_conf(conf)
    }

    pub fn redshift(&self, akid: &str, secret: &str) -> aws_sdk_redshift::Client {
        let conf = aws_sdk_redshift::Config::builder()
            .behavior_version(aws_sdk_redshift::config::BehaviorVersion::latest())
            .region(aws_sdk_redshift::config::Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(Credentials::new(akid, secret, None, None, "test"))
            .build();
        aws_sdk_redshift::Client::from_conf(conf)
    }

    /// A raw HTTP/1.1 exchange (admin API and malformed-request tests); returns status and body.
    pub fn http(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, String) {
        let mut s = TcpStream::connect(&self.addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).expect("write head");
        s.write_all(body).expect("write body");
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).expect("read response");
        let text = String::from_utf8_lossy(&raw).into_owned();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .expect("status line");
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        (status, body)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls DescribeTable until the table is ACTIVE (the settle job runs within ~100 ms).
pub async fn wait_table_active(client: &aws_sdk_dynamodb::Client, name: &str) {
    use aws_sdk_dynamodb::types::TableStatus;
    for _ in 0..250 {
        let d = client
            .describe_table()
            .table_name(name)
            .send()
            .await
            .expect("DescribeTable");
        if d.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("table {name} never became ACTIVE");
}

/// Creates an on-demand table keyed `pk` (S) / `sk` (N) and waits until it is ACTIVE.
pub async fn create_pk_sk_table(c: &aws_sdk_dynamodb::Client, name: &str) {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let attr = |n: &str, t| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(t)
            .build()
            .expect("valid attr")
    };
    let key = |n: &str, t| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(t)
            .build()
            .expect("valid key")
    };
    c.create_table()
        .table_name(name)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .attribute_definitions(attr("sk", ScalarAttributeType::N))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("CreateTable");
    wait_table_active(c, name).await;
}

pub type Item = std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>;

/// Puts `items` with BatchWriteItem, 25 per call, resending unprocessed items until none are
/// left.
pub async fn batch_put(c: &aws_sdk_dynamodb::Client, table: &str, items: Vec<Item>) {
    use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        let mut pending: Vec<WriteRequest> = items
            .by_ref()
            .take(25)
            .map(|item| {
                let put = PutRequest::builder()
                    .set_item(Some(item))
                    .build()
                    .expect("valid put");
                WriteRequest::builder().put_request(put).build()
            })
            .collect();
        while !pending.is_empty() {
            let out = c
                .batch_write_item()
                .request_items(table, pending)
                .send()
                .await
                .expect("BatchWriteItem");
            pending = out
                .unprocessed_items()
                .and_then(|u| u.get(table))
                .cloned()
                .unwrap_or_default();
        }
    }
}

/// `batch_put` of `item(i)` for `i` in `lo..hi`, split over `tasks` concurrent tasks.
pub async fn batch_put_parallel(
    c: &aws_sdk_dynamodb::Client,
    table: &str,
    lo: u64,
    hi: u64,
    tasks: u64,
    item: fn(u64) -> Item,
) {
    let per = (hi - lo).div_ceil(tasks.max(1));
    let mut handles = Vec::new();
    for t in 0..tasks {
        let (c, table) = (c.clone(), table.to_owned());
        let (a, b) = (lo + t * per, (lo + (t + 1) * per).min(hi));
        handles.push(tokio::spawn(async move {
            batch_put(&c, &table, (a..b).map(item).collect()).await;
        }));
    }
    for h in handles {
        h.await.expect("loader task");
    }
}

/// The table's item count, by paged `Scan` with `Select: COUNT`.
pub async fn scan_count(c: &aws_sdk_dynamodb::Client, table: &str) -> i32 {
    use aws_sdk_dynamodb::types::Select;
    let mut total = 0;
    let mut start = None;
    loop {
        let page = c
            .scan()
            .table_name(table)
            .select(Select::Count)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("Scan COUNT");
        total += page.count();
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return total;
        }
    }
}

/// DescribeBackup's BackupDescription (the call must succeed).
pub async fn describe_backup(
    c: &aws_sdk_dynamodb::Client,
    arn: &str,
) -> aws_sdk_dynamodb::types::BackupDescription {
    c.describe_backup()
        .backup_arn(arn)
        .send()
        .await
        .expect("DescribeBackup")
        .backup_description()
        .cloned()
        .expect("BackupDescription")
}

/// Polls DescribeBackup until the backup leaves CREATING (within `deadline`); it must be
/// AVAILABLE.
pub async fn wait_backup_available(
    c: &aws_sdk_dynamodb::Client,
    arn: &str,
    deadline: Duration,
) -> aws_sdk_dynamodb::types::BackupDescription {
    use aws_sdk_dynamodb::types::BackupStatus;
    let until = std::time::Instant::now() + deadline;
    loop {
        let d = describe_backup(c, arn).await;
        let status = d.backup_details().expect("details").backup_status().clone();
        if status != BackupStatus::Creating {
            assert_eq!(status, BackupStatus::Available);
            return d;
        }
        assert!(
            std::time::Instant::now() < until,
            "backup {arn} stuck in CREATING"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
