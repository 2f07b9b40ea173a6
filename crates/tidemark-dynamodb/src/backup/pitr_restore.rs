//! RestoreTableToPointInTime (reference §2.11), validated in the reference's order; the
//! items are the source's state at the resolved time (`pitr::items_at_stream`), written by
//! the shared restore job. Settings come from the source's current definition plus
//! overrides.

use tidemark_core::RequestContext;
use tidemark_model::dynamodb as m;

use super::error::{BkError, BkResult};
use super::overrides::{Overrides, target_record};
use super::pitr;
use super::restore::{self, Source};
use crate::service::DynamoDbService;

fn iso(ms: i64) -> BkResult<String> {
    let t = tidemark_core::Timestamp::from_millisecond(ms).map_err(BkError::internal)?;
    Ok(t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
}

pub fn restore_table_to_point_in_time(
    s: &DynamoDbService,
    ctx: &RequestContext,
    input: m::RestoreTableToPointInTimeInput,
) -> BkResult<m::RestoreTableToPointInTimeOutput> {
    // 1. Shape.
    let source_name = match (&input.source_table_arn, &input.source_table_name) {
        (Some(_), Some(_)) => {
            return Err(BkError::validation(
                "Invalid Request: Exactly one of: sourceTableArn, sourceTableName must be specified",
            ));
        }
        (None, None) => {
            return Err(BkError::validation("The parameter 'TableName' is required"));
        }
        (None, Some(n)) => n.clone(),
        (Some(a), None) => {
            let prefix = ctx.arn("dynamodb", "table/");
            match a.strip_prefix(prefix.as_str()) {
                Some(n) if !n.is_empty() && !n.contains('/') => n.to_string(),
                _ if a.starts_with("arn:") && a.contains(":table/") => {
                    return Err(BkError::validation(format!(
                        "Invalid Request: the account or region of sourceTableArn {a} does not match the request"
                    )));
                }
                _ => return Err(BkError::validation("sourceTableArn is not a valid ARN")),
            }
        }
    };
    let latest = input.use_latest_restorable_time == Some(true);
    match (&input.restore_date_time, latest) {
        (Some(_), true) => {
            return Err(BkError::validation(
                "Invalid Request: Both RestoreDateTime and UseLatestRestorableTime cannot be set for point-in-time restore request.",
            ));
        }
        (None, false) => {
            return Err(BkError::validation(
                "Invalid Request: Either one of RestoreDateTime or UseLatestRestorableTime must be specified, but not both",
            ));
        }
        _ => {}
    }
    let target = input.target_table_name.clone().unwrap_or_default();
    let now_ms = s.engine.now().as_millisecond();
    let mut txn = s.store.write()?;
    // 2. Source table.
    let source = pitr::admit(&*txn, ctx, &source_name)?;
    // 3. PITR on.
    let Some(st) = pitr::load_state(&*txn, &source.table_id)? else {
        return Err(BkError::PitrUnavailable(format!(
            "Point in time recovery is not enabled for table '{source_name}'"
        )));
    };
    // 4. Time window.
    let (earliest, latest_ms) = (st.earliest_ms(now_ms), st.latest_ms(now_ms));
    let at_ms = match &input.restore_date_time {
        Some(t) => t.as_millis(),
        None => latest_ms,
    };
    if at_ms < earliest || at_ms > latest_ms {
        return Err(BkError::InvalidRestoreTime(format!(
            "RestoreDateTime '{}' must be within EarliestRestorableDateTime '{}' and LatestRestorableDateTime '{}'",
            iso(at_ms)?,
            iso(earliest)?,
            iso(latest_ms)?
        )));
    }
    // 5. Target (and overrides, which need the source definition).
    restore::check_target(&*txn, ctx, &target)?;
    let mut record = target_record(
        ctx,
        &source,
        &target,
        now_ms,
        &Overrides {
            billing_mode: input.billing_mode_override.as_deref(),
            gsis: input.global_secondary_index_override.as_ref(),
            lsis: input.local_secondary_index_override.as_ref(),
            throughput: input.provisioned_throughput_override.as_ref(),
            on_demand: input.on_demand_throughput_override.as_ref(),
            sse: input.sse_specification_override.as_ref(),
        },
    )?;
    record.table_id = restore::appending_table_id(&*s.store.read()?)?;
    let summary = m::RestoreSummary {
        source_backup_arn: None,
        source_table_arn: Some(source.arn.clone()),
        restore_date_time: Some(crate::describe::timestamp(at_ms)?),
        restore_in_progress: Some(true),
    };
    // 6. Concurrency (inside `begin`).
    let source_ref = Source::PointInTime {
        table_id: source.table_id.clone(),
        at_ms,
    };
    let d = restore::begin(ctx, &mut *txn, &record, source_ref, summary)?;
    txn.commit()?;
    restore::submit(s, ctx, &target)?;
    Ok(m::RestoreTableToPointInTimeOutput {
        table_description: Some(d),
    })
}
