//! BatchGetItem and BatchWriteItem: up to 100 reads / 25 writes over several tables, each
//! batch in one store transaction (so tidemark never leaves unprocessed items: a batch is
//! all done or, on a validation error, not started).

use indexmap::IndexMap;
use tidemark_core::RequestContext;
use tidemark_model::dynamodb as m;

use crate::attr::{Item, item_size};
use crate::capacity::{Consumed, read_units};
use crate::convert::{item_from_model, item_to_model};
use crate::error::{DdbError, DdbResult};
use crate::expr::ExpressionContext;
use crate::legacy;
use crate::service::DynamoDbService;
use crate::storage;
use crate::storage::{Encoded, WriteEffect};
use crate::table;
use crate::table::TableRecord;
use crate::write_core::check_put_item;
use tidemark_store::Reads;

pub const MAX_BATCH_GET: usize = 100;
pub const MAX_BATCH_WRITE: usize = 25;
/// A BatchGetItem response holds at most 16 MB; the rest comes back as UnprocessedKeys.
pub const MAX_BATCH_GET_BYTES: usize = 16 * 1024 * 1024;

fn duplicates(keys: &[Vec<u8>]) -> bool {
    let mut sorted: Vec<&Vec<u8>> = keys.iter().collect();
    sorted.sort();
    sorted.windows(2).any(|w| w[0] == w[1])
}

pub fn batch_get_item(
    s: &DynamoDbService,
    ctx: &RequestContext,
    input: m::BatchGetItemInput,
) -> DdbResult<m::BatchGetItemOutput> {
    let requests = input.request_items.unwrap_or_default();
    let total: usize = requests
        .values()
        .map(|r| r.keys.as_ref().map_or(0, Vec::len))
        .sum();
    if total > MAX_BATCH_GET {
        return Err(DdbError::validation(
            "Too many items requested for the BatchGetItem call",
        ));
    }
    let txn = s.store.read()?;
    let mut responses: IndexMap<String, Vec<IndexMap<String, m::AttributeValue>>> = IndexMap::new();
    let mut unprocessed: IndexMap<String, m::KeysAndAttributes> = IndexMap::new();
    let mut consumed = Vec::new();
    let mut bytes = 0usize;
    for (given, req) in requests {
        legacy::reject_mixing(
            &[("AttributesToGet", req.attributes_to_get.is_some())],
            &[("ProjectionExpression", req.projection_expression.is_some())],
        )?;
        let name = table::name_of(ctx, &given)?;
        let t = table::require_usable(&*txn, ctx, &name)?;
        let mut ectx = ExpressionContext::new(req.expression_attribute_names.as_ref(), None)?;
        let (projection, _) = legacy::projection(
            &mut ectx,
            req.projection_expression.as_deref(),
            req.attributes_to_get.clone(),
        )?;
        ectx.finish("")?;
        if let Some(p) = &projection {
            p.check_key_paths(&t.key.names(), &[])?;
        }
        let keys: Vec<Item> = req
            .keys
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(item_from_model)
            .collect::<DdbResult<_>>()?;
        let mut skeys = Vec::new();
        for k in &keys {
            t.key.schema().check_key(k)?;
            skeys.push(storage::item_key(&t, k)?);
        }
        if duplicates(&skeys) {
            return Err(DdbError::validation(
                "Provided list of item keys contains duplicates",
            ));
        }
        let consistent = req.consistent_read.unwrap_or(false);
        let mut units = 0.0;
        let out = responses.entry(given.clone()).or_default();
        let mut left = Vec::new();
        for (i, sk) in skeys.iter().enumerate() {
            if bytes > MAX_BATCH_GET_BYTES {
                left.push(item_to_model(keys[i].clone()));
                continue;
            }
            let item = storage::get_item(&*txn, sk)?;
            let size = item.as_ref().map_or(0, item_size);
            units += read_units(size, consistent);
            bytes += size;
            if let Some(item) = item {
                out.push(item_to_model(match &projection {
                    Some(p) => p.apply(&item),
                    None => item,
                }));
            }
        }
        if !left.is_empty() {
            unprocessed.insert(
                given.clone(),
                m::KeysAndAttributes {
                    keys: Some(left),
                    ..req
                },
            );
        }
        consumed.extend(
            Consumed::read(units).render(&t.name, input.return_consumed_capacity.as_deref()),
        );
    }
    Ok(m::BatchGetItemOutput {
        responses: Some(responses),
        unprocessed_keys: Some(unprocessed),
        consumed_capacity: input
            .return_consumed_capacity
            .as_deref()
            .filter(|m| *m != "NONE")
            .map(|_| consumed),
    })
}

