//! The paged read loop Query and Scan share: walk a key range of the table or of one
//! secondary index in order, stop at `Limit` evaluated items or 1 MB read, filter, project,
//! and report `LastEvaluatedKey` so the next page starts right after it.

mod skim;

use std::ops::Bound;

use tidemark_store::Reads;

use crate::attr::{Item, item_size};
use crate::capacity::{Consumed, read_units};
use crate::error::{DdbError, DdbResult};
use crate::expr::{ConditionExpr, ProjectionExpr, RangeCondition};
use crate::storage::{self, INDEX_TABLE, ITEMS_TABLE};
use crate::table::{IndexDef, KeyDef, Status, TableRecord};

/// A page stops once this many bytes were read (DynamoDB's 1 MB rule).
pub const MAX_PAGE_BYTES: usize = 1024 * 1024;

/// What a read walks: the table or one of its indexes.
pub struct Source<'a> {
    pub table: &'a TableRecord,
    pub index: Option<(&'a IndexDef, bool)>,
}

impl<'a> Source<'a> {
    /// Resolves `IndexName` with DynamoDB's checks.
    pub fn new(
        table: &'a TableRecord,
        index: Option<&str>,
        consistent: bool,
    ) -> DdbResult<Source<'a>> {
        let index = match index {
            None => None,
            Some(name) => {
                let (i, gsi) = table.index(name).ok_or_else(|| {
                    DdbError::validation(format!(
                        "The table does not have the specified index: {name}"
                    ))
                })?;
                if gsi && consistent {
                    return Err(DdbError::validation(
                        "Consistent reads are not supported on global secondary indexes",
                    ));
                }
                if i.status == Status::Creating {
                    return Err(DdbError::validation(format!(
                        "Cannot read from backfilling global secondary index: {name}"
                    )));
                }
                Some((i, gsi))
            }
        };
        Ok(Source { table, index })
    }

    /// The key schema a key condition applies to.
    pub fn key(&self) -> &KeyDef {
        self.index.map_or(&self.table.key, |(i, _)| &i.key)
    }

    fn store_table(&self) -> &'static str {
        if self.index.is_some() {
            INDEX_TABLE
        } else {
            ITEMS_TABLE
        }
    }

    pub fn prefix(&self) -> Vec<u8> {
        match self.index {
            None => storage::table_prefix(&self.table.table_id),
            Some((i, _)) => storage::index_prefix(&self.table.table_id, &i.name),
        }
    }

    /// The storage key of an item in this source.
    pub fn key_of(&self, item: &Item) -> Option<Vec<u8>> {
        match self.index {
            None => storage::item_key(self.table, item).ok(),
            Some((i, _)) => storage::index_key(self.table, i, item),
        }
    }

    /// Checks an ExclusiveStartKey and returns its storage key.
    pub fn start_key(&self, esk: &Item) -> DdbResult<Vec<u8>> {
        let bad = || {
            DdbError::validation(
                "The provided starting key is invalid: The provided key element does not match the schema",
            )
        };
        let mut names: Vec<&str> = self.table.key.names();
        if let Some((i, _)) = self.index {
            for n in i.key.names() {
                if !names.contains(&n) {
                    names.push(n);
                }
            }
        }
        if esk.len() != names.len() || names.iter().any(|n| !esk.contains_key(*n)) {
            return Err(bad());
        }
        self.table
            .key
            .schema()
            .check_key(&self.table.key.schema().key_of(esk).ok_or_else(bad)?)
            .map_err(|_| bad())?;
        self.key_of(esk).ok_or_else(bad)
    }

    /// The primary key (plus index key) attributes of an item: its LastEvaluatedKey.
    pub fn last_key(&self, item: &Item) -> Item {
        let mut names = self.table.key.names();
        if let Some((i, _)) = self.index {
            names.extend(i.key.names());
        }
        item.iter()
            .filter(|(k, _)| names.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// An LSI read that needs attributes the index does not project fetches from the table.
    fn needs_table_fetch(&self, all_attributes: bool, projection: Option<&ProjectionExpr>) -> bool {
        let Some((i, false)) = self.index else {
            return false;
        };
        if i.projection_type == "ALL" {
            return false;
        }
        if all_attributes {
            return true;
        }
        let projected = |n: &str| {
            self.table.key.names().contains(&n)
                || i.key.names().contains(&n)
                || i.non_key_attributes
                    .as_ref()
                    .is_some_and(|a| a.iter().any(|x| x == n))
        };
        projection.is_some_and(|p| p.top_level_names().any(|n| !projected(n)))
    }
}

/// One page request.
pub struct Page<'a> {
    pub start: Bound<Vec<u8>>,
    pub end: Bound<Vec<u8>>,
    pub forward: bool,
    pub exclusive_start: Option<Vec<u8>>,
    pub limit: Option<usize>,
    pub range: Option<(&'a str, &'a RangeCondition)>,
    pub filter: Option<&'a ConditionExpr>,
    pub projection: Option<&'a ProjectionExpr>,
    /// `Select=COUNT`: no items returned.
    pub count_only: bool,
    /// `Select=ALL_ATTRIBUTES`.
    pub all_attributes: bool,
    pub consistent: bool,
    /// Scan segments: `(segment, total)`.
    pub segment: Option<(u32, u32)>,
    /// The caller can send stored item JSON as is: when nothing reshapes the items (no
    /// projection, no fetch from the table), the page keeps their stored bytes in
    /// [`PageResult::raw`] instead of [`PageResult::items`].
    pub raw: bool,
}

