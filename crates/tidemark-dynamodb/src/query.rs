//! Query and Scan: resolve the source, compile the expressions, turn the key condition into
//! one byte range of the ordered store, and run `read::run` for one page.

use std::ops::Bound;

use tidemark_core::RequestContext;
use tidemark_model::Reply;
use tidemark_model::dynamodb as m;
use tidemark_store::keys;

use crate::attr::encode_key_part;
use crate::convert::{item_from_model, item_to_model, values_from_model};
use crate::error::{DdbError, DdbResult};
use crate::expr::{CmpOp, ExpressionContext, ProjectionExpr, RangeCondition};
use crate::legacy;
use crate::read::{self, Page, Source};
use crate::service::DynamoDbService;
use crate::table;

/// `(count_only, all_attributes)` from `Select`, with DynamoDB's consistency rules; also
/// refuses a projection that reaches inside a key attribute of the table or index.
/// `projection_param` names the parameter the projection came from (ProjectionExpression or
/// the legacy AttributesToGet).
fn select(
    sel: Option<&str>,
    projection: Option<&ProjectionExpr>,
    projection_param: &str,
    src: &Source<'_>,
) -> DdbResult<(bool, bool)> {
    if let Some(p) = projection {
        let ikeys = src.index.map(|(i, _)| i.key.names()).unwrap_or_default();
        p.check_key_paths(&src.table.key.names(), &ikeys)?;
    }
    let default = if projection.is_some() {
        "SPECIFIC_ATTRIBUTES"
    } else if src.index.is_some() {
        "ALL_PROJECTED_ATTRIBUTES"
    } else {
        "ALL_ATTRIBUTES"
    };
    let sel = sel.unwrap_or(default);
    if projection.is_some() && sel != "SPECIFIC_ATTRIBUTES" {
        return Err(DdbError::validation(format!(
            "Cannot specify the {projection_param} when choosing to get {sel}"
        )));
    }
    match sel {
        "SPECIFIC_ATTRIBUTES" if projection.is_none() => Err(DdbError::validation(
            "Select type SPECIFIC_ATTRIBUTES requires either AttributesToGet or ProjectionExpression",
        )),
        "ALL_PROJECTED_ATTRIBUTES" if src.index.is_none() => Err(DdbError::validation(
            "One or more parameter values were invalid: Select type ALL_PROJECTED_ATTRIBUTES is supported only for index queries",
        )),
        "ALL_ATTRIBUTES" => match src.index {
            Some((i, true)) if i.projection_type != "ALL" => Err(DdbError::validation(format!(
                "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index {} because its projection type is not ALL",
                i.name
            ))),
            _ => Ok((false, true)),
        },
        "COUNT" => Ok((true, false)),
        _ => Ok((false, false)),
    }
}

fn limit(l: Option<i32>) -> Option<usize> {
    l.map(|l| l.max(1) as usize)
}

fn after(prefix: &[u8]) -> Bound<Vec<u8>> {
    keys::prefix_end(prefix).map_or(Bound::Unbounded, Bound::Excluded)
}

/// The byte range holding the items of one partition that can satisfy the range condition
/// (the read loop still checks the condition on each item).
fn range_bounds(
    partition: &[u8],
    cond: Option<&RangeCondition>,
) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    let with = |v: &crate::attr::AttributeValue| {
        let mut k = partition.to_vec();
        k.extend(encode_key_part(v).unwrap_or_default());
        k
    };
    let whole = (Bound::Included(partition.to_vec()), after(partition));
    let Some(cond) = cond else { return whole };
    match cond {
        RangeCondition::Compare(CmpOp::Eq, v) => (Bound::Included(with(v)), after(&with(v))),
        RangeCondition::Compare(CmpOp::Lt, v) => (whole.0, Bound::Excluded(with(v))),
        RangeCondition::Compare(CmpOp::Le, v) => (whole.0, after(&with(v))),
        RangeCondition::Compare(CmpOp::Gt, v) => (after(&with(v)), whole.1),
        RangeCondition::Compare(CmpOp::Ge, v) => (Bound::Included(with(v)), whole.1),
        RangeCondition::Between(lo, hi) => (Bound::Included(with(lo)), after(&with(hi))),
        _ => whole,
    }
}

