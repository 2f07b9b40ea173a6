//! Scalar newtypes used by the generated shapes: [`Timestamp`] and [`Blob`].
//!
//! Both serialize to the JSON form the dispatcher sees: the wire crates normalise every
//! timestamp to epoch seconds (a JSON number) and every blob to base64 text before dispatch.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A model `timestamp`: epoch seconds with millisecond precision on the JSON side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub jiff::Timestamp);

impl Default for Timestamp {
    fn default() -> Self {
        Self(jiff::Timestamp::UNIX_EPOCH)
    }
}

impl From<jiff::Timestamp> for Timestamp {
    fn from(t: jiff::Timestamp) -> Self {
        Self(t)
    }
}

impl From<Timestamp> for jiff::Timestamp {
    fn from(t: Timestamp) -> Self {
        t.0
    }
}

impl Timestamp {
    /// Builds a timestamp from epoch seconds (fractions kept to the millisecond, rounded).
    /// `None` when the value is not finite or outside jiff's supported range.
    pub fn from_epoch_seconds(secs: f64) -> Option<Self> {
        if !secs.is_finite() {
            return None;
        }
        let millis = (secs * 1000.0).round();
        // Guard the cast: jiff's range is far inside i64 milliseconds.
        if millis.abs() > 1.0e17 {
            return None;
        }
        jiff::Timestamp::from_millisecond(millis as i64)
            .ok()
            .map(Self)
    }

    /// Epoch milliseconds (sub-millisecond precision is truncated).
    pub fn as_millis(&self) -> i64 {
        self.0.as_millisecond()
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let millis = self.as_millis();
        if millis % 1000 == 0 {
            s.serialize_i64(millis / 1000)
        } else {
            // f64 keeps every millisecond exactly for dates within ±285,000 years, and
            // serde_json prints the shortest round-trip form (e.g. 1576616366.715).
            s.serialize_f64(millis as f64 / 1000.0)
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a timestamp as epoch seconds (a JSON number)")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Timestamp, E> {
                jiff::Timestamp::from_second(v)
                    .map(Timestamp)
                    .map_err(|_| E::custom(format!("timestamp {v} out of range")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Timestamp, E> {
                let v = i64::try_from(v).map_err(|_| E::custom("timestamp out of range"))?;
                self.visit_i64(v)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Timestamp, E> {
                Timestamp::from_epoch_seconds(v)
                    .ok_or_else(|| E::custom(format!("timestamp {v} out of range")))
            }
        }
        d.deserialize_any(V)
    }
}

/// Decodes a JSON blob's base64 text with the messages of AWS's JSON layer (as dynalite
/// recorded them from DynamoDB): a length that is not a multiple of 4, then the first bad
/// character (or a `=` followed by anything but `=`), then a bad final character.
pub fn decode_base64(s: &str) -> Result<Vec<u8>, String> {
    let bad = |why: String| format!("'{s}' can not be converted to a Blob: {why}");
    let len = s.encode_utf16().count();
    if !len.is_multiple_of(4) {
        return Err(bad(format!(
            "Base64 encoded length is expected a multiple of 4 bytes but found: {len}"
        )));
    }
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let pad_then_data = c == '=' && chars.peek().is_some_and(|n| *n != '=');
        if pad_then_data || !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')) {
            return Err(bad(format!("Invalid Base64 character: '{c}'")));
        }
    }
    STANDARD
        .decode(s)
        .map_err(|_| bad("Invalid last non-pad Base64 character dectected".to_string()))
}

/// A model `blob`: raw bytes, base64 text on the JSON side.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Blob(pub Vec<u8>);

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Blob;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("base64 text")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Blob, E> {
                decode_base64(v).map(Blob).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_errors_use_aws_messages() {
        assert_eq!(decode_base64("AQ==").unwrap(), vec![1]);
        assert_eq!(decode_base64("").unwrap(), Vec::<u8>::new());
        let msg = |s: &str| decode_base64(s).unwrap_err();
        assert_eq!(
            msg("!!"),
            "'!!' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 2"
        );
        assert_eq!(
            msg("AB!C"),
            "'AB!C' can not be converted to a Blob: Invalid Base64 character: '!'"
        );
        assert_eq!(
            msg("A=BC"),
            "'A=BC' can not be converted to a Blob: Invalid Base64 character: '='"
        );
        assert_eq!(
            msg("AB=="),
            "'AB==' can not be converted to a Blob: Invalid last non-pad Base64 character dectected"
        );
    }

    #[test]
    fn timestamp_round_trips_whole_and_fractional_seconds() {
        let whole: Timestamp = serde_json::from_str("1704164645").unwrap();
        assert_eq!(serde_json::to_string(&whole).unwrap(), "1704164645");
        let frac: Timestamp = serde_json::from_str("1576616366.715").unwrap();
        assert_eq!(frac.as_millis(), 1_576_616_366_715);
        assert_eq!(serde_json::to_string(&frac).unwrap(), "1576616366.715");
        let sci: Timestamp = serde_json::from_str("1.576616366715E9").unwrap();
        assert_eq!(sci, frac);
        assert!(serde_json::from_str::<Timestamp>("\"2024-01-01T00:00:00Z\"").is_err());
    }

    #[test]
    fn blob_is_base64_text() {
        let b = Blob(b"hello".to_vec());
        assert_eq!(serde_json::to_string(&b).unwrap(), "\"aGVsbG8=\"");
        assert_eq!(serde_json::from_str::<Blob>("\"aGVsbG8=\"").unwrap(), b);
        assert!(serde_json::from_str::<Blob>("\"!!\"").is_err());
    }
}
