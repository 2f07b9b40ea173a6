//! Redshift DDL: table attributes stripped, column attributes and types translated.
//!
//! sqlparser 0.64's parser does not read `ENCODE`, `IDENTITY(seed, step)`, `SORTKEY AUTO`,
//! `INTERLEAVED SORTKEY` or `ALTER DISTSTYLE` (measured), so this pass works on its tokens:
//! it walks the statement's top level and each column definition, and edits only the tokens
//! of the clauses it knows. Physical-design clauses have no PostgreSQL meaning and go.

use sqlparser::tokenizer::Token;

use crate::SqlError;
use crate::attrs::{AttrChange, Attrs, ident};
use crate::edits::Edits;
use crate::statement::Stmt;

pub(crate) fn rewrite(s: &Stmt<'_>, e: &mut Edits) -> Result<(), SqlError> {
    if s.word_at(0, "CREATE") {
        let mut i = 1;
        if s.word_at(i, "OR") && s.word_at(i + 1, "REPLACE") {
            i += 2;
        }
        if s.word_at(i, "LOCAL") || s.word_at(i, "GLOBAL") {
            i += 1;
        }
        if s.word_at(i, "TEMP") || s.word_at(i, "TEMPORARY") || s.word_at(i, "UNLOGGED") {
            i += 1;
        }
        if s.word_at(i, "TABLE") {
            create_table(s, i + 1, e);
        } else if s.word_at(i, "VIEW") || (s.word_at(i, "MATERIALIZED") && s.word_at(i + 1, "VIEW"))
        {
            strip_no_schema_binding(s, e);
        }
    } else if s.word_at(0, "ALTER") && s.word_at(1, "TABLE") {
        alter_table(s, e);
    }
    Ok(())
}

/// Index of the first token after a possibly qualified name starting at `i`.
fn skip_name(s: &Stmt<'_>, mut i: usize) -> usize {
    loop {
        if !matches!(s.toks.get(i).map(|t| &t.token), Some(Token::Word(_))) {
            return i;
        }
        i += 1;
        if s.tok_is(i, &Token::Period) {
            i += 1;
        } else {
            return i;
        }
    }
}

fn create_table(s: &Stmt<'_>, mut i: usize, e: &mut Edits) {
    if s.word_at(i, "IF") && s.word_at(i + 1, "NOT") && s.word_at(i + 2, "EXISTS") {
        i += 3;
    }
    let name_start = i;
    // `CREATE TABLE #t`: Redshift's session-temporary table (the expression pass quotes the
    // name everywhere as "#t").
    let sharp = s
        .sharp_name(i)
        .map(|w| format!("\"#{}\"", w.to_lowercase()));
    if let Some(table_kw) = sharp.as_ref().and_then(|_| i.checked_sub(1)) {
        if s.word_at(table_kw, "TABLE")
            && !(1..table_kw).any(|k| s.word_at(k, "TEMP") || s.word_at(k, "TEMPORARY"))
        {
            e.insert(s.toks[table_kw].start, "TEMP ");
        }
        i += 2;
    } else {
        i = skip_name(s, i);
    }
    let name = sharp
        .clone()
        .unwrap_or_else(|| s.text(name_start, i).to_string());
    let name = name.as_str();
    let mut attrs = Attrs::default();
    while i < s.len() {
        if let Some(close) = s.close_of(i) {
            if !s.word_at(i + 1, "LIKE") {
                column_list(s, i, e, &mut attrs);
            }
            i = close + 1;
            continue;
        }
        if s.word_at(i, "AS") {
            break; // CREATE TABLE … AS query: the query is the expression pass's
        }
        i = table_attribute(s, i, e, &mut attrs).unwrap_or(i + 1);
    }
    if let Some(last) = s
        .toks
        .last()
        .filter(|_| !attrs.is_empty() && !name.is_empty())
    {
        e.insert(last.end, attrs.comment(name));
    }
}

