//! Paging for DescribeClusterSnapshots (§3.17): the sort order, the filters, markers that
//! hold the last sort key returned (so a page resumes at a position, not an offset), and the
//! two page builders: a merge of the owner's order index with the shared snapshots (default
//! order, cost proportional to the page), and an in-memory sort (`SortingEntities`, lookups
//! by identifier). Filters and sorting read the index's [`SnapSummary`]; full records are
//! read only for the snapshots a page returns.

mod marker;

use std::cmp::Ordering;
use std::collections::HashMap;
use std::ops::Bound;

use tidemark_model::CommonError;
use tidemark_model::redshift::{DescribeClusterSnapshotsMessage, SnapshotSortingEntity};
use tidemark_store::{Reads, keys};

use super::Visible;
use crate::catalog::{self, CLUSTERS_TABLE, SNAPSHOT_ORDER_TABLE, Scope, SnapSummary, internal};
use crate::rules;

pub(crate) use marker::{decode_marker, encode_marker};

/// One `SortingEntities` entry: the attribute and whether it sorts descending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Attr {
    SourceType,
    TotalSize,
    CreateTime,
}

/// Reads `SortingEntities`; an unknown attribute is `InvalidParameterValue`.
pub(crate) fn sort_entities(
    entities: &[SnapshotSortingEntity],
) -> Result<Vec<(Attr, bool)>, CommonError> {
    entities
        .iter()
        .map(|e| {
            let attr = e.attribute.clone().unwrap_or_default();
            let a = match attr.as_str() {
                "SOURCE_TYPE" => Attr::SourceType,
                "TOTAL_SIZE" => Attr::TotalSize,
                "CREATE_TIME" => Attr::CreateTime,
                _ => {
                    return Err(CommonError::InvalidParameterValue(format!(
                        "Invalid sorting attribute {attr}."
                    )));
                }
            };
            Ok((a, e.sort_order.as_deref() == Some("DESC")))
        })
        .collect()
}

/// Where a snapshot sits in the listing: the sorted-by fields, then create time, identifier
/// and owner account, which make the order total (no two snapshots share id and owner).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SortKey {
    kind: Option<String>,
    size: Option<f64>,
    created: Option<i64>,
    id: String,
    owner: String,
}

impl SortKey {
    fn of(owner: &Scope, id: &str, s: &SnapSummary) -> Self {
        Self {
            kind: s.kind.clone(),
            size: s.size,
            created: s.created.map(|t| t.as_millis()),
            id: id.to_owned(),
            owner: owner.account.clone(),
        }
    }

    /// The default-order part only: `(create time, identifier, owner)`.
    fn base(&self) -> (Option<i64>, &str, &str) {
        (self.created, &self.id, &self.owner)
    }
}

