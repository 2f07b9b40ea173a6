//! Bounded work per request through the real server (docs/reliability.md): expressions are
//! compiled on the server's own 2 MiB threads, where a 449-deep ConditionExpression used to
//! overflow the stack and abort the whole process (exit 134).

mod common;

use common::Server;

const AUTH: &str = "AWS4-HMAC-SHA256 Credential=123456789012/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000";

fn call(server: &Server, op: &str, body: &str) -> (u16, String) {
    let target = format!("DynamoDB_20120810.{op}");
    let headers = [
        ("X-Amz-Target", target.as_str()),
        ("Content-Type", "application/x-amz-json-1.0"),
        ("X-Amz-Date", "20260101T000000Z"),
        ("Authorization", AUTH),
    ];
    server.http("POST", "/", &headers, body.as_bytes())
}

#[test]
fn a_deeply_nested_expression_is_refused_and_the_server_lives_on() {
    let mut server = Server::in_memory();
    // Query looks its table up before compiling expressions, so give it one.
    let (status, answer) = call(
        &server,
        "CreateTable",
        r#"{"TableName":"tbl","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}"#,
    );
    assert_eq!(status, 200, "{answer}");
    for _ in 0..100 {
        let (_, answer) = call(&server, "DescribeTable", r#"{"TableName":"tbl"}"#);
        if answer.contains(r#""TableStatus":"ACTIVE""#) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let deep = |n: usize, inner: &str| format!("{}{inner}{}", "(".repeat(n), ")".repeat(n));
    let requests = [
        (
            "PutItem",
            "ConditionExpression",
            format!(
                r#"{{"TableName":"tbl","Item":{{"pk":{{"S":"a"}}}},"ConditionExpression":"{}","ExpressionAttributeValues":{{":v":{{"S":"x"}}}}}}"#,
                deep(449, "a = :v")
            ),
        ),
        (
            "Query",
            "KeyConditionExpression",
            format!(
                r#"{{"TableName":"tbl","KeyConditionExpression":"{}","ExpressionAttributeValues":{{":v":{{"S":"x"}}}}}}"#,
                deep(445, "pk = :v")
            ),
        ),
        (
            "Scan",
            "FilterExpression",
            format!(
                r#"{{"TableName":"tbl","FilterExpression":"{}","ExpressionAttributeValues":{{":v":{{"S":"x"}}}}}}"#,
                deep(446, "a = :v")
            ),
        ),
    ];
    // PutItem also on a table that does not exist: the condition is compiled first.
    let missing = requests[0]
        .2
        .replace(r#""TableName":"tbl""#, r#""TableName":"missing""#);
    let requests = requests
        .into_iter()
        .chain([("PutItem", "ConditionExpression", missing)]);
    for (op, member, body) in requests {
        let (status, answer) = call(&server, op, &body);
        assert_eq!(status, 400, "{op}: {answer}");
        assert!(
            answer.contains("ValidationException")
                && answer.contains(&format!(
                    "Invalid {member}: The expression has too many levels of nesting"
                )),
            "{op}: {answer}"
        );
    }
    assert!(
        server.child.try_wait().expect("child status").is_none(),
        "the server exited"
    );
    let (status, answer) = call(&server, "ListTables", "{}");
    assert_eq!(status, 200, "{answer}");
}
