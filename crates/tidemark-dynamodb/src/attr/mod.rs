//! DynamoDB attribute values: the typed value, its JSON wire form, validation with DynamoDB's
//! messages, DynamoDB's item-size rule, key schemas and an order-preserving key encoding.

mod digits;
mod error;
mod json;
mod key;
mod number;
mod schema;
#[cfg(test)]
mod tests;

pub use error::{AttrError, KeyError, NumberError};
pub use json::{Base64Bytes, MAX_NESTING_DEPTH, RawAttributeValue, item_from_raw, parse_item_json};
pub(crate) use json::{binary_set, number_set, string_set};
pub use key::{MAX_ITEM_BYTES, encode_key_part, item_size, value_size};
pub use number::{MAX_DIGITS, MAX_EXPONENT, MIN_EXPONENT, Number};
pub use schema::{KeyAttr, KeySchema, MAX_HASH_KEY_BYTES, MAX_RANGE_KEY_BYTES};

use std::fmt;

/// An item: attribute name → value, in the order received (DynamoDB maps are unordered; keeping
/// insertion order makes output deterministic).
pub type Item = indexmap::IndexMap<String, AttributeValue>;

/// A DynamoDB value. Sets keep insertion order but compare as sets.
#[derive(Debug, Clone)]
pub enum AttributeValue {
    S(String),
    N(Number),
    B(Vec<u8>),
    Ss(Vec<String>),
    Ns(Vec<Number>),
    Bs(Vec<Vec<u8>>),
    /// Boxed: an inline `IndexMap` (72 bytes) would make every value 80 bytes instead of 32.
    M(Box<Item>),
    L(Vec<AttributeValue>),
    Null,
    Bool(bool),
}

/// The ten DynamoDB data types, named as on the wire (`S`, `SS`, `NULL`, `BOOL`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttrType {
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
}

impl AttrType {
    pub fn as_str(self) -> &'static str {
        match self {
            AttrType::S => "S",
            AttrType::N => "N",
            AttrType::B => "B",
            AttrType::Ss => "SS",
            AttrType::Ns => "NS",
            AttrType::Bs => "BS",
            AttrType::M => "M",
            AttrType::L => "L",
            AttrType::Null => "NULL",
            AttrType::Bool => "BOOL",
        }
    }

    /// Parses a wire type name (case-sensitive, as DynamoDB's `attribute_type` is).
    pub fn from_name(s: &str) -> Option<AttrType> {
        Some(match s {
            "S" => AttrType::S,
            "N" => AttrType::N,
            "B" => AttrType::B,
            "SS" => AttrType::Ss,
            "NS" => AttrType::Ns,
            "BS" => AttrType::Bs,
            "M" => AttrType::M,
            "L" => AttrType::L,
            "NULL" => AttrType::Null,
            "BOOL" => AttrType::Bool,
            _ => return None,
        })
    }
}

impl fmt::Display for AttrType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AttributeValue {
    pub fn attr_type(&self) -> AttrType {
        match self {
            AttributeValue::S(_) => AttrType::S,
            AttributeValue::N(_) => AttrType::N,
            AttributeValue::B(_) => AttrType::B,
            AttributeValue::Ss(_) => AttrType::Ss,
            AttributeValue::Ns(_) => AttrType::Ns,
            AttributeValue::Bs(_) => AttrType::Bs,
            AttributeValue::M(_) => AttrType::M,
            AttributeValue::L(_) => AttrType::L,
            AttributeValue::Null => AttrType::Null,
            AttributeValue::Bool(_) => AttrType::Bool,
        }
    }

    /// Parses a number string into an `N` value with DynamoDB's validation.
    pub fn number(s: &str) -> Result<AttributeValue, NumberError> {
        Number::parse(s).map(AttributeValue::N)
    }
}

/// Sets hold no duplicates (validation refuses them), so equal lengths plus every member of `a`
/// in `b` is set equality; hashing `b` keeps it linear where a pairwise scan was quadratic.
fn same_set<T: Eq + std::hash::Hash>(a: &[T], b: &[T]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let members: std::collections::HashSet<&T> = b.iter().collect();
    a.iter().all(|x| members.contains(x))
}

/// Equality as DynamoDB's `=` sees it: same type and value; sets ignore order; numbers compare
/// numerically (already canonical); maps ignore key order.
impl PartialEq for AttributeValue {
    fn eq(&self, other: &AttributeValue) -> bool {
        use AttributeValue as A;
        match (self, other) {
            (A::S(a), A::S(b)) => a == b,
            (A::N(a), A::N(b)) => a == b,
            (A::B(a), A::B(b)) => a == b,
            (A::Ss(a), A::Ss(b)) => same_set(a, b),
            (A::Ns(a), A::Ns(b)) => same_set(a, b),
            (A::Bs(a), A::Bs(b)) => same_set(a, b),
            (A::M(a), A::M(b)) => {
                a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| v == w))
            }
            (A::L(a), A::L(b)) => a == b,
            (A::Null, A::Null) => true,
            (A::Bool(a), A::Bool(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for AttributeValue {}
