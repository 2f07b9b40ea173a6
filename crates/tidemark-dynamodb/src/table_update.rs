//! UpdateTable: billing mode and throughput, GSI create/update/delete, streams, encryption,
//! table class and deletion protection. Everything but a deletion-protection flip passes
//! through UPDATING and is settled by the `dynamodb.table.settle` job.

use tidemark_core::RequestContext;
use tidemark_model::dynamodb as m;

use crate::describe::describe;
use crate::error::{DdbError, DdbResult};
use crate::jobs::{self, TableRef};
use crate::service::DynamoDbService;
use crate::table::{self, Status, StreamDef, TableRecord, Throughput, Warm};
use crate::table_validate as v;
use crate::tables::{in_use, sse, stream_label, unsupported};

/// Applies a throughput change, recording increase/decrease times.
fn change_throughput(old: &Throughput, new: &Throughput, now_ms: i64) -> Throughput {
    let mut t = old.clone();
    if new.read > old.read || new.write > old.write {
        t.last_increase_ms = Some(now_ms);
    }
    if new.read < old.read || new.write < old.write {
        t.last_decrease_ms = Some(now_ms);
        t.decreases_today += 1;
    }
    t.read = new.read;
    t.write = new.write;
    t
}

pub fn update_table(
    s: &DynamoDbService,
    ctx: &RequestContext,
    input: m::UpdateTableInput,
) -> DdbResult<m::UpdateTableOutput> {
    if input.replica_updates.is_some() {
        return Err(unsupported("ReplicaUpdates"));
    }
    if input.global_table_witness_updates.is_some() {
        return Err(unsupported("GlobalTableWitnessUpdates"));
    }
    if input.vector_index_updates.is_some() {
        return Err(unsupported("VectorIndexUpdates"));
    }
    let name = table::name_of(ctx, input.table_name.as_deref().unwrap_or_default())?;
    let now_ms = s.engine.now().as_millisecond();
    let mut txn = s.store.write()?;
    let mut t = table::require(&*txn, ctx, &name)?;
    if t.status != Status::Active {
        return Err(in_use(&t));
    }
    let before = t.clone();
    // Billing mode and throughput.
    let mode = input
        .billing_mode
        .clone()
        .unwrap_or_else(|| t.billing_mode.clone());
    match (mode.as_str(), &input.provisioned_throughput) {
        ("PAY_PER_REQUEST", Some(_)) => {
            return Err(DdbError::validation(
                "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
            ));
        }
        ("PROVISIONED", None) if t.is_pay_per_request() => {
            return Err(DdbError::validation(
                "One or more parameter values were invalid: ProvisionedThroughput must be specified when BillingMode is PROVISIONED",
            ));
        }
        ("PROVISIONED", Some(pt)) => {
            let new = v::throughput(pt)?;
            if !t.is_pay_per_request()
                && new.read == t.throughput.read
                && new.write == t.throughput.write
                && input.billing_mode.is_none()
            {
                return Err(DdbError::validation(format!(
                    "The provisioned throughput for the table will not change. The requested value equals the current value. Current ReadCapacityUnits provisioned for the table: {}. Requested ReadCapacityUnits: {}. Current WriteCapacityUnits provisioned for the table: {}. Requested WriteCapacityUnits: {}. Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits.",
                    t.throughput.read, new.read, t.throughput.write, new.write
                )));
            }
            t.throughput = change_throughput(&t.throughput, &new, now_ms);
        }
        _ => {}
    }
    if mode != t.billing_mode {
        if mode == "PAY_PER_REQUEST" {
            t.last_pay_per_request_ms = Some(now_ms);
            t.throughput = Throughput {
                read: 0,
                write: 0,
                ..t.throughput.clone()
            };
            for g in &mut t.gsis {
                g.throughput = None;
            }
        } else {
            for g in &mut t.gsis {
                g.throughput.get_or_insert_with(|| Throughput {
                    read: t.throughput.read,
                    write: t.throughput.write,
                    ..Default::default()
                });
            }
        }
        t.billing_mode = mode;
    }
    // Secondary index changes.
    let mut defs = t.attribute_definitions.clone();
    if let Some(new_defs) = &input.attribute_definitions {
        for d in v::attribute_definitions(Some(new_defs))? {
            match defs.iter().find(|x| x.name == d.name) {
                Some(x) if x.ty != d.ty => {
                    return Err(DdbError::validation(format!(
                        "One or more parameter values were invalid: Attribute {} is already defined with a different type",
                        d.name
                    )));
                }
                Some(_) => {}
                None => defs.push(d),
            }
        }
    }
    let updates = input
        .global_secondary_index_updates
        .clone()
        .unwrap_or_default();
    let online = updates
        .iter()
        .filter(|u| u.create.is_some() || u.delete.is_some())
        .count();
    if online > 1 {
        return Err(DdbError::LimitExceeded(
            "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table".into(),
        ));
    }
    for u in &updates {
        if let Some(c) = &u.create {
            let gname = c.index_name.clone().unwrap_or_default();
            if t.indexes().any(|i| i.name == gname) {
                return Err(DdbError::validation(format!(
                    "One or more parameter values were invalid: Attempt to create an index which already exists. IndexName: {gname}"
                )));
            }
            if t.gsis.len() >= v::MAX_GSIS {
                return Err(DdbError::LimitExceeded(format!(
                    "One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the per-table limit of {}",
                    v::MAX_GSIS
                )));
            }
            let mut g = v::gsi(
                &gname,
                c.key_schema.as_ref(),
                c.projection.as_ref(),
                c.provisioned_throughput.as_ref(),
                &defs,
                t.is_pay_per_request(),
                Status::Creating,
            )?;
            g.warm = v::warm(c.warm_throughput.as_ref());
            t.gsis.push(g);
        }
        if let Some(d) = &u.delete {
            let gname = d.index_name.clone().unwrap_or_default();
            let g = t.gsis.iter_mut().find(|g| g.name == gname).ok_or_else(|| {
                DdbError::NotFound(format!(
                    "Requested resource not found: Index: {gname} not found for table: {name}"
                ))
            })?;
            g.status = Status::Deleting;
        }
        if let Some(up) = &u.update {
            let gname = up.index_name.clone().unwrap_or_default();
            let ppr = t.is_pay_per_request();
            let g = t.gsis.iter_mut().find(|g| g.name == gname).ok_or_else(|| {
                DdbError::NotFound(format!(
                    "Requested resource not found: Index: {gname} not found for table: {name}"
                ))
            })?;
            if let Some(pt) = &up.provisioned_throughput {
                if ppr {
                    return Err(DdbError::validation(format!(
                        "One or more parameter values were invalid: ProvisionedThroughput should not be specified for index: {gname} when BillingMode is PAY_PER_REQUEST"
                    )));
                }
                let new = v::throughput(pt)?;
                g.throughput = Some(change_throughput(
                    &g.throughput.clone().unwrap_or_default(),
                    &new,
                    now_ms,
                ));
                g.status = Status::Updating;
            }
            if let Some(w) = v::warm(up.warm_throughput.as_ref()) {
                g.warm = Some(w.max(Warm::current(g.warm, g.throughput.as_ref())));
            }
        }
    }
    // Attribute definitions keep only what some key schema uses.
    defs.retain(|d| {
        t.key.names().contains(&d.name.as_str())
            || t.indexes()
                .any(|i| i.status != Status::Deleting && i.key.names().contains(&d.name.as_str()))
    });
    t.attribute_definitions = defs;
    // Streams, encryption, class, protection.
    if let Some(st) = &input.stream_specification {
        v::stream(st)?;
        let enabled = t.stream.as_ref().is_some_and(|s| s.enabled);
        match (st.stream_enabled == Some(true), enabled) {
            (true, true) => {
                return Err(DdbError::validation(format!(
                    "Table already has an enabled stream: {}/stream/{}",
                    t.arn,
                    t.stream
                        .as_ref()
                        .and_then(|s| s.label.clone())
                        .unwrap_or_default()
                )));
            }
            (false, false) => {
                return Err(DdbError::validation(
                    "Table already has no stream enabled".to_string(),
                ));
            }
            (true, false) => {
                t.stream = Some(StreamDef {
                    enabled: true,
                    view_type: st.stream_view_type.clone(),
                    label: Some(stream_label(now_ms)?),
                });
            }
            (false, true) => t.stream = None,
        }
    }
    if input.sse_specification.is_some() {
        t.sse = sse(input.sse_specification.as_ref(), ctx);
    }
    if let Some(c) = &input.table_class
        && t.table_class.as_deref().unwrap_or("STANDARD") != c
    {
        t.table_class = Some(c.clone());
        t.table_class_updated_ms = Some(now_ms);
    }
    if let Some(p) = input.deletion_protection_enabled {
        t.deletion_protection = p;
    }
    keep_warm(&mut t, &before, v::warm(input.warm_throughput.as_ref()));
    // A WarmThroughput at or below the current one changes nothing and is no error.
    if t == before && input.deletion_protection_enabled.is_none() && input.warm_throughput.is_none()
    {
        return Err(DdbError::validation(
            "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required",
        ));
    }
    // Only a deletion-protection flip is instant; everything else passes through UPDATING.
    let only_protection = TableRecord {
        deletion_protection: before.deletion_protection,
        ..t.clone()
    } == before;
    if !only_protection {
        t.status = Status::Updating;
    }
    table::save(&mut *txn, ctx, &t)?;
    let description = describe(&*txn, &t)?;
    txn.commit()?;
    if !only_protection {
        jobs::submit_settle(&s.engine, &TableRef::new(ctx, &name, &t.table_id))?;
    }
    Ok(m::UpdateTableOutput {
        table_description: Some(description),
    })
}

/// Warm throughput after an update: raised to a `requested` value, kept when provisioned
/// throughput falls (it never decreases), and stored only when it differs from what the
/// record would show without it (so an update that changes nothing leaves the record equal).
fn keep_warm(t: &mut TableRecord, before: &TableRecord, requested: Option<Warm>) {
    let shown = Warm::current(before.warm, Some(&before.throughput));
    let floor = requested.map_or(shown, |r| r.max(shown));
    let now = Warm::current(t.warm, Some(&t.throughput));
    raise_to(&mut t.warm, floor, now);
    for g in &mut t.gsis {
        let Some(old) = before.gsis.iter().find(|o| o.name == g.name) else {
            continue;
        };
        let shown = Warm::current(old.warm, old.throughput.as_ref());
        let now = Warm::current(g.warm, g.throughput.as_ref());
        raise_to(&mut g.warm, shown, now);
    }
}

/// Stores `floor.max(now)` when the value shown (`now`) is not already `floor`.
fn raise_to(stored: &mut Option<Warm>, floor: Warm, now: Warm) {
    if floor != now {
        *stored = Some(floor.max(now));
    }
}