/// The listing order: each entity in turn, then the default `(create time, id, owner)`.
pub(crate) fn compare(a: &SortKey, b: &SortKey, entities: &[(Attr, bool)]) -> Ordering {
    for &(attr, desc) in entities {
        let o = match attr {
            Attr::SourceType => a.kind.cmp(&b.kind),
            Attr::TotalSize => a.size.partial_cmp(&b.size).unwrap_or(Ordering::Equal),
            Attr::CreateTime => a.created.cmp(&b.created),
        };
        let o = if desc { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.base().cmp(&b.base())
}

/// The request's filters (every one ANDs), checked per snapshot.
pub(crate) struct Filters<'a> {
    pub input: &'a DescribeClusterSnapshotsMessage,
    pub caller: &'a Scope,
    pub cluster: Option<String>,
    pub tag_keys: Vec<String>,
    pub tag_values: Vec<String>,
    /// `(owner account, cluster)` → whether the cluster exists (for `ClusterExists`).
    live: HashMap<(String, String), bool>,
}

impl<'a> Filters<'a> {
    pub(crate) fn new(input: &'a DescribeClusterSnapshotsMessage, caller: &'a Scope) -> Self {
        Self {
            input,
            caller,
            cluster: input
                .cluster_identifier
                .as_ref()
                .map(|c| c.to_ascii_lowercase()),
            tag_keys: input.tag_keys.clone().unwrap_or_default(),
            tag_values: input.tag_values.clone().unwrap_or_default(),
            live: HashMap::new(),
        }
    }

    /// Whether snapshot `s` of `owner` passes every filter but the identifier / ARN lookup.
    fn keep(
        &mut self,
        txn: &(impl Reads + ?Sized),
        owner: &Scope,
        s: &SnapSummary,
    ) -> Result<bool, CommonError> {
        let input = self.input;
        let snap_cluster = s.cluster.as_deref().unwrap_or_default();
        let tag_filter = !self.tag_keys.is_empty() || !self.tag_values.is_empty();
        let ok = self.cluster.as_deref().is_none_or(|c| c == snap_cluster)
            && input
                .snapshot_type
                .as_ref()
                .is_none_or(|t| s.kind.as_ref() == Some(t))
            && input
                .start_time
                .is_none_or(|t| s.created.is_some_and(|c| c >= t))
            && input
                .end_time
                .is_none_or(|t| s.created.is_some_and(|c| c <= t))
            && input
                .owner_account
                .as_ref()
                .is_none_or(|o| s.owner_account.as_ref() == Some(o))
            && (!tag_filter
                || (owner == self.caller
                    && rules::tags_match(&s.tags, &self.tag_keys, &self.tag_values)));
        if !ok {
            return Ok(false);
        }
        let Some(exists) = input.cluster_exists else {
            return Ok(true);
        };
        let k = (owner.account.clone(), snap_cluster.to_owned());
        let live = match self.live.get(&k) {
            Some(l) => *l,
            None => {
                let l = txn
                    .get(CLUSTERS_TABLE, &owner.key(snap_cluster))
                    .map_err(internal)?
                    .is_some();
                self.live.insert(k, l);
                l
            }
        };
        Ok(live == exists)
    }
}

/// A snapshot that may go on a page: its position and summary, and either its record (read
/// already) or the order-index entry to read it through.
pub(crate) struct Cand {
    key: SortKey,
    owner: Scope,
    summary: SnapSummary,
    rec: Option<Visible>,
    entry: Vec<u8>,
}

impl Cand {
    /// A snapshot whose record is in hand (shared, or found by identifier).
    pub(crate) fn of(v: Visible) -> Self {
        let summary = SnapSummary::of(&v.rec);
        Self {
            key: SortKey::of(&v.owner, v.rec.id(), &summary),
            owner: v.owner.clone(),
            summary,
            rec: Some(v),
            entry: Vec::new(),
        }
    }

    /// A snapshot of `owner` known by its order-index entry `(key, value)`.
    fn from_entry(
        owner: &Scope,
        prefix: &[u8],
        entry: Vec<u8>,
        value: &[u8],
    ) -> Result<Self, CommonError> {
        let (_, id) = catalog::split_order_key(prefix, &entry)?;
        let summary: SnapSummary = serde_json::from_slice(value).map_err(internal)?;
        Ok(Self {
            key: SortKey::of(owner, &id, &summary),
            owner: owner.clone(),
            summary,
            rec: None,
            entry,
        })
    }
}

/// The caller's own snapshots as candidates, from the order index alone.
pub(crate) fn own_candidates(
    txn: &(impl Reads + ?Sized),
    caller: &Scope,
) -> Result<Vec<Cand>, CommonError> {
    let prefix = caller.prefix();
    let mut out = Vec::new();
    for entry in txn
        .scan_prefix(SNAPSHOT_ORDER_TABLE, &prefix)
        .map_err(internal)?
    {
        let (k, v) = entry.map_err(internal)?;
        out.push(Cand::from_entry(caller, &prefix, k, &v)?);
    }
    Ok(out)
}

/// One page: the snapshots in order with their sort keys, and whether more follow.
pub(crate) struct Page {
    pub items: Vec<(SortKey, Visible)>,
    pub more: bool,
    /// Order-index entries found without a matching record (for cleanup).
    pub stale: Vec<Vec<u8>>,
}

impl Page {
    fn new() -> Self {
        Self {
            items: Vec::new(),
            more: false,
            stale: Vec::new(),
        }
    }

    /// Takes `c` if it passes the filters and its record is still there (an order-index
    /// entry without one is noted as stale and skipped); returns true once the page is full
    /// and one more match is known to exist.
    fn offer(
        &mut self,
        txn: &(impl Reads + ?Sized),
        filters: &mut Filters,
        limit: usize,
        c: Cand,
    ) -> Result<bool, CommonError> {
        if !filters.keep(txn, &c.owner, &c.summary)? {
            return Ok(false);
        }
        let v = match c.rec {
            Some(v) => v,
            None => match catalog::order_entry_live(txn, &c.owner, c.key.created, &c.key.id)? {
                Some(rec) => Visible {
                    owner: c.owner,
                    rec,
                },
                None => {
                    self.stale.push(c.entry);
                    return Ok(false);
                }
            },
        };
        if self.items.len() == limit {
            self.more = true;
            return Ok(true);
        }
        self.items.push((c.key, v));
        Ok(false)
    }
}

/// A page from candidates held in memory: filter, sort, resume after `after`.
pub(crate) fn page_in_memory(
    txn: &(impl Reads + ?Sized),
    filters: &mut Filters,
    mut candidates: Vec<Cand>,
    entities: &[(Attr, bool)],
    after: Option<&SortKey>,
    limit: usize,
) -> Result<Page, CommonError> {
    candidates.retain(|c| after.is_none_or(|a| compare(&c.key, a, entities) == Ordering::Greater));
    candidates.sort_by(|a, b| compare(&a.key, &b.key, entities));
    let mut page = Page::new();
    for c in candidates {
        if page.offer(txn, filters, limit, c)? {
            break;
        }
    }
    Ok(page)
}

/// A page in the default order: the caller's order index from `after` on, merged with the
/// snapshots shared with the caller (`shared`, few). Reads index entries up to the page's
/// end and one record per snapshot returned, not the whole account.
pub(crate) fn page_by_index(
    txn: &(impl Reads + ?Sized),
    filters: &mut Filters,
    caller: &Scope,
    shared: Vec<Visible>,
    after: Option<&SortKey>,
    limit: usize,
) -> Result<Page, CommonError> {
    let mut shared: Vec<Cand> = shared
        .into_iter()
        .map(Cand::of)
        .filter(|c| after.is_none_or(|a| c.key.base() > a.base()))
        .collect();
    // Descending, so the smallest is popped first.
    shared.sort_by(|a, b| b.key.base().cmp(&a.key.base()));
    let prefix = caller.prefix();
    // Entries at the marker's (time, id) may still follow it (a lower owner account), so
    // the scan starts there inclusively and the exact comparison below decides.
    let start = match after {
        Some(a) => caller.order_key(a.created, &a.id),
        None => prefix.clone(),
    };
    let end = keys::prefix_end(&prefix);
    let end = end.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
    let mut page = Page::new();
    for entry in txn
        .range(SNAPSHOT_ORDER_TABLE, Bound::Included(&start), end, false)
        .map_err(internal)?
    {
        let (k, v) = entry.map_err(internal)?;
        let own = Cand::from_entry(caller, &prefix, k, &v)?;
        if after.is_some_and(|a| own.key.base() <= a.base()) {
            continue;
        }
        while shared.last().is_some_and(|c| c.key.base() < own.key.base()) {
            if let Some(c) = shared.pop()
                && page.offer(txn, filters, limit, c)?
            {
                return Ok(page);
            }
        }
        if page.offer(txn, filters, limit, own)? {
            return Ok(page);
        }
    }
    while let Some(c) = shared.pop() {
        if page.offer(txn, filters, limit, c)? {
            break;
        }
    }
    Ok(page)
}
