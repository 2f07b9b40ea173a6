//! Parameter rules the model cannot express (reference §1.4, §3.4, §3.5, §3.15) and the
//! message templates of §3.20, kept in one place so they are easy to adjust.

use jiff::SignedDuration;
use tidemark_core::Timestamp;
use tidemark_model::CommonError;
use tidemark_model::redshift::Tag;

/// Manual snapshot retention: -1 (forever) or 1–3,653 days (§3.4).
pub const MAX_MANUAL_RETENTION: i32 = 3653;
/// Automated snapshot retention: 0–35 days (§3.3).
pub const MAX_AUTOMATED_RETENTION: i32 = 35;
/// Tags per resource (§3.15).
pub const MAX_TAGS: usize = 50;
/// Accounts a snapshot may be shared with (§3.14).
pub const MAX_GRANTS: usize = 20;
/// Entries in one batch call (§3.12).
pub const MAX_BATCH: usize = 100;
/// Default automated-snapshot cadence without a schedule (§3.3).
pub const DEFAULT_CADENCE_SECS: i64 = 8 * 3600;
pub const DAY_SECS: i64 = 86_400;

pub const NODE_TYPES: &[&str] = &[
    "dc2.large",
    "dc2.8xlarge",
    "rg.large",
    "rg.xlarge",
    "rg.4xlarge",
    "rg.12xlarge",
    "ra3.large",
    "ra3.xlplus",
    "ra3.4xlarge",
    "ra3.16xlarge",
];

/// Whether `id` follows the user identifier syntax: 1–`max` letters, digits and hyphens,
/// first a letter, no trailing hyphen, no `--`.
pub fn valid_identifier(id: &str, max: usize) -> bool {
    !id.is_empty()
        && id.len() <= max
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && id.as_bytes()[0].is_ascii_alphabetic()
        && !id.ends_with('-')
        && !id.contains("--")
}

/// `InvalidParameterValue` for a malformed identifier (§3.20 template).
pub fn bad_identifier(param: &str) -> CommonError {
    CommonError::InvalidParameterValue(format!(
        "The parameter {param} is not a valid identifier. Identifiers must begin with a letter; \
         must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or \
         contain two consecutive hyphens."
    ))
}

/// Checks a user-chosen cluster identifier (1–63) and returns it lower-cased.
pub fn cluster_identifier(param: &str, id: &str) -> Result<String, CommonError> {
    if valid_identifier(id, 63) {
        Ok(id.to_ascii_lowercase())
    } else {
        Err(bad_identifier(param))
    }
}

/// Checks a user-chosen snapshot identifier (1–255) and returns it lower-cased.
pub fn snapshot_identifier(param: &str, id: &str) -> Result<String, CommonError> {
    if valid_identifier(id, 255) {
        Ok(id.to_ascii_lowercase())
    } else {
        Err(bad_identifier(param))
    }
}

pub fn manual_retention_ok(days: i32) -> bool {
    days == -1 || (1..=MAX_MANUAL_RETENTION).contains(&days)
}

pub fn retention_message(days: i32) -> String {
    format!(
        "Invalid manual snapshot retention period {days}. The value must be either -1 or an integer between 1 and 3,653."
    )
}

pub fn automated_retention(days: i32, node_type: &str) -> Result<i32, CommonError> {
    if !(0..=MAX_AUTOMATED_RETENTION).contains(&days) {
        return Err(CommonError::InvalidParameterValue(format!(
            "Invalid automated snapshot retention period {days}. The value must be an integer between 0 and 35."
        )));
    }
    if days == 0 && (node_type.starts_with("ra3.") || node_type.starts_with("rg.")) {
        return Err(CommonError::InvalidParameterValue(format!(
            "Automated snapshots cannot be disabled for node type {node_type}."
        )));
    }
    Ok(days)
}

pub fn cluster_not_found(id: &str) -> String {
    format!("Cluster {id} not found.")
}

pub fn snapshot_not_found(id: &str) -> String {
    format!("Snapshot {id} not found.")
}

