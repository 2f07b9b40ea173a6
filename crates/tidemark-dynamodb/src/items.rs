//! The single-item APIs: PutItem, GetItem, UpdateItem, DeleteItem.

use tidemark_core::RequestContext;
use tidemark_model::dynamodb as m;

use crate::attr::Item;
use crate::capacity::{Consumed, read_units};
use crate::convert::{item_from_model, item_to_model, values_from_model};
use crate::error::{DdbError, DdbResult};
use crate::expr::ExpressionContext;
use crate::legacy;
use crate::service::DynamoDbService;
use crate::storage;
use crate::table;
use crate::write_core::{
    Change, check_put_item, check_return_values_old_only, collection_metrics, write_item,
};

fn some_item(item: Option<Item>) -> Option<indexmap::IndexMap<String, m::AttributeValue>> {
    item.filter(|i| !i.is_empty()).map(item_to_model)
}

pub fn put_item(
    s: &DynamoDbService,
    ctx: &RequestContext,
    input: m::PutItemInput,
) -> DdbResult<m::PutItemOutput> {
    // Validate.
    legacy::reject_mixing(
        &[("Expected", input.expected.is_some())],
        &[("ConditionExpression", input.condition_expression.is_some())],
    )?;
    check_return_values_old_only(input.return_values.as_deref())?;
    let name = table::name_of(ctx, input.table_name.as_deref().unwrap_or_default())?;
    let item = item_from_model(input.item.unwrap_or_default())?;
    let values = values_from_model(input.expression_attribute_values)?;
    let mut ectx =
        ExpressionContext::new(input.expression_attribute_names.as_ref(), values.as_ref())?;
    let condition = legacy::condition(
        &mut ectx,
        input.condition_expression.as_deref(),
        input.expected,
        input.conditional_operator.as_deref(),
    )?;
    ectx.finish("ConditionExpression is null")?;
    // Load, check state.
    let mut txn = s.store.write()?;
    let t = table::require_usable(&*txn, ctx, &name)?;
    check_put_item(&t, &item)?;
    let key = t
        .key
        .schema()
        .key_of(&item)
        .ok_or_else(|| DdbError::internal("checked item lost its key"))?;
    let on_fail = input.return_values_on_condition_check_failure.as_deref() == Some("ALL_OLD");
    // Change, save.
    let w = write_item(
        &mut *txn,
        &t,
        &key,
        Change::Put(item),
        condition.as_ref(),
        on_fail,
    )?;
    txn.commit()?;
    // Respond.
    let mut consumed = Consumed::default();
    consumed.add_write(&w.effect, 1.0);
    let attributes = match input.return_values.as_deref() {
        Some("ALL_OLD") => some_item(w.old),
        _ => None,
    };
    Ok(m::PutItemOutput {
        attributes,
        consumed_capacity: consumed.render(&t.name, input.return_consumed_capacity.as_deref()),
        item_collection_metrics: collection_metrics(
            &t,
            &key,
            input.return_item_collection_metrics.as_deref(),
        ),
    })
}

pub fn get_item(
    s: &DynamoDbService,
    ctx: &RequestContext,
    input: m::GetItemInput,
) -> DdbResult<m::GetItemOutput> {
    legacy::reject_mixing(
        &[("AttributesToGet", input.attributes_to_get.is_some())],
        &[(
            "ProjectionExpression",
            input.projection_expression.is_some(),
        )],
    )?;
    let name = table::name_of(ctx, input.table_name.as_deref().unwrap_or_default())?;
    let key = item_from_model(input.key.unwrap_or_default())?;
    let mut ectx = ExpressionContext::new(input.expression_attribute_names.as_ref(), None)?;
    let (projection, _) = legacy::projection(
        &mut ectx,
        input.projection_expression.as_deref(),
        input.attributes_to_get,
    )?;
    ectx.finish("")?;
    let txn = s.store.read()?;
    let t = table::require_usable(&*txn, ctx, &name)?;
    t.key.schema().check_key(&key)?;
    if let Some(p) = &projection {
        p.check_key_paths(&t.key.names(), &[])?;
    }
    let item = storage::get_item(&*txn, &storage::item_key(&t, &key)?)?;
    let consistent = input.consistent_read.unwrap_or(false);
    let bytes = item.as_ref().map_or(0, crate::attr::item_size);
    let consumed = Consumed::read(read_units(bytes, consistent));
    let item = item.map(|i| match &projection {
        Some(p) => p.apply(&i),
        None => i,
    });
    Ok(m::GetItemOutput {
        item: item.map(item_to_model),
        consumed_capacity: consumed.render(&t.name, input.return_consumed_capacity.as_deref()),
    })
}

