//! DynamoDB's `AttributeValue` shape as a compact enum, used by the generated shapes in place
//! of a struct of ten `Option`s (codegen emits a `pub use` of this type for that one shape).
//!
//! A request body of tiny values (a list of a million `{"NULL":true}`) is mostly attribute
//! values, so their size is its decode memory: the struct was 232 bytes per value, this enum
//! is 32 (the map is boxed), and lists and maps are shrunk to their length once read instead
//! of keeping the up-to-2× slack of growth by doubling (docs/reliability.md, "Bounded memory
//! per request"). The wire form is unchanged: exactly one member `{"S":"x"}` in and out.
//!
//! A value with no data type or more than one is not refused here: it keeps every member as
//! sent ([`AttributeValue::Members`]), so the service's validation reports it with the same
//! message and precedence as before (a bad number inside such a value still wins over "more
//! than one datatype", as in DynamoDB).

use std::fmt;

use indexmap::IndexMap;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use crate::types::Blob;

/// One DynamoDB attribute value as sent: one variant per data type, or the members as sent
/// when there is not exactly one.
#[derive(Debug, Clone, PartialEq)]
pub enum AttributeValue {
    S(String),
    N(String),
    B(Blob),
    Ss(Vec<String>),
    Ns(Vec<String>),
    Bs(Vec<Blob>),
    /// Boxed: an `IndexMap` would make every value 80 bytes instead of 32.
    M(Box<IndexMap<String, AttributeValue>>),
    L(Vec<AttributeValue>),
    /// `NULL` with the boolean sent (DynamoDB stores `false` as NULL too).
    Null(bool),
    Bool(bool),
    /// No data type, or more than one (JSON `null` members count as absent): every member,
    /// for validation to report.
    Members(Box<AttributeValueMembers>),
}

/// The old struct's shape: an `AttributeValue` member by member. The default (no member) is
/// what `{}` decodes to.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AttributeValueMembers {
    #[serde(rename = "S", skip_serializing_if = "Option::is_none")]
    pub s: Option<String>,
    #[serde(rename = "N", skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(rename = "B", skip_serializing_if = "Option::is_none")]
    pub b: Option<Blob>,
    #[serde(rename = "SS", skip_serializing_if = "Option::is_none")]
    pub ss: Option<Vec<String>>,
    #[serde(rename = "NS", skip_serializing_if = "Option::is_none")]
    pub ns: Option<Vec<String>>,
    #[serde(rename = "BS", skip_serializing_if = "Option::is_none")]
    pub bs: Option<Vec<Blob>>,
    #[serde(rename = "M", skip_serializing_if = "Option::is_none")]
    pub m: Option<IndexMap<String, AttributeValue>>,
    #[serde(rename = "L", skip_serializing_if = "Option::is_none")]
    pub l: Option<Vec<AttributeValue>>,
    #[serde(rename = "NULL", skip_serializing_if = "Option::is_none")]
    pub null: Option<bool>,
    #[serde(rename = "BOOL", skip_serializing_if = "Option::is_none")]
    pub bool: Option<bool>,
}

impl Default for AttributeValue {
    /// No member, like the old struct's default.
    fn default() -> Self {
        AttributeValue::Members(Box::default())
    }
}

impl AttributeValueMembers {
    /// The compact value when exactly one member is present, else the members themselves.
    fn into_value(self) -> AttributeValue {
        use AttributeValue as A;
        let present = [
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
        ];
        if present.iter().filter(|p| **p).count() != 1 {
            return A::Members(Box::new(self));
        }
        match self {
            Self { s: Some(v), .. } => A::S(v),
            Self { n: Some(v), .. } => A::N(v),
            Self { b: Some(v), .. } => A::B(v),
            Self { ss: Some(v), .. } => A::Ss(v),
            Self { ns: Some(v), .. } => A::Ns(v),
            Self { bs: Some(v), .. } => A::Bs(v),
            Self { m: Some(v), .. } => A::M(Box::new(v)),
            Self { l: Some(v), .. } => A::L(v),
            Self { null: Some(v), .. } => A::Null(v),
            Self { bool: Some(v), .. } => A::Bool(v),
            // Unreachable: exactly one member is present (counted above).
            other => A::Members(Box::new(other)),
        }
    }
}

impl Serialize for AttributeValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use AttributeValue as A;
        if let A::Members(members) = self {
            return members.serialize(s);
        }
        let mut map = s.serialize_map(Some(1))?;
        match self {
            A::S(v) => map.serialize_entry("S", v)?,
            A::N(v) => map.serialize_entry("N", v)?,
            A::B(v) => map.serialize_entry("B", v)?,
            A::Ss(v) => map.serialize_entry("SS", v)?,
            A::Ns(v) => map.serialize_entry("NS", v)?,
            A::Bs(v) => map.serialize_entry("BS", v)?,
            A::M(v) => map.serialize_entry("M", v)?,
            A::L(v) => map.serialize_entry("L", v)?,
            A::Null(v) => map.serialize_entry("NULL", v)?,
            A::Bool(v) => map.serialize_entry("BOOL", v)?,
            A::Members(_) => {}
        }
        map.end()
    }
}

