mod common;
use common::Env;
use serde_json::json;
use std::time::Instant;
#[test]
fn perf() {
    let env = Env::new();
    env.simple_table("t");
    let n = 20_000;
    let t0 = Instant::now();
    for i in 0..n {
        env.ok("PutItem", json!({"TableName": "t", "Item": {"pk": {"S": format!("p{}", i % 100)}, "sk": {"N": i.to_string()}, "name": {"S": "some text value here"}, "n": {"N": "12.5"}, "m": {"M": {"a": {"L": [{"S": "x"}, {"N": "1"}]}}}}}));
    }
    let put = t0.elapsed();
    let t1 = Instant::now();
    for i in 0..n {
        env.ok("GetItem", json!({"TableName": "t", "Key": {"pk": {"S": format!("p{}", i % 100)}, "sk": {"N": i.to_string()}}}));
    }
    let get = t1.elapsed();
    let t2 = Instant::now();
    let mut count = 0;
    let mut input = json!({"TableName": "t"});
    loop {
        let out = env.ok("Scan", input.clone());
        count += out["Count"].as_i64().unwrap();
        match out.get("LastEvaluatedKey") {
            Some(k) => input["ExclusiveStartKey"] = k.clone(),
            None => break,
        }
    }
    let scan = t2.elapsed();
    eprintln!(
        "PERF puts/s {:.0} gets/s {:.0} scan items/s {:.0} (count {count})",
        n as f64 / put.as_secs_f64(),
        n as f64 / get.as_secs_f64(),
        count as f64 / scan.as_secs_f64()
    );
}
