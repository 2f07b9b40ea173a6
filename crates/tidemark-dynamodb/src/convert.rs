//! The boundary between the generated model's compact `AttributeValue` (one variant per
//! data type, or the members as sent when there is not exactly one) and our validated
//! [`attr::AttributeValue`]. Converting variant by variant is the cheapest route (no JSON
//! round trip, no intermediate tree); validation has DynamoDB's messages and the precedence of
//! `RawAttributeValue::validate`, which the tests compare it with.

use indexmap::IndexMap;
use tidemark_model::Blob;
use tidemark_model::dynamodb as m;

use crate::attr::{self, AttrError, Item, MAX_NESTING_DEPTH, Number};
use crate::error::{DdbError, DdbResult};
use crate::expr::ExprError;

/// Validates one model value.
pub fn value_from_model(v: m::AttributeValue) -> Result<attr::AttributeValue, AttrError> {
    value_at(v, 0)
}

/// `depth`: how many maps/lists enclose this value; the value itself is level `depth + 1`
/// (as in `RawAttributeValue::validate_at`).
fn value_at(v: m::AttributeValue, depth: usize) -> Result<attr::AttributeValue, AttrError> {
    use attr::AttributeValue as A;
    use m::AttributeValue as M;
    if depth >= MAX_NESTING_DEPTH {
        return Err(AttrError::NestingTooDeep);
    }
    Ok(match v {
        M::S(s) => A::S(s),
        M::N(n) => A::N(Number::parse(&n)?),
        M::B(b) => A::B(b.0),
        M::Ss(ss) => attr::string_set(ss)?,
        M::Ns(ns) => attr::number_set(&ns)?,
        M::Bs(bs) => attr::binary_set(bs.into_iter().map(|b| b.0).collect())?,
        M::M(map) => A::M(Box::new(map_at(*map, depth)?)),
        M::L(list) => A::L(list_at(list, depth)?),
        // `{"NULL": false}` is stored as NULL, as in `RawAttributeValue::validate_at`.
        M::Null(_) => A::Null,
        M::Bool(b) => A::Bool(b),
        M::Members(members) => members_at(*members, depth)?,
    })
}

/// A map's values, converted into a map of exactly its length.
fn map_at(map: IndexMap<String, m::AttributeValue>, depth: usize) -> Result<Item, AttrError> {
    let mut out = Item::with_capacity(map.len());
    for (k, v) in map {
        out.insert(k, value_at(v, depth + 1)?);
    }
    Ok(out)
}

/// A list's values, converted into a vector of exactly its length (collecting a `Result`
/// iterator would grow it by doubling).
fn list_at(
    list: Vec<m::AttributeValue>,
    depth: usize,
) -> Result<Vec<attr::AttributeValue>, AttrError> {
    let mut out = Vec::with_capacity(list.len());
    for v in list {
        out.push(value_at(v, depth + 1)?);
    }
    Ok(out)
}

/// A value with no data type or several: `RawAttributeValue::validate_at`'s checks in its
/// order (each present type's contents first, then the exactly-one-type rule).
fn members_at(
    v: m::AttributeValueMembers,
    depth: usize,
) -> Result<attr::AttributeValue, AttrError> {
    use attr::AttributeValue as A;
    let count = [
        v.s.is_some(),
        v.n.is_some(),
        v.b.is_some(),
        v.ss.is_some(),
        v.ns.is_some(),
        v.bs.is_some(),
        v.m.is_some(),
        v.l.is_some(),
        v.null.is_some(),
        v.bool.is_some(),
    ]
    .iter()
    .filter(|p| **p)
    .count();
    if count == 0 {
        return Err(AttrError::Empty);
    }
    let mut out = None;
    if let Some(n) = v.n {
        out = Some(A::N(Number::parse(&n)?));
    }
    if let Some(ss) = v.ss {
        out = Some(attr::string_set(ss)?);
    }
    if let Some(ns) = v.ns {
        out = Some(attr::number_set(&ns)?);
    }
    if let Some(bs) = v.bs {
        out = Some(attr::binary_set(bs.into_iter().map(|b| b.0).collect())?);
    }
    if let Some(map) = v.m {
        out = Some(A::M(Box::new(map_at(map, depth)?)));
    }
    if let Some(list) = v.l {
        out = Some(A::L(list_at(list, depth)?));
    }
    if count > 1 {
        return Err(AttrError::MultipleTypes);
    }
    if let Some(s) = v.s {
        out = Some(A::S(s));
    }
    if let Some(b) = v.b {
        out = Some(A::B(b.0));
    }
    if v.null.is_some() {
        out = Some(A::Null);
    }
    if let Some(b) = v.bool {
        out = Some(A::Bool(b));
    }
    // count == 1, so exactly one branch above set `out`.
    out.ok_or(AttrError::Empty)
}

/// Validates a model attribute map (Item, Key, ExclusiveStartKey ...).
pub fn item_from_model(map: IndexMap<String, m::AttributeValue>) -> DdbResult<Item> {
    map.into_iter()
        .map(|(k, v)| value_from_model(v).map(|v| (k, v)).map_err(DdbError::from))
        .collect()
}

/// Validates ExpressionAttributeValues with the expression module's wording (as
/// `expr::validate_attribute_values` words it for raw values).
pub fn values_from_model(
    map: Option<IndexMap<String, m::AttributeValue>>,
) -> DdbResult<Option<Item>> {
    let Some(map) = map else { return Ok(None) };
    let mut out = Item::with_capacity(map.len());
    for (key, v) in map {
        match value_from_model(v) {
            Ok(v) => {
                out.insert(key, v);
            }
            Err(error) => return Err(ExprError::InvalidValue { key, error }.into()),
        }
    }
    Ok(Some(out))
}

