//! DynamoDB JSON form of attribute values (`{"S":"x"}`, `{"N":"12"}`, `{"B":"<base64>"}`,
//! `{"NULL":true}`, ...): serialisation, a structural `RawAttributeValue` (wrong JSON types are
//! serde errors, i.e. SerializationException), and validation into `AttributeValue` with
//! DynamoDB's ValidationException messages.

use super::error::AttrError;
use super::{AttributeValue, Item, Number};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use indexmap::IndexMap;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::HashSet;
use std::hash::Hash;

/// DynamoDB supports 32 levels of nested maps and lists (Developer Guide, "Nested attribute
/// depth"), counting the innermost value: 31 maps/lists around a scalar are accepted and 32
/// refused (captured against AWS in eu-west-2, nubo-db/dynoxide#110; ExtendDB/extenddb#123).
pub const MAX_NESTING_DEPTH: usize = 32;

/// Base64 text decoded while deserialising (a bad base64 string is a serialization error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base64Bytes(pub Vec<u8>);

impl<'de> Deserialize<'de> for Base64Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Base64Bytes, D::Error> {
        let s = String::deserialize(d)?;
        tidemark_model::decode_base64(&s)
            .map(Base64Bytes)
            .map_err(serde::de::Error::custom)
    }
}

/// An attribute value exactly as sent, before DynamoDB's semantic validation. JSON `null` members
/// count as absent.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RawAttributeValue {
    #[serde(rename = "S")]
    pub s: Option<String>,
    #[serde(rename = "N")]
    pub n: Option<String>,
    #[serde(rename = "B")]
    pub b: Option<Base64Bytes>,
    #[serde(rename = "SS")]
    pub ss: Option<Vec<String>>,
    #[serde(rename = "NS")]
    pub ns: Option<Vec<String>>,
    #[serde(rename = "BS")]
    pub bs: Option<Vec<Base64Bytes>>,
    #[serde(rename = "M")]
    pub m: Option<IndexMap<String, RawAttributeValue>>,
    #[serde(rename = "L")]
    pub l: Option<Vec<RawAttributeValue>>,
    #[serde(rename = "NULL")]
    pub null: Option<bool>,
    #[serde(rename = "BOOL")]
    pub bool: Option<bool>,
}

fn list_str<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<&str> = items.collect();
    format!("[{}]", v.join(", "))
}

/// Hashing keeps the check linear: a 200,000-member set took 29 s with the pairwise scan.
fn has_duplicates<T: Eq + Hash>(v: &[T]) -> bool {
    let mut seen = HashSet::with_capacity(v.len());
    !v.iter().all(|x| seen.insert(x))
}

/// A string set's checks, in DynamoDB's order: empty, then duplicates.
pub(crate) fn string_set(ss: Vec<String>) -> Result<AttributeValue, AttrError> {
    if ss.is_empty() {
        return Err(AttrError::EmptyStringSet);
    }
    if has_duplicates(&ss) {
        return Err(AttrError::DuplicateStrings(list_str(
            ss.iter().map(String::as_str),
        )));
    }
    Ok(AttributeValue::Ss(ss))
}

