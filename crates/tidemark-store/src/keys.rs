//! Order-preserving key encodings: the bytewise order of encoded keys equals the logical
//! order of the values, and encodings concatenate into composite keys that sort
//! field by field (like a tuple).
//!
//! * `u64`: 8 bytes big-endian.
//! * `i64`: the sign bit flipped, then 8 bytes big-endian (so negatives sort first).
//! * byte strings: each `0x00` written as `0x00 0xFF`, then the terminator `0x00 0x00`.
//!   The terminator sorts below any continuation (`0x00 0xFF` or a byte ≥ 0x01), so a
//!   string sorts before its extensions, and the field after it never bleeds into the
//!   comparison.
//!
//! Fixed-width fields need no terminator. Use [`KeyBuilder`] to write and [`KeyReader`] to
//! read a composite key back.

/// Writes composite keys.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyBuilder {
    buf: Vec<u8>,
}

impl KeyBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn u64(mut self, v: u64) -> Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub fn i64(mut self, v: i64) -> Self {
        self.buf.extend_from_slice(&encode_i64(v));
        self
    }

    pub fn bytes(mut self, v: &[u8]) -> Self {
        push_bytes(&mut self.buf, v);
        self
    }

    pub fn str(self, v: &str) -> Self {
        self.bytes(v.as_bytes())
    }

    /// Appends raw bytes as they are: only safe as the last field (it is not terminated).
    pub fn raw(mut self, v: &[u8]) -> Self {
        self.buf.extend_from_slice(v);
        self
    }

    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

pub fn encode_u64(v: u64) -> [u8; 8] {
    v.to_be_bytes()
}

pub fn encode_i64(v: i64) -> [u8; 8] {
    // Flipping the sign bit maps i64::MIN..=i64::MAX monotonically onto 0..=u64::MAX.
    ((v as u64) ^ (1 << 63)).to_be_bytes()
}

/// Appends `v` escaped and terminated.
pub fn push_bytes(out: &mut Vec<u8>, v: &[u8]) {
    for &b in v {
        out.push(b);
        if b == 0 {
            out.push(0xFF);
        }
    }
    out.extend_from_slice(&[0, 0]);
}

/// The smallest key greater than every key starting with `prefix`, or `None` when there
/// is none (the prefix is empty or all `0xFF`): the exclusive end of a prefix scan.
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Why a key could not be decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("key ends inside a fixed-width field")]
    Truncated,
    #[error("key has an unterminated byte string")]
    Unterminated,
    #[error("key has an invalid escape 0x00 0x{0:02X}")]
    BadEscape(u8),
    #[error("key field is not UTF-8")]
    NotUtf8,
}

/// Reads the fields of a composite key in the order they were written.
#[derive(Clone, Debug)]
pub struct KeyReader<'a> {
    rest: &'a [u8],
}

impl<'a> KeyReader<'a> {
    pub fn new(key: &'a [u8]) -> Self {
        Self { rest: key }
    }

    fn fixed(&mut self) -> Result<[u8; 8], KeyError> {
        let (head, rest) = self
            .rest
            .split_first_chunk::<8>()
            .ok_or(KeyError::Truncated)?;
        self.rest = rest;
        Ok(*head)
    }

    pub fn u64(&mut self) -> Result<u64, KeyError> {
        Ok(u64::from_be_bytes(self.fixed()?))
    }

    pub fn i64(&mut self) -> Result<i64, KeyError> {
        Ok((u64::from_be_bytes(self.fixed()?) ^ (1 << 63)) as i64)
    }

    pub fn bytes(&mut self) -> Result<Vec<u8>, KeyError> {
        let mut out = Vec::new();
        let mut i = 0;
        loop {
            match self.rest.get(i) {
                None => return Err(KeyError::Unterminated),
                Some(0) => match self.rest.get(i + 1) {
                    Some(0) => {
                        self.rest = &self.rest[i + 2..];
                        return Ok(out);
                    }
                    Some(0xFF) => {
                        out.push(0);
                        i += 2;
                    }
                    Some(&b) => return Err(KeyError::BadEscape(b)),
                    None => return Err(KeyError::Unterminated),
                },
                Some(&b) => {
                    out.push(b);
                    i += 1;
                }
            }
        }
    }

