//! Result values as the Data API returns them: the `Field` union with AWS's type mapping,
//! `ColumnMetadata`, CSV fields, AWS's size limits and the `NextToken` of a page (the pages
//! themselves are cut and read in `result_file.rs`).

use tidemark_model::redshift_data::{ColumnMetadata, Field};

use crate::backend::{Column, ValueKind};
use crate::error::DataError;

/// The largest page of records: tidemark cuts pages at 1 MiB of record JSON (AWS cuts them
/// "depending on result to be retrieved, volume", and clients must follow `NextToken`).
pub const PAGE_BYTES: usize = 1024 * 1024;
/// AWS's limit on one row of a result ("Packet for query is too large").
pub const MAX_ROW_BYTES: usize = 64 * 1024;
/// AWS's limit on a whole result ("Database response exceeded size limit").
pub const MAX_RESULT_BYTES: usize = 500 * 1024 * 1024;

/// A value as a CSV field: quoted when it holds a comma, quote or line break.
pub fn csv_value(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_owned()
    }
}

/// The length of [`csv_value`]`(v)`, without building it.
pub fn csv_len(v: &str) -> usize {
    if v.contains([',', '"', '\n', '\r']) {
        v.len() + 2 + v.matches('"').count()
    } else {
        v.len()
    }
}

/// One value in the `Field` union. A value of a number or boolean type that does not parse
/// (PostgreSQL's `NaN`, `Infinity`) is sent as its text.
pub fn field(v: Option<&str>, kind: Option<ValueKind>) -> Field {
    let Some(v) = v else {
        return Field {
            is_null: Some(true),
            ..Field::default()
        };
    };
    let text = || Field {
        string_value: Some(v.to_owned()),
        ..Field::default()
    };
    match kind.unwrap_or(ValueKind::String) {
        ValueKind::Long => v.parse().map_or_else(
            |_| text(),
            |n| Field {
                long_value: Some(n),
                ..Field::default()
            },
        ),
        ValueKind::Double => match v.parse::<f64>() {
            Ok(d) if d.is_finite() => Field {
                double_value: Some(d),
                ..Field::default()
            },
            _ => text(),
        },
        ValueKind::Boolean => match v {
            "t" | "true" => Field {
                boolean_value: Some(true),
                ..Field::default()
            },
            "f" | "false" => Field {
                boolean_value: Some(false),
                ..Field::default()
            },
            _ => text(),
        },
        ValueKind::Blob => match decode_hex_bytea(v) {
            Some(b) => Field {
                blob_value: Some(tidemark_model::Blob(b)),
                ..Field::default()
            },
            None => text(),
        },
        ValueKind::String => text(),
    }
}

/// PostgreSQL's `bytea_output = hex` form, `\x0a1b…`.
fn decode_hex_bytea(v: &str) -> Option<Vec<u8>> {
    let hex = v.strip_prefix("\\x")?.as_bytes();
    if hex.len() % 2 != 0 {
        return None;
    }
    let nib = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    hex.chunks_exact(2)
        .map(|p| Some(nib(p[0])? << 4 | nib(p[1])?))
        .collect()
}

pub fn metadata(c: &Column) -> ColumnMetadata {
    ColumnMetadata {
        is_case_sensitive: Some(c.case_sensitive),
        is_currency: Some(c.currency),
        is_signed: Some(c.signed),
        label: Some(c.name.clone()),
        name: Some(c.name.clone()),
        nullable: Some(c.nullable),
        precision: Some(c.precision),
        scale: Some(c.scale),
        schema_name: Some(c.schema.clone()),
        table_name: Some(c.table.clone()),
        type_name: Some(c.type_name.clone()),
        length: Some(c.length),
        column_default: c.default.clone(),
    }
}

/// `NextToken` for a page: the statement id and first row, so a token from another
/// statement is refused.
pub fn encode_token(id: &str, row: u64) -> String {
    format!("{id}/{row}")
}

pub fn decode_token(id: &str, token: &str) -> Result<u64, DataError> {
    token
        .strip_prefix(id)
        .and_then(|t| t.strip_prefix('/'))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| DataError::Validation("Invalid NextToken".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_follow_the_data_apis_type_mapping() {
        assert_eq!(field(None, Some(ValueKind::Long)).is_null, Some(true));
        assert_eq!(
            field(Some("-9223372036854775808"), Some(ValueKind::Long)).long_value,
            Some(i64::MIN)
        );
        assert_eq!(
            field(Some("1.5"), Some(ValueKind::Double)).double_value,
            Some(1.5)
        );
        assert_eq!(
            field(Some("NaN"), Some(ValueKind::Double)).string_value,
            Some("NaN".into())
        );
        assert_eq!(
            field(Some("t"), Some(ValueKind::Boolean)).boolean_value,
            Some(true)
        );
        assert_eq!(
            field(Some("12.50"), Some(ValueKind::String)).string_value,
            Some("12.50".into())
        );
        assert_eq!(
            field(Some("\\x00ff"), Some(ValueKind::Blob)).blob_value,
            Some(tidemark_model::Blob(vec![0, 255]))
        );
    }

    #[test]
    fn tokens_belong_to_their_statement() {
        let t = encode_token("a", 5);
        assert_eq!(decode_token("a", &t).unwrap(), 5);
        assert!(decode_token("b", &t).is_err());
    }

    #[test]
    fn csv_len_is_the_quoted_length() {
        for v in ["plain", "a,b", "say \"hi\"", "two\nlines", ""] {
            assert_eq!(csv_len(v), csv_value(v).len(), "{v}");
        }
    }
}