/// The response of a page read with [`Page::raw`]: the typed output when the items were
/// decoded, else its JSON text with the stored item JSON spliced in as `Items`. `rest` is the
/// output without `Items`; since `Items` is the first member of Query's and Scan's outputs,
/// the text is byte for byte what serializing the typed output gives.
fn reply<O: serde::Serialize>(raw: Option<Vec<Vec<u8>>>, rest: O) -> DdbResult<Reply<O>> {
    let Some(items) = raw else {
        return Ok(Reply::Typed(rest));
    };
    let tail = serde_json::to_vec(&rest).map_err(DdbError::internal)?;
    let len = items.iter().map(|i| i.len() + 1).sum::<usize>();
    let mut out = Vec::with_capacity(len + tail.len() + 16);
    out.extend_from_slice(b"{\"Items\":[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(item);
    }
    out.push(b']');
    // `tail` is `{}` or `{"Count":…,…}`.
    match tail.get(1..) {
        Some(b"}") | None => out.push(b'}'),
        Some(members) => {
            out.push(b',');
            out.extend_from_slice(members);
        }
    }
    Ok(Reply::Json(out))
}

/// The typed output of a reply that was asked for without [`Page::raw`].
fn typed<O>(r: Reply<O>) -> DdbResult<O> {
    match r {
        Reply::Typed(o) => Ok(o),
        Reply::Json(_) => Err(DdbError::internal("page answered as JSON text unasked")),
    }
}

pub fn query(
    s: &DynamoDbService,
    ctx: &RequestContext,
    input: m::QueryInput,
) -> DdbResult<m::QueryOutput> {
    typed(query_reply(s, ctx, input, false)?)
}

pub fn scan(
    s: &DynamoDbService,
    ctx: &RequestContext,
    input: m::ScanInput,
) -> DdbResult<m::ScanOutput> {
    typed(scan_reply(s, ctx, input, false)?)
}

/// Query; with `raw`, unreshaped items go out as their stored JSON (see [`reply`]).
pub fn query_reply(
    s: &DynamoDbService,
    ctx: &RequestContext,
    input: m::QueryInput,
    raw: bool,
) -> DdbResult<Reply<m::QueryOutput>> {
    // KeyConditions goes with FilterExpression or ProjectionExpression, as in DynamoDB; only
    // with KeyConditionExpression is it a mix.
    legacy::reject_mixing(
        &[
            ("AttributesToGet", input.attributes_to_get.is_some()),
            ("QueryFilter", input.query_filter.is_some()),
            ("ConditionalOperator", input.conditional_operator.is_some()),
            (
                "KeyConditions",
                input.key_conditions.is_some() && input.key_condition_expression.is_some(),
            ),
        ],
        &[
            (
                "ProjectionExpression",
                input.projection_expression.is_some(),
            ),
            ("FilterExpression", input.filter_expression.is_some()),
            (
                "KeyConditionExpression",
                input.key_condition_expression.is_some(),
            ),
        ],
    )?;
    let name = table::name_of(ctx, input.table_name.as_deref().unwrap_or_default())?;
    let values = values_from_model(input.expression_attribute_values)?;
    let esk = input.exclusive_start_key.map(item_from_model).transpose()?;
    let txn = s.store.read()?;
    let t = table::require_usable(&*txn, ctx, &name)?;
    let consistent = input.consistent_read.unwrap_or(false);
    let src = Source::new(&t, input.index_name.as_deref(), consistent)?;
    let mut ectx =
        ExpressionContext::new(input.expression_attribute_names.as_ref(), values.as_ref())?;
    let kc = match (
        input.key_condition_expression.as_deref(),
        input.key_conditions,
    ) {
        (Some(kce), _) => ectx.key_condition(kce, &src.key().schema())?,
        (None, Some(kcs)) => legacy::key_conditions(kcs, &src.key().schema())?,
        (None, None) => {
            return Err(DdbError::validation(
                "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
            ));
        }
    };
    let (filter, filter_param) = match input.filter_expression.as_deref() {
        Some(f) => (Some(ectx.filter(f)?), "Filter Expression"),
        None => (
            legacy::filter(input.query_filter, input.conditional_operator.as_deref())?,
            "QueryFilter",
        ),
    };
    let (projection, projection_param) = legacy::projection(
        &mut ectx,
        input.projection_expression.as_deref(),
        input.attributes_to_get,
    )?;
    ectx.finish("FilterExpression and KeyConditionExpression are null")?;
    // The key attributes of what is queried belong in the key condition, not the filter.
    if let Some(f) = &filter {
        let keys = src.key().names();
        if let Some(k) = f
            .condition()
            .root_names()
            .into_iter()
            .find(|n| keys.contains(n))
        {
            return Err(DdbError::validation(format!(
                "{filter_param} can only contain non-primary key attributes: Primary key attribute: {k}"
            )));
        }
    }
    let (count_only, all_attributes) = select(
        input.select.as_deref(),
        projection.as_ref(),
        projection_param,
        &src,
    )?;
    let mut partition = src.prefix();
    partition.extend(encode_key_part(&kc.hash.1).unwrap_or_default());
    let range = kc.range.as_ref().map(|(n, c)| (n.as_str(), c));
    let (start, end) = range_bounds(&partition, range.map(|r| r.1));
    let exclusive_start = esk.as_ref().map(|k| src.start_key(k)).transpose()?;
    let page = Page {
        start,
        end,
        forward: input.scan_index_forward.unwrap_or(true),
        exclusive_start,
        limit: limit(input.limit),
        range,
        filter: filter.as_ref(),
        projection: projection.as_ref(),
        count_only,
        all_attributes,
        consistent,
        segment: None,
        raw,
    };
    let mut r = read::run(&*txn, &src, &page)?;
    let raw_items = r.raw.take();
    let out = m::QueryOutput {
        items: (!count_only && raw_items.is_none())
            .then(|| r.items.into_iter().map(item_to_model).collect()),
        count: Some(r.count as i32),
        scanned_count: Some(r.scanned as i32),
        last_evaluated_key: r.last_key.map(item_to_model),
        consumed_capacity: r
            .consumed
            .render(&t.name, input.return_consumed_capacity.as_deref()),
    };
    reply(raw_items, out)
}

