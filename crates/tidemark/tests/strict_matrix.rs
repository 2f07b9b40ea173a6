//! The strict-mode and isolation matrix (reference §1.1, §1.4, Appendix A): for every
//! operation on every resource type of both services, each SigV4 attack is refused with the
//! service's exact code and HTTP status and changes nothing; requests dated within 15 minutes
//! of the *wall* clock are accepted although the virtual clock runs a year ahead; and a
//! second account, or the owner signing for another region, sees none of the owner's
//! resources and gets AWS's not-found answers for each of them.
//!
//! The cases are generated as service × operation × attack and counted; the counts are the
//! ones quoted in docs/reliability.md ("Strict mode and isolation").

mod common;
#[path = "strict_matrix/ops.rs"]
mod ops;
#[path = "strict_matrix/wire.rs"]
mod wire;

use std::time::{Duration, SystemTime};

use aws_sdk_dynamodb::types::{
    AttributeValue, PointInTimeRecoverySpecification, Tag, TimeToLiveSpecification,
};
use common::Server;
use ops::{Expect, Fixture, Op, REGION, Svc};
use wire::{Key, Signing, Wire, sign_request};

const CREDENTIALS: &str = r#"
[[credential]]
access_key_id = "AKIDOWNER0000000001"
secret_access_key = "owner-secret"
account_id = "111111111111"
name = "owner"

[[credential]]
access_key_id = "AKIDOTHER0000000002"
secret_access_key = "other-secret"
account_id = "222222222222"
name = "other"
"#;

const OWNER: Key = Key {
    akid: "AKIDOWNER0000000001",
    secret: "owner-secret",
};
const OTHER: Key = Key {
    akid: "AKIDOTHER0000000002",
    secret: "other-secret",
};
const OTHER_REGION: &str = "us-west-2";
const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);
const MIN: Duration = Duration::from_secs(60);

/// One way of getting a request past SigV4 without the owner's consent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Attack {
    /// No `Authorization` header and no presigned query.
    NoSignature,
    /// An `Authorization` header without its `Signature=` part.
    MalformedAuthorization,
    /// An access key the credentials file does not know.
    UnknownAccessKey,
    /// The owner's access key with another secret.
    WrongSecret,
    /// Dated 16 minutes before the wall clock.
    DatedPast,
    /// Dated 16 minutes after the wall clock.
    DatedFuture,
    /// Dated at the virtual clock's "now", a year ahead of the wall clock.
    DatedAtVirtualNow,
    /// Signed over one body, another sent (one byte appended that parses the same).
    TamperedBody,
    /// The same, with the signed body's hash in a signed `x-amz-content-sha256`.
    TamperedBodyHashed,
    /// A signed header (`Host`) changed after signing.
    SignedHeaderChanged,
    /// A signed header (`x-amz-content-sha256`) removed after signing.
    SignedHeaderRemoved,
    /// DynamoDB: `X-Amz-Target` signed for DescribeLimits, sent for the operation.
    OperationSwapped,
    /// The credential scope's region rewritten after signing.
    ScopeRegionRewritten,
    /// Correctly signed, but for the other service's scope.
    ScopeOtherService,
    /// Presigned 10 minutes ago with `X-Amz-Expires=60`.
    PresignedExpired,
    /// Presigned for 20 minutes from now (beyond the 15-minute skew).
    PresignedFuture,
    /// Presigned correctly, then a query parameter added.
    PresignedParameterAdded,
    /// Signed in the `Authorization` header and presigned in the query at once.
    BothAuthMechanisms,
}

const ATTACKS: [Attack; 18] = [
    Attack::NoSignature,
    Attack::MalformedAuthorization,
    Attack::UnknownAccessKey,
    Attack::WrongSecret,
    Attack::DatedPast,
    Attack::DatedFuture,
    Attack::DatedAtVirtualNow,
    Attack::TamperedBody,
    Attack::TamperedBodyHashed,
    Attack::SignedHeaderChanged,
    Attack::SignedHeaderRemoved,
    Attack::OperationSwapped,
    Attack::ScopeRegionRewritten,
    Attack::ScopeOtherService,
    Attack::PresignedExpired,
    Attack::PresignedFuture,
    Attack::PresignedParameterAdded,
    Attack::BothAuthMechanisms,
];

