//! The single-item write every write API shares (PutItem, UpdateItem, DeleteItem, the
//! BatchWriteItem requests and the TransactWriteItems actions): load the old item, check the
//! condition, compute the new item, check it against the table and its indexes, and hand it
//! to `storage::apply_write`.

use tidemark_store::WriteTxn;

use crate::attr::{AttrError, AttributeValue, Item, MAX_ITEM_BYTES, item_size};
use crate::error::{DdbError, DdbResult};
use crate::expr::{ConditionExpr, UpdateExpr};
use crate::storage::{self, WriteEffect};
use crate::table::TableRecord;

/// What a write does to the item.
pub enum Change<'a> {
    Put(Item),
    Update(&'a UpdateExpr),
    Delete,
    /// TransactWriteItems' ConditionCheck: condition only.
    Check,
}

/// The outcome of one write.
pub struct Written {
    pub old: Option<Item>,
    pub new: Option<Item>,
    pub effect: WriteEffect,
}

/// Secondary-index key attributes present in an item must have the index's type and must
/// not be empty (DynamoDB refuses the write rather than leaving the item out of the index).
pub fn check_index_keys(table: &TableRecord, item: &Item) -> DdbResult<()> {
    for index in table.indexes() {
        for k in index.key.schema().attrs() {
            let Some(v) = item.get(k.name) else { continue };
            if v.attr_type() != k.ty {
                return Err(DdbError::validation(format!(
                    "One or more parameter values were invalid: Type mismatch for Index Key {} Expected: {} Actual: {} IndexName: {}",
                    k.name,
                    k.ty,
                    v.attr_type(),
                    index.name
                )));
            }
            let empty = match v {
                AttributeValue::S(s) => s.is_empty().then_some("string"),
                AttributeValue::B(b) => b.is_empty().then_some("binary"),
                _ => None,
            };
            if let Some(kind) = empty {
                return Err(DdbError::validation(format!(
                    "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty {kind} value. IndexName: {}, IndexKey: {}",
                    index.name, k.name
                )));
            }
        }
    }
    Ok(())
}

/// Checks a PutItem item: key attributes, size, index keys.
pub fn check_put_item(table: &TableRecord, item: &Item) -> DdbResult<()> {
    table.key.schema().check_item(item)?;
    if item_size(item) > MAX_ITEM_BYTES {
        return Err(AttrError::ItemTooLarge.into());
    }
    check_index_keys(table, item)
}

/// Performs one write inside `txn`. `key` is the (already checked) primary key.
/// On a failed condition returns `ConditionFailed` carrying the old item when
/// `return_old_on_fail` is set.
pub fn write_item(
    txn: &mut dyn WriteTxn,
    table: &TableRecord,
    key: &Item,
    change: Change<'_>,
    condition: Option<&ConditionExpr>,
    return_old_on_fail: bool,
) -> DdbResult<Written> {
    let skey = storage::item_key(table, key)?;
    let old = storage::get_item(&*txn, &skey)?;
    if let Some(c) = condition {
        let empty = Item::new();
        if !c.evaluate(old.as_ref().unwrap_or(&empty)) {
            return Err(DdbError::ConditionFailed(if return_old_on_fail {
                old
            } else {
                None
            }));
        }
    }
    let new = match change {
        Change::Check => {
            return Ok(Written {
                new: old.clone(),
                old,
                effect: WriteEffect::default(),
            });
        }
        Change::Put(item) => Some(item),
        Change::Delete => None,
        Change::Update(u) if old.is_none() && u.only_deletes() => {
            // REMOVE/DELETE alone on a missing item: nothing to delete, and DynamoDB does not
            // create the item (an update with no actions at all does create it). Errors the
            // actions would raise still surface.
            u.apply_to_missing_item()?;
            None
        }
        Change::Update(u) => {
            let mut item = match &old {
                Some(o) => u.apply(o)?,
                None => {
                    // An upsert: the key attributes come first, then what the update sets.
                    let mut item = key.clone();
                    for (k, v) in u.apply_to_missing_item()? {
                        item.insert(k, v);
                    }
                    item
                }
            };
            // Keys cannot change (check_key_attributes ran); keep them first for stable output.
            for (k, v) in key {
                item.insert(k.clone(), v.clone());
            }
            if item_size(&item) > MAX_ITEM_BYTES {
                return Err(AttrError::UpdatedItemTooLarge.into());
            }
            check_index_keys(table, &item)?;
            Some(item)
        }
    };
    if old.is_none() && new.is_none() {
        return Ok(Written {
            old,
            new,
            effect: WriteEffect::default(),
        });
    }
    let effect = storage::apply_write(txn, table, &skey, old.as_ref(), new.as_ref())?;
    Ok(Written { old, new, effect })
}

/// `ReturnValues` validation for PutItem/DeleteItem (only NONE and ALL_OLD make sense).
pub fn check_return_values_old_only(rv: Option<&str>) -> DdbResult<()> {
    match rv {
        None | Some("NONE") | Some("ALL_OLD") => Ok(()),
        Some(_) => Err(DdbError::validation(
            "ReturnValues can only be ALL_OLD or NONE",
        )),
    }
}

/// `ItemCollectionMetrics` for `ReturnItemCollectionMetrics=SIZE`: only tables with local
/// secondary indexes have item collections. tidemark does not track collection sizes and
/// always reports the lowest estimate range, 0–1 GB.
pub fn collection_metrics(
    table: &TableRecord,
    key: &Item,
    mode: Option<&str>,
) -> Option<tidemark_model::dynamodb::ItemCollectionMetrics> {
    if mode != Some("SIZE") || table.lsis.is_empty() {
        return None;
    }
    let hash = &table.key.hash.name;
    let value = key.get(hash)?;
    let mut k = Item::new();
    k.insert(hash.clone(), value.clone());
    Some(tidemark_model::dynamodb::ItemCollectionMetrics {
        item_collection_key: Some(crate::convert::item_to_model(k)),
        size_estimate_range_gb: Some(vec![0.0, 1.0]),
    })
}