/// Scan; with `raw`, unreshaped items go out as their stored JSON (see [`reply`]).
pub fn scan_reply(
    s: &DynamoDbService,
    ctx: &RequestContext,
    input: m::ScanInput,
    raw: bool,
) -> DdbResult<Reply<m::ScanOutput>> {
    legacy::reject_mixing(
        &[
            ("AttributesToGet", input.attributes_to_get.is_some()),
            ("ScanFilter", input.scan_filter.is_some()),
            ("ConditionalOperator", input.conditional_operator.is_some()),
        ],
        &[
            (
                "ProjectionExpression",
                input.projection_expression.is_some(),
            ),
            ("FilterExpression", input.filter_expression.is_some()),
        ],
    )?;
    let segment = match (input.segment, input.total_segments) {
        (None, None) => None,
        (Some(_), None) => {
            return Err(DdbError::validation(
                "The TotalSegments parameter is required but was not present in the request when Segment parameter is present",
            ));
        }
        (None, Some(_)) => {
            return Err(DdbError::validation(
                "The Segment parameter is required but was not present in the request when parameter TotalSegments is present",
            ));
        }
        (Some(seg), Some(total)) if seg >= total => {
            return Err(DdbError::validation(format!(
                "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: {seg} is not less than TotalSegments: {total}"
            )));
        }
        (Some(seg), Some(total)) => Some((seg.max(0) as u32, total.max(1) as u32)),
    };
    let name = table::name_of(ctx, input.table_name.as_deref().unwrap_or_default())?;
    let values = values_from_model(input.expression_attribute_values)?;
    let esk = input.exclusive_start_key.map(item_from_model).transpose()?;
    let mut ectx =
        ExpressionContext::new(input.expression_attribute_names.as_ref(), values.as_ref())?;
    let filter = match input.filter_expression.as_deref() {
        Some(f) => Some(ectx.filter(f)?),
        None => legacy::filter(input.scan_filter, input.conditional_operator.as_deref())?,
    };
    let (projection, projection_param) = legacy::projection(
        &mut ectx,
        input.projection_expression.as_deref(),
        input.attributes_to_get,
    )?;
    ectx.finish("FilterExpression is null")?;
    let txn = s.store.read()?;
    let t = table::require_usable(&*txn, ctx, &name)?;
    let consistent = input.consistent_read.unwrap_or(false);
    let src = Source::new(&t, input.index_name.as_deref(), consistent)?;
    let (count_only, all_attributes) = select(
        input.select.as_deref(),
        projection.as_ref(),
        projection_param,
        &src,
    )?;
    let prefix = src.prefix();
    let exclusive_start = esk.as_ref().map(|k| src.start_key(k)).transpose()?;
    let page = Page {
        start: Bound::Included(prefix.clone()),
        end: after(&prefix),
        forward: true,
        exclusive_start,
        limit: limit(input.limit),
        range: None,
        filter: filter.as_ref(),
        projection: projection.as_ref(),
        count_only,
        all_attributes,
        consistent,
        segment,
        raw,
    };
    let mut r = read::run(&*txn, &src, &page)?;
    let raw_items = r.raw.take();
    let out = m::ScanOutput {
        items: (!count_only && raw_items.is_none())
            .then(|| r.items.into_iter().map(item_to_model).collect()),
        count: Some(r.count as i32),
        scanned_count: Some(r.scanned as i32),
        last_evaluated_key: r.last_key.map(item_to_model),
        consumed_capacity: r
            .consumed
            .render(&t.name, input.return_consumed_capacity.as_deref()),
    };
    reply(raw_items, out)
}
