//! DynamoDB tables and items end to end through the real binary and the AWS SDK for Rust:
//! the lifecycle a backup test needs (create → ACTIVE via the background runner, write,
//! query, delete), conditional writes and transactions (reference §4.3).

mod common;

use std::time::Duration;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, Put,
    ScalarAttributeType, TableStatus, TransactWriteItem,
};
use common::Server;

fn av(s: &str) -> AttributeValue {
    AttributeValue::S(s.to_owned())
}

async fn create_and_wait(client: &aws_sdk_dynamodb::Client, name: &str) {
    let out = client
        .create_table()
        .table_name(name)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("sk")
                .attribute_type(ScalarAttributeType::N)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("sk")
                .key_type(KeyType::Range)
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("CreateTable");
    assert_eq!(
        out.table_description().and_then(|d| d.table_status()),
        Some(&TableStatus::Creating)
    );
    // The settle job is due at once; the background runner makes the table ACTIVE quickly.
    common::wait_table_active(client, name).await;
}

#[tokio::test]
async fn table_lifecycle_items_and_queries() {
    let server = Server::in_memory();
    let client = server.dynamodb("123456789012", "x");
    create_and_wait(&client, "orders").await;
    for i in 0..10 {
        client
            .put_item()
            .table_name("orders")
            .item("pk", av("cust"))
            .item("sk", AttributeValue::N(i.to_string()))
            .item("total", AttributeValue::N((i * 10).to_string()))
            .send()
            .await
            .expect("PutItem");
    }
    let q = client
        .query()
        .table_name("orders")
        .key_condition_expression("pk = :p AND sk >= :s")
        .expression_attribute_values(":p", av("cust"))
        .expression_attribute_values(":s", AttributeValue::N("7".into()))
        .send()
        .await
        .expect("Query");
    assert_eq!(q.count(), 3);
    let err = client
        .put_item()
        .table_name("orders")
        .item("pk", av("cust"))
        .item("sk", AttributeValue::N("1".into()))
        .condition_expression("attribute_not_exists(pk)")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some("ConditionalCheckFailedException"),
        "{err:?}"
    );
    let err = client
        .transact_write_items()
        .transact_items(
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name("orders")
                        .item("pk", av("cust"))
                        .item("sk", AttributeValue::N("1".into()))
                        .condition_expression("attribute_not_exists(pk)")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("TransactionCanceledException"), "{err:?}");
    let got = client
        .get_item()
        .table_name("orders")
        .key("pk", av("cust"))
        .key("sk", AttributeValue::N("3".into()))
        .send()
        .await
        .expect("GetItem");
    assert_eq!(
        got.item().and_then(|i| i.get("total")),
        Some(&AttributeValue::N("30".into()))
    );
    let d = client
        .describe_table()
        .table_name("orders")
        .send()
        .await
        .unwrap();
    assert_eq!(d.table().and_then(|t| t.item_count()), Some(10));
    let del = client
        .delete_table()
        .table_name("orders")
        .send()
        .await
        .expect("DeleteTable");
    assert_eq!(
        del.table_description().and_then(|t| t.table_status()),
        Some(&TableStatus::Deleting)
    );
    for _ in 0..50 {
        match client.describe_table().table_name("orders").send().await {
            Err(e) if e.code() == Some("ResourceNotFoundException") => return,
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    panic!("table was never deleted");
}

/// TTL on the virtual clock: advancing the clock through the admin API runs the sweeper,
/// and expired items are gone (reference §4.3 "settings").
#[tokio::test]
async fn ttl_expires_items_when_the_clock_advances() {
    use aws_sdk_dynamodb::types::TimeToLiveSpecification;
    let server = Server::in_memory();
    let client = server.dynamodb("123456789012", "x");
    for body in [r#"{"set": "2030-01-01T00:00:00Z"}"#, r#"{"freeze": true}"#] {
        let (status, answer) = server.http(
            "POST",
            "/_tidemark/clock",
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        );
        assert_eq!(status, 200, "{answer}");
    }
    create_and_wait(&client, "sessions").await;
    client
        .update_time_to_live()
        .table_name("sessions")
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name("exp")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("UpdateTimeToLive");
    // 2030-01-01T00:00:00Z is 1893456000; one item expires 60 s later, one a day later.
    for (sk, exp) in [(1, 1_893_456_060i64), (2, 1_893_542_400)] {
        client
            .put_item()
            .table_name("sessions")
            .item("pk", av("s"))
            .item("sk", AttributeValue::N(sk.to_string()))
            .item("exp", AttributeValue::N(exp.to_string()))
            .send()
            .await
            .expect("PutItem");
    }
    let (status, body) = server.http(
        "POST",
        "/_tidemark/clock",
        &[("Content-Type", "application/json")],
        br#"{"advance_seconds": 7200}"#,
    );
    assert_eq!(status, 200, "{body}");
    let scan = client
        .scan()
        .table_name("sessions")
        .send()
        .await
        .expect("Scan");
    let left: Vec<_> = scan
        .items()
        .iter()
        .filter_map(|i| i.get("sk").cloned())
        .collect();
    assert_eq!(left, vec![AttributeValue::N("2".into())]);
}

/// The legacy parameters through the SDK: KeyConditions with AttributesToGet, Expected and
/// AttributeUpdates, as code written before expressions existed sends them.
#[tokio::test]
async fn legacy_parameters_work_through_the_sdk() {
    use aws_sdk_dynamodb::types::{
        AttributeAction, AttributeValueUpdate, ComparisonOperator, Condition,
        ExpectedAttributeValue,
    };
    let server = Server::in_memory();
    let client = server.dynamodb("123456789012", "x");
    create_and_wait(&client, "old").await;
    for i in 1..=4 {
        client
            .put_item()
            .table_name("old")
            .item("pk", av("p"))
            .item("sk", AttributeValue::N(i.to_string()))
            .item("hits", AttributeValue::N("0".into()))
            .send()
            .await
            .expect("PutItem");
    }
    let cond = |op: ComparisonOperator, v: AttributeValue| {
        Condition::builder()
            .comparison_operator(op)
            .attribute_value_list(v)
            .build()
            .unwrap()
    };
    let q = client
        .query()
        .table_name("old")
        .key_conditions("pk", cond(ComparisonOperator::Eq, av("p")))
        .key_conditions(
            "sk",
            cond(ComparisonOperator::Ge, AttributeValue::N("3".into())),
        )
        .attributes_to_get("sk")
        .send()
        .await
        .expect("Query with KeyConditions");
    let sks: Vec<_> = q.items().iter().map(|i| i["sk"].clone()).collect();
    assert_eq!(
        sks,
        vec![AttributeValue::N("3".into()), AttributeValue::N("4".into())]
    );
    assert!(q.items().iter().all(|i| i.len() == 1), "only sk projected");

    let bump = || {
        client
            .update_item()
            .table_name("old")
            .key("pk", av("p"))
            .key("sk", AttributeValue::N("1".into()))
            .attribute_updates(
                "hits",
                AttributeValueUpdate::builder()
                    .action(AttributeAction::Add)
                    .value(AttributeValue::N("1".into()))
                    .build(),
            )
            .expected(
                "hits",
                ExpectedAttributeValue::builder()
                    .comparison_operator(ComparisonOperator::Lt)
                    .attribute_value_list(AttributeValue::N("1".into()))
                    .build(),
            )
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
    };
    let out = bump().await.expect("first bump passes Expected");
    assert_eq!(
        out.attributes().unwrap()["hits"],
        AttributeValue::N("1".into())
    );
    let err = bump().await.expect_err("second bump fails Expected");
    assert_eq!(err.code(), Some("ConditionalCheckFailedException"));
}
