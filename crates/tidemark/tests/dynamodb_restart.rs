//! Nothing committed is lost: items written through the AWS SDK survive `kill -9` of the
//! server and a restart on the same data directory, with the table, its index and its
//! counters intact (issue: DynamoDB data plane, "Restart test").

mod common;

use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, ScalarAttributeType, TableStatus,
};
use common::Server;

fn key(name: &str, t: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(t)
        .build()
        .expect("valid key")
}

fn attr(name: &str, t: ScalarAttributeType) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(t)
        .build()
        .expect("valid attr")
}

#[tokio::test]
async fn items_survive_sigkill_and_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::on_dir(dir.path());
    let c = server.dynamodb("123456789012", "x");
    c.create_table()
        .table_name("durable")
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .attribute_definitions(attr("sk", ScalarAttributeType::N))
        .attribute_definitions(attr("color", ScalarAttributeType::S))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("by-color")
                .key_schema(key("color", KeyType::Hash))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .expect("valid gsi"),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("CreateTable");
    for _ in 0..100 {
        let d = c
            .describe_table()
            .table_name("durable")
            .send()
            .await
            .expect("describe");
        if d.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for i in 0..200 {
        c.put_item()
            .table_name("durable")
            .item("pk", AttributeValue::S(format!("p{}", i % 7)))
            .item("sk", AttributeValue::N(i.to_string()))
            .item(
                "color",
                AttributeValue::S(if i % 2 == 0 { "red" } else { "blue" }.into()),
            )
            .item("payload", AttributeValue::S("x".repeat(i)))
            .send()
            .await
            .expect("PutItem");
    }
    c.delete_item()
        .table_name("durable")
        .key("pk", AttributeValue::S("p0".into()))
        .key("sk", AttributeValue::N("0".into()))
        .send()
        .await
        .expect("DeleteItem");
    // The last acknowledged write, then SIGKILL with no chance to flush.
    server.kill();

    let server = Server::on_dir(dir.path());
    let c = server.dynamodb("123456789012", "x");
    let d = c
        .describe_table()
        .table_name("durable")
        .send()
        .await
        .expect("table survives");
    assert_eq!(
        d.table().and_then(|t| t.table_status()),
        Some(&TableStatus::Active)
    );
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = c
            .scan()
            .table_name("durable")
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("Scan");
        items.extend(page.items().iter().cloned());
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            break;
        }
    }
    assert_eq!(
        items.len(),
        199,
        "every acknowledged put, minus the acknowledged delete"
    );
    for i in 1..200usize {
        let got = c
            .get_item()
            .table_name("durable")
            .key("pk", AttributeValue::S(format!("p{}", i % 7)))
            .key("sk", AttributeValue::N(i.to_string()))
            .consistent_read(true)
            .send()
            .await
            .expect("GetItem");
        let item = got.item().unwrap_or_else(|| panic!("item {i} lost"));
        assert_eq!(item.get("payload"), Some(&AttributeValue::S("x".repeat(i))));
    }
    let red = c
        .query()
        .table_name("durable")
        .index_name("by-color")
        .key_condition_expression("color = :c")
        .expression_attribute_values(":c", AttributeValue::S("red".into()))
        .select(aws_sdk_dynamodb::types::Select::Count)
        .send()
        .await
        .expect("Query on the GSI");
    assert_eq!(
        red.count(),
        99,
        "the index survives too (100 red items minus the deleted one)"
    );
}
