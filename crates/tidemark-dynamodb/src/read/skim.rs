//! Reads what a Scan or Query page needs from a stored item's JSON without building the item:
//! its DynamoDB size (`attr::item_size`, for the 1 MB rule and consumed capacity) and the
//! values of at most two named attributes (the hash key for scan segments, the range key for a
//! key condition). Every other attribute is only measured: no map, string or number is
//! allocated. The page then sends the stored JSON itself (`Page::raw`).

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::attr::{AttributeValue, Number, value_size};
use crate::error::{DdbError, DdbResult};

/// One stored item, skimmed.
pub struct Skimmed {
    /// `attr::item_size` of the item.
    pub size: usize,
    /// The values of the wanted attributes, in the order asked for.
    pub found: [Option<AttributeValue>; 2],
}

/// Skims one item stored as DynamoDB JSON (as `storage::encode_item` writes it).
pub fn skim(bytes: &[u8], wanted: [Option<&str>; 2]) -> DdbResult<Skimmed> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let out = de
        .deserialize_map(ItemVisitor { wanted })
        .and_then(|out| de.end().map(|()| out))
        .map_err(DdbError::internal)?;
    Ok(out)
}

struct ItemVisitor<'w> {
    wanted: [Option<&'w str>; 2],
}

impl<'de> Visitor<'de> for ItemVisitor<'_> {
    type Value = Skimmed;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a stored item")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skimmed, A::Error> {
        let mut out = Skimmed {
            size: 0,
            found: [None, None],
        };
        while let Some((len, slot)) = map.next_key_seed(NameSeed {
            wanted: &self.wanted,
        })? {
            out.size += len;
            match slot {
                Some(i) => {
                    let v: AttributeValue = map.next_value()?;
                    out.size += value_size(&v);
                    out.found[i] = Some(v);
                }
                None => out.size += map.next_value_seed(ValueSize)?,
            }
        }
        Ok(out)
    }
}

/// An attribute name: its UTF-8 length and which wanted name it is.
struct NameSeed<'a, 'w> {
    wanted: &'a [Option<&'w str>; 2],
}

impl<'de> DeserializeSeed<'de> for NameSeed<'_, '_> {
    type Value = (usize, Option<usize>);

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for NameSeed<'_, '_> {
    type Value = (usize, Option<usize>);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an attribute name")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok((s.len(), self.wanted.iter().position(|w| *w == Some(s))))
    }
}

/// The length of a string, as `value_size` counts it (UTF-8 bytes).
#[derive(Clone, Copy)]
struct StrLen;

impl<'de> DeserializeSeed<'de> for StrLen {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for StrLen {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<usize, E> {
        Ok(s.len())
    }
}

/// A number's `Number::storage_size`.
#[derive(Clone, Copy)]
struct NumSize;

impl<'de> DeserializeSeed<'de> for NumSize {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for NumSize {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number string")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<usize, E> {
        Number::parse(s)
            .map(|n| n.storage_size())
            .map_err(|e| E::custom(format!("stored number {s:?}: {e:?}")))
    }
}

/// The decoded length of padded standard base64 (what `B`/`BS` are stored as).
#[derive(Clone, Copy)]
struct B64Len;

impl<'de> DeserializeSeed<'de> for B64Len {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for B64Len {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("base64 text")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<usize, E> {
        let b = s.as_bytes();
        if !b.len().is_multiple_of(4) {
            return Err(E::custom("stored base64 is not padded"));
        }
        let pad = b.iter().rev().take(2).filter(|c| **c == b'=').count();
        Ok(b.len() / 4 * 3 - pad)
    }
}

/// The sum of a set's member sizes.
#[derive(Clone, Copy)]
struct SetSize<T>(T);

impl<'de, T: DeserializeSeed<'de, Value = usize> + Copy> DeserializeSeed<'de> for SetSize<T> {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, T: DeserializeSeed<'de, Value = usize> + Copy> Visitor<'de> for SetSize<T> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a set")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        let mut size = 0;
        while let Some(n) = seq.next_element_seed(self.0)? {
            size += n;
        }
        Ok(size)
    }
}

/// A list's size: 3 plus 1 and the size of each element.
#[derive(Clone, Copy)]
struct ListSize;

