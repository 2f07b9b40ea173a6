//! The persisted table record (one incarnation of a table: its schema, indexes, settings and
//! lifecycle state) and loading/saving it in the catalog. Items and counters live elsewhere
//! (`storage.rs`), keyed by the incarnation's `table_id`, so a re-created table never sees
//! its predecessor's data.

use serde::{Deserialize, Serialize};
use tidemark_core::RequestContext;
use tidemark_store::{Reads, WriteTxn};

use crate::attr::{AttrType, KeyAttr, KeySchema};
use crate::catalog::{self, TABLES_TABLE};
use crate::error::{DdbError, DdbResult};

/// TableStatus / IndexStatus values tidemark uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Creating,
    Updating,
    Deleting,
    Active,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Creating => "CREATING",
            Status::Updating => "UPDATING",
            Status::Deleting => "DELETING",
            Status::Active => "ACTIVE",
        }
    }
}

/// One key attribute: name and scalar type (`S`, `N` or `B`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPart {
    pub name: String,
    pub ty: String,
}

/// A key schema as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyDef {
    pub hash: KeyPart,
    pub range: Option<KeyPart>,
}

fn attr_type(ty: &str) -> AttrType {
    // Stored types were validated as S/N/B at creation.
    AttrType::from_name(ty).unwrap_or(AttrType::S)
}

impl KeyDef {
    pub fn schema(&self) -> KeySchema<'_> {
        KeySchema {
            hash: KeyAttr {
                name: &self.hash.name,
                ty: attr_type(&self.hash.ty),
            },
            range: self.range.as_ref().map(|r| KeyAttr {
                name: &r.name,
                ty: attr_type(&r.ty),
            }),
        }
    }

    pub fn names(&self) -> Vec<&str> {
        std::iter::once(self.hash.name.as_str())
            .chain(self.range.as_ref().map(|r| r.name.as_str()))
            .collect()
    }
}

/// Provisioned throughput and its change history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Throughput {
    pub read: i64,
    pub write: i64,
    pub last_increase_ms: Option<i64>,
    pub last_decrease_ms: Option<i64>,
    pub decreases_today: i64,
}

/// Warm throughput, in read and write units per second: what a table or GSI can serve at once
/// (DynamoDB, since November 2024). A new one starts at 12,000/4,000; it rises to a requested
/// value or to higher provisioned throughput, and never falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warm {
    pub read: i64,
    pub write: i64,
}

impl Warm {
    /// A new table's or GSI's warm throughput ("A new on-demand table starts with a warm
    /// throughput of 12,000 read units per second and 4,000 write units per second").
    pub const DEFAULT: Warm = Warm {
        read: 12_000,
        write: 4_000,
    };

    /// The larger of each half.
    pub fn max(self, other: Warm) -> Warm {
        Warm {
            read: self.read.max(other.read),
            write: self.write.max(other.write),
        }
    }

    /// The warm throughput now: the stored value (absent in records older than warm
    /// throughput, and until something raises it) raised to the provisioned throughput.
    pub fn current(stored: Option<Warm>, throughput: Option<&Throughput>) -> Warm {
        let provisioned = throughput.map_or(Warm::DEFAULT, |t| Warm {
            read: t.read,
            write: t.write,
        });
        stored
            .unwrap_or(Warm::DEFAULT)
            .max(Warm::DEFAULT)
            .max(provisioned)
    }
}

/// A secondary index definition (LSI or GSI).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexDef {
    pub name: String,
    pub key: KeyDef,
    /// `ALL`, `KEYS_ONLY` or `INCLUDE`.
    pub projection_type: String,
    pub non_key_attributes: Option<Vec<String>>,
    /// GSIs only: CREATING while backfilling, DELETING until its entries are dropped.
    pub status: Status,
    /// GSIs on PROVISIONED tables.
    pub throughput: Option<Throughput>,
    /// GSIs: warm throughput once requested or raised (see [`Warm::current`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warm: Option<Warm>,
}