/// Removes one Redshift table attribute starting at `i`; returns the index after it.
fn table_attribute(s: &Stmt<'_>, i: usize, e: &mut Edits, attrs: &mut Attrs) -> Option<usize> {
    let end = if s.word_at(i, "DISTSTYLE") || s.word_at(i, "BACKUP") {
        if s.word_at(i, "DISTSTYLE") {
            attrs.diststyle = s
                .toks
                .get(i + 1)
                .and_then(|t| t.bare_word())
                .map(str::to_string);
        }
        i + 2
    } else if s.word_at(i, "ENCODE") && s.word_at(i + 1, "AUTO") {
        i + 2
    } else if s.word_at(i, "DISTKEY") {
        let close = s.close_of(i + 1)?;
        attrs.distkey = s.toks.get(i + 2).and_then(ident);
        close + 1
    } else {
        let k = if s.word_at(i, "COMPOUND") || s.word_at(i, "INTERLEAVED") {
            i + 1
        } else {
            i
        };
        if !s.word_at(k, "SORTKEY") {
            return None;
        }
        if s.word_at(k + 1, "AUTO") {
            k + 2
        } else {
            let close = s.close_of(k + 1)?;
            attrs.interleaved = s.word_at(i, "INTERLEAVED");
            attrs.sortkey = (k + 2..close)
                .filter_map(|j| s.toks.get(j).and_then(ident))
                .collect();
            close + 1
        }
    };
    let end = end.min(s.len());
    e.remove(s.toks[i].start, s.toks[end - 1].end);
    Some(end)
}

fn column_list(s: &Stmt<'_>, open: usize, e: &mut Edits, attrs: &mut Attrs) {
    let Some((elements, _)) = s.args(open) else {
        return;
    };
    for el in elements {
        let first = el.start;
        let is_constraint = [
            "CONSTRAINT",
            "PRIMARY",
            "UNIQUE",
            "FOREIGN",
            "CHECK",
            "LIKE",
            "EXCLUDE",
        ]
        .iter()
        .any(|kw| s.word_at(first, kw));
        if !is_constraint && el.len() >= 2 {
            column_def(s, first + 1, el.end, e, attrs);
        }
    }
}

/// A column definition's type (starting at `ty`, the name just before it) and attributes, up
/// to token `end`.
fn column_def(s: &Stmt<'_>, ty: usize, end: usize, e: &mut Edits, attrs: &mut Attrs) {
    let column = s
        .toks
        .get(ty.wrapping_sub(1))
        .and_then(ident)
        .unwrap_or_default();
    let mut i = column_type(s, ty, e);
    while i < end {
        if let Some(close) = s.close_of(i) {
            i = close + 1;
            continue;
        }
        i = column_attribute(s, i, end, e, &column, attrs).unwrap_or(i + 1);
    }
}

/// Translates the type at `i` if Redshift spells it differently; returns the index after it.
pub(crate) fn column_type(s: &Stmt<'_>, i: usize, e: &mut Edits) -> usize {
    // (words of the type name, replacement when no length is given, replacement for MAX)
    let (words, bare, max): (usize, &str, &str) =
        if s.word_at(i, "VARCHAR") || s.word_at(i, "NVARCHAR") {
            (1, "varchar(256)", "varchar(65535)")
        } else if (s.word_at(i, "CHARACTER") || s.word_at(i, "NCHAR") || s.word_at(i, "CHAR"))
            && s.word_at(i + 1, "VARYING")
        {
            (2, "varchar(256)", "varchar(65535)")
        } else if s.word_at(i, "TEXT") {
            (1, "varchar(256)", "varchar(65535)")
        } else if s.word_at(i, "BPCHAR") {
            (1, "char(256)", "char(4096)")
        } else if s.word_at(i, "VARBYTE") || s.word_at(i, "VARBINARY") {
            (1, "bytea", "bytea")
        } else if s.word_at(i, "SUPER") {
            e.replace(s.toks[i].start, s.toks[i].end, "jsonb");
            return i + 1;
        } else {
            return i;
        };
    let after = i + words;
    let name_end = s.toks[after - 1].end;
    match s.close_of(after) {
        Some(close) if close == after + 2 && s.word_at(after + 1, "MAX") => {
            e.replace(s.toks[i].start, s.toks[close].end, max);
            close + 1
        }
        Some(close) => {
            // An explicit length: only the name may need translating.
            let name = if bare.starts_with("char") {
                "char"
            } else if bare == "bytea" {
                e.replace(s.toks[i].start, s.toks[close].end, "bytea");
                return close + 1;
            } else {
                "varchar"
            };
            if !(s.word_at(i, "VARCHAR") && words == 1) {
                e.replace(s.toks[i].start, name_end, name);
            }
            close + 1
        }
        None => {
            e.replace(s.toks[i].start, name_end, bare);
            after
        }
    }
}

