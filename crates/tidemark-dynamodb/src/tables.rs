//! Table lifecycle: CreateTable, DescribeTable, DeleteTable (UpdateTable: table_update.rs). Each answers the
//! transitional status and leaves settling to the `dynamodb.table.settle` job (`jobs.rs`).

use tidemark_core::RequestContext;
use tidemark_model::dynamodb as m;

use crate::describe::describe;
use crate::error::{DdbError, DdbResult};
use crate::jobs::{self, TableRef};
use crate::service::DynamoDbService;
use crate::table::{self, IndexDef, SseDef, Status, StreamDef, TableRecord};
use crate::table_validate as v;

pub(crate) fn in_use(t: &TableRecord) -> DdbError {
    let what = match t.status {
        Status::Creating => "created",
        Status::Updating => "updated",
        Status::Deleting => "deleted",
        Status::Active => "used",
    };
    DdbError::InUse(format!(
        "Attempt to change a resource which is still in use: Table is being {what}: {}",
        t.name
    ))
}

/// Features outside tidemark's scope (global tables, vector search) are refused rather than
/// silently ignored.
pub(crate) fn unsupported(member: &str) -> DdbError {
    DdbError::validation(format!("tidemark does not support {member} yet"))
}

pub(crate) fn sse(s: Option<&m::SSESpecification>, ctx: &RequestContext) -> Option<SseDef> {
    let s = s.filter(|s| s.enabled.unwrap_or(false))?;
    let kms = s
        .kms_master_key_id
        .clone()
        .unwrap_or_else(|| "alias/aws/dynamodb".into());
    let arn = if kms.starts_with("arn:") {
        kms
    } else {
        ctx.arn("kms", &format!("key/{kms}"))
    };
    Some(SseDef {
        sse_type: Some(s.sse_type.clone().unwrap_or_else(|| "KMS".into())),
        kms_key_arn: Some(arn),
    })
}

pub(crate) fn stream_label(now_ms: i64) -> DdbResult<String> {
    // LatestStreamLabel is an ISO 8601 timestamp of the stream's creation.
    let t = crate::describe::timestamp(now_ms)?;
    Ok(t.0.strftime("%Y-%m-%dT%H:%M:%S%.3f").to_string())
}

pub fn create_table(
    s: &DynamoDbService,
    ctx: &RequestContext,
    input: m::CreateTableInput,
) -> DdbResult<m::CreateTableOutput> {
    // Validate.
    if input.vector_indexes.is_some() {
        return Err(unsupported("VectorIndexes"));
    }
    if input.global_table_source_arn.is_some() {
        return Err(unsupported("GlobalTableSourceArn"));
    }
    let name = table::name_of(ctx, input.table_name.as_deref().unwrap_or_default())?;
    v::new_table_name(&name)?;
    let defs = v::attribute_definitions(input.attribute_definitions.as_ref())?;
    let key = v::key_schema(input.key_schema.as_ref(), &defs, "keySchema")?;
    let (billing_mode, throughput) = v::billing(
        input.billing_mode.as_deref(),
        input.provisioned_throughput.as_ref(),
    )?;
    let ppr = billing_mode == "PAY_PER_REQUEST";
    let lsis = v::lsis(input.local_secondary_indexes.as_ref(), &defs, &key)?;
    let gsis = v::gsis(input.global_secondary_indexes.as_ref(), &lsis, &defs, ppr)?;
    let all: Vec<&IndexDef> = lsis.iter().chain(&gsis).collect();
    v::all_definitions_used(&defs, &key, &all)?;
    if let Some(st) = &input.stream_specification {
        v::stream(st)?;
    }
    let now_ms = s.engine.now().as_millisecond();
    let stream = match &input.stream_specification {
        Some(st) if st.stream_enabled == Some(true) => Some(StreamDef {
            enabled: true,
            view_type: st.stream_view_type.clone(),
            label: Some(stream_label(now_ms)?),
        }),
        _ => None,
    };
    let record = TableRecord {
        name: name.clone(),
        table_id: tidemark_core::ids::uuid_request_id(),
        arn: ctx.arn("dynamodb", &format!("table/{name}")),
        status: Status::Creating,
        created_ms: now_ms,
        attribute_definitions: defs,
        key,
        billing_mode,
        last_pay_per_request_ms: ppr.then_some(now_ms),
        throughput,
        lsis,
        gsis,
        stream,
        sse: sse(input.sse_specification.as_ref(), ctx),
        table_class: input.table_class.clone(),
        table_class_updated_ms: None,
        deletion_protection: input.deletion_protection_enabled.unwrap_or(false),
        tags: input
            .tags
            .unwrap_or_default()
            .into_iter()
            .map(|t| (t.key.unwrap_or_default(), t.value.unwrap_or_default()))
            .collect(),
        ttl: None,
        change_log: false,
        restore: None,
        warm: v::warm(input.warm_throughput.as_ref()),
    };
    // Load, check state, change, save.
    let mut txn = s.store.write()?;
    if table::load(&*txn, ctx, &name)?.is_some() {
        return Err(DdbError::InUse(format!("Table already exists: {name}")));
    }
    table::save(&mut *txn, ctx, &record)?;
    let description = describe(&*txn, &record)?;
    txn.commit()?;
    jobs::submit_settle(&s.engine, &TableRef::new(ctx, &name, &record.table_id))?;
    Ok(m::CreateTableOutput {
        table_description: Some(description),
    })
}

pub fn describe_table(
    s: &DynamoDbService,
    ctx: &RequestContext,
    input: m::DescribeTableInput,
) -> DdbResult<m::DescribeTableOutput> {
    let name = table::name_of(ctx, input.table_name.as_deref().unwrap_or_default())?;
    let txn = s.store.read()?;
    let t = table::require(&*txn, ctx, &name)?;
    Ok(m::DescribeTableOutput {
        table: Some(describe(&*txn, &t)?),
    })
}

pub fn delete_table(
    s: &DynamoDbService,
    ctx: &RequestContext,
    input: m::DeleteTableInput,
) -> DdbResult<m::DeleteTableOutput> {
    let name = table::name_of(ctx, input.table_name.as_deref().unwrap_or_default())?;
    let mut txn = s.store.write()?;
    let mut t = table::require(&*txn, ctx, &name)?;
    if t.status != Status::Active {
        return Err(in_use(&t));
    }
    if t.deletion_protection {
        return Err(DdbError::validation(
            "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.",
        ));
    }
    t.status = Status::Deleting;
    table::save(&mut *txn, ctx, &t)?;
    let description = describe(&*txn, &t)?;
    txn.commit()?;
    jobs::submit_settle(&s.engine, &TableRef::new(ctx, &name, &t.table_id))?;
    crate::backup::after_table_delete(&s.engine, &*s.store, &t.table_id)
        .map_err(|e| DdbError::internal(format!("scheduling the SYSTEM backup: {e}")))?;
    Ok(m::DeleteTableOutput {
        table_description: Some(description),
    })
}
