//! Where items live and the one write path every item change goes through.
//!
//! Layout (all keys start with the incarnation's `table_id`, a UUID that is never reused, so
//! accounts and re-created tables cannot see each other's data; the catalog record in
//! `dynamodb.tables` is the only account-scoped entry point to a `table_id`):
//!
//! * `dynamodb.items`: `bytes(table_id) ‖ encode_key(hash) ‖ encode_key(range)` → item JSON.
//!   Bytewise key order is DynamoDB's (hash, range) order, so a Query is one range scan.
//! * `dynamodb.index`: `bytes(table_id) ‖ bytes(index) ‖ encode_key(index hash, index range) ‖
//!   encode_key(table hash, table range)` → the projected item JSON. Items lacking an index
//!   key attribute have no entry (sparse indexes).
//! * `dynamodb.stats`: `bytes(table_id) ‖ bytes(index or "")` → item count and size in bytes,
//!   16 bytes big-endian, kept exact on every write (DynamoDB refreshes these every ~6 h;
//!   exact values are a superset of that behaviour).

use std::ops::Bound;

use serde_json::value::RawValue;
use tidemark_store::keys;
use tidemark_store::{Reads, WriteTxn};

use crate::attr::{Item, item_size};
use crate::error::{DdbError, DdbResult};
use crate::table::{IndexDef, TableRecord};

pub const ITEMS_TABLE: &str = "dynamodb.items";
pub const INDEX_TABLE: &str = "dynamodb.index";
pub const STATS_TABLE: &str = "dynamodb.stats";

/// Prefix of every item key of a table incarnation.
pub fn table_prefix(table_id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(40);
    keys::push_bytes(&mut k, table_id.as_bytes());
    k
}

/// Prefix of every entry of one secondary index.
pub fn index_prefix(table_id: &str, index: &str) -> Vec<u8> {
    let mut k = table_prefix(table_id);
    keys::push_bytes(&mut k, index.as_bytes());
    k
}

/// The storage key of an item (which must carry the table's key attributes).
pub fn item_key(table: &TableRecord, item: &Item) -> DdbResult<Vec<u8>> {
    let mut k = table_prefix(&table.table_id);
    k.extend(
        table
            .key
            .schema()
            .encode_key(item)
            .ok_or_else(|| DdbError::internal("item without its key"))?,
    );
    Ok(k)
}

/// The index entry key of an item, or `None` when the item is not in the (sparse) index.
pub fn index_key(table: &TableRecord, index: &IndexDef, item: &Item) -> Option<Vec<u8>> {
    let mut k = index_prefix(&table.table_id, &index.name);
    k.extend(index.key.schema().encode_key(item)?);
    k.extend(table.key.schema().encode_key(item)?);
    Some(k)
}

pub fn decode_item(bytes: &[u8]) -> DdbResult<Item> {
    serde_json::from_slice(bytes).map_err(DdbError::internal)
}

pub fn encode_item(item: &Item) -> DdbResult<Vec<u8>> {
    serde_json::to_vec(item).map_err(DdbError::internal)
}

pub fn get_item(txn: &dyn Reads, key: &[u8]) -> DdbResult<Option<Item>> {
    txn.get(ITEMS_TABLE, key)?
        .map(|b| decode_item(&b))
        .transpose()
}

/// The attributes an index entry holds: both key schemas plus what the projection asks for.
pub fn project_for_index(table: &TableRecord, index: &IndexDef, item: &Item) -> Item {
    if index.projection_type == "ALL" {
        return item.clone();
    }
    let kept = Kept::new(table, index);
    item.iter()
        .filter(|(k, _)| kept.contains(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The attributes a non-`ALL` projection of an index keeps.
struct Kept<'a> {
    keys: Vec<&'a str>,
    index_keys: Vec<&'a str>,
    include: &'a [String],
}

impl<'a> Kept<'a> {
    fn new(table: &'a TableRecord, index: &'a IndexDef) -> Kept<'a> {
        Kept {
            keys: table.key.names(),
            index_keys: index.key.names(),
            include: index.non_key_attributes.as_deref().unwrap_or(&[]),
        }
    }

    fn contains(&self, name: &str) -> bool {
        self.keys.contains(&name)
            || self.index_keys.contains(&name)
            || self.include.iter().any(|n| n == name)
    }
}

/// `projected == project_for_index(table, index, item)`, without building the projection
/// (the same comparison as `IndexMap`'s: same length, every attribute equal).
fn projection_equals(table: &TableRecord, index: &IndexDef, projected: &Item, item: &Item) -> bool {
    if index.projection_type == "ALL" {
        return projected == item;
    }
    let kept = Kept::new(table, index);
    let mut n = 0;
    for (k, v) in item.iter().filter(|(k, _)| kept.contains(k)) {
        n += 1;
        if projected.get(k) != Some(v) {
            return false;
        }
    }
    n == projected.len()
}

/// Item count and total bytes of a table (`index` = None) or one index.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub items: i64,
    pub bytes: i64,
}

