//! Every implemented DynamoDB data-plane operation once through the AWS SDK for Rust against
//! the real binary (success paths), plus the SDK's typed ConditionalCheckFailedException and
//! TransactionCanceledException (aws-behaviour.md §4.3).

mod common;

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, Get, KeySchemaElement, KeyType,
    KeysAndAttributes, ProvisionedThroughput, Put, PutRequest, ReturnValue,
    ReturnValuesOnConditionCheckFailure, ScalarAttributeType, TableStatus, Tag,
    TimeToLiveSpecification, TransactGetItem, TransactWriteItem, Update, WriteRequest,
};
use common::Server;

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// Creates `name` with key (pk S, sk N), on demand, and waits for ACTIVE.
async fn table(client: &Client, name: &str) {
    let attr = |a: &str, t| {
        AttributeDefinition::builder()
            .attribute_name(a)
            .attribute_type(t)
            .build()
            .unwrap()
    };
    let key = |a: &str, t| {
        KeySchemaElement::builder()
            .attribute_name(a)
            .key_type(t)
            .build()
            .unwrap()
    };
    let out = client
        .create_table()
        .table_name(name)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .attribute_definitions(attr("sk", ScalarAttributeType::N))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("CreateTable");
    assert_eq!(
        out.table_description().and_then(|d| d.table_status()),
        Some(&TableStatus::Creating)
    );
    common::wait_table_active(client, name).await;
}

fn key(pk: &str, sk: i64) -> HashMap<String, AttributeValue> {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), n(sk))])
}

