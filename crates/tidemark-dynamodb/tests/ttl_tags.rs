//! TTL (UpdateTimeToLive/DescribeTimeToLive and the sweeper on the virtual clock) and tags
//! (TagResource/UntagResource/ListTagsOfResource) — the settings restores drop (reference
//! §4.3 "settings that restores drop").

mod common;

use common::Env;
use serde_json::json;

#[test]
fn expired_items_disappear_as_the_clock_passes_their_ttl() {
    let env = Env::new();
    env.engine.set_frozen(true).unwrap();
    env.simple_table("tbl");
    let d = env.ok("DescribeTimeToLive", json!({"TableName": "tbl"}));
    assert_eq!(d["TimeToLiveDescription"]["TimeToLiveStatus"], "DISABLED");
    let out = env.ok("UpdateTimeToLive", json!({"TableName": "tbl", "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "exp"}}));
    assert_eq!(
        out["TimeToLiveSpecification"],
        json!({"Enabled": true, "AttributeName": "exp"})
    );
    assert_eq!(
        env.err("UpdateTimeToLive", json!({"TableName": "tbl", "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "exp"}})).1,
        "TimeToLive is already enabled"
    );
    let now = env.engine.now().as_second();
    let put = |sk: i64, exp: serde_json::Value| {
        env.ok("PutItem", json!({"TableName": "tbl", "Item": {"pk": {"S": "a"}, "sk": {"N": sk.to_string()}, "exp": exp}}));
    };
    put(1, json!({"N": (now + 100).to_string()}));
    put(2, json!({"N": (now + 100_000).to_string()}));
    put(3, json!({"S": "not a number: never expires"}));
    put(4, json!({"N": (now - 6 * 365 * 86_400).to_string()}));
    env.settle();
    assert_eq!(env.ok("Scan", json!({"TableName": "tbl"}))["Count"], 4);
    // The sweeper wakes at the earliest expiry it saw: 100 s later item 1 is gone.
    env.engine.advance(100).unwrap();
    let left = env.ok("Scan", json!({"TableName": "tbl"}));
    let sks: Vec<&str> = left["Items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["sk"]["N"].as_str().unwrap())
        .collect();
    // Item 1 expired; 2 is in the future; 3 is not a Number; 4 is over five years old.
    assert_eq!(sks, ["2", "3", "4"]);
    assert_eq!(
        env.ok("DescribeTable", json!({"TableName": "tbl"}))["Table"]["ItemCount"],
        3
    );
    let d = env.ok("DescribeTimeToLive", json!({"TableName": "tbl"}));
    assert_eq!(
        d["TimeToLiveDescription"],
        json!({"TimeToLiveStatus": "ENABLED", "AttributeName": "exp"})
    );
}

#[test]
fn tags_add_replace_and_remove() {
    let env = Env::new();
    env.simple_table("tbl");
    let arn = "arn:aws:dynamodb:us-east-1:123456789012:table/tbl";
    env.ok("TagResource", json!({"ResourceArn": arn, "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]}));
    env.ok(
        "TagResource",
        json!({"ResourceArn": arn, "Tags": [{"Key": "a", "Value": "3"}]}),
    );
    env.ok(
        "UntagResource",
        json!({"ResourceArn": arn, "TagKeys": ["b"]}),
    );
    let tags = env.ok("ListTagsOfResource", json!({"ResourceArn": arn}));
    assert_eq!(tags["Tags"], json!([{"Key": "a", "Value": "3"}]));
    let (code, _) = env.err(
        "ListTagsOfResource",
        json!({"ResourceArn": "arn:aws:dynamodb:us-east-1:123456789012:table/nope"}),
    );
    assert_eq!(code, "ResourceNotFoundException");
}

/// DynamoDB takes one UpdateTimeToLive per table per hour: a second change within the hour
/// answers its ValidationException and changes nothing, until the clock passes the hour.
#[test]
fn one_ttl_change_per_hour() {
    let env = Env::new();
    env.engine.set_frozen(true).unwrap();
    env.simple_table("tbl");
    let update = |enabled: bool, attr: &str| {
        env.call(
            "UpdateTimeToLive",
            json!({"TableName": "tbl", "TimeToLiveSpecification": {"Enabled": enabled, "AttributeName": attr}}),
        )
        .map_err(common::describe_error)
    };
    let too_soon = |r: Result<serde_json::Value, (String, String)>| {
        assert_eq!(
            r.unwrap_err(),
            (
                "ValidationException".to_string(),
                "Time to live has been modified multiple times within a fixed interval".to_string()
            )
        );
    };
    let status = || {
        env.ok("DescribeTimeToLive", json!({"TableName": "tbl"}))["TimeToLiveDescription"].clone()
    };
    update(true, "exp").unwrap();
    too_soon(update(false, "exp"));
    env.engine.advance(3599).unwrap();
    too_soon(update(false, "exp"));
    assert_eq!(
        status(),
        json!({"TimeToLiveStatus": "ENABLED", "AttributeName": "exp"})
    );
    env.engine.advance(1).unwrap();
    update(false, "exp").unwrap();
    assert_eq!(status(), json!({"TimeToLiveStatus": "DISABLED"}));
    // Re-enabling, even on another attribute, waits for the hour too.
    too_soon(update(true, "other"));
    env.engine.advance(3600).unwrap();
    update(true, "other").unwrap();
    assert_eq!(
        status(),
        json!({"TimeToLiveStatus": "ENABLED", "AttributeName": "other"})
    );
}
