//! The source table of an export/import: ImportTable-shaped `TableCreationParameters` →
//! table record (validated like CreateTable), and `tidemark-table.json`, which carries the
//! record itself so a tidemark → tidemark round trip keeps everything (LSIs, streams, TTL,
//! SSE) without the caller restating the schema.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tidemark_core::RequestContext;
use tidemark_model::dynamodb as m;

use super::PortError;
use crate::backup::BackupRecord;
use crate::backup::describe::{key_schema, projection};
use crate::table::{IndexDef, Status, TableRecord};
use crate::table_validate as v;

/// `tidemark-table.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TableFile {
    /// Format version of this file (1).
    pub tidemark_table_version: u32,
    pub backup_arn: String,
    pub backup_name: String,
    /// The AWS ImportTable shape (no LSIs, streams or TTL: ImportTable has none).
    pub table_creation_parameters: m::TableCreationParameters,
    /// tidemark's full table record (internal format; used when present and readable).
    pub table: Value,
}

pub fn table_file(b: &BackupRecord) -> Result<TableFile, PortError> {
    Ok(TableFile {
        tidemark_table_version: 1,
        backup_arn: b.arn.clone(),
        backup_name: b.name.clone(),
        table_creation_parameters: parameters_of(&b.source),
        table: serde_json::to_value(&b.source).map_err(PortError::internal)?,
    })
}

fn throughput(t: &crate::table::Throughput) -> m::ProvisionedThroughput {
    m::ProvisionedThroughput {
        read_capacity_units: Some(t.read),
        write_capacity_units: Some(t.write),
    }
}

/// The TableCreationParameters that recreate `t` through AWS ImportTable.
pub fn parameters_of(t: &TableRecord) -> m::TableCreationParameters {
    let ppr = t.is_pay_per_request();
    let gsis: Vec<m::GlobalSecondaryIndex> = t
        .gsis
        .iter()
        .filter(|g| g.status != Status::Deleting)
        .map(|g| m::GlobalSecondaryIndex {
            index_name: Some(g.name.clone()),
            key_schema: Some(key_schema(&g.key)),
            projection: Some(projection(g)),
            provisioned_throughput: if ppr {
                None
            } else {
                g.throughput.as_ref().map(throughput)
            },
            ..Default::default()
        })
        .collect();
    m::TableCreationParameters {
        table_name: Some(t.name.clone()),
        attribute_definitions: Some(
            t.attribute_definitions
                .iter()
                .map(|d| m::AttributeDefinition {
                    attribute_name: Some(d.name.clone()),
                    attribute_type: Some(d.ty.clone()),
                })
                .collect(),
        ),
        key_schema: Some(key_schema(&t.key)),
        billing_mode: Some(t.billing_mode.clone()),
        provisioned_throughput: (!ppr).then(|| throughput(&t.throughput)),
        sse_specification: t.sse.as_ref().map(|s| m::SSESpecification {
            enabled: Some(true),
            sse_type: s.sse_type.clone(),
            kms_master_key_id: s.kms_key_arn.clone(),
        }),
        global_secondary_indexes: (!gsis.is_empty()).then_some(gsis),
        ..Default::default()
    }
}

/// DynamoDB's table-name rule: 3–255 of `[a-zA-Z0-9_.-]`.
pub fn check_name(what: &str, name: &str) -> Result<(), PortError> {
    let ok = (3..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(PortError::Validation(format!(
            "{what} must be 3 to 255 characters of [a-zA-Z0-9_.-]: {name:?}"
        )))
    }
}