#[tokio::test]
async fn every_operation_succeeds_through_the_sdk() {
    let server = Server::in_memory();
    let client = server.dynamodb("123456789012", "x");
    table(&client, "sdk_a").await;
    table(&client, "sdk_b").await;

    let names = client.list_tables().send().await.expect("ListTables");
    assert_eq!(names.table_names(), ["sdk_a", "sdk_b"]);

    // UpdateTable: switch to provisioned and back to ACTIVE.
    let up = client
        .update_table()
        .table_name("sdk_b")
        .billing_mode(BillingMode::Provisioned)
        .provisioned_throughput(
            ProvisionedThroughput::builder()
                .read_capacity_units(3)
                .write_capacity_units(4)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("UpdateTable");
    assert!(up.table_description().is_some());
    common::wait_table_active(&client, "sdk_b").await;
    let d = client
        .describe_table()
        .table_name("sdk_b")
        .send()
        .await
        .expect("DescribeTable");
    let tp = d.table().and_then(|t| t.provisioned_throughput()).unwrap();
    assert_eq!(
        (tp.read_capacity_units(), tp.write_capacity_units()),
        (Some(3), Some(4))
    );

    // PutItem / GetItem / UpdateItem / DeleteItem.
    for i in 0..5 {
        client
            .put_item()
            .table_name("sdk_a")
            .set_item(Some(key("p", i)))
            .item("v", n(i * 10))
            .send()
            .await
            .expect("PutItem");
    }
    let got = client
        .get_item()
        .table_name("sdk_a")
        .set_key(Some(key("p", 2)))
        .send()
        .await
        .expect("GetItem");
    assert_eq!(got.item().and_then(|i| i.get("v")), Some(&n(20)));
    let updated = client
        .update_item()
        .table_name("sdk_a")
        .set_key(Some(key("p", 2)))
        .update_expression("SET v = v + :d")
        .expression_attribute_values(":d", n(1))
        .return_values(ReturnValue::UpdatedNew)
        .send()
        .await
        .expect("UpdateItem");
    assert_eq!(updated.attributes().and_then(|a| a.get("v")), Some(&n(21)));
    let deleted = client
        .delete_item()
        .table_name("sdk_a")
        .set_key(Some(key("p", 4)))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .expect("DeleteItem");
    assert_eq!(deleted.attributes().and_then(|a| a.get("v")), Some(&n(40)));

    // Query / Scan.
    let q = client
        .query()
        .table_name("sdk_a")
        .key_condition_expression("pk = :p AND sk BETWEEN :lo AND :hi")
        .expression_attribute_values(":p", s("p"))
        .expression_attribute_values(":lo", n(1))
        .expression_attribute_values(":hi", n(3))
        .scan_index_forward(false)
        .send()
        .await
        .expect("Query");
    let sks: Vec<_> = q.items().iter().map(|i| i["sk"].clone()).collect();
    assert_eq!(sks, [n(3), n(2), n(1)]);
    let sc = client
        .scan()
        .table_name("sdk_a")
        .filter_expression("v >= :v")
        .expression_attribute_values(":v", n(20))
        .send()
        .await
        .expect("Scan");
    assert_eq!((sc.count(), sc.scanned_count()), (2, 4));

    // BatchWriteItem / BatchGetItem.
    let bw = client
        .batch_write_item()
        .request_items(
            "sdk_b",
            vec![
                WriteRequest::builder()
                    .put_request(
                        PutRequest::builder()
                            .set_item(Some(key("b", 1)))
                            .build()
                            .unwrap(),
                    )
                    .build(),
            ],
        )
        .send()
        .await
        .expect("BatchWriteItem");
    assert!(bw.unprocessed_items().is_none_or(|u| u.is_empty()));
    let bg = client
        .batch_get_item()
        .request_items(
            "sdk_a",
            KeysAndAttributes::builder()
                .keys(key("p", 0))
                .keys(key("p", 1))
                .build()
                .unwrap(),
        )
        .request_items(
            "sdk_b",
            KeysAndAttributes::builder()
                .keys(key("b", 1))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("BatchGetItem");
    let responses = bg.responses().unwrap();
    assert_eq!(responses["sdk_a"].len(), 2);
    assert_eq!(responses["sdk_b"], vec![key("b", 1)]);

    // TransactWriteItems / TransactGetItems.
    client
        .transact_write_items()
        .transact_items(
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name("sdk_a")
                        .set_item(Some(key("t", 1)))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .transact_items(
            TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name("sdk_b")
                        .set_key(Some(key("b", 1)))
                        .update_expression("SET seen = :t")
                        .expression_attribute_values(":t", AttributeValue::Bool(true))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .expect("TransactWriteItems");
    let tg = client
        .transact_get_items()
        .transact_items(
            TransactGetItem::builder()
                .get(
                    Get::builder()
                        .table_name("sdk_b")
                        .set_key(Some(key("b", 1)))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .transact_items(
            TransactGetItem::builder()
                .get(
                    Get::builder()
                        .table_name("sdk_a")
                        .set_key(Some(key("t", 1)))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .expect("TransactGetItems");
    let items: Vec<_> = tg.responses().iter().map(|r| r.item().cloned()).collect();
    assert_eq!(
        items[0].as_ref().and_then(|i| i.get("seen")),
        Some(&AttributeValue::Bool(true))
    );
    assert_eq!(items[1], Some(key("t", 1)));

    // TTL.
    let ttl = client
        .update_time_to_live()
        .table_name("sdk_a")
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
    assert_eq!(
        ttl.time_to_live_specification().map(|t| t.attribute_name()),
        Some("exp")
    );
    let dttl = client
        .describe_time_to_live()
        .table_name("sdk_a")
        .send()
        .await
        .expect("DescribeTimeToLive");
    assert_eq!(
        dttl.time_to_live_description()
            .and_then(|d| d.attribute_name()),
        Some("exp")
    );

    // Tags.
    let arn = d.table().and_then(|t| t.table_arn()).unwrap().to_owned();
    client
        .tag_resource()
        .resource_arn(&arn)
        .tags(Tag::builder().key("env").value("dev").build().unwrap())
        .tags(Tag::builder().key("team").value("data").build().unwrap())
        .send()
        .await
        .expect("TagResource");
    client
        .untag_resource()
        .resource_arn(&arn)
        .tag_keys("team")
        .send()
        .await
        .expect("UntagResource");
    let tags = client
        .list_tags_of_resource()
        .resource_arn(&arn)
        .send()
        .await
        .expect("ListTagsOfResource");
    let tags: Vec<_> = tags.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(tags, [("env", "dev")]);

    // DescribeEndpoints / DescribeLimits.
    let ep = client
        .describe_endpoints()
        .send()
        .await
        .expect("DescribeEndpoints");
    assert_eq!(ep.endpoints().len(), 1);
    assert_eq!(ep.endpoints()[0].address(), server.addr);
    assert_eq!(ep.endpoints()[0].cache_period_in_minutes(), 1440);
    let lim = client
        .describe_limits()
        .send()
        .await
        .expect("DescribeLimits");
    assert_eq!(lim.table_max_read_capacity_units(), Some(40_000));
    assert_eq!(lim.account_max_write_capacity_units(), Some(80_000));

    // DeleteTable: DELETING, then gone.
    let del = client
        .delete_table()
        .table_name("sdk_a")
        .send()
        .await
        .expect("DeleteTable");
    assert_eq!(
        del.table_description().and_then(|t| t.table_status()),
        Some(&TableStatus::Deleting)
    );
    for _ in 0..100 {
        let names = client.list_tables().send().await.expect("ListTables");
        if names.table_names() == ["sdk_b"] {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("sdk_a was never deleted");
}

#[tokio::test]
async fn typed_condition_and_transaction_errors() {
    let server = Server::in_memory();
    let client = server.dynamodb("123456789012", "x");
    table(&client, "sdk_err").await;
    client
        .put_item()
        .table_name("sdk_err")
        .set_item(Some(key("k", 1)))
        .item("v", n(7))
        .send()
        .await
        .expect("PutItem");

    // ConditionalCheckFailedException carries the old item when asked (ALL_OLD).
    let err = client
        .put_item()
        .table_name("sdk_err")
        .set_item(Some(key("k", 1)))
        .condition_expression("attribute_not_exists(pk)")
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    match err {
        PutItemError::ConditionalCheckFailedException(e) => {
            assert_eq!(e.message(), Some("The conditional request failed"));
            assert_eq!(e.item().and_then(|i| i.get("v")), Some(&n(7)));
        }
        other => panic!("expected ConditionalCheckFailedException, got {other:?}"),
    }

    // TransactionCanceledException lists one reason per action, in order.
    let err = client
        .transact_write_items()
        .transact_items(
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name("sdk_err")
                        .set_item(Some(key("new", 1)))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .transact_items(
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name("sdk_err")
                        .set_item(Some(key("k", 1)))
                        .condition_expression("attribute_not_exists(pk)")
                        .return_values_on_condition_check_failure(
                            ReturnValuesOnConditionCheckFailure::AllOld,
                        )
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    match err {
        TransactWriteItemsError::TransactionCanceledException(e) => {
            assert_eq!(
                e.message(),
                Some(
                    "Transaction cancelled, please refer cancellation reasons for specific \
                     reasons [None, ConditionalCheckFailed]"
                )
            );
            let codes: Vec<_> = e.cancellation_reasons().iter().map(|r| r.code()).collect();
            assert_eq!(codes, [Some("None"), Some("ConditionalCheckFailed")]);
            assert_eq!(
                e.cancellation_reasons()[1].item().and_then(|i| i.get("v")),
                Some(&n(7))
            );
        }
        other => panic!("expected TransactionCanceledException, got {other:?}"),
    }
    // Nothing from the cancelled transaction was written.
    let got = client
        .get_item()
        .table_name("sdk_err")
        .set_key(Some(key("new", 1)))
        .send()
        .await
        .expect("GetItem");
    assert!(got.item().is_none());
}

/// DescribeEndpoints must name the address clients reach (aws-behaviour.md §4.3 SDK plumbing).
#[tokio::test]
async fn describe_endpoints_names_the_bound_port() {
    let server = Server::in_memory();
    let client = server.dynamodb("123456789012", "x");
    let ep = client
        .describe_endpoints()
        .send()
        .await
        .expect("DescribeEndpoints");
    assert_eq!(ep.endpoints()[0].address(), server.addr);
}
