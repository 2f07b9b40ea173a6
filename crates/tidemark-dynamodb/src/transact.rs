//! TransactWriteItems and TransactGetItems: up to 100 actions on distinct items, all in one
//! store transaction. A failed condition cancels everything with
//! TransactionCanceledException and one CancellationReason per action, in request order.

use indexmap::IndexMap;
use tidemark_core::RequestContext;
use tidemark_model::OpError;
use tidemark_model::dynamodb as m;

use crate::attr::{Item, item_size};
use crate::capacity::{Consumed, read_units};
use crate::convert::{item_from_model, item_to_model, values_from_model};
use crate::error::{CONDITION_FAILED, DdbError, DdbResult};
use crate::expr::{ConditionExpr, ExpressionContext, UpdateExpr};
use crate::idempotency;
use crate::service::DynamoDbService;
use crate::storage;
use crate::table::{self, TableRecord};
use crate::write_core::{Change, check_put_item, write_item};

pub const MAX_TRANSACT_ITEMS: usize = 100;

/// One compiled write action.
struct Action {
    table: TableRecord,
    key: Item,
    put: Option<Item>,
    update: Option<UpdateExpr>,
    delete: bool,
    condition: Option<ConditionExpr>,
    return_old_on_fail: bool,
}

/// One request action's members, whichever of the four kinds it is.
struct Spec<'a> {
    table_name: Option<&'a str>,
    names: Option<&'a IndexMap<String, String>>,
    values: Option<IndexMap<String, m::AttributeValue>>,
    condition: Option<&'a str>,
    on_fail: Option<&'a str>,
    key: Option<IndexMap<String, m::AttributeValue>>,
    put: Option<IndexMap<String, m::AttributeValue>>,
    update: Option<&'a str>,
    delete: bool,
}

fn compile(
    ctx: &RequestContext,
    txn: &dyn tidemark_store::Reads,
    c: Spec<'_>,
) -> DdbResult<Action> {
    let (key, put, update, delete) = (c.key, c.put, c.update, c.delete);
    let name = table::name_of(ctx, c.table_name.unwrap_or_default())?;
    let t = table::require_usable(txn, ctx, &name)?;
    let values = values_from_model(c.values)?;
    let mut ectx = ExpressionContext::new(c.names, values.as_ref())?;
    let update = update.map(|u| ectx.update(u)).transpose()?;
    let condition = c.condition.map(|x| ectx.condition(x)).transpose()?;
    ectx.finish(match c.update {
        Some(_) => "UpdateExpression and ConditionExpression are null",
        None => "ConditionExpression is null",
    })?;
    let put = put.map(item_from_model).transpose()?;
    let key = match &put {
        Some(item) => {
            check_put_item(&t, item)?;
            t.key
                .schema()
                .key_of(item)
                .ok_or_else(|| DdbError::internal("checked item lost its key"))?
        }
        None => {
            let key = item_from_model(key.unwrap_or_default())?;
            t.key.schema().check_key(&key)?;
            key
        }
    };
    if let Some(u) = &update {
        u.check_key_attributes(&t.key.names())?;
    }
    Ok(Action {
        table: t,
        key,
        put,
        update,
        delete,
        condition,
        return_old_on_fail: c.on_fail == Some("ALL_OLD"),
    })
}

fn canceled<E>(
    reasons: Vec<m::CancellationReason>,
    wrap: impl Fn(m::TransactionCanceledException) -> E,
) -> OpError<E> {
    let codes: Vec<&str> = reasons
        .iter()
        .map(|r| r.code.as_deref().unwrap_or("None"))
        .collect();
    let message = format!(
        "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
        codes.join(", ")
    );
    OpError::Modeled(wrap(m::TransactionCanceledException {
        message: Some(message),
        cancellation_reasons: Some(reasons),
    }))
}

fn none_reason() -> m::CancellationReason {
    m::CancellationReason {
        code: Some("None".into()),
        ..Default::default()
    }
}

