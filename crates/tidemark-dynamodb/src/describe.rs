//! Renders a stored table (and its live counters) as the model's `TableDescription`.

use tidemark_model::Timestamp;
use tidemark_model::dynamodb as m;
use tidemark_store::Reads;

use crate::error::{DdbError, DdbResult};
use crate::storage;
use crate::table::{IndexDef, KeyDef, Status, TableRecord, Throughput, Warm};

pub fn timestamp(ms: i64) -> DdbResult<Timestamp> {
    tidemark_core::Timestamp::from_millisecond(ms)
        .map(Timestamp)
        .map_err(DdbError::internal)
}

fn key_schema(k: &KeyDef) -> Vec<m::KeySchemaElement> {
    let elem = |name: &str, ty: &str| m::KeySchemaElement {
        attribute_name: Some(name.to_string()),
        key_type: Some(ty.to_string()),
    };
    std::iter::once(elem(&k.hash.name, "HASH"))
        .chain(k.range.as_ref().map(|r| elem(&r.name, "RANGE")))
        .collect()
}

fn throughput(t: &Throughput) -> DdbResult<m::ProvisionedThroughputDescription> {
    Ok(m::ProvisionedThroughputDescription {
        last_increase_date_time: t.last_increase_ms.map(timestamp).transpose()?,
        last_decrease_date_time: t.last_decrease_ms.map(timestamp).transpose()?,
        number_of_decreases_today: Some(t.decreases_today),
        read_capacity_units: Some(t.read),
        write_capacity_units: Some(t.write),
    })
}

/// The warm-throughput status of a table or GSI in `status` (every table and index status is
/// also a warm-throughput status).
fn warm_status(status: Status) -> String {
    status.as_str().to_string()
}

fn projection(i: &IndexDef) -> m::Projection {
    m::Projection {
        projection_type: Some(i.projection_type.clone()),
        non_key_attributes: i.non_key_attributes.clone(),
    }
}

/// The full description DescribeTable returns (also the body of Create/Update/DeleteTable).
pub fn describe(txn: &dyn Reads, t: &TableRecord) -> DdbResult<m::TableDescription> {
    let stats = storage::stats(txn, &t.table_id, None)?;
    let mut lsis = Vec::new();
    for i in &t.lsis {
        let s = storage::stats(txn, &t.table_id, Some(&i.name))?;
        lsis.push(m::LocalSecondaryIndexDescription {
            index_name: Some(i.name.clone()),
            key_schema: Some(key_schema(&i.key)),
            projection: Some(projection(i)),
            index_size_bytes: Some(s.bytes),
            item_count: Some(s.items),
            index_arn: Some(t.index_arn(&i.name)),
        });
    }
    let mut gsis = Vec::new();
    for i in &t.gsis {
        let s = storage::stats(txn, &t.table_id, Some(&i.name))?;
        let zero = Throughput::default();
        let warm = Warm::current(i.warm, i.throughput.as_ref());
        gsis.push(m::GlobalSecondaryIndexDescription {
            index_name: Some(i.name.clone()),
            key_schema: Some(key_schema(&i.key)),
            projection: Some(projection(i)),
            index_status: Some(i.status.as_str().to_string()),
            backfilling: (i.status == crate::table::Status::Creating).then_some(false),
            provisioned_throughput: Some(throughput(i.throughput.as_ref().unwrap_or(&zero))?),
            index_size_bytes: Some(s.bytes),
            item_count: Some(s.items),
            index_arn: Some(t.index_arn(&i.name)),
            warm_throughput: Some(m::GlobalSecondaryIndexWarmThroughputDescription {
                read_units_per_second: Some(warm.read),
                write_units_per_second: Some(warm.write),
                status: Some(warm_status(i.status)),
            }),
            ..Default::default()
        });
    }
    let stream = t.stream.as_ref().filter(|s| s.enabled);
    let warm = Warm::current(t.warm, Some(&t.throughput));
    Ok(m::TableDescription {
        attribute_definitions: Some(
            t.attribute_definitions
                .iter()
                .map(|d| m::AttributeDefinition {
                    attribute_name: Some(d.name.clone()),
                    attribute_type: Some(d.ty.clone()),
                })
                .collect(),
        ),
        table_name: Some(t.name.clone()),
        key_schema: Some(key_schema(&t.key)),
        table_status: Some(t.status.as_str().to_string()),
        creation_date_time: Some(timestamp(t.created_ms)?),
        provisioned_throughput: Some(throughput(&t.throughput)?),
        table_size_bytes: Some(stats.bytes),
        item_count: Some(stats.items),
        table_arn: Some(t.arn.clone()),
        table_id: Some(t.table_id.clone()),
        billing_mode_summary: t
            .is_pay_per_request()
            .then(|| -> DdbResult<_> {
                Ok(m::BillingModeSummary {
                    billing_mode: Some(t.billing_mode.clone()),
                    last_update_to_pay_per_request_date_time: t
                        .last_pay_per_request_ms
                        .map(timestamp)
                        .transpose()?,
                })
            })
            .transpose()?,
        local_secondary_indexes: (!lsis.is_empty()).then_some(lsis),
        global_secondary_indexes: (!gsis.is_empty()).then_some(gsis),
        stream_specification: stream.map(|s| m::StreamSpecification {
            stream_enabled: Some(true),
            stream_view_type: s.view_type.clone(),
        }),
        latest_stream_label: stream.and_then(|s| s.label.clone()),
        latest_stream_arn: stream
            .and_then(|s| s.label.as_ref().map(|l| format!("{}/stream/{l}", t.arn))),
        sse_description: t.sse.as_ref().map(|s| m::SSEDescription {
            status: Some("ENABLED".into()),
            sse_type: s.sse_type.clone(),
            kms_master_key_arn: s.kms_key_arn.clone(),
            ..Default::default()
        }),
        table_class_summary: t
            .table_class
            .as_ref()
            .map(|c| -> DdbResult<_> {
                Ok(m::TableClassSummary {
                    table_class: Some(c.clone()),
                    last_update_date_time: t.table_class_updated_ms.map(timestamp).transpose()?,
                })
            })
            .transpose()?,
        deletion_protection_enabled: Some(t.deletion_protection),
        warm_throughput: Some(m::TableWarmThroughputDescription {
            read_units_per_second: Some(warm.read),
            write_units_per_second: Some(warm.write),
            status: Some(warm_status(t.status)),
        }),
        restore_summary: t
            .restore
            .as_ref()
            .filter(|_| t.status == crate::table::Status::Creating)
            .map(|r| -> DdbResult<_> {
                Ok(m::RestoreSummary {
                    source_backup_arn: r.source_backup_arn.clone(),
                    source_table_arn: r.source_table_arn.clone(),
                    restore_date_time: Some(timestamp(r.restore_ms)?),
                    restore_in_progress: Some(true),
                })
            })
            .transpose()?,
        ..Default::default()
    })
}