    pub fn str(&mut self) -> Result<String, KeyError> {
        String::from_utf8(self.bytes()?).map_err(|_| KeyError::NotUtf8)
    }

    /// Whatever has not been read yet.
    pub fn rest(&self) -> &'a [u8] {
        self.rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bytes_key(v: &[u8]) -> Vec<u8> {
        KeyBuilder::new().bytes(v).finish()
    }

    proptest! {
        #[test]
        fn u64_order_is_preserved(a: u64, b: u64) {
            prop_assert_eq!(a.cmp(&b), encode_u64(a).cmp(&encode_u64(b)));
        }

        #[test]
        fn i64_order_is_preserved_and_round_trips(a: i64, b: i64) {
            prop_assert_eq!(a.cmp(&b), encode_i64(a).cmp(&encode_i64(b)));
            prop_assert_eq!(KeyReader::new(&encode_i64(a)).i64().unwrap(), a);
        }

        // Small alphabets with many zero bytes exercise escapes and prefixes.
        #[test]
        fn byte_string_order_is_preserved(a in prop::collection::vec(prop::sample::select(vec![0u8, 1, 0xFF, b'a']), 0..8),
                                          b in prop::collection::vec(prop::sample::select(vec![0u8, 1, 0xFF, b'a']), 0..8)) {
            prop_assert_eq!(a.cmp(&b), bytes_key(&a).cmp(&bytes_key(&b)));
            prop_assert_eq!(KeyReader::new(&bytes_key(&a)).bytes().unwrap(), a);
        }

        #[test]
        fn composite_order_is_tuple_order(a in (prop::collection::vec(0u8..3, 0..5), any::<i64>(), prop::collection::vec(any::<u8>(), 0..4)),
                                          b in (prop::collection::vec(0u8..3, 0..5), any::<i64>(), prop::collection::vec(any::<u8>(), 0..4))) {
            let enc = |t: &(Vec<u8>, i64, Vec<u8>)| KeyBuilder::new().bytes(&t.0).i64(t.1).bytes(&t.2).finish();
            prop_assert_eq!(a.cmp(&b), enc(&a).cmp(&enc(&b)));
            let key = enc(&a);
            let mut r = KeyReader::new(&key);
            prop_assert_eq!(r.bytes().unwrap(), a.0.clone());
            prop_assert_eq!(r.i64().unwrap(), a.1);
            prop_assert_eq!(r.bytes().unwrap(), a.2.clone());
            prop_assert!(r.rest().is_empty());
        }

        #[test]
        fn prefix_end_bounds_exactly_the_prefixed_keys(prefix in prop::collection::vec(prop::sample::select(vec![0u8, 0xFE, 0xFF]), 0..4),
                                                       key in prop::collection::vec(prop::sample::select(vec![0u8, 0xFE, 0xFF]), 0..6)) {
            let inside = key.starts_with(&prefix);
            let below_end = prefix_end(&prefix).is_none_or(|e| key < e);
            prop_assert_eq!(inside, key >= prefix && below_end);
        }
    }

    #[test]
    fn decoding_rejects_malformed_keys() {
        assert_eq!(KeyReader::new(&[1, 2, 3]).u64(), Err(KeyError::Truncated));
        assert_eq!(KeyReader::new(b"ab").bytes(), Err(KeyError::Unterminated));
        assert_eq!(
            KeyReader::new(&[b'a', 0, 7]).bytes(),
            Err(KeyError::BadEscape(7))
        );
        assert_eq!(KeyReader::new(&[0xC3, 0, 0]).str(), Err(KeyError::NotUtf8));
    }
}