pub fn transact_write_items(
    s: &DynamoDbService,
    ctx: &RequestContext,
    input: m::TransactWriteItemsInput,
) -> Result<m::TransactWriteItemsOutput, OpError<m::TransactWriteItemsError>> {
    let items = input.transact_items.unwrap_or_default();
    if items.len() > MAX_TRANSACT_ITEMS {
        return Err(DdbError::validation(format!(
            "Member must have length less than or equal to {MAX_TRANSACT_ITEMS}"
        ))
        .into());
    }
    let mut txn = s.store.write().map_err(DdbError::from)?;
    let token = match &input.client_request_token {
        Some(t) => Some(idempotency::check(
            &mut *txn,
            ctx,
            t,
            &items,
            s.engine.now(),
        )?),
        None => None,
    };
    if let Some(idempotency::Seen::Repeat) = token {
        // The same request with the same token inside the window: already applied.
        return Ok(m::TransactWriteItemsOutput::default());
    }
    let mut actions = Vec::new();
    for it in &items {
        let spec = |table_name, names, values, condition, on_fail| Spec {
            table_name,
            names,
            values,
            condition,
            on_fail,
            key: None,
            put: None,
            update: None,
            delete: false,
        };
        let a = match (&it.condition_check, &it.put, &it.update, &it.delete) {
            (Some(c), None, None, None) => compile(
                ctx,
                &*txn,
                Spec {
                    key: c.key.clone(),
                    ..spec(
                        c.table_name.as_deref(),
                        c.expression_attribute_names.as_ref(),
                        c.expression_attribute_values.clone(),
                        c.condition_expression.as_deref(),
                        c.return_values_on_condition_check_failure.as_deref(),
                    )
                },
            ),
            (None, Some(p), None, None) => compile(
                ctx,
                &*txn,
                Spec {
                    put: p.item.clone(),
                    ..spec(
                        p.table_name.as_deref(),
                        p.expression_attribute_names.as_ref(),
                        p.expression_attribute_values.clone(),
                        p.condition_expression.as_deref(),
                        p.return_values_on_condition_check_failure.as_deref(),
                    )
                },
            ),
            (None, None, Some(u), None) => compile(
                ctx,
                &*txn,
                Spec {
                    key: u.key.clone(),
                    update: u.update_expression.as_deref(),
                    ..spec(
                        u.table_name.as_deref(),
                        u.expression_attribute_names.as_ref(),
                        u.expression_attribute_values.clone(),
                        u.condition_expression.as_deref(),
                        u.return_values_on_condition_check_failure.as_deref(),
                    )
                },
            ),
            (None, None, None, Some(d)) => compile(
                ctx,
                &*txn,
                Spec {
                    key: d.key.clone(),
                    delete: true,
                    ..spec(
                        d.table_name.as_deref(),
                        d.expression_attribute_names.as_ref(),
                        d.expression_attribute_values.clone(),
                        d.condition_expression.as_deref(),
                        d.return_values_on_condition_check_failure.as_deref(),
                    )
                },
            ),
            _ => Err(DdbError::validation(
                "TransactItems can only contain one of Check, Put, Update or Delete",
            )),
        }?;
        actions.push(a);
    }
    let mut seen = std::collections::HashSet::with_capacity(actions.len());
    for a in &actions {
        let k = (
            a.table.table_id.clone(),
            storage::item_key(&a.table, &a.key)?,
        );
        if !seen.insert(k) {
            return Err(DdbError::validation(
                "Transaction request cannot include multiple operations on one item",
            )
            .into());
        }
    }
    // Every action sees the state before the transaction: they touch distinct items.
    let mut reasons = Vec::new();
    let mut failed = false;
    let mut consumed: IndexMap<String, Consumed> = IndexMap::new();
    for a in &actions {
        let change = if let Some(p) = &a.put {
            Change::Put(p.clone())
        } else if let Some(u) = &a.update {
            Change::Update(u)
        } else if a.delete {
            Change::Delete
        } else {
            Change::Check
        };
        match write_item(
            &mut *txn,
            &a.table,
            &a.key,
            change,
            a.condition.as_ref(),
            a.return_old_on_fail,
        ) {
            Ok(w) => {
                consumed
                    .entry(a.table.name.clone())
                    .or_default()
                    .add_write(&w.effect, 2.0);
                reasons.push(none_reason());
            }
            Err(DdbError::ConditionFailed(old)) => {
                failed = true;
                reasons.push(m::CancellationReason {
                    item: old.map(item_to_model),
                    code: Some("ConditionalCheckFailed".into()),
                    message: Some(CONDITION_FAILED.into()),
                });
            }
            Err(DdbError::Validation(msg)) => {
                failed = true;
                reasons.push(m::CancellationReason {
                    item: None,
                    code: Some("ValidationError".into()),
                    message: Some(msg),
                });
            }
            Err(e) => return Err(e.into()),
        }
    }
    if failed {
        drop(txn);
        return Err(canceled(
            reasons,
            m::TransactWriteItemsError::TransactionCanceledException,
        ));
    }
    if let Some(idempotency::Seen::New(record)) = token {
        record.save(&mut *txn).map_err(OpError::from)?;
    }
    txn.commit().map_err(DdbError::from)?;
    let mode = input.return_consumed_capacity.as_deref();
    let rendered: Vec<m::ConsumedCapacity> = consumed
        .iter()
        .filter_map(|(n, c)| c.render(n, mode))
        .collect();
    Ok(m::TransactWriteItemsOutput {
        consumed_capacity: (!rendered.is_empty()).then_some(rendered),
        item_collection_metrics: None,
    })
}