/// A source table record from ImportTable-style parameters, validated like CreateTable.
pub fn record_from_parameters(
    ctx: &RequestContext,
    p: &m::TableCreationParameters,
    now_ms: i64,
) -> Result<TableRecord, PortError> {
    if p.vector_indexes.is_some() {
        return Err(PortError::Validation(
            "tidemark does not support VectorIndexes".into(),
        ));
    }
    let name = p.table_name.clone().unwrap_or_default();
    check_name("TableCreationParameters.TableName", &name)?;
    let defs = v::attribute_definitions(p.attribute_definitions.as_ref())?;
    if let Some(d) = defs
        .iter()
        .find(|d| !matches!(d.ty.as_str(), "S" | "N" | "B"))
    {
        return Err(PortError::Validation(format!(
            "AttributeType of {} must be S, N or B, not {:?}",
            d.name, d.ty
        )));
    }
    let key = v::key_schema(p.key_schema.as_ref(), &defs, "keySchema")?;
    let (billing_mode, throughput) =
        v::billing(p.billing_mode.as_deref(), p.provisioned_throughput.as_ref())?;
    let ppr = billing_mode == "PAY_PER_REQUEST";
    let gsis = v::gsis(p.global_secondary_indexes.as_ref(), &[], &defs, ppr)?;
    let all: Vec<&IndexDef> = gsis.iter().collect();
    v::all_definitions_used(&defs, &key, &all)?;
    Ok(TableRecord {
        name: name.clone(),
        table_id: tidemark_core::ids::uuid_request_id(),
        arn: ctx.arn("dynamodb", &format!("table/{name}")),
        status: Status::Active,
        created_ms: now_ms,
        attribute_definitions: defs,
        key,
        billing_mode,
        last_pay_per_request_ms: ppr.then_some(now_ms),
        throughput,
        lsis: Vec::new(),
        gsis,
        stream: None,
        sse: crate::tables::sse(p.sse_specification.as_ref(), ctx),
        table_class: None,
        table_class_updated_ms: None,
        deletion_protection: false,
        tags: Vec::new(),
        ttl: None,
        change_log: false,
        restore: None,
        warm: None,
    })
}

/// The source record carried by a tidemark export, re-homed into the importing scope: a
/// fresh incarnation id and an ARN in `ctx`'s account and region.
pub fn record_from_table_file(
    ctx: &RequestContext,
    file: &TableFile,
) -> Result<TableRecord, PortError> {
    let mut t: TableRecord = serde_json::from_value(file.table.clone()).map_err(|e| {
        PortError::InvalidExport(format!(
            "tidemark-table.json: unreadable table record ({e}); pass TableCreationParameters instead"
        ))
    })?;
    t.table_id = tidemark_core::ids::uuid_request_id();
    t.arn = ctx.arn("dynamodb", &format!("table/{}", t.name));
    t.status = Status::Active;
    t.change_log = false;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tidemark_core::AccountId;

    fn ctx() -> RequestContext {
        RequestContext::new(AccountId::default_account(), "us-east-1", "t")
    }

    fn params(json: &str) -> m::TableCreationParameters {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn parameters_round_trip_through_a_record() {
        let p = params(
            r#"{"TableName":"Music","BillingMode":"PAY_PER_REQUEST",
                "AttributeDefinitions":[{"AttributeName":"a","AttributeType":"S"},
                                        {"AttributeName":"g","AttributeType":"N"}],
                "KeySchema":[{"AttributeName":"a","KeyType":"HASH"}],
                "GlobalSecondaryIndexes":[{"IndexName":"byG",
                    "KeySchema":[{"AttributeName":"g","KeyType":"HASH"}],
                    "Projection":{"ProjectionType":"ALL"}}]}"#,
        );
        let t = record_from_parameters(&ctx(), &p, 5).unwrap();
        assert_eq!(t.name, "Music");
        assert_eq!(t.gsis.len(), 1);
        assert_eq!(t.key.hash.name, "a");
        let back = parameters_of(&t);
        assert_eq!(back.key_schema, p.key_schema);
        assert_eq!(back.attribute_definitions, p.attribute_definitions);
        assert_eq!(
            back.global_secondary_indexes.unwrap()[0]
                .index_name
                .as_deref(),
            Some("byG")
        );
    }

    #[test]
    fn bad_parameters_are_refused() {
        let no_key = params(
            r#"{"TableName":"Music","BillingMode":"PAY_PER_REQUEST",
                "AttributeDefinitions":[{"AttributeName":"a","AttributeType":"S"}]}"#,
        );
        assert!(matches!(
            record_from_parameters(&ctx(), &no_key, 0),
            Err(PortError::Validation(_))
        ));
        let bad_type = params(
            r#"{"TableName":"Music","BillingMode":"PAY_PER_REQUEST",
                "AttributeDefinitions":[{"AttributeName":"a","AttributeType":"SS"}],
                "KeySchema":[{"AttributeName":"a","KeyType":"HASH"}]}"#,
        );
        assert!(matches!(
            record_from_parameters(&ctx(), &bad_type, 0),
            Err(PortError::Validation(m)) if m.contains("S, N or B")
        ));
        assert!(check_name("TableName", "ab").is_err());
        assert!(check_name("TableName", "a b c").is_err());
        assert!(check_name("TableName", "My_table-1.x").is_ok());
    }
}
