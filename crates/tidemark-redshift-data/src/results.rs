//! Result sets as the Data API returns them: rows of the `Field` union with AWS's type
//! mapping, `ColumnMetadata`, and pages cut by size with an opaque `NextToken`.

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

/// A finished statement's rows, kept until the statement expires.
#[derive(Debug, Default)]
pub struct ResultSet {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Option<String>>>,
}

impl ResultSet {
    /// Text bytes of all values (`ResultSize`).
    pub fn size(&self) -> i64 {
        let n: usize = self
            .rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|v| v.as_ref().map_or(0, String::len))
                    .sum::<usize>()
            })
            .sum();
        i64::try_from(n).unwrap_or(i64::MAX)
    }

    pub fn metadata(&self) -> Vec<ColumnMetadata> {
        self.columns.iter().map(metadata).collect()
    }

    /// The page starting at row `start`: its records and the next page's first row.
    pub fn page(&self, start: usize) -> (Vec<Vec<Field>>, Option<usize>) {
        let mut out = Vec::new();
        let mut bytes = 0;
        let mut i = start;
        while i < self.rows.len() {
            let row = &self.rows[i];
            // Braces, key names and separators: about 20 bytes per value beyond its text.
            let cost: usize = row
                .iter()
                .map(|v| 20 + v.as_ref().map_or(0, String::len))
                .sum();
            if !out.is_empty() && bytes + cost > PAGE_BYTES {
                return (out, Some(i));
            }
            bytes += cost;
            out.push(
                row.iter()
                    .zip(&self.columns)
                    .map(|(v, c)| field(v.as_deref(), c.kind))
                    .collect(),
            );
            i += 1;
        }
        (out, None)
    }

    /// The page starting at row `start` as CSV (a header line first on the first page), for
    /// GetStatementResultV2.
    pub fn csv_page(&self, start: usize) -> (String, Option<usize>) {
        let mut out = String::new();
        if start == 0 {
            let names: Vec<String> = self.columns.iter().map(|c| csv_value(&c.name)).collect();
            out.push_str(&names.join(","));
            out.push('\n');
        }
        let mut i = start;
        while i < self.rows.len() {
            if out.len() > PAGE_BYTES && i > start {
                return (out, Some(i));
            }
            let vals: Vec<String> = self.rows[i]
                .iter()
                .map(|v| v.as_deref().map(csv_value).unwrap_or_default())
                .collect();
            out.push_str(&vals.join(","));
            out.push('\n');
            i += 1;
        }
        (out, None)
    }
}

fn csv_value(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_owned()
    }
}

/// Checks the AWS size limits on a result before it is kept.
pub fn check_limits(rows: &[Vec<Option<String>>]) -> Result<(), String> {
    let mut total = 0usize;
    for r in rows {
        let n: usize = r.iter().map(|v| v.as_ref().map_or(0, String::len)).sum();
        if n > MAX_ROW_BYTES {
            return Err("Packet for query is too large: a row exceeds 64 KB".into());
        }
        total += n;
        if total > MAX_RESULT_BYTES {
            return Err("Database response exceeded size limit of 500 MB".into());
        }
    }
    Ok(())
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

fn metadata(c: &Column) -> ColumnMetadata {
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
pub fn encode_token(id: &str, row: usize) -> String {
    format!("{id}/{row}")
}

pub fn decode_token(id: &str, token: &str) -> Result<usize, DataError> {
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
    fn pages_cut_by_size_and_cover_every_row_once() {
        let rs = ResultSet {
            columns: vec![Column {
                name: "v".into(),
                kind: Some(ValueKind::String),
                ..Column::default()
            }],
            rows: (0..3000)
                .map(|i| vec![Some(format!("{i:01000}"))])
                .collect(),
        };
        let (mut seen, mut next) = (0, Some(0));
        let mut pages = 0;
        while let Some(start) = next {
            let (recs, n) = rs.page(start);
            assert!(!recs.is_empty());
            seen += recs.len();
            next = n;
            pages += 1;
        }
        assert_eq!(seen, 3000);
        assert!(pages >= 3, "{pages} pages");
    }

    #[test]
    fn tokens_belong_to_their_statement() {
        let t = encode_token("a", 5);
        assert_eq!(decode_token("a", &t).unwrap(), 5);
        assert!(decode_token("b", &t).is_err());
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        let rs = ResultSet {
            columns: vec![Column {
                name: "a".into(),
                ..Column::default()
            }],
            rows: vec![vec![Some("x,\"y\"".into())], vec![None]],
        };
        assert_eq!(rs.csv_page(0).0, "a\n\"x,\"\"y\"\"\"\n\n");
    }
}