pub fn delete_item(
    s: &DynamoDbService,
    ctx: &RequestContext,
    input: m::DeleteItemInput,
) -> DdbResult<m::DeleteItemOutput> {
    legacy::reject_mixing(
        &[("Expected", input.expected.is_some())],
        &[("ConditionExpression", input.condition_expression.is_some())],
    )?;
    check_return_values_old_only(input.return_values.as_deref())?;
    let name = table::name_of(ctx, input.table_name.as_deref().unwrap_or_default())?;
    let key = item_from_model(input.key.unwrap_or_default())?;
    let values = values_from_model(input.expression_attribute_values)?;
    let mut ectx =
        ExpressionContext::new(input.expression_attribute_names.as_ref(), values.as_ref())?;
    let condition = legacy::condition(
        &mut ectx,
        input.condition_expression.as_deref(),
        input.expected,
        input.conditional_operator.as_deref(),
    )?;
    ectx.finish("ConditionExpression is null")?;
    let mut txn = s.store.write()?;
    let t = table::require_usable(&*txn, ctx, &name)?;
    t.key.schema().check_key(&key)?;
    let on_fail = input.return_values_on_condition_check_failure.as_deref() == Some("ALL_OLD");
    let w = write_item(
        &mut *txn,
        &t,
        &key,
        Change::Delete,
        condition.as_ref(),
        on_fail,
    )?;
    txn.commit()?;
    let mut consumed = Consumed::default();
    consumed.add_write(&w.effect, 1.0);
    let attributes = match input.return_values.as_deref() {
        Some("ALL_OLD") => some_item(w.old),
        _ => None,
    };
    Ok(m::DeleteItemOutput {
        attributes,
        consumed_capacity: consumed.render(&t.name, input.return_consumed_capacity.as_deref()),
        item_collection_metrics: collection_metrics(
            &t,
            &key,
            input.return_item_collection_metrics.as_deref(),
        ),
    })
}

pub fn update_item(
    s: &DynamoDbService,
    ctx: &RequestContext,
    input: m::UpdateItemInput,
) -> DdbResult<m::UpdateItemOutput> {
    legacy::reject_mixing(
        &[
            ("AttributeUpdates", input.attribute_updates.is_some()),
            ("Expected", input.expected.is_some()),
        ],
        &[
            ("UpdateExpression", input.update_expression.is_some()),
            ("ConditionExpression", input.condition_expression.is_some()),
        ],
    )?;
    let name = table::name_of(ctx, input.table_name.as_deref().unwrap_or_default())?;
    let key = item_from_model(input.key.unwrap_or_default())?;
    let values = values_from_model(input.expression_attribute_values)?;
    let mut ectx =
        ExpressionContext::new(input.expression_attribute_names.as_ref(), values.as_ref())?;
    let update = match (input.update_expression.as_deref(), input.attribute_updates) {
        (Some(u), _) => Some(ectx.update(u)?),
        (None, Some(updates)) => Some(legacy::attribute_updates(updates)?),
        (None, None) => None,
    };
    let condition = legacy::condition(
        &mut ectx,
        input.condition_expression.as_deref(),
        input.expected,
        input.conditional_operator.as_deref(),
    )?;
    ectx.finish("UpdateExpression and ConditionExpression are null")?;
    let mut txn = s.store.write()?;
    let t = table::require_usable(&*txn, ctx, &name)?;
    t.key.schema().check_key(&key)?;
    let on_fail = input.return_values_on_condition_check_failure.as_deref() == Some("ALL_OLD");
    // An UpdateItem without UpdateExpression creates the item with just its key (or leaves
    // an existing one unchanged), as DynamoDB does.
    let empty_update;
    let update_ref = match &update {
        Some(u) => {
            u.check_key_attributes(&t.key.names())?;
            u
        }
        None => {
            empty_update = crate::expr::UpdateExpr::empty();
            &empty_update
        }
    };
    let w = write_item(
        &mut *txn,
        &t,
        &key,
        Change::Update(update_ref),
        condition.as_ref(),
        on_fail,
    )?;
    txn.commit()?;
    let mut consumed = Consumed::default();
    consumed.add_write(&w.effect, 1.0);
    let updated = update_ref.updated_projection();
    let attributes = match input.return_values.as_deref() {
        Some("ALL_OLD") => w.old,
        Some("ALL_NEW") => w.new,
        Some("UPDATED_OLD") => w.old.map(|o| updated.apply(&o)),
        Some("UPDATED_NEW") => w.new.map(|n| updated.apply(&n)),
        _ => None,
    };
    Ok(m::UpdateItemOutput {
        attributes: some_item(attributes),
        consumed_capacity: consumed.render(&t.name, input.return_consumed_capacity.as_deref()),
        item_collection_metrics: collection_metrics(
            &t,
            &key,
            input.return_item_collection_metrics.as_deref(),
        ),
    })
}