pub fn snapshot_exists(id: &str) -> String {
    format!("Cannot create the snapshot because a snapshot with the identifier {id} already exists")
}

/// Why a tag list is invalid: `Err((is_limit, message))`.
pub fn check_tags(existing: usize, tags: &[Tag]) -> Result<(), (bool, String)> {
    for t in tags {
        let key = t.key.as_deref().unwrap_or_default();
        let value = t.value.as_deref().unwrap_or_default();
        if key.is_empty() || key.chars().count() > 128 {
            return Err((
                false,
                format!("Tag key '{key}' must be 1 to 128 characters long."),
            ));
        }
        if value.chars().count() > 256 {
            return Err((
                false,
                format!("Tag value for key '{key}' must be at most 256 characters long."),
            ));
        }
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err((false, format!("Tag key '{key}' cannot start with 'aws:'.")));
        }
    }
    if existing + tags.len() > MAX_TAGS {
        return Err((
            true,
            format!("You have exceeded the number of tags allowed ({MAX_TAGS})."),
        ));
    }
    Ok(())
}

/// Upserts `new` into `tags` (an existing key gets the new value).
pub fn merge_tags(tags: &mut Vec<Tag>, new: &[Tag]) {
    for t in new {
        match tags.iter_mut().find(|x| x.key == t.key) {
            Some(x) => x.value = Some(t.value.clone().unwrap_or_default()),
            None => tags.push(Tag {
                key: t.key.clone(),
                value: Some(t.value.clone().unwrap_or_default()),
            }),
        }
    }
}

/// How many new tags `new` adds to `tags` (keys already present replace, not add).
pub fn added_tags(tags: &[Tag], new: &[Tag]) -> usize {
    new.iter()
        .filter(|t| !tags.iter().any(|x| x.key == t.key))
        .count()
}

/// Tag filter semantics of §3.15: keys only → any key; values only → any value; both → one
/// tag whose key and value are both listed.
pub fn tags_match(tags: &[Tag], keys: &[String], values: &[String]) -> bool {
    let has_key = |t: &Tag| t.key.as_ref().is_some_and(|k| keys.contains(k));
    let has_value = |t: &Tag| values.contains(&t.value.clone().unwrap_or_default());
    match (keys.is_empty(), values.is_empty()) {
        (true, true) => true,
        (false, true) => tags.iter().any(has_key),
        (true, false) => tags.iter().any(has_value),
        (false, false) => tags.iter().any(|t| has_key(t) && has_value(t)),
    }
}

/// `MaxRecords` bounds check; returns the page size.
pub fn page_size(max_records: Option<i32>, min: i32, max: i32) -> Result<usize, CommonError> {
    match max_records {
        None => Ok(max as usize),
        Some(n) if (min..=max).contains(&n) => Ok(n as usize),
        Some(_) => Err(CommonError::InvalidParameterValue(format!(
            "MaxRecords must be between {min} and {max}."
        ))),
    }
}

pub fn plus_secs(t: Timestamp, secs: i64) -> Timestamp {
    t.checked_add(SignedDuration::from_secs(secs)).unwrap_or(t)
}

/// `ManualSnapshotRemainingDays`: whole days left until `start + period`, rounded up,
/// never negative (§3.4).
pub fn remaining_days(start: Timestamp, period: i32, now: Timestamp) -> i32 {
    let end = plus_secs(start, i64::from(period) * DAY_SECS);
    let left = end.as_second() - now.as_second();
    if left <= 0 {
        0
    } else {
        ((left + DAY_SECS - 1) / DAY_SECS) as i32
    }
}

/// A short stable hex digest (not cryptographic) used for local host names and ids.
pub fn digest(parts: &[&str]) -> u64 {
    // FNV-1a: fixed, dependency-free and stable across runs and platforms.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// Lower-case letters/digits, `n` long, derived from `seed`.
pub fn alnum(seed: u64, n: usize) -> String {
    const A: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            A[((x >> 33) % A.len() as u64) as usize] as char
        })
        .collect()
}