/// The member names, as serde's derive would report them in an unknown-variant message.
const MEMBERS: &[&str] = &["S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"];

impl<'de> Deserialize<'de> for AttributeValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_struct("AttributeValue", MEMBERS, ValueVisitor)
    }
}

struct ValueVisitor;

/// Reads one member into `slot`, refusing a repeated member as serde's derive does (the
/// dispatcher then decodes the request again from its tree, where the last one won).
fn member<'de, A: MapAccess<'de>, T>(
    map: &mut A,
    slot: &mut Option<Option<T>>,
    name: &'static str,
    read: impl FnOnce(&mut A) -> Result<Option<T>, A::Error>,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = Some(read(map)?);
    Ok(())
}

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = AttributeValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("struct AttributeValue")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AttributeValue, A::Error> {
        // Outer `Option`: member seen (for the duplicate rule); inner: its value, JSON
        // `null` being `None` as in the old struct.
        let (mut s, mut n, mut b, mut ss, mut ns, mut bs) = (None, None, None, None, None, None);
        let (mut m, mut l, mut null, mut boolean) = (None, None, None, None);
        while let Some(key) = map.next_key::<MemberKey>()? {
            match key {
                MemberKey::S => member(&mut map, &mut s, "S", |a| a.next_value())?,
                MemberKey::N => member(&mut map, &mut n, "N", |a| a.next_value())?,
                MemberKey::B => member(&mut map, &mut b, "B", |a| a.next_value())?,
                MemberKey::Ss => member(&mut map, &mut ss, "SS", |a| a.next_value())?,
                MemberKey::Ns => member(&mut map, &mut ns, "NS", |a| a.next_value())?,
                MemberKey::Bs => member(&mut map, &mut bs, "BS", |a| a.next_value())?,
                MemberKey::M => member(&mut map, &mut m, "M", |a| {
                    a.next_value::<Option<CompactMap>>().map(|v| v.map(|c| c.0))
                })?,
                MemberKey::L => member(&mut map, &mut l, "L", |a| {
                    a.next_value::<Option<CompactList>>()
                        .map(|v| v.map(|c| c.0))
                })?,
                MemberKey::Null => member(&mut map, &mut null, "NULL", |a| a.next_value())?,
                MemberKey::Bool => member(&mut map, &mut boolean, "BOOL", |a| a.next_value())?,
                MemberKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(AttributeValueMembers {
            s: s.flatten(),
            n: n.flatten(),
            b: b.flatten(),
            ss: ss.flatten(),
            ns: ns.flatten(),
            bs: bs.flatten(),
            m: m.flatten(),
            l: l.flatten(),
            null: null.flatten(),
            bool: boolean.flatten(),
        }
        .into_value())
    }
}

/// A member name; anything else is ignored, as the old struct ignored unknown members.
enum MemberKey {
    S,
    N,
    B,
    Ss,
    Ns,
    Bs,
    M,
    L,
    Null,
    Bool,
    Other,
}

impl<'de> Deserialize<'de> for MemberKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_identifier(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = MemberKey;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("field identifier")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<MemberKey, E> {
        Ok(match v {
            "S" => MemberKey::S,
            "N" => MemberKey::N,
            "B" => MemberKey::B,
            "SS" => MemberKey::Ss,
            "NS" => MemberKey::Ns,
            "BS" => MemberKey::Bs,
            "M" => MemberKey::M,
            "L" => MemberKey::L,
            "NULL" => MemberKey::Null,
            "BOOL" => MemberKey::Bool,
            _ => MemberKey::Other,
        })
    }
}

/// A list of values whose buffer is shrunk to its length once read: the vector grows by
/// doubling while reading, and what it keeps lives on through the service's conversion.
struct CompactList(Vec<AttributeValue>);

impl<'de> Deserialize<'de> for CompactList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ListVisitor;
        impl<'de> Visitor<'de> for ListVisitor {
            type Value = CompactList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<CompactList, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                while let Some(v) = seq.next_element()? {
                    out.push(v);
                }
                out.shrink_to_fit();
                Ok(CompactList(out))
            }
        }
        d.deserialize_seq(ListVisitor)
    }
}

/// A map of values shrunk to its length once read, like [`CompactList`]. A repeated key keeps
/// its first position and last value, as `IndexMap`'s own deserializer does.
struct CompactMap(IndexMap<String, AttributeValue>);