const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.";

impl Attack {
    fn applies(self, svc: Svc) -> bool {
        self != Attack::OperationSwapped || svc == Svc::DynamoDb
    }

    /// `(code, HTTP status, message prefix)` as AWS answers this attack (reference §1.1:
    /// every DynamoDB auth error is a 400 under `com.amazon.coral.service#`; Redshift's are
    /// 403 but for `IncompleteSignature` and `RequestExpired`, which are 400).
    fn refusal(self, svc: Svc) -> (&'static str, u16, &'static str) {
        let ddb = svc == Svc::DynamoDb;
        let signature = if ddb {
            ("InvalidSignatureException", 400)
        } else {
            ("SignatureDoesNotMatch", 403)
        };
        let expired = if ddb {
            ("InvalidSignatureException", 400)
        } else {
            ("RequestExpired", 400)
        };
        let ((code, status), message) = match self {
            Attack::NoSignature => (
                if ddb {
                    ("MissingAuthenticationTokenException", 400)
                } else {
                    ("MissingAuthenticationToken", 403)
                },
                "Request is missing Authentication Token",
            ),
            Attack::MalformedAuthorization => (
                if ddb {
                    ("IncompleteSignatureException", 400)
                } else {
                    ("IncompleteSignature", 400)
                },
                "Authorization header requires 'Signature' parameter.",
            ),
            Attack::UnknownAccessKey => (
                if ddb {
                    ("UnrecognizedClientException", 400)
                } else {
                    ("InvalidClientTokenId", 403)
                },
                "The security token included in the request is invalid.",
            ),
            Attack::WrongSecret
            | Attack::TamperedBody
            | Attack::SignedHeaderChanged
            | Attack::SignedHeaderRemoved
            | Attack::OperationSwapped
            | Attack::ScopeRegionRewritten
            | Attack::PresignedParameterAdded => (signature, MISMATCH),
            Attack::BothAuthMechanisms => (
                if ddb {
                    ("IncompleteSignatureException", 400)
                } else {
                    ("IncompleteSignature", 400)
                },
                "Only one auth mechanism allowed",
            ),
            Attack::TamperedBodyHashed => (
                signature,
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            ),
            Attack::ScopeOtherService => (
                signature,
                if ddb {
                    "Credential should be scoped to correct service: 'dynamodb'."
                } else {
                    "Credential should be scoped to correct service: 'redshift'."
                },
            ),
            Attack::DatedPast => (expired, "Signature expired: "),
            Attack::DatedFuture | Attack::DatedAtVirtualNow | Attack::PresignedFuture => {
                (expired, "Signature not yet current: ")
            }
            Attack::PresignedExpired => (expired, "Request has expired"),
        };
        (code, status, message)
    }
}

/// Ways of signing that must be accepted: the wall-clock window in both directions, and
/// Redshift's presigned GET (reference §1.1: query-string signing MUST be accepted).
#[derive(Clone, Copy, Debug)]
enum Accepted {
    Now,
    Dated14MinutesAgo,
    Dated14MinutesAhead,
    Presigned,
}

fn wall() -> SystemTime {
    let now = tidemark_core::wall_now();
    SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(now.as_millisecond()).unwrap_or(0))
}

fn signing(key: Key, svc: Svc, region: &'static str, at: SystemTime) -> Signing {
    Signing {
        key,
        region,
        service: svc.signing_name(),
        at,
        presign: None,
        hash_header: false,
    }
}

