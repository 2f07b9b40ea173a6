//! Rendering backups (BackupDetails, SourceTableDetails, SourceTableFeatureDetails) and the
//! DescribeBackup / DeleteBackup handlers (reference §2.5, §2.6).

use tidemark_core::RequestContext;
use tidemark_model::dynamodb as m;

use super::BackupRecord;
use super::arn;
use super::error::{BkError, BkResult};
use crate::describe::timestamp;
use crate::service::DynamoDbService;
use crate::table::{IndexDef, KeyDef, Throughput};

fn ts(ms: i64) -> BkResult<tidemark_model::Timestamp> {
    Ok(timestamp(ms)?)
}

pub fn key_schema(k: &KeyDef) -> Vec<m::KeySchemaElement> {
    let elem = |name: &str, ty: &str| m::KeySchemaElement {
        attribute_name: Some(name.to_string()),
        key_type: Some(ty.to_string()),
    };
    std::iter::once(elem(&k.hash.name, "HASH"))
        .chain(k.range.as_ref().map(|r| elem(&r.name, "RANGE")))
        .collect()
}

pub fn projection(i: &IndexDef) -> m::Projection {
    m::Projection {
        projection_type: Some(i.projection_type.clone()),
        non_key_attributes: i.non_key_attributes.clone(),
    }
}

fn throughput(t: &Throughput) -> m::ProvisionedThroughput {
    m::ProvisionedThroughput {
        read_capacity_units: Some(t.read),
        write_capacity_units: Some(t.write),
    }
}

pub fn details(b: &BackupRecord) -> BkResult<m::BackupDetails> {
    Ok(m::BackupDetails {
        backup_arn: Some(b.arn.clone()),
        backup_name: Some(b.name.clone()),
        backup_size_bytes: Some(b.size_bytes),
        backup_status: Some(b.status.clone()),
        backup_type: Some(b.backup_type.clone()),
        backup_creation_date_time: Some(ts(b.created_ms)?),
        backup_expiry_date_time: b.expiry_ms.map(ts).transpose()?,
    })
}

pub fn summary(b: &BackupRecord) -> BkResult<m::BackupSummary> {
    Ok(m::BackupSummary {
        table_name: Some(b.table_name.clone()),
        table_id: Some(b.source.table_id.clone()),
        table_arn: Some(b.source.arn.clone()),
        backup_arn: Some(b.arn.clone()),
        backup_name: Some(b.name.clone()),
        backup_creation_date_time: Some(ts(b.created_ms)?),
        backup_expiry_date_time: b.expiry_ms.map(ts).transpose()?,
        backup_status: Some(b.status.clone()),
        backup_type: Some(b.backup_type.clone()),
        backup_size_bytes: Some(b.size_bytes),
    })
}

