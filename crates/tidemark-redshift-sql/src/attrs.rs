//! Redshift's physical-design attributes of a new table, carried to PostgreSQL in a comment.
//!
//! PostgreSQL has no use for DISTSTYLE, DISTKEY, SORTKEY or ENCODE, but PG_TABLE_DEF and
//! SVV_TABLE_INFO show them. The rewriter appends one comment to the CREATE TABLE it rewrites,
//! `/* tidemark:redshift {json} */`; an event trigger in compat.sql reads it from
//! `current_query()` at ddl_command_end and stores it by table OID. A comment rather than a
//! second statement, because the extended query protocol (psycopg 3, JDBC, redshift_connector)
//! refuses several statements in one Parse message.
//!
//! The JSON escapes `/` and `*` so that nothing inside it can end or nest the comment.

use sqlparser::tokenizer::{Token, Word};

use crate::lexer::Tok;

pub(crate) const MARKER: &str = "tidemark:redshift";

#[derive(Debug, Default)]
pub(crate) struct Attrs {
    pub diststyle: Option<String>,
    pub distkey: Option<String>,
    pub sortkey: Vec<String>,
    pub interleaved: bool,
    pub encodings: Vec<(String, String)>,
}

impl Attrs {
    pub fn is_empty(&self) -> bool {
        self.diststyle.is_none()
            && self.distkey.is_none()
            && self.sortkey.is_empty()
            && self.encodings.is_empty()
    }

    /// The comment to append to the statement creating `table` (its name as written).
    pub fn comment(&self, table: &str) -> String {
        let diststyle = match (&self.diststyle, &self.distkey) {
            (Some(d), _) => d.to_ascii_uppercase(),
            (None, Some(_)) => "KEY".to_string(),
            (None, None) => "AUTO".to_string(),
        };
        let mut out = format!(" /* {MARKER} {{\"table\":{}", json_str(table));
        out.push_str(&format!(",\"diststyle\":{}", json_str(&diststyle)));
        if let Some(k) = &self.distkey {
            out.push_str(&format!(",\"distkey\":{}", json_str(k)));
        }
        out.push_str(",\"sortkey\":[");
        for (n, k) in self.sortkey.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            out.push_str(&json_str(k));
        }
        out.push_str(&format!(
            "],\"interleaved\":{},\"encode\":{{",
            self.interleaved
        ));
        for (n, (col, enc)) in self.encodings.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            out.push_str(&format!(
                "{}:{}",
                json_str(col),
                json_str(&enc.to_ascii_lowercase())
            ));
        }
        out.push_str("}} */");
        out
    }
}

/// What an `ALTER TABLE … ALTER DISTSTYLE/DISTKEY/SORTKEY/COLUMN c ENCODE` changes: only the
/// fields named, merged by the event trigger into what was recorded (`"alter":true`).
#[derive(Debug, Default)]
pub(crate) struct AttrChange {
    pub diststyle: Option<String>,
    pub distkey: Option<String>,
    pub sortkey: Option<(Vec<String>, bool)>,
    pub encoding: Option<(String, String)>,
}

impl AttrChange {
    /// The comment for the rewritten statement, empty if nothing is recorded.
    pub fn comment(&self, table: &str) -> String {
        if self.diststyle.is_none() && self.sortkey.is_none() && self.encoding.is_none() {
            return String::new();
        }
        let mut out = format!(
            " /* {MARKER} {{\"table\":{},\"alter\":true",
            json_str(table)
        );
        if let Some(d) = &self.diststyle {
            out.push_str(&format!(",\"diststyle\":{}", json_str(d)));
        }
        if let Some(k) = &self.distkey {
            out.push_str(&format!(",\"distkey\":{}", json_str(k)));
        }
        if let Some((cols, interleaved)) = &self.sortkey {
            let list: Vec<String> = cols.iter().map(|c| json_str(c)).collect();
            out.push_str(&format!(
                ",\"sortkey\":[{}],\"interleaved\":{interleaved}",
                list.join(",")
            ));
        }
        if let Some((col, enc)) = &self.encoding {
            out.push_str(&format!(
                ",\"encode\":{{{}:{}}}",
                json_str(col),
                json_str(&enc.to_ascii_lowercase())
            ));
        }
        out.push_str("} */");
        out
    }
}

/// An identifier as PostgreSQL stores it: unquoted words fold to lower case.
pub(crate) fn ident(tok: &Tok) -> Option<String> {
    match &tok.token {
        Token::Word(Word {
            value,
            quote_style: None,
            ..
        }) => Some(value.to_lowercase()),
        Token::Word(Word { value, .. }) => Some(value.clone()),
        _ => None,
    }
}

fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '*' => out.push_str("\\u002a"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_cannot_be_closed_from_inside() {
        let a = Attrs {
            diststyle: None,
            distkey: Some("a*/b".into()),
            sortkey: vec!["x/*".into()],
            interleaved: false,
            encodings: vec![("q\"".into(), "ZSTD".into())],
        };
        let c = a.comment("s.\"t*/\"");
        assert_eq!(
            c,
            " /* tidemark:redshift {\"table\":\"s.\\\"t\\u002a\\/\\\"\",\"diststyle\":\"KEY\",\
             \"distkey\":\"a\\u002a\\/b\",\"sortkey\":[\"x\\/\\u002a\"],\"interleaved\":false,\
             \"encode\":{\"q\\\"\":\"zstd\"}} */"
        );
        assert_eq!(c.matches("*/").count(), 1);
        assert_eq!(c.matches("/*").count(), 1);
    }
}
