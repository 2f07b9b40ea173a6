//! DescribeClusterSnapshots markers: opaque (`tm1.` + hex) encodings of the operation, a hash
//! of the request's filters and the last [`SortKey`] returned, so a page resumes at a
//! position and a marker only continues the listing it came from (aws-behaviour.md §1.5).

use tidemark_model::CommonError;
use tidemark_model::redshift::DescribeClusterSnapshotsMessage;
use tidemark_store::keys;

use super::SortKey;
use crate::catalog::{self, bad_marker};

/// FNV-1a of the request's filters and sorting (everything but `MaxRecords` and `Marker`):
/// a marker only continues the listing it came from.
fn filter_hash(input: &DescribeClusterSnapshotsMessage) -> u64 {
    let mut f = input.clone();
    f.max_records = None;
    f.marker = None;
    let raw = serde_json::to_vec(&f).unwrap_or_default();
    raw.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

const MARKER_TAG: &str = "DescribeClusterSnapshots";

fn push_opt_str(b: keys::KeyBuilder, v: &Option<String>) -> keys::KeyBuilder {
    match v {
        Some(s) => b.u64(1).str(s),
        None => b.u64(0),
    }
}

/// The marker after `last`: the operation, the filter hash and `last`'s sort key.
pub(crate) fn encode_marker(input: &DescribeClusterSnapshotsMessage, last: &SortKey) -> String {
    let mut b = keys::KeyBuilder::new()
        .str(MARKER_TAG)
        .u64(filter_hash(input));
    b = push_opt_str(b, &last.kind);
    b = match last.size {
        Some(s) => b.u64(1).u64(s.to_bits()),
        None => b.u64(0),
    };
    b = match last.created {
        Some(c) => b.u64(1).i64(c),
        None => b.u64(0),
    };
    catalog::encode_marker_bytes(&b.str(&last.id).str(&last.owner).finish())
}

/// The sort key a marker resumes after; `InvalidParameterValue` for a garbled marker or one
/// from another operation or another set of filters.
pub(crate) fn decode_marker(
    input: &DescribeClusterSnapshotsMessage,
    marker: &str,
) -> Result<SortKey, CommonError> {
    let payload = catalog::decode_marker_bytes(marker)?;
    let bad = || bad_marker(marker);
    let mut r = keys::KeyReader::new(&payload);
    if r.str().map_err(|_| bad())? != MARKER_TAG
        || r.u64().map_err(|_| bad())? != filter_hash(input)
    {
        return Err(bad());
    }
    let flag = |r: &mut keys::KeyReader| r.u64().map_err(|_| bad());
    let kind = match flag(&mut r)? {
        0 => None,
        _ => Some(r.str().map_err(|_| bad())?),
    };
    let size = match flag(&mut r)? {
        0 => None,
        _ => Some(f64::from_bits(r.u64().map_err(|_| bad())?)),
    };
    let created = match flag(&mut r)? {
        0 => None,
        _ => Some(r.i64().map_err(|_| bad())?),
    };
    let id = r.str().map_err(|_| bad())?;
    let owner = r.str().map_err(|_| bad())?;
    if !r.rest().is_empty() {
        return Err(bad());
    }
    Ok(SortKey {
        kind,
        size,
        created,
        id,
        owner,
    })
}
