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
use crate::table;
use crate::write_core::{Change, check_put_item, write_item};

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
    let requests = input.request_items.unwrap_or_default();
    let total: usize = requests.values().map(Vec::len).sum();
    if total > MAX_BATCH_WRITE {
        return Err(DdbError::validation(
            "Too many items requested for the BatchWriteItem call",
        ));
    }
    // Convert every request's attribute values before taking the store's one write
    // transaction: for a 16 MB batch that is most of the work, and small writes to other
    // tables wait for the transaction. Conversion depends on nothing stored, so each error
    // is kept and raised where it was before (after the checks of the requests before it).
    let requests: Vec<(String, Vec<Converted>)> = requests
        .into_iter()
        .map(|(given, reqs)| (given, reqs.into_iter().map(Converted::from).collect()))
        .collect();
    let mut txn = s.store.write()?;
    // Validate every request before changing anything.
    let mut plan = Vec::new();
    for (given, reqs) in requests {
        let name = table::name_of(ctx, &given)?;
        let t = table::require_usable(&*txn, ctx, &name)?;
        let mut skeys = Vec::new();
        let mut ops = Vec::new();
        for r in reqs {
            match r {
                Converted::Put(item) => {
                    let item = item?;
                    check_put_item(&t, &item)?;
                    let key = t
                        .key
                        .schema()
                        .key_of(&item)
                        .ok_or_else(|| DdbError::internal("checked item lost its key"))?;
                    skeys.push(storage::item_key(&t, &key)?);
                    ops.push((key, Some(item)));
                }
                Converted::Delete(key) => {
                    let key = key?;
                    t.key.schema().check_key(&key)?;
                    skeys.push(storage::item_key(&t, &key)?);
                    ops.push((key, None));
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
        plan.push((t, ops));
    }
    let mut consumed = Vec::new();
    for (t, ops) in plan {
        let mut c = Consumed::default();
        for (key, item) in ops {
            let change = match item {
                Some(i) => Change::Put(i),
                None => Change::Delete,
            };
            let w = write_item(&mut *txn, &t, &key, change, None, false)?;
            c.add_write(&w.effect, 1.0);
        }
        consumed.extend(c.render(&t.name, input.return_consumed_capacity.as_deref()));
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