pub fn transact_get_items(
    s: &DynamoDbService,
    ctx: &RequestContext,
    input: m::TransactGetItemsInput,
) -> DdbResult<m::TransactGetItemsOutput> {
    let items = input.transact_items.unwrap_or_default();
    if items.len() > MAX_TRANSACT_ITEMS {
        return Err(DdbError::validation(format!(
            "Member must have length less than or equal to {MAX_TRANSACT_ITEMS}"
        )));
    }
    let txn = s.store.read()?;
    let mut responses = Vec::new();
    let mut consumed: IndexMap<String, Consumed> = IndexMap::new();
    for it in items {
        let g = it.get.unwrap_or_default();
        let name = table::name_of(ctx, g.table_name.as_deref().unwrap_or_default())?;
        let t = table::require_usable(&*txn, ctx, &name)?;
        let mut ectx = ExpressionContext::new(g.expression_attribute_names.as_ref(), None)?;
        let projection = g
            .projection_expression
            .as_deref()
            .map(|p| ectx.projection(p))
            .transpose()?;
        ectx.finish("")?;
        let key = item_from_model(g.key.unwrap_or_default())?;
        t.key.schema().check_key(&key)?;
        let item = storage::get_item(&*txn, &storage::item_key(&t, &key)?)?;
        let units = read_units(item.as_ref().map_or(0, item_size), true) * 2.0;
        consumed
            .entry(t.name.clone())
            .or_insert_with(|| Consumed::read(0.0))
            .merge(&Consumed::read(units));
        let item = item.map(|i| match &projection {
            Some(p) => p.apply(&i),
            None => i,
        });
        responses.push(m::ItemResponse {
            item: item.map(item_to_model),
        });
    }
    let mode = input.return_consumed_capacity.as_deref();
    let rendered: Vec<m::ConsumedCapacity> = consumed
        .iter()
        .filter_map(|(n, c)| c.render(n, mode))
        .collect();
    Ok(m::TransactGetItemsOutput {
        responses: Some(responses),
        consumed_capacity: (!rendered.is_empty()).then_some(rendered),
    })
}