fn stats_key(table_id: &str, index: Option<&str>) -> Vec<u8> {
    let mut k = table_prefix(table_id);
    keys::push_bytes(&mut k, index.unwrap_or("").as_bytes());
    k
}

pub fn stats(txn: &dyn Reads, table_id: &str, index: Option<&str>) -> DdbResult<Stats> {
    let Some(v) = txn.get(STATS_TABLE, &stats_key(table_id, index))? else {
        return Ok(Stats::default());
    };
    let bytes: [u8; 16] = v
        .as_slice()
        .try_into()
        .map_err(|_| DdbError::internal("bad stats record"))?;
    let (a, b) = bytes.split_at(8);
    // Both halves are exactly 8 bytes (split of a 16-byte array), so the fallback is unused.
    let n = |s: &[u8]| i64::from_be_bytes(s.try_into().unwrap_or([0; 8]));
    Ok(Stats {
        items: n(a),
        bytes: n(b),
    })
}

fn add_stats(
    txn: &mut dyn WriteTxn,
    table_id: &str,
    index: Option<&str>,
    items: i64,
    bytes: i64,
) -> DdbResult<()> {
    if items == 0 && bytes == 0 {
        return Ok(());
    }
    let s = stats(txn, table_id, index)?;
    let mut v = Vec::with_capacity(16);
    v.extend((s.items + items).to_be_bytes());
    v.extend((s.bytes + bytes).to_be_bytes());
    txn.put(STATS_TABLE, &stats_key(table_id, index), &v)?;
    Ok(())
}

fn size_of(item: Option<&Item>) -> i64 {
    item.map_or(0, |i| item_size(i) as i64)
}

/// What one write touched, for consumed capacity: the larger item size, and per index the
/// write units (`(name, is_gsi, units)`) its entry changes cost.
#[derive(Debug, Clone, Default)]
pub struct WriteEffect {
    pub item_bytes: usize,
    pub index_units: Vec<(String, bool, f64)>,
}

/// Write units of an index entry of `bytes` bytes (1 KB units, at least 1).
fn units(bytes: usize) -> f64 {
    bytes.div_ceil(1024).max(1) as f64
}

/// An item's stored form, computed before the write transaction that stores it (see
/// [`apply_encoded`]): its JSON, its size and its entries in every maintained index. Valid
/// only for the table record it was computed with (its key schema, indexes, projections).
#[derive(Debug)]
pub struct Encoded {
    item: Item,
    json: Box<RawValue>,
    size: i64,
    entries: Vec<IndexEntry>,
}

impl Encoded {
    /// Encodes `item` (a checked item of `table`) as [`apply_write`] would store it.
    pub fn new(table: &TableRecord, item: Item) -> DdbResult<Encoded> {
        Ok(Encoded {
            json: serde_json::value::to_raw_value(&item).map_err(DdbError::internal)?,
            size: item_size(&item) as i64,
            entries: index_entries(table, &item)?,
            item,
        })
    }

    pub fn into_item(self) -> Item {
        self.item
    }
}

/// The new image of a write, as given or already [`Encoded`].
#[derive(Clone, Copy)]
enum NewImage<'a> {
    Plain(&'a Item),
    Encoded(&'a Encoded),
}

impl NewImage<'_> {
    fn size(self) -> i64 {
        match self {
            NewImage::Plain(i) => item_size(i) as i64,
            NewImage::Encoded(e) => e.size,
        }
    }
}

/// A new index entry: its key and projection, built here or taken from an [`Encoded`].
enum NewEntry<'a> {
    Plain(Vec<u8>, Item),
    Encoded(&'a IndexEntry, &'a Item),
}

impl NewEntry<'_> {
    fn key(&self) -> &[u8] {
        match self {
            NewEntry::Plain(k, _) => k,
            NewEntry::Encoded(e, _) => &e.key,
        }
    }
}

