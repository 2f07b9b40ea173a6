//! Key schemas and DynamoDB's key checks: a `Key` parameter must match the schema exactly, an
//! item must carry every key attribute with the right type, key values must not be empty and
//! must fit the key-size limits. Also builds the order-preserving storage key of an item.

use super::error::KeyError;
use super::{AttrType, AttributeValue, Item, encode_key_part};

/// Largest partition-key value in bytes (nubo-db/dynamodb-conformance keyLength.test.ts).
pub const MAX_HASH_KEY_BYTES: usize = 2048;
/// Largest sort-key value in bytes.
pub const MAX_RANGE_KEY_BYTES: usize = 1024;

/// One key attribute of a key schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyAttr<'a> {
    pub name: &'a str,
    /// S, N or B.
    pub ty: AttrType,
}

/// The key schema of a table or index: a partition (hash) key and an optional sort (range) key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySchema<'a> {
    pub hash: KeyAttr<'a>,
    pub range: Option<KeyAttr<'a>>,
}

impl<'a> KeySchema<'a> {
    /// The key attributes, partition key first.
    pub fn attrs(&self) -> impl Iterator<Item = KeyAttr<'a>> {
        std::iter::once(self.hash).chain(self.range)
    }

    pub fn is_key_attribute(&self, name: &str) -> bool {
        self.attrs().any(|k| k.name == name)
    }

    /// Checks a `Key` request parameter (GetItem, DeleteItem, UpdateItem): exactly the key
    /// attributes, each of the schema's type, non-empty and within the size limits.
    pub fn check_key(&self, key: &Item) -> Result<(), KeyError> {
        if key.len() != self.attrs().count() {
            return Err(KeyError::SchemaMismatch);
        }
        for (i, k) in self.attrs().enumerate() {
            let v = key.get(k.name).ok_or(KeyError::SchemaMismatch)?;
            if v.attr_type() != k.ty {
                return Err(KeyError::SchemaMismatch);
            }
            check_value(k.name, v, i == 0)?;
        }
        Ok(())
    }

    /// Checks the key attributes of a whole item (PutItem): present, of the schema's type,
    /// non-empty and within the size limits.
    pub fn check_item(&self, item: &Item) -> Result<(), KeyError> {
        for (i, k) in self.attrs().enumerate() {
            let v = item
                .get(k.name)
                .ok_or_else(|| KeyError::MissingInItem(k.name.to_string()))?;
            if v.attr_type() != k.ty {
                return Err(KeyError::TypeMismatch {
                    name: k.name.to_string(),
                    expected: k.ty,
                    actual: v.attr_type(),
                });
            }
            check_value(k.name, v, i == 0)?;
        }
        Ok(())
    }

    /// The key attributes of an item, partition key first; `None` if one is missing.
    pub fn key_of(&self, item: &Item) -> Option<Item> {
        self.attrs()
            .map(|k| item.get(k.name).map(|v| (k.name.to_string(), v.clone())))
            .collect()
    }

    /// `encode_key_part(hash) ++ encode_key_part(range)`: bytewise order equals DynamoDB's
    /// (partition, sort) order. `None` if a key attribute is missing or not S/N/B.
    pub fn encode_key(&self, item: &Item) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        for k in self.attrs() {
            out.extend(encode_key_part(item.get(k.name)?)?);
        }
        Some(out)
    }
}

