//! The strict-mode and isolation matrix (reference §1.1, §1.4, Appendix A): for every
//! operation on every resource type of both services, each SigV4 attack is refused with the
//! service's exact code and HTTP status and changes nothing; requests dated within 15 minutes
//! of the *wall* clock are accepted although the virtual clock runs a year ahead; and a
//! second account, or the owner signing for another region, sees none of the owner's
//! resources and gets AWS's not-found answers for each of them; the account the owner's
//! snapshot is shared with sees and restores that snapshot and nothing else.
//!
//! The cases are generated as service × operation × attack and counted; the counts are the
//! ones quoted in docs/reliability.md ("Strict mode and isolation").

#[path = "strict_matrix/attacks.rs"]
mod attacks;
mod common;
#[path = "strict_matrix/ops.rs"]
mod ops;
#[path = "strict_matrix/owner.rs"]
mod owner;
#[path = "strict_matrix/wire.rs"]
mod wire;

use std::time::{Duration, SystemTime};

use attacks::{ATTACKS, Accepted, Attack, accepted_wire, attack_wire, signing, wall};
use common::Server;
use ops::{Expect, Op, REGION, Svc};
use owner::{fingerprint, owner_resources};
use wire::{Key, sign_request};

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

[[credential]]
access_key_id = "AKIDGRANTEE00000003"
secret_access_key = "grantee-secret"
account_id = "333333333333"
name = "grantee"
"#;

const OWNER: Key = Key {
    akid: "AKIDOWNER0000000001",
    secret: "owner-secret",
};
const OTHER: Key = Key {
    akid: "AKIDOTHER0000000002",
    secret: "other-secret",
};
const GRANTEE: Key = Key {
    akid: "AKIDGRANTEE00000003",
    secret: "grantee-secret",
};
const OTHER_REGION: &str = "us-west-2";
const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);
const MIN: Duration = Duration::from_secs(60);

/// One response: status, error code (DynamoDB: the full `__type`; `None` for a success),
/// message and the raw body.
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
        Expect::Shows { shows, hides } => {
            if got.status == 200
                && shows.iter().all(|h| got.body.contains(h.as_str()))
                && !hides.iter().any(|h| got.body.contains(h.as_str()))
            {
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
            // Modelled DynamoDB errors live in the service namespace, validation in Coral's
            // (reference §1.2); Redshift client errors are `Sender` faults (§1.3).
            let code_ok = match svc {
                // AccessDeniedException is the Coral framework's, with its fixed message under
                // `Message` (Appendix A, §1.2).
                Svc::DynamoDb => {
                    let namespace = match *code {
                        "ValidationException" => "com.amazon.coral.validate",
                        "AccessDeniedException" => "com.amazon.coral.service",
                        _ => "com.amazonaws.dynamodb.v20120810",
                    };
                    got.code.as_deref() == Some(&format!("{namespace}#{code}"))
                        && (*code != "AccessDeniedException"
                            || got.body.contains(r#""Message":"Access is denied""#))
                }
                Svc::Redshift => {
                    got.code.as_deref() == Some(*code) && got.body.contains("<Type>Sender</Type>")
                }
            };
            if got.status == *status && code_ok {
                Ok(())
            } else {
                fail()
            }
        }
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
            (
                "grantee",
                signing(GRANTEE, op.svc, REGION, wall()),
                &op.grantee,
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
        failures
            .push("another account, region or the grantee changed the owner's state".to_owned());
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