/// THE write path: replaces the item under `key` (`old` → `new`; `None` = absent), keeping
/// every maintained secondary index and the counters exact, inside the caller's write
/// transaction.
///
/// Change-log hook: this is the only function that changes items, so point-in-time recovery
/// appends `(sequence, time, key, old image, new image)` here when `table.change_log` is
/// set (by UpdateContinuousBackups; see `backup/pitr.rs`); otherwise the check costs one bool.
pub fn apply_write(
    txn: &mut dyn WriteTxn,
    table: &TableRecord,
    key: &[u8],
    old: Option<&Item>,
    new: Option<&Item>,
) -> DdbResult<WriteEffect> {
    apply(txn, table, key, old, new.map(NewImage::Plain))
}

/// [`apply_write`] of an item encoded beforehand, so that the write transaction (which
/// every other writer waits for) only stores bytes: what BatchWriteItem does with large
/// items. Same effects, same bytes, same [`WriteEffect`].
pub fn apply_encoded(
    txn: &mut dyn WriteTxn,
    table: &TableRecord,
    key: &[u8],
    old: Option<&Item>,
    new: Option<&Encoded>,
) -> DdbResult<WriteEffect> {
    apply(txn, table, key, old, new.map(NewImage::Encoded))
}

fn apply(
    txn: &mut dyn WriteTxn,
    table: &TableRecord,
    key: &[u8],
    old: Option<&Item>,
    new: Option<NewImage<'_>>,
) -> DdbResult<WriteEffect> {
    match new {
        Some(NewImage::Plain(item)) => txn.put(ITEMS_TABLE, key, &encode_item(item)?)?,
        Some(NewImage::Encoded(e)) => txn.put(ITEMS_TABLE, key, e.json.get().as_bytes())?,
        None => {
            txn.delete(ITEMS_TABLE, key)?;
        }
    }
    let count = |i: Option<&Item>| i64::from(i.is_some());
    let new_size = new.map_or(0, NewImage::size);
    add_stats(
        txn,
        &table.table_id,
        None,
        i64::from(new.is_some()) - count(old),
        new_size - size_of(old),
    )?;
    let mut effect = WriteEffect {
        item_bytes: size_of(old).max(new_size) as usize,
        index_units: Vec::new(),
    };
    for (position, (index, is_gsi)) in table
        .lsis
        .iter()
        .map(|i| (i, false))
        .chain(table.gsis.iter().map(|i| (i, true)))
        .enumerate()
    {
        if !index.maintained() {
            continue;
        }
        let old_entry = old.and_then(|o| {
            Some((
                index_key(table, index, o)?,
                project_for_index(table, index, o),
            ))
        });
        let new_entry = match new {
            None => None,
            Some(NewImage::Plain(n)) => index_key(table, index, n)
                .map(|k| NewEntry::Plain(k, project_for_index(table, index, n))),
            // `entries` follows the same order (maintained_indexes), one entry at most per index.
            Some(NewImage::Encoded(e)) => e
                .entries
                .iter()
                .find(|x| x.index == position)
                .map(|x| NewEntry::Encoded(x, &e.item)),
        };
        let unchanged = match (&old_entry, &new_entry) {
            (None, None) => true,
            (Some((ok, op)), Some(NewEntry::Plain(nk, np))) => ok == nk && op == np,
            (Some((ok, op)), Some(NewEntry::Encoded(ne, item))) => {
                *ok == ne.key && projection_equals(table, index, op, item)
            }
            _ => false,
        };
        if unchanged {
            continue;
        }
        let mut cost = 0.0;
        let old_bytes = old_entry.as_ref().map_or(0, |(_, p)| item_size(p) as i64);
        if let Some((k, _)) = &old_entry {
            txn.delete(INDEX_TABLE, k)?;
            if new_entry.as_ref().is_none_or(|n| n.key() != k.as_slice()) {
                cost += units(old_bytes as usize);
            }
        }
        let new_bytes = match &new_entry {
            None => 0,
            Some(NewEntry::Plain(k, p)) => {
                txn.put(INDEX_TABLE, k, &encode_item(p)?)?;
                item_size(p) as i64
            }
            Some(NewEntry::Encoded(e, _)) => {
                txn.put(INDEX_TABLE, &e.key, &e.value)?;
                e.bytes
            }
        };
        if new_entry.is_some() {
            cost += units(new_bytes as usize);
        }
        add_stats(
            txn,
            &table.table_id,
            Some(&index.name),
            i64::from(new_entry.is_some()) - i64::from(old_entry.is_some()),
            new_bytes - old_bytes,
        )?;
        effect.index_units.push((index.name.clone(), is_gsi, cost));
    }
    if table.change_log {
        // Point-in-time recovery's change log (backup/pitr.rs), in this same transaction.
        let new = match new {
            None => None,
            Some(NewImage::Plain(i)) => Some(crate::backup::LogImage::Item(i)),
            Some(NewImage::Encoded(e)) => Some(crate::backup::LogImage::Json(&e.json)),
        };
        crate::backup::record_change(txn, table, key, old, new)?;
    }
    Ok(effect)
}