impl<'de> Deserialize<'de> for CompactMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct MapVisitor;
        impl<'de> Visitor<'de> for MapVisitor {
            type Value = CompactMap;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<CompactMap, A::Error> {
                let mut out = IndexMap::with_capacity(map.size_hint().unwrap_or(0).min(4096));
                while let Some((k, v)) = map.next_entry::<String, AttributeValue>()? {
                    out.insert(k, v);
                }
                out.shrink_to_fit();
                Ok(CompactMap(out))
            }
        }
        d.deserialize_map(MapVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The old generated struct, to compare decoding and encoding with.
    #[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
    struct OldValue {
        #[serde(rename = "S", skip_serializing_if = "Option::is_none", default)]
        s: Option<String>,
        #[serde(rename = "N", skip_serializing_if = "Option::is_none", default)]
        n: Option<String>,
        #[serde(rename = "B", skip_serializing_if = "Option::is_none", default)]
        b: Option<Blob>,
        #[serde(rename = "SS", skip_serializing_if = "Option::is_none", default)]
        ss: Option<Vec<String>>,
        #[serde(rename = "NS", skip_serializing_if = "Option::is_none", default)]
        ns: Option<Vec<String>>,
        #[serde(rename = "BS", skip_serializing_if = "Option::is_none", default)]
        bs: Option<Vec<Blob>>,
        #[serde(rename = "M", skip_serializing_if = "Option::is_none", default)]
        m: Option<IndexMap<String, OldValue>>,
        #[serde(rename = "L", skip_serializing_if = "Option::is_none", default)]
        l: Option<Vec<OldValue>>,
        #[serde(rename = "NULL", skip_serializing_if = "Option::is_none", default)]
        null: Option<bool>,
        #[serde(rename = "BOOL", skip_serializing_if = "Option::is_none", default)]
        bool: Option<bool>,
    }

    #[test]
    fn is_small() {
        assert!(std::mem::size_of::<AttributeValue>() <= 32);
    }

    /// Every input decodes (or fails) from text and from a tree as the old struct did, and
    /// encodes back to the same text. (The old struct also took a JSON array, member by
    /// member; the type check refuses arrays before any decoding, so no request reaches it.)
    #[test]
    fn same_wire_form_as_the_old_struct() {
        for text in [
            r#"{"S":"x"}"#,
            r#"{"N":"1.5"}"#,
            r#"{"B":"AAE="}"#,
            r#"{"SS":["a","b"]}"#,
            r#"{"NS":["1"]}"#,
            r#"{"BS":["AAE=","AA=="]}"#,
            r#"{"M":{"a":{"NULL":true},"b":{"L":[{"BOOL":false}]},"a":{"S":"y"}}}"#,
            r#"{"L":[{"S":"x"},{"M":{}},{}]}"#,
            r#"{"NULL":false}"#,
            r#"{"BOOL":true}"#,
            r#"{}"#,
            r#"{"S":null}"#,
            r#"{"S":null,"N":"1"}"#,
            r#"{"S":"a","N":"1","L":[{"NULL":true,"BOOL":true}]}"#,
            r#"{"Other":[1,{"x":2}],"S":"a"}"#,
            r#"{"S":"a","S":"b"}"#,
            r#"{"S":null,"S":"b"}"#,
            r#"{"B":"AAE"}"#,
            r#"{"S":5}"#,
        ] {
            let new = serde_json::from_str::<AttributeValue>(text).map_err(|e| e.to_string());
            let old = serde_json::from_str::<OldValue>(text).map_err(|e| e.to_string());
            match (&new, &old) {
                (Ok(n), Ok(o)) => assert_eq!(
                    serde_json::to_string(n).unwrap(),
                    serde_json::to_string(o).unwrap(),
                    "{text}"
                ),
                (Err(n), Err(o)) => assert_eq!(n, o, "{text}"),
                _ => panic!("{text}: {new:?} vs {old:?}"),
            }
            let Ok(tree) = serde_json::from_str::<serde_json::Value>(text) else {
                continue;
            };
            let new = serde_json::from_value::<AttributeValue>(tree.clone());
            let old = serde_json::from_value::<OldValue>(tree);
            match (new, old) {
                (Ok(n), Ok(o)) => assert_eq!(
                    serde_json::to_value(n).unwrap(),
                    serde_json::to_value(o).unwrap(),
                    "{text}"
                ),
                (Err(n), Err(o)) => assert_eq!(n.to_string(), o.to_string(), "{text}"),
                (n, o) => panic!("{text}: {n:?} vs {o:?}"),
            }
        }
    }

    /// One data type is its variant; none or several keep every member for validation.
    #[test]
    fn one_member_is_compact_and_others_keep_their_members() {
        let v: AttributeValue = serde_json::from_str(r#"{"L":[{"NULL":true}]}"#).unwrap();
        assert_eq!(v, AttributeValue::L(vec![AttributeValue::Null(true)]));
        let v: AttributeValue = serde_json::from_str(r#"{"S":"a","BOOL":true}"#).unwrap();
        let AttributeValue::Members(m) = v else {
            panic!("{v:?}")
        };
        assert_eq!((m.s.as_deref(), m.bool), (Some("a"), Some(true)));
        let v: AttributeValue = serde_json::from_str(r#"{"S":null}"#).unwrap();
        assert_eq!(v, AttributeValue::default());
    }
}