/// The full description; `status` overrides the stored status (DeleteBackup says DELETED).
pub fn description(b: &BackupRecord, status: Option<&str>) -> BkResult<m::BackupDescription> {
    let t = &b.source;
    let mut d = details(b)?;
    if let Some(s) = status {
        d.backup_status = Some(s.to_string());
    }
    // PAY_PER_REQUEST tables report {0, 0} (observed, §2.5).
    let table = m::SourceTableDetails {
        table_name: Some(t.name.clone()),
        table_id: Some(t.table_id.clone()),
        table_arn: Some(t.arn.clone()),
        table_size_bytes: Some(b.source_bytes),
        key_schema: Some(key_schema(&t.key)),
        table_creation_date_time: Some(ts(t.created_ms)?),
        provisioned_throughput: Some(throughput(&t.throughput)),
        on_demand_throughput: None,
        item_count: Some(b.source_items),
        billing_mode: Some(t.billing_mode.clone()),
    };
    // SYSTEM backups showed `{}` (§2.12); USER ones list each feature only when it is on.
    let features = if b.backup_type == "SYSTEM" {
        m::SourceTableFeatureDetails::default()
    } else {
        let lsis: Vec<_> = t
            .lsis
            .iter()
            .map(|i| m::LocalSecondaryIndexInfo {
                index_name: Some(i.name.clone()),
                key_schema: Some(key_schema(&i.key)),
                projection: Some(projection(i)),
            })
            .collect();
        let gsis: Vec<_> = t
            .gsis
            .iter()
            .map(|i| m::GlobalSecondaryIndexInfo {
                index_name: Some(i.name.clone()),
                key_schema: Some(key_schema(&i.key)),
                projection: Some(projection(i)),
                provisioned_throughput: Some(throughput(
                    i.throughput.as_ref().unwrap_or(&Throughput::default()),
                )),
                on_demand_throughput: None,
            })
            .collect();
        m::SourceTableFeatureDetails {
            local_secondary_indexes: (!lsis.is_empty()).then_some(lsis),
            global_secondary_indexes: (!gsis.is_empty()).then_some(gsis),
            stream_description: t.stream.as_ref().filter(|s| s.enabled).map(|s| {
                m::StreamSpecification {
                    stream_enabled: Some(true),
                    stream_view_type: s.view_type.clone(),
                }
            }),
            time_to_live_description: t.ttl.as_ref().filter(|x| x.enabled).map(|x| {
                m::TimeToLiveDescription {
                    time_to_live_status: Some("ENABLED".into()),
                    attribute_name: Some(x.attribute.clone()),
                }
            }),
            sse_description: t.sse.as_ref().map(|s| m::SSEDescription {
                status: Some("ENABLED".into()),
                sse_type: s.sse_type.clone(),
                kms_master_key_arn: s.kms_key_arn.clone(),
                ..Default::default()
            }),
            vector_indexes: None,
        }
    };
    Ok(m::BackupDescription {
        backup_details: Some(d),
        source_table_details: Some(table),
        source_table_feature_details: Some(features),
    })
}

/// Loads the backup an ARN names, or `BackupNotFoundException`.
pub fn require(
    txn: &dyn tidemark_store::Reads,
    ctx: &RequestContext,
    backup_arn: &str,
) -> BkResult<(Vec<u8>, BackupRecord)> {
    let (table, id) = arn::parse_backup_arn(ctx, backup_arn)?;
    let key = super::backup_key(ctx, &table, &id);
    match super::load(txn, &key)? {
        Some(b) => Ok((key, b)),
        None => Err(BkError::backup_not_found(backup_arn)),
    }
}

pub fn describe_backup(
    s: &DynamoDbService,
    ctx: &RequestContext,
    input: m::DescribeBackupInput,
) -> BkResult<m::DescribeBackupOutput> {
    let arn = input.backup_arn.unwrap_or_default();
    let (_, b) = require(&*s.store.read()?, ctx, &arn)?;
    Ok(m::DescribeBackupOutput {
        backup_description: Some(description(&b, None)?),
    })
}

pub fn delete_backup(
    s: &DynamoDbService,
    ctx: &RequestContext,
    input: m::DeleteBackupInput,
) -> BkResult<m::DeleteBackupOutput> {
    let arn = input.backup_arn.unwrap_or_default();
    let mut txn = s.store.write()?;
    let (key, b) = require(&*txn, ctx, &arn)?;
    if b.backup_type == "SYSTEM" {
        let expiry = b.expiry_ms.map(ts).transpose()?.map(|t| t.0.to_string());
        return Err(BkError::validation(format!(
            "User is not allowed to delete the system backup with arn {}. It will automatically expire on {}",
            b.arn,
            expiry.unwrap_or_default()
        )));
    }
    if b.status == "CREATING" || b.restoring.is_some() {
        return Err(BkError::BackupInUse(format!(
            "Backup is being used to restore table: {}",
            b.arn
        )));
    }
    txn.delete(super::BACKUPS_TABLE, &key)?;
    txn.commit()?;
    if let Some(id) = &b.manifest {
        // The record is gone; the vault manifest goes too (its chunks are reclaimed by the
        // vault's gc). A failure here leaves only an unreferenced manifest, so it is not
        // reported to the caller, whose backup is deleted either way.
        if let (Ok(id), Ok(vault)) = (id.parse(), s.backups.vault()) {
            let _ = vault.delete(ctx.account.as_str(), &id);
        }
    }
    Ok(m::DeleteBackupOutput {
        backup_description: Some(description(&b, Some("DELETED"))?),
    })
}