pub struct PageResult {
    pub items: Vec<Item>,
    /// With [`Page::raw`], when the items need no reshaping: each returned item's stored
    /// JSON (exactly what serializing the decoded item gives, as `storage::encode_item` wrote
    /// it), and `items` stays empty.
    pub raw: Option<Vec<Vec<u8>>>,
    pub count: usize,
    pub scanned: usize,
    pub last_key: Option<Item>,
    pub consumed: Consumed,
}

/// FNV-1a of the encoded partition key, finished with murmur3's 64-bit mix: assigns each
/// partition to one Scan segment. (FNV-1a's low bits depend only on the low bits of the
/// input bytes, so without the mix `% total` for a power of two left some segments empty.)
fn segment_of(hash_key: &[u8], total: u32) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in hash_key {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    (h % u64::from(total)) as u32
}

/// The length of the encoded key part (`attr::encode_key_part`) of type `ty` ("S", "N", "B")
/// that starts `key`; `None` if `key` does not hold a whole one. Each encoding is
/// self-delimiting: S and B end at a 0x00 not followed by 0xFF, zero is one byte, a positive
/// number ends at the 0x00 after its exponent byte, a negative one at the 0xFF after it.
fn key_part_len(key: &[u8], ty: &str) -> Option<usize> {
    match ty {
        "N" => match *key.first()? {
            0x01 => Some(1),
            0x02 => Some(2 + key.get(2..)?.iter().position(|b| *b == 0x00)? + 1),
            0x00 => Some(2 + key.get(2..)?.iter().position(|b| *b == 0xFF)? + 1),
            _ => None,
        },
        _ => {
            let mut i = 0;
            loop {
                match *key.get(i)? {
                    0x00 if key.get(i + 1) == Some(&0xFF) => i += 2,
                    0x00 => return Some(i + 1),
                    _ => i += 1,
                }
            }
        }
    }
}

