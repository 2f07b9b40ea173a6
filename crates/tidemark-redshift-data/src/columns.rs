//! A column's `ColumnMetadata` facts from its PostgreSQL type and catalog entry: one mapping
//! for statement results (the backend describes prepared statements) and for DescribeTable
//! (which reads `pg_attribute`), so both report a column the same way.

use crate::backend::{Column, ValueKind};

/// What the catalog says about a column that comes straight from a table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    /// `pg_attribute.atttypmod`: precision and scale of a numeric, length of a varchar.
    pub typmod: i32,
    pub not_null: bool,
    pub schema: String,
    pub table: String,
    pub default: Option<String>,
}

// PostgreSQL's fixed OIDs of the built-in types (`pg_type.dat`); user types never take them.
const BOOL: u32 = 16;
const BYTEA: u32 = 17;
const CHAR: u32 = 18;
const NAME: u32 = 19;
const INT8: u32 = 20;
const INT2: u32 = 21;
const INT4: u32 = 23;
const TEXT: u32 = 25;
const OID: u32 = 26;
const FLOAT4: u32 = 700;
const FLOAT8: u32 = 701;
const BPCHAR: u32 = 1042;
const VARCHAR: u32 = 1043;
const DATE: u32 = 1082;
const TIMESTAMP: u32 = 1114;
const TIMESTAMPTZ: u32 = 1184;
const NUMERIC: u32 = 1700;

/// The column `name` of type `type_oid` (named `type_name`), with the facts of `origin` when
/// the column comes from a table.
pub fn column(name: &str, type_oid: u32, type_name: &str, origin: Option<&Origin>) -> Column {
    let typmod = origin.map_or(-1, |a| a.typmod);
    let kind = match type_oid {
        INT2 | INT4 | INT8 | OID => ValueKind::Long,
        FLOAT4 | FLOAT8 => ValueKind::Double,
        BOOL => ValueKind::Boolean,
        BYTEA => ValueKind::Blob,
        _ => ValueKind::String,
    };
    let (precision, scale) = match type_oid {
        INT2 => (5, 0),
        INT4 => (10, 0),
        INT8 => (19, 0),
        FLOAT4 => (8, 8),
        FLOAT8 => (17, 17),
        BOOL => (1, 0),
        DATE => (13, 0),
        TIMESTAMP => (29, 6),
        TIMESTAMPTZ => (35, 6),
        NUMERIC if typmod >= 4 => (((typmod - 4) >> 16) & 0xffff, (typmod - 4) & 0xffff),
        VARCHAR | BPCHAR if typmod >= 4 => (typmod - 4, 0),
        VARCHAR | TEXT => (65535, 0),
        _ => (0, 0),
    };
    let stringy = matches!(type_oid, VARCHAR | BPCHAR | TEXT | NAME | CHAR);
    Column {
        name: name.to_owned(),
        type_name: type_name.to_owned(),
        kind: Some(kind),
        precision,
        scale,
        length: if stringy { precision } else { 0 },
        nullable: origin.map_or(1, |a| if a.not_null { 0 } else { 1 }),
        signed: matches!(type_oid, INT2 | INT4 | INT8 | FLOAT4 | FLOAT8 | NUMERIC),
        case_sensitive: stringy,
        currency: false,
        schema: origin.map(|a| a.schema.clone()).unwrap_or_default(),
        table: origin.map(|a| a.table.clone()).unwrap_or_default(),
        default: origin.and_then(|a| a.default.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_and_varchar_take_precision_from_the_typmod() {
        let origin = |typmod| Origin {
            typmod,
            not_null: true,
            schema: "public".into(),
            table: "t".into(),
            default: None,
        };
        let c = column("n", NUMERIC, "numeric", Some(&origin((12 << 16 | 2) + 4)));
        assert_eq!((c.precision, c.scale, c.nullable), (12, 2, 0));
        let c = column("v", VARCHAR, "varchar", Some(&origin(20 + 4)));
        assert_eq!(
            (c.precision, c.length, c.kind),
            (20, 20, Some(ValueKind::String))
        );
        let c = column("x", INT8, "int8", None);
        assert_eq!(
            (c.kind, c.nullable, c.signed),
            (Some(ValueKind::Long), 1, true)
        );
    }
}