pub fn value_to_model(v: &attr::AttributeValue) -> m::AttributeValue {
    use attr::AttributeValue as A;
    use m::AttributeValue as M;
    match v {
        A::S(s) => M::S(s.clone()),
        A::N(n) => M::N(n.to_string()),
        A::B(b) => M::B(Blob(b.clone())),
        A::Ss(v) => M::Ss(v.clone()),
        A::Ns(v) => M::Ns(v.iter().map(ToString::to_string).collect()),
        A::Bs(v) => M::Bs(v.iter().map(|b| Blob(b.clone())).collect()),
        A::M(m) => M::M(Box::new(item_to_model((**m).clone()))),
        A::L(l) => M::L(l.iter().map(value_to_model).collect()),
        A::Null => M::Null(true),
        A::Bool(b) => M::Bool(*b),
    }
}

/// Like [`value_to_model`], moving strings and bytes instead of copying them.
pub fn value_into_model(v: attr::AttributeValue) -> m::AttributeValue {
    use attr::AttributeValue as A;
    use m::AttributeValue as M;
    match v {
        A::S(s) => M::S(s),
        A::B(b) => M::B(Blob(b)),
        A::Ss(v) => M::Ss(v),
        A::Bs(v) => M::Bs(v.into_iter().map(Blob).collect()),
        A::M(m) => M::M(Box::new(item_to_model(*m))),
        A::L(l) => M::L(l.into_iter().map(value_into_model).collect()),
        other => value_to_model(&other),
    }
}

pub fn item_to_model(item: Item) -> IndexMap<String, m::AttributeValue> {
    item.into_iter()
        .map(|(k, v)| (k, value_into_model(v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attr::RawAttributeValue;

    fn via_raw(text: &str) -> Result<String, String> {
        let raw: RawAttributeValue = serde_json::from_str(text).map_err(|e| e.to_string())?;
        raw.validate()
            .map(|v| serde_json::to_string(&v).unwrap_or_default())
            .map_err(|e| e.to_string())
    }

    fn via_model(text: &str) -> Result<String, String> {
        let v: m::AttributeValue = serde_json::from_str(text).map_err(|e| e.to_string())?;
        value_from_model(v)
            .map(|v| serde_json::to_string(&v).unwrap_or_default())
            .map_err(|e| e.to_string())
    }

    /// The compact model value validates to exactly what `RawAttributeValue::validate` gives
    /// (the old route): the same value, or the same first error, for every kind of mistake
    /// and mixture of them, nested or not.
    #[test]
    fn validates_like_the_raw_value() {
        let nested = |depth: usize| {
            format!(
                "{}{{\"NULL\":true}}{}",
                "{\"L\":[".repeat(depth),
                "]}".repeat(depth)
            )
        };
        let mut texts: Vec<String> = [
            r#"{"S":"x"}"#,
            r#"{"N":"01.50"}"#,
            r#"{"N":"x"}"#,
            r#"{"B":"AAE="}"#,
            r#"{"SS":["a","b"]}"#,
            r#"{"SS":[]}"#,
            r#"{"SS":["a","a"]}"#,
            r#"{"NS":["1","1.0"]}"#,
            r#"{"NS":["1","x"]}"#,
            r#"{"NS":[]}"#,
            r#"{"BS":["AAE=","AAE="]}"#,
            r#"{"BS":[]}"#,
            r#"{"M":{"a":{"NULL":true},"b":{"L":[{"BOOL":false},{"N":"2"}]}}}"#,
            r#"{"M":{"a":{}}}"#,
            r#"{"L":[{"S":"x"},{"N":"bad"}]}"#,
            r#"{"L":[{"S":"x","N":"1"}]}"#,
            r#"{"NULL":false}"#,
            r#"{"BOOL":true}"#,
            r#"{}"#,
            r#"{"S":null}"#,
            r#"{"S":null,"N":"1"}"#,
            r#"{"S":"a","N":"bad"}"#,
            r#"{"S":"a","SS":[]}"#,
            r#"{"S":"a","L":[{}]}"#,
            r#"{"S":"a","M":{"x":{"N":"1","NS":[]}}}"#,
            r#"{"S":"a","BOOL":true}"#,
            r#"{"NULL":true,"BOOL":false,"B":"AAE="}"#,
        ]
        .map(str::to_owned)
        .to_vec();
        texts.extend([30, 31, 32, 40].map(nested));
        texts.push(format!(r#"{{"S":"a","L":[{}]}}"#, nested(31)));
        for text in &texts {
            assert_eq!(via_model(text), via_raw(text), "{text}");
        }
        // Not vacuous: the list holds both outcomes.
        assert!(texts.iter().any(|t| via_model(t).is_ok()));
        assert!(texts.iter().any(|t| via_model(t).is_err()));
    }

    /// ExpressionAttributeValues keep the expression module's wording.
    #[test]
    fn expression_values_name_their_key() {
        let map: IndexMap<String, m::AttributeValue> =
            serde_json::from_str(r#"{":a":{"S":"x"},":b":{"SS":[]}}"#).unwrap_or_default();
        let raw: IndexMap<String, crate::attr::RawAttributeValue> =
            serde_json::from_str(r#"{":a":{"S":"x"},":b":{"SS":[]}}"#).unwrap_or_default();
        let new = values_from_model(Some(map))
            .map(|_| ())
            .map_err(|e| format!("{e:?}"));
        let old = crate::expr::validate_attribute_values(raw)
            .map(|_| ())
            .map_err(|e| format!("{:?}", DdbError::from(e)));
        assert!(new.is_err());
        assert_eq!(new, old);
    }
}
