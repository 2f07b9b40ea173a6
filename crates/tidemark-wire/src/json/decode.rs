//! Request-body decoding with bounded memory: an allocation-free pre-scan that estimates
//! what decoding a body will cost, and, for the Redshift Data API's small bodies, a JSON
//! tree builder that sizes every map exactly. DynamoDB bodies are checked on the compact
//! tree of `tidemark_model::json_tree` instead (`super::parse_document`).
//!
//! serde_json's own `Value` visitor grows each object's `IndexMap` by insertion, so a
//! one-member object such as `{"NULL":true}` reserves room for three entries (~340 bytes of
//! buckets for ~110 bytes used).

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// What the tree builder refuses so that [`super::parse_body`] falls back to serde_json's
/// own `Value`: with serde_json's `raw_value` feature on (the CLI enables it), an object
/// whose first key is this token is parsed specially, and only serde_json knows how.
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// Estimated bytes of decoded memory per structural token (`{`, `[`, `,`, `:` outside
/// strings). Measured (docs/reliability.md, "Bounded memory per request", stage by stage):
/// the peak is now the typed input plus the service's own value, ~75 bytes per
/// `{"NULL":true}` list element (3 tokens, 25 per token), ~63 per `{"S":"x"}` (21 per
/// token) and ~120 per `"k":{"NULL":true}` map entry (4 tokens, 30 per token); the compact
/// checked tree before them costs 12 bytes per value or key. So 48 per token, with margin.
const BYTES_PER_TOKEN: usize = 48;

/// An upper estimate of the memory decoding `body` takes: its length plus a fixed cost per
/// structural token. O(n), no allocation: runs before anything is built, so the request can
/// reserve that much of the decode budget first.
pub fn estimated_cost(body: &[u8]) -> usize {
    let tokens = tidemark_model::json_tree::structural_tokens(body);
    body.len()
        .saturating_add(tokens.saturating_mul(BYTES_PER_TOKEN))
}

/// What a request reserves from the decode budget: [`estimated_cost`], except that a body
/// too short to reach [`super::budget::SMALL`] even if every byte were a token (the most the
/// estimate can count) is not scanned, since it reserves nothing either way. That is every
/// small write: the scan cost ~2,700 instructions of a 150-byte PutItem's ~220,000.
pub fn reservation_cost(body: &[u8]) -> usize {
    if body.len().saturating_mul(1 + BYTES_PER_TOKEN) < super::budget::SMALL {
        return body.len();
    }
    estimated_cost(body)
}

/// A `serde_json::Value` built with exact capacities. Equal to what `Value`'s own
/// `Deserialize` builds (same members, order, duplicate-key rule: last value wins at the
/// first position), only smaller.
pub struct LeanValue(pub Value);

impl<'de> Deserialize<'de> for LeanValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LeanVisitor).map(LeanValue)
    }
}

struct LeanVisitor;

impl<'de> Visitor<'de> for LeanVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        LeanValue::deserialize(d).map(|v| v.0)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(LeanValue(v)) = seq.next_element()? {
            items.push(v);
        }
        items.shrink_to_fit();
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        // Most objects have one member (an attribute value, a key condition): read up to the
        // second key before allocating, so those get a map of capacity one and no scratch.
        let Some(first_key) = next_key(&mut map)? else {
            return Ok(Value::Object(Map::new()));
        };
        let LeanValue(first) = map.next_value()?;
        let Some(second_key) = next_key(&mut map)? else {
            let mut out = Map::with_capacity(1);
            out.insert(first_key, first);
            return Ok(Value::Object(out));
        };
        let LeanValue(second) = map.next_value()?;
        let mut entries = vec![(first_key, first), (second_key, second)];
        while let Some(key) = next_key(&mut map)? {
            let LeanValue(v) = map.next_value()?;
            entries.push((key, v));
        }
        let mut out = Map::with_capacity(entries.len());
        for (k, v) in entries {
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }
}

fn next_key<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Option<String>, A::Error> {
    match map.next_key::<String>()? {
        Some(k) if k == RAW_VALUE_TOKEN => Err(de::Error::custom("raw value token")),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(text: &str) -> (Result<Value, String>, Result<Value, String>) {
        let lean = serde_json::from_str::<LeanValue>(text)
            .map(|v| v.0)
            .map_err(|e| e.to_string());
        let std = serde_json::from_str::<Value>(text).map_err(|e| e.to_string());
        (lean, std)
    }

    /// The lean tree is the same tree: member order, duplicate keys (last value, first
    /// position), numbers of every kind, escapes, nesting.
    #[test]
    fn builds_the_same_tree_as_serde_json() {
        for text in [
            r#"{"b":1,"a":{"S":"x"},"b":2,"c":[1,-2,3.5,1e3,18446744073709551615,null,true]}"#,
            r#"{"k":"\u00e9\n\"","m":{},"l":[],"x":{"a":1,"a":{"NULL":true}}}"#,
            r#"{"z":{"y":{"x":[[{"S":"deep"}]]}},"z":0}"#,
            r#"  {"a" : 1 }  "#,
        ] {
            let (lean, std) = both(text);
            let (lean, std) = (lean.unwrap(), std.unwrap());
            assert_eq!(lean, std, "{text}");
            assert_eq!(lean.to_string(), std.to_string(), "{text}");
        }
        for bad in [r#"{"a":1"#, r#"{"a":1}x"#, r#"{"a":01}"#] {
            let (lean, std) = both(bad);
            assert!(lean.is_err() && std.is_err(), "{bad}");
        }
    }

    /// The pre-scan counts structure outside strings only, so a body cannot hide its cost
    /// in escapes, and bytes inside strings cost one byte each.
    #[test]
    fn short_bodies_reserve_nothing_without_a_scan() {
        use super::super::budget::SMALL;
        // The longest body that skips the scan stays under SMALL even if every byte is a
        // token; one byte more can reach it, and is scanned.
        let longest = (SMALL - 1) / (1 + BYTES_PER_TOKEN);
        let worst = vec![b'{'; longest];
        assert!(estimated_cost(&worst) < SMALL);
        assert!(reservation_cost(&worst) < SMALL);
        let over = vec![b'{'; longest + 1];
        assert!(estimated_cost(&over) >= SMALL);
        assert_eq!(reservation_cost(&over), estimated_cost(&over));
        let put = br#"{"TableName":"t","Item":{"k":{"S":"a"}}}"#;
        assert!(reservation_cost(put) < SMALL && estimated_cost(put) < SMALL);
    }

    #[test]
    fn estimate_counts_tokens_outside_strings() {
        assert_eq!(estimated_cost(b"{}"), 2 + BYTES_PER_TOKEN);
        assert_eq!(
            estimated_cost(br#"{"a:,[{":"\":,"}"#),
            16 + 2 * BYTES_PER_TOKEN
        );
        let list = format!("[{}]", vec![r#"{"NULL":true}"#; 1000].join(","));
        assert!(estimated_cost(list.as_bytes()) >= 1000 * 3 * BYTES_PER_TOKEN);
    }
}