/// A number set's checks: empty, each number, then duplicates (numerically).
pub(crate) fn number_set(ns: &[String]) -> Result<AttributeValue, AttrError> {
    if ns.is_empty() {
        return Err(AttrError::EmptyNumberSet);
    }
    let nums = ns
        .iter()
        .map(|s| Number::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    if has_duplicates(&nums) {
        return Err(AttrError::DuplicateNumbers);
    }
    Ok(AttributeValue::Ns(nums))
}

/// A binary set's checks: empty, then duplicates (shown as base64).
pub(crate) fn binary_set(bytes: Vec<Vec<u8>>) -> Result<AttributeValue, AttrError> {
    if bytes.is_empty() {
        return Err(AttrError::EmptyBinarySet);
    }
    if has_duplicates(&bytes) {
        let shown: Vec<String> = bytes.iter().map(|b| STANDARD.encode(b)).collect();
        return Err(AttrError::DuplicateBinaries(list_str(
            shown.iter().map(String::as_str),
        )));
    }
    Ok(AttributeValue::Bs(bytes))
}

impl RawAttributeValue {
    /// Validates in dynalite's order: contents of each present type first, then the
    /// exactly-one-type rule.
    pub fn validate(self) -> Result<AttributeValue, AttrError> {
        self.validate_at(0)
    }

    /// `depth`: how many maps/lists enclose this value; the value itself is level `depth + 1`.
    pub(crate) fn validate_at(self, depth: usize) -> Result<AttributeValue, AttrError> {
        if depth >= MAX_NESTING_DEPTH {
            return Err(AttrError::NestingTooDeep);
        }
        let count = [
            self.s.is_some(),
            self.n.is_some(),
            self.b.is_some(),
            self.ss.is_some(),
            self.ns.is_some(),
            self.bs.is_some(),
            self.m.is_some(),
            self.l.is_some(),
            self.null.is_some(),
            self.bool.is_some(),
        ]
        .iter()
        .filter(|p| **p)
        .count();
        if count == 0 {
            return Err(AttrError::Empty);
        }
        let mut out = None;
        if let Some(n) = self.n {
            out = Some(AttributeValue::N(Number::parse(&n)?));
        }
        if let Some(ss) = self.ss {
            out = Some(string_set(ss)?);
        }
        if let Some(ns) = self.ns {
            out = Some(number_set(&ns)?);
        }
        if let Some(bs) = self.bs {
            out = Some(binary_set(bs.into_iter().map(|b| b.0).collect())?);
        }
        if let Some(m) = self.m {
            let map = m
                .into_iter()
                .map(|(k, v)| v.validate_at(depth + 1).map(|v| (k, v)))
                .collect::<Result<Item, _>>()?;
            out = Some(AttributeValue::M(Box::new(map)));
        }
        if let Some(l) = self.l {
            let list = l
                .into_iter()
                .map(|v| v.validate_at(depth + 1))
                .collect::<Result<Vec<_>, _>>()?;
            out = Some(AttributeValue::L(list));
        }
        if count > 1 {
            return Err(AttrError::MultipleTypes);
        }
        if let Some(s) = self.s {
            out = Some(AttributeValue::S(s));
        }
        if let Some(b) = self.b {
            out = Some(AttributeValue::B(b.0));
        }
        // `{"NULL": false}` is accepted and stored as NULL (DynamoDB changed this in 2026: the
        // nubo-db/dynamodb-conformance capture of 2026-06-08; it used to be rejected with
        // "Null attribute value types must have the value of true").
        if self.null.is_some() {
            out = Some(AttributeValue::Null);
        }
        if let Some(b) = self.bool {
            out = Some(AttributeValue::Bool(b));
        }
        // count == 1, so exactly one branch above set `out`.
        out.ok_or(AttrError::Empty)
    }
}

/// Validates every value of a raw item.
pub fn item_from_raw(raw: IndexMap<String, RawAttributeValue>) -> Result<Item, AttrError> {
    raw.into_iter()
        .map(|(k, v)| v.validate().map(|v| (k, v)))
        .collect()
}

/// Parses and validates an item from DynamoDB JSON text (handy for tests and fixtures).
/// Structural errors come back as `Err(Ok(serde error))`, semantic ones as `Err(Err(AttrError))`.
pub fn parse_item_json(text: &str) -> Result<Item, Result<serde_json::Error, AttrError>> {
    let raw: IndexMap<String, RawAttributeValue> = serde_json::from_str(text).map_err(Ok)?;
    item_from_raw(raw).map_err(Err)
}

impl Serialize for AttributeValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(1))?;
        match self {
            AttributeValue::S(v) => map.serialize_entry("S", v)?,
            AttributeValue::N(v) => map.serialize_entry("N", v)?,
            AttributeValue::B(v) => map.serialize_entry("B", &STANDARD.encode(v))?,
            AttributeValue::Ss(v) => map.serialize_entry("SS", v)?,
            AttributeValue::Ns(v) => map.serialize_entry("NS", v)?,
            AttributeValue::Bs(v) => map.serialize_entry("BS", &Base64List(v))?,
            AttributeValue::M(v) => map.serialize_entry("M", v)?,
            AttributeValue::L(v) => map.serialize_entry("L", v)?,
            AttributeValue::Null => map.serialize_entry("NULL", &true)?,
            AttributeValue::Bool(v) => map.serialize_entry("BOOL", v)?,
        }
        map.end()
    }
}

struct Base64List<'a>(&'a [Vec<u8>]);

impl Serialize for Base64List<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for b in self.0 {
            seq.serialize_element(&STANDARD.encode(b))?;
        }
        seq.end()
    }
}

/// Structural parse then DynamoDB validation; a validation failure becomes a serde error here.
/// Handlers that must tell SerializationException from ValidationException should deserialise
/// `RawAttributeValue` and call `validate` themselves.
impl<'de> Deserialize<'de> for AttributeValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<AttributeValue, D::Error> {
        RawAttributeValue::deserialize(d)?
            .validate()
            .map_err(serde::de::Error::custom)
    }
}