/// Rebuilds one index from the table's items (GSI backfill): drops its entries and counter,
/// then projects every item. Idempotent, so a restarted job may run it again.
pub fn backfill_index(
    txn: &mut dyn WriteTxn,
    table: &TableRecord,
    index: &IndexDef,
) -> DdbResult<()> {
    drop_index(txn, table, &index.name)?;
    let items: Vec<Item> = {
        let prefix = table_prefix(&table.table_id);
        let mut out = Vec::new();
        for e in txn.scan_prefix(ITEMS_TABLE, &prefix)? {
            out.push(decode_item(&e?.1)?);
        }
        out
    };
    let (mut n, mut bytes) = (0, 0);
    for item in &items {
        if let Some(k) = index_key(table, index, item) {
            let p = project_for_index(table, index, item);
            bytes += item_size(&p) as i64;
            n += 1;
            txn.put(INDEX_TABLE, &k, &encode_item(&p)?)?;
        }
    }
    add_stats(txn, &table.table_id, Some(&index.name), n, bytes)
}

/// Removes an index's entries and counter.
pub fn drop_index(txn: &mut dyn WriteTxn, table: &TableRecord, index: &str) -> DdbResult<()> {
    delete_prefix(txn, INDEX_TABLE, &index_prefix(&table.table_id, index))?;
    txn.delete(STATS_TABLE, &stats_key(&table.table_id, Some(index)))?;
    Ok(())
}

/// Removes every item, index entry and counter of a table incarnation.
pub fn drop_table_data(txn: &mut dyn WriteTxn, table_id: &str) -> DdbResult<()> {
    let prefix = table_prefix(table_id);
    for t in [ITEMS_TABLE, INDEX_TABLE, STATS_TABLE] {
        delete_prefix(txn, t, &prefix)?;
    }
    Ok(())
}

fn delete_prefix(txn: &mut dyn WriteTxn, table: &str, prefix: &[u8]) -> DdbResult<()> {
    let end = keys::prefix_end(prefix);
    let end = end.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
    txn.delete_range(table, Bound::Included(prefix), end)?;
    Ok(())
}

// Bulk loading (restores into a fresh CREATING table). The stored item JSON a backup holds is
// exactly what `apply_write` wrote, so a restore writes it back verbatim under the target's
// key and adds only what the target's indexes need; the counters are added per batch.

/// The storage key in `table` of an item given as stored item JSON, reading only up to its
/// last key attribute: the attributes before it are skipped unparsed, those after it are not
/// read at all (the caller vouches for the record's bytes, e.g. the vault verified them).
pub fn stored_item_key(table: &TableRecord, bytes: &[u8]) -> DdbResult<Vec<u8>> {
    use serde::de::DeserializeSeed;
    let names = table.key.names();
    let mut parts = vec![None; names.len()];
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let result = KeyAttrs {
        names: &names,
        parts: &mut parts,
    }
    .deserialize(&mut de);
    // Stopping at the last key attribute leaves the rest of the object unread, which the
    // JSON reader reports as an error; the key parts are complete then, so it is moot.
    let mut k = table_prefix(&table.table_id);
    for part in parts {
        match part {
            Some(p) => k.extend(p),
            None => {
                return Err(match result {
                    Err(e) => DdbError::internal(e),
                    Ok(()) => DdbError::internal("item without its key"),
                });
            }
        }
    }
    Ok(k)
}

/// Reads a stored item's top-level map until every attribute in `names` was found, putting
/// each one's `encode_key_part` in `parts` (same order; stays `None` if absent or not S/N/B).
struct KeyAttrs<'a> {
    names: &'a [&'a str],
    parts: &'a mut [Option<Vec<u8>>],
}

