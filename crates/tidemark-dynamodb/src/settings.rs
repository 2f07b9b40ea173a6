//! Table settings that are not lifecycle changes: tags, TTL, and the SDK plumbing
//! operations DescribeEndpoints and DescribeLimits.

use tidemark_core::RequestContext;
use tidemark_model::dynamodb as m;

use crate::error::{DdbError, DdbResult};
use crate::service::DynamoDbService;
use crate::table::{self, TableRecord, TtlDef};

/// Most tags one table may carry.
pub const MAX_TAGS: usize = 50;

/// The table named by a resource ARN of the caller's account and region (another account's
/// ARN: AccessDeniedException, `table::name_in_arn`).
fn table_by_arn(
    s: &DynamoDbService,
    ctx: &RequestContext,
    txn: &dyn tidemark_store::Reads,
    arn: &str,
) -> DdbResult<TableRecord> {
    let name = table::name_in_arn(ctx, arn)?;
    let _ = s;
    match table::load(txn, ctx, name)? {
        Some(t) if t.status != table::Status::Deleting => Ok(t),
        _ => Err(DdbError::NotFound(format!(
            "Requested resource not found: ResourceArn: {arn} not found"
        ))),
    }
}

pub fn tag_resource(
    s: &DynamoDbService,
    ctx: &RequestContext,
    input: m::TagResourceInput,
) -> DdbResult<()> {
    let arn = input.resource_arn.unwrap_or_default();
    let mut txn = s.store.write()?;
    let mut t = table_by_arn(s, ctx, &*txn, &arn)?;
    for tag in input.tags.unwrap_or_default() {
        let (k, v) = (tag.key.unwrap_or_default(), tag.value.unwrap_or_default());
        match t.tags.iter_mut().find(|(x, _)| *x == k) {
            Some(slot) => slot.1 = v,
            None => t.tags.push((k, v)),
        }
    }
    if t.tags.len() > MAX_TAGS {
        return Err(DdbError::LimitExceeded(format!(
            "The number of tags for the resource exceeds the limit of {MAX_TAGS}"
        )));
    }
    table::save(&mut *txn, ctx, &t)?;
    txn.commit()?;
    Ok(())
}

pub fn untag_resource(
    s: &DynamoDbService,
    ctx: &RequestContext,
    input: m::UntagResourceInput,
) -> DdbResult<()> {
    let arn = input.resource_arn.unwrap_or_default();
    let mut txn = s.store.write()?;
    let mut t = table_by_arn(s, ctx, &*txn, &arn)?;
    let keys = input.tag_keys.unwrap_or_default();
    t.tags.retain(|(k, _)| !keys.contains(k));
    table::save(&mut *txn, ctx, &t)?;
    txn.commit()?;
    Ok(())
}

pub fn list_tags_of_resource(
    s: &DynamoDbService,
    ctx: &RequestContext,
    input: m::ListTagsOfResourceInput,
) -> DdbResult<m::ListTagsOfResourceOutput> {
    let arn = input.resource_arn.unwrap_or_default();
    let txn = s.store.read()?;
    let t = table_by_arn(s, ctx, &*txn, &arn)?;
    let tags = t
        .tags
        .into_iter()
        .map(|(k, v)| m::Tag {
            key: Some(k),
            value: Some(v),
        })
        .collect();
    Ok(m::ListTagsOfResourceOutput {
        tags: Some(tags),
        next_token: None,
    })
}

/// DynamoDB accepts one UpdateTimeToLive per table per hour ("It can take up to one hour for
/// the change to fully process. Any additional UpdateTimeToLive calls for the same table during
/// this one hour duration result in a ValidationException").
const TTL_CHANGE_INTERVAL_MS: i64 = 3_600_000;

/// TTL takes effect at once in tidemark (AWS shows ENABLING for up to an hour); a second change
/// within the hour is refused as in AWS (advance the virtual clock to make another).
pub fn update_time_to_live(
    s: &DynamoDbService,
    ctx: &RequestContext,
    input: m::UpdateTimeToLiveInput,
) -> DdbResult<m::UpdateTimeToLiveOutput> {
    let name = table::name_of(ctx, input.table_name.as_deref().unwrap_or_default())?;
    let spec = input.time_to_live_specification.unwrap_or_default();
    let enable = spec.enabled.unwrap_or(false);
    let attribute = spec.attribute_name.clone().unwrap_or_default();
    let mut txn = s.store.write()?;
    let mut t = table::require(&*txn, ctx, &name)?;
    if !t.usable() {
        return Err(DdbError::table_not_found(&name));
    }
    let current = t.ttl.as_ref().filter(|d| d.enabled);
    match (enable, current) {
        (true, Some(_)) => return Err(DdbError::validation("TimeToLive is already enabled")),
        (false, None) => return Err(DdbError::validation("TimeToLive is already disabled")),
        (false, Some(c)) if c.attribute != attribute => {
            return Err(DdbError::validation(format!(
                "TimeToLive is active on a different AttributeName: current AttributeName is {}",
                c.attribute
            )));
        }
        _ => {}
    }
    let now_ms = s.engine.now().as_millisecond();
    if let Some(last) = t.ttl.as_ref().and_then(|d| d.modified_ms)
        && now_ms - last < TTL_CHANGE_INTERVAL_MS
    {
        return Err(DdbError::validation(
            "Time to live has been modified multiple times within a fixed interval",
        ));
    }
    t.ttl = Some(TtlDef {
        attribute,
        enabled: enable,
        modified_ms: Some(now_ms),
    });
    table::save(&mut *txn, ctx, &t)?;
    txn.commit()?;
    if enable {
        crate::ttl::ensure_sweeper(&s.engine)?;
    }
    Ok(m::UpdateTimeToLiveOutput {
        time_to_live_specification: Some(spec),
    })
}

pub fn describe_time_to_live(
    s: &DynamoDbService,
    ctx: &RequestContext,
    input: m::DescribeTimeToLiveInput,
) -> DdbResult<m::DescribeTimeToLiveOutput> {
    let name = table::name_of(ctx, input.table_name.as_deref().unwrap_or_default())?;
    let txn = s.store.read()?;
    let t = table::require(&*txn, ctx, &name)?;
    let d = match t.ttl.filter(|d| d.enabled) {
        Some(d) => m::TimeToLiveDescription {
            time_to_live_status: Some("ENABLED".into()),
            attribute_name: Some(d.attribute),
        },
        None => m::TimeToLiveDescription {
            time_to_live_status: Some("DISABLED".into()),
            attribute_name: None,
        },
    };
    Ok(m::DescribeTimeToLiveOutput {
        time_to_live_description: Some(d),
    })
}

pub fn describe_endpoints(s: &DynamoDbService) -> m::DescribeEndpointsResponse {
    m::DescribeEndpointsResponse {
        endpoints: Some(vec![m::Endpoint {
            address: Some(s.endpoint_address()),
            cache_period_in_minutes: Some(1440),
        }]),
    }
}

/// DynamoDB's default quotas (Developer Guide, "Service, account, and table quotas").
pub fn describe_limits() -> m::DescribeLimitsOutput {
    m::DescribeLimitsOutput {
        account_max_read_capacity_units: Some(80_000),
        account_max_write_capacity_units: Some(80_000),
        table_max_read_capacity_units: Some(40_000),
        table_max_write_capacity_units: Some(40_000),
    }
}
