//! Building a restore target's table record from a source definition plus the
//! `*Override` members of RestoreTableFromBackup / RestoreTableToPointInTime (reference
//! §2.10): what is carried over, what is reset, and the override rules.

use tidemark_core::RequestContext;
use tidemark_model::dynamodb as m;

use super::error::{BkError, BkResult};
use crate::table::{IndexDef, KeyDef, KeyPart, Status, TableRecord, Throughput};
use crate::table_validate as v;

/// The override members both restore operations share.
pub struct Overrides<'a> {
    pub billing_mode: Option<&'a str>,
    pub gsis: Option<&'a Vec<m::GlobalSecondaryIndex>>,
    pub lsis: Option<&'a Vec<m::LocalSecondaryIndex>>,
    pub throughput: Option<&'a m::ProvisionedThroughput>,
    pub on_demand: Option<&'a m::OnDemandThroughput>,
    pub sse: Option<&'a m::SSESpecification>,
}

fn no_match(name: &str) -> BkError {
    BkError::validation(format!(
        "Index {name} does not match a secondary index that existed in the source table and cannot be created during the restore operation"
    ))
}

/// Finds the source index an override entry names by key schema + projection (renaming is
/// allowed) and returns it under the entry's name.
fn matching(
    source: &[IndexDef],
    name: &str,
    key: &KeyDef,
    projection: (String, Option<Vec<String>>),
) -> BkResult<IndexDef> {
    let sorted = |v: &Option<Vec<String>>| {
        let mut v = v.clone().unwrap_or_default();
        v.sort();
        v
    };
    source
        .iter()
        .find(|i| {
            &i.key == key
                && i.projection_type == projection.0
                && sorted(&i.non_key_attributes) == sorted(&projection.1)
        })
        .map(|i| IndexDef {
            name: name.to_string(),
            status: Status::Active,
            // Backups do not record warm throughput (reference §2.4).
            warm: None,
            ..i.clone()
        })
        .ok_or_else(|| no_match(name))
}

/// The target table record: `source`'s schema, indexes, billing and SSE with the overrides
/// applied; streams, TTL, tags, PITR, deletion protection and table class start at their
/// defaults (not restored, §2.10).
pub fn target_record(
    ctx: &RequestContext,
    source: &TableRecord,
    target: &str,
    now_ms: i64,
    o: &Overrides<'_>,
) -> BkResult<TableRecord> {
    let billing = o.billing_mode.unwrap_or(&source.billing_mode).to_string();
    let ppr = billing == "PAY_PER_REQUEST";
    if o.throughput.is_some() && ppr {
        return Err(BkError::validation(
            "Cannot override ProvisionedThroughput unless BillingMode is PROVISIONED",
        ));
    }
    if o.billing_mode == Some("PROVISIONED") && o.throughput.is_none() {
        return Err(BkError::validation(
            "Must override ProvisionedThroughput if BillingMode is overridden to PROVISIONED",
        ));
    }
    if o.on_demand.is_some() && !ppr {
        return Err(BkError::validation(
            "Cannot override OnDemandThroughput unless BillingMode is PAY_PER_REQUEST",
        ));
    }
    let throughput = match (ppr, o.throughput) {
        (true, _) => Throughput::default(),
        (false, Some(t)) => v::throughput(t)?,
        (false, None) => Throughput {
            read: source.throughput.read,
            write: source.throughput.write,
            ..Default::default()
        },
    };
    let defs = &source.attribute_definitions;
    let lsis = match o.lsis {
        None => source.lsis.clone(),
        Some(list) => list
            .iter()
            .map(|l| {
                let name = l.index_name.clone().unwrap_or_default();
                let key = v::key_schema(l.key_schema.as_ref(), defs, "localSecondaryIndexOverride")
                    .map_err(|_| no_match(&name))?;
                matching(
                    &source.lsis,
                    &name,
                    &key,
                    v::projection(l.projection.as_ref())?,
                )
            })
            .collect::<BkResult<Vec<_>>>()?,
    };
    let mut gsis = match o.gsis {
        None => source.gsis.clone(),
        Some(list) => list
            .iter()
            .map(|g| {
                let name = g.index_name.clone().unwrap_or_default();
                let key =
                    v::key_schema(g.key_schema.as_ref(), defs, "globalSecondaryIndexOverride")
                        .map_err(|_| no_match(&name))?;
                let mut i =
                    matching(&source.gsis, &name, &key, v::projection(g.projection.as_ref())?)?;
                if let Some(t) = &g.provisioned_throughput {
                    if ppr {
                        return Err(BkError::validation(format!(
                            "One or more parameter values were invalid: ProvisionedThroughput should not be specified for index: {name} when BillingMode is PAY_PER_REQUEST"
                        )));
                    }
                    i.throughput = Some(v::throughput(t)?);
                }
                Ok(i)
            })
            .collect::<BkResult<Vec<_>>>()?,
    };
    for g in &mut gsis {
        g.status = Status::Active;
        g.throughput = if ppr {
            None
        } else {
            // A GSI restored into a PROVISIONED table without its own recorded throughput
            // (the source was on demand) takes the table's.
            Some(g.throughput.clone().unwrap_or_else(|| Throughput {
                read: throughput.read,
                write: throughput.write,
                ..Default::default()
            }))
        };
    }
    // Only the attribute definitions some remaining key schema uses are kept.
    let used: Vec<&str> = source
        .key
        .names()
        .into_iter()
        .chain(lsis.iter().chain(&gsis).flat_map(|i| i.key.names()))
        .collect();
    let attribute_definitions: Vec<KeyPart> = defs
        .iter()
        .filter(|d| used.contains(&d.name.as_str()))
        .cloned()
        .collect();
    let sse = match o.sse {
        Some(spec) => crate::tables::sse(Some(spec), ctx),
        None => source.sse.clone(),
    };
    Ok(TableRecord {
        name: target.to_string(),
        table_id: tidemark_core::ids::uuid_request_id(),
        arn: ctx.arn("dynamodb", &format!("table/{target}")),
        status: Status::Creating,
        created_ms: now_ms,
        attribute_definitions,
        key: source.key.clone(),
        last_pay_per_request_ms: ppr.then_some(now_ms),
        billing_mode: billing,
        throughput,
        lsis,
        gsis,
        stream: None,
        sse,
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