impl<'de> DeserializeSeed<'de> for ListSize {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ListSize {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        let mut size = 3;
        while let Some(n) = seq.next_element_seed(ValueSize)? {
            size += 1 + n;
        }
        Ok(size)
    }
}

/// A map's size: 3 plus, per entry, 1, the name's length and the value's size.
#[derive(Clone, Copy)]
struct MapSize;

impl<'de> DeserializeSeed<'de> for MapSize {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for MapSize {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<usize, A::Error> {
        let mut size = 3;
        while let Some(k) = map.next_key_seed(StrLen)? {
            size += 1 + k + map.next_value_seed(ValueSize)?;
        }
        Ok(size)
    }
}

/// One attribute value (`{"<type>": …}`): its `value_size`.
#[derive(Clone, Copy)]
struct ValueSize;

impl<'de> DeserializeSeed<'de> for ValueSize {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_map(self)
    }
}

/// The type tag of an attribute value.
struct Tag;

impl<'de> DeserializeSeed<'de> for Tag {
    type Value = u8;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<u8, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Tag {
    type Value = u8;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an attribute type")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<u8, E> {
        Ok(match s {
            "S" => 0,
            "N" => 1,
            "B" => 2,
            "SS" => 3,
            "NS" => 4,
            "BS" => 5,
            "M" => 6,
            "L" => 7,
            "NULL" | "BOOL" => 8,
            other => return Err(E::custom(format!("stored attribute type {other:?}"))),
        })
    }
}

impl<'de> Visitor<'de> for ValueSize {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an attribute value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<usize, A::Error> {
        let mut size = None;
        while let Some(tag) = map.next_key_seed(Tag)? {
            size = Some(match tag {
                0 => map.next_value_seed(StrLen)?,
                1 => map.next_value_seed(NumSize)?,
                2 => map.next_value_seed(B64Len)?,
                3 => map.next_value_seed(SetSize(StrLen))?,
                4 => map.next_value_seed(SetSize(NumSize))?,
                5 => map.next_value_seed(SetSize(B64Len))?,
                6 => map.next_value_seed(MapSize)?,
                7 => map.next_value_seed(ListSize)?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    1
                }
            });
        }
        size.ok_or_else(|| de::Error::custom("stored attribute value without a type"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attr::{encode_key_part, item_size, parse_item_json};

    #[test]
    fn skimmed_sizes_and_values_match_the_decoded_item() {
        let items = [
            r#"{"pk":{"S":"a\"b\\c\u0001é漢🦀"},"sk":{"N":"-123.4500"},"b":{"B":"AAEC/w=="},"b1":{"B":"AA=="},"b2":{"B":"AAE="},"b0":{"B":""}}"#,
            r#"{"ss":{"SS":["x","yé",""]},"ns":{"NS":["1","0.001","-99999999999999999999999999999999999999","1e125"]},"bs":{"BS":["AA==","AAECAw=="]},"sk":{"N":"0"},"pk":{"B":"AQI="}}"#,
            r#"{"m":{"M":{"k\u00e9":{"L":[{"NULL":true},{"BOOL":false},{"M":{}},{"L":[]},{"N":"1.5"}]},"e":{"M":{"x":{"SS":["q"]}}}}},"pk":{"S":""},"t":{"BOOL":true},"n":{"NULL":true}}"#,
            r#"{}"#,
        ];
        for text in items {
            let item = parse_item_json(text).unwrap();
            let stored = serde_json::to_vec(&item).unwrap();
            let s = skim(&stored, [Some("pk"), Some("sk")]).unwrap();
            assert_eq!(s.size, item_size(&item), "{text}");
            for (slot, name) in ["pk", "sk"].into_iter().enumerate() {
                let want = item.get(name).and_then(encode_key_part);
                let got = s.found[slot].as_ref().and_then(encode_key_part);
                assert_eq!(got, want, "{name} of {text}");
                assert_eq!(s.found[slot].is_some(), item.contains_key(name));
            }
        }
    }

    #[test]
    fn damaged_records_are_errors_not_panics() {
        for bad in [
            &b"{"[..],
            b"[]",
            b"{\"a\":{}}",
            b"{\"a\":{\"X\":1}}",
            b"{\"a\":{\"B\":\"AAA\"}}",
            b"{\"a\":{\"N\":\"x\"}} ",
            b"{\"a\":{\"S\":\"x\"}} trailing",
        ] {
            assert!(
                skim(bad, [None, None]).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