pub fn batch_write_item(
    s: &DynamoDbService,
    ctx: &RequestContext,
    input: m::BatchWriteItemInput,
) -> DdbResult<m::BatchWriteItemOutput> {
    batch_write_item_with(s, ctx, input, || ())
}

/// [`batch_write_item`], running `between` after the batch is planned on a read snapshot
/// and before the write transaction is taken (tests change a table there).
fn batch_write_item_with(
    s: &DynamoDbService,
    ctx: &RequestContext,
    input: m::BatchWriteItemInput,
    between: impl FnOnce(),
) -> DdbResult<m::BatchWriteItemOutput> {
    let requests = input.request_items.unwrap_or_default();
    let total: usize = requests.values().map(Vec::len).sum();
    if total > MAX_BATCH_WRITE {
        return Err(DdbError::validation(
            "Too many items requested for the BatchWriteItem call",
        ));
    }
    // Every CPU-heavy step (converting attribute values, checking items, encoding them and
    // their index entries) runs before the store's one write transaction, which small writes
    // to every other table wait for: for a 16 MB batch that is nearly all the work. Each
    // error is kept and raised where it was before (in request order, nothing written).
    let requests: Vec<(String, Vec<Converted>)> = requests
        .into_iter()
        .map(|(given, reqs)| (given, reqs.into_iter().map(Converted::from).collect()))
        .collect();
    // A store that refuses writes (a full disk) answers before the batch is validated, as
    // it did when validation ran inside the write transaction.
    if s.store.fault().is_some() {
        drop(s.store.write()?);
    }
    // Planned against a read snapshot, then checked against the write transaction: if a
    // table record changed in between (deleted, an index added, PITR enabled), the batch is
    // planned again inside the transaction, as if it had arrived after the change.
    let plan = {
        let snapshot = s.store.read()?;
        plan_writes(&*snapshot, ctx, requests)?
    };
    between();
    let mut txn = s.store.write()?;
    let plan = if plan_is_current(&*txn, ctx, &plan)? {
        plan
    } else {
        plan_writes(&*txn, ctx, unplan(plan))?
    };
    let mut consumed = Vec::new();
    for p in plan {
        let mut c = Consumed::default();
        for w in &p.writes {
            let old = storage::get_item(&*txn, &w.skey)?;
            if old.is_none() && w.new.is_none() {
                // Deleting an absent item: nothing to do, nothing consumed but the request.
                c.add_write(&WriteEffect::default(), 1.0);
                continue;
            }
            let effect =
                storage::apply_encoded(&mut *txn, &p.table, &w.skey, old.as_ref(), w.new.as_ref())?;
            c.add_write(&effect, 1.0);
        }
        consumed.extend(c.render(&p.table.name, input.return_consumed_capacity.as_deref()));
    }
    txn.commit()?;
    Ok(m::BatchWriteItemOutput {
        unprocessed_items: Some(IndexMap::new()),
        item_collection_metrics: None,
        consumed_capacity: input
            .return_consumed_capacity
            .as_deref()
            .filter(|m| *m != "NONE")
            .map(|_| consumed),
    })
}