fn as_bound(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match b {
        Bound::Included(v) => Bound::Included(v.as_slice()),
        Bound::Excluded(v) => Bound::Excluded(v.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// Runs one page.
pub fn run(txn: &dyn Reads, src: &Source<'_>, page: &Page<'_>) -> DdbResult<PageResult> {
    let (mut start, mut end) = (page.start.clone(), page.end.clone());
    // The page resumes after ExclusiveStartKey, but never outside the requested range.
    if let Some(esk) = &page.exclusive_start {
        if page.forward {
            let later = match &start {
                Bound::Included(s) | Bound::Excluded(s) => esk >= s,
                Bound::Unbounded => true,
            };
            if later {
                start = Bound::Excluded(esk.clone());
            }
        } else {
            let earlier = match &end {
                Bound::Included(e) | Bound::Excluded(e) => esk <= e,
                Bound::Unbounded => true,
            };
            if earlier {
                end = Bound::Excluded(esk.clone());
            }
        }
    }
    let iter = txn.range(
        src.store_table(),
        as_bound(&start),
        as_bound(&end),
        !page.forward,
    )?;
    let fetch = src.needs_table_fetch(page.all_attributes, page.projection);
    let raw = page.raw && !page.count_only && page.projection.is_none() && !fetch;
    let mut out = PageResult {
        items: Vec::new(),
        raw: raw.then(Vec::new),
        count: 0,
        scanned: 0,
        last_key: None,
        consumed: Consumed::default(),
    };
    let mut bytes = 0usize;
    let mut last: Option<Item> = None;
    let mut stopped = false;
    let hash_name = src.table.key.hash.name.as_str();
    // Stored JSON going out as is, and no filter to evaluate: skim each item (size and the
    // one or two attributes the segment and range checks read) instead of decoding it.
    let skimming = raw && page.filter.is_none();
    let prefix_len = src.prefix().len();
    let wanted = [
        // A table scan finds the segment from the key (`key_segment`), an index scan here.
        page.segment
            .filter(|_| src.index.is_some())
            .map(|_| hash_name),
        page.range.map(|(name, _)| name),
    ];
    // A table's storage key is its prefix, then the encoded hash key: a segmented scan of the
    // table can skip other segments' items by key, before reading their JSON.
    let key_segment = |key: &[u8]| -> Option<u32> {
        let (_, total) = page.segment?;
        if src.index.is_some() {
            return None;
        }
        let hk = key.get(prefix_len..)?;
        let hk = &hk[..key_part_len(hk, &src.table.key.hash.ty)?];
        Some(segment_of(hk, total))
    };
    for entry in iter {
        let (k, v) = entry?;
        if stopped {
            // One more entry exists past the stop point: the page is not the last.
            out.last_key = match (skimming, out.raw.as_ref().and_then(|r| r.last())) {
                (true, Some(stored)) => Some(src.last_key(&storage::decode_item(stored)?)),
                _ => last.take(),
            };
            break;
        }
        if skimming {
            let by_key = key_segment(&k);
            if let (Some(seg), Some((want, _))) = (by_key, page.segment)
                && seg != want
            {
                continue;
            }
            let s = skim::skim(&v, wanted)?;
            if let (None, Some((seg, total))) = (by_key, page.segment) {
                let hk = s.found[0]
                    .as_ref()
                    .and_then(crate::attr::encode_key_part)
                    .unwrap_or_default();
                if segment_of(&hk, total) != seg {
                    continue;
                }
            }
            if let Some((_, cond)) = page.range
                && !s.found[1].as_ref().is_some_and(|v| cond.matches(v))
            {
                continue;
            }
            out.scanned += 1;
            out.count += 1;
            bytes += s.size;
            if let Some(raw_items) = &mut out.raw {
                raw_items.push(v);
            }
            if page.limit.is_some_and(|l| out.scanned >= l) || bytes >= MAX_PAGE_BYTES {
                stopped = true;
            }
            continue;
        }
        let mut item = storage::decode_item(&v)?;
        if let Some((seg, total)) = page.segment {
            let hk = item
                .get(hash_name)
                .and_then(crate::attr::encode_key_part)
                .unwrap_or_default();
            if segment_of(&hk, total) != seg {
                continue;
            }
        }
        if let Some((name, cond)) = page.range
            && !item.get(name).is_some_and(|v| cond.matches(v))
        {
            continue;
        }
        out.scanned += 1;
        bytes += item_size(&item);
        if fetch && let Some(full) = storage::get_item(txn, &storage::item_key(src.table, &item)?)?
        {
            bytes += item_size(&full);
            item = full;
        }
        let keep = page.filter.is_none_or(|f| f.evaluate(&item));
        // Only the key attributes are kept: LastEvaluatedKey if the page stops here.
        last = Some(src.last_key(&item));
        if keep {
            out.count += 1;
            if let Some(raw_items) = &mut out.raw {
                raw_items.push(v);
            } else if !page.count_only {
                out.items.push(match page.projection {
                    Some(p) => p.apply(&item),
                    None => item,
                });
            }
        }
        if page.limit.is_some_and(|l| out.scanned >= l) || bytes >= MAX_PAGE_BYTES {
            stopped = true;
        }
    }
    let units = read_units(bytes, page.consistent);
    out.consumed = match src.index {
        None => Consumed::read(units),
        Some((i, gsi)) => Consumed::index_read(&i.name, gsi, units),
    };
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attr::{AttributeValue, Number, encode_key_part};

    #[test]
    fn key_part_lengths_delimit_every_encoding() {
        let values = [
            AttributeValue::S(String::new()),
            AttributeValue::S("a\u{0}b\u{0}".into()),
            AttributeValue::S("é漢".into()),
            AttributeValue::B(vec![0, 0xFF, 0, 0]),
            AttributeValue::B(vec![]),
            AttributeValue::N(Number::parse("0").unwrap()),
            AttributeValue::N(Number::parse("1e-130").unwrap()),
            AttributeValue::N(Number::parse("-1e125").unwrap()),
            AttributeValue::N(Number::parse("-99999999999999999999999999999999999999").unwrap()),
            AttributeValue::N(Number::parse("123.456").unwrap()),
        ];
        let range = encode_key_part(&AttributeValue::S("\u{0}r".into())).unwrap();
        for v in &values {
            let ty = match v {
                AttributeValue::N(_) => "N",
                AttributeValue::B(_) => "B",
                _ => "S",
            };
            let enc = encode_key_part(v).unwrap();
            let key = [enc.as_slice(), &range].concat();
            assert_eq!(key_part_len(&key, ty), Some(enc.len()), "{v:?}");
            assert_eq!(key_part_len(&enc, ty), Some(enc.len()), "{v:?} alone");
            assert_eq!(key_part_len(&enc[..enc.len() - 1], ty), None, "{v:?} cut");
        }
    }
}
