//! The boundary between the generated model's `AttributeValue` struct (every type an
//! `Option`) and our validated [`attr::AttributeValue`]. Converting field by field is the
//! cheapest route (no JSON round trip); validation with DynamoDB's messages happens in
//! `RawAttributeValue::validate`.

use indexmap::IndexMap;
use tidemark_model::Blob;
use tidemark_model::dynamodb as m;

use crate::attr::{self, AttrError, Base64Bytes, Item, RawAttributeValue};
use crate::error::{DdbError, DdbResult};

/// A model attribute value as sent, before validation.
pub fn raw_from_model(v: m::AttributeValue) -> RawAttributeValue {
    RawAttributeValue {
        s: v.s,
        n: v.n,
        b: v.b.map(|b| Base64Bytes(b.0)),
        ss: v.ss,
        ns: v.ns,
        bs: v
            .bs
            .map(|l| l.into_iter().map(|b| Base64Bytes(b.0)).collect()),
        m: v.m
            .map(|m| m.into_iter().map(|(k, v)| (k, raw_from_model(v))).collect()),
        l: v.l.map(|l| l.into_iter().map(raw_from_model).collect()),
        null: v.null,
        bool: v.bool,
    }
}

/// Validates one model value.
pub fn value_from_model(v: m::AttributeValue) -> Result<attr::AttributeValue, AttrError> {
    raw_from_model(v).validate()
}

/// Validates a model attribute map (Item, Key, ExclusiveStartKey ...).
pub fn item_from_model(map: IndexMap<String, m::AttributeValue>) -> DdbResult<Item> {
    map.into_iter()
        .map(|(k, v)| value_from_model(v).map(|v| (k, v)).map_err(DdbError::from))
        .collect()
}

/// Validates ExpressionAttributeValues with the expression module's wording.
pub fn values_from_model(
    map: Option<IndexMap<String, m::AttributeValue>>,
) -> DdbResult<Option<Item>> {
    let Some(map) = map else { return Ok(None) };
    let raw = map
        .into_iter()
        .map(|(k, v)| (k, raw_from_model(v)))
        .collect();
    Ok(Some(crate::expr::validate_attribute_values(raw)?))
}

pub fn value_to_model(v: &attr::AttributeValue) -> m::AttributeValue {
    use attr::AttributeValue as A;
    let mut out = m::AttributeValue::default();
    match v {
        A::S(s) => out.s = Some(s.clone()),
        A::N(n) => out.n = Some(n.to_string()),
        A::B(b) => out.b = Some(Blob(b.clone())),
        A::Ss(v) => out.ss = Some(v.clone()),
        A::Ns(v) => out.ns = Some(v.iter().map(ToString::to_string).collect()),
        A::Bs(v) => out.bs = Some(v.iter().map(|b| Blob(b.clone())).collect()),
        A::M(m) => out.m = Some(item_to_model(m.clone())),
        A::L(l) => out.l = Some(l.iter().map(value_to_model).collect()),
        A::Null => out.null = Some(true),
        A::Bool(b) => out.bool = Some(*b),
    }
    out
}

/// Like [`value_to_model`], moving strings and bytes instead of copying them.
pub fn value_into_model(v: attr::AttributeValue) -> m::AttributeValue {
    use attr::AttributeValue as A;
    let mut out = m::AttributeValue::default();
    match v {
        A::S(s) => out.s = Some(s),
        A::B(b) => out.b = Some(Blob(b)),
        A::Ss(v) => out.ss = Some(v),
        A::Bs(v) => out.bs = Some(v.into_iter().map(Blob).collect()),
        A::M(m) => out.m = Some(item_to_model(m)),
        A::L(l) => out.l = Some(l.into_iter().map(value_into_model).collect()),
        other => return value_to_model(&other),
    }
    out
}

pub fn item_to_model(item: Item) -> IndexMap<String, m::AttributeValue> {
    item.into_iter()
        .map(|(k, v)| (k, value_into_model(v)))
        .collect()
}