/// One table's share of a batch, checked and encoded against `table`.
struct TablePlan {
    /// The table name or ARN as the request gave it.
    given: String,
    table: TableRecord,
    writes: Vec<PlannedWrite>,
}

/// One put (`new`) or delete (`new` = None, `key` = the key given).
struct PlannedWrite {
    skey: Vec<u8>,
    key: Option<Item>,
    new: Option<Encoded>,
}

/// Validates every request in request order (the first error wins, nothing is written),
/// then encodes the items. `reads` is a snapshot or the write transaction itself.
fn plan_writes(
    reads: &dyn Reads,
    ctx: &RequestContext,
    requests: Vec<(String, Vec<Converted>)>,
) -> DdbResult<Vec<TablePlan>> {
    let mut checked = Vec::new();
    for (given, reqs) in requests {
        let name = table::name_of(ctx, &given)?;
        let t = table::require_usable(reads, ctx, &name)?;
        let mut skeys = Vec::new();
        let mut items = Vec::new();
        for r in reqs {
            match r {
                Converted::Put(item) => {
                    let item = item?;
                    check_put_item(&t, &item)?;
                    skeys.push(storage::item_key(&t, &item)?);
                    items.push(Ok(item));
                }
                Converted::Delete(key) => {
                    let key = key?;
                    t.key.schema().check_key(&key)?;
                    skeys.push(storage::item_key(&t, &key)?);
                    items.push(Err(key));
                }
                Converted::Neither => {
                    return Err(DdbError::validation(
                        "Supplied WriteRequest must contain exactly one of PutRequest or DeleteRequest",
                    ));
                }
            }
        }
        if duplicates(&skeys) {
            return Err(DdbError::validation(
                "Provided list of item keys contains duplicates",
            ));
        }
        checked.push((given, t, skeys, items));
    }
    checked
        .into_iter()
        .map(|(given, table, skeys, items)| {
            let writes = skeys
                .into_iter()
                .zip(items)
                .map(|(skey, item)| {
                    Ok(match item {
                        Ok(item) => PlannedWrite {
                            skey,
                            key: None,
                            new: Some(Encoded::new(&table, item)?),
                        },
                        Err(key) => PlannedWrite {
                            skey,
                            key: Some(key),
                            new: None,
                        },
                    })
                })
                .collect::<DdbResult<_>>()?;
            Ok(TablePlan {
                given,
                table,
                writes,
            })
        })
        .collect()
}