impl<'de> serde::de::DeserializeSeed<'de> for KeyAttrs<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for KeyAttrs<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a stored item (a JSON object)")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut missing = self.names.len();
        while missing > 0 {
            let Some(slot) = map.next_key_seed(NameSlot(self.names))? else {
                break;
            };
            match slot {
                Some(i) if self.parts[i].is_none() => {
                    self.parts[i] = map.next_value_seed(KeyPart)?;
                    missing -= 1;
                }
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// A key attribute's value (`{"S": ..}`, `{"N": ..}` or `{"B": ..}`) as `encode_key_part`
/// encodes it; `None` for any other type.
struct KeyPart;

impl<'de> serde::de::DeserializeSeed<'de> for KeyPart {
    type Value = Option<Vec<u8>>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for KeyPart {
    type Value = Option<Vec<u8>>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an attribute value")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        use crate::attr::{AttributeValue, Base64Bytes, Number, encode_key_part};
        use serde::de::Error;
        let mut out = None;
        while let Some(tag) = map.next_key::<TypeTag>()? {
            let value = match tag {
                TypeTag::S => Some(AttributeValue::S(map.next_value()?)),
                TypeTag::N => {
                    let n: String = map.next_value()?;
                    Some(AttributeValue::N(
                        Number::parse(&n).map_err(A::Error::custom)?,
                    ))
                }
                TypeTag::B => Some(AttributeValue::B(map.next_value::<Base64Bytes>()?.0)),
                TypeTag::Other => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    None
                }
            };
            out = value.as_ref().and_then(encode_key_part);
        }
        Ok(out)
    }
}

/// The type tag of an attribute value, as far as keys care.
enum TypeTag {
    S,
    N,
    B,
    Other,
}

impl<'de> serde::Deserialize<'de> for TypeTag {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = TypeTag;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an attribute type")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<TypeTag, E> {
                Ok(match v {
                    "S" => TypeTag::S,
                    "N" => TypeTag::N,
                    "B" => TypeTag::B,
                    _ => TypeTag::Other,
                })
            }
        }
        d.deserialize_str(V)
    }
}

/// An attribute name, as its position in the wanted names (without allocating).
struct NameSlot<'a>(&'a [&'a str]);

impl<'de> serde::de::DeserializeSeed<'de> for NameSlot<'_> {
    type Value = Option<usize>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl serde::de::Visitor<'_> for NameSlot<'_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an attribute name")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(self.0.iter().position(|n| *n == v))
    }
}

/// One secondary-index entry of an item, as `apply_write` would write it.
#[derive(Debug, Clone)]
pub struct IndexEntry {
    /// Position of the index in `table.lsis` then `table.gsis`.
    pub index: usize,
    pub key: Vec<u8>,
    pub value: Vec<u8>,
    /// Item size of the projection (the index's counter).
    pub bytes: i64,
}

/// The maintained secondary indexes of `table`, LSIs then GSIs (the order [`IndexEntry`]
/// counts in).
pub fn maintained_indexes(table: &TableRecord) -> impl Iterator<Item = (usize, &IndexDef)> {
    table
        .lsis
        .iter()
        .chain(table.gsis.iter())
        .enumerate()
        .filter(|(_, i)| i.maintained())
}

/// The entries of `item` in every maintained index of `table` (sparse: an item without an
/// index's key attributes has no entry there).
pub fn index_entries(table: &TableRecord, item: &Item) -> DdbResult<Vec<IndexEntry>> {
    let mut out = Vec::new();
    for (i, index) in maintained_indexes(table) {
        if let Some(key) = index_key(table, index, item) {
            let p = project_for_index(table, index, item);
            out.push(IndexEntry {
                index: i,
                key,
                value: encode_item(&p)?,
                bytes: item_size(&p) as i64,
            });
        }
    }
    Ok(out)
}