fn attack_wire(addr: &str, op: &Op, attack: Attack) -> Wire {
    let now = wall();
    let plain = op.plain(false);
    let base = signing(OWNER, op.svc, REGION, now);
    let signed = |s: &Signing| sign_request(addr, &plain, s);
    let tamper_byte = if op.svc == Svc::DynamoDb { b' ' } else { b'&' };
    match attack {
        Attack::NoSignature => Wire::unsigned(addr, &plain),
        Attack::MalformedAuthorization => {
            let mut w = signed(&base);
            if let Some(auth) = w.header_mut("authorization") {
                let cut = auth.find(", Signature=").unwrap_or(auth.len());
                auth.truncate(cut);
            }
            w
        }
        Attack::UnknownAccessKey => signed(&Signing {
            key: Key {
                akid: "AKIDNOBODY000000009",
                secret: "owner-secret",
            },
            ..base
        }),
        Attack::WrongSecret => signed(&Signing {
            key: Key {
                akid: OWNER.akid,
                secret: "not-the-owner-secret",
            },
            ..base
        }),
        Attack::DatedPast => signed(&Signing {
            at: now - 16 * MIN,
            ..base
        }),
        Attack::DatedFuture => signed(&Signing {
            at: now + 16 * MIN,
            ..base
        }),
        Attack::DatedAtVirtualNow => signed(&Signing {
            at: now + YEAR,
            ..base
        }),
        Attack::TamperedBody => {
            let mut w = signed(&base);
            w.body.push(tamper_byte);
            w
        }
        Attack::TamperedBodyHashed => {
            let mut w = signed(&Signing {
                hash_header: true,
                ..base
            });
            w.body.push(tamper_byte);
            w
        }
        Attack::SignedHeaderChanged => {
            let mut w = signed(&base);
            if let Some(host) = w.header_mut("host") {
                *host = host.replace("127.0.0.1", "localhost");
            }
            w
        }
        Attack::SignedHeaderRemoved => {
            let mut w = signed(&Signing {
                hash_header: true,
                ..base
            });
            w.remove_header("x-amz-content-sha256");
            w
        }
        Attack::OperationSwapped => {
            let mut harmless = plain.clone();
            for (n, v) in &mut harmless.headers {
                if n == "x-amz-target" {
                    *v = "DynamoDB_20120810.DescribeLimits".to_owned();
                }
            }
            let mut w = sign_request(addr, &harmless, &base);
            let target = format!("DynamoDB_20120810.{}", op.action);
            if let Some(v) = w.header_mut("x-amz-target") {
                *v = target;
            }
            w
        }
        Attack::ScopeRegionRewritten => {
            let mut w = signed(&base);
            if let Some(auth) = w.header_mut("authorization") {
                *auth = auth.replace(&format!("/{REGION}/"), &format!("/{OTHER_REGION}/"));
            }
            w
        }
        Attack::ScopeOtherService => signed(&Signing {
            service: op.svc.other().signing_name(),
            ..base
        }),
        Attack::PresignedExpired => sign_request(
            addr,
            &op.plain(true),
            &Signing {
                at: now - 10 * MIN,
                presign: Some(MIN),
                ..base
            },
        ),
        Attack::PresignedParameterAdded => {
            let mut w = sign_request(
                addr,
                &op.plain(true),
                &Signing {
                    presign: Some(5 * MIN),
                    ..base
                },
            );
            w.query.push_str("&Marker=tampered");
            w
        }
        Attack::BothAuthMechanisms => {
            let presigned = sign_request(
                addr,
                &op.plain(false),
                &Signing {
                    presign: Some(5 * MIN),
                    ..base.clone()
                },
            );
            let mut w = signed(&base);
            w.query = presigned.query;
            w
        }
        Attack::PresignedFuture => sign_request(
            addr,
            &op.plain(true),
            &Signing {
                at: now + 20 * MIN,
                presign: Some(60 * MIN),
                ..base
            },
        ),
    }
}