/// Whether every planned table is still the one the write transaction sees.
fn plan_is_current(reads: &dyn Reads, ctx: &RequestContext, plan: &[TablePlan]) -> DdbResult<bool> {
    for p in plan {
        let name = table::name_of(ctx, &p.given)?;
        if table::load(reads, ctx, &name)?.as_ref() != Some(&p.table) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The requests a plan was made from (every one of them converted successfully).
fn unplan(plan: Vec<TablePlan>) -> Vec<(String, Vec<Converted>)> {
    plan.into_iter()
        .map(|p| {
            let reqs = p
                .writes
                .into_iter()
                .map(|w| match (w.new, w.key) {
                    (Some(e), _) => Converted::Put(Ok(e.into_item())),
                    (None, Some(key)) => Converted::Delete(Ok(key)),
                    (None, None) => Converted::Neither,
                })
                .collect();
            (p.given, reqs)
        })
        .collect()
}

/// A BatchWriteItem request with its attribute values converted (see `batch_write_item`).
enum Converted {
    Put(DdbResult<Item>),
    Delete(DdbResult<Item>),
    /// Both or neither of PutRequest and DeleteRequest.
    Neither,
}

impl From<m::WriteRequest> for Converted {
    fn from(r: m::WriteRequest) -> Self {
        match (r.put_request, r.delete_request) {
            (Some(p), None) => Converted::Put(item_from_model(p.item.unwrap_or_default())),
            (None, Some(d)) => Converted::Delete(item_from_model(d.key.unwrap_or_default())),
            _ => Converted::Neither,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::{Value, json};
    use tidemark_core::AccountId;
    use tidemark_jobs::Engine;
    use tidemark_model::dynamodb::dispatch_dynamodb;
    use tidemark_store::{MemStore, Store};

    use super::*;

    struct Env {
        svc: Arc<DynamoDbService>,
        store: Arc<dyn Store>,
        ctx: RequestContext,
    }

    impl Env {
        fn new() -> Env {
            let store: Arc<dyn Store> = Arc::new(MemStore::new());
            let engine = Arc::new(Engine::open(store.clone()).unwrap());
            let svc = DynamoDbService::new(store.clone(), engine.clone());
            engine.recover().unwrap();
            let ctx = RequestContext::new(AccountId::default_account(), "us-east-1", "test");
            let env = Env { svc, store, ctx };
            env.ok(
                "CreateTable",
                json!({
                    "TableName": "tbl",
                    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                    "BillingMode": "PAY_PER_REQUEST"
                }),
            );
            engine.run_due().unwrap();
            env
        }

        fn ok(&self, op: &str, input: Value) -> Value {
            let out = dispatch_dynamodb(&*self.svc, &self.ctx, op, input);
            out.unwrap_or_else(|e| panic!("{op} failed: {e:?}"))
        }

        /// A batch of two puts to `tbl`, with `between` run after it is planned.
        fn batch(&self, between: impl FnOnce()) -> DdbResult<m::BatchWriteItemOutput> {
            let puts: Vec<Value> = ["a", "b"]
                .iter()
                .map(|k| json!({"PutRequest": {"Item": {"pk": {"S": k}, "g": {"S": "x"}}}}))
                .collect();
            let input = serde_json::from_value(json!({"RequestItems": {"tbl": puts}})).unwrap();
            batch_write_item_with(&self.svc, &self.ctx, input, between)
        }

        fn count(&self, table: &str) -> usize {
            let read = self.store.read().unwrap();
            read.scan_prefix(table, &[]).unwrap().count()
        }
    }

    /// A GSI added after the batch was planned on a snapshot: the batch is planned again
    /// inside the write transaction, so its items get their index entries (no job has run,
    /// so only the batch can have written them).
    #[test]
    fn a_table_changed_after_planning_is_planned_again() {
        let env = Env::new();
        env.batch(|| {
            env.ok(
                "UpdateTable",
                json!({
                    "TableName": "tbl",
                    "AttributeDefinitions": [{"AttributeName": "g", "AttributeType": "S"}],
                    "GlobalSecondaryIndexUpdates": [{"Create": {
                        "IndexName": "by_g",
                        "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                        "Projection": {"ProjectionType": "ALL"}
                    }}]
                }),
            );
        })
        .unwrap();
        assert_eq!(env.count(storage::ITEMS_TABLE), 2);
        assert_eq!(env.count(storage::INDEX_TABLE), 2);
    }

    /// A table deleted after planning: the batch answers as if it had arrived after the
    /// delete, and writes nothing.
    #[test]
    fn a_table_deleted_after_planning_is_not_found() {
        let env = Env::new();
        let err = env
            .batch(|| {
                env.ok("DeleteTable", json!({"TableName": "tbl"}));
            })
            .err()
            .map(|e| e.to_string());
        assert_eq!(err, Some(DdbError::item_table_not_found().to_string()));
        assert_eq!(env.count(storage::ITEMS_TABLE), 0);
    }

    /// Unchanged tables keep the plan made on the snapshot.
    #[test]
    fn an_unchanged_table_keeps_its_plan() {
        let env = Env::new();
        env.batch(|| ()).unwrap();
        assert_eq!(env.count(storage::ITEMS_TABLE), 2);
        assert_eq!(env.count(storage::INDEX_TABLE), 0);
    }
}
