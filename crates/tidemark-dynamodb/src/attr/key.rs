//! DynamoDB's item-size rule (for the 400 KB limit) and an order-preserving byte encoding of
//! key attribute values (S, N, B) whose byte order equals DynamoDB's sort order.

use super::{AttributeValue, Item, Number};

/// The item-size limit: an item of exactly this many bytes is accepted, one more is refused
/// with `Item size has exceeded the maximum allowed size` (nubo-db/dynamodb-conformance capture).
pub const MAX_ITEM_BYTES: usize = 409_600;

/// Size of an item as DynamoDB counts it (Developer Guide, "Item sizes and formats"): for each
/// attribute the UTF-8 length of its name plus the size of its value.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

/// Size of one value: strings by UTF-8 bytes, binaries by raw bytes, numbers per
/// `Number::storage_size`, NULL/BOOL 1 byte, sets the sum of their members, lists and maps
/// 3 bytes plus 1 byte per element plus the elements (and, for maps, the key names).
pub fn value_size(v: &AttributeValue) -> usize {
    match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => n.storage_size(),
        AttributeValue::B(b) => b.len(),
        AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
        AttributeValue::Ns(v) => v.iter().map(Number::storage_size).sum(),
        AttributeValue::Bs(v) => v.iter().map(Vec::len).sum(),
        AttributeValue::M(m) => {
            3 + m
                .iter()
                .map(|(k, v)| 1 + k.len() + value_size(v))
                .sum::<usize>()
        }
        AttributeValue::L(l) => 3 + l.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        AttributeValue::Null | AttributeValue::Bool(_) => 1,
    }
}

/// Encodes a key attribute so that comparing encodings bytewise equals DynamoDB's order:
/// S by UTF-8 bytes, B by unsigned bytes, N numerically. Each encoding is self-delimiting, so
/// `encode(hash) ++ encode(range)` orders by (hash, range) too. Returns `None` for non-key types.
///
/// Layout:
/// * S, B: the bytes with `0x00` escaped as `0x00 0xFF`, then a `0x00` terminator (a prefix
///   therefore sorts first, as in DynamoDB).
/// * N: a class byte (`0x00` negative, `0x01` zero, `0x02` positive); for non-zero numbers then
///   the scientific exponent + 130 (0..=255) and one byte per significant digit (`d + 1`),
///   terminated by `0x00`. Negative numbers invert the exponent byte and digits (`10 − d`) and
///   end with `0xFF`, so larger magnitudes sort first and longer digit strings sort earlier.
pub fn encode_key_part(v: &AttributeValue) -> Option<Vec<u8>> {
    match v {
        AttributeValue::S(s) => Some(escape_bytes(s.as_bytes())),
        AttributeValue::B(b) => Some(escape_bytes(b)),
        AttributeValue::N(n) => Some(encode_number(n)),
        _ => None,
    }
}

fn escape_bytes(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len() + 1);
    for &c in b {
        out.push(c);
        if c == 0 {
            out.push(0xFF);
        }
    }
    out.push(0);
    out
}

fn encode_number(n: &Number) -> Vec<u8> {
    if n.is_zero() {
        return vec![0x01];
    }
    // The scientific exponent is within -130..=125 by Number's invariant.
    let exp = (n.scientific_exponent() + 130).clamp(0, 255) as u8;
    let digits = n.digits();
    let mut out = Vec::with_capacity(digits.len() + 3);
    if n.is_negative() {
        out.push(0x00);
        out.push(255 - exp);
        out.extend(digits.iter().map(|d| 10 - d));
        out.push(0xFF);
    } else {
        out.push(0x02);
        out.push(exp);
        out.extend(digits.iter().map(|d| d + 1));
        out.push(0x00);
    }
    out
}