fn accepted_wire(addr: &str, op: &Op, how: Accepted) -> Wire {
    let now = wall();
    let base = signing(OWNER, op.svc, REGION, now);
    match how {
        Accepted::Now => sign_request(addr, &op.plain(false), &base),
        Accepted::Dated14MinutesAgo => sign_request(
            addr,
            &op.plain(false),
            &Signing {
                at: now - 14 * MIN,
                ..base
            },
        ),
        Accepted::Dated14MinutesAhead => sign_request(
            addr,
            &op.plain(false),
            &Signing {
                at: now + 14 * MIN,
                ..base
            },
        ),
        Accepted::Presigned => sign_request(
            addr,
            &op.plain(true),
            &Signing {
                presign: Some(5 * MIN),
                ..base
            },
        ),
    }
}

/// The answer's error code (DynamoDB: the full `__type`), message and, for Redshift, the
/// `<Type>`; `None` for a success.
struct Answer {
    status: u16,
    code: Option<String>,
    message: String,
    body: String,
}

fn xml_text(body: &str, element: &str) -> Option<String> {
    let open = format!("<{element}>");
    let close = format!("</{element}>");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find(&close)? + start;
    Some(
        body[start..end]
            .replace("&apos;", "'")
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

fn answer(svc: Svc, (status, body): (u16, String)) -> Answer {
    let (code, message) = match svc {
        Svc::DynamoDb => {
            let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            let code = v["__type"].as_str().map(str::to_owned);
            let message = v["message"]
                .as_str()
                .or(v["Message"].as_str())
                .unwrap_or_default()
                .to_owned();
            (code, message)
        }
        Svc::Redshift => (
            xml_text(&body, "Code"),
            xml_text(&body, "Message").unwrap_or_default(),
        ),
    };
    Answer {
        status,
        code,
        message,
        body,
    }
}

fn check_refusal(op: &Op, attack: Attack, got: &Answer) -> Result<(), String> {
    let (code, status, message) = attack.refusal(op.svc);
    let want_code = match op.svc {
        Svc::DynamoDb => format!("com.amazon.coral.service#{code}"),
        Svc::Redshift => code.to_owned(),
    };
    let type_ok = op.svc == Svc::DynamoDb || got.body.contains("<Type>Sender</Type>");
    if got.status == status
        && got.code.as_deref() == Some(&want_code)
        && got.message.starts_with(message)
        && type_ok
    {
        Ok(())
    } else {
        Err(format!(
            "want {status} {want_code} {message:?}, got {} {}",
            got.status, got.body
        ))
    }
}

fn check_expect(svc: Svc, expect: &Expect, got: &Answer) -> Result<(), String> {
    let fail = || Err(format!("want {expect:?}, got {} {}", got.status, got.body));
    match expect {
        Expect::Ok { hides } => {
            if got.status == 200 && !hides.iter().any(|h| got.body.contains(h.as_str())) {
                Ok(())
            } else {
                fail()
            }
        }
        Expect::ItemError(code) => {
            let tag = format!("<FailureCode>{code}</FailureCode>");
            if got.status == 200 && got.body.contains(&tag) {
                Ok(())
            } else {
                fail()
            }
        }
        Expect::Error { code, status } => {
            let code_ok = match svc {
                Svc::DynamoDb => got
                    .code
                    .as_deref()
                    .is_some_and(|c| c.rsplit('#').next() == Some(*code)),
                Svc::Redshift => got.code.as_deref() == Some(*code),
            };
            if got.status == *status && code_ok {
                Ok(())
            } else {
                fail()
            }
        }
    }
}

/// What the owner can observe of its resources; equal before and after the attacks.
async fn fingerprint(server: &Server) -> String {
    let d = server.dynamodb(OWNER.akid, OWNER.secret);
    let r = server.redshift(OWNER.akid, OWNER.secret);
    let mut out = Vec::new();
    let tables = d.list_tables().send().await.expect("ListTables");
    out.push(format!("tables {:?}", tables.table_names()));
    let table = d
        .describe_table()
        .table_name("ledger")
        .send()
        .await
        .expect("DescribeTable");
    let t = table.table().expect("table");
    out.push(format!(
        "ledger {:?} protected={:?}",
        t.table_status(),
        t.deletion_protection_enabled()
    ));
    let scan = d.scan().table_name("ledger").send().await.expect("Scan");
    let mut items: Vec<String> = scan
        .items()
        .iter()
        .map(|i| {
            format!(
                "{:?}",
                i.iter().collect::<std::collections::BTreeMap<_, _>>()
            )
        })
        .collect();
    items.sort();
    out.push(format!("items {items:?}"));
    let backups = d.list_backups().send().await.expect("ListBackups");
    let arns: Vec<_> = backups
        .backup_summaries()
        .iter()
        .map(|b| (b.backup_arn().unwrap_or_default(), b.backup_status()))
        .collect();
    out.push(format!("backups {arns:?}"));
    let pitr = d
        .describe_continuous_backups()
        .table_name("ledger")
        .send()
        .await
        .expect("DescribeContinuousBackups");
    out.push(format!(
        "pitr {:?}",
        pitr.continuous_backups_description()
            .and_then(|c| c.point_in_time_recovery_description())
            .and_then(|p| p.point_in_time_recovery_status())
    ));
    let ttl = d
        .describe_time_to_live()
        .table_name("ledger")
        .send()
        .await
        .expect("DescribeTimeToLive");
    out.push(format!("ttl {:?}", ttl.time_to_live_description()));
    let tags = d
        .list_tags_of_resource()
        .resource_arn(t.table_arn().unwrap_or_default())
        .send()
        .await
        .expect("ListTagsOfResource");
    out.push(format!("table tags {:?}", tags.tags()));

    let clusters = r
        .describe_clusters()
        .send()
        .await
        .expect("DescribeClusters");
    for c in clusters.clusters() {
        out.push(format!(
            "cluster {:?} {:?} retention={:?} schedule={:?}",
            c.cluster_identifier(),
            c.cluster_status(),
            c.automated_snapshot_retention_period(),
            c.snapshot_schedule_identifier()
        ));
    }
    let snaps = r
        .describe_cluster_snapshots()
        .snapshot_type("manual")
        .send()
        .await
        .expect("DescribeClusterSnapshots");
    for s in snaps.snapshots() {
        out.push(format!(
            "snapshot {:?} {:?} retention={:?} shared={:?}",
            s.snapshot_identifier(),
            s.status(),
            s.manual_snapshot_retention_period(),
            s.accounts_with_restore_access()
        ));
    }
    let schedules = r
        .describe_snapshot_schedules()
        .send()
        .await
        .expect("DescribeSnapshotSchedules");
    for s in schedules.snapshot_schedules() {
        out.push(format!(
            "schedule {:?} {:?}",
            s.schedule_identifier(),
            s.schedule_definitions()
        ));
    }
    let tags = r.describe_tags().send().await.expect("DescribeTags");
    for t in tags.tagged_resources() {
        out.push(format!("rs tag {:?} {:?}", t.resource_name(), t.tag()));
    }
    out.join("\n")
}

async fn settle<T>(mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..400 {
        if let Some(v) = probe().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("state did not settle");
}

/// The owner's resources: one of each type, each in the state its operations act on.
async fn owner_resources(server: &Server) -> Fixture {
    let d = server.dynamodb(OWNER.akid, OWNER.secret);
    common::create_pk_sk_table(&d, "ledger").await;
    d.put_item()
        .table_name("ledger")
        .item("pk", AttributeValue::S("a".into()))
        .item("sk", AttributeValue::N("1".into()))
        .item("v", AttributeValue::S("original".into()))
        .send()
        .await
        .expect("PutItem");
    d.update_continuous_backups()
        .table_name("ledger")
        .point_in_time_recovery_specification(
            PointInTimeRecoverySpecification::builder()
                .point_in_time_recovery_enabled(true)
                .build()
                .expect("valid spec"),
        )
        .send()
        .await
        .expect("enable PITR");
    d.update_time_to_live()
        .table_name("ledger")
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name("exp")
                .build()
                .expect("valid spec"),
        )
        .send()
        .await
        .expect("enable TTL");
    let table_arn = d
        .describe_table()
        .table_name("ledger")
        .send()
        .await
        .expect("DescribeTable")
        .table()
        .and_then(|t| t.table_arn())
        .expect("table ARN")
        .to_owned();
    d.tag_resource()
        .resource_arn(&table_arn)
        .tags(
            Tag::builder()
                .key("team")
                .value("blue")
                .build()
                .expect("tag"),
        )
        .send()
        .await
        .expect("TagResource");
    let backup_arn = d
        .create_backup()
        .table_name("ledger")
        .backup_name("nightly")
        .send()
        .await
        .expect("CreateBackup")
        .backup_details()
        .map(|b| b.backup_arn().to_owned())
        .expect("backup ARN");
    common::wait_backup_available(&d, &backup_arn, Duration::from_secs(20)).await;

    let r = server.redshift(OWNER.akid, OWNER.secret);
    r.create_cluster()
        .cluster_identifier("vault-a")
        .node_type("dc2.large")
        .master_username("adminuser")
        .master_user_password("Passw0rd1")
        .send()
        .await
        .expect("CreateCluster");
    settle(async || {
        let out = r
            .describe_clusters()
            .cluster_identifier("vault-a")
            .send()
            .await
            .ok()?;
        (out.clusters()[0].cluster_status() == Some("available")).then_some(())
    })
    .await;
    let cluster_arn = format!("arn:aws:redshift:{REGION}:111111111111:cluster:vault-a");
    r.create_tags()
        .resource_name(&cluster_arn)
        .tags(
            aws_sdk_redshift::types::Tag::builder()
                .key("team")
                .value("blue")
                .build(),
        )
        .send()
        .await
        .expect("CreateTags");
    r.create_cluster_snapshot()
        .cluster_identifier("vault-a")
        .snapshot_identifier("snap-a")
        .send()
        .await
        .expect("CreateClusterSnapshot");
    settle(async || {
        let out = r
            .describe_cluster_snapshots()
            .snapshot_identifier("snap-a")
            .send()
            .await
            .ok()?;
        (out.snapshots()[0].status() == Some("available")).then_some(())
    })
    .await;
    r.authorize_snapshot_access()
        .snapshot_identifier("snap-a")
        .account_with_restore_access("333333333333")
        .send()
        .await
        .expect("AuthorizeSnapshotAccess to a third account");
    r.create_snapshot_schedule()
        .schedule_identifier("sched-a")
        .schedule_definitions("rate(12 hours)")
        .send()
        .await
        .expect("CreateSnapshotSchedule");
    Fixture {
        owner_account: "111111111111",
        table: "ledger",
        table_arn,
        backup_arn,
        cluster: "vault-a",
        cluster_arn,
        snapshot: "snap-a",
        snapshot_arn: format!("arn:aws:redshift:{REGION}:111111111111:snapshot:vault-a/snap-a"),
        schedule: "sched-a",
        schedule_arn: format!("arn:aws:redshift:{REGION}:111111111111:snapshotschedule:sched-a"),
    }
}

/// A strict server on a data directory whose virtual clock was moved a year ahead (through
/// the admin API of a permissive server on the same directory, so the strict server's own
/// admin API is not needed).
fn strict_server_a_year_ahead(dir: &tempfile::TempDir) -> Server {
    let data = dir.path().join("data");
    let data = data.to_str().expect("utf-8 temp path");
    let permissive = Server::start(&["--data-dir", data]);
    let (status, body) = permissive.http(
        "POST",
        "/_tidemark/clock",
        &[("content-type", "application/json")],
        format!(r#"{{"advance_seconds": {}}}"#, YEAR.as_secs()).as_bytes(),
    );
    assert_eq!(status, 200, "{body}");
    permissive.kill();
    let creds = dir.path().join("credentials.toml");
    std::fs::write(&creds, CREDENTIALS).expect("write credentials");
    Server::start(&[
        "--data-dir",
        data,
        "--auth",
        "strict",
        "--credentials",
        creds.to_str().expect("utf-8 temp path"),
    ])
}

#[tokio::test]
async fn strict_mode_refuses_every_attack_on_every_operation_and_isolates_accounts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = strict_server_a_year_ahead(&dir);
    let addr = server.addr.clone();
    let f = owner_resources(&server).await;

    // The virtual clock really is a year ahead: the table's creation time says so.
    let created = server
        .dynamodb(OWNER.akid, OWNER.secret)
        .describe_table()
        .table_name("ledger")
        .send()
        .await
        .expect("DescribeTable")
        .table()
        .and_then(|t| t.creation_date_time())
        .map(|t| t.secs())
        .expect("CreationDateTime");
    let wall_secs = i64::try_from(
        wall()
            .duration_since(SystemTime::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs(),
    )
    .expect("fits");
    assert!(
        created > wall_secs + 364 * 24 * 3600,
        "virtual clock not advanced: created {created}, wall {wall_secs}"
    );

    let before = fingerprint(&server).await;
    let mut all = ops::dynamodb_ops(&f);
    all.extend(ops::redshift_ops(&f));
    let mut failures = Vec::new();
    let mut refused = 0;
    for op in &all {
        for attack in ATTACKS.into_iter().filter(|a| a.applies(op.svc)) {
            let got = answer(op.svc, wire::send(&addr, &attack_wire(&addr, op, attack)));
            refused += 1;
            if let Err(e) = check_refusal(op, attack, &got) {
                failures.push(format!(
                    "{:?} {} {} × {attack:?}: {e}",
                    op.svc, op.resource, op.action
                ));
            }
        }
    }
    if fingerprint(&server).await != before {
        failures.push("a refused request changed the owner's state".to_owned());
    }

    let mut isolated = 0;
    for op in &all {
        let rows = [
            (
                "other account",
                signing(OTHER, op.svc, REGION, wall()),
                &op.foreign,
            ),
            (
                "owner in another region",
                signing(OWNER, op.svc, OTHER_REGION, wall()),
                &op.other_region,
            ),
        ];
        for (who, s, expect) in rows {
            let got = answer(
                op.svc,
                wire::send(&addr, &sign_request(&addr, &op.plain(false), &s)),
            );
            isolated += 1;
            if let Err(e) = check_expect(op.svc, expect, &got) {
                failures.push(format!(
                    "{:?} {} {} as {who}: {e}",
                    op.svc, op.resource, op.action
                ));
            }
        }
    }
    if fingerprint(&server).await != before {
        failures.push("another account or region changed the owner's state".to_owned());
    }

    let mut accepted = 0;
    for op in all.iter().filter(|op| op.read_only) {
        for how in [
            Accepted::Now,
            Accepted::Dated14MinutesAgo,
            Accepted::Dated14MinutesAhead,
            Accepted::Presigned,
        ] {
            let got = answer(op.svc, wire::send(&addr, &accepted_wire(&addr, op, how)));
            accepted += 1;
            if got.status != 200 {
                failures.push(format!(
                    "{:?} {} {} signed {how:?} by the owner: want 200, got {} {}",
                    op.svc, op.resource, op.action, got.status, got.body
                ));
            }
        }
    }
    println!(
        "strict matrix: {} operations, {refused} refused attacks, {isolated} isolation cases, {accepted} accepted signings ({} cases)",
        all.len(),
        refused + isolated + accepted
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        refused + isolated + accepted,
        failures.join("\n")
    );
}