fn check_value(name: &str, v: &AttributeValue, is_hash: bool) -> Result<(), KeyError> {
    let len = match v {
        AttributeValue::S(s) if s.is_empty() => return Err(KeyError::EmptyString(name.into())),
        AttributeValue::B(b) if b.is_empty() => return Err(KeyError::EmptyBinary(name.into())),
        AttributeValue::S(s) => s.len(),
        AttributeValue::B(b) => b.len(),
        _ => 0,
    };
    if is_hash && len > MAX_HASH_KEY_BYTES {
        return Err(KeyError::HashKeyTooLarge);
    }
    if !is_hash && len > MAX_RANGE_KEY_BYTES {
        return Err(KeyError::RangeKeyTooLarge);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attr::parse_item_json;

    const SCHEMA: KeySchema<'static> = KeySchema {
        hash: KeyAttr {
            name: "pk",
            ty: AttrType::S,
        },
        range: Some(KeyAttr {
            name: "sk",
            ty: AttrType::N,
        }),
    };

    fn err_key(json: &str) -> String {
        SCHEMA
            .check_key(&parse_item_json(json).unwrap())
            .unwrap_err()
            .to_string()
    }

    fn err_item(json: &str) -> String {
        SCHEMA
            .check_item(&parse_item_json(json).unwrap())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn key_parameter_must_match_the_schema() {
        // dynalite getItem tests / nubo-db conformance getItem.test.ts.
        let mismatch = "The provided key element does not match the schema";
        for bad in [
            r#"{"pk":{"S":"a"}}"#,
            r#"{"pk":{"S":"a"},"sk":{"S":"1"}}"#,
            r#"{"pk":{"S":"a"},"sk":{"N":"1"},"x":{"N":"1"}}"#,
            r#"{"pk":{"S":"a"},"other":{"N":"1"}}"#,
        ] {
            assert_eq!(err_key(bad), mismatch, "{bad}");
        }
        assert!(
            SCHEMA
                .check_key(&parse_item_json(r#"{"sk":{"N":"1"},"pk":{"S":"a"}}"#).unwrap())
                .is_ok()
        );
        assert_eq!(
            err_key(r#"{"pk":{"S":""},"sk":{"N":"1"}}"#),
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk"
        );
        let long = "a".repeat(2049);
        assert_eq!(
            err_key(&format!(r#"{{"pk":{{"S":"{long}"}},"sk":{{"N":"1"}}}}"#)),
            "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes"
        );
        let at_limit = "a".repeat(2048);
        assert!(
            SCHEMA
                .check_key(
                    &parse_item_json(&format!(
                        r#"{{"pk":{{"S":"{at_limit}"}},"sk":{{"N":"1"}}}}"#
                    ))
                    .unwrap()
                )
                .is_ok()
        );
    }

    #[test]
    fn item_must_carry_typed_key_attributes() {
        assert_eq!(
            err_item(r#"{"sk":{"N":"1"}}"#),
            "One or more parameter values were invalid: Missing the key pk in the item"
        );
        assert_eq!(
            err_item(r#"{"pk":{"N":"1"},"sk":{"N":"1"}}"#),
            "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N"
        );
        let schema_b = KeySchema {
            hash: KeyAttr {
                name: "pk",
                ty: AttrType::B,
            },
            range: None,
        };
        assert_eq!(
            schema_b
                .check_item(&parse_item_json(r#"{"pk":{"B":""}}"#).unwrap())
                .unwrap_err()
                .to_string(),
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty binary value. Key: pk"
        );
    }

    #[test]
    fn storage_key_orders_by_hash_then_range() {
        let item = |pk: &str, sk: &str| {
            parse_item_json(&format!(
                r#"{{"pk":{{"S":"{pk}"}},"sk":{{"N":"{sk}"}},"x":{{"NULL":true}}}}"#
            ))
            .unwrap()
        };
        let mut rows = [
            item("b", "1"),
            item("a", "10"),
            item("a", "-2"),
            item("ab", "0"),
            item("a", "9.5"),
        ];
        rows.sort_by_key(|r| SCHEMA.encode_key(r).unwrap());
        let order: Vec<String> = rows
            .iter()
            .map(|r| serde_json::to_string(&SCHEMA.key_of(r).unwrap()).unwrap())
            .collect();
        assert_eq!(
            order,
            [
                r#"{"pk":{"S":"a"},"sk":{"N":"-2"}}"#,
                r#"{"pk":{"S":"a"},"sk":{"N":"9.5"}}"#,
                r#"{"pk":{"S":"a"},"sk":{"N":"10"}}"#,
                r#"{"pk":{"S":"ab"},"sk":{"N":"0"}}"#,
                r#"{"pk":{"S":"b"},"sk":{"N":"1"}}"#,
            ]
        );
    }
}