/// One Redshift column attribute at `i`; returns the index after it, `None` if `i` is not one.
fn column_attribute(
    s: &Stmt<'_>,
    i: usize,
    end: usize,
    e: &mut Edits,
    column: &str,
    attrs: &mut Attrs,
) -> Option<usize> {
    let bare_word_at =
        |k: usize| k < end && matches!(s.toks.get(k).map(|t| &t.token), Some(Token::Word(_)));
    let next = if s.word_at(i, "ENCODE") && bare_word_at(i + 1) {
        if let Some(enc) = s.toks.get(i + 1).and_then(ident) {
            attrs.encodings.push((column.to_string(), enc));
        }
        i + 2
    } else if (s.word_at(i, "DISTKEY") || s.word_at(i, "SORTKEY")) && s.close_of(i + 1).is_none() {
        if s.word_at(i, "DISTKEY") {
            attrs.distkey = Some(column.to_string());
        } else {
            attrs.sortkey.push(column.to_string());
        }
        i + 1
    } else if s.word_at(i, "COLLATE")
        && (s.word_at(i + 1, "CASE_SENSITIVE") || s.word_at(i + 1, "CASE_INSENSITIVE"))
    {
        i + 2
    } else if s.word_at(i, "IDENTITY") {
        return identity(s, i, i, e);
    } else if s.word_at(i, "GENERATED") {
        // GENERATED BY DEFAULT AS IDENTITY (seed, step)
        let k = (i..end.min(i + 6)).find(|&k| s.word_at(k, "IDENTITY"))?;
        return identity(s, i, k, e);
    } else {
        return None;
    };
    e.remove(s.toks[i].start, s.toks[next - 1].end);
    Some(next)
}

/// `IDENTITY(seed, step)` (from `from`, the IDENTITY word at `kw`) → PostgreSQL's identity
/// column. Left alone if the parentheses already hold PostgreSQL's sequence options.
fn identity(s: &Stmt<'_>, from: usize, kw: usize, e: &mut Edits) -> Option<usize> {
    let open = kw + 1;
    let close = s.close_of(open)?;
    let (args, _) = s.args(open)?;
    if args.len() != 2 || args.iter().any(|a| a.is_empty()) {
        return Some(close + 1);
    }
    let seed = s.text(args[0].start, args[0].end);
    let step = s.text(args[1].start, args[1].end);
    // PostgreSQL's sequences start at 1 (ascending) or -1 (descending) unless told otherwise;
    // Redshift's common IDENTITY(0, 1) needs the bound moved to the seed.
    let bound = match (parse_int(seed), parse_int(step)) {
        (Some(sd), Some(st)) if st > 0 && sd < 1 => format!(" MINVALUE {sd}"),
        (Some(sd), Some(st)) if st < 0 && sd > -1 => format!(" MAXVALUE {sd}"),
        _ => String::new(),
    };
    e.replace(
        s.toks[from].start,
        s.toks[close].end,
        format!("GENERATED BY DEFAULT AS IDENTITY (START WITH {seed} INCREMENT BY {step}{bound})"),
    );
    Some(close + 1)
}

/// What `ALTER TABLE t ALTER …` (from the token after the second ALTER) changes.
fn altered_attrs(s: &Stmt<'_>, i: usize, col: usize) -> AttrChange {
    let mut c = AttrChange::default();
    if s.word_at(i, "DISTSTYLE") {
        c.diststyle = s
            .toks
            .get(i + 1)
            .and_then(|t| t.bare_word())
            .map(str::to_ascii_uppercase);
    } else if s.word_at(i, "DISTKEY") {
        c.diststyle = Some("KEY".into());
        c.distkey = s.toks.get(i + 1).and_then(ident);
    } else if s.word_at(col + 1, "ENCODE") {
        if let (Some(column), Some(enc)) = (
            s.toks.get(col).and_then(ident),
            s.toks.get(col + 2).and_then(ident),
        ) {
            c.encoding = Some((column, enc));
        }
    } else {
        let k = if s.word_at(i, "COMPOUND") || s.word_at(i, "INTERLEAVED") {
            i + 1
        } else {
            i
        };
        if s.word_at(k, "SORTKEY") {
            let cols = s
                .close_of(k + 1)
                .map(|close| {
                    (k + 2..close)
                        .filter_map(|j| s.toks.get(j).and_then(ident))
                        .collect()
                })
                .unwrap_or_default();
            c.sortkey = Some((cols, s.word_at(i, "INTERLEAVED")));
        }
    }
    c
}

