//! Request timestamps: SigV4's ISO-8601 basic form and the HTTP `Date` fallback.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use crate::error::AuthError;

fn bad_date(raw: &str) -> AuthError {
    AuthError::IncompleteSignature(format!(
        "Date must be in ISO-8601 'basic format'. Got '{raw}'. See http://en.wikipedia.org/wiki/ISO_8601"
    ))
}

/// Parses `yyyymmddTHHMMSSZ`.
pub(crate) fn parse_iso_basic(raw: &str) -> Result<Timestamp, AuthError> {
    let b = raw.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<i32> {
        let s = raw.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())
            .flatten()
    };
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return Err(bad_date(raw));
    }
    let field = |r: std::ops::Range<usize>| digits(r).ok_or_else(|| bad_date(raw));
    let (y, mo, d) = (field(0..4)?, field(4..6)?, field(6..8)?);
    let (h, mi, s) = (field(9..11)?, field(11..13)?, field(13..15)?);
    let narrow = |v: i32| i8::try_from(v).map_err(|_| bad_date(raw));
    let year = i16::try_from(y).map_err(|_| bad_date(raw))?;
    DateTime::new(
        year,
        narrow(mo)?,
        narrow(d)?,
        narrow(h)?,
        narrow(mi)?,
        narrow(s)?,
        0,
    )
    .and_then(|dt| dt.to_zoned(TimeZone::UTC))
    .map(|z| z.timestamp())
    .map_err(|_| bad_date(raw))
}

/// Parses an HTTP `Date` header (RFC 1123, e.g. `Sun, 30 Aug 2015 12:36:00 GMT`).
pub(crate) fn parse_http_date(raw: &str) -> Result<Timestamp, AuthError> {
    jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(raw)
        .map_err(|_| bad_date(raw))
}

/// Formats a timestamp as `yyyymmddTHHMMSSZ` (UTC, whole seconds).
pub(crate) fn format_iso_basic(t: Timestamp) -> String {
    t.strftime("%Y%m%dT%H%M%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_basic_round_trips_and_rejects_other_forms() {
        let t = parse_iso_basic("20150830T123600Z").unwrap();
        assert_eq!(t.to_string(), "2015-08-30T12:36:00Z");
        assert_eq!(format_iso_basic(t), "20150830T123600Z");
        for bad in [
            "2015-08-30T12:36:00Z",
            "20150830T123600",
            "20150830 123600Z",
            "20150230T123600Z",
            "2015083aT123600Z",
            "+0150830T123600Z",
        ] {
            assert!(parse_iso_basic(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn http_date_parses_rfc_1123() {
        let t = parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT").unwrap();
        assert_eq!(format_iso_basic(t), "20150830T123600Z");
        assert!(parse_http_date("yesterday").is_err());
    }
}
