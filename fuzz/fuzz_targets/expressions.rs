//! The DynamoDB expression language through the dispatcher: the input's lines become a
//! ConditionExpression and UpdateExpression (UpdateItem), a FilterExpression and
//! ProjectionExpression (Scan) and a KeyConditionExpression (Query), with names and values
//! of every type available, so the parser, the checker and the evaluator all run.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use tidemark_model::{CommonError, DispatchError};

fn names() -> Value {
    json!({"#a": "a", "#b": "b", "#p": "pk", "#s": "sk", "#n": "n"})
}

fn values() -> Value {
    json!({
        ":s": {"S": "p1"}, ":n": {"N": "3"}, ":b": {"B": "AAE="}, ":ss": {"SS": ["u"]},
        ":ns": {"NS": ["1"]}, ":l": {"L": [{"N": "1"}]}, ":m": {"M": {"b": {"N": "2"}}},
        ":t": {"BOOL": true}, ":z": {"NULL": true}
    })
}

fn run(op: &str, input: Value) {
    let h = tidemark_fuzz::dynamodb();
    let ctx = h.context();
    if let Err(DispatchError::Common(CommonError::Internal(detail))) =
        tidemark_model::dynamodb::dispatch_dynamodb(&*h.dynamodb, &ctx, op, input)
    {
        panic!("{op}: internal error: {detail}");
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\n');
    let mut next = || parts.next().map(str::to_owned);
    let (cond, update, filter, projection, key) = (next(), next(), next(), next(), next());
    let put = |m: &mut serde_json::Map<String, Value>, k: &str, v: Option<String>| {
        if let Some(v) = v {
            m.insert(k.into(), Value::String(v));
        }
    };
    let mut u = serde_json::Map::new();
    u.insert("TableName".into(), json!("tbl"));
    u.insert("Key".into(), json!({"pk": {"S": "p1"}, "sk": {"N": "1"}}));
    put(&mut u, "UpdateExpression", update);
    put(&mut u, "ConditionExpression", cond);
    u.insert("ExpressionAttributeNames".into(), names());
    u.insert("ExpressionAttributeValues".into(), values());
    run("UpdateItem", Value::Object(u));

    let mut s = serde_json::Map::new();
    s.insert("TableName".into(), json!("tbl"));
    put(&mut s, "FilterExpression", filter);
    put(&mut s, "ProjectionExpression", projection);
    s.insert("ExpressionAttributeNames".into(), names());
    s.insert("ExpressionAttributeValues".into(), values());
    let mut q = s.clone();
    run("Scan", Value::Object(s));
    put(&mut q, "KeyConditionExpression", key);
    run("Query", Value::Object(q));
});