/// An integer literal, possibly signed and spaced (`- 2`), as written in IDENTITY(seed, step).
fn parse_int(text: &str) -> Option<i64> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    compact.parse().ok()
}

/// Late-binding views: PostgreSQL binds every view, so the clause goes (a view over a table
/// that does not exist yet is refused by PostgreSQL; documented).
fn strip_no_schema_binding(s: &Stmt<'_>, e: &mut Edits) {
    let n = s.len();
    if n >= 4
        && s.word_at(n - 4, "WITH")
        && s.word_at(n - 3, "NO")
        && s.word_at(n - 2, "SCHEMA")
        && s.word_at(n - 1, "BINDING")
    {
        e.remove(s.toks[n - 4].start, s.toks[n - 1].end);
    }
}

fn alter_table(s: &Stmt<'_>, e: &mut Edits) {
    let mut i = 2;
    if s.word_at(i, "IF") && s.word_at(i + 1, "EXISTS") {
        i += 2;
    }
    if s.word_at(i, "ONLY") {
        i += 1;
    }
    let name_start = i;
    let name_end = skip_name(s, i);
    if name_end == name_start {
        return;
    }
    let op = name_end;
    // ALTER DISTSTYLE / DISTKEY / [COMPOUND|INTERLEAVED] SORTKEY / ENCODE AUTO, and
    // ALTER [COLUMN] c ENCODE x: accepted as no-ops, as physical design has no meaning here.
    let physical = [
        "DISTSTYLE",
        "DISTKEY",
        "SORTKEY",
        "COMPOUND",
        "INTERLEAVED",
        "ENCODE",
    ];
    let col = if s.word_at(op + 1, "COLUMN") {
        op + 2
    } else {
        op + 1
    };
    let is_noop = s.word_at(op, "ALTER")
        && (physical.iter().any(|kw| s.word_at(op + 1, kw)) || s.word_at(col + 1, "ENCODE"));
    if is_noop {
        // A harmless statement with the same command tag that still checks the table exists:
        // resetting a storage parameter Redshift users cannot set.
        // The new attributes ride along in a comment, as for CREATE TABLE (src/attrs.rs).
        let name = s.text(name_start, name_end);
        let last = s.len() - 1;
        let change = altered_attrs(s, op + 1, col);
        e.replace(
            s.toks[0].start,
            s.toks[last].end,
            format!(
                "ALTER TABLE {name} RESET (fillfactor){}",
                change.comment(name)
            ),
        );
        return;
    }
    // ADD [COLUMN] [IF NOT EXISTS] name type attributes (possibly several, comma-separated).
    let mut i = op;
    while i < s.len() {
        let action_end = s.next_top_comma(i);
        if s.word_at(i, "ADD") {
            let mut k = i + 1;
            if s.word_at(k, "COLUMN") {
                k += 1;
            }
            if s.word_at(k, "IF") && s.word_at(k + 1, "NOT") && s.word_at(k + 2, "EXISTS") {
                k += 3;
            }
            let is_constraint = ["CONSTRAINT", "PRIMARY", "UNIQUE", "FOREIGN", "CHECK"]
                .iter()
                .any(|kw| s.word_at(k, kw));
            if !is_constraint && k + 1 < action_end {
                // Attributes of an added column are not recorded (documented).
                column_def(s, k + 1, action_end, e, &mut Attrs::default());
            }
        } else if s.word_at(i, "ALTER") {
            // ALTER [COLUMN] c [SET DATA] TYPE t
            if let Some(t) = (i..action_end).find(|&k| s.word_at(k, "TYPE")) {
                column_type(s, t + 1, e);
            }
        }
        i = action_end + 1;
    }
}