/// Adds to the counters of a table (`index` = None) or one of its indexes.
pub fn add_counts(
    txn: &mut dyn WriteTxn,
    table_id: &str,
    index: Option<&str>,
    items: i64,
    bytes: i64,
) -> DdbResult<()> {
    add_stats(txn, table_id, index, items, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attr::parse_item_json;

    fn table() -> TableRecord {
        let key = |h: &str, ht: &str, r: Option<(&str, &str)>| {
            serde_json::json!({
                "hash": {"name": h, "ty": ht},
                "range": r.map(|(n, t)| serde_json::json!({"name": n, "ty": t})),
            })
        };
        let index =
            |name: &str, k: serde_json::Value, projection: &str, include: Option<&[&str]>| {
                serde_json::json!({
                    "name": name, "key": k, "projection_type": projection,
                    "non_key_attributes": include, "status": "ACTIVE", "throughput": null,
                })
            };
        serde_json::from_value(serde_json::json!({
            "name": "t", "table_id": "id", "arn": "arn", "status": "CREATING", "created_ms": 0,
            "attribute_definitions": [], "key": key("pk", "S", Some(("sk", "N"))),
            "billing_mode": "PAY_PER_REQUEST", "last_pay_per_request_ms": null,
            "throughput": {"read": 0, "write": 0, "last_increase_ms": null,
                           "last_decrease_ms": null, "decreases_today": 0},
            "lsis": [index("l", key("pk", "S", Some(("b", "B"))), "KEYS_ONLY", None)],
            "gsis": [index("g", key("g", "S", None), "INCLUDE", Some(&["x"]))],
            "stream": null, "sse": null, "table_class": null, "table_class_updated_ms": null,
            "deletion_protection": false, "tags": [], "ttl": null,
        }))
        .unwrap()
    }

    /// The key read from stored JSON alone is the key of the decoded item, whatever the
    /// attribute order, nesting or escapes around the key attributes.
    #[test]
    fn stored_item_key_equals_item_key() {
        let t = table();
        for text in [
            r#"{"pk":{"S":"a"},"sk":{"N":"1"}}"#,
            r#"{"m":{"M":{"pk":{"S":"no"},"sk":{"N":"9"}}},"sk":{"N":"-1.50E3"},"pk":{"S":"\u00e9\"x\u0000"}}"#,
            r#"{"l":{"L":[{"S":"pk"},{"N":"2"}]},"pk":{"S":"b"},"x":{"SS":["pk"]},"sk":{"N":"0"}}"#,
        ] {
            let item = parse_item_json(text).unwrap();
            let stored = encode_item(&item).unwrap();
            assert_eq!(
                stored_item_key(&t, &stored).unwrap(),
                item_key(&t, &item).unwrap()
            );
        }
        let no_range = encode_item(&parse_item_json(r#"{"pk":{"S":"a"}}"#).unwrap()).unwrap();
        assert!(stored_item_key(&t, &no_range).is_err());
        assert!(stored_item_key(&t, b"[1]").is_err());
        let wrong_type =
            encode_item(&parse_item_json(r#"{"pk":{"SS":["a"]},"sk":{"N":"1"}}"#).unwrap())
                .unwrap();
        assert!(stored_item_key(&t, &wrong_type).is_err());
    }

    /// The index entries a bulk load writes are those `apply_write` writes, counters too.
    #[test]
    fn index_entries_match_apply_write() {
        use tidemark_store::{MemStore, Store};
        let t = table();
        let store = MemStore::new();
        let items = [
            r#"{"pk":{"S":"a"},"sk":{"N":"1"},"b":{"B":"AAE="},"g":{"S":"x"},"x":{"N":"5"},"y":{"S":"no"}}"#,
            r#"{"pk":{"S":"a"},"sk":{"N":"2"},"g":{"S":"y"}}"#,
            r#"{"pk":{"S":"b"},"sk":{"N":"3"},"b":{"B":"AQ=="}}"#,
            r#"{"pk":{"S":"c"},"sk":{"N":"4"}}"#,
        ]
        .map(|s| parse_item_json(s).unwrap());
        let mut txn = store.write().unwrap();
        for item in &items {
            apply_write(
                &mut *txn,
                &t,
                &item_key(&t, item).unwrap(),
                None,
                Some(item),
            )
            .unwrap();
        }
        txn.commit().unwrap();
        let read = store.read().unwrap();
        let written: Vec<_> = read
            .scan_prefix(INDEX_TABLE, &table_prefix("id"))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let mut entries: Vec<IndexEntry> = Vec::new();
        for item in &items {
            entries.extend(index_entries(&t, item).unwrap());
        }
        let mut got: Vec<_> = entries
            .iter()
            .map(|e| (e.key.clone(), e.value.clone()))
            .collect();
        got.sort();
        assert_eq!(got, written);
        for (i, index) in maintained_indexes(&t) {
            let mine = entries.iter().filter(|e| e.index == i);
            let want = stats(&*read, "id", Some(&index.name)).unwrap();
            assert_eq!(mine.clone().count() as i64, want.items, "{}", index.name);
            assert_eq!(
                mine.map(|e| e.bytes).sum::<i64>(),
                want.bytes,
                "{}",
                index.name
            );
        }
    }

    /// Writing an item encoded beforehand has exactly the effects of writing it plainly:
    /// the same bytes in every table (items, index entries, counters, the PITR change log)
    /// and the same consumed capacity, through inserts, overwrites that change an index
    /// key, its projection, only unprojected attributes, only the attribute order (equal
    /// items, other bytes), and deletes.
    #[test]
    fn encoded_writes_match_plain_writes() {
        use tidemark_store::{MemStore, Store};
        let mut t = table();
        t.change_log = true;
        crate::backup::pitr::register_clock(
            &t.table_id,
            std::sync::Arc::new(tidemark_core::Clock::default()),
        );
        let steps = [
            Some(
                r#"{"pk":{"S":"a"},"sk":{"N":"1"},"b":{"B":"AAE="},"g":{"S":"x"},"x":{"N":"5"},"y":{"S":"no"}}"#,
            ),
            Some(
                r#"{"pk":{"S":"a"},"sk":{"N":"1"},"b":{"B":"AAE="},"g":{"S":"x"},"x":{"N":"5"},"y":{"S":"other"}}"#,
            ),
            Some(
                r#"{"sk":{"N":"1"},"pk":{"S":"a"},"y":{"S":"other"},"x":{"N":"5"},"g":{"S":"x"},"b":{"B":"AAE="}}"#,
            ),
            Some(r#"{"pk":{"S":"a"},"sk":{"N":"1"},"b":{"B":"AAE="},"g":{"S":"x"},"x":{"N":"6"}}"#),
            Some(r#"{"pk":{"S":"a"},"sk":{"N":"1"},"b":{"B":"AAI="},"g":{"S":"z"},"x":{"N":"6"}}"#),
            Some(r#"{"pk":{"S":"a"},"sk":{"N":"1"},"x":{"N":"6"}}"#),
            Some(r#"{"pk":{"S":"a"},"sk":{"N":"1"},"g":{"S":"x"},"x":{"SS":["p","q"]}}"#),
            Some(r#"{"pk":{"S":"a"},"sk":{"N":"1"},"g":{"S":"x"},"x":{"SS":["q","p"]}}"#),
            None,
            None,
            Some(r#"{"pk":{"S":"a"},"sk":{"N":"1"},"b":{"B":"AAE="}}"#),
        ];
        let plain = MemStore::new();
        let encoded = MemStore::new();
        let dump = |store: &MemStore| {
            let read = store.read().unwrap();
            let mut all = Vec::new();
            for name in read.table_names().unwrap() {
                for e in read.scan_prefix(&name, &[]).unwrap() {
                    let (k, v) = e.unwrap();
                    // The change log's times come from a running clock.
                    let v = if name == crate::backup::pitr::LOG_TABLE {
                        let mut entry: crate::backup::pitr::LogEntry =
                            serde_json::from_slice(&v).unwrap();
                        entry.t = 0;
                        serde_json::to_vec(&entry).unwrap()
                    } else {
                        v
                    };
                    all.push((name.clone(), k, v));
                }
            }
            all
        };
        for step in steps {
            let new = step.map(|s| parse_item_json(s).unwrap());
            let key = item_key(
                &t,
                &parse_item_json(r#"{"pk":{"S":"a"},"sk":{"N":"1"}}"#).unwrap(),
            )
            .unwrap();
            let mut effects = Vec::new();
            for (store, encode) in [(&plain, false), (&encoded, true)] {
                let mut txn = store.write().unwrap();
                let old = get_item(&*txn, &key).unwrap();
                let effect = if encode {
                    let e = new.clone().map(|n| Encoded::new(&t, n).unwrap());
                    apply_encoded(&mut *txn, &t, &key, old.as_ref(), e.as_ref()).unwrap()
                } else {
                    apply_write(&mut *txn, &t, &key, old.as_ref(), new.as_ref()).unwrap()
                };
                txn.commit().unwrap();
                effects.push(format!("{effect:?}"));
            }
            assert_eq!(effects[0], effects[1], "{step:?}");
            assert_eq!(dump(&plain), dump(&encoded), "{step:?}");
        }
        crate::backup::pitr::unregister_clock(&t.table_id);
    }
}
