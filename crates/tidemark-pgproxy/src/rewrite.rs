//! Rewriting the SQL of whole `Query` and `Parse` messages through the [`Route`], and the
//! replacement that makes PostgreSQL itself raise an error, so the protocol state (transaction
//! status, skip-until-Sync in the extended protocol) stays PostgreSQL's own.

use crate::{Route, SqlError, wire};

/// The text type, declared for parameters of a statement replaced by an error.
const TEXT_OID: u32 = 25;

/// Appends the `Query` message (`msg` whole, type byte included) after rewriting, to `out`.
pub(crate) fn query(route: &dyn Route, msg: &[u8], out: &mut Vec<u8>) {
    let body = &msg[5..];
    let sql = match body.split_last() {
        Some((0, sql)) if !sql.contains(&0) => sql,
        // Malformed: PostgreSQL reports the protocol violation itself.
        _ => return out.extend_from_slice(msg),
    };
    let Ok(sql) = std::str::from_utf8(sql) else {
        // Not UTF-8 (another client_encoding): nothing we could parse, pass it on.
        return out.extend_from_slice(msg);
    };
    match route.rewrite(sql) {
        Ok(None) => {
            route.executed(sql);
            out.extend_from_slice(msg);
        }
        Ok(Some(new)) => {
            route.executed(&new);
            wire::query(out, &new);
        }
        Err(e) => wire::query(out, &raising_sql(&e)),
    }
}

/// Appends the `Parse` message (`msg` whole) after rewriting, to `out`.
pub(crate) fn parse(route: &dyn Route, msg: &[u8], out: &mut Vec<u8>) {
    let Some((name, sql, types)) = split_parse(&msg[5..]) else {
        return out.extend_from_slice(msg);
    };
    let Ok(sql) = std::str::from_utf8(sql) else {
        return out.extend_from_slice(msg);
    };
    match route.rewrite(sql) {
        Ok(None) => {
            route.executed(sql);
            out.extend_from_slice(msg);
        }
        Ok(Some(new)) => {
            route.executed(&new);
            let types: Vec<u32> = types.collect();
            wire::parse(out, name, &new, &types);
        }
        Err(e) => {
            // The client will Bind as many parameters as its SQL used; declare at least that
            // many (as text, unused by the DO block) so Bind reaches our error, not a count
            // mismatch. Unknown (0) types would fail at Parse, so they become text too.
            let mut types: Vec<u32> = types.map(|t| if t == 0 { TEXT_OID } else { t }).collect();
            let used = max_placeholder(sql);
            if types.len() < used {
                types.resize(used, TEXT_OID);
            }
            wire::parse(out, name, &raising_sql(&e), &types);
        }
    }
}

/// A `Query` raising `err` in place of one not buffered.
pub(crate) fn refused_query(out: &mut Vec<u8>, err: &SqlError) {
    wire::query(out, &raising_sql(err));
}

/// A `Parse` raising `err` in place of one not buffered (its parameter types were not kept).
pub(crate) fn refused_parse(out: &mut Vec<u8>, name: &[u8], err: &SqlError) {
    wire::parse(out, name, &raising_sql(err), &[]);
}

/// Past `Limits::max_statement_bytes`.
pub(crate) fn too_large(size: usize, limit: usize) -> SqlError {
    SqlError {
        sqlstate: "54000".into(),
        message: format!("statement too large: {size} bytes; the limit is {limit} bytes"),
    }
}

/// The listener's budget for large statements is in use by other sessions.
pub(crate) fn no_memory(size: usize) -> SqlError {
    SqlError {
        sqlstate: "53200".into(),
        message: format!(
            "out of memory: a statement of {size} bytes cannot be buffered now; try again"
        ),
    }
}

/// `name\0 sql\0 int16 n, n × int32` → its parts, or None if malformed.
fn split_parse(body: &[u8]) -> Option<(&[u8], &[u8], impl Iterator<Item = u32> + '_)> {
    let name_end = body.iter().position(|&b| b == 0)?;
    let (name, rest) = (&body[..name_end], &body[name_end + 1..]);
    let sql_end = rest.iter().position(|&b| b == 0)?;
    let (sql, rest) = (&rest[..sql_end], &rest[sql_end + 1..]);
    let (n, types) = rest.split_first_chunk::<2>()?;
    let n = usize::from(u16::from_be_bytes(*n));
    if types.len() != n * 4 {
        return None;
    }
    let types = types
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]));
    Some((name, sql, types))
}

/// The highest `$n` placeholder in `sql` (0 if none), capped at a Parse's 65,535 parameters.
fn max_placeholder(sql: &str) -> usize {
    let b = sql.as_bytes();
    let mut max = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' {
            let mut n: usize = 0;
            let mut j = i + 1;
            while j < b.len() && b[j].is_ascii_digit() {
                n = (n * 10 + usize::from(b[j] - b'0')).min(65_535);
                j += 1;
            }
            max = max.max(n);
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    max
}

/// A `DO` block raising `err` with its SQLSTATE. The message goes in dollar quotes whose tag
/// it does not contain, so no escaping rule (standard_conforming_strings) can alter it.
pub(crate) fn raising_sql(err: &SqlError) -> String {
    let code = if is_error_sqlstate(&err.sqlstate) {
        err.sqlstate.as_str()
    } else {
        "XX000"
    };
    let msg = err.message.replace('\0', "");
    let mut n = 0_u32;
    let (outer, inner) = loop {
        let (o, i) = (format!("$tmq{n}$"), format!("$tmm{n}$"));
        if !msg.contains(&o) && !msg.contains(&i) {
            break (o, i);
        }
        n += 1;
    };
    format!(
        "DO {outer} BEGIN RAISE EXCEPTION USING ERRCODE = '{code}', MESSAGE = {inner}{msg}{inner}; END {outer}"
    )
}

/// Five characters of `[0-9A-Z]`, not in the success, warning or no-data classes.
fn is_error_sqlstate(s: &str) -> bool {
    s.len() == 5
        && s.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
        && !matches!(&s[..2], "00" | "01" | "02")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        assert_eq!(max_placeholder("select $1, $12 from t where a = $3"), 12);
        assert_eq!(max_placeholder("select $$x$$"), 0);
        assert_eq!(max_placeholder("$99999999999999999999999"), 65_535);
    }

    #[test]
    fn raising_sql_quotes_safely() {
        let e = SqlError {
            sqlstate: "0A000".into(),
            message: "no $tmq0$ here 'x'".into(),
        };
        let sql = raising_sql(&e);
        assert!(sql.starts_with("DO $tmq1$ "), "{sql}");
        assert!(sql.contains("ERRCODE = '0A000'"));
        let bad = SqlError {
            sqlstate: "00000".into(),
            message: "m".into(),
        };
        assert!(raising_sql(&bad).contains("'XX000'"));
    }

    #[test]
    fn parse_split() {
        let mut m = Vec::new();
        wire::parse(&mut m, b"s1", "select $1", &[23]);
        let (name, sql, types) = split_parse(&m[5..]).unwrap_or_else(|| panic!("valid parse"));
        assert_eq!(
            (name, sql, types.collect::<Vec<_>>()),
            (&b"s1"[..], &b"select $1"[..], vec![23])
        );
        assert!(split_parse(b"s1\0select\0\0\x02\0\0\0\x17").is_none());
    }
}