impl IndexDef {
    /// Whether writes must maintain this index's entries (everything but a deleting GSI).
    pub fn maintained(&self) -> bool {
        self.status != Status::Deleting
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamDef {
    pub enabled: bool,
    pub view_type: Option<String>,
    /// LatestStreamLabel of the current stream (set when a stream is enabled).
    pub label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SseDef {
    pub sse_type: Option<String>,
    pub kms_key_arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TtlDef {
    pub attribute: String,
    pub enabled: bool,
    /// Virtual time (ms) of the last UpdateTimeToLive, for DynamoDB's one change per hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_ms: Option<i64>,
}

/// One incarnation of a table, stored as JSON under `catalog::key(ctx, name)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableRecord {
    pub name: String,
    /// UUID of this incarnation; prefixes every item, index and counter key.
    pub table_id: String,
    pub arn: String,
    pub status: Status,
    pub created_ms: i64,
    /// (name, type) in request order.
    pub attribute_definitions: Vec<KeyPart>,
    pub key: KeyDef,
    /// `PROVISIONED` or `PAY_PER_REQUEST`.
    pub billing_mode: String,
    pub last_pay_per_request_ms: Option<i64>,
    pub throughput: Throughput,
    pub lsis: Vec<IndexDef>,
    pub gsis: Vec<IndexDef>,
    pub stream: Option<StreamDef>,
    pub sse: Option<SseDef>,
    pub table_class: Option<String>,
    pub table_class_updated_ms: Option<i64>,
    pub deletion_protection: bool,
    pub tags: Vec<(String, String)>,
    pub ttl: Option<TtlDef>,
    /// Set by point-in-time recovery when it lands: every item change then goes to the
    /// change log (see `storage::apply_write`). Absent in older records.
    #[serde(default)]
    pub change_log: bool,
    /// A restore target's RestoreSummary, which DescribeTable shows while the table is
    /// CREATING (AWS drops it once the table is ACTIVE). Absent in older records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore: Option<RestoreInfo>,
    /// Warm throughput once requested or raised (see [`Warm::current`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warm: Option<Warm>,
}

/// Where a restore target's data comes from (its RestoreSummary).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreInfo {
    pub source_backup_arn: Option<String>,
    pub source_table_arn: Option<String>,
    /// The instant restored: the backup's creation time or the PITR restore time.
    pub restore_ms: i64,
}

impl TableRecord {
    pub fn is_pay_per_request(&self) -> bool {
        self.billing_mode == "PAY_PER_REQUEST"
    }

    /// Every secondary index, LSIs first.
    pub fn indexes(&self) -> impl Iterator<Item = &IndexDef> {
        self.lsis.iter().chain(self.gsis.iter())
    }

    pub fn index(&self, name: &str) -> Option<(&IndexDef, bool)> {
        self.lsis
            .iter()
            .find(|i| i.name == name)
            .map(|i| (i, false))
            .or_else(|| self.gsis.iter().find(|i| i.name == name).map(|i| (i, true)))
    }

    pub fn index_arn(&self, index: &str) -> String {
        format!("{}/index/{index}", self.arn)
    }

    /// Whether the item APIs may use the table: CREATING and DELETING tables answer
    /// ResourceNotFoundException like a missing one.
    pub fn usable(&self) -> bool {
        matches!(self.status, Status::Active | Status::Updating)
    }
}

/// Loads the caller's table `name`, if any.
pub fn load(txn: &dyn Reads, ctx: &RequestContext, name: &str) -> DdbResult<Option<TableRecord>> {
    load_key(txn, &catalog::key(ctx, name))
}

pub fn load_key(txn: &dyn Reads, key: &[u8]) -> DdbResult<Option<TableRecord>> {
    match txn.get(TABLES_TABLE, key)? {
        None => Ok(None),
        Some(bytes) => decode_cached(bytes).map(Some),
    }
}

/// How many decoded table records each thread keeps (see [`decode_cached`]).
const DECODED_PER_THREAD: usize = 8;

thread_local! {
    /// The last few table records this thread decoded, with the exact bytes they came from.
    static DECODED: std::cell::RefCell<Vec<(Vec<u8>, TableRecord)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Decodes a stored table record, reusing an earlier decoding of the very same bytes. Every
/// item API loads its table's record; parsing its JSON each time took ~5% of a PutItem. The
/// cache is keyed by the record's bytes, never by its name, so a changed record (new
/// status, index, setting) simply decodes afresh: nothing is ever stale.
fn decode_cached(bytes: Vec<u8>) -> DdbResult<TableRecord> {
    let hit = DECODED.with(|d| {
        let d = d.borrow();
        d.iter().find(|(b, _)| *b == bytes).map(|(_, t)| t.clone())
    });
    if let Some(t) = hit {
        return Ok(t);
    }
    let t: TableRecord = serde_json::from_slice(&bytes).map_err(DdbError::internal)?;
    DECODED.with(|d| {
        let mut d = d.borrow_mut();
        if d.len() == DECODED_PER_THREAD {
            d.remove(0);
        }
        d.push((bytes, t.clone()));
    });
    Ok(t)
}

/// Loads a table the DescribeTable family may see, or `Requested resource not found: Table:
/// <name> not found`.
pub fn require(txn: &dyn Reads, ctx: &RequestContext, name: &str) -> DdbResult<TableRecord> {
    load(txn, ctx, name)?.ok_or_else(|| DdbError::table_not_found(name))
}

/// Loads a table the item APIs may use (ACTIVE or UPDATING).
pub fn require_usable(txn: &dyn Reads, ctx: &RequestContext, name: &str) -> DdbResult<TableRecord> {
    match load(txn, ctx, name)? {
        Some(t) if t.usable() => Ok(t),
        _ => Err(DdbError::item_table_not_found()),
    }
}

pub fn save(txn: &mut dyn WriteTxn, ctx: &RequestContext, t: &TableRecord) -> DdbResult<()> {
    save_key(txn, &catalog::key(ctx, &t.name), t)
}

pub fn save_key(txn: &mut dyn WriteTxn, key: &[u8], t: &TableRecord) -> DdbResult<()> {
    let bytes = serde_json::to_vec(t).map_err(DdbError::internal)?;
    txn.put(TABLES_TABLE, key, &bytes)?;
    Ok(())
}

/// A table name or ARN as the item APIs accept it (`TableName` may be an ARN since 2024):
/// the ARN form must name a table of the caller's account and region ([`name_in_arn`]).
pub fn name_of(ctx: &RequestContext, table_name: &str) -> DdbResult<String> {
    if table_name.starts_with("arn:") {
        return name_in_arn(ctx, table_name).map(str::to_owned);
    }
    Ok(table_name.to_string())
}

/// The name of the table `arn` names, checked in AWS's order: a malformed ARN is
/// `Invalid TableArn: <arn>`; a well-formed one of another account is AccessDeniedException
/// before anything is looked up (AWS's observed answer to another account's backup ARN,
/// reference §2.5/§2.6/§2.10; the reference records no answer for table ARNs outside
/// RestoreTableToPointInTime, so the same rule applies); the caller's own ARN for another
/// region or partition stays `Invalid TableArn`, as regions are separate namespaces.
pub fn name_in_arn<'a>(ctx: &RequestContext, arn: &'a str) -> DdbResult<&'a str> {
    let invalid = || DdbError::validation(format!("Invalid TableArn: {arn}"));
    let mut parts = arn.splitn(6, ':');
    let mut next = || parts.next().unwrap_or_default();
    let (head, partition, service, region, account, resource) =
        (next(), next(), next(), next(), next(), next());
    let name = resource
        .strip_prefix("table/")
        .filter(|n| !n.is_empty() && !n.contains('/'))
        .ok_or_else(invalid)?;
    let well_formed = head == "arn"
        && partition.starts_with("aws")
        && service == "dynamodb"
        && !region.is_empty()
        && tidemark_core::AccountId::parse(account).is_some();
    if !well_formed {
        return Err(invalid());
    }
    if account != ctx.account.as_str() {
        return Err(DdbError::access_denied());
    }
    if partition != ctx.partition() || region != ctx.region {
        return Err(invalid());
    }
    Ok(name)
}
